"""Collectives in the α–β (Hockney) model: the one place their times are written.

Ring, tree, hierarchical and parameter-server all-reduce, all-gather, reduce-scatter and
broadcast on a :class:`Link`; flat and hierarchical :class:`Network` s; nccl-tests busbw.
"""

from neurocomp.accounting.network.collectives import (
    ALGORITHMS,
    COLLECTIVES,
    AlphaBeta,
    HierarchicalNetwork,
    Link,
    Network,
    allreduce_levels_s,
    as_network,
    busbw_factor,
    check_chunk_bytes,
    collective_time_s,
    derate,
    ring_allreduce_time_s,
    tree_allreduce_time_s,
)

__all__ = [
    "ALGORITHMS",
    "COLLECTIVES",
    "AlphaBeta",
    "HierarchicalNetwork",
    "Link",
    "Network",
    "allreduce_levels_s",
    "as_network",
    "busbw_factor",
    "check_chunk_bytes",
    "collective_time_s",
    "derate",
    "ring_allreduce_time_s",
    "tree_allreduce_time_s",
]
