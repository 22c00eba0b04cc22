"""Reduced layer-5 pyramidal cell: basal dendrites, an apical trunk with obliques, a tuft.

The architecture of the cell Beniaguev, Segev & London (2021) mapped onto a deep TCN (Hay et
al. 2011, ModelDB 139653: 639 dendritic segments, 262 basal; docs/references.md#anchors-neuro-2-1),
reduced to ~170 compartments: a 20 µm soma; 6 basal dendrites (1.2 µm, 150 µm, each
branching once into 0.8 µm × 100 µm daughters); an apical trunk 700 µm long tapering from 4
to 2 µm with two oblique branches; a nexus splitting into a 3-level tuft (1.5 → 0.6 µm);
an AIS and a myelinated axon. Synapses are NMDA-rich: 1,000 excitatory (AMPA 0.4 nS + NMDA
0.4 nS per vesicle, the g_max of the Hay/Beniaguev ``ProbAMPANMDA2`` synapse [V code]) spread
over basal and tuft dendrites by membrane area, and 200 GABA_A (1 nS [V code]). Dendrites
carry 1/20 of the somatic Na⁺/K⁺ density (dendritic Na⁺ spikes and back-propagating APs;
Stuart & Sakmann 1994, Nature 367:69 [R]); NMDA plateaus come from the synapses.
R_m = 15 kΩ·cm², R_i = 100 Ω·cm (order of Stuart & Spruston 1998, J Neurosci 18:3501 [R]).
"""

from __future__ import annotations

from neurocomp_models.neurons.common import (
    AIS,
    DEPRESSING,
    INHIBITORY,
    INTERNODE,
    NODE,
    SOMA,
    active_dendrite,
)

from neurocomp.biophysics import (
    Morphology,
    NeuronModel,
    Section,
    SynapseGroup,
    tapered_section,
    with_axon,
)


def l5_morphology() -> Morphology:
    """The reduced L5 pyramidal morphology without the axon."""
    secs = [Section(name="soma", region="soma", parent=None, lengths_um=(20.0,),
                    diameters_um=(20.0,), is_soma=True)]
    for b in range(6):
        secs.append(tapered_section(f"basal{b}", "basal", "soma", 150.0, 1.2, 1.0, 5))
        for k in range(2):
            secs.append(tapered_section(f"basal{b}_{k}", "basal", f"basal{b}", 100.0, 0.8, 0.6, 4))
    secs.append(tapered_section("trunk0", "apical", "soma", 350.0, 4.0, 3.0, 12))
    secs.append(tapered_section("oblique0", "apical", "trunk0", 150.0, 1.0, 0.8, 5))
    secs.append(tapered_section("trunk1", "apical", "trunk0", 350.0, 3.0, 2.0, 12))
    secs.append(tapered_section("oblique1", "apical", "trunk1", 150.0, 1.0, 0.8, 5))
    frontier, d = ["trunk1"], 1.5
    for level in range(3):
        nxt = []
        for parent in frontier:
            for _ in range(2):
                name = f"tuft{level}_{len(nxt)}"
                secs.append(tapered_section(name, "tuft", parent, 120.0, d, d * 0.8, 4))
                nxt.append(name)
        frontier, d = nxt, d * 0.7
    return Morphology(tuple(secs), source="l5_pyramidal_squid")


def l5_pyramidal_squid(*, n_excitatory: int = 1000, n_inhibitory: int = 200,
                 nmda_weight_nS: float = 0.4) -> NeuronModel:
    """The reduced L5 pyramidal cell (≥ 150 compartments, ≥ 1,000 synapses by default)."""
    morph = with_axon(l5_morphology(), ais_length_um=40.0, ais_diameter_um=1.2,
                      ais_compartments=4, axon_length_um=800.0, axon_diameter_um=1.0,
                      axon_compartments=1, myelinated=True, internode_length_um=100.0,
                      node_length_um=1.0)
    dend = active_dendrite(15_000.0, 0.05)
    groups = (
        SynapseGroup(name="exc", regions=("basal", "apical", "tuft"), n_synapses=n_excitatory,
                     n_sources=n_excitatory, distance_um=(30.0, float("inf")),
                     receptors={"ampa": 0.4, "nmda": nmda_weight_nS}, release=DEPRESSING,
                     source="g_max 0.4 nS AMPA and NMDA (Hay/Beniaguev ProbAMPANMDA2) [V code]"),
        SynapseGroup(name="inh", regions=("basal", "apical", "tuft", "soma"),
                     n_synapses=n_inhibitory, n_sources=n_inhibitory,
                     receptors={"gaba_a": 1.0}, release=INHIBITORY,
                     source="g_max 1 nS GABA_A (Hay/Beniaguev) [V code]"),
    )
    return NeuronModel(
        name="l5_pyramidal_squid", morphology=morph,
        densities={"soma": SOMA, "basal": dend, "apical": dend, "tuft": dend, "ais": AIS,
                   "internode": INTERNODE, "node": NODE, "axon": SOMA},
        Ri_ohm_cm=100.0, temperature_C=6.3, synapse_groups=groups,
        sources=("Beniaguev, Segev & London (2021) Neuron 109:2727; Hay et al. (2011)",
                 "Stuart & Spruston (1998) J Neurosci 18:3501 [R]"))
