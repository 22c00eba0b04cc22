"""dendritic-spikes: clustered NMDA input sums supralinearly, and it amplifies — not overwrites.

Dettmers (2015) likens dendritic spikes to max-pooling, with one difference: in the brain the
neighbours of the strongest input are not overwritten but *amplified* toward the maximum.
Following the protocol of Polsky, Mel & Schiller (2004, Nat Neurosci 7:621), k synapses are
activated together either clustered on one thin basal branch or distributed one per branch
of the reduced L5 cell, and the somatic response is compared with the arithmetic sum of the
single-synapse responses. The soma and axon are made passive so that only dendritic
integration is measured. At the k with the largest supralinearity, the depolarisation of the
neighbouring compartments is compared with their linear expectation: max-pooling would
pass the branch's value and set the neighbours to zero.

The cell is the *squid-kinetics* reduced L5 morphology
(``neurocomp_models.neurons.l5_pyramidal_squid``: its 0.8 µm × 100 µm basal daughter branches carry
the clustered input) with its own
membrane — a passive soma, dendrites with a fraction of the HH densities — not the
mammalian Hay-channel cell of ``neuron-pipeline``. That is a choice: the question here is
dendritic summation with the soma taken out, for which Polsky et al.'s protocol needs
branches of one known geometry and weakly active dendrites; the mammalian cell's basal
dendrites carry only Iₕ (Hay's biophys3), its soma cannot be made passive without changing
the cell, and it costs several times as much per simulated second (this analysis simulates
every single-synapse and k-synapse trial of three conditions). NMDA plateaus in the
mammalian cell are the subject of :mod:`neurocomp.biophysics.plateaus`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from neurocomp_models.neurons.common import active_dendrite, passive
from neurocomp_models.neurons.l5_pyramidal_squid import l5_morphology

from neurocomp.analysis import Analysis
from neurocomp.biophysics import (
    NeuronModel,
    NeuronPipeline,
    RecordSite,
    ReleaseParameters,
    Stages,
    SynapseGroup,
)
from neurocomp.biophysics import inputs as spike_inputs
from neurocomp.plotting import PALETTE
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "dendritic-spikes"
CLAIM = ("Summation of clustered NMDA-rich input on one thin dendrite against the same input "
         "without NMDA and spread over branches, and what the dendritic spike does to its "
         "neighbours (amplification or max-pooling's overwrite).")
#: Smallest measured / linear ratio at the soma called an NMDA spike (the test's bound).
NMDA_SPIKE_MIN = 1.3
#: Largest measured / linear ratio called about linear (above 1: supralinear).
ABOUT_LINEAR_MAX = 1.15
#: Smallest measured / linear ratio at the sibling branch called amplified (the test's bound).
AMPLIFIED_MIN = 1.2


def _summation(ratio: float) -> str:
    """Measured / linear sum in words."""
    return ("sublinearly" if ratio < 1.0 else "about linearly" if ratio <= ABOUT_LINEAR_MAX
            else "supralinearly")


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run` (measured / linear ratios at the soma and at the
        neighbouring sites).

    Returns
    -------
    str
        One sentence; where the run contradicts the expected shape (no NMDA spike, the
        controls not linear or sublinear, the neighbours not amplified) it says so.
    """
    peak, k = headline["max_supralinearity_clustered_nmda"], headline[
        "k_synapses_at_max_supralinearity"]
    spike = ("an NMDA spike" if peak > NMDA_SPIKE_MIN else "too little for an NMDA spike")
    no_nmda = headline["supralinearity_clustered_no_nmda_at_same_k"]
    spread = headline["supralinearity_distributed_nmda_at_same_k"]
    controls = (f"the same input without NMDA ({no_nmda:.2f}×) sums {_summation(no_nmda)} and "
                f"spread over branches ({spread:.2f}×) {_summation(spread)}")
    sib, parent = (headline["sibling_branch_measured_over_linear"],
                   headline["parent_dendrite_measured_over_linear"])
    neighbours = (f"the spike depolarises the sibling branch {sib:.2f}× and the parent dendrite "
                  f"{parent:.2f}× their linear expectation — amplification, not max-pooling's "
                  f"overwrite" if sib > AMPLIFIED_MIN else
                  f"the spike depolarises the sibling branch only {sib:.2f}× and the parent "
                  f"dendrite {parent:.2f}× their linear expectation — no amplification")
    return (f"Clustered NMDA-rich input on one thin dendrite sums {_summation(peak)}, "
            f"{peak:.2f}× the linear sum at {k:.0f} synapses ({spike}), where {controls}; "
            f"{neighbours}.")


#: Per-synapse conductances: AMPA 0.25 nS and NMDA 1.0 nS (NMDA:AMPA = 4, NMDA-rich basal
#: synapses as used to study basal NMDA spikes, e.g. Major, Polsky et al. 2008, J
#: Neurophysiol 99:2584 [R]; a modelling choice within that range).
AMPA_NS = 0.25
NMDA_NS = 1.0
#: Fraction of the somatic HH Na⁺/K⁺ densities in the dendrites (as in the squid L5 cell).
DENDRITE_HH_FRACTION = 0.05
TRIAL_MS = 300.0  # NMDA plateaus decay within it (residual: headline max_pre_stimulus_…)
ONSET_MS = 10.0
#: Neighbourhood sampled for the amplification comparison (section, position in it).
SITES = (("soma", "soma", 0), ("branch", "basal0_0", 2), ("tip", "basal0_0", 3),
         ("sibling", "basal0_1", 2), ("parent", "basal0", 4), ("other tree", "basal1_0", 2))


def _model(compartments: Sequence[int]) -> NeuronModel:
    morph = l5_morphology()
    dend = active_dendrite(15_000.0, DENDRITE_HH_FRACTION)
    return NeuronModel(
        name="l5_dendritic_integration", morphology=morph, Ri_ohm_cm=100.0,
        densities={"soma": passive(15_000.0), "basal": dend, "apical": dend, "tuft": dend},
        synapse_groups=(SynapseGroup(
            name="stim", n_synapses=len(compartments), n_sources=len(compartments),
            compartments=tuple(compartments), receptors={"ampa": AMPA_NS, "nmda": NMDA_NS},
            release=ReleaseParameters(U=1.0, tau_rec_ms=0.1, n_sites=1),
            source="see AMPA_NS, NMDA_NS"),),
        sources=("reduced squid-kinetics L5 morphology (models/neurons/l5_pyramidal_squid.py)",))


def _trials(n: int) -> list[list[int]]:
    """Each synapse alone, then the first k together for k = 2 … n."""
    return [[i] for i in range(n)] + [list(range(k)) for k in range(2, n + 1)]


def run_condition(*, label: str, compartments: Sequence[int], stages: Stages,
                  sites: Sequence[RecordSite], seed: int) -> tuple[pd.DataFrame, np.ndarray,
                                                                    np.ndarray]:
    """All trials of one condition in one simulation; peaks (mV above rest) per trial/site."""
    from brian2 import ms

    n = len(compartments)
    trials = _trials(n)
    times: list[list[float]] = [[] for _ in range(n)]
    for j, members in enumerate(trials):
        for i in members:
            times[i].append(j * TRIAL_MS + ONSET_MS)
    duration = len(trials) * TRIAL_MS
    model = _model(compartments)
    rec = NeuronPipeline(model, stages=stages).run(
        spike_inputs.from_times(times, duration_ms=duration), duration=duration * ms,
        backend="cpp_standalone", record=list(sites), record_dt=0.1 * ms, seed=seed)
    t, v = rec.t_ms, rec.traces["v"] - model.E_rest_mV
    peaks = np.array([[v[s][(t >= j * TRIAL_MS) & (t < (j + 1) * TRIAL_MS)].max()
                       for s in range(len(sites))] for j in range(len(trials))])
    single = peaks[:n]
    rows = [{"condition": label, "k_synapses": k, "site": site.label,
             "measured_mV": peaks[n + k - 2, s],
             "linear_expectation_mV": single[:k, s].sum()}
            for k in range(2, n + 1) for s, site in enumerate(sites)]
    rows += [{"condition": label, "k_synapses": 1, "site": site.label,
              "measured_mV": single[0, s], "linear_expectation_mV": single[0, s]}
             for s, site in enumerate(sites)]
    return pd.DataFrame(rows), t, v


@dataclass(kw_only=True)
class DendriticSpikesResult(Result):
    """Somatic responses against linear sums, branch traces, and the neighbourhood."""

    summation: pd.DataFrame
    branch_traces: pd.DataFrame
    neighbourhood: pd.DataFrame
    k_peak: int

    layout = (("sum", "sum"), ("traces", "pool"))
    row_height_in = 2.0

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"summation": self.summation, "branch_traces": self.branch_traces,
                             "neighbourhood": self.neighbourhood})

    def _draw(self, axes: Sequence[Axes]) -> None:
        ax = axes[0]
        soma = self.summation[self.summation["site"] == "soma"]
        top = 0.0
        for color, (cond, g) in zip(PALETTE, soma.groupby("condition", sort=False),
                                    strict=False):
            g = g.sort_values("k_synapses")
            ax.plot(g["linear_expectation_mV"], g["measured_mV"], "o-", color=color, ms=2.5,
                    label=cond)
            top = max(top, g["linear_expectation_mV"].max(), g["measured_mV"].max())
        ax.plot([0, top], [0, top], color="0.6", ls=":", label="linear sum")
        ax.set(xlabel="arithmetic sum of single-synapse EPSPs at the soma (mV)",
               ylabel="measured somatic EPSP (mV)")
        ax.legend(fontsize=5.5, loc="upper left")
        if len(axes) < 2:
            return
        ax = axes[1]
        ks = sorted(self.branch_traces["k_synapses"].unique())
        cmap = __import__("matplotlib").colormaps["viridis"]
        for i, (k, g) in enumerate(self.branch_traces.groupby("k_synapses")):
            ax.plot(g["t_ms"], g["v_mV"], color=cmap(i / max(len(ks) - 1, 1)), lw=0.9,
                    label=f"k = {k}")
        ax.set(xlabel="time after stimulus (ms)", ylabel="branch ΔV (mV)")
        ax.set_title("clustered, NMDA on", loc="left", fontsize=6.5)
        ax.legend(fontsize=4.5, ncols=2, loc="upper right")
        if len(axes) < 3:
            return
        ax = axes[2]
        nb = self.neighbourhood
        x = np.arange(len(nb))
        width = 0.27
        ax.bar(x - width, nb["linear_expectation_mV"], width, color="0.7", label="linear")
        ax.bar(x, nb["measured_mV"], width, color=PALETTE[1], label="dendrite (NMDA)")
        ax.bar(x + width, nb["max_pool_mV"], width, color=PALETTE[0], label="max-pool")
        ax.set_xticks(x, list(nb["site"]), fontsize=5, rotation=50, ha="right",
                      rotation_mode="anchor")
        ax.set(ylabel="peak ΔV (mV)", xlabel="site", ylim=(0, 1.5 * nb["measured_mV"].max()))
        ax.set_title(f"k = {self.k_peak}: neighbours amplified", loc="left", fontsize=6.5)
        ax.legend(fontsize=4.5, loc="upper right")


def run(*, quick: bool = True, seed: int = 0) -> DendriticSpikesResult:
    """Run the three conditions (``quick``: up to 14 synapses; full: 20)."""
    morph = l5_morphology()
    n = 14 if quick else 20
    sites = [RecordSite(label=label, index=int(morph.indices(section=sec)[pos]))
             for label, sec, pos in SITES]
    cluster = [sites[1].index] * n
    branches = [int(morph.indices(section=f"basal{b}_{k}")[2]) for b in range(6)
                for k in range(2)]
    distributed = (branches * (n // len(branches) + 1))[:n]
    frames, traces = [], None
    for label, comps, stages in (
            ("clustered, NMDA", cluster, Stages(release="deterministic")),
            ("clustered, no NMDA", cluster, Stages(release="deterministic", nmda=False)),
            ("distributed, NMDA", distributed, Stages(release="deterministic"))):
        df, t, v = run_condition(label=label, compartments=comps, stages=stages, sites=sites,
                                 seed=seed)
        frames.append(df)
        if traces is None:
            traces = (t, v)
    summation = pd.concat(frames, ignore_index=True)
    summation["supralinearity"] = (summation["measured_mV"]
                                   / summation["linear_expectation_mV"])
    soma = summation[summation["site"] == "soma"]

    def index(cond: str) -> pd.Series:
        return soma[soma["condition"] == cond].set_index("k_synapses")["supralinearity"]

    clustered = index("clustered, NMDA")
    k_peak = int(clustered.idxmax())
    t, v = traces
    baseline = max(float(v[1][(t >= j * TRIAL_MS) & (t < j * TRIAL_MS + ONSET_MS)].max())
                   for j in range(len(_trials(n))))
    rows = []
    for k in sorted({1, 2, 4, k_peak - 2, k_peak, n}):
        j = k - 1 if k == 1 else n + k - 2
        win = (t >= j * TRIAL_MS) & (t < j * TRIAL_MS + 80.0)
        rows.append(pd.DataFrame({"k_synapses": k, "t_ms": t[win] - j * TRIAL_MS - ONSET_MS,
                                  "v_mV": v[1][win]}))
    branch_traces = pd.concat(rows, ignore_index=True)
    at_peak = summation[(summation["condition"] == "clustered, NMDA")
                        & (summation["k_synapses"] == k_peak)].copy()
    top = at_peak["measured_mV"].max()
    at_peak["max_pool_mV"] = np.where(at_peak["measured_mV"] == top, top, 0.0)
    neighbourhood = at_peak[["site", "measured_mV", "linear_expectation_mV", "max_pool_mV"]]
    sib = at_peak.set_index("site").loc["sibling"]
    parent = at_peak.set_index("site").loc["parent"]
    headline = {
        "max_supralinearity_clustered_nmda": float(clustered.max()),
        "k_synapses_at_max_supralinearity": k_peak,
        "supralinearity_clustered_no_nmda_at_same_k": float(
            index("clustered, no NMDA").loc[k_peak]),
        "supralinearity_distributed_nmda_at_same_k": float(
            index("distributed, NMDA").loc[k_peak]),
        "max_supralinearity_distributed_nmda": float(index("distributed, NMDA").max()),
        "min_supralinearity_clustered_no_nmda": float(index("clustered, no NMDA").min()),
        "sibling_branch_measured_over_linear": float(sib["measured_mV"]
                                                     / sib["linear_expectation_mV"]),
        "parent_dendrite_measured_over_linear": float(parent["measured_mV"]
                                                      / parent["linear_expectation_mV"]),
        "max_pre_stimulus_branch_depolarisation_mV": baseline,
        "ampa_nS_per_synapse": AMPA_NS,
        "nmda_nS_per_synapse": NMDA_NS,
    }
    notes = ["Supralinearity = measured somatic EPSP peak / arithmetic sum of the "
             "single-synapse EPSP peaks of the same synapses (Polsky, Mel & Schiller 2004).",
             "Soma passive (no somatic or axonal spikes); dendrites carry "
             f"{DENDRITE_HH_FRACTION:g} of the somatic HH densities (squid-kinetics L5 "
             "morphology); deterministic release, one vesicle per activation.",
             "Max-pool reading: the branch value passes, every other site is set to zero."]
    return DendriticSpikesResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"max_synapses": n, "trial_ms": TRIAL_MS, "ampa_nS": AMPA_NS,
                "nmda_nS": NMDA_NS, "backend": "cpp_standalone"},
        summation=summation, branch_traces=branch_traces, neighbourhood=neighbourhood,
        k_peak=k_peak,
    )


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=42)
