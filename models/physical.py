"""Cited physical constants used by the analyses."""

from neurocomp.citations import Cited

#: Diffusion coefficient of NaCl in water at 25 °C (the post's salt-water aquarium).
NACL_DIFFUSION_MM2_PER_S = Cited(
    value=1.5e-3, unit="mm^2/s",
    source="Vitagliano & Lyons (1956), Diffusion coefficients for aqueous solutions of sodium "
           "chloride and barium chloride, J Am Chem Soc 78:1549",
    note="1.5e-9 m^2/s, rounded; the measured values lie near 1.47-1.61e-9 m^2/s over "
         "0.05-5 M at 25 C (value from memory of the paper, not re-checked here).",
)
