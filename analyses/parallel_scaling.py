"""parallel-scaling: step time, speedup and efficiency against device count, per interconnect.

The reference convnets (AlexNet 2012, the cuda-convnet CIFAR-10 net, ResNet-18) and a TCN
(Beniaguev et al. 2021, 3×64×100) are cut into layers by the FLOP counter
(``neurocomp.accounting.count`` on one sample, forward and backward: FLOPs, parameters and
activation sizes per layer, nothing written by hand) and trained, in the step-time model
(``neurocomp.accounting.parallel.steps``), on 1 to 64 GPUs joined by one kind of link — PCIe 3 and
4, NVLink 2–4, InfiniBand EDR/HDR/NDR, 10 and 100 Gb Ethernet from ``neurocomp_models.hardware``,
each as a flat network at 82 % of its nominal bandwidth (ASTRA-sim's NVLink measurement) — with
every layer data-parallel (ring/tree all-reduce of the gradients, DDP's buckets overlapped
with the backward pass), every layer model-parallel (weights split over all GPUs,
activations exchanged), and the hybrid that the model itself recommends layer by layer
(``recommend_parallelism``; Krizhevsky 2014's "one weird trick"). Weak scaling: each GPU
keeps the batch each net was trained with.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from neurocomp_models.convnets import (
    BENIAGUEV_2021_TCN_3x64x100,
    alexnet_2012,
    beniaguev_tcn,
    cifar_net,
)
from neurocomp_models.convnets import resnet18 as resnet18_net
from neurocomp_models.hardware import (
    DEVICE_EFFICIENCY_MEGATRON_2021,
    LINK_EFFICIENCY_HGX_H100_ASTRA_SIM,
    gpu,
    interconnect,
)

from neurocomp.accounting import LayerCost, count, step_time
from neurocomp.accounting.network import derate
from neurocomp.accounting.parallel import DoesNotFitError, ParallelOptions, recommend_parallelism
from neurocomp.analysis import Analysis
from neurocomp.plotting import PALETTE
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "parallel-scaling"
CLAIM = ("Speedup of the reference convnets and a TCN against GPU count over each interconnect, "
         "with data, model and hybrid parallelism chosen by the step-time model.")
#: Smallest efficiency (speedup / GPUs) the claim calls near-linear (the test's bound).
NEAR_LINEAR = 0.9
#: Smallest efficiency the claim calls scaling well, for ResNet-18 and the CIFAR-10 net.
SCALES_WELL = 0.4

#: Achieved fraction of a link's nominal bandwidth: 741.34 of 900 GB/s on an HGX-H100
#: (ASTRA-sim validation, ``docs/references.md#anchors-accounting-2-5`` [S]).
LINK_EFFICIENCY = LINK_EFFICIENCY_HGX_H100_ASTRA_SIM.value
#: The GPU and number format every step runs on, at Megatron's whole-run efficiency (cited).
GPU_NAME, DTYPE = "V100", "fp16_tensor"
#: Interconnects compared (catalogue names), in the order of the legend.
LINKS = ("PCIe 3.0 x16", "PCIe 4.0 x16", "NVLink 2 (V100)", "NVLink 3 (A100)",
         "NVLink 4 (H100)", "InfiniBand EDR", "InfiniBand HDR", "InfiniBand NDR",
         "Ethernet 10G", "Ethernet 100G")
SHORT_LINK = {"PCIe 3.0 x16": "PCIe3", "PCIe 4.0 x16": "PCIe4", "NVLink 2 (V100)": "NVLink2",
              "NVLink 3 (A100)": "NVLink3", "NVLink 4 (H100)": "NVLink4",
              "InfiniBand EDR": "IB EDR", "InfiniBand HDR": "IB HDR",
              "InfiniBand NDR": "IB NDR", "Ethernet 10G": "10GbE", "Ethernet 100G": "100GbE"}
LINK_STYLE = {"PCIe 3.0 x16": (PALETTE[1], "-"), "PCIe 4.0 x16": (PALETTE[1], "--"),
              "NVLink 2 (V100)": (PALETTE[2], ":"), "NVLink 3 (A100)": (PALETTE[2], "--"),
              "NVLink 4 (H100)": (PALETTE[2], "-"), "InfiniBand EDR": (PALETTE[0], ":"),
              "InfiniBand HDR": (PALETTE[0], "--"), "InfiniBand NDR": (PALETTE[0], "-"),
              "Ethernet 10G": (PALETTE[7], ":"), "Ethernet 100G": (PALETTE[7], "-")}
PLANS = ("data", "model", "hybrid")
NET_LABELS = {"alexnet": "AlexNet", "cifar_net": "CIFAR-10 net", "resnet18": "ResNet-18",
              "tcn_3x64x100": "TCN 3×64×100"}


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run` (speedups at the largest device count per net, link
        and plan; model-parallel layer counts).

    Returns
    -------
    str
        One sentence; which links scale AlexNet near-linearly, where the hybrid plan helps
        and where ResNet-18 and the CIFAR-10 net fall short are all read from the numbers.
    """
    n = headline["largest_device_count"]
    names = {v.replace(" ", "_").lower(): v for v in SHORT_LINK.values()}

    def speedup(net: str, link: str, plan: str) -> float:
        return headline[f"{net}_{link}_speedup_{n}_devices_{plan}"]

    def listing(links: Sequence[str]) -> str:
        words = [names[k] for k in links]
        return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"

    slow_link = "pcie3"
    data = {k: speedup("alexnet", k, "data") for k in names}
    fast = [k for k, v in data.items() if v >= NEAR_LINEAR * n]
    slower = [k for k in names if k not in fast]
    alex = (f"On {n} GPUs, data parallelism scales AlexNet near-linearly only on "
            f"{listing(fast)} ({min(data[k] for k in fast):.0f}× or more; "
            f"{data[slow_link]:.0f}× on {names[slow_link]})" if fast else
            f"On {n} GPUs, data parallelism scales AlexNet near-linearly on no link (at most "
            f"{max(data.values()):.0f}×)")
    unhelped = [k for k in slower if not speedup("alexnet", k, "best") > data[k]]
    m = headline[f"alexnet_{slow_link}_model_parallel_layers_count"]
    hybrid = (f"making {m:.0f} of its layers model-parallel raises that on every slower link "
              f"({speedup('alexnet', slow_link, 'best'):.0f}× on {names[slow_link]})"
              if not unhelped else
              f"model parallelism does not raise that on {listing(unhelped)}")
    others = ("resnet18", "cifar_net")
    worst = {k: min(speedup(net, k, "best") for net in others) for k in names}
    short = [k for k, v in worst.items() if v < SCALES_WELL * n]
    good = [v for k, v in worst.items() if k not in short]
    rest = ("while ResNet-18 and the CIFAR-10 net, with fewer weights per FLOP, "
            + (f"keep {min(good):.0f}× or more on every link" if not short else
               f"keep {min(good):.0f}× or more on every link but {listing(short)} "
               f"({min(worst[k] for k in short):.0f}×)" if good else
               f"reach at most {max(worst.values()):.0f}× on any link"))
    return f"{alex}; {hybrid}, {rest}."


@dataclass(frozen=True)
class Net:
    """A network to scale: how to build it, one sample's input, the layers to cut it into,
    and the batch per GPU it was trained with (with its source)."""

    key: str
    build: Callable[[], torch.nn.Module]
    sample: tuple[int, ...]
    modules: tuple[str, ...] | None
    batch_per_device: int
    batch_source: str


#: ResNet-18 as its stem, eight residual blocks and the classifier.
RESNET18_BLOCKS = ("stem", *(f"stages.{i}.{j}" for i in range(4) for j in range(2)), "fc")
NETS = (
    Net("alexnet", lambda: alexnet_2012(), (3, 227, 227), None, 128,
        "Krizhevsky et al. (2012) §5: batches of 128"),
    Net("cifar_net", cifar_net, (3, 32, 32), None, 128, "cuda-convnet's mini-batch of 128 [R]"),
    Net("resnet18", resnet18_net, (3, 224, 224), RESNET18_BLOCKS, 32,
        "He et al. (2016) §3.4: 256 per step over 8 GPUs [R]"),
    Net("tcn_3x64x100", lambda: beniaguev_tcn(BENIAGUEV_2021_TCN_3x64x100), (1278, 400), None,
        8, "Beniaguev et al.'s fit_CNN.py: 8 windows of 400 ms [S]"),
)


@functools.cache
def counted_layers(key: str, seed: int = 0) -> tuple[LayerCost, ...]:
    """The net's layers as counted by the FLOP counter (one sample, forward + backward)."""
    net = next(n for n in NETS if n.key == key)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = net.build()
        x = torch.randn(1, *net.sample)
    return count(model, x).layer_costs(modules=net.modules)


def _networks() -> dict[str, Any]:
    return {name: derate(interconnect(name), bandwidth_efficiency=LINK_EFFICIENCY)
            for name in LINKS}


def _step(layers: Sequence[LayerCost], *, device: Any, link: Any, n: int, batch: int,
          plan: str) -> tuple[float, dict[str, str] | None, int]:
    """Step time of one plan on ``n`` devices (``inf`` when it does not fit); for the hybrid
    also the per-layer plan and the model-parallel group size, the best over group sizes
    1, 2, 4 … n (model-parallel inside groups, data-parallel across them)."""
    try:
        if plan == "hybrid":
            best: tuple[float, dict[str, str] | None, int] = (float("inf"), None, 1)
            for m in (2**k for k in range(n.bit_length()) if n % 2**k == 0):
                rec = recommend_parallelism(layers, device=device, network=link, n_devices=n,
                                            batch_per_device=batch, model_parallel_size=m)
                if rec.step_s < best[0]:
                    best = (rec.step_s, dict(rec.plan), m)
            return best
        size = n if plan == "model" else None
        return step_time(layers, device=device, network=link, n_devices=n,
                         batch_per_device=batch, plan=plan, model_parallel_size=size
                         ).step_s, None, size or 1
    except DoesNotFitError:
        return float("inf"), None, 1


@dataclass(kw_only=True)
class ParallelScalingResult(Result):
    """Step time, speedup and efficiency per net, interconnect, plan and device count; the
    hybrid's per-layer choice at the largest count."""

    scaling: pd.DataFrame
    plans: pd.DataFrame

    layout = (("a", "b"), ("c", "d"), ("e", "e"))
    row_height_in = 1.5

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"scaling": self.scaling, "layer_plans": self.plans})

    def _draw(self, axes: Sequence[Axes]) -> None:
        legends = {"alexnet": LINKS[:5], "cifar_net": LINKS[5:]}
        for ax, key in zip(axes[:4], NET_LABELS, strict=False):
            self._draw_net(ax, key, legend=legends.get(key, ()))
        if len(axes) > 4:
            self._draw_plans(axes[4])

    def _draw_net(self, ax: Axes, key: str, *, legend: Sequence[str]) -> None:
        s = self.scaling[(self.scaling["net"] == key) & (self.scaling["plan"] == "best")]
        counts = sorted(s["n_devices"].unique())
        ax.plot(counts, counts, color="0.75", lw=0.6)
        for link in LINKS:
            g = s[s["interconnect"] == link].sort_values("n_devices")
            color, ls = LINK_STYLE[link]
            ax.plot(g["n_devices"], g["speedup"], color=color, ls=ls, lw=0.9,
                    label=SHORT_LINK[link])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xticks(counts, [str(c) for c in counts], fontsize=5.5)
        ax.set_yticks([0.25, 1, 4, 16, 64], ["¼", "1", "4", "16", "64"], fontsize=5.5)
        ax.set_ylim(0.12, 1.3 * max(counts))
        ax.set_title(NET_LABELS[key], fontsize=6.5, pad=2)
        ax.set_xlabel("GPUs", fontsize=6)
        ax.set_ylabel("speedup (best plan)", fontsize=6)
        if legend:
            handles = [h for h, label in zip(*ax.get_legend_handles_labels(), strict=True)
                       if label in {SHORT_LINK[lk] for lk in legend}]
            ax.legend(handles=handles, fontsize=4.6, loc="upper left", handlelength=1.8,
                      labelspacing=0.1, borderaxespad=0.05)

    def _draw_plans(self, ax: Axes) -> None:
        from matplotlib.colors import ListedColormap

        p = self.plans[(self.plans["net"] == "alexnet") & (self.plans["parameters"] > 0)]
        layers = list(dict.fromkeys(p["layer"]))
        labels = [f"conv{i + 1}" if lay.startswith("features") else f"fc{i + 1}"
                  for i, lay in enumerate(layers)]
        links = [lk for lk in LINKS if lk in set(p["interconnect"])]
        grid = np.zeros((len(links), len(layers)))
        for i, link in enumerate(links):
            row = p[p["interconnect"] == link].set_index("layer")["choice"]
            grid[i] = [1.0 if row.get(layer) == "model" else 0.0 for layer in layers]
            size = int(p.loc[p["interconnect"] == link, "model_parallel_size"].iloc[0])
            ax.text(len(layers) - 0.3, i, f"groups of {size}" if size > 1 else "all data",
                    va="center", ha="left", fontsize=5)
        ax.imshow(grid, aspect="auto", cmap=ListedColormap(["#cfe3f2", PALETTE[1]]),
                  vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks(range(len(layers)), labels, fontsize=5.5)
        ax.set_yticks(range(len(links)), [SHORT_LINK[lk] for lk in links], fontsize=5)
        n = int(p["n_devices"].iloc[0]) if len(p) else 0
        # starts right of the panel letter (a centred or right-aligned title ran over it)
        ax.set_title(f"AlexNet, {n} GPUs: hybrid's model-parallel layers in orange",
                     fontsize=6, pad=2, loc="left")
        ax.set_xlabel("layer with weights", fontsize=6)
        ax.set_ylabel("interconnect", fontsize=6)
        ax.tick_params(length=0)


def run(*, quick: bool = True, seed: int = 0) -> ParallelScalingResult:
    """Scale every net of :data:`NETS` over :data:`LINKS` and :data:`PLANS`.

    Parameters
    ----------
    quick : bool
        Device counts 1, 4, 16, 64 (full: every power of two to 64).
    seed : int
        Seed of the weights used while counting (the counts do not depend on it).
    """
    counts = (1, 4, 16, 64) if quick else (1, 2, 4, 8, 16, 32, 64)
    device = gpu(GPU_NAME).device(dtype=DTYPE, efficiency=DEVICE_EFFICIENCY_MEGATRON_2021.value)
    links = _networks()
    rows, plan_rows = [], []
    for net in NETS:
        layers = counted_layers(net.key, seed)
        b = net.batch_per_device
        base = step_time(layers, device=device, network=links[LINKS[0]], n_devices=1,
                         batch_per_device=b, options=ParallelOptions(check_memory=False)).step_s
        for name, link in links.items():
            for n in counts:
                times, groups = {}, {}
                for plan in PLANS:
                    t, chosen, m = _step(layers, device=device, link=link, n=n, batch=b,
                                         plan=plan)
                    times[plan], groups[plan] = t, m
                    if plan == "hybrid" and n == counts[-1] and chosen is not None:
                        params = {lay.name: lay.parameter_count for lay in layers}
                        plan_rows += [{"net": net.key, "interconnect": name, "n_devices": n,
                                       "model_parallel_size": m, "layer": layer,
                                       "parameters": params[layer],
                                       "choice": choice if m > 1 else "data"}
                                      for layer, choice in chosen.items()]
                groups["best"] = groups[min(PLANS, key=times.__getitem__)]
                times["best"] = min(times.values())
                for plan, t in times.items():
                    speedup = n * base / t if np.isfinite(t) else 0.0
                    rows.append({"net": net.key, "interconnect": name,
                                 "interconnect_bandwidth_bytes_per_s":
                                     link.bandwidth_bytes_per_s, "plan": plan, "n_devices": n,
                                 "batch_per_device": b, "model_parallel_size": groups[plan],
                                 "step_s": t, "speedup": speedup, "efficiency": speedup / n})
    scaling = pd.DataFrame(rows)
    plans = pd.DataFrame(plan_rows)
    top = scaling[scaling["n_devices"] == counts[-1]]
    headline: dict[str, Any] = {"device_peak_flop_per_s": device.peak_flop_per_s,
                                "device_efficiency": device.efficiency,
                                "link_bandwidth_efficiency": LINK_EFFICIENCY,
                                "largest_device_count": counts[-1]}
    for _, r in top[top["plan"].isin(["best", "data"])].iterrows():
        key = f"{r['net']}_{SHORT_LINK[r['interconnect']].replace(' ', '_').lower()}"
        headline[f"{key}_speedup_{counts[-1]}_devices_{r['plan']}"] = r["speedup"]
    for net in NETS:
        p = plans[(plans["net"] == net.key)] if len(plans) else plans
        for link in ("PCIe 3.0 x16", "NVLink 3 (A100)"):
            q = p[p["interconnect"] == link] if len(p) else p
            headline[f"{net.key}_{SHORT_LINK[link].lower()}_model_parallel_layers_count"] = int(
                (q["choice"] == "model").sum()) if len(q) else 0
    notes = [
        f"Device: {gpu(GPU_NAME).name} at {DTYPE} peak × {device.efficiency} (Megatron's "
        "whole-run efficiency, models.hardware); memory checked (16 B per parameter: weight, "
        "gradient, two Adam moments).",
        "Links: models.hardware catalogue, nominal bandwidth per direction × 741.34/900 "
        "(ASTRA-sim on HGX-H100) and their catalogue latency; every GPU on one flat network "
        "of that link (a simplification for PCIe and NVLink, whose domains hold 8–16 GPUs; "
        "see the multi-gpu-systems analysis for real node and cluster topologies).",
        "Layers: counted by neurocomp.accounting.count on one sample (AlexNet 227 px, "
        "CIFAR-10 net 32 px, ResNet-18 224 px per residual block, TCN on 400 ms of 1278 "
        "inputs), forward and backward FLOPs as counted (the first layer has no input "
        "gradient).",
        "Weak scaling, batch per GPU: " + "; ".join(f"{n.key} {n.batch_per_device} "
                                                    f"({n.batch_source})" for n in NETS) + ".",
        "Plans: data (all layers data-parallel, DDP buckets overlapped with the backward "
        "pass), model (all layers split over all GPUs by columns), hybrid (per layer, chosen "
        "by recommend_parallelism on the step time, in model-parallel groups of 1, 2, 4 … n "
        "GPUs, the best group size kept); 'best' is the fastest of the three. "
        "Speedup = n × one GPU's step / step on n GPUs; inf step = does not fit.",
    ]
    return ParallelScalingResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"quick": quick, "device_counts": list(counts), "gpu": GPU_NAME,
                "dtype": DTYPE, "links": list(LINKS), "plans": list(PLANS)},
        scaling=scaling, plans=plans)


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=84)
