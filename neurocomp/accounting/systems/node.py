"""One multi-GPU node: its GPUs, PCIe tree, NVLink, CPU sockets and network cards.

A :class:`Node` says where every device sits — which PCIe switch, which CPU socket, which
NIC serves which GPU — so that :mod:`~neurocomp.accounting.systems.paths` can list the hops data
takes between any two GPUs. The rules of placement (written once, here):

* GPUs are spread evenly over the PCIe switches (GPU ``i`` on switch
  ``i // (gpus / switches)``), the switches evenly over the sockets; without switches the
  GPUs hang off the CPUs' root ports, spread evenly over the sockets.
* NICs sit either on the PCIe switches (``nics_on_switches``, spread evenly) or on the CPUs'
  root ports (spread evenly over the sockets). GPU ``i`` sends through NIC
  ``i · nics // gpus`` — the balanced "rail" assignment of DGX nodes (GPU ``i`` → NIC ``i``),
  and for one NIC, every GPU through it.
* Each PCIe switch has one uplink to its socket. Links are full duplex; bandwidths are per
  direction.

Validation fails at construction with a message naming the field and what is allowed: more
GPUs than the PCIe lanes allow at the stated width (per socket and per switch), a NIC
faster than its PCIe slot, NVLink pairs that need more links than a GPU has. A node with
fewer CPU cores than GPUs only *warns* (:class:`CpuCoresWarning`): it runs, but Dettmers
(2014) advises one core per GPU — deep-learning programs drive each GPU from one CPU
thread, one MPI process per GPU — and the step-time model does not charge for a starved
CPU, so it cannot turn the shortfall into time; it says so instead.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from neurocomp.accounting.hardware import Device
from neurocomp.accounting.network import Link, check_chunk_bytes
from neurocomp.checks import check_choice, check_int, check_real

__all__ = ["MAX_NODE_GPUS", "PCIE_WIDTHS", "CpuCoresWarning", "HostStaging", "Node", "NvLink"]

#: PCIe link widths (lanes) a GPU or NIC slot can have.
PCIE_WIDTHS = (1, 2, 4, 8, 16)
#: Lanes of the x16 link that ``Node.pcie`` describes.
X16 = 16
#: Most GPUs (and NICs) in one node. The largest NVLink domains announced hold 576 GPUs;
#: the per-node ring search costs about 2 ms per GPU, so the bound keeps a plan within
#: seconds. Clusters grow by ``System.nodes``, which is unbounded (the planner is O(1)
#: in it).
MAX_NODE_GPUS = 4096


class CpuCoresWarning(UserWarning):
    """A node has fewer CPU cores than GPUs (one core per GPU is the post's rule)."""


def _check_link(where: str, link: object, *, optional: bool = False) -> None:
    if link is None:
        if optional:
            return
        raise ValueError(f"{where} is required (an object with bandwidth_bytes_per_s and "
                         "latency_s, e.g. a catalogue Interconnect)")
    if not isinstance(link, Link):
        raise TypeError(f"{where} must have bandwidth_bytes_per_s and latency_s (a Link); got "
                        f"{type(link).__name__}")
    check_real(f"{where}.bandwidth_bytes_per_s", link.bandwidth_bytes_per_s, low=0.0,
               low_inclusive=False, unit="B/s")
    check_real(f"{where}.latency_s", link.latency_s, low=0.0, unit="s")


def link_name(link: object, default: str) -> str:
    """A link's display name, or ``default`` for an anonymous one."""
    name = getattr(link, "name", "")
    return name if isinstance(name, str) and name and name != "link" else default


@dataclass(frozen=True, kw_only=True)
class NvLink:
    """NVLink between the GPUs of a node.

    Parameters
    ----------
    link : Link
        All NVLinks of one GPU together, per direction, with their latency (the catalogue's
        ``"NVLink 2 (V100)"``: 6 links × 25 GB/s = 150 GB/s).
    links_per_gpu : int
        NVLink ports per GPU; one link carries ``link.bandwidth / links_per_gpu``.
    switched : bool
        Every port goes to NVSwitch chips, so any two GPUs talk at the full ``link``
        bandwidth (DGX A100, HGX H100).
    pairs : mapping of (int, int) to int
        For a direct mesh (``switched=False``): links between each connected pair of GPUs
        (the DGX-1's hybrid cube mesh). Pairs are unordered.
    """

    link: Link
    links_per_gpu: int
    switched: bool = False
    pairs: Mapping[tuple[int, int], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_link("nvlink.link", self.link)
        check_int("nvlink.links_per_gpu", self.links_per_gpu, low=1)
        pairs: dict[tuple[int, int], int] = {}
        for key, n in dict(self.pairs).items():
            if (not isinstance(key, tuple) or len(key) != 2
                    or not all(isinstance(i, int) and i >= 0 for i in key) or key[0] == key[1]):
                raise ValueError(f"nvlink.pairs keys must be pairs of two different GPU indices "
                                 f"≥ 0; got {key!r}")
            pair = (min(key), max(key))
            if pair in pairs:
                raise ValueError(f"nvlink.pairs lists GPUs {pair} twice")
            pairs[pair] = check_int(f"nvlink.pairs[{pair}]", n, low=1,
                                    high=self.links_per_gpu)
        if self.switched and pairs:
            raise ValueError("nvlink: give either switched=True (NVSwitch) or pairs (a direct "
                             "mesh), not both")
        if not self.switched and not pairs:
            raise ValueError("nvlink: a direct NVLink mesh needs pairs {(i, j): links}; for "
                             "NVSwitch set switched=True")
        used: dict[int, int] = {}
        for (i, j), n in pairs.items():
            used[i], used[j] = used.get(i, 0) + n, used.get(j, 0) + n
        over = {g: n for g, n in used.items() if n > self.links_per_gpu}
        if over:
            raise ValueError(f"nvlink.pairs give GPUs {over} more links than links_per_gpu "
                             f"= {self.links_per_gpu}; allowed: at most {self.links_per_gpu} "
                             "per GPU")
        object.__setattr__(self, "pairs", MappingProxyType(pairs))

    @property
    def per_link_bytes_per_s(self) -> float:
        """Bandwidth of one NVLink, per direction, B/s."""
        return self.link.bandwidth_bytes_per_s / self.links_per_gpu

    def links_between(self, a: int, b: int) -> int:
        """NVLinks joining GPUs ``a`` and ``b`` directly (all of them behind NVSwitch)."""
        if self.switched:
            return self.links_per_gpu
        return self.pairs.get((min(a, b), max(a, b)), 0)


@dataclass(frozen=True, kw_only=True)
class HostStaging:
    """How a transfer is staged through host memory when the devices cannot reach each other.

    Without GPUDirect RDMA a NIC only reads and writes host memory, so data goes
    GPU → CPU memory → NIC → NIC → CPU memory → GPU (Dettmers 2014); GPUs on different
    sockets without peer-to-peer support also copy through host memory. CUDA-aware MPI
    pipelines these copies in chunks.

    Parameters
    ----------
    chunk_bytes : float
        Pipeline chunk, bytes, in ``(0, MAX_STAGING_CHUNK_BYTES]`` (1 GiB). A message
        shorter than a chunk is sent as one chunk of its own size (the cost models cap the
        chunk at the message), so a large chunk only removes the pipelining.
    copy_overhead_s : float
        Software cost of issuing and completing one chunk's copy, s (≥ 0).
    pipelined : bool
        ``True``: chunks overlap, so the path runs at its slowest hop and the chunking adds
        a fill latency. ``False``: store and forward — the whole message is copied before it
        is sent (hand-written ``cudaMemcpy`` + ``MPI_Send``), so the times of the stages add.
    """

    chunk_bytes: float
    copy_overhead_s: float
    pipelined: bool = True

    def __post_init__(self) -> None:
        check_chunk_bytes("staging.chunk_bytes", self.chunk_bytes)
        check_real("staging.copy_overhead_s", self.copy_overhead_s, low=0.0, unit="s")

    def copy_bytes_per_s(self, link_bytes_per_s: float) -> float:
        """Rate of chunked copies over a link of ``link_bytes_per_s``: :math:`c/(c/B + o)`."""
        return self.chunk_bytes / (self.chunk_bytes / link_bytes_per_s + self.copy_overhead_s)


@dataclass(frozen=True, kw_only=True)
class Node:
    """A multi-GPU computer (see the module docstring for where devices sit).

    Parameters
    ----------
    name : str
        Label.
    gpu : Device
        Every GPU, as the step-time models see it (peak × achieved fraction, memory).
    gpus : int
        GPUs in the node (≥ 1).
    pcie : Link
        One x16 link of the node's PCIe generation (``"PCIe 3.0 x16"``: 15.75 GB/s per
        direction); its latency is that of one PCIe transfer.
    pcie_lanes_per_gpu : int
        Width of each GPU's link, one of :data:`PCIE_WIDTHS`.
    pcie_switches : int
        PCIe switches (0: GPUs on CPU root ports); must divide ``gpus``.
    pcie_switch_lanes, pcie_switch_uplink_lanes : int
        Lanes of one switch in all, and of its uplink to the CPU.
    cpu_sockets, cpu_cores_per_socket, cpu_pcie_lanes_per_socket : int
        Sockets, cores and PCIe lanes of each socket.
    socket_link : Link or None
        Link between sockets (QPI, UPI, Infinity Fabric), all links together, per direction;
        required with more than one socket.
    p2p_across_sockets : bool
        Whether devices on different sockets can reach each other directly over PCIe
        (CUDA peer-to-peer, GPUDirect RDMA); if not, such transfers are staged.
    memory_bandwidth_bytes_per_s : float or None
        Host memory bandwidth of one socket (staged transfers write and read it);
        ``None`` leaves it out.
    nvlink : NvLink or None
        NVLink, if any.
    nic : Link or None
        One network card's link (e.g. ``"InfiniBand QDR"``), per direction; its latency is
        that of one small message between hosts.
    nics, nic_pcie_lanes : int
        Network cards and the width of each one's PCIe slot.
    nics_on_switches : bool
        NICs on the PCIe switches (beside the GPUs) rather than on CPU root ports.
    rdma : bool
        GPUDirect RDMA: the NIC reads and writes GPU memory directly.
    staging : HostStaging or None
        How staged transfers run; required if any transfer can be staged (no RDMA with a
        NIC, or sockets without peer-to-peer).
    """

    name: str
    gpu: Device
    gpus: int
    pcie: Link
    pcie_lanes_per_gpu: int = X16
    pcie_switches: int = 0
    pcie_switch_lanes: int = 0
    pcie_switch_uplink_lanes: int = X16
    cpu_sockets: int = 1
    cpu_cores_per_socket: int
    cpu_pcie_lanes_per_socket: int
    socket_link: Link | None = None
    p2p_across_sockets: bool = False
    memory_bandwidth_bytes_per_s: float | None = None
    nvlink: NvLink | None = None
    nic: Link | None = None
    nics: int = 0
    nic_pcie_lanes: int = X16
    nics_on_switches: bool = False
    rdma: bool = False
    staging: HostStaging | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"node name must be a non-empty string; got {self.name!r}")
        w = f"node {self.name!r}:"
        if not isinstance(self.gpu, Device):
            raise TypeError(f"{w} gpu must be a Device; got {type(self.gpu).__name__}")
        check_int(f"{w} gpus", self.gpus, low=1, high=MAX_NODE_GPUS)
        _check_link(f"{w} pcie", self.pcie)
        check_choice(f"{w} pcie_lanes_per_gpu", self.pcie_lanes_per_gpu, PCIE_WIDTHS)
        check_int(f"{w} cpu_sockets", self.cpu_sockets, low=1, high=8)
        check_int(f"{w} cpu_cores_per_socket", self.cpu_cores_per_socket, low=1)
        check_int(f"{w} cpu_pcie_lanes_per_socket", self.cpu_pcie_lanes_per_socket, low=1)
        _check_link(f"{w} socket_link", self.socket_link, optional=self.cpu_sockets == 1)
        if self.memory_bandwidth_bytes_per_s is not None:
            check_real(f"{w} memory_bandwidth_bytes_per_s", self.memory_bandwidth_bytes_per_s,
                       low=0.0, low_inclusive=False, unit="B/s")
        self._check_switches(w)
        self._check_nics(w)
        if self.nvlink is not None:
            if not isinstance(self.nvlink, NvLink):
                raise TypeError(f"{w} nvlink must be an NvLink; got {type(self.nvlink).__name__}")
            bad = [p for p in self.nvlink.pairs if p[1] >= self.gpus]
            if bad:
                raise ValueError(f"{w} nvlink.pairs name GPUs {bad} but the node has GPUs "
                                 f"0..{self.gpus - 1}")
        self._check_lanes(w)
        if self.staging is None and self.may_stage:
            why = ("rdma is off" if self.nics and not self.rdma
                   else "GPUs on different sockets cannot talk peer-to-peer")
            raise ValueError(f"{w} staging is required because {why}: give a HostStaging "
                             "(chunk_bytes, copy_overhead_s)")
        cores = self.cpu_sockets * self.cpu_cores_per_socket
        if cores < self.gpus:
            warnings.warn(f"{w} {cores} CPU cores for {self.gpus} GPUs: one core per GPU is "
                          "the rule (one process per GPU); the step-time model does not slow "
                          "a starved CPU down", CpuCoresWarning, stacklevel=3)

    def _check_switches(self, w: str) -> None:
        check_int(f"{w} pcie_switches", self.pcie_switches, low=0)
        if not self.pcie_switches:
            return
        if self.gpus % self.pcie_switches:
            raise ValueError(f"{w} pcie_switches ({self.pcie_switches}) must divide gpus "
                             f"({self.gpus}) so that every switch carries as many GPUs")
        check_choice(f"{w} pcie_switch_uplink_lanes", self.pcie_switch_uplink_lanes,
                     PCIE_WIDTHS)
        check_int(f"{w} pcie_switch_lanes", self.pcie_switch_lanes, low=1)

    def _check_nics(self, w: str) -> None:
        check_int(f"{w} nics", self.nics, low=0, high=MAX_NODE_GPUS)
        _check_link(f"{w} nic", self.nic, optional=self.nics == 0)
        if not self.nics:
            return
        check_choice(f"{w} nic_pcie_lanes", self.nic_pcie_lanes, PCIE_WIDTHS)
        if self.nics_on_switches and (not self.pcie_switches
                                      or self.nics % self.pcie_switches):
            raise ValueError(f"{w} nics_on_switches needs pcie_switches ≥ 1 dividing nics "
                             f"({self.nics}); got pcie_switches = {self.pcie_switches}")
        slot = self.pcie_bytes_per_s(self.nic_pcie_lanes)
        nic_b = self.nic.bandwidth_bytes_per_s  # type: ignore[union-attr]
        if nic_b > slot * (1 + 1e-12):
            raise ValueError(
                f"{w} nic {link_name(self.nic, 'link')} ({nic_b / 1e9:.4g} GB/s per direction) "
                f"is faster than its PCIe slot ({link_name(self.pcie, 'PCIe')} at "
                f"x{self.nic_pcie_lanes}: {slot / 1e9:.4g} GB/s); allowed: nic bandwidth ≤ "
                "the slot's — widen nic_pcie_lanes, use a newer PCIe generation, or give the "
                "NIC the slot's rate")

    def _check_lanes(self, w: str) -> None:
        g, s = self.gpus, self.cpu_sockets
        if self.pcie_switches:
            per_sw = self.gpus_per_switch * self.pcie_lanes_per_gpu
            nic_lanes = (self.nics // self.pcie_switches * self.nic_pcie_lanes
                         if self.nics_on_switches else 0)
            need = per_sw + nic_lanes + self.pcie_switch_uplink_lanes
            if need > self.pcie_switch_lanes:
                raise ValueError(
                    f"{w} each PCIe switch needs {need} lanes ({self.gpus_per_switch} GPUs × "
                    f"x{self.pcie_lanes_per_gpu} + {nic_lanes} NIC lanes + an "
                    f"x{self.pcie_switch_uplink_lanes} uplink) but pcie_switch_lanes is "
                    f"{self.pcie_switch_lanes}; allowed: at most {self.pcie_switch_lanes}")
        for sock in range(s):
            if self.pcie_switches:
                n_sw = sum(self.switch_socket(k) == sock for k in range(self.pcie_switches))
                used, what = n_sw * self.pcie_switch_uplink_lanes, (
                    f"{n_sw} switch uplinks × x{self.pcie_switch_uplink_lanes}")
            else:
                n_g = sum(self.gpu_socket(i) == sock for i in range(g))
                used, what = n_g * self.pcie_lanes_per_gpu, (
                    f"{n_g} GPUs × x{self.pcie_lanes_per_gpu}")
            nic_here = 0 if self.nics_on_switches else sum(
                self.nic_socket(k) == sock for k in range(self.nics))
            used += nic_here * self.nic_pcie_lanes
            if used <= self.cpu_pcie_lanes_per_socket:
                continue
            free = self.cpu_pcie_lanes_per_socket - nic_here * self.nic_pcie_lanes
            fit = max(free, 0) // (self.pcie_switch_uplink_lanes if self.pcie_switches
                                   else self.pcie_lanes_per_gpu)
            unit = "switches" if self.pcie_switches else f"GPUs at x{self.pcie_lanes_per_gpu}"
            raise ValueError(
                f"{w} socket {sock} needs {used} PCIe lanes ({what} + {nic_here} NICs × "
                f"x{self.nic_pcie_lanes}) but cpu_pcie_lanes_per_socket is "
                f"{self.cpu_pcie_lanes_per_socket}: only {fit} {unit} fit beside the NICs; "
                f"allowed: at most {self.cpu_pcie_lanes_per_socket} lanes per socket — use "
                "narrower links (pcie_lanes_per_gpu), PCIe switches or more sockets")

    # -- placement -------------------------------------------------------------------------
    @property
    def gpus_per_switch(self) -> int:
        """GPUs behind each PCIe switch (0 without switches)."""
        return self.gpus // self.pcie_switches if self.pcie_switches else 0

    @property
    def cpu_cores(self) -> int:
        """CPU cores of the node."""
        return self.cpu_sockets * self.cpu_cores_per_socket

    def gpu_switch(self, i: int) -> int | None:
        """PCIe switch of GPU ``i`` (``None`` on a CPU root port)."""
        return i // self.gpus_per_switch if self.pcie_switches else None

    def switch_socket(self, k: int) -> int:
        """Socket of PCIe switch ``k``."""
        return k * self.cpu_sockets // self.pcie_switches

    def gpu_socket(self, i: int) -> int:
        """Socket GPU ``i`` hangs off."""
        sw = self.gpu_switch(i)
        return self.switch_socket(sw) if sw is not None else i * self.cpu_sockets // self.gpus

    def nic_switch(self, k: int) -> int | None:
        """PCIe switch of NIC ``k`` (``None`` on a CPU root port)."""
        return k // (self.nics // self.pcie_switches) if self.nics_on_switches else None

    def nic_socket(self, k: int) -> int:
        """Socket NIC ``k`` hangs off."""
        sw = self.nic_switch(k)
        return self.switch_socket(sw) if sw is not None else k * self.cpu_sockets // self.nics

    def nic_of_gpu(self, i: int) -> int:
        """The NIC GPU ``i`` sends and receives through: ``i · nics // gpus``."""
        if not self.nics:
            raise ValueError(f"node {self.name!r} has no NIC")
        return i * self.nics // self.gpus

    def pcie_bytes_per_s(self, lanes: int) -> float:
        """Bandwidth of a ``lanes``-wide link of the node's PCIe generation, B/s."""
        return self.pcie.bandwidth_bytes_per_s * lanes / X16

    @property
    def may_stage(self) -> bool:
        """Whether some transfer is staged through host memory."""
        no_rdma = self.nics > 0 and not self.rdma
        split = (self.cpu_sockets > 1 and not self.p2p_across_sockets
                 and len({self.gpu_socket(i) for i in range(self.gpus)}
                         | {self.nic_socket(k) for k in range(self.nics)}) > 1)
        return no_rdma or split

    def with_rdma(self, rdma: bool) -> Node:
        """The same node with GPUDirect RDMA switched on or off."""
        return dataclasses.replace(self, rdma=bool(rdma))

    def describe(self) -> str:
        """One line: GPUs, GPU links, NICs."""
        if self.nvlink is None:
            gen = link_name(self.pcie, "PCIe").removesuffix(" x16")
            fabric = f"{gen} x{self.pcie_lanes_per_gpu}"
        else:
            fabric = (f"{link_name(self.nvlink.link, 'NVLink')}"
                      f"{' + NVSwitch' if self.nvlink.switched else ' mesh'}")
        nics = (f", {self.nics} × {link_name(self.nic, 'NIC')}"
                f"{' with GPUDirect RDMA' if self.rdma else ' (staged, no RDMA)'}"
                if self.nics else "")
        return f"{self.gpus} × {self.gpu.name}, {fabric}{nics}"
