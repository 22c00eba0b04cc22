"""A ball-and-stick neuron with an axon initial segment and an HH axon.

The smallest model that has every stage of the pipeline: one passive-or-active dendrite with
excitatory (AMPA + NMDA) and inhibitory (GABA_A) synapses, a soma, an AIS with a high Na⁺
density, and an unmyelinated HH axon whose far end is the output.
"""

from __future__ import annotations

from neurocomp.biophysics import (
    ChannelDensities,
    NeuronModel,
    ReleaseParameters,
    SynapseGroup,
    ball_and_stick,
    with_axon,
)

# Passive properties: R_m = 20 kΩ·cm² (g_L = 0.05 mS/cm²), C_m = 1 µF/cm², R_i = 100 Ω·cm —
# the third row of docs/references.md#anchors-neuro-3-1 (λ = 707 µm at d = 1 µm).
_PASSIVE = ChannelDensities(gL_mS_cm2=0.05, Cm_uF_cm2=1.0)
# Squid HH densities (Hodgkin & Huxley 1952) at the soma and axon; the AIS carries ~5x the
# somatic Na+ density, the ratio inferred for cortical neurons by Kole et al. (2008), Nat
# Neurosci 11:178 (they report ~50x Nav density in the AIS; 5x suffices to make it the
# initiation site in this small model and is a modelling choice, not a measurement).
_SOMA = ChannelDensities(gNa_mS_cm2=120.0, gK_mS_cm2=36.0, gL_mS_cm2=0.3)
_AIS = ChannelDensities(gNa_mS_cm2=600.0, gK_mS_cm2=36.0, gL_mS_cm2=0.3)
# Active dendrite: a tenth of the somatic Na+/K+ density (dendritic Na+ density falls with
# distance; Stuart & Sakmann 1994, Nature 367:69, report weaker but present dendritic Na+).
_ACTIVE_DEND = ChannelDensities(gNa_mS_cm2=12.0, gK_mS_cm2=3.6, gL_mS_cm2=0.05)
# Depressing excitatory synapse (Tsodyks & Markram 1997, PNAS 94:719: U ~ 0.5, tau_rec ~ 800 ms).
_TM_DEPRESSING = ReleaseParameters(U=0.5, tau_rec_ms=800.0, tau_facil_ms=0.0, n_sites=1,
                                   source="Tsodyks & Markram (1997) PNAS 94:719")


def ball_and_stick_model(*, n_excitatory: int = 40, n_inhibitory: int = 10,
                         active_dendrite: bool = True, n_compartments: int = 40,
                         axon: bool = True) -> NeuronModel:
    """Ball (20 µm) and stick (600 µm × 2 µm), AIS 30 µm, axon 1 mm × 1 µm, at 6.3 °C."""
    morph = ball_and_stick(soma_diameter_um=20.0, dendrite_length_um=600.0,
                           dendrite_diameter_um=2.0, n_compartments=n_compartments)
    densities = {"soma": _SOMA, "dendrite": _ACTIVE_DEND if active_dendrite else _PASSIVE}
    if axon:
        morph = with_axon(morph, ais_length_um=30.0, ais_diameter_um=1.5, ais_compartments=3,
                          axon_length_um=1000.0, axon_diameter_um=1.0, axon_compartments=40)
        densities |= {"ais": _AIS, "axon": _SOMA}
    groups = (
        SynapseGroup(name="exc", regions=("dendrite",), n_synapses=n_excitatory,
                     n_sources=n_excitatory, receptors={"ampa": 1.0, "nmda": 0.5},
                     release=_TM_DEPRESSING,
                     source="weights: modelling choice (1 nS AMPA, 0.5 nS NMDA per vesicle)"),
        SynapseGroup(name="inh", regions=("dendrite", "soma"), n_synapses=n_inhibitory,
                     n_sources=n_inhibitory, receptors={"gaba_a": 1.0},
                     release=ReleaseParameters(U=0.25, tau_rec_ms=500.0, n_sites=1),
                     source="weights: modelling choice (1 nS GABA_A per vesicle)"),
    )
    return NeuronModel(name="ball_and_stick", morphology=morph, densities=densities,
                       Ri_ohm_cm=100.0, E_rest_mV=-65.0, temperature_C=6.3,
                       synapse_groups=groups,
                       sources=("docs/references.md#anchors-neuro-3-1, #anchors-neuro-3-2, "
                                "#anchors-neuro-3-3", "Hodgkin & Huxley (1952)"))
