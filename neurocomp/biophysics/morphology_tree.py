"""The morphology's data types: sections, the validated tree of them, and its errors.

:class:`Section` is an unbranched run of compartments; :class:`Morphology` a validated tree
of sections, with its compartment table and its Brian2 form; :class:`MorphologyError` a
malformed one.

Lengths and diameters are in µm. A section of ``n`` compartments has ``n`` lengths and
``n + 1`` diameters (each compartment a truncated cone between two points, as in SWC and in
Brian2's ``Section``); a soma is a sphere of one compartment. :meth:`Morphology.to_brian2`
builds the Brian2 morphology; its compartment order is that of
:meth:`Morphology.compartment_table` (Brian2's own attribute access selects a whole subtree,
see the project's Brian2 notes, pitfall P1). Builders and the SWC reader are in
:mod:`neurocomp.biophysics.morphology`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurocomp.biophysics.units import convert_quantity_fields
from neurocomp.checks import check_bool, describe_value

__all__ = ["Morphology", "MorphologyError", "Section"]

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
        convert_quantity_fields(self)
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
