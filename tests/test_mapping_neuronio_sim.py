"""The Brian2 side of NeuronIO-mini: channel layout, model fingerprint (the model part of the
data set's key), the channel array → spike trains conversion, and the L5 conditions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from neurocomp_models.neuronio import CONDITIONS
from neurocomp_models.neurons import l5_pyramidal

from neurocomp.biophysics.mechanisms import ChannelDensity
from neurocomp.biophysics.model import Stages
from neurocomp.mapping.neuronio_sim import (
    BrianSimulator,
    channel_table,
    dendritic_sites,
    model_fingerprint,
)


def test_channel_table_is_one_exc_and_one_inh_per_dendritic_compartment():
    m = l5_pyramidal()
    ch = channel_table(m)
    table = m.morphology.compartment_table()
    dend = table["index"][np.isin(table["region"], ("basal", "apical"))]
    n = dend.size
    assert ch.n_channels == 2 * n  # Beniaguev's layout: exc then inh, same order
    assert list(ch.compartment[:n]) == list(dend) == list(ch.compartment[n:])
    assert set(ch.subtree) == {"basal", "apical"}
    # lengths are the compartments' own (so rates per µm become rates per channel)
    np.testing.assert_allclose(ch.lengths()[:n], table["length_um"][dend], rtol=0, atol=0)


def test_fingerprint_changes_with_any_model_parameter_and_with_the_stages():
    base = model_fingerprint(l5_pyramidal(), Stages(release="deterministic"))
    assert base == model_fingerprint(l5_pyramidal(), Stages(release="deterministic"))
    m = l5_pyramidal()
    soma = m.densities["soma"]
    tweaked = replace(soma, channels=tuple(
        ChannelDensity(channel=c.channel, gbar=c.gbar * 1.01) if c.channel.name == "Ih" else c
        for c in soma.channels))
    variants = {
        "nmda weight": (l5_pyramidal(nmda_weight_nS=0.41), Stages(release="deterministic")),
        "density": (replace(m, densities={**m.densities, "soma": tweaked}),
                    Stages(release="deterministic")),
        "Ri": (replace(m, Ri_ohm_cm=101.0), Stages(release="deterministic")),
        "temperature": (replace(m, temperature_C=35.0), Stages(release="deterministic")),
        "stages": (m, Stages(release="stochastic")),
        "Nernst E_Ca": (replace(m, calcium_outside_mM=2.0), Stages(release="deterministic")),
        "its cao": (replace(m, calcium_outside_mM=2.5), Stages(release="deterministic")),
    }
    prints = {k: model_fingerprint(*v) for k, v in variants.items()}
    assert base not in prints.values() and len(set(prints.values())) == len(prints)


def test_channel_array_becomes_the_groups_spike_trains():
    cond = CONDITIONS["nmda"]
    sim = cond.simulator()
    n = sim.n_channels
    rng = np.random.default_rng(3)
    x = (rng.random((n, 50)) < 0.05).astype(np.uint8)
    trains = sim.trains(x)
    half = n // 2
    for name, block in (("exc", x[:half]), ("inh", x[half:])):
        t = trains[name]
        back = np.zeros_like(block)
        back[t.indices, (t.times_ms / sim.bin_ms).astype(int)] = 1
        np.testing.assert_array_equal(back, block)  # every spike, in its bin (exact)
    with pytest.raises(ValueError, match=r"inputs must have shape \("):
        sim.trains(x[:-1])
    with pytest.raises(ValueError, match="0 or 1 per bin"):
        sim.trains(x * 2)


def test_sites_and_bad_simulator_settings():
    m = l5_pyramidal()
    sites = dendritic_sites(m, per_region=4)
    table = m.morphology.compartment_table()
    assert len(sites) == 8 and set(table["region"][list(sites)]) == {"basal", "apical"}
    with pytest.raises(ValueError, match="record_dt_ms"):
        BrianSimulator(model=m, stages=Stages(), record_dt_ms=0.3)
    with pytest.raises(ValueError, match="dend_sites: compartment 9999 does not exist"):
        BrianSimulator(model=m, stages=Stages(), dend_sites=(9999,))


def test_conditions_differ_only_in_nmda_and_drive():
    a, b = CONDITIONS["nmda"], CONDITIONS["ampa"]
    assert a.channels() == b.channels()  # same layout: one surrogate input for both
    w = {c.name: {g.name: dict(g.receptors) for g in c.model().synapse_groups}
         for c in (a, b)}
    assert w["nmda"]["exc"]["nmda"] > 0 and w["ampa"]["exc"]["nmda"] == 0
    assert b.stats.rate_scale_exc > a.stats.rate_scale_exc  # AMPA only needs more drive


def _small_cell():
    """The ball-and-stick cell (10 dendritic compartments) laid out as NeuronIO-mini wants:
    one excitatory (AMPA + NMDA) and one inhibitory synapse per dendritic compartment."""
    from neurocomp_models.neurons import ball_and_stick_model

    from neurocomp.biophysics import SynapseGroup

    m = ball_and_stick_model(n_compartments=10)
    table = m.morphology.compartment_table()
    dend = tuple(int(i) for i in table["index"][table["region"] == "dendrite"])
    groups = (SynapseGroup(name="exc", n_synapses=len(dend), n_sources=len(dend),
                           compartments=dend, receptors={"ampa": 1.5, "nmda": 1.0}),
              SynapseGroup(name="inh", n_synapses=len(dend), n_sources=len(dend),
                           compartments=dend, receptors={"gaba_a": 1.0}))
    return replace(m, synapse_groups=groups), dend


def test_torch_simulator_settings_are_checked():
    from neurocomp.mapping import TorchSimulator

    m, dend = _small_cell()
    with pytest.raises(ValueError, match="batch_size"):
        TorchSimulator(model=m, stages=Stages(release="deterministic"), batch_size=0)
    with pytest.raises(ValueError, match="dtype"):
        TorchSimulator(model=m, stages=Stages(release="deterministic"), dtype="float16")
    with pytest.raises(ValueError, match=r"stochastic release .* use batch_size=1"):
        TorchSimulator(model=m, stages=Stages(release="stochastic"), batch_size=4)
    sim = TorchSimulator(model=m, stages=Stages(release="deterministic"), compile=False)
    x = np.zeros((2 * len(dend), 20), dtype=np.uint8)
    with pytest.raises(ValueError, match="one seed per input"):
        sim.simulate_batch([x, x], [1])
    with pytest.raises(ValueError, match=r"one length; got \[10, 20\]"):
        sim.simulate_batch([x, x[:, :10]], [1, 2])


@pytest.mark.slow
def test_torch_simulator_equals_brian2_on_the_same_channel_input():
    """Two input patterns (one engine pass, float64) against Brian2 (numpy target, each
    alone), 150 ms at dt 25 µs: soma and dendritic voltage per 1 ms bin within 1e-4 mV
    (both integrate the same equations in the same order; measured 2.3e-6 mV at most, the
    float64 round-off of two codes over 6,000 steps), and the same
    output spikes, each in the same bin or the next (a spike time on a bin edge falls on
    either side by the last digit of each simulator's clock)."""
    from neurocomp.mapping import TorchSimulator

    m, dend = _small_cell()
    stages = Stages(release="deterministic")
    kw = {"model": m, "stages": stages, "dend_sites": (dend[2], dend[-1])}
    brian = BrianSimulator(**kw, backend="numpy")
    engine = TorchSimulator(**kw, batch_size=2, compile=False)
    rng = np.random.default_rng(5)
    xs = [np.concatenate([(rng.random((len(dend), 150)) < p).astype(np.uint8),
                          (rng.random((len(dend), 150)) < 0.01).astype(np.uint8)])
          for p in (0.15, 0.08)]
    got = engine.simulate_batch(xs, [11, 12])
    n_spikes = 0
    for x, g in zip(xs, got, strict=True):
        ref = brian(x, 0)
        np.testing.assert_allclose(g["soma_mV"], ref["soma_mV"], rtol=0, atol=1e-4)
        np.testing.assert_allclose(g["dend_mV"], ref["dend_mV"], rtol=0, atol=1e-4)
        a, b = np.flatnonzero(g["spikes"]), np.flatnonzero(ref["spikes"])
        assert a.size == b.size and (np.abs(a - b) <= 1).all(), (a, b)
        n_spikes += a.size
    assert n_spikes >= 2  # the cell fired: the spike comparison is not vacuous
