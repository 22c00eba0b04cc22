"""Neuron morphologies: sections, builders, SWC import, validation, and conversion to Brian2.

A :class:`Morphology` is a tree of :class:`Section` objects, each an unbranched run of
compartments with a *region* label (``soma``, ``basal``, ``apical``, ``tuft``, ``dendrite``,
``ais``, ``axon``, ``node``, ``internode`` …) that models use to place channels and synapses.
Everything here is plain Python and numpy; :meth:`Morphology.to_brian2` builds the Brian2
morphology and returns, per section, the compartment indices Brian2 gave it (Brian2's own
attribute access selects a whole subtree, see the project's Brian2 notes, pitfall P1).

Lengths and diameters are in µm. A section of ``n`` compartments has ``n`` lengths and
``n + 1`` diameters (each compartment a truncated cone between two points, as in SWC and in
Brian2's ``Section``); a soma is a sphere of one compartment.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurocomp.checks import (
    check_bool,
    check_instance,
    check_int,
    check_real,
    describe_value,
)

__all__ = [
    "MAX_SECTIONS",
    "SWC_REGIONS",
    "Morphology",
    "MorphologyError",
    "Section",
    "ball_and_stick",
    "cable",
    "rall_daughter_diameter_um",
    "read_swc",
    "symmetric_tree",
    "with_axon",
]

#: Region names of the standard SWC structure types (Cannon et al. 1998, J Neurosci Methods
#: 84:49; the NeuroMorpho.Org specification). Types ≥ 5 are custom and read as "custom<n>".
SWC_REGIONS = {1: "soma", 2: "axon", 3: "basal", 4: "apical"}

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class MorphologyError(ValueError):
    """A malformed morphology (the message says which section or SWC line, and why)."""


def _numbers(section: Any, name: str, values: Any) -> tuple[float, ...]:
    """``values`` as a tuple of floats, or a MorphologyError naming the field."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise MorphologyError(f"section {section!r}: {name} must be a sequence of numbers "
                              f"(µm); got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise MorphologyError(f"section {section!r}: {name} must hold numbers (µm); got "
                                  f"{v!r} of type {type(v).__name__}")
        out.append(float(v))
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class Section:
    """An unbranched run of compartments.

    Parameters
    ----------
    name : str
        Unique identifier (letters, digits, underscores; starts with a letter).
    region : str
        Label used by models to place channels and synapses.
    parent : str or None
        Name of the parent section; ``None`` for the root.
    lengths_um : tuple of float
        Length of each compartment, µm (> 0). A soma has one entry: its diameter.
    diameters_um : tuple of float
        Diameters at the ``n + 1`` compartment boundaries, µm (> 0). A soma has one entry.
    is_soma : bool
        Whether this is a spherical soma (one compartment).
    """

    name: str
    region: str
    parent: str | None
    lengths_um: tuple[float, ...]
    diameters_um: tuple[float, ...]
    is_soma: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise MorphologyError(f"section name must be letters, digits and underscores "
                                  f"starting with a letter; got {self.name!r}")
        check_bool("is_soma", self.is_soma)
        lengths = _numbers(self.name, "lengths_um", self.lengths_um)
        diameters = _numbers(self.name, "diameters_um", self.diameters_um)
        object.__setattr__(self, "lengths_um", lengths)
        object.__setattr__(self, "diameters_um", diameters)
        if self.is_soma:
            if len(diameters) != 1:
                raise MorphologyError(f"section {self.name!r}: a soma has one diameter "
                                      f"(diameters_um); got {len(diameters)}")
            object.__setattr__(self, "lengths_um", diameters)
        elif len(lengths) < 1:
            raise MorphologyError(f"section {self.name!r}: lengths_um must hold n >= 1 "
                                  f"compartment lengths; got {self.lengths_um!r}")
        elif len(diameters) != len(lengths) + 1:
            raise MorphologyError(f"section {self.name!r}: diameters_um must hold n + 1 = "
                                  f"{len(lengths) + 1} diameters, one per compartment boundary "
                                  f"(needs n >= 1 compartment lengths and n + 1 diameters); got "
                                  f"{len(lengths)} lengths_um and {len(diameters)} "
                                  f"diameters_um")
        for what, values in (("lengths_um", self.lengths_um), ("diameters_um", diameters)):
            bad = [v for v in values if not (math.isfinite(v) and v > 0)]
            if bad:
                raise MorphologyError(f"section {self.name!r}: {what} must be finite and > 0 "
                                      f"µm; got {bad[0]!r}")

    @property
    def n(self) -> int:
        """Number of compartments."""
        return 1 if self.is_soma else len(self.lengths_um)

    @property
    def length_um(self) -> float:
        """Total length, µm (the diameter for a soma)."""
        return float(sum(self.lengths_um))

    def membrane_area_um2(self) -> np.ndarray:
        """Lateral membrane area of each compartment, µm² (sphere area for a soma)."""
        d = np.asarray(self.diameters_um)
        if self.is_soma:
            return np.array([np.pi * d[0] ** 2])
        r0, r1, L = d[:-1] / 2, d[1:] / 2, np.asarray(self.lengths_um)
        return np.pi * (r0 + r1) * np.sqrt(L**2 + (r1 - r0) ** 2)


@dataclass(frozen=True)
class Morphology:
    """A validated tree of sections (parents listed before their children)."""

    sections: tuple[Section, ...]
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.sections, str | bytes | Section) or not isinstance(self.sections,
                                                                              Iterable):
            raise MorphologyError(f"sections must be a sequence of Section objects; got "
                                  f"{type(self.sections).__name__}")
        secs = tuple(self.sections)
        object.__setattr__(self, "sections", secs)
        if not secs:
            raise MorphologyError("sections must hold at least one Section (the root); got "
                                  "none")
        seen: set[str] = set()
        for i, s in enumerate(secs):
            if not isinstance(s, Section):
                raise MorphologyError(f"sections[{i}] must be a Section; got "
                                      f"{describe_value(s)} of type {type(s).__name__}")
            if s.name in seen:
                raise MorphologyError(f"two sections are named {s.name!r}")
            if i == 0:
                if s.parent is not None:
                    raise MorphologyError(f"the first section ({s.name!r}) must be the root "
                                          f"(parent None); its parent is {s.parent!r}")
            elif s.parent is None:
                raise MorphologyError(f"section {s.name!r} has no parent, but "
                                      f"{secs[0].name!r} is already the root: a morphology "
                                      f"has exactly one root")
            elif s.parent not in seen:
                raise MorphologyError(f"section {s.name!r} names parent {s.parent!r}, which is "
                                      f"missing or listed after it")
            if s.is_soma and i != 0:
                raise MorphologyError(f"section {s.name!r}: only the root may be a soma")
            seen.add(s.name)

    # -- queries -----------------------------------------------------------------------
    def __getitem__(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(f"no section named {name!r}; sections: "
                       f"{', '.join(s.name for s in self.sections)}")

    @property
    def n_compartments(self) -> int:
        """Total number of compartments."""
        return sum(s.n for s in self.sections)

    @property
    def regions(self) -> tuple[str, ...]:
        """Region labels present, in order of first appearance."""
        return tuple(dict.fromkeys(s.region for s in self.sections))

    def children(self, name: str) -> tuple[Section, ...]:
        """Sections whose parent is ``name``."""
        return tuple(s for s in self.sections if s.parent == name)

    def compartment_table(self) -> dict[str, np.ndarray]:
        """Per-compartment arrays in Brian2's order (depth-first, children in insertion order).

        Keys: ``section`` (name), ``region``, ``index`` (Brian2 compartment index),
        ``distance_um`` (path distance of the compartment midpoint from the root's centre),
        ``length_um``, ``diameter_um`` (mean of the two ends), ``area_um2``.
        """
        rows: dict[str, list[Any]] = {k: [] for k in ("section", "region", "distance_um",
                                                      "length_um", "diameter_um", "area_um2")}

        def visit(sec: Section, start_um: float) -> None:
            L = np.asarray(sec.lengths_um)
            d = np.asarray(sec.diameters_um)
            if sec.is_soma:
                mids, ends, diam = np.array([0.0]), sec.diameters_um[0] / 2, d
            else:
                mids = start_um + np.cumsum(L) - L / 2
                ends, diam = start_um + L.sum(), (d[:-1] + d[1:]) / 2
            rows["section"] += [sec.name] * sec.n
            rows["region"] += [sec.region] * sec.n
            rows["distance_um"] += list(mids)
            rows["length_um"] += list(L)
            rows["diameter_um"] += list(diam)
            rows["area_um2"] += list(sec.membrane_area_um2())
            for child in self.children(sec.name):
                visit(child, ends)

        visit(self.sections[0], 0.0)
        table = {k: np.asarray(v) for k, v in rows.items()}
        table["index"] = np.arange(len(table["section"]))
        return table

    def indices(self, *, region: str | None = None, section: str | None = None) -> np.ndarray:
        """Brian2 compartment indices of a region or a section (sorted)."""
        table = self.compartment_table()
        if (region is None) == (section is None):
            raise ValueError("give exactly one of region or section")
        if region is not None:
            if region not in self.regions:
                raise KeyError(f"no region {region!r}; regions: {', '.join(self.regions)}")
            return table["index"][table["region"] == region]
        self[section]  # raises KeyError naming the sections
        return table["index"][table["section"] == section]

    # -- conversion --------------------------------------------------------------------
    def to_brian2(self) -> Any:
        """The Brian2 morphology (compartment order as in :meth:`compartment_table`)."""
        from brian2 import Cylinder, Soma, um
        from brian2 import Section as B2Section

        built: dict[str, Any] = {}
        for s in self.sections:
            if s.is_soma:
                obj = Soma(diameter=s.diameters_um[0] * um)
            elif len(set(s.diameters_um)) == 1 and len(set(s.lengths_um)) == 1:
                obj = Cylinder(n=s.n, diameter=s.diameters_um[0] * um,
                               length=s.length_um * um)
            else:
                obj = B2Section(n=s.n, diameter=np.asarray(s.diameters_um) * um,
                                length=np.asarray(s.lengths_um) * um)
            if s.parent is not None:
                setattr(built[s.parent], s.name, obj)
            built[s.name] = obj
        return built[self.sections[0].name]

    def with_sections(self, extra: Iterable[Section]) -> Morphology:
        """A new morphology with ``extra`` sections appended."""
        return Morphology((*self.sections, *extra), source=self.source)


# -- builders ----------------------------------------------------------------------------------

#: Most sections a builder makes unless told otherwise (``max_sections=``): a reconstructed
#: cell has hundreds to a few thousand; 2**16 sections build in about a second.
MAX_SECTIONS = 2**16


def _positive(**values: Any) -> None:
    """Each keyword a finite number > 0 (µm), or a ValueError/TypeError naming it."""
    for name, value in values.items():
        check_real(name, value, low=0, low_inclusive=False, unit="µm")


def _n_compartments(name: str, n: Any) -> int:
    return check_int(name, n, low=1)


def _check_sections(owner: str, n: float, sizes: str, max_sections: int | None) -> None:
    limit = MAX_SECTIONS if max_sections is None else check_int("max_sections", max_sections,
                                                                 low=1)
    if n > limit:
        default = " (the default bound)" if max_sections is None else ""
        count = "more than 2**1000" if n == math.inf else f"{float(n):.4g}"
        allow = ("" if n == math.inf else
                 f", or pass max_sections={int(n)} to build them")
        raise MorphologyError(f"{owner}: {sizes} makes {count} sections, more than "
                              f"max_sections = {limit}{default}; use fewer{allow}")


def tapered_section(name: str, region: str, parent: str | None, length_um: float,
                    start_diameter_um: float, end_diameter_um: float, n: int) -> Section:
    """A section of ``n`` equal compartments whose diameter changes linearly from
    ``start_diameter_um`` to ``end_diameter_um`` (µm) along its ``length_um``."""
    if not isinstance(n, int) or n < 1:
        raise MorphologyError(f"section {name!r}: n_compartments must be an integer >= 1; "
                              f"got {n!r}")
    d0, d1 = start_diameter_um, end_diameter_um
    return Section(name=name, region=region, parent=parent,
                   lengths_um=(length_um / n,) * n,
                   diameters_um=tuple(d0 + (d1 - d0) * k / n for k in range(n + 1)))


def _cyl(name: str, region: str, parent: str | None, length_um: float, diameter_um: float,
         n: int) -> Section:
    if not isinstance(n, int) or n < 1:
        raise MorphologyError(f"section {name!r}: n_compartments must be an integer >= 1; "
                              f"got {n!r}")
    return Section(name=name, region=region, parent=parent,
                   lengths_um=(length_um / n,) * n, diameters_um=(diameter_um,) * (n + 1))


def cable(*, length_um: float, diameter_um: float, n_compartments: int,
          region: str = "dendrite") -> Morphology:
    """A single uniform cylinder without a soma (for cable-theory checks)."""
    _positive(length_um=length_um, diameter_um=diameter_um)
    n_compartments = _n_compartments("n_compartments", n_compartments)
    return Morphology((_cyl("cable", region, None, length_um, diameter_um, n_compartments),),
                      source="neurocomp.biophysics.morphology.cable")


def ball_and_stick(*, soma_diameter_um: float, dendrite_length_um: float,
                   dendrite_diameter_um: float, n_compartments: int) -> Morphology:
    """A spherical soma with one uniform dendrite."""
    _positive(soma_diameter_um=soma_diameter_um, dendrite_length_um=dendrite_length_um,
              dendrite_diameter_um=dendrite_diameter_um)
    n_compartments = _n_compartments("n_compartments", n_compartments)
    soma = Section(name="soma", region="soma", parent=None, lengths_um=(soma_diameter_um,),
                   diameters_um=(soma_diameter_um,), is_soma=True)
    dend = _cyl("dend", "dendrite", "soma", dendrite_length_um, dendrite_diameter_um,
                n_compartments)
    return Morphology((soma, dend), source="neurocomp.biophysics.morphology.ball_and_stick")


def rall_daughter_diameter_um(parent_diameter_um: float, sibling_diameter_um: float) -> float:
    """Diameter that satisfies Rall's 3/2 rule, d_p^{3/2} = d_1^{3/2} + d_2^{3/2}."""
    rest = parent_diameter_um**1.5 - sibling_diameter_um**1.5
    if rest <= 0:
        raise ValueError(f"sibling_diameter_um ({sibling_diameter_um:g}) must be smaller than "
                         f"parent_diameter_um ({parent_diameter_um:g}) for the 3/2 rule")
    return rest ** (2 / 3)


def symmetric_tree(*, levels: int, root_length_um: float, root_diameter_um: float,
                   n_per_section: int, branching: int = 2, rall: bool = True,
                   length_scale: float | None = None, soma_diameter_um: float | None = None,
                   region: str = "dendrite", prefix: str = "b",
                   max_sections: int | None = None) -> Morphology:
    """A symmetric tree: every section splits into ``branching`` equal daughters.

    With ``rall=True`` the daughters obey Rall's 3/2 rule (d_child = d_parent · k^{-2/3} for
    k daughters) and, unless ``length_scale`` is given, their length scales so that every
    section has the same electrotonic length (L ∝ √d), which makes the tree equivalent to a
    single cylinder of the root's diameter (Rall 1962; Rallpack 2, Bhalla et al. 1992).
    The tree has ``branching**0 + … + branching**(levels-1)`` sections; more than
    ``max_sections`` (``None``: :data:`MAX_SECTIONS`) are refused before any is built.
    """
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise MorphologyError(f"levels must be an integer >= 1; got {levels!r}")
    if isinstance(branching, bool) or not isinstance(branching, int) or branching < 1:
        raise MorphologyError(f"branching must be an integer >= 1; got {branching!r}")
    _positive(root_length_um=root_length_um, root_diameter_um=root_diameter_um)
    n_per_section = _n_compartments("n_per_section", n_per_section)
    if length_scale is not None:
        check_real("length_scale", length_scale, low=0, low_inclusive=False)
    if soma_diameter_um is not None:
        _positive(soma_diameter_um=soma_diameter_um)
    if branching == 1:
        n_sections: float = levels
    elif levels * math.log2(branching) > 1000:  # never evaluate an astronomically large power
        n_sections = math.inf
    else:
        n_sections = (branching**levels - 1) // (branching - 1)
    _check_sections("symmetric_tree", n_sections, f"levels={levels}, branching={branching}",
                    max_sections)
    d_ratio = branching ** (-2 / 3) if rall else 1.0
    l_ratio = length_scale if length_scale is not None else (math.sqrt(d_ratio) if rall
                                                             else 1.0)
    sections: list[Section] = []
    parent_root: str | None = None
    if soma_diameter_um is not None:
        sections.append(Section(name="soma", region="soma", parent=None,
                                lengths_um=(soma_diameter_um,),
                                diameters_um=(soma_diameter_um,), is_soma=True))
        parent_root = "soma"
    frontier = [(f"{prefix}0", parent_root)]
    for level in range(levels):
        d = root_diameter_um * d_ratio**level
        L = root_length_um * l_ratio**level
        nxt = []
        for name, parent in frontier:
            sections.append(_cyl(name, region, parent, L, d, n_per_section))
            nxt += [(f"{name}_{k}", name) for k in range(branching)]
        frontier = nxt
    return Morphology(tuple(sections), source="neurocomp.biophysics.morphology.symmetric_tree")


def with_axon(morphology: Morphology, *, ais_length_um: float, ais_diameter_um: float,
              ais_compartments: int, axon_length_um: float, axon_diameter_um: float,
              axon_compartments: int, myelinated: bool = False,
              internode_length_um: float = 100.0, node_length_um: float = 1.0,
              max_sections: int | None = None) -> Morphology:
    """Attach an axon initial segment and an axon to the soma.

    An unmyelinated axon is one section (region ``axon``). A myelinated axon is a chain of
    internode sections (region ``internode``, ``axon_compartments`` is ignored in favour of
    one compartment per 10 µm) and 1-compartment nodes of Ranvier (region ``node``), ending
    in a 20 µm unmyelinated terminal branch (region ``axon``, 4 compartments). The last
    section's last compartment is the axon terminal. More than ``max_sections`` new sections
    (``None``: :data:`MAX_SECTIONS`) are refused before any is built.
    """
    check_instance("morphology", morphology, Morphology)
    _positive(ais_length_um=ais_length_um, ais_diameter_um=ais_diameter_um,
              axon_length_um=axon_length_um, axon_diameter_um=axon_diameter_um)
    ais_compartments = _n_compartments("ais_compartments", ais_compartments)
    check_bool("myelinated", myelinated)
    if myelinated:
        _positive(internode_length_um=internode_length_um, node_length_um=node_length_um)
        n_int = max(1, round(axon_length_um / (internode_length_um + node_length_um)))
        _check_sections("with_axon", 2.0 * n_int + 2,
                        f"axon_length_um={axon_length_um:g} in internodes of "
                        f"{internode_length_um:g} µm", max_sections)
    else:
        axon_compartments = _n_compartments("axon_compartments", axon_compartments)
    root = morphology.sections[0]
    if not root.is_soma:
        raise MorphologyError("with_axon needs a morphology whose root is a soma")
    extra = [_cyl("ais", "ais", root.name, ais_length_um, ais_diameter_um, ais_compartments)]
    if not myelinated:
        extra.append(_cyl("axon", "axon", "ais", axon_length_um, axon_diameter_um,
                          axon_compartments))
    else:
        n_int = max(1, round(axon_length_um / (internode_length_um + node_length_um)))
        parent = "ais"
        for k in range(n_int):
            per = max(1, round(internode_length_um / 10.0))
            extra.append(_cyl(f"internode{k}", "internode", parent, internode_length_um,
                              axon_diameter_um, per))
            extra.append(_cyl(f"node{k}", "node", f"internode{k}", node_length_um,
                              axon_diameter_um, 1))
            parent = f"node{k}"
        extra.append(_cyl("terminal", "axon", parent, 20.0, axon_diameter_um, 4))
    return morphology.with_sections(extra)


# -- SWC ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Point:
    line: int
    id: int
    type: int
    xyz: tuple[float, float, float]
    radius: float
    parent: int


def _parse_swc(text: str, origin: str) -> list[_Point]:
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


def read_swc(source: str | Path, *, text: str | None = None) -> Morphology:
    """Read an SWC file (or SWC ``text``) into a validated :class:`Morphology`.

    Checks, each with a message naming the line: 7 numeric fields per line, unique ids,
    parents that exist, exactly one root, no cycles, positive radii. Soma points (type 1) are
    merged into one sphere of the same total surface (a single point, the NeuroMorpho
    three-point soma, or a contour); the rest is cut into unbranched sections at branch
    points and at changes of structure type, one compartment per SWC segment. A child that
    starts on the soma gets its first point at the soma point.
    """
    origin = str(source) if text is None else (str(source) or "<swc text>")
    if text is None:
        path = Path(source)
        if not path.is_file():
            raise MorphologyError(f"SWC file not found: {path}")
        text = path.read_text()
    pts = _parse_swc(text, origin)
    by_id: dict[int, _Point] = {}
    for p in pts:
        if p.id in by_id:
            raise MorphologyError(f"{origin}, line {p.line}: id {p.id} already used on line "
                                  f"{by_id[p.id].line}")
        by_id[p.id] = p
    roots = [p for p in pts if p.parent == -1]
    if len(roots) != 1:
        lines = ", ".join(str(p.line) for p in roots) or "none"
        raise MorphologyError(f"{origin}: an SWC tree has exactly one root (parent -1); found "
                              f"{len(roots)} (lines {lines})")
    for p in pts:
        if p.parent != -1 and p.parent not in by_id:
            raise MorphologyError(f"{origin}, line {p.line}: parent {p.parent} of point {p.id} "
                                  f"does not exist")
    children: dict[int, list[int]] = {p.id: [] for p in pts}
    for p in pts:
        if p.parent != -1:
            children[p.parent].append(p.id)
    # cycle / reachability check by walking from the root
    reached, stack = set(), [roots[0].id]
    while stack:
        pid = stack.pop()
        if pid in reached:
            raise MorphologyError(f"{origin}: point {pid} is reached twice (cycle)")
        reached.add(pid)
        stack.extend(children[pid])
    if len(reached) != len(pts):
        lost = sorted(set(by_id) - reached)[:5]
        raise MorphologyError(f"{origin}: points {lost} are not connected to the root (cycle "
                              f"or detached subtree)")

    root = roots[0]
    soma_ids = [p.id for p in pts if p.type == 1]
    sections: list[Section] = []
    if root.type == 1:
        soma_pts = [by_id[i] for i in soma_ids]
        xyz = np.array([p.xyz for p in soma_pts])
        radii = np.array([p.radius for p in soma_pts])
        if len(soma_pts) == 1:
            area = 4 * np.pi * radii[0] ** 2
        elif len(soma_pts) == 3:  # NeuroMorpho three-point soma: a cylinder of 2r x 2r
            area = 4 * np.pi * radii[0] ** 2
        else:  # a contour: use the mean distance to the centroid as radius
            area = 4 * np.pi * np.mean(np.linalg.norm(xyz - xyz.mean(0), axis=1)) ** 2
        d = float(np.sqrt(area / np.pi))
        sections.append(Section(name="soma", region="soma", parent=None, lengths_um=(d,),
                                diameters_um=(d,), is_soma=True))
        soma_set = set(soma_ids)
        starts = [(c, "soma", root) for s in soma_ids for c in children[s] if c not in soma_set]
    else:
        soma_set = set()
        starts = [(c, None, root) for c in children[root.id]]
        if not starts:
            raise MorphologyError(f"{origin}: a tree without soma needs at least two points")
    counter: dict[str, int] = {}

    def region_of(t: int) -> str:
        return SWC_REGIONS.get(t, f"custom{t}")

    queue = list(starts)
    while queue:
        first, parent_name, anchor = queue.pop(0)
        chain = [by_id[first]]
        while (len(children[chain[-1].id]) == 1
               and by_id[children[chain[-1].id][0]].type == chain[0].type):
            chain.append(by_id[children[chain[-1].id][0]])
        region = region_of(chain[0].type)
        k = counter.get(region, 0)
        counter[region] = k + 1
        name = f"{region}{k}"
        line = [anchor, *chain]
        xyz = np.array([p.xyz for p in line])
        lengths = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
        if (lengths <= 0).any():
            bad = chain[int(np.argmax(lengths <= 0))]
            raise MorphologyError(f"{origin}, line {bad.line}: point {bad.id} coincides with its "
                                  f"parent (zero-length segment)")
        diam = [2 * (chain[0].radius if anchor.id in soma_set else anchor.radius)]
        diam += [2 * p.radius for p in chain]
        sections.append(Section(name=name, region=region, parent=parent_name,
                                lengths_um=tuple(lengths), diameters_um=tuple(diam)))
        tail = chain[-1]
        for c in children[tail.id]:
            queue.append((c, name, tail))
    if root.type != 1:
        extra_roots = [s.name for s in sections[1:] if s.parent is None]
        if extra_roots:
            raise MorphologyError(f"{origin}: without a soma the root point may have only one "
                                  f"child (a second branch starts section {extra_roots[0]})")
    return Morphology(tuple(sections), source=origin)


def describe(morphology: Morphology) -> dict[str, Any]:
    """Counts and sizes per region (for tables and figure legends)."""
    table = morphology.compartment_table()
    out: dict[str, Any] = {"n_sections": len(morphology.sections),
                           "n_compartments": int(table["index"].size)}
    for region in morphology.regions:
        mask = table["region"] == region
        out[region] = {"compartments": int(mask.sum()),
                       "length_um": float(table["length_um"][mask].sum()),
                       "area_um2": float(table["area_um2"][mask].sum())}
    return out

