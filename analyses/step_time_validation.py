"""step-time-validation: predicted against measured training-step time on this CPU.

The step-time model (``neurocomp.accounting.machine.step_model``) prices every op the counter
records in a forward pass, loss, backward pass and SGD step, at rates measured by
micro-benchmarks of generic ops on this machine (``neurocomp.accounting.machine.microbench``):
matrix products at the matmul rate of their arithmetic intensity (square to skinny
products), convolutions at the median rate of generic 1-D and 2-D convolutions (forward
and backward apart), pooling, batch norm and ``pow`` at their own measured rates, every
other op at the measured memory bandwidth for its size, plus the cost of faulting in
freshly mapped memory above glibc's mmap threshold and a measured per-op overhead. Nothing
is fitted to the step times it is compared with. The reference convnets (the cuda-convnet
CIFAR-10 net, AlexNet 2012, ResNet-18) and Beniaguev et al.'s TCNs are then trained for real
at several batch sizes (median of ≥ 5 steps after 2 warm-up steps, CPU time of the process,
one thread) and compared with the prediction. The machine is shared: a probe (one matmul
and one large add, the micro-benchmarks' own kernels) runs before every timed step, and the
"load-adjusted" prediction carries the micro-benchmarks over to the machine's speed at that
moment; the unadjusted prediction is reported beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from neurocomp_models.convnets import (
    BENIAGUEV_2021_TCN_3x64x100,
    BENIAGUEV_2021_TCN_7x256x120,
    alexnet_2012,
    beniaguev_tcn,
    cifar_net,
    resnet18,
)
from neurocomp_models.modern_nets import (
    lstm_regressor,
    mobilenet_v2,
    resnet50,
    transformer_block,
    vgg11,
)

from neurocomp.accounting import benchmark_machine, count, predict_step
from neurocomp.accounting.machine import (
    NOT_MODELLED,
    conv_dims,
    count_optimizer_step,
    measure_training_step,
    torch_threads,
)
from neurocomp.analysis import Analysis
from neurocomp.layers import tcn_loss
from neurocomp.plotting import PALETTE
from neurocomp.provenance import FLOP_CONVENTION
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "step-time-validation"
CLAIM = ("Priced op by op at rates measured by micro-benchmarks of generic kernels, the "
         "counter's FLOPs and bytes predict training-step time on this CPU, on the nets that "
         "shaped the model and on held-out nets it never saw; the claim is written from the "
         "run.")

#: Targets: median |predicted − measured| / measured over all cases, and over held-out cases.
TARGET_REL = 0.10
TARGET_HELD_OUT_REL = 0.15
NET_COLORS = {"cifar_net": PALETTE[0], "alexnet": PALETTE[1], "resnet18": PALETTE[2],
              "tcn_3x64x100": PALETTE[3], "tcn_7x256x120": PALETTE[4],
              "resnet50": PALETTE[2], "vgg11": PALETTE[1], "mobilenet_v2": PALETTE[0],
              "lstm": PALETTE[3], "transformer": PALETTE[4]}
NET_LABELS = {"cifar_net": "CIFAR-10 net", "alexnet": "AlexNet", "resnet18": "ResNet-18",
              "tcn_3x64x100": "TCN 3×64×100", "tcn_7x256x120": "TCN 7×256×120",
              "resnet50": "ResNet-50", "vgg11": "VGG-11", "mobilenet_v2": "MobileNetV2",
              "lstm": "LSTM 2×256", "transformer": "transformer block"}
NET_SHORT = {"cifar_net": "CIFAR", "alexnet": "Alex", "resnet18": "RN18",
             "tcn_3x64x100": "TCN3", "tcn_7x256x120": "TCN7", "resnet50": "RN50",
             "vgg11": "VGG11", "mobilenet_v2": "MNv2", "lstm": "LSTM",
             "transformer": "Trf"}
#: Nets the step-time model was never shaped on (models.modern_nets): their errors are
#: predictions on held-out work; the others' are in-sample.
HELD_OUT = frozenset({"resnet50", "vgg11", "mobilenet_v2", "lstm", "transformer"})
#: Panel C: colour and legend label of each family of micro-benchmarks.
TABLE_FAMILIES = {"matmul": (PALETTE[0], "matmul"), "convolution2d": (PALETTE[1], "conv 2-D"),
                  "convolution1d": (PALETTE[3], "conv 1-D"),
                  "other": (PALETTE[2], "pool, BN, pow")}


@dataclass(frozen=True)
class Case:
    """One net at one batch size: how to build it, its input and its loss."""

    net: str
    batch: int
    size: str
    build: Callable[[], torch.nn.Module]
    make: Callable[[torch.Generator], tuple[Any, Callable[[Any], torch.Tensor]]]


def _images(batch: int, px: int, classes: int) -> Callable[[torch.Generator], Any]:
    def make(g: torch.Generator) -> tuple[Any, Callable[[Any], torch.Tensor]]:
        x = torch.randn(batch, 3, px, px, generator=g)
        y = torch.randint(0, classes, (batch,), generator=g)
        return x, lambda out: F.cross_entropy(out, y)
    return make


def _windows(batch: int, steps: int, channels: int = 1278) -> Callable[[torch.Generator], Any]:
    def make(g: torch.Generator) -> tuple[Any, Callable[[Any], torch.Tensor]]:
        x = torch.rand(batch, channels, steps, generator=g)
        spikes = (torch.rand(batch, steps, generator=g) < 0.01).float()
        volts = torch.randn(batch, steps, generator=g)
        return x, lambda out: tcn_loss(out, spikes, volts)
    return make


def _sequences(batch: int, steps: int, features: int) -> Callable[[torch.Generator], Any]:
    def make(g: torch.Generator) -> tuple[Any, Callable[[Any], torch.Tensor]]:
        x = torch.randn(batch, steps, features, generator=g)
        target = torch.randn(batch, steps, 1, generator=g)
        return x, lambda out: F.mse_loss(out, target)
    return make


def _held_out_spec(quick: bool) -> list[tuple[Any, ...]]:
    """The held-out nets (never used to shape the model), with their inputs."""
    if quick:
        return [("resnet50", resnet50, (1,), lambda b: _images(b, 96, 1000), "96 px"),
                ("vgg11", lambda: vgg11(px=64, width=0.5), (2, 8),
                 lambda b: _images(b, 64, 1000), "64 px, ½ width"),
                ("mobilenet_v2", mobilenet_v2, (2,), lambda b: _images(b, 96, 1000), "96 px"),
                ("lstm", lstm_regressor, (8,), lambda b: _sequences(b, 50, 64), "50 steps"),
                ("transformer", transformer_block, (4,), lambda b: _sequences(b, 64, 256),
                 "64 tokens")]
    return [("resnet50", resnet50, (1, 2), lambda b: _images(b, 224, 1000), "224 px"),
            ("vgg11", lambda: vgg11(px=224), (1, 2), lambda b: _images(b, 224, 1000), "224 px"),
            ("mobilenet_v2", mobilenet_v2, (2, 8), lambda b: _images(b, 224, 1000), "224 px"),
            ("lstm", lstm_regressor, (8, 32), lambda b: _sequences(b, 200, 64), "200 steps"),
            ("transformer", transformer_block, (4, 16), lambda b: _sequences(b, 256, 256),
             "256 tokens")]


def cases(*, quick: bool) -> list[Case]:
    """Nets and batch sizes (quick: smaller inputs and fewer sizes, seconds per case)."""
    def tcn(cfg: Any) -> Callable[[], torch.nn.Module]:
        return lambda: beniaguev_tcn(cfg)

    def alex() -> torch.nn.Module:
        return alexnet_2012(adaptive=True)

    if quick:
        spec = [("cifar_net", cifar_net, (8, 32), lambda b: _images(b, 32, 10), "32 px"),
                ("alexnet", alex, (1, 2), lambda b: _images(b, 127, 1000), "127 px"),
                ("resnet18", resnet18, (1, 2), lambda b: _images(b, 112, 1000), "112 px"),
                ("tcn_3x64x100", tcn(BENIAGUEV_2021_TCN_3x64x100), (1, 4),
                 lambda b: _windows(b, 100), "100 ms")]
    else:
        spec = [("cifar_net", cifar_net, (8, 32, 128), lambda b: _images(b, 32, 10), "32 px"),
                ("alexnet", alex, (1, 4, 8), lambda b: _images(b, 227, 1000), "227 px"),
                ("resnet18", resnet18, (1, 2, 4), lambda b: _images(b, 224, 1000), "224 px"),
                ("tcn_3x64x100", tcn(BENIAGUEV_2021_TCN_3x64x100), (1, 2, 4),
                 lambda b: _windows(b, 400), "400 ms"),
                ("tcn_7x256x120", tcn(BENIAGUEV_2021_TCN_7x256x120), (1, 2),
                 lambda b: _windows(b, 400), "400 ms")]
    spec += _held_out_spec(quick)
    return [Case(net, b, size, build, make(b)) for net, build, batches, make, size in spec
            for b in batches]


@dataclass(kw_only=True)
class StepTimeValidationResult(Result):
    """Per case: predicted and measured step time; the machine's micro-benchmarks."""

    steps: pd.DataFrame
    kinds: pd.DataFrame
    machine: pd.DataFrame

    layout = (("a", "a"), ("a", "a"), ("b", "c"))
    row_height_in = 1.15

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"steps": self.steps, "predicted_by_kind": self.kinds,
                             "machine": self.machine})

    def _draw(self, axes: Sequence[Axes]) -> None:
        self._draw_scatter(axes[0])
        if len(axes) > 1:
            self._draw_errors(axes[1])
        if len(axes) > 2:
            self._draw_roofline(axes[2])

    def _draw_scatter(self, ax: Axes) -> None:
        s = self.steps
        lo = 0.5 * float(min(s["measured_s"].min(), s["predicted_adjusted_s"].min()))
        hi = 2.0 * float(max(s["measured_s"].max(), s["predicted_adjusted_s"].max()))
        span = np.array([lo, hi])
        ax.fill_between(span, span * (1 - TARGET_REL), span * (1 + TARGET_REL), color="0.9",
                        lw=0, zorder=0)
        ax.plot(span, span, color="0.5", lw=0.6, zorder=1)
        for net, g in s.groupby("net", sort=False):
            color = NET_COLORS.get(net, "0.3")
            marker = "^" if net in HELD_OUT else "o"
            label = NET_LABELS.get(net, net) + (" (held out)" if net in HELD_OUT else "")
            ax.plot(g["measured_s"], g["predicted_adjusted_s"], marker, color=color, ms=3.5,
                    label=label, zorder=3)
            ax.plot(g["measured_s"], g["predicted_s"], marker, mfc="none", color=color, ms=3.5,
                    mew=0.6, zorder=2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(*span)
        ax.set_ylim(*span)
        ax.set_xlabel("measured step time (s)")
        ax.set_ylabel("predicted step time (s)")
        med = self.headline["median_rel_error_step_time"]
        med_raw = self.headline["median_rel_error_step_time_unadjusted"]
        held = self.headline.get("held_out_median_rel_error_step_time", float("nan"))
        ax.text(0.97, 0.04, f"median |error|: {100 * med:.0f} % (filled)\n"
                f"held-out nets (▲): {100 * held:.0f} %\n"
                f"unadjusted: {100 * med_raw:.0f} % (open)\ngrey band: ±{100 * TARGET_REL:.0f} %",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=6)
        ax.legend(loc="upper left", fontsize=5, handletextpad=0.2, borderaxespad=0.2, ncol=2)

    def _draw_errors(self, ax: Axes) -> None:
        s = self.steps
        ax.axhspan(-100 * TARGET_REL, 100 * TARGET_REL, color="0.9", lw=0, zorder=0)
        ax.axhline(0, color="0.5", lw=0.6)
        nets = list(dict.fromkeys(s["net"]))
        for i, net in enumerate(nets):
            g = s[s["net"] == net]
            x = i + np.linspace(-0.25, 0.25, len(g)) if len(g) > 1 else np.array([float(i)])
            ax.plot(x, 100 * g["rel_error_adjusted"], "o-", color=NET_COLORS.get(net, "0.3"),
                    ms=2.8, lw=0.7)
        ax.set_xticks(range(len(nets)), [NET_SHORT.get(n, n) for n in nets], fontsize=5.5,
                      rotation=60, ha="right", rotation_mode="anchor")
        ax.set_xlim(-0.6, len(nets) - 0.4)
        ax.set_ylabel("error (%)\n(batch size →)")
        ax.set_xlabel("net")
        ax.tick_params(axis="x", length=0)

    def _draw_roofline(self, ax: Axes) -> None:
        from matplotlib.lines import Line2D

        m = self.machine[self.machine["table"] != "bandwidth"].dropna(
            subset=["intensity_flop_per_byte"])
        for table, g in m.groupby("table", sort=False):
            family = table.split(":")[0] if table.split(":")[0] in TABLE_FAMILIES else "other"
            marker = "s" if table.endswith(":backward") else "o"
            ax.plot(g["intensity_flop_per_byte"], g["rate_per_s"] / 1e9, marker,
                    color=TABLE_FAMILIES[family][0], ms=2.3, mfc="none", mew=0.6)
        peak = self.headline["machine_peak_flop_per_s"] / 1e9
        bw = self.headline["machine_memory_bandwidth_bytes_per_s"] / 1e9
        xs = np.geomspace(0.01, 1000, 100)
        ax.plot(xs, np.minimum(peak, bw * xs), color="black", lw=0.7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("FLOP per byte")
        ax.set_ylabel("achieved GFLOP/s")
        ax.set_xticks([0.01, 1, 100])
        ax.set_ylim(0.05, 3 * peak)
        handles = [Line2D([], [], color=c, marker="o", ls="none", ms=2.3, mfc="none", mew=0.6,
                          label=label) for c, label in TABLE_FAMILIES.values()]
        ax.legend(handles=handles, loc="lower right", fontsize=4.6, handletextpad=0.1,
                  borderaxespad=0.1, labelspacing=0.2)


def _predict_and_measure(case: Case, machine: Any, *, repeats: int, warmup: int, seed: int,
                         threads: int) -> tuple[dict[str, Any], dict[str, float]]:
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = case.build().train()
    x, loss = case.make(gen)
    report = count(model, x, loss=loss)
    optimizer = count_optimizer_step(model)
    measured = measure_training_step(model, x, loss, repeats=repeats, warmup=warmup,
                                     clock=machine.clock, threads=threads)
    dims = conv_dims(model)
    plain = predict_step(report, machine, optimizer_report=optimizer, conv_dims=dims)
    adjusted = predict_step(report, machine.scaled(measured.probe), optimizer_report=optimizer,
                            conv_dims=dims)
    m = measured.median_s
    row = {"net": case.net, "label": NET_LABELS.get(case.net, case.net), "size": case.size,
           "held_out": case.net in HELD_OUT,
           "batch": case.batch, "measured_s": m, "measured_iqr_s": measured.timing.iqr_s,
           "measured_wall_s": measured.wall.median_s, "repeats": repeats,
           "predicted_s": plain.step_s, "predicted_adjusted_s": adjusted.step_s,
           "rel_error": (plain.step_s - m) / m, "rel_error_adjusted": (adjusted.step_s - m) / m,
           "predicted_forward_s": adjusted.forward_s, "predicted_backward_s": adjusted.backward_s,
           "predicted_optimizer_s": adjusted.optimizer_s, "flop_per_step": report.total_flop,
           "bytes_per_step": report.bytes_read() + report.bytes_written(),
           "probe_flop_per_s": measured.probe.flop_per_s,
           "probe_bytes_per_s": measured.probe.bytes_per_s,
           "load_average_1min": measured.load_average[0]}
    return row, adjusted.by("table")


def _median_or_nan(values: pd.Series) -> float:
    return float(values.median()) if len(values) else float("nan")


def claim_from(h: dict[str, Any]) -> str:
    """The claim, formatted from the headline (which targets hold is decided here)."""
    def pct(x: float) -> str:
        return f"{100 * x:.0f} %"

    overall, held = h["median_rel_error_step_time"], h["held_out_median_rel_error_step_time"]
    inside = h["in_sample_median_rel_error_step_time"]
    verdict = []
    for name, value, target in (("all cases", overall, h["target_median_rel_error"]),
                                ("held-out nets", held, h["target_held_out_median_rel_error"])):
        if value != value:  # NaN: no case of that kind ran
            verdict.append(f"no {name} were run")
        else:
            verdict.append(f"{name}: {pct(value)} (target {pct(target)}, "
                           f"{'met' if value <= target else 'missed'})")
    return (f"Priced op by op at micro-benchmarked rates, the counter's FLOPs and bytes "
            f"predict training-step time on this CPU with a median |error| of "
            f"{pct(overall)} over {h['cases_count']} cases — {pct(inside)} on the nets that "
            f"shaped the model and {pct(held)} on {h['held_out_cases_count']} held-out cases "
            f"of nets it never saw; " + "; ".join(verdict) + ".")


def run(*, quick: bool = True, seed: int = 0, threads: int = 1, repeats: int = 5,
        nets: Sequence[str] | None = None) -> StepTimeValidationResult:
    """Measure the machine, then predict and time every case of :func:`cases`.

    Parameters
    ----------
    quick : bool
        Quick micro-benchmarks and small inputs (well under a minute); full: the nets'
        own input sizes (AlexNet 227 px, ResNet-18 224 px, TCNs on 400 ms), minutes.
    seed : int
        Seed of the weights and data.
    threads : int
        torch threads for the micro-benchmarks and the steps (1: steadier on a shared
        2-core machine).
    repeats : int
        Timed steps per case (≥ 5).
    nets : sequence of str, optional
        Only these nets (keys of :data:`NET_LABELS`).
    """
    if repeats < 5:
        raise ValueError(f"repeats must be at least 5 (a median of ≥ 5 steps); got {repeats}")
    todo = cases(quick=quick)
    if nets is not None:
        unknown = sorted(set(nets) - {c.net for c in todo})
        if unknown:
            raise ValueError(f"unknown nets {unknown}; known: {sorted(NET_LABELS)}")
        todo = [c for c in todo if c.net in nets]
    with torch_threads(threads):
        machine = benchmark_machine(threads=threads, quick=quick, repeats=5)
        rows, kinds = [], []
        for i, case in enumerate(todo):
            row, by_table = _predict_and_measure(case, machine, repeats=repeats, warmup=2,
                                                 seed=seed * 1000 + i, threads=threads)
            rows.append(row)
            kinds += [{"net": case.net, "batch": case.batch, "table": k, "predicted_s": v}
                      for k, v in by_table.items()]
    steps = pd.DataFrame(rows)
    abs_adj, abs_raw = steps["rel_error_adjusted"].abs(), steps["rel_error"].abs()
    held = steps["held_out"].astype(bool)
    headline: dict[str, Any] = {
        "median_rel_error_step_time": float(abs_adj.median()),
        "median_rel_error_step_time_unadjusted": float(abs_raw.median()),
        "held_out_median_rel_error_step_time": _median_or_nan(abs_adj[held]),
        "in_sample_median_rel_error_step_time": _median_or_nan(abs_adj[~held]),
        "held_out_median_rel_error_step_time_unadjusted": _median_or_nan(abs_raw[held]),
        "max_rel_error_step_time": float(abs_adj.max()),
        "target_median_rel_error": TARGET_REL,
        "target_held_out_median_rel_error": TARGET_HELD_OUT_REL,
        "cases_within_target_count": int((abs_adj <= TARGET_REL).sum()),
        "cases_count": len(steps),
        "held_out_cases_count": int(held.sum()),
        "machine_peak_flop_per_s": machine.peak_flop_per_s,
        "machine_memory_bandwidth_bytes_per_s": machine.memory_bandwidth_bytes_per_s,
        "machine_fresh_allocation_s_per_byte": machine.fresh_allocation_s_per_byte,
        "machine_autograd_op_overhead_s": machine.autograd_op_overhead_s,
        "torch_threads_count": machine.threads,
        "load_average_1min_max": float(steps["load_average_1min"].max()),
    }
    for net, g in steps.groupby("net", sort=False):
        headline[f"{net}_median_rel_error_step_time"] = float(g["rel_error_adjusted"].abs()
                                                              .median())
        headline[f"{net}_median_signed_rel_error_step_time"] = float(
            g["rel_error_adjusted"].median())
    notes = [
        f"FLOP convention: {FLOP_CONVENTION}. Measured: CPU time of the process "
        f"({machine.clock} clock), median of {repeats} steps after 2 warm-up steps, "
        f"{machine.threads} torch thread(s); wall-clock medians are in measured_wall_s.",
        "A step is zero_grad(set_to_none=True), forward, loss, backward, SGD (momentum 0.9) "
        "step. The counter counts the forward pass with the loss and the backward pass "
        "(torch.autograd.grad of every parameter, seeded from the loss), and the optimizer "
        "step separately (count_optimizer_step).",
        "Per-op rates (nothing fitted to step times): matmul ops at the measured matmul rate "
        "interpolated in arithmetic intensity (square 64–2048 and skinny m×2048×2048 "
        "products); convolutions at the median of generic convolutions, forward and "
        "backward apart; pooling, batch norm and pow at the medians of their own "
        "micro-benchmarks; every other op bandwidth-bound at the cold-cache STREAM-add "
        "bandwidth for its size; + measured page-fault cost per byte for outputs above "
        "32 MiB; + measured per-op dispatch overhead; + a backward() call's fixed cost.",
        "Load adjustment: a probe (512³ matmul, 64 MiB add) before each timed step; compute "
        "rates and overheads scale with its matmul rate over the calibration's, bandwidths "
        "with its add rate. Unadjusted errors are in rel_error.",
        "Not modelled: " + "; ".join(NOT_MODELLED) + ".",
        "The machine is shared with other jobs: load averages (1 min) per case are in "
        "load_average_1min.",
    ]
    return StepTimeValidationResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"quick": quick, "threads": threads, "repeats": repeats, "warmup": 2,
                "nets": sorted({c.net for c in todo}), "clock": machine.clock},
        steps=steps, kinds=pd.DataFrame(kinds), machine=machine.to_frame())


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=70)
