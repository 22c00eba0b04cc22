"""``NeuronPipeline``: the neuron's stages assembled in Brian2, run, and recorded.

The signal follows Dettmers' (2015) pipeline: presynaptic spikes (input) → transmitter
release (Tsodyks–Markram, stochastic or deterministic) → receptors (per-compartment
difference-of-exponentials conductances; NMDA with its Mg²⁺ block) → dendrites (passive or
active cable) → soma → spike initiation in the axon initial segment → Hodgkin–Huxley axon,
whose far end is the neuron's output. :meth:`NeuronPipeline.run` returns a
:class:`~neurocomp.biophysics.recording.Recording` with traces, spikes per stage and the
event counts the accounting pillar consumes.

The pieces of a run are in sibling modules: its argument, step and size checks in
:mod:`~neurocomp.biophysics.pipeline_checks`, the ``SpatialNeuron`` and its initial state in
:mod:`~neurocomp.biophysics.pipeline_neuron`, the inputs and synapses in
:mod:`~neurocomp.biophysics.pipeline_synapses`, and the monitors, the network run and its raw
results in :mod:`~neurocomp.biophysics.pipeline_monitors`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocomp.biophysics.backend import BACKENDS
from neurocomp.biophysics.clamp import CurrentClamp, check_clamps
from neurocomp.biophysics.engines import engine_names, load_engine
from neurocomp.biophysics.inputs import SpikeTrains
from neurocomp.biophysics.mechanisms import brian2_equations
from neurocomp.biophysics.model import AXONAL_REGIONS, NeuronModel, Stages
from neurocomp.biophysics.pipeline_build import BuiltPipeline, _RunSpec
from neurocomp.biophysics.pipeline_checks import _check_size, _check_times
from neurocomp.biophysics.receptors import receptor_equations
from neurocomp.biophysics.recording import Recording
from neurocomp.checks import check_int

__all__ = ["BuiltPipeline", "NeuronPipeline", "RecordSite"]


@dataclass(frozen=True, kw_only=True)
class RecordSite:
    """A compartment to record, with a label."""

    label: str
    index: int


def _check_sites(sites: Sequence[RecordSite], *, n_compartments: int) -> None:
    """Each site a :class:`RecordSite` of an existing compartment (0 to ``n_compartments``
    − 1), or a TypeError/ValueError naming it."""
    for s in sites:
        if not isinstance(s, RecordSite):
            raise TypeError(f"record must hold RecordSite objects; got "
                            f"{type(s).__name__}")
        if not 0 <= s.index < n_compartments:
            raise ValueError(f"record site {s.label!r}: compartment {s.index} does not "
                             f"exist (0 to {n_compartments - 1})")


class NeuronPipeline:
    """Assemble a :class:`NeuronModel` into a Brian2 simulation, with switchable stages.

    Parameters
    ----------
    model : NeuronModel
        The neuron.
    stages : Stages, optional
        Which stages are on (default: all, stochastic release, conductance synapses).

    Examples
    --------
    >>> pipe = NeuronPipeline(ball_and_stick_model(), stages=Stages(release="deterministic"))
    >>> rec = pipe.run({"exc": trains}, duration=200*ms, backend="cython", seed=1)
    >>> rec.counts["vesicles_released"]

    With the user's own Brian2 objects (:meth:`build`,
    :class:`~neurocomp.biophysics.pipeline_build.BuiltPipeline`):

    >>> built = pipe.build({"exc": trains}, duration=200*ms, backend="cython", seed=1)
    >>> rate = PopulationRateMonitor(built.neuron, name="rate")
    >>> rec = built.add(rate).run()
    """

    def __init__(self, model: NeuronModel, *, stages: Stages | None = None) -> None:
        self.stages = stages if stages is not None else Stages()
        self.base_model = model
        self.model = model.with_stages(self.stages)
        self.synapse_compartments = self.model.synapse_compartments()

    # -- structure --------------------------------------------------------------------
    def default_sites(self) -> list[RecordSite]:
        """Soma, the most-innervated dendritic compartment, a distal one, AIS, terminal."""
        m = self.model
        table = m.morphology.compartment_table()
        sites = [RecordSite(label="soma", index=0)]
        dend = np.isin(table["region"], m.dendritic_regions)
        if dend.any():
            syn = np.concatenate(list(self.synapse_compartments.values()) or [np.zeros(0)])
            counts = np.bincount(syn.astype(int), minlength=table["index"].size)[dend]
            if counts.max() > 0:
                sites.append(RecordSite(label="dendrite (most synapses)",
                                        index=int(table["index"][dend][np.argmax(counts)])))
            far = table["index"][dend][np.argmax(table["distance_um"][dend])]
            sites.append(RecordSite(label="distal dendrite", index=int(far)))
        if "ais" in m.morphology.regions:
            ais = m.morphology.indices(region="ais")
            sites.append(RecordSite(label="AIS", index=int(ais[len(ais) // 2])))
        if any(r in m.morphology.regions for r in AXONAL_REGIONS[1:]):
            sites.append(RecordSite(label="axon terminal", index=m.terminal_index))
        seen: set[int] = set()
        return [s for s in sites if not (s.index in seen or seen.add(s.index))]

    def equations(self, *, n_clamps: int = 0) -> str:
        """The SpatialNeuron equations for the current stages (and ``n_clamps`` current
        clamp waveforms, each with a per-compartment amplitude ``clamp<k>_amp``)."""
        m = self.model
        mode = self.stages.synapses
        receptors = self._receptors_used()
        lines = [brian2_equations(list(m.channels().values()), temperature_C=m.temperature_C,
                                  calcium_reversal_mV=m.calcium_reversal_mV,
                                  calcium=m.has_calcium,
                                  calcium_nernst=m.calcium_nernst)]
        lines += [receptor_equations(m.receptors[r], mode=mode) for r in receptors]
        total = " + ".join(f"I_{r}" for r in receptors) or "0*amp"
        lines.append(f"I_syn = {total} : amp (point current)")
        if n_clamps:
            lines.append("I_clamp = " + " + ".join(
                f"clamp{k}_amp*clamp{k}_wave(t)" for k in range(n_clamps))
                + " : amp (point current)")
            lines += [f"clamp{k}_amp : amp" for k in range(n_clamps)]
        return "\n".join(lines)

    def _receptors_used(self) -> list[str]:
        used = dict.fromkeys(r for g in self.model.synapse_groups for r in g.receptors)
        return list(used)

    def structure_key(self, sites: Sequence[RecordSite], *, n_clamps: int = 0) -> str:
        """A key that changes whenever the generated code would (for build directories)."""
        parts = [self.model.name, repr(self.stages), self.equations(n_clamps=n_clamps),
                 str(self.model.morphology.n_compartments),
                 repr([(g.name, g.n_synapses, tuple(g.receptors)) for g in
                       self.model.synapse_groups]), repr([s.index for s in sites])]
        return hashlib.sha1("\n".join(parts).encode()).hexdigest()

    # -- running ----------------------------------------------------------------------
    def run(self, inputs: SpikeTrains | Mapping[str, SpikeTrains], *, duration: Any,
            dt: Any = None, backend: str = "cython", seed: int = 0,
            record: Sequence[RecordSite] | None = None, record_dt: Any = None,
            variables: Sequence[str] | None = None, build_dir: str | None = None,
            progress: bool = False, clamps: Sequence[CurrentClamp] = (),
            max_memory_gib: float | None = None,
            max_hours: float | None = None) -> Recording:
        """Simulate and record: :meth:`build`, then :meth:`BuiltPipeline.run
        <neurocomp.biophysics.pipeline_build.BuiltPipeline.run>`.

        Parameters
        ----------
        inputs : SpikeTrains or mapping of group name to SpikeTrains
            Presynaptic spikes for each synapse group (a bare SpikeTrains if there is one
            group); ``n_sources`` must match the group's, and a train's ``duration_ms`` may
            not exceed ``duration`` (its later spikes would be dropped).
        duration : brian2 Quantity (time)
            Biological time to simulate (> 0, finite).
        dt : brian2 Quantity (time), optional
            Integration step; default 25 µs. Must resolve the fastest HH gate at the model's
            temperature (see :func:`~neurocomp.biophysics.channels.max_stable_dt_ms`).
        backend : {"cython", "numpy", "cpp_standalone"} or a registered simulator
            Brian2 code generation target, or the name of another simulator registered in
            :mod:`~neurocomp.biophysics.engines` — ``"torch"``: neurocomp's PyTorch engine
            (:mod:`neurocomp.engine`), which records ``v`` only.
        seed : int
            Seed of Brian2's random numbers (stochastic release), set when the objects are
            built.
        record : sequence of RecordSite, optional
            Compartments to record (default :meth:`default_sites`).
        record_dt : brian2 Quantity (time), optional
            Sampling step of the traces (default: ``dt``; must be >= ``dt``).
        variables : sequence of str, optional
            Variables to record at the sites (default: ``v`` and each receptor's
            conductance, or current when synapses are current-based). Any variable of the
            equations may be named (``I_nmda``, ``m`` …).
        build_dir : str, optional
            Base directory of cpp_standalone builds.
        progress : bool
            Show what Brian2 is doing: a status line with the elapsed seconds while code is
            generated and compiled (:class:`~neurocomp.biophysics.progress.StatusLine`),
            then the run's progress (a bar on runtime targets, Brian2's report on
            standalone).
        clamps : sequence of CurrentClamp
            Currents injected at compartments: steps, EPSP-shaped currents, or any waveform
            (:meth:`CurrentClamp.from_samples
            <neurocomp.biophysics.clamp.CurrentClamp.from_samples>`); each must end within
            ``duration``. Examples in :mod:`~neurocomp.biophysics.clamp`.
        max_memory_gib : float, optional
            Refuse a run whose recordings, inputs and clamps
            (:func:`~neurocomp.biophysics.pipeline_checks.estimate_run`) would need more
            memory, GiB; default ``$NEUROCOMP_MAX_MEMORY_GIB`` or 4 GiB.
        max_hours : float, optional
            Refuse a run whose optimistic wall-time estimate exceeds this, hours; default
            ``$NEUROCOMP_MAX_RUN_HOURS`` or 24 h.

        Raises
        ------
        ValueError
            For any argument out of range (named in the message), and before any work
            when the run would exceed ``max_memory_gib`` or ``max_hours``.
        """
        if backend not in BACKENDS:  # another simulator (neurocomp.engines), no Brian2 build
            spec = self._spec(inputs, duration=duration, dt=dt, backend=backend, seed=seed,
                              record=record, record_dt=record_dt, variables=variables,
                              build_dir=build_dir, progress=progress, clamps=clamps,
                              max_memory_gib=max_memory_gib, max_hours=max_hours)
            return load_engine(backend)(self, spec)
        with self.build(inputs, duration=duration, dt=dt, backend=backend, seed=seed,
                        record=record, record_dt=record_dt, variables=variables,
                        build_dir=build_dir, progress=progress, clamps=clamps,
                        max_memory_gib=max_memory_gib, max_hours=max_hours) as built:
            return built.run()

    def build(self, inputs: SpikeTrains | Mapping[str, SpikeTrains], *, duration: Any,
              dt: Any = None, backend: str = "cython", seed: int = 0,
              record: Sequence[RecordSite] | None = None, record_dt: Any = None,
              variables: Sequence[str] | None = None, build_dir: str | None = None,
              progress: bool = False, clamps: Sequence[CurrentClamp] = (),
              max_memory_gib: float | None = None,
              max_hours: float | None = None) -> BuiltPipeline:
        """Check a run and build its Brian2 objects, unrun, for the user to extend.

        Takes the arguments of :meth:`run`, checked the same way (before any work).

        Returns
        -------
        BuiltPipeline
            ``.neuron``, ``.synapses``, ``.generators``, ``.monitors``, ``.network``,
            ``.add(*objects)`` and ``.run() -> Recording``; on cpp_standalone also
            ``.close()`` (or use it in a ``with`` block), see
            :mod:`~neurocomp.biophysics.pipeline_build`.

        Examples
        --------
        >>> from brian2 import StateMonitor, ms
        >>> with pipe.build(trains, duration=50*ms, backend="numpy") as built:
        ...     gates = StateMonitor(built.neuron, ["m", "h"], record=[0],
        ...                          clock=built.neuron.clock, name="gates")
        ...     rec = built.add(gates).run()
        ...     m_soma = gates.m[0]
        """
        spec = self._spec(inputs, duration=duration, dt=dt, backend=backend, seed=seed,
                          record=record, record_dt=record_dt, variables=variables,
                          build_dir=build_dir, progress=progress, clamps=clamps,
                          max_memory_gib=max_memory_gib, max_hours=max_hours)
        return BuiltPipeline(self, spec)

    def _spec(self, inputs: SpikeTrains | Mapping[str, SpikeTrains], *, duration: Any,
              dt: Any, backend: str, seed: int, record: Sequence[RecordSite] | None,
              record_dt: Any, variables: Sequence[str] | None, build_dir: str | None,
              progress: bool, clamps: Sequence[CurrentClamp], max_memory_gib: float | None,
              max_hours: float | None) -> _RunSpec:
        """The checked arguments of a run (:meth:`run`), or the error naming the bad one."""
        duration_ms, dt_ms, rec_dt_ms = _check_times(self.model, duration=duration, dt=dt,
                                                     record_dt=record_dt)
        clamps = check_clamps(clamps, n_compartments=self.model.morphology.n_compartments,
                              duration_ms=duration_ms)
        if backend not in BACKENDS and backend not in engine_names():
            raise ValueError(f"backend must be one of "
                             f"{', '.join(map(repr, BACKENDS + engine_names()))}; "
                             f"got {backend!r}")
        seed = check_int("seed", seed, low=0)
        trains = self._match_inputs(inputs, duration_ms=duration_ms)
        sites = list(record) if record is not None else self.default_sites()
        trace_vars = self._trace_variables(variables)
        _check_sites(sites, n_compartments=self.model.morphology.n_compartments)
        _check_size(self.model, trains, duration_ms=duration_ms, dt_ms=dt_ms,
                    rec_dt_ms=rec_dt_ms, n_sites=len(sites), n_variables=len(trace_vars),
                    n_clamps=len(clamps), backend=backend, max_memory_gib=max_memory_gib,
                    max_hours=max_hours)
        return _RunSpec(trains=trains, duration_ms=duration_ms, dt_ms=dt_ms,
                        rec_dt_ms=rec_dt_ms, backend=backend, seed=seed, sites=sites,
                        trace_vars=trace_vars, clamps=clamps, build_dir=build_dir,
                        progress=bool(progress))

    def _trace_variables(self, variables: Sequence[str] | None) -> list[str]:
        """The variables to record: ``v`` first, then ``variables`` (default: each used
        receptor's conductance ``g_<r>``, or current ``I_<r>`` for current-based synapses),
        each checked against the equations."""
        prefix = "g_" if self.stages.synapses == "conductance" else "I_"
        default = ["v"] + [f"{prefix}{r}" for r in self._receptors_used()]
        if variables is None:
            return default
        if isinstance(variables, str):
            raise TypeError(f"variables must be a sequence of names, e.g. [{variables!r}]; "
                            f"got the string {variables!r}")
        known = set(re.findall(r"^\s*(?:d)?([A-Za-z_]\w*)(?:/dt)?\s*[:=]",
                               self.equations(), flags=re.MULTILINE)) | {"v"}
        unknown = [v for v in variables if v not in known]
        if unknown:
            raise ValueError(f"variables {unknown} are not in the model's equations; "
                             f"known: {sorted(known)}")
        return ["v"] + [v for v in variables if v != "v"]

    def _match_inputs(self, inputs: SpikeTrains | Mapping[str, SpikeTrains], *,
                      duration_ms: float) -> dict[str, SpikeTrains]:
        """The input spikes of each synapse group, checked: one SpikeTrains per group (a bare
        one for a single group), with the group's ``n_sources``, lasting at most
        ``duration_ms`` (ms); inputs of groups the stages dropped are ignored."""
        groups = {g.name: g for g in self.model.synapse_groups}
        if isinstance(inputs, SpikeTrains):
            if len(groups) != 1:
                raise ValueError(f"the model has synapse groups {sorted(groups)}; pass inputs "
                                 f"as a mapping from group name to SpikeTrains")
            inputs = {next(iter(groups)): inputs}
        if not isinstance(inputs, Mapping):
            raise TypeError(f"inputs must be a SpikeTrains or a mapping from synapse group "
                            f"name to SpikeTrains; got {type(inputs).__name__}")
        unknown = sorted(set(inputs) - set(groups) - set(self._dropped_groups()))
        if unknown:
            raise ValueError(f"inputs name unknown synapse groups {unknown}; groups: "
                             f"{sorted(groups)}")
        out = {}
        for name, g in groups.items():
            if name not in inputs:
                raise ValueError(f"no input given for synapse group {name!r}")
            t = inputs[name]
            if not isinstance(t, SpikeTrains):
                raise TypeError(f"inputs[{name!r}] must be a SpikeTrains; got "
                                f"{type(t).__name__}")
            if t.n_sources != g.n_sources:
                raise ValueError(f"inputs[{name!r}] has {t.n_sources} sources but synapse "
                                 f"group {name!r} expects n_sources={g.n_sources}")
            if t.duration_ms > duration_ms * (1 + 1e-9):  # tolerance: ms <-> s round trip
                last = f"{t.times_ms.max():g} ms" if t.n_spikes else "none"
                raise ValueError(f"inputs[{name!r}] covers duration_ms={t.duration_ms:g} ms "
                                 f"(last spike: {last}) but the run lasts duration="
                                 f"{duration_ms:g} ms: spikes after its end would be dropped; "
                                 f"make the trains at most {duration_ms:g} ms long or run "
                                 f"longer")
            out[name] = t
        return out

    def _dropped_groups(self) -> list[str]:
        kept = {g.name for g in self.model.synapse_groups}
        return [g.name for g in self.base_model.synapse_groups if g.name not in kept]
