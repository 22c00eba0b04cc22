"""l5-cell: the reduced mammalian L5b pyramidal cell checked against cited measurements.

The cell is :func:`neurocomp_models.neurons.l5_pyramidal.l5_pyramidal` (Hay et al. 2011's biophys3
channels on a reduced tree, 34 °C). Five protocols, each scored against a published range:

A. f–I: somatic current steps (Hay et al. 2011's 2 s steps; shorter in quick mode) → rate
   vs current against Hay's experimental means ± SD, rheobase, adaptation.
B. Somatic AP (first AP at 0.793 nA): threshold, amplitude, half-width vs Tanaka et al. (2011).
C. Back-propagating AP (1.9 nA × 5 ms at the soma): amplitude along the apical trunk vs Hay's
   targets and the decrement of Stuart & Sakmann (1994).
D. NMDA spike: k = 1…30 synchronous synapses clustered on 60 µm of one thin basal terminal,
   with and without NMDA receptors (Schiller et al. 2000; Polsky, Mel & Schiller 2004).
E. BAC firing (Larkum, Zhu & Sakmann 1999), Hay et al. (2011)'s protocol.

Three simulations (cpp_standalone): the f–I staircase (soma recorded only), and one run of
the B/C/E pulses followed by the NMDA trials with NMDA on, then off. Each protocol is
separated from the next by a recovery interval, so the same build serves every epoch.
A check passes when the model lies within the cited mean ± 2 SD (the range of ~95 % of the
recorded cells, if normally distributed): a failed check is printed as failed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from neurocomp_models.neurons.l5_pyramidal import l5_pyramidal

from neurocomp.analysis import Analysis
from neurocomp.biophysics import (
    CurrentClamp,
    NeuronPipeline,
    RecordSite,
    Stages,
    adaptation_index,
    detect_plateaus,
)
from neurocomp.biophysics import inputs as spike_inputs
from neurocomp.plotting import PALETTE
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from neurocomp.biophysics import Recording

NAME = "l5-cell"
CLAIM = ("The reduced L5b pyramidal cell (Hay et al. (2011) channels) is scored against "
         "measured f–I rates, AP shape, back-propagation, NMDA plateaus and BAC firing.")


@dataclass(frozen=True, kw_only=True)
class Target:
    """A measured mean ± SD with its source; ``within`` = mean ± ``n_sd`` SD."""

    mean: float
    sd: float
    unit: str
    source: str

    def low(self, n_sd: float = 2.0) -> float:
        return self.mean - n_sd * self.sd

    def high(self, n_sd: float = 2.0) -> float:
        return self.mean + n_sd * self.sd

    def within(self, value: float, n_sd: float = 2.0) -> bool:
        return bool(np.isfinite(value) and abs(value - self.mean) <= n_sd * self.sd)


_HAY = "Hay, Hill, Schürmann, Markram & Segev (2011) PLoS Comput Biol 7:e1002107"
_TANAKA = "Tanaka et al. (2011) J Neurosci, Table 3, rat barrel L5b, n = 5 (PMC6623880)"
#: Hay et al. (2011) experimental f–I targets, 2 s steps from 700 ms, 11 rat L5b cells.
FI_TARGETS: dict[float, Target] = {
    0.619: Target(mean=9.0, sd=0.88, unit="Hz", source=_HAY + ", step 1"),
    0.793: Target(mean=14.5, sd=0.56, unit="Hz", source=_HAY + ", step 2"),
    1.507: Target(mean=22.5, sd=2.22, unit="Hz", source=_HAY + ", step 3"),
}
#: Hay et al. (2011) adaptation index at step 2 (mean of (ISI_{i+1} − ISI_i)/(ISI_{i+1} +
#: ISI_i), from the second ISI on, as eFEL's ``adaptation_index2``).
ADAPTATION_TARGET = Target(mean=0.0023, sd=0.0056, unit="1", source=_HAY + ", step 2")
#: The full model this cell reduces — Hay's biophys3 on cell1, run in NEURON with a fixed
#: 25 µs step at 34 °C, v_init −80 mV, 2 s steps — for comparison, not a check: f–I rates
#: (Hz) and bAP amplitudes (mV, first 10 ms after a 1.9 nA × 5 ms pulse, one somatic spike).
FULL_MODEL_SOURCE = ("Hay et al. (2011) biophys3 on cell1 (ModelDB 139653) in NEURON, "
                     "computed for the project's reference notes "
                     "(docs/references.md#anchors-surrogates-engines-c-4)")
FULL_MODEL_FI_HZ = {0.4: 4.5, 0.5: 8.0, 0.619: 10.0, 0.793: 12.5, 1.0: 14.5, 1.507: 18.0}
FULL_MODEL_BAP_MV = {200.0: 48.9, 400.0: 44.0, 620.0: 28.2, 800.0: 18.4}
AP_THRESHOLD = Target(mean=-50.6, sd=10.5, unit="mV", source=_TANAKA)
AP_AMPLITUDE_FROM_REST = Target(mean=97.9, sd=5.7, unit="mV", source=_TANAKA)
AP_HALF_WIDTH = Target(mean=0.72, sd=0.29, unit="ms", source=_TANAKA)
#: Hay et al. (2011) bAP targets for a 1.9 nA × 5 ms pulse, at the two distal recording
#: sites (660 and 800 µm in BluePyOpt's port of Hay's protocol, examples/l5pc/config).
BAP_TARGETS: dict[float, Target] = {
    660.0: Target(mean=45.0, sd=10.0, unit="mV", source=_HAY + ", bAP site 1"),
    800.0: Target(mean=36.0, sd=9.33, unit="mV", source=_HAY + ", bAP site 2"),
}
#: Somatic NMDA-spike amplitude: Schiller, Major, Koester & Schiller (2000) Nature 404:285
#: (5.9 ± 1.5 mV); Major, Polsky, Denk, Schiller & Tank (2008) J Neurophysiol 99:2584 report
#: ~3 mV (distal) to ~23 mV (proximal) — the check uses Major's range.
NMDA_SOMA_RANGE_MV = (3.0, 23.0)
#: BAC: Larkum, Zhu & Sakmann (1999) Nature 398:338 — bAP + distal EPSP within a few ms →
#: dendritic Ca²⁺ AP and a somatic burst; Hay et al. (2011) accept 2–3 somatic spikes.
BAC_SPIKES_ACCEPTED = (2, 3)

DVDT_THRESHOLD = 20.0  # mV/ms, Hay et al. (2011)'s AP threshold criterion
CURRENTS_NA = (0.2, 0.3, 0.4, 0.5, 0.619, 0.793, 1.0, 1.507)
SOMA_PULSE = (1.9, 5.0)  # nA, ms: Hay et al. (2011) bAP and BAC pulse
_PULSE_CHECK = f"somatic spikes for one {SOMA_PULSE[0]:g} nA x {SOMA_PULSE[1]:g} ms pulse"
EPSP_NA = 0.5  # Hay et al. (2011) BAC_firing.hoc: epsp.mod, τ 0.5/5 ms, at 620 µm
EPSP_SITE_UM = 620.0
TRUNK_UM = (25.0, 200.0, 400.0, 620.0, 660.0, 800.0)
#: The main apical axis: the trunk to the nexus, then the first tuft branch and its first
#: daughter (the 800 µm site lies past the nexus, in the hot zone, as in cell1).
MAIN_AXIS = ("trunk", "tuft0", "tuft0_0")
CLUSTER = ("basal0_0_0", (1, 2))  # thin terminal, compartments at 144 and 174 µm (60 µm)
#: Synapse counts per trial. With Beniaguev's 0.4 nS NMDA per synapse the branch needs ~40
#: synapses for a plateau, so the scan runs past the usual ~30.
K_FULL = (1, *range(2, 52, 2))
K_QUICK = (1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50)
TRACE_K = (1, 10, 20, 30, 40, 50)
NMDA_TRIAL_MS = 300.0
SETTLE_MS = 300.0


# -- pure helpers ------------------------------------------------------------------------
def ap_features(t_ms: np.ndarray, v_mV: np.ndarray, *, rest_mV: float,
                dvdt_threshold: float = DVDT_THRESHOLD,
                detect_mV: float = -20.0) -> dict[str, float]:
    """Features of the first AP of a trace (one that crosses ``detect_mV``).

    Threshold: going back from the crossing, the voltage where dV/dt last rose through
    ``dvdt_threshold`` (mV/ms, linearly interpolated) — so a current step's fast onset is not
    taken for a spike; peak: the maximum within 3 ms of the crossing; half-width: time above
    (threshold + peak)/2, ms (interpolated); amplitudes from threshold and from ``rest_mV``.
    All NaN when no AP crosses ``detect_mV``.
    """
    t, v = np.asarray(t_ms, float), np.asarray(v_mV, float)
    nan = dict.fromkeys(("threshold_mV", "peak_mV", "amplitude_from_threshold_mV",
                         "amplitude_from_rest_mV", "half_width_ms", "time_ms"), float("nan"))
    cross = np.flatnonzero((v[:-1] < detect_mV) & (v[1:] >= detect_mV))
    if cross.size == 0:
        return nan
    c = int(cross[0])
    dv = np.diff(v) / np.diff(t)  # dv[i]: slope from sample i to i + 1
    i = c
    while i > 0 and dv[i - 1] > dvdt_threshold:
        i -= 1
    if i == 0:
        thr = float(v[0])
    else:  # slopes sit at the midpoints i − ½ and i + ½; interpolate the crossing between
        frac = (dvdt_threshold - dv[i - 1]) / (dv[i] - dv[i - 1])
        thr = float(np.interp(i - 0.5 + frac, np.arange(v.size), v))
    win = np.flatnonzero((t >= t[c]) & (t <= t[c] + 3.0))
    j = int(win[np.argmax(v[win])])
    peak = float(v[j])
    half = 0.5 * (thr + peak)
    k0, k1 = j, j
    while k0 > 0 and v[k0 - 1] > half:
        k0 -= 1
    while k1 < v.size - 1 and v[k1 + 1] > half:
        k1 += 1
    out = nan | {"threshold_mV": thr, "peak_mV": peak, "amplitude_from_threshold_mV": peak - thr,
                 "amplitude_from_rest_mV": peak - rest_mV, "time_ms": float(t[c])}
    if k0 == 0 or k1 == v.size - 1:
        return out
    t_up = np.interp(half, [v[k0 - 1], v[k0]], [t[k0 - 1], t[k0]])
    t_down = np.interp(half, [v[k1 + 1], v[k1]], [t[k1 + 1], t[k1]])
    return out | {"half_width_ms": float(t_down - t_up)}


def rheobase_nA(currents_nA: Sequence[float], rates_hz: Sequence[float]) -> float:
    """Smallest current of the grid that fires (NaN if none)."""
    fired = [c for c, r in sorted(zip(currents_nA, rates_hz, strict=True)) if r > 0]
    return float(fired[0]) if fired else float("nan")


def plateau_threshold_k(ks: Sequence[int], has_plateau: Sequence[bool]) -> float:
    """Smallest k from which every larger k also gives a plateau (NaN if the largest k has
    none)."""
    ks, has = np.asarray(ks), np.asarray(has_plateau, bool)
    order = np.argsort(ks)
    ks, has = ks[order], has[order]
    if not has[-1]:
        return float("nan")
    last_fail = np.flatnonzero(~has)
    return float(ks[0] if last_fail.size == 0 else ks[last_fail[-1] + 1])


# -- simulations -------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Epoch:
    """A named window of a run, ms."""

    name: str
    start_ms: float
    stop_ms: float


def _trunk_sites(model) -> list[RecordSite]:
    table = model.morphology.compartment_table()
    trunk = np.array([s.startswith(MAIN_AXIS[0]) or s in MAIN_AXIS[1:]
                      for s in table["section"]])
    idx, dist = table["index"][trunk], table["distance_um"][trunk]
    out = []
    for d in TRUNK_UM:
        k = int(np.argmin(np.abs(dist - d)))
        out.append(RecordSite(label=f"trunk {d:g} um", index=int(idx[k])))
    return out


def _cluster_compartments(model) -> list[int]:
    sec, pos = CLUSTER
    comps = model.morphology.indices(section=sec)
    return [int(comps[p]) for p in pos]


def _sites(model) -> list[RecordSite]:
    sec, _ = CLUSTER
    comps = model.morphology.indices(section=sec)
    return [RecordSite(label="soma", index=0), *_trunk_sites(model),
            RecordSite(label="basal cluster", index=_cluster_compartments(model)[0]),
            RecordSite(label="basal tip", index=int(comps[-1]))]


def _empty(model, duration_ms: float) -> dict[str, Any]:
    return {g.name: spike_inputs.from_times([[]] * g.n_sources, duration_ms=duration_ms)
            for g in model.synapse_groups}


def run_fi(*, quick: bool, seed: int = 0) -> tuple[Recording, list[Epoch]]:
    """The staircase: settle, −0.1 nA for R_in, then each current of ``CURRENTS_NA`` (soma
    recorded every 25 µs). No synapse is active, so NMDA receptors are left out (that also
    spares Brian2 a slow symbolic simplification of the NMDA Mg²⁺ block)."""
    from brian2 import ms

    step, gap = (500.0, 300.0) if quick else (2000.0, 1000.0)
    model = l5_pyramidal()
    clamps = [CurrentClamp(index=0, amplitude_nA=-0.1, start_ms=SETTLE_MS, duration_ms=300.0)]
    epochs = [Epoch(name="rin", start_ms=SETTLE_MS, stop_ms=SETTLE_MS + 300.0)]
    t = 2 * SETTLE_MS + 300.0
    for amp in CURRENTS_NA:
        clamps.append(CurrentClamp(index=0, amplitude_nA=amp, start_ms=t, duration_ms=step))
        epochs.append(Epoch(name=f"{amp:g}", start_ms=t, stop_ms=t + step))
        t += step + gap
    print(f"[l5-cell] f–I staircase: {len(CURRENTS_NA)} steps of {step:g} ms "
          f"({t / 1e3:.1f} s biological)", flush=True)
    rec = NeuronPipeline(model, stages=Stages(release="deterministic", nmda=False)).run(
        _empty(model, t), duration=t * ms, backend="cpp_standalone", seed=seed,
        record=[RecordSite(label="soma", index=0)], variables=["v"], clamps=clamps)
    return rec, epochs


def run_protocols(*, quick: bool, nmda: bool, seed: int = 0) -> tuple[Recording,
                                                                      list[Epoch]]:
    """The clustered-input trials (k synapses at ``NMDA_TRIAL_MS`` intervals); without NMDA
    the run first holds the bAP, distal-EPSP and BAC pulses (no synapse active there)."""
    from brian2 import ms

    model = l5_pyramidal()
    sites = _sites(model)
    clamps, epochs, t = [], [], SETTLE_MS
    if not nmda:
        epsp = next(s.index for s in sites if s.label == f"trunk {EPSP_SITE_UM:g} um")
        amp, width = SOMA_PULSE
        for name, soma, dend in (("bAP", True, False), ("EPSP", False, True),
                                 ("BAC", True, True)):
            t0 = t - 5.0  # Hay: pulse at 295 ms, EPSP at 300 ms
            if soma:
                clamps.append(CurrentClamp(index=0, amplitude_nA=amp, start_ms=t0,
                                           duration_ms=width))
            if dend:
                clamps.append(CurrentClamp(index=epsp, amplitude_nA=EPSP_NA, start_ms=t,
                                           duration_ms=100.0, shape="epsp"))
            epochs.append(Epoch(name=name, start_ms=t0, stop_ms=t0 + 200.0))
            t += 400.0
    exc = next(g for g in model.synapse_groups if g.name == "exc")
    sources = [list(exc.compartments).index(c) for c in _cluster_compartments(model)]
    times: list[list[float]] = [[] for _ in range(exc.n_sources)]
    for k in (K_QUICK if quick else K_FULL):
        onset = t + 10.0
        for j in range(k):  # synapse j: alternate compartments, 0.1 ms apart
            times[sources[j % len(sources)]].append(onset + 0.1 * (j // len(sources)))
        epochs.append(Epoch(name=f"k={k}", start_ms=onset, stop_ms=t + NMDA_TRIAL_MS))
        t += NMDA_TRIAL_MS
    inputs = _empty(model, t)
    inputs["exc"] = spike_inputs.from_times(times, duration_ms=t)
    print(f"[l5-cell] protocols, NMDA {'on' if nmda else 'off'}: {t / 1e3:.1f} s biological",
          flush=True)
    rec = NeuronPipeline(model, stages=Stages(release="deterministic", nmda=nmda)).run(
        inputs, duration=t * ms, backend="cpp_standalone", seed=seed, record=sites,
        variables=["v"], clamps=clamps)
    return rec, epochs


# -- measurements ------------------------------------------------------------------------
def _mean(t: np.ndarray, v: np.ndarray, a: float, b: float) -> float:
    return float(v[(t >= a) & (t < b)].mean())


def _count(spikes: np.ndarray, e: Epoch) -> int:
    return int(((spikes >= e.start_ms) & (spikes < e.stop_ms)).sum())


def measure_fi(rec: Recording, epochs: Sequence[Epoch]) -> tuple[pd.DataFrame, dict[str, float],
                                                                  pd.DataFrame]:
    """Rates per step, passive properties, and the first AP at 0.793 nA (features, trace)."""
    t, v, out = rec.t_ms, rec.traces["v"][0], rec.spikes_ms["output"]
    rin = epochs[0]
    rest = _mean(t, v, rin.start_ms - 50.0, rin.start_ms)
    held = _mean(t, v, rin.stop_ms - 50.0, rin.stop_ms)
    # a -0.1 nA step: mV/nA = MΩ
    passive = {"resting_potential_mV": rest, "input_resistance_Mohm": (rest - held) / 0.1}
    rows, ap, trace = [], {}, pd.DataFrame()
    for e in epochs[1:]:
        s = out[(out >= e.start_ms) & (out < e.stop_ms)]
        isi = np.diff(s)
        rows.append({"current_nA": float(e.name), "rate_hz": s.size / (e.stop_ms - e.start_ms)
                     * 1e3, "n_spikes": s.size,
                     "first_isi_ms": isi[0] if isi.size else np.nan,
                     "last_isi_ms": isi[-1] if isi.size else np.nan,
                     "adaptation_index": adaptation_index(s),
                     "latency_ms": s[0] - e.start_ms if s.size else np.nan})
        if e.name == "0.793":
            pre = _mean(t, v, e.start_ms - 50.0, e.start_ms)
            w = (t >= e.start_ms) & (t < e.start_ms + 200.0)
            ap = ap_features(t[w], v[w], rest_mV=pre)
            near = (t >= ap["time_ms"] - 3.0) & (t < ap["time_ms"] + 5.0)
            trace = pd.DataFrame({"t_ms": t[near] - ap["time_ms"], "v_mV": v[near]})
    return pd.DataFrame(rows), passive | ap, trace


def measure_protocols(rec_off: Recording, ep_off: Sequence[Epoch], rec_on: Recording,
                      ep_on: Sequence[Epoch]) -> dict[str, pd.DataFrame]:
    """bAP amplitudes, BAC spikes and peaks, and the clustered-input trials."""
    model = l5_pyramidal()
    dist = dict(zip(model.morphology.compartment_table()["index"],
                    model.morphology.compartment_table()["distance_um"], strict=True))
    t, v, out = rec_off.t_ms, rec_off.traces["v"], rec_off.spikes_ms["output"]
    labels = [label for label, _ in rec_off.sites]
    by = {e.name: e for e in ep_off}
    bap = by["bAP"]
    rows = []
    for row, (label, index) in enumerate(rec_off.sites):
        if label == "soma" or label.startswith("trunk"):
            pre = _mean(t, v[row], bap.start_ms - 5.0, bap.start_ms)
            w = (t >= bap.start_ms) & (t < bap.start_ms + 10.0)  # Hay: the first 10 ms
            rows.append({"site": label, "distance_um": float(dist[index]),
                         "amplitude_mV": float(v[row][w].max() - pre)})
    dend = labels.index(f"trunk {EPSP_SITE_UM:g} um")
    bac_rows, bac_traces = [], []
    for name in ("bAP", "EPSP", "BAC"):
        e = by[name]
        w = (t >= e.start_ms) & (t < e.stop_ms)
        bac_rows.append({"condition": name, "somatic_spikes": _count(out, e),
                         "dendritic_peak_mV": float(v[dend][w].max())})
        near = (t >= e.start_ms) & (t < e.start_ms + 80.0)
        bac_traces.append(pd.DataFrame({"condition": name, "t_ms": t[near] - e.start_ms,
                                        "v_dend_mV": v[dend][near], "v_soma_mV": v[0][near]}))
    nmda_rows, nmda_traces = [], []
    for cond, rec, eps in (("NMDA", rec_on, ep_on), ("no NMDA", rec_off, ep_off)):
        t, v, out = rec.t_ms, rec.traces["v"], rec.spikes_ms["output"]
        clu = [label for label, _ in rec.sites].index("basal cluster")
        bin_ms = float(t[1] - t[0])
        for e in (e for e in eps if e.name.startswith("k=")):
            k = int(e.name[2:])
            pre = v[:, (t >= e.start_ms - 5.0) & (t < e.start_ms)].mean(axis=1)
            w = (t >= e.start_ms) & (t < e.stop_ms)
            ev = detect_plateaus(v[clu][w], bin_ms=bin_ms)
            nmda_rows.append({"condition": cond, "k_synapses": k,
                              "branch_peak_mV": float(v[clu][w].max()),
                              "branch_depolarisation_mV": float(v[clu][w].max() - pre[clu]),
                              "soma_epsp_mV": float(v[0][w].max() - pre[0]),
                              "plateau_ms": float(ev.duration_ms.max()) if len(ev) else 0.0,
                              "somatic_spikes": _count(out, e)})
            if (cond == "NMDA" and k in TRACE_K) or (cond == "no NMDA" and k == TRACE_K[-1]):
                near = (t >= e.start_ms - 5.0) & (t < e.start_ms + 150.0)
                nmda_traces.append(pd.DataFrame({"condition": cond, "k_synapses": k,
                                                 "t_ms": t[near] - e.start_ms,
                                                 "v_mV": v[clu][near]}))
    return {"bap": pd.DataFrame(rows), "bac": pd.DataFrame(bac_rows),
            "bac_traces": pd.concat(bac_traces, ignore_index=True),
            "nmda": pd.DataFrame(nmda_rows),
            "nmda_traces": pd.concat(nmda_traces, ignore_index=True)}


# -- checks ------------------------------------------------------------------------------
TANAKA_REST = Target(mean=-64.8, sd=8.7, unit="mV", source=_TANAKA)
TANAKA_RIN = Target(mean=48.7, sd=29.5, unit="MOhm", source=_TANAKA)


def _check(rows: list[dict[str, Any]], panel: str, name: str, value: float, low: float,
           high: float, unit: str, source: str) -> None:
    rows.append({"figure_panel": panel, "check": name, "value": float(value), "low": float(low),
                 "high": float(high), "unit": unit,
                 "passed": bool(np.isfinite(value) and low <= value <= high),
                 "source": source})


def score(fi: pd.DataFrame, cell: dict[str, float], prot: dict[str, pd.DataFrame]
          ) -> pd.DataFrame:
    """Every check: the measured value, the accepted range (mean ± 2 SD, or the stated
    qualitative bound) and whether it passed."""
    rows: list[dict[str, Any]] = []
    for tgt, key, name in ((TANAKA_REST, "resting_potential_mV", "resting potential"),
                           (TANAKA_RIN, "input_resistance_Mohm", "input resistance")):
        _check(rows, "A", name, cell[key], tgt.low() if tgt.unit == "mV" else max(tgt.low(), 0),
               tgt.high(), tgt.unit, tgt.source)  # a resistance is > 0
    rate = fi.set_index("current_nA")
    for amp, tgt in FI_TARGETS.items():
        _check(rows, "A", f"rate at {amp:g} nA", rate.loc[amp, "rate_hz"], tgt.low(),
               tgt.high(), "Hz", tgt.source)
    _check(rows, "A", "adaptation index at 0.793 nA", rate.loc[0.793, "adaptation_index"],
           ADAPTATION_TARGET.low(), ADAPTATION_TARGET.high(), "1", ADAPTATION_TARGET.source)
    for tgt, key, name in ((AP_THRESHOLD, "threshold_mV", "AP threshold"),
                           (AP_AMPLITUDE_FROM_REST, "amplitude_from_rest_mV",
                            "AP amplitude from rest"),
                           (AP_HALF_WIDTH, "half_width_ms", "AP half-width")):
        _check(rows, "B", name, cell[key], tgt.low(), tgt.high(), tgt.unit, tgt.source)
    bap = prot["bap"].sort_values("distance_um")
    trunk = bap[bap["site"] != "soma"]
    for d, tgt in BAP_TARGETS.items():
        amp = trunk.loc[(trunk["distance_um"] - d).abs().idxmin(), "amplitude_mV"]
        _check(rows, "C", f"bAP amplitude at {d:g} um", amp, tgt.low(), tgt.high(), "mV",
               tgt.source)
    rises = int((np.diff(bap["amplitude_mV"].to_numpy()) > 0).sum())
    _check(rows, "C", "bAP amplitude rises along the trunk (count)", rises, 0, 0, "1",
           "Stuart & Sakmann (1994) Nature 367:69; Stuart, Schiller & Sakmann (1997) J "
           "Physiol 505:617: decremental back-propagation")
    bac = prot["bac"].set_index("condition")["somatic_spikes"]
    _check(rows, "C", _PULSE_CHECK, bac["bAP"], 1, 1, "1",
           _HAY + ": bAP target, 1 spike")
    nm = prot["nmda"]
    on = nm[nm["condition"] == "NMDA"].sort_values("k_synapses")
    off = nm[nm["condition"] == "no NMDA"]
    k_thr = plateau_threshold_k(on["k_synapses"], on["plateau_ms"] > 0)
    _check(rows, "D", "plateau threshold with NMDA (synapses)", k_thr, 1, max(on["k_synapses"]),
           "1", "Schiller et al. (2000) Nature 404:285; Major et al. (2008) J Neurophysiol "
           "99:2584: clustered basal input gives NMDA plateaus")
    _check(rows, "D", "plateaus without NMDA (trials)", int((off["plateau_ms"] > 0).sum()), 0, 0,
           "1", "Schiller et al. (2000): the plateau is NMDA-dependent (APV blocks it)")
    soma_at = (float(on.loc[on["k_synapses"] == k_thr, "soma_epsp_mV"].iloc[0])
               if np.isfinite(k_thr) else float("nan"))
    _check(rows, "D", "somatic depolarisation at the plateau threshold", soma_at,
           *NMDA_SOMA_RANGE_MV, "mV", "Major et al. (2008) J Neurophysiol 99:2584: ~3-23 mV")
    _check(rows, "E", "somatic spikes, BAC", bac["BAC"], *BAC_SPIKES_ACCEPTED, "1",
           _HAY + ": BAC target 3 spikes, 2-3 accepted")
    _check(rows, "E", "extra BAC spikes over the larger single input", bac["BAC"]
           - max(bac["bAP"], bac["EPSP"]), 1, np.inf, "1",
           "Larkum, Zhu & Sakmann (1999) Nature 398:338: coincidence gives a burst")
    return pd.DataFrame(rows)


def check_catalogue() -> dict[str, str]:
    """Every check :func:`score` makes, in its order: name → unit (``"1"``: a count).

    The claim reads each check's value and accepted range from the headline under
    :func:`check_key`; this catalogue gives it the names and units (``run`` refuses a
    scoring whose checks differ from it).
    """
    return {"resting potential": TANAKA_REST.unit, "input resistance": TANAKA_RIN.unit,
            **{f"rate at {a:g} nA": "Hz" for a in FI_TARGETS},
            "adaptation index at 0.793 nA": "1",
            "AP threshold": AP_THRESHOLD.unit, "AP amplitude from rest":
            AP_AMPLITUDE_FROM_REST.unit, "AP half-width": AP_HALF_WIDTH.unit,
            **{f"bAP amplitude at {d:g} um": "mV" for d in BAP_TARGETS},
            "bAP amplitude rises along the trunk (count)": "1", _PULSE_CHECK: "1",
            "plateau threshold with NMDA (synapses)": "1",
            "plateaus without NMDA (trials)": "1",
            "somatic depolarisation at the plateau threshold": "mV",
            "somatic spikes, BAC": "1", "extra BAC spikes over the larger single input": "1"}


def check_key(name: str) -> str:
    """Headline key stem of a check: ``"rate at 0.619 nA"`` → ``"check_rate_at_0p619_na"``."""
    stem = re.sub(r"[^a-z0-9]+", "_", name.lower().replace(".", "p")).strip("_")
    return f"check_{stem}"


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`: for every check of :func:`check_catalogue`, its value
        and accepted range (``<check_key>_value``, ``_low``, ``_high``), and the protocol
        numbers the check names contain.

    Returns
    -------
    str
        One sentence: how many checks pass, and each failed check with its value and
        accepted range.
    """
    def accepted(lo: float, hi: float) -> str:
        return (f"{lo:.3g}" if lo == hi else f"≥ {lo:.3g}" if not np.isfinite(hi) else
                f"{lo:.3g} to {hi:.3g}")

    failed = []
    for name, unit in check_catalogue().items():
        k = check_key(name)
        v, lo, hi = (headline[f"{k}_value"], headline[f"{k}_low"], headline[f"{k}_high"])
        if not (np.isfinite(v) and lo <= v <= hi):
            u = "" if unit == "1" else f" {unit}"
            failed.append(f"the {name} ({v:.3g}{u}, accepted {accepted(lo, hi)})")
    n = len(check_catalogue())
    text = (f"The reduced L5b pyramidal cell (Hay et al. (2011) channels) passes "
            f"{'all ' if not failed else ''}{n - len(failed)}{'' if not failed else f' of {n}'} "
            f"checks against measured ranges of f–I rates, AP shape, back-propagation, NMDA "
            f"plateaus and BAC firing")
    if not failed:
        return text + "."
    listed = failed[0] if len(failed) == 1 else f"{', '.join(failed[:-1])} and {failed[-1]}"
    return f"{text}; it fails {listed}."


# -- result ------------------------------------------------------------------------------
@dataclass(kw_only=True)
class L5CellResult(Result):
    """f–I, AP, bAP, BAC and NMDA-plateau measurements with their checks."""

    fi: pd.DataFrame
    ap_trace: pd.DataFrame
    cell: dict[str, float]
    bap: pd.DataFrame
    bac: pd.DataFrame
    bac_traces: pd.DataFrame
    nmda: pd.DataFrame
    nmda_traces: pd.DataFrame
    checks: pd.DataFrame

    layout = (("fi", "ap"), ("bap", "bac"), ("nmda", "traces"))
    row_height_in = 2.1

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"fi": self.fi, "bap": self.bap, "bac": self.bac,
                             "nmda": self.nmda, "checks": self.checks})

    def _mark(self, panel: str) -> str:
        c = self.checks[self.checks["figure_panel"] == panel]
        return f"{int(c['passed'].sum())}/{len(c)} pass"

    def _draw(self, axes: Sequence[Axes]) -> None:
        draws = (self._draw_fi, self._draw_ap, self._draw_bap, self._draw_bac,
                 self._draw_nmda, self._draw_traces)
        for ax, draw in zip(axes, draws, strict=False):
            draw(ax)

    def _draw_fi(self, ax: Axes) -> None:
        ax.plot(self.fi["current_nA"], self.fi["rate_hz"], "o-", color=PALETTE[0],
                label="model")
        amps = list(FI_TARGETS)
        ax.errorbar(amps, [FI_TARGETS[a].mean for a in amps],
                    yerr=[2 * FI_TARGETS[a].sd for a in amps], fmt="s", color=PALETTE[1],
                    capsize=2, ms=3, label="Hay ±2 SD")
        ax.plot(list(FULL_MODEL_FI_HZ), list(FULL_MODEL_FI_HZ.values()), "x", color="0.35",
                ms=4, label="full Hay model, 2 s")
        ax.set(xlabel=f"{self.params['step_ms']:g} ms step (nA)", ylabel="rate (Hz)",
               title=f"f–I: {self._mark('A')}")
        ax.legend(loc="upper left", fontsize=5.5)  # the rising curve leaves this corner free

    def _draw_ap(self, ax: Axes) -> None:
        ax.plot(self.ap_trace["t_ms"], self.ap_trace["v_mV"], color=PALETTE[0])
        c = self.cell
        ax.axhline(c["threshold_mV"], color="0.6", lw=0.6, ls=":")
        ax.text(0.98, 0.62, f"thr {c['threshold_mV']:.1f} mV\npeak {c['peak_mV']:+.1f} mV\n"
                f"width {c['half_width_ms']:.2f} ms", transform=ax.transAxes, ha="right",
                va="top", fontsize=5.5)
        ax.set(xlabel="time from AP (ms)", ylabel="soma V (mV)",
               title=f"AP: {self._mark('B')}")

    def _draw_bap(self, ax: Axes) -> None:
        b = self.bap.sort_values("distance_um")
        ax.plot(b["distance_um"], b["amplitude_mV"], "o-", color=PALETTE[0], label="model")
        ds = list(BAP_TARGETS)
        ax.errorbar(ds, [BAP_TARGETS[d].mean for d in ds],
                    yerr=[2 * BAP_TARGETS[d].sd for d in ds], fmt="s", color=PALETTE[1],
                    capsize=2, ms=3, label="Hay ±2 SD")
        ax.plot(list(FULL_MODEL_BAP_MV), list(FULL_MODEL_BAP_MV.values()), "x", color="0.35",
                ms=4, label="full Hay model")
        ax.set(xlabel="path distance (µm)", ylabel="bAP amplitude (mV)", ylim=(0, 140),
               title=f"bAP: {self._mark('C')}")
        ax.legend(loc="upper right", fontsize=5.5)

    def _draw_bac(self, ax: Axes) -> None:
        n = self.bac.set_index("condition")["somatic_spikes"]
        for k, (cond, d) in enumerate(self.bac_traces.groupby("condition", sort=False)):
            ax.plot(d["t_ms"], d["v_dend_mV"], color=PALETTE[k], label=f"{cond}: {n[cond]}")
        ax.set(xlabel="time (ms)", ylabel=f"V at {EPSP_SITE_UM:g} µm (mV)", ylim=(-85, 75),
               title=f"BAC: {self._mark('E')}")
        ax.legend(loc="upper right", fontsize=5.5, title="somatic spikes",
                  title_fontsize=5.5)

    def _draw_nmda(self, ax: Axes) -> None:
        from matplotlib.lines import Line2D

        for k, (_, d) in enumerate(self.nmda.groupby("condition", sort=False)):
            ax.plot(d["k_synapses"], d["branch_depolarisation_mV"], "o-", ms=2,
                    color=PALETTE[k])
            ax.plot(d["k_synapses"], 5 * d["soma_epsp_mV"], ":", color=PALETTE[k])
            up = d[d["plateau_ms"] > 0]
            ax.plot(up["k_synapses"], up["branch_depolarisation_mV"], "o", mfc="none",
                    ms=5, color=PALETTE[k])
        handles = [Line2D([], [], color="0.3", marker="o", ms=2, label="branch"),
                   Line2D([], [], color="0.3", ls=":", label="soma ×5"),
                   Line2D([], [], color="0.3", marker="o", mfc="none", ms=5, ls="none",
                          label="plateau")]
        ax.legend(handles=handles, loc="upper left", fontsize=5.5)
        ax.set(xlabel="synapses on 60 µm", ylabel="peak depolarisation (mV)",
               title=f"NMDA: {self._mark('D')}", ylim=(0, 85))

    def _draw_traces(self, ax: Axes) -> None:
        tr = self.nmda_traces
        on = tr[tr["condition"] == "NMDA"]
        ks = sorted(on["k_synapses"].unique())
        for j, k in enumerate(ks):
            d = on[on["k_synapses"] == k]
            ax.plot(d["t_ms"], d["v_mV"], color=PALETTE[0], alpha=0.3 + 0.7 * j / len(ks),
                    lw=0.8, label=f"NMDA, k = {int(ks[0])}–{int(ks[-1])}"
                    if j == len(ks) - 1 else None)
        off = tr[tr["condition"] == "no NMDA"]
        ax.plot(off["t_ms"], off["v_mV"], color=PALETTE[1], lw=0.8, ls="--",
                label=f"no NMDA, k = {int(off['k_synapses'].max())}")
        ax.axhline(-40.0, color="0.6", lw=0.6, ls=":")
        ax.set(xlabel="time from input (ms)", ylabel="branch V (mV)", ylim=(-82, 5),
               title="clustered input")
        ax.legend(loc="upper right", fontsize=5.5)


def _linearity(trials: pd.DataFrame) -> float:
    """Somatic EPSP at the largest k over k × the one-synapse EPSP (1 = linear summation;
    Polsky, Mel & Schiller 2004 compare with the arithmetic sum)."""
    d = trials.set_index("k_synapses")["soma_epsp_mV"]
    return float(d.iloc[-1] / (d.index[-1] * d.loc[1]))


def _full_model_note(fi: pd.DataFrame, bap: pd.DataFrame) -> str:
    """This cell beside the full model it reduces (FULL_MODEL_*), from the run's values."""
    def near(d: float) -> float:
        return float(bap.loc[(bap["distance_um"] - d).abs().idxmin(), "amplitude_mV"])

    rate = fi.set_index("current_nA")["rate_hz"]
    b = ", ".join(f"{d:g} µm {near(d):.1f} vs {ref:.1f} mV"
                  for d, ref in FULL_MODEL_BAP_MV.items())
    r = ", ".join(f"{a:g} nA {rate[a]:.1f} vs {ref:.1f} Hz"
                  for a, ref in FULL_MODEL_FI_HZ.items() if a in rate.index)
    return (f"Beside the full model it reduces ({FULL_MODEL_SOURCE}), this cell vs full: bAP "
            f"{b}; f–I {r} (the full model's rates are for 2 s steps).")


def run(*, quick: bool = True, seed: int = 0) -> L5CellResult:
    """Run the three simulations and score the cell (see the module docstring)."""
    rec_fi, ep_fi = run_fi(quick=quick, seed=seed)
    fi, cell, ap_trace = measure_fi(rec_fi, ep_fi)
    rec_off, ep_off = run_protocols(quick=quick, nmda=False, seed=seed)
    rec_on, ep_on = run_protocols(quick=quick, nmda=True, seed=seed)
    prot = measure_protocols(rec_off, ep_off, rec_on, ep_on)
    checks = score(fi, cell, prot)
    rate = fi.set_index("current_nA")
    nm = prot["nmda"]
    on = nm[nm["condition"] == "NMDA"]
    k_thr = plateau_threshold_k(on["k_synapses"], on["plateau_ms"] > 0)
    bac = prot["bac"].set_index("condition")
    headline: dict[str, Any] = {
        "checks_passed": int(checks["passed"].sum()), "checks_total": len(checks),
        "resting_potential_mV": cell["resting_potential_mV"],
        "input_resistance_Mohm": cell["input_resistance_Mohm"],
        "rheobase_nA": rheobase_nA(fi["current_nA"], fi["rate_hz"]),
        **{f"rate_at_{a:g}_nA_hz".replace(".", "p"): float(rate.loc[a, "rate_hz"])
           for a in FI_TARGETS},
        "first_isi_at_0p793_nA_ms": float(rate.loc[0.793, "first_isi_ms"]),
        "last_isi_at_0p793_nA_ms": float(rate.loc[0.793, "last_isi_ms"]),
        "adaptation_index_at_0p793_nA_rel": float(rate.loc[0.793, "adaptation_index"]),
        "ap_threshold_mV": cell["threshold_mV"], "ap_peak_mV": cell["peak_mV"],
        "ap_amplitude_from_rest_mV": cell["amplitude_from_rest_mV"],
        "ap_half_width_ms": cell["half_width_ms"],
        **{f"bap_amplitude_at_{d:g}_um_mV": float(
            prot["bap"].loc[(prot["bap"]["distance_um"] - d).abs().idxmin(), "amplitude_mV"])
           for d in BAP_TARGETS},
        "plateau_threshold_synapses": k_thr,
        "max_plateau_duration_ms": float(on["plateau_ms"].max()),
        **{f"soma_epsp_at_max_k_over_linear_{c.replace(' ', '_').lower()}_rel": _linearity(
            nm[nm["condition"] == c]) for c in ("NMDA", "no NMDA")},
        "bac_somatic_spikes": int(bac.loc["BAC", "somatic_spikes"]),
        "bap_alone_somatic_spikes": int(bac.loc["bAP", "somatic_spikes"]),
        "bac_dendritic_peak_mV": float(bac.loc["BAC", "dendritic_peak_mV"]),
        # the numbers the checks' names contain, and every check's value and accepted range
        "fi_check_currents_nA": [float(a) for a in FI_TARGETS],
        "bap_check_distances_um": [float(d) for d in BAP_TARGETS],
        "soma_pulse_nA": SOMA_PULSE[0], "soma_pulse_ms": SOMA_PULSE[1],
    }
    if list(checks["check"]) != list(check_catalogue()):
        raise RuntimeError("score() and check_catalogue() name different checks: "
                           f"{list(checks['check'])} vs {list(check_catalogue())}")
    for r in checks.itertuples():
        k = check_key(r.check)
        headline.update({f"{k}_value": r.value, f"{k}_low": r.low, f"{k}_high": r.high})
    step = 500.0 if quick else 2000.0
    notes = [f"f–I steps of {step:g} ms (Hay: 2 s); quick-mode rates include the onset "
             "burst over a shorter window and run high.",
             "A check passes inside the cited mean ± 2 SD; qualitative checks state bounds.",
             "Clustered input: AMPA 0.4 nS + NMDA 0.4 nS per synapse (Beniaguev et al. 2021),"
             " alternating over two 30 µm compartments of basal0_0_0, 0.1 ms apart; plateau ="
             " ≥ 20 ms above −40 mV at the stimulated compartment (detect_plateaus).",
             _full_model_note(fi, prot["bap"])]
    return L5CellResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"quick": quick, "step_ms": step, "currents_nA": list(CURRENTS_NA),
                "k_synapses": list(K_QUICK if quick else K_FULL), "dt_ms": 0.025,
                "backend": "cpp_standalone"},
        fi=fi, ap_trace=ap_trace, cell=cell, bap=prot["bap"], bac=prot["bac"],
        bac_traces=prot["bac_traces"], nmda=prot["nmda"], nmda_traces=prot["nmda_traces"],
        checks=checks)


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=43)
