#!/usr/bin/env python3
"""Benchmark: the FLOP counter against FlopCounterMode on ResNet-18, forward + backward.

Counts a ResNet-18-size net (``models.convnets.resnet18``, He et al. 2016) at batch 32,
forward and backward, three ways in the same run: no counter at all (the plain forward and
``torch.autograd.grad`` of every parameter — the floor both counters pay), neurocomp's
``count`` and ``torch.utils.flop_counter.FlopCounterMode`` run the same way (forward, then
backward, one mode per phase: ``neurocomp.accounting.counting.flop_counter_mode_counts``).
Each is timed ``--repeats`` times after one warm-up call, the three interleaved round by round
so that the shared machine's load falls on all of them alike; the medians are compared.
Target: the counter no slower than 1.5 × FlopCounterMode. The spatial size is 64 px by
default (224 px works with ``--px 224`` and takes ~12× longer); the counters' overhead is
per op, so a smaller image makes the comparison harder for them, not easier.

    python benchmarks/counter_speed.py --px 64 --repeats 7
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from pathlib import Path

import torch

from models.convnets import resnet18
from neurocomp.accounting import count
from neurocomp.accounting.counting import flop_counter_mode_counts
from neurocomp.provenance import FLOP_CONVENTION, environment_info, git_info, package_versions
from neurocomp.timing import Timing, measure

TARGET_RATIO = 1.5


def plain_step(model: torch.nn.Module, x: torch.Tensor) -> None:
    """Forward and backward without any counter (what both counters run under their modes)."""
    out = model(x)
    torch.autograd.grad(out, [p for p in model.parameters() if p.requires_grad],
                        grad_outputs=torch.ones_like(out))


def profile_count(model: torch.nn.Module, x: torch.Tensor, top: int = 15) -> list[dict]:
    """The functions where one ``count`` call spends its time (cumulative, top ``top``)."""
    prof = cProfile.Profile()
    prof.enable()
    count(model, x)
    prof.disable()
    stats = pstats.Stats(prof).sort_stats("cumulative")
    rows = []
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        rows.append({"function": f"{Path(file).name}:{line}({name})", "calls": ncalls,
                     "self_s": round(tottime, 4), "cumulative_s": round(cumtime, 4)})
    return sorted(rows, key=lambda r: -r["cumulative_s"])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--px", type=int, default=64, help="image side, px")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (>= 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: "
                        "torch's choice)")
    parser.add_argument("--profile", action="store_true", help="also profile one count call")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "counter_speed.json")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error(f"--repeats must be at least 5; got {args.repeats}")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = resnet18()
    x = torch.randn(args.batch, 3, args.px, args.px)

    calls = {"no counter": lambda: plain_step(model, x),
             "neurocomp count": lambda: count(model, x),
             "FlopCounterMode": lambda: flop_counter_mode_counts(model, x)}
    times: dict[str, list[float]] = {k: [] for k in calls}
    for fn in calls.values():  # warm-up: allocator, oneDNN primitives, op caches
        fn()
    start = time.time()
    for _ in range(args.repeats):
        for name, fn in calls.items():
            times[name] += measure(fn, repeats=1, warmup=0).times_s
    timings = {k: Timing(times_s=tuple(v)) for k, v in times.items()}

    report = count(model, x)
    reference = flop_counter_mode_counts(model, x)
    ratio = timings["neurocomp count"].median_s / timings["FlopCounterMode"].median_s
    base = timings["no counter"].median_s
    result = {
        "benchmark": "counter_speed",
        "command": (f"python benchmarks/counter_speed.py --px {args.px} --batch {args.batch} "
                    f"--repeats {args.repeats}"
                    + (f" --threads {args.threads}" if args.threads else "")
                    + (" --profile" if args.profile else "")),
        "model": "models.convnets.resnet18 (He et al. 2016, 11.69 M parameters), train mode",
        "input": {"batch": args.batch, "channels": 3, "px": args.px},
        "what_is_timed": "one forward pass and torch.autograd.grad of every parameter "
                         "(seeded with ones), under each counter or none",
        "statistic": "median of repeats after one warm-up call; the three are interleaved "
                     "round by round; iqr = inter-quartile range",
        "repeats": args.repeats,
        "median_s": {k: round(t.median_s, 4) for k, t in timings.items()},
        "iqr_s": {k: round(t.iqr_s, 4) for k, t in timings.items()},
        "times_s": {k: [round(v, 4) for v in t.times_s] for k, t in timings.items()},
        "ratio_count_over_flop_counter_mode": round(ratio, 4),
        "target_ratio_at_most": TARGET_RATIO,
        "target_met": ratio <= TARGET_RATIO,
        "overhead_over_no_counter": {
            k: round(timings[k].median_s / base - 1.0, 4)
            for k in ("neurocomp count", "FlopCounterMode")},
        "flop": {"neurocomp_forward": report.forward_flop,
                 "neurocomp_backward": report.backward_flop,
                 "neurocomp_flop_counter_mode_rules": report.flop_counter_mode_flop(),
                 "flop_counter_mode": sum(reference.forward.values())
                 + sum(reference.backward.values())},
        "flop_convention": FLOP_CONVENTION,
        "torch_threads": torch.get_num_threads(),
        "machine": environment_info(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "versions": package_versions(),
        "git": git_info(),
        "wall_time_s": round(time.time() - start, 1),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if args.profile or ratio > TARGET_RATIO:
        result["profile_of_one_count_call"] = profile_count(model, x)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("median_s", "ratio_count_over_flop_counter_mode",
                                             "target_met", "overhead_over_no_counter")},
                     indent=2))


if __name__ == "__main__":
    main()
