"""Brian2 set-ups that check the simulator against theory: cables, trees and the HH axon.

Each function builds a small ``SpatialNeuron`` directly from a
:class:`~neurocomp.biophysics.morphology_tree.Morphology` (no synapses), runs it on the chosen
backend, and returns plain numpy arrays for comparison with :mod:`neurocomp.biophysics.cable`
and :mod:`neurocomp.biophysics.channels`. ``C_m`` and ``R_i`` are always set explicitly
(Brian2's defaults, 0.9 µF/cm² and 150 Ω·cm, differ from NEURON's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics.backend import brian_backend, import_brian2, run_standalone_build
from neurocomp.biophysics.build_cache import standalone_directory, store_standalone_build
from neurocomp.biophysics.channels import (
    HH_REVERSAL_ABOVE_REST_MV,
    HH_SQUID,
    hh_potassium,
    hh_sodium,
)
from neurocomp.biophysics.mechanisms import brian2_equations
from neurocomp.biophysics.morphology import cable
from neurocomp.biophysics.morphology_tree import Morphology
from neurocomp.biophysics.units import accepts_quantities
from neurocomp.checks import check_int, check_real

__all__ = ["AxonVelocity", "hh_axon_velocity", "passive_steady_state"]


@accepts_quantities
def passive_steady_state(morphology: Morphology, *, Rm_ohm_cm2: float, Ri_ohm_cm: float,
                         inject_at: int, current_nA: float, duration_ms: float = 200.0,
                         dt_ms: float = 0.1, backend: str = "numpy") -> np.ndarray:
    """Depolarisation (mV above rest) of every compartment after a long current step.

    Runs for ``duration_ms`` (choose ≥ 10 τ_m so the transient has decayed below 1e-4 of the
    steady state) with a constant current injected into compartment ``inject_at``.
    """
    b2 = import_brian2()
    check_real("Rm_ohm_cm2", Rm_ohm_cm2, low=0, low_inclusive=False, unit="Ω·cm²")
    check_real("Ri_ohm_cm", Ri_ohm_cm, low=0, low_inclusive=False, unit="Ω·cm")
    n = morphology.n_compartments
    check_int("inject_at", inject_at, low=0, high=n - 1)
    eqs = """
    Im = gL*(E_rest - v) : amp/meter**2
    I : amp (point current)
    gL : siemens/meter**2
    """
    directory = (standalone_directory(f"passive-{n}-{morphology.source}")
                 if backend == "cpp_standalone" else None)
    with brian_backend(backend, directory=directory):
        neuron = b2.SpatialNeuron(morphology=morphology.to_brian2(), model=eqs,
                                  Cm=1 * b2.uF / b2.cm**2, Ri=Ri_ohm_cm * b2.ohm * b2.cm,
                                  method="exponential_euler", name="cable",
                                  namespace={"E_rest": 0 * b2.mV}, dt=dt_ms * b2.ms)
        neuron.v = 0 * b2.mV
        neuron.gL = 1 / (Rm_ohm_cm2 * b2.ohm * b2.cm**2)
        neuron.I[inject_at:inject_at + 1] = current_nA * b2.nA
        net = b2.Network(neuron)
        net.run(duration_ms * b2.ms, namespace={})
        if backend == "cpp_standalone":
            run_standalone_build(directory)
            store_standalone_build(directory)
        return np.asarray(neuron.v / b2.mV).copy()


@dataclass(frozen=True, kw_only=True)
class AxonVelocity:
    """Conduction of an action potential along an HH axon.

    Attributes
    ----------
    velocity_m_per_s : float
        Distance between the two recording sites over the difference of their spike times.
    positions_um : ndarray
        Recording sites along the axon, µm.
    spike_times_ms : ndarray
        Threshold-crossing time at each site, ms (NaN where no spike arrived).
    peak_mV : float
        Largest voltage reached at the second site, mV (absolute).
    t_ms, v_mV : ndarray
        The recorded traces: times (ms) and voltage at each site (sites × times, mV).
    """

    velocity_m_per_s: float
    positions_um: np.ndarray
    spike_times_ms: np.ndarray
    peak_mV: float
    t_ms: np.ndarray
    v_mV: np.ndarray


@accepts_quantities
def hh_axon_velocity(*, diameter_um: float = 476.0, Ri_ohm_cm: float = 35.4,
                     temperature_C: float = 18.5, length_um: float = 25_000.0,
                     dx_um: float = 100.0, dt_ms: float = 0.005, duration_ms: float = 3.0,
                     sites_um: tuple[float, float] = (5_000.0, 15_000.0),
                     kick_um: float = 2_500.0, kick_mV: float = 60.0,
                     backend: str = "numpy") -> AxonVelocity:
    """Speed of a propagating HH action potential (defaults: Huxley's squid axon, 18.5 °C).

    The spike is started by depolarising the first ``kick_um`` by ``kick_mV`` at t = 0 (a
    short kick diffuses away faster than Na⁺ activates on this thick, λ ≈ 1 cm axon); it is
    timed by
    the upward crossing of −20 mV (linearly interpolated) at two sites far from both ends.
    Huxley's computation gives 18.8 m/s for these parameters (docs/references.md#anchors-neuro-3-2).
    """
    b2 = import_brian2()
    from neurocomp.biophysics.recording import detect_spikes

    n = round(check_real("length_um", length_um, low=0, low_inclusive=False)
                  / check_real("dx_um", dx_um, low=0, low_inclusive=False))
    morph = cable(length_um=length_um, diameter_um=diameter_um, n_compartments=n,
                  region="axon")
    e_rest = -65.0
    channels = (hh_sodium(E_rest_mV=e_rest), hh_potassium(E_rest_mV=e_rest))
    rows = [round(s / dx_um - 0.5) for s in sites_um]
    directory = (standalone_directory(f"hh-axon-{n}-{temperature_C}")
                 if backend == "cpp_standalone" else None)
    with brian_backend(backend, directory=directory):
        axon = b2.SpatialNeuron(morphology=morph.to_brian2(),
                                model=brian2_equations(channels,
                                                       temperature_C=temperature_C),
                                Cm=HH_SQUID.Cm_uF_cm2 * b2.uF / b2.cm**2,
                                Ri=Ri_ohm_cm * b2.ohm * b2.cm, method="exponential_euler",
                                name="hh_axon", namespace={}, dt=dt_ms * b2.ms)
        axon.v = e_rest * b2.mV
        for c in channels:
            for g in c.gates:
                setattr(axon, c.state_name(g), float(g.steady_state(e_rest)))
        axon.gbar_hh_na = HH_SQUID.gNa_mS_cm2 * b2.msiemens / b2.cm**2
        axon.gbar_hh_k = HH_SQUID.gK_mS_cm2 * b2.msiemens / b2.cm**2
        axon.gL = HH_SQUID.gL_mS_cm2 * b2.msiemens / b2.cm**2
        axon.E_L = (e_rest + HH_REVERSAL_ABOVE_REST_MV["L"]) * b2.mV  # HH 1952's own leak
        n_kick = max(1, round(kick_um / dx_um))
        axon.v[0:n_kick] = (e_rest + kick_mV) * b2.mV
        mon = b2.StateMonitor(axon, "v", record=rows, name="hh_axon_mon")
        net = b2.Network(axon, mon)
        net.run(duration_ms * b2.ms, namespace={})
        if backend == "cpp_standalone":
            run_standalone_build(directory)
            store_standalone_build(directory)
        t = np.asarray(mon.t / b2.ms)
        v = np.asarray(mon.v / b2.mV)
    times = np.array([(lambda s: s[0] if s.size else np.nan)(detect_spikes(t, v[k], -20.0))
                      for k in range(len(rows))])
    pos = (np.asarray(rows) + 0.5) * dx_um
    velocity = (pos[1] - pos[0]) * 1e-6 / ((times[1] - times[0]) * 1e-3)
    return AxonVelocity(velocity_m_per_s=float(velocity), positions_um=pos,
                        spike_times_ms=times, peak_mV=float(v[1].max()), t_ms=t, v_mV=v)
