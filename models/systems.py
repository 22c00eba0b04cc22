"""Named multi-GPU systems, from the post's 2014 cluster to an H100 cluster on NDR InfiniBand.

Each number is marked as in ``neurocomp_models.hardware``: **[S]** read in a stored copy of the
source named beside it; **[R]** recalled and *not re-checked*; **[C]** computed from [S]/[R]
numbers (the arithmetic is beside it); **[A]** an assumption of this module where the
source is silent (the post never lists its node layout, for example). GPU, PCIe, NVLink and
InfiniBand numbers come from the cited catalogue (``neurocomp_models.hardware``). Every system's
notes list its own numbers with their status.

GPUs compute at the dense peak of the dtype named below times 0.52, the model-FLOP
utilisation of Megatron's 3072-A100 run (``DEVICE_EFFICIENCY_MEGATRON_2021``) — the same
factor for every system, so that they differ only in hardware.

:data:`REFERENCE_NODES` is one node per GPU generation seen as two α–β levels (the node's
link, then the network share of one GPU), on which ``gpus-to-brain`` computes its parallel
efficiency E(N). Its V100, A100 and H100 entries are read off the DGX nodes described here
(:data:`DGX1_V100`, :data:`DGX_A100`, :data:`HGX_H100`), so each DGX is described once.
"""

from __future__ import annotations

from dataclasses import dataclass

from neurocomp_models.hardware import DEVICE_EFFICIENCY_MEGATRON_2021, gpu, interconnect

from neurocomp.accounting.hardware import Catalogue, Device, Gpu, Interconnect
from neurocomp.accounting.network import AlphaBeta, HierarchicalNetwork, derate
from neurocomp.accounting.systems import Fabric, HostStaging, Node, NvLink, System
from neurocomp.citations import Cited

__all__ = [
    "CUDA_AWARE_MPI_STAGING",
    "DETTMERS_2014_CLUSTER",
    "DGX1_HYBRID_CUBE_MESH",
    "DGX1_V100",
    "DGX_A100",
    "H100_NDR_CLUSTER",
    "HGX_H100",
    "PCIE_BOX_2016",
    "REFERENCE_NODES",
    "SYSTEMS",
    "ReferenceNode",
    "system",
]

SEED_D = ("Dettmers (2014), How To Build and Use a Multi GPU System for Deep Learning, "
          "timdettmers.com/2014/09/21/, via docs/references.md#seed-conv-parallel-d")
DGX1_WP = ("NVIDIA DGX-1 with Tesla V100 System Architecture white paper, as quoted at "
           "https://leslivresblancs.fr/livre/informatique-et-logiciels/intelligence-"
           "artificielle/nvidia-dgx-1-tesla-v100-system and https://www.iitr.ac.in/dgx")
DGXA100 = ("https://geektopia.es/es/technology/2020/05/14/noticias/nvidia-anuncia-el-servidor-"
           "dgx-a100-ocho-tesla-a100-desde-200-000-dolares.html; https://www.hardwaretimes.com/"
           "nvidias-ampere-based-dgx-a100-servers-leverage-amd-epyc-rome-cpus-instead-of-intel-"
           "xeon/; https://www.besthub.dev/articles/inside-the-high-performance-gpu-server-a-"
           "deep-dive-into-a100-a800-h100-topologies-512d39aeaa2c")
DGXH100 = ("https://docs.nvidia.com/dgx-basepod/reference-architecture-infrastructure-"
           "foundation-enterprise-ai/latest/core-components.html")
SUPERPOD = ("NVIDIA DGX SuperPOD reference architecture with DGX H100 (RA-11333-001), via "
            "https://cidian.kuaisou.com/dgx-superpod-reference-architecture-dgx-h100 and "
            "https://docs.nvidia.com/dgx-superpod/reference-architecture-scalable-"
            "infrastructure-h100/latest/dgx-superpod-components.html")
XEON_E5 = ("https://www.istorya.net/forums/showthread.php?t=485176 (Xeon E5 block diagram: "
           "2 QPI links, 40 PCIe 3.0 lanes per socket)")
QPI = ("https://www.qdpma.com/SystemArchitecture/SystemArchitecture_QPI.html (QPI at 6.4 GT/s "
       "= 12.8 GB/s per direction, i.e. 2 bytes per transfer)")
GEFORCE_RDMA = ("https://trantor.is/content/uPdS7qNjcWjVHt6f/275c2c0b-c861-407c-b73b-"
                "3a1e982cbfaf.xhtml ('GeForce GPUs support only GPUDirect peer-to-peer, "
                "whereas Tesla and Quadro also support RDMA')")
ROME = ("https://www.servethehome.com/why-amd-epyc-rome-2p-will-have-128-160-pcie-gen4-lanes-"
        "and-a-bonus/ (128–160 PCIe 4.0 lanes in two sockets); https://mevius.5ch.net/test/"
        "read.cgi/army/1565671444/434 (Zen 2 socket links: 4 × x16 at 18 GT/s)")
SPR = ("https://meterpreter.org/intel-sapphire-rapids-will-have-80-cores (80 PCIe 5.0 lanes, "
       "four UPI 2.0 links at 16 GT/s, eight DDR5-4800 channels)")


def _c(value: float, unit: str, source: str, note: str) -> Cited:
    return Cited(value=value, unit=unit, source=source, note=note)


def _socket_link(year: int, cpu: str, *, name: str, latency: Cited,
                 bandwidth: Cited) -> Interconnect:
    """A link between the CPU sockets of a node, as a catalogue :class:`Interconnect`."""
    return Interconnect(name=name, kind="socket", year=year, bandwidth=bandwidth,
                        latency=latency, notes=(f"year: first {cpu} CPUs [R]",))


_SOCKET_LAT = _c(1e-7, "s", "order of magnitude of one socket-link hop",
                 "[R] ~0.1 µs, not re-checked")
QPI_2X8 = _socket_link(
    2013, "Xeon E5 v2", name="QPI 2 × 8.0 GT/s", latency=_SOCKET_LAT, bandwidth=_c(
    32e9, "B/s", XEON_E5 + "; " + QPI, "[C] 2 links × 8.0 GT/s × 2 B (Xeon E5 v2 at 8.0 GT/s: "
    "[S] https://topic.alibabacloud.com/a/underlying-smart-font-classtopic-s-color00c1deintel"
    "font-xeon-font-classtopic-s-color00c1dee5font-processor-analysis-1_1_11_32850911.html)"))
QPI_2X96 = _socket_link(
    2014, "Xeon E5 v3", name="QPI 2 × 9.6 GT/s", latency=_SOCKET_LAT, bandwidth=_c(
    38.4e9, "B/s", XEON_E5 + "; " + QPI,
    "[C] 2 links × 9.6 GT/s × 2 B; 9.6 GT/s for Xeon E5 v3/v4 is [R]"))
XGMI_ROME = _socket_link(
    2019, "EPYC Rome", name="Infinity Fabric (xGMI) 4 × x16", latency=_SOCKET_LAT, bandwidth=_c(
    144e9, "B/s", ROME, "[C] 64 lanes × 18 GT/s / 8 bit; DGX A100's link count is [R]"))
UPI_4X16 = _socket_link(
    2023, "Sapphire Rapids", name="UPI 2.0 4 × 16 GT/s", latency=_SOCKET_LAT, bandwidth=_c(
    128e9, "B/s", SPR, "[C] 4 links × 16 GT/s × 2 B (2 B per transfer as QPI: [R])"))

#: CUDA-aware MPI's staging of GPU data through host memory (MVAPICH2 defaults).
CUDA_AWARE_MPI_STAGING = HostStaging(chunk_bytes=262144, copy_overhead_s=5e-6)
STAGING_NOTE = (
    "Staging without RDMA: 256 KiB chunks, MV2_CUDA_BLOCK_SIZE default 262144 [S] (MVAPICH2 "
    "user guide, §CUDA-aware runtime parameters); 5 µs per chunk copy, the low end of the "
    "5–7 µs per cudaMemcpyAsync call measured by Wu et al. (2026), arXiv:2602.21548 §5.2 [S, "
    "https://www.emergentmind.com/open-problems/breakdown-of-cudamemcpyasync-overhead].")
EFF = DEVICE_EFFICIENCY_MEGATRON_2021.value
EFF_NOTE = (f"GPU at {EFF} of its dense peak: {DEVICE_EFFICIENCY_MEGATRON_2021.note} "
            f"({DEVICE_EFFICIENCY_MEGATRON_2021.source}) [S].")


def _device(name: str, dtype: str) -> Device:
    return gpu(name).device(dtype=dtype, efficiency=EFF)


#: GPU (catalogue name) and number format of each DGX node below and of its reference node.
_DGX_GPUS = {"v100": ("V100", "fp16_tensor"), "a100": ("A100", "bf16_tensor"),
             "h100": ("H100", "bf16_tensor")}


# -- the post's cluster (2014) ------------------------------------------------------------------
_NODE_2014 = Node(
    name="2014 node", gpu=_device("GTX Titan", "fp32"), gpus=4,
    pcie=interconnect("PCIe 3.0 x16"), pcie_lanes_per_gpu=16, pcie_switches=2,
    pcie_switch_lanes=48, pcie_switch_uplink_lanes=16,
    cpu_sockets=1, cpu_cores_per_socket=6, cpu_pcie_lanes_per_socket=40,
    memory_bandwidth_bytes_per_s=59.7e9,
    nic=interconnect("InfiniBand QDR"), nics=1, nic_pcie_lanes=8, rdma=False,
    staging=CUDA_AWARE_MPI_STAGING)
DETTMERS_2014_CLUSTER = System(
    name="Dettmers 2014 cluster", node=_NODE_2014, nodes=8,
    fabric=Fabric(kind="single_switch"), aliases=("dettmers-2014", "2014 cluster"),
    notes=(
        "GTX Titan-class GPUs, PCIe 3.0 at 15.75 GB/s, 40 Gbit/s InfiniBand (4 GB/s) [S] "
        + SEED_D + "; the non-RDMA path GPU→CPU→NIC→NIC→CPU→GPU [S] ibid.",
        "No RDMA: GeForce GPUs support GPUDirect peer-to-peer but not RDMA [S] "
        + GEFORCE_RDMA + "; the RDMA-on variant is what a Tesla K40 would allow.",
        "Node layout [A] (the post's is NOT FOUND): 4 GPUs, one 6-core Ivy Bridge-E socket "
        "(core count [R]) with 40 PCIe 3.0 lanes [S] " + XEON_E5 + ", two 48-lane PCIe "
        "switches (PLX PEX 8747 [R]) with two x16 GPUs each, a QDR NIC at PCIe 3.0 x8 "
        "(ConnectX-3 [R]): 2 × 16 + 8 = 40 lanes. Memory 4 × DDR3-1866 = 59.7 GB/s [C, R].",
        "8 nodes on one QDR switch [A]: 'a small GPU cluster'.",
        STAGING_NOTE, EFF_NOTE))

# -- an 8-GPU PCIe box (2016) ------------------------------------------------------------------
PCIE_BOX_2016 = System(
    name="8-GPU PCIe box (2016)", aliases=("pcie-box-2016", "pcie box"), node=Node(
        name="8-GPU PCIe box", gpu=_device("GTX Titan X (Maxwell)", "fp32"), gpus=8,
        pcie=interconnect("PCIe 3.0 x16"), pcie_lanes_per_gpu=16, pcie_switches=4,
        pcie_switch_lanes=48, cpu_sockets=2, cpu_cores_per_socket=10,
        cpu_pcie_lanes_per_socket=40, socket_link=QPI_2X96, p2p_across_sockets=False,
        memory_bandwidth_bytes_per_s=76.8e9, nic=interconnect("InfiniBand FDR"), nics=1,
        nic_pcie_lanes=8, rdma=False, staging=CUDA_AWARE_MPI_STAGING),
    notes=(
        "Layout [R] of the 4U 8-GPU servers of 2016 (e.g. Supermicro SYS-4028GR-TR), not "
        "re-checked: two Xeon E5-2600 v4 (10 cores [R]), 40 PCIe 3.0 lanes each [S] "
        + XEON_E5 + ", four 48-lane PCIe switches with two x16 GPUs each, two per socket.",
        "GPUs on different sockets copy through host memory: CUDA peer-to-peer does not "
        "cross QPI [R]. QPI 2 × 9.6 GT/s = 38.4 GB/s [C]. Memory 4 × DDR4-2400 = 76.8 GB/s "
        "per socket [C, R].",
        "GTX Titan X (Maxwell) [A], the GPU of deep-learning boxes of 2015–16; one FDR NIC "
        "[A] (unused inside one box).", STAGING_NOTE, EFF_NOTE))

# -- DGX-1 with V100 (2017) --------------------------------------------------------------------
#: NVLink pairs of the DGX-1 (V100): two fully connected quads (GPUs 0–3, 4–7) and GPU i
#: joined to GPU i + 4; 8 of the 16 pairs doubled. [R] from `nvidia-smi topo -m` output,
#: consistent with the white paper [S]: 16 connected pairs ("a cube … all twelve edges
#: connected … two of the six faces having their diagonals connected"), 6 links per GPU,
#: "three interwoven rings of single NVLink connections".
DGX1_HYBRID_CUBE_MESH = {
    (0, 1): 1, (0, 2): 1, (0, 3): 2, (0, 4): 2, (1, 2): 2, (1, 3): 1, (1, 5): 2, (2, 3): 2,
    (2, 6): 1, (3, 7): 1, (4, 5): 1, (4, 6): 1, (4, 7): 2, (5, 6): 2, (5, 7): 1, (6, 7): 2,
}
DGX1_V100 = System(
    name="DGX-1 (V100)", aliases=("dgx-1", "dgx1", "dgx-1v"), node=Node(
        name="DGX-1 (V100)", gpu=_device(*_DGX_GPUS["v100"]), gpus=8,
        pcie=interconnect("PCIe 3.0 x16"), pcie_lanes_per_gpu=16, pcie_switches=4,
        pcie_switch_lanes=64, cpu_sockets=2, cpu_cores_per_socket=20,
        cpu_pcie_lanes_per_socket=40, socket_link=QPI_2X96, p2p_across_sockets=False,
        memory_bandwidth_bytes_per_s=76.8e9,
        nvlink=NvLink(link=interconnect("NVLink 2 (V100)"), links_per_gpu=6,
                      pairs=DGX1_HYBRID_CUBE_MESH),
        nic=interconnect("InfiniBand EDR"), nics=4, nic_pcie_lanes=16, nics_on_switches=True,
        rdma=True, staging=CUDA_AWARE_MPI_STAGING),
    notes=(
        "8 V100 in a hybrid cube mesh, 6 NVLinks of 25 GB/s per direction each, PCIe 3.0 "
        "x16 per GPU to the CPUs and the IB cards, dual-socket Xeon, four 100 Gb InfiniBand "
        "cards [S] " + DGX1_WP + ". NVLink pairs [R] (see DGX1_HYBRID_CUBE_MESH).",
        "Four 64-lane PCIe switches (PLX PEX 8764 [R]), each with two GPUs and one EDR NIC "
        "[R]; two Xeon E5-2698 v4 with 20 cores [R] and 40 lanes [S] " + XEON_E5 + "; GPUs on "
        "different sockets without NVLink copy through host memory [R].",
        "GPUDirect RDMA: Tesla GPUs with ConnectX-4 [R]. QPI 38.4 GB/s, memory 76.8 GB/s per "
        "socket [C, R].", STAGING_NOTE, EFF_NOTE))

# -- DGX A100 (2020) ---------------------------------------------------------------------------
DGX_A100 = System(
    name="DGX A100", aliases=("dgx-a100",), node=Node(
        name="DGX A100", gpu=_device(*_DGX_GPUS["a100"]), gpus=8,
        pcie=interconnect("PCIe 4.0 x16"), pcie_lanes_per_gpu=16, pcie_switches=4,
        pcie_switch_lanes=96, cpu_sockets=2, cpu_cores_per_socket=64,
        cpu_pcie_lanes_per_socket=64, socket_link=XGMI_ROME, p2p_across_sockets=False,
        memory_bandwidth_bytes_per_s=204.8e9,
        nvlink=NvLink(link=interconnect("NVLink 3 (A100)"), links_per_gpu=12, switched=True),
        nic=interconnect("InfiniBand HDR"), nics=8, nic_pcie_lanes=16, nics_on_switches=True,
        rdma=True, staging=CUDA_AWARE_MPI_STAGING),
    notes=(
        "8 A100 on six NVSwitches at 600 GB/s both directions per GPU, two 64-core AMD EPYC "
        "7742, eight Mellanox 200 Gb/s NICs [S] " + DGXA100 + "; four PCIe 4.0 switches with "
        "two GPUs and two NICs each [S] ibid. (besthub).",
        "64 lanes per socket [C] from 128 in two sockets [S] " + ROME + "; 96-lane switches "
        "(Broadcom PEX88096 [R]). Socket link 144 GB/s [C]; memory 8 × DDR4-3200 = 204.8 "
        "GB/s per socket [C, R].", STAGING_NOTE, EFF_NOTE))

# -- HGX H100 / DGX H100 (2022) ----------------------------------------------------------------
_NODE_H100 = Node(
    name="HGX H100", gpu=_device(*_DGX_GPUS["h100"]), gpus=8,
    pcie=interconnect("PCIe 5.0 x16"), pcie_lanes_per_gpu=16, pcie_switches=4,
    pcie_switch_lanes=96, cpu_sockets=2, cpu_cores_per_socket=56,
    cpu_pcie_lanes_per_socket=80, socket_link=UPI_4X16, p2p_across_sockets=False,
    memory_bandwidth_bytes_per_s=307.2e9,
    nvlink=NvLink(link=interconnect("NVLink 4 (H100)"), links_per_gpu=18, switched=True),
    nic=interconnect("InfiniBand NDR"), nics=8, nic_pcie_lanes=16, nics_on_switches=True,
    rdma=True, staging=CUDA_AWARE_MPI_STAGING)
_H100_NOTES = (
    "8 H100 on four NVSwitch chips, 900 GB/s both directions per GPU; dual Xeon Platinum "
    "8480C, 112 cores; eight single-port ConnectX-7 at 400 Gb/s; PCIe 5.0 [S] " + DGXH100
    + ". 18 NVLinks per GPU [S] https://kubernetes.recipes/recipes/ai/dgx-h100-nvidia-smi-"
    "topo-kubernetes/ (NV18).",
    "Four PCIe switches with two GPUs and two NICs each [R], as the DGX B200's topology "
    "matrix shows [S] https://the-dsvolk.github.io/ai-perf/ai-infra/B200-explorer.html; "
    "80 PCIe 5.0 lanes and 4 UPI links at 16 GT/s per socket, 8 × DDR5-4800 = 307.2 GB/s "
    "[C] " + SPR + ".", STAGING_NOTE, EFF_NOTE)
HGX_H100 = System(name="HGX H100", aliases=("hgx-h100", "dgx-h100"), node=_NODE_H100,
                  notes=_H100_NOTES)

# -- an H100 cluster on NDR InfiniBand (2023) --------------------------------------------------
H100_NDR_CLUSTER = System(
    name="H100 NDR cluster", aliases=("h100-ndr-cluster", "h100 cluster", "superpod"),
    node=_NODE_H100, nodes=128,
    fabric=Fabric(kind="fat_tree", nodes_per_leaf=32, oversubscription=1.0,
                  switch_latency_s=1e-7),
    notes=(*_H100_NOTES,
           "128 DGX H100 nodes, four scalable units of 32 [S] " + SUPERPOD + " (its Table 7 "
           "lists 127 GPU nodes); rail-optimised, non-blocking fat tree of NDR switches [R], "
           "one SU per leaf group here; ~0.1 µs per extra switch [R]."))

#: Every named system, looked up by name or alias (suggests close names).
SYSTEMS: Catalogue[System] = Catalogue("system", (
    DETTMERS_2014_CLUSTER, PCIE_BOX_2016, DGX1_V100, DGX_A100, HGX_H100, H100_NDR_CLUSTER))


def system(name: str) -> System:
    """The named system called ``name`` (case and punctuation ignored)."""
    return SYSTEMS[name]


# -- one node per GPU generation, as two α–β levels (gpus-to-brain's E(N)) --------------------

@dataclass(frozen=True, kw_only=True)
class ReferenceNode:
    """A GPU in a node of its generation, seen as two α–β levels.

    Parameters
    ----------
    key : str
        Short key (``"v100"``).
    gpu : Gpu
        The catalogue GPU (``neurocomp_models.hardware``): peak, TDP, launch price.
    dtype : str
        Number format the GPU computes in (a key of ``Gpu.peak``).
    intra : Interconnect
        The link between GPUs of one node (NVLink or PCIe), per direction.
    ranks_per_node : int
        GPUs per node.
    nic : Interconnect
        The node's network link (one NIC), per direction.
    gpus_per_nic : int
        GPUs sharing one NIC: each GPU's network share is the NIC's bandwidth / this.
    note : str
        The node described in words, with the status of its numbers ([S], [R], [A]).
    """

    key: str
    gpu: Gpu
    dtype: str
    intra: Interconnect
    ranks_per_node: int
    nic: Interconnect
    gpus_per_nic: int
    note: str

    @classmethod
    def of_system(cls, key: str, named: System, *, note: str) -> ReferenceNode:
        """The reference node of a DGX system described in this module (``key`` in
        ``_DGX_GPUS``): its NVLink, GPUs per node and NICs per node."""
        node = named.node
        gpu_name, dtype = _DGX_GPUS[key]
        return cls(key=key, gpu=gpu(gpu_name), dtype=dtype, intra=node.nvlink.link,
                   ranks_per_node=node.gpus, nic=node.nic, gpus_per_nic=node.gpus // node.nics,
                   note=note)

    def network(self, *, bandwidth_efficiency: float) -> HierarchicalNetwork:
        """The node's link and each GPU's share of the NIC, both at ``bandwidth_efficiency``
        of their nominal bandwidth (a fraction in (0, 1]; latencies unchanged)."""
        per_gpu = AlphaBeta(
            bandwidth_bytes_per_s=self.nic.bandwidth_bytes_per_s / self.gpus_per_nic,
            latency_s=self.nic.latency_s, name=f"{self.nic.name} / {self.gpus_per_nic}")
        return HierarchicalNetwork(
            intra=derate(self.intra, bandwidth_efficiency=bandwidth_efficiency),
            inter=derate(per_gpu, bandwidth_efficiency=bandwidth_efficiency),
            ranks_per_node=self.ranks_per_node)

    def device(self) -> Device:
        """The GPU in ``dtype`` at Megatron's whole-run efficiency (as every system here)."""
        return _device(self.gpu.name, self.dtype)


#: One node per GPU generation, oldest first ([R] node layouts from memory unless marked).
REFERENCE_NODES: tuple[ReferenceNode, ...] = (
    ReferenceNode(key="titan_x", gpu=gpu("GTX Titan X"), dtype="fp32",
                  intra=interconnect("PCIe 3.0 x16"), ranks_per_node=4,
                  nic=interconnect("InfiniBand QDR"), gpus_per_nic=4,
                  note="the post's cluster: 40 Gbit/s InfiniBand "
                       "(docs/references.md#seed-conv-parallel-d-2) [S]; 4 GPUs "
                       "sharing one NIC is this analysis's assumption"),
    ReferenceNode.of_system("v100", DGX1_V100, note="DGX-1: 8 V100, 4 EDR NICs [R]"),
    ReferenceNode.of_system("a100", DGX_A100, note="DGX A100: 8 A100, 8 HDR NICs [R]"),
    ReferenceNode.of_system("h100", HGX_H100, note="DGX H100: 8 H100, 8 NDR NICs [R]"),
    ReferenceNode(key="b200", gpu=gpu("B200"), dtype="bf16_tensor",
                  intra=interconnect("NVLink 5 (B200)"), ranks_per_node=8,
                  nic=interconnect("InfiniBand NDR"), gpus_per_nic=1,
                  note="DGX B200: 8 B200, 8 NDR NICs [R]"),
)
