r"""The path data takes between two GPUs: every hop, the slowest one, and the latency.

A :class:`Path` is a list of hops (GPU → PCIe switch → CPU → … → GPU), grouped into
*segments* separated by staging in host memory. Inside a segment the hardware moves data
cut-through, so the segment runs at its slowest hop. Between segments a CPU-side copy
stores the data in host memory first; CUDA-aware MPI pipelines those copies in chunks of
:math:`c` bytes (:class:`~neurocomp.accounting.systems.node.HostStaging`). A path is therefore an
α–β link (:class:`~neurocomp.accounting.network.collectives.Link`):

.. math::
    B = \min_h B_h, \qquad
    \alpha = \sum_h \alpha_h + c\Big(\sum_s \frac{1}{B_s} - \frac{1}{B}\Big)

— the bandwidth of the slowest hop, the hop latencies plus the time to fill the pipeline
(:math:`B_s` the bandwidth of segment :math:`s`), exact for messages of at least one chunk
(:meth:`Path.transfer_time_s` is exact for smaller ones too). Store-and-forward staging
(``pipelined=False``) instead adds the stages: :math:`1/B = \sum_s 1/B_s`.

Routes (built by :func:`intra_node_path` and :func:`inter_node_path`):

* **NVSwitch**: GPU → NVSwitch → GPU at a GPU's full NVLink bandwidth.
* **direct NVLink**: one hop over the links that join the pair.
* **same PCIe switch**: GPU → switch → GPU (peer-to-peer).
* **across the CPU root complex**: up through each device's switch to the CPU and down.
* **across sockets**: the same plus the socket link (QPI/UPI); without peer-to-peer across
  sockets, staged: a device-to-host copy, then a host-to-device copy over the socket link.
* **across the network with GPUDirect RDMA**: GPU → (switch/CPU) → NIC → network → NIC →
  GPU, one segment.
* **without RDMA** (Dettmers 2014): GPU → CPU memory (copy) | memory → NIC → network → NIC
  → memory | memory → GPU (copy): three segments.

Latency bookkeeping: a PCIe or NVLink transfer costs its link's latency once (on its first
hop), a socket crossing adds the socket link's latency, a staging copy adds its software
overhead and a PCIe latency; the network's latency (an MPI small-message latency, measured
host to host) covers the NICs' own DMA, so the PCIe hops of an RDMA transfer add none.

Every hop also lists the physical resources it occupies, ``(key, capacity)`` with the
direction in the key, so that concurrent transfers can share them
(:mod:`~neurocomp.accounting.systems.rings`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neurocomp.accounting.network import check_chunk_bytes
from neurocomp.accounting.systems.node import Node, link_name
from neurocomp.checks import check_int, check_real

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Hop", "Path", "inter_node_path", "intra_node_path"]


@dataclass(frozen=True, kw_only=True)
class Hop:
    """One step of a path.

    Parameters
    ----------
    src, dst : str
        Where the hop starts and ends (``"GPU 0"``, ``"PCIe switch 1"``, ``"CPU 0"``).
    medium : str
        What carries it (``"PCIe 3.0 x16"``, ``"NVLink 2 × 2"``, ``"InfiniBand QDR"``).
    bandwidth_bytes_per_s : float
        Its bandwidth, per direction, B/s.
    latency_s : float
        Latency it adds, s.
    resources : tuple of (str, float)
        Physical resources it occupies and their capacities (B/s).
    """

    src: str
    dst: str
    medium: str
    bandwidth_bytes_per_s: float
    latency_s: float = 0.0
    resources: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        check_real(f"hop {self.src} → {self.dst}: bandwidth_bytes_per_s",
                   self.bandwidth_bytes_per_s, low=0.0, low_inclusive=False, unit="B/s")
        check_real(f"hop {self.src} → {self.dst}: latency_s", self.latency_s, low=0.0,
                   unit="s")

    def rate(self, share: Mapping[str, float] | None = None) -> float:
        """Bandwidth left to one transfer when resource ``k`` gives it ``share[k]`` B/s."""
        if not share:
            return self.bandwidth_bytes_per_s
        return min([self.bandwidth_bytes_per_s, *(share.get(k, c) for k, c in self.resources)])


@dataclass(frozen=True, kw_only=True)
class Path:
    """The hops between two GPUs, in segments split by host staging (see the module doc).

    It satisfies :class:`~neurocomp.accounting.network.collectives.Link`; :meth:`latency_for_s`
    gives the α of a message shorter than a chunk (the chunk capped at the message).

    ``chunk_bytes`` (staged paths only) must be in ``(0, MAX_STAGING_CHUNK_BYTES]``
    (:data:`~neurocomp.accounting.network.collectives.MAX_STAGING_CHUNK_BYTES`, 1 GiB).
    """

    src: str
    dst: str
    segments: tuple[tuple[Hop, ...], ...]
    chunk_bytes: float = 0.0
    pipelined: bool = True

    def __post_init__(self) -> None:
        if not self.segments or not all(self.segments):
            raise ValueError("a path needs at least one segment of at least one hop")
        if len(self.segments) > 1:
            check_chunk_bytes("chunk_bytes", self.chunk_bytes)

    @property
    def name(self) -> str:
        """``"src → dst"``."""
        return f"{self.src} → {self.dst}"

    @property
    def hops(self) -> tuple[Hop, ...]:
        """Every hop, in order."""
        return tuple(h for seg in self.segments for h in seg)

    @property
    def staged(self) -> bool:
        """Whether the data is staged in host memory on the way."""
        return len(self.segments) > 1

    @property
    def resources(self) -> tuple[tuple[str, float], ...]:
        """Every resource the path occupies (repeated if it occupies one twice)."""
        return tuple(r for h in self.hops for r in h.resources)

    def segment_bandwidths(self, share: Mapping[str, float] | None = None) -> list[float]:
        """Bandwidth of each segment (its slowest hop), B/s."""
        return [min(h.rate(share) for h in seg) for seg in self.segments]

    def rate(self, share: Mapping[str, float] | None = None) -> float:
        """Bandwidth of the path when resources give it only ``share``, B/s."""
        bw = self.segment_bandwidths(share)
        if len(bw) == 1 or self.pipelined:
            return min(bw)
        return 1.0 / sum(1.0 / b for b in bw)

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Bandwidth: the slowest hop (pipelined), or the stages in series, B/s."""
        return self.rate()

    @property
    def bottleneck(self) -> Hop:
        """The slowest hop."""
        return min(self.hops, key=lambda h: h.bandwidth_bytes_per_s)

    @property
    def fill_s_per_byte(self) -> float:
        """Pipeline fill per byte of the first chunk: :math:`\\sum_s 1/B_s - 1/B`, s/B
        (0 unless staged and pipelined)."""
        if not self.staged or not self.pipelined:
            return 0.0
        bw = self.segment_bandwidths()
        return sum(1.0 / b for b in bw) - 1.0 / min(bw)

    @property
    def fill_latency_s(self) -> float:
        """Time to fill the staging pipeline: :math:`c(\\sum_s 1/B_s - 1/B)`, s."""
        return self.chunk_bytes * self.fill_s_per_byte if self.fill_s_per_byte else 0.0

    @property
    def latency_s(self) -> float:
        """Latency of the α–β form for messages of at least one chunk: hop latencies plus
        the pipeline fill, s."""
        return sum(h.latency_s for h in self.hops) + self.fill_latency_s

    def latency_for_s(self, message_bytes: float) -> float:
        """α of one message of ``message_bytes``: the fill of a chunk of
        ``min(message_bytes, chunk_bytes)`` — a chunk larger than the message is the
        message, s."""
        m = check_real("message_bytes", message_bytes, low=0.0, unit="B")
        fill = self.fill_s_per_byte
        return sum(h.latency_s for h in self.hops) + (min(m, self.chunk_bytes) * fill
                                                      if fill else 0.0)

    def transfer_time_s(self, n_bytes: float) -> float:
        """Time to move ``n_bytes`` (exact for messages shorter than a chunk), s."""
        n = check_real("n_bytes", n_bytes, low=0.0, unit="B")
        base = sum(h.latency_s for h in self.hops)
        bw = self.segment_bandwidths()
        if len(bw) == 1:
            return base + n / bw[0]
        if not self.pipelined:
            return base + n * sum(1.0 / b for b in bw)
        first = min(n, self.chunk_bytes)
        return base + first * sum(1.0 / b for b in bw) + (n - first) / min(bw)

    def to_frame(self) -> pd.DataFrame:
        """One row per hop: segment, ends, medium, bandwidth, latency."""
        import pandas as pd

        return pd.DataFrame([{"segment": s, "src": h.src, "dst": h.dst, "medium": h.medium,
                              "bandwidth_bytes_per_s": h.bandwidth_bytes_per_s,
                              "latency_s": h.latency_s}
                             for s, seg in enumerate(self.segments) for h in seg])

    def describe(self) -> str:
        """The hops as text, slowest marked, with the path's bandwidth and latency."""
        slow = self.bottleneck
        lines = [f"{self.name}: {self.bandwidth_bytes_per_s / 1e9:.4g} GB/s, "
                 f"{self.latency_s * 1e6:.3g} µs"
                 + (f" (staged in host memory, {self.chunk_bytes / 2**10:.0f} KiB chunks"
                    f"{'' if self.pipelined else ', store and forward'})" if self.staged
                    else "")]
        k = 0
        for s, seg in enumerate(self.segments):
            if s:
                lines.append("     -- host memory (staging) --")
            for h in seg:
                k += 1
                mark = "  <- slowest" if h is slow else ""
                lines.append(f"  {k:2d}. {h.src} → {h.dst}: {h.medium}, "
                             f"{h.bandwidth_bytes_per_s / 1e9:.4g} GB/s"
                             + (f", {h.latency_s * 1e6:.3g} µs" if h.latency_s else "") + mark)
        return "\n".join(lines)


# -- construction ------------------------------------------------------------------------------

class _NodeRoutes:
    """PCIe, NVLink and staging hops inside one node (``index`` tags nodes of a cluster)."""

    def __init__(self, node: Node, index: int | None = None) -> None:
        self.node, self.index = node, index
        self.tag = "" if index is None else f"n{index}:"
        self.prefix = "" if index is None else f"node {index} "
        self.pcie_name = link_name(node.pcie, "PCIe").removesuffix(" x16")

    def name(self, dev: tuple[str, int]) -> str:
        kind, k = dev
        label = {"gpu": "GPU", "nic": "NIC", "switch": "PCIe switch", "cpu": "CPU",
                 "mem": "host memory"}[kind]
        return f"{self.prefix}{label} {k}"

    def _parent(self, dev: tuple[str, int]) -> tuple[tuple[str, int], int]:
        """The device's attachment and the width of the link to it."""
        n = self.node
        kind, k = dev
        if kind == "switch":
            return ("cpu", n.switch_socket(k)), n.pcie_switch_uplink_lanes
        if kind == "gpu":
            sw = n.gpu_switch(k)
            return (("switch", sw) if sw is not None else ("cpu", n.gpu_socket(k)),
                    n.pcie_lanes_per_gpu)
        sw = n.nic_switch(k)
        return (("switch", sw) if sw is not None else ("cpu", n.nic_socket(k)),
                n.nic_pcie_lanes)

    def _chain(self, dev: tuple[str, int]) -> list[tuple[tuple[str, int], int]]:
        out = []
        while dev[0] != "cpu":
            parent, lanes = self._parent(dev)
            out.append((dev, lanes))
            dev = parent
        out.append((dev, 0))
        return out

    def _edge(self, child: tuple[str, int], parent: tuple[str, int], lanes: int,
              up: bool) -> Hop:
        bw = self.node.pcie_bytes_per_s(lanes)
        key = f"{self.tag}pcie:{child[0]}{child[1]}:{'up' if up else 'down'}"
        src, dst = (child, parent) if up else (parent, child)
        return Hop(src=self.name(src), dst=self.name(dst), medium=f"{self.pcie_name} x{lanes}",
                   bandwidth_bytes_per_s=bw, resources=((key, bw),))

    def pcie(self, a: tuple[str, int], b: tuple[str, int], *,
             latency_s: float) -> list[Hop]:
        """PCIe hops from device ``a`` to device ``b`` (``("cpu", s)`` = that socket)."""
        ca, cb = self._chain(a), self._chain(b)
        common = next((d for d, _ in ca if d[0] == "switch" and d in [e for e, _ in cb]), None)
        hops = []
        for (child, lanes), (parent, _) in itertools.pairwise(ca):
            if child == common:
                break
            hops.append(self._edge(child, parent, lanes, up=True))
        top_a = common if common is not None else ca[-1][0]
        top_b = common if common is not None else cb[-1][0]
        if top_a != top_b:
            link = self.node.socket_link
            bw = link.bandwidth_bytes_per_s  # type: ignore[union-attr]
            key = f"{self.tag}socket:{top_a[1]}->{top_b[1]}"
            hops.append(Hop(src=self.name(top_a), dst=self.name(top_b),
                            medium=link_name(link, "socket link"), bandwidth_bytes_per_s=bw,
                            latency_s=link.latency_s,  # type: ignore[union-attr]
                            resources=((key, bw),)))
        down = []
        for (child, lanes), (parent, _) in itertools.pairwise(cb):
            if child == common:
                break
            down.append(self._edge(child, parent, lanes, up=False))
        hops += reversed(down)
        if hops:
            first = hops[0]
            hops[0] = Hop(src=first.src, dst=first.dst, medium=first.medium,
                          bandwidth_bytes_per_s=first.bandwidth_bytes_per_s,
                          latency_s=first.latency_s + latency_s, resources=first.resources)
        return hops

    def stage(self, gpu: int, socket: int, pcie_hops: Sequence[Hop], *, to_host: bool) -> Hop:
        """The chunked copy between GPU ``gpu`` and host memory of ``socket``."""
        n = self.node
        st = n.staging
        assert st is not None  # Node checks that staging is given where paths stage
        rate = st.copy_bytes_per_s(min(h.bandwidth_bytes_per_s for h in pcie_hops))
        way = "d2h" if to_host else "h2d"
        res = [(f"{self.tag}copy:gpu{gpu}:{way}", rate)]
        if n.memory_bandwidth_bytes_per_s is not None:  # written once and read once
            res += [(f"{self.tag}mem{socket}", n.memory_bandwidth_bytes_per_s)] * 2
        cpu, mem = self.name(("cpu", socket)), self.name(("mem", socket))
        medium = (f"staging copy {'device→host' if to_host else 'host→device'} "
                  f"({st.chunk_bytes / 2**10:.0f} KiB chunks, "
                  f"{st.copy_overhead_s * 1e6:.3g} µs each)")
        return Hop(src=cpu if to_host else mem, dst=mem if to_host else cpu, medium=medium,
                   bandwidth_bytes_per_s=rate, latency_s=st.copy_overhead_s,
                   resources=tuple(res))

    def to_host(self, gpu: int, socket: int) -> list[Hop]:
        """GPU ``gpu`` → host memory of ``socket``, by a staging copy."""
        hops = self.pcie(("gpu", gpu), ("cpu", socket), latency_s=self.node.pcie.latency_s)
        return [*hops, self.stage(gpu, socket, hops, to_host=True)]

    def from_host(self, socket: int, gpu: int) -> list[Hop]:
        """Host memory of ``socket`` → GPU ``gpu``, by a staging copy."""
        hops = self.pcie(("cpu", socket), ("gpu", gpu), latency_s=self.node.pcie.latency_s)
        return [self.stage(gpu, socket, hops, to_host=False), *hops]

    def reaches(self, a: tuple[str, int], b: tuple[str, int]) -> bool:
        """Whether ``a`` and ``b`` can use peer-to-peer PCIe (same socket or allowed)."""
        n = self.node
        sock = {"gpu": n.gpu_socket, "nic": n.nic_socket}
        return n.p2p_across_sockets or sock[a[0]](a[1]) == sock[b[0]](b[1])


def _path(src: str, dst: str, segments: list[list[Hop]], node: Node) -> Path:
    st = node.staging
    return Path(src=src, dst=dst, segments=tuple(tuple(s) for s in segments),
                chunk_bytes=st.chunk_bytes if st is not None and len(segments) > 1 else 0.0,
                pipelined=st.pipelined if st is not None else True)


def _check_gpu(node: Node, name: str, i: int) -> int:
    return check_int(name, i, low=0, high=node.gpus - 1)


def intra_node_path(node: Node, a: int, b: int, *, node_index: int | None = None) -> Path:
    """The path from GPU ``a`` to GPU ``b`` of one node (see the module docstring).

    ``node_index`` tags the hops and resources with the node's index in a cluster.
    """
    a, b = _check_gpu(node, "a", a), _check_gpu(node, "b", b)
    if a == b:
        raise ValueError(f"a and b must be different GPUs; got {a} twice")
    r = _NodeRoutes(node, node_index)
    ga, gb = r.name(("gpu", a)), r.name(("gpu", b))
    nv = node.nvlink
    if nv is not None and nv.switched:
        bw, lat = nv.link.bandwidth_bytes_per_s, nv.link.latency_s
        name = link_name(nv.link, "NVLink")
        sw = f"{r.prefix}NVSwitch"
        return _path(ga, gb, [[
            Hop(src=ga, dst=sw, medium=name, bandwidth_bytes_per_s=bw, latency_s=lat,
                resources=((f"{r.tag}nvl:gpu{a}:out", bw),)),
            Hop(src=sw, dst=gb, medium=name, bandwidth_bytes_per_s=bw,
                resources=((f"{r.tag}nvl:gpu{b}:in", bw),))]], node)
    if nv is not None and (links := nv.links_between(a, b)):
        bw = links * nv.per_link_bytes_per_s
        return _path(ga, gb, [[Hop(
            src=ga, dst=gb, medium=f"{link_name(nv.link, 'NVLink')} × {links}",
            bandwidth_bytes_per_s=bw, latency_s=nv.link.latency_s,
            resources=((f"{r.tag}nvl:{a}->{b}", bw),))]], node)
    if r.reaches(("gpu", a), ("gpu", b)):
        return _path(ga, gb, [r.pcie(("gpu", a), ("gpu", b), latency_s=node.pcie.latency_s)],
                     node)
    sa = node.gpu_socket(a)  # staged: copy to the sender's memory, read over the socket link
    return _path(ga, gb, [r.to_host(a, sa), r.from_host(sa, b)], node)


def inter_node_path(node: Node, a: int, b: int, *, src_node: int, dst_node: int,
                    network: Sequence[Hop]) -> Path:
    """The path from GPU ``a`` of node ``src_node`` to GPU ``b`` of node ``dst_node``.

    ``network`` holds the hops from the sender's NIC to the receiver's (NIC link, switches);
    the first carries the network latency. The NICs are ``node.nic_of_gpu`` of each GPU;
    with RDMA a side stays direct if its GPU and NIC can reach each other peer-to-peer,
    otherwise (and always without RDMA) it is staged in host memory of the GPU's socket.
    """
    a, b = _check_gpu(node, "a", a), _check_gpu(node, "b", b)
    if src_node == dst_node:
        raise ValueError("src_node and dst_node must differ (use intra_node_path)")
    rs, rd = _NodeRoutes(node, src_node), _NodeRoutes(node, dst_node)
    na, nb = node.nic_of_gpu(a), node.nic_of_gpu(b)
    segments: list[list[Hop]] = []
    if node.rdma and rs.reaches(("gpu", a), ("nic", na)):
        current = rs.pcie(("gpu", a), ("nic", na), latency_s=0.0)
    else:
        sa = node.gpu_socket(a)
        segments.append(rs.to_host(a, sa))
        current = rs.pcie(("cpu", sa), ("nic", na), latency_s=0.0)
    current += list(network)
    if node.rdma and rd.reaches(("nic", nb), ("gpu", b)):
        current += rd.pcie(("nic", nb), ("gpu", b), latency_s=0.0)
        segments.append(current)
    else:
        sb = node.gpu_socket(b)
        segments.append(current + rd.pcie(("nic", nb), ("cpu", sb), latency_s=0.0))
        segments.append(rd.from_host(sb, b))
    return _path(rs.name(("gpu", a)), rd.name(("gpu", b)), segments, node)
