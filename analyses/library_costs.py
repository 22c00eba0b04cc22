"""Bottom-up brain estimates from this library's own models (for ``brain-estimates``).

Three per-neuron costs, each scaled by cited neuron counts (``models.brain_estimates``):

* **Brian2 simulation** — the reduced mammalian L5b cell's (``models.neurons.l5_pyramidal``,
  Hay et al. 2011's channels) simulation cost per neuron-second
  (:func:`neurocomp.accounting.simulation_cost`, priced from its channel units and
  equations at dt = 25 µs and the ``neuron-pipeline`` input rates,
  ``models.l5_drive.L5_DRIVE``; no simulation is run), for every neuron;
* **fitted surrogate** — the forward FLOPs per second of input of the TCN architecture of
  ``surrogate-depth``'s full plan (:data:`SURROGATE_TCN`, 1 ms steps) with one input channel
  per (synapse group, compartment) of that cell, for every neuron;
* **DettmersNeuron** — the counter's forward FLOPs of the post's granule and Purkinje
  layers per window of T = 5 steps × the post's window rate
  (``models.dettmers_neurons.SHARED_NUMBERS["window_rate"]``), for the post's granule and
  Purkinje counts.

This module imports no other analysis: the input rates and the window rate live in
``models/``, and the surrogate's architecture is written out here.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from models.brain_estimates import AZEVEDO_2009_WHOLE_BRAIN, DETTMERS_2015_CEREBELLAR_TYPES
from models.dettmers_neurons import SHARED_NUMBERS, granule_cell, purkinje_cell
from models.l5_drive import L5_DRIVE
from models.neurons import l5_pyramidal
from neurocomp.accounting import count, simulation_cost
from neurocomp.accounting.bottom_up import BottomUpParameters, bottom_up
from neurocomp.layers.tcn import TCN, TCNConfig

DT_MS = 0.025
T_STEPS = int(SHARED_NUMBERS["time_steps"].value)
WINDOWS_PER_S = SHARED_NUMBERS["window_rate"].value
#: The TCN of ``surrogate-depth``'s full plan (``analyses/surrogate_depth.py``, ``FULL``:
#: depth 7, width 64, a 35-tap first layer and 13-tap others). Written out rather than
#: imported (analyses do not import each other): keep it in step with that plan.
SURROGATE_TCN = {"depth": 7, "width": 64, "first_kernel": 35, "kernel": 13}


def simulation_flop_per_neuron_s() -> float:
    """The reduced L5 cell's simulation cost for 1 s at the neuron-pipeline input rates."""
    model = l5_pyramidal()
    steps = round(1000.0 / DT_MS)
    events = {g: round(n) for g, n in L5_DRIVE.events_per_s(model).items()}
    comps = model.morphology.n_compartments
    counts = {"steps": steps, "compartment_steps": comps * steps,
              "synaptic_events": sum(events.values())}
    return simulation_cost(model=model, counts=counts, duration_s=1.0,
                           synaptic_events_by_group=events).flop_per_neuron_second


def surrogate_in_channels() -> int:
    """Input channels of the surrogate: one per (synapse group, compartment with synapses)
    of the reduced L5 cell."""
    return sum(int(np.unique(c).size) for c in l5_pyramidal().synapse_compartments().values())


def surrogate_flop_per_neuron_s(in_channels: int | None = None) -> float:
    """Forward FLOPs of the full-plan TCN over 1 s of input (1000 steps of 1 ms);
    ``in_channels`` defaults to :func:`surrogate_in_channels`."""
    in_channels = surrogate_in_channels() if in_channels is None else in_channels
    a = SURROGATE_TCN
    config = TCNConfig(in_channels=in_channels, depth=a["depth"], width=a["width"],
                       kernel_sizes=(a["first_kernel"],) + (a["kernel"],) * (a["depth"] - 1))
    model = TCN(config).eval()
    return count(model, torch.zeros(1, in_channels, 1000), backward=False).forward_flop


def dettmers_neuron_flop_per_neuron_s(algorithm: str = "auto") -> dict[str, float]:
    """Forward FLOPs per neuron-second of the post's granule and Purkinje layers.

    ``algorithm="toeplitz"`` computes the dendritic convolution as the post's direct sums;
    ``"auto"`` lets the layer pick (the FFT for the Purkinje cell's 1,000-tap filter).
    """
    out = {}
    for name, make in (("granule", granule_cell), ("purkinje", purkinje_cell)):
        neuron = make(dendritic_algorithm=algorithm).eval()
        x = torch.zeros(1, neuron.config.n_synapses, T_STEPS)
        out[name] = count(neuron, x, backward=False).forward_flop * WINDOWS_PER_S
    return out


@functools.cache
def library_bottom_up_estimates() -> dict[str, BottomUpParameters]:
    """The three estimates, by key (computed once per process)."""
    model = l5_pyramidal()
    n_syn = sum(g.n_synapses for g in model.synapse_groups)
    sim = bottom_up(
        name="bottom_up_brian2_simulation", label="Brian2 L5 cell × neurons",
        populations=AZEVEDO_2009_WHOLE_BRAIN,
        flop_per_s_per_neuron=simulation_flop_per_neuron_s(),
        cost_source="this library: the reduced mammalian L5b cell's simulation cost "
                    f"({model.morphology.n_compartments} compartments, {n_syn:,} synapses, "
                    f"dt {DT_MS} ms, {L5_DRIVE.exc_rate_hz:g}/{L5_DRIVE.inh_rate_hz:g} Hz "
                    "input) priced from its channel units and equations",
        notes=("Every neuron simulated as this library's reduced mammalian L5b cell.",))
    tcn = bottom_up(
        name="bottom_up_fitted_tcn", label="fitted TCN × neurons",
        populations=AZEVEDO_2009_WHOLE_BRAIN,
        flop_per_s_per_neuron=surrogate_flop_per_neuron_s(),
        cost_source="this library: forward FLOPs of the surrogate-depth full-plan TCN "
                    f"(depth {SURROGATE_TCN['depth']}, width {SURROGATE_TCN['width']}, "
                    f"{surrogate_in_channels()} input channels) per second of 1 ms input",
        notes=("The architecture's cost; its accuracy is what surrogate-depth measures.",))
    dns = []
    for algorithm, key, label in (("toeplitz", "direct", "direct sums"),
                                  ("auto", "fft", "FFT")):
        dns.append(bottom_up(
            name=f"bottom_up_dettmers_neuron_{key}",
            label=f"DettmersNeuron ({label}) × cells",
            populations=DETTMERS_2015_CEREBELLAR_TYPES,
            flop_per_s_per_neuron=dettmers_neuron_flop_per_neuron_s(algorithm),
            cost_source="this library: counter forward FLOPs of the post's granule and "
                        f"Purkinje layers ({label}) per T = {T_STEPS} window × "
                        f"{WINDOWS_PER_S:g} "
                        "windows/s",
            notes=("The post's two cerebellar types only, as in its own estimate.",)))
    return {p.name: p for p in (sim, tcn, *dns)}
