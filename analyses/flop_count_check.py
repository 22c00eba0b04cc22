"""flop-count-check: neurocomp's FLOP counter against PyTorch's FlopCounterMode, model by model.

The counter (``neurocomp.accounting.count``) and ``torch.utils.flop_counter.FlopCounterMode``
run on the same inputs — forward, then the backward pass — over the model zoo: the reference
convnets (AlexNet 2012 with its two-GPU groups, the cuda-convnet CIFAR-10 net, ResNet-18),
DettmersNeuron configurations (granule and Purkinje shapes, with and without a synaptic
kernel, training and evaluation, direct, Toeplitz and FFT dendritic convolution), TCNs of several
depths (Beniaguev et al. 2021) and a set of strided, dilated, grouped, depthwise and
transposed 1-, 2- and 3-D convolutions. On every op both count (matrix products and
convolutions) the counter's reproduction of FlopCounterMode's rules must agree exactly,
forward and backward, per op and per module. Beside it stands the library's own count, which
differs on purpose in one op — the convolution backward: FlopCounterMode (torch 2.13)
counts a grouped convolution's weight gradient ``groups`` times over, and ignores the bias
gradient — and the ops only the library counts (element-wise, pooling, normalisation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from models.convnets import (
    BENIAGUEV_2021_TCN_3x64x100,
    BENIAGUEV_2021_TCN_7x256x120,
    alexnet_2012,
    beniaguev_tcn,
    cifar_net,
    resnet18,
)
from models.dettmers_neurons import AMPA, granule_cell, purkinje_cell
from neurocomp.accounting import FLOP_CONVENTION, count
from neurocomp.accounting.counting import compare_with_flop_counter_mode, flop_counter_mode_counts
from neurocomp.analysis import Analysis
from neurocomp.layers import TCN, TCNConfig
from neurocomp.plotting import PALETTE
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "flop-count-check"
CLAIM = ("On every op both count, neurocomp's counter reproduces PyTorch's FlopCounterMode "
         "exactly (relative difference 0.0), forward and backward, per op and per module, "
         "across the reference convnets, DettmersNeuron configurations, TCNs and grouped, "
         "depthwise and transposed convolutions; it also counts the element-wise, pooling "
         "and normalisation ops FlopCounterMode leaves at 0.")

#: The library count is marked in panel A where it differs from FlopCounterMode by more.
DIFFERS_REL = 0.01
#: Left end of panel B's log axis, %.
SHARE_FLOOR_PCT = 0.01
FAMILY_COLORS = {"convnet": PALETTE[0], "neuron": PALETTE[2], "TCN": PALETTE[1],
                 "conv. zoo": PALETTE[3]}


class ConvZoo(nn.Module):
    """Strided, dilated, padded, grouped, depthwise and transposed convolutions in 1, 2, 3-D.

    Each branch reads its own input, so every layer's backward is counted on its own.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1d = nn.Conv1d(4, 6, 5, stride=2, padding=3, dilation=2, groups=2)
        self.depthwise2d = nn.Conv2d(6, 6, 3, padding=1, groups=6)
        self.strided2d = nn.Conv2d(6, 8, (3, 5), stride=(2, 1), padding=(0, 2), bias=False)
        self.transposed1d = nn.ConvTranspose1d(4, 6, 4, stride=3, padding=1, output_padding=2,
                                               groups=2)
        self.transposed2d = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1,
                                               dilation=2, groups=2)
        self.depthwise_transposed2d = nn.ConvTranspose2d(4, 4, 3, stride=2, groups=4)
        self.conv3d = nn.Conv3d(2, 4, (2, 3, 3), stride=(1, 2, 2), padding=(1, 1, 0), groups=2)
        self.transposed3d = nn.ConvTranspose3d(4, 2, 2, stride=2, groups=2, bias=False)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, x3: torch.Tensor) -> torch.Tensor:
        a = self.conv1d(x1).sum() + self.transposed1d(x1).sum()
        h = self.depthwise2d(x2)
        b = self.strided2d(h).sum() + self.depthwise_transposed2d(self.transposed2d(h)).sum()
        c = self.transposed3d(self.conv3d(x3)).sum()
        return a + b + c


@dataclass(frozen=True)
class ZooEntry:
    """One model of the zoo: how to build it and its input, and a label."""

    key: str
    label: str
    family: str
    build: Callable[[], nn.Module]
    make_input: Callable[[torch.Generator], Any]


def _rand(*shape: int) -> Callable[[torch.Generator], torch.Tensor]:
    return lambda g: torch.randn(*shape, generator=g)


def _spikes(*shape: int) -> Callable[[torch.Generator], torch.Tensor]:
    return lambda g: torch.rand(*shape, generator=g)


def zoo(*, quick: bool) -> list[ZooEntry]:
    """The models compared, with input sizes (small in quick mode)."""
    alex_px, res_px, batch = (67, 32, 2) if quick else (227, 224, 2)
    steps = 64 if quick else 400
    tcn_in = 32 if quick else 1278
    small_purkinje = {"n_synapses": 400, "n_dendrites": 100, "dendritic_kernel": (4, 100, 5),
                      "n_outputs": 10}
    purk = {} if not quick else small_purkinje
    purk_in = 100_000 if not quick else 400

    def train(module: nn.Module) -> nn.Module:
        return module.train()

    def evaluate(module: nn.Module) -> nn.Module:
        return module.eval()

    entries = [
        ZooEntry("alexnet_2012", f"AlexNet ({alex_px} px)", "convnet",
                 lambda: alexnet_2012(adaptive=True), _rand(batch, 3, alex_px, alex_px)),
        ZooEntry("cifar_net", "CIFAR-10 net (32 px)", "convnet", cifar_net,
                 _rand(batch, 3, 32, 32)),
        ZooEntry("resnet18", f"ResNet-18 ({res_px} px)", "convnet", resnet18,
                 _rand(batch, 3, res_px, res_px)),
        ZooEntry("granule_train", "granule, train", "neuron",
                 lambda: train(granule_cell()), _spikes(4, 15, 5)),
        ZooEntry("granule_eval", "granule, eval", "neuron",
                 lambda: evaluate(granule_cell()), _spikes(4, 15, 5)),
        ZooEntry("granule_learnable", "granule + AMPA, learnable", "neuron",
                 lambda: train(granule_cell(synapse=AMPA, dt_ms=1.0, learnable_synapse=True,
                                            learnable_amplification=True, amplification=0.4,
                                            spike_threshold=0.1)), _spikes(4, 15, 20)),
        ZooEntry("purkinje_fft", "Purkinje" + ("*" if quick else "") + ", FFT", "neuron",
                 lambda: evaluate(purkinje_cell(**purk, dendritic_algorithm="fft")),
                 _spikes(1, purk_in, 5)),
        ZooEntry("purkinje_toeplitz", "Purkinje*, Toeplitz", "neuron",
                 lambda: train(purkinje_cell(**small_purkinje, dendritic_algorithm="toeplitz")),
                 _spikes(1, 400, 5)),
        ZooEntry("purkinje_direct", "Purkinje*, direct", "neuron",
                 lambda: train(purkinje_cell(**small_purkinje, dendritic_algorithm="direct")),
                 _spikes(1, 400, 5)),
    ]
    for depth in (1, 3, 7):
        cfg = TCNConfig(in_channels=tcn_in, depth=depth, width=16 if quick else 128,
                        kernel_sizes=9 if quick else 25, dilations=tuple(
                            2**k for k in range(depth)), n_dendritic_outputs=2)
        entries.append(ZooEntry(f"tcn_depth{depth}", f"TCN depth {depth}", "TCN",
                                lambda cfg=cfg: TCN(cfg), _spikes(batch, tcn_in, steps)))
    for key, cfg in (("tcn_beniaguev_3x64x100", BENIAGUEV_2021_TCN_3x64x100),
                     ("tcn_beniaguev_7x256x120", BENIAGUEV_2021_TCN_7x256x120)):
        entries.append(ZooEntry(key, f"TCN {key.rsplit('_', 1)[1].replace('x', '×')}", "TCN",
                                lambda cfg=cfg: beniaguev_tcn(cfg),
                                _spikes(1, 1278, 32 if quick else 400)))
    entries.append(ZooEntry("conv_zoo", "conv. zoo (grouped, transposed)", "conv. zoo",
                            ConvZoo, lambda g: (torch.randn(2, 4, 23, generator=g),
                                                torch.randn(2, 6, 9, 11, generator=g),
                                                torch.randn(2, 2, 4, 9, 9, generator=g))))
    return entries


@dataclass(kw_only=True)
class FlopCountCheckResult(Result):
    """Per model and phase: FlopCounterMode's FLOPs, the counter's reproduction of its rules,
    the library's own count on the same ops and on all ops; per op the same, by who counts."""

    models: pd.DataFrame
    ops: pd.DataFrame
    modules: pd.DataFrame

    layout = (("a",), ("a",), ("b",), ("b",))
    row_height_in = 1.05

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"models": self.models, "ops": self.ops, "modules": self.modules})

    def _draw(self, axes: Sequence[Axes]) -> None:
        self._draw_agreement(axes[0])
        if len(axes) > 1:
            self._draw_only_ours(axes[1])

    def _draw_agreement(self, ax: Axes) -> None:
        from matplotlib.lines import Line2D

        m = self.models[self.models["flop_counter_mode_flop"] > 0]
        lo = float(m["flop_counter_mode_flop"].min())
        hi = float(m["flop_counter_mode_flop"].max())
        span = np.array([lo / 4, hi * 4])
        ax.plot(span, span, color="0.75", lw=0.6, zorder=0)
        for _, row in m.iterrows():
            color = FAMILY_COLORS[row["family"]]
            x = row["flop_counter_mode_flop"]
            marker = "o" if row["phase"] == "forward" else "s"
            ax.plot(x, row["flop_counter_mode_rules"], marker, color=color, ms=3.2, mfc="none",
                    mew=0.8, zorder=3)
            if abs(row["flop_same_ops"] / x - 1.0) > DIFFERS_REL:
                ax.plot(x, row["flop_same_ops"], "x", color="black", ms=3.2, mew=0.7, zorder=4)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(*span)
        ax.set_ylim(*span)
        ax.set_xlabel("FlopCounterMode (FLOP per pass)")
        ax.set_ylabel("neurocomp (FLOP per pass)")
        worst = float(self.headline["max_rel_diff_vs_flop_counter_mode"])
        ax.text(0.97, 0.04, f"max. relative difference\non shared ops: {worst:.1g}",
                transform=ax.transAxes, va="bottom", ha="right", fontsize=6)
        handles = [Line2D([], [], color=c, marker="s", ls="none", ms=3, label=f)
                   for f, c in FAMILY_COLORS.items()]
        handles += [
            Line2D([], [], color="0.3", marker="o", ls="none", ms=3, mfc="none", mew=0.8,
                   label="forward"),
            Line2D([], [], color="0.3", marker="s", ls="none", ms=3, mfc="none", mew=0.8,
                   label="backward"),
            Line2D([], [], color="black", marker="x", ls="none", ms=3, mew=0.7,
                   label="library count, grouped"),
        ]
        ax.legend(handles=handles, loc="upper left", fontsize=5.2, ncols=1,
                  handletextpad=0.2, borderaxespad=0.2, labelspacing=0.3)

    def _draw_only_ours(self, ax: Axes) -> None:
        m = self.models
        total = m.groupby("model", sort=False).agg(
            all_ops=("flop_all_ops", "sum"), shared=("flop_same_ops", "sum"),
            family=("family", "first"), label=("label", "first"))
        share = 100.0 * (1.0 - total["shared"] / total["all_ops"])
        y = np.arange(len(share))
        ax.barh(y, share.clip(lower=SHARE_FLOOR_PCT).to_numpy(), height=0.7,
                color=[FAMILY_COLORS[f] for f in total["family"]])
        ax.set_yticks(y, total["label"].tolist(), fontsize=5.5)
        ax.set_ylim(len(y) - 0.5, -0.5)
        ax.set_xscale("log")
        ax.set_xlim(SHARE_FLOOR_PCT, 100)
        ax.set_xticks([0.01, 0.1, 1, 10, 100], ["0.01", "0.1", "1", "10", "100"])
        ax.set_xlabel("FLOPs only neurocomp counts (%)")
        ax.set_ylabel("model")


def run(*, quick: bool = True, seed: int = 0,
        models: Sequence[str] | None = None) -> FlopCountCheckResult:
    """Count every model of :func:`zoo` with both counters, forward and backward.

    Parameters
    ----------
    quick : bool
        Small inputs and a reduced Purkinje cell (seconds); full: ImageNet sizes, the
        full Purkinje cell and the Beniaguev TCNs on 400 ms.
    seed : int
        Seed of the weights and inputs (FLOP counts do not depend on it).
    models : sequence of str, optional
        Keys of the zoo to run (default: all); an unknown key raises ``ValueError``.
    """
    entries = zoo(quick=quick)
    if models is not None:
        known = [e.key for e in entries]
        unknown = [m for m in models if m not in known]
        if unknown:
            raise ValueError(f"unknown model {unknown[0]!r}; the zoo has {known}")
        entries = [e for e in entries if e.key in models]
    model_rows, op_frames, module_frames = [], [], []
    for k, entry in enumerate(entries):
        gen = torch.Generator().manual_seed(seed * 1000 + k)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed * 1000 + k)
            module = entry.build()
        x = entry.make_input(gen)
        report = count(module, x)
        reference = flop_counter_mode_counts(module, x)
        by_op, by_module = compare_with_flop_counter_mode(report, reference)
        by_op.insert(0, "model", entry.key)
        by_module.insert(0, "model", entry.key)
        op_frames.append(by_op)
        module_frames.append(by_module)
        for phase in ("forward", "backward"):
            ops = by_op[by_op["phase"] == phase]
            shared = ops[ops["counted_by"] == "both"]
            model_rows.append({
                "model": entry.key, "label": entry.label, "family": entry.family,
                "phase": phase, "parameters": report.parameter_count,
                "flop_counter_mode_flop": int(shared["flop_counter_mode"].sum()),
                "flop_counter_mode_rules": int(shared["flop_counter_mode_rules"].sum()),
                "flop_same_ops": float(shared["flop"].sum()),
                "flop_all_ops": float(ops["flop"].sum()),
                "max_rules_rel_diff": float(shared["rules_rel_diff"].max())
                if len(shared) else 0.0,
                "uncounted_ops": ", ".join(u.op for u in report.uncounted)})
    models = pd.DataFrame(model_rows)
    ops = pd.concat(op_frames, ignore_index=True)
    modules = pd.concat(module_frames, ignore_index=True)
    shared = ops[ops["counted_by"] == "both"]
    only_ours = sorted(set(ops.loc[ops["counted_by"] == "neurocomp only", "op"]))
    only_theirs = sorted(set(ops.loc[ops["counted_by"] == "FlopCounterMode only", "op"]))
    differs = shared[shared["flop"] != shared["flop_counter_mode"]]
    headline: dict[str, Any] = {
        "max_rel_diff_vs_flop_counter_mode": float(shared["rules_rel_diff"].max()),
        "max_rel_diff_vs_flop_counter_mode_per_module_forward": float(
            modules["rules_rel_diff"].max()),
        "max_rel_diff_library_count_vs_flop_counter_mode": float(
            shared["flop_rel_diff"].max()),
        "ops_where_library_count_differs": sorted(set(differs["op"])),
        "models_compared_count": int(models["model"].nunique()),
        "ops_counted_by_both_count": int(shared["op"].nunique()),
        "ops_counted_only_by_neurocomp": only_ours,
        "ops_counted_only_by_flop_counter_mode": only_theirs,
    }
    for key, group in models.groupby("model", sort=False):
        for _, row in group.iterrows():
            headline[f"{key}_{row['phase']}_gflop"] = row["flop_all_ops"] / 1e9
            headline[f"{key}_{row['phase']}_flop_counter_mode_gflop"] = (
                row["flop_counter_mode_flop"] / 1e9)
    notes = [
        f"FLOP convention: {FLOP_CONVENTION}; FlopCounterMode uses the same.",
        "Both counters run the same forward pass and the same backward pass (torch.autograd."
        "grad of every trainable parameter, seeded with ones); FlopCounterMode once per phase.",
        "'FlopCounterMode's rules' is the counter's per-op reproduction of FlopCounterMode's "
        "formulas; 'library count' is neurocomp's own count of the same ops. They differ only "
        "in aten.convolution_backward: FlopCounterMode (torch 2.13) multiplies the weight "
        "gradient of a grouped convolution by the number of groups and does not count the "
        "bias gradient; the library counts C_out·C_in/g·K·N·P multiply-adds and one add per "
        "output-gradient value for the bias.",
        "Ops only neurocomp counts (element-wise, pooling, normalisation, reductions) use the "
        "scalar costs of neurocomp.accounting.ScalarOpCosts (1 FLOP per scalar op by default).",
        "Quick mode uses small inputs and a reduced Purkinje cell (*: 400 synapses on a "
        "4 x 100 grid, kernel 4 x 100 x 5; the Toeplitz and direct variants are always "
        "reduced); FLOP counts scale with the input sizes, the comparison does not depend on "
        "them. The FFT form of the dendritic convolution has no ops FlopCounterMode counts "
        "(FFTs, complex products): the library counts them, 2.5 N log2 N per real FFT "
        "(FFTW's convention) and 6 FLOPs per complex product.",
    ]
    return FlopCountCheckResult(
        name=NAME, claim=CLAIM, seed=seed, headline=headline, notes=notes,
        params={"quick": quick, "models": [e.key for e in entries]},
        models=models, ops=ops, modules=modules)


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=62)
