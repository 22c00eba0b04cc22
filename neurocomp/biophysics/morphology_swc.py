"""Reading SWC morphologies: parsing, validating the tree, and cutting it into sections.

The text is parsed into points (7 numeric fields a line) and the tree they form validated
(unique ids, parents that exist, exactly one root, no cycles, positive radii).

The soma points (type 1) are merged into one sphere of the same total surface; the rest is cut
into unbranched sections at branch points and at changes of structure type, one compartment
per SWC segment. Coordinates and radii are in µm. The public reader is
:func:`neurocomp.biophysics.morphology.read_swc`; every error is a
:class:`~neurocomp.biophysics.morphology_tree.MorphologyError` naming the file (and the line
where there is one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics.morphology_tree import MorphologyError, Section

__all__: list[str] = []


@dataclass(frozen=True)
class _Point:
    """One SWC point: its line in the text, id, structure type, centre ``xyz`` (µm), radius
    (µm) and parent id (-1 for the root)."""

    line: int
    id: int
    type: int
    xyz: tuple[float, float, float]
    radius: float
    parent: int


def _parse_swc(text: str, origin: str) -> list[_Point]:
    """The points of an SWC ``text`` (``#`` starts a comment), in order.

    Raises
    ------
    MorphologyError
        Naming ``origin`` and the line, for a line without 7 numeric fields (id type x y z
        radius parent), non-finite coordinates or radius, a radius <= 0 µm or a negative
        structure type; and for a text without points.
    """
    points: list[_Point] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 7:
            raise MorphologyError(f"{origin}, line {lineno}: an SWC line has 7 fields (id type "
                                  f"x y z radius parent); got {len(parts)}: {raw.strip()!r}")
        try:
            pid, ptype = int(parts[0]), int(parts[1])
            x, y, z, r = (float(v) for v in parts[2:6])
            parent = int(parts[6])
        except ValueError as exc:
            raise MorphologyError(f"{origin}, line {lineno}: cannot read numbers from "
                                  f"{raw.strip()!r} ({exc})") from None
        if not all(math.isfinite(v) for v in (x, y, z, r)):
            raise MorphologyError(f"{origin}, line {lineno}: coordinates and radius must be "
                                  f"finite")
        if r <= 0:
            raise MorphologyError(f"{origin}, line {lineno}: radius must be > 0 µm; got {r:g}")
        if ptype < 0:
            raise MorphologyError(f"{origin}, line {lineno}: structure type must be >= 0; "
                                  f"got {ptype}")
        points.append(_Point(lineno, pid, ptype, (x, y, z), r, parent))
    if not points:
        raise MorphologyError(f"{origin}: no SWC points found (the text is empty or only "
                              f"comments); an SWC file needs lines 'id type x y z radius "
                              f"parent'")
    return points


@dataclass(frozen=True)
class _SwcTree:
    """The validated tree of an SWC text.

    Attributes
    ----------
    origin : str
        The file name (or ``"<swc text>"``), for error messages.
    points : list of _Point
        The points, in the order of the text.
    by_id : dict of int to _Point
        The points by id (ids are unique).
    children : dict of int to list of int
        The ids of each point's children, in the order of the text.
    root : _Point
        The only point whose parent is -1.
    """

    origin: str
    points: list[_Point]
    by_id: dict[int, _Point]
    children: dict[int, list[int]]
    root: _Point


def _points_by_id(points: list[_Point], origin: str) -> dict[int, _Point]:
    """The points by id, or a MorphologyError naming the line of a repeated id."""
    by_id: dict[int, _Point] = {}
    for p in points:
        if p.id in by_id:
            raise MorphologyError(f"{origin}, line {p.line}: id {p.id} already used on line "
                                  f"{by_id[p.id].line}")
        by_id[p.id] = p
    return by_id


def _single_root(points: list[_Point], origin: str) -> _Point:
    """The one point whose parent is -1, or a MorphologyError naming the lines of all."""
    roots = [p for p in points if p.parent == -1]
    if len(roots) != 1:
        lines = ", ".join(str(p.line) for p in roots) or "none"
        raise MorphologyError(f"{origin}: an SWC tree has exactly one root (parent -1); found "
                              f"{len(roots)} (lines {lines})")
    return roots[0]


def _check_connected(root: _Point, children: Mapping[int, list[int]], ids: Iterable[int],
                     origin: str) -> None:
    """Walk from ``root``: every point (``ids``) is reached, and reached once (no cycle)."""
    reached, stack = set(), [root.id]
    while stack:
        pid = stack.pop()
        if pid in reached:
            raise MorphologyError(f"{origin}: point {pid} is reached twice (cycle)")
        reached.add(pid)
        stack.extend(children[pid])
    everything = set(ids)
    if len(reached) != len(everything):
        lost = sorted(everything - reached)[:5]
        raise MorphologyError(f"{origin}: points {lost} are not connected to the root (cycle "
                              f"or detached subtree)")


def _swc_tree(points: list[_Point], origin: str) -> _SwcTree:
    """Validate the tree of ``points``: unique ids, exactly one root, parents that exist, and
    every point connected to the root without cycles (each error names the line)."""
    by_id = _points_by_id(points, origin)
    root = _single_root(points, origin)
    for p in points:
        if p.parent != -1 and p.parent not in by_id:
            raise MorphologyError(f"{origin}, line {p.line}: parent {p.parent} of point {p.id} "
                                  f"does not exist")
    children: dict[int, list[int]] = {p.id: [] for p in points}
    for p in points:
        if p.parent != -1:
            children[p.parent].append(p.id)
    _check_connected(root, children, by_id, origin)
    return _SwcTree(origin=origin, points=points, by_id=by_id, children=children, root=root)


def _soma_section(soma_points: list[_Point]) -> Section:
    """The soma points merged into one sphere of the same total surface.

    A single point is a sphere of its radius; the NeuroMorpho three-point soma (a cylinder of
    length and diameter 2r) has the surface of that sphere too; any other number of points is
    a contour, whose radius is the mean distance of its points to their centroid (µm).
    """
    xyz = np.array([p.xyz for p in soma_points])
    radii = np.array([p.radius for p in soma_points])
    if len(soma_points) == 1:
        area = 4 * np.pi * radii[0] ** 2
    elif len(soma_points) == 3:  # NeuroMorpho three-point soma: a cylinder of 2r x 2r
        area = 4 * np.pi * radii[0] ** 2
    else:  # a contour: use the mean distance to the centroid as radius
        area = 4 * np.pi * np.mean(np.linalg.norm(xyz - xyz.mean(0), axis=1)) ** 2
    d = float(np.sqrt(area / np.pi))
    return Section(name="soma", region="soma", parent=None, lengths_um=(d,),
                   diameters_um=(d,), is_soma=True)


def _chain(tree: _SwcTree, first: int) -> list[_Point]:
    """The unbranched run of points from point ``first`` on while each has one child of the
    first point's structure type."""
    chain = [tree.by_id[first]]
    while (len(tree.children[chain[-1].id]) == 1
           and tree.by_id[tree.children[chain[-1].id][0]].type == chain[0].type):
        chain.append(tree.by_id[tree.children[chain[-1].id][0]])
    return chain


def _chain_section(tree: _SwcTree, chain: list[_Point], *, name: str, region: str,
                   parent: str | None, anchor: _Point, soma: set[int]) -> Section:
    """The section of one chain: a compartment per segment from ``anchor`` (the parent's last
    point) through ``chain``.

    Lengths are the distances between consecutive points (µm, each > 0); diameters are twice
    the radii (µm), the first one ``chain[0]``'s where the anchor is a soma point (a child
    that starts on the soma), else the anchor's.
    """
    line = [anchor, *chain]
    xyz = np.array([p.xyz for p in line])
    lengths = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
    if (lengths <= 0).any():
        bad = chain[int(np.argmax(lengths <= 0))]
        raise MorphologyError(f"{tree.origin}, line {bad.line}: point {bad.id} coincides with "
                              f"its parent (zero-length segment)")
    diam = [2 * (chain[0].radius if anchor.id in soma else anchor.radius)]
    diam += [2 * p.radius for p in chain]
    return Section(name=name, region=region, parent=parent, lengths_um=tuple(lengths),
                   diameters_um=tuple(diam))


def _branch_sections(tree: _SwcTree, starts: list[tuple[int, str | None, _Point]], *,
                     soma: set[int], regions: Mapping[int, str]) -> list[Section]:
    """The sections grown breadth-first from ``starts`` (first point id, parent section
    name, anchor point), named ``<region><k>`` in the order they are made.

    ``regions`` names the structure types; a type it lacks is the region ``custom<type>``.
    """
    sections: list[Section] = []
    counter: dict[str, int] = {}
    queue = list(starts)
    while queue:
        first, parent_name, anchor = queue.pop(0)
        chain = _chain(tree, first)
        region = regions.get(chain[0].type, f"custom{chain[0].type}")
        k = counter.get(region, 0)
        counter[region] = k + 1
        name = f"{region}{k}"
        sections.append(_chain_section(tree, chain, name=name, region=region,
                                       parent=parent_name, anchor=anchor, soma=soma))
        tail = chain[-1]
        for c in tree.children[tail.id]:
            queue.append((c, name, tail))
    return sections


def _swc_sections(tree: _SwcTree, regions: Mapping[int, str]) -> list[Section]:
    """The sections of a validated SWC tree: the merged soma (when the root is a soma point)
    first, then the branches grown from it (or from the root), in breadth-first order.

    Raises
    ------
    MorphologyError
        When a tree without soma has a single point, or its root has more than one child.
    """
    soma_ids = [p.id for p in tree.points if p.type == 1]
    sections: list[Section] = []
    if tree.root.type == 1:
        sections.append(_soma_section([tree.by_id[i] for i in soma_ids]))
        soma = set(soma_ids)
        starts = [(c, "soma", tree.root) for s in soma_ids for c in tree.children[s]
                  if c not in soma]
    else:
        soma = set()
        starts = [(c, None, tree.root) for c in tree.children[tree.root.id]]
        if not starts:
            raise MorphologyError(f"{tree.origin}: a tree without soma needs at least two "
                                  f"points")
    sections += _branch_sections(tree, starts, soma=soma, regions=regions)
    if tree.root.type != 1:
        extra_roots = [s.name for s in sections[1:] if s.parent is None]
        if extra_roots:
            raise MorphologyError(f"{tree.origin}: without a soma the root point may have "
                                  f"only one child (a second branch starts section "
                                  f"{extra_roots[0]})")
    return sections
