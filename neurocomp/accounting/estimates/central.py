"""An estimate evaluated from its parameter set, with its convention and reproduction check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from neurocomp.accounting.convention import FLOP_PER_MAC
from neurocomp.accounting.estimates.factors import EstimateParameters, Published
from neurocomp.checks import check_choice, check_real
from neurocomp.provenance import FLOP_CONVENTION

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Estimate", "estimate", "relative_error", "select"]


def relative_error(rebuilt: float, published: float) -> float:
    """(rebuilt − published) / published: signed, dimensionless (``published`` ≠ 0)."""
    rebuilt = check_real("rebuilt", rebuilt)
    published = check_real("published", published)
    if published == 0:
        raise ValueError("published must be non-zero (it is the denominator of the relative "
                         "error); got 0")
    return (rebuilt - published) / published


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One brain-compute estimate at the central values of its factors.

    Attributes
    ----------
    name, label : str
        Key and display name of the estimate.
    flop_per_s : float
        The estimate, FLOP/s.
    values : mapping of str to float
        The factor values it was computed from.
    formula : str
        The formula in words.
    bound : str
        What the source calls the number (``"lower bound"``, ``"central estimate"``).
    published : Published or None
        What the source reports.
    uncounted : tuple of str
        What the formula leaves out.
    convention : str
        The FLOP convention (:data:`~neurocomp.provenance.FLOP_CONVENTION`).
    """

    name: str
    label: str
    flop_per_s: float
    values: Mapping[str, float]
    formula: str
    bound: str
    published: Published | None
    uncounted: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    convention: str = field(default=FLOP_CONVENTION)

    @property
    def mac_per_s(self) -> float:
        """The estimate in multiply-adds per second (FLOP/s ÷ 2)."""
        return self.flop_per_s / FLOP_PER_MAC

    @property
    def published_rel_error(self) -> float | None:
        """Signed relative error against the published point value (None if there is none)."""
        if self.published is None or self.published.flop_per_s is None:
            return None
        return relative_error(self.flop_per_s, self.published.flop_per_s)

    def to_frame(self) -> pd.DataFrame:
        """One row per factor: name, value; the estimate and convention on every row."""
        import pandas as pd

        return pd.DataFrame([{"estimate": self.name, "factor": k, "value": v,
                              "flop_per_s": self.flop_per_s,
                              "flop_convention": self.convention}
                             for k, v in self.values.items()])


def estimate(params: EstimateParameters) -> Estimate:
    """Evaluate a parameter set at the central value of every factor.

    Parameters
    ----------
    params : EstimateParameters
        A cited parameter set (see ``neurocomp_models.brain_estimates``).

    Returns
    -------
    Estimate
    """
    if not isinstance(params, EstimateParameters):
        raise TypeError(f"params must be an EstimateParameters; got {type(params).__name__}")
    values = params.central_values()
    return Estimate(name=params.name, label=params.label,
                    flop_per_s=float(params.evaluate(values)), values=values,
                    formula=params.formula_text, bound=params.bound,
                    published=params.published, uncounted=params.uncounted,
                    notes=params.notes)


def select(available: Mapping[str, EstimateParameters],
           names: Sequence[str] | None = None) -> dict[str, EstimateParameters]:
    """Pick parameter sets by name, in the order given (all of them for ``None``).

    Raises
    ------
    ValueError
        If a name is not among ``available`` (the message lists the known names).
    """
    if names is None:
        return dict(available)
    if isinstance(names, str):
        names = [names]
    return {check_choice("method", n, list(available)): available[n] for n in names}
