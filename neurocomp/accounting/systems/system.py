r"""A multi-GPU system — nodes joined by a network — as a step-time ``Network``.

:class:`System` answers what the step-time models ask (``collective_time_s(collective,
n_bytes, n_ranks, stride=...)``), so :func:`~neurocomp.accounting.step_time`,
:func:`~neurocomp.accounting.parallel.scaling.scaling_curve` and
:func:`~neurocomp.accounting.parallel.planning.recommend_parallelism` take one unchanged, and it
lists the path between any two GPUs (:meth:`System.path`).

Ranks are numbered node by node (rank ``r`` is GPU ``r mod g`` of node ``r // g``). A
collective over ranks ``0, s, 2s, …`` runs the way the topology favours (NCCL's choices):

* **inside one node**: a ring all-reduce over the group's GPUs at the summed rate of the
  rings :func:`~neurocomp.accounting.systems.rings.find_rings` finds — one ring at a GPU's full
  NVLink bandwidth behind NVSwitch, several over a direct NVLink mesh, one over a PCIe
  tree — with the latency of its slowest transfer. Groups that run at the same time (the
  other shards of a hybrid plan) share the node's links
  (:func:`~neurocomp.accounting.systems.rings.concurrent_ring_bandwidths`).
* **across nodes**: hierarchical — reduce-scatter inside each node, all-reduce of the
  ``1/g`` shares across nodes, all-gather inside (the three phases of
  :func:`~neurocomp.accounting.network.collectives.hierarchical_allreduce_time_s`); the GPUs of a
  node all send across at once, so their transfers share NICs, PCIe uplinks, host memory
  (without RDMA) and the fabric's leaf uplinks. Across nodes the all-reduce is a ring (its
  transfers cross a leaf's uplinks only at the ring's boundaries) or, for ``"auto"`` when
  faster, a double binary tree (whose transfers load the uplinks with every node of a
  leaf, so it runs at :math:`1/\text{oversubscription}` of the NIC rate).

Concurrency: a job is assumed to use whole nodes, so a group's sibling groups (the other
shards of a hybrid plan, or the other model-parallel groups) tile each node and run at
the same time; for a job smaller than a node this can only overstate the sharing. The
inter-node rate is that of the slowest of the concurrent transfers of a ring step,
found on three consecutive nodes of the ring (the middle one sends and receives at once,
as every node does), placed across a leaf boundary when the ring spans leaves.

Cost: a collective plan looks at node 0 and a chain of three nodes only, and counts the
ranks per node in closed form (``_rank_layout``), so planning is O(1) in ``nodes`` and
O(GPUs per node): a million GPUs plan as fast as a thousand
(``benchmarks/planner_scaling.py``). Staged paths keep their chunk in the α–β links
(:class:`~neurocomp.accounting.network.collectives.AlphaBeta` ``chunk_bytes``), so a message
shorter than a chunk pays the pipeline fill of its own size only.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from neurocomp.accounting.hardware import Device
from neurocomp.accounting.network import (
    ALGORITHMS,
    COLLECTIVES,
    AlphaBeta,
    allreduce_levels_s,
    collective_time_s,
    ring_allreduce_time_s,
    tree_allreduce_time_s,
)
from neurocomp.accounting.systems.node import Node, link_name
from neurocomp.accounting.systems.paths import Hop, Path, inter_node_path, intra_node_path
from neurocomp.accounting.systems.rings import (
    Rings,
    concurrent_ring_bandwidths,
    find_rings,
    flow_rates,
)
from neurocomp.checks import check_choice, check_int, check_real

__all__ = ["FABRICS", "MAX_NODES", "CollectivePlan", "Fabric", "System"]

#: Most nodes a :class:`System` may have (2**24, about 16.8 M: two orders of magnitude
#: above the largest machines built; a sanity bound on typos such as ``1e30``).
MAX_NODES = 2**24

#: Network topologies between nodes.
FABRICS = ("single_switch", "fat_tree")


@dataclass(frozen=True, kw_only=True)
class Fabric:
    """The network between the nodes.

    Parameters
    ----------
    kind : {"single_switch", "fat_tree"}
        One non-blocking switch, or a two-level fat tree of leaf switches under spines.
    nodes_per_leaf : int or None
        Nodes under one leaf switch (fat tree only).
    oversubscription : float
        Leaf downlink over uplink bandwidth (1 = non-blocking, 2 = half as much up), ≥ 1.
    switch_latency_s : float
        Latency of each switch beyond the first (the NIC's latency includes one), s.
    """

    kind: str = "single_switch"
    nodes_per_leaf: int | None = None
    oversubscription: float = 1.0
    switch_latency_s: float = 0.0

    def __post_init__(self) -> None:
        check_choice("fabric.kind", self.kind, FABRICS)
        if self.kind == "fat_tree":
            if self.nodes_per_leaf is None:
                raise ValueError("fabric.nodes_per_leaf is required for a fat tree "
                                 "(an integer ≥ 1)")
            check_int("fabric.nodes_per_leaf", self.nodes_per_leaf, low=1)
        elif self.nodes_per_leaf is not None:
            raise ValueError("fabric.nodes_per_leaf is only for kind='fat_tree'; got "
                             f"{self.nodes_per_leaf} with a single switch")
        check_real("fabric.oversubscription", self.oversubscription, low=1.0)
        check_real("fabric.switch_latency_s", self.switch_latency_s, low=0.0, unit="s")

    def leaf(self, node: int) -> int:
        """Leaf switch of node ``node`` (0 for a single switch)."""
        return node // self.nodes_per_leaf if self.nodes_per_leaf else 0

    def describe(self) -> str:
        """One phrase."""
        if self.kind == "single_switch":
            return "one switch"
        over = ("non-blocking" if self.oversubscription == 1
                else f"{self.oversubscription:g}:1 oversubscribed")
        return f"fat tree, {self.nodes_per_leaf} nodes per leaf, {over}"


@dataclass(frozen=True, kw_only=True)
class CollectivePlan:
    """How a collective over a group runs on a system, and at what rates.

    ``intra`` and ``inter_ring``/``inter_tree`` are the α–β links of the two levels
    (``None`` where a level is not used); the ``*_text`` fields say why in words.
    """

    n_ranks: int
    stride: int
    nodes: int
    ranks_per_node: int
    intra: AlphaBeta | None
    inter_ring: AlphaBeta | None
    inter_tree: AlphaBeta | None
    intra_text: str
    inter_text: str

    def inter_algorithm(self, n_bytes: float) -> str:
        """``"ring"`` or ``"tree"``: the faster inter-node all-reduce of ``n_bytes``/rank."""
        if self.inter_ring is None or self.inter_tree is None or self.nodes < 2:
            return "ring"
        share = n_bytes / self.ranks_per_node
        ring = ring_allreduce_time_s(share, self.nodes, self.inter_ring)
        return "tree" if tree_allreduce_time_s(share, self.nodes, self.inter_tree) < ring \
            else "ring"

    def describe(self, n_bytes: float | None = None) -> str:
        """The algorithm in words (with the inter-node choice at ``n_bytes`` if given)."""
        if self.nodes == 1:
            return f"all-reduce inside one node: {self.intra_text}"
        head = ("hierarchical all-reduce: reduce-scatter and all-gather inside each node "
                f"({self.intra_text}), all-reduce across {self.nodes} nodes"
                if self.ranks_per_node > 1 else f"all-reduce across {self.nodes} nodes")
        tail = "" if n_bytes is None else f"; {self.inter_algorithm(n_bytes)} chosen"
        return f"{head} ({self.inter_text}{tail})"


def _gbps(x: float) -> str:
    return f"{x / 1e9:.4g} GB/s"


def _staging_of(path: Path) -> dict[str, float]:
    """The chunk and fill rate of ``path`` for an :class:`AlphaBeta` whose latency is its
    latency, so that a message shorter than a chunk pays the fill of its own size only."""
    fill = path.fill_s_per_byte
    return {"chunk_bytes": path.chunk_bytes if fill else 0.0, "fill_s_per_byte": fill}


def _rank_layout(p: int, s: int, g: int) -> tuple[int, int]:
    """Nodes spanned by ranks ``0, s, …, (p − 1)·s`` on nodes of ``g`` GPUs, and the most
    ranks on one node, in O(g) work.

    Node ``n`` holds ranks ``k·s`` with ``n·g ≤ k·s < (n + 1)·g``, i.e. ``k`` in
    ``[⌈n·g/s⌉, ⌈(n + 1)·g/s⌉) ∩ [0, p)``. With ``s ≥ g`` consecutive ranks fall on
    different nodes. With ``s < g`` no node between the first and the last is skipped, and
    the count of a node that is not the last repeats with period ``s / gcd(s, g)`` in
    ``n`` (shifting ``n`` by it shifts ``n·g`` by ``lcm(s, g)``, a multiple of ``s``), so
    one period and the last node give the maximum.
    """
    if s >= g:
        return p, 1
    n_nodes = (p - 1) * s // g + 1

    def count(n: int) -> int:
        return min(p, -(-(n + 1) * g // s)) - (-(-n * g // s))

    period = s // math.gcd(s, g)
    local = max(count(n) for n in (*range(min(n_nodes, period)), n_nodes - 1))
    return n_nodes, local


@dataclass(frozen=True, kw_only=True)
class System:
    """``nodes`` identical :class:`~neurocomp.accounting.systems.node.Node` on a :class:`Fabric`.

    Parameters
    ----------
    name : str
        Display name (lookup ignores case and punctuation).
    node : Node
        Every node.
    nodes : int
        Number of nodes, 1 to :data:`MAX_NODES`.
    fabric : Fabric or None
        The network; required with more than one node.
    algorithm : {"ring", "tree", "auto"}
        Inter-node all-reduce algorithm (``"auto"``: the faster per message, as NCCL).
    aliases : tuple of str
        Other names.
    notes : tuple of str
        Sources and caveats.
    """

    name: str
    node: Node
    nodes: int = 1
    fabric: Fabric | None = None
    algorithm: str = "auto"
    aliases: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False,
                                   compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"system name must be a non-empty string; got {self.name!r}")
        if not isinstance(self.node, Node):
            raise TypeError(f"system {self.name!r}: node must be a Node; got "
                            f"{type(self.node).__name__}")
        check_int(f"system {self.name!r}: nodes", self.nodes, low=1, high=MAX_NODES)
        check_choice(f"system {self.name!r}: algorithm", self.algorithm, ALGORITHMS)
        if self.nodes > 1:
            if self.fabric is None:
                raise ValueError(f"system {self.name!r}: fabric is required with {self.nodes} "
                                 "nodes (Fabric(kind='single_switch') or a fat tree)")
            if not self.node.nics:
                raise ValueError(f"system {self.name!r}: {self.nodes} nodes need NICs; "
                                 f"node.nics must be ≥ 1, got 0")
        if self.fabric is not None and not isinstance(self.fabric, Fabric):
            raise TypeError(f"system {self.name!r}: fabric must be a Fabric; got "
                            f"{type(self.fabric).__name__}")

    # -- basic facts -----------------------------------------------------------------------
    @property
    def gpus(self) -> int:
        """GPUs in the system."""
        return self.nodes * self.node.gpus

    @property
    def device(self) -> Device:
        """Every GPU, as the step-time models see it."""
        return self.node.gpu

    def with_rdma(self, rdma: bool) -> System:
        """The same system with GPUDirect RDMA on or off."""
        return dataclasses.replace(self, node=self.node.with_rdma(rdma))

    def with_nodes(self, nodes: int) -> System:
        """The same system with ``nodes`` nodes."""
        return dataclasses.replace(self, nodes=nodes)

    def describe(self) -> str:
        """One line."""
        net = (f"; {self.nodes} nodes on {self.fabric.describe()}"
               if self.nodes > 1 and self.fabric is not None else "")
        return f"{self.name}: {self.node.describe()}{net}"

    def _locate(self, rank: int) -> tuple[int, int]:
        r = check_int("GPU index", rank, low=0, high=self.gpus - 1)
        return divmod(r, self.node.gpus)

    # -- paths ------------------------------------------------------------------------------
    def _network(self, x: int, na: int, y: int, nb: int) -> list[Hop]:
        nic, f = self.node.nic, self.fabric
        assert nic is not None and f is not None  # checked in __post_init__ for nodes > 1
        b, name = nic.bandwidth_bytes_per_s, link_name(nic, "network")
        la, lb = f.leaf(x), f.leaf(y)
        sw_a = "switch" if f.kind == "single_switch" else f"leaf switch {la}"
        sw_b = "switch" if f.kind == "single_switch" else f"leaf switch {lb}"
        hops = [Hop(src=f"node {x} NIC {na}", dst=sw_a, medium=name, bandwidth_bytes_per_s=b,
                    latency_s=nic.latency_s, resources=((f"n{x}:net:nic{na}:out", b),))]
        if la != lb:
            assert f.nodes_per_leaf is not None
            up = f.nodes_per_leaf * self.node.nics * b / f.oversubscription
            over = f" (1:{f.oversubscription:g})" if f.oversubscription != 1 else ""
            hops += [Hop(src=sw_a, dst="spine switch", medium=f"{name} uplink{over}",
                         bandwidth_bytes_per_s=b, latency_s=f.switch_latency_s,
                         resources=((f"leaf{la}:up", up),)),
                     Hop(src="spine switch", dst=sw_b, medium=f"{name} downlink{over}",
                         bandwidth_bytes_per_s=b, latency_s=f.switch_latency_s,
                         resources=((f"leaf{lb}:down", up),))]
        hops.append(Hop(src=sw_b, dst=f"node {y} NIC {nb}", medium=name,
                        bandwidth_bytes_per_s=b, resources=((f"n{y}:net:nic{nb}:in", b),)))
        return hops

    def path(self, a: int, b: int) -> Path:
        """The path from GPU ``a`` to GPU ``b`` (global indices, node by node)."""
        key = ("path", a, b)
        if key not in self._cache:
            (x, i), (y, j) = self._locate(a), self._locate(b)
            tag = x if self.nodes > 1 else None
            if x == y:
                self._cache[key] = intra_node_path(self.node, i, j, node_index=tag)
            else:
                nic = self.node.nic_of_gpu
                self._cache[key] = inter_node_path(
                    self.node, i, j, src_node=x, dst_node=y,
                    network=self._network(x, nic(i), y, nic(j)))
        return self._cache[key]

    # -- collectives ------------------------------------------------------------------------
    def _groups(self, p: int, s: int) -> tuple[list[tuple[int, ...]], int, int]:
        """Concurrent groups' GPUs on node 0, nodes spanned, ranks per node.

        Work is O(GPUs per node), independent of ``p``: only ranks on node 0 are listed,
        and the ranks per node are counted over one period of the rank pattern (see
        :func:`_rank_layout`).
        """
        g = self.node.gpus
        span = p * s
        groups = []
        for block in range(max(1, math.ceil(g / span))):
            for o in range(min(s, g)):
                base = block * span + o
                if base >= g:
                    continue
                last = min(p, -(-(g - base) // s))  # ranks base + k·s < g: k < (g − base)/s
                groups.append(tuple(base + k * s for k in range(last)))
        nodes, local = _rank_layout(p, s, g)
        return groups, nodes, local

    def _rings(self, gpus: tuple[int, ...]) -> Rings:
        key = ("rings", gpus)
        if key not in self._cache:
            nv = self.node.nvlink
            mesh = nv is not None and not nv.switched
            g = self.node.gpus
            self._cache[key] = find_rings(
                gpus, self.path, exhaustive=mesh,
                edge=(lambda i, j: nv.links_between(i % g, j % g) > 0) if mesh else None)
        return self._cache[key]

    def _intra(self, groups: list[tuple[int, ...]]) -> tuple[AlphaBeta, str]:
        mine = next(gr for gr in groups if 0 in gr)
        active = [gr for gr in groups if len(gr) > 1]
        rings = [self._rings(gr) for gr in active]
        bw = min(concurrent_ring_bandwidths(rings))
        ring = self._rings(mine)
        slowest = max((f for r in rings for flows in r.paths for f in flows),
                      key=lambda f: f.latency_s)
        lat = slowest.latency_s
        if self.node.nvlink is not None and self.node.nvlink.switched:
            kind = f"ring over NVSwitch, {_gbps(bw)} per GPU"
        else:
            n = len(ring.orders)
            kind = (f"{n} ring{'s' if n > 1 else ''} at {_gbps(bw)} per GPU in all "
                    f"(slowest hop of the first: {ring.bottleneck})")
        shared = f"; {len(active)} groups at once" if len(active) > 1 else ""
        return AlphaBeta(bandwidth_bytes_per_s=bw, latency_s=lat, name="intra-node",
                         **_staging_of(slowest)), kind + shared

    def _inter(self, groups: list[tuple[int, ...]], nodes: int
               ) -> tuple[AlphaBeta, AlphaBeta, str]:
        f, nic, g = self.fabric, self.node.nic, self.node.gpus
        assert f is not None and nic is not None  # checked in __post_init__ for nodes > 1
        gpus = sorted({i for gr in groups for i in gr})  # every GPU of a node sends at once
        leaf = f.nodes_per_leaf or self.nodes
        k = max(leaf - 1, 1) if nodes > leaf else 1  # the middle node at a leaf boundary
        chain = [k - 1, k, k + 1] if nodes > 2 else [0, 1, 0]
        flows = [self.path(chain[m] * g + i, chain[m + 1] * g + i)
                 for m in range(2) for i in gpus]
        rates = flow_rates(flows)
        bw = min(rates)
        late = max(flows, key=lambda p: p.latency_s)
        lat = late.latency_s
        slow = flows[rates.index(bw)]
        tree_bw = bw
        if f.kind == "fat_tree" and nodes > leaf:  # every node of a leaf crosses its uplinks
            tree_bw = min(bw, self.node.nics * nic.bandwidth_bytes_per_s
                          / (f.oversubscription * len(gpus)))
        hop = slow.bottleneck
        text = (f"{len(gpus)} concurrent transfer{'s' if len(gpus) > 1 else ''} per node at "
                f"{_gbps(bw)} each, slowest hop {hop.src} → {hop.dst} ({hop.medium})"
                + (", staged in host memory" if slow.staged else ""))
        return (AlphaBeta(bandwidth_bytes_per_s=bw, latency_s=lat, name="inter-node ring",
                          **_staging_of(late)),
                AlphaBeta(bandwidth_bytes_per_s=tree_bw, latency_s=lat,
                          name="inter-node tree", **_staging_of(late)), text)

    def collective_plan(self, n_ranks: int, *, stride: int = 1) -> CollectivePlan:
        """How a collective over ranks ``0, stride, …`` runs, and the links of its levels."""
        p = check_int("n_ranks", n_ranks, low=1)
        s = check_int("stride", stride, low=1)
        if (p - 1) * s >= self.gpus:
            raise ValueError(f"n_ranks × stride ({p} × {s}) spans more than the {self.gpus} "
                             f"GPUs of system {self.name!r}; allowed: (n_ranks − 1) × stride "
                             f"< {self.gpus}, i.e. n_ranks ≤ {(self.gpus - 1) // s + 1} at "
                             f"stride {s}")
        key = ("plan", p, s)
        if key in self._cache:
            return self._cache[key]
        groups, nodes, local = self._groups(p, s)
        intra = ring = tree = None
        intra_text = inter_text = ""
        if local > 1:
            intra, intra_text = self._intra(groups)
        if nodes > 1:
            ring, tree, inter_text = self._inter(groups, nodes)
        plan = CollectivePlan(n_ranks=p, stride=s, nodes=nodes, ranks_per_node=local,
                              intra=intra, inter_ring=ring, inter_tree=tree,
                              intra_text=intra_text, inter_text=inter_text)
        self._cache[key] = plan
        return plan

    def collective_levels_s(self, collective: str, n_bytes: float, n_ranks: int, *,
                            stride: int = 1) -> tuple[float, float]:
        """Time of one collective split into (inside nodes, across nodes), s."""
        check_choice("collective", collective, COLLECTIVES)
        n = check_real("n_bytes", n_bytes, low=0.0, unit="B")
        plan = self.collective_plan(n_ranks, stride=stride)
        if plan.n_ranks == 1:
            return 0.0, 0.0
        g, intra_link = plan.ranks_per_node, plan.intra
        intra = 0.0
        if plan.nodes == 1:
            assert intra_link is not None
            return collective_time_s(collective, n, g, intra_link, algorithm="ring"), 0.0
        assert plan.inter_ring is not None
        if collective == "allreduce":
            assert plan.inter_tree is not None
            return allreduce_levels_s(n, n_nodes=plan.nodes, ranks_per_node=g, intra=intra_link,
                                      inter=plan.inter_ring, inter_tree=plan.inter_tree,
                                      algorithm=self.algorithm)
        if intra_link is not None:
            intra = collective_time_s(collective, n, g, intra_link)
        return intra, collective_time_s(collective, n, plan.nodes, plan.inter_ring)

    def collective_time_s(self, collective: str, n_bytes: float, n_ranks: int, *,
                          stride: int = 1) -> float:
        """Time of one collective among ranks ``0, stride, 2·stride, …``, s (the Network API)."""
        intra, inter = self.collective_levels_s(collective, n_bytes, n_ranks, stride=stride)
        return intra + inter

    def level(self, level: int) -> _Level:
        """This system seen through one level of its collectives (0: inside nodes, 1: across
        them), as a Network whose collectives take that level's part of the time only."""
        check_choice("level", level, (0, 1))
        return _Level(self, level)


class _Level:
    """One level of a :class:`System`'s collectives, as a Network (see :meth:`System.level`)."""

    def __init__(self, system: System, level: int) -> None:
        self.system, self.level = system, level

    def collective_time_s(self, collective: str, n_bytes: float, n_ranks: int, *,
                          stride: int = 1) -> float:
        return self.system.collective_levels_s(collective, n_bytes, n_ranks,
                                               stride=stride)[self.level]
