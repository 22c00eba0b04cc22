"""The recording side of a pipeline run: its monitors, the network run, and the raw results.

:func:`_monitors` records the traces at the chosen compartments, the vesicle counts of up to
20 synapses per group and the output spikes at the axon terminal; :func:`_run_network` runs
the network on a runtime target and times it (``cpp_standalone`` runs are in
:mod:`~neurocomp.biophysics.pipeline_build`); :func:`_raw_results` reads the monitors into
the plain arrays :meth:`~neurocomp.biophysics.recording.Recording.from_raw` takes (times in
ms, traces in the display units of :func:`_unit_of`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocomp.biophysics.backend import import_brian2
from neurocomp.biophysics.progress import StatusLine

__all__: list[str] = []


@dataclass(frozen=True, kw_only=True)
class _Monitors:
    """The monitors of a run.

    Attributes
    ----------
    traces : brian2.StateMonitor
        The trace variables at the recorded compartments (``traces``).
    release : dict of str to brian2.StateMonitor
        Per synapse group, ``vesicles_total`` of its first synapses (``relmon_<group>``).
    output : brian2.SpikeMonitor or None
        Spikes at the axon terminal (``outmon``), None without an axon.
    """

    traces: Any
    release: dict[str, Any]
    output: Any | None

    @property
    def objects(self) -> list[Any]:
        """The monitors, in the order they join the network."""
        out = [self.traces, *self.release.values()]
        return out if self.output is None else [*out, self.output]


def _monitors(neuron: Any, synapses: Mapping[str, Any], *, n_synapses: Mapping[str, int],
              indices: Sequence[int], trace_vars: Sequence[str], rec_dt_ms: float,
              has_axon: bool) -> _Monitors:
    """The monitors of a run.

    Parameters
    ----------
    neuron : brian2.SpatialNeuron
        The neuron.
    synapses : mapping of group name to brian2.Synapses
        The synapses of each group.
    n_synapses : mapping of group name to int
        Synapses in each group (the first ``min(20, n)`` have their vesicles recorded).
    indices : sequence of int
        Compartments whose ``trace_vars`` are recorded.
    trace_vars : sequence of str
        Variables recorded at each of them.
    rec_dt_ms : float
        Sampling step of the traces, ms (of the vesicle counts: at least 1 ms).
    has_axon : bool
        Whether the output spikes at the axon terminal are recorded.
    """
    b2 = import_brian2()
    ms = b2.ms
    state_mon = b2.StateMonitor(neuron, trace_vars, record=list(indices),
                                dt=rec_dt_ms * ms, name="traces")
    release_mons = {}
    for name, syn in synapses.items():
        n_rec = min(20, n_synapses[name])
        release_mons[name] = b2.StateMonitor(syn, "vesicles_total",
                                             record=list(range(n_rec)),
                                             dt=max(1.0, rec_dt_ms) * ms,
                                             name=f"relmon_{name}")
    out_mon = b2.SpikeMonitor(neuron, name="outmon") if has_axon else None
    return _Monitors(traces=state_mon, release=release_mons, output=out_mon)


def _unit_of(neuron: Any, var: str) -> Any:
    """Display unit of a recorded variable: mV, nS, pA …, or None (dimensionless gates)."""
    import brian2 as b2

    dim = neuron.variables[var].dim
    for unit in (b2.mV, b2.nS, b2.pA, b2.siemens / b2.meter**2, b2.amp / b2.meter**2):
        if b2.get_dimensions(unit) == dim:
            return unit
    return None


def _tqdm_report(status: Any = None):
    """A Brian2 ``report`` callback that shows the run's progress (0–100 %) as a tqdm bar,
    made at the first call (when the run starts: code generation and compilation are
    over, and ``status``, a :class:`~neurocomp.biophysics.progress.StatusLine` about them,
    is stopped) and closed when the run completes."""
    bar: Any = None

    def report(elapsed, completed, start, duration):  # Brian2's report callback signature
        nonlocal bar
        if bar is None:
            if status is not None:
                status.stop()
            from tqdm.auto import tqdm

            bar = tqdm(total=100, desc="simulating", unit="%", leave=False)
        bar.n = round(float(completed) * 100)
        bar.refresh()
        if completed >= 1:
            bar.close()

    return report


def _run_network(net: Any, *, duration_ms: float, backend: str, progress: bool,
                 namespace: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Run the network ``net`` for ``duration_ms`` (ms) of biological time on a runtime
    target (numpy or cython, already selected).

    ``progress`` shows a status line with the elapsed seconds while Brian2 generates (and,
    on cython, compiles) the code, then a progress bar of the run. ``namespace`` resolves
    external names of objects without their own (default: none, pitfall P8).

    Returns
    -------
    dict of str to float
        Wall times, s: ``run_s`` (code generation, compilation and the simulation).
    """
    b2 = import_brian2()
    t0 = time.perf_counter()
    status: Any = None
    report: Any = None
    if progress:
        what = "generating and compiling code" if backend == "cython" else "generating code"
        status = StatusLine(f"[brian2] {what} ({backend})").start()
        report = _tqdm_report(status)
    try:
        net.run(duration_ms * b2.ms, report=report, namespace=dict(namespace or {}))
    finally:
        if status is not None:
            status.stop()
    return {"run_s": time.perf_counter() - t0}


def _raw_results(neuron: Any, monitors: _Monitors, *, trace_units: Mapping[str, Any],
                 input_monitors: Mapping[str, Any], synapses: Mapping[str, Any],
                 timing: dict[str, float]) -> dict[str, Any]:
    """What a run recorded, as plain arrays for
    :meth:`~neurocomp.biophysics.recording.Recording.from_raw`.

    Times are in ms; each trace is in its unit of ``trace_units`` (None: dimensionless),
    whose names are kept under ``trace_units``; ``inputs`` holds each group's input spikes
    (source indices, times), ``release`` its recorded vesicle counts (times, counts),
    ``vesicles`` and ``events`` the totals of every synapse, ``output_ms`` the output spikes.
    """
    ms = import_brian2().ms
    state_mon, out_mon = monitors.traces, monitors.output
    return {
        "t_ms": np.asarray(state_mon.t / ms),
        "traces": {var: np.asarray(getattr(state_mon, var) / (1 if unit is None else unit))
                   for var, unit in trace_units.items()},
        "trace_units": {var: "1" if unit is None else str(unit)
                        for var, unit in trace_units.items()},
        "inputs": {n: (np.asarray(mon.i), np.asarray(mon.t / ms))
                   for n, mon in input_monitors.items()},
        "release": {n: (np.asarray(mon.t / ms), np.asarray(mon.vesicles_total))
                    for n, mon in monitors.release.items()},
        "vesicles": {n: np.asarray(syn.vesicles_total) for n, syn in synapses.items()},
        "events": {n: np.asarray(syn.events_total) for n, syn in synapses.items()},
        "output_ms": (np.asarray(out_mon.t / ms) if out_mon is not None else np.zeros(0)),
        "n_compartments": int(neuron.N),
        "timing": timing,
    }
