"""Dendritic plateau potentials (NMDA spikes) in recorded voltage traces.

An NMDA spike is a local regenerative depolarisation of a thin dendrite: clustered input
over ~20–40 µm relieves the Mg²⁺ block and the branch sits near −20 to −40 mV for tens to
hundreds of milliseconds (Schiller et al. 2000, Nature 404:285: half-width at the soma
64.4 ± 19.8 ms; Major et al. 2008, J Neurophysiol 99:2584: duration grows with input and
depolarisation; docs/references.md#anchors-surrogates-engines-d). A back-propagating action
potential crosses the same voltages but for only a few milliseconds (Hay et al. 2011 target: bAP
width 2 ± 0.5 ms; Stuart et al. 1997 J Physiol 505:617: half-width grows with distance;
docs/references.md#anchors-surrogates-engines-d). The detector below therefore separates the two by
*duration above a threshold*:

* ``threshold_mV = −40``: 10 mV below the lower end of the plateau range (−20 to −30 mV,
  docs/references.md#anchors-surrogates-engines-d) yet well above summed sub-threshold EPSPs; there
  the NMDA conductance is ten times less blocked than at −70 mV (B = 0.127 vs 0.013 for 1 mM Mg²⁺
  with Beniaguev et al.'s block B(V), docs/references.md#anchors-surrogates-engines-a-2), i.e. in
  its regenerative range.
* ``min_duration_ms = 20``: ten times a bAP's width (2 ms), and below the shortest NMDA
  spikes of Schiller et al. (mean − 2 SD of the half-width = 24.8 ms).

Limitations: the test is on voltage only, so an apical Ca²⁺ plateau (Hay's BAC target:
37 ms wide, docs/references.md#anchors-surrogates-engines-d) above −40 mV for ≥ 20 ms counts as
well; a burst of bAPs that keeps the branch above threshold without a gap is one event (set
``merge_gap_ms`` only to bridge brief dips inside one plateau).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics.units import accepts_quantities
from neurocomp.checks import check_finite_array, check_int, check_real

__all__ = ["PlateauEvents", "detect_plateaus", "plateau_rate_hz"]


@dataclass(frozen=True, kw_only=True, eq=False)
class PlateauEvents:
    """Detected plateaus, one entry per event, sorted by site then start.

    Attributes
    ----------
    site : ndarray of int
        Row of the voltage array (recording site) of each event.
    start_ms : ndarray of float
        Start of the event (first bin above threshold), ms from the trace start.
    duration_ms : ndarray of float
        Time above threshold (bins × bin_ms), ms.
    peak_mV : ndarray of float
        Largest voltage during the event, mV.
    at_edge : ndarray of bool
        True for events cut by the start or the end of the trace (their duration is a
        lower bound).
    n_sites : int
        Number of sites searched.
    trace_ms : float
        Length of the traces, ms.
    """

    site: np.ndarray
    start_ms: np.ndarray
    duration_ms: np.ndarray
    peak_mV: np.ndarray
    at_edge: np.ndarray
    n_sites: int
    trace_ms: float

    def __post_init__(self) -> None:
        n = np.asarray(self.site).shape
        for name in ("start_ms", "duration_ms", "peak_mV", "at_edge"):
            if np.asarray(getattr(self, name)).shape != n:
                raise ValueError(f"{name} must have one entry per event ({n}); got shape "
                                 f"{np.asarray(getattr(self, name)).shape}")
        check_int("n_sites", self.n_sites, low=1)
        check_real("trace_ms", self.trace_ms, low=0, low_inclusive=False, unit="ms")

    def __len__(self) -> int:
        return int(np.asarray(self.site).size)

    def per_site(self) -> np.ndarray:
        """Number of events at each site, shape (n_sites,)."""
        return np.bincount(np.asarray(self.site, dtype=np.int64), minlength=self.n_sites)


@accepts_quantities
def detect_plateaus(v_mV: np.ndarray, *, bin_ms: float, threshold_mV: float = -40.0,
                    min_duration_ms: float = 20.0, merge_gap_ms: float = 0.0) -> PlateauEvents:
    """Find plateaus: runs above ``threshold_mV`` lasting at least ``min_duration_ms``.

    Parameters
    ----------
    v_mV : ndarray, shape (n_sites, n_bins) or (n_bins,)
        Voltage traces, mV, sampled every ``bin_ms``.
    bin_ms : float
        Sampling interval, ms (> 0).
    threshold_mV : float
        A bin is "up" when its voltage exceeds this, mV (see the module docstring).
    min_duration_ms : float
        Shortest plateau, ms (> 0); shorter runs (bAPs) are ignored.
    merge_gap_ms : float
        Runs separated by at most this much time below threshold are joined before the
        duration test, ms (≥ 0; default 0: no joining). The joined duration includes the gap.

    Returns
    -------
    PlateauEvents
    """
    v = np.asarray(v_mV, dtype=np.float64)
    if v.ndim == 1:
        v = v[None, :]
    if v.ndim != 2 or v.shape[1] == 0:
        raise ValueError(f"v_mV must have shape (n_sites, n_bins) or (n_bins,) with n_bins "
                         f">= 1; got {np.shape(v_mV)}")
    check_finite_array("v_mV", v)
    bin_ms = check_real("bin_ms", bin_ms, low=0, low_inclusive=False, unit="ms")
    threshold_mV = check_real("threshold_mV", threshold_mV, unit="mV")
    min_duration_ms = check_real("min_duration_ms", min_duration_ms, low=0,
                                 low_inclusive=False, unit="ms")
    merge_gap_ms = check_real("merge_gap_ms", merge_gap_ms, low=0, unit="ms")
    n_sites, n_bins = v.shape
    up = v > threshold_mV
    padded = np.zeros((n_sites, n_bins + 2), dtype=np.int8)
    padded[:, 1:-1] = up
    step = np.diff(padded, axis=1)
    sites_on, starts = np.nonzero(step == 1)  # row-major: sorted by site, then time
    _, stops = np.nonzero(step == -1)  # first bin below threshold after each run
    if merge_gap_ms > 0 and starts.size > 1:
        gap = starts[1:] - stops[:-1]
        join = (sites_on[1:] == sites_on[:-1]) & (gap * bin_ms <= merge_gap_ms)
        keep_start = np.r_[True, ~join]
        keep_stop = np.r_[~join, True]
        sites_on, starts, stops = sites_on[keep_start], starts[keep_start], stops[keep_stop]
    duration_bins = stops - starts
    # tolerance for float rounding in bins × bin_ms
    ok = duration_bins * bin_ms >= min_duration_ms * (1 - 1e-12)
    sites_on, starts, stops = sites_on[ok], starts[ok], stops[ok]
    peaks = np.array([v[s, a:b].max() for s, a, b in zip(sites_on, starts, stops, strict=True)],
                     dtype=np.float64)
    return PlateauEvents(site=sites_on.astype(np.int64), start_ms=starts * bin_ms,
                         duration_ms=(stops - starts) * bin_ms, peak_mV=peaks,
                         at_edge=(starts == 0) | (stops == n_bins), n_sites=n_sites,
                         trace_ms=n_bins * bin_ms)


def plateau_rate_hz(events: PlateauEvents, n_sites: int | None = None,
                    seconds: float | None = None) -> float:
    """Plateaus per site per second, Hz.

    ``n_sites`` and ``seconds`` default to the events' own (sites searched, trace length);
    pass them to pool events over several traces.
    """
    if not isinstance(events, PlateauEvents):
        raise TypeError(f"events must be PlateauEvents; got {type(events).__name__}")
    n = check_int("n_sites", events.n_sites if n_sites is None else n_sites, low=1)
    s = check_real("seconds", events.trace_ms / 1000.0 if seconds is None else seconds, low=0,
                   low_inclusive=False, unit="s")
    return len(events) / (n * s)
