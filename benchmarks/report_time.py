#!/usr/bin/env python3
"""Benchmark: the README's main job (every analysis, quick) at several ``--jobs``, side by side.

Runs ``neurocomp run all --quick --jobs N --out <fresh temporary folder>`` for each N (in
turn, ``--repeats`` times, alternating), with the environment as it is (warm: the virtual
environment and the Brian2 build cache exist; the set-up itself is not timed). Records the
wall time of each run, each analysis's own ``wall_time_s`` (from its ``meta.json``) and the
machine's load, and writes ``benchmarks/results/report_time.json``.

    python benchmarks/report_time.py --jobs 1 2 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def one_run(jobs: int) -> dict:
    """One timed run of every analysis (quick) at ``jobs`` processes."""
    out = Path(tempfile.mkdtemp(prefix=f"report-j{jobs}-"))
    cli = Path(sys.executable).with_name("neurocomp")
    cmd = [str(cli), "run", "all", "--quick", "--jobs", str(jobs), "--out", str(out)]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    load = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    per = {}
    for meta in sorted(out.glob("*/meta.json")):
        per[meta.parent.name] = json.loads(meta.read_text()).get("wall_time_s")
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return {"jobs": jobs, "wall_s": wall, "analyses": len(per), "per_analysis_s": per,
            "sum_of_analyses_s": sum(v for v in per.values() if v), "loadavg_before": load,
            "loadavg_after": os.getloadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "report_time.json")
    args = ap.parse_args()
    if any(j < 1 for j in args.jobs) or args.repeats < 1:
        ap.error(f"--jobs must be ≥ 1 and --repeats ≥ 1; got {args.jobs}, {args.repeats}")
    sys.path.insert(0, str(ROOT))
    from neurocomp.provenance import RunClock

    clock = RunClock()
    runs = []
    for r in range(args.repeats):
        for jobs in args.jobs:
            print(f"repeat {r + 1}/{args.repeats}: --jobs {jobs} ...", flush=True)
            runs.append(one_run(jobs))
            print(f"  {runs[-1]['wall_s']:.1f} s", flush=True)
    summary = {str(j): statistics.median(x["wall_s"] for x in runs if x["jobs"] == j)
               for j in args.jobs}
    base = summary[str(args.jobs[0])]
    result = {"benchmark": "report_time", "cpu_count": os.cpu_count(),
              "command": " ".join(["python", *sys.argv]),
              "median_wall_s_by_jobs": summary,
              "speedup_vs_first": {j: base / s for j, s in summary.items()},
              "target_s": 300.0, "runs": runs, "provenance": clock.record()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
