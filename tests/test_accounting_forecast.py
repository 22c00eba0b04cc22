"""The forecast: the post's dates from its inputs, trends, GPUs needed, power and cost; and the
forecast and gpus-to-brain analyses in quick mode.

The post's numbers are in docs/references.md#seed-brain-vs-dl-2-4, #seed-brain-vs-dl-3-3,
#seed-brain-vs-dl-3-4, #seed-brain-vs-dl-3-5.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from neurocomp_analyses import forecast, gpus_to_brain
from neurocomp_models import hardware as hw

from neurocomp.accounting.forecast import (
    annualized_usd_per_year,
    doublings_needed,
    electricity_usd_per_year,
    fab_cost_usd,
    fit_trend,
    gpus_needed,
    implied_doubling_period_y,
    implied_usd_per_kwh,
    performance_at,
    year_reached,
)

ROUND_OFF = 1e-12  # a few float operations
# Tianhe-2 on HPCG, Dettmers' estimate (docs/references.md#seed-brain-vs-dl-2-4)
START, TARGET = 0.58e15, 1.075e21


def post(period, rounding="none", **changes):
    kw = {"start_year": 2015, "start_flop_per_s": START, "target_flop_per_s": TARGET,
          "doubling_period_y": period, "rounding": rounding}
    return year_reached(**{**kw, **changes})


# -- the post's dates --------------------------------------------------------------------------

def test_post_doublings_and_dates_from_its_inputs():
    d = doublings_needed(TARGET, START)
    assert d == pytest.approx(math.log2(1.075e21 / 0.58e15), rel=ROUND_OFF)
    # docs/references.md#seed-brain-vs-dl-2-4: ratio ≈ 1.85e6 ≈ 2^20.8
    assert d == pytest.approx(20.82, abs=5e-3)
    assert round(d) == 21  # "21 doubling periods"
    # the post multiplies the rounded 21 doublings: 2015 + 37.8 = 2052.8 → 2053; 2015 + 63
    assert post(1.8, "nearest") == pytest.approx(2052.8, rel=ROUND_OFF)
    assert round(post(1.8, "nearest")) == 2053
    assert post(3.0, "nearest") == pytest.approx(2078.0, rel=ROUND_OFF)
    assert post(1.8, "up") == post(1.8, "nearest")  # 20.8 rounds to 21 either way
    # without that rounding the dates come out a year earlier: 2052.5 and 2077.5
    assert post(1.8) == pytest.approx(2015 + 1.8 * d, rel=ROUND_OFF)
    assert round(post(1.8)) == 2052 and round(post(3.0)) == 2077
    # "Moore's law" → 2037 states no period; with 21 doublings it implies 22/21 years
    assert implied_doubling_period_y(start_year=2015, year=2037, doublings=21) == 22 / 21


def test_forecast_moves_when_an_input_moves():
    base = post(1.8)
    # twice the start: one doubling fewer, one period earlier (exactly, in log2)
    assert post(1.8, start_flop_per_s=2 * START) == pytest.approx(base - 1.8, rel=ROUND_OFF)
    # ten times the target: log2(10) periods later
    assert post(1.8, target_flop_per_s=10 * TARGET) == pytest.approx(
        base + 1.8 * math.log2(10), rel=ROUND_OFF)
    assert post(2.0) > base > post(1.5)
    assert post(1.8, start_year=2016) == pytest.approx(base + 1, rel=ROUND_OFF)
    # performance_at inverts year_reached
    assert performance_at(base, start_year=2015, start_flop_per_s=START,
                          doubling_period_y=1.8) == pytest.approx(TARGET, rel=1e-9)


def test_forecast_inputs_are_checked():
    with pytest.raises(ValueError, match=r"doubling_period_y must be in \(0, inf\) y; got 0 y"):
        post(0.0)
    with pytest.raises(ValueError, match=r"start_flop_per_s must be in \(0, inf\) FLOP/s; "
                                         r"got -1 FLOP/s"):
        post(1.8, start_flop_per_s=-1.0)
    with pytest.raises(ValueError, match=r"rounding must be one of 'none', 'nearest', 'up'"):
        post(1.8, rounding="down")
    with pytest.raises(ValueError, match=r"at least two distinct years"):
        fit_trend([2015, 2015], [1.0, 2.0])


# -- trends ------------------------------------------------------------------------------------

def test_trend_fit_recovers_an_exact_exponential():
    years = np.arange(1993, 2026)
    perf = performance_at(years, start_year=1993, start_flop_per_s=6e10, doubling_period_y=1.3)
    fit = fit_trend(years, perf)
    assert fit.doubling_period_y == pytest.approx(1.3, rel=1e-9)  # least squares on log2
    assert fit.r_squared == pytest.approx(1.0, abs=1e-12)
    assert fit.year_reached(6e10 * 2**10) == pytest.approx(1993 + 13.0, rel=1e-9)


def test_trend_fits_on_the_lists():
    # regression values of this code on models.hardware's lists (derived here, not from a
    # paper): the TOP500 #1 doubled every ~1.23 y over 1993–2025; HPCG's #1 every ~1.9 y
    top = fit_trend([e.year for e in hw.TOP500_NUMBER_ONE],
                    [e.flop_per_s for e in hw.TOP500_NUMBER_ONE])
    hpcg = fit_trend([e.year for e in hw.HPCG_NUMBER_ONE],
                     [e.flop_per_s for e in hw.HPCG_NUMBER_ONE])
    assert top.doubling_period_y == pytest.approx(1.231, abs=1e-3)
    assert top.r_squared > 0.98
    assert hpcg.doubling_period_y == pytest.approx(1.891, abs=1e-3)


# -- devices, power, cost -----------------------------------------------------------------------

def test_gpus_needed_with_constant_and_falling_efficiency():
    f = 1e15
    count = gpus_needed(1e21, flop_per_s_per_device=f, parallel_efficiency=0.5)
    assert count.n_devices == 2e6 and count.delivered_flop_per_s >= 1e21  # ⌈1e21/(1e15·0.5)⌉
    assert count.n_devices_at_full_efficiency == 1e6

    def falling(n):  # E(N) = 1/(1 + 0.1 log10 N)
        return 1 / (1 + 0.1 * math.log10(n))

    c2 = gpus_needed(1e21, flop_per_s_per_device=f, parallel_efficiency=falling)
    n = c2.n_devices
    assert n * f * falling(int(n)) >= 1e21 > (n - 1) * f * falling(int(n) - 1)  # the smallest
    # E(N) = 1/N: N devices deliver one device's rate, so no count is enough
    never = gpus_needed(1e21, flop_per_s_per_device=f, parallel_efficiency=lambda n: 1 / n,
                        max_devices=1e6)
    assert not never.reachable and never.n_devices == math.inf
    with pytest.raises(ValueError, match=r"parallel_efficiency\(1\) must be in \(0, 1"):
        gpus_needed(1e21, flop_per_s_per_device=f, parallel_efficiency=lambda n: 0.0)


def test_post_power_bill_and_the_price_it_implies():
    # docs/references.md#seed-brain-vs-dl-3-3: 24 MW ≈ $23M per year; the implied price is
    # $0.1094/kWh and $63k a day, the low end of the post's "$65k–100k per day" (the
    # docs/references.md#seed-brain-vs-dl-3-3 notes the same)
    price = implied_usd_per_kwh(24e6, 23e6)
    assert price == pytest.approx(0.10940, abs=1e-5)
    assert electricity_usd_per_year(24e6, usd_per_kwh=price) == pytest.approx(23e6,
                                                                              rel=ROUND_OFF)
    assert 24e3 * 24 * price == pytest.approx(63.0e3, abs=50)
    assert electricity_usd_per_year(24e6, usd_per_kwh=price, utilization=1 / 3) == (
        pytest.approx(23e6 / 3, rel=ROUND_OFF))  # Tianhe-2 ran a third of the time (post)
    assert annualized_usd_per_year(1e9, lifetime_y=5) == 2e8


def test_fab_cost_grows_as_in_the_post():
    # docs/references.md#seed-brain-vs-dl-3-4: $9bn in 2015, +7–10 % a year; 7 % doubles it every
    # 10.24 years
    assert fab_cost_usd(2015, base_usd=9e9, base_year=2015, growth_per_year=0.07) == 9e9
    assert fab_cost_usd(2015 + math.log(2) / math.log(1.07), base_usd=9e9, base_year=2015,
                        growth_per_year=0.07) == pytest.approx(18e9, rel=1e-12)


# -- the analyses ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def results():
    return {"forecast": forecast.run(quick=True, seed=0),
            "gpus-to-brain": gpus_to_brain.run(quick=True, seed=0)}


def test_forecast_headline_reproduces_the_post(results):
    h = results["forecast"].headline
    for key in h:  # the convention of tests/test_analyses.py
        assert re.fullmatch(r"[a-z][A-Za-z0-9_.]{8,}", key), key
    assert h["post_doublings_rounded"] == 21
    assert h["year_reached_rounded_doublings_1.8y"] == pytest.approx(2052.8, rel=ROUND_OFF)
    assert h["year_reached_rounded_doublings_3y"] == pytest.approx(2078.0, rel=ROUND_OFF)
    assert h["post_stated_year_doubling_1.8y"] == 2053 and h["post_stated_year_doubling_3y"] \
        == 2078
    assert h["year_reached_rounded_doublings_1.05y"] == pytest.approx(2037.0, rel=ROUND_OFF)
    for period in ("1y", "1.5y", "1.8y", "2y", "2.5y", "3y"):
        assert f"year_reached_doubling_{period}" in h
    assert h["hpcg_2014_2025_fit_doubling_period_y"] == pytest.approx(1.891, abs=1e-3)


def test_gpus_to_brain_headline(results):
    h = results["gpus-to-brain"].headline
    for key in h:
        assert re.fullmatch(r"[a-z][A-Za-z0-9_.]{8,}", key), key
    # the post's check: 24 MW at the implied price is $23M a year
    assert h["tianhe2_24mw_electricity_usd_per_year"] == pytest.approx(23e6, rel=ROUND_OFF)
    table = results["gpus-to-brain"].table
    for r in table.itertuples():
        # a parallel efficiency below 1 only ever adds GPUs
        assert r.n_gpus >= r.n_gpus_alone >= r.n_gpus_at_peak, (r.estimate, r.system)
        assert 0 < r.efficiency_at_n <= 1
    d = table[(table.estimate == "dettmers_2015") & (table.system == "h100")].iloc[0]
    # ⌈1.075e21 / (989.4e12 · 0.52)⌉ = 2.09 million at E = 1; E(N) < 1 adds the rest
    assert d.n_gpus_alone == math.ceil(1.075e21 / (989.4e12 * 0.52))
    assert d.n_gpus == pytest.approx(d.n_gpus_alone / d.efficiency_at_n, rel=1e-6)
    assert d.power_w == pytest.approx(d.n_gpus * 700 * 24 / 17.8, rel=ROUND_OFF)


def test_analyses_draw_labelled_panels_and_save(results, tmp_path):
    for name, result in results.items():
        for ax in np.ravel(result.plot()):
            assert ax.get_xlabel() and ax.get_ylabel(), name
    out = results["forecast"].save(tmp_path / "forecast")
    meta = json.loads((out / "meta.json").read_text())
    assert meta["headline"]["post_doublings_rounded"] == 21
    assert (out / "figure.png").stat().st_size > 10_000
