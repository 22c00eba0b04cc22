"""Brain-compute estimates: published values rebuilt from their cited inputs, the FLOP
convention, Monte-Carlo, tornado and the errors bad inputs raise.

Published values and their status come from docs/references.md#seed-brain-vs-dl (the post)
and docs/references.md#anchors-neuro-1 (the rest); each assert says where its number comes from.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from neurocomp_models.brain_estimates import (
    AI_IMPACTS_2015,
    ALL_ESTIMATES,
    AZEVEDO_2009_REGIONS,
    AZEVEDO_2009_WHOLE_BRAIN,
    BOTTOM_UP_TCN_BENIAGUEV_2021,
    CARLSMITH_2020,
    DETTMERS_2015,
    DETTMERS_2015_CEREBELLAR_TYPES,
    KURZWEIL_1999,
    KURZWEIL_STYLE_2015,
    LITERATURE_ESTIMATES,
    MORAVEC_1998,
    SANDBERG_BOSTROM_2008,
    SANDBERG_BOSTROM_2008_LEVELS,
    parameter_set,
)

from neurocomp.accounting import (
    FLOP_CONVENTION,
    FLOP_PER_MAC,
    estimate,
    flops_to_macs,
    macs_to_flops,
    monte_carlo,
)
from neurocomp.accounting.brain import (
    DettmersParameters,
    KurzweilRegionalParameters,
    NeuronPopulation,
    SandbergBostromParameters,
    bottom_up,
    dettmers_2015_flop_per_s,
    dettmers_decomposition,
    time_steps_from_latency,
)
from neurocomp.accounting.brain.per_neuron import bottom_up_flop_per_s
from neurocomp.accounting.brain.synaptic import (
    kurzweil_regional_flop_per_s,
    synaptic_event_flop_per_s,
)
from neurocomp.accounting.estimates import (
    Factor,
    Published,
    elasticities,
    input_range,
    select,
    tornado,
)
from neurocomp.provenance import FLOP_CONVENTION as PROVENANCE_CONVENTION

ROUND_OFF = 1e-12  # products of a handful of doubles: relative error ~1e-15, 1e-12 is ample


def fixed(value: float, unit: str = "1") -> Factor:
    return Factor(value=value, unit=unit, source="test")


# -- the FLOP convention --------------------------------------------------------------------

def test_convention_is_two_flops_per_mac_and_stated():
    assert FLOP_PER_MAC == 2
    assert FLOP_CONVENTION == PROVENANCE_CONVENTION == "1 multiply-add (MAC) = 2 FLOPs"
    assert macs_to_flops(3) == 6.0 and flops_to_macs(6) == 3.0  # exact in binary
    np.testing.assert_array_equal(flops_to_macs(macs_to_flops(np.arange(4.0))), np.arange(4.0))
    est = estimate(DETTMERS_2015)
    assert est.convention == FLOP_CONVENTION
    assert est.mac_per_s == est.flop_per_s / 2  # exact: division by a power of two
    assert (est.to_frame()["flop_convention"] == FLOP_CONVENTION).all()


@pytest.mark.parametrize("func,name", [(macs_to_flops, "macs"), (flops_to_macs, "flops")])
def test_convention_rejects_negative_counts(func, name):
    with pytest.raises(ValueError, match=rf"{name} must be in \[0, inf\); got -1"):
        func(-1)
    with pytest.raises(ValueError, match=rf"{name} must be finite and in \[0, inf\).*index"):
        func(np.array([1.0, -2.0]))


# -- Dettmers (2015) --------------------------------------------------------------------------

def test_dettmers_probe_reproduces_1e21_and_states_the_remainder():
    # docs/references.md#seed-brain-vs-dl-2-4 "arithmetic probe": Purkinje
    # 2·(1e5·5)·(10·1000·5)·1e8·200 = 1.0e21 exactly, granule 2·(15·5)·(3·4·5)·5e10·200 = 9e16;
    # published 1.075e21 (docs/references.md#seed-brain-vs-dl-2-4)
    d = dettmers_decomposition(DETTMERS_2015)
    assert d.purkinje_flop_per_s == pytest.approx(2 * (1e5 * 5) * (10 * 1000 * 5) * 1e8 * 200,
                                                  rel=ROUND_OFF)
    assert d.purkinje_flop_per_s == pytest.approx(1.0e21, rel=ROUND_OFF)
    assert d.granule_flop_per_s == pytest.approx(9e16, rel=ROUND_OFF)
    assert d.published_flop_per_s == 1.075e21
    assert d.rebuilt_flop_per_s == pytest.approx(1.00009e21, rel=ROUND_OFF)
    # what no stated factor explains: 1.075e21 − 1.0e21 − 9e16 = 7.491e19, 6.968 % of it
    assert d.unexplained_flop_per_s == pytest.approx(7.491e19, rel=1e-9)  # cancellation
    assert d.unexplained_fraction == pytest.approx(7.491e19 / 1.075e21, rel=1e-9)
    assert d.rel_error == pytest.approx(-d.unexplained_fraction, rel=ROUND_OFF)
    est = estimate(DETTMERS_2015)
    assert est.bound == "lower bound"
    assert est.flop_per_s == pytest.approx(d.rebuilt_flop_per_s, rel=ROUND_OFF)
    assert est.published_rel_error == pytest.approx(d.rel_error, rel=ROUND_OFF)
    assert any("NOT FOUND" in u for u in est.uncounted)


def test_dettmers_formula_is_recomputed_from_its_factors():
    # the post's sensitivity: 75,000 Purkinje inputs instead of 100,000
    # (docs/references.md#seed-brain-vs-dl-2-3 (item 7))
    p = dataclasses.replace(DETTMERS_2015, purkinje_inputs=fixed(75_000.0))
    assert p.flop_per_s == pytest.approx(0.75e21 + 9e16, rel=ROUND_OFF)
    # T enters squared: T = 6 instead of 5 multiplies both terms by 36/25
    p = dataclasses.replace(DETTMERS_2015, time_steps=fixed(6.0, "steps"))
    assert p.flop_per_s == pytest.approx(1.00009e21 * 36 / 25, rel=ROUND_OFF)
    # 1 FLOP per MAC halves it
    p = dataclasses.replace(DETTMERS_2015, flop_per_mac=fixed(1.0, "FLOP/MAC"))
    assert p.flop_per_s == pytest.approx(1.00009e21 / 2, rel=ROUND_OFF)


def test_dettmers_pure_function_takes_arrays():
    v = DETTMERS_2015.central_values()
    rates = np.array([100.0, 200.0, 400.0])
    out = dettmers_2015_flop_per_s(**{**v, "rate_hz": rates})
    np.testing.assert_allclose(out, 1.00009e21 * rates / 200, rtol=ROUND_OFF)


def test_time_steps_from_latency_reproduces_the_post():
    # docs/references.md#seed-brain-vs-dl-4 (item 3): 20, 65, 80, 200 ms at 30 frames/s -> 0.6,
    # 1.95, 2.4, 6 steps
    np.testing.assert_allclose(time_steps_from_latency(np.array([20, 65, 80, 200]), 30),
                               [0.6, 1.95, 2.4, 6.0], rtol=ROUND_OFF)
    assert DETTMERS_2015.time_steps.low == pytest.approx(2.4, rel=ROUND_OFF)
    assert DETTMERS_2015.time_steps.high == pytest.approx(6.0, rel=ROUND_OFF)


# -- the other published estimates -----------------------------------------------------------

def test_kurzweil_1999_reproduces_2e16():
    # docs/references.md#anchors-neuro-1-4 [V inputs]: 1e11 neurons × 1e3 connections × 200
    # calculations/s = 2e16 cps
    est = estimate(KURZWEIL_1999)
    assert est.flop_per_s == pytest.approx(2e16, rel=ROUND_OFF)
    assert est.published_rel_error == pytest.approx(0.0, abs=ROUND_OFF)


def test_kurzweil_style_with_the_posts_numbers():
    # docs/references.md#seed-brain-vs-dl-2-1, #seed-brain-vs-dl-2-2: 86e9 neurons, ¾ cerebellar at
    # 25,000 synapses, ¼ cerebral at 5,000–15,000 (central 10,000), × 200 Hz: 86e9·(0.75·25e3 +
    # 0.25·1e4)·200 = 3.655e17 (no published total)
    assert KURZWEIL_STYLE_2015.flop_per_s == pytest.approx(3.655e17, rel=ROUND_OFF)
    low, high = input_range(KURZWEIL_STYLE_2015)
    assert low == pytest.approx(78e9 * (0.75 * 25e3 + 0.25 * 5e3) * 50, rel=ROUND_OFF)
    assert high == pytest.approx(94.2e9 * (0.75 * 25e3 + 0.25 * 15e3) * 1000, rel=ROUND_OFF)


def test_moravec_reproduces_1e14():
    # docs/references.md#anchors-neuro-1-3 [V]: 1e6 detections × 100 instructions × 10 Hz = 1,000
    # MIPS; × 1e5 = 1e8 MIPS
    assert MORAVEC_1998.flop_per_s == pytest.approx(1e14, rel=ROUND_OFF)
    assert estimate(MORAVEC_1998).published_rel_error == pytest.approx(0.0, abs=ROUND_OFF)


def test_carlsmith_range_reproduced_from_its_inputs():
    # docs/references.md#anchors-neuro-1-1: 1e14·0.1·1 = 1e13 and 1e15·1·100 = 1e17 [C], the
    # verified range [V]
    low, high = input_range(CARLSMITH_2020)
    assert (low, high) == (pytest.approx(1e13, rel=ROUND_OFF), pytest.approx(1e17, rel=ROUND_OFF))
    assert low == pytest.approx(CARLSMITH_2020.published.low_flop_per_s, rel=ROUND_OFF)
    assert high == pytest.approx(CARLSMITH_2020.published.high_flop_per_s, rel=ROUND_OFF)
    # geometric midpoints of the three ranges multiply to the geometric midpoint 1e15
    assert CARLSMITH_2020.flop_per_s == pytest.approx(1e15, rel=ROUND_OFF)


def test_ai_impacts_teps_range_reproduced():
    # docs/references.md#anchors-neuro-1-5 [V]: 0.18–6.4e14 TEPS = (1.8–3.2e14 synapses) × (0.1–2
    # Hz) [S]
    low, high = input_range(AI_IMPACTS_2015)
    assert low == pytest.approx(0.18e14, rel=ROUND_OFF)
    assert high == pytest.approx(6.4e14, rel=ROUND_OFF)
    assert AI_IMPACTS_2015.teps == pytest.approx(AI_IMPACTS_2015.flop_per_s, rel=ROUND_OFF)


def test_sandberg_bostrom_level_4_reproduced():
    # docs/references.md#anchors-neuro-1-2: 1e15 synapses × 1 FLOP × 1e3 updates/s = 1e18 [R],
    # Table 9 level 4 [S]
    assert SANDBERG_BOSTROM_2008.flop_per_s == pytest.approx(1e18, rel=ROUND_OFF)
    assert SANDBERG_BOSTROM_2008_LEVELS[4][1].value == SANDBERG_BOSTROM_2008.published.flop_per_s
    assert [lv for lv in SANDBERG_BOSTROM_2008_LEVELS] == list(range(3, 11))


def test_every_factor_changes_its_estimate():
    # no cached literals: scaling any factor's value by 0.9 moves the estimate
    for params in LITERATURE_ESTIMATES.values():
        before = params.flop_per_s
        for name, f in params.factors().items():
            moved = dataclasses.replace(params, **{name: fixed(f.value * 0.9, f.unit)})
            rel = abs(moved.flop_per_s / before - 1)
            # smallest effect: a granule factor, 0.1 × 9e16/1.00009e21 = 9e-6 relative
            assert rel > 1e-6, (params.name, name)


def test_every_cited_factor_has_a_source_and_range_consistency():
    for params in ALL_ESTIMATES.values():
        for name, f in params.factors().items():
            assert f.source.strip(), (params.name, name)
            if f.is_ranged:
                assert f.low <= f.value <= f.high, (params.name, name)


# -- bottom-up ------------------------------------------------------------------------------

def test_bottom_up_scales_per_neuron_costs_by_counts():
    pops = (NeuronPopulation(name="a", count=fixed(2e9)),
            NeuronPopulation(name="b", count=fixed(3e9)))
    p = bottom_up(name="bottom_up_test", label="test", populations=pops,
                  flop_per_s_per_neuron={"a": 10.0, "b": 100.0}, cost_source="unit test")
    assert p.flop_per_s == pytest.approx(2e9 * 10 + 3e9 * 100, rel=ROUND_OFF)
    assert p.breakdown() == {"a": pytest.approx(2e10), "b": pytest.approx(3e11)}
    # one cost for every type
    q = bottom_up(name="bottom_up_test", label="test", populations=pops,
                  flop_per_s_per_neuron=7.0, cost_source="unit test")
    assert q.flop_per_s == pytest.approx(5e9 * 7, rel=ROUND_OFF)
    assert set(q.factors()) == {"a_count", "a_flop_per_s_per_neuron", "b_count",
                                "b_flop_per_s_per_neuron"}
    # the pure function with arrays of samples
    out = bottom_up_flop_per_s(counts={"a": np.array([1.0, 2.0])},
                               flop_per_s_per_neuron={"a": np.array([3.0, 4.0])})
    np.testing.assert_array_equal(out, [3.0, 8.0])


def test_bottom_up_with_cited_counts():
    # Azevedo et al. 2009 [V/R]: 69.03 + 16.34 + 0.69 = 86.06e9 neurons
    p = bottom_up(name="bottom_up_regions", label="regions", populations=AZEVEDO_2009_REGIONS,
                  flop_per_s_per_neuron=1.0, cost_source="unit test")
    assert p.flop_per_s == pytest.approx(86.06e9, rel=ROUND_OFF)
    p = bottom_up(name="bottom_up_cerebellar", label="cerebellar",
                  populations=DETTMERS_2015_CEREBELLAR_TYPES,
                  flop_per_s_per_neuron={"granule": 2.0, "purkinje": 1000.0},
                  cost_source="unit test")
    assert p.flop_per_s == pytest.approx(5e10 * 2 + 1e8 * 1000, rel=ROUND_OFF)
    # docs/references.md#anchors-neuro-1-6 [C]: 1.2–2.1e10 FLOP/s per neuron × 86.1e9 neurons ≈ 1e21
    assert BOTTOM_UP_TCN_BENIAGUEV_2021.flop_per_s == pytest.approx(
        86.1e9 * math.sqrt(1.2e10 * 2.1e10), rel=ROUND_OFF)
    assert AZEVEDO_2009_WHOLE_BRAIN[0].count.value == 86.1e9


# -- Monte-Carlo and tornado -----------------------------------------------------------------

def test_monte_carlo_is_reproducible_with_a_seed():
    a = monte_carlo(DETTMERS_2015, n_samples=2000, rng=np.random.default_rng(7))
    b = monte_carlo(DETTMERS_2015, n_samples=2000, rng=np.random.default_rng(7))
    c = monte_carlo(DETTMERS_2015, n_samples=2000, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a.flop_per_s, b.flop_per_s)  # bit-identical
    assert not np.array_equal(a.flop_per_s, c.flop_per_s)
    assert a.distributions["rate_hz"] == "log-uniform on [50, 1000] Hz"
    assert a.distributions["flop_per_mac"] == "fixed at 2 FLOP/MAC"


def test_monte_carlo_quantiles_lie_in_the_stated_ranges():
    for params in ALL_ESTIMATES.values():
        mc = monte_carlo(params, n_samples=5000, rng=np.random.default_rng(1))
        low, high = input_range(params)
        # every draw lies in the box of ranges, so within the corner extremes (round-off)
        assert mc.flop_per_s.min() >= low * (1 - ROUND_OFF), params.name
        assert mc.flop_per_s.max() <= high * (1 + ROUND_OFF), params.name
    mc = monte_carlo(CARLSMITH_2020, n_samples=20_000, rng=np.random.default_rng(2))
    p05, p50, p95 = mc.quantile([0.05, 0.5, 0.95])
    assert 1e13 < p05 < p50 < p95 < 1e17
    # log10 F is a sum of uniforms of widths 1, 1, 2 decades centred on 15: median 15;
    # its SD is sqrt(6/12) = 0.71 decades, so the median's standard error at n = 20,000 is
    # 1.25·0.71/√20000 = 0.006 decades; 0.03 decades is 5 standard errors
    assert math.log10(p50) == pytest.approx(15.0, abs=0.03)


def test_log_uniform_sampling_covers_its_range():
    f = Factor(value=10.0, low=1.0, high=100.0, distribution="log-uniform", unit="1",
               source="test")
    x = f.sample(20_000, np.random.default_rng(3))
    assert x.min() >= 1.0 and x.max() <= 100.0
    # half the draws fall below the geometric midpoint; binomial SD 0.0035, 5 SD = 0.018
    assert np.mean(x < 10.0) == pytest.approx(0.5, abs=0.018)
    u = dataclasses.replace(f, distribution="uniform").sample(20_000, np.random.default_rng(3))
    assert np.mean(u) == pytest.approx(50.5, abs=1.0)  # SD of the mean 0.2; 5 SD


@pytest.mark.parametrize("params", [CARLSMITH_2020, AI_IMPACTS_2015, MORAVEC_1998,
                                    SANDBERG_BOSTROM_2008, BOTTOM_UP_TCN_BENIAGUEV_2021],
                         ids=lambda p: p.name)
def test_tornado_equals_partial_derivatives_for_multiplicative_models(params):
    t = tornado(params)
    e = elasticities(params)
    for _, bar in t.bars.iterrows():
        # a product of linear factors: elasticity 1 (central differences exact to ~1e-10)
        assert e[bar["factor"]] == pytest.approx(1.0, abs=1e-8)
        predicted = e[bar["factor"]] * math.log10(bar["high"] / bar["low"])
        assert bar["swing_decades"] == pytest.approx(predicted, abs=1e-8)
    assert list(t.bars["swing_decades"]) == sorted(t.bars["swing_decades"], reverse=True)


def test_tornado_of_dettmers_follows_the_exponents():
    t = tornado(DETTMERS_2015).bars.set_index("factor")
    e = elasticities(DETTMERS_2015)
    # T enters squared (input and filter both span T steps); rate and FLOP/MAC linearly
    assert e["time_steps"] == pytest.approx(2.0, abs=1e-8)
    assert e["rate_hz"] == pytest.approx(1.0, abs=1e-8)
    assert e["flop_per_mac"] == pytest.approx(1.0, abs=1e-8)
    for k in ("time_steps", "rate_hz"):
        b = t.loc[k]
        assert b["swing_decades"] == pytest.approx(e[k] * math.log10(b["high"] / b["low"]),
                                                   abs=1e-8)
    # the Purkinje factors carry the Purkinje share of the total: 1e21 / 1.00009e21
    assert e["purkinje_count"] == pytest.approx(1e21 / 1.00009e21, abs=1e-8)
    assert t.index[0] == "rate_hz"  # 50–1000 Hz: 1.30 decades, the largest swing
    assert "flop_per_mac" in tornado(DETTMERS_2015).fixed


def test_kurzweil_1999_has_no_range_so_no_bars():
    assert tornado(KURZWEIL_1999).bars.empty
    assert input_range(KURZWEIL_1999) == (pytest.approx(2e16), pytest.approx(2e16))
    mc = monte_carlo(KURZWEIL_1999, n_samples=10, rng=np.random.default_rng(0))
    np.testing.assert_allclose(mc.flop_per_s, 2e16, rtol=ROUND_OFF)


# -- bad input --------------------------------------------------------------------------------

def test_negative_count_names_the_field_and_range():
    bad = Factor(value=-5.0, unit="1", source="test")
    with pytest.raises(ValueError, match=r"DettmersParameters\.purkinje_count must be in "
                                         r"\(0, inf\); got -5"):
        dataclasses.replace(DETTMERS_2015, purkinje_count=bad)
    with pytest.raises(ValueError, match=r"NeuronPopulation\(x\)\.count must be in \(0, inf\)"):
        NeuronPopulation(name="x", count=bad)


def test_negative_rate_names_the_argument():
    with pytest.raises(ValueError, match=r"rate_hz must be in \(0, inf\) Hz; got -1 Hz"):
        synaptic_event_flop_per_s(synapses=1e14, rate_hz=-1, flop_per_event=1)
    with pytest.raises(ValueError, match=r"DettmersParameters\.rate_hz must be in \(0, inf\) "
                                         r"Hz; got -200 Hz"):
        dataclasses.replace(DETTMERS_2015, rate_hz=fixed(-200.0, "Hz"))
    with pytest.raises(ValueError, match=r"rate_hz must be finite and in \(0, inf\) Hz; 1 "
                                         r"entry is not \(first at index \(1,\): -3 Hz\)"):
        synaptic_event_flop_per_s(synapses=1e14, rate_hz=np.array([1.0, -3.0]),
                                  flop_per_event=1)
    with pytest.raises(ValueError, match=r"rate_hz must be finite"):
        dettmers_2015_flop_per_s(**{**DETTMERS_2015.central_values(), "rate_hz": math.nan})


def test_wrong_unit_and_type_are_rejected():
    with pytest.raises(ValueError, match=r"DettmersParameters\.rate_hz must be in unit 'Hz'; "
                                         r"got a factor in 'kHz'"):
        dataclasses.replace(DETTMERS_2015, rate_hz=fixed(0.2, "kHz"))
    with pytest.raises(TypeError, match=r"DettmersParameters\.rate_hz must be a "
                                        r"neurocomp\.accounting\.Factor"):
        dataclasses.replace(DETTMERS_2015, rate_hz=200.0)
    with pytest.raises(TypeError, match=r"rate_hz must be a real number"):
        synaptic_event_flop_per_s(synapses=1e14, rate_hz="200", flop_per_event=1)


def test_fraction_above_one_is_rejected():
    with pytest.raises(ValueError, match=r"KurzweilRegionalParameters\.cerebellum_fraction "
                                         r"must be in \(0, 1\); got 1"):
        dataclasses.replace(KURZWEIL_STYLE_2015, cerebellum_fraction=fixed(1.0))
    with pytest.raises(ValueError, match=r"cerebellum_fraction must be in \(0, 1\); got 1.5"):
        kurzweil_regional_flop_per_s(neurons=1e9, cerebellum_fraction=1.5,
                                     cerebellum_synapses_per_neuron=1,
                                     cerebrum_synapses_per_neuron=1, rate_hz=1,
                                     flop_per_event=1)
    assert isinstance(KURZWEIL_STYLE_2015, KurzweilRegionalParameters)


def test_unknown_method_and_factor_names():
    with pytest.raises(ValueError, match=r"method must be one of .*'dettmers_2015'.*; got "
                                         r"'dettmers'"):
        parameter_set("dettmers")
    with pytest.raises(ValueError, match=r"method must be one of"):
        select(LITERATURE_ESTIMATES, ["carlsmith_2020", "nope"])
    assert parameter_set("carlsmith_2020") is CARLSMITH_2020
    with pytest.raises(ValueError, match=r"factor must be one of .*'rate_hz'.*; got "
                                         r"'flop_per_mac'"):
        tornado(DETTMERS_2015, factors=["flop_per_mac"])  # fixed: no range, no bar
    with pytest.raises(ValueError, match=r"unknown factor 'rate' for estimate "
                                         r"'dettmers_2015'"):
        DETTMERS_2015.at(rate=100.0)
    with pytest.raises(ValueError, match=r"missing value for factor 'granule_count'"):
        DETTMERS_2015.evaluate({"rate_hz": 1.0})


def test_bottom_up_errors_name_the_type():
    pops = (NeuronPopulation(name="granule", count=fixed(5e10)),)
    with pytest.raises(ValueError, match=r"unknown neuron type 'purkinje'.*known types: "
                                         r"'granule'"):
        bottom_up(name="bottom_up_x", label="x", populations=pops,
                  flop_per_s_per_neuron={"granule": 1.0, "purkinje": 2.0}, cost_source="t")
    with pytest.raises(ValueError, match=r"no entry for neuron type 'granule'"):
        bottom_up_flop_per_s(counts={"granule": 1.0}, flop_per_s_per_neuron={})
    with pytest.raises(ValueError, match=r"cost_source must say where the per-neuron cost"):
        bottom_up(name="bottom_up_x", label="x", populations=pops, flop_per_s_per_neuron=1.0)
    with pytest.raises(ValueError, match=r"flop_per_s_per_neuron\['granule'\] must be in "
                                         r"\(0, inf\) FLOP/s; got -1"):
        bottom_up(name="bottom_up_x", label="x", populations=pops, flop_per_s_per_neuron=-1.0,
                  cost_source="t")
    with pytest.raises(ValueError, match=r"unique names; 'granule' repeats"):
        bottom_up(name="bottom_up_x", label="x", populations=pops * 2,
                  flop_per_s_per_neuron=1.0, cost_source="t")


def test_inconsistent_factors_are_rejected():
    with pytest.raises(ValueError, match=r"value must be in \[1, 10\]; got 20"):
        Factor(value=20.0, low=1.0, high=10.0, distribution="uniform", unit="1", source="t")
    with pytest.raises(ValueError, match=r"low must be in \(0, inf\); got 0"):
        Factor(value=1.0, low=0.0, high=10.0, distribution="log-uniform", unit="1",
               source="t")
    with pytest.raises(ValueError, match=r"low and high must be given together"):
        Factor(value=1.0, low=0.5, unit="1", source="t")
    with pytest.raises(ValueError, match=r"distribution 'log-uniform' needs a range"):
        Factor(value=1.0, distribution="log-uniform", unit="1", source="t")
    with pytest.raises(ValueError, match=r"distribution is 'fixed'"):
        Factor(value=1.0, low=0.5, high=2.0, unit="1", source="t")
    with pytest.raises(ValueError, match=r"distribution must be one of 'fixed', 'log-uniform', "
                                         r"'uniform'; got 'normal'"):
        Factor(value=1.0, low=0.5, high=2.0, distribution="normal", unit="1", source="t")
    with pytest.raises(ValueError, match=r"source must name where"):
        Factor(value=1.0, unit="1", source=" ")
    with pytest.raises(ValueError, match=r"give flop_per_s, or low_flop_per_s"):
        Published(source="t")
    with pytest.raises(ValueError, match=r"level must be an integer in \[1, 11\]; got 12"):
        dataclasses.replace(SANDBERG_BOSTROM_2008, level=12)
    with pytest.raises(ValueError, match=r"name must be snake_case"):
        dataclasses.replace(DETTMERS_2015, name="Dettmers 2015")
    assert isinstance(SANDBERG_BOSTROM_2008, SandbergBostromParameters)
    assert isinstance(DETTMERS_2015, DettmersParameters)


def test_monte_carlo_argument_errors():
    with pytest.raises(ValueError, match=r"n_samples must be an integer in \[1, "):
        monte_carlo(CARLSMITH_2020, n_samples=0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        monte_carlo(CARLSMITH_2020, n_samples=10, rng=0)
    mc = monte_carlo(CARLSMITH_2020, n_samples=10, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]; got 1.5"):
        mc.quantile(1.5)
    with pytest.raises(ValueError, match=r"published point value"):
        dettmers_decomposition(dataclasses.replace(DETTMERS_2015, published=None))
