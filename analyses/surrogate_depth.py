"""surrogate-depth: does the mammalian L5 cell need a deep net, and does NMDA make the difference?

The question of Beniaguev, Segev & London (2021, Neuron 109:2727), asked of this library's
reduced L5b cell (Hay et al. 2011 channels at 34 °C) on NeuronIO-mini, its honest data set
(``neurocomp_models.neuronio``: Beniaguev-style input, deterministic non-depressing synapses, a 2 s
burn-in discarded before every sequence, no window crossing a sequence), with and without
NMDA. Before anything is fitted the regime is checked: steady-state output rate, the rate
in the first 0.5 s of each sequence against the rest (no start-up transient), and NMDA
plateaus per dendritic site and second. Then:

* a go/no-go diagnostic — linear, LN and one-hidden-layer models on up to ~10 min of data per
  condition: does NMDA leave nonlinear structure that the AMPA-only cell does not?
* causal TCNs of depth 1, 2, 3, 5, 7 at an equal receptive field (150 ms, a 1×1 input
  projection first) and the Expressive Leaky Memory neuron and its branch variant (Spieler et
  al., ICLR 2024), beside the linear and LN baselines; spike loss weighted so that the rare
  spikes count, cosine learning-rate schedule, early stopping on a multi-sequence validation
  set; voltage clipped at −55 mV as Beniaguev et al. do;
* held-out spike AUC, voltage VE and RMSE with bootstrap intervals over test sequences, and
  each surrogate's forward FLOPs per simulated millisecond (the library's counter): the
  accuracy–cost frontier.

The claim is written from the run's numbers, including which of Beniaguev's qualitative
results it reproduces and which it does not. ``--drive dense-basal`` runs the same on data
whose thin basal branches make NMDA plateaus (``neurocomp_models.neuronio.DRIVES``; recorded in
``benchmarks/results/surrogate_depth_paper_dense_basal.json``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from neurocomp_models.neuronio import (
    DEFAULT_DRIVE,
    DRIVES,
    NeuronIOCondition,
    drive_conditions,
    neuronio_dataset,
)

from neurocomp.analysis import Analysis
from neurocomp.biophysics import detect_plateaus
from neurocomp.layers import (
    ELM,
    TCN,
    ELMConfig,
    FilterSurrogateConfig,
    LinearSurrogate,
    LNSurrogate,
    TCNConfig,
    equal_rf_kernels,
)
from neurocomp.mapping import (
    GenerationSpec,
    NeuronIO,
    NeuronIODataset,
    SurrogateTrainConfig,
    flops_per_ms,
    parameter_count,
    predict,
    score_surrogate,
    train_surrogate,
)
from neurocomp.plotting import PALETTE, spread_apart
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "surrogate-depth"
CLAIM = ("Held-out accuracy and cost of TCNs of several depths at an equal receptive field, ELM "
         "neurons and linear/LN baselines fitted to the mammalian L5 cell with and without "
         "NMDA, after checking the data's regime; the claim is written from the run.")
#: Beniaguev et al. (2021)'s qualitative results, as the targets of this analysis.
AMPA_SHALLOW_TOLERANCE_AUC = 0.005  # AMPA only: one hidden layer within this of the best
NMDA_DEPTH_GAIN_AUC = 0.02          # NMDA: best deep model at least this above one layer
ACCURACY_BAR_AUC = 0.95             # held-out spike AUC a surrogate must reach to be priced
ELM_PARAMETER_RATIO = 50.0          # ELM at TCN accuracy with this many times fewer weights
RATE_BAND_HZ = (1.0, 5.0)           # steady-state output rate the data must have
ONSET_MS = 500.0                    # first part of each sequence, checked for a transient
#: Bins of input the FLOP counter runs on (each model's cost per bin is the same at any
#: length; the ELM's per-step loop makes long counts slow).
FLOP_COUNT_BINS = 100


def cache_dir() -> Path:
    """Where data sets are kept (``$NEUROCOMP_CACHE`` or ~/.cache/neurocomp)."""
    return Path(os.environ.get("NEUROCOMP_CACHE", Path.home() / ".cache" / "neurocomp"))


#: Sequences shipped with the repository (the first ones of the paper run's data set, same
#: key), so the quick run need not simulate; any missing or stale one is simulated.
SHIPPED = Path(__file__).resolve().parent / "data" / "neuronio-mini"


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Sizes of one run: data, models and training."""

    sequence_ms: float = 10_000.0
    burn_in_ms: float = 2_000.0
    n_train: int = 150
    n_val: int = 15
    n_test: int = 15
    data_seed: int = 0
    receptive_field_ms: int = 150
    depths: tuple[int, ...] = (1, 2, 3, 5, 7)
    width: int = 64
    projection: int = 32
    elm_memory_units: int = 20
    epochs: int = 30
    max_steps_per_epoch: int = 200
    window_bins: int = 500
    learning_rate: float = 3e-3
    patience: int = 6
    diagnostic_train_s: float = 600.0
    n_boot: int = 1000
    drive: str = DEFAULT_DRIVE

    def __post_init__(self) -> None:
        drive_conditions(self.drive)  # a named drive (DRIVES), or a ValueError naming them

    @property
    def train_s(self) -> float:
        """Training data per condition, s."""
        return self.n_train * self.sequence_ms / 1e3

    def spec(self, condition: str) -> GenerationSpec:
        """The data set's generation spec for ``condition``."""
        return GenerationSpec(condition=condition, burn_in_ms=self.burn_in_ms,
                              sequence_ms=self.sequence_ms, n_train=self.n_train,
                              n_val=self.n_val, n_test=self.n_test, seed=self.data_seed)


#: ≥ 30 min of biological time per condition (25 min train, 2.5 min each val and test).
#: Beniaguev et al. trained on > ~200 h per condition for 720,000 steps
#: (docs/references.md#anchors-surrogates-engines-a-4, #anchors-surrogates-engines-a-6).
FULL = Plan()
#: The first sequences of the same data sets (shipped): 30 s of training data per condition.
QUICK = Plan(n_train=3, n_val=1, n_test=2, width=16, projection=16, elm_memory_units=10,
             epochs=3, max_steps_per_epoch=25, window_bins=400, patience=3, n_boot=200)


# -- regime ----------------------------------------------------------------------------------

def regime(data: NeuronIODataset, site_regions: Sequence[str] = ()) -> dict[str, float]:
    """The data's regime: output rate (all, first ``ONSET_MS`` of each sequence, the rest),
    somatic voltage mean and SD, plateaus (≥ 20 ms above −40 mV) per dendritic site and
    second — over all sites and per region of ``site_regions`` (one label per recorded
    site): NMDA plateaus in thin basal branches and in the tuft are told apart."""
    seqs = [s for split in ("train", "val", "test") for s in data.splits[split]]
    bin_ms = seqs[0].bin_ms
    onset = round(ONSET_MS / bin_ms)
    spikes_on = sum(int(np.asarray(s.spikes)[:onset].sum()) for s in seqs)
    spikes_all = sum(int(np.asarray(s.spikes).sum()) for s in seqs)
    n_bins = sum(s.spikes.size for s in seqs)
    seconds = n_bins * bin_ms / 1e3
    onset_s = len(seqs) * onset * bin_ms / 1e3
    soma = np.concatenate([np.asarray(s.soma_mV, dtype=np.float64) for s in seqs])
    out = {"output_rate_hz": spikes_all / seconds,
           "onset_rate_hz": spikes_on / onset_s,
           "steady_rate_hz": (spikes_all - spikes_on) / (seconds - onset_s),
           "soma_mean_mV": float(soma.mean()), "soma_sd_mV": float(soma.std()),
           "seconds": seconds, "spikes": spikes_all}
    dend = [d for split in ("train", "val", "test") for d in (data.dend_mV or {}).get(split, [])
            if d is not None]
    if dend:
        sites = dend[0].shape[0]
        per_site = np.zeros(sites)
        for d in dend:
            found = detect_plateaus(np.asarray(d, dtype=np.float64), bin_ms=bin_ms)
            np.add.at(per_site, np.asarray(found.site, dtype=int), 1)
        out["plateaus_per_site_s"] = float(per_site.sum() / (sites * seconds))
        labels = np.asarray(list(site_regions) if len(site_regions) == sites else [])
        for region in dict.fromkeys(labels.tolist()):
            sel = labels == region
            out[f"plateaus_per_site_s_{region}"] = float(per_site[sel].sum()
                                                         / (sel.sum() * seconds))
    else:
        out["plateaus_per_site_s"] = float("nan")
    return out


# -- models ----------------------------------------------------------------------------------

def _branches(data: NeuronIODataset, condition: NeuronIOCondition) -> tuple[int, ...]:
    """Branch of each input channel for the Branch-ELM: its dendritic section."""
    table = condition.model().morphology.compartment_table()
    section = table["section"][np.asarray(data.channels.compartment)]
    names = {name: k for k, name in enumerate(dict.fromkeys(section))}
    return tuple(names[s] for s in section)


def build_models(kind: str, *, n_in: int, plan: Plan, v_mean: float, exc_mask: np.ndarray,
                 branches: tuple[int, ...]) -> dict[str, torch.nn.Module]:
    """The surrogates of one family: ``"baseline"`` (linear, LN, one hidden layer),
    ``"tcn"`` (depths ≥ 2) or ``"elm"`` (ELM, Branch-ELM)."""
    rf = plan.receptive_field_ms
    if kind == "baseline":
        cfg = FilterSurrogateConfig(in_channels=n_in, receptive_field_bins=rf,
                                    voltage_bias_init_mV=v_mean)
        return {"linear": LinearSurrogate(cfg), "LN": LNSurrogate(cfg),
                "TCN-1": _tcn(1, n_in=n_in, plan=plan, v_mean=v_mean)}
    if kind == "tcn":
        return {f"TCN-{d}": _tcn(d, n_in=n_in, plan=plan, v_mean=v_mean)
                for d in plan.depths if d > 1}
    mask = tuple(bool(m) for m in exc_mask)
    base = ELMConfig(in_channels=n_in, memory_units=plan.elm_memory_units, exc_mask=mask,
                     voltage_bias_init_mV=v_mean)
    return {"ELM": ELM(base), "Branch-ELM": ELM(replace(base, branch_of_channel=branches))}


def _tcn(depth: int, *, n_in: int, plan: Plan, v_mean: float) -> TCN:
    return TCN(TCNConfig(in_channels=n_in, depth=depth, width=plan.width,
                         kernel_sizes=equal_rf_kernels(depth, plan.receptive_field_ms),
                         input_projection=plan.projection, soma_bias_init=v_mean,
                         source="Beniaguev et al. (2021) TCN family at an equal receptive "
                                "field (150 ms), with a 1x1 input projection"))


def fit_and_score(name: str, model: torch.nn.Module, *, train: list[NeuronIO],
                  val: list[NeuronIO], test: list[NeuronIO], plan: Plan, seed: int,
                  n_in: int) -> dict[str, Any]:
    """Train one surrogate and score it on the held-out sequences."""
    print(f"surrogate-depth: training {name} on {len(train)} sequences", file=sys.stderr,
          flush=True)
    torch.manual_seed(seed)
    cfg = SurrogateTrainConfig(epochs=plan.epochs, batch_size=8,
                               learning_rate=plan.learning_rate, schedule="cosine",
                               window_bins=plan.window_bins,
                               warmup_bins=plan.receptive_field_ms, patience=plan.patience,
                               max_steps_per_epoch=plan.max_steps_per_epoch, seed=seed,
                               grad_clip_norm=1.0)
    report = train_surrogate(model, train, val, cfg)
    score = score_surrogate(model, test, warmup_bins=plan.receptive_field_ms,
                            n_boot=plan.n_boot, seed=seed)
    t0 = time.perf_counter()
    for seq in test:
        predict(model, seq)
    infer_s = time.perf_counter() - t0
    test_s = sum(s.spikes.size * s.bin_ms for s in test) / 1e3
    cost = flops_per_ms(model, n_in, bins=FLOP_COUNT_BINS)
    return {"model": name, "spike_auc": score.spike_auc,
            "spike_auc_lo": score.spike_auc_ci[0], "spike_auc_hi": score.spike_auc_ci[1],
            "voltage_ve": score.voltage_variance_explained,
            "voltage_ve_lo": score.voltage_variance_explained_ci[0],
            "voltage_ve_hi": score.voltage_variance_explained_ci[1],
            "voltage_rmse_mV": score.voltage_rmse_mV, "test_spikes": score.n_spikes,
            "parameters": parameter_count(model), "flop_per_ms": cost.flop_per_ms,
            "train_wall_s": report.wall_s, "epochs_run": report.epochs_run,
            "bio_s_per_wall_s_inference": test_s / infer_s, "score_note": score.note}


# -- result ----------------------------------------------------------------------------------

@dataclass(kw_only=True)
class SurrogateDepthResult(Result):
    """Regime, diagnostic, accuracy against depth and cost, per condition."""

    regimes: pd.DataFrame
    diagnostic: pd.DataFrame
    scores: pd.DataFrame

    layout = (("rate", "plateaus"), ("diagnostic", "diagnostic"), ("auc", "ve"),
              ("frontier", "frontier"))
    row_height_in = 1.75

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"regime": self.regimes, "diagnostic": self.diagnostic,
                             "scores": self.scores})

    def _draw(self, axes: Sequence[Axes]) -> None:
        ax_rate, ax_plat, ax_diag, ax_auc, ax_ve, ax_front = (list(axes) + [None] * 6)[:6]
        conds = list(self.regimes["condition"])
        colors = dict(zip(conds, PALETTE, strict=False))
        x = np.arange(len(conds))
        if ax_rate is not None:
            r = self.regimes
            ax_rate.bar(x - 0.2, r["onset_rate_hz"], 0.4, color="0.7",
                        label=f"first {ONSET_MS:g} ms")
            ax_rate.bar(x + 0.2, r["steady_rate_hz"], 0.4, color=[colors[c] for c in conds],
                        label="rest of sequence")
            ax_rate.axhspan(*RATE_BAND_HZ, color="0.92", zorder=0)
            ax_rate.set_xticks(x, [_short(c) for c in conds])
            top = float(np.nanmax([*r["onset_rate_hz"], *r["steady_rate_hz"],
                                    RATE_BAND_HZ[1]]))
            # ylim: room for the legend
            ax_rate.set(xlabel="condition", ylabel="output rate (Hz)", ylim=(0, 1.45 * top))
            # one column: two were wider than the panel and ran over its y axis
            ax_rate.legend(fontsize=5.5, loc="upper right", frameon=False, borderaxespad=0.1)
        if ax_plat is not None:
            cols = [c for c in self.regimes.columns if c.startswith("plateaus_per_site_s_")]
            cols = cols or ["plateaus_per_site_s"]
            w = 0.8 / len(cols)
            for k, col in enumerate(cols):
                label = col[len("plateaus_per_site_s_"):] or "all sites"
                ax_plat.bar(x + (k - (len(cols) - 1) / 2) * w, self.regimes[col], w,
                            color=[colors[c] for c in conds], alpha=1.0 - 0.45 * k,
                            edgecolor="0.3", lw=0.4)
                for xi, val in zip(x, self.regimes[col], strict=True):
                    ax_plat.annotate(label, (xi + (k - (len(cols) - 1) / 2) * w, val),
                                     ha="center", va="bottom", fontsize=5,
                                     xytext=(0, 1), textcoords="offset points")
            ax_plat.set_xticks(x, [_short(c) for c in conds])
            ax_plat.set(xlabel="condition", ylabel="plateaus per\nsite and second")
            ax_plat.margins(y=0.15)
        if ax_diag is not None:
            self._bars(ax_diag, self.diagnostic, colors)
        for ax, col, label in ((ax_auc, "spike_auc", "spike AUC (held out)"),
                               (ax_ve, "voltage_ve", "voltage VE (held out)")):
            if ax is not None:
                self._depth(ax, col, label, colors)
        if ax_front is not None:
            auc = self.scores["spike_auc"].to_numpy(dtype=float)
            finite = auc[np.isfinite(auc)]
            span = (max(ACCURACY_BAR_AUC, *finite) - min(finite)) if finite.size else 1.0
            first = self.scores["condition"].iloc[0]  # its labels left, the other's right
            for cond, g in self.scores.groupby("condition", sort=False):
                ax_front.scatter(g["flop_per_ms"], g["spike_auc"], s=10, color=colors[cond],
                                 label=_short(cond), zorder=3)
            # both conditions' labels spread together: a left label of one and a right label
            # of the other can meet between two close columns of points
            for (x, y, y_text), label, cond in _label_positions(
                    self.scores, min_gap=0.07 * (span or 1.0)):
                left = cond == first
                ax_front.annotate(
                    label, (x, y), xytext=(x / 1.15 if left else x * 1.15, y_text),
                    textcoords="data", fontsize=4.5, ha="right" if left else "left",
                    va="center", color=colors[cond], annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "lw": 0.3, "color": colors[cond],
                                "shrinkA": 0, "shrinkB": 2})
            ax_front.axhline(ACCURACY_BAR_AUC, color="0.5", ls="--", lw=0.7,
                             label=f"accuracy bar (AUC {ACCURACY_BAR_AUC:g})")
            ax_front.set_xscale("log")
            ax_front.margins(x=0.2)  # room for the labels beside the outermost points
            ax_front.set(xlabel="forward FLOPs per simulated ms", ylabel="spike AUC")
            # above the panel: inside it, it covered labels of the right-hand cluster
            ax_front.legend(fontsize=5.5, loc="lower right", bbox_to_anchor=(1.0, 1.0),
                            ncols=3, frameon=False, borderaxespad=0.1)

    @staticmethod
    def _bars(ax: Axes, frame: pd.DataFrame, colors: dict[str, str]) -> None:
        models = list(dict.fromkeys(frame["model"]))
        conds = list(dict.fromkeys(frame["condition"]))
        width = 0.8 / len(conds)
        for k, cond in enumerate(conds):
            g = frame[frame["condition"] == cond].set_index("model").reindex(models)
            xs = np.arange(len(models)) + (k - (len(conds) - 1) / 2) * width
            err = np.vstack([g["spike_auc"] - g["spike_auc_lo"],
                             g["spike_auc_hi"] - g["spike_auc"]])
            ax.bar(xs, g["spike_auc"], width, color=colors[cond], label=_short(cond),
                   yerr=np.abs(err), error_kw={"lw": 0.6, "capsize": 1.5})
        ax.set_xticks(np.arange(len(models)), models)
        lo = float(np.nanmin(frame["spike_auc_lo"]))
        hi = float(np.nanmax(frame["spike_auc_hi"]))
        ax.set_ylim(max(0.0, lo - 0.05), min(1.0, hi) + 0.5 * (min(1.0, hi) - lo + 0.05))
        ax.set(xlabel="model", ylabel="spike AUC (held out)")
        ax.set_title("go/no-go: shallow models on the same data", fontsize=6.5)
        ax.legend(fontsize=5.5, loc="upper left", ncol=2, frameon=False)

    def _depth(self, ax: Axes, col: str, label: str, colors: dict[str, str]) -> None:
        models = _model_order(self.scores["model"])
        x = np.arange(len(models))
        conds = list(dict.fromkeys(self.scores["condition"]))
        for k, cond in enumerate(conds):
            g = self.scores[self.scores["condition"] == cond].set_index("model").reindex(models)
            err = np.abs(np.vstack([g[col] - g[f"{col}_lo"], g[f"{col}_hi"] - g[col]]))
            ax.errorbar(x + (k - 0.5) * 0.15, g[col], yerr=err, fmt="o", ms=3,
                        color=colors[cond], label=_short(cond), capsize=1.5, lw=0.8)
        ax.set_xticks(x, models, rotation=60, ha="right")
        ax.set(xlabel="model", ylabel=label)
        # colours as in the diagnostic panel's legend


def _model_order(names: pd.Series) -> list[str]:
    """Baselines, then TCNs by depth, then the ELMs."""
    present = list(dict.fromkeys(names))
    tcn = sorted((m for m in present if m.startswith("TCN-")), key=lambda m: int(m[4:]))
    first = [m for m in ("linear", "LN") if m in present]
    rest = [m for m in present if m not in first and m not in tcn]
    return first + tcn + rest


def _short(condition: str) -> str:
    return "NMDA" if condition == "nmda" else "AMPA only"


# -- claims from the data --------------------------------------------------------------------

def verdicts(scores: pd.DataFrame) -> dict[str, Any]:
    """The targets, evaluated on the scores (NaN-safe)."""
    out: dict[str, Any] = {}
    for cond, g in scores.groupby("condition"):
        auc = g.set_index("model")["spike_auc"]
        params = g.set_index("model")["parameters"]
        deep = auc[[m for m in auc.index if m.startswith("TCN-") and m != "TCN-1"]]
        best_name = str(auc.idxmax())
        out[f"best_model_{cond}"] = best_name
        out[f"best_spike_auc_{cond}"] = float(auc.max())
        out[f"one_hidden_layer_spike_auc_{cond}"] = float(auc.get("TCN-1", np.nan))
        out[f"best_deep_tcn_spike_auc_{cond}"] = float(deep.max()) if len(deep) else np.nan
        out[f"best_deep_tcn_{cond}"] = str(deep.idxmax()) if len(deep) else ""
        out[f"deep_minus_one_hidden_auc_{cond}"] = (out[f"best_deep_tcn_spike_auc_{cond}"]
                                                    - out[f"one_hidden_layer_spike_auc_{cond}"])
        out[f"best_minus_one_hidden_auc_{cond}"] = (out[f"best_spike_auc_{cond}"]
                                                    - out[f"one_hidden_layer_spike_auc_{cond}"])
        lo = g.set_index("model")["spike_auc_lo"] if "spike_auc_lo" in g else auc * np.nan
        hi = g.set_index("model")["spike_auc_hi"] if "spike_auc_hi" in g else auc * np.nan
        deep_name = out[f"best_deep_tcn_{cond}"]
        # a gain is resolved only when the intervals (bootstrap over test sequences) separate
        out[f"best_deep_tcn_auc_lo_{cond}"] = float(lo.get(deep_name, np.nan))
        out[f"one_hidden_layer_auc_hi_{cond}"] = float(hi.get("TCN-1", np.nan))
        out[f"deep_gain_resolved_{cond}"] = bool(
            out[f"best_deep_tcn_auc_lo_{cond}"] > out[f"one_hidden_layer_auc_hi_{cond}"])
        out[f"linear_spike_auc_{cond}"] = float(auc.get("linear", np.nan))
        tcns = auc[[m for m in auc.index if m.startswith("TCN-")]]
        best_tcn = str(tcns.idxmax())
        elms = auc[[m for m in auc.index if "ELM" in m]]
        if len(elms):
            best_elm = str(elms.idxmax())
            out[f"elm_minus_best_tcn_auc_{cond}"] = float(elms.max() - tcns.max())
            out[f"tcn_to_elm_parameter_ratio_{cond}"] = float(params[best_tcn]
                                                               / params[best_elm])
            out[f"best_elm_{cond}"] = best_elm
    out["ampa_one_hidden_within_tolerance"] = bool(
        out.get("best_minus_one_hidden_auc_ampa", np.inf) <= AMPA_SHALLOW_TOLERANCE_AUC)
    out["nmda_depth_gain_met"] = bool(
        out.get("deep_minus_one_hidden_auc_nmda", -np.inf) >= NMDA_DEPTH_GAIN_AUC)
    out["nmda_auc_bar_met"] = bool(out.get("best_spike_auc_nmda", 0.0) >= ACCURACY_BAR_AUC)
    out["elm_matches_tcn_with_fewer_parameters"] = bool(
        out.get("elm_minus_best_tcn_auc_nmda", -np.inf) >= -AMPA_SHALLOW_TOLERANCE_AUC
        and out.get("tcn_to_elm_parameter_ratio_nmda", 0.0) >= ELM_PARAMETER_RATIO)
    return out


def _label_positions(g: pd.DataFrame, *, min_gap: float
                     ) -> Iterator[tuple[tuple[float, float, float], str, str]]:
    """Yield ``((x, y, y_label), model, condition)`` for each scored model: points whose
    costs lie within a factor 3 of each other share a column of labels, spread to at
    least ``min_gap`` apart in AUC so that none overlaps (drawing only; data unchanged)."""
    g = g[np.isfinite(g["spike_auc"]) & (g["flop_per_ms"] > 0)]
    g = g.sort_values("flop_per_ms")
    logx = np.log10(g["flop_per_ms"].to_numpy(dtype=float))
    cluster = np.concatenate([[0], np.cumsum(np.diff(logx) > np.log10(3.0))]) if len(g) else []
    for k in np.unique(cluster):
        c = g[np.asarray(cluster) == k].sort_values("spike_auc")
        ys = spread_apart(c["spike_auc"].to_numpy(dtype=float), min_gap=min_gap)
        for (_, row), y in zip(c.iterrows(), ys, strict=True):
            yield ((float(row["flop_per_ms"]), float(row["spike_auc"]), float(y)),
                   str(row["model"]), str(row["condition"]))


def _plateau_text(r: pd.DataFrame) -> str:
    """Plateaus per site-second with and without NMDA, by region where known."""
    regions = [c[len("plateaus_per_site_s_"):] for c in r.columns
               if c.startswith("plateaus_per_site_s_")]
    if not regions:
        return (f"{r.loc['nmda', 'plateaus_per_site_s']:.2f} vs "
                f"{r.loc['ampa', 'plateaus_per_site_s']:.2f} plateaus per site-second")
    parts = [f"{r.loc['nmda', f'plateaus_per_site_s_{g}']:.2f} vs "
             f"{r.loc['ampa', f'plateaus_per_site_s_{g}']:.2f} ({g})" for g in regions]
    return "plateaus per site-second with vs without NMDA " + ", ".join(parts)


def _go_no_go(gaps: dict[str, float]) -> str:
    """The go/no-go verdict from one-hidden-layer minus linear AUC per condition."""
    nmda, ampa = gaps.get("nmda", np.nan), gaps.get("ampa", np.nan)
    if not (nmda > 0 or ampa > 0):
        return (" — one hidden layer is not above the linear filter in either condition: no "
                "nonlinear structure is visible at this size.")
    return (" — nonlinear structure the linear filter misses is "
            + ("larger with NMDA." if nmda > ampa else "NOT larger with NMDA."))


def _resolution(v: dict[str, Any], cond: str) -> str:
    """Whether the depth comparison is resolved by the bootstrap intervals, and whether the
    TCNs beat the linear filter at all (text for the claim)."""
    lo, hi = v.get(f"best_deep_tcn_auc_lo_{cond}"), v.get(f"one_hidden_layer_auc_hi_{cond}")
    out = ""
    if lo is not None and np.isfinite(lo) and np.isfinite(hi):
        out = ("; resolved: the intervals separate" if v[f"deep_gain_resolved_{cond}"] else
               f"; NOT resolved: the bootstrap intervals overlap (deep ≥ {lo:.3f}, one hidden "
               f"layer ≤ {hi:.3f})")
    linear = v.get(f"linear_spike_auc_{cond}", np.nan)
    if np.isfinite(linear) and linear >= v[f"best_deep_tcn_spike_auc_{cond}"]:
        out += (f"; every TCN is below the linear filter ({linear:.3f}), so they are short of "
                "data here")
    return out


#: The targets, as the headline carries them (the claim quotes them from there).
TARGETS = {"target_rate_band_low_hz": RATE_BAND_HZ[0], "target_rate_band_high_hz": RATE_BAND_HZ[1],
           "target_ampa_shallow_tolerance_auc": AMPA_SHALLOW_TOLERANCE_AUC,
           "target_nmda_depth_gain_auc": NMDA_DEPTH_GAIN_AUC,
           "target_spike_auc_bar": ACCURACY_BAR_AUC,
           "target_elm_parameter_ratio": ELM_PARAMETER_RATIO}
#: Regime quantities of each condition that the headline carries (``<key>_<condition>``).
_REGIME_SUFFIXES = ("_hz", "_per_site_s", "per_site_s_basal", "per_site_s_apical")


def claim_from(h: dict[str, Any]) -> str:
    """The claim, formatted from the headline alone (verdicts, regime, targets)."""
    conds = ("nmda", "ampa")
    keys = sorted({k[:-len(c) - 1] for k in h for c in conds
                   if k.endswith(f"_{c}") and k[:-len(c) - 1].endswith(_REGIME_SUFFIXES)})
    regimes = pd.DataFrame([{"condition": c, **{k: h.get(f"{k}_{c}", np.nan) for k in keys}}
                            for c in conds])
    return claim_sentence(h, regimes, train_s=h["train_data_per_condition_s"],
                          drive=h.get("drive", DEFAULT_DRIVE))


def claim_sentence(v: dict[str, Any], regimes: pd.DataFrame, plan: Plan | None = None, *,
                   train_s: float | None = None, drive: str | None = None) -> str:
    """The claim, formatted from the verdicts and the regime (``train_s``: training data per
    condition, s, and ``drive``, the input drive's name; from ``plan`` when not given)."""
    train_s = plan.train_s if train_s is None else train_s
    if drive is None:
        drive = plan.drive if plan is not None else DEFAULT_DRIVE
    under = "" if drive == DEFAULT_DRIVE else f" under the {drive} drive"
    r = regimes.set_index("condition")
    in_band = all(RATE_BAND_HZ[0] <= r.loc[c, "steady_rate_hz"] <= RATE_BAND_HZ[1]
                  for c in r.index)
    regime_txt = (f"output {r.loc['nmda', 'steady_rate_hz']:.1f} Hz with NMDA and "
                  f"{r.loc['ampa', 'steady_rate_hz']:.1f} Hz without "
                  f"({'inside' if in_band else 'OUTSIDE'} the {RATE_BAND_HZ[0]:g}–"
                  f"{RATE_BAND_HZ[1]:g} Hz band), {_plateau_text(r)}")
    ampa = (f"without NMDA one hidden layer is "
            f"{_gap(-v['best_minus_one_hidden_auc_ampa'], target=AMPA_SHALLOW_TOLERANCE_AUC)}"
            f" the best model "
            f"({v['best_model_ampa']}, {v['best_spike_auc_ampa']:.3f}): "
            f"{'within' if v['ampa_one_hidden_within_tolerance'] else 'NOT within'} "
            f"{AMPA_SHALLOW_TOLERANCE_AUC:g}")
    if v.get("best_deep_tcn_ampa"):
        ampa += (f", and its best deep TCN ({v['best_deep_tcn_ampa']}, "
                 f"{v['best_deep_tcn_spike_auc_ampa']:.3f}) is "
                 f"{_gap(v['deep_minus_one_hidden_auc_ampa'])} one hidden layer"
                 + (f" ({res})" if (res := _resolution(v, 'ampa').removeprefix('; ')) else ""))
    nmda = (f"with NMDA the best deep TCN ({v['best_deep_tcn_nmda']}, "
            f"{v['best_deep_tcn_spike_auc_nmda']:.3f}) is "
            f"{_gap(v['deep_minus_one_hidden_auc_nmda'], target=NMDA_DEPTH_GAIN_AUC)} one "
            f"hidden layer (target "
            f"≥ {NMDA_DEPTH_GAIN_AUC:g} above: "
            f"{'met' if v['nmda_depth_gain_met'] else 'NOT met'}"
            f"{_resolution(v, 'nmda')}), "
            f"and the best model reaches {v['best_spike_auc_nmda']:.3f} (target "
            f"≥ {ACCURACY_BAR_AUC:g}: {'met' if v['nmda_auc_bar_met'] else 'NOT met'})")
    d_n = v["deep_minus_one_hidden_auc_nmda"]
    d_a = v.get("deep_minus_one_hidden_auc_ampa", np.nan)
    contrast = ""
    if np.isfinite(d_a):
        contrast = (f"; depth's gain over one hidden layer with NMDA ({d_n:+.3f} AUC) "
                    f"{'exceeds' if d_n - d_a >= NMDA_DEPTH_GAIN_AUC else 'does NOT exceed'} "
                    f"the gain without NMDA ({d_a:+.3f}) by {NMDA_DEPTH_GAIN_AUC:g}")
    elm = ""
    if "tcn_to_elm_parameter_ratio_nmda" in v:
        elm = (f"; the {v['best_elm_nmda']} is {_gap(v['elm_minus_best_tcn_auc_nmda'])} the "
               f"best TCN with {v['tcn_to_elm_parameter_ratio_nmda']:.0f}× fewer parameters")
    return (f"On {train_s / 60:.1f} min of training data per condition{under} "
            f"({regime_txt}), "
            f"{ampa}; {nmda}{contrast}{elm}.")


def _gap(d: float, *, target: float | None = None) -> str:
    """A signed AUC difference as words: "0.031 AUC above", "0.035 AUC below"; with four
    decimals where three would round it onto ``target`` (0.0196 against 0.02 must not read
    "0.020 ... NOT met")."""
    if abs(d) < 5e-4:
        return "level (within 0.0005 AUC) with"
    digits = 4 if target is not None and f"{abs(d):.3f}" == f"{target:.3f}" else 3
    return f"{abs(d):.{digits}f} AUC {'above' if d > 0 else 'below'}"


# -- run -------------------------------------------------------------------------------------

def load_data(plan: Plan, *, progress: bool = True,
              backend: str = "brian2") -> dict[str, NeuronIODataset]:
    """Generate (or reuse) and load both conditions' data sets; missing sequences are
    simulated by Brian2 on 2 Dask workers or by the PyTorch engine (``backend="torch"``,
    16 sequences per pass: the same data to round-off, ``benchmarks/results/
    neuronio_backends.json``)."""
    root = cache_dir() / "neuronio-mini"
    return {name: neuronio_dataset(cond, plan.spec(name), root=root, shipped=SHIPPED,
                                   n_workers=2, progress=progress, backend=backend)
            for name, cond in drive_conditions(plan.drive).items()}


def run(*, quick: bool = True, seed: int = 0, plan: Plan | None = None,
        data_backend: str = "brian2") -> SurrogateDepthResult:
    """Check the data's regime, run the diagnostic, fit and score every surrogate.

    ``plan`` overrides the sizes of ``quick`` (:data:`QUICK`) or full (:data:`FULL`) mode,
    e.g. for a run between the two (``python -m neurocomp_analyses.surrogate_depth``, :func:`main`).
    ``data_backend`` simulates missing data with Brian2 or the PyTorch engine (:func:`load_data`).
    """
    if plan is not None and not isinstance(plan, Plan):
        raise TypeError(f"plan must be a Plan; got {type(plan).__name__}")
    mode = "custom" if plan is not None else ("quick" if quick else "full")
    plan = plan if plan is not None else (QUICK if quick else FULL)
    # at most 2 threads (small tensors), and never more than the process was given (a
    # worker of a parallel run has its share of the cores)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    data = load_data(plan, backend=data_backend)
    conditions = drive_conditions(plan.drive)
    regimes, diag_rows, rows = [], [], []
    for name, ds in data.items():
        cond = conditions[name]
        regimes.append({"condition": name, **regime(ds, cond.site_regions())})
        train, val, test = ds.splits["train"], ds.splits["val"], ds.splits["test"]
        n_in = ds.channels.n_channels
        v_mean = float(np.mean([np.minimum(s.soma_mV, -55.0).mean() for s in train]))
        common = {"n_in": n_in, "plan": plan, "v_mean": v_mean,
                  "exc_mask": ds.channels.exc_mask, "branches": _branches(ds, cond)}
        n_diag = max(1, min(len(train), round(plan.diagnostic_train_s * 1e3
                                              / plan.sequence_ms)))
        baselines = build_models("baseline", **common)
        for model_name, model in baselines.items():
            row = fit_and_score(model_name, model, train=train, val=val, test=test,
                                plan=plan, seed=seed, n_in=n_in)
            rows.append({"condition": name, **row})
            if n_diag == len(train):
                diag_rows.append({"condition": name, **row})
        if n_diag < len(train):  # the diagnostic on its own ~10 min of data
            for model_name, model in build_models("baseline", **common).items():
                diag_rows.append({"condition": name, **fit_and_score(
                    model_name, model, train=train[:n_diag], val=val, test=test, plan=plan,
                    seed=seed, n_in=n_in)})
        for kind in ("tcn", "elm"):
            for model_name, model in build_models(kind, **common).items():
                rows.append({"condition": name, **fit_and_score(
                    model_name, model, train=train, val=val, test=test, plan=plan, seed=seed,
                    n_in=n_in)})
    scores, diagnostic = pd.DataFrame(rows), pd.DataFrame(diag_rows)
    regime_frame = pd.DataFrame(regimes)
    costs = {name: _simulation_cost(ds) for name, ds in data.items()}
    sim_s_per_bio_s = {name: cost for name, (cost, _) in costs.items()}
    # speed against the simulation on the same input: the simulator's run time per
    # biological second (Brian2's binary, or the engine's share of a batched pass, whichever
    # made the data) over the surrogate's (one sequence at a time on this CPU)
    scores["speedup_vs_simulation"] = (scores["bio_s_per_wall_s_inference"]
                                       * scores["condition"].map(sim_s_per_bio_s))
    v = verdicts(scores)
    headline: dict[str, Any] = {
        **{f"{k}_{r['condition']}": r[k] for r in regimes
           for k in r if k.endswith(_REGIME_SUFFIXES)},
        **v,
        **TARGETS,
        "drive": plan.drive,
        "train_data_per_condition_s": plan.train_s,
        "train_data_per_condition_min": plan.train_s / 60,
        "test_data_per_condition_s": plan.n_test * plan.sequence_ms / 1e3,
        **{f"simulation_wall_s_per_bio_s_{k}": val for k, val in sim_s_per_bio_s.items()},
        **{f"simulation_source_{k}": src for k, (_, src) in costs.items()},
    }
    for c in data:
        passing = scores[(scores["condition"] == c) & (scores["spike_auc"] >= ACCURACY_BAR_AUC)]
        best = passing.sort_values("flop_per_ms").iloc[0] if len(passing) else None
        headline[f"cheapest_passing_speedup_vs_simulation_{c}"] = (
            float(best["speedup_vs_simulation"]) if best is not None else float("nan"))
        headline[f"cheapest_passing_flop_per_ms_{c}"] = (
            float(best["flop_per_ms"]) if best is not None else float("nan"))
    diag = diagnostic.set_index(["condition", "model"])["spike_auc"]
    gaps = {c: float(diag.get((c, "TCN-1"), np.nan) - diag.get((c, "linear"), np.nan))
            for c in data}
    headline.update({f"diagnostic_one_hidden_minus_linear_auc_{c}": g for c, g in gaps.items()})
    claim = claim_from(headline)
    notes = [
        f"Mode {mode}: {plan.n_train}/{plan.n_val}/{plan.n_test} sequences of "
        f"{plan.sequence_ms / 1e3:g} s (train/validation/test) per condition after a "
        f"{plan.burn_in_ms / 1e3:g} s burn-in each; data keys "
        f"{ {k: ds.key for k, ds in data.items()} } in {cache_dir() / 'neuronio-mini'}.",
        f"Input drive {plan.drive!r}: "
        + "; ".join(f"{name}: {cond.source}" for name, cond in conditions.items()) + ".",
        "Go/no-go: one hidden layer minus linear, spike AUC: "
        + ", ".join(f"{_short(c)} {g:+.3f}" for c, g in gaps.items())
        + _go_no_go(gaps),
        f"Best models: {v.get('best_model_nmda')} (NMDA), {v.get('best_model_ampa')} (AMPA "
        f"only). Simulation: "
        + "; ".join(f"{_short(c)} {cost:.2f} s of {src} run time per biological second"
                    for c, (cost, src) in costs.items())
        + "; surrogate inference speeds in the table.",
    ]
    if mode == "quick":
        notes.append(f"Quick mode: {plan.train_s:g} s of training data and small, briefly "
                     "trained models — a smoke test of the pipeline, not the depth result; "
                     "the full run (--full) is the paper run.")
    return SurrogateDepthResult(
        name=NAME, claim=claim, seed=seed, headline=headline, notes=notes,
        params={**asdict(plan), "mode": mode,
                "data_keys": {k: ds.key for k, ds in data.items()}},
        regimes=regime_frame, diagnostic=diagnostic,
        scores=scores)


def _simulation_cost(ds: NeuronIODataset) -> tuple[float, str]:
    """Median simulation run time per biological second over the data set's sequences
    (burn-in included), s/s, and the simulator it is of: Brian2's binary where Brian2 made
    sequences (``run_s``), else the PyTorch engine (``engine_s``: its share of a batched
    pass); NaN and "no simulator" if the sequences record neither."""
    total_s = (ds.spec.burn_in_ms + ds.spec.sequence_ms) / 1e3
    for name, source in (("run_s", "Brian2 binary"),
                         ("engine_s", "PyTorch engine (share of a batched pass)")):
        values = [x for x in ds.diagnostics.get(name, []) if np.isfinite(x)]
        if values:
            return float(np.median(values) / total_s), source
    return float("nan"), "no simulator"


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=51)


# -- the paper run, recorded -----------------------------------------------------------------

def record(result: SurrogateDepthResult, *, command: str, out_json: Path,
           frontier_json: Path | None, wall_s: float, clock: Any) -> dict[str, Any]:
    """Write a run's headline, claim, tables and provenance to ``out_json`` and the
    accuracy–cost frontier (what ``neurocomp_models.surrogates`` reads) to ``frontier_json``."""
    from neurocomp.result_files import jsonable

    plan = result.params
    prov = {"command": command, "train_s": float(plan["n_train"]) * plan["sequence_ms"] / 1e3,
            "wall_s": wall_s, **clock.record()}
    payload = {"analysis": NAME, "claim": result.claim, "notes": list(result.notes),
               "headline": dict(result.headline), "params": dict(plan),
               "regimes": result.regimes.to_dict(orient="records"),
               "diagnostic": result.diagnostic.to_dict(orient="records"),
               "scores": result.scores.to_dict(orient="records"), "provenance": prov}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(jsonable(payload), indent=1) + "\n")
    if frontier_json is not None:
        cols = ["condition", "model", "spike_auc", "spike_auc_lo", "spike_auc_hi",
                "voltage_ve", "parameters", "flop_per_ms", "bio_s_per_wall_s_inference"]
        frontier = {"accuracy_bar_auc": ACCURACY_BAR_AUC, "provenance": prov,
                    # what the surrogates were fitted to: a reader checks these against
                    # the current cell and inputs (models.surrogates.stale_reason)
                    "data_keys": dict(plan.get("data_keys", {})),
                    "data_spec": {k: plan[k] for k in ("burn_in_ms", "sequence_ms",
                                                       "data_seed")},
                    "rows": result.scores[cols].to_dict(orient="records")}
        frontier_json.parent.mkdir(parents=True, exist_ok=True)
        frontier_json.write_text(json.dumps(jsonable(frontier), indent=1) + "\n")
    return payload


def from_record(path: str | Path) -> SurrogateDepthResult:
    """A recorded run (the JSON :func:`record` wrote) as a result, to draw it again."""
    d = json.loads(Path(path).read_text())
    return SurrogateDepthResult(
        name=NAME, claim=d["claim"], seed=d["params"].get("seed"), headline=d["headline"],
        notes=d["notes"], params=d["params"], regimes=pd.DataFrame(d["regimes"]),
        diagnostic=pd.DataFrame(d["diagnostic"]), scores=pd.DataFrame(d["scores"]))


def rescore(path: str | Path) -> dict[str, Any]:
    """Write a recorded run's claim and go/no-go note again from its own tables (after the
    wording of :func:`claim_sentence` changed); the numbers are not touched."""
    from dataclasses import fields

    path = Path(path)
    d = json.loads(path.read_text())
    scores, regimes = pd.DataFrame(d["scores"]), pd.DataFrame(d["regimes"])
    plan = Plan(**{f.name: (tuple(d["params"][f.name]) if f.name == "depths"
                            else d["params"][f.name])
                   for f in fields(Plan) if f.name in d["params"]})
    d["claim"] = claim_sentence(verdicts(scores), regimes, plan)
    diag = pd.DataFrame(d["diagnostic"]).set_index(["condition", "model"])["spike_auc"]
    gaps = {c: float(diag.get((c, "TCN-1"), np.nan) - diag.get((c, "linear"), np.nan))
            for c in regimes["condition"]}
    d["notes"] = [("Go/no-go: one hidden layer minus linear, spike AUC: "
                   + ", ".join(f"{_short(c)} {g:+.3f}" for c, g in gaps.items())
                   + _go_no_go(gaps)) if n.startswith("Go/no-go") else n for n in d["notes"]]
    path.write_text(json.dumps(d, indent=1) + "\n")
    return d


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m neurocomp_analyses.surrogate_depth``: a run of any size between quick and full,
    saved as a figure and recorded (see :func:`record`)."""
    import argparse
    import shlex

    from neurocomp.provenance import RunClock

    ap = argparse.ArgumentParser(description="surrogate-depth at a chosen size, recorded")
    for name in ("n_train", "n_val", "n_test", "width", "projection", "epochs",
                 "max_steps_per_epoch", "elm_memory_units", "n_boot"):
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(FULL, name))
    ap.add_argument("--learning-rate", type=float, default=FULL.learning_rate)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--drive", choices=tuple(DRIVES), default=FULL.drive,
                    help="the named input drive (neurocomp_models.neuronio.DRIVES)")
    ap.add_argument("--data-backend", choices=("brian2", "torch"), default="brian2",
                    help="simulator of missing data: Brian2 (2 Dask workers) or the PyTorch "
                         "engine (16 sequences per pass)")
    ap.add_argument("--data-only", action="store_true",
                    help="only generate the data sets of this size, then stop")
    ap.add_argument("--out", type=Path, default=Path("results-paper") / NAME)
    repo = Path(__file__).resolve().parent.parent
    ap.add_argument("--json", type=Path,
                    default=repo / "benchmarks" / "results" / "surrogate_depth_paper.json")
    ap.add_argument("--frontier", type=Path, default=None,
                    help="also write the frontier here (models/data/surrogate_frontier.json "
                         "feeds the brain estimates)")
    ap.add_argument("--replot", type=Path, default=None,
                    help="only draw a recorded run (its JSON) again into --out")
    ap.add_argument("--rescore", type=Path, default=None,
                    help="only write a recorded run's claim again from its own numbers")
    args = ap.parse_args(argv)
    if args.rescore is not None:
        print(rescore(args.rescore)["claim"])
        return
    if args.replot is not None:
        from_record(args.replot).save(args.out)
        return
    clock = RunClock()
    fields = {k: getattr(args, k) for k in ("n_train", "n_val", "n_test", "width",
                                            "projection", "epochs", "max_steps_per_epoch",
                                            "elm_memory_units", "n_boot", "learning_rate",
                                            "drive")}
    plan = replace(FULL, **fields)
    if args.data_only:
        for name, ds in load_data(plan, backend=args.data_backend).items():
            print(f"{name}: {ds.key}, {sum(len(v) for v in ds.splits.values())} sequences, "
                  f"{ds.manifest['rate_hz']:.2f} Hz")
        return
    t0 = time.perf_counter()
    result = run(quick=False, seed=args.seed, plan=plan, data_backend=args.data_backend)
    wall = time.perf_counter() - t0
    result.save(args.out)
    argv_list = list(sys.argv[1:] if argv is None else argv)
    command = ("python -m neurocomp_analyses.surrogate_depth "
               + " ".join(map(shlex.quote, argv_list)))
    record(result, command=command, out_json=args.json, frontier_json=args.frontier,
           wall_s=wall, clock=clock)
    print(result.claim)


if __name__ == "__main__":
    main()
