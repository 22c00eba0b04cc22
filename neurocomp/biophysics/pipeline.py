"""``NeuronPipeline``: the neuron's stages assembled in Brian2, run, and recorded.

The signal follows Dettmers' (2015) pipeline: presynaptic spikes (input) → transmitter
release (Tsodyks–Markram, stochastic or deterministic) → receptors (per-compartment
difference-of-exponentials conductances; NMDA with its Mg²⁺ block) → dendrites (passive or
active cable) → soma → spike initiation in the axon initial segment → Hodgkin–Huxley axon,
whose far end is the neuron's output. :meth:`NeuronPipeline.run` returns a
:class:`~neurocomp.biophysics.recording.Recording` with traces, spikes per stage and the
event counts the accounting pillar consumes.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocomp.biophysics.backend import (
    BACKENDS,
    brian_backend,
    import_brian2,
    run_standalone_build,
)
from neurocomp.biophysics.build_cache import standalone_build, store_standalone_build
from neurocomp.biophysics.channels import ChannelDensities, max_stable_dt_ms
from neurocomp.biophysics.clamp import CurrentClamp, check_clamps
from neurocomp.biophysics.inputs import SpikeTrains, check_memory
from neurocomp.biophysics.mechanisms import brian2_equations
from neurocomp.biophysics.model import AXONAL_REGIONS, NeuronModel, Stages
from neurocomp.biophysics.receptors import receptor_equations
from neurocomp.biophysics.recording import Recording
from neurocomp.biophysics.release import release_code, release_model
from neurocomp.checks import check_int, setting

__all__ = ["DEFAULT_MAX_HOURS", "NeuronPipeline", "RunEstimate", "check_quantity",
           "estimate_run", "max_dt_ms"]

#: Longest run :meth:`NeuronPipeline.run` starts unless told otherwise, hours of wall time
#: (estimated; ``max_hours=`` or ``$NEUROCOMP_MAX_RUN_HOURS`` overrides it).
DEFAULT_MAX_HOURS = 24.0
#: Optimistic throughputs (compartment-steps per second, and seconds per step on top) of
#: the backends on one core, about 2-3x the rates measured for the 156-compartment test
#: neuron (cpp 5e6/s, cython 1.6e6/s, numpy ~2.4e4/s + ~0.5 ms per step): the time
#: estimate is a lower bound, so only runs that cannot finish in time are refused.
_THROUGHPUT = {"cpp_standalone": (1.5e7, 0.0), "cython": (4e6, 0.0), "numpy": (1e5, 2e-4)}


def check_quantity(name: str, value: Any, unit: Any, *, positive: bool = True) -> float:
    """Return ``value`` (a Brian2 quantity with the dimensions of ``unit``) in ``unit``.

    Raises ``TypeError`` naming the argument when the units are wrong or missing, and
    ``ValueError`` for non-positive or non-finite values.
    """
    b2 = import_brian2()
    Quantity, get_dimensions = b2.Quantity, b2.get_dimensions
    if not isinstance(value, Quantity) or get_dimensions(value) != get_dimensions(unit):
        raise TypeError(f"{name} must be a Brian2 quantity in units of {unit!s} "
                        f"(e.g. 100*ms); got {value!r}")
    if np.ndim(value) != 0:
        raise TypeError(f"{name} must be a single value (e.g. 100*ms); got an array of "
                        f"shape {np.shape(value)}")
    x = float(value / unit)
    if not np.isfinite(x) or (positive and x <= 0):
        raise ValueError(f"{name} must be finite{' and > 0' if positive else ''}; got {value!r}")
    return x


@dataclass(frozen=True, kw_only=True)
class RunEstimate:
    """What a pipeline run would take, estimated from its arguments before any work.

    Attributes
    ----------
    n_steps : int
        Integration steps (duration / dt).
    n_samples : int
        Samples of each recorded trace (duration / record_dt).
    memory_bytes : float
        Memory of the recorded traces, release monitors, input spikes and clamp
        waveforms, bytes (each held about twice: in Brian2 and in the returned arrays).
    trace_bytes : float
        The recorded traces' part of ``memory_bytes``, bytes.
    seconds : float
        Optimistic wall time of the simulation on ``backend`` (a lower bound), s.
    """

    n_steps: int
    n_samples: int
    memory_bytes: float
    trace_bytes: float
    seconds: float


def _n_intervals(duration_ms: float, step_ms: float) -> int:
    """Samples at 0, step, 2·step … before ``duration_ms`` (float round-off forgiven)."""
    ratio = duration_ms / step_ms
    nearest = round(ratio)
    if abs(ratio - nearest) <= 1e-9 * max(1.0, ratio):
        return max(1, nearest)
    return math.ceil(ratio)


def estimate_run(*, duration_ms: float, dt_ms: float, record_dt_ms: float, n_sites: int,
                 n_variables: int, n_compartments: int, n_input_spikes: int,
                 n_release_traces: int, n_clamps: int, backend: str) -> RunEstimate:
    """Memory (bytes) and a lower bound of the wall time (s) of a pipeline run.

    Recorded traces: ``n_samples × (n_sites × n_variables + 1) × 8 B`` (float64, with the
    time axis); release monitors: ``n_release_traces`` traces sampled every
    ``max(1 ms, record_dt)``; input spikes: 16 B each (index and time), in about four
    copies (trains, deduplicated trains, Brian2's generator, the input monitors); clamp
    waveforms: one float64 per step each. Everything but the inputs is counted twice
    (Brian2's arrays and the returned copies).
    """
    n_steps = _n_intervals(duration_ms, dt_ms)
    n_samples = _n_intervals(duration_ms, record_dt_ms)
    traces = 2.0 * n_samples * (n_sites * n_variables + 1) * 8
    release_samples = _n_intervals(duration_ms, max(1.0, record_dt_ms))
    release = 2.0 * release_samples * (n_release_traces + 1) * 8
    inputs = 4.0 * n_input_spikes * 16
    clamps = 2.0 * n_clamps * n_steps * 8
    rate, per_step = _THROUGHPUT[backend]
    seconds = n_steps * (n_compartments / rate + per_step)
    return RunEstimate(n_steps=n_steps, n_samples=n_samples,
                       memory_bytes=traces + release + inputs + clamps, trace_bytes=traces,
                       seconds=seconds)


def _max_hours(max_hours: float | None) -> float:
    return setting("max_hours", max_hours, env="NEUROCOMP_MAX_RUN_HOURS",
                   default=DEFAULT_MAX_HOURS, unit="h")


@dataclass(frozen=True, kw_only=True)
class RecordSite:
    """A compartment to record, with a label."""

    label: str
    index: int


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
                                  calcium=m.has_calcium)]
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
        """Simulate and record.

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
        backend : {"numpy", "cython", "cpp_standalone"}
            Brian2 code generation target.
        seed : int
            Seed of Brian2's random numbers (stochastic release).
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
            Show a progress bar (runtime targets) or Brian2's progress report (standalone).
        clamps : sequence of CurrentClamp
            Currents injected at compartments (steps, EPSP-shaped currents); each must end
            within ``duration``.
        max_memory_gib : float, optional
            Refuse a run whose recordings, inputs and clamps (:func:`estimate_run`) would
            need more memory, GiB; default ``$NEUROCOMP_MAX_MEMORY_GIB`` or 4 GiB.
        max_hours : float, optional
            Refuse a run whose optimistic wall-time estimate exceeds this, hours; default
            ``$NEUROCOMP_MAX_RUN_HOURS`` or 24 h.

        Raises
        ------
        ValueError
            For any argument out of range (named in the message), and before any work
            when the run would exceed ``max_memory_gib`` or ``max_hours``.
        """
        b2 = import_brian2()
        ms, us = b2.ms, b2.us
        duration_ms = check_quantity("duration", duration, ms)
        dt_ms = check_quantity("dt", dt if dt is not None else 25 * us, ms)
        if dt_ms > duration_ms:
            raise ValueError(f"dt ({dt_ms:g} ms) must not exceed duration ({duration_ms:g} ms)")
        limit = max_dt_ms(self.model)
        if dt_ms > limit:
            raise ValueError(f"dt = {dt_ms:g} ms is too coarse for the channels of "
                             f"{self.model.name!r} at {self.model.temperature_C:g} °C: use "
                             f"dt <= {limit:.4g} ms (half the fastest gate's time constant)")
        rec_dt_ms = (check_quantity("record_dt", record_dt, ms) if record_dt is not None
                     else dt_ms)
        if rec_dt_ms < dt_ms:
            raise ValueError(f"record_dt ({rec_dt_ms:g} ms) must be >= dt ({dt_ms:g} ms): "
                             f"traces cannot be sampled faster than the simulation steps")
        clamps = check_clamps(clamps, n_compartments=self.model.morphology.n_compartments,
                              duration_ms=duration_ms)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; "
                             f"got {backend!r}")
        seed = check_int("seed", seed, low=0)
        trains = self._match_inputs(inputs, duration_ms=duration_ms)
        sites = list(record) if record is not None else self.default_sites()
        trace_vars = self._trace_variables(variables)
        n_comp = self.model.morphology.n_compartments
        for s in sites:
            if not isinstance(s, RecordSite):
                raise TypeError(f"record must hold RecordSite objects; got "
                                f"{type(s).__name__}")
            if not 0 <= s.index < n_comp:
                raise ValueError(f"record site {s.label!r}: compartment {s.index} does not "
                                 f"exist (0 to {n_comp - 1})")
        self._check_size(trains, duration_ms=duration_ms, dt_ms=dt_ms, rec_dt_ms=rec_dt_ms,
                         n_sites=len(sites), n_variables=len(trace_vars),
                         n_clamps=len(clamps), backend=backend,
                         max_memory_gib=max_memory_gib, max_hours=max_hours)
        start = time.perf_counter()
        with contextlib.ExitStack() as stack:  # the build directory is deleted afterwards
            directory = (stack.enter_context(standalone_build(
                self.structure_key(sites, n_clamps=len(clamps)), base=build_dir))
                if backend == "cpp_standalone" else None)
            with brian_backend(backend, directory=directory):
                raw = self._simulate(trains, duration_ms=duration_ms, dt_ms=dt_ms,
                                     rec_dt_ms=rec_dt_ms, backend=backend, seed=seed,
                                     sites=sites, trace_vars=trace_vars, directory=directory,
                                     progress=progress, clamps=clamps)
        raw["timing"]["wall_s"] = time.perf_counter() - start
        return Recording.from_raw(raw, model=self.model, stages=self.stages, sites=sites,
                                  duration_ms=duration_ms, dt_ms=dt_ms, backend=backend,
                                  seed=seed)

    def _check_size(self, trains: Mapping[str, SpikeTrains], *, duration_ms: float,
                    dt_ms: float, rec_dt_ms: float, n_sites: int, n_variables: int,
                    n_clamps: int, backend: str, max_memory_gib: float | None,
                    max_hours: float | None) -> RunEstimate:
        """Refuse a run beyond the memory or time bound, naming the arguments to change."""
        n_release = sum(min(20, g.n_synapses) for g in self.model.synapse_groups)
        est = estimate_run(duration_ms=duration_ms, dt_ms=dt_ms, record_dt_ms=rec_dt_ms,
                           n_sites=n_sites, n_variables=n_variables,
                           n_compartments=self.model.morphology.n_compartments,
                           n_input_spikes=sum(t.n_spikes for t in trains.values()),
                           n_release_traces=n_release, n_clamps=n_clamps, backend=backend)
        check_memory(est.memory_bytes,
                     what=(f"the run (duration={duration_ms:g} ms recorded every "
                           f"record_dt={rec_dt_ms:g} ms: {est.n_samples} samples × {n_sites} "
                           f"sites (record) × {n_variables} variables, plus inputs and "
                           f"clamps)"),
                     arguments="duration, raise record_dt, or record fewer sites (record) "
                               "or variables",
                     max_memory_gib=max_memory_gib)
        limit_h = _max_hours(max_hours)
        if est.seconds > limit_h * 3600:
            raise ValueError(
                f"the run would take at least {est.seconds / 3600:.3g} h on backend="
                f"{backend!r} (duration={duration_ms:g} ms in {est.n_steps} steps of "
                f"dt={dt_ms:g} ms on {self.model.morphology.n_compartments} compartments), "
                f"above max_hours={limit_h:g} h; shorten duration, use a faster backend, or "
                f"raise the bound with max_hours= (or $NEUROCOMP_MAX_RUN_HOURS)")
        return est

    def _trace_variables(self, variables: Sequence[str] | None) -> list[str]:
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

    def _simulate(self, trains: dict[str, SpikeTrains], *, duration_ms: float, dt_ms: float,
                  rec_dt_ms: float, backend: str, seed: int, sites: list[RecordSite],
                  trace_vars: list[str], directory: Any, progress: bool,
                  clamps: Sequence[CurrentClamp] = ()) -> dict[str, Any]:
        b2 = import_brian2()
        mV, ms, ohm, cm, siemens = b2.mV, b2.ms, b2.ohm, b2.cm, b2.siemens
        uF, nS, pA, second = b2.uF, b2.nS, b2.pA, b2.second

        m = self.model
        b2.seed(seed)
        morpho = m.morphology.to_brian2()
        has_axon = any(r in m.morphology.regions for r in AXONAL_REGIONS[1:])
        kwargs: dict[str, Any] = {}
        if has_axon:
            kwargs = {"threshold": f"v > {m.spike_threshold_mV!r}*mV",
                      "threshold_location": m.terminal_index,
                      "refractory": f"v > {m.spike_threshold_mV - 10!r}*mV"}
        namespace: dict[str, Any] = {}
        for k, clamp in enumerate(clamps):
            namespace[f"clamp{k}_wave"] = b2.TimedArray(
                clamp.waveform(dt_ms=dt_ms, duration_ms=duration_ms), dt=dt_ms * ms)
        neuron = b2.SpatialNeuron(morphology=morpho,
                                  model=self.equations(n_clamps=len(clamps)),
                                  Cm=1 * uF / cm**2, Ri=m.Ri_ohm_cm * ohm * cm,
                                  method="exponential_euler", name="neuron",
                                  namespace=namespace, dt=dt_ms * ms, **kwargs)
        for name, values in initial_state(m).items():
            unit = {"v": mV, "gL": siemens / cm**2, "E_L": mV, "Cm": uF / cm**2,
                    "ca_decay": ms}.get(name, siemens / cm**2 if name.startswith("gbar_")
                                        else 1)
            _set_by_runs(neuron, name, values, unit)
        for k, clamp in enumerate(clamps):
            getattr(neuron, f"clamp{k}_amp")[clamp.index] = clamp.amplitude_nA * b2.nA

        objects: list[Any] = [neuron]
        mode = self.stages.synapses
        weight_unit = nS if mode == "conductance" else pA
        unit_name = "siemens" if mode == "conductance" else "amp"
        syn_objects, input_monitors = {}, {}
        for g in m.synapse_groups:
            t = trains[g.name].dedupe(dt_ms)
            gen = b2.SpikeGeneratorGroup(g.n_sources, t.indices, t.times_ms * ms,
                                         dt=dt_ms * ms, name=f"input_{g.name}")
            model_eq = release_model(g.release, mode=self.stages.release)
            model_eq += "\n" + "\n".join(f"w_{r} : {unit_name} (constant)" for r in g.receptors)
            on_pre = release_code(g.release, mode=self.stages.release)
            on_pre += "\n" + "\n".join(f"A_{r}_post += w_{r}*released\nB_{r}_post += "
                                       f"w_{r}*released" for r in g.receptors)
            syn = b2.Synapses(gen, neuron, model=model_eq, on_pre=on_pre, dt=dt_ms * ms,
                              name=f"syn_{g.name}", namespace={})
            comps = self.synapse_compartments[g.name]
            syn.connect(i=np.arange(g.n_synapses) % g.n_sources, j=comps)
            syn.U = g.release.U
            syn.u = g.release.U
            syn.tau_rec = g.release.tau_rec_ms * ms
            syn.tau_facil = max(g.release.tau_facil_ms, 1e-9) * ms
            syn.tlast = -1e4 * second
            if self.stages.release == "deterministic":
                syn.x = 1.0
            else:
                for k in range(g.release.n_sites):
                    setattr(syn, f"occ{k}", 1.0)
            for r, w in g.receptors.items():
                setattr(syn, f"w_{r}", w * weight_unit)
            syn_objects[g.name] = syn
            input_monitors[g.name] = b2.SpikeMonitor(gen, name=f"inmon_{g.name}")
            objects += [gen, syn, input_monitors[g.name]]

        state_mon = b2.StateMonitor(neuron, trace_vars, record=[s.index for s in sites],
                                    dt=rec_dt_ms * ms, name="traces")
        release_mons = {}
        for name, syn in syn_objects.items():
            n_rec = min(20, len(self.synapse_compartments[name]))
            release_mons[name] = b2.StateMonitor(syn, "vesicles_total",
                                                 record=list(range(n_rec)),
                                                 dt=max(1.0, rec_dt_ms) * ms,
                                                 name=f"relmon_{name}")
        objects += [state_mon, *release_mons.values()]
        out_mon = b2.SpikeMonitor(neuron, name="outmon") if has_axon else None
        if out_mon is not None:
            objects.append(out_mon)
        trace_units = {var: _unit_of(neuron, var) for var in trace_vars}
        net = b2.Network(*objects)
        report: Any = None
        if progress:
            report = "stderr" if backend == "cpp_standalone" else _tqdm_report(duration_ms)
        t0 = time.perf_counter()
        net.run(duration_ms * ms, report=report, namespace={})
        timing: dict[str, float] = {}
        if backend == "cpp_standalone":
            t1 = time.perf_counter()
            run_standalone_build(directory)  # Ctrl-C while compiling: KeyboardInterrupt
            store_standalone_build(directory)
            timing["build_and_run_s"] = time.perf_counter() - t1
            timing["run_s"] = float(b2.device._last_run_time)
            timing["compile_s"] = timing["build_and_run_s"] - timing["run_s"]
        else:
            timing["run_s"] = time.perf_counter() - t0
        return {
            "t_ms": np.asarray(state_mon.t / ms),
            "traces": {var: np.asarray(getattr(state_mon, var) / (1 if unit is None else unit))
                       for var, unit in trace_units.items()},
            "trace_units": {var: "1" if unit is None else str(unit)
                            for var, unit in trace_units.items()},
            "inputs": {n: (np.asarray(mon.i), np.asarray(mon.t / ms))
                       for n, mon in input_monitors.items()},
            "release": {n: (np.asarray(mon.t / ms), np.asarray(mon.vesicles_total))
                        for n, mon in release_mons.items()},
            "vesicles": {n: np.asarray(syn.vesicles_total) for n, syn in syn_objects.items()},
            "events": {n: np.asarray(syn.events_total) for n, syn in syn_objects.items()},
            "output_ms": (np.asarray(out_mon.t / ms) if out_mon is not None else np.zeros(0)),
            "n_compartments": int(neuron.N),
            "timing": timing,
        }


def max_dt_ms(model: NeuronModel, *, fraction: float = 0.5) -> float:
    """Largest dt (ms) the pipeline accepts for ``model``'s channels.

    HH squid models keep :func:`~neurocomp.biophysics.channels.max_stable_dt_ms` (their
    gates over the whole spike). For other channel units: ``fraction`` × the smallest gate
    time constant between −90 and −10 mV at the model's temperature — the range where the
    upstroke is decided (exponential Euler integrates each gate exactly at fixed V, so the
    fast m-gate near the spike's peak costs no stability). A passive model has no limit
    (``inf``).
    """
    mems = model.membranes()
    if all(not mem.channels for mem in mems.values()):
        return float("inf")
    if all(isinstance(d, ChannelDensities) for d in model.densities.values()):
        return max_stable_dt_ms(model.temperature_C, fraction=fraction)
    v = np.linspace(-90.0, -10.0, 161)
    taus = [g.time_constant_ms(v, rate_factor=c.rate_factor(model.temperature_C)).min()
            for c in model.channels().values() for g in c.gates]
    return fraction * float(min(taus))


def initial_state(model: NeuronModel) -> dict[str, np.ndarray]:
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


def _unit_of(neuron: Any, var: str) -> Any:
    """Display unit of a recorded variable: mV, nS, pA …, or None (dimensionless gates)."""
    import brian2 as b2

    dim = neuron.variables[var].dim
    for unit in (b2.mV, b2.nS, b2.pA, b2.siemens / b2.meter**2, b2.amp / b2.meter**2):
        if b2.get_dimensions(unit) == dim:
            return unit
    return None


def _tqdm_report(duration_ms: float):
    from tqdm.auto import tqdm

    bar = tqdm(total=100, desc="simulating", unit="%", leave=False)

    def report(elapsed, completed, start, duration):  # Brian2's report callback signature
        bar.n = round(float(completed) * 100)
        bar.refresh()
        if completed >= 1:
            bar.close()

    return report
