r"""Passive cable theory (Rall): the analytic references for the biophysical pipeline.

For a cylinder of diameter :math:`d` with specific membrane resistance :math:`R_m`, axial
resistivity :math:`R_i` and specific capacitance :math:`C_m`,

.. math::

    \lambda = \sqrt{\frac{R_m d}{4 R_i}}, \qquad \tau_m = R_m C_m,

(Rall 1959; Koch 1999, *Biophysics of Computation*, ch. 2). The cable equation
:math:`\tau_m \partial_t V = \lambda^2 \partial_x^2 V - V` is a diffusion with
:math:`D = \lambda^2/\tau_m` plus decay (see :mod:`neurocomp.mapping.diffusion`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neurocomp._validation import check_real

__all__ = ["CableParameters"]


@dataclass(frozen=True, kw_only=True)
class CableParameters:
    """Electrical parameters of a uniform passive cylinder.

    Parameters
    ----------
    diameter_um : float
        Diameter, µm (0, 1000].
    Rm_ohm_cm2 : float
        Specific membrane resistance, Ω·cm² (0, 10⁷].
    Ri_ohm_cm : float
        Axial (cytoplasmic) resistivity, Ω·cm (0, 10⁵].
    Cm_uF_per_cm2 : float
        Specific membrane capacitance, µF/cm² (0, 100].
    source : str
        Where the values come from.
    """

    diameter_um: float
    Rm_ohm_cm2: float
    Ri_ohm_cm: float
    Cm_uF_per_cm2: float = 1.0
    source: str = ""

    def __post_init__(self) -> None:
        check_real("diameter_um", self.diameter_um, low=0, high=1000, low_inclusive=False,
                   unit="µm")
        check_real("Rm_ohm_cm2", self.Rm_ohm_cm2, low=0, high=1e7, low_inclusive=False,
                   unit="Ω·cm²")
        check_real("Ri_ohm_cm", self.Ri_ohm_cm, low=0, high=1e5, low_inclusive=False,
                   unit="Ω·cm")
        check_real("Cm_uF_per_cm2", self.Cm_uF_per_cm2, low=0, high=100, low_inclusive=False,
                   unit="µF/cm²")

    @property
    def length_constant_um(self) -> float:
        """λ = √(R_m d / 4 R_i), µm."""
        d_cm = self.diameter_um * 1e-4
        return math.sqrt(self.Rm_ohm_cm2 * d_cm / (4 * self.Ri_ohm_cm)) * 1e4

    @property
    def tau_m_ms(self) -> float:
        """τ_m = R_m C_m, ms."""
        return self.Rm_ohm_cm2 * self.Cm_uF_per_cm2 * 1e-6 * 1e3

    @property
    def diffusion_um2_per_ms(self) -> float:
        """D = λ²/τ_m, the cable's diffusion coefficient for voltage, µm²/ms."""
        return self.length_constant_um**2 / self.tau_m_ms
