"""Ion channels of Hay et al. (2011)'s layer-5b pyramidal cell, as channel units.

Hay, Hill, Schürmann, Markram & Segev (2011), PLoS Comput Biol 7:e1002107 (ModelDB 139653,
``mod/*.mod``), the cell that Beniaguev, Segev & London (2021) mapped onto a deep net. The
kinetics below are written from the formulas of those mechanism files (transcribed in the
project's reference notes, docs/references.md#anchors-surrogates-engines-c-2): V in mV, rates in
1/ms, time constants in ms at the files' reference temperature. Channels marked "qt" scale their
rates by qt = 2.3^((T − 21)/10) (Q10 2.3 from 21 °C; 2.953 at the 34 °C the files assume);
the others are temperature-independent. Reversal potentials are Hay's (E_Na +50, E_K −85,
E_h −45 mV). Each singular rate of the form x/(1 − e^(−x/k)) is written with ``exprel`` so it
is finite at x = 0, as the mod files' ``trap0``/``vtrap`` helpers intend.
"""

from __future__ import annotations

import math

from neurocomp.biophysics import Channel, Gate
from neurocomp.checks import check_real

__all__ = ["E_K_MV", "E_NA_MV", "HAY_CHANNELS", "calcium_nernst_mV"]

_SRC = "Hay et al. (2011) PLoS Comput Biol 7:e1002107, ModelDB 139653 mod/{}.mod"
E_NA_MV = 50.0   # Hay et al. (2011) L5PCbiophys3.hoc: ena
E_K_MV = -85.0   # Hay et al. (2011) L5PCbiophys3.hoc: ek
E_H_MV = -45.0   # Hay et al. (2011) Ih.mod: ehcn
_QT = {"q10": 2.3, "reference_temperature_C": 21.0}  # qt = 2.3^((celsius - 21)/10)
_NO_QT = {"q10": 1.0, "reference_temperature_C": 34.0}

_NA_AM = "0.182*6/exprel(-(v + 38)/6)"   # α_m of NaTa_t (and of Nap_Et2's τ_m)
_NA_BM = "0.124*6/exprel((v + 38)/6)"


def calcium_nernst_mV(*, temperature_C: float, ca_out_mM: float = 2.0,
                      ca_in_mM: float = 1e-4) -> float:
    """Nernst potential of Ca²⁺ (z = 2), mV; Hay's cao 2 mM and resting cai 1e-4 mM."""
    check_real("temperature_C", temperature_C, low=-273.15, low_inclusive=False, unit="°C")
    check_real("ca_out_mM", ca_out_mM, low=0, low_inclusive=False, unit="mM")
    check_real("ca_in_mM", ca_in_mM, low=0, low_inclusive=False, unit="mM")
    r, f = 8.314462618, 96485.33212  # CODATA 2018
    return 1e3 * r * (temperature_C + 273.15) / (2 * f) * math.log(ca_out_mM / ca_in_mM)


NaTa_t = Channel(
    name="NaTa_t", ion="na", reversal_mV=E_NA_MV, source=_SRC.format("NaTa_t"), **_QT,
    gates=(Gate(name="m", power=3, inf=f"({_NA_AM})/(({_NA_AM}) + ({_NA_BM}))",
                tau_ms=f"1/(({_NA_AM}) + ({_NA_BM}))"),
           Gate(name="h", power=1,
                inf="(0.015*6/exprel((v + 66)/6))/((0.015*6/exprel((v + 66)/6))"
                    " + (0.015*6/exprel(-(v + 66)/6)))",
                tau_ms="1/((0.015*6/exprel((v + 66)/6)) + (0.015*6/exprel(-(v + 66)/6)))")))

_NAP_AH = "2.88e-6*4.63/exprel((v + 17)/4.63)"
_NAP_BH = "6.94e-6*2.63/exprel(-(v + 64.4)/2.63)"
Nap_Et2 = Channel(
    name="Nap_Et2", ion="na", reversal_mV=E_NA_MV, source=_SRC.format("Nap_Et2"), **_QT,
    gates=(Gate(name="m", power=3, inf="1/(1 + exp(-(v + 52.6)/4.6))",
                tau_ms=f"6/(({_NA_AM}) + ({_NA_BM}))"),
           Gate(name="h", power=1, inf="1/(1 + exp((v + 48.8)/10))",
                tau_ms=f"1/(({_NAP_AH}) + ({_NAP_BH}))")))

K_Pst = Channel(
    name="K_Pst", ion="k", reversal_mV=E_K_MV, source=_SRC.format("K_Pst"), **_QT,
    gates=(Gate(name="m", power=2, inf="1/(1 + exp(-((v + 10) + 1)/12))",
                tau_ms="(1.25 + 175.03*exp(0.026*(v + 10)))*int((v + 10) < -50)"
                       " + (1.25 + 13*exp(-0.026*(v + 10)))*int((v + 10) >= -50)"),
           Gate(name="h", power=1, inf="1/(1 + exp(((v + 10) + 54)/11))",
                tau_ms="360 + (1010 + 24*((v + 10) + 55))*exp(-(((v + 10) + 75)/48)**2)")))

K_Tst = Channel(
    name="K_Tst", ion="k", reversal_mV=E_K_MV, source=_SRC.format("K_Tst"), **_QT,
    gates=(Gate(name="m", power=4, inf="1/(1 + exp(-(v + 10)/19))",
                tau_ms="0.34 + 0.92*exp(-(((v + 10) + 71)/59)**2)"),
           Gate(name="h", power=1, inf="1/(1 + exp(((v + 10) + 66)/10))",
                tau_ms="8 + 49*exp(-(((v + 10) + 73)/23)**2)")))

SKv3_1 = Channel(
    name="SKv3_1", ion="k", reversal_mV=E_K_MV, source=_SRC.format("SKv3_1"), **_NO_QT,
    gates=(Gate(name="m", power=1, inf="1/(1 + exp((v - 18.7)/(-9.7)))",
                tau_ms="4/(1 + exp((v + 46.56)/(-44.14)))"),))

Im = Channel(
    name="Im", ion="k", reversal_mV=E_K_MV, source=_SRC.format("Im"), **_QT,
    gates=(Gate.from_rates(name="m", power=1, alpha="3.3e-3*exp(0.1*(v + 35))",
                           beta="3.3e-3*exp(-0.1*(v + 35))"),))

Ih = Channel(
    name="Ih", ion="nonspecific", reversal_mV=E_H_MV, source=_SRC.format("Ih"), **_NO_QT,
    gates=(Gate.from_rates(name="m", power=1, alpha="6.43e-3*11.9/exprel((v + 154.9)/11.9)",
                           beta="0.193*exp(v/33.1)"),))

Ca_HVA = Channel(
    name="Ca_HVA", ion="ca", reversal_mV=calcium_nernst_mV(temperature_C=34.0),
    source=_SRC.format("Ca_HVA"), **_NO_QT,
    gates=(Gate.from_rates(name="m", power=2, alpha="0.055*3.8/exprel((-27 - v)/3.8)",
                           beta="0.94*exp((-75 - v)/17)"),
           Gate.from_rates(name="h", power=1, alpha="4.57e-4*exp((-13 - v)/50)",
                           beta="0.0065/(exp((-v - 15)/28) + 1)")))

Ca_LVAst = Channel(
    name="Ca_LVAst", ion="ca", reversal_mV=calcium_nernst_mV(temperature_C=34.0),
    source=_SRC.format("Ca_LVAst"), **_QT,
    gates=(Gate(name="m", power=2, inf="1/(1 + exp(-((v + 10) + 30)/6))",
                tau_ms="5 + 20/(1 + exp(((v + 10) + 25)/5))"),
           Gate(name="h", power=1, inf="1/(1 + exp(((v + 10) + 80)/6.4))",
                tau_ms="20 + 50/(1 + exp(((v + 10) + 40)/7))")))

SK_E2 = Channel(
    name="SK_E2", ion="k", reversal_mV=E_K_MV, source=_SRC.format("SK_E2"), **_NO_QT,
    gates=(Gate(name="z", power=1, inf="1/(1 + (0.00043/clip(cai, 1e-7, inf))**4.8)",
                tau_ms="1.0"),))

#: Every channel of the set, by name.
HAY_CHANNELS = {c.name: c for c in (NaTa_t, Nap_Et2, K_Pst, K_Tst, SKv3_1, Im, Ih, Ca_HVA,
                                    Ca_LVAst, SK_E2)}
