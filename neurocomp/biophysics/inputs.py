r"""Presynaptic input: seeded spike trains from rates, rate arrays or explicit times.

All trains are generated in numpy from an explicit :class:`numpy.random.Generator`, so the
same seed gives the same input on every Brian2 backend. Inhomogeneous Poisson trains use
thinning (Lewis & Shedler 1979): candidates at the peak rate, each kept with probability
:math:`\lambda(t)/\lambda_\text{max}`. :func:`from_rate_array` turns an array of rates — for
example a convnet's activations, one row per input channel — into such trains, which is how a
network's output can drive the biophysical neuron.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics.units import accepts_quantities, convert_quantity_fields
from neurocomp.checks import (
    check_finite_array,
    check_index_array,
    check_int,
    check_real,
    setting,
)

__all__ = ["DEFAULT_MAX_MEMORY_GIB", "SpikeTrains", "check_memory", "expected_spikes",
           "from_rate_array", "from_times", "inhomogeneous_poisson", "memory_limit_bytes",
           "poisson"]

#: Memory a single call may plan to use unless told otherwise, GiB (2**30 bytes); the
#: environment variable ``NEUROCOMP_MAX_MEMORY_GIB`` or a ``max_memory_gib`` argument
#: overrides it.
DEFAULT_MAX_MEMORY_GIB = 4.0
_GIB = 2 ** 30
#: Bytes per generated spike: int64 source + float64 time, about three copies alive at
#: once (draws, the sort order, the sorted arrays).
_BYTES_PER_SPIKE = 3 * (8 + 8)


def memory_limit_bytes(max_memory_gib: float | None = None) -> float:
    """The memory bound in bytes: ``max_memory_gib``, else ``$NEUROCOMP_MAX_MEMORY_GIB``,
    else :data:`DEFAULT_MAX_MEMORY_GIB` (GiB, > 0)."""
    return setting("max_memory_gib", max_memory_gib, env="NEUROCOMP_MAX_MEMORY_GIB",
                   default=DEFAULT_MAX_MEMORY_GIB, unit="GiB") * _GIB


def check_memory(need_bytes: float, *, what: str, arguments: str,
                 max_memory_gib: float | None = None) -> None:
    """Refuse (``ValueError``) a call that would need more than the memory bound.

    ``what`` says what would be allocated and ``arguments`` which arguments set its size;
    both appear in the message, with the bound and how to raise it.
    """
    limit = memory_limit_bytes(max_memory_gib)
    if need_bytes > limit:
        raise ValueError(f"{what} would need about {need_bytes / _GIB:.3g} GiB, above the "
                         f"bound of {limit / _GIB:.3g} GiB; reduce {arguments}, or raise the "
                         f"bound with max_memory_gib= (or $NEUROCOMP_MAX_MEMORY_GIB)")


@accepts_quantities
def expected_spikes(rates_hz: np.ndarray, duration_ms: float) -> float:
    """A high estimate of a Poisson draw's spike count: mean + 6 standard deviations."""
    mean = float(np.sum(rates_hz, dtype=np.float64)) * duration_ms / 1e3
    return mean + 6.0 * math.sqrt(mean)


@dataclass(frozen=True, kw_only=True)
class SpikeTrains:
    """Spike times of ``n_sources`` presynaptic sources.

    Attributes
    ----------
    indices : ndarray of int
        Source of each spike, sorted by time.
    times_ms : ndarray of float
        Spike times, ms, non-decreasing.
    n_sources : int
        Number of sources (sources without spikes included).
    duration_ms : float
        Length of the window the trains cover, ms.
    """

    indices: np.ndarray
    times_ms: np.ndarray
    n_sources: int
    duration_ms: float

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        idx = check_index_array("indices", self.indices)
        t = check_finite_array("times_ms", np.asarray(self.times_ms, dtype=np.float64))
        check_int("n_sources", self.n_sources, low=1)
        check_real("duration_ms", self.duration_ms, low=0, low_inclusive=False, unit="ms")
        if idx.shape != t.shape or idx.ndim != 1:
            raise ValueError(f"indices and times_ms must be 1-D of equal length; got shapes "
                             f"{idx.shape} and {t.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_sources):
            raise ValueError(f"indices must lie in [0, {self.n_sources - 1}] (n_sources="
                             f"{self.n_sources}); got values in [{idx.min()}, {idx.max()}]")
        if t.size and (t.min() < 0 or t.max() >= self.duration_ms):
            raise ValueError(f"times_ms must lie in [0, duration_ms={self.duration_ms:g}) ms; "
                             f"got values in [{t.min():g}, {t.max():g}] ms")
        order = np.lexsort((idx, t))
        object.__setattr__(self, "indices", idx[order])
        object.__setattr__(self, "times_ms", t[order])

    @property
    def n_spikes(self) -> int:
        """Total number of spikes."""
        return int(self.times_ms.size)

    def rates_hz(self) -> np.ndarray:
        """Mean rate of each source, Hz."""
        return np.bincount(self.indices, minlength=self.n_sources) / (self.duration_ms / 1e3)

    @accepts_quantities
    def dedupe(self, dt_ms: float) -> SpikeTrains:
        """Drop a source's second spike within one time step (Brian2 allows one per dt)."""
        bins = np.floor(self.times_ms / dt_ms).astype(np.int64)
        key = bins * self.n_sources + self.indices
        _, first = np.unique(key, return_index=True)
        keep = np.sort(first)
        return SpikeTrains(indices=self.indices[keep], times_ms=bins[keep] * dt_ms,
                           n_sources=self.n_sources, duration_ms=self.duration_ms)


@accepts_quantities
def poisson(*, n_sources: int, rate_hz: float | Sequence[float], duration_ms: float,
            rng: np.random.Generator, max_memory_gib: float | None = None) -> SpikeTrains:
    """Homogeneous Poisson trains, one rate for all sources or one per source (Hz ≥ 0).

    Refuses (``ValueError``) a draw whose expected spikes would need more memory than the
    bound (:func:`memory_limit_bytes`; ``max_memory_gib`` overrides it).
    """
    n = check_int("n_sources", n_sources, low=1)
    duration = check_real("duration_ms", duration_ms, low=0, low_inclusive=False, unit="ms")
    check_memory(n * 3 * 8.0, what=f"n_sources={n} sources",
                 arguments="n_sources", max_memory_gib=max_memory_gib)
    rate_arr = np.asarray(rate_hz, dtype=np.float64)
    if rate_arr.ndim > 1 or (rate_arr.ndim == 1 and rate_arr.size not in (1, n)):
        raise ValueError(f"rate_hz must be one rate or one per source (n_sources={n}); got "
                         f"shape {rate_arr.shape}")
    rates = np.broadcast_to(rate_arr, (n,))
    check_finite_array("rate_hz", rates)
    if (rates < 0).any():
        raise ValueError(f"rate_hz must be >= 0 Hz; got {rates.min():g} Hz")
    _check_rng(rng)
    n_spikes = expected_spikes(rates, duration)
    check_memory(n_spikes * _BYTES_PER_SPIKE + n * 3 * 8.0,
                 what=f"about {n_spikes:.3g} spikes (rate_hz up to {rates.max():g} Hz for "
                      f"duration_ms={duration:g} ms on n_sources={n})",
                 arguments="rate_hz, duration_ms or n_sources", max_memory_gib=max_memory_gib)
    counts = rng.poisson(rates * duration / 1e3)
    idx = np.repeat(np.arange(n), counts)
    times = rng.uniform(0.0, duration, size=idx.size)
    return SpikeTrains(indices=idx, times_ms=times, n_sources=n, duration_ms=duration)


@accepts_quantities
def inhomogeneous_poisson(*, rates_hz: np.ndarray, dt_ms: float,
                          rng: np.random.Generator,
                          max_memory_gib: float | None = None) -> SpikeTrains:
    """Poisson trains whose rate is piecewise constant in bins of ``dt_ms``.

    Parameters
    ----------
    rates_hz : array, shape (n_sources, n_bins)
        Rate of each source in each bin, Hz (≥ 0, finite).
    dt_ms : float
        Bin width, ms (> 0).
    rng : numpy.random.Generator
        Source of randomness.
    max_memory_gib : float, optional
        Memory bound, GiB (default :func:`memory_limit_bytes`): the candidate spikes, drawn
        at each source's peak rate, must fit in it.
    """
    rates = check_finite_array("rates_hz", np.asarray(rates_hz, dtype=np.float64))
    if rates.ndim != 2:
        raise ValueError(f"rates_hz must be 2-D (n_sources, n_bins); got shape {rates.shape}")
    if (rates < 0).any():
        raise ValueError(f"rates_hz must be >= 0 Hz; got {rates.min():g} Hz")
    dt = check_real("dt_ms", dt_ms, low=0, low_inclusive=False, unit="ms")
    _check_rng(rng)
    n, n_bins = rates.shape
    duration = n_bins * dt
    peak = rates.max(axis=1)
    n_cand = expected_spikes(peak, duration)
    check_memory(n_cand * (_BYTES_PER_SPIKE + 3 * 8.0),
                 what=f"about {n_cand:.3g} candidate spikes (peak rates up to "
                      f"{peak.max():g} Hz over {n_bins} bins of dt_ms={dt:g} ms)",
                 arguments="rates_hz (its peak rate or its number of bins)",
                 max_memory_gib=max_memory_gib)
    cand = poisson(n_sources=n, rate_hz=peak, duration_ms=duration, rng=rng,
                   max_memory_gib=max_memory_gib)
    bins = np.minimum((cand.times_ms / dt).astype(np.int64), n_bins - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        accept = rates[cand.indices, bins] / peak[cand.indices]
    keep = rng.random(cand.n_spikes) < np.nan_to_num(accept)
    return SpikeTrains(indices=cand.indices[keep], times_ms=cand.times_ms[keep],
                       n_sources=n, duration_ms=duration)


@accepts_quantities
def from_rate_array(activations: np.ndarray, *, dt_ms: float, max_rate_hz: float,
                    rng: np.random.Generator,
                    max_memory_gib: float | None = None) -> SpikeTrains:
    """Drive sources with a non-negative activation array scaled to ``max_rate_hz``.

    ``activations`` has shape (n_sources, n_bins) — a convnet's channels × time, say. The
    largest entry maps to ``max_rate_hz``; negative entries are an error (apply a ReLU
    first, rather than having them clipped silently). ``max_memory_gib`` bounds the
    memory of the draw (see :func:`inhomogeneous_poisson`).
    """
    raw = np.asarray(activations)
    check_memory(raw.size * 8.0 * 3, what=f"activations of shape {raw.shape} (as float64 "
                 f"rates, three copies)", arguments="the size of activations",
                 max_memory_gib=max_memory_gib)
    a = check_finite_array("activations", np.asarray(raw, dtype=np.float64))
    if (a < 0).any():
        raise ValueError(f"activations must be >= 0 (rates cannot be negative); got "
                         f"{a.min():g} — rectify them first")
    top = check_real("max_rate_hz", max_rate_hz, low=0, low_inclusive=False, unit="Hz")
    scale = top / a.max() if a.max() > 0 else 0.0
    return inhomogeneous_poisson(rates_hz=a * scale, dt_ms=dt_ms, rng=rng,
                                 max_memory_gib=max_memory_gib)


@accepts_quantities
def from_times(times_ms: Sequence[Sequence[float]], *, duration_ms: float) -> SpikeTrains:
    """Explicit spike times, one sequence per source (ms)."""
    idx = np.concatenate([np.full(len(t), i) for i, t in enumerate(times_ms)]) \
        if len(times_ms) else np.zeros(0, dtype=int)
    t = np.concatenate([np.asarray(t, dtype=np.float64) for t in times_ms]) \
        if len(times_ms) else np.zeros(0)
    return SpikeTrains(indices=idx, times_ms=t, n_sources=max(1, len(times_ms)),
                       duration_ms=duration_ms)


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (numpy.random.default_rng(seed))")
