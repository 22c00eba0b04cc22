#!/usr/bin/env python3
"""Benchmark: how much of the L5 cell's somatic voltage its input can explain at all.

A deep surrogate maps input spike trains to the somatic voltage. With stochastic transmitter
release the same input gives a different voltage on every run, which caps the variance any
surrogate can explain. This simulates the squid-kinetics reduced L5 cell
(``neurocomp_models.neurons.l5_pyramidal_squid``, whose synapses release stochastically: depressing
excitatory and inhibitory Tsodyks–Markram synapses) on identical input twice with different
release seeds, for stochastic and for deterministic release, with and without NMDA, and
reports the run-to-run correlation r of the voltage (for two repeats of one signal plus
independent noise, r is the signal's share of the variance: the most that any model of the
input can explain) and the run-to-run variance explained. Writes
``benchmarks/results/release_noise_ceiling.json``.

The cell is the squid one because the question is about stochastic release: the mammalian
cell (``neurocomp_models.neurons.l5_pyramidal``) has Beniaguev et al.'s static synapses (U = 1, one
site), whose release is deterministic whatever the mode. The input statistics are those the
surrogate data used with this cell (written out below, as benchmarks import no analysis):
per-window rates piecewise constant over 50–400 ms, drawn independently for basal and
apical/tuft synapses, scaled per synapse by U(0.5, 1.5).

    python benchmarks/release_noise_ceiling.py --seconds 6 --inputs 2
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
from neurocomp_models.neurons import l5_pyramidal_squid

from neurocomp.biophysics import NeuronModel, NeuronPipeline, RecordSite, SpikeTrains, Stages
from neurocomp.biophysics import inputs as spike_inputs
from neurocomp.provenance import RunClock

#: Spike-clipping level of the surrogate analysis's voltage target, mV.
CLIP_MV = -55.0
#: The first 500 ms (bins of 1 ms) are the cell settling from rest; left out.
WARMUP_BINS = 500
BIN_MS = 1.0
#: Ranges of the per-window rates, Hz per axon, with and without NMDA (the squid cell's
#: surrogate-data rates: it fires 1–4 Hz with NMDA; without NMDA it needs about three times
#: the excitation).
EXC_RATE_HZ = {True: (0.0, 16.0), False: (0.0, 48.0)}
INH_RATE_HZ = (0.0, 10.0)


def _rates(rng: np.random.Generator, n_bins: int, lo: float, hi: float) -> np.ndarray:
    """Rates piecewise constant over windows of U(50, 400) ms, each U(lo, hi) Hz."""
    out = np.empty(n_bins)
    t = 0
    while t < n_bins:
        length = int(rng.uniform(50, 400) / BIN_MS)
        out[t:t + length] = rng.uniform(lo, hi)
        t += length
    return out


def input_trains(model: NeuronModel, *, rng: np.random.Generator, seconds: float,
                 nmda: bool) -> dict[str, SpikeTrains]:
    """Spike trains of every synapse group (rates as in the module docstring)."""
    n_bins = round(seconds * 1e3 / BIN_MS)
    table = model.morphology.compartment_table()
    comps = model.synapse_compartments()
    trains = {}
    for g in model.synapse_groups:
        lo, hi = EXC_RATE_HZ[nmda] if g.name == "exc" else INH_RATE_HZ
        basal = _rates(rng, n_bins, lo, hi)
        apical = _rates(rng, n_bins, lo, hi)
        in_basal = table["region"][comps[g.name]] == "basal"
        profile = np.where(in_basal[:, None], basal[None, :], apical[None, :])
        scale = rng.uniform(0.5, 1.5, size=(g.n_synapses, 1))
        trains[g.name] = spike_inputs.inhomogeneous_poisson(
            rates_hz=profile * scale, dt_ms=BIN_MS, rng=rng)
    return trains


def somatic_response(model: NeuronModel, trains: dict[str, SpikeTrains], *, seconds: float,
                     nmda: bool, release: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Somatic voltage (mV, mean per 1 ms bin) and output spike times (ms) of one run."""
    from brian2 import ms

    pipe = NeuronPipeline(model, stages=Stages(nmda=nmda, release=release))
    rec = pipe.run(trains, duration=seconds * 1e3 * ms, backend="cpp_standalone", seed=seed,
                   record=[RecordSite(label="soma", index=0)], record_dt=0.1 * ms)
    n_bins = round(seconds * 1e3 / BIN_MS)
    per_bin = round(BIN_MS / 0.1)
    v = rec.traces["v"][0][: n_bins * per_bin].reshape(n_bins, per_bin).mean(axis=1)
    return v, np.asarray(rec.spikes_ms["soma"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="s of biology per run")
    parser.add_argument("--inputs", type=int, default=2, help="input draws per condition")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results"
                        / "release_noise_ceiling.json")
    args = parser.parse_args()
    clock = RunClock()
    rows = []
    for nmda in (True, False):
        for k in range(args.inputs):
            model = l5_pyramidal_squid()
            trains = input_trains(model, rng=np.random.default_rng(1000 + k),
                                  seconds=args.seconds, nmda=nmda)
            for release in ("stochastic", "deterministic"):
                runs = [somatic_response(model, trains, seconds=args.seconds, nmda=nmda,
                                         release=release, seed=seed) for seed in (1, 2)]
                a, b = (np.minimum(v, CLIP_MV)[WARMUP_BINS:] for v, _ in runs)
                rows.append({
                    "nmda": nmda, "input_draw": k, "release": release,
                    "run_to_run_correlation": float(np.corrcoef(a, b)[0, 1]),
                    "run_to_run_variance_explained": float(1 - np.var(a - b) / np.var(a)),
                    "max_abs_difference_mV": float(np.max(np.abs(a - b))),
                    "voltage_variance_mV2": float(np.var(a)),
                    "output_spikes": [int(s.size) for _, s in runs]})
                print(rows[-1], flush=True)
    summary = {}
    for nmda in (True, False):
        for release in ("stochastic", "deterministic"):
            r = [x["run_to_run_correlation"] for x in rows
                 if x["nmda"] == nmda and x["release"] == release]
            summary[f"median_run_to_run_correlation_{'nmda' if nmda else 'no_nmda'}_"
                    f"{release}"] = statistics.median(r)
    report = {
        "benchmark": "release_noise_ceiling", "model": "l5_pyramidal_squid",
        "command": (f"python benchmarks/release_noise_ceiling.py --seconds {args.seconds:g} "
                    f"--inputs {args.inputs}"),
        "headline": summary, "runs": rows,
        **clock.record(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"written: {args.out} ({report['wall_time_s']} s)")


if __name__ == "__main__":
    main()
