"""Cerebellar granule and Purkinje cells as :class:`~neurocomp.layers.DettmersNeuron`\\ s.

Every shape comes from Dettmers (2015), "The Brain vs Deep Learning Part I: Computational
Complexity — Or Why the Singularity Is Nowhere Near" (summarised in
``docs/references.md#seed-brain-vs-dl-1, #seed-brain-vs-dl-2``); each number below is a
:class:`Cited` with the sentence of the post it rests on. Where the post gives no number (the
amplification of neighbours by a dendritic spike, the granule cell's nonlinearity, how the synapses
are laid out over the (branch, dendrite) grid), the choice is marked as ours.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from neurocomp.biophysics import RECEPTORS
from neurocomp.checks import check_int
from neurocomp.citations import Cited
from neurocomp.layers import DettmersNeuron, DettmersNeuronConfig, DifferenceOfExponentials

__all__ = [
    "AMPA",
    "DETTMERS_2015",
    "GRANULE",
    "GRANULE_NUMBERS",
    "NMDA",
    "PURKINJE",
    "PURKINJE_NUMBERS",
    "SHARED_NUMBERS",
    "granule_cell",
    "purkinje_cell",
]

DETTMERS_2015 = ("Dettmers (2015), The Brain vs Deep Learning Part I: Computational Complexity, "
                 "timdettmers.com/2015/07/27/brain-vs-deep-learning-singularity/")

#: Numbers shared by both cells.
SHARED_NUMBERS: dict[str, Cited] = {
    "time_steps": Cited(value=5, unit="steps", source=DETTMERS_2015,
                        note="'He fixes T = 5 time steps': recognition within 80-200 ms at "
                             "30 frames/s is 2.4-6 steps (§2.3 item 2)"),
    "frame_rate": Cited(value=30.0, unit="Hz", source=DETTMERS_2015,
                        note="30 frames/s used to turn latencies into steps; dt = 33.3 ms"),
    "soma_filter_steps": Cited(value=5, unit="steps", source=DETTMERS_2015,
                               note="soma: 'a 1x1x5 temporal convolution filter, the same for "
                                    "every neuron' (§1 row 12, §2.3 item 5)"),
    "poisson_lambda": Cited(value=0.5, unit="cycles", source=DETTMERS_2015,
                            note="the figure's Poisson(lambda = 0.5) example of cycles waited "
                                 "before firing (§1 row 8); an example, not a measurement"),
    "window_rate": Cited(value=200.0, unit="windows/s", source=DETTMERS_2015,
                         note="the ≈200 action potentials per second of the Kurzweil-style "
                              "model the post describes (§2.1), read as 200 windows of T = 5 "
                              "steps per second — a neurocomp choice: the post states no rate "
                              "for its own model"),
    "amplification": Cited(value=0.5, unit="1", source="neurocomp choice (not in the post)",
                           note="the post says neighbours are 'amplified toward the maximum' "
                                "but gives no amount; 0.5 sits between average pooling (0) "
                                "and the max-pooling of its convnet analogy (1)"),
}

#: Granule cell (cerebellum, ~5e10 of them).
GRANULE_NUMBERS: dict[str, Cited] = {
    "n_synapses": Cited(value=15, unit="synapses", source=DETTMERS_2015,
                        note="input from ~4 axons making 3-4 synapses each on the dendritic "
                             "claw, 'so ~15 synaptic inputs'; input 15x5 (§2.3 item 7)"),
    "n_dendrites": Cited(value=4, unit="dendrites", source=DETTMERS_2015,
                         note="'tiny, ~4 dendrites' (§2.2)"),
    "kernel_branch": Cited(value=3, unit="steps", source=DETTMERS_2015,
                           note="3 branches per dendrite: the 3 of the 3x4 spatial filter"),
    "kernel_dendrite": Cited(value=4, unit="steps", source=DETTMERS_2015,
                             note="4 dendrites: the 4 of the 3x4 spatial filter"),
    "n_outputs": Cited(value=100, unit="synapses", source=DETTMERS_2015,
                       note="'the T-axon makes ~100 synapses with Purkinje dendrites'"),
}

#: Purkinje cell (cerebellum, ~1e8 of them).
PURKINJE_NUMBERS: dict[str, Cited] = {
    "n_synapses": Cited(value=100_000, unit="synapses", source=DETTMERS_2015,
                        note="~100,000 granule-cell inputs ('75,000 would be too "
                             "conservative'; 100k for easy math), input 100,000x5"),
    "n_dendrites": Cited(value=1000, unit="dendrites", source=DETTMERS_2015,
                         note="'>100,000 synapses and ~1,000 dendrites each' (§2.2)"),
    "kernel_branch": Cited(value=10, unit="steps", source=DETTMERS_2015,
                           note="dendritic filter ~10x1000x5 (§2.3 item 3)"),
    "kernel_dendrite": Cited(value=1000, unit="steps", source=DETTMERS_2015,
                             note="dendritic filter ~10x1000x5 (§2.3 item 3)"),
    "n_outputs": Cited(value=1000, unit="synapses", source=DETTMERS_2015,
                       note="'~1,000 connections into the deep nuclei' (§2.3 item 7)"),
}

#: Receptor kinetics for runs at finer time steps (the post's 33 ms steps have none): the
#: biophysical cell's own AMPA and NMDA receptors (one definition, neurocomp.biophysics).
AMPA, NMDA = (DifferenceOfExponentials(tau_rise_ms=RECEPTORS[n].tau_rise_ms,
                                       tau_decay_ms=RECEPTORS[n].tau_decay_ms,
                                       source=RECEPTORS[n].source) for n in ("ampa", "nmda"))


def _config(numbers: dict[str, Cited], *, name: str, nonlinearity: str) -> DettmersNeuronConfig:
    shared = SHARED_NUMBERS
    return DettmersNeuronConfig(
        name=name,
        n_synapses=int(numbers["n_synapses"].value),
        n_dendrites=int(numbers["n_dendrites"].value),
        dendritic_kernel=(int(numbers["kernel_branch"].value),
                          int(numbers["kernel_dendrite"].value),
                          int(shared["time_steps"].value)),
        n_outputs=int(numbers["n_outputs"].value),
        dt_ms=1000.0 / shared["frame_rate"].value,
        somatic_kernel_taps=int(shared["soma_filter_steps"].value),
        firing_lambda=shared["poisson_lambda"].value,
        amplification=shared["amplification"].value,
        dendritic_nonlinearity=nonlinearity,
        somatic_nonlinearity="relu",
    )


#: Granule cell: 15×5 input, 3×4×5 dendritic filter, 1×1×5 soma, 100×5 output. The post names
#: no summation type for granule cells; ReLU (its firing-rate nonlinearity) is our choice.
GRANULE = _config(GRANULE_NUMBERS, name="granule", nonlinearity="relu")

#: Purkinje cell: 100,000×5 input on 100 slots × 1,000 dendrites, 10×1000×5 filter, 1×1×5
#: soma, 1,000×5 output; ReLU, the post's choice for Purkinje cells ("sum linearly").
PURKINJE = _config(PURKINJE_NUMBERS, name="purkinje", nonlinearity="relu")


def _build(config: DettmersNeuronConfig, seed: int, overrides: dict[str, Any],
           device: torch.device | str | None, dtype: torch.dtype | None) -> DettmersNeuron:
    check_int("seed", seed, low=0, high=2**64 - 1)  # torch's seed range, no negatives
    unknown = sorted(set(overrides) - set(DettmersNeuronConfig.__dataclass_fields__))
    if unknown:
        raise TypeError(f"unknown DettmersNeuronConfig field{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(map(repr, unknown))} in the overrides; fields: "
                        f"{', '.join(DettmersNeuronConfig.__dataclass_fields__)}")
    cfg = replace(config, **overrides) if overrides else config
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        neuron = DettmersNeuron(cfg)  # drawn on the CPU in float32: same weights anywhere
    return neuron.to(device=device, dtype=dtype)


def granule_cell(*, seed: int = 0, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, **overrides: Any) -> DettmersNeuron:
    """A granule :class:`DettmersNeuron`, weights drawn with ``seed`` (global RNG untouched;
    drawn on the CPU in float32, then moved and cast, so a seed gives the same weights on every
    device and in every dtype).

    ``overrides`` replace fields of :data:`GRANULE` (e.g. ``amplification=1.0``).
    """
    return _build(GRANULE, seed, overrides, device, dtype)


def purkinje_cell(*, seed: int = 0, device: torch.device | str | None = None,
                  dtype: torch.dtype | None = None, **overrides: Any) -> DettmersNeuron:
    """A Purkinje :class:`DettmersNeuron`; ``overrides`` replace fields of :data:`PURKINJE`.

    Its 10×1000×5 dendritic filter is 5×10¹⁰ FLOPs per 5-step input window as direct sums
    (2 per multiply-add; ``dendritic_algorithm="toeplitz"`` does exactly those at GEMM
    speed); the default ``"auto"`` computes the same outputs by FFT with far less work.
    """
    return _build(PURKINJE, seed, overrides, device, dtype)
