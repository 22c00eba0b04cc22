"""The PyTorch engine against NEURON 9 (slow): a passive cable and Huxley's squid axon.

NEURON is an independent implementation of the same discretisation: ``nseg`` segments with
nodes at their centres, sealed ends (the zero-area end nodes carry no current), backward
Euler for V (``secondorder = 0``) and ``cnexp`` (exponential Euler at fixed V) for the HH
gates. Its built-in ``hh`` uses the rates the engine's ``hh_sodium``/``hh_potassium`` units
write (u = V + 65 mV, Q10 = 3 from 6.3 °C); its rate tables are switched off
(``usetable_hh = 0``) and ``el_hh`` is set to the engine's −54.387 mV.

The step orders differ (NEURON solves V with the old gates and then updates the gates at
the new V; the engine, as Brian2, updates the gates at the old V and then solves V). The
recurrences are the same, one gate update apart: from a steady state they give the same
voltages; from the axon's kick (segments set to −5 mV with their gates left at rest) they
differ at O(dt) — measured 2.1 % in velocity at dt 5 µs. ``first_step="neuron"`` takes the
engine's first step with the gates held (NEURON's convention); then the engine equals
NEURON to round-off (~1e-10 mV) on the kicked axon as well.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurocomp.biophysics import (
    ChannelDensity,
    CurrentClamp,
    Membrane,
    NeuronModel,
    RecordSite,
    detect_spikes,
    morphology,
)
from neurocomp.biophysics.channels import hh_potassium, hh_sodium
from neurocomp.engine import simulate

os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")  # before NEURON's first import
neuron = pytest.importorskip("neuron")

pytestmark = pytest.mark.slow


def _neuron_run(sec, *, dt_ms: float, n_steps: int, rows: list[int], v_init: float,
                kick: dict[int, float] | None = None, secondorder: int = 0) -> np.ndarray:
    """V (mV) at segment ``rows`` at the start of every step (as the engine records);
    ``secondorder = 2`` is NEURON's Crank–Nicolson."""
    h = neuron.h
    h.dt = dt_ms
    h.secondorder = secondorder
    h.finitialize(v_init)
    n = sec.nseg
    for k, value in (kick or {}).items():
        sec((k + 0.5) / n).v = value
    out = np.empty((len(rows), n_steps))
    segs = [sec((r + 0.5) / n) for r in rows]
    for step in range(n_steps):
        for j, seg in enumerate(segs):
            out[j, step] = seg.v
        h.fadvance()
    return out


@pytest.mark.parametrize(("method", "secondorder"),
                         [("backward_euler", 0), ("crank_nicolson", 2)])
def test_passive_cable_matches_neuron(method: str, secondorder: int) -> None:
    """A sealed 1 mm cable (d 2 µm, 100 segments, R_m 10 kΩ·cm², R_i 100 Ω·cm) driven at
    its first segment by 0.05 nA for 20 ms, 40 ms at dt 25 µs: mean |ΔV| ≤ 0.05 mV at three
    sites, by backward Euler and by Crank–Nicolson (NEURON's ``secondorder`` 0 and 2; the
    same linear systems: seen at round-off, ≤ 4e-12 mV)."""
    L, d, n, dt, steps = 1000.0, 2.0, 100, 0.025, 1600
    rows = [0, 50, 99]
    h = neuron.h
    sec = h.Section(name="cable")
    sec.L, sec.diam, sec.nseg, sec.Ra, sec.cm = L, d, n, 100.0, 1.0
    sec.insert("pas")
    for seg in sec:
        seg.pas.g, seg.pas.e = 1e-4, 0.0
    stim = h.IClamp(sec(0.5 / n))
    stim.delay, stim.dur, stim.amp = 0.0, 20.0, 0.05
    ref = _neuron_run(sec, dt_ms=dt, n_steps=steps, rows=rows, v_init=0.0,
                      secondorder=secondorder)
    del stim, sec

    morph = morphology.cable(length_um=L, diameter_um=d, n_compartments=n, region="dendrite")
    model = NeuronModel(name="cable", morphology=morph, Ri_ohm_cm=100.0, E_rest_mV=0.0,
                        densities={"dendrite": Membrane(g_leak_S_cm2=1e-4, E_leak_mV=0.0)})
    clamp = CurrentClamp(index=0, amplitude_nA=0.05, start_ms=0.0, duration_ms=20.0)
    got = simulate(model, {}, duration_ms=steps * dt, dt_ms=dt, clamps=[clamp], threads=1,
                   record=[RecordSite(label=f"c{k}", index=k) for k in rows], method=method)
    dv = np.abs(got.traces["v"] - ref).mean(axis=1)
    assert ref[0].max() > 1.0  # the cable was driven (seen ~2.6 mV at the clamp)
    assert (dv <= 0.05).all(), dv
    assert (dv <= 1e-6).all(), dv  # the same linear system: round-off only


def _hh_axon_pair(dt: float, first_step: str = "brian2", method: str = "backward_euler"
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Huxley's squid axon (476 µm, R_i 35.4 Ω·cm, 18.5 °C), 10 mm at 100 µm, the first
    1 mm kicked to −5 mV, 1.5 ms: (t, V NEURON, V engine) at 3 and 7 mm."""
    length, dx, duration = 10_000.0, 100.0, 1.5
    n = round(length / dx)
    steps = round(duration / dt)
    rows = [round(s / dx - 0.5) for s in (3_000.0, 7_000.0)]
    h = neuron.h
    h.celsius = 18.5
    h.usetable_hh = 0
    sec = h.Section(name="axon")
    sec.L, sec.diam, sec.nseg, sec.Ra, sec.cm = length, 476.0, n, 35.4, 1.0
    sec.insert("hh")
    for seg in sec:
        seg.hh.gnabar, seg.hh.gkbar, seg.hh.gl, seg.hh.el = 0.12, 0.036, 0.3e-3, -54.387
    sec.ena, sec.ek = 50.0, -77.0
    ref = _neuron_run(sec, dt_ms=dt, n_steps=steps, rows=rows, v_init=-65.0,
                      kick={k: -5.0 for k in range(10)},
                      secondorder=2 if method == "crank_nicolson" else 0)
    del sec
    morph = morphology.cable(length_um=length, diameter_um=476.0, n_compartments=n,
                             region="axon")
    mem = Membrane(g_leak_S_cm2=0.3e-3, E_leak_mV=-65.0 + 10.613, Cm_uF_cm2=1.0,
                   channels=(ChannelDensity(channel=hh_sodium(E_rest_mV=-65.0), gbar=0.12),
                             ChannelDensity(channel=hh_potassium(E_rest_mV=-65.0),
                                            gbar=0.036)))
    model = NeuronModel(name="hh_axon", morphology=morph, densities={"axon": mem},
                        Ri_ohm_cm=35.4, E_rest_mV=-65.0, temperature_C=18.5)
    v0 = np.full(n, -65.0)
    v0[:10] = -5.0
    got = simulate(model, {}, duration_ms=duration, dt_ms=dt, v_init_mV=v0, threads=1,
                   record=[RecordSite(label=f"x{r}", index=r) for r in rows],
                   first_step=first_step, method=method)
    return got.t_ms, ref, got.traces["v"], rows


def _velocity(t: np.ndarray, v: np.ndarray, rows: list[int]) -> float:
    times = [detect_spikes(t, v[k], -20.0)[0] for k in range(2)]
    return (rows[1] - rows[0]) * 100.0 * 1e-6 / ((times[1] - times[0]) * 1e-3)


def test_hh_axon_brian2_start_converges_to_neurons() -> None:
    """With Brian2's first step (the gates updated from the kicked voltage before the first
    solve) the gap to NEURON is the O(dt) start: the velocity gap shrinks in proportion to dt
    (seen 2.1 %, 0.9 %, 0.45 % at dt 5, 2, 1 µs; NEURON itself moves 0.12 % over that range)."""
    gaps = []
    for dt in (0.005, 0.002, 0.001):
        t, ref, got, rows = _hh_axon_pair(dt)
        v_ref, v_got = _velocity(t, ref, rows), _velocity(t, got, rows)
        assert 15.0 < v_ref < 25.0  # Huxley's ~18.8 m/s at coarse 100 µm compartments
        gaps.append(abs(v_got / v_ref - 1.0))
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[0] / gaps[2] == pytest.approx(5.0, rel=0.2)  # first order: 5x dt, 5x gap
    assert gaps[2] <= 5e-3, gaps


def test_hh_axon_matches_neuron_at_5us() -> None:
    """The issue's criterion at the Brian2 test's dt (5 µs), with NEURON's first-step
    convention: velocity within 0.5 % and mean |ΔV| ≤ 0.05 mV at 3 and 7 mm. The same
    recurrence in both, so the match is at round-off (seen ≤ 2e-10 mV); 1e-6 mV leaves room
    for summation order across BLAS builds while still failing any scheme difference."""
    t, ref, got, rows = _hh_axon_pair(0.005, first_step="neuron")
    assert ref.max() > 0.0  # the spike reached both sites (seen peaks ~ +30 mV)
    assert _velocity(t, got, rows) == pytest.approx(_velocity(t, ref, rows), rel=5e-3)
    dv = np.abs(got - ref).mean(axis=1)
    assert (dv <= 0.05).all(), dv
    assert (np.abs(got - ref).max() <= 1e-6), np.abs(got - ref).max()


def test_hh_axon_crank_nicolson_matches_neurons_secondorder() -> None:
    """Crank–Nicolson with NEURON's first step against NEURON's ``secondorder = 2`` on the
    kicked HH axon at dt 5 µs: the same scheme (seen ≤ 1e-10 mV apart, velocity equal to
    1e-12 relative), so the issue's bar (mean |ΔV| ≤ 0.05 mV, velocity within 0.5 %) holds
    with room; 1e-6 mV fails any difference of scheme."""
    t, ref, got, rows = _hh_axon_pair(0.005, first_step="neuron", method="crank_nicolson")
    assert ref.max() > 0.0  # the spike reached both sites
    assert _velocity(t, got, rows) == pytest.approx(_velocity(t, ref, rows), rel=5e-3)
    assert (np.abs(got - ref).mean(axis=1) <= 0.05).all()
    assert np.abs(got - ref).max() <= 1e-6, np.abs(got - ref).max()
