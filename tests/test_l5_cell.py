"""The reduced L5b cell (models/neurons/l5_pyramidal.py) against measured ranges.

The slow tests run the ``l5-cell`` analysis's protocols once (f–I with Hay et al. 2011's 2 s
steps; bAP, BAC and clustered-input trials as in quick mode) and check the cell; the sources
of every target are beside the constants in ``analyses/l5_cell.py``. Tolerance: the cited
mean ± 2 SD, i.e. where ~95 % of the recorded cells lie if the spread is normal — a cell
outside it is not a typical L5b cell. Looser bounds would hide a miss; a miss is a finding
about the model, not about the test.
"""

from __future__ import annotations

import numpy as np
import pytest
from neurocomp_analyses import l5_cell as L5

# -- fast: pure helpers -------------------------------------------------------------------


def _synthetic_ap(dt: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear trace: a 5 mV jump at 0.5 ms (a step onset, 500 mV/ms), a 10 mV/ms
    ramp from −65 mV at 1 ms to −50 mV at 2.5 ms, 100 mV/ms to +30 mV at 3.3 ms, −100 mV/ms
    down to −70 mV at 4.3 ms, flat after."""
    t = np.round(np.arange(0.0, 8.0, dt), 10)
    v = np.full(t.size, -70.0)
    v[t >= 0.5] = -65.0
    ramp = (t >= 1.0) & (t < 2.5)
    v[ramp] = -65.0 + 10.0 * (t[ramp] - 1.0)
    up = (t >= 2.5) & (t < 3.3)
    v[up] = -50.0 + 100.0 * (t[up] - 2.5)
    down = (t >= 3.3) & (t < 4.3)
    v[down] = 30.0 - 100.0 * (t[down] - 3.3)
    v[t >= 4.3] = -70.0
    return t, v


def test_ap_features_on_a_synthetic_trace() -> None:
    t, v = _synthetic_ap()
    f = L5.ap_features(t, v, rest_mV=-70.0)
    # threshold: the 10 → 100 mV/ms kink at −50 mV; interpolating the slope between sample
    # midpoints puts it within one sample of the kink: ≤ 10 mV/ms × 0.01 ms = 0.1 mV
    assert f["threshold_mV"] == pytest.approx(-50.0, abs=0.1)
    # the 500 mV/ms jump at 0.5 ms (a step onset) is not taken for the AP: its time is the
    # −20 mV crossing at 2.8 ms, within one sample (0.01 ms)
    assert f["time_ms"] == pytest.approx(2.8, abs=0.01)
    assert f["peak_mV"] == pytest.approx(30.0, abs=1e-9)  # a sample sits on the apex
    assert f["amplitude_from_rest_mV"] == pytest.approx(100.0, abs=1e-9)
    # half level (−50 + 30)/2 = −10 mV: crossed at 2.9 and 3.7 ms → 0.8 ms; linear
    # interpolation on linear pieces is exact up to the threshold's 0.1 mV → 0.001 ms
    assert f["half_width_ms"] == pytest.approx(0.8, abs=0.002)


def test_ap_features_without_a_spike_are_nan() -> None:
    t = np.arange(0.0, 10.0, 0.025)
    f = L5.ap_features(t, -70.0 + 0.0 * t, rest_mV=-70.0)
    assert all(np.isnan(x) for x in f.values())  # exact: no AP, no numbers


def test_adaptation_index_and_thresholds() -> None:
    # ISIs 5 (skipped, as eFEL's adaptation_index2), 10, 20, 40: each pair (b−a)/(b+a) = 1/3
    assert L5.adaptation_index([0, 5, 15, 35, 75]) == pytest.approx(1 / 3, abs=1e-12)
    assert np.isnan(L5.adaptation_index([0, 5, 15]))  # too few ISIs: NaN, exactly
    assert L5.rheobase_nA([0.5, 0.2, 0.3], [4.0, 0.0, 1.0]) == 0.3  # exact grid value
    # plateau at 10 and from 30 on: the threshold is where plateaus stay, 30 (exact)
    assert L5.plateau_threshold_k([1, 10, 20, 30, 40], [0, 1, 0, 1, 1]) == 30
    assert np.isnan(L5.plateau_threshold_k([1, 2], [1, 0]))


def test_claim_names_failed_checks() -> None:
    # every check of the catalogue passes but one; the claim is written from the headline
    headline = {}
    for name in L5.check_catalogue():
        k = L5.check_key(name)
        headline.update({f"{k}_value": 10.0, f"{k}_low": 8.0, f"{k}_high": 12.0})
    rises = L5.check_key("bAP amplitude rises along the trunk (count)")
    headline.update({f"{rises}_value": 3.0, f"{rises}_low": 0.0, f"{rises}_high": 0.0})
    n = len(L5.check_catalogue())
    text = L5.claim_from(headline)
    assert f"passes {n - 1} of {n} checks" in text  # exact wording
    assert text.endswith("; it fails the bAP amplitude rises along the trunk (count) (3, "
                         "accepted 0).")
    headline[f"{rises}_value"] = 0.0
    assert f"passes all {n} checks" in L5.claim_from(headline)


# -- slow: the cell -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cell() -> dict:
    rec_fi, ep_fi = L5.run_fi(quick=False)
    fi, features, _ = L5.measure_fi(rec_fi, ep_fi)
    rec_off, ep_off = L5.run_protocols(quick=True, nmda=False)
    rec_on, ep_on = L5.run_protocols(quick=True, nmda=True)
    prot = L5.measure_protocols(rec_off, ep_off, rec_on, ep_on)
    return {"fi": fi.set_index("current_nA"), "ap": features, **prot}



@pytest.mark.slow
@pytest.mark.cpp_standalone
@pytest.mark.parametrize("current_nA", [
    pytest.param(c, marks=pytest.mark.xfail(
        strict=True, reason="known miss, shared with the full model: 13.0 Hz at 0.793 nA (2 s "
                            "step) against 14.5 ± 0.56 Hz; Hay's biophys3 on cell1 gives 12.5"))
    if c == 0.793 else c for c in sorted(L5.FI_TARGETS)])
def test_fi_rates_match_hay_2011(cell: dict, current_nA: float) -> None:
    target = L5.FI_TARGETS[current_nA]
    rate = cell["fi"].loc[current_nA, "rate_hz"]
    # Hay et al. (2011) 2 s steps, 11 cells: mean ± 2 SD (see the module docstring)
    assert target.low() <= rate <= target.high(), (
        f"{rate:.2f} Hz at {current_nA} nA; Hay {target.mean} ± {target.sd} Hz")


@pytest.mark.slow
@pytest.mark.cpp_standalone
@pytest.mark.parametrize(("key", "target"), [
    ("threshold_mV", L5.AP_THRESHOLD),
    ("amplitude_from_rest_mV", L5.AP_AMPLITUDE_FROM_REST),
    ("half_width_ms", L5.AP_HALF_WIDTH)])
def test_ap_shape_matches_tanaka_2011(cell: dict, key: str, target: L5.Target) -> None:
    value = cell["ap"][key]
    # Tanaka et al. (2011) Table 3, rat L5b: mean ± 2 SD
    assert target.low() <= value <= target.high(), (
        f"{key} = {value:.2f}; Tanaka {target.mean} ± {target.sd} {target.unit}")


@pytest.mark.slow
@pytest.mark.cpp_standalone
def test_nmda_plateau_needs_nmda_and_enough_synapses(cell: dict) -> None:
    nm = cell["nmda"]
    on = nm[nm["condition"] == "NMDA"].set_index("k_synapses")
    off = nm[nm["condition"] == "no NMDA"]
    k_thr = L5.plateau_threshold_k(on.index, on["plateau_ms"] > 0)
    # a plateau (≥ 20 ms above −40 mV, detect_plateaus) appears at some k of the scan and
    # persists above it (Schiller et al. 2000; Major et al. 2008) — exact, counts of events
    assert np.isfinite(k_thr), on["plateau_ms"].to_dict()
    assert on.loc[1, "plateau_ms"] == 0.0  # one synapse never makes a plateau (exact)
    # without NMDA, no plateau at any k (Schiller et al. 2000: APV abolishes it) — exact
    assert (off["plateau_ms"] == 0.0).all(), off.set_index("k_synapses")["plateau_ms"]


@pytest.mark.slow
@pytest.mark.cpp_standalone
def test_bap_decrements_along_the_trunk(cell: dict) -> None:
    amp = cell["bap"].sort_values("distance_um")["amplitude_mV"].to_numpy()
    # decremental back-propagation (Stuart & Sakmann 1994; Stuart et al. 1997): each more
    # distal trunk site sees a smaller bAP; 0.5 mV allows for the 25 µs sampling of the peak
    assert np.all(np.diff(amp) <= 0.5), cell["bap"][["distance_um", "amplitude_mV"]]


@pytest.mark.slow
@pytest.mark.cpp_standalone
def test_bac_coupling_adds_spikes(cell: dict) -> None:
    n = cell["bac"].set_index("condition")["somatic_spikes"]
    # Larkum, Zhu & Sakmann (1999): bAP + distal EPSP → more somatic spikes than either
    # alone (exact spike counts)
    assert n["BAC"] > max(n["bAP"], n["EPSP"]), n.to_dict()
    # Hay et al. (2011)'s bAP criterion: one somatic spike for the pulse alone (exact)
    assert n["bAP"] == 1, n.to_dict()


@pytest.mark.slow
@pytest.mark.cpp_standalone
def test_bap_within_hay_ranges_at_distal_sites(cell: dict) -> None:
    bap = cell["bap"]
    # the apical tree was shaped on this profile (see l5_pyramidal's docstring), so this is a
    # regression test of that fit, not an independent validation: Hay et al.'s accepted
    # range (mean ± 2 SD) at 800 µm, and within 10 mV of the full model at 620 and 800 µm
    for d, ref in ((620.0, 28.2), (800.0, 18.4)):
        amp = bap.loc[(bap["distance_um"] - d).abs().idxmin(), "amplitude_mV"]
        assert abs(amp - ref) <= 10.0, (d, amp)
    amp800 = bap.loc[(bap["distance_um"] - 800.0).abs().idxmin(), "amplitude_mV"]
    assert L5.BAP_TARGETS[800.0].low() <= amp800 <= L5.BAP_TARGETS[800.0].high(), amp800
