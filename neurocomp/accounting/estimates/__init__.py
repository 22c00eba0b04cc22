"""Estimates from cited factors: evaluation at central values, and their uncertainty.

:class:`Factor` (a cited value with a range and a distribution) and
:class:`EstimateParameters` (``factors``); :func:`estimate` (``central``); Monte-Carlo, input
ranges, tornado, elasticities and per-method random streams (``uncertainty``).
"""

from neurocomp.accounting.estimates.central import estimate, relative_error, select
from neurocomp.accounting.estimates.factors import (
    EstimateParameters,
    Factor,
    Published,
    check_factor,
    factor_meta,
)
from neurocomp.accounting.estimates.uncertainty import (
    elasticities,
    input_range,
    method_rng,
    monte_carlo,
    tornado,
)

__all__ = [
    "EstimateParameters",
    "Factor",
    "Published",
    "check_factor",
    "elasticities",
    "estimate",
    "factor_meta",
    "input_range",
    "method_rng",
    "monte_carlo",
    "relative_error",
    "select",
    "tornado",
]
