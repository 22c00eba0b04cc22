"""Multi-GPU systems: nodes, the hops between any two GPUs, rings, JSON system files.

A :class:`System` (nodes joined by a :class:`Fabric`) is a Network: its collectives are timed
on the paths and rings it actually has, with and without GPUDirect RDMA.
"""

from neurocomp.accounting.systems.node import CpuCoresWarning, HostStaging, Node, NvLink
from neurocomp.accounting.systems.paths import Hop, Path
from neurocomp.accounting.systems.system import Fabric, System
from neurocomp.accounting.systems.system_files import SystemFileError, load_system

__all__ = [
    "CpuCoresWarning",
    "Fabric",
    "Hop",
    "HostStaging",
    "Node",
    "NvLink",
    "Path",
    "System",
    "SystemFileError",
    "load_system",
]
