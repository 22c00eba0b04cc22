#!/usr/bin/env python3
"""Benchmark: time of ``plan_on_system`` against the number of GPUs, 1 k to 1 M.

Plans AlexNet (the ``alexnet`` workload, 128 samples per GPU) on two registered systems
grown to ``n / gpus-per-node`` nodes: the H100 NDR cluster (NVSwitch nodes on a fat tree,
GPUDirect RDMA) and the Dettmers 2014 cluster (PCIe nodes staged through host memory, one
switch). Every repeat builds a fresh ``System`` (an empty path and plan cache), so each
time includes the whole search: every model-parallel group size, the per-layer local
search and the breakdown. Median of ``--repeats`` (3) after one untimed warm-up plan at
1 k GPUs (imports, registry). Target (issue 13): 1 M GPUs in < 1 s.

For comparison, the same plan with the rank grouping the planner used before (a count of
ranks per node that scanned every rank for every node, O(GPUs²)) is timed up to
``--reference-max`` GPUs (16 k by default; it took 5.6 s at 16 k and 69 s at 64 k on the
machine of the issue) and checked to give the identical plan.

    python benchmarks/planner_scaling.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import torch

from neurocomp.accounting import plan_on_system
from neurocomp.accounting.parallel import SystemPlan, named_systems, named_workloads
from neurocomp.accounting.systems import System
from neurocomp.provenance import environment_info, git_info, package_versions

SIZES = (1024, 4096, 16384, 65536, 262144, 1048576)
SYSTEMS = ("H100 NDR cluster", "Dettmers 2014 cluster")
TARGET_S = 1.0


def reference_groups(self: System, p: int, s: int) -> tuple[list[tuple[int, ...]], int, int]:
    """The rank grouping before issue 13 (kept verbatim): O(p × nodes) for the count."""
    g = self.node.gpus
    span = p * s
    groups = []
    for block in range(max(1, math.ceil(g / span))):
        for o in range(min(s, g)):
            members = tuple(r for k in range(p) if (r := block * span + o + k * s) < g)
            if members:
                groups.append(members)
    ranks = [k * s for k in range(p)]
    nodes = len({r // g for r in ranks})
    local = max(sum(1 for r in ranks if r // g == n) for n in {r // g for r in ranks})
    return groups, nodes, local


def summary(plan: SystemPlan) -> dict:
    """What must not change: layout, step and breakdown."""
    return {"model_parallel_size": plan.model_parallel_size, "plan": dict(plan.plan),
            "step_s": plan.step.step_s, "tried": [list(t) for t in plan.tried],
            "breakdown": dataclasses.asdict(plan.breakdown)}


def timed(fn: Callable[[], SystemPlan], repeats: int) -> tuple[list[float], SystemPlan]:
    times, plan = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        plan = fn()
        times.append(time.perf_counter() - t0)
    assert plan is not None
    return times, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (>= 3)")
    parser.add_argument("--reference-max", type=int, default=16384,
                        help="largest GPU count timed with the old O(GPUs²) grouping")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "planner_scaling.json")
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error(f"--repeats must be at least 3; got {args.repeats}")
    torch.set_num_threads(1)
    systems, workload = named_systems(), named_workloads()["alexnet"]
    layers = workload.layers()
    batch = workload.batch_per_device
    load_before = [round(v, 2) for v in os.getloadavg()]
    start = time.time()
    rows = []
    for name in SYSTEMS:
        base = systems[name]

        def grown(n: int, base: System = base) -> System:
            return base.with_nodes(-(-n // base.node.gpus))

        plan_on_system(layers, system=grown(1024), n_gpus=1024, batch_per_gpu=batch)  # warm-up
        for n in SIZES:
            times, plan = timed(lambda n=n: plan_on_system(layers, system=grown(n), n_gpus=n,
                                                           batch_per_gpu=batch), args.repeats)
            row = {"system": name, "n_gpus": n, "nodes": grown(n).nodes,
                   "median_s": round(statistics.median(times), 4),
                   "times_s": [round(t, 4) for t in times],
                   "step_ms": round(plan.step.step_s * 1e3, 4),
                   "model_parallel_size": plan.model_parallel_size}
            if n <= args.reference_max:
                with mock.patch.object(System, "_groups", reference_groups):
                    ref_times, ref = timed(lambda n=n: plan_on_system(
                        layers, system=grown(n), n_gpus=n, batch_per_gpu=batch), args.repeats)
                row["reference_median_s"] = round(statistics.median(ref_times), 4)
                row["reference_times_s"] = [round(t, 4) for t in ref_times]
                row["identical_to_reference"] = summary(ref) == summary(plan)
            rows.append(row)
            print(json.dumps(row))
    million = [r["median_s"] for r in rows if r["n_gpus"] == 1048576]
    result = {
        "benchmark": "planner_scaling",
        "command": f"python benchmarks/planner_scaling.py --repeats {args.repeats} "
                   f"--reference-max {args.reference_max}",
        "what_is_timed": "plan_on_system(alexnet layers, system grown to n GPUs, n_gpus=n, "
                         f"batch_per_gpu={batch}) on a fresh System (empty caches)",
        "statistic": f"median of {args.repeats} repeats after one warm-up plan at 1024 GPUs",
        "reference": "the same call with the pre-issue-13 rank grouping (O(GPUs²)), up to "
                     f"{args.reference_max} GPUs; identical_to_reference compares layout, "
                     "step, tried group sizes and breakdown exactly",
        "rows": rows,
        "target_s_at_1M_gpus": TARGET_S,
        "target_met": bool(million) and max(million) < TARGET_S,
        "torch_threads": torch.get_num_threads(),
        "machine": environment_info(),
        "load_average_before": load_before,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "versions": package_versions(),
        "git": git_info(),
        "wall_time_s": round(time.time() - start, 1),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("target_met", "load_average_before",
                                             "load_average_after", "wall_time_s")}))


if __name__ == "__main__":
    main()
