"""Reduced mammalian layer-5b pyramidal cell with Hay et al. (2011)'s channels at 34 °C.

The cell Beniaguev, Segev & London (2021, Neuron 109:2727) mapped onto a deep net is Hay et
al.'s L5b model (PLoS Comput Biol 7:e1002107, ModelDB 139653, morphology ``cell1``: 84 basal
sections of 5,133 µm, 109 apical of 7,441 µm, longest apical path 1,300.5 µm;
docs/references.md#anchors-surrogates-engines-a-1). This is a reduction of it, with the same
channel set and densities (Hay's ``biophys3``, the variant fitted to both somatic steps and BAC
firing; docs/references.md#anchors-surrogates-engines-c-3) on a simplified tree:

* soma: a sphere of 18 µm (area ≈ 1,000 µm², as Beniaguev's 23.2 × 13.5 µm cylinder);
* 6 basal trees: a 30 µm stem (1.4 µm) → 2 daughters of 60 µm (1.0 µm) → 4 terminal branches
  of 150 µm (0.7 µm): thin, long terminals of high input impedance where clustered NMDA input
  makes plateaus (Schiller et al. 2000; Major et al. 2008);
* an apical trunk of 680 µm to the nexus (cell1's is at 678 µm), tapering 3.2 → 2.1 µm, with
  two obliques (250 µm, 0.9 → 0.6 µm) at each of 8 branch points between 40 and 580 µm;
* a tuft of 3 main branches from the nexus (250 µm, 1.6 → 1.2 µm) that carry Hay's Ca²⁺ hot
  zone (685–885 µm path distance), each forking into 2 of 370 µm (0.9 → 0.5 µm), so the
  longest apical path is 1,300 µm as in ``cell1``;
* an axon of two 30 µm × 1 µm sections (Beniaguev's replacement of Hay's axon), the first
  carrying the somatic channel set so spikes reach the terminal where they are detected.

Reduction choices (ours): ~30–45 µm compartments (≈ 0.2 λ at 100 Hz in thin dendrites;
Hay/Beniaguev use ~20 µm; 342 compartments in all); dendritic lengths close to ``cell1``'s
(basal 4,500 µm in 42 sections, apical 7,650 µm in 34). The apical tree was shaped, with
every density fixed, until a somatic pulse back-propagates as in Hay's full model (one
somatic spike, decremental along the trunk, no Ca²⁺ spike without a distal EPSP; the
``l5-cell`` analysis checks it): a single unbranched trunk to 885 µm with a small tuft (an
earlier version of this cell) let the bAP grow distally and fire a Ca²⁺ spike. The values
(C_m 2 µF/cm² in dendrites for spines, leak, every channel density, the Iₕ gradient and the
hot zone) are Hay's biophys3 unchanged. E_Ca is held at its Nernst value at rest (cao 2 mM,
cai 1e-4 mM, 34 °C), where Hay's cells, in NEURON, recompute it from cai every step; the
library can do that too (``NeuronModel.calcium_outside_mM``, in Brian2 and the engine), and
``benchmarks/results/neuron_crosscheck_l5.json`` measures what it changes in this cell's f–I.
The cell keeps the fixed value its NeuronIO-mini data sets were generated with (the model
is part of their key). The whole cell, built in NEURON 9 from these values with NMODL files
of Hay's channels, fires as neurocomp's engine does under Hay's somatic steps, with either
E_Ca (``benchmarks/results/neuron_crosscheck_l5.json``; slow test in
``tests/test_neuron_crosscheck.py``).

Synapses follow Beniaguev's layout (docs/references.md#anchors-surrogates-engines-a-2): one
excitatory (AMPA 0.4 nS + NMDA 0.4 nS peak, τ 0.3/3 and 2/70 ms, Jahr–Stevens Mg²⁺ block) and one
inhibitory (GABA_A 1 nS, τ 0.2/8 ms) synapse per dendritic compartment, release deterministic and
non-depressing (Use = 1, no facilitation or depression) — each input spike delivers its full
conductance.
"""

from __future__ import annotations

from neurocomp_models.channels import (
    HAY_CHANNELS,
    calcium_nernst_mV,
)

from neurocomp.biophysics import (
    CalciumPool,
    ChannelDensity,
    ExponentialProfile,
    Membrane,
    Morphology,
    NeuronModel,
    ReleaseParameters,
    Section,
    SynapseGroup,
    WindowProfile,
    tapered_section,
)

__all__ = [
    "DENDRITIC_REGIONS",
    "STATIC_RELEASE",
    "l5_membranes",
    "l5_morphology",
    "l5_pyramidal",
]

_HAY3 = "Hay et al. (2011) L5PCbiophys3.hoc (ModelDB 139653) [V]"
# Hay's mod files hard-code qt for 34 °C (docs/references.md#anchors-surrogates-engines-a-1)
TEMPERATURE_C = 34.0
LONGEST_APICAL_UM = 1300.5  # cell1's longest apical path, for Hay's Ih gradient
HOT_ZONE_UM = (685.0, 885.0)  # Hay et al. (2011) biophys3 Ca hot zone
CA_OUTSIDE_MM = 2.0  # Hay et al. (2011): cao 2 mM (NEURON's default), for a Nernst E_Ca
#: Nexus (main bifurcation) of cell1: ``apic[50](0.9)`` at 678 µm path distance
#: (docs/references.md#anchors-surrogates-engines-a-1), rounded; the hot zone thus lies in the
#: tuft's main branches, as in cell1.
NEXUS_UM = 680.0
#: Path distances of the trunk's branch points, two 250 µm obliques at each (ours).
OBLIQUE_AT_UM = (40.0, 100.0, 160.0, 220.0, 300.0, 380.0, 480.0, 580.0)
DENDRITIC_REGIONS = ("basal", "apical")
#: Beniaguev et al. (2021)'s synapses: Use = 1, u0 = 0, Dep = Fac = 0
#: (docs/references.md#anchors-surrogates-engines-a-2). A vesicle always releases; tau_rec 1 µs
#: makes the site refilled by the next 1 ms bin.
STATIC_RELEASE = ReleaseParameters(U=1.0, tau_rec_ms=1e-3, tau_facil_ms=0.0, n_sites=1,
                                   source="Beniaguev et al. (2021) ProbAMPANMDA2/ProbUDFsyn2: "
                                          "Use 1, no depression or facilitation [V code]")


def l5_morphology() -> Morphology:
    """The reduced L5b morphology (see the module docstring), with its 2-section axon."""
    secs = [Section(name="soma", region="soma", parent=None, lengths_um=(18.0,),
                    diameters_um=(18.0,), is_soma=True)]
    for b in range(6):
        secs.append(tapered_section(f"basal{b}", "basal", "soma", 30.0, 1.4, 1.2, 1))
        for k in range(2):
            mid = f"basal{b}_{k}"
            secs.append(tapered_section(mid, "basal", f"basal{b}", 60.0, 1.0, 0.9, 2))
            for j in range(2):
                secs.append(tapered_section(f"{mid}_{j}", "basal", mid, 150.0, 0.7, 0.5, 5))
    # apical trunk to the nexus, in pieces so that two obliques leave at each branch point
    edges = (0.0, *OBLIQUE_AT_UM, NEXUS_UM)
    trunk_d = (3.2, 2.1)  # µm at the soma and at the nexus, linear taper (ours, see above)

    def diameter(x_um: float) -> float:
        return trunk_d[0] + (trunk_d[1] - trunk_d[0]) * x_um / NEXUS_UM

    parent = "soma"
    for k in range(len(edges) - 1):
        length = edges[k + 1] - edges[k]
        name = f"trunk{k}"
        secs.append(tapered_section(name, "apical", parent, length, diameter(edges[k]),
                                    diameter(edges[k + 1]), max(1, round(length / 40.0))))
        if k < len(OBLIQUE_AT_UM):
            for o in range(2):
                secs.append(tapered_section(f"oblique{k}_{o}", "apical", name, 250.0, 0.9,
                                            0.6, 6))
        parent = name
    # three tuft branches from the nexus carry the hot zone, each forking into two
    for k in range(3):
        name = f"tuft{k}"
        secs.append(tapered_section(name, "apical", parent, 250.0, 1.6, 1.2, 6))
        for j in range(2):
            secs.append(tapered_section(f"{name}_{j}", "apical", name, 370.0, 0.9, 0.5, 9))
    secs.append(tapered_section("ais", "ais", "soma", 30.0, 1.0, 1.0, 3))
    secs.append(tapered_section("axon", "axon", "ais", 30.0, 1.0, 1.0, 3))
    # the source text is part of the model fingerprint (NeuronIO data keys): kept as it was
    return Morphology(tuple(secs), source="models.neurons.l5_pyramidal (reduced Hay cell1)")


def l5_membranes() -> dict[str, Membrane]:
    """Hay et al. (2011) biophys3 membranes by region (S/cm², µF/cm², mV, ms)."""
    c = HAY_CHANNELS
    e_pas = -90.0  # Hay biophys3: e_pas
    soma = Membrane(
        Cm_uF_cm2=1.0, g_leak_S_cm2=3.38e-5, E_leak_mV=e_pas,
        calcium=CalciumPool(gamma=5.01e-4, decay_ms=460.0),
        channels=tuple(ChannelDensity(channel=c[name], gbar=g) for name, g in (
            ("NaTa_t", 2.04), ("Nap_Et2", 1.72e-3), ("K_Pst", 2.23e-3), ("K_Tst", 0.0812),
            ("SKv3_1", 0.693), ("SK_E2", 0.0441), ("Ca_HVA", 9.92e-4),
            ("Ca_LVAst", 3.43e-3), ("Ih", 2e-4))))
    basal = Membrane(Cm_uF_cm2=2.0, g_leak_S_cm2=4.67e-5, E_leak_mV=e_pas,
                     channels=(ChannelDensity(channel=c["Ih"], gbar=2e-4),))
    ih_gradient = ExponentialProfile(base_S_cm2=2e-4, offset=-0.8696, amplitude=2.087,
                                     length_um=LONGEST_APICAL_UM / 3.6161)
    apical = Membrane(
        Cm_uF_cm2=2.0, g_leak_S_cm2=5.89e-5, E_leak_mV=e_pas,
        calcium=CalciumPool(gamma=5.09e-4, decay_ms=122.0),
        channels=(ChannelDensity(channel=c["NaTa_t"], gbar=0.0213),
                  ChannelDensity(channel=c["SKv3_1"], gbar=2.61e-4),
                  ChannelDensity(channel=c["SK_E2"], gbar=1.2e-3),
                  ChannelDensity(channel=c["Im"], gbar=6.75e-5),
                  ChannelDensity(channel=c["Ih"], gbar=ih_gradient),
                  ChannelDensity(channel=c["Ca_LVAst"], gbar=WindowProfile(
                      inside_S_cm2=0.0187, outside_S_cm2=0.0187 * 0.01,
                      start_um=HOT_ZONE_UM[0], stop_um=HOT_ZONE_UM[1])),
                  ChannelDensity(channel=c["Ca_HVA"], gbar=WindowProfile(
                      inside_S_cm2=5.55e-4, outside_S_cm2=5.55e-4 * 0.1,
                      start_um=HOT_ZONE_UM[0], stop_um=HOT_ZONE_UM[1]))))
    # the first axon section carries the somatic set so the spike reaches the terminal
    # (Hay's biophys3 axon is passive and spikes start in the soma; a modelling choice)
    axon = Membrane(Cm_uF_cm2=1.0, g_leak_S_cm2=3.25e-5, E_leak_mV=e_pas)
    return {"soma": soma, "basal": basal, "apical": apical, "ais": soma, "axon": axon}


def l5_pyramidal(*, nmda_weight_nS: float = 0.4, ampa_weight_nS: float = 0.4,
                 gaba_weight_nS: float = 1.0,
                 release: ReleaseParameters = STATIC_RELEASE) -> NeuronModel:
    """The reduced mammalian L5b cell with one excitatory and one inhibitory synapse per
    dendritic compartment (Beniaguev et al. 2021's layout and weights)."""
    morph = l5_morphology()
    table = morph.compartment_table()
    dend = tuple(int(i) for i, r in zip(table["index"], table["region"], strict=True)
                 if r in DENDRITIC_REGIONS)
    groups = (
        SynapseGroup(name="exc", n_synapses=len(dend), n_sources=len(dend), compartments=dend,
                     receptors={"ampa": ampa_weight_nS, "nmda": nmda_weight_nS},
                     release=release,
                     source="g_max 0.4 nS AMPA and NMDA per input spike "
                            "(Beniaguev et al. 2021 ProbAMPANMDA2) [V code]"),
        SynapseGroup(name="inh", n_synapses=len(dend), n_sources=len(dend), compartments=dend,
                     receptors={"gaba_a": gaba_weight_nS}, release=release,
                     source="g_max 1 nS GABA_A (Beniaguev et al. 2021 ProbUDFsyn2) [V code]"),
    )
    return NeuronModel(
        name="l5_pyramidal", morphology=morph, densities=l5_membranes(), Ri_ohm_cm=100.0,
        E_rest_mV=-75.0, v_init_mV=-75.0, temperature_C=TEMPERATURE_C,
        calcium_reversal_mV=calcium_nernst_mV(temperature_C=TEMPERATURE_C),
        synapse_groups=groups, spike_threshold_mV=-20.0,
        sources=("Hay et al. (2011) PLoS Comput Biol 7:e1002107 (ModelDB 139653), biophys3",
                 "Beniaguev, Segev & London (2021) Neuron 109:2727 (synapses, inputs)"))
