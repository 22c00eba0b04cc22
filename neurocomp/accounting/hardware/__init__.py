"""Hardware catalogue types (GPUs, links, supercomputers) and the compute Device.

The cited catalogue itself is ``neurocomp_models.hardware``; :class:`Device` (peak, efficiency,
memory) is what every step-time model computes on.
"""

from neurocomp.accounting.hardware.catalogue import (
    Catalogue,
    Device,
    Gpu,
    Interconnect,
    RankingEntry,
    Supercomputer,
    UnknownNameError,
    bytes_per_s_from_gbit_per_s,
)

__all__ = [
    "Catalogue",
    "Device",
    "Gpu",
    "Interconnect",
    "RankingEntry",
    "Supercomputer",
    "UnknownNameError",
    "bytes_per_s_from_gbit_per_s",
]
