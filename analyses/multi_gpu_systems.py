"""multi-gpu-systems: data-parallel speedup on six multi-GPU systems, with and without RDMA.

Dettmers (2014) argued that the network is the bottleneck of a GPU cluster — affordable
NICs of ≈ 4 GB/s against 15.75 GB/s of PCIe 3.0 x16 — and that without GPUDirect RDMA a
transfer between nodes is staged GPU → CPU → NIC → NIC → CPU → GPU. This analysis puts the
reference convnets and a TCN (``neurocomp_models.workloads``: AlexNet's hand-written layer costs,
the others counted by ``neurocomp.accounting.counting.counter``) on the named systems of
``neurocomp_models.systems`` — the post's 2014 cluster, a 2016 8-GPU PCIe box, a DGX-1 (V100), a DGX
A100, an HGX H100 node and a 1024-GPU H100 cluster on NDR InfiniBand — and computes the
data-parallel (weak-scaling) speedup against GPU count with the step-time model
(``neurocomp.accounting.parallel.steps``: DDP buckets overlapped with the backward pass), each
system's collectives running over the data paths of ``neurocomp.accounting.systems.paths``. Every
multi-node system is computed with GPUDirect RDMA on and off (its staged variant pipelines
256 KiB chunks, as CUDA-aware MPI does); for the 2014 cluster also with store-and-forward
staging (whole-buffer copies, as hand-written ``cudaMemcpy`` + ``MPI_Send``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from neurocomp_models.systems import SYSTEMS
from neurocomp_models.workloads import WORKLOADS

from neurocomp.accounting.parallel import ParallelOptions, scaling_curve
from neurocomp.accounting.systems import Path, System
from neurocomp.analysis import Analysis
from neurocomp.plotting import PALETTE, log_ticks
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "multi-gpu-systems"
CLAIM = ("Data-parallel speedup of the reference convnets and a TCN on multi-GPU systems, from "
         "the post's cluster to an H100 cluster on NDR InfiniBand, with and without GPUDirect "
         "RDMA.")
#: Largest RDMA gain on the post's cluster the claim calls "either way" (1 %).
RDMA_NEGLIGIBLE_REL = 0.01

QUICK_WORKLOADS = ("alexnet", "cifar-net", "tcn-3x64x100")
FULL_WORKLOADS = (*QUICK_WORKLOADS, "resnet18", "tcn-7x256x120")
HEADLINE_WORKLOAD = "alexnet"
POST_CLUSTER = "Dettmers 2014 cluster"
#: Short labels and colours per system (catalogue order).
SHORT = {"Dettmers 2014 cluster": "2014 cluster", "8-GPU PCIe box (2016)": "PCIe box 2016",
         "DGX-1 (V100)": "DGX-1 (V100)", "DGX A100": "DGX A100", "HGX H100": "HGX H100",
         "H100 NDR cluster": "H100 NDR cluster"}
PATH_CLASSES = ("NVLink/NVSwitch", "PCIe, one switch", "PCIe, via CPU", "sockets, staged",
                "network, RDMA", "network, staged")
PATH_MARKERS = dict(zip(PATH_CLASSES, ("D", "o", "s", "v", "^", "x"), strict=True))
SYSTEM_MARKERS = ("o", "s", "D", "^", "v", "P")
WORKLOAD_MARKERS = {"alexnet": "o", "cifar-net": "s", "tcn-3x64x100": "^", "resnet18": "D",
                    "tcn-7x256x120": "v"}


def key(system: System) -> str:
    """Headline key of a system: its first alias in snake case."""
    return re.sub(r"[^a-z0-9]+", "_", (system.aliases or (system.name,))[0].lower()).strip("_")


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`.

    Returns
    -------
    str
        One sentence; where RDMA changes the post's cluster's network path or speedup, or
        staging does not slow the H100 cluster, it says so.
    """
    post, h100 = "dettmers_2014", "h100_ndr_cluster"
    n, n_h100 = headline[f"{post}_gpus_count"], headline[f"{h100}_gpus_count"]
    per_nic = headline[f"{post}_gpus_per_nic"]
    path = {k: headline[f"{post}_network_path_{k}_bytes_per_s"] / 1e9 for k in ("rdma", "staged")}
    per_gpu = headline[f"{post}_allreduce_inter_node_bytes_per_s_per_gpu"] / 1e9
    share = (f"{per_nic:.0f} GPUs share each NIC's {path['rdma']:.3g} GB/s, the bottleneck "
             f"with or without RDMA ({per_gpu:.3g} GB/s per GPU across nodes)"
             if path["rdma"] == path["staged"] else
             f"{per_nic:.0f} GPUs share each NIC, whose path RDMA raises from "
             f"{path['staged']:.3g} to {path['rdma']:.3g} GB/s")
    staged = headline[f"alexnet_speedup_{post}_{n:.0f}gpus"]
    rdma = headline[f"alexnet_speedup_{post}_{n:.0f}gpus_rdma"]
    gain = headline[f"alexnet_rdma_gain_{post}_{n:.0f}gpus_rel"]
    alex = (f"so data-parallel AlexNet reaches {staged:.0f}× either way (RDMA gains "
            f"{100 * gain:.1f} %)" if abs(gain) < RDMA_NEGLIGIBLE_REL else
            f"and data-parallel AlexNet reaches {staged:.0f}× staged, {rdma:.0f}× with RDMA")
    fast = headline[f"alexnet_speedup_{h100}_{n_h100:.0f}gpus"]
    slow = headline[f"alexnet_speedup_{h100}_{n_h100:.0f}gpus_staged"]
    big = (f"on {n_h100:.0f} H100s staging through host memory would cut its speedup from "
           f"{fast:.0f}× to {slow:.0f}×" if slow < fast else
           f"on {n_h100:.0f} H100s staging through host memory would not slow it ({fast:.0f}× "
           f"with RDMA, {slow:.0f}× staged)")
    return f"On the post's {n:.0f}-GPU cluster {share}, {alex}; {big}."


def device_counts(n_max: int) -> list[int]:
    """1, 2, 4, … up to ``n_max`` (and ``n_max`` itself)."""
    counts = [2**k for k in range(int(np.log2(n_max)) + 1)]
    return counts if counts[-1] == n_max else [*counts, n_max]


def variants(system: System) -> list[tuple[str, System]]:
    """The system as built, and with RDMA flipped (multi-node systems only)."""
    built = "RDMA" if system.node.rdma else "staged"
    out = [(f"{built} (as built)", system)]
    if system.nodes > 1:
        flip = system.with_rdma(not system.node.rdma)
        out.append(("staged" if system.node.rdma else "RDMA", flip))
    if system.name == POST_CLUSTER:
        st = system.node.staging
        assert st is not None
        node = dataclasses.replace(system.node, rdma=False,
                                   staging=dataclasses.replace(st, pipelined=False))
        out.append(("staged, store and forward", dataclasses.replace(system, node=node)))
    return out


def path_class(path: Path) -> str:
    """Which of :data:`PATH_CLASSES` a path belongs to."""
    media = " ".join(h.medium for h in path.hops)
    if "NIC" in path.hops[0].dst or any("NIC" in h.src for h in path.hops):
        return "network, staged" if path.staged else "network, RDMA"
    if "NVLink" in media:
        return "NVLink/NVSwitch"
    if path.staged:
        return "sockets, staged"
    return "PCIe, via CPU" if any("CPU" in h.dst for h in path.hops) else "PCIe, one switch"


def path_table(system: System) -> pd.DataFrame:
    """Bandwidth and latency of each kind of path from GPU 0 (one example per bandwidth)."""
    found: dict[tuple[str, float], Path] = {}
    paths = [system.path(0, b) for b in range(1, system.node.gpus)]
    if system.nodes > 1:
        paths += [system.with_rdma(rdma).path(0, system.node.gpus) for rdma in (True, False)]
    for p in paths:  # one example of each kind and bandwidth
        found.setdefault((path_class(p), round(p.bandwidth_bytes_per_s)), p)
    return pd.DataFrame([{"system": system.name, "path": kind, "src": p.src, "dst": p.dst,
                          "hops": len(p.hops), "bandwidth_bytes_per_s": p.bandwidth_bytes_per_s,
                          "latency_s": p.latency_s, "bottleneck": p.bottleneck.medium}
                         for (kind, _), p in found.items()])


@dataclass(kw_only=True)
class MultiGpuSystemsResult(Result):
    """Speedup curves, the largest size per system and workload, and the path table."""

    curves: pd.DataFrame
    largest: pd.DataFrame
    paths: pd.DataFrame

    layout = (("speedup",),) * 4 + (("largest",),) * 3 + (("paths",),) * 3
    row_height_in = 0.6

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"speedup": self.curves, "largest": self.largest,
                             "paths": self.paths})

    def _draw(self, axes: Sequence[Axes]) -> None:
        self._draw_speedup(axes[0])
        if len(axes) > 1:
            self._draw_largest(axes[1])
        if len(axes) > 2:
            self._draw_paths(axes[2])

    def _draw_speedup(self, ax: Axes) -> None:
        c = self.curves[self.curves["workload"] == HEADLINE_WORKLOAD]
        n_max = int(c["n_gpus"].max())
        ax.plot([1, n_max], [1, n_max], color="0.6", lw=0.6, ls=":", label="ideal")
        for j, s in enumerate(SYSTEMS):
            for variant, style in (("as built", "-"), ("flipped", "--")):
                d = c[(c["system"] == s.name) & (c["as_built"] == (variant == "as built"))
                      & ~c["variant"].str.contains("store")]
                if d.empty:
                    continue
                label = SHORT[s.name] if variant == "as built" else None
                ax.plot(d["n_gpus"], d["speedup"], style, color=PALETTE[j], lw=0.9,
                        marker=SYSTEM_MARKERS[j] if variant == "as built" else None,
                        ms=2.6, mfc="none", mew=0.7, label=label)
        log_ticks(ax, [1, 4, 16, 64, 256, 1024], axis="x")
        log_ticks(ax, [1, 4, 16, 64, 256, 1024], axis="y")
        ax.set_xlabel("GPUs")
        ax.set_ylabel("AlexNet speedup\n(× one GPU)")
        ax.legend(loc="upper left", fontsize=5.6, handlelength=1.6, labelspacing=0.25)
        ax.text(0.98, 0.03, "solid: as built; dashed: RDMA flipped", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=5.4, color="0.3")

    def _draw_largest(self, ax: Axes) -> None:
        names = [s.name for s in SYSTEMS]
        wls = list(dict.fromkeys(self.largest["workload"]))
        for k, wl in enumerate(wls):
            for built in (True, False):
                d = self.largest[(self.largest["workload"] == wl)
                                 & (self.largest["as_built"] == built)
                                 & ~self.largest["variant"].str.contains("store")]
                ys = [names.index(s) + (k - (len(wls) - 1) / 2) * 0.14 for s in d["system"]]
                ax.plot(d["efficiency"], ys, WORKLOAD_MARKERS.get(wl, "o"), ms=3.0,
                        color=PALETTE[k], mfc=PALETTE[k] if built else "white", mew=0.7,
                        label=wl if built else None)
        ax.set_yticks(range(len(names)), [f"{SHORT[n]} ({s.gpus})"
                                          for n, s in zip(names, SYSTEMS, strict=True)])
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_xlim(0, 1.02)
        ax.set_xlabel("efficiency at largest size")
        ax.set_ylabel("system (GPUs)")
        ax.legend(loc="upper left", fontsize=5.4, ncols=1, handletextpad=0.2,
                  labelspacing=0.2, borderaxespad=0.2, title="open: RDMA flipped",
                  title_fontsize=5.4)

    def _draw_paths(self, ax: Axes) -> None:
        names = [s.name for s in SYSTEMS]
        for k, kind in enumerate(PATH_CLASSES):
            d = self.paths[self.paths["path"] == kind]
            ys = [names.index(s) + (k - 2.5) * 0.1 for s in d["system"]]
            ax.plot(d["bandwidth_bytes_per_s"] / 1e9, ys, PATH_MARKERS[kind], ms=3.0,
                    color=PALETTE[k], mfc="none" if kind.endswith("staged") else PALETTE[k],
                    mew=0.8, label=kind, ls="none")
        log_ticks(ax, [1, 4, 16, 64, 256], axis="x")
        ax.set_yticks(range(len(names)), [SHORT[n] for n in names])
        ax.set_ylim(len(names) + 2.4, -0.5)  # an empty band at the bottom for the legend
        ax.set_xlabel("slowest-hop bandwidth (GB/s)")
        ax.set_ylabel("system")
        ax.legend(loc="lower right", fontsize=5.2, ncols=2, handletextpad=0.1,
                  columnspacing=0.6, labelspacing=0.2, borderaxespad=0.1)


def run(*, quick: bool = True, seed: int = 0) -> MultiGpuSystemsResult:
    """Run the analysis (deterministic).

    Parameters
    ----------
    quick : bool
        Three workloads (AlexNet, the CIFAR-10 net, the small TCN) instead of five (adds
        ResNet-18 and the large TCN, whose counting takes longer).
    seed : int
        Unused (nothing is random); kept for the common interface.
    """
    names = QUICK_WORKLOADS if quick else FULL_WORKLOADS
    options = ParallelOptions()
    rows, top = [], []
    for wl_name in names:
        wl = WORKLOADS[wl_name]
        layers = wl.layers()
        for system in SYSTEMS:
            counts = device_counts(system.gpus)
            for variant, s in variants(system):
                curve = scaling_curve(layers, device=s.device, network=s, device_counts=counts,
                                      batch_per_device=wl.batch_per_device, options=options)
                frame = curve.to_frame().assign(
                    workload=wl_name, system=system.name, variant=variant,
                    rdma=s.node.rdma, as_built=variant.endswith("(as built)"))
                frame = frame.rename(columns={"n_devices": "n_gpus"})
                rows.append(frame)
                top.append(frame.iloc[[-1]])
    curves = pd.concat(rows, ignore_index=True)
    largest = pd.concat(top, ignore_index=True)[
        ["workload", "system", "variant", "rdma", "as_built", "n_gpus", "speedup",
         "efficiency", "step_s", "compute_s", "exposed_comm_s"]]
    paths = pd.concat([path_table(s) for s in SYSTEMS], ignore_index=True)

    def speedup(wl: str, system: str, variant: str) -> float:
        d = largest[(largest["workload"] == wl) & (largest["system"] == system)
                    & (largest["variant"] == variant)]
        return float(d["speedup"].iloc[0])

    headline: dict[str, float] = {}
    for s in SYSTEMS:
        built = "RDMA (as built)" if s.node.rdma else "staged (as built)"
        headline[f"alexnet_speedup_{key(s)}_{s.gpus}gpus"] = speedup("alexnet", s.name, built)
        if s.nodes > 1:
            other = "staged" if s.node.rdma else "RDMA"
            headline[f"alexnet_speedup_{key(s)}_{s.gpus}gpus_{other.lower()}"] = speedup(
                "alexnet", s.name, other)
    post = SYSTEMS[POST_CLUSTER]
    n = post.gpus
    headline[f"{key(post)}_gpus_count"] = n
    headline[f"{key(post)}_gpus_per_nic"] = post.node.gpus / post.node.nics
    h100 = SYSTEMS["H100 NDR cluster"]
    headline[f"{key(h100)}_gpus_count"] = h100.gpus
    for wl in names:
        gain = (speedup(wl, post.name, "RDMA") / speedup(wl, post.name, "staged (as built)"))
        headline[f"{wl.replace('-', '_')}_rdma_gain_{key(post)}_{n}gpus_factor"] = gain
        if wl == HEADLINE_WORKLOAD:
            headline[f"{wl}_rdma_gain_{key(post)}_{n}gpus_rel"] = gain - 1
    headline[f"alexnet_rdma_gain_vs_store_and_forward_{key(post)}_{n}gpus_factor"] = (
        speedup("alexnet", post.name, "RDMA")
        / speedup("alexnet", post.name, "staged, store and forward"))
    headline[f"alexnet_rdma_gain_{key(h100)}_{h100.gpus}gpus_factor"] = (
        speedup("alexnet", h100.name, "RDMA (as built)") / speedup("alexnet", h100.name,
                                                                   "staged"))
    for kind, p in (("rdma", post.with_rdma(True)), ("staged", post)):
        path = p.path(0, post.node.gpus)
        headline[f"{key(post)}_network_path_{kind}_bytes_per_s"] = path.bandwidth_bytes_per_s
        headline[f"{key(post)}_network_path_{kind}_latency_s"] = path.latency_s
    plan = post.collective_plan(n)
    assert plan.inter_ring is not None
    headline[f"{key(post)}_allreduce_inter_node_bytes_per_s_per_gpu"] = (
        plan.inter_ring.bandwidth_bytes_per_s)
    dgx1 = SYSTEMS["DGX-1 (V100)"].collective_plan(8)
    assert dgx1.intra is not None
    headline["dgx_1_allreduce_ring_bytes_per_s_per_gpu"] = dgx1.intra.bandwidth_bytes_per_s
    notes = [
        "Weak scaling: each GPU keeps its model's batch (AlexNet 128, CIFAR-10 net 128, "
        "ResNet-18 32, TCNs 8 windows of 400 ms); speedup = throughput on N GPUs / on one.",
        "Every layer data-parallel; gradients all-reduced in DDP buckets (25 MiB, first "
        "1 MiB) overlapped with the backward pass; fp32 gradients.",
        "GPUs at 0.52 of their dense peak in the systems' dtype (Megatron's MFU, cited in "
        "neurocomp_models.hardware) on every system, so that only the hardware differs.",
        "All-reduce: ring inside a node over the rings the topology allows, hierarchical "
        "across nodes (ring or double binary tree, whichever is faster), with the transfers "
        "of a node's GPUs sharing NICs, PCIe uplinks and host memory.",
        "Single-node systems have no RDMA variant (nothing crosses a NIC).",
        "The 2014 cluster's node layout and size are assumptions (models.systems notes); "
        "GeForce GPUs could not use GPUDirect RDMA, so its RDMA curve is a what-if.",
        "Systems: " + "; ".join(s.describe() for s in SYSTEMS) + ".",
    ]
    return MultiGpuSystemsResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"quick": quick, "workloads": list(names), "systems": list(SYSTEMS.names),
                "bucket_cap_bytes": options.bucket_cap_bytes, "overlap": options.overlap},
        curves=curves, largest=largest, paths=paths)


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=86)
