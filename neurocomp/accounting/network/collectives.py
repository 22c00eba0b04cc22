r"""Collective communication in the α–β (Hockney) model.

A message of :math:`n` bytes over one link takes :math:`\alpha + n\beta`, with latency
:math:`\alpha` (``latency_s``) and :math:`\beta = 1/B` (``1 / bandwidth_bytes_per_s``, per
direction; links are full duplex). For :math:`p` ranks and :math:`n` bytes per rank:

==============================  ===============================================================
ring all-reduce                 :math:`2(p-1)\alpha + 2\frac{p-1}{p}\frac{n}{B}` (+ reduction)
double binary tree all-reduce   :math:`2\lceil\log_2 p\rceil\alpha + 2\frac{n}{B}`
parameter server (k shards)     :math:`2\alpha + 2n\max(1/B_w,\; p/(k B_s))`
ring all-gather, reduce-scatter :math:`(p-1)\alpha + \frac{p-1}{p}\frac{n}{B}`
pipelined broadcast             :math:`(p-1)\alpha + \frac{n}{B}`
==============================  ===============================================================

The ring formulas are the standard MPICH analyses (Thakur, Rabenseifner & Gropp 2005,
IJHPCA 19(1):49, doi:10.1177/1094342005051521). The tree line is this library's model of
NCCL's pipelined double binary tree: logarithmic latency, and a bandwidth term of
:math:`2n/B` because every rank sends and receives :math:`2n` bytes in all (an inner node
of one tree receives :math:`n` from its two children and sends :math:`n/2` up; it is a leaf
of the other), against the ring's :math:`2(p-1)n/p`. The parameter-server line gives the
incast at the servers (``docs/references.md#anchors-accounting-3-2``; with one server that is one
of the ranks it becomes Paleo's :math:`2(p-1)n/B`). Sizes follow nccl-tests: ``n_bytes`` is the
per-rank buffer of an all-reduce or broadcast, the *total* gathered buffer of an all-gather
and the total input of a reduce-scatter.

A link staged in host memory (a :class:`~neurocomp.accounting.systems.paths.Path`, or an
:class:`AlphaBeta` with ``chunk_bytes``) has a latency that depends on the message: its
pipeline fills with one chunk, or with the whole message when that is shorter. Each formula
asks the link for the latency of the message one step sends (``n/p`` in a ring step, ``n/2``
per tree, ``n/k`` per parameter-server shard, ``n`` otherwise).

A :class:`Network` answers "how long does this collective take on that many ranks"; the
step-time models take one. :class:`FlatNetwork` wraps one link; :class:`HierarchicalNetwork`
reduces inside a node first, then across nodes, then broadcasts inside the node. A multi-hop
system (a cluster of nodes) can implement :class:`Network` itself, or expose a path that
satisfies :class:`Link` (bandwidth of the slowest hop, latency of all hops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from neurocomp.checks import check_choice, check_int, check_real

__all__ = [
    "ALGORITHMS",
    "COLLECTIVES",
    "MAX_STAGING_CHUNK_BYTES",
    "AlphaBeta",
    "FlatNetwork",
    "HierarchicalNetwork",
    "Link",
    "Network",
    "algbw_bytes_per_s",
    "allgather_time_s",
    "allreduce_levels_s",
    "as_network",
    "broadcast_time_s",
    "busbw_bytes_per_s",
    "busbw_factor",
    "check_chunk_bytes",
    "collective_time_s",
    "derate",
    "hierarchical_allreduce_time_s",
    "parameter_server_time_s",
    "point_to_point_time_s",
    "reduce_scatter_time_s",
    "ring_allreduce_time_s",
    "tree_allreduce_time_s",
]

#: Collectives the models know.
COLLECTIVES = ("allreduce", "allgather", "reduce_scatter", "broadcast")
#: All-reduce algorithms; ``"auto"`` takes the faster of ring and tree for each call, as
#: NCCL's tuner chooses per message size.
ALGORITHMS = ("ring", "tree", "auto")


@runtime_checkable
class Link(Protocol):
    """Anything with a bandwidth (bytes/s per direction) and a latency (s).

    :class:`AlphaBeta`, :class:`~neurocomp.accounting.hardware.catalogue.Interconnect` and any path
    object exposing these two attributes satisfy it.
    """

    @property
    def bandwidth_bytes_per_s(self) -> float: ...  # pragma: no cover - protocol

    @property
    def latency_s(self) -> float: ...  # pragma: no cover - protocol


#: Largest pipeline chunk of a transfer staged in host memory, bytes (1 GiB). CUDA-aware
#: MPI pipelines its copies in chunks of KiB to a few MiB (MVAPICH2's default
#: ``MV2_CUDA_BLOCK_SIZE`` is 256 KiB); a larger value is a unit slip, not a setting.
MAX_STAGING_CHUNK_BYTES = float(2**30)


def check_chunk_bytes(name: str, value: Any) -> float:
    """``value`` as a staging chunk in ``(0, MAX_STAGING_CHUNK_BYTES]`` bytes, or raise."""
    return check_real(name, value, low=0.0, low_inclusive=False,
                      high=MAX_STAGING_CHUNK_BYTES, unit="B")


@dataclass(frozen=True, kw_only=True)
class AlphaBeta:
    """A link given by its two α–β parameters (for example measured ones).

    A path staged in host memory (:class:`~neurocomp.accounting.systems.paths.Path`) pipelines its
    copies in chunks, and filling the pipeline costs ``fill_s_per_byte`` s per byte of the
    first chunk. ``latency_s`` is the α of a message of at least ``chunk_bytes``; a shorter
    message is its own (only) chunk, so its α is smaller by
    ``fill_s_per_byte × (chunk_bytes − message)`` (:meth:`latency_for_s`).

    Parameters
    ----------
    bandwidth_bytes_per_s : float
        Bandwidth per direction, bytes/s (> 0).
    latency_s : float
        Latency per message of at least one chunk, s (≥ 0).
    name : str
        Label for tables.
    chunk_bytes : float
        Staging chunk, bytes (0: not staged; else in ``(0, MAX_STAGING_CHUNK_BYTES]``).
    fill_s_per_byte : float
        Pipeline fill per byte of the first chunk, s/B (≥ 0; 0 when not staged);
        ``chunk_bytes × fill_s_per_byte`` must not exceed ``latency_s``.
    """

    bandwidth_bytes_per_s: float
    latency_s: float
    name: str = "link"
    chunk_bytes: float = 0.0
    fill_s_per_byte: float = 0.0

    def __post_init__(self) -> None:
        check_real("bandwidth_bytes_per_s", self.bandwidth_bytes_per_s, low=0.0,
                   low_inclusive=False, unit="B/s")
        check_real("latency_s", self.latency_s, low=0.0, unit="s")
        check_real("fill_s_per_byte", self.fill_s_per_byte, low=0.0, unit="s/B")
        if self.chunk_bytes != 0:
            check_chunk_bytes("chunk_bytes", self.chunk_bytes)
        fill = self.chunk_bytes * self.fill_s_per_byte
        if fill > self.latency_s * (1 + 1e-12):
            raise ValueError(f"chunk_bytes × fill_s_per_byte ({fill:g} s) is the pipeline fill "
                             f"inside latency_s and must not exceed it; got latency_s = "
                             f"{self.latency_s:g} s")

    def latency_for_s(self, message_bytes: float) -> float:
        """α of one message of ``message_bytes``: the chunk is capped at the message, s."""
        m = check_real("message_bytes", message_bytes, low=0.0, unit="B")
        return self.latency_s - self.fill_s_per_byte * max(self.chunk_bytes - m, 0.0)


def _link(name: str, link: Any, message_bytes: float | None = None) -> tuple[float, float]:
    """(bandwidth, latency) of ``link``; the latency for ``message_bytes`` where the link is
    staged in chunks (it has ``latency_for_s``) and a message size is given."""
    if not isinstance(link, Link):
        raise TypeError(f"{name} must have bandwidth_bytes_per_s and latency_s (a Link); "
                        f"got {type(link).__name__}")
    b = check_real(f"{name}.bandwidth_bytes_per_s", link.bandwidth_bytes_per_s, low=0.0,
                   low_inclusive=False, unit="B/s")
    per_message = getattr(link, "latency_for_s", None)
    raw = (per_message(message_bytes) if callable(per_message) and message_bytes is not None
           else link.latency_s)
    a = check_real(f"{name}.latency_s", raw, low=0.0, unit="s")
    return b, a


def derate(link: Link, *, bandwidth_efficiency: float = 1.0,
           extra_latency_s: float = 0.0) -> AlphaBeta:
    """A link with a fraction of the nominal bandwidth and extra (software) latency.

    Nominal link rates are not reached by collectives: ASTRA-sim measured 82 % of NVLink
    bandwidth on an HGX-H100 (``docs/references.md#anchors-accounting-2-5``), and libraries add
    microseconds of latency per step. Pass measured or cited factors.
    """
    b, a = _link("link", link)
    eff = check_real("bandwidth_efficiency", bandwidth_efficiency, low=0.0, high=1.0,
                     low_inclusive=False)
    extra = check_real("extra_latency_s", extra_latency_s, low=0.0, unit="s")
    return AlphaBeta(bandwidth_bytes_per_s=b * eff, latency_s=a + extra,
                     name=f"{getattr(link, 'name', 'link')} ×{eff:g}",
                     chunk_bytes=getattr(link, "chunk_bytes", 0.0),
                     fill_s_per_byte=getattr(link, "fill_s_per_byte", 0.0))


def _args(n_bytes: float, n_ranks: int, *, ranks_name: str = "n_ranks") -> tuple[float, int]:
    return (check_real("n_bytes", n_bytes, low=0.0, unit="B"),
            check_int(ranks_name, n_ranks, low=1))


def point_to_point_time_s(n_bytes: float, link: Link) -> float:
    """One message: :math:`\\alpha + n/B`, s."""
    n = check_real("n_bytes", n_bytes, low=0.0, unit="B")
    b, a = _link("link", link, n)
    return a + n / b


def ring_allreduce_time_s(n_bytes: float, n_ranks: int, link: Link, *,
                          reduce_bytes_per_s: float | None = None) -> float:
    """Ring all-reduce (reduce-scatter then all-gather), s.

    Parameters
    ----------
    n_bytes : float
        Buffer size on every rank, bytes.
    n_ranks : int
        Number of ranks p (≥ 1; one rank takes no time).
    link : Link
        The link every rank sends on.
    reduce_bytes_per_s : float or None
        Rate of the element-wise sum, bytes/s; adds :math:`(p-1)/p\\cdot n/\\text{rate}`.
        ``None`` ignores the arithmetic.
    """
    n, p = _args(n_bytes, n_ranks)
    b, a = _link("link", link, n / p)
    if p == 1:
        return 0.0
    t = 2 * (p - 1) * a + 2 * (p - 1) / p * n / b
    if reduce_bytes_per_s is not None:
        rate = check_real("reduce_bytes_per_s", reduce_bytes_per_s, low=0.0,
                          low_inclusive=False, unit="B/s")
        t += (p - 1) / p * n / rate
    return t


def tree_allreduce_time_s(n_bytes: float, n_ranks: int, link: Link) -> float:
    """Pipelined double binary tree all-reduce, s.

    :math:`2\\lceil\\log_2 p\\rceil\\alpha + 2n/B` (see the module docstring).
    """
    n, p = _args(n_bytes, n_ranks)
    b, a = _link("link", link, n / 2)  # each of the two trees carries half the buffer
    if p == 1:
        return 0.0
    return 2 * math.ceil(math.log2(p)) * a + 2 * n / b


def parameter_server_time_s(n_bytes: float, n_workers: int, link: Link, *,
                            n_servers: int = 1, server_link: Link | None = None) -> float:
    """Push gradients to sharded parameter servers and pull the weights back, s.

    Each worker sends ``n_bytes`` (split over the shards) and receives as much; each of the
    ``n_servers`` shards receives and sends :math:`p\\,n/k` bytes over its own link, so
    :math:`T = 2\\alpha + 2n\\max(1/B_w, p/(k B_s))`.

    Parameters
    ----------
    n_bytes : float
        Gradient (and weight) size, bytes.
    n_workers : int
        Workers p (≥ 1), on other machines than the servers.
    link : Link
        Each worker's link.
    n_servers : int
        Server shards k (≥ 1).
    server_link : Link or None
        Each server's link (default: the workers' link).
    """
    n, p = _args(n_bytes, n_workers, ranks_name="n_workers")
    k = check_int("n_servers", n_servers, low=1)
    bw, aw = _link("link", link, n / k)  # a worker sends n/k bytes to each shard
    bs, as_ = (_link("server_link", server_link, n / k) if server_link is not None
               else (bw, aw))
    return 2 * max(aw, as_) + 2 * n * max(1 / bw, p / (k * bs))


def allgather_time_s(n_bytes: float, n_ranks: int, link: Link) -> float:
    """Ring all-gather of a ``n_bytes`` total (each rank holds n/p), s."""
    n, p = _args(n_bytes, n_ranks)
    b, a = _link("link", link, n / p)
    return 0.0 if p == 1 else (p - 1) * a + (p - 1) / p * n / b


def reduce_scatter_time_s(n_bytes: float, n_ranks: int, link: Link) -> float:
    """Ring reduce-scatter of a ``n_bytes`` input (each rank keeps n/p summed), s."""
    return allgather_time_s(n_bytes, n_ranks, link)


def broadcast_time_s(n_bytes: float, n_ranks: int, link: Link) -> float:
    """Pipelined chain broadcast of ``n_bytes`` (the large-message limit), s."""
    n, p = _args(n_bytes, n_ranks)
    b, a = _link("link", link, n)
    return 0.0 if p == 1 else (p - 1) * a + n / b


def collective_time_s(collective: str, n_bytes: float, n_ranks: int, link: Link, *,
                      algorithm: str = "auto") -> float:
    """Time of one collective on a single link, s (``algorithm`` applies to all-reduce)."""
    check_choice("collective", collective, COLLECTIVES)
    check_choice("algorithm", algorithm, ALGORITHMS)
    if collective == "allreduce":
        if algorithm == "ring":
            return ring_allreduce_time_s(n_bytes, n_ranks, link)
        if algorithm == "tree":
            return tree_allreduce_time_s(n_bytes, n_ranks, link)
        return min(ring_allreduce_time_s(n_bytes, n_ranks, link),
                   tree_allreduce_time_s(n_bytes, n_ranks, link))
    return {"allgather": allgather_time_s, "reduce_scatter": reduce_scatter_time_s,
            "broadcast": broadcast_time_s}[collective](n_bytes, n_ranks, link)


def hierarchical_allreduce_time_s(n_bytes: float, *, n_nodes: int, ranks_per_node: int,
                                  intra: Link, inter: Link, algorithm: str = "auto") -> float:
    """Reduce-scatter inside each node, all-reduce across nodes, all-gather inside, s.

    After the intra-node reduce-scatter every rank holds :math:`n/g` bytes; the g ranks of a
    node then all-reduce their shares across the nodes at the same time, each over its own
    network link (``inter`` is the link of one GPU: one NIC per GPU, as in DGX nodes; with
    one NIC for g GPUs pass a link of 1/g of its bandwidth).

    Parameters
    ----------
    n_bytes : float
        Buffer on every rank, bytes.
    n_nodes, ranks_per_node : int
        N nodes of g ranks (≥ 1 each).
    intra, inter : Link
        Link inside a node; network link of one rank.
    algorithm : {"auto", "ring", "tree"}
        Algorithm of the inter-node all-reduce.
    """
    n = check_real("n_bytes", n_bytes, low=0.0, unit="B")
    nodes = check_int("n_nodes", n_nodes, low=1)
    g = check_int("ranks_per_node", ranks_per_node, low=1)
    inside, across = allreduce_levels_s(n, n_nodes=nodes, ranks_per_node=g, intra=intra,
                                        inter=inter, algorithm=algorithm)
    return inside + across


def allreduce_levels_s(n_bytes: float, *, n_nodes: int, ranks_per_node: int,
                       intra: Link | None, inter: Link, inter_tree: Link | None = None,
                       algorithm: str = "auto") -> tuple[float, float]:
    """The two-level all-reduce of :func:`hierarchical_allreduce_time_s`, split into (inside
    nodes, across nodes), s — the one place that decomposition is written.

    ``intra`` may be ``None`` with one rank per node (nothing runs inside); ``inter_tree`` is
    the link a tree all-reduce across the nodes sees where it differs from the ring's
    ``inter`` (a System's rings and trees cross different hops).
    """
    g = ranks_per_node
    inside = 0.0
    if g > 1:
        assert intra is not None, "ranks_per_node > 1 needs an intra-node link"
        inside = reduce_scatter_time_s(n_bytes, g, intra) + allgather_time_s(n_bytes, g, intra)
    check_choice("algorithm", algorithm, ALGORITHMS)
    share = n_bytes / g
    ring = ring_allreduce_time_s(share, n_nodes, inter)
    tree = tree_allreduce_time_s(share, n_nodes, inter_tree if inter_tree is not None else inter)
    return inside, {"ring": ring, "tree": tree, "auto": min(ring, tree)}[algorithm]


# -- nccl-tests bandwidths -------------------------------------------------------------------

def busbw_factor(collective: str, n_ranks: int) -> float:
    """nccl-tests' bus-bandwidth factor: busbw = algbw × factor.

    All-reduce :math:`2(p-1)/p`; all-gather and reduce-scatter :math:`(p-1)/p`; broadcast 1
    (github.com/NVIDIA/nccl-tests, doc/PERFORMANCE.md). With it, busbw of a bandwidth-bound
    run equals the link's bandwidth whatever p is.
    """
    check_choice("collective", collective, COLLECTIVES)
    p = check_int("n_ranks", n_ranks, low=1)
    return {"allreduce": 2 * (p - 1) / p, "allgather": (p - 1) / p,
            "reduce_scatter": (p - 1) / p, "broadcast": 1.0}[collective]


def algbw_bytes_per_s(n_bytes: float, time_s: float) -> float:
    """nccl-tests' algorithm bandwidth: size / time, bytes/s."""
    n = check_real("n_bytes", n_bytes, low=0.0, unit="B")
    t = check_real("time_s", time_s, low=0.0, low_inclusive=False, unit="s")
    return n / t


def busbw_bytes_per_s(collective: str, n_bytes: float, n_ranks: int, time_s: float) -> float:
    """nccl-tests' bus bandwidth: algbw × :func:`busbw_factor`, bytes/s."""
    return algbw_bytes_per_s(n_bytes, time_s) * busbw_factor(collective, n_ranks)


# -- networks --------------------------------------------------------------------------------

@runtime_checkable
class Network(Protocol):
    """What a step-time model asks of the machine's communication.

    ``collective_time_s(collective, n_bytes, n_ranks, stride=s)`` is the time of one
    collective among ``n_ranks`` ranks numbered ``0, s, 2s, …`` (consecutive ranks share a
    node first), so a data-parallel group across model-parallel shards (stride = shard
    count) is placed one rank per node.
    """

    def collective_time_s(self, collective: str, n_bytes: float, n_ranks: int, *,
                          stride: int = 1) -> float: ...  # pragma: no cover - protocol


@dataclass(frozen=True, kw_only=True)
class FlatNetwork:
    """Every rank on the same kind of link (a single switch, or one PCIe tree).

    Parameters
    ----------
    link : Link
        The link of each rank.
    algorithm : {"ring", "tree", "auto"}
        All-reduce algorithm.
    """

    link: Link
    algorithm: str = "auto"

    def __post_init__(self) -> None:
        _link("link", self.link)
        check_choice("algorithm", self.algorithm, ALGORITHMS)

    def collective_time_s(self, collective: str, n_bytes: float, n_ranks: int, *,
                          stride: int = 1) -> float:
        """Time of one collective, s (the stride does not matter on a flat network)."""
        check_int("stride", stride, low=1)
        return collective_time_s(collective, n_bytes, n_ranks, self.link,
                                 algorithm=self.algorithm)


@dataclass(frozen=True, kw_only=True)
class HierarchicalNetwork:
    """Nodes of ``ranks_per_node`` ranks on a fast ``intra`` link, joined by ``inter`` links.

    A group of ranks that fits in one node uses ``intra`` only; a group with one rank per
    node uses ``inter`` only; otherwise the collective runs in two levels (see
    :func:`hierarchical_allreduce_time_s`; all-gather, reduce-scatter and broadcast cross
    the nodes and the node in turn). ``inter`` is the network link of one rank. A partly
    filled last node is counted as a full one.
    """

    intra: Link
    inter: Link
    ranks_per_node: int
    algorithm: str = "auto"

    def __post_init__(self) -> None:
        _link("intra", self.intra)
        _link("inter", self.inter)
        check_int("ranks_per_node", self.ranks_per_node, low=1)
        check_choice("algorithm", self.algorithm, ALGORITHMS)

    def placement(self, n_ranks: int, stride: int = 1) -> tuple[int, int]:
        """(nodes spanned, group ranks per node) of ``n_ranks`` ranks ``stride`` apart."""
        p = check_int("n_ranks", n_ranks, low=1)
        s = check_int("stride", stride, low=1)
        local = max(1, min(p, self.ranks_per_node // s))
        return math.ceil(p / local), local

    def collective_time_s(self, collective: str, n_bytes: float, n_ranks: int, *,
                          stride: int = 1) -> float:
        """Time of one collective, s."""
        check_choice("collective", collective, COLLECTIVES)
        nodes, local = self.placement(n_ranks, stride)
        algo = self.algorithm
        if nodes == 1:
            return collective_time_s(collective, n_bytes, local, self.intra, algorithm=algo)
        if local == 1:
            return collective_time_s(collective, n_bytes, nodes, self.inter, algorithm=algo)
        if collective == "allreduce":
            return hierarchical_allreduce_time_s(n_bytes, n_nodes=nodes, ranks_per_node=local,
                                                 intra=self.intra, inter=self.inter,
                                                 algorithm=algo)
        return (collective_time_s(collective, n_bytes, nodes, self.inter)
                + collective_time_s(collective, n_bytes, local, self.intra))


def as_network(network: Network | Link, *, algorithm: str = "auto") -> Network:
    """A :class:`Network` as is, or a bare :class:`Link` wrapped in a :class:`FlatNetwork`."""
    if isinstance(network, Network):
        return network
    if isinstance(network, Link):
        return FlatNetwork(link=network, algorithm=algorithm)
    raise TypeError("network must be a Network (collective_time_s) or a Link "
                    f"(bandwidth_bytes_per_s, latency_s); got {type(network).__name__}")
