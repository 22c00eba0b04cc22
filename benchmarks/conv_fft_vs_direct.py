#!/usr/bin/env python3
"""Benchmark: direct vs FFT convolution against kernel size, on this machine.

Times 'same'-mode 2-D convolution of an N×N image with k×k kernels for four implementations
(numpy shift-and-add and scipy FFT in float64; torch conv2d and torch FFT in float32), each
the median of ``--repeats`` runs after one warm-up, and writes the numbers, the crossover
kernel sizes and the machine description to JSON.

    python benchmarks/conv_fft_vs_direct.py --image-px 256 --repeats 7
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from neurocomp.mapping import IMPLEMENTATIONS, crossover_size, timing_sweep
from neurocomp.provenance import environment_info, git_info, package_versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-px", type=int, default=256)
    parser.add_argument("--kernels", type=int, nargs="+",
                        default=[3, 5, 7, 9, 13, 17, 25, 33, 49, 65])
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (>= 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "conv_fft_vs_direct.json")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error(f"--repeats must be at least 5 (medians of fewer mean little); "
                     f"got {args.repeats}")
    start = time.time()
    df = timing_sweep(n_px=args.image_px, kernel_sizes=args.kernels, repeats=args.repeats,
                      rng=np.random.default_rng(args.seed))

    def med(label: str) -> list[float]:
        return df[df["implementation"] == label].sort_values("kernel_px")["median_s"].tolist()

    crossovers = {
        "numpy_direct_vs_scipy_fft_px": crossover_size(args.kernels, med(IMPLEMENTATIONS[0][0]),
                                                       med(IMPLEMENTATIONS[1][0])),
        "torch_conv2d_vs_torch_fft_px": crossover_size(args.kernels, med(IMPLEMENTATIONS[2][0]),
                                                       med(IMPLEMENTATIONS[3][0])),
    }
    report = {
        "benchmark": "conv_fft_vs_direct",
        "command": f"python benchmarks/conv_fft_vs_direct.py --image-px {args.image_px} "
                   f"--repeats {args.repeats}",
        "image_px": args.image_px,
        "repeats": args.repeats,
        "statistic": "median of repeats after one warm-up call; iqr = inter-quartile range",
        "crossover_kernel_px": crossovers,
        "median_ms": {label: dict(zip(map(str, args.kernels),
                                      (round(t * 1e3, 4) for t in med(label)), strict=True))
                      for label, _, _ in IMPLEMENTATIONS},
        "fft_speedup_over_direct_at_largest_kernel": {
            "numpy": med(IMPLEMENTATIONS[0][0])[-1] / med(IMPLEMENTATIONS[1][0])[-1],
            "torch": med(IMPLEMENTATIONS[2][0])[-1] / med(IMPLEMENTATIONS[3][0])[-1],
        },
        "rows": df.to_dict(orient="records"),
        "torch_threads": torch.get_num_threads(),
        "machine": {**environment_info(), "node": platform.node()},
        "versions": package_versions(),
        "git": git_info(),
        "wall_time_s": time.time() - start,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("crossover_kernel_px", "median_ms",
                                             "fft_speedup_over_direct_at_largest_kernel")},
                     indent=2))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
