"""Plateau (NMDA spike) detection on synthetic dendritic traces with known events."""

from __future__ import annotations

import numpy as np
import pytest

from neurocomp.biophysics.plateaus import PlateauEvents, detect_plateaus, plateau_rate_hz

REST_MV = -70.0
BIN_MS = 0.5


def _trace(n_bins: int, events: list[tuple[float, float, float]]) -> np.ndarray:
    """Rest with rectangular depolarisations (start_ms, duration_ms, level_mV)."""
    v = np.full(n_bins, REST_MV)
    for start, dur, level in events:
        a = round(start / BIN_MS)
        v[a:a + round(dur / BIN_MS)] = level
    return v


def test_plateau_counted_bap_not_and_separate_plateaus_counted_twice():
    # site 0: one 50 ms plateau at −30 mV (Major et al. 2008 range) and a 2 ms bAP to +10 mV
    # site 1: two 40 ms plateaus 100 ms apart; site 2: nothing but a bAP
    v = np.stack([_trace(1000, [(100, 50, -30.0), (300, 2, 10.0)]),
                  _trace(1000, [(50, 40, -25.0), (190, 40, -35.0)]),
                  _trace(1000, [(200, 2, 20.0)])])
    ev = detect_plateaus(v, bin_ms=BIN_MS)
    assert len(ev) == 3  # exact: rectangular events, no noise
    np.testing.assert_array_equal(ev.site, [0, 1, 1])
    np.testing.assert_array_equal(ev.per_site(), [1, 2, 0])
    # exact to float rounding (0.5 ms steps are exact in binary)
    np.testing.assert_allclose(ev.start_ms, [100.0, 50.0, 190.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ev.duration_ms, [50.0, 40.0, 40.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ev.peak_mV, [-30.0, -25.0, -35.0], rtol=0, atol=0)
    assert not ev.at_edge.any()
    # 3 events over 3 sites × 0.5 s = 2 Hz; exact
    assert plateau_rate_hz(ev) == pytest.approx(3 / (3 * 0.5), rel=1e-12)
    assert plateau_rate_hz(ev, n_sites=6, seconds=1.0) == pytest.approx(0.5, rel=1e-12)


def test_bap_riding_on_a_plateau_is_part_of_it_and_short_runs_are_dropped():
    v = _trace(600, [(20, 60, -30.0)])
    v[80] = 15.0  # a bAP on top of the plateau: peak, not a new event
    v[400:400 + int(19.5 / BIN_MS)] = -20.0  # 19.5 ms: just below the 20 ms minimum
    ev = detect_plateaus(v, bin_ms=BIN_MS)
    assert len(ev) == 1 and ev.peak_mV[0] == 15.0  # exact
    assert ev.duration_ms[0] == pytest.approx(60.0, abs=1e-12)


def test_merge_gap_and_edges():
    v = _trace(400, [(10, 30, -30.0), (41, 30, -30.0)])  # 1 ms dip between two halves
    assert len(detect_plateaus(v, bin_ms=BIN_MS)) == 2
    merged = detect_plateaus(v, bin_ms=BIN_MS, merge_gap_ms=1.0)
    assert len(merged) == 1
    assert merged.duration_ms[0] == pytest.approx(61.0, abs=1e-12)  # gap included, exact
    edge = detect_plateaus(_trace(100, [(0, 25, -30.0)]), bin_ms=BIN_MS)
    assert len(edge) == 1 and edge.at_edge[0]
    single = detect_plateaus(np.full(80, -30.0), bin_ms=BIN_MS)  # whole 40 ms trace
    assert len(single) == 1 and single.at_edge[0] and single.n_sites == 1


def test_bad_arguments_name_the_field():
    v = np.full(10, REST_MV)
    with pytest.raises(ValueError, match="bin_ms"):
        detect_plateaus(v, bin_ms=0.0)
    with pytest.raises(ValueError, match="min_duration_ms"):
        detect_plateaus(v, bin_ms=1.0, min_duration_ms=-5.0)
    with pytest.raises(ValueError, match="merge_gap_ms"):
        detect_plateaus(v, bin_ms=1.0, merge_gap_ms=-1.0)
    with pytest.raises(ValueError, match="v_mV must hold only finite"):
        detect_plateaus(np.array([REST_MV, np.nan]), bin_ms=1.0)
    with pytest.raises(ValueError, match="v_mV must have shape"):
        detect_plateaus(np.zeros((2, 2, 2)), bin_ms=1.0)
    ev = detect_plateaus(v, bin_ms=1.0)
    with pytest.raises(ValueError, match="seconds"):
        plateau_rate_hz(ev, seconds=0.0)
    with pytest.raises(ValueError, match="n_sites"):
        plateau_rate_hz(ev, n_sites=0)
    with pytest.raises(ValueError, match="start_ms must have one entry per event"):
        PlateauEvents(site=np.zeros(2), start_ms=np.zeros(1), duration_ms=np.zeros(2),
                      peak_mV=np.zeros(2), at_edge=np.zeros(2, bool), n_sites=1, trace_ms=1.0)
