r"""Presynaptic input: seeded spike trains from rates, rate arrays or explicit times.

All trains are generated in numpy from an explicit :class:`numpy.random.Generator`, so the
same seed gives the same input on every Brian2 backend. Inhomogeneous Poisson trains use
thinning (Lewis & Shedler 1979): candidates at the peak rate, each kept with probability
:math:`\lambda(t)/\lambda_\text{max}`. :func:`from_rate_array` turns an array of rates — for
example a convnet's activations, one row per input channel — into such trains, which is how a
network's output can drive the biophysical neuron.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocomp._validation import check_finite_array, check_int, check_real

__all__ = ["SpikeTrains", "from_rate_array", "from_times", "inhomogeneous_poisson", "poisson"]


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
        idx = np.asarray(self.indices, dtype=np.int64)
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

    def dedupe(self, dt_ms: float) -> SpikeTrains:
        """Drop a source's second spike within one time step (Brian2 allows one per dt)."""
        bins = np.floor(self.times_ms / dt_ms).astype(np.int64)
        key = bins * self.n_sources + self.indices
        _, first = np.unique(key, return_index=True)
        keep = np.sort(first)
        return SpikeTrains(indices=self.indices[keep], times_ms=bins[keep] * dt_ms,
                           n_sources=self.n_sources, duration_ms=self.duration_ms)


def poisson(*, n_sources: int, rate_hz: float | Sequence[float], duration_ms: float,
            rng: np.random.Generator) -> SpikeTrains:
    """Homogeneous Poisson trains, one rate for all sources or one per source (Hz ≥ 0)."""
    n = check_int("n_sources", n_sources, low=1)
    duration = check_real("duration_ms", duration_ms, low=0, low_inclusive=False, unit="ms")
    rates = np.broadcast_to(np.asarray(rate_hz, dtype=np.float64), (n,))
    check_finite_array("rate_hz", rates)
    if (rates < 0).any():
        raise ValueError(f"rate_hz must be >= 0 Hz; got {rates.min():g} Hz")
    _check_rng(rng)
    counts = rng.poisson(rates * duration / 1e3)
    idx = np.repeat(np.arange(n), counts)
    times = rng.uniform(0.0, duration, size=idx.size)
    return SpikeTrains(indices=idx, times_ms=times, n_sources=n, duration_ms=duration)


def inhomogeneous_poisson(*, rates_hz: np.ndarray, dt_ms: float,
                          rng: np.random.Generator) -> SpikeTrains:
    """Poisson trains whose rate is piecewise constant in bins of ``dt_ms``.

    Parameters
    ----------
    rates_hz : array, shape (n_sources, n_bins)
        Rate of each source in each bin, Hz (≥ 0, finite).
    dt_ms : float
        Bin width, ms (> 0).
    rng : numpy.random.Generator
        Source of randomness.
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
    cand = poisson(n_sources=n, rate_hz=peak, duration_ms=duration, rng=rng)
    bins = np.minimum((cand.times_ms / dt).astype(np.int64), n_bins - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        accept = rates[cand.indices, bins] / peak[cand.indices]
    keep = rng.random(cand.n_spikes) < np.nan_to_num(accept)
    return SpikeTrains(indices=cand.indices[keep], times_ms=cand.times_ms[keep],
                       n_sources=n, duration_ms=duration)


def from_rate_array(activations: np.ndarray, *, dt_ms: float, max_rate_hz: float,
                    rng: np.random.Generator) -> SpikeTrains:
    """Drive sources with a non-negative activation array scaled to ``max_rate_hz``.

    ``activations`` has shape (n_sources, n_bins) — a convnet's channels × time, say. The
    largest entry maps to ``max_rate_hz``; negative entries are an error (apply a ReLU
    first, rather than having them clipped silently).
    """
    a = check_finite_array("activations", np.asarray(activations, dtype=np.float64))
    if (a < 0).any():
        raise ValueError(f"activations must be >= 0 (rates cannot be negative); got "
                         f"{a.min():g} — rectify them first")
    top = check_real("max_rate_hz", max_rate_hz, low=0, low_inclusive=False, unit="Hz")
    scale = top / a.max() if a.max() > 0 else 0.0
    return inhomogeneous_poisson(rates_hz=a * scale, dt_ms=dt_ms, rng=rng)


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
