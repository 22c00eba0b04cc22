"""The neuron stage of a pipeline run: the Brian2 ``SpatialNeuron`` and its initial state.

:func:`compartment_values` gives every parameter and state per compartment at the start of
a run (membrane potential, leak, capacitance, channel densities, gates at steady state, the
calcium pool; what another simulator needs to build the same cell); :func:`_build_neuron`
makes the ``SpatialNeuron`` of a model's equations with them, its spike detection at the
axon terminal and its current clamps.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocomp.biophysics.backend import import_brian2
from neurocomp.biophysics.clamp import CurrentClamp
from neurocomp.biophysics.mechanisms import calcium_rt_2f_mV
from neurocomp.biophysics.model import NeuronModel

__all__ = ["compartment_values"]


def compartment_values(model: NeuronModel) -> dict[str, np.ndarray]:
    """Per-compartment values of every parameter and state at the start of a run.

    ``v`` = ``v_init_mV`` (default ``E_rest_mV``), mV; gates at steady state there; leak,
    capacitance (µF/cm²) and channel densities (S/cm², profiles evaluated at each
    compartment's path distance) by region; the calcium pool's parameters (``ca_decay`` in
    ms) where a region has one (elsewhere no influx, and ``cai`` stays at rest).
    """
    table = model.morphology.compartment_table()
    n = table["index"].size
    mems = model.membranes()
    channels = model.channels()
    v0 = model.E_rest_mV if model.v_init_mV is None else model.v_init_mV
    out: dict[str, np.ndarray] = {"v": np.full(n, v0), "gL": np.zeros(n), "E_L": np.zeros(n),
                                  "Cm": np.zeros(n)}
    out |= {f"gbar_{c}": np.zeros(n) for c in channels}
    calcium = model.has_calcium
    if calcium:
        out |= {"ca_gamma": np.zeros(n), "ca_decay": np.full(n, 100.0),
                "ca_depth_um": np.full(n, 0.1), "ca_rest": np.full(n, 1e-4)}
    for region, mem in mems.items():
        sel = table["region"] == region
        out["gL"][sel] = mem.g_leak_S_cm2
        out["E_L"][sel] = mem.E_leak_mV
        out["Cm"][sel] = mem.Cm_uF_cm2
        for cd in mem.channels:
            out[f"gbar_{cd.channel.name}"][sel] = cd.at(table["distance_um"][sel])
        if calcium and mem.calcium is not None:
            pool = mem.calcium
            out["ca_gamma"][sel] = pool.gamma
            out["ca_decay"][sel] = pool.decay_ms
            out["ca_depth_um"][sel] = pool.depth_um
            out["ca_rest"][sel] = pool.rest_mM
    cai = out["ca_rest"] if calcium else np.full(n, 1e-4)
    if calcium:
        out["cai"] = cai.copy()
    if model.calcium_nernst:
        out["eca"] = calcium_rt_2f_mV(model.temperature_C) * np.log(
            model.calcium_outside_mM / cai)
    for c in channels.values():
        for g in c.gates:
            out[c.state_name(g)] = np.broadcast_to(g.steady_state(out["v"], cai), (n,)).copy()
    return out


def _set_by_runs(neuron: Any, name: str, values: np.ndarray, unit: Any) -> None:
    """Assign per-compartment ``values`` by contiguous runs of equal values (pitfall P2:
    no integer-array indexing in cpp_standalone)."""
    values = np.asarray(values, dtype=np.float64)
    if np.all(values == values[0]):
        setattr(neuron, name, values[0] * unit)
        return
    breaks = np.r_[0, np.flatnonzero(np.diff(values) != 0) + 1, values.size]
    if breaks.size - 1 > values.size // 4:  # mostly distinct values: assign the whole array
        setattr(neuron, name, values * unit)
        return
    var = getattr(neuron, name)
    for a, b in itertools.pairwise(breaks):
        var[int(a):int(b)] = values[a] * unit


def _state_unit(b2: Any, name: str) -> Any:
    """The Brian2 unit of an :func:`compartment_values` entry: mV (``v``, ``E_L``), S/cm² (``gL``,
    ``gbar_<channel>``), µF/cm² (``Cm``), ms (``ca_decay``), else 1 (gates, calcium)."""
    mV, ms, cm, siemens, uF = b2.mV, b2.ms, b2.cm, b2.siemens, b2.uF
    return {"v": mV, "gL": siemens / cm**2, "E_L": mV, "Cm": uF / cm**2, "eca": mV,
            "ca_decay": ms}.get(name, siemens / cm**2 if name.startswith("gbar_") else 1)


def _build_neuron(model: NeuronModel, equations: str, *, dt_ms: float, duration_ms: float,
                  clamps: Sequence[CurrentClamp], has_axon: bool) -> Any:
    """The ``SpatialNeuron`` named ``neuron``, in its initial state.

    Parameters
    ----------
    model : NeuronModel
        The neuron: morphology, axial resistivity (Ω·cm), spike threshold (mV) and the
        values of :func:`compartment_values`.
    equations : str
        Its equations, with ``len(clamps)`` clamp waveforms
        (:meth:`~neurocomp.biophysics.pipeline.NeuronPipeline.equations`).
    dt_ms, duration_ms : float
        Integration step and duration of the run, ms (the clamp waveforms are sampled at
        ``dt_ms`` over ``duration_ms``).
    clamps : sequence of CurrentClamp
        Currents injected at compartments: waveform ``clamp<k>_wave`` (a ``TimedArray``) and
        amplitude ``clamp<k>_amp`` (nA at the clamp's compartment, 0 elsewhere).
    has_axon : bool
        Whether spikes are detected at the axon terminal (``v`` above the threshold, refractory
        while above threshold − 10 mV).

    Returns
    -------
    brian2.SpatialNeuron
        Integrated by exponential Euler at ``dt_ms``, with a specific capacitance of
        1 µF/cm² (overridden per compartment by ``Cm``).
    """
    b2 = import_brian2()
    ms, ohm, cm, uF = b2.ms, b2.ohm, b2.cm, b2.uF
    morpho = model.morphology.to_brian2()
    kwargs: dict[str, Any] = {}
    if has_axon:
        kwargs = {"threshold": f"v > {model.spike_threshold_mV!r}*mV",
                  "threshold_location": model.terminal_index,
                  "refractory": f"v > {model.spike_threshold_mV - 10!r}*mV"}
    namespace: dict[str, Any] = {}
    for k, clamp in enumerate(clamps):
        namespace[f"clamp{k}_wave"] = b2.TimedArray(
            clamp.waveform(dt_ms=dt_ms, duration_ms=duration_ms), dt=dt_ms * ms)
    neuron = b2.SpatialNeuron(morphology=morpho, model=equations,
                              Cm=1 * uF / cm**2, Ri=model.Ri_ohm_cm * ohm * cm,
                              method="exponential_euler", name="neuron",
                              namespace=namespace, dt=dt_ms * ms, **kwargs)
    for name, values in compartment_values(model).items():
        _set_by_runs(neuron, name, values, _state_unit(b2, name))
    for k, clamp in enumerate(clamps):
        getattr(neuron, f"clamp{k}_amp")[clamp.index] = clamp.amplitude_nA * b2.nA
    if model.calcium_nernst:
        # E_Ca from the step's starting cai, before the state update (NEURON's order)
        neuron.run_regularly(f"eca = {calcium_rt_2f_mV(model.temperature_C)!r}*mV*log("
                             f"{model.calcium_outside_mM!r}/cai)", when="start",
                             name="neuron_eca")
    return neuron
