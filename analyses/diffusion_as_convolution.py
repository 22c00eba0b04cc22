"""diffusion-as-convolution: Euler diffusion is repeated convolution; its limit is a Gaussian.

Dettmers (2015) pictures an aquarium of 256×256 compartments of salt water: diffusion mixes
neighbouring compartments, and convolution "is diffusion of information". Here the explicit
Euler scheme for the diffusion equation (each step = one convolution with a propagator
stencil) is compared with one convolution by the Gaussian heat kernel and with the analytic
solution; the stencil's n-fold variance is checked against 2·D·t; the passive cable (Rallpack
1 parameters) is solved both ways, which is the bridge to the dendrite-as-convolution
analyses; and the stochastic reading of the propagator is checked against the CLT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from neurocomp_models.cables import RALLPACK1
from neurocomp_models.physical import NACL_DIFFUSION_MM2_PER_S

from neurocomp.analysis import Analysis
from neurocomp.mapping import (
    cable_greens_function,
    convolve,
    euler_diffusion,
    euler_step_kernel,
    gaussian_diffusion,
    kernel_variance,
    stochastic_correlate,
)
from neurocomp.plotting import PALETTE, SEQUENTIAL_CMAP, log_ticks
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "diffusion-as-convolution"
CLAIM = ("Explicit-Euler diffusion as repeated convolution with a propagator: its n-fold "
         "variance against 2·D·t, its convergence in dx to one Gaussian convolution, and the "
         "passive cable as the same diffusion with decay.")
#: Largest relative error of the n-fold variance that is still float64 round-off.
VARIANCE_ROUND_OFF = 1e-12
#: Largest distance of the fitted order from the explicit scheme's order 2 called "order 2".
ORDER_TOLERANCE = 0.1
#: Largest |Green's convolution − analytic| of the cable (mV) called exact (the test's bound).
CABLE_EXACT_MV = 1e-6


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`.

    Returns
    -------
    str
        One sentence; where the run contradicts the expected shape (variance off 2·D·t
        beyond round-off, convergence order away from 2, cable convolution off the analytic
        solution) it says so.
    """
    var = headline["max_rel_error_stencil_variance_vs_2Dt"]
    variance = (f"whose n-fold variance is 2·D·t to round-off (max relative error {var:.1e})"
                if var < VARIANCE_ROUND_OFF else
                f"whose n-fold variance misses 2·D·t by up to {var:.1e} (relative), more than "
                f"round-off")
    order = headline["convergence_order_in_dx"]
    euler = headline["max_rel_error_euler_vs_analytic_aquarium"]
    gauss = headline["max_rel_error_gaussian_conv_vs_analytic_aquarium"]
    rate = (f"it converges to one Gaussian convolution at order {order:.2f} in dx, the "
            f"scheme's second order" if abs(order - 2.0) < ORDER_TOLERANCE else
            f"it converges to one Gaussian convolution at order {order:.2f} in dx, not the "
            f"scheme's second order")
    greens = headline["cable_max_abs_error_greens_conv_vs_analytic_mV"]
    cable_euler = headline["cable_max_abs_error_euler_vs_greens_conv_mV"]
    cable = (f"the passive cable is the same diffusion with decay (its Green's-function "
             f"convolution within {greens:.1e} mV of the analytic solution, Euler within "
             f"{cable_euler:.1e} mV of it)" if greens < CABLE_EXACT_MV else
             f"the passive cable's Green's-function convolution misses the analytic solution "
             f"by {greens:.1e} mV (Euler: {cable_euler:.1e} mV from the convolution)")
    return (f"Explicit-Euler diffusion is repeated convolution with a propagator {variance}; "
            f"{rate} (aquarium, relative to the peak: Euler "
            f"{euler:.1e}, Gaussian {gauss:.1e} from the analytic solution), and {cable}.")


D_SALT = NACL_DIFFUSION_MM2_PER_S.value  # mm²/s


def gaussian_blobs(x: np.ndarray, y: np.ndarray, blobs: Sequence[tuple[float, float, float]],
                   sigma0_mm: float, *, D: float = 0.0, t: float = 0.0) -> np.ndarray:
    """Analytic 2-D diffusion of Gaussian blobs (centre_x, centre_y, peak) in free space."""
    s2 = sigma0_mm**2 + 2 * D * t
    out = np.zeros(np.broadcast_shapes(x.shape, y.shape))
    for cx, cy, peak in blobs:
        out += peak * sigma0_mm**2 / s2 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s2))
    return out


def aquarium(*, n: int, t_s: float, steps: int) -> dict[str, np.ndarray | float]:
    """Salt blobs in an n×n-compartment aquarium (1 mm compartments), three ways."""
    dx = 1.0
    c = (np.arange(n) + 0.5) * dx
    X, Y = np.meshgrid(c, c)
    blobs = [(0.35 * n, 0.4 * n, 30.0), (0.62 * n, 0.55 * n, 20.0), (0.45 * n, 0.7 * n, 25.0)]
    sigma0 = 0.04 * n
    c0 = gaussian_blobs(X, Y, blobs, sigma0)
    dt = t_s / steps
    euler = euler_diffusion(c0, D=D_SALT, dx=dx, dt=dt, steps=steps, boundary="reflect")
    gauss = gaussian_diffusion(c0, D=D_SALT, dx=dx, t=t_s, boundary="reflect")
    exact = gaussian_blobs(X, Y, blobs, sigma0, D=D_SALT, t=t_s)
    return {"coords_mm": c, "initial": c0, "euler": euler, "gaussian": gauss, "exact": exact,
            "dt_s": dt, "r": D_SALT * dt / dx**2}


def convergence(*, dxs_mm: Sequence[float], t_s: float, r: float = 0.2,
                sigma0_mm: float = 2.0, length_mm: float = 60.0) -> pd.DataFrame:
    """Max error of Euler and of one Gaussian convolution against the analytic 1-D solution."""
    rows = []
    for dx in dxs_mm:
        x = (np.arange(round(length_mm / dx)) + 0.5) * dx - length_mm / 2
        c0 = np.exp(-x**2 / (2 * sigma0_mm**2))
        steps = int(np.ceil(t_s * D_SALT / (r * dx**2)))
        s2 = sigma0_mm**2 + 2 * D_SALT * t_s
        exact = sigma0_mm / np.sqrt(s2) * np.exp(-x**2 / (2 * s2))
        euler = euler_diffusion(c0, D=D_SALT, dx=dx, dt=t_s / steps, steps=steps)
        gauss = gaussian_diffusion(c0, D=D_SALT, dx=dx, t=t_s)
        peak = exact.max()
        rows += [{"dx_mm": dx, "method": "Euler (repeated stencil)", "steps": steps,
                  "max_rel_error": float(np.abs(euler - exact).max() / peak)},
                 {"dx_mm": dx, "method": "one Gaussian convolution", "steps": 1,
                  "max_rel_error": float(np.abs(gauss - exact).max() / peak)}]
    return pd.DataFrame(rows)


def stencil_variance(*, dx_mm: float, dt_s: float, steps: Sequence[int]) -> pd.DataFrame:
    """Variance of the n-fold Euler stencil (a point source diffused n steps) against 2·D·t."""
    kernel = euler_step_kernel(D=D_SALT, dx=dx_mm, dt=dt_s, ndim=1)
    n_max = max(steps)
    field = np.zeros(2 * n_max + 1)
    field[n_max] = 1.0
    rows, done = [], 0
    for n in sorted(steps):
        for _ in range(n - done):
            field = convolve(field, kernel, "same")
        done = n
        t = n * dt_s
        rows.append({"time_s": t, "variance_mm2": float(kernel_variance(field, dx=dx_mm)[0]),
                     "two_D_t_mm2": 2 * D_SALT * t})
    return pd.DataFrame(rows)


def cable(*, times_ms: Sequence[float], dx_um: float = 10.0, half_length_um: float = 4000.0,
          v0_mV: float = 10.0, sigma0_um: float = 20.0) -> pd.DataFrame:
    """Passive cable (Rallpack 1): Euler vs convolution with the Green's function, in mV."""
    lam, tau = RALLPACK1.length_constant_um, RALLPACK1.tau_m_ms
    D = RALLPACK1.diffusion_um2_per_ms
    x = np.arange(-half_length_um, half_length_um + dx_um / 2, dx_um)
    v0 = v0_mV * np.exp(-x**2 / (2 * sigma0_um**2))
    limit = dx_um**2 / (2 * D + dx_um**2 / tau)
    rows = []
    for t in times_ms:
        steps = int(np.ceil(t / (0.8 * limit)))
        euler = euler_diffusion(v0, D=D, dx=dx_um, dt=t / steps, steps=steps,
                                decay_rate=1.0 / tau, boundary="zero")
        green = cable_greens_function(x, t, length_constant_um=lam, tau_m_ms=tau)
        conv = convolve(v0, green, "same", method="fft") * dx_um
        s2 = sigma0_um**2 + 2 * D * t
        exact = v0_mV * sigma0_um / np.sqrt(s2) * np.exp(-t / tau - x**2 / (2 * s2))
        rows.append(pd.DataFrame({"time_ms": t, "x_um": x, "euler_mV": euler,
                                  "greens_convolution_mV": conv, "analytic_mV": exact}))
    return pd.concat(rows, ignore_index=True)


def stochastic(*, image: np.ndarray, kernel: np.ndarray, sample_counts: Sequence[int],
               rng: np.random.Generator) -> pd.DataFrame:
    """RMS error of the stochastic-convolution mean against the exact result and the CLT."""
    from neurocomp.mapping import correlate

    exact = correlate(image, kernel, "same")
    rows = []
    for n in sample_counts:
        est = stochastic_correlate(image, kernel, n_samples=n, rng=rng)
        rows.append({"n_samples": n,
                     "rms_error": float(np.sqrt(np.mean((est.mean - exact) ** 2))),
                     "rms_predicted_standard_error": float(
                         np.sqrt(np.mean(est.standard_error**2))),
                     "max_abs_z": float(np.max(np.abs(est.mean - exact)
                                               / np.where(est.standard_error > 0,
                                                          est.standard_error, np.inf)))})
    return pd.DataFrame(rows)


@dataclass(kw_only=True)
class DiffusionResult(Result):
    """Aquarium snapshots, convergence, stencil variance, cable and stochastic data."""

    aquarium: dict
    convergence: pd.DataFrame
    variance: pd.DataFrame
    cable: pd.DataFrame
    stochastic: pd.DataFrame
    convergence_order: float
    t_aquarium_s: float

    layout = (3, 2)
    row_height_in = 1.65

    def to_frame(self) -> pd.DataFrame:
        a = self.aquarium
        mid = len(a["coords_mm"]) // 2
        profile = pd.DataFrame({"x_mm": a["coords_mm"], "initial": a["initial"][mid],
                                "euler": a["euler"][mid], "gaussian": a["gaussian"][mid],
                                "analytic": a["exact"][mid]})
        return stack_frames({"aquarium_profile": profile, "convergence": self.convergence,
                             "variance": self.variance, "cable": self.cable,
                             "stochastic": self.stochastic})

    def _draw(self, axes: Sequence[Axes]) -> None:
        a = self.aquarium
        c = a["coords_mm"]
        ext = (c[0] - 0.5, c[-1] + 0.5, c[-1] + 0.5, c[0] - 0.5)
        ax = axes[0]
        im = ax.imshow(a["euler"], cmap=SEQUENTIAL_CMAP, extent=ext)
        top = float(a["gaussian"].max())
        ax.contour(c, c, a["gaussian"], levels=np.linspace(0.15, 0.9, 4) * top,
                   colors="white", linewidths=0.5)
        ax.figure.colorbar(im, ax=ax, label="salt (g/L)", shrink=0.9)
        ax.set(xlabel="x (mm)", ylabel="y (mm)")
        ax.set_title(f"Euler at {self.t_aquarium_s / 3600:.0f} h; contours: Gaussian",
                     loc="left", fontsize=6)
        if len(axes) < 2:
            return
        ax = axes[1]
        mid = len(c) // 2
        ax.plot(c, a["initial"][mid], color="0.6", label="t = 0")
        ax.plot(c, a["exact"][mid], color=PALETTE[7], lw=2.2, alpha=0.35, label="analytic")
        ax.plot(c, a["euler"][mid], color=PALETTE[0], label="Euler")
        ax.plot(c, a["gaussian"][mid], color=PALETTE[1], ls="--", label="Gaussian conv.")
        ax.set(xlabel="x (mm)", ylabel="salt (g/L)")
        ax.set_title("middle row", loc="left", fontsize=6)
        ax.legend(fontsize=5)
        if len(axes) < 3:
            return
        ax = axes[2]
        for color, (method, g) in zip(PALETTE, self.convergence.groupby("method", sort=False),
                                      strict=False):
            ax.plot(g["dx_mm"], g["max_rel_error"], "o-", color=color,
                    label=method.split(" (")[0].replace("one Gaussian convolution", "Gaussian"))
        g = self.convergence[self.convergence["method"].str.startswith("Euler")]
        ref = g["max_rel_error"].iloc[0] * (g["dx_mm"] / g["dx_mm"].iloc[0]) ** 2
        ax.plot(g["dx_mm"], ref, color="0.5", ls=":", label="∝ dx²")
        log_ticks(ax, list(g["dx_mm"][::2]))
        ax.set(yscale="log", xlabel="grid spacing dx (mm)", ylabel="max error / peak")
        ax.set_title(f"convergence: order {self.convergence_order:.2f}", loc="left",
                     fontsize=6)
        ax.legend(fontsize=5, loc="center right")
        if len(axes) < 4:
            return
        ax = axes[3]
        v = self.variance
        ax.plot(v["time_s"] / 3600, v["two_D_t_mm2"], color="0.5", lw=2.2, alpha=0.5,
                label="2·D·t")
        ax.plot(v["time_s"] / 3600, v["variance_mm2"], "o", color=PALETTE[0],
                label="n-fold Euler stencil")
        ax.set(xlabel="time (h)", ylabel="variance (mm²)")
        ax.set_title("propagator variance", loc="left", fontsize=6)
        ax.legend(fontsize=5)
        if len(axes) < 5:
            return
        ax = axes[4]
        for color, (t, g) in zip(PALETTE, self.cable.groupby("time_ms"), strict=False):
            ax.plot(g["x_um"], g["greens_convolution_mV"], color=color, label=f"{t:g} ms")
            ax.plot(g["x_um"][::40], g["euler_mV"][::40], "o", color=color, ms=2, mfc="none")
        ax.set(xlabel="distance along cable (µm)", ylabel="V − E_rest (mV)",
               xlim=(-2000, 2000))
        ax.set_title("passive cable: G ∗ V₀ (lines), Euler (o)", loc="left", fontsize=6)
        ax.legend(fontsize=5, loc="upper right", handlelength=1.0, handletextpad=0.4,
                  borderaxespad=0.1)  # short handles: beside the peak at 0, not over it
        if len(axes) < 6:
            return
        ax = axes[5]
        s = self.stochastic
        ax.plot(s["n_samples"], s["rms_error"], "o", color=PALETTE[3], label="measured")
        ax.plot(s["n_samples"], s["rms_predicted_standard_error"], color="0.4",
                label="CLT: σ/√n")
        ax.set(xscale="log", yscale="log", xlabel="draws per pixel",
               ylabel="RMS error (g/L)")
        ax.set_title("stochastic convolution", loc="left", fontsize=6)
        ax.legend(fontsize=5)


def run(*, quick: bool = True, seed: int = 0) -> DiffusionResult:
    """Run the analysis (``quick``: a 96×96 aquarium and four grid refinements)."""
    rng = np.random.default_rng(seed)
    n = 96 if quick else 256
    t_aq = 2 * 3600.0
    aq = aquarium(n=n, t_s=t_aq, steps=60)
    dxs = [1.0, 0.5, 0.25, 0.125] if quick else [1.0, 0.5, 0.25, 0.125, 0.0625]
    conv = convergence(dxs_mm=dxs, t_s=3600.0)
    eul = conv[conv["method"].str.startswith("Euler")]
    order = float(np.polyfit(np.log(eul["dx_mm"]), np.log(eul["max_rel_error"]), 1)[0])
    var = stencil_variance(dx_mm=1.0, dt_s=120.0, steps=[1, 5, 10, 20, 40, 60])
    cab = cable(times_ms=[0.5, 2.0, 8.0])
    stoch_image = aq["initial"][:: max(1, n // 48), :: max(1, n // 48)]
    stencil = euler_step_kernel(D=D_SALT, dx=1.0, dt=120.0, ndim=2)
    counts = [1, 4, 16, 64, 256] if quick else [1, 4, 16, 64, 256, 1024, 4096]
    sto = stochastic(image=stoch_image, kernel=stencil, sample_counts=counts, rng=rng)

    peak = float(aq["exact"].max())
    headline = {
        "max_rel_error_euler_vs_analytic_aquarium": float(
            np.abs(aq["euler"] - aq["exact"]).max() / peak),
        "max_rel_error_gaussian_conv_vs_analytic_aquarium": float(
            np.abs(aq["gaussian"] - aq["exact"]).max() / peak),
        "convergence_order_in_dx": order,
        "max_rel_error_stencil_variance_vs_2Dt": float(
            (np.abs(var["variance_mm2"] - var["two_D_t_mm2"]) / var["two_D_t_mm2"]).max()),
        "cable_max_abs_error_euler_vs_greens_conv_mV": float(
            np.abs(cab["euler_mV"] - cab["greens_convolution_mV"]).max()),
        "cable_max_abs_error_greens_conv_vs_analytic_mV": float(
            np.abs(cab["greens_convolution_mV"] - cab["analytic_mV"]).max()),
        "cable_diffusion_coefficient_um2_per_ms": RALLPACK1.diffusion_um2_per_ms,
        "stochastic_rms_error_over_clt_prediction": float(
            sto["rms_error"].iloc[-1] / sto["rms_predicted_standard_error"].iloc[-1]),
        "stochastic_max_abs_z": float(sto["max_abs_z"].max()),
        "aquarium_euler_r": float(aq["r"]),
    }
    notes = [f"Salt: D = {D_SALT:g} mm²/s ({NACL_DIFFUSION_MM2_PER_S.source}).",
             f"Cable: λ = {RALLPACK1.length_constant_um:g} µm, τ_m = {RALLPACK1.tau_m_ms:g} ms "
             f"({RALLPACK1.source}).",
             "Stochastic convolution: each output pixel copies one neighbour drawn from the "
             "Euler stencil read as a propagator."]
    return DiffusionResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"aquarium_px": n, "aquarium_dx_mm": 1.0, "aquarium_t_s": t_aq,
                "aquarium_euler_steps": 60, "convergence_dx_mm": dxs,
                "stochastic_sample_counts": counts, "D_mm2_per_s": D_SALT},
        aquarium=aq, convergence=conv, variance=var, cable=cab, stochastic=sto,
        convergence_order=order, t_aquarium_s=t_aq,
    )


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=20)
