"""Biophysics, pure tier: morphology, SWC, receptors, release, inputs, channels, cable theory.

No simulation here; tolerances are round-off unless stated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurocomp.biophysics import Morphology, MorphologyError, Section
from neurocomp.biophysics import inputs as spikes
from neurocomp.biophysics.cable import (
    CableParameters,
    finite_cable_input_resistance_mohm,
    finite_cable_steady_state_mV,
    psp_peak_time_ms,
    psp_waveform,
    semi_infinite_input_resistance_mohm,
)
from neurocomp.biophysics.channels import (
    HH_SQUID,
    ChannelDensities,
    leak_reversal_for_rest_mV,
    max_stable_dt_ms,
    resting_gates,
    temperature_factor,
)
from neurocomp.biophysics.model import NeuronModel, Stages, SynapseGroup
from neurocomp.biophysics.morphology import (
    ball_and_stick,
    rall_daughter_diameter_um,
    read_swc,
    symmetric_tree,
    with_axon,
)
from neurocomp.biophysics.receptors import AMPA, NMDA, mg_block, receptor_waveform
from neurocomp.biophysics.release import ReleaseParameters, simulate_release

REF = Path(__file__).parent / "reference"

# -- morphology -------------------------------------------------------------------------------


def test_compartment_order_matches_brian2():
    m = with_axon(symmetric_tree(levels=3, root_length_um=100, root_diameter_um=2,
                                 n_per_section=3, soma_diameter_um=15),
                  ais_length_um=20, ais_diameter_um=1, ais_compartments=2,
                  axon_length_um=300, axon_diameter_um=1, axon_compartments=10)
    b2 = m.to_brian2()
    assert b2.total_compartments == m.n_compartments == 1 + 7 * 3 + 2 + 10
    # Brian2's per-section indices (pitfall P1: the morphology object, not the neuron)
    assert list(b2.b0.b0_1.indices[:]) == list(m.indices(section="b0_1"))
    assert list(b2.ais.axon.indices[:]) == list(m.indices(section="axon"))
    table = m.compartment_table()
    assert table["distance_um"][m.indices(section="b0")[0]] == pytest.approx(7.5 + 100 / 6)


def test_rall_rule_and_symmetric_tree():
    # docs/references.md#anchors-neuro-3-1: d = 1 um splitting into 0.5 um needs a 0.7476 um sibling
    assert rall_daughter_diameter_um(1.0, 0.5) == pytest.approx(0.7476, abs=5e-5)
    tree = symmetric_tree(levels=4, root_length_um=200, root_diameter_um=2,
                          n_per_section=2)
    for s in tree.sections:
        kids = tree.children(s.name)
        if kids:  # 3/2 rule at every branch point
            assert s.diameters_um[-1] ** 1.5 == pytest.approx(
                sum(k.diameters_um[0] ** 1.5 for k in kids), rel=1e-12)
            # equal electrotonic length per level: L / sqrt(d) constant
            assert kids[0].length_um / np.sqrt(kids[0].diameters_um[0]) == pytest.approx(
                s.length_um / np.sqrt(s.diameters_um[0]), rel=1e-12)


def test_read_swc_builds_sections_and_a_spherical_soma():
    m = read_swc(REF / "branched.swc")
    assert [s.name for s in m.sections] == ["soma", "basal0", "apical0", "axon0",
                                            "basal1", "basal2"]
    assert m["soma"].diameters_um == (10.0,)  # 3-point soma of radius 5 -> sphere of d 10
    assert m["basal0"].n == 3 and m["basal1"].n == 2 and m["basal2"].n == 1
    assert m["basal1"].parent == "basal0" and m["basal0"].parent == "soma"
    assert m["apical0"].lengths_um == pytest.approx((6.0, 50.0))
    assert m.regions == ("soma", "basal", "apical", "axon")
    assert m.to_brian2().total_compartments == m.n_compartments == 1 + 3 + 2 + 2 + 2 + 1


@pytest.mark.parametrize(("text", "message"), [
    ("1 1 0 0 0 5\n", r"line 1: an SWC line has 7 fields"),
    ("1 1 0 0 0 5 -1\n1 3 1 0 0 1 1\n", r"line 2: id 1 already used on line 1"),
    ("1 1 0 0 0 5 -1\n2 3 1 0 0 1 7\n", r"line 2: parent 7 of point 2 does not exist"),
    ("1 1 0 0 0 5 -1\n2 3 1 0 0 1 -1\n", r"exactly one root .* found 2 \(lines 1, 2\)"),
    ("1 1 0 0 0 5 -1\n2 3 1 0 0 0 1\n", r"line 2: radius must be > 0"),
    ("1 1 0 0 0 5 -1\n2 3 a 0 0 1 1\n", r"line 2: cannot read numbers"),
    ("1 1 0 0 0 5 -1\n2 3 1 0 0 1 3\n3 3 2 0 0 1 2\n", r"not connected to the root"),
    ("1 3 0 0 0 1 -1\n2 3 0 0 0 1 1\n", r"zero-length segment"),
    ("# only a comment\n", r"no SWC points found"),
])
def test_malformed_swc_is_rejected_with_the_line(text, message):
    with pytest.raises(MorphologyError, match=message):
        read_swc("bad.swc", text=text)


def test_missing_swc_file():
    with pytest.raises(MorphologyError, match="SWC file not found"):
        read_swc("/no/such/file.swc")


def test_malformed_trees():
    soma = Section(name="soma", region="soma", parent=None, lengths_um=(10,),
                   diameters_um=(10,), is_soma=True)
    with pytest.raises(MorphologyError, match="names parent 'nope', which is missing"):
        Morphology((soma, Section(name="d", region="dendrite", parent="nope",
                                  lengths_um=(5,), diameters_um=(1, 1))))
    with pytest.raises(MorphologyError, match="two sections are named 'soma'"):
        Morphology((soma, soma))
    with pytest.raises(MorphologyError, match=r"diameters_um must be finite and > 0"):
        Section(name="d", region="x", parent="soma", lengths_um=(5,), diameters_um=(1, -1))
    with pytest.raises(MorphologyError, match=r"needs n >= 1 compartment lengths and n \+ 1"):
        Section(name="d", region="x", parent="soma", lengths_um=(5, 5), diameters_um=(1, 1))


# -- cable theory -----------------------------------------------------------------------------

def test_cable_closed_forms_match_the_reference_table():
    # docs/references.md#anchors-neuro-3-1 worked values [C]: Brian2's finite-cable test and
    # Rallpack 1
    c = CableParameters(diameter_um=1, Rm_ohm_cm2=1e4, Ri_ohm_cm=150)
    assert finite_cable_input_resistance_mohm(cable=c, length_um=300) == pytest.approx(
        1245, abs=0.5)  # table: 1245 MOhm
    v = finite_cable_steady_state_mV(np.array([0.0, 300.0]), cable=c, length_um=300,
                                     current_nA=0.02)
    np.testing.assert_allclose(v, [24.91, 19.42], atol=0.005)  # table: 24.91, 19.42 mV
    r = CableParameters(diameter_um=1, Rm_ohm_cm2=4e4, Ri_ohm_cm=100)
    assert finite_cable_input_resistance_mohm(cable=r, length_um=1000) == pytest.approx(
        1672, abs=0.5)  # Rallpack 1: 1672 MOhm
    s = CableParameters(diameter_um=1, Rm_ohm_cm2=2e4, Ri_ohm_cm=100)
    assert semi_infinite_input_resistance_mohm(s) == pytest.approx(900, abs=0.5)


def test_psp_peak_time_is_the_maximum_of_the_waveform():
    t = np.linspace(0, 60, 600_001)
    w = psp_waveform(t, tau_rise_ms=0.3, tau_decay_ms=3.0, tau_m_ms=20.0)
    tp = psp_peak_time_ms(tau_rise_ms=0.3, tau_decay_ms=3.0, tau_m_ms=20.0)
    assert tp == pytest.approx(t[np.argmax(w)], abs=1e-4)  # grid spacing 1e-4 ms


# -- receptors ---------------------------------------------------------------------------------

def test_receptor_waveform_peaks_at_one_at_the_analytic_time():
    for r in (AMPA, NMDA):
        t = np.linspace(0, 5 * r.tau_decay_ms, 500_001)
        w = receptor_waveform(t, r)
        assert w.max() == pytest.approx(1.0, abs=1e-9)  # peak-normalised
        assert t[np.argmax(w)] == pytest.approx(r.peak_time_ms, abs=t[1])
    assert AMPA.peak_time_ms == pytest.approx(0.3 * 3 / 2.7 * np.log(10), rel=1e-12)


def test_mg_block_matches_jahr_stevens_table():
    # docs/references.md#anchors-neuro-3-3 regression values [C], printed to 4 decimals
    v = np.array([-80, -65, -40, -20, 0, 20])
    np.testing.assert_allclose(mg_block(v, mg_mM=1.0),
                               [0.0244, 0.0597, 0.2302, 0.5081, 0.7812, 0.9250], atol=5e-5)
    np.testing.assert_allclose(mg_block(v, mg_mM=2.0),
                               [0.0124, 0.0308, 0.1300, 0.3406, 0.6409, 0.8605], atol=5e-5)


# -- release ----------------------------------------------------------------------------------

def test_deterministic_release_steady_state_of_a_regular_train():
    p = ReleaseParameters(U=0.4, tau_rec_ms=200.0, n_sites=3)
    isi = 25.0
    out = simulate_release(np.arange(200) * isi, p, mode="deterministic")
    # TM depression without facilitation: x_ss = (1 - e) / (1 - (1 - U) e), e = exp(-isi/tau)
    e = np.exp(-isi / p.tau_rec_ms)
    x_ss = (1 - e) / (1 - (1 - p.U) * e)
    assert out[0] == pytest.approx(3 * 0.4, rel=1e-12)  # rested synapse: N U
    assert out[-1] == pytest.approx(3 * 0.4 * x_ss, rel=1e-9)


def test_stochastic_release_mean_matches_the_deterministic_expectation():
    p = ReleaseParameters(U=0.3, tau_rec_ms=100.0, tau_facil_ms=50.0, n_sites=4)
    times = np.cumsum(np.full(20, 15.0))
    expected = simulate_release(times, p, mode="deterministic")
    rng = np.random.default_rng(5)
    trials = np.array([simulate_release(times, p, mode="stochastic", rng=rng)
                       for _ in range(4000)])
    # the deterministic model is the mean field only to first order (occupancy and u are
    # correlated), so allow 3 % plus 5 standard errors of the 4000-trial mean
    se = trials.std(axis=0) / np.sqrt(len(trials))
    assert np.all(np.abs(trials.mean(0) - expected) < 0.03 * expected + 5 * se)
    assert set(np.unique(trials)) <= set(range(5))  # whole vesicles, at most n_sites


def test_release_parameter_errors():
    with pytest.raises(ValueError, match=r"^U must be in \(0, 1\]; got 1.5"):
        ReleaseParameters(U=1.5)
    with pytest.raises(ValueError, match=r"^n_sites must be an integer in \[1, 20\]; got 0"):
        ReleaseParameters(n_sites=0)
    with pytest.raises(ValueError, match=r"^tau_rec_ms must be in \(0, inf\) ms"):
        ReleaseParameters(tau_rec_ms=0.0)


# -- inputs ---------------------------------------------------------------------------------

def test_poisson_rates_and_reproducibility():
    a = spikes.poisson(n_sources=200, rate_hz=20.0, duration_ms=2000.0,
                       rng=np.random.default_rng(3))
    b = spikes.poisson(n_sources=200, rate_hz=20.0, duration_ms=2000.0,
                       rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.times_ms, b.times_ms)  # same seed, same spikes
    # 8000 expected spikes: the total is within 5 sigma (sqrt(8000) ~ 89)
    assert abs(a.n_spikes - 8000) < 5 * np.sqrt(8000)
    assert np.all(np.diff(a.times_ms) >= 0)


def test_inhomogeneous_poisson_follows_the_rate_profile():
    rates = np.zeros((100, 20))
    rates[:, 10:] = 50.0  # silent for 10 bins, then 50 Hz
    t = spikes.inhomogeneous_poisson(rates_hz=rates, dt_ms=50.0,
                                     rng=np.random.default_rng(1))
    assert t.times_ms.min() >= 500.0  # nothing while the rate is zero
    expected = 100 * 50.0 * 0.5  # 100 sources x 50 Hz x 0.5 s
    assert abs(t.n_spikes - expected) < 5 * np.sqrt(expected)  # 5 sigma


def test_rate_array_input_errors_and_dedupe():
    with pytest.raises(ValueError, match="activations must be >= 0"):
        spikes.from_rate_array(np.array([[1.0, -1.0]]), dt_ms=1, max_rate_hz=10,
                               rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"times_ms must lie in \[0, duration_ms=10\)"):
        spikes.from_times([[1.0, 12.0]], duration_ms=10.0)
    t = spikes.from_times([[1.0, 1.01, 5.0], [2.0]], duration_ms=10.0).dedupe(0.025)
    assert t.n_spikes == 3  # two spikes of one source in one 25 us step become one
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        spikes.poisson(n_sources=1, rate_hz=1.0, duration_ms=10.0, rng=0)



def test_input_builders_refuse_sizes_beyond_the_memory_bound(monkeypatch):
    rng = np.random.default_rng(0)
    monkeypatch.delenv("NEUROCOMP_MAX_MEMORY_GIB", raising=False)
    # ~1e12 spikes (16 TB): refused before drawing, naming the arguments that set the size
    with pytest.raises(ValueError, match=r"about 1e\+12 spikes .*above the bound of 4 GiB; "
                                         r"reduce rate_hz, duration_ms or n_sources"):
        spikes.poisson(n_sources=1000, rate_hz=1e3, duration_ms=1e9, rng=rng)
    with pytest.raises(ValueError, match=r"n_sources=1000000000000 sources"):
        spikes.poisson(n_sources=10**12, rate_hz=1.0, duration_ms=1.0, rng=rng)
    # the bound is an argument: a small draw is refused under a tiny one...
    with pytest.raises(ValueError, match=r"max_memory_gib="):
        spikes.poisson(n_sources=100, rate_hz=100.0, duration_ms=1e3, rng=rng,
                       max_memory_gib=1e-6)
    monkeypatch.setenv("NEUROCOMP_MAX_MEMORY_GIB", "1e-6")
    # ...or an environment variable
    with pytest.raises(ValueError, match=r"above the bound of 1e-06 GiB"):
        spikes.poisson(n_sources=100, rate_hz=100.0, duration_ms=1e3, rng=rng)
    monkeypatch.setenv("NEUROCOMP_MAX_MEMORY_GIB", "lots")
    with pytest.raises(ValueError, match=r"NEUROCOMP_MAX_MEMORY_GIB must be a number"):
        spikes.poisson(n_sources=1, rate_hz=1.0, duration_ms=1.0, rng=rng)
    monkeypatch.delenv("NEUROCOMP_MAX_MEMORY_GIB")
    with pytest.raises(ValueError, match=r"candidate spikes .*reduce rates_hz"):
        spikes.inhomogeneous_poisson(rates_hz=np.full((10, 2), 1e12), dt_ms=1e3, rng=rng)
    with pytest.raises(ValueError, match=r"activations of shape \(2, 3\)"):
        spikes.from_rate_array(np.ones((2, 3)), dt_ms=1.0, max_rate_hz=10.0, rng=rng,
                               max_memory_gib=1e-9)
    # a rate array that fits neither one rate nor one per source is an error, not broadcast
    with pytest.raises(ValueError, match=r"rate_hz must be one rate or one per source "
                                         r"\(n_sources=3\); got shape \(2,\)"):
        spikes.poisson(n_sources=3, rate_hz=[1.0, 2.0], duration_ms=1.0, rng=rng)
    # an ordinary draw is unaffected by the check
    assert spikes.poisson(n_sources=3, rate_hz=[1.0], duration_ms=10.0, rng=rng).n_sources == 3


# -- channels --------------------------------------------------------------------------------

def test_hh_resting_gates_and_leak():
    # docs/references.md#anchors-neuro-3-2 [C + V]: m 0.05293, h 0.59612, n 0.31768 (printed to 5
    # decimals)
    g = resting_gates(0.0)
    assert g["m"] == pytest.approx(0.05293, abs=5e-6)
    assert g["h"] == pytest.approx(0.59612, abs=5e-6)
    assert g["n"] == pytest.approx(0.31768, abs=5e-6)
    # HH 1952 chose E_L = rest + 10.613 mV so the squid membrane rests at rest; their rates
    # and rounding leave 0.014 mV between that value and the exact balance
    assert leak_reversal_for_rest_mV(HH_SQUID, E_rest_mV=-65.0) == pytest.approx(
        -65.0 + 10.613, abs=0.02)
    assert temperature_factor(16.3) == pytest.approx(3.0, rel=1e-12)
    assert max_stable_dt_ms(6.3) >= 0.025 > max_stable_dt_ms(18.5)


# -- model validation -------------------------------------------------------------------------

def _tiny() -> Morphology:
    return ball_and_stick(soma_diameter_um=10, dendrite_length_um=100,
                          dendrite_diameter_um=1, n_compartments=5)


def test_model_rejects_bad_structure():
    dens = {"soma": ChannelDensities(), "dendrite": ChannelDensities()}
    with pytest.raises(ValueError, match=r"compartment 9 does not exist \(.* 0 to 5\)"):
        NeuronModel(name="x", morphology=_tiny(), densities=dens, Ri_ohm_cm=100,
                    synapse_groups=(SynapseGroup(name="s", compartments=(9,)),))
    with pytest.raises(ValueError, match=r"region\(s\) \['tuft'\] are not in the morphology"):
        NeuronModel(name="x", morphology=_tiny(), densities=dens, Ri_ohm_cm=100,
                    synapse_groups=(SynapseGroup(name="s", regions=("tuft",)),))
    with pytest.raises(ValueError, match=r"densities are missing for regions \['dendrite'\]"):
        NeuronModel(name="x", morphology=_tiny(), densities={"soma": ChannelDensities()},
                    Ri_ohm_cm=100)
    with pytest.raises(ValueError, match=r"unknown receptors \['kainate'\]"):
        NeuronModel(name="x", morphology=_tiny(), densities=dens, Ri_ohm_cm=100,
                    synapse_groups=(SynapseGroup(name="s", receptors={"kainate": 1.0}),))
    with pytest.raises(ValueError, match="release must be one of"):
        Stages(release="sometimes")


def test_stage_switches_change_the_model():
    from neurocomp_models.neurons import l5_pyramidal, l5_pyramidal_squid

    m = l5_pyramidal_squid(n_excitatory=50, n_inhibitory=10)
    passive = m.with_stages(Stages(dendrites="passive", nmda=False, spike_initiation=False))
    assert all(not passive.densities[r].active for r in ("basal", "apical", "tuft"))
    assert passive.densities["soma"].active  # the soma keeps its channels
    assert passive.densities["ais"].gNa_mS_cm2 == 0.0
    assert all("nmda" not in g.receptors for g in passive.synapse_groups)
    # placement is part of the model: same synapses whatever the stages
    np.testing.assert_array_equal(m.synapse_compartments()["exc"],
                                  passive.synapse_compartments()["exc"])
    # the same switches on a model of channel units (Membranes): dendrites lose every gated
    # channel, the AIS loses its Na+ channels and keeps the others
    hay = l5_pyramidal()
    cut = hay.with_stages(Stages(dendrites="passive", spike_initiation=False))
    assert all(not cut.densities[r].channels for r in ("basal", "apical"))
    assert cut.densities["soma"].active
    ais = {c.channel.name: c.channel.ion for c in cut.densities["ais"].channels}
    assert "na" not in ais.values() and "K_Tst" in ais
