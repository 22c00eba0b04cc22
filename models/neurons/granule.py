"""Cerebellar granule cell: a tiny soma, four short claw dendrites, ~15 mossy-fibre synapses.

Dimensions: soma diameter ~6 µm; four dendrites, each ~15 µm long and ~0.8 µm thick, ending
in a "claw" that grips a mossy-fibre rosette (Jakab & Hámori 1988, Anat Embryol 179:81;
Silver et al. 1992 [R]). Inputs: ~4 mossy fibres with 3–4 synapses each, ~15 synaptic inputs
(Dettmers 2015, docs/references.md#seed-brain-vs-dl-2-3). Granule cells are electrotonically compact
(input resistance of several GΩ; D'Angelo et al. 1995, J Physiol 484:397 [R]); R_m = 20 kΩ·cm²
here. Output: a thin ascending axon (~0.3 µm) that bifurcates into parallel fibres; one
unmyelinated 500 µm axon stands for it.
"""

from __future__ import annotations

from neurocomp_models.neurons.common import AIS, INHIBITORY, MOSSY, SOMA, passive

from neurocomp.biophysics import Morphology, NeuronModel, Section, SynapseGroup, with_axon


def granule_cell(*, n_compartments_per_dendrite: int = 3) -> NeuronModel:
    """The granule cell with 4 dendrites, 16 excitatory synapses on 4 mossy fibres."""
    n = n_compartments_per_dendrite
    soma = Section(name="soma", region="soma", parent=None, lengths_um=(6.0,),
                   diameters_um=(6.0,), is_soma=True)
    dendrites = [Section(name=f"dend{k}", region="dendrite", parent="soma",
                         lengths_um=(15.0 / n,) * n, diameters_um=(0.8,) * (n + 1))
                 for k in range(4)]
    morph = with_axon(Morphology((soma, *dendrites), source="granule_cell"),
                      ais_length_um=10.0, ais_diameter_um=0.5, ais_compartments=2,
                      axon_length_um=500.0, axon_diameter_um=0.3, axon_compartments=25)
    # one mossy fibre per claw, 4 synapses each (16 ~ "~15 synaptic inputs"); synapse k is
    # driven by fibre k % 4, so it sits on the tip of dendrite k % 4
    tips = [int(morph.indices(section=f"dend{k}")[-1]) for k in range(4)]
    exc_comps = tuple(tips[k % 4] for k in range(16))
    groups = (
        SynapseGroup(name="mossy", n_synapses=16, n_sources=4, compartments=exc_comps,
                     receptors={"ampa": 0.6, "nmda": 0.3}, release=MOSSY,
                     source="AMPA 0.6 nS, NMDA 0.3 nS per vesicle: modelling choice scaled so "
                            "that 2-3 active fibres fire the cell"),
        SynapseGroup(name="golgi", regions=("dendrite",), n_synapses=4, n_sources=1,
                     receptors={"gaba_a": 0.5}, release=INHIBITORY,
                     source="Golgi-cell inhibition on the claws (modelling choice)"),
    )
    return NeuronModel(
        name="granule_cell", morphology=morph,
        densities={"soma": SOMA, "dendrite": passive(20_000.0), "ais": AIS, "axon": SOMA},
        Ri_ohm_cm=100.0, temperature_C=6.3, synapse_groups=groups,
        sources=("Dettmers (2015): 4 dendrites, ~15 inputs",
                 "Jakab & Hamori (1988) Anat Embryol 179:81 [R]",
                 "D'Angelo et al. (1995) J Physiol 484:397 [R]"))
