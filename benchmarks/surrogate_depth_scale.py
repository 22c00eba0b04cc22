#!/usr/bin/env python3
"""Benchmark: the surrogate-depth analysis at a size between quick and full mode.

Quick mode (22 s of training data per condition) is data-limited and the full run is hours
of CPU time on this machine; this runs the same analysis (``analyses/surrogate_depth.py``)
with more data than quick mode and narrower nets than full mode, so that the question of
the figure (how deep must a TCN be to stand in for the L5 cell, with and without NMDA) gets
an answer at a size one CPU can reach. Writes the figure and data to ``--out`` and the
headline, per-depth scores and wall times to ``benchmarks/results/surrogate_depth_scale.json``.

    python benchmarks/surrogate_depth_scale.py --train-chunks 31 --seconds-per-chunk 6
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from analyses import surrogate_depth
from neurocomp.provenance import RunClock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-chunks", type=int, default=31,
                        help="training simulations per condition (the last one validates)")
    parser.add_argument("--test-chunks", type=int, default=4, help="held-out simulations")
    parser.add_argument("--seconds-per-chunk", type=float, default=6.0, help="s of biology")
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 5, 7])
    parser.add_argument("--width", type=int, default=16, help="channels per hidden layer")
    parser.add_argument("--epochs", type=int, default=15, help="at most (early stopping)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results-scale/surrogate-depth"))
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results"
                        / "surrogate_depth_scale.json")
    args = parser.parse_args()
    plan = dataclasses.replace(surrogate_depth.FULL, train_chunks=args.train_chunks,
                               test_chunks=args.test_chunks,
                               seconds_per_chunk=args.seconds_per_chunk,
                               depths=tuple(args.depths), width=args.width, epochs=args.epochs,
                               weight_decay=1e-3)
    clock = RunClock()
    result = surrogate_depth.run(seed=args.seed, plan=plan)
    result.save(args.out)
    report = {
        "benchmark": "surrogate_depth_scale",
        "command": (f"python benchmarks/surrogate_depth_scale.py --train-chunks "
                    f"{args.train_chunks} --test-chunks {args.test_chunks} --seconds-per-chunk "
                    f"{args.seconds_per_chunk:g} --depths {' '.join(map(str, args.depths))} "
                    f"--width {args.width} --epochs {args.epochs} --seed {args.seed}"),
        "plan": {**dataclasses.asdict(plan), "depths": list(plan.depths)},
        "headline": result.headline,
        "scores": result.scores.to_dict(orient="records"),
        "notes": list(result.notes),
        **clock.record(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(result.scores.to_string(index=False))
    print(json.dumps(result.headline, indent=2, default=float))
    print(f"written: {args.json}, {args.out} ({report['wall_time_s']} s)")


if __name__ == "__main__":
    main()
