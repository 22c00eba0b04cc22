#!/usr/bin/env python3
"""Benchmark: predicted against measured training-step time on this CPU, in the same run.

Runs the ``step-time-validation`` analysis (``analyses/step_time_validation.py``): this
machine's micro-benchmarks first (matmul, convolution, pooling, batch-norm and ``pow``
rates; STREAM-add bandwidth; page-fault cost; per-op overheads), then each reference net at
several batch sizes — the cuda-convnet CIFAR-10 net (32 px), AlexNet 2012 (227 px), ResNet-18
(224 px) and Beniaguev et al.'s TCNs (400 ms windows) — counted, priced op by op, and
trained for real (median of ``--repeats`` steps after 2 warm-up steps, CPU time of the
process). Nothing is fitted to the step times. Reported: median |predicted − measured| /
measured over all cases (target ≤ 10 %) and over the held-out nets — ResNet-50, VGG-11,
MobileNetV2, an LSTM and a transformer block, never used to shape the model (target ≤ 15 %)
— per net, with and without the load adjustment.

    python benchmarks/step_time_validation.py --repeats 7
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from neurocomp.analysis import discover, load
from neurocomp.provenance import FLOP_CONVENTION, RunClock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed steps per case (>= 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--quick", action="store_true", help="the analysis's quick mode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results"
                        / "step_time_validation.json")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error(f"--repeats must be at least 5; got {args.repeats}")
    clock = RunClock()
    # through the analysis registry (entry points), as the CLI runs it: no benchmark
    # imports the analyses package.
    analysis = load(discover()["step-time-validation"])
    result = analysis.run(quick=args.quick, seed=args.seed, threads=args.threads,
                          repeats=args.repeats)
    steps = result.steps.round(6)
    report = {
        "benchmark": "step_time_validation",
        "command": (f"python benchmarks/step_time_validation.py --repeats {args.repeats} "
                    f"--threads {args.threads} --seed {args.seed}"
                    + (" --quick" if args.quick else "")),
        "target": ("median |predicted - measured| / measured <= 0.10 over all cases and "
                   "<= 0.15 over the held-out nets (never used to shape the model)"),
        "claim": result.claim,
        "headline": result.headline,
        "per_case": steps.to_dict(orient="records"),
        "micro_benchmarks": result.machine.to_dict(orient="records"),
        "notes": list(result.notes),
        "flop_convention": FLOP_CONVENTION,
        **clock.record(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    cols = ["net", "held_out", "batch", "measured_s", "predicted_s", "predicted_adjusted_s",
            "rel_error", "rel_error_adjusted", "load_average_1min"]
    print(steps[cols].to_string(index=False))
    print(json.dumps({k: v for k, v in result.headline.items() if "rel_error" in k}, indent=2))
    print(f"written: {args.out} ({report['wall_time_s']} s)")


if __name__ == "__main__":
    main()
