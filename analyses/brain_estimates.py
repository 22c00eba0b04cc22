"""brain-estimates: every published brain-compute estimate rebuilt from its cited inputs.

Dettmers (2015) puts the brain at ≥ 1.075×10²¹ FLOPS, far above the other published
estimates: Moravec's retina scaling (1998), Kurzweil's connections × 200 Hz (1999), and the
same model with the post's own regional numbers, Sandberg & Bostrom's spiking-network level
(2008), AI Impacts' traversed edges per second (2015) and Carlsmith's mechanistic range
(2020). Each is rebuilt here as a pure function of its cited factors
(``neurocomp_models.brain_estimates``), set beside its published value, and given a Monte-Carlo
interval over its factors' stated ranges. The second panel splits the Dettmers rebuild into
its terms (the Purkinje dendritic convolution carries nearly all of it); part of the
published value stays unexplained, because the post's formula image is lost.

The rebuild rests on two choices the post does not make for it: the firing rate (200 Hz,
which the post gives for the Kurzweil-style model it rejects, where it states 50–1000 Hz
for real neurons) and the FLOPs per multiply-add (2, this library's convention; the post
does not say). The third panel and :func:`dettmers_choice_grid` show the rebuild under
each: the post's rates × 1 or 2 FLOP per multiply-add. The claim names both choices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from neurocomp_models.brain_estimates import (
    ALL_ESTIMATES,
    DETTMERS_2015,
    DETTMERS_2015_STATED_UNUSED,
    DISTRIBUTION_NOTE,
    LITERATURE_ESTIMATES,
    SANDBERG_BOSTROM_2008_LEVELS,
)

from neurocomp.accounting import FLOP_CONVENTION, estimate, monte_carlo
from neurocomp.accounting.brain import DettmersParameters, dettmers_decomposition
from neurocomp.accounting.estimates import input_range, method_rng, relative_error, select
from neurocomp.analysis import Analysis
from neurocomp.plotting import PALETTE
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "brain-estimates"
CLAIM = ("The published brain-compute estimates rebuilt from their cited inputs, beside "
         "Dettmers' (2015) lower bound and its rebuild under each choice of firing rate and "
         "FLOPs per multiply-add.")

#: FLOPs per multiply-add the Dettmers rebuild is shown at: a multiply-add counted as one
#: operation (a fused MAC) and as two (this library's convention). The post states neither.
FLOP_PER_MAC_READINGS = (1.0, 2.0)

#: Highlighted threshold: the post's "at least 10^21 operations per second".
DETTMERS_THRESHOLD_FLOP_PER_S = 1e21
#: Sandberg & Bostrom levels marked on the axis (the comparison in
#: docs/references.md#seed-brain-vs-dl-4 (item 20) names 4, 5 and 6).
MARKED_LEVELS = (3, 4, 5, 6)
#: Horizontal extent of the main panel, FLOP/s.
X_LIMITS_FLOP_PER_S = (1e11, 1e26)
DETTMERS_COLOR = PALETTE[1]
LITERATURE_COLOR = PALETTE[0]
BOTTOM_UP_COLOR = PALETTE[2]


def product_matches(numbers: Mapping[str, float], target: float, *,
                    rel_tol: float = 1e-9) -> list[tuple[str, ...]]:
    """Every non-empty subset of ``numbers`` whose product equals ``target``.

    Used to ask whether the unexplained part of the Dettmers estimate is a product of the
    post's stated numbers, and how many different ways it could be.
    """
    names = list(numbers)
    logs = np.log(np.array([numbers[k] for k in names], dtype=float))
    k = len(names)
    masks = ((np.arange(1, 2**k)[:, None] >> np.arange(k)) & 1).astype(bool)
    hit = np.abs(masks @ logs - math.log(target)) < rel_tol
    return [tuple(n for n, m in zip(names, row, strict=True) if m) for row in masks[hit]]


def remainder_search(published_flop_per_s: float, purkinje_flop_per_s: float,
                     granule_flop_per_s: float) -> pd.DataFrame:
    """Subsets of the post's stated numbers whose product equals the unexplained parts."""
    numbers = {k: f.value for k, f in DETTMERS_2015.factors().items()}
    numbers["time_steps_again"] = DETTMERS_2015.time_steps.value
    numbers.update({k: c.value for k, c in DETTMERS_2015_STATED_UNUSED.items()})
    targets = {
        "published − Purkinje term": published_flop_per_s - purkinje_flop_per_s,
        "published − Purkinje − granule terms": (published_flop_per_s - purkinje_flop_per_s
                                                 - granule_flop_per_s),
    }
    rows = []
    for label, target in targets.items():
        matches = product_matches(numbers, target)
        structured = [m for m in matches
                      if {"rate_hz", "flop_per_mac"} <= set(m)
                      and ({"granule_count", "purkinje_count"} & set(m))]
        rows.append({"target": label, "target_flop_per_s": target,
                     "subsets_searched": 2 ** len(numbers) - 1, "matches": len(matches),
                     "matches_with_count_rate_and_flop_per_mac": len(structured),
                     "example": " × ".join(structured[0]) if structured else ""})
    return pd.DataFrame(rows)


def dettmers_choice_grid(params: DettmersParameters = DETTMERS_2015) -> pd.DataFrame:
    """The Dettmers rebuild at every firing rate the post gives × 1 or 2 FLOP per MAC.

    The rates are the rebuild's own (``params.rate_hz.value``, the 200 Hz of the
    Kurzweil-style model the post describes and rejects) and the two ends of the post's
    "50–1000 times per second" (the factor's cited range); the FLOPs per multiply-add are
    :data:`FLOP_PER_MAC_READINGS`. Every other factor stays at its central value.

    Returns
    -------
    pandas.DataFrame
        One row per choice: ``rate_hz``, ``rate_source`` (and a short ``rate_label``),
        ``flop_per_mac``, ``flop_per_s``, ``vs_published_rel`` and ``rebuild_choice`` (True
        for the pair the rebuild uses).
    """
    rate = params.rate_hz
    rates = {rate.low: ("the low end of the post's range", "post's low end"),
             rate.value: ("the Kurzweil-style model the post rejects", "Kurzweil-style"),
             rate.high: ("the high end of the post's range", "post's high end")}
    central = params.central_values()
    published = params.published.flop_per_s if params.published is not None else np.nan
    rows = []
    for r, (source, label) in rates.items():
        for k in FLOP_PER_MAC_READINGS:
            flop = float(params.evaluate({**central, "rate_hz": r, "flop_per_mac": k}))
            rows.append({"rate_hz": float(r), "rate_source": source, "rate_label": label,
                         "flop_per_mac": k, "flop_per_s": flop,
                         "vs_published_rel": relative_error(flop, published),
                         "rebuild_choice": bool(r == central["rate_hz"]
                                                and k == central["flop_per_mac"])})
    return pd.DataFrame(rows)


def _sci(x: float, digits: int) -> str:
    """``x`` in scientific notation with ``digits`` significant digits: ``1.0e21``."""
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _key(x: float) -> str:
    """A number for a headline key: ``200`` → ``"200"``, ``0.5`` → ``"0p5"``."""
    return f"{x:g}".replace(".", "p")


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`: the literature's span, the published Dettmers value,
        the rebuild with its rate and FLOPs per multiply-add, and the choice grid.

    Returns
    -------
    str
        One sentence; it names the rebuild's two choices beside its number, and says so
        where the run contradicts the expected shape (Dettmers not above the others, the
        rebuild above the published value).
    """
    pub = headline["dettmers_2015_published_flop_per_s"]
    parts = []
    if "literature_central_max_flop_per_s" in headline:
        lo, hi = (headline["literature_central_min_flop_per_s"],
                  headline["literature_central_max_flop_per_s"])
        gap = headline["dettmers_2015_published_over_literature_max_decades"]
        parts.append(f"Rebuilt from their cited inputs, the other published brain-compute "
                     f"estimates span {_sci(lo, 1)}–{_sci(hi, 1)} FLOP/s, while Dettmers' "
                     f"(2015) lower bound of {_sci(pub, 4)} sits "
                     + (f"{gap:.1f} orders of magnitude above the highest" if gap > 0 else
                        f"inside that span, not above it ({-gap:.1f} orders of magnitude "
                        f"below the highest)"))
    else:
        parts.append(f"Dettmers' (2015) lower bound is {_sci(pub, 4)} FLOP/s")
    rate = headline["dettmers_2015_rebuild_rate_hz"]
    k = headline["dettmers_2015_rebuild_flop_per_mac"]
    rebuilt = headline["dettmers_2015_rebuild_flop_per_s"]
    left = headline["dettmers_2015_unexplained_fraction_of_published"]
    parts.append(f"the reference notes' probe of its stated factors, at {rate:.0f} Hz (the rate "
                 f"of the Kurzweil-style model the post rejects) and {k:.0f} FLOP per multiply-add "
                 f"(which the post does not state), gives {_sci(rebuilt, 2)} and "
                 + (f"leaves {100 * left:.0f} % of it unexplained" if left > 0 else
                    f"overshoots it by {100 * -left:.0f} %"))
    other = [x for x in FLOP_PER_MAC_READINGS if x != k]
    lo_r, hi_r = (headline["dettmers_2015_stated_rate_low_hz"],
                  headline["dettmers_2015_stated_rate_high_hz"])
    grid = [v for key, v in headline.items()
            if key.startswith("dettmers_2015_rebuild_at_")]
    tail = []
    for x in other:
        at = headline[f"dettmers_2015_rebuild_at_{_key(rate)}_hz_{_key(x)}_flop_per_mac_flop_per_s"]
        tail.append(f"at {x:.0f} FLOP per multiply-add it gives {_sci(at, 2)}")
    tail.append(f"over the post's {lo_r:.0f}–{hi_r:.0f} Hz and both readings it spans "
                f"{_sci(min(grid), 2)}–{_sci(max(grid), 2)}")
    match = [(x, headline[f"dettmers_2015_rate_matching_published_at_{_key(x)}_flop_per_mac_hz"])
             for x in FLOP_PER_MAC_READINGS]
    tail.append("the published value needs " + " or ".join(
        f"{r:.0f} Hz at {x:.0f} FLOP per multiply-add" for x, r in match))
    return "; ".join(parts) + "; " + "; ".join(tail) + "."


@dataclass(kw_only=True)
class BrainEstimatesResult(Result):
    """Central values, ranges and published values of every estimate, and the Dettmers split."""

    table: pd.DataFrame
    decomposition: pd.DataFrame
    levels: pd.DataFrame
    remainder: pd.DataFrame
    choices: pd.DataFrame

    layout = (("estimates",),) * 5 + (("dettmers",),) * 2 + (("choices",),) * 3
    row_height_in = 0.45

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"estimates": self.table, "dettmers_decomposition":
                             self.decomposition, "sandberg_bostrom_levels": self.levels,
                             "dettmers_remainder_search": self.remainder,
                             "dettmers_choices": self.choices})

    def _draw(self, axes: Sequence[Axes]) -> None:
        self._draw_estimates(axes[0])
        if len(axes) > 1:
            self._draw_decomposition(axes[1])
        if len(axes) > 2:
            self._draw_choices(axes[2])

    def _draw_estimates(self, ax: Axes) -> None:
        from matplotlib.lines import Line2D

        t = self.table.sort_values("central_flop_per_s", ascending=False, kind="stable")
        t = t.reset_index(drop=True)
        ax.axvspan(DETTMERS_THRESHOLD_FLOP_PER_S, X_LIMITS_FLOP_PER_S[1], color=DETTMERS_COLOR,
                   alpha=0.10, lw=0, zorder=0)
        ax.axvline(DETTMERS_THRESHOLD_FLOP_PER_S, color=DETTMERS_COLOR, lw=0.7, ls="--",
                   zorder=1)
        for y, row in t.iterrows():
            color = _color(row["name"])
            ax.plot([row["input_low_flop_per_s"], row["input_high_flop_per_s"]], [y, y],
                    color=color, lw=0.8, solid_capstyle="butt", zorder=2)
            ax.plot([row["mc_p05_flop_per_s"], row["mc_p95_flop_per_s"]], [y, y],
                    color=color, lw=4.0, alpha=0.45, solid_capstyle="butt", zorder=3)
            ax.plot(row["central_flop_per_s"], y, "o", color=color, ms=4, zorder=5,
                    mec="white", mew=0.5)
            if np.isfinite(row["published_flop_per_s"]):
                ax.plot(row["published_flop_per_s"], y - 0.3, "v", color="black", ms=3.2,
                        mfc="none", mew=0.7, zorder=6)
            if np.isfinite(row["published_low_flop_per_s"]):
                for x in (row["published_low_flop_per_s"], row["published_high_flop_per_s"]):
                    ax.plot([x, x], [y - 0.28, y + 0.28], color="black", lw=0.8, zorder=6)
            if row["name"] == "sandberg_bostrom_2008":
                for _, lv in self.levels[self.levels["level"].isin(MARKED_LEVELS)].iterrows():
                    if lv["level"] != 4:
                        ax.plot([lv["flop_per_s"]] * 2, [y - 0.16, y + 0.16], color=color,
                                lw=0.9, zorder=4)
                    ax.text(lv["flop_per_s"], y + 0.24, f"L{lv['level']}", ha="center",
                            va="top", fontsize=5, color=color).set_in_layout(False)
        ax.set_yticks(range(len(t)), t["label"])
        for tick, name in zip(ax.get_yticklabels(), t["name"], strict=True):
            tick.set_color(_color(name))
            if name == "dettmers_2015":
                tick.set_fontweight("bold")
        ax.set_ylim(len(t) - 0.5, -0.7)
        ax.set_xscale("log")
        ax.set_xlim(*X_LIMITS_FLOP_PER_S)
        ax.set_xticks([10.0**k for k in range(12, 27, 3)])
        ax.set_xlabel("brain compute (FLOP/s)")
        ax.set_ylabel("estimate")
        # inside the shaded band, right of its dashed edge (one short word a line)
        ax.text(DETTMERS_THRESHOLD_FLOP_PER_S * 2.5, len(t) - 0.75, "≥ 10²¹\nFLOP/s:\n"
                "Dettmers'\nlower\nbound", color=DETTMERS_COLOR, fontsize=5.5, va="bottom",
                ha="left", linespacing=1.05).set_in_layout(False)
        handles = [
            Line2D([], [], color="0.3", marker="o", ls="none", ms=4, mec="white",
                   label="rebuilt from inputs"),
            Line2D([], [], color="0.3", lw=4, alpha=0.45, label="Monte-Carlo 5–95 %"),
            Line2D([], [], color="0.3", lw=0.8, label="range of inputs"),
            Line2D([], [], color="black", marker="v", mfc="none", ls="none", ms=3.2,
                   label="published value"),
            Line2D([], [], color="black", marker="|", ls="none", ms=5,
                   label="published range"),
        ]
        ax.figure.legend(handles=handles, loc="outside upper center", fontsize=5.5,
                         ncols=3, handlelength=1.5, columnspacing=1.0,
                         title="FLOP convention: 1 multiply-add = 2 FLOP",
                         title_fontsize=5.5)

    def _draw_decomposition(self, ax: Axes) -> None:
        d = self.decomposition.set_index("part")["flop_per_s"] / 1e21
        purk = d["purkinje dendritic convolution"]
        gran = d["granule dendritic convolution"]
        rest = d["unexplained remainder"]
        pub = d["published"]
        ax.barh(0, purk, color=LITERATURE_COLOR, alpha=0.85, height=0.8)
        ax.barh(0, gran, left=purk, color=BOTTOM_UP_COLOR, height=0.8)
        ax.barh(0, rest, left=purk + gran, color="white", edgecolor=DETTMERS_COLOR,
                hatch="//////", lw=0.6, height=0.8)
        ax.plot([pub, pub], [-0.45, 0.62], color="black", lw=0.9)
        texts = [
            ax.text(purk / 2, 0, f"Purkinje term {purk:.3f}",
                    ha="center", va="center", fontsize=5.2, color="white"),
            ax.text(pub, 0.66, f"published {pub:.3f}", ha="right", va="bottom",
                    fontsize=5.2),
            ax.text(pub, -0.55, f"unexplained (hatched) {rest:.3f} = {rest / pub:.1%}",
                    ha="right", va="top", fontsize=5.2, color=DETTMERS_COLOR),
            ax.text(1.15, -1.2, f"granule {self._granule_formula()}\n= "
                    f"{_sci(gran * 1e21, 1)}", ha="right", va="top", fontsize=5.2,
                    color=BOTTOM_UP_COLOR),
        ]
        for text in texts:
            text.set_in_layout(False)
        ax.set_xlim(0, 1.15)
        ax.set_ylim(-2.6, 1.05)
        ax.set_yticks([])
        used = self.choices[self.choices["rebuild_choice"]].iloc[0]
        ax.set_xlabel(f"Dettmers 2015 rebuilt (10²¹ FLOP/s) at {used['rate_hz']:g} Hz\nand "
                      f"{used['flop_per_mac']:g} FLOP per multiply-add", loc="right")
        ax.set_ylabel("terms", labelpad=10)

    def _granule_formula(self) -> str:
        """The granule term's product, written from the factors (k·(I·T)·(B·D·T)·N·r)."""
        v = DETTMERS_2015.central_values()
        t = v["time_steps"]
        return (f"{v['flop_per_mac']:g}·({v['granule_inputs']:g}·{t:g})·"
                f"({v['granule_filter_branches']:g}·{v['granule_filter_dendrites']:g}·{t:g})·"
                f"{v['granule_count']:.0e}·{v['rate_hz']:g} Hz").replace("e+", "e")

    def _draw_choices(self, ax: Axes) -> None:
        """The Dettmers rebuild under each rate × FLOPs-per-MAC choice, beside the target."""
        c = self.choices.sort_values(["rate_hz", "flop_per_mac"], kind="stable")
        c = c.reset_index(drop=True)
        pub = float(self.decomposition.set_index("part").loc["published", "flop_per_s"])
        ax.axvline(pub, color="black", lw=0.8, zorder=1)
        ax.text(pub / 1.15, len(c) - 1, f"published {_sci(pub, 4)}", fontsize=5.2,
                va="center", ha="right").set_in_layout(False)  # the last row's left is free
        for y, r in c.iterrows():
            ax.plot([pub, r["flop_per_s"]], [y, y], color="0.75", lw=0.6, zorder=2)
            ax.plot(r["flop_per_s"], y, "o", ms=4.5, color=DETTMERS_COLOR, mew=0.8,
                    mfc=DETTMERS_COLOR if r["rebuild_choice"] else "white", zorder=4)
            right = r["flop_per_s"] >= pub  # the value's label on the side away from the line
            ax.text(r["flop_per_s"] * (1.35 if right else 1 / 1.35), y,
                    _sci(r["flop_per_s"], 2) + (" (the rebuild)" if r["rebuild_choice"]
                                                else ""),
                    ha="left" if right else "right", va="center",
                    fontsize=5.0).set_in_layout(False)
        ax.set_yticks(range(len(c)), [f"{r.rate_hz:g} Hz ({r.rate_label}), "
                                      f"{r.flop_per_mac:g} FLOP/MAC"
                                      for r in c.itertuples()], fontsize=5.5)
        ax.set_ylim(len(c) - 0.4, -0.6)
        ax.set_xscale("log")
        lo, hi = c["flop_per_s"].min(), c["flop_per_s"].max()
        ax.set_xlim(min(lo, pub) / 12, max(hi, pub) * 12)
        ax.set_xlabel("Dettmers 2015 rebuilt (FLOP/s) under each choice\n(the post's own "
                      "rate and FLOP per multiply-add are not stated)", loc="right")
        ax.set_ylabel("choice")


def _color(name: str) -> str:
    if name == "dettmers_2015":
        return DETTMERS_COLOR
    return BOTTOM_UP_COLOR if name.startswith("bottom_up") else LITERATURE_COLOR


def run(*, quick: bool = True, seed: int = 0,
        methods: Sequence[str] | None = None) -> BrainEstimatesResult:
    """Run the analysis (``quick``: 20,000 Monte-Carlo draws per estimate; full: 400,000).

    Parameters
    ----------
    quick : bool
        Fewer Monte-Carlo draws.
    seed : int
        Seed of the Monte-Carlo draws (one stream per estimate,
        :func:`neurocomp.accounting.estimates.uncertainty.method_rng`).
    methods : sequence of str, optional
        Estimate keys to include (default: all in
        ``neurocomp_models.brain_estimates.ALL_ESTIMATES``); an unknown key raises ``ValueError``
        listing the known ones.
    """
    n_samples = 20_000 if quick else 400_000
    from neurocomp_models.library_costs import library_bottom_up_estimates, surrogate_status

    chosen = select({**ALL_ESTIMATES, **library_bottom_up_estimates()}, methods)
    rows, headline = [], {}
    for name, params in chosen.items():
        est = estimate(params)
        draws = monte_carlo(params, n_samples=n_samples, rng=method_rng(seed, name))
        mc = draws.summary()
        central_percentile = (100.0 * float(np.mean(draws.flop_per_s < est.flop_per_s))
                              if np.ptp(draws.flop_per_s) > 0 else np.nan)  # nan: no range
        low, high = input_range(params)
        pub = params.published
        rows.append({
            "name": name, "label": params.label, "bound": est.bound,
            "central_flop_per_s": est.flop_per_s, "central_mac_per_s": est.mac_per_s,
            "mc_p05_flop_per_s": mc["p05_flop_per_s"], "mc_p50_flop_per_s":
                mc["p50_flop_per_s"], "mc_p95_flop_per_s": mc["p95_flop_per_s"],
            "central_percentile_in_mc": central_percentile,
            "input_low_flop_per_s": low, "input_high_flop_per_s": high,
            "published_flop_per_s": np.nan if pub is None or pub.flop_per_s is None
            else pub.flop_per_s,
            "published_low_flop_per_s": np.nan if pub is None or pub.low_flop_per_s is None
            else pub.low_flop_per_s,
            "published_high_flop_per_s": np.nan if pub is None or pub.high_flop_per_s is None
            else pub.high_flop_per_s,
            "published_as": "" if pub is None else pub.as_published,
            "formula": est.formula, "flop_convention": est.convention,
        })
        headline[f"{name}_flop_per_s"] = est.flop_per_s
        headline[f"{name}_mc_p05_flop_per_s"] = mc["p05_flop_per_s"]
        headline[f"{name}_mc_p95_flop_per_s"] = mc["p95_flop_per_s"]
        if pub is not None and pub.flop_per_s is not None:
            headline[f"{name}_vs_published_rel"] = relative_error(est.flop_per_s,
                                                                  pub.flop_per_s)
        if pub is not None and pub.low_flop_per_s is not None:
            headline[f"{name}_input_low_vs_published_low_rel"] = relative_error(
                low, pub.low_flop_per_s)
            headline[f"{name}_input_high_vs_published_high_rel"] = relative_error(
                high, pub.high_flop_per_s)
    table = pd.DataFrame(rows)

    dec = dettmers_decomposition(DETTMERS_2015)
    remainder = remainder_search(dec.published_flop_per_s, dec.purkinje_flop_per_s,
                                 dec.granule_flop_per_s)
    grid = dettmers_choice_grid(DETTMERS_2015)
    used = grid[grid["rebuild_choice"]].iloc[0]
    literature = table[table["name"].isin(set(LITERATURE_ESTIMATES) - {DETTMERS_2015.name})]
    if len(literature):
        top = float(literature["central_flop_per_s"].max())
        headline.update({
            "literature_central_min_flop_per_s": float(literature["central_flop_per_s"].min()),
            "literature_central_max_flop_per_s": top,
            "dettmers_2015_published_over_literature_max_decades": math.log10(
                dec.published_flop_per_s / top)})
    headline.update({
        "dettmers_2015_rebuild_flop_per_s": float(used["flop_per_s"]),
        "dettmers_2015_rebuild_rate_hz": float(used["rate_hz"]),
        "dettmers_2015_rebuild_flop_per_mac": float(used["flop_per_mac"]),
        "dettmers_2015_stated_rate_low_hz": float(DETTMERS_2015.rate_hz.low),
        "dettmers_2015_stated_rate_high_hz": float(DETTMERS_2015.rate_hz.high),
        **{f"dettmers_2015_rebuild_at_{_key(r.rate_hz)}_hz_{_key(r.flop_per_mac)}"
           f"_flop_per_mac_flop_per_s": float(r.flop_per_s) for r in grid.itertuples()},
        # the formula is linear in the rate: the rate at which each reading meets the target
        **{f"dettmers_2015_rate_matching_published_at_{_key(r.flop_per_mac)}_flop_per_mac_hz":
           float(r.rate_hz * dec.published_flop_per_s / r.flop_per_s)
           for r in grid[grid["rate_hz"] == used["rate_hz"]].itertuples()},
    })
    headline.update({
        "dettmers_2015_published_flop_per_s": dec.published_flop_per_s,
        "dettmers_2015_central_mc_percentile": float(
            table.set_index("name").loc["dettmers_2015", "central_percentile_in_mc"])
        if "dettmers_2015" in chosen else np.nan,
        "dettmers_2015_purkinje_term_flop_per_s": dec.purkinje_flop_per_s,
        "dettmers_2015_granule_term_flop_per_s": dec.granule_flop_per_s,
        "dettmers_2015_unexplained_flop_per_s": dec.unexplained_flop_per_s,
        "dettmers_2015_unexplained_fraction_of_published": dec.unexplained_fraction,
        "dettmers_2015_remainder_product_matches_count": int(remainder["matches"].iloc[0]),
        "dettmers_2015_remainder_subsets_searched_count": int(
            remainder["subsets_searched"].iloc[0]),
    })
    levels = pd.DataFrame([{"level": lv, "title": title, "flop_per_s": c.value}
                           for lv, (title, c) in SANDBERG_BOSTROM_2008_LEVELS.items()])
    r0 = remainder.iloc[0]
    notes = [
        f"FLOP convention: {FLOP_CONVENTION}. Other units were put on the FLOP/s axis at "
        "1 FLOP per Kurzweil 'calculation', per Moravec instruction and per traversed edge "
        "(AI Impacts' TEPS); each conversion is a factor of the parameter set.",
        f"Monte-Carlo: {n_samples} draws per estimate, each ranged factor {DISTRIBUTION_NOTE};"
        " factors without a stated range are held fixed (Kurzweil 1999 has none).",
        "Range of inputs: smallest and largest value over all corners of the factor ranges.",
        "Where a source's own value sits at one end of a cited range (Moravec's volume "
        "ratio, Sandberg & Bostrom's 1e15 synapses, the post's 1e8 Purkinje cells), the "
        "Monte-Carlo interval lies mostly on one side of the central value; the data table "
        "gives the central value's percentile in the draws.",
        "Dettmers (2015): the rebuild is the arithmetic probe of "
        "docs/references.md#seed-brain-vs-dl-2-4, not the "
        f"post's formula (an image, lost), at {used['rate_hz']:g} Hz (the rate the post "
        "gives for the Kurzweil-style model it rejects) and "
        f"{used['flop_per_mac']:g} FLOP per multiply-add (this library's convention; the "
        "post does not say). Under the post's other rates and "
        f"{' or '.join(f'{x:g}' for x in FLOP_PER_MAC_READINGS)} FLOP per multiply-add "
        "(the 'dettmers_choices' table, panel C): "
        + "; ".join(f"{r.rate_hz:g} Hz × {r.flop_per_mac:g} → {r.flop_per_s:.3g}"
                    for r in grid.itertuples()) + ". "
        f"Of the published {dec.published_flop_per_s:.4g}, "
        f"{dec.purkinje_flop_per_s:.4g} is the Purkinje dendritic convolution, "
        f"{dec.granule_flop_per_s:.3g} the granule one, and {dec.unexplained_flop_per_s:.4g}"
        f" ({dec.unexplained_fraction:.2%}) is unexplained.",
        f"The {r0['target_flop_per_s']:.3g} FLOP/s beyond the Purkinje term equals the "
        f"product of a subset of the post's stated numbers in {r0['matches']} of "
        f"{r0['subsets_searched']} subsets ({r0['matches_with_count_rate_and_flop_per_mac']}"
        f" of them of the form cell count × rate × FLOP per MAC × dimensions, e.g. "
        f"{r0['example']})"
        ", so the arithmetic alone cannot identify the missing term.",
        "Sandberg & Bostrom: only level 4 is rebuilt from inputs ([R]); levels 3, 5, 6 are "
        "marked at their Table 9 values ([S]); levels 7–10 (1e26–1e43) lie off the axis.",
    ]
    return BrainEstimatesResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline,
        notes=[*notes, "This library's bottom-up rows (green): the reduced L5 cell's Brian2 "
               "simulation cost for every neuron; a fitted surrogate for every neuron only "
               "if one passes the accuracy bar; DettmersNeuron layers for the post's granule "
               "and Purkinje counts, once as the post's direct sums and once as the layer "
               "computes them by FFT.", surrogate_status()[1]],
        params={"n_samples": n_samples, "methods": list(chosen)},
        table=table, decomposition=dec.to_frame(), levels=levels, remainder=remainder,
        choices=grid)


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=60)
