r"""Uncertainty of an estimate: Monte-Carlo over its factors' ranges, and a tornado.

* :func:`monte_carlo` draws every ranged factor independently from its stated distribution
  (``Factor.distribution``; log-uniform over a cited range unless the parameter set says
  otherwise) and evaluates the formula once on the whole batch. Same ``rng`` state, same
  numbers. :func:`method_rng` gives each estimate its own stream, so that adding or
  removing one estimate never changes another's draws.
* :func:`input_range` evaluates the formula at every corner of the box of ranges: for the
  monotone formulas here its minimum and maximum are the extremes any combination of the
  stated ranges can give (Carlsmith's 1e13–1e17 is such a range).
* :func:`tornado` moves one factor at a time to each end of its range, others at their
  central values. For a multiplicative formula :math:`F = \prod_i x_i^{a_i}` the swing of
  factor *i* is :math:`a_i \log_{10}(x_i^\mathrm{hi}/x_i^\mathrm{lo})` decades, which
  :func:`elasticities` (:math:`a_i = \partial\ln F/\partial\ln x_i`) lets a test check.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from neurocomp.accounting.estimates.factors import EstimateParameters
from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.provenance import FLOP_CONVENTION

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MonteCarlo", "Tornado", "elasticities", "input_range", "method_rng", "monte_carlo",
           "tornado"]

#: Largest number of ranged factors :func:`input_range` enumerates corners for (2^k points).
MAX_CORNER_FACTORS = 20


@dataclass(frozen=True, kw_only=True)
class MonteCarlo:
    """Monte-Carlo samples of one estimate.

    Attributes
    ----------
    name : str
        The estimate's key.
    flop_per_s : numpy.ndarray
        One estimate per draw, FLOP/s.
    factor_samples : dict of str to numpy.ndarray
        The draws of every factor (fixed ones as constant arrays).
    distributions : dict of str to str
        How each factor was drawn, in words.
    """

    name: str
    flop_per_s: np.ndarray
    factor_samples: dict[str, np.ndarray]
    distributions: dict[str, str]
    convention: str = FLOP_CONVENTION

    @property
    def n_samples(self) -> int:
        """Number of draws."""
        return int(self.flop_per_s.size)

    def quantile(self, q: float | Sequence[float]) -> float | np.ndarray:
        """Quantile(s) ``q`` in [0, 1] of the estimate, FLOP/s."""
        qs = np.atleast_1d(np.asarray(q, dtype=float))
        for x in qs:
            check_real("q", float(x), low=0.0, high=1.0)
        out = np.quantile(self.flop_per_s, qs)
        return float(out[0]) if np.ndim(q) == 0 else out

    def summary(self) -> dict[str, float]:
        """5 %, 50 % and 95 % quantiles and the geometric mean, FLOP/s."""
        p05, p50, p95 = self.quantile([0.05, 0.5, 0.95])
        return {"p05_flop_per_s": float(p05), "p50_flop_per_s": float(p50),
                "p95_flop_per_s": float(p95),
                "geometric_mean_flop_per_s": float(np.exp(np.mean(np.log(self.flop_per_s))))}


def method_rng(seed: int, name: str) -> np.random.Generator:
    """The random generator of one estimate's Monte-Carlo draws.

    Seeded with ``[seed, crc32(name)]``: one independent stream per estimate key, so
    adding, removing or reordering estimates never changes another estimate's draws.

    Parameters
    ----------
    seed : int
        The run's seed (a non-negative integer, as ``numpy.random.default_rng`` takes).
    name : str
        The estimate's key (``EstimateParameters.name``, e.g. ``"dettmers_2015"``).

    Returns
    -------
    numpy.random.Generator
        Pass it as ``rng`` to :func:`monte_carlo`.

    Examples
    --------
    >>> a = method_rng(0, "dettmers_2015").random()
    >>> a == method_rng(0, "dettmers_2015").random()
    True
    """
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def monte_carlo(params: EstimateParameters, *, n_samples: int,
                rng: np.random.Generator) -> MonteCarlo:
    """Draw every factor from its distribution and evaluate the estimate on the batch.

    Parameters
    ----------
    params : EstimateParameters
        The parameter set; fixed factors stay at their values.
    n_samples : int
        Number of draws, in [1, 10⁸].
    rng : numpy.random.Generator
        Source of randomness; factors are drawn in declaration order, one call each.

    Returns
    -------
    MonteCarlo
    """
    n = check_int("n_samples", n_samples, low=1, high=10**8)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)); "
                        f"got {type(rng).__name__}")
    factors = params.factors()
    samples = {k: f.sample(n, rng) for k, f in factors.items()}
    values = np.broadcast_to(np.asarray(params.evaluate(samples), dtype=float), (n,))
    return MonteCarlo(name=params.name, flop_per_s=np.array(values), factor_samples=samples,
                      distributions={k: f.describe_distribution() for k, f in factors.items()})


def input_range(params: EstimateParameters) -> tuple[float, float]:
    """Smallest and largest estimate over every corner of the factors' ranges, FLOP/s.

    Raises
    ------
    ValueError
        If more than :data:`MAX_CORNER_FACTORS` factors are ranged.
    """
    factors = params.factors()
    ranged = [k for k, f in factors.items() if f.is_ranged]
    if len(ranged) > MAX_CORNER_FACTORS:
        raise ValueError(f"{params.name!r} has {len(ranged)} ranged factors; input_range "
                         f"enumerates corners for at most {MAX_CORNER_FACTORS}")
    central = params.central_values()
    if not ranged:
        value = float(params.evaluate(central))
        return value, value
    corners = np.array(list(itertools.product((0, 1), repeat=len(ranged))), dtype=bool)
    values = {k: np.full(len(corners), v) for k, v in central.items()}
    for j, k in enumerate(ranged):
        values[k] = np.where(corners[:, j], factors[k].high, factors[k].low)
    out = np.asarray(params.evaluate(values), dtype=float)
    return float(out.min()), float(out.max())


@dataclass(frozen=True, kw_only=True)
class Tornado:
    """One-at-a-time sensitivity of an estimate, bars sorted by swing (largest first).

    Attributes
    ----------
    name : str
        The estimate's key.
    central_flop_per_s : float
        The estimate at central values.
    bars : pandas.DataFrame
        One row per ranged factor: ``factor``, ``label``, ``unit``, ``low``, ``central``,
        ``high``, ``flop_per_s_at_low``, ``flop_per_s_at_high``, ``swing_decades``
        (|log₁₀ of their ratio|).
    fixed : tuple of str
        Factors without a range (no bar).
    """

    name: str
    central_flop_per_s: float
    bars: pd.DataFrame
    fixed: tuple[str, ...]

    def swing_decades(self) -> dict[str, float]:
        """Swing of each ranged factor in decades (orders of magnitude)."""
        return dict(zip(self.bars["factor"], self.bars["swing_decades"], strict=True))


def tornado(params: EstimateParameters, *, factors: Sequence[str] | None = None) -> Tornado:
    """Move each ranged factor to the ends of its range, the others held central.

    Parameters
    ----------
    params : EstimateParameters
        The parameter set.
    factors : sequence of str, optional
        Restrict to these factors (default: every ranged factor).

    Raises
    ------
    ValueError
        If a requested name is not a ranged factor of ``params``.
    """
    import pandas as pd

    all_factors = params.factors()
    ranged = [k for k, f in all_factors.items() if f.is_ranged]
    if factors is not None and isinstance(factors, str):
        raise TypeError(f"factors must be a sequence of factor names, e.g. [{factors!r}]; got "
                        f"the string {factors!r}")
    for k in () if factors is None else factors:
        if k not in all_factors:
            check_choice("factor", k, list(all_factors))
        if not ranged:
            raise ValueError(f"factor {k!r} of {params.name!r} is fixed: the estimate has no "
                             f"ranged factor to move")
    names = ranged if factors is None else [check_choice("factor", k, ranged) for k in factors]
    central = params.evaluate(params.central_values())
    rows = []
    for k in names:
        f = all_factors[k]
        at_low, at_high = float(params.at(**{k: f.low})), float(params.at(**{k: f.high}))
        rows.append({"factor": k, "label": f.label or k.replace("_", " "), "unit": f.unit,
                     "low": float(f.low), "central": float(f.value), "high": float(f.high),
                     "flop_per_s_at_low": at_low, "flop_per_s_at_high": at_high,
                     "swing_decades": abs(math.log10(at_high / at_low))})
    bars = pd.DataFrame(rows, columns=["factor", "label", "unit", "low", "central", "high",
                                       "flop_per_s_at_low", "flop_per_s_at_high",
                                       "swing_decades"])
    bars = bars.sort_values("swing_decades", ascending=False, kind="stable")
    return Tornado(name=params.name, central_flop_per_s=float(central),
                   bars=bars.reset_index(drop=True),
                   fixed=tuple(k for k in all_factors if k not in ranged))


def elasticities(params: EstimateParameters, *, rel_step: float = 1e-4,
                 at: Mapping[str, float] | None = None) -> dict[str, float]:
    r"""∂ln F/∂ln x of every factor (central differences in log x).

    For a multiplicative formula these are the exponents (1 for a linear factor, 2 for T in
    the Dettmers rebuild) wherever they are evaluated; the truncation error is O(rel_step²).

    Parameters
    ----------
    params : EstimateParameters
        The parameter set.
    rel_step : float
        Step in ln x, in (0, 0.1].
    at : mapping of str to float, optional
        Factor values to evaluate at instead of the central ones (the rest stay central).
    """
    h = check_real("rel_step", rel_step, low=0.0, high=0.1, low_inclusive=False)
    point = params.central_values()
    for k, v in (at or {}).items():
        check_choice("factor", k, list(point))
        point[k] = check_real(f"at[{k!r}]", v, low=0.0, low_inclusive=False)
    out = {}
    for k, v in point.items():
        up = float(params.evaluate({**point, k: v * math.exp(h)}))
        down = float(params.evaluate({**point, k: v * math.exp(-h)}))
        out[k] = (math.log(up) - math.log(down)) / (2 * h)
    return out
