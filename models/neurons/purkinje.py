"""Reduced cerebellar Purkinje cell: a large planar binary tree and thousands of synapses.

A real Purkinje cell has a flat dendritic fan (~200–300 µm across in rodents) receiving
~175,000 parallel-fibre synapses (rodent; 180,000–200,000 in humans [S],
docs/references.md#anchors-neuro-3-4), and Dettmers (2015) uses ~100,000 inputs and ~1,000
dendrites. This reduced model keeps the architecture at a size one CPU simulates in seconds: a 3 µm
primary dendrite branching symmetrically 8 times (255 sections, obeying Rall's 3/2 rule down to
~0.5 µm spiny branchlets), **5,000 parallel-fibre synapses** (each standing for ~35 real ones:
scale weights or rates accordingly) on the spiny branchlets, and stellate/basket inhibition.
Parallel-fibre synapses are AMPA-only (no functional NMDA receptors on adult Purkinje cells; Llano
et al. 1991, J Physiol 434:183 [R]) and facilitating. Purkinje dendrites are passive for Na⁺ here
(dendritic Na⁺ channels are sparse in Purkinje cells; their dendritic spikes are Ca²⁺-based, which
this library does not model). R_m = 20 kΩ·cm², R_i = 150 Ω·cm (order of Rapp, Segev & Yarom 1994, J
Physiol 474:101 [R]). The axon is myelinated.
"""

from __future__ import annotations

from dataclasses import replace

from neurocomp_models.neurons.common import (
    AIS,
    FACILITATING,
    INHIBITORY,
    INTERNODE,
    NODE,
    SOMA,
    passive,
)

from neurocomp.biophysics import Morphology, NeuronModel, SynapseGroup, symmetric_tree, with_axon


def purkinje_cell(*, levels: int = 8, n_parallel_fibres: int = 5000,
                  n_per_section: int = 2) -> NeuronModel:
    """The reduced Purkinje cell (levels=8: 255 dendritic sections)."""
    tree = symmetric_tree(levels=levels, root_length_um=40.0, root_diameter_um=3.0,
                          n_per_section=n_per_section, branching=2, rall=True,
                          length_scale=0.8, soma_diameter_um=25.0, region="dendrite",
                          prefix="d")
    # the outer two levels are the spiny branchlets that receive parallel fibres
    spiny = [s.name for s in tree.sections if s.name.count("_") >= levels - 2]
    tree = Morphology(tuple(replace(s, region="spiny") if s.name in spiny else s
                            for s in tree.sections), source="purkinje_cell")
    morph = with_axon(tree, ais_length_um=20.0, ais_diameter_um=1.0, ais_compartments=2,
                      axon_length_um=1000.0, axon_diameter_um=1.0, axon_compartments=1,
                      myelinated=True, internode_length_um=100.0, node_length_um=1.0)
    groups = (
        SynapseGroup(name="parallel_fibre", regions=("spiny",), n_synapses=n_parallel_fibres,
                     n_sources=n_parallel_fibres, receptors={"ampa": 0.2},
                     release=FACILITATING,
                     source="0.2 nS per vesicle: modelling choice (unitary PF EPSCs are small, "
                            "~10 pA [R])"),
        SynapseGroup(name="interneuron", regions=("dendrite", "soma"), n_synapses=500,
                     n_sources=100, receptors={"gaba_a": 1.0}, release=INHIBITORY,
                     source="stellate/basket inhibition (modelling choice)"),
    )
    return NeuronModel(
        name="purkinje_cell", morphology=morph,
        densities={"soma": SOMA, "dendrite": passive(20_000.0), "spiny": passive(20_000.0),
                   "ais": AIS, "internode": INTERNODE, "node": NODE, "axon": SOMA},
        Ri_ohm_cm=150.0, temperature_C=6.3, synapse_groups=groups,
        sources=("docs/references.md#anchors-neuro-3-4 (PF synapse counts)",
                 "Dettmers (2015): ~100,000 inputs, ~1,000 dendrites",
                 "Rapp, Segev & Yarom (1994) J Physiol 474:101 [R]"))
