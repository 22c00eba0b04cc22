"""Transfers that share links, and the rings a collective runs on inside a node.

Concurrent transfers split a physical resource (a PCIe link in one direction, a NIC port,
a socket link, host memory, a copy engine) equally among those that use it: each gets
capacity / uses (:func:`shares`, :func:`flow_rates`). Equal shares are a simple, slightly
pessimistic stand-in for the max-min fair shares a network converges to.

A ring all-reduce sends from every GPU to the next one along a cycle; NCCL runs several
rings at once when the GPUs have several links (the DGX-1's cube mesh is "three interwoven
rings of single NVLink connections", each usable in both directions).
:func:`find_rings` picks rings greedily: the cycle with the highest bottleneck rate on the
capacity still free, then the next one on what is left, until no cycle gets bandwidth. The
cycles are searched exhaustively (branch and bound) for direct NVLink meshes of up to
:data:`EXHAUSTIVE_MAX_GPUS` GPUs; otherwise — PCIe trees and NVSwitch, where GPUs are
numbered along the tree and the natural order is already the best — only the natural order
and its reverse are tried. The ring all-reduce then runs at the sum of the ring rates.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from neurocomp.accounting.systems.paths import Path

__all__ = ["EXHAUSTIVE_MAX_GPUS", "Rings", "concurrent_ring_bandwidths", "find_rings",
           "flow_rates", "shares"]

#: Largest group whose rings are searched exhaustively ((p − 1)! cycles at most).
EXHAUSTIVE_MAX_GPUS = 8
#: A ring whose rate is below this fraction of the first ring's is not added.
_NEGLIGIBLE = 1e-6


def shares(paths: Sequence[Path],
           capacity: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each resource's capacity (or ``capacity[k]`` where given) divided by its uses, B/s."""
    uses = Counter(k for p in paths for k, _ in p.resources)
    cap = {k: c for p in paths for k, c in p.resources}
    if capacity is not None:
        cap.update({k: max(capacity[k], 0.0) for k in cap if k in capacity})
    return {k: cap[k] / uses[k] for k in uses}


def flow_rates(paths: Sequence[Path]) -> list[float]:
    """Rate of each of ``paths`` when all run at once, B/s."""
    share = shares(paths)
    return [p.rate(share) for p in paths]


@dataclass(frozen=True, kw_only=True)
class Rings:
    """Rings over a group of GPUs and the rate each carries.

    Attributes
    ----------
    orders : tuple of tuple of int
        Each ring as the cyclic order of its GPUs (each sends to the next).
    rates_bytes_per_s : tuple of float
        Bandwidth of each ring, per GPU, B/s.
    latency_s : float
        Latency of the slowest transfer of any ring, s.
    paths : tuple of tuple of Path
        The transfers of each ring.
    """

    orders: tuple[tuple[int, ...], ...]
    rates_bytes_per_s: tuple[float, ...]
    latency_s: float
    paths: tuple[tuple[Path, ...], ...]

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """All rings together, per GPU, B/s."""
        return sum(self.rates_bytes_per_s)

    @property
    def bottleneck(self) -> str:
        """The slowest hop of the first ring, as ``"src → dst (medium)"``."""
        slow = min((p.bottleneck for p in self.paths[0]),
                   key=lambda h: h.bandwidth_bytes_per_s)
        return f"{slow.src} → {slow.dst} ({slow.medium})"


def _flows(order: Sequence[int], path: Callable[[int, int], Path]) -> list[Path]:
    return [path(order[k], order[(k + 1) % len(order)]) for k in range(len(order))]


def _ring_rate(flows: Sequence[Path], residual: Mapping[str, float]) -> float:
    share = shares(flows, residual)
    return min(f.rate(share) for f in flows)


def _best_cycle(gpus: Sequence[int], path: Callable[[int, int], Path],
                residual: Mapping[str, float], exhaustive: bool,
                edge: Callable[[int, int], bool] | None
                ) -> tuple[tuple[int, ...] | None, float]:
    if len(gpus) == 2 or not exhaustive:
        cands = [tuple(gpus)]
        if len(gpus) > 2:
            cands.append((gpus[0], *reversed(gpus[1:])))
        rated = [(_ring_rate(_flows(c, path), residual), c) for c in cands]
        rate, order = max(rated, key=lambda t: t[0])
        return (order, rate) if rate > 0 else (None, 0.0)
    alone = {(i, j): _ring_rate([path(i, j)], residual)
             if edge is None or edge(i, j) else 0.0
             for i, j in itertools.permutations(gpus, 2)}
    best: list = [0.0, None]
    start = gpus[0]

    def dfs(order: list[int], bound: float, remaining: frozenset[int]) -> None:
        if not remaining:
            if min(bound, alone[order[-1], start]) > best[0]:
                rate = _ring_rate(_flows(order, path), residual)
                if rate > best[0]:
                    best[0], best[1] = rate, tuple(order)
            return
        for g in sorted(remaining, key=lambda g: -alone[order[-1], g]):
            b = min(bound, alone[order[-1], g])
            if b > best[0]:
                dfs([*order, g], b, remaining - {g})

    dfs([start], float("inf"), frozenset(gpus[1:]))
    return best[1], best[0]


def find_rings(gpus: Sequence[int], path: Callable[[int, int], Path], *,
               exhaustive: bool = False, edge: Callable[[int, int], bool] | None = None,
               max_rings: int = 16) -> Rings:
    """Rings over ``gpus``, chosen greedily on the capacity left (see the module docstring).

    Parameters
    ----------
    gpus : sequence of int
        The group, at least two GPUs.
    path : callable
        ``path(i, j)``: the :class:`~neurocomp.accounting.systems.paths.Path` from ``i`` to ``j``.
    exhaustive : bool
        Search all cycles (groups of up to :data:`EXHAUSTIVE_MAX_GPUS`); otherwise the
        natural order and its reverse.
    edge : callable or None
        ``edge(i, j)``: whether an exhaustive search may send from ``i`` to ``j`` (NCCL
        builds rings over NVLink only when a mesh has them). If no cycle uses only such
        edges, the natural order over all paths is used.
    max_rings : int
        At most this many rings.
    """
    gpus = list(gpus)
    if len(gpus) < 2 or len(set(gpus)) != len(gpus):
        raise ValueError(f"a ring needs at least two different GPUs; got {gpus}")
    exhaustive = exhaustive and len(gpus) <= EXHAUSTIVE_MAX_GPUS
    residual: dict[str, float] = {}
    # the capacity of every resource a candidate ring can use: all pairs for the exhaustive
    # search (at most 8 GPUs), else the transfers of the natural order and its reverse —
    # O(GPUs) paths instead of O(GPUs²)
    pairs = (itertools.permutations(gpus, 2) if exhaustive else
             [(gpus[k], gpus[(k + s) % len(gpus)]) for s in (1, -1) for k in range(len(gpus))])
    for i, j in pairs:
        residual.update(dict(path(i, j).resources))
    orders, rates, paths = [], [], []
    for _ in range(max_rings):
        order, rate = _best_cycle(gpus, path, residual, exhaustive, edge)
        if order is None or (rates and rate < _NEGLIGIBLE * rates[0]):
            break
        flows = _flows(order, path)
        for k, n in Counter(k for f in flows for k, _ in f.resources).items():
            residual[k] = max(residual[k] - rate * n, 0.0)
        orders.append(order)
        rates.append(rate)
        paths.append(tuple(flows))
    if not orders:
        if exhaustive and edge is not None:  # no cycle on the preferred edges
            return find_rings(gpus, path, max_rings=max_rings)
        raise ValueError(f"no ring over GPUs {gpus} carries any bandwidth")
    return Rings(orders=tuple(orders), rates_bytes_per_s=tuple(rates),
                 latency_s=max(f.latency_s for ring in paths for f in ring),
                 paths=tuple(paths))


def concurrent_ring_bandwidths(groups: Sequence[Rings]) -> list[float]:
    """Bandwidth of each group's rings when all groups run at once, B/s.

    Each group's rings were chosen alone; where groups overload a shared resource, every
    ring through it is slowed by capacity / total load.
    """
    load: Counter[str] = Counter()
    cap: dict[str, float] = {}
    for rings in groups:
        for rate, flows in zip(rings.rates_bytes_per_s, rings.paths, strict=True):
            for f in flows:
                for k, c in f.resources:
                    load[k] += rate
                    cap[k] = c
    scale = {k: min(1.0, cap[k] / load[k]) if load[k] > 0 else 1.0 for k in load}
    return [sum(rate * min(scale[k] for f in flows for k, _ in f.resources)
                for rate, flows in zip(rings.rates_bytes_per_s, rings.paths, strict=True))
            for rings in groups]
