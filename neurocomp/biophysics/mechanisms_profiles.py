r"""Channel densities that vary along the dendrite with path distance from the soma.

Each profile gives a maximal conductance density (S/cm²) as a function of a compartment's
path distance from the soma (µm).

A :class:`~neurocomp.biophysics.mechanisms.ChannelDensity` takes a constant density or one
of these profiles: an exponential gradient (:class:`ExponentialProfile`, e.g. Hay et al.
2011's apical Iₕ) or a band of distances with its own density (:class:`WindowProfile`,
e.g. the Ca²⁺ "hot zone" of the apical trunk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics.units import accepts_quantities, convert_quantity_fields
from neurocomp.checks import check_real

__all__ = ["ExponentialProfile", "WindowProfile"]


@dataclass(frozen=True, kw_only=True)
class ExponentialProfile:
    r"""Density growing exponentially with path distance from the soma, S/cm².

    .. math:: \bar g(d) = \bar g_0\,\bigl(a + b\, e^{\min(d, d_\text{cap})/\lambda}\bigr)

    (Hay et al. 2011's apical Iₕ gradient has a = −0.8696, b = 2.087, λ = L/3.6161 with L
    the longest apical path; a negative result is an error, not clipped.)
    """

    base_S_cm2: float
    offset: float
    amplitude: float
    length_um: float
    cap_um: float = math.inf

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        check_real("base_S_cm2", self.base_S_cm2, low=0, unit="S/cm²")
        check_real("offset", self.offset, low=-1e3, high=1e3)
        check_real("amplitude", self.amplitude, low=-1e3, high=1e3)
        check_real("length_um", self.length_um, low=0, low_inclusive=False, unit="µm")
        if not (self.cap_um > 0):
            raise ValueError(f"cap_um must be > 0 µm; got {self.cap_um}")

    @accepts_quantities
    def at(self, distance_um: np.ndarray) -> np.ndarray:
        """Density at each path distance (µm), S/cm²."""
        d = np.minimum(np.asarray(distance_um, dtype=np.float64), self.cap_um)
        g = self.base_S_cm2 * (self.offset + self.amplitude * np.exp(d / self.length_um))
        if np.any(g < 0):
            raise ValueError(f"exponential profile is negative at {float(d[g < 0][0]):g} µm; "
                             f"choose offset/amplitude so the density stays ≥ 0")
        return g


@dataclass(frozen=True, kw_only=True)
class WindowProfile:
    """One density inside a band of path distances [start, stop] µm, another outside, S/cm²
    (e.g. the Ca²⁺ "hot zone" of the apical trunk)."""

    inside_S_cm2: float
    outside_S_cm2: float
    start_um: float
    stop_um: float

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        check_real("inside_S_cm2", self.inside_S_cm2, low=0, unit="S/cm²")
        check_real("outside_S_cm2", self.outside_S_cm2, low=0, unit="S/cm²")
        check_real("start_um", self.start_um, low=0, unit="µm")
        check_real("stop_um", self.stop_um, low=self.start_um, low_inclusive=False, unit="µm")

    @accepts_quantities
    def at(self, distance_um: np.ndarray) -> np.ndarray:
        """Density at each path distance (µm), S/cm²."""
        d = np.asarray(distance_um, dtype=np.float64)
        inside = (d >= self.start_um) & (d <= self.stop_um)
        return np.where(inside, self.inside_S_cm2, self.outside_S_cm2)


#: A channel's maximal conductance density: a constant (S/cm²) or a profile.
Profile = float | ExponentialProfile | WindowProfile

