#!/usr/bin/env python3
"""Benchmark: α–β and DDP communication and step time, predicted against a real gloo run.

Runs the ``ddp-validation`` analysis (``analyses/ddp_validation.py``): this machine's
micro-benchmarks, then two local processes in one gloo process group
(``neurocomp.accounting.ddp.ddp_check``) time an all-reduce sweep (4 kB to 126 MB per rank,
sizes interleaved, slowest rank, medians of ``repeats``), train ResNet-18 (10 classes,
128 px) without and with DistributedDataParallel, and all-reduce DDP's buckets again on
their own. The α–β line fitted to the sweep (ring factors divided out) and DDP's bucket
model predict the communication and the step; reported: α, 1/β, and the relative errors of
the communication time (target ≤ 25 %) and of the step time.

    python benchmarks/ddp_validation.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from neurocomp.analysis import discover, load
from neurocomp.provenance import RunClock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the analysis's quick mode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results"
                        / "ddp_validation.json")
    args = parser.parse_args()
    clock = RunClock()
    # through the analysis registry (entry points), as the CLI runs it: no benchmark
    # imports the analyses package.
    result = load(discover()["ddp-validation"]).run(quick=args.quick, seed=args.seed)
    report = {
        "benchmark": "ddp_validation",
        "command": "python benchmarks/ddp_validation.py" + (" --quick" if args.quick else "")
                   + (f" --seed {args.seed}" if args.seed else ""),
        "target": "|predicted - measured| / measured of the DDP communication time <= 0.25",
        "claim": result.claim,
        "headline": result.headline,
        "params": dict(result.params),
        "sweep": result.sweep.to_dict(orient="records"),
        "comparison": result.comparison.to_dict(orient="records"),
        "buckets": result.buckets.to_dict(orient="records"),
        "notes": list(result.notes),
        **clock.record(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(json.dumps(result.headline, indent=2, default=float))
    print(f"written: {args.out} ({report['wall_time_s']} s)")


if __name__ == "__main__":
    main()
