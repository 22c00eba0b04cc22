#!/usr/bin/env python3
"""Benchmark: how much of the L5 cell's somatic voltage its input can explain at all.

The deep surrogates of ``surrogate-depth`` map input spike trains to the somatic voltage.
With stochastic transmitter release the same input gives a different voltage on every run,
which caps the variance any surrogate can explain. This simulates the reduced L5 cell on
identical input (the surrogate data's statistics, ``analyses/surrogate_data.py``) twice with
different release seeds, for stochastic and for deterministic release, with and without
NMDA, and reports the run-to-run correlation r of the voltage (for two repeats of one
signal plus independent noise, r is the signal's share of the variance: the most that any
model of the input can explain) and the run-to-run variance explained. Writes
``benchmarks/results/release_noise_ceiling.json``.

    python benchmarks/release_noise_ceiling.py --seconds 6 --inputs 2
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from analyses.surrogate_data import input_trains, somatic_response
from models.neurons import l5_pyramidal
from neurocomp.provenance import RunClock

#: Spike-clipping level of the surrogate analysis's voltage target, mV.
CLIP_MV = -55.0
#: The first 500 ms (bins of 1 ms) are the cell settling from rest; left out.
WARMUP_BINS = 500


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
            model = l5_pyramidal()
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
        "benchmark": "release_noise_ceiling",
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
