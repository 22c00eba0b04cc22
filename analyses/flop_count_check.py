"""flop-count-check: the FLOP counter and PyTorch's FlopCounterMode against a ground truth.

The ground truth (``neurocomp.accounting.truth.loops``) computes each op of a zoo of
small modules by explicit loops — a convolution gathers every tap of every window, its input
gradient scatters the chain rule back, its weight gradient sums input × output gradient per
tap — and counts the multiply-adds and element operations it performs; every result is
checked against PyTorch's (``np.allclose``), so the count is that of a correct
implementation. The zoo: 1-, 2- and 3-D convolutions (strided, dilated, padded, grouped,
depthwise, transposed) with each gradient apart, the matrix-product family and ``Linear``,
scaled dot-product attention (the CPU's fused kernel and explicit ops, causal or not), max and
average pooling, batch norm (training and evaluation) and layer norm, and recurrent layers
(LSTM on the CPU's oneDNN kernel, GRU, tanh RNN).

Panel A sets the library's count (``neurocomp.accounting.count``) against the ground truth,
case by case and phase by phase; panel B FlopCounterMode's. The library's reproduction of
FlopCounterMode's rules is compared with FlopCounterMode itself only as a sanity check of the
reproduction (both can be wrong together; the ground truth is the check).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from neurocomp.accounting import FLOP_CONVENTION
from neurocomp.accounting.scalar_ops import ScalarOpCosts
from neurocomp.accounting.truth import ground_truth_table
from neurocomp.analysis import Analysis
from neurocomp.plotting import PALETTE
from neurocomp.results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "flop-count-check"
CLAIM = ("The FLOP counter and PyTorch's FlopCounterMode against a ground truth that computes "
         "each op by explicit loops and counts what it does: convolutions and their gradients, "
         "matrix products, attention, pooling, normalisation and recurrent layers.")

FAMILY_COLORS = {"convolution": PALETTE[0], "matmul": PALETTE[1], "attention": PALETTE[2],
                 "pooling": PALETTE[3], "normalization": PALETTE[4], "recurrent": PALETTE[5]}
PHASE_MARKERS = {"forward": "o", "input grad": "s", "weight grad": "^", "bias grad": "v",
                 "all grads": "D"}
#: Prices of the full run's second pass (heavy transcendentals and divisions), to show that
#: the agreement does not hang on every scalar operation costing 1 FLOP.
HEAVY_COSTS = ScalarOpCosts(division_flop=4.0, sqrt_flop=4.0, transcendental_flop=20.0,
                            comparison_flop=1.0)


class ConvZoo(nn.Module):
    """Strided, dilated, padded, grouped, depthwise and transposed convolutions in 1, 2, 3-D.

    Each branch reads its own input, so every layer's backward is counted on its own (a model
    of the counter's tests).
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


@dataclass(kw_only=True)
class FlopCountCheckResult(Result):
    """One row per (case, phase): ground truth, library and FlopCounterMode FLOPs."""

    table: pd.DataFrame

    layout = (("a",), ("a",), ("b",), ("b",))
    row_height_in = 1.1

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _draw(self, axes: Sequence[Axes]) -> None:
        self._draw_library(axes[0])
        if len(axes) > 1:
            self._draw_flop_counter_mode(axes[1])

    def _legend(self, ax: Axes, loc: str) -> None:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=c, marker="s", ls="none", ms=3, label=f)
                   for f, c in FAMILY_COLORS.items()]
        handles += [Line2D([], [], color="0.3", marker=m, ls="none", ms=3, mfc="none",
                           mew=0.7, label=p) for p, m in PHASE_MARKERS.items()]
        ax.legend(handles=handles, loc=loc, fontsize=5, ncols=2, handletextpad=0.2,
                  borderaxespad=0.3, labelspacing=0.25, columnspacing=0.6)

    def _draw_library(self, ax: Axes) -> None:
        t = self.table
        span = np.array([t["truth_flop"].min() / 3, t["truth_flop"].max() * 3])
        ax.plot(span, span, color="0.75", lw=0.6, zorder=0)
        for row in t.itertuples():
            ax.plot(row.truth_flop, row.library_flop, PHASE_MARKERS[row.phase], ms=3.2,
                    mfc="none", mew=0.8, color=FAMILY_COLORS[row.family], zorder=3)
        ax.set(xscale="log", yscale="log", xlim=span, ylim=span,
               xlabel="ground truth (FLOP)", ylabel="library count (FLOP)")
        h = self.headline
        ax.text(0.97, 0.04, f"{h['rows_count']} checks, {h['cases_count']} modules\n"
                f"max |library − truth| / truth: {h['library_max_abs_rel_error']:.2g}",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=6)
        self._legend(ax, "upper left")

    def _draw_flop_counter_mode(self, ax: Axes) -> None:
        t = self.table
        families = list(FAMILY_COLORS)
        phases = list(PHASE_MARKERS)
        for row in t.itertuples():
            y = families.index(row.family) + 0.13 * (phases.index(row.phase) - 2)
            ax.plot(100 * row.fcm_rel_error, y, PHASE_MARKERS[row.phase], ms=3.2, mfc="none",
                    mew=0.8, color=FAMILY_COLORS[row.family], zorder=3)
        ax.axvline(0, color="0.75", lw=0.6, zorder=0)
        ax.set_yticks(range(len(families)), families, fontsize=6)
        ax.set_ylim(len(families) - 0.5, -0.5)
        ax.set_xlabel("FlopCounterMode − ground truth (% of the truth)")
        ax.set_ylabel("op family")
        h = self.headline
        if h["fcm_worst_case"]:
            family = t.loc[t["case"] == h["fcm_worst_case"], "family"].iloc[0]
            ax.annotate(f"{h['fcm_worst_case']}, {h['fcm_worst_phase']}:\n"
                        f"{100 * h['fcm_worst_products_rel_error']:+.0f} % of its products",
                        xy=(100 * h["fcm_worst_rel_error"], families.index(family)),
                        xytext=(0.97, 0.35), textcoords="axes fraction", ha="right",
                        fontsize=5.5, arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4"})
        ax.text(0.97, 0.06, f"not counted at all: {h['fcm_uncounted_rows_count']} of "
                f"{h['rows_count']} checks (−100 %)", transform=ax.transAxes, ha="right",
                va="bottom", fontsize=5.5)


def _worst(counted: pd.DataFrame) -> dict[str, Any]:
    """Where FlopCounterMode's products are furthest from the truth's (empty: nowhere)."""
    if counted.empty:
        return {"fcm_worst_case": "", "fcm_worst_phase": "",
                "fcm_worst_products_rel_error": 0.0, "fcm_worst_products_factor": 1.0,
                "fcm_worst_rel_error": 0.0,
                "fcm_min_rel_error_where_counted": 0.0}
    worst = counted.loc[counted["fcm_products_rel_error"].abs().idxmax()]
    return {"fcm_worst_case": str(worst["case"]), "fcm_worst_phase": str(worst["phase"]),
            "fcm_worst_products_rel_error": float(worst["fcm_products_rel_error"]),
            "fcm_worst_products_factor": float(worst["fcm_products_rel_error"]) + 1.0,
            "fcm_worst_rel_error": float(worst["fcm_rel_error"]),
            "fcm_min_rel_error_where_counted": float(counted["fcm_rel_error"].min())}


def headline_numbers(table: pd.DataFrame) -> dict[str, Any]:
    """The headline: library and FlopCounterMode against the ground truth, worst cases named."""
    lib_bad = table[table["library_flop"] != table["truth_flop"]]
    counted = table[table["fcm_flop"] > 0]
    exact = table[table["fcm_flop"] == table["truth_flop"]]
    products_exact = counted[counted["fcm_flop"] == counted["truth_mac_flop"]]
    over = counted[counted["fcm_flop"] > counted["truth_mac_flop"]]
    uncounted = table[(table["fcm_flop"] == 0) & (table["truth_flop"] > 0)]
    unlisted = uncounted[uncounted["truth_mac_flop"] > 0]
    under = counted[counted["fcm_flop"] < counted["truth_flop"]]
    return {
        "cases_count": int(table["case"].nunique()),
        "rows_count": len(table),
        "library_max_abs_rel_error": float(table["library_rel_error"].abs().max()),
        "library_rows_exact_count": int((table["library_flop"] == table["truth_flop"]).sum()),
        "library_rows_differing": [f"{r.case} / {r.phase}" for r in lib_bad.itertuples()],
        "library_rows_differing_count": len(lib_bad),
        "fcm_rows_exact_count": len(exact),
        "fcm_rows_products_exact_count": len(products_exact),
        "fcm_uncounted_rows_count": len(uncounted),
        "fcm_unlisted_ops": sorted({op for ops in unlisted["aten_ops"]
                                    for op in ops.split(", ") if op}),
        "fcm_unlisted_rows_count": len(unlisted),
        "fcm_element_only_rows_count": len(uncounted) - len(unlisted),
        "fcm_overcounted_rows": [f"{r.case} / {r.phase}" for r in over.itertuples()],
        "fcm_overcounted_rows_count": len(over),
        **_worst(counted),
        "fcm_undercounted_where_counted_rows": [f"{r.case} / {r.phase}"
                                                for r in under.itertuples()],
        "fcm_rules_reproduction_max_abs_rel_diff": float(
            table["fcm_rules_rel_error"].abs().max()),
    }


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers."""
    h = headline
    unlisted, element_only = h["fcm_unlisted_rows_count"], h["fcm_element_only_rows_count"]
    kernels = ", ".join(op.removeprefix("aten.") for op in h["fcm_unlisted_ops"]
                        if not op.endswith("_backward")) or "none"
    worst = (f"counts the products of {h['fcm_worst_case']}'s {h['fcm_worst_phase']} "
             f"{h['fcm_worst_products_factor']:.3g} times over, "
             if h["fcm_worst_products_rel_error"] > 0 else "")
    n_over, miss_pct = h["fcm_overcounted_rows_count"], -100 * h["fcm_min_rel_error_where_counted"]
    over = f"overcounts {n_over} checks in all, " if n_over else ""
    miss = (f"misses up to {miss_pct:.2g} % where it counts products but not the element "
            f"operations beside them, and " if miss_pct > 0 else "")
    lib = ("equals it exactly on every one" if h["library_max_abs_rel_error"] == 0 else
           f"differs from it by up to {100 * h['library_max_abs_rel_error']:.2g} % "
           f"(on {h['library_rows_differing_count']})")
    return (f"Against a ground truth that computes each op by explicit loops and counts what "
            f"it does ({h['rows_count']} forward and gradient checks on {h['cases_count']} "
            f"small modules: convolutions of every kind, matrix products, attention, pooling, "
            f"normalisation, recurrent layers), the library's FLOP count {lib}; "
            f"FlopCounterMode {worst}{over}{miss}counts nothing on "
            f"{h['fcm_uncounted_rows_count']} ({element_only} of element operations alone, "
            f"{unlisted} of kernels it does not list: {kernels}).")


def _verdicts(table: pd.DataFrame) -> str:
    """FlopCounterMode's verdicts, each with the checks it applies to."""
    parts = []
    for verdict, rows in table.groupby("fcm_verdict", sort=True):
        if verdict == "exact":
            parts.append(f"exact on {len(rows)} checks")
            continue
        checks = [f"{r.case} {r.phase}" for r in rows.itertuples()]
        parts.append(f"{verdict} on {len(rows)}: " + ", ".join(checks))
    return "; ".join(parts)


def _notes(table: pd.DataFrame, heavy: pd.DataFrame | None) -> list[str]:
    notes = [
        f"FLOP convention: {FLOP_CONVENTION}. Ground truth: MACs of a dense implementation "
        "(an accumulator starts at the bias or at 0, so a bias costs no add; products with "
        "padding zeros count; a transposed convolution is GEMM + col2im, every input value "
        "times every tap), element operations by their definition (a sum of k values k adds, "
        "a maximum k comparisons, a reciprocal square root one root).",
        "Attention: the dense algorithm; with a causal mask the masked products count (the "
        "CPU flash kernel skips blocks above the diagonal); per score a scaling multiply and "
        "the softmax's comparison, subtract, exp, add and division; the fused op's "
        "log-sum-exp a log and an add per row; its backward recomputes the probabilities "
        "(five products).",
        "Each gradient is counted apart by making only that tensor require a gradient; "
        "'all grads' where one kernel computes every gradient (fused attention, LSTM).",
        f"FlopCounterMode (torch {torch.__version__.split('+')[0]}) against the truth: "
        f"{_verdicts(table)}.",
        "FlopCounterMode's rules, reproduced by the library (column fcm_rules_flop), equal "
        "FlopCounterMode's counts — a check of the reproduction, not of either count.",
    ]
    if heavy is not None:
        worst = float(heavy["library_rel_error"].abs().max())
        notes.append(f"Full run: with division and root 4, exp/log/tanh 20 FLOP (ScalarOpCosts) "
                     f"the library's largest |relative difference| from the truth is "
                     f"{worst:.2g}.")
    return notes


def run(*, quick: bool = True, seed: int = 0,
        cases: Sequence[str] | None = None) -> FlopCountCheckResult:
    """Count every case of the ground-truth zoo three ways, forward and each gradient.

    Parameters
    ----------
    quick : bool
        The zoo at 1 FLOP per scalar operation (seconds); full: again at heavy prices
        (:data:`HEAVY_COSTS`).
    seed : int
        Seed of weights and inputs (counts do not depend on it; the value checks run on it).
    cases : sequence of str, optional
        Keys of the zoo's cases to run (default: all); an unknown key raises ``ValueError``.
    """
    table = ground_truth_table(cases=cases, seed=seed)
    heavy = None if quick else ground_truth_table(cases=cases, seed=seed, costs=HEAVY_COSTS)
    headline = headline_numbers(table)
    if heavy is not None:
        headline["library_max_abs_rel_error_heavy_costs"] = float(
            heavy["library_rel_error"].abs().max())
    return FlopCountCheckResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline,
        notes=_notes(table, heavy), params={"quick": quick, "cases": sorted(set(table["case"]))},
        table=table)


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=62)
