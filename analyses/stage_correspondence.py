"""stage-correspondence: each stage of the post's pipeline, its biophysics, its layer, its cost.

One row per stage of Dettmers' (2015) walk through a neuron: the Brian2 component that
simulates it (:mod:`neurocomp.biophysics`), the PyTorch layer that stands for it
(:class:`neurocomp.layers.DettmersNeuron`), and what each costs per neuron-second in FLOPs
(a multiply-add = 2 FLOPs). The biophysical cost comes from a run of the reduced mammalian
L5b cell (``neurocomp_models.neurons.l5_pyramidal``: Hay et al. 2011's channels; the same input as
``neuron-pipeline``, ``neurocomp_models.l5_drive.L5_DRIVE``), priced term by term by
:func:`neurocomp.accounting.recording_cost`; compartment-step terms are split over stages by
their share of compartments (soma, AIS, axon, dendrites), and the channel gates (and the
calcium pool) of dendritic compartments are booked to "dendritic spikes". The layer cost is
the counter's forward FLOPs of each DettmersNeuron stage per window of T = 5 steps, times
the windows per second of the post's Kurzweil-style rate
(``neurocomp_models.dettmers_neurons.SHARED_NUMBERS["window_rate"]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from neurocomp_models.dettmers_neurons import SHARED_NUMBERS, granule_cell, purkinje_cell
from neurocomp_models.l5_drive import L5_DRIVE
from neurocomp_models.neurons import l5_pyramidal

from neurocomp.accounting import count
from neurocomp.accounting.simcost import recording_cost
from neurocomp.analysis import Analysis
from neurocomp.biophysics import AXONAL_REGIONS, NeuronPipeline
from neurocomp.plotting import PALETTE
from neurocomp.results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "stage-correspondence"
CLAIM = ("Stage by stage, the biophysical neuron and its convnet counterpart: which Brian2 "
         "component and which layer implement each step of the post's pipeline, and what "
         "each costs per neuron-second.")


def _sci(x: float) -> str:
    """Two significant digits in scientific notation: ``7.1e9``."""
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run` (FLOP/s per neuron of the simulation and of the two
        layers, their ratios, the largest stage's share).

    Returns
    -------
    str
        One sentence: the costs and ratios, read from the numbers.
    """
    bio = headline["biophysics_L5_flop_per_neuron_s"]
    gran, purk = (headline["layer_granule_flop_per_neuron_s"],
                  headline["layer_purkinje_flop_per_neuron_s"])
    ratios = [headline[f"biophysics_over_{k}_layer_ratio"] for k in ("granule", "purkinje")]
    times = [f"{r:.0f}×" if r >= 10 else f"{r:.2g}×" for r in ratios]
    return (f"{CLAIM[:-1]}: the L5 cell's Brian2 simulation costs {_sci(bio)} FLOP/s per "
            f"neuron, {times[0]} the granule layer's {_sci(gran)} and {times[1]} the Purkinje "
            f"layer's {_sci(purk)}; its largest stage takes "
            f"{100 * headline['largest_biophysical_stage_share']:.0f} % of it.")


#: Steps per window (the post's T) and windows per second (the post's Kurzweil-style rate;
#: see the notes of both numbers).
T_STEPS = int(SHARED_NUMBERS["time_steps"].value)
WINDOWS_PER_S = SHARED_NUMBERS["window_rate"].value

STAGES = (
    # stage, biophysical component, layer (DettmersNeuron attribute: class)
    ("presynaptic spikes", "SpikeGeneratorGroup (biophysics.inputs)", "input tensor"),
    ("transmitter release", "Tsodyks-Markram on_pre code (biophysics.release)",
     "axon: TransmitterDense"),
    ("receptors", "per-compartment A/B states (biophysics.receptors)",
     "synapse: SynapticKernel"),
    ("dendrites", "SpatialNeuron cable: solve and leak (biophysics.pipeline)",
     "dendrites: DendriticConv"),
    ("dendritic spikes", "dendritic channel gates, Ca2+ pool + NMDA block",
     "spikes: AmplifyingPool, dendritic_rate"),
    ("soma", "soma compartment", "soma: SomaticFilter (1x1x5)"),
    ("firing decision", "AIS channel gates, threshold", "somatic_rate, firing: PoissonFiring"),
    ("axon", "axon to the terminal", "(next neuron's dense weight)"),
)
LAYER_MODULES = {"transmitter release": ("axon",), "receptors": ("synapse",),
                 "dendrites": ("dendrites",), "dendritic spikes": ("spikes", "dendritic_rate"),
                 "soma": ("soma",), "firing decision": ("somatic_rate", "firing")}


def biophysical_costs(*, duration_ms: float, seed: int) -> tuple[dict[str, float], float]:
    """FLOP per neuron-second per stage of an L5 run, and the run's total."""
    from brian2 import ms, us

    model = l5_pyramidal()
    inputs = L5_DRIVE.trains(model, duration_ms=duration_ms, rng=np.random.default_rng(seed))
    pipe = NeuronPipeline(model)
    rec = pipe.run(inputs, duration=duration_ms * ms, dt=25 * us, backend="cpp_standalone",
                   seed=seed, record_dt=0.05 * ms)  # the neuron-pipeline build: cached
    cost = recording_cost(rec, model)
    per_s = cost.duration_s * cost.n_neurons
    table = model.morphology.compartment_table()
    regions = table["region"]
    share = {"soma": np.mean(regions == "soma"),
             "firing decision": np.mean(regions == "ais"),
             "axon": np.mean(np.isin(regions, [r for r in AXONAL_REGIONS if r != "ais"]))}
    share["dendrites"] = 1.0 - sum(share.values())
    out = dict.fromkeys([s for s, _, _ in STAGES], 0.0)
    for item in cost.items:
        flop = item.flop / per_s
        if item.name.startswith("release and delivery"):
            out["transmitter release"] += flop
        elif item.name == "receptor states":
            out["receptors"] += flop
        elif item.name == "spike detection":
            out["firing decision"] += flop
        elif item.name == "channel gates":
            for stage, f in share.items():
                out["dendritic spikes" if stage == "dendrites" else stage] += flop * f
        else:  # cable solve, branch points, membrane currents
            for stage, f in share.items():
                out[stage] += flop * f
    return out, cost.flop_per_neuron_second


def layer_costs(neuron: torch.nn.Module) -> dict[str, float]:
    """Forward FLOP per neuron-second per stage of a DettmersNeuron (eval mode)."""
    neuron.eval()
    x = torch.zeros(1, neuron.config.n_synapses, T_STEPS)
    frame = count(neuron, x, backward=False).to_frame().set_index("module")
    return {stage: float(sum(frame.loc[m, "forward_flop"] for m in mods)) * WINDOWS_PER_S
            for stage, mods in LAYER_MODULES.items()}


@dataclass(kw_only=True)
class StageTable(Result):
    """The correspondence table."""

    table: pd.DataFrame

    layout = (("chart",), ("chart",))
    row_height_in = 1.6

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _draw(self, axes: Sequence[Axes]) -> None:
        ax = axes[0]
        t = self.table
        y = np.arange(len(t))[::-1]
        cols = (("biophysics_L5_flop_per_neuron_s", "Brian2 L5 cell", PALETTE[0]),
                ("layer_granule_flop_per_neuron_s", "DettmersNeuron granule", PALETTE[2]),
                ("layer_purkinje_flop_per_neuron_s", "DettmersNeuron Purkinje", PALETTE[1]))
        for k, (col, label, color) in enumerate(cols):
            vals = t[col].to_numpy(dtype=float)
            ax.barh(y + (1 - k) * 0.27, np.where(vals > 0, vals, np.nan), 0.27, color=color,
                    label=label)
        ax.set_yticks(y, [f"{s}\n{lay}" for s, lay in zip(t["stage"], t["layer"],
                                                          strict=True)], fontsize=5)
        ax.set(xscale="log", xlabel="FLOP per neuron-second", ylabel="stage and layer")
        # above the bars, so that it covers none of them
        ax.legend(fontsize=5.5, loc="lower right", bbox_to_anchor=(1.0, 1.0),
                  title="1 MAC = 2 FLOP", title_fontsize=5, borderaxespad=0.1)


def run(*, quick: bool = True, seed: int = 0) -> StageTable:
    """Quick: a 200 ms L5 run; full: 2 s."""
    bio, bio_total = biophysical_costs(duration_ms=200.0 if quick else 2000.0, seed=seed)
    granule = layer_costs(granule_cell(seed=seed))
    purkinje = layer_costs(purkinje_cell(seed=seed))
    rows = [{"stage": s, "biophysical_component": b, "layer": lay,
             "biophysics_L5_flop_per_neuron_s": bio[s],
             "layer_granule_flop_per_neuron_s": granule.get(s, 0.0),
             "layer_purkinje_flop_per_neuron_s": purkinje.get(s, 0.0)}
            for s, b, lay in STAGES]
    table = pd.DataFrame(rows)
    headline = {
        "biophysics_L5_flop_per_neuron_s": bio_total,
        "layer_granule_flop_per_neuron_s": float(sum(granule.values())),
        "layer_purkinje_flop_per_neuron_s": float(sum(purkinje.values())),
        "biophysics_over_granule_layer_ratio": bio_total / float(sum(granule.values())),
        "biophysics_over_purkinje_layer_ratio": bio_total / float(sum(purkinje.values())),
        "largest_biophysical_stage_share": float(max(bio.values()) / bio_total),
    }
    model = l5_pyramidal()
    n_syn = sum(g.n_synapses for g in model.synapse_groups)
    return StageTable(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, table=table,
        notes=[f"Biophysics: the reduced mammalian L5b cell ({model.morphology.n_compartments} "
               f"compartments, {n_syn:,} synapses) under the neuron-pipeline input "
               f"({L5_DRIVE.exc_rate_hz:g}/{L5_DRIVE.inh_rate_hz:g} Hz per axon); "
               "compartment-step costs split over stages by share of compartments; channel "
               "gates and the Ca2+ pool of dendritic compartments booked to dendritic spikes.",
               f"Layers: forward FLOPs per window of T = {T_STEPS} steps × {WINDOWS_PER_S:g} "
               "windows/s (the post's Kurzweil-style rate); the post's granule and Purkinje "
               "configurations have no synaptic-kernel stage (an identity), hence no bar."],
        params={"windows_per_s": WINDOWS_PER_S, "l5_duration_ms": 200.0 if quick else 2000.0})


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=52)
