"""Checks of a pipeline run before any work: units of its quantities, its step, its size.

:func:`check_quantity` reads a Brian2 quantity as a float in a unit; :func:`max_dt_ms` is the
coarsest step a model's channels allow; :func:`estimate_run` estimates the memory (bytes) and
a lower bound of the wall time (s) of a run, against which
:meth:`~neurocomp.biophysics.pipeline.NeuronPipeline.run` refuses runs beyond
``max_memory_gib`` or ``max_hours`` (default :data:`DEFAULT_MAX_HOURS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocomp.biophysics.backend import import_brian2
from neurocomp.biophysics.channels import ChannelDensities, max_stable_dt_ms
from neurocomp.biophysics.inputs import SpikeTrains, check_memory
from neurocomp.biophysics.model import NeuronModel
from neurocomp.biophysics.units import accepts_quantities
from neurocomp.checks import setting

__all__ = ["DEFAULT_MAX_HOURS", "RunEstimate", "check_quantity", "estimate_run", "max_dt_ms"]

#: Longest run :meth:`~neurocomp.biophysics.pipeline.NeuronPipeline.run` starts unless told
#: otherwise, hours of wall time (estimated; ``max_hours=`` or ``$NEUROCOMP_MAX_RUN_HOURS``
#: overrides it).
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


@accepts_quantities
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
    # another simulator: no rate known, so no time bound (the memory bound still holds)
    rate, per_step = _THROUGHPUT.get(backend, (float("inf"), 0.0))
    seconds = n_steps * (n_compartments / rate + per_step)
    return RunEstimate(n_steps=n_steps, n_samples=n_samples,
                       memory_bytes=traces + release + inputs + clamps, trace_bytes=traces,
                       seconds=seconds)


def _max_hours(max_hours: float | None) -> float:
    """The wall-time bound of a run, h: ``max_hours``, else ``$NEUROCOMP_MAX_RUN_HOURS``, else
    :data:`DEFAULT_MAX_HOURS`."""
    return setting("max_hours", max_hours, env="NEUROCOMP_MAX_RUN_HOURS",
                   default=DEFAULT_MAX_HOURS, unit="h")


def _check_times(model: NeuronModel, *, duration: Any, dt: Any, record_dt: Any
                 ) -> tuple[float, float, float]:
    """The run's duration, step and sampling step, ms, checked against each other and the
    model.

    Parameters
    ----------
    model : NeuronModel
        The neuron (its channels bound ``dt``, see :func:`max_dt_ms`).
    duration, dt, record_dt : brian2 Quantity (time) or None
        As given to :meth:`~neurocomp.biophysics.pipeline.NeuronPipeline.run`; ``dt`` None
        is 25 µs, ``record_dt`` None is ``dt``.

    Returns
    -------
    tuple of float
        ``(duration_ms, dt_ms, record_dt_ms)``, ms.

    Raises
    ------
    TypeError, ValueError
        For a value without time units or out of range (:func:`check_quantity`), a ``dt``
        above ``duration`` or :func:`max_dt_ms`, or a ``record_dt`` below ``dt``.
    """
    b2 = import_brian2()
    ms, us = b2.ms, b2.us
    duration_ms = check_quantity("duration", duration, ms)
    dt_ms = check_quantity("dt", dt if dt is not None else 25 * us, ms)
    if dt_ms > duration_ms:
        raise ValueError(f"dt ({dt_ms:g} ms) must not exceed duration ({duration_ms:g} ms)")
    limit = max_dt_ms(model)
    if dt_ms > limit:
        raise ValueError(f"dt = {dt_ms:g} ms is too coarse for the channels of "
                         f"{model.name!r} at {model.temperature_C:g} °C: use "
                         f"dt <= {limit:.4g} ms (half the fastest gate's time constant)")
    rec_dt_ms = (check_quantity("record_dt", record_dt, ms) if record_dt is not None
                 else dt_ms)
    if rec_dt_ms < dt_ms:
        raise ValueError(f"record_dt ({rec_dt_ms:g} ms) must be >= dt ({dt_ms:g} ms): "
                         f"traces cannot be sampled faster than the simulation steps")
    return duration_ms, dt_ms, rec_dt_ms


def _check_size(model: NeuronModel, trains: Mapping[str, SpikeTrains], *, duration_ms: float,
                dt_ms: float, rec_dt_ms: float, n_sites: int, n_variables: int,
                n_clamps: int, backend: str, max_memory_gib: float | None,
                max_hours: float | None) -> RunEstimate:
    """Refuse a run beyond the memory or time bound, naming the arguments to change.

    Parameters
    ----------
    model : NeuronModel
        The neuron run (its compartments and synapse groups).
    trains : mapping of group name to SpikeTrains
        The input spikes.
    duration_ms, dt_ms, rec_dt_ms : float
        Duration, integration step and sampling step of the traces, ms.
    n_sites, n_variables, n_clamps : int
        Recorded compartments, variables recorded at each, current clamps.
    backend : str
        The Brian2 target (its throughput bounds the time).
    max_memory_gib, max_hours : float or None
        The bounds, GiB and h (None: ``$NEUROCOMP_MAX_MEMORY_GIB`` or 4 GiB,
        ``$NEUROCOMP_MAX_RUN_HOURS`` or :data:`DEFAULT_MAX_HOURS`).

    Returns
    -------
    RunEstimate
        The estimate the bounds were checked against.
    """
    n_release = sum(min(20, g.n_synapses) for g in model.synapse_groups)
    est = estimate_run(duration_ms=duration_ms, dt_ms=dt_ms, record_dt_ms=rec_dt_ms,
                       n_sites=n_sites, n_variables=n_variables,
                       n_compartments=model.morphology.n_compartments,
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
            f"dt={dt_ms:g} ms on {model.morphology.n_compartments} compartments), "
            f"above max_hours={limit_h:g} h; shorten duration, use a faster backend, or "
            f"raise the bound with max_hours= (or $NEUROCOMP_MAX_RUN_HOURS)")
    return est


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

