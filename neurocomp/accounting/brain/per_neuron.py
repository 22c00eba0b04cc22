r"""Bottom-up brain estimates: a per-neuron cost scaled by cited neuron counts per type.

.. math:: F = \sum_{t} N_t \, c_t

where :math:`N_t` is the number of neurons of type (or region) :math:`t` and :math:`c_t` the
FLOP/s needed to compute one such neuron in real time (FLOP per simulated neuron-second).
The per-neuron costs come from this library's models: the biophysical simulation's cost,
a fitted surrogate's cost, or the ``DettmersNeuron`` layer's FLOPs, each converted to
FLOP/s per neuron by the caller. The counts are cited (``neurocomp_models.brain_estimates``).
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurocomp.accounting._checks import check_positive
from neurocomp.accounting.estimates import EstimateParameters, Factor, check_factor

__all__ = ["BottomUpParameters", "NeuronPopulation", "bottom_up", "bottom_up_flop_per_s"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_COUNT_SPEC = {"unit": "1", "low": 0.0, "high": None, "low_inclusive": False,
               "high_inclusive": True}
_COST_SPEC = {"unit": "FLOP/s", "low": 0.0, "high": None, "low_inclusive": False,
              "high_inclusive": True}


@dataclass(frozen=True, kw_only=True)
class NeuronPopulation:
    """A cited number of neurons of one type or region.

    Parameters
    ----------
    name : str
        Snake-case name (``"cerebellum"``, ``"purkinje"``).
    count : Factor
        How many such neurons a human brain holds (unit ``"1"``, > 0), with its source.
    """

    name: str
    count: Factor

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"NeuronPopulation.name must be snake_case; got {self.name!r}")
        check_factor(f"NeuronPopulation({self.name}).count", self.count, _COUNT_SPEC)


def _check_keys(what: str, given: Sequence[str], allowed: Sequence[str]) -> None:
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise ValueError(f"unknown neuron type {unknown[0]!r} in {what}; known types: "
                         f"{', '.join(map(repr, allowed))}")
    missing = [k for k in allowed if k not in given]
    if missing:
        raise ValueError(f"{what} has no entry for neuron type {missing[0]!r}; every type "
                         f"needs one ({', '.join(map(repr, allowed))})")


def bottom_up_flop_per_s(*, counts: Mapping[str, Any],
                         flop_per_s_per_neuron: Mapping[str, Any]) -> float | np.ndarray:
    """Σ over neuron types of count × FLOP/s per neuron (floats or sample arrays).

    Parameters
    ----------
    counts : mapping of str to float or array_like
        Neurons per type (> 0).
    flop_per_s_per_neuron : mapping of str to float or array_like
        Real-time cost of one neuron of each type, FLOP/s (> 0); same keys as ``counts``.

    Raises
    ------
    ValueError
        If the two mappings name different types, or a value is not > 0.
    """
    if not counts:
        raise ValueError("counts must name at least one neuron type; got none")
    _check_keys("flop_per_s_per_neuron", list(flop_per_s_per_neuron), list(counts))
    return sum(check_positive(f"counts[{k!r}]", counts[k])
               * check_positive(f"flop_per_s_per_neuron[{k!r}]", flop_per_s_per_neuron[k],
                                unit="FLOP/s")
               for k in counts)


@dataclass(frozen=True, kw_only=True)
class BottomUpParameters(EstimateParameters):
    """Neuron populations and a per-neuron cost for each; factors are named
    ``<type>_count`` and ``<type>_flop_per_s_per_neuron``.

    Parameters
    ----------
    populations : tuple of NeuronPopulation
        Cited counts, one per type, names unique.
    flop_per_s_per_neuron : mapping of str to Factor
        Per-neuron cost of each population (unit ``"FLOP/s"``, > 0) with its source.
    """

    populations: tuple[NeuronPopulation, ...]
    flop_per_s_per_neuron: Mapping[str, Factor] = field(default_factory=dict)

    formula_text = "Σ over neuron types of count × FLOP/s per neuron"
    uncounted = ("neurons of types not listed", "whatever the per-neuron cost model "
                 "leaves out (see its own report)")

    def __post_init__(self) -> None:
        super().__post_init__()
        pops = tuple(self.populations)
        if not pops or not all(isinstance(p, NeuronPopulation) for p in pops):
            raise TypeError("populations must be a non-empty sequence of NeuronPopulation")
        names = [p.name for p in pops]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"populations must have unique names; {dupes[0]!r} repeats")
        costs = dict(self.flop_per_s_per_neuron)
        _check_keys("flop_per_s_per_neuron", list(costs), names)
        for k, c in costs.items():
            check_factor(f"BottomUpParameters.flop_per_s_per_neuron[{k!r}]", c, _COST_SPEC)
        object.__setattr__(self, "populations", pops)
        object.__setattr__(self, "flop_per_s_per_neuron",
                           types.MappingProxyType({n: costs[n] for n in names}))

    def factors(self) -> dict[str, Factor]:
        out: dict[str, Factor] = {}
        for p in self.populations:
            out[f"{p.name}_count"] = p.count
            out[f"{p.name}_flop_per_s_per_neuron"] = self.flop_per_s_per_neuron[p.name]
        return out

    def _formula(self, **v: Any) -> Any:
        names = [p.name for p in self.populations]
        return bottom_up_flop_per_s(
            counts={n: v[f"{n}_count"] for n in names},
            flop_per_s_per_neuron={n: v[f"{n}_flop_per_s_per_neuron"] for n in names})

    def breakdown(self) -> dict[str, float]:
        """FLOP/s of each population at the central values."""
        return {p.name: float(p.count.value * self.flop_per_s_per_neuron[p.name].value)
                for p in self.populations}


def bottom_up(*, name: str, label: str, populations: Sequence[NeuronPopulation],
              flop_per_s_per_neuron: float | Factor | Mapping[str, float | Factor],
              cost_source: str = "", notes: Sequence[str] = ()) -> BottomUpParameters:
    """Build a bottom-up estimate from cited counts and per-neuron costs.

    Parameters
    ----------
    name, label : str
        Key and display name (``"bottom_up_simulation"``, ``"Brian2 simulation"``).
    populations : sequence of NeuronPopulation
        Cited neuron counts per type.
    flop_per_s_per_neuron : float, Factor, or mapping of str to either
        Per-neuron cost, FLOP/s (> 0): one value for every type, or one per type name.
        Plain floats become fixed factors sourced to ``cost_source``.
    cost_source : str
        Where plain-float costs come from (required when any cost is a float).
    notes : sequence of str
        Caveats to carry.

    Raises
    ------
    ValueError
        For an unknown or missing type name, a cost ≤ 0, or a float cost without source.
    """
    pops = tuple(populations)
    if isinstance(flop_per_s_per_neuron, Mapping):
        costs = dict(flop_per_s_per_neuron)
    else:
        costs = {p.name: flop_per_s_per_neuron for p in pops}

    def as_factor(key: str, c: float | Factor) -> Factor:
        if isinstance(c, Factor):
            return c
        if not cost_source.strip():
            raise ValueError(f"cost_source must say where the per-neuron cost of {key!r} "
                             f"comes from (it was given as a plain number, {c!r})")
        value = check_positive(f"flop_per_s_per_neuron[{key!r}]", c, unit="FLOP/s")
        return Factor(value=float(value), unit="FLOP/s", source=cost_source,
                      label=f"{key} FLOP/s per neuron")

    return BottomUpParameters(name=name, label=label, populations=pops, notes=tuple(notes),
                              flop_per_s_per_neuron={k: as_factor(k, c)
                                                     for k, c in costs.items()})
