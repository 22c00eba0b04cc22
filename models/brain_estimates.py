"""Cited parameter sets of the published brain-compute estimates, and neuron counts per type.

Every number is a :class:`~neurocomp.accounting.Factor` (or, where it feeds no formula, a
:class:`~neurocomp.citations.Cited`) with its source and, in its note, its status in the
project's reference notes (``docs/references.md#seed-brain-vs-dl`` for the post,
``docs/references.md#anchors-neuro-1, #anchors-neuro-3-4, #anchors-neuro-3-5`` for the rest):
**[V]** checked in a primary source,
**[S]** secondary only, **[R]** from memory, not re-checked, **[C]** computed, **NOT FOUND**
searched for and not located. Where a source gives a range, the factor carries it. No
source gives a distribution: Monte-Carlo draws every ranged factor log-uniformly over its
range (equal weight per factor of ten), a choice of this library stated in
:data:`DISTRIBUTION_NOTE`.

The estimates are computed from these factors every time; nothing here is a cached result.
"""

from __future__ import annotations

from neurocomp.accounting.brain import (
    AIImpactsTepsParameters,
    BottomUpParameters,
    CarlsmithMechanisticParameters,
    DettmersParameters,
    KurzweilParameters,
    KurzweilRegionalParameters,
    MoravecParameters,
    NeuronPopulation,
    SandbergBostromParameters,
    bottom_up,
    time_steps_from_latency,
)
from neurocomp.accounting.estimates import EstimateParameters, Factor, Published, select
from neurocomp.citations import Cited

__all__ = [
    "AI_IMPACTS_2015",
    "ALL_ESTIMATES",
    "AZEVEDO_2009_REGIONS",
    "AZEVEDO_2009_WHOLE_BRAIN",
    "BOTTOM_UP_TCN_BENIAGUEV_2021",
    "CARLSMITH_2020",
    "DETTMERS_2015",
    "DETTMERS_2015_CEREBELLAR_TYPES",
    "DETTMERS_2015_STATED_UNUSED",
    "DISTRIBUTION_NOTE",
    "KURZWEIL_1999",
    "KURZWEIL_STYLE_2015",
    "LITERATURE_ESTIMATES",
    "MORAVEC_1998",
    "SANDBERG_BOSTROM_2008",
    "SANDBERG_BOSTROM_2008_LEVELS",
    "parameter_set",
]

#: How Monte-Carlo treats a cited range (no source states a distribution).
DISTRIBUTION_NOTE = ("log-uniform over the cited range: this library's choice (no source "
                     "states a distribution); it gives each factor of ten equal weight")

# -- sources ------------------------------------------------------------------------------
DETTMERS = ("Dettmers (2015), The Brain vs Deep Learning Part I: Computational Complexity - "
            "Or Why the Singularity Is Nowhere Near, "
            "timdettmers.com/2015/07/27/brain-vs-deep-learning-singularity/")
KURZWEIL = "Kurzweil (1999), The Age of Spiritual Machines, Viking"
MORAVEC = ("Moravec (1998), When will computer hardware match the human brain?, "
           "J Evolution & Technology 1, https://www.transhumanist.com/volume1/moravec.htm; "
           "Robot (1998) ch. 3, http://www.frc.ri.cmu.edu/~hpm/book97/ch3/retina.comment.html")
CARLSMITH = ("Carlsmith (2020), How Much Computational Power Does It Take to Match the Human "
             "Brain?, Open Philanthropy, https://www.openphilanthropy.org/research/"
             "how-much-computational-power-does-it-take-to-match-the-human-brain/")
SANDBERG_BOSTROM = ("Sandberg & Bostrom (2008), Whole Brain Emulation: A Roadmap, FHI "
                    "Technical Report 2008-3, www.fhi.ox.ac.uk/reports/2008-3.pdf")
AI_IMPACTS = ("AI Impacts (2015, updated 2020), Brain performance in TEPS, "
              "https://wiki.aiimpacts.org/ai_timelines/brain_performance_in_teps")
AZEVEDO = ("Azevedo et al. (2009), Equal numbers of neuronal and nonneuronal cells make the "
           "human brain an isometrically scaled-up primate brain, J Comp Neurol 513:532")
BENIAGUEV = ("Beniaguev, Segev & London (2021), Single cortical neurons as deep artificial "
             "neural networks, Neuron 109:2727, doi:10.1016/j.neuron.2021.07.002")
ANCHORS = "docs/references.md"
SEED = "docs/references.md#seed-brain-vs-dl"

# -- shared counts --------------------------------------------------------------------------
_AZEVEDO_NEURONS = Factor(
    value=86.1e9, low=78.0e9, high=94.2e9, distribution="log-uniform", unit="1",
    source=AZEVEDO, label="neurons",
    note="86.1 ± 8.1 × 10⁹ neurons (mean ± SD of 4 brains) [V, "
         "docs/references.md#anchors-neuro-3-4]; range = "
         f"mean ± SD; {DISTRIBUTION_NOTE}.")
_PURKINJE_COUNT = Factor(
    value=1e8, low=1.5e7, high=1e8, distribution="log-uniform", unit="1", source=DETTMERS,
    label="Purkinje cells",
    range_source=f"low end: 15–26 million Purkinje cells in a human [S, "
                 f"{ANCHORS}#anchors-neuro-3-4]",
    note="~100 million Purkinje neurons (the post's reference numbers, "
         "docs/references.md#seed-brain-vs-dl-2-2). The "
         "secondary literature gives 15–26 million for humans [S], 4–7× fewer; the range "
         f"spans both. {DISTRIBUTION_NOTE}.")
_GRANULE_COUNT = Factor(
    value=5e10, unit="1", source=DETTMERS, label="granule cells",
    note="'50 of the 86 billion' neurons are cerebellar granule cells "
         "(docs/references.md#seed-brain-vs-dl-2-2). No range "
         "stated; Azevedo et al. count 69 × 10⁹ cerebellar neurons in all [V].")
_RATE_POST = Factor(
    value=200.0, low=50.0, high=1000.0, distribution="log-uniform", unit="Hz",
    source=DETTMERS, label="firing rate",
    range_source="'neurons repeat receive-and-fire about 50–1000 times per second' (post, "
                 "docs/references.md#seed-brain-vs-dl-1 (stage 13))",
    note="≈200 action potentials per second, the average the post gives for the "
         f"Kurzweil-style model (docs/references.md#seed-brain-vs-dl-2-1). {DISTRIBUTION_NOTE}.")

# -- Dettmers (2015) --------------------------------------------------------------------------
DETTMERS_2015 = DettmersParameters(
    name="dettmers_2015", label="Dettmers 2015",
    granule_count=_GRANULE_COUNT,
    granule_inputs=Factor(
        value=15.0, low=12.0, high=16.0, distribution="log-uniform", unit="1",
        source=DETTMERS, label="granule inputs",
        note="~4 axons × 3–4 synapses each ≈ 15 inputs (docs/references.md#seed-brain-vs-dl-2-3 "
             "(item 7)); range "
             f"4×3 to 4×4. {DISTRIBUTION_NOTE}."),
    granule_filter_branches=Factor(
        value=3.0, unit="1", source=DETTMERS, label="granule filter branches",
        note="3 branches per dendrite: the 3×4 spatial filter "
             "(docs/references.md#seed-brain-vs-dl-2-3 (item 1))."),
    granule_filter_dendrites=Factor(
        value=4.0, unit="1", source=DETTMERS, label="granule filter dendrites",
        note="4 dendrites: the 3×4 spatial filter (docs/references.md#seed-brain-vs-dl-2-3 (item "
             "1))."),
    purkinje_count=_PURKINJE_COUNT,
    purkinje_inputs=Factor(
        value=1e5, low=7.5e4, high=2e5, distribution="log-uniform", unit="1",
        source=DETTMERS, label="Purkinje inputs",
        range_source=f"75,000 'too conservative' (post); 180,000–200,000 parallel-fibre "
                     f"synapses per human Purkinje cell [S, {ANCHORS}#anchors-neuro-3-4]",
        note="~100,000 granule-cell inputs, 'for easy math' "
             "(docs/references.md#seed-brain-vs-dl-2-3 (item 7)). "
             f"{DISTRIBUTION_NOTE}."),
    purkinje_filter_branches=Factor(
        value=10.0, unit="1", source=DETTMERS, label="Purkinje filter branches",
        note="the 10 of the '~10×1000×5' Purkinje filter "
             "(docs/references.md#seed-brain-vs-dl-2-3 (item 3)); what the 10 "
             "counts is NOT stated."),
    purkinje_filter_dendrites=Factor(
        value=1000.0, unit="1", source=DETTMERS, label="Purkinje filter dendrites",
        note="~1,000 dendrites per Purkinje cell; the 1000 of the '~10×1000×5' filter "
             "(docs/references.md#seed-brain-vs-dl-2-2, #seed-brain-vs-dl-2-3 (item 3))."),
    time_steps=Factor(
        value=5.0, low=float(time_steps_from_latency(80.0, 30.0)),
        high=float(time_steps_from_latency(200.0, 30.0)), distribution="log-uniform",
        unit="steps", source=DETTMERS, label="time steps T",
        range_source="80–200 ms for reliable recognition at 30 frames/s = 2.4–6 steps "
                     "(post, docs/references.md#seed-brain-vs-dl-2-3 (item 2)) [C]",
        note=f"the post fixes T = 5 time steps. {DISTRIBUTION_NOTE}."),
    rate_hz=_RATE_POST,
    flop_per_mac=Factor(
        value=2.0, unit="FLOP/MAC", source="neurocomp FLOP convention",
        label="FLOP per multiply-add",
        note="1 multiply-add = 2 FLOPs (library convention). Whether the post counted a "
             "multiply-add as 1 or 2 FLOPs is NOT FOUND."),
    published=Published(
        source=DETTMERS, flop_per_s=1.075e21, as_published="1.075×10^21 FLOPS",
        note="explicitly a lower bound; the formula and arithmetic images are lost "
             "(NOT FOUND); 'at least 10^21' in the conclusion "
             "(docs/references.md#seed-brain-vs-dl-2-4)."),
    notes=("The rebuild is the arithmetic probe of docs/references.md#seed-brain-vs-dl-2-4, not "
           "Dettmers' formula "
           "(NOT FOUND): the Purkinje term alone gives 1.0e21, the granule term 9e16, and "
           "7.49e19 (7.0 %) of the published 1.075e21 stays unexplained.",),
)

# -- Kurzweil ---------------------------------------------------------------------------------
KURZWEIL_1999 = KurzweilParameters(
    name="kurzweil_1999", label="Kurzweil 1999",
    neurons=Factor(value=1e11, unit="1", source=KURZWEIL, label="neurons",
                   note=f"10¹¹ neurons [V, {ANCHORS}#anchors-neuro-1-4]."),
    connections_per_neuron=Factor(value=1e3, unit="1", source=KURZWEIL,
                                  label="connections per neuron",
                                  note=f"~10³ connections each [V, {ANCHORS}#anchors-neuro-1-4]."),
    rate_hz=Factor(value=200.0, unit="Hz", source=KURZWEIL, label="calculations per s",
                   note=f"~200 'calculations' per second per connection [V, "
                        f"{ANCHORS}#anchors-neuro-1-4]."),
    flop_per_calculation=Factor(
        value=1.0, unit="FLOP", source="this library's reading", label="FLOP per calculation",
        note="one Kurzweil 'calculation' (cps) counted as 1 FLOP; Kurzweil does not "
             "define it in FLOP."),
    published=Published(source=KURZWEIL, flop_per_s=2e16, as_published="2×10^16 cps",
                        note=f"[C] = 1e11·1e3·200 from [V] inputs ({ANCHORS}#anchors-neuro-1-4); "
                             f"cps "
                             "read as FLOP/s at 1 FLOP per calculation."),
    notes=("The Singularity Is Near (2005) uses ~1e16 cps for functional and ~1e19 cps for "
           "neuron-level simulation [R]; not modelled here.",),
)

KURZWEIL_STYLE_2015 = KurzweilRegionalParameters(
    name="kurzweil_style_2015", label="Kurzweil-style (post)",
    neurons=Factor(value=86e9, low=78.0e9, high=94.2e9, distribution="log-uniform", unit="1",
                   source=DETTMERS, label="neurons",
                   range_source=f"{AZEVEDO}: 86.1 ± 8.1 × 10⁹ (mean ± SD) [V]",
                   note=f"adult brain: 86 billion neurons "
                        f"(docs/references.md#seed-brain-vs-dl-2-2). {DISTRIBUTION_NOTE}."),
    cerebellum_fraction=Factor(value=0.75, unit="1", source=DETTMERS,
                               label="cerebellar share",
                               note="the cerebellum holds ~¾ of all neurons "
                                    "(docs/references.md#seed-brain-vs-dl-2-2); "
                                    "Azevedo et al. give 80 % [V]."),
    cerebellum_synapses_per_neuron=Factor(
        value=25_000.0, unit="1", source=DETTMERS, label="synapses per cerebellar neuron",
        note="~25,000 synapses per average cerebellar neuron "
             "(docs/references.md#seed-brain-vs-dl-2-2); no range."),
    cerebrum_synapses_per_neuron=Factor(
        value=10_000.0, low=5_000.0, high=15_000.0, distribution="log-uniform", unit="1",
        source=DETTMERS, label="synapses per cerebral neuron",
        note="5,000–15,000 per average cerebral neuron "
             "(docs/references.md#seed-brain-vs-dl-2-2); central 10,000 is the "
             f"midpoint of that range [C]. {DISTRIBUTION_NOTE}."),
    rate_hz=_RATE_POST,
    flop_per_event=Factor(value=1.0, unit="FLOP", source="this library's reading",
                          label="FLOP per event",
                          note="one calculation per synaptic event, as in Kurzweil (1999)."),
    published=None,
    notes=("The post describes this model (neurons × synapses × ≈200 Hz) and rejects it but "
           "gives no total (docs/references.md#seed-brain-vs-dl-2-1), so there is no published "
           "value to reproduce.",
           "The per-region numbers imply 1.83e15 synapses, while the post's reference list "
           "says '~10 trillion' (1e13): the two disagree by 180× "
           "(docs/references.md#seed-brain-vs-dl-2-2, read from a "
           "translation)."),
)

# -- Moravec (1998) ---------------------------------------------------------------------------
MORAVEC_1998 = MoravecParameters(
    name="moravec_1998", label="Moravec 1998",
    detections_per_frame=Factor(value=1e6, unit="1", source=MORAVEC,
                                label="detections per frame",
                                note="a million edge/motion detections: one per optic-nerve "
                                     "fibre [V]."),
    frames_per_s=Factor(value=10.0, unit="Hz", source=MORAVEC, label="frames per s",
                        note="'about ten one-million-point images per second' [V]."),
    instructions_per_detection=Factor(value=100.0, unit="1", source=MORAVEC,
                                      label="instructions per detection",
                                      note="~100 robot-vision instructions per detection "
                                           "[V]."),
    brain_to_retina_ratio=Factor(
        value=1e5, low=860.0, high=1e5, distribution="log-uniform", unit="1",
        source=MORAVEC, label="brain / retina",
        range_source="low end: scaling by neuron count instead of volume, 86.1e9 brain "
                     "neurons (Azevedo 2009 [V]) / 1e8 retinal neurons (Moravec [V]) = 860 "
                     "[C]",
        note="the 1,500 cm³ brain is 'about 100,000 times as large as the retina' [V]. "
             f"{DISTRIBUTION_NOTE}."),
    flop_per_instruction=Factor(value=1.0, unit="FLOP", source="this library's reading",
                                label="FLOP per instruction",
                                note="1 instruction counted as 1 FLOP, as Carlsmith (2020) "
                                     "does when he uses Moravec's numbers [R]."),
    published=Published(source=MORAVEC, flop_per_s=1e14,
                        as_published="10^8 MIPS (10^14 instructions/s)",
                        note="[V]; instructions read as FLOP."),
    notes=("Carlsmith (2020) derives 1e12–1e15 FLOP/s from the retina with Moravec's "
           "numbers [V via a summary of the report].",),
)

# -- Carlsmith (2020) -------------------------------------------------------------------------
CARLSMITH_2020 = CarlsmithMechanisticParameters(
    name="carlsmith_2020", label="Carlsmith 2020",
    synapses=Factor.log_midpoint(
        low=1e14, high=1e15, unit="1", source=CARLSMITH, label="synapses",
        note=f"N_syn ≈ 1e14–1e15 [R, {ANCHORS}#anchors-neuro-1-1]; central = geometric midpoint "
             f"[C]. "
             f"{DISTRIBUTION_NOTE}."),
    mean_rate_hz=Factor.log_midpoint(
        low=0.1, high=1.0, unit="Hz", source=CARLSMITH, label="mean firing rate",
        note=f"0.1–1 Hz average [R, {ANCHORS}#anchors-neuro-1-1, #anchors-neuro-3-5]; central = "
             f"geometric midpoint "
             f"[C]. {DISTRIBUTION_NOTE}."),
    flop_per_spike_through_synapse=Factor.log_midpoint(
        low=1.0, high=100.0, unit="FLOP", source=CARLSMITH, label="FLOP per synaptic spike",
        note=f"1–100 FLOP per spike through a synapse [R, {ANCHORS}#anchors-neuro-1-1]; central = "
             f"geometric midpoint [C]. {DISTRIBUTION_NOTE}."),
    published=Published(source=CARLSMITH, low_flop_per_s=1e13, high_flop_per_s=1e17,
                        as_published="~1e13–1e17 FLOP/s (mechanistic method)",
                        note=f"[V via an EA-forum summary of the report, "
                             f"{ANCHORS}#anchors-neuro-1-1]; "
                             "the factor ranges are [R], their product reproduces it."),
    notes=("Carlsmith's overall conclusion: 1e15 FLOP/s more likely than not enough; <10 % "
           "that more than 1e21 is needed [V]. The central here (geometric midpoints) "
           "happens to equal 1e15.",),
)

# -- Sandberg & Bostrom (2008) ----------------------------------------------------------------
SANDBERG_BOSTROM_2008 = SandbergBostromParameters(
    name="sandberg_bostrom_2008", label="Sandberg & Bostrom 2008", level=4,
    entities=Factor(value=1e15, low=1e14, high=1e15, distribution="log-uniform", unit="1",
                    source=SANDBERG_BOSTROM, label="synapses simulated",
                    range_source=f"whole-brain synapse estimates 1e14–1e15 [R, "
                                 f"{ANCHORS}#anchors-neuro-1-1, #anchors-neuro-3-4]",
                    note=f"~1e15 synapses at level 4 [R, {ANCHORS}#anchors-neuro-1-2]. "
                         f"{DISTRIBUTION_NOTE}."),
    flop_per_update=Factor(value=1.0, unit="FLOP", source=SANDBERG_BOSTROM,
                           label="FLOP per update",
                           note=f"~1 FLOP per synapse per update [R, "
                                f"{ANCHORS}#anchors-neuro-1-2]."),
    updates_per_s=Factor(value=1e3, unit="Hz", source=SANDBERG_BOSTROM, label="updates per s",
                         note=f"1e3 updates per second (1 ms steps) [R, "
                              f"{ANCHORS}#anchors-neuro-1-2]."),
    published=Published(source=SANDBERG_BOSTROM, flop_per_s=1e18,
                        as_published="10^18 FLOPS (Table 9, level 4: spiking neural network)",
                        note=f"[S]: two third-party repositories agree; matches memory [R] "
                             f"({ANCHORS}#anchors-neuro-1-2)."),
    notes=("Only level 4's decomposition is known (and only [R]); the other levels are "
           "table values, see SANDBERG_BOSTROM_2008_LEVELS.",),
)

#: Sandberg & Bostrom (2008), Table 9: CPU demand of a human-brain emulation by level
#: ([S]; per-column entity counts NOT FOUND, so only level 4 is rebuilt from inputs).
SANDBERG_BOSTROM_2008_LEVELS: dict[int, tuple[str, Cited]] = {
    level: (title, Cited(value=v, unit="FLOP/s", source=SANDBERG_BOSTROM,
                         note=f"Table 9 [S] ({ANCHORS}#anchors-neuro-1-2); decomposition NOT "
                              f"FOUND"))
    for level, title, v in (
        (3, "analog network population model", 1e15),
        (4, "spiking neural network", 1e18),
        (5, "electrophysiology", 1e22),
        (6, "metabolome", 1e25),
        (7, "proteome", 1e26),
        (8, "states of protein complexes", 1e27),
        (9, "distribution of complexes", 1e30),
        (10, "stochastic behaviour of single molecules", 1e43),
    )
}

# -- AI Impacts (TEPS) -----------------------------------------------------------------------
AI_IMPACTS_2015 = AIImpactsTepsParameters(
    name="ai_impacts_2015", label="AI Impacts (TEPS)",
    synapses=Factor.log_midpoint(
        low=1.8e14, high=3.2e14, unit="1", source=AI_IMPACTS, label="synapses",
        range_source="1.8–3.2e14 synapses as restated (with 0.1–2 Hz and 18–640 trillion "
                     "signals/s) at https://curiosity.com/topics/the-human-brain-is-really-"
                     "really-fast-curiosity [S]; its '18–32 trillion' synapses is 10× off "
                     "its own product",
        note=f"TEPS ≈ N_syn × mean spike rate [R, {ANCHORS}#anchors-neuro-1-5]; central = "
             f"geometric "
             f"midpoint [C]. {DISTRIBUTION_NOTE}."),
    mean_rate_hz=Factor.log_midpoint(
        low=0.1, high=2.0, unit="Hz", source=AI_IMPACTS, label="mean spike rate",
        range_source="0.1–2 Hz, same secondary page [S]",
        note=f"central = geometric midpoint [C]. {DISTRIBUTION_NOTE}."),
    flop_per_traversed_edge=Factor(
        value=1.0, unit="FLOP", source="this library's reading", label="FLOP per edge",
        note="AI Impacts compares TEPS with supercomputers' TEPS, not FLOP/s; 1 FLOP per "
             "traversed edge only puts the number on the common axis."),
    published=Published(source=AI_IMPACTS, low_flop_per_s=0.18e14, high_flop_per_s=6.4e14,
                        as_published="0.18–6.4×10^14 TEPS",
                        note=f"[V, {ANCHORS}#anchors-neuro-1-5]; shown at 1 FLOP per traversed "
                             f"edge."),
)

# -- neuron counts per type (for bottom-up estimates) ----------------------------------------
#: The whole brain as one population (Azevedo et al. 2009).
AZEVEDO_2009_WHOLE_BRAIN = (NeuronPopulation(name="all_neurons", count=_AZEVEDO_NEURONS),)

#: Neurons by region (Azevedo et al. 2009); the three sum to 86.06e9.
AZEVEDO_2009_REGIONS = (
    NeuronPopulation(name="cerebellum", count=Factor(
        value=69.03e9, low=62.38e9, high=75.68e9, distribution="log-uniform", unit="1",
        source=AZEVEDO, label="cerebellar neurons",
        note=f"69.03 ± 6.65 × 10⁹ (mean ± SD) [V, {ANCHORS}#anchors-neuro-3-4]; range = mean ± SD; "
             f"{DISTRIBUTION_NOTE}.")),
    NeuronPopulation(name="cerebral_cortex", count=Factor(
        value=16.34e9, unit="1", source=AZEVEDO, label="cortical neurons",
        note=f"≈16.3 × 10⁹ (19 % of neurons) [V]; the digits 16.34 are [R] "
             f"({ANCHORS}#anchors-neuro-3-4); its SD is NOT FOUND in the notes, so no range.")),
    NeuronPopulation(name="rest_of_brain", count=Factor(
        value=0.69e9, unit="1", source=AZEVEDO, label="other neurons",
        note=f"≈0.69 × 10⁹ [R, {ANCHORS}#anchors-neuro-3-4]; no range.")),
)

#: The two cerebellar types of the Dettmers (2015) estimate.
DETTMERS_2015_CEREBELLAR_TYPES = (
    NeuronPopulation(name="granule", count=_GRANULE_COUNT),
    NeuronPopulation(name="purkinje", count=_PURKINJE_COUNT),
)

#: Example bottom-up estimate: the Beniaguev et al. TCN surrogate's cost for every neuron.
BOTTOM_UP_TCN_BENIAGUEV_2021: BottomUpParameters = bottom_up(
    name="bottom_up_tcn_beniaguev_2021", label="TCN × neurons",
    populations=AZEVEDO_2009_WHOLE_BRAIN,
    flop_per_s_per_neuron=Factor.log_midpoint(
        low=1.2e10, high=2.1e10, unit="FLOP/s", source=BENIAGUEV,
        label="FLOP/s per neuron",
        note=f"the best NMDA model (TCN 7×128×153 ms, 1278 inputs) evaluated densely at "
             f"1 kHz: 1.2–2.1e10 FLOP/s per neuron depending on the kernel split [C, "
             f"{ANCHORS}#anchors-neuro-1-6]; central = geometric midpoint [C]. "
             f"{DISTRIBUTION_NOTE}."),
    notes=("An example of the bottom-up path with a literature cost: an L5 pyramidal "
           "cell's surrogate applied to every neuron, as docs/references.md#anchors-neuro-1-6 "
           "does. This "
           "library's own per-neuron costs (simulation, fitted surrogate, DettmersNeuron) "
           "take its place once they exist.",),
)

#: The published methods, by key.
LITERATURE_ESTIMATES: dict[str, EstimateParameters] = {
    p.name: p for p in (MORAVEC_1998, KURZWEIL_1999, KURZWEIL_STYLE_2015, CARLSMITH_2020,
                        AI_IMPACTS_2015, SANDBERG_BOSTROM_2008, DETTMERS_2015)
}

#: Every estimate with cited inputs, by key (the literature and the bottom-up example).
ALL_ESTIMATES: dict[str, EstimateParameters] = {
    **LITERATURE_ESTIMATES, BOTTOM_UP_TCN_BENIAGUEV_2021.name: BOTTOM_UP_TCN_BENIAGUEV_2021,
}


def parameter_set(name: str) -> EstimateParameters:
    """The cited parameter set of one estimate, by key (``"dettmers_2015"`` …).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    return select(ALL_ESTIMATES, [name])[name]


#: Numbers the post states for its model that the rebuild does not use
#: (docs/references.md#seed-brain-vs-dl-2-3 (items 5 and 7)): kept to test whether some combination
#: of them explains the remainder.
DETTMERS_2015_STATED_UNUSED: dict[str, Cited] = {
    "granule_outputs": Cited(value=100.0, unit="1", source=DETTMERS,
                             note="the granule T-axon makes ~100 synapses (output 100×T)"),
    "purkinje_outputs": Cited(value=1000.0, unit="1", source=DETTMERS,
                              note="~1,000 connections into the deep nuclei (output 1000×T)"),
    "soma_filter_steps": Cited(value=5.0, unit="steps", source=DETTMERS,
                               note="the 1×1×5 somatic temporal filter"),
}
