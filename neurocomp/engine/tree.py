r"""The compartment tree of a morphology, discretised as Brian2's ``SpatialNeuron`` does it.

Brian2 (``brian2/spatialneuron``) puts one node at the centre of every compartment, in the
depth-first order of :meth:`~neurocomp.biophysics.Morphology.compartment_table`, with

* membrane area: a sphere's :math:`\pi d^2` for the soma, the lateral area of a truncated
  cone :math:`\pi (r_0 + r_1)\sqrt{l^2 + (r_1 - r_0)^2}` for every other compartment;
* half-compartment axial factors ``r_length_1`` (start to centre) and ``r_length_2`` (centre
  to end), :math:`\frac{\pi}{2} d_a d_b / l` µm with :math:`d_a, d_b` the diameters at the two
  ends of the half (start or end, and the mean of start and end at the centre); a conductance
  is a factor divided by the axial resistivity :math:`R_i` (µm/(Ω·cm) = 100 µS);
* between neighbours of one section the conductance :math:`1/(R_i(1/r_2^{(k-1)} + 1/r_1^{(k)}))`;
* at the end of a section a massless branch point joined to the section's last compartment by
  :math:`r_2/R_i` and to every child's first compartment by its :math:`r_1/R_i`; a section end
  without children is sealed.

This module builds the same network. A branch point with two arms (one child) is eliminated
exactly into a series conductance; one with three or more arms stays a node of zero
capacitance (eliminating it would couple the children to each other and break the tree). The
soma's factors are Brian2's stand-in for zero resistance (1 m, i.e. ~1e6 µS): here a child of
the soma joins the soma node directly through its own :math:`r_1/R_i`, which differs from
Brian2 by the child's half-compartment conductance relative to 1e6 µS (≤ 1e-5 relative, far
below the 0.05 mV tolerance) and keeps float32 free of a 1e6 µS diagonal.

Nodes are numbered by depth (root 0), so each level is a contiguous slice: the solver
(:mod:`neurocomp.engine.solver`) eliminates a whole level at once (Hines elimination scheduled
by levels, the idea of Zhang et al. 2023's DHS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics import Morphology, MorphologyError

__all__ = ["CableTree", "cable_tree", "check_parents"]

#: µS per µm/(Ω·cm): a geometric factor in µm divided by R_i in Ω·cm is 1e-4 S.
US_PER_UM_PER_OHM_CM = 100.0


@dataclass(frozen=True, eq=False)
class CableTree:
    """Nodes of the cable network, ordered by depth.

    Attributes
    ----------
    n_compartments : int
        Compartments (Brian2's count and order).
    parent : ndarray of int, (n_nodes,)
        Parent node of each node (−1 for the root, node 0).
    axial_um : ndarray, (n_nodes,)
        Geometric factor of the edge to the parent, µm (conductance = 100·factor/R_i µS);
        0 for the root.
    area_cm2 : ndarray, (n_nodes,)
        Membrane area, cm² (0 for branch points).
    node_of_compartment : ndarray of int, (n_compartments,)
        Node of each compartment.
    levels : tuple of (start, stop)
        Node slices of depth 0, 1, 2 … (each contiguous).
    """

    n_compartments: int
    parent: np.ndarray
    axial_um: np.ndarray
    area_cm2: np.ndarray
    node_of_compartment: np.ndarray
    levels: tuple[tuple[int, int], ...]

    @property
    def n_nodes(self) -> int:
        """Compartments plus the branch points kept as nodes."""
        return int(self.parent.size)

    @property
    def depth(self) -> int:
        """Number of levels (the sequential steps of one elimination sweep)."""
        return len(self.levels)


def check_parents(parent: Sequence[int]) -> np.ndarray:
    """Validate a parent array: one root (−1), every other entry a node, no cycle.

    Raises
    ------
    MorphologyError
        Naming the node and its parent for an index out of range, a second root, a cycle,
        or a node not connected to the root.
    """
    p = np.asarray(parent, dtype=np.int64)
    n = p.size
    if p.ndim != 1 or n == 0:
        raise MorphologyError(f"parent must be a non-empty 1-D array; got shape {p.shape}")
    bad = np.flatnonzero((p < -1) | (p >= n) | (p == np.arange(n)))
    if bad.size:
        raise MorphologyError(f"parent[{bad[0]}] = {p[bad[0]]} is not a node index in "
                              f"[-1, {n - 1}] other than the node itself")
    roots = np.flatnonzero(p == -1)
    if roots.size != 1:
        raise MorphologyError(f"a tree has exactly one root (parent −1); found {roots.size} "
                              f"(nodes {roots[:5].tolist()}): the tree is disconnected"
                              if roots.size else "a tree has exactly one root (parent −1); "
                              "found none: every node has a parent, so there is a cycle")
    depth = np.full(n, -1)
    depth[roots[0]] = 0
    for _ in range(n):
        todo = depth < 0
        if not todo.any():
            break
        ready = todo & (depth[np.where(p >= 0, p, 0)] >= 0) & (p >= 0)
        if not ready.any():
            lost = np.flatnonzero(todo)
            raise MorphologyError(f"nodes {lost[:5].tolist()} never reach the root "
                                  f"{roots[0]} through their parents: a cycle (e.g. node "
                                  f"{lost[0]} → parent {p[lost[0]]}) or a detached subtree")
        depth[ready] = depth[p[ready]] + 1
    return depth


def _half_factors(sec: object) -> tuple[np.ndarray, np.ndarray]:
    """Brian2's r_length_1 and r_length_2 of a (non-soma) section, µm."""
    d = np.asarray(sec.diameters_um, dtype=np.float64)  # type: ignore[attr-defined]
    length = np.asarray(sec.lengths_um, dtype=np.float64)  # type: ignore[attr-defined]
    mid = 0.5 * (d[:-1] + d[1:])
    return np.pi / 2 * d[:-1] * mid / length, np.pi / 2 * mid * d[1:] / length


def _raw_network(morphology: Morphology) -> tuple[list[int], list[float], list[float], int]:
    """Parent, axial factor and area of every node, in Brian2's compartment order, with
    kept branch points appended after the compartments."""
    order: list[object] = []

    def visit(sec: object) -> None:
        order.append(sec)
        for child in morphology.children(sec.name):  # type: ignore[attr-defined]
            visit(child)

    visit(morphology.sections[0])
    first, last, r1, r2 = {}, {}, {}, {}
    parent: list[int] = []
    axial: list[float] = []
    area: list[float] = []
    for sec in order:
        start = len(parent)
        n = sec.n  # type: ignore[attr-defined]
        first[sec.name], last[sec.name] = start, start + n - 1  # type: ignore[attr-defined]
        area += list(sec.membrane_area_um2() * 1e-8)  # type: ignore[attr-defined]
        if sec.is_soma:  # type: ignore[attr-defined]
            parent.append(-1)
            axial.append(0.0)
            continue
        a, b = _half_factors(sec)
        r1[sec.name], r2[sec.name] = a, b  # type: ignore[attr-defined]
        parent += [-1, *list(range(start, start + n - 1))]
        axial += [0.0, *list(1.0 / (1.0 / b[:-1] + 1.0 / a[1:]))]
    n_comp = len(parent)
    for sec in order:
        kids = morphology.children(sec.name)  # type: ignore[attr-defined]
        if not kids:
            continue
        end = last[sec.name]  # type: ignore[attr-defined]
        if sec.is_soma:  # type: ignore[attr-defined]
            for k in kids:
                parent[first[k.name]], axial[first[k.name]] = end, float(r1[k.name][0])
        elif len(kids) == 1:
            k = kids[0]
            series = 1.0 / (1.0 / r2[sec.name][-1] + 1.0 / r1[k.name][0])  # type: ignore
            parent[first[k.name]], axial[first[k.name]] = end, float(series)
        else:
            junction = len(parent)
            parent.append(end)
            axial.append(float(r2[sec.name][-1]))  # type: ignore[attr-defined]
            area.append(0.0)
            for k in kids:
                parent[first[k.name]], axial[first[k.name]] = junction, float(r1[k.name][0])
    return parent, axial, area, n_comp


def cable_tree(morphology: Morphology) -> CableTree:
    """The cable network of ``morphology`` as Brian2 discretises it (see the module notes).

    Parameters
    ----------
    morphology : Morphology
        The tree (a soma root or a plain section root).

    Returns
    -------
    CableTree
        Nodes ordered by depth, with areas (cm²) and axial factors (µm).
    """
    if not isinstance(morphology, Morphology):
        raise TypeError(f"morphology must be a neurocomp.biophysics.Morphology; got "
                        f"{type(morphology).__name__}")
    parent, axial, area, n_comp = _raw_network(morphology)
    depth = check_parents(parent)
    order = np.lexsort((np.arange(depth.size), depth))  # by depth, stable
    new_of_old = np.empty_like(order)
    new_of_old[order] = np.arange(order.size)
    p_old = np.asarray(parent)[order]
    p_new = np.where(p_old >= 0, new_of_old[np.maximum(p_old, 0)], -1)
    d_sorted = depth[order]
    bounds = np.flatnonzero(np.diff(d_sorted)) + 1
    starts = np.r_[0, bounds]
    stops = np.r_[bounds, d_sorted.size]
    return CableTree(n_compartments=n_comp, parent=p_new,
                     axial_um=np.asarray(axial, dtype=np.float64)[order],
                     area_cm2=np.asarray(area, dtype=np.float64)[order],
                     node_of_compartment=new_of_old[:n_comp],
                     levels=tuple((int(a), int(b)) for a, b in zip(starts, stops, strict=True)))
