"""estimate-sensitivity: which factor moves each brain-compute estimate most (tornado).

Each factor of each estimate is moved alone to the two ends of its cited range, the others
held at their central values, and the estimate is read as a multiple of its central value.
For Dettmers (2015) the firing rate the rebuild borrows from the Kurzweil-style model
(50–1000 Hz around 200 Hz) moves the estimate most, then the Purkinje count (the post's
10⁸ against 1.5–2.6×10⁷ in the secondary literature) and T, which enters squared. The
tornado is checked against the partial derivatives: for a factor the formula holds as a
power law, the swing equals the exponent times the decades of its range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from neurocomp_models.brain_estimates import ALL_ESTIMATES, DISTRIBUTION_NOTE

from neurocomp.accounting import FLOP_CONVENTION, monte_carlo
from neurocomp.accounting.estimates import (
    EstimateParameters,
    elasticities,
    method_rng,
    select,
    tornado,
)
from neurocomp.analysis import Analysis
from neurocomp.plotting import PALETTE, log_ticks
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "estimate-sensitivity"
CLAIM = ("Each factor of each brain-compute estimate moved alone across its cited range "
         "(tornado), for Dettmers (2015) the firing rate, the Purkinje count and T; the "
         "swings against the formulas' partial derivatives.")
#: The Dettmers (2015) factors the claim names, in its order, with their names in words.
DETTMERS_CLAIM_FACTORS = {"rate_hz": "firing rate", "purkinje_count": "Purkinje count",
                          "time_steps": "number of time steps T"}

LOW_COLOR = PALETTE[0]
HIGH_COLOR = PALETTE[4]
DETTMERS_COLOR = PALETTE[1]
#: Agreement required between a tornado swing and exponent × decades (round-off, finite
#: differences with a 1e-4 step: error ~1e-8 decades).
POWER_LAW_TOL = 1e-6


def _value_text(x: float, unit: str) -> str:
    """Compact value label: ``1000 Hz``, ``2.4``, ``1.5e7``, ``9.42e10``."""
    if 1e-3 <= abs(x) < 1e5:
        text = f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
    else:
        mant, exp = f"{x:.3g}".split("e")
        text = f"{mant}e{int(exp)}"
    return text if unit in ("1", "steps") else f"{text} {unit}"


def power_law_check(params: EstimateParameters, bars: pd.DataFrame) -> pd.DataFrame:
    """Tornado swing against exponent × decades, for factors the formula holds as a power law.

    A factor counts as a power law when its elasticity ∂ln F/∂ln x is the same (within
    :data:`POWER_LAW_TOL`) at both ends of its range and at the centre.
    """
    central = elasticities(params)
    rows = []
    for _, b in bars.iterrows():
        k = b["factor"]
        e_lo = elasticities(params, at={k: b["low"]})[k]
        e_hi = elasticities(params, at={k: b["high"]})[k]
        power_law = max(abs(e_lo - central[k]), abs(e_hi - central[k])) < POWER_LAW_TOL
        predicted = abs(central[k] * math.log10(b["high"] / b["low"]))
        rows.append({"estimate": params.name, "factor": k, "elasticity": central[k],
                     "power_law": power_law, "swing_decades": b["swing_decades"],
                     "exponent_times_decades": predicted,
                     "abs_difference_decades": abs(b["swing_decades"] - predicted)})
    return pd.DataFrame(rows)


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run` (the Dettmers swings and exponents, the largest-swing
        factor, and the power-law check).

    Returns
    -------
    str
        One sentence; where the run contradicts the expected shape (another factor moves
        the rebuild most, a swing off exponent × decades) it says so.
    """
    check = headline["max_abs_error_tornado_vs_partial_derivative_decades"]
    n = headline["power_law_factors_checked_count"]
    tail = (f"the swings match the formulas' partial derivatives (exponent × decades of the "
            f"range) for all {n:.0f} power-law factors, to {check:.0e} decades"
            if check < POWER_LAW_TOL else
            f"the swings miss the formulas' partial derivatives (exponent × decades of the "
            f"range) by up to {check:.1e} decades over {n:.0f} power-law factors")
    if "dettmers_2015_rate_hz_swing_decades" not in headline:
        return tail[0].upper() + tail[1:] + "."
    labels = {k: f.label for k, f in ALL_ESTIMATES["dettmers_2015"].factors().items()}
    labels.update(DETTMERS_CLAIM_FACTORS)
    names = list(DETTMERS_CLAIM_FACTORS)
    swings = [headline[f"dettmers_2015_{k}_swing_decades"] for k in names]
    powers = [headline[f"dettmers_2015_{k}_elasticity"] for k in names]
    top = headline["dettmers_2015_largest_swing_factor_name"]
    most = (f"the {labels[top]} most of all its factors" if top in names else
            f"though the {labels[top]} moves it most "
            f"({headline['dettmers_2015_largest_swing_decades']:.1f})")
    return (f"Moved one at a time across its cited range, the "
            f"{', the '.join(labels[k] for k in names[:-1])} and the "
            f"{labels[names[-1]]} shift the Dettmers (2015) rebuild by "
            f"{', '.join(f'{x:.1f}' for x in swings[:-1])} and {swings[-1]:.1f} orders of "
            f"magnitude (exponents {', '.join(f'{e:.3g}' for e in powers[:-1])} and "
            f"{powers[-1]:.3g} in its formula), {most}; {tail}.")


@dataclass(kw_only=True)
class SensitivityResult(Result):
    """Tornado bars of every estimate, the power-law check and the fixed factors."""

    bars: pd.DataFrame
    check: pd.DataFrame
    spread: pd.DataFrame
    labels: dict[str, str]

    layout = (1, 1)
    row_height_in = 3.9

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"tornado": self.bars, "power_law_check": self.check,
                             "monte_carlo_spread": self.spread})

    def _draw(self, axes: Sequence[Axes]) -> None:
        ax = axes[0]
        y, ticks, tick_labels, header_rows = 0, [], [], []
        for name, group in self.bars.groupby("estimate", sort=False):
            header_rows.append((y, name))
            ticks.append(y)
            tick_labels.append(self.labels[name])
            y += 1
            for _, b in group.iterrows():
                central = b["central_flop_per_s"]
                r_lo = b["flop_per_s_at_low"] / central
                r_hi = b["flop_per_s_at_high"] / central
                for r, color, x in ((r_lo, LOW_COLOR, b["low"]), (r_hi, HIGH_COLOR, b["high"])):
                    ax.barh(y, r - 1, left=1, height=0.72, color=color, lw=0)
                    away = r >= 1
                    ax.text(r * (1.12 if away else 1 / 1.12), y, _value_text(x, b["unit"]),
                            ha="left" if away else "right", va="center", fontsize=4.8,
                            color="0.25").set_in_layout(False)
                ticks.append(y)
                tick_labels.append(b["label"])
                y += 1
            y += 0.35
        ax.axvline(1.0, color="0.2", lw=0.6)
        ax.set_yticks(ticks, tick_labels)
        header_ys = {h for h, _ in header_rows}
        for tick, pos in zip(ax.get_yticklabels(), ticks, strict=True):
            if pos in header_ys:
                name = next(n for h, n in header_rows if h == pos)
                tick.set_fontweight("bold")
                tick.set_color(DETTMERS_COLOR if name == "dettmers_2015" else "black")
            else:
                tick.set_fontsize(5.8)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(y - 0.6, -0.8)
        from matplotlib.patches import Patch
        from matplotlib.ticker import FuncFormatter

        log_ticks(ax, [0.01, 0.1, 1, 10])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlim(1.5e-3, 60)
        ax.set_xlabel("estimate ÷ central estimate")
        ax.set_ylabel("estimate and factor")
        ax.figure.legend(handles=[Patch(color=LOW_COLOR, label="factor at low end of range"),
                                  Patch(color=HIGH_COLOR, label="factor at high end of range")],
                         loc="outside upper center", fontsize=5.5, ncols=2, handlelength=1.2,
                         title="one factor moved, others central", title_fontsize=5.5)


def run(*, quick: bool = True, seed: int = 0,
        methods: Sequence[str] | None = None) -> SensitivityResult:
    """Run the analysis (``quick``: 20,000 Monte-Carlo draws for the spread column).

    Parameters
    ----------
    quick : bool
        Fewer Monte-Carlo draws (the tornado itself is deterministic).
    seed : int
        Seed of the Monte-Carlo draws.
    methods : sequence of str, optional
        Estimate keys (default: all in ``neurocomp_models.brain_estimates.ALL_ESTIMATES``).
    """
    n_samples = 20_000 if quick else 400_000
    chosen = select(ALL_ESTIMATES, methods)
    bars, checks, spread, headline, no_range = [], [], [], {}, []
    for name, params in chosen.items():
        t = tornado(params)
        mc = monte_carlo(params, n_samples=n_samples, rng=method_rng(seed, name))
        p05, p95 = mc.quantile([0.05, 0.95])
        spread.append({"estimate": name, "mc_p05_flop_per_s": p05, "mc_p95_flop_per_s": p95,
                       "mc_p95_over_p05": p95 / p05, "fixed_factors": ", ".join(t.fixed)})
        if t.bars.empty:
            no_range.append(params.label)
            continue
        bars.append(t.bars.assign(estimate=name, central_flop_per_s=t.central_flop_per_s))
        checks.append(power_law_check(params, t.bars))
        top = t.bars.iloc[0]
        headline[f"{name}_largest_swing_decades"] = float(top["swing_decades"])
        headline[f"{name}_largest_swing_factor_name"] = str(top["factor"])
        headline[f"{name}_mc_p95_over_p05_ratio"] = float(p95 / p05)
    bar_frame = pd.concat(bars, ignore_index=True)
    check = pd.concat(checks, ignore_index=True)
    power = check[check["power_law"]]
    headline["power_law_factors_checked_count"] = len(power)
    headline["max_abs_error_tornado_vs_partial_derivative_decades"] = float(
        power["abs_difference_decades"].max()) if len(power) else np.nan
    if "dettmers_2015" in chosen:
        d = bar_frame[bar_frame["estimate"] == "dettmers_2015"].set_index("factor")
        e = check[check["estimate"] == "dettmers_2015"].set_index("factor")["elasticity"]
        for k in DETTMERS_CLAIM_FACTORS:
            headline[f"dettmers_2015_{k}_swing_decades"] = float(d.loc[k, "swing_decades"])
        for k in DETTMERS_CLAIM_FACTORS:
            headline[f"dettmers_2015_{k}_elasticity"] = float(e[k])
    notes = [
        f"FLOP convention: {FLOP_CONVENTION}.",
        "Tornado: one factor at a time at the low or high end of its cited range, every "
        "other factor at its central value; bar lengths are the estimate divided by its "
        "central value; the numbers at the bar ends are the factor's values there.",
        f"Monte-Carlo spread column: {n_samples} draws, ranged factors {DISTRIBUTION_NOTE}.",
        "Power-law check: the swing equals |∂ln F/∂ln x| × decades of the range for "
        f"{len(power)} of {len(check)} factors (the others enter through a sum).",
    ]
    if no_range:
        notes.append(f"No stated ranges, so no bars: {', '.join(no_range)}.")
    return SensitivityResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"n_samples": n_samples, "methods": list(chosen)},
        bars=bar_frame, check=check, spread=pd.DataFrame(spread),
        labels={k: p.label for k, p in chosen.items()})


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=61)
