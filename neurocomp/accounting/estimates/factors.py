"""Cited factors with ranges, published targets, and the base of every estimate's parameters.

A brain-compute estimate is a pure function of a few factors (neuron counts, rates, costs
per event). Each factor is a :class:`Factor`: a :class:`~neurocomp.citations.Cited` value
(number, unit, source, note) plus, where a source gives one, the range it may span and the
distribution that Monte-Carlo draws from that range. A parameter set is a frozen dataclass
deriving from :class:`EstimateParameters` whose fields are factors; it validates every
factor at construction (sign, bounds, unit) and names the offending field in the message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from neurocomp.checks import check_choice, check_real
from neurocomp.citations import Cited

__all__ = [
    "DISTRIBUTIONS",
    "EstimateParameters",
    "Factor",
    "Published",
    "check_factor",
    "factor_meta",
]

#: How Monte-Carlo draws a factor: held at its value, or uniform in log or linear space
#: over ``[low, high]``.
DISTRIBUTIONS = ("fixed", "log-uniform", "uniform")

_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@dataclass(frozen=True, kw_only=True)
class Factor(Cited):
    """A cited value with the range it may span and how Monte-Carlo samples it.

    Parameters
    ----------
    value : float
        Central value, in ``unit`` (the value the source uses).
    unit : str
        Unit (``"Hz"``, ``"FLOP"``, ``"1"`` for counts …).
    source : str
        Citation of the value.
    note : str
        How the value was read, its status mark (docs/references.md#status-marks) ([V] checked in a
        primary source, [S] secondary only, [R] from memory, [C] computed, NOT FOUND), and caveats.
    low, high : float or None
        Range of plausible values, in ``unit``; both or neither. ``low ≤ value ≤ high``.
    distribution : {"fixed", "log-uniform", "uniform"}
        How :func:`neurocomp.accounting.estimates.uncertainty.monte_carlo` samples the factor.
        ``"fixed"`` (the default) needs no range; the others need one, and ``"log-uniform"``
        needs ``low > 0``.
    range_source : str
        Where the range comes from, when not from ``source``.
    label : str
        Short human-readable name for figures (defaults to the field name).
    """

    low: float | None = None
    high: float | None = None
    distribution: str = "fixed"
    range_source: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("distribution", self.distribution, DISTRIBUTIONS)
        if (self.low is None) != (self.high is None):
            raise ValueError(f"low and high must be given together; got low={self.low!r}, "
                             f"high={self.high!r}")
        if self.low is None:
            if self.distribution != "fixed":
                raise ValueError(f"distribution {self.distribution!r} needs a range: give "
                                 f"low and high (got none)")
            return
        lo = check_real("low", self.low)
        hi = check_real("high", self.high, low=lo, low_inclusive=False)
        check_real("value", self.value, low=lo, high=hi)
        if self.distribution == "fixed":
            raise ValueError(f"a range [{lo:g}, {hi:g}] was given but distribution is "
                             f"'fixed'; choose 'log-uniform' or 'uniform'")
        if self.distribution == "log-uniform":
            check_real("low", lo, low=0.0, low_inclusive=False)

    @classmethod
    def log_midpoint(cls, *, low: float, high: float, **kwargs: Any) -> Factor:
        """A log-uniform factor whose value is the geometric midpoint √(low·high) of its range.

        For a source that gives only a range; say so in ``note``.
        """
        check_real("low", low, low=0.0, low_inclusive=False)
        check_real("high", high, low=low, low_inclusive=False)
        return cls(value=math.sqrt(low * high), low=low, high=high,
                   distribution="log-uniform", **kwargs)

    @property
    def is_ranged(self) -> bool:
        """Whether the factor varies in Monte-Carlo and in the tornado."""
        return self.distribution != "fixed"

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """``n_samples`` draws from the factor's distribution (one ``rng`` call).

        Parameters
        ----------
        n_samples : int
            Number of draws.
        rng : numpy.random.Generator
            Source of randomness (the caller owns the seed).
        """
        if self.distribution == "fixed":
            return np.full(n_samples, float(self.value))
        u = rng.random(n_samples)
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.distribution == "uniform":
            return lo + (hi - lo) * u
        return np.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u)

    def describe_distribution(self) -> str:
        """One phrase for tables: ``"log-uniform on [50, 1000] Hz"`` or ``"fixed at 200 Hz"``."""
        unit = "" if self.unit == "1" else f" {self.unit}"
        if self.distribution == "fixed":
            return f"fixed at {self.value:g}{unit}"
        return f"{self.distribution} on [{self.low:g}, {self.high:g}]{unit}"


@dataclass(frozen=True, kw_only=True)
class Published:
    """What a source itself reports for an estimate: a value, a range, or both.

    Parameters
    ----------
    source : str
        Citation.
    flop_per_s : float or None
        The published point value converted to FLOP/s (by the conversion stated in ``note``).
    low_flop_per_s, high_flop_per_s : float or None
        The published range in FLOP/s, both or neither.
    as_published : str
        The value in the source's own words and unit (``"1.075×10^21 FLOPS"``,
        ``"1e8 MIPS"``, ``"0.18–6.4e14 TEPS"``).
    note : str
        Status in the reference notes and how the value was converted.
    """

    source: str
    flop_per_s: float | None = None
    low_flop_per_s: float | None = None
    high_flop_per_s: float | None = None
    as_published: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise ValueError("source must name where the published value comes from; "
                             "got an empty string")
        if (self.low_flop_per_s is None) != (self.high_flop_per_s is None):
            raise ValueError("low_flop_per_s and high_flop_per_s must be given together")
        if self.flop_per_s is None and self.low_flop_per_s is None:
            raise ValueError("give flop_per_s, or low_flop_per_s and high_flop_per_s, or both")
        if self.flop_per_s is not None:
            check_real("flop_per_s", self.flop_per_s, low=0.0, low_inclusive=False,
                       unit="FLOP/s")
        if self.low_flop_per_s is not None:
            lo = check_real("low_flop_per_s", self.low_flop_per_s, low=0.0,
                            low_inclusive=False, unit="FLOP/s")
            check_real("high_flop_per_s", self.high_flop_per_s, low=lo, unit="FLOP/s")


def factor_meta(*, unit: str, low: float = 0.0, high: float | None = None,
                low_inclusive: bool = False, high_inclusive: bool = True) -> dict[str, Any]:
    """Field metadata declaring a :class:`Factor` field, its unit and its allowed range.

    Use as ``rate_hz: Factor = field(metadata=factor_meta(unit="Hz"))``. The range is checked
    on the factor's value and on both ends of its range when the parameter set is built.
    The default, ``(0, inf)``, suits counts, rates and costs: a count or rate that is zero
    or negative is an error, never clipped.
    """
    return {"factor": {"unit": unit, "low": low, "high": high,
                       "low_inclusive": low_inclusive, "high_inclusive": high_inclusive}}


@dataclass(frozen=True, kw_only=True)
class EstimateParameters:
    """Base of the parameter sets of brain-compute estimates.

    Subclasses declare their factors with ``field(metadata=factor_meta(...))`` and implement
    :meth:`_formula`, a call to the method's pure formula with one keyword per factor.
    Everything else (validation, central value, Monte-Carlo, tornado) is shared.

    Parameters
    ----------
    name : str
        Snake-case key of the estimate (``"dettmers_2015"``); headline keys derive from it.
    label : str
        Name for figures (``"Dettmers (2015)"``).
    published : Published or None
        What the source reports, for the reproduction check.
    notes : tuple of str
        Caveats that travel with the estimate.
    """

    name: str
    label: str
    published: Published | None = None
    notes: tuple[str, ...] = ()

    #: What kind of number the source calls its estimate.
    bound: ClassVar[str] = "central estimate"
    #: The formula in words, with the factor names.
    formula_text: ClassVar[str] = ""
    #: What the formula leaves out, as the source or docs/references.md says.
    uncounted: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"name must be snake_case (e.g. 'dettmers_2015'); "
                             f"got {self.name!r}")
        if not self.label.strip():
            raise ValueError(f"label of {self.name!r} must be a non-empty string")
        owner = type(self).__name__
        for f in fields(self):
            spec = f.metadata.get("factor")
            if spec is None:
                continue
            check_factor(f"{owner}.{f.name}", getattr(self, f.name), spec)

    # -- to implement ------------------------------------------------------------------
    def _formula(self, **values: Any) -> Any:
        """The method's pure formula, called with one keyword per factor."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------
    def factors(self) -> dict[str, Factor]:
        """Every factor of the estimate, by name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if "factor" in f.metadata}

    def central_values(self) -> dict[str, float]:
        """The central value of every factor."""
        return {k: float(v.value) for k, v in self.factors().items()}

    def evaluate(self, values: Mapping[str, Any]) -> float | np.ndarray:
        """The estimate, FLOP/s, for explicit factor values (floats or sample arrays).

        Raises
        ------
        ValueError
            If a factor is missing or a name is not a factor of this estimate.
        """
        names = list(self.factors())
        unknown = [k for k in values if k not in names]
        if unknown:
            raise ValueError(f"unknown factor {unknown[0]!r} for estimate {self.name!r}; "
                             f"factors: {', '.join(names)}")
        missing = [k for k in names if k not in values]
        if missing:
            raise ValueError(f"missing value for factor {missing[0]!r} of estimate "
                             f"{self.name!r}")
        return self._formula(**values)

    def at(self, **overrides: Any) -> float | np.ndarray:
        """The estimate with some factors moved from their central values, FLOP/s."""
        return self.evaluate({**self.central_values(), **overrides})

    @property
    def flop_per_s(self) -> float:
        """The estimate at the central value of every factor, FLOP/s."""
        return float(self.evaluate(self.central_values()))


def check_factor(where: str, value: Any, spec: Mapping[str, Any]) -> None:
    """Check that ``value`` is a :class:`Factor` in the unit and bounds of ``spec``.

    Parameters
    ----------
    where : str
        The field's name in messages (``"Owner.field"``).
    value : Any
        The value to check.
    spec : mapping
        ``unit`` (str), ``low``, ``high`` (float or None) and ``low_inclusive``,
        ``high_inclusive`` (bool): the ``"factor"`` entry of :func:`factor_meta`; the value
        and both ends of its range must lie within the bounds.

    Raises
    ------
    TypeError
        If ``value`` is not a :class:`Factor`.
    ValueError
        If its unit differs from ``spec["unit"]`` or a number lies outside the bounds.
    """
    if not isinstance(value, Factor):
        raise TypeError(f"{where} must be a neurocomp.accounting.Factor (a cited value); "
                        f"got {type(value).__name__}")
    if value.unit != spec["unit"]:
        raise ValueError(f"{where} must be in unit {spec['unit']!r}; got a factor in "
                         f"{value.unit!r}")
    unit = "" if spec["unit"] == "1" else spec["unit"]
    for part, x in (("", value.value), (".low", value.low), (".high", value.high)):
        if x is not None:
            check_real(f"{where}{part}", x, low=spec["low"], high=spec["high"],
                       low_inclusive=spec["low_inclusive"],
                       high_inclusive=spec["high_inclusive"], unit=unit)
