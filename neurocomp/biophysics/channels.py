r"""Hodgkin–Huxley channels: rate functions, temperature, and the Brian2 membrane equations.

The Na⁺ and K⁺ kinetics are those of Hodgkin & Huxley (1952, J Physiol 117:500) for the squid
giant axon, written for a resting potential ``E_rest`` (−65 mV here, as in Rallpack 3) with
:math:`u = V - E_\text{rest}` in mV:

.. math::

    \alpha_m = \frac{0.1(25-u)}{e^{(25-u)/10}-1},\ \beta_m = 4e^{-u/18},\
    \alpha_h = 0.07e^{-u/20},\ \beta_h = \frac{1}{e^{(30-u)/10}+1},\
    \alpha_n = \frac{0.01(10-u)}{e^{(10-u)/10}-1},\ \beta_n = 0.125e^{-u/80}

(per ms at 6.3 °C), all multiplied by :math:`\phi = Q_{10}^{(T-6.3)/10}` with
:math:`Q_{10} = 3`. The same kinetics with region-specific densities give the soma, the axon
initial segment (high Na⁺ density: the spike starts there), the axon and, in "active"
dendrites, dendritic Na⁺/K⁺ spikes. Densities are per compartment, so a stage can be switched
off by zeroing them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocomp._validation import check_real
from neurocomp.biophysics.mechanisms import Channel, ChannelDensity, Gate, Membrane

__all__ = [
    "HH_SQUID",
    "ChannelDensities",
    "hh_potassium",
    "hh_rates",
    "hh_sodium",
    "leak_reversal_for_rest_mV",
    "max_stable_dt_ms",
    "membrane_equations",
    "resting_gates",
    "temperature_factor",
]

Q10 = 3.0
T_REF_C = 6.3


@dataclass(frozen=True, kw_only=True)
class ChannelDensities:
    """Maximal conductances of one region, mS/cm².

    Parameters
    ----------
    gNa_mS_cm2, gK_mS_cm2 : float
        HH Na⁺ and delayed-rectifier K⁺ densities (≥ 0).
    gL_mS_cm2 : float
        Leak conductance density (> 0), i.e. 1/R_m.
    Cm_uF_cm2 : float
        Specific membrane capacitance, µF/cm² (> 0); myelin lowers it.
    """

    gNa_mS_cm2: float = 0.0
    gK_mS_cm2: float = 0.0
    gL_mS_cm2: float = 0.05
    Cm_uF_cm2: float = 1.0

    def __post_init__(self) -> None:
        check_real("gNa_mS_cm2", self.gNa_mS_cm2, low=0, high=1e5, unit="mS/cm²")
        check_real("gK_mS_cm2", self.gK_mS_cm2, low=0, high=1e5, unit="mS/cm²")
        check_real("gL_mS_cm2", self.gL_mS_cm2, low=0, high=1e4, low_inclusive=False,
                   unit="mS/cm²")
        check_real("Cm_uF_cm2", self.Cm_uF_cm2, low=0, high=100, low_inclusive=False,
                   unit="µF/cm²")

    @property
    def active(self) -> bool:
        """Whether the region has voltage-gated channels."""
        return self.gNa_mS_cm2 > 0 or self.gK_mS_cm2 > 0

    def passive(self) -> ChannelDensities:
        """The same region with its voltage-gated channels removed."""
        return ChannelDensities(gL_mS_cm2=self.gL_mS_cm2, Cm_uF_cm2=self.Cm_uF_cm2)

    def as_membrane(self, *, E_rest_mV: float) -> Membrane:
        """This region as a :class:`~neurocomp.biophysics.mechanisms.Membrane` of HH channel
        units (:func:`hh_sodium`, :func:`hh_potassium`) with the leak reversal that makes
        ``E_rest_mV`` the resting potential (:func:`leak_reversal_for_rest_mV`)."""
        channels = (ChannelDensity(channel=hh_sodium(E_rest_mV=E_rest_mV),
                                   gbar=self.gNa_mS_cm2 * 1e-3),
                    ChannelDensity(channel=hh_potassium(E_rest_mV=E_rest_mV),
                                   gbar=self.gK_mS_cm2 * 1e-3)) if self.active else ()
        return Membrane(g_leak_S_cm2=self.gL_mS_cm2 * 1e-3, Cm_uF_cm2=self.Cm_uF_cm2,
                        E_leak_mV=leak_reversal_for_rest_mV(self, E_rest_mV=E_rest_mV),
                        channels=channels)


#: The squid giant axon (Hodgkin & Huxley 1952; values as in Rallpack 3 and Brian2's example).
HH_SQUID = ChannelDensities(gNa_mS_cm2=120.0, gK_mS_cm2=36.0, gL_mS_cm2=0.3, Cm_uF_cm2=1.0)
#: Reversal potentials of HH 1952 relative to rest (mV above rest): Na +115, K −12, leak
#: +10.613 (anchors_neuro.md section 3.2).
HH_REVERSAL_ABOVE_REST_MV = {"Na": 115.0, "K": -12.0, "L": 10.613}


_HH_SOURCE = "Hodgkin & Huxley (1952) J Physiol 117:500"


def _u(E_rest_mV: float) -> str:
    return f"(v - ({float(E_rest_mV)!r}))"


def hh_sodium(*, E_rest_mV: float = -65.0) -> Channel:
    """The HH (1952) Na⁺ channel, m³h, as a channel unit (kinetics written for rest
    ``E_rest_mV``; Q10 = 3 from 6.3 °C)."""
    u = _u(E_rest_mV)
    return Channel(
        name="hh_na", ion="na", reversal_mV=E_rest_mV + HH_REVERSAL_ABOVE_REST_MV["Na"],
        q10=Q10, reference_temperature_C=T_REF_C, source=_HH_SOURCE,
        gates=(Gate.from_rates(name="m", power=3, alpha=f"1/exprel((25 - {u})/10)",
                               beta=f"4*exp(-{u}/18)"),
               Gate.from_rates(name="h", power=1, alpha=f"0.07*exp(-{u}/20)",
                               beta=f"1/(exp((30 - {u})/10) + 1)")))


def hh_potassium(*, E_rest_mV: float = -65.0) -> Channel:
    """The HH (1952) delayed-rectifier K⁺ channel, n⁴, as a channel unit."""
    u = _u(E_rest_mV)
    return Channel(
        name="hh_k", ion="k", reversal_mV=E_rest_mV + HH_REVERSAL_ABOVE_REST_MV["K"],
        q10=Q10, reference_temperature_C=T_REF_C, source=_HH_SOURCE,
        gates=(Gate.from_rates(name="n", power=4, alpha=f"0.1/exprel((10 - {u})/10)",
                               beta=f"0.125*exp(-{u}/80)"),))


def temperature_factor(temperature_C: float) -> float:
    """φ = 3^((T − 6.3)/10), the HH rate multiplier (Q10 = 3)."""
    t = check_real("temperature_C", temperature_C, low=-10, high=50, unit="°C")
    return Q10 ** ((t - T_REF_C) / 10.0)


def _exprel(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 + x / 2, np.expm1(safe) / safe)


def hh_rates(u_mV: np.ndarray, *, temperature_C: float = T_REF_C) -> dict[str, np.ndarray]:
    """α and β (1/ms) of m, h, n at depolarisation ``u_mV`` above rest."""
    u = np.asarray(u_mV, dtype=np.float64)
    phi = temperature_factor(temperature_C)
    return {
        "alpha_m": phi / _exprel((25.0 - u) / 10.0),
        "beta_m": phi * 4.0 * np.exp(-u / 18.0),
        "alpha_h": phi * 0.07 * np.exp(-u / 20.0),
        "beta_h": phi / (np.exp((30.0 - u) / 10.0) + 1.0),
        "alpha_n": phi * 0.1 / _exprel((10.0 - u) / 10.0),
        "beta_n": phi * 0.125 * np.exp(-u / 80.0),
    }


def resting_gates(u_mV: float = 0.0) -> dict[str, float]:
    """Steady-state m, h, n at ``u_mV`` above rest (temperature-independent)."""
    r = hh_rates(np.array(u_mV))
    return {g: float(r[f"alpha_{g}"] / (r[f"alpha_{g}"] + r[f"beta_{g}"]))
            for g in ("m", "h", "n")}


def leak_reversal_for_rest_mV(densities: ChannelDensities, *, E_rest_mV: float) -> float:
    """Leak reversal that makes ``E_rest_mV`` the resting potential of a region, mV.

    At rest the leak cancels the HH currents: E_L = E_rest − I_HH(E_rest)/g_L with
    I_HH = g_Na m³h (E_Na − E_rest) + g_K n⁴ (E_K − E_rest). For the squid densities this
    gives E_rest + 10.6 mV, HH's own leak reversal (the check in the tests); for other
    densities it keeps every compartment at the same rest, so no region drives the others.
    """
    g = resting_gates(0.0)
    i_hh = (densities.gNa_mS_cm2 * g["m"] ** 3 * g["h"] * HH_REVERSAL_ABOVE_REST_MV["Na"]
            + densities.gK_mS_cm2 * g["n"] ** 4 * HH_REVERSAL_ABOVE_REST_MV["K"])
    return E_rest_mV - i_hh / densities.gL_mS_cm2


def max_stable_dt_ms(temperature_C: float, *, fraction: float = 0.5) -> float:
    """Largest dt (ms) that resolves the HH gates during a spike: ``fraction`` × min τ.

    The minimum of τ = 1/(α+β) is taken over the range an action potential sweeps, −20 to
    +110 mV above rest. (Exponential Euler integrates each gate exactly at fixed V, so far
    below rest a fast m-gate costs no accuracy; what must be resolved is the upstroke.) With
    the default fraction 0.5 this allows dt = 25 µs at 6.3 °C and asks for ≤ 10.5 µs at
    18.5 °C.
    """
    fraction = check_real("fraction", fraction, low=0, high=1, low_inclusive=False)
    r = hh_rates(np.linspace(-20.0, 110.0, 1301), temperature_C=temperature_C)
    tau_min = min(float(np.min(1.0 / (r[f"alpha_{g}"] + r[f"beta_{g}"]))) for g in "mhn")
    return fraction * tau_min


def membrane_equations(*, temperature_C: float, with_hh: bool = True) -> str:
    """Brian2 membrane current (``Im``) and gating equations for a SpatialNeuron.

    Per-compartment parameters: ``gNa``, ``gK``, ``gL`` (siemens/meter**2) and the leak
    reversal ``E_L`` (volt; see :func:`leak_reversal_for_rest_mV`); ``E_rest``, ``E_Na`` and
    ``E_K`` come from the run namespace.
    """
    phi = temperature_factor(temperature_C)
    if not with_hh:
        return "\n".join(["Im = gL*(E_L - v) : amp/meter**2",
                          "gL : siemens/meter**2", "gNa : siemens/meter**2",
                          "gK : siemens/meter**2", "E_L : volt"])
    return "\n".join([
        "Im = gL*(E_L - v) + gNa*m**3*h*(E_Na - v) + gK*n**4*(E_K - v) : amp/meter**2",
        "dm/dt = alpha_m*(1 - m) - beta_m*m : 1",
        "dh/dt = alpha_h*(1 - h) - beta_h*h : 1",
        "dn/dt = alpha_n*(1 - n) - beta_n*n : 1",
        f"alpha_m = {phi!r}/exprel((25*mV - (v - E_rest))/(10*mV))/ms : Hz",
        f"beta_m = {phi!r}*4*exp(-(v - E_rest)/(18*mV))/ms : Hz",
        f"alpha_h = {phi!r}*0.07*exp(-(v - E_rest)/(20*mV))/ms : Hz",
        f"beta_h = {phi!r}/(exp((30*mV - (v - E_rest))/(10*mV)) + 1)/ms : Hz",
        f"alpha_n = {phi!r}*0.1/exprel((10*mV - (v - E_rest))/(10*mV))/ms : Hz",
        f"beta_n = {phi!r}*0.125*exp(-(v - E_rest)/(80*mV))/ms : Hz",
        "gNa : siemens/meter**2", "gK : siemens/meter**2", "gL : siemens/meter**2",
        "E_L : volt",
    ])
