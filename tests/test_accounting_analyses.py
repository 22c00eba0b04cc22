"""The brain-estimates and estimate-sensitivity analyses, run in quick mode.

They are called directly (not through the entry-point registry) so that the tests hold
whether or not pyproject registers them yet.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from neurocomp_analyses import brain_estimates, estimate_sensitivity
from neurocomp_models.brain_estimates import ALL_ESTIMATES


@pytest.fixture(scope="module")
def results():
    return {"brain-estimates": brain_estimates.run(quick=True, seed=0),
            "estimate-sensitivity": estimate_sensitivity.run(quick=True, seed=0)}


def test_headline_keys_name_methods_and_units(results):
    h = results["brain-estimates"].headline
    for name in ALL_ESTIMATES:
        assert h[f"{name}_flop_per_s"] > 0, name
    for key in h:  # the convention of tests/test_analyses.py
        assert re.fullmatch(r"[a-z][A-Za-z0-9_.]{8,}", key), key


def test_brain_estimates_headline_reproduces_published_values(results):
    h = results["brain-estimates"].headline
    # exact rebuilds up to round-off (inputs and published values in models.brain_estimates)
    for key in ("kurzweil_1999_vs_published_rel", "moravec_1998_vs_published_rel",
                "sandberg_bostrom_2008_vs_published_rel",
                "carlsmith_2020_input_low_vs_published_low_rel",
                "carlsmith_2020_input_high_vs_published_high_rel",
                "ai_impacts_2015_input_low_vs_published_low_rel",
                "ai_impacts_2015_input_high_vs_published_high_rel"):
        assert abs(h[key]) < 1e-12, key
    # Dettmers: 1.00009e21 against 1.075e21, i.e. −6.97 % (see test_accounting_estimates)
    assert h["dettmers_2015_vs_published_rel"] == pytest.approx(1.00009 / 1.075 - 1, rel=1e-9)
    assert h["dettmers_2015_unexplained_flop_per_s"] == pytest.approx(7.491e19, rel=1e-9)
    # the remainder search: many subsets of the stated numbers multiply to 7.5e19, so none
    # can be singled out (regression: 121 of 2^15 − 1 = 32767, found by this code)
    assert h["dettmers_2015_remainder_subsets_searched_count"] == 2**15 - 1
    assert h["dettmers_2015_remainder_product_matches_count"] == 121
    # the Monte-Carlo interval brackets the central value for the literature estimates
    # whose centre is interior to its ranges (Carlsmith, AI Impacts: geometric midpoints)
    for name in ("carlsmith_2020", "ai_impacts_2015"):
        assert (h[f"{name}_mc_p05_flop_per_s"] < h[f"{name}_flop_per_s"]
                < h[f"{name}_mc_p95_flop_per_s"]), name


def test_sensitivity_headline(results):
    h = results["estimate-sensitivity"].headline
    # 50–1000 Hz is log10(20) = 1.301 decades, the largest swing of the Dettmers rebuild
    assert h["dettmers_2015_largest_swing_factor_name"] == "rate_hz"
    assert h["dettmers_2015_largest_swing_decades"] == pytest.approx(np.log10(20), rel=1e-12)
    # T enters squared: 2·log10(6/2.4) = 0.796 decades
    assert h["dettmers_2015_time_steps_swing_decades"] == pytest.approx(2 * np.log10(2.5),
                                                                        rel=1e-9)
    # tornado = exponent × decades for every power-law factor (finite differences, 1e-4 step)
    assert h["power_law_factors_checked_count"] >= 10
    assert h["max_abs_error_tornado_vs_partial_derivative_decades"] < 1e-8


def test_every_panel_has_labelled_axes(results):
    for name, result in results.items():
        for ax in np.ravel(result.plot()):
            assert ax.get_xlabel() and ax.get_ylabel(), name


def test_same_seed_same_numbers():
    a = brain_estimates.run(quick=True, seed=3, methods=["carlsmith_2020"])
    b = brain_estimates.run(quick=True, seed=3, methods=["carlsmith_2020"])
    assert a.headline == b.headline
    # the draws of one estimate do not depend on which others are run
    c = brain_estimates.run(quick=True, seed=3, methods=["dettmers_2015", "carlsmith_2020"])
    assert (c.headline["carlsmith_2020_mc_p05_flop_per_s"]
            == a.headline["carlsmith_2020_mc_p05_flop_per_s"])


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match=r"method must be one of .*; got 'kurzweil'"):
        brain_estimates.run(quick=True, seed=0, methods=["kurzweil"])
    with pytest.raises(ValueError, match=r"method must be one of"):
        estimate_sensitivity.run(quick=True, seed=0, methods=["moravec"])


def test_save_writes_figure_data_and_convention(results, tmp_path):
    out = results["brain-estimates"].save(tmp_path / "brain-estimates")
    meta = json.loads((out / "meta.json").read_text())
    assert meta["flop_convention"] == "1 multiply-add (MAC) = 2 FLOPs"
    assert (out / "figure.png").stat().st_size > 10_000
    assert "flop_convention" in (out / "data.csv").read_text().splitlines()[0]
