"""Neuron morphologies: builders of model trees, SWC import, and per-region descriptions.

A :class:`~neurocomp.biophysics.morphology_tree.Morphology` is a tree of
:class:`~neurocomp.biophysics.morphology_tree.Section` objects, each an unbranched run of
compartments with a *region* label (``soma``, ``basal``, ``apical``, ``tuft``, ``dendrite``,
``ais``, ``axon``, ``node``, ``internode`` …) that models use to place channels and synapses
(the data types, their validation and the conversion to Brian2 are in
:mod:`neurocomp.biophysics.morphology_tree`). Here are the builders (a cable, a ball and
stick, a symmetric tree, an axon attached to a soma), :func:`read_swc` (its parsing and
checks in :mod:`neurocomp.biophysics.morphology_swc`) and :func:`describe`. Everything is
plain Python and numpy.

Lengths and diameters are in µm. A section of ``n`` compartments has ``n`` lengths and
``n + 1`` diameters (each compartment a truncated cone between two points, as in SWC and in
Brian2's ``Section``); a soma is a sphere of one compartment.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from neurocomp.biophysics.morphology_swc import _parse_swc, _swc_sections, _swc_tree
from neurocomp.biophysics.morphology_tree import Morphology, MorphologyError, Section
from neurocomp.biophysics.units import accepts_quantities
from neurocomp.checks import check_bool, check_instance, check_int, check_real

__all__ = [
    "MAX_SECTIONS",
    "SWC_REGIONS",
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


@accepts_quantities
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


@accepts_quantities
def cable(*, length_um: float, diameter_um: float, n_compartments: int,
          region: str = "dendrite") -> Morphology:
    """A single uniform cylinder without a soma (for cable-theory checks)."""
    _positive(length_um=length_um, diameter_um=diameter_um)
    n_compartments = _n_compartments("n_compartments", n_compartments)
    return Morphology((_cyl("cable", region, None, length_um, diameter_um, n_compartments),),
                      source="neurocomp.biophysics.morphology.cable")


@accepts_quantities
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


@accepts_quantities
def rall_daughter_diameter_um(parent_diameter_um: float, sibling_diameter_um: float) -> float:
    """Diameter that satisfies Rall's 3/2 rule, d_p^{3/2} = d_1^{3/2} + d_2^{3/2}."""
    rest = parent_diameter_um**1.5 - sibling_diameter_um**1.5
    if rest <= 0:
        raise ValueError(f"sibling_diameter_um ({sibling_diameter_um:g}) must be smaller than "
                         f"parent_diameter_um ({parent_diameter_um:g}) for the 3/2 rule")
    return rest ** (2 / 3)


@accepts_quantities
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


@accepts_quantities
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
    tree = _swc_tree(_parse_swc(text, origin), origin)
    return Morphology(tuple(_swc_sections(tree, SWC_REGIONS)), source=origin)


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

