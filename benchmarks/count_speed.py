#!/usr/bin/env python3
"""Benchmark: counting ResNet-50 without running it (meta) against running it (real).

ResNet-50 (``neurocomp_models.modern_nets.resnet50``, He et al. 2016, 25.56 M parameters) at batch
8, 224 × 224 px, training mode, forward and backward, counted three ways in the same process:

* ``count meta`` — :func:`neurocomp.accounting.count` as called by default: fake tensors on
  the ``meta`` device, nothing computed;
* ``FlopCounterMode real`` — ``torch.utils.flop_counter.FlopCounterMode`` on the real
  tensors (forward, then ``torch.autograd.grad``: ``flop_counter_mode_counts``);
* ``count real`` — ``count(..., device="real")``.

Each is timed ``--repeats`` times (median reported) after one untimed warm-up call — for
the meta count, its cold first call, reported on its own —, interleaved round by round so the
shared machine's load falls on all alike; ``--real-repeats`` may lower the repeats of the
two slow real runs (the JSON says how many each had). The totals must agree: the meta and
real counts op by op, and both with FlopCounterMode by its rules. Target: the meta count at
least 10 × faster than FlopCounterMode on real tensors.

    python benchmarks/count_speed.py --repeats 5 --real-repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
from neurocomp_models.modern_nets import resnet50

from neurocomp.accounting import count
from neurocomp.accounting.counting import flop_counter_mode_counts
from neurocomp.provenance import FLOP_CONVENTION, environment_info, git_info, package_versions
from neurocomp.timing import Timing, measure

TARGET_SPEEDUP = 10.0


def _time(fn) -> float:
    return measure(fn, repeats=1, warmup=0).times_s[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--px", type=int, default=224, help="image side, px")
    parser.add_argument("--repeats", type=int, default=5, help="timed meta counts (>= 3)")
    parser.add_argument("--real-repeats", type=int, default=3,
                        help="timed runs of each real-tensor method (>= 1)")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "count_speed.json")
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error(f"--repeats must be at least 3; got {args.repeats}")
    if not 1 <= args.real_repeats <= args.repeats:
        parser.error(f"--real-repeats must be in [1, --repeats]; got {args.real_repeats}")
    load_before = [round(v, 2) for v in os.getloadavg()]
    model = resnet50().train()
    x = torch.randn(args.batch, 3, args.px, args.px, generator=torch.Generator().manual_seed(0))
    calls = {"count meta": lambda: count(model, x),
             "FlopCounterMode real": lambda: flop_counter_mode_counts(model, x),
             "count real": lambda: count(model, x, device="real")}
    start = time.time()
    cold_meta = _time(calls["count meta"])
    for name in ("FlopCounterMode real", "count real"):  # warm-up: allocator, oneDNN
        calls[name]()
    times: dict[str, list[float]] = {k: [] for k in calls}
    for round_ in range(args.repeats):
        for name, fn in calls.items():
            if name == "count meta" or round_ < args.real_repeats:
                times[name].append(_time(fn))
    timings = {k: Timing(times_s=tuple(v)) for k, v in times.items()}

    meta, real = count(model, x), count(model, x, device="real")
    reference = flop_counter_mode_counts(model, x)
    fcm_total = sum(reference.forward.values()) + sum(reference.backward.values())
    assert meta.counted_on == "meta" and real.counted_on == "real"
    assert meta.ops == real.ops, "meta and real counts differ"
    assert meta.flop_counter_mode_flop() == real.flop_counter_mode_flop() == fcm_total
    speedup = timings["FlopCounterMode real"].median_s / timings["count meta"].median_s
    result = {
        "benchmark": "count_speed",
        "command": (f"python benchmarks/count_speed.py --batch {args.batch} --px {args.px} "
                    f"--repeats {args.repeats} --real-repeats {args.real_repeats}"),
        "model": ("neurocomp_models.modern_nets.resnet50 (He et al. 2016, 25.56 M parameters), "
                  "train mode"),
        "input": {"batch": args.batch, "channels": 3, "px": args.px},
        "what_is_timed": "one forward pass and the backward pass (gradients of every "
                         "parameter, seeded with ones), counted by each method",
        "statistic": "median of the timed repeats; the two real-tensor methods after one "
                     "untimed warm-up call each, the meta count after its cold first call "
                     "(cold_first_meta_count_s: mostly torch's one-time import of its fake "
                     "tensor machinery); methods interleaved round by round",
        "repeats": {k: len(v) for k, v in times.items()},
        "repeats_note": (f"the two real-tensor methods take seconds per call, so they ran "
                         f"{args.real_repeats} times, the meta count {args.repeats} times"),
        "median_s": {k: round(t.median_s, 4) for k, t in timings.items()},
        "times_s": {k: [round(v, 4) for v in t.times_s] for k, t in timings.items()},
        "cold_first_meta_count_s": round(cold_meta, 4),
        "speedup_meta_vs_flop_counter_mode_real": round(speedup, 2),
        "speedup_meta_vs_count_real": round(timings["count real"].median_s
                                            / timings["count meta"].median_s, 2),
        "target_speedup_at_least": TARGET_SPEEDUP,
        "target_met": speedup >= TARGET_SPEEDUP,
        "totals_agree": "meta == real op by op (FLOPs, bytes, calls); both reproduce "
                        "FlopCounterMode's total by its rules",
        "flop": {"forward": meta.forward_flop, "backward": meta.backward_flop,
                 "flop_counter_mode": fcm_total,
                 "flop_counter_mode_rules": meta.flop_counter_mode_flop()},
        "flop_convention": FLOP_CONVENTION,
        "torch_threads": torch.get_num_threads(),
        "load_average_before": load_before,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "machine": environment_info(),
        "versions": package_versions(),
        "git": git_info(),
        "wall_time_s": round(time.time() - start, 1),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("median_s", "cold_first_meta_count_s",
                                             "speedup_meta_vs_flop_counter_mode_real",
                                             "target_met", "load_average_before")}, indent=2))


if __name__ == "__main__":
    main()
