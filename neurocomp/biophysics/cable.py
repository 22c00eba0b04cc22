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

import numpy as np
import scipy.optimize

from neurocomp.biophysics.units import accepts_quantities, convert_quantity_fields
from neurocomp.checks import check_finite_array, check_instance, check_real

__all__ = [
    "CableParameters",
    "electrotonic_distance",
    "finite_cable_input_resistance_mohm",
    "finite_cable_steady_state_mV",
    "psp_peak_time_ms",
    "psp_waveform",
    "semi_infinite_input_resistance_mohm",
]


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
        convert_quantity_fields(self)
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

    @property
    def axial_resistance_mohm_per_um(self) -> float:
        """r_a = 4 R_i / (π d²), MΩ/µm."""
        d_cm = self.diameter_um * 1e-4
        r_a_ohm_per_cm = 4 * self.Ri_ohm_cm / (math.pi * d_cm**2)
        return r_a_ohm_per_cm * 1e-4 / 1e6


@accepts_quantities
def finite_cable_steady_state_mV(x_um: np.ndarray, *, cable: CableParameters, length_um: float,
                                 current_nA: float) -> np.ndarray:
    r"""Steady depolarisation of a sealed-end cable with current injected at x = 0, mV.

    .. math:: V(x) = r_a \lambda I_0 \frac{\cosh((L - x)/\lambda)}{\sinh(L/\lambda)}
    """
    check_instance("cable", cable, CableParameters)
    lam = cable.length_constant_um
    L = check_real("length_um", length_um, low=0, low_inclusive=False, unit="µm")
    current_nA = check_real("current_nA", current_nA, unit="nA")
    x = check_finite_array("x_um", np.asarray(x_um, dtype=np.float64))
    if x.size and (x.min() < -1e-9 * L or x.max() > L * (1 + 1e-9)):  # round-off forgiven
        raise ValueError(f"x_um must lie on the cable, in [0, length_um={L:g}] µm; got values "
                         f"in [{x.min():g}, {x.max():g}] µm")
    ra_lam_mohm = cable.axial_resistance_mohm_per_um * lam
    return current_nA * ra_lam_mohm * np.cosh((L - x) / lam) / np.sinh(L / lam)


@accepts_quantities
def finite_cable_input_resistance_mohm(*, cable: CableParameters, length_um: float) -> float:
    """R_in = r_a λ coth(L/λ) of a sealed-end cable, MΩ."""
    check_instance("cable", cable, CableParameters)
    lam = cable.length_constant_um
    L = check_real("length_um", length_um, low=0, low_inclusive=False, unit="µm")
    return cable.axial_resistance_mohm_per_um * lam / math.tanh(L / lam)


def semi_infinite_input_resistance_mohm(cable: CableParameters) -> float:
    """R_∞ = (2/π) √(R_m R_i) d^{-3/2}, MΩ."""
    check_instance("cable", cable, CableParameters)
    d_cm = cable.diameter_um * 1e-4
    return 2 / math.pi * math.sqrt(cable.Rm_ohm_cm2 * cable.Ri_ohm_cm) * d_cm**-1.5 / 1e6


def _check_taus(**taus: float) -> None:
    for name, tau in taus.items():
        check_real(name, tau, low=0, low_inclusive=False, unit="ms")


@accepts_quantities
def psp_waveform(t_ms: np.ndarray, *, tau_rise_ms: float, tau_decay_ms: float,
                 tau_m_ms: float) -> np.ndarray:
    r"""Shape of the PSP of a single passive compartment driven by a difference-of-exponentials
    current (unnormalised): the convolution of :math:`e^{-t/\tau_d} - e^{-t/\tau_r}` with
    :math:`e^{-t/\tau_m}`,

    .. math:: \sum_{s \in \{d, r\}} \pm\frac{e^{-t/\tau_s} - e^{-t/\tau_m}}
              {1/\tau_m - 1/\tau_s}.
    """
    _check_taus(tau_rise_ms=tau_rise_ms, tau_decay_ms=tau_decay_ms, tau_m_ms=tau_m_ms)
    t = check_finite_array("t_ms", np.asarray(t_ms, dtype=np.float64))

    def term(tau_s: float) -> np.ndarray:
        return (np.exp(-t / tau_s) - np.exp(-t / tau_m_ms)) / (1 / tau_m_ms - 1 / tau_s)

    return np.where(t >= 0, term(tau_decay_ms) - term(tau_rise_ms), 0.0)


@accepts_quantities
def psp_peak_time_ms(*, tau_rise_ms: float, tau_decay_ms: float, tau_m_ms: float) -> float:
    """Time of the PSP peak after the synaptic event, ms (root of the waveform's slope)."""
    _check_taus(tau_rise_ms=tau_rise_ms, tau_decay_ms=tau_decay_ms, tau_m_ms=tau_m_ms)
    taus = sorted({tau_rise_ms, tau_decay_ms, tau_m_ms})
    if len(taus) < 3:
        raise ValueError("tau_rise_ms, tau_decay_ms and tau_m_ms must differ")

    def slope(t: float) -> float:
        h = 1e-6 * max(t, 1e-3)
        f = psp_waveform(np.array([t - h, t + h]), tau_rise_ms=tau_rise_ms,
                         tau_decay_ms=tau_decay_ms, tau_m_ms=tau_m_ms)
        return float(f[1] - f[0])

    grid = np.linspace(1e-3, 20 * taus[-1], 20001)
    wave = psp_waveform(grid, tau_rise_ms=tau_rise_ms, tau_decay_ms=tau_decay_ms,
                        tau_m_ms=tau_m_ms)
    k = int(np.argmax(wave))
    return float(scipy.optimize.brentq(slope, grid[max(k - 1, 0)], grid[k + 1], xtol=1e-12))


@accepts_quantities
def electrotonic_distance(morphology, *, Rm_ohm_cm2: float, Ri_ohm_cm: float) -> np.ndarray:
    """Electrotonic distance X = Σ Δx/λ(d) of each compartment centre from the root's start.

    Each compartment contributes its length over the length constant of its own diameter;
    a child section starts where its parent's last compartment ends. For a tree that obeys
    Rall's 3/2 rule with equal electrotonic paths, X × λ_root maps every compartment onto
    its place on the equivalent cylinder.
    """
    table = morphology.compartment_table()
    lam = np.array([CableParameters(diameter_um=d, Rm_ohm_cm2=Rm_ohm_cm2,
                                    Ri_ohm_cm=Ri_ohm_cm).length_constant_um
                    for d in table["diameter_um"]])
    X = np.zeros(lam.size)
    for sec in morphology.sections:
        idx = morphology.indices(section=sec.name)
        start = 0.0
        if sec.parent is not None:
            last = morphology.indices(section=sec.parent)[-1]
            start = X[last] + 0.5 * table["length_um"][last] / lam[last]
        seg = table["length_um"][idx] / lam[idx]
        X[idx] = start + np.cumsum(seg) - seg / 2
    return X
