"""Cited empirical values: a number never travels without its source."""

from __future__ import annotations

from dataclasses import dataclass

from neurocomp.checks import check_real

__all__ = ["Cited"]


@dataclass(frozen=True, kw_only=True)
class Cited:
    """An empirical value with its unit and where it comes from.

    Parameters
    ----------
    value : float
        The number, in ``unit``.
    unit : str
        Unit of ``value`` (``"mm^2/s"``, ``"Hz"``, ``"1"`` for dimensionless).
    source : str
        Citation (authors, year, title or venue; URL where there is one).
    note : str
        How the value was read or derived from the source, and its caveats.
    """

    value: float
    unit: str
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        check_real("value", self.value)
        if not self.source.strip():
            raise ValueError("source must name where the value comes from; got an empty string")
