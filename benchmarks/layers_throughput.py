#!/usr/bin/env python3
"""Benchmark: training-step throughput of the reference convnets and of DettmersNeuron.

For each net and batch size: one forward + backward pass (no optimiser step), the median of
``--repeats`` timed runs after one warm-up, as items/s and achieved GFLOP/s. FLOPs come from
``torch.utils.flop_counter.FlopCounterMode`` (1 multiply-add = 2 FLOPs; it counts matrix
products and convolutions, not pooling, normalisation or element-wise ops). Each number is
set against this machine's float32 matmul peak measured in the same run: each timed step
follows one 2048×2048 matmul (the machine is shared and the peak moves with the load), and
the best matmul rate of the whole run is reported too.

Then, at batch 128: every convolution layer of the convnets alone (forward + backward), to
give the convolution layers' share of the peak (target ≥ 50 %), and — as the bound — the
plain GEMM of each layer's im2col shape. Finally each custom layer of ``neurocomp.layers``
against its best expression in stock PyTorch ops (target: no slower than 2×).

    python benchmarks/layers_throughput.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from layers_stock_cases import cases as stock_cases
from neurocomp_models.convnets import alexnet_2012, cifar_net, resnet18
from neurocomp_models.dettmers_neurons import granule_cell, purkinje_cell
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from neurocomp.provenance import FLOP_CONVENTION, environment_info, git_info, package_versions
from neurocomp.timing import Timing, measure

GEN = torch.Generator().manual_seed(0)


def randn(*shape: int, grad: bool = False) -> torch.Tensor:
    return torch.randn(*shape, generator=GEN).requires_grad_(grad)


def load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


PEAKS: list[dict[str, float]] = []  # every matmul-peak measurement of the run


def matmul_peak(repeats: int, n: int = 2048) -> float:
    """float32 GEMM rate ``n×n @ n×n``, FLOP/s (median of repeats); remembered in PEAKS."""
    a, b, c = randn(n, n), randn(n, n), torch.empty(n, n)
    t = measure(lambda: torch.mm(a, b, out=c), repeats=repeats, warmup=2)
    PEAKS.append({"n": n, "gflop_per_s": 2 * n**3 / t.median_s / 1e9, "at_s": time.time()})
    return 2 * n**3 / t.median_s


def best_peak() -> float:
    """The highest matmul rate seen in this run, FLOP/s: what the machine can deliver."""
    return max(p["gflop_per_s"] for p in PEAKS) * 1e9


_MM: dict[str, torch.Tensor] = {}


def with_peak(step: Callable[[], Any], *, repeats: int, n: int = 2048
              ) -> tuple[Timing, float]:
    """Time ``step`` ``repeats`` times, each right after one ``n×n`` float32 matmul.

    Returns the step's timing and the median matmul rate (FLOP/s) of the same moments, so a
    change of load on the shared machine hits the numerator and the denominator alike.
    """
    if not _MM:
        _MM.update(a=randn(n, n), b=randn(n, n), c=torch.empty(n, n))
    mm = lambda: torch.mm(_MM["a"], _MM["b"], out=_MM["c"])  # noqa: E731
    step(), mm(), mm()
    times, rates = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        mm()
        t1 = time.perf_counter()
        step()
        t2 = time.perf_counter()
        times.append(t2 - t1)
        rates.append(2 * n**3 / (t1 - t0))
        PEAKS.append({"n": n, "gflop_per_s": rates[-1] / 1e9, "at_s": t0})
    return Timing(times_s=tuple(times)), statistics.median(rates)


def count(fn: Callable[[], Any]) -> tuple[int, int]:
    """(all FLOPs, convolution FLOPs) of one call."""
    with FlopCounterMode(display=False) as counter:
        fn()
    by_op = counter.get_flop_counts()["Global"]
    conv = sum(v for k, v in by_op.items() if "convolution" in str(k))
    return counter.get_total_flops(), conv


def fwd_bwd(model: nn.Module, x: torch.Tensor, loss: Callable[[torch.Tensor], torch.Tensor]
            ) -> Callable[[], None]:
    def step() -> None:
        model.zero_grad(set_to_none=True)
        loss(model(x)).backward()
    return step


# -- whole nets --------------------------------------------------------------------------------

def net_specs(args: argparse.Namespace) -> list[dict[str, Any]]:
    fmt = torch.channels_last if args.memory_format == "channels_last" else torch.contiguous_format

    def image(px: dict[int, int], classes: int) -> Callable[[int], tuple[torch.Tensor, Any]]:
        def make(batch: int):
            side = px.get(batch, px[0])
            x = randn(batch, 3, side, side).contiguous(memory_format=fmt)
            y = torch.randint(0, classes, (batch,), generator=GEN)
            return x, (lambda out: F.cross_entropy(out, y)), side
        return make

    def neuron(n_in: int, n_out: int) -> Callable[[int], tuple[torch.Tensor, Any]]:
        def make(batch: int):
            x, y = torch.rand(batch, n_in, 5, generator=GEN), randn(batch, n_out, 5)
            return x, (lambda out: F.mse_loss(out, y)), None
        return make

    alex_px = {0: 227, 128: args.alexnet_px_128}
    res_px = {0: 224, 128: args.resnet_px_128}
    return [
        {"net": "cifar_net (cuda-convnet 18pct)", "item": "32x32 image", "conv": True,
         "model": cifar_net().to(memory_format=fmt), "make": image({0: 32}, 10),
         "batches": args.batches},
        {"net": "alexnet_2012 (two-GPU groups)", "item": "image", "conv": True,
         "model": alexnet_2012(adaptive=True).to(memory_format=fmt),
         "make": image(alex_px, 1000), "batches": args.batches},
        {"net": "resnet18", "item": "image", "conv": True,
         "model": resnet18().to(memory_format=fmt), "make": image(res_px, 1000),
         "batches": args.batches},
        {"net": "DettmersNeuron granule (15x5 -> 100x5)", "item": "5-step input window",
         "conv": False, "model": granule_cell().train(), "make": neuron(15, 100),
         "batches": args.batches},
        {"net": "DettmersNeuron Purkinje, dendrites as direct sums (toeplitz)",
         "item": "5-step input window", "conv": False,
         "model": purkinje_cell(dendritic_algorithm="toeplitz").train(),
         "make": neuron(100_000, 1000), "batches": args.purkinje_batches},
        {"net": "DettmersNeuron Purkinje, dendrites by FFT (auto)",
         "item": "5-step input window", "conv": False, "model": purkinje_cell().train(),
         "make": neuron(100_000, 1000), "batches": args.purkinje_fft_batches},
    ]


def bench_nets(args: argparse.Namespace, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for spec in specs:
        for batch in spec["batches"]:
            x, loss, px = spec["make"](batch)
            step = fwd_bwd(spec["model"], x, loss)
            flops, conv_flops = count(step)
            t, peak = with_peak(step, repeats=args.repeats)
            rows.append({"net": spec["net"], "batch": batch, "image_px": px,
                         "item": spec["item"], "median_s": t.median_s, "iqr_s": t.iqr_s,
                         "items_per_s": batch / t.median_s, "flop_per_step": flops,
                         "conv_flop_fraction": conv_flops / flops if flops else None,
                         "gflop_per_s": flops / t.median_s / 1e9,
                         "peak_now_gflop_per_s": peak / 1e9,
                         "pct_of_peak_now": 100 * flops / t.median_s / peak, "load": load()})
            print(f"{spec['net']:48s} b={batch:<4d} {rows[-1]['items_per_s']:10.1f} items/s "
                  f"{rows[-1]['gflop_per_s']:7.1f} GFLOP/s ({rows[-1]['pct_of_peak_now']:.0f}% "
                  f"of {peak / 1e9:.0f}) load {load()[0]}", flush=True)
    return rows


# -- convolution layers alone at batch 128 ----------------------------------------------------

def conv_layers(model: nn.Module, x1: torch.Tensor) -> list[tuple[nn.Conv2d, tuple[int, ...]]]:
    """Each Conv2d with the input shape it sees (from a batch-1 forward)."""
    seen: list[tuple[nn.Conv2d, tuple[int, ...]]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, tuple(i[0].shape))))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(x1)
    for h in hooks:
        h.remove()
    return seen


def im2col_gemms(conv: nn.Conv2d, batch: int, out_hw: tuple[int, int], *, first: bool,
                 repeats: int) -> tuple[int, Timing, float]:
    """The matrix products a convolution lowers to (im2col), timed alone: the GEMM bound.

    Forward ``(M,K)@(K,N)``, input gradient ``(M,N)@(N,K)`` (not for the first layer, whose
    input needs none) and weight gradient ``(K,M)@(M,N)`` per group, with M = batch·H·W,
    K = C_in/g·kh·kw, N = C_out/g. Returns their FLOPs, timing and the paired matmul peak.
    """
    g = conv.groups
    m, n = batch * out_hw[0] * out_hw[1], conv.out_channels // g
    k = conv.in_channels // g * conv.kernel_size[0] * conv.kernel_size[1]
    cols, w, dy = randn(g, m, k), randn(g, k, n), randn(g, m, n)

    def gemms() -> None:
        torch.bmm(cols, w)
        if not first:
            torch.bmm(dy, w.transpose(1, 2))
        torch.bmm(cols.transpose(1, 2), dy)

    t, peak = with_peak(gemms, repeats=repeats)
    return 2 * g * m * k * n * (2 if first else 3), t, peak


def bench_conv_share(args: argparse.Namespace, specs: list[dict[str, Any]]
                     ) -> dict[str, Any]:
    batch, out = args.conv_batch, {}
    fmt = torch.channels_last if args.memory_format == "channels_last" else torch.contiguous_format
    for spec in (s for s in specs if s["conv"]):
        x128, _, px = spec["make"](128)
        layers: dict[tuple, dict[str, Any]] = {}
        for i, (conv, shape) in enumerate(conv_layers(spec["model"], x128[:1])):
            key = (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                   conv.padding, conv.groups, shape[1:], i == 0)
            if key in layers:
                layers[key]["count"] += 1
                continue
            layer = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                              stride=conv.stride, padding=conv.padding, groups=conv.groups,
                              bias=conv.bias is not None).to(memory_format=fmt)
            x = randn(batch, *shape[1:]).contiguous(memory_format=fmt).requires_grad_(i != 0)
            y0 = layer(x)
            grad = torch.ones_like(y0)
            del y0

            def step(layer=layer, x=x, grad=grad) -> None:
                layer.zero_grad(set_to_none=True)
                if x.grad is not None:
                    x.grad = None
                layer(x).backward(grad)

            flops, _ = count(step)
            t, peak = with_peak(step, repeats=args.repeats)
            gemm_flops, tg, gemm_peak = im2col_gemms(conv, batch, tuple(grad.shape[2:]),
                                                     first=i == 0, repeats=args.repeats)
            layers[key] = {"layer": f"{conv.in_channels}->{conv.out_channels} "
                                    f"{conv.kernel_size[0]}x{conv.kernel_size[1]} "
                                    f"s{conv.stride[0]} g{conv.groups}",
                           "input": [batch, *shape[1:]], "count": 1, "flop_per_step": flops,
                           "median_s": t.median_s, "gflop_per_s": flops / t.median_s / 1e9,
                           "peak_now_gflop_per_s": peak / 1e9,
                           "pct_of_peak_now": 100 * flops / t.median_s / peak,
                           "im2col_gemm_flop": gemm_flops,
                           "im2col_gemm_gflop_per_s": gemm_flops / tg.median_s / 1e9,
                           "im2col_gemm_pct_of_peak_now": 100 * gemm_flops / tg.median_s
                           / gemm_peak}
            del x, grad, layer
        rows = list(layers.values())
        peak = statistics.median(r["peak_now_gflop_per_s"] for r in rows) * 1e9
        flops = sum(r["flop_per_step"] * r["count"] for r in rows)
        secs = sum(r["median_s"] * r["count"] for r in rows)
        out[spec["net"]] = {"batch": batch, "image_px": px, "conv_gflop_per_s": flops / secs / 1e9,
                            "peak_now_gflop_per_s": peak / 1e9,
                            "pct_of_peak_now": 100 * flops / secs / peak, "target_pct": 50.0,
                            "layers": rows, "load": load()}
        print(f"conv layers of {spec['net']:34s} {flops / secs / 1e9:6.1f} GFLOP/s = "
              f"{out[spec['net']]['pct_of_peak_now']:.0f}% of {peak / 1e9:.0f} load "
              f"{load()[0]}", flush=True)
    return out


# -- custom layers against stock PyTorch ------------------------------------------------------

def round_robin(steps: dict[str, Callable[[], None]], *, repeats: int) -> dict[str, Timing]:
    """Time several functions in turn (a, b, c, a, b, c, ...) after one warm-up each, so that
    a change of load on the shared machine hits all of them alike."""
    for fn in steps.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(repeats):
        for label, fn in steps.items():
            t0 = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
    return {k: Timing(times_s=tuple(v)) for k, v in times.items()}


def bench_custom(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for case in stock_cases():
        grad = torch.ones_like(case.custom(*case.inputs))
        steps = {}
        for label, fn in (("custom", case.custom), *case.stock.items()):
            def step(fn=fn, inputs=case.inputs, grad=grad) -> None:
                for v in inputs:
                    v.grad = None
                fn(*inputs).backward(grad)
            steps[label] = step
        res = round_robin(steps, repeats=args.repeats)
        stock_ms = {k: 1e3 * t.median_s for k, t in res.items() if k != "custom"}
        best = min(stock_ms, key=stock_ms.__getitem__)
        ratio = res["custom"].median_s * 1e3 / stock_ms[best]
        rows.append({"layer": case.layer, "shape": case.shape,
                     "custom_median_ms": 1e3 * res["custom"].median_s,
                     "stock_median_ms": stock_ms, "best_stock": best,
                     "custom_over_best_stock": ratio, "target_max_ratio": 2.0,
                     "target_met": ratio <= 2.0, "load": load()})
        print(f"{case.layer:58s} custom {rows[-1]['custom_median_ms']:9.2f} ms  best stock "
              f"({best}) {stock_ms[best]:9.2f} ms  ratio {ratio:5.2f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 128])
    parser.add_argument("--purkinje-batches", type=int, nargs="+", default=[1],
                        help="batches of the Purkinje neuron with direct-sum dendrites")
    parser.add_argument("--purkinje-fft-batches", type=int, nargs="+", default=[1, 8],
                        help="batches of the Purkinje neuron with FFT dendrites")
    parser.add_argument("--conv-batch", type=int, default=128,
                        help="batch size of the per-layer convolution timing")
    parser.add_argument("--alexnet-px-128", type=int, default=227)
    parser.add_argument("--resnet-px-128", type=int, default=224)
    parser.add_argument("--memory-format", choices=["channels_last", "contiguous"],
                        default="channels_last")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (>= 5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's choice, one per core)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["nets", "conv", "custom"])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "layers_throughput.json")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error(f"--repeats must be at least 5; got {args.repeats}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    start, load_start = time.time(), load()
    peak_start = matmul_peak(args.repeats, n=4096)
    specs = net_specs(args)
    nets = [] if "nets" in args.skip else bench_nets(args, specs)
    conv = {} if "conv" in args.skip else bench_conv_share(args, specs)
    custom = [] if "custom" in args.skip else bench_custom(args)
    peak_end = matmul_peak(args.repeats, n=4096)
    best = best_peak()
    for row in nets:
        row["pct_of_best_peak"] = 100 * row["gflop_per_s"] * 1e9 / best
    for entry in conv.values():
        entry["pct_of_best_peak"] = 100 * entry["conv_gflop_per_s"] * 1e9 / best
        entry["target_met_vs_best_peak"] = entry["pct_of_best_peak"] >= entry["target_pct"]
        entry["target_met_vs_peak_now"] = entry["pct_of_peak_now"] >= entry["target_pct"]
        for r in entry["layers"]:
            r["pct_of_best_peak"] = 100 * r["gflop_per_s"] * 1e9 / best
            r["im2col_gemm_pct_of_best_peak"] = 100 * r["im2col_gemm_gflop_per_s"] * 1e9 / best
    command = ("python benchmarks/layers_throughput.py " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in vars(args).items() if k not in ("out",) and v not in ([], None)))
    report = {
        "benchmark": "layers_throughput",
        "command": command,
        "flop_convention": FLOP_CONVENTION + "; FlopCounterMode counts matmuls and "
                           "convolutions only (not pooling, normalisation, element-wise ops)",
        "statistic": f"median of {args.repeats} timed forward+backward steps after 1 warm-up "
                     "(no optimiser step); each timed step follows one float32 2048x2048 "
                     "matmul, whose median rate is peak_now; custom and stock layers are "
                     "timed alternately",
        "notes": notes(args),
        "matmul_peak_gflop_per_s": {
            "best_of_run": best / 1e9, "start_4096": peak_start / 1e9,
            "end_4096": peak_end / 1e9, "all": PEAKS,
            "note": "pct_of_best_peak divides by the best matmul rate seen in the run (the "
                    "machine's capability); pct_of_peak_now by the one measured just before "
                    "the entry (the capability under the load of that moment)"},
        "nets": nets, "conv_layers_at_batch_128": conv, "custom_vs_stock": custom,
        "torch_threads": torch.get_num_threads(),
        "load_average_1_5_15min": {"start": load_start, "end": load()},
        "machine": {**environment_info(), "node": platform.node()},
        "versions": package_versions(), "git": git_info(),
        "wall_time_s": time.time() - start,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written: {args.out} ({report['wall_time_s']:.0f} s)")


def notes(args: argparse.Namespace) -> list[str]:
    return [
        f"Convnets run in {args.memory_format} memory format.",
        f"AlexNet at batch 128 runs at {args.alexnet_px_128} px and ResNet-18 at "
        f"{args.resnet_px_128} px (227 and 224 px at the other batch sizes); AlexNet uses "
        "its adaptive pool, the identity at 227 px.",
        f"The Purkinje DettmersNeuron with direct-sum (Toeplitz GEMM) dendrites runs at batch "
        f"{args.purkinje_batches} only: one forward+backward is ~1.5e11 FLOPs per input "
        "window (the 10x1000x5 filter over 100x1000x5 slots, the post's count), seconds per "
        "window on this CPU; with FFT dendrites (the default, 'auto') at batch "
        f"{args.purkinje_fft_batches}. FlopCounterMode does not count FFTs, so the FFT "
        "entry's GFLOP/s covers only its dense layers.",
        "The granule neuron's GFLOP/s is near zero by construction: its convolution has 60 "
        "taps on a 4x4x5 grid; its step time is framework overhead.",
        "Custom-vs-stock cases: DendriticNonlinearity/Poisson/Somatic use the Purkinje-sized "
        "stage (1000 dendrites or neurons x 5 steps) at batch 128; the Toeplitz Purkinje "
        "convolution is compared with stock conv3d on 4 of its 100 branch slots because "
        "stock conv3d needs tens of seconds at full size; the best stock expression is the "
        "fastest of those listed per case.",
        "The machine is shared with other jobs; load averages are recorded per entry.",
    ] + ([f"Run with --threads {args.threads} (of {os.cpu_count()} cores): with one thread "
          "per core, OpenMP barriers stall whenever another job holds a core, so timings and "
          "the matmul peak swing with the load; the peak here is that of the same thread "
          "count, so the percentages compare like with like."] if args.threads else [])


if __name__ == "__main__":
    main()
