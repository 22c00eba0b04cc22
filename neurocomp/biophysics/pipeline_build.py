"""``BuiltPipeline``: the Brian2 objects of a pipeline run, open to the user before it runs.

:meth:`~neurocomp.biophysics.pipeline.NeuronPipeline.build` makes the ``SpatialNeuron``, the
input generators, synapses and monitors of a run, as :meth:`~NeuronPipeline.run` would, and
returns them unrun. A user may add monitors or objects of their own (a ``StateMonitor`` of a
gate, a ``PopulationRateMonitor``, a second ``NeuronGroup`` driven by the neuron's output
spikes), change values, then :meth:`BuiltPipeline.run` gets the usual
:class:`~neurocomp.biophysics.recording.Recording` while their own monitors hold their data::

    from brian2 import NeuronGroup, StateMonitor, Synapses, ms
    built = pipe.build(trains, duration=100*ms, backend="cython", seed=1)
    gates = StateMonitor(built.neuron, "m", record=[0, 60], clock=built.neuron.clock,
                         name="gates")
    target = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", name="target")
    link = Synapses(built.neuron, target, on_pre="v += 1", name="link")
    link.connect(i=pipe.model.terminal_index, j=0)   # output spikes -> target
    built.add(gates, target, link)
    rec = built.run()                       # the Recording, as pipe.run(...) gives
    gates.m, target.v                       # the user's own data

``NeuronPipeline.run(...)`` is ``build(...)`` then ``run()``: same objects, names, seed and
order, so its results are bit-identical to the code before the split.

Backends. On numpy and cython the objects live in the runtime device; the code target is set
only while the pipeline builds and runs. On ``cpp_standalone`` Brian2's one standalone device
holds the objects from ``build`` until :meth:`BuiltPipeline.close` (or the end of a ``with``
block): create and add objects in between, read the monitors after ``run()`` and before
``close()`` (the results are read from the build directory, deleted on close). Building
anything else meanwhile closes the open build first (said on stderr). The build cache is
keyed by :meth:`~NeuronPipeline.structure_key`; when the network holds objects the pipeline
did not make (or lacks some it did), the key also covers the names of every object and the
generated source of every code object, so a cached build is reused only for the same
generated code, and a plain pipeline's cache is never overwritten by a user's network.
Objects of an earlier build that are still referenced (a monitor variable of the last
iteration of a loop) make Brian2 give the new ones suffixed names (pitfall P7): other code,
so that build compiles again; ``del`` them first.
(Reusing a mismatched cache would not give wrong results, since Brian2 rewrites every changed
source file and ``make`` rebuilds what depends on it, but it would recompile each time.)

Names external to an object (constants in a user's equations) are looked up in the
object's own ``namespace=`` or in ``run(namespace=...)``, never in the caller's frame
(pitfall P8).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neurocomp.biophysics.backend import (
    _OPEN_STANDALONE,
    _close_open_build,
    brian2_session,
    brian_backend,
    import_brian2,
    run_standalone_build,
    runtime_target,
    standalone_device,
)
from neurocomp.biophysics.build_cache import standalone_build, store_standalone_build
from neurocomp.biophysics.clamp import CurrentClamp
from neurocomp.biophysics.inputs import SpikeTrains
from neurocomp.biophysics.model import AXONAL_REGIONS
from neurocomp.biophysics.pipeline_monitors import _monitors, _raw_results, _run_network, _unit_of
from neurocomp.biophysics.pipeline_neuron import _build_neuron
from neurocomp.biophysics.pipeline_synapses import _build_synapses
from neurocomp.biophysics.progress import StatusLine
from neurocomp.biophysics.recording import Recording

if TYPE_CHECKING:
    from neurocomp.biophysics.pipeline import NeuronPipeline, RecordSite

__all__ = ["BuiltPipeline"]


@dataclass(frozen=True, kw_only=True)
class _RunSpec:
    """The checked arguments of a run (see :meth:`NeuronPipeline.run`): durations in ms."""

    trains: dict[str, SpikeTrains]
    duration_ms: float
    dt_ms: float
    rec_dt_ms: float
    backend: str
    seed: int
    sites: list[RecordSite]
    trace_vars: list[str]
    clamps: tuple[CurrentClamp, ...]
    build_dir: str | None
    progress: bool


class BuiltPipeline:
    """The Brian2 objects of one pipeline run, built and not yet run.

    Made by :meth:`~neurocomp.biophysics.pipeline.NeuronPipeline.build` (see the module
    docstring for an example and for what each backend allows).

    Attributes
    ----------
    pipeline : NeuronPipeline
        The pipeline that built it.
    backend : str
        The Brian2 target.
    neuron : brian2.SpatialNeuron
        The neuron (``name="neuron"``), on a clock of step ``dt``
        (``clock=built.neuron.clock`` gives a monitor the run's step).
    synapses : dict of str to brian2.Synapses
        The synapses of each synapse group (``syn_<group>``).
    generators : dict of str to brian2.SpikeGeneratorGroup
        The presynaptic spikes of each synapse group (``input_<group>``).
    monitors : dict of str to brian2 monitor
        The pipeline's own monitors by name: ``traces``, ``relmon_<group>``,
        ``inmon_<group>`` and, with an axon, ``outmon`` (output spikes).
    network : brian2.Network
        Every object of the run; :meth:`add` puts more in it.
    """

    def __init__(self, pipeline: NeuronPipeline, spec: _RunSpec) -> None:
        self.pipeline = pipeline
        self.spec = spec
        self.backend = spec.backend
        self._stack = contextlib.ExitStack()
        self._ran = False
        self._closed = False
        t0 = time.perf_counter()
        try:
            if self.backend == "cpp_standalone":
                _close_open_build()
                gc.collect()  # old objects would rename the new ones (pitfall P7)
                self._stack.enter_context(standalone_device())
                _OPEN_STANDALONE.append(self.close)
                with brian2_session():
                    self._create()
            else:
                with brian_backend(self.backend):
                    self._create()
        except BaseException:
            self.close()
            raise
        self._build_s = time.perf_counter() - t0

    def _create(self) -> None:
        """Make the run's objects (the order and names of the code before the split)."""
        b2 = import_brian2()
        pipe, spec, m = self.pipeline, self.spec, self.pipeline.model
        b2.seed(spec.seed)
        self._has_axon = any(r in m.morphology.regions for r in AXONAL_REGIONS[1:])
        neuron = _build_neuron(m, pipe.equations(n_clamps=len(spec.clamps)), dt_ms=spec.dt_ms,
                               duration_ms=spec.duration_ms, clamps=spec.clamps,
                               has_axon=self._has_axon)
        objects: list[Any] = [neuron]
        self.synapses, self.generators, self._input_monitors = {}, {}, {}
        for g in m.synapse_groups:
            gen, syn, mon = _build_synapses(g, spec.trains[g.name], neuron,
                                            compartments=pipe.synapse_compartments[g.name],
                                            dt_ms=spec.dt_ms, stages=pipe.stages)
            self.synapses[g.name], self.generators[g.name] = syn, gen
            self._input_monitors[g.name] = mon
            objects += [gen, syn, mon]
        self._monitors = _monitors(
            neuron, self.synapses,
            n_synapses={n: len(c) for n, c in pipe.synapse_compartments.items()},
            indices=[s.index for s in spec.sites], trace_vars=spec.trace_vars,
            rec_dt_ms=spec.rec_dt_ms, has_axon=self._has_axon)
        objects += self._monitors.objects
        self.neuron = neuron
        self.monitors = {o.name: o for o in [*self._monitors.objects,
                                             *self._input_monitors.values()]}
        self._trace_units = {var: _unit_of(neuron, var) for var in spec.trace_vars}
        self.network = b2.Network(*objects)
        self._own = frozenset(o.name for o in self.network.objects)

    # -- the user's part -------------------------------------------------------------------
    def add(self, *objects: Any) -> BuiltPipeline:
        """Add Brian2 objects (monitors, groups, synapses …) to the run; returns ``self``.

        On ``cpp_standalone`` they must have been created after :meth:`build` (while this
        build is open)."""
        self._check_usable("add objects to")
        self.network.add(*objects)
        return self

    @property
    def user_objects(self) -> list[Any]:
        """The objects in :attr:`network` that the pipeline did not make, by name."""
        return sorted((o for o in self.network.objects if o.name not in self._own),
                      key=lambda o: o.name)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (on cpp_standalone, monitors are then gone)."""
        return self._closed

    def _check_usable(self, what: str) -> None:
        if self._closed:
            raise RuntimeError(f"cannot {what} a closed BuiltPipeline; build again")
        if self._ran:
            raise RuntimeError(f"cannot {what} a BuiltPipeline that has run (one run per "
                               f"build); build again for another run")

    # -- running ---------------------------------------------------------------------------
    def run(self, *, namespace: Mapping[str, Any] | None = None) -> Recording:
        """Run every object of :attr:`network` and return the pipeline's Recording.

        Parameters
        ----------
        namespace : mapping, optional
            External names for objects without their own ``namespace=`` (default: none;
            Brian2's units and functions are always known).

        Returns
        -------
        Recording
            Traces, spikes and counts, as :meth:`NeuronPipeline.run` returns them; added
            monitors hold their own data (on cpp_standalone until :meth:`close`).

        Raises
        ------
        RuntimeError
            On a second run, or after :meth:`close`.
        """
        self._check_usable("run")
        self._ran = True
        spec = self.spec
        t0 = time.perf_counter()
        try:
            with brian2_session(), (runtime_target(self.backend)
                                    if self.backend != "cpp_standalone"
                                    else contextlib.nullcontext()):
                if self.backend == "cpp_standalone":
                    timing = self._run_standalone(namespace)
                else:
                    timing = _run_network(self.network, duration_ms=spec.duration_ms,
                                          backend=self.backend, progress=spec.progress,
                                          namespace=namespace)
                raw = _raw_results(self.neuron, self._monitors, trace_units=self._trace_units,
                                   input_monitors=self._input_monitors,
                                   synapses=self.synapses, timing=timing)
        except BaseException:
            if self.backend == "cpp_standalone":
                self.close()
            raise
        raw["timing"]["wall_s"] = self._build_s + time.perf_counter() - t0
        p = self.pipeline
        return Recording.from_raw(raw, model=p.model, stages=p.stages, sites=spec.sites,
                                  duration_ms=spec.duration_ms, dt_ms=spec.dt_ms,
                                  backend=self.backend, seed=spec.seed)

    def _run_standalone(self, namespace: Mapping[str, Any] | None) -> dict[str, float]:
        """Generate the C++ project, build it in a private directory started from the cache
        of :meth:`cache_key`, run it and keep the build as that key's cache.

        Returns
        -------
        dict of str to float
            Wall times, s: ``build_and_run_s``, ``run_s`` (the binary's simulation) and
            ``compile_s`` (the difference).
        """
        b2 = import_brian2()
        spec = self.spec
        status = StatusLine("[brian2] generating code (cpp_standalone)") if spec.progress else None
        with status or contextlib.nullcontext():
            self.network.run(spec.duration_ms * b2.ms, namespace=dict(namespace or {}),
                             report="stderr" if spec.progress else None)
        work = self._stack.enter_context(standalone_build(self.cache_key(),
                                                          base=spec.build_dir))
        label = None
        if spec.progress:
            cold = not any(work.iterdir())
            label = (f"[brian2] compiling cpp_standalone "
                     f"({'cold build' if cold else 'from the cached build'})")
        t1 = time.perf_counter()
        run_standalone_build(work, status=label)  # Ctrl-C while compiling: KeyboardInterrupt
        store_standalone_build(work)
        timing = {"build_and_run_s": time.perf_counter() - t1,
                  "run_s": float(b2.device._last_run_time)}
        timing["compile_s"] = timing["build_and_run_s"] - timing["run_s"]
        return timing

    def cache_key(self) -> str:
        """The key of this run's cpp_standalone build cache (after the network was run, so
        that its code objects exist): :meth:`NeuronPipeline.structure_key`, plus, when the
        network's objects are not exactly the pipeline's, a SHA-256 of every object's name
        and of the lines of every code object's generated source, sorted (Brian2 writes some
        lines in the order of a set, which varies from run to run; a collision costs only
        recompilation, see the module docstring)."""
        spec = self.spec
        key = self.pipeline.structure_key(spec.sites, n_clamps=len(spec.clamps))
        names = sorted(o.name for o in self.network.objects)
        if frozenset(names) == self._own:
            return key
        digest = hashlib.sha256("\n".join(names).encode())
        for name, codeobj in sorted(import_brian2().device.code_objects.items()):
            code = codeobj.code
            source = f"{getattr(code, 'cpp_file', code)}\n{getattr(code, 'h_file', '')}"
            digest.update(f"\0{name}\0".encode())
            digest.update("\n".join(sorted(source.splitlines())).encode())
        return f"{key}\nnetwork with other objects: {digest.hexdigest()}"

    # -- closing ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release Brian2's standalone device and delete the build directory (cpp_standalone;
        a no-op on runtime targets' objects, which live on). Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(ValueError):
            _OPEN_STANDALONE.remove(self.close)
        self._stack.close()

    def __enter__(self) -> BuiltPipeline:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("run" if self._ran else "built")
        return (f"BuiltPipeline({self.pipeline.model.name!r}, backend={self.backend!r}, "
                f"{len(self.network.objects)} objects ({len(self.user_objects)} added), "
                f"{state})")
