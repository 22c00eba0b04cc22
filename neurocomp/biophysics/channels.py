r"""Hodgkin–Huxley channels as channel units, their rate functions and temperature factor.

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

from neurocomp.biophysics.mechanisms import Channel, ChannelDensity, Gate, Membrane
from neurocomp.biophysics.mechanisms_expressions import evaluate
from neurocomp.biophysics.units import accepts_quantities, convert_quantity_fields
from neurocomp.checks import check_real

__all__ = [
    "HH_SQUID",
    "ChannelDensities",
    "hh_potassium",
    "hh_rates",
    "hh_sodium",
    "leak_reversal_for_rest_mV",
    "max_stable_dt_ms",
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
        convert_quantity_fields(self)
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

    @accepts_quantities
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
#: +10.613 (docs/references.md#anchors-neuro-3-2).
HH_REVERSAL_ABOVE_REST_MV = {"Na": 115.0, "K": -12.0, "L": 10.613}


_HH_SOURCE = "Hodgkin & Huxley (1952) J Physiol 117:500"


def _u(E_rest_mV: float) -> str:
    return f"(v - ({float(E_rest_mV)!r}))"


@accepts_quantities
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


@accepts_quantities
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


@accepts_quantities
def hh_rates(u_mV: np.ndarray, *, temperature_C: float = T_REF_C) -> dict[str, np.ndarray]:
    """α and β (1/ms) of m, h, n at depolarisation ``u_mV`` above rest, evaluated from the
    channel units :func:`hh_sodium` and :func:`hh_potassium` (the one definition)."""
    u = np.asarray(u_mV, dtype=np.float64)
    out = {}
    for channel in (hh_sodium(E_rest_mV=0.0), hh_potassium(E_rest_mV=0.0)):
        phi = channel.rate_factor(temperature_C)
        for g in channel.gates:
            for rate in ("alpha", "beta"):
                out[f"{rate}_{g.name}"] = phi * np.broadcast_to(
                    evaluate(getattr(g, rate), v_mV=u), u.shape).astype(np.float64)
    return out


@accepts_quantities
def resting_gates(u_mV: float = 0.0) -> dict[str, float]:
    """Steady-state m, h, n at ``u_mV`` above rest (temperature-independent)."""
    r = hh_rates(np.array(u_mV))
    return {g: float(r[f"alpha_{g}"] / (r[f"alpha_{g}"] + r[f"beta_{g}"]))
            for g in ("m", "h", "n")}


@accepts_quantities
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
