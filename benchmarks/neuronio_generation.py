#!/usr/bin/env python3
"""Benchmark and driver: NeuronIO-mini generation for the mammalian L5 cell (Brian2 or the
PyTorch engine).

Generates (or extends — the key leaves out the numbers of sequences, so a larger run
extends a smaller one) a condition's data set in the cache, and measures how fast:
biological seconds simulated (burn-in included) per wall-clock second, with the number of
Dask workers given, plus the Brian2 binary's own run time per biological second from each
sequence's diagnostics (with ``--backend torch``: the engine's wall time per sequence, the
batch's divided by its size). Results are appended to
``benchmarks/results/neuronio_generation.json``.

    python benchmarks/neuronio_generation.py --condition nmda --n-train 40 --n-val 5 \\
        --n-test 10 --workers 2
    python benchmarks/neuronio_generation.py --condition nmda --n-train 150 --n-val 15 \\
        --n-test 15 --backend torch --batch-size 16
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def cache_root() -> Path:
    base = Path(os.environ.get("NEUROCOMP_CACHE", Path.home() / ".cache" / "neurocomp"))
    return base / "neuronio-mini"


def main() -> None:
    from neurocomp_models.neuronio import CONDITIONS, DRIVES, drive_conditions, neuronio_dataset

    from neurocomp.mapping import GenerationSpec
    from neurocomp.provenance import RunClock

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--condition", choices=sorted(CONDITIONS), required=True)
    ap.add_argument("--drive", choices=sorted(DRIVES), default="beniaguev",
                    help="the named input drive of the condition (models/neuronio.py DRIVES)")
    ap.add_argument("--n-train", type=int, default=40)
    ap.add_argument("--n-val", type=int, default=5)
    ap.add_argument("--n-test", type=int, default=10)
    ap.add_argument("--sequence-ms", type=float, default=10_000.0)
    ap.add_argument("--burn-in-ms", type=float, default=2_000.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", choices=("brian2", "torch"), default="brian2")
    ap.add_argument("--batch-size", type=int, default=16, help="sequences per engine pass")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "neuronio_generation.json")
    args = ap.parse_args()
    clock = RunClock()
    cond = drive_conditions(args.drive)[args.condition]
    spec = GenerationSpec(condition=cond.name, burn_in_ms=args.burn_in_ms,
                          sequence_ms=args.sequence_ms, n_train=args.n_train,
                          n_val=args.n_val, n_test=args.n_test, seed=args.seed)
    root = cache_root()
    directory = root / cond.key(spec)
    before = set(p.name for p in directory.glob("*.npz")) if directory.is_dir() else set()
    t0 = time.perf_counter()
    data = neuronio_dataset(cond, spec, root=root, n_workers=args.workers,
                            backend=args.backend, batch_size=args.batch_size)
    wall = time.perf_counter() - t0
    after = set(p.name for p in directory.glob("*.npz"))
    computed = sorted(after - before)
    run_s = []
    for name in computed:
        with np.load(directory / name) as f:
            for name in ("diag_run_s", "diag_engine_s"):  # Brian2's binary, the engine
                if name in f.files:
                    run_s.append(float(f[name]))
    total_ms = spec.burn_in_ms + spec.sequence_ms
    bio_s = len(computed) * total_ms / 1e3
    per_split = {s: [e["rate_hz"] for e in data.manifest["splits"][s]]
                 for s in ("train", "val", "test")}
    entry = {
        "benchmark": "neuronio_generation",
        "command": (f"python benchmarks/neuronio_generation.py --condition {cond.name} "
                    f"--drive {args.drive} "
                    f"--n-train {spec.n_train} --n-val {spec.n_val} --n-test {spec.n_test} "
                    f"--sequence-ms {spec.sequence_ms:g} --burn-in-ms {spec.burn_in_ms:g} "
                    + (f"--workers {args.workers}" if args.backend == "brian2" else
                       f"--backend torch --batch-size {args.batch_size}")),
        "condition": cond.name, "drive": args.drive, "key": data.key, "backend": args.backend,
        "workers": args.workers if args.backend == "brian2" else 1,
        "batch_size": args.batch_size if args.backend == "torch" else None,
        "sequences_computed": len(computed), "sequences_total": len(after),
        "biological_s_computed_incl_burn_in": bio_s,
        "wall_s": wall,
        "biological_s_per_wall_s": bio_s / wall if computed else None,
        ("binary_run_s_per_biological_s_median" if args.backend == "brian2"
         else "engine_s_per_biological_s_median"): (statistics.median(run_s) / (total_ms / 1e3)
                                                  if run_s else None),
        "output_rate_hz_per_split_median": {k: statistics.median(v) if v else None
                                            for k, v in per_split.items()},
        "output_rate_hz_all": data.manifest["rate_hz"],
        "provenance": clock.record(),
    }
    out = args.out
    log = json.loads(out.read_text()) if out.exists() else []
    log.append(entry)
    out.write_text(json.dumps(log, indent=1) + "\n")
    print(json.dumps({k: v for k, v in entry.items() if k != "provenance"}, indent=1))


if __name__ == "__main__":
    main()
