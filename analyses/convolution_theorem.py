"""convolution-theorem: FFT convolution equals direct convolution, and where it gets faster.

Dettmers (2015), "Understanding Convolution in Deep Learning", part 2: convolution in space
is multiplication in frequency. This analysis checks the theorem numerically (numpy and
torch, float64), shows why the zero padding matters (without it the result wraps around),
reads a disc low-pass filter as a convolution, and measures on this CPU the kernel size at
which the FFT route overtakes direct convolution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from neurocomp_models.images import GRACE_HOPPER, grace_hopper_grey

from neurocomp.analysis import Analysis
from neurocomp.mapping import (
    IMPLEMENTATIONS,
    circular_convolve,
    convolve,
    crossover_size,
    feature_map_shape,
    lowpass_disc,
    timing_sweep,
)
from neurocomp.plotting import PALETTE, log_ticks
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "convolution-theorem"
CLAIM = ("FFT convolution with zero padding against direct convolution (numpy and torch): "
         "agreement, wrap-around without padding, and the kernel size beyond which the FFT "
         "is faster on this CPU.")
#: Largest |FFT − direct| that is still float64 round-off (the issue's bound).
ROUND_OFF_BOUND = 1e-9
#: Smallest |circular − linear| that counts as a visible wrap-around (the test's bound).
VISIBLE_WRAP = 0.1


def _crossover_phrase(label: str, k: float, headline: Mapping[str, Any]) -> str:
    """Where ``label``'s FFT overtakes its direct convolution, in words, from the headline."""
    if not np.isfinite(k):
        return (f"{label}'s FFT is not faster at the largest kernel measured "
                f"({headline['largest_kernel_px']:.0f} px)")
    if k <= headline["smallest_kernel_px"]:
        return (f"{label}'s FFT is faster at every kernel size measured, from "
                f"{headline['smallest_kernel_px']:.0f} px")
    return f"{label}'s FFT overtakes direct convolution beyond {k:.1f} px"


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run` (errors, crossovers and the kernel sizes measured).

    Returns
    -------
    str
        One sentence; where the run contradicts the convolution theorem (errors above
        float64 round-off, no visible wrap-around) it says so.
    """
    fft, torch_err = (headline["max_abs_error_fft_vs_direct"],
                      headline["max_abs_error_torch_vs_numpy"])
    worst = max(fft, torch_err)
    agree = (f"FFT convolution with zero padding equals direct convolution to float64 "
             f"round-off (max |error| {fft:.1e} in numpy, {torch_err:.1e} from torch to numpy)"
             if worst < ROUND_OFF_BOUND else
             f"FFT convolution with zero padding differs from direct convolution by more "
             f"than float64 round-off (max |error| {fft:.1e} in numpy, {torch_err:.1e} from "
             f"torch to numpy)")
    wrap = headline["max_abs_error_circular_vs_linear"]
    wraps = (f"wraps around without padding (max |circular − linear| {wrap:.2f})"
             if wrap > VISIBLE_WRAP else
             f"barely wraps around without padding (max |circular − linear| {wrap:.2g})")
    cross = "; ".join(_crossover_phrase(label, headline[f"crossover_kernel_px_{key}"],
                                        headline)
                      for label, key in (("numpy", "numpy"), ("torch", "torch")))
    return (f"{agree}, {wraps}; on this CPU ({headline['timing_image_px']:.0f} px image), "
            f"{cross}.")


def agreement_sweep(*, n_px: int, kernel_sizes: Sequence[int],
                    rng: np.random.Generator) -> pd.DataFrame:
    """Max |difference| to numpy direct convolution (float64), over modes, per kernel size."""
    image = rng.random((n_px, n_px))
    rows = []
    for k in kernel_sizes:
        kernel = rng.standard_normal((k, k))
        for mode in ("valid", "same", "full"):
            ref = convolve(image, kernel, mode, method="direct")
            cands = {
                "scipy FFT": convolve(image, kernel, mode, method="fft"),
                "torch conv2d": convolve(torch.from_numpy(image), torch.from_numpy(kernel),
                                         mode, method="direct").numpy(),
                "torch FFT": convolve(torch.from_numpy(image), torch.from_numpy(kernel), mode,
                                      method="fft").numpy(),
            }
            for label, y in cands.items():
                rows.append({"kernel_px": k, "mode": mode, "implementation": label,
                             "max_abs_error": float(np.abs(y - ref).max()),
                             "max_abs_reference": float(np.abs(ref).max())})
    return pd.DataFrame(rows)


def wraparound_example(*, n_ms: int = 200, tau_ms: float = 20.0) -> pd.DataFrame:
    """A spike train filtered by an exponential kernel, linearly and circularly (1 ms bins)."""
    spikes = np.zeros(n_ms)
    spikes[[20, 60, 150, 185]] = 1.0
    t = np.arange(5 * int(tau_ms))
    kernel = np.exp(-t / tau_ms)
    linear = convolve(spikes, kernel, "full")[:n_ms]
    circular = circular_convolve(spikes, kernel)
    return pd.DataFrame({"time_ms": np.arange(n_ms), "linear": linear, "circular": circular})


def lowpass_sweep(image: np.ndarray, radii: Sequence[float]) -> pd.DataFrame:
    """Relative error against compression ratio of disc low-pass filters."""
    rows = []
    for r in radii:
        lp = lowpass_disc(image, r)
        rows.append({"radius_frac_nyquist": r, "compression_ratio": lp.compression_ratio,
                     "kept_fraction": lp.kept_fraction, "relative_error": lp.relative_error})
    return pd.DataFrame(rows)


@dataclass(kw_only=True)
class ConvolutionTheoremResult(Result):
    """Agreement, wrap-around, low-pass and timing data of the convolution theorem."""

    agreement: pd.DataFrame
    timing: pd.DataFrame
    wraparound: pd.DataFrame
    lowpass: pd.DataFrame
    crossovers_px: dict[str, float]
    example_lowpass: np.ndarray
    example_compression_ratio: float

    layout = (("timing", "timing"), ("agreement", "wrap"), ("lowpass", "image"))
    row_height_in = 1.7

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"agreement": self.agreement, "timing": self.timing,
                             "wraparound": self.wraparound, "lowpass": self.lowpass})

    def _draw(self, axes: Sequence[Axes]) -> None:
        sizes = sorted(self.timing["kernel_px"].unique())
        ticks = [k for k in (3, 5, 9, 17, 33, 65) if k <= max(sizes)]
        ax = axes[0]
        for color, (label, _, _) in zip(PALETTE, IMPLEMENTATIONS, strict=False):
            g = self.timing[self.timing["implementation"] == label]
            ax.errorbar(g["kernel_px"], g["median_s"] * 1e3, yerr=g["iqr_s"] * 1e3 / 2,
                        fmt="o-", color=color, label=label, capsize=1.5, ms=2.5)
        ax.set_yscale("log")
        for (name, k), ls in zip(self.crossovers_px.items(), (":", "--"), strict=False):
            if np.isfinite(k):
                ax.axvline(k, color="0.4", ls=ls, lw=0.7, label=f"crossover {name}: {k:.1f} px")
        log_ticks(ax, ticks)
        n = int(self.timing["image_px"].iloc[0])
        ax.set(xlabel="kernel size (px)", ylabel="median time (ms)")
        ax.set_title(f"{n}×{n} image, 'same' mode", loc="left", fontsize=6.5)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * (hi / lo) ** 1.1)  # head-room for the legend above the data
        ax.legend(loc="upper left", ncols=2, fontsize=5.5)
        if len(axes) < 2:
            return
        ax = axes[1]
        eps = np.finfo(np.float64).eps
        for color, (label, g) in zip(PALETTE, self.agreement.groupby("implementation"),
                                     strict=False):
            rel = (g["max_abs_error"] / g["max_abs_reference"]).groupby(g["kernel_px"]).max()
            if (rel == 0).all():
                ax.plot(rel.index, np.full(len(rel), eps / 8), "s", mfc="none", color=color,
                        label=f"{label}: 0 (bit-identical)")
            else:
                ax.plot(rel.index, rel.to_numpy(), "o-", color=color, label=label)
        ax.axhline(eps, color="0.5", lw=0.6, ls=":")
        ax.text(max(self.agreement["kernel_px"]), eps / 1.4, "float64 ε", fontsize=5.5,
                color="0.4", ha="right", va="top")
        log_ticks(ax, [k for k in ticks if k <= self.agreement['kernel_px'].max()])
        ax.set(yscale="log", xlabel="kernel size (px)", ylabel="max |error| / max |y|",
               ylim=(eps / 30, eps * 300))
        ax.set_title("vs direct numpy, float64", loc="left", fontsize=6.5)
        ax.legend(loc="upper left", fontsize=5)
        if len(axes) < 3:
            return
        ax = axes[2]
        w = self.wraparound
        ax.plot(w["time_ms"], w["linear"], color=PALETTE[0], label="zero-padded = linear")
        ax.plot(w["time_ms"], w["circular"], color=PALETTE[1], ls="--",
                label="unpadded = circular")
        ax.set(xlabel="time (ms)", ylabel="filtered spike train (a.u.)", ylim=(0, 1.6))
        ax.set_title("unpadded FFT wraps", loc="left", fontsize=6.5)
        ax.legend(loc="upper left", fontsize=5)
        if len(axes) < 4:
            return
        ax = axes[3]
        lp = self.lowpass
        ax.plot(lp["compression_ratio"], lp["relative_error"], "o-", color=PALETTE[2])
        ax.set(xscale="log", xlabel="compression ratio\n(discarded / kept)",
               ylabel="relative error")
        ax.axvline(self.example_compression_ratio, color="0.5", lw=0.6, ls=":")
        ax.set_title("disc low-pass filter", loc="left", fontsize=6.5)
        if len(axes) < 5:
            return
        ax = axes[4]
        n = self.example_lowpass.shape[0]
        ax.imshow(self.example_lowpass, cmap="gray", extent=(0, n, n, 0))
        ax.set(xlabel="x (px)", ylabel="y (px)")
        ax.set_title(f"compression {self.example_compression_ratio:.0f}:1", loc="left",
                     fontsize=6.5)


def run(*, quick: bool = True, seed: int = 0) -> ConvolutionTheoremResult:
    """Run the analysis (``quick``: 128 px image, kernels ≤ 33 px, 5 repeats)."""
    rng = np.random.default_rng(seed)
    n_px = 128 if quick else 256
    kernel_sizes = [3, 5, 7, 9, 13, 17, 25, 33] if quick else [3, 5, 7, 9, 13, 17, 25, 33,
                                                                 49, 65]
    repeats = 5 if quick else 9
    agreement = agreement_sweep(n_px=64 if quick else 128, kernel_sizes=kernel_sizes[::2],
                                rng=rng)
    timing = timing_sweep(n_px=n_px, kernel_sizes=kernel_sizes, repeats=repeats, rng=rng)

    def times(label: str) -> np.ndarray:
        return timing[timing["implementation"] == label].sort_values("kernel_px")[
            "median_s"].to_numpy()

    crossovers = {
        "numpy": crossover_size(kernel_sizes, times(IMPLEMENTATIONS[0][0]),
                                times(IMPLEMENTATIONS[1][0])),
        "torch": crossover_size(kernel_sizes, times(IMPLEMENTATIONS[2][0]),
                                times(IMPLEMENTATIONS[3][0])),
    }
    wrap = wraparound_example()
    image = grace_hopper_grey(size_px=128 if quick else 256)
    lowpass = lowpass_sweep(image, [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0])

    # Disc filter read as a kernel: multiplying by the mask == circular convolution with the
    # mask's inverse transform.
    lp = lowpass_disc(image, 0.2)
    disc_kernel = np.real(np.fft.ifft2(np.fft.ifftshift(lp.mask)))
    disc_as_conv_error = float(np.abs(circular_convolve(image, disc_kernel) - lp.image).max())

    # The post's example, checked on a real torch layer as well as by the arithmetic.
    conv = torch.nn.Conv2d(1, 32, kernel_size=16, bias=False)
    torch_shape = tuple(conv(torch.zeros(1, 1, 256, 256)).shape[1:])
    post_shape = feature_map_shape(32, 16, 256)

    f64 = agreement
    headline = {
        "max_abs_error_fft_vs_direct": float(
            f64[f64["implementation"] == "scipy FFT"]["max_abs_error"].max()),
        "max_abs_error_torch_vs_numpy": float(
            f64[f64["implementation"] != "scipy FFT"]["max_abs_error"].max()),
        "max_abs_error_circular_vs_linear": float(np.abs(wrap["circular"]
                                                         - wrap["linear"]).max()),
        "max_abs_error_disc_mask_vs_circular_convolution": disc_as_conv_error,
        "crossover_kernel_px_numpy": crossovers["numpy"],
        "crossover_kernel_px_torch": crossovers["torch"],
        "timing_image_px": n_px,
        "smallest_kernel_px": min(kernel_sizes),
        "largest_kernel_px": max(kernel_sizes),
        "post_feature_maps_shape": list(post_shape),
        "post_feature_maps_shape_matches_torch": post_shape == torch_shape,
        "relative_error_lowpass_radius_0.2_nyquist": lp.relative_error,
        "compression_ratio_radius_0.2_nyquist": lp.compression_ratio,
    }
    notes = [f"Image: {GRACE_HOPPER.source}; {GRACE_HOPPER.licence}.",
             f"Timing on {torch.get_num_threads()} torch thread(s); medians of {repeats} "
             f"repeats after one warm-up; error bars show half the inter-quartile range."]
    return ConvolutionTheoremResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"timing_image_px": n_px, "kernel_sizes_px": kernel_sizes, "repeats": repeats,
                "torch_threads": torch.get_num_threads()},
        agreement=agreement, timing=timing, wraparound=wrap, lowpass=lowpass,
        crossovers_px=crossovers, example_lowpass=lp.image,
        example_compression_ratio=lp.compression_ratio,
    )


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=10)
