"""forecast: when supercomputers reach the brain estimates, from the post's inputs and the lists.

Dettmers (2015) starts from Tianhe-2's 0.58 PFLOPS on HPCG in 2015 and needs
log₂(1.075×10²¹ / 0.58×10¹⁵) = 20.8 doublings, which the post rounds to 21: at 1.8 years a
doubling that is 2015 + 37.8 = 2052.8 → 2053, at 3 years 2078; "Moore's law" gives 2037,
i.e. 22/21 = 1.05 years a doubling. This analysis reproduces those dates from the inputs,
shows what the rounding does (unrounded: 2052.5 and 2077.5), and sets them against
log-linear fits to the TOP500 number one (HPL Rmax, 1993–2025) and to the HPCG number one
(2014–2025), with every published brain estimate (``neurocomp_models.brain_estimates``, Monte-Carlo
5–95 %) on the same axis. The fab cost grows 7–10 % a year from $9 billion in 2015, as in
the post.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from neurocomp_models.brain_estimates import ALL_ESTIMATES, DETTMERS_2015
from neurocomp_models.hardware import (
    FAB_COST_GROWTH_PER_YEAR_HIGH,
    FAB_COST_GROWTH_PER_YEAR_LOW,
    FAB_COST_USD_2015,
    HPCG_NUMBER_ONE,
    POST_DOUBLING_PERIODS_Y,
    POST_START_FLOP_PER_S,
    POST_START_YEAR,
    POST_STATED_YEARS,
    TOP500_NUMBER_ONE,
)

from neurocomp.accounting import estimate, monte_carlo
from neurocomp.accounting.estimates import method_rng
from neurocomp.accounting.forecast import (
    doublings_needed,
    fab_cost_usd,
    fit_trend,
    implied_doubling_period_y,
    performance_at,
    year_reached,
)
from neurocomp.analysis import Analysis
from neurocomp.plotting import PALETTE, log_ticks, spread_apart
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "forecast"
CLAIM = ("The post's forecast from Tianhe-2 on HPCG to Dettmers' lower bound rebuilt from its "
         "inputs (doublings, rounding, stated years), beside fits to the TOP500 and HPCG "
         "number one.")
#: The post's doubling periods the claim names (keys of ``POST_DOUBLING_PERIODS_Y``).
CLAIM_PERIODS = ("trend", "pessimistic")


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`.

    Returns
    -------
    str
        One sentence; where the post's stated years do not follow from its inputs (with or
        without rounding the doublings) it says so.
    """
    d, d_post = headline["post_doublings_needed"], headline["post_doublings_rounded"]
    rows = []
    for name in CLAIM_PERIODS:
        period = headline[f"post_doubling_period_{name}_y"]
        k = _period_key(period)
        rows.append((period, headline[f"post_stated_year_doubling_{k}"],
                     headline[f"year_reached_rounded_doublings_{k}"],
                     headline[f"year_reached_doubling_{k}"]))
    stated = " and ".join(f"{s:.0f} ({p:g} y)" for p, s, _, _ in rows)
    rounded_ok = all(round(r) == s for _, s, r, _ in rows)
    exact_ok = all(round(u) == s for _, s, _, u in rows)
    if rounded_ok and not exact_ok:
        follow = f"the post's {stated} follow once it rounds them to {d_post:.0f}"
    elif exact_ok:
        follow = f"the post's {stated} follow without rounding them"
    else:
        follow = (f"the post's {stated} do not follow from them: rounded to {d_post:.0f} they "
                  f"give {' and '.join(f'{r:.1f}' for _, _, r, _ in rows)}")
    hpcg = (headline["hpcg_2014_2025_fit_doubling_period_y"],
            headline["hpcg_2014_2025_fit_first_year"],
            headline["hpcg_2014_2025_fit_year_reached_dettmers_2015"])
    trend = (f"the HPCG number one has doubled every {hpcg[0]:.1f} years since {hpcg[1]:.0f}, "
             f"which points to ~{hpcg[2]:.0f}" if np.isfinite(hpcg[2]) else
             f"the HPCG number one has doubled every {hpcg[0]:.1f} years since {hpcg[1]:.0f}, "
             f"which never reaches it")
    return (f"From Tianhe-2's {headline['post_start_flop_per_s'] / 1e15:.2f} PFLOPS on HPCG in "
            f"{headline['post_start_year']:.0f} to Dettmers' "
            f"{headline['post_target_flop_per_s']:.4g} FLOPS takes {d:.1f} doublings: "
            f"{follow}; {trend}.").replace("e+", "e")


#: Doubling periods tabulated (years); the post's 1.8 and 3 are among them.
DOUBLING_PERIODS_Y = (1.0, 1.5, 1.8, 2.0, 2.5, 3.0)
#: Fit windows of the TOP500 number-one history (inclusive years of the editions).
TOP500_WINDOWS = {"1993_2025": (1993, 2025), "1993_2015": (1993, 2015),
                  "2013_2025": (2013, 2025)}
YEAR_AXIS = (1990, 2112)
FLOP_AXIS = (1e10, 1e25)
BAND_X0 = 2102.0  # where the brain-estimate bars start, beyond the extrapolations
POST_COLOR, HPL_COLOR, HPCG_COLOR = PALETTE[7], PALETTE[0], PALETTE[1]
#: Short names for the estimate labels beside panel A.
SHORT_LABELS = {"dettmers_2015": "Dettmers", "bottom_up_tcn_beniaguev_2021": "TCN × neurons",
                "sandberg_bostrom_2008": "S & B 2008", "kurzweil_style_2015": "Kurzweil-style",
                "kurzweil_1999": "Kurzweil", "carlsmith_2020": "Carlsmith",
                "ai_impacts_2015": "AI Impacts", "moravec_1998": "Moravec"}
ESTIMATE_COLOR, DETTMERS_COLOR = PALETTE[2], PALETTE[3]


def _period_key(period_y: float) -> str:
    return f"{period_y:.2f}".rstrip("0").rstrip(".") + "y"


@dataclass(kw_only=True)
class ForecastResult(Result):
    """Lists, fits, the post's extrapolations and the brain-estimate bands."""

    history: pd.DataFrame
    fits: pd.DataFrame
    post: pd.DataFrame
    years: pd.DataFrame
    bands: pd.DataFrame
    fab: pd.DataFrame

    layout = (("timeline", "timeline"),) * 4 + (("years", "fab"),) * 2
    row_height_in = 0.62

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"history": self.history, "fits": self.fits, "post": self.post,
                             "year_reached": self.years, "brain_bands": self.bands,
                             "fab_cost": self.fab})

    def _draw(self, axes: Sequence[Axes]) -> None:
        self._draw_timeline(axes[0])
        if len(axes) > 1:
            self._draw_years(axes[1])
        if len(axes) > 2:
            self._draw_fab(axes[2])

    def _draw_timeline(self, ax: Axes) -> None:
        from matplotlib.lines import Line2D

        start, target = POST_START_FLOP_PER_S.value, DETTMERS_2015.published.flop_per_s
        ax.axvspan(BAND_X0 - 1, YEAR_AXIS[1], color="0.93", lw=0, zorder=0)
        ax.axhline(target, color=DETTMERS_COLOR, lw=0.6, ls=":", zorder=1)
        for bench, color, marker in (("HPL", HPL_COLOR, "o"), ("HPCG", HPCG_COLOR, "s")):
            h = self.history[self.history["benchmark"] == bench]
            ax.plot(h["year"], h["flop_per_s"], marker, color=color, ms=2.2 if bench == "HPL"
                    else 2.8, mfc=color if bench == "HPL" else "white", mew=0.7, zorder=4)
            fit = self.fits[self.fits["name"] == ("top500_1993_2025" if bench == "HPL"
                                                   else "hpcg_2014_2025")].iloc[0]
            xs = np.array([fit["first_year"], fit["last_year"], 2100.0])
            ys = np.exp2(fit["intercept_log2"] + fit["slope_doublings_per_y"] * xs)
            ax.plot(xs[:2], ys[:2], color=color, lw=0.8, zorder=3)
            ax.plot(xs[1:], ys[1:], color=color, lw=0.8, ls="--", zorder=3)
        styles = {"moore": (0, (1, 1)), "trend": (0, (4, 1.5)), "pessimistic": (0, (6, 2, 1, 2))}
        for _, row in self.post.iterrows():
            xs = np.linspace(POST_START_YEAR, 2100, 200)
            ys = performance_at(xs, start_year=POST_START_YEAR, start_flop_per_s=start,
                                doubling_period_y=row["doubling_period_y"])
            keep = ys <= FLOP_AXIS[1]
            ax.plot(xs[keep], ys[keep], color=POST_COLOR, lw=0.8, ls=styles[row["assumption"]],
                    zorder=2)
            ax.plot([row["post_year"]] * 2, [target / 4, target * 4], color=POST_COLOR, lw=0.8)
            ax.text(row["post_year"] - 0.8, target * 5, f"{row['post_year']:.0f}", ha="right",
                    va="bottom", fontsize=5.5)
        ax.plot(POST_START_YEAR, start, "*", color=POST_COLOR, ms=5, zorder=5)
        self._draw_bands(ax)
        ax.set_yscale("log")
        ax.set_ylim(*FLOP_AXIS)
        ax.set_yticks([10.0**k for k in range(10, 26, 3)])
        ax.set_xlim(*YEAR_AXIS)
        ax.set_xticks(range(2000, 2101, 20))
        ax.set_xlabel("year")
        ax.set_ylabel("FLOP/s")
        handles = [
            Line2D([], [], color=HPL_COLOR, marker="o", ms=2.2, lw=0.8,
                   label="TOP500 #1 (HPL) + fit"),
            Line2D([], [], color=HPCG_COLOR, marker="s", ms=2.8, mfc="white", lw=0.8,
                   label="HPCG #1 + fit"),
            *(Line2D([], [], color=POST_COLOR, lw=0.8, ls=styles[r["assumption"]],
                     label=f"post: {r['doubling_period_y']:.3g} y/doubling")
              for _, r in self.post.iterrows()),
        ]
        ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(0.9, 0.0), fontsize=5.3,
                  handlelength=2.6, borderaxespad=0.3, labelspacing=0.25)

    def _draw_bands(self, ax: Axes) -> None:
        b = self.bands.sort_values("central_flop_per_s").reset_index(drop=True)
        logs = np.log10(b["central_flop_per_s"].to_numpy())
        placed = spread_apart(logs, min_gap=0.62)
        width = (YEAR_AXIS[1] - BAND_X0) / (len(b) + 1)
        for i, row in b.iterrows():
            color = DETTMERS_COLOR if row["name"] == "dettmers_2015" else ESTIMATE_COLOR
            x = BAND_X0 + width * (0.5 + i % 4 * 0.55)
            ax.plot([x, x], [row["p05_flop_per_s"], row["p95_flop_per_s"]], color=color,
                    lw=2.0, alpha=0.5, solid_capstyle="butt", zorder=3)
            ax.plot(x, row["central_flop_per_s"], "o", color=color, ms=2.2, zorder=4)
            ax.annotate(SHORT_LABELS.get(row["name"], row["label"]),
                        xy=(x, row["central_flop_per_s"]),
                        xytext=(YEAR_AXIS[1] + 1.5, 10 ** placed[i]), textcoords="data",
                        fontsize=5.2, color=color, va="center", ha="left",
                        annotation_clip=False,
                        arrowprops={"arrowstyle": "-", "lw": 0.35, "color": color,
                                    "shrinkA": 0, "shrinkB": 1})
        ax.text((BAND_X0 + YEAR_AXIS[1]) / 2 - 0.5, FLOP_AXIS[0] * 3, "brain\nestimates",
                ha="center", va="bottom", fontsize=4.8, color="0.35")

    def _draw_years(self, ax: Axes) -> None:
        y = self.years[self.years["target"] == "dettmers_2015"]
        y = y[y["rounding"] == "none"]
        ax.fill_between(y["doubling_period_y"], y["year_p05_estimate"],
                        y["year_p95_estimate"], color=DETTMERS_COLOR, alpha=0.2, lw=0)
        ax.plot(y["doubling_period_y"], y["year"], color=DETTMERS_COLOR, lw=0.9)
        for _, row in self.post.iterrows():
            ax.plot(row["doubling_period_y"], row["post_year"], "o", color=POST_COLOR, ms=2.5,
                    mfc="white", mew=0.7, zorder=5)
        fits = self.fits.set_index("name")
        for name, color, text, side in (("hpcg_2014_2025", HPCG_COLOR, "HPCG fit", "left"),
                                        ("top500_2013_2025", HPL_COLOR, "TOP500 fit\n2013–25",
                                         "right")):
            x = fits.loc[name, "doubling_period_y"]
            ax.axvline(x, color=color, lw=0.7, ls="--")
            ax.text(x + (0.06 if side == "left" else -0.06), 0.97, text, color=color,
                    rotation=90, fontsize=4.8, ha=side, va="top",
                    transform=ax.get_xaxis_transform())
        ax.set_xlabel("years per doubling")
        target = DETTMERS_2015.published.flop_per_s
        exponent = int(np.floor(np.log10(target)))
        ax.set_ylabel(f"year Dettmers'\n{target / 10**exponent:.4g}×10$^{{{exponent}}}$ FLOP/s"
                      "\nis reached", fontsize=6.5, linespacing=1.1)
        ax.set_xlim(y["doubling_period_y"].min(), y["doubling_period_y"].max())
        ax.set_xticks([1, 2, 3, 4])
        last = self.post.sort_values("doubling_period_y").iloc[-1]
        ax.text(last["doubling_period_y"] + 0.12, last["post_year"], "post", fontsize=4.8,
                va="center", ha="left")

    def _draw_fab(self, ax: Axes) -> None:
        ax.fill_between(self.fab["year"], self.fab["cost_low_usd"] / 1e9,
                        self.fab["cost_high_usd"] / 1e9, color=PALETTE[4], alpha=0.35, lw=0)
        ax.plot(self.fab["year"], np.sqrt(self.fab["cost_low_usd"] * self.fab["cost_high_usd"])
                / 1e9, color=PALETTE[4], lw=0.8)
        log_ticks(ax, [10, 100, 1000, 10000], axis="y")
        ax.set_xticks([2020, 2060, 2100])
        ax.set_xlabel("year")
        ax.set_ylabel("fab cost ($ bn)")
        ax.text(0.03, 0.97, "+7–10 %/yr\nfrom $9 bn", transform=ax.transAxes, va="top",
                fontsize=4.8)


def run(*, quick: bool = True, seed: int = 0) -> ForecastResult:
    """Run the analysis (``quick``: 4,000 Monte-Carlo draws per estimate; full: 100,000).

    Parameters
    ----------
    quick : bool
        Fewer Monte-Carlo draws for the estimate bands.
    seed : int
        Seed of the draws (one stream per estimate, as in ``brain-estimates``).
    """
    n_samples = 4_000 if quick else 100_000
    start, start_year = POST_START_FLOP_PER_S.value, float(POST_START_YEAR)
    target = DETTMERS_2015.published.flop_per_s

    history = pd.DataFrame([{"benchmark": e.benchmark, "edition": e.edition, "year": e.year,
                             "system": e.system, "flop_per_s": e.flop_per_s,
                             "status": e.performance.note}
                            for e in (*TOP500_NUMBER_ONE, *HPCG_NUMBER_ONE)])
    fit_rows, fits = [], {}
    for key, (y0, y1) in TOP500_WINDOWS.items():
        h = history[(history["benchmark"] == "HPL") & (history["year"] >= y0)
                    & (history["year"] < y1 + 1)]
        fits[f"top500_{key}"] = fit_trend(h["year"], h["flop_per_s"])
    h = history[history["benchmark"] == "HPCG"]
    fits["hpcg_2014_2025"] = fit_trend(h["year"], h["flop_per_s"])
    for name, f in fits.items():
        fit_rows.append({"name": name, "first_year": f.first_year, "last_year": f.last_year,
                         "n_points": f.n_points, "slope_doublings_per_y":
                         f.slope_doublings_per_y, "intercept_log2": f.intercept_log2,
                         "doubling_period_y": f.doubling_period_y, "r_squared": f.r_squared,
                         "year_reached_dettmers_2015": f.year_reached(target)})

    d = doublings_needed(target, start)
    d_post = round(d)
    moore_period = implied_doubling_period_y(start_year=start_year,
                                             year=POST_STATED_YEARS["moore"].value,
                                             doublings=d_post)
    periods = {"moore": moore_period,
               **{k: c.value for k, c in POST_DOUBLING_PERIODS_Y.items()}}
    post_rows = []
    for assumption, period in periods.items():
        kw = {"start_year": start_year, "start_flop_per_s": start,
              "target_flop_per_s": target, "doubling_period_y": period}
        post_rows.append({"assumption": assumption, "doubling_period_y": period,
                          "year_unrounded": year_reached(**kw),
                          "year_rounded_doublings": year_reached(**kw, rounding="nearest"),
                          "post_year": POST_STATED_YEARS[assumption].value,
                          "period_source": "implied: (2037 − 2015) / 21" if assumption ==
                          "moore" else POST_DOUBLING_PERIODS_Y[assumption].note})
    post = pd.DataFrame(post_rows)

    rng_rows, years_rows = [], []
    grid = np.round(np.linspace(1.0, 4.0, 61), 3)
    for name, params in ALL_ESTIMATES.items():
        est = estimate(params)
        mc = monte_carlo(params, n_samples=n_samples, rng=method_rng(seed, name)).summary()
        rng_rows.append({"name": name, "label": params.label,
                         "central_flop_per_s": est.flop_per_s,
                         "p05_flop_per_s": mc["p05_flop_per_s"],
                         "p95_flop_per_s": mc["p95_flop_per_s"],
                         "doublings_from_post_start": doublings_needed(est.flop_per_s, start)})
    bands = pd.DataFrame(rng_rows)
    targets = {"dettmers_2015_published": target,
               **{r["name"]: r["central_flop_per_s"] for r in rng_rows}}
    by_name = bands.set_index("name")
    for tname, tval in targets.items():
        base = tname.removesuffix("_published")
        for period in sorted({*grid, *DOUBLING_PERIODS_Y, moore_period}):
            for rounding in ("none", "nearest"):
                kw = {"start_year": start_year, "start_flop_per_s": start,
                      "doubling_period_y": float(period), "rounding": rounding}
                years_rows.append({
                    "target": tname, "target_flop_per_s": tval,
                    "doubling_period_y": float(period), "rounding": rounding,
                    "year": year_reached(target_flop_per_s=tval, **kw),
                    "year_p05_estimate": year_reached(
                        target_flop_per_s=by_name.loc[base, "p05_flop_per_s"], **kw),
                    "year_p95_estimate": year_reached(
                        target_flop_per_s=by_name.loc[base, "p95_flop_per_s"], **kw)})
    years = pd.DataFrame(years_rows)
    years = years[(years["target"] != "dettmers_2015")]  # the published value stands for it
    years.loc[years["target"] == "dettmers_2015_published", "target"] = "dettmers_2015"

    fab_years = np.arange(2015, 2101)
    fab = pd.DataFrame({"year": fab_years, "cost_low_usd": fab_cost_usd(
        fab_years, base_usd=FAB_COST_USD_2015.value, base_year=2015,
        growth_per_year=FAB_COST_GROWTH_PER_YEAR_LOW.value), "cost_high_usd": fab_cost_usd(
        fab_years, base_usd=FAB_COST_USD_2015.value, base_year=2015,
        growth_per_year=FAB_COST_GROWTH_PER_YEAR_HIGH.value)})

    headline: dict[str, float] = {
        "post_start_flop_per_s": start, "post_start_year": start_year,
        "post_target_flop_per_s": target,
        "post_doublings_needed": d, "post_doublings_rounded": float(d_post),
        "moore_2037_implied_doubling_period_y": moore_period,
    }
    for _, r in post.iterrows():
        k = _period_key(r["doubling_period_y"])
        headline[f"year_reached_doubling_{k}"] = r["year_unrounded"]
        headline[f"year_reached_rounded_doublings_{k}"] = r["year_rounded_doublings"]
        headline[f"post_stated_year_doubling_{k}"] = r["post_year"]
    for period in DOUBLING_PERIODS_Y:
        headline[f"year_reached_doubling_{_period_key(period)}"] = year_reached(
            start_year=start_year, start_flop_per_s=start, target_flop_per_s=target,
            doubling_period_y=period)
    for name, c in POST_DOUBLING_PERIODS_Y.items():
        headline[f"post_doubling_period_{name}_y"] = c.value
    for r in fit_rows:
        headline[f"{r['name']}_fit_first_year"] = r["first_year"]
        headline[f"{r['name']}_fit_doubling_period_y"] = r["doubling_period_y"]
        headline[f"{r['name']}_fit_year_reached_dettmers_2015"] = r["year_reached_dettmers_2015"]
    for g, key in ((FAB_COST_GROWTH_PER_YEAR_LOW, "7pct"), (FAB_COST_GROWTH_PER_YEAR_HIGH,
                                                           "10pct")):
        headline[f"fab_cost_doubling_period_{key}_y"] = math.log(2) / math.log1p(g.value)
        for yr in (2053, 2078):
            headline[f"fab_cost_{yr}_{key}_usd"] = float(fab_cost_usd(
                yr, base_usd=FAB_COST_USD_2015.value, base_year=2015,
                growth_per_year=g.value))
    notes = [
        "Start: Tianhe-2 on HPCG, 0.58e15 FLOP/s, and the base year 2015 that the post's "
        "dates imply (2015 + 21 × 1.8 = 2052.8). Target: the published 1.075e21.",
        f"Doublings: log2(1.075e21 / 0.58e15) = {d:.3f}; the post rounds to {d_post}. With "
        f"{d_post}: {post['year_rounded_doublings'].round(1).tolist()} → the stated "
        f"{post['post_year'].astype(int).tolist()}; unrounded: "
        f"{post['year_unrounded'].round(1).tolist()}.",
        f"'Moore's law' → 2037 states no period; with 21 doublings it implies "
        f"{moore_period:.3f} years per doubling [derived].",
        "TOP500 values marked [R] in models.hardware are recalled, not re-checked; the HPCG "
        "points are only the editions with a value in a stored source (7 points).",
        "Fits: least squares of log2(FLOP/s) on the decimal year of each list edition.",
        "Brain estimates: central value and Monte-Carlo 5–95 % (brain-estimates' seeding), "
        f"{n_samples} draws each; HPL and HPCG measure FP64 while the estimates count "
        "FLOPs of unstated precision.",
    ]
    return ForecastResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"quick": quick, "n_samples": n_samples, "start_year": start_year,
                "doubling_periods_y": list(DOUBLING_PERIODS_Y)},
        history=history, fits=pd.DataFrame(fit_rows), post=post, years=years, bands=bands,
        fab=fab)


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=80)
