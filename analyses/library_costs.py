"""Bottom-up brain estimates from this library's own models (for ``brain-estimates``).

Three per-neuron costs, each scaled by cited neuron counts (``models.brain_estimates``):

* **Brian2 simulation** — the reduced L5 cell's simulation cost per neuron-second
  (:func:`neurocomp.accounting.simulation_cost`, priced from its equations at dt = 25 µs
  and the neuron-pipeline input rates; no simulation is run), for every neuron;
* **fitted surrogate** — the forward FLOPs per second of input of the TCN architecture of
  ``surrogate-depth``'s full plan (depth 7, 1 ms steps), for every neuron;
* **DettmersNeuron** — the counter's forward FLOPs of the post's granule and Purkinje
  layers per window of T = 5 steps × 200 windows/s, for the post's granule and Purkinje counts.
"""

from __future__ import annotations

import functools

import torch

from analyses.neuron_pipeline import EXC_RATE_HZ, INH_RATE_HZ
from analyses.stage_correspondence import WINDOWS_PER_S
from analyses.surrogate_depth import FULL
from models.brain_estimates import AZEVEDO_2009_WHOLE_BRAIN, DETTMERS_2015_CEREBELLAR_TYPES
from models.dettmers_neurons import granule_cell, purkinje_cell
from models.neurons import l5_pyramidal
from neurocomp.accounting import count, simulation_cost
from neurocomp.accounting.bottom_up import BottomUpParameters, bottom_up
from neurocomp.layers.tcn import TCN, TCNConfig

DT_MS = 0.025


def simulation_flop_per_neuron_s() -> float:
    """The reduced L5 cell's simulation cost for 1 s at the neuron-pipeline input rates."""
    model = l5_pyramidal()
    steps = round(1000.0 / DT_MS)
    events = {g.name: round((EXC_RATE_HZ if g.name == "exc" else INH_RATE_HZ)
                                * g.n_sources) for g in model.synapse_groups}
    comps = model.morphology.n_compartments
    counts = {"steps": steps, "compartment_steps": comps * steps,
              "synaptic_events": sum(events.values())}
    return simulation_cost(model=model, counts=counts, duration_s=1.0,
                           synaptic_events_by_group=events).flop_per_neuron_second


def surrogate_flop_per_neuron_s(in_channels: int = 267) -> float:
    """Forward FLOPs of the full-plan TCN over 1 s of input (1000 steps of 1 ms)."""
    config = TCNConfig(in_channels=in_channels, depth=max(FULL.depths), width=FULL.width,
                       kernel_sizes=(FULL.first_kernel,) + (FULL.kernel,) *
                       (max(FULL.depths) - 1))
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
        x = torch.zeros(1, neuron.config.n_synapses, 5)
        out[name] = count(neuron, x, backward=False).forward_flop * WINDOWS_PER_S
    return out


@functools.cache
def library_bottom_up_estimates() -> dict[str, BottomUpParameters]:
    """The three estimates, by key (computed once per process)."""
    sim = bottom_up(
        name="bottom_up_brian2_simulation", label="Brian2 L5 cell × neurons",
        populations=AZEVEDO_2009_WHOLE_BRAIN,
        flop_per_s_per_neuron=simulation_flop_per_neuron_s(),
        cost_source="this library: the reduced L5 cell's simulation cost (265 compartments, "
                    f"1,200 synapses, dt {DT_MS} ms, {EXC_RATE_HZ:g}/{INH_RATE_HZ:g} Hz input) "
                    "priced from its equations",
        notes=("Every neuron simulated as this library's reduced L5 cell.",))
    tcn = bottom_up(
        name="bottom_up_fitted_tcn", label="fitted TCN × neurons",
        populations=AZEVEDO_2009_WHOLE_BRAIN,
        flop_per_s_per_neuron=surrogate_flop_per_neuron_s(),
        cost_source="this library: forward FLOPs of the surrogate-depth full-plan TCN "
                    f"(depth {max(FULL.depths)}, width {FULL.width}) per second of 1 ms input",
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
                        f"Purkinje layers ({label}) per T = 5 window × {WINDOWS_PER_S:g} "
                        "windows/s",
            notes=("The post's two cerebellar types only, as in its own estimate.",)))
    return {p.name: p for p in (sim, tcn, *dns)}
