"""Cited passive-cable parameter sets."""

from neurocomp.biophysics import CableParameters

#: Rallpack 1: uniform unbranched passive cable, 1 µm diameter, 1 mm long; λ = 1 mm, τ_m = 40 ms.
RALLPACK1 = CableParameters(
    diameter_um=1.0, Rm_ohm_cm2=40_000.0, Ri_ohm_cm=100.0, Cm_uF_per_cm2=1.0,
    source="Bhalla, Bilitch & Bower (1992), Rallpacks: a set of benchmarks for neuronal "
           "simulators, Trends Neurosci 15:453, doi:10.1016/0166-2236(92)90009-W",
)
