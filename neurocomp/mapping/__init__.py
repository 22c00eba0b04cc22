"""Dendrites and convolution: convolution theory first; kernels and surrogates build on it.

Submodules
----------
convolution
    Direct and FFT convolution/cross-correlation (numpy and torch), shape arithmetic.
convolution_timing
    Timing sweeps of direct against FFT convolution and the kernel size where they cross.
spectral
    Log spectra, orientation and rotation of spectra, disc low-pass filtering.
templates
    Template matching by (normalised) cross-correlation.
diffusion
    Diffusion as repeated convolution; the passive cable's Green's function.
propagator
    Kernels as probability distributions; stochastic convolution.
neuronio_inputs, neuronio, neuronio_sim
    NeuronIO-mini: Beniaguev-style inputs, the data set's key, generation as a resumable
    sweep, its on-disk format and loader; the Brian2 simulator that generates it.
kernels, linear
    Exact synaptic kernels of a passive tree; linear surrogates (kernels from simulation,
    prediction as convolution, fitting).
surrogate, surrogate_data, surrogate_fit, surrogate_fit_config, surrogate_predict, …
    Deep surrogates of a neuron: containers and metrics, windows of sequences (never
    crossing a sequence), training and its options, prediction, bootstrap scores, and
    FLOPs per simulated millisecond (also ``surrogate_scoring``, ``surrogate_cost``).

This face is the pillar's contract: code outside ``neurocomp/mapping/`` imports from here
only (``tests/test_architecture.py``); the modules listed in ``__all__`` are public as modules.
"""

from neurocomp.mapping import convolution, diffusion, propagator, spectral, templates
from neurocomp.mapping.convolution import (
    circular_convolve,
    conv_output_size,
    convolve,
    correlate,
    feature_map_shape,
    output_shape,
)
from neurocomp.mapping.convolution_timing import IMPLEMENTATIONS, crossover_size, timing_sweep
from neurocomp.mapping.diffusion import (
    cable_greens_function,
    diffuse,
    euler_diffusion,
    euler_step_kernel,
    gaussian_diffusion,
    gaussian_kernel,
    kernel_variance,
)
from neurocomp.mapping.kernels import passive_system, synaptic_kernels
from neurocomp.mapping.linear import (
    KernelConv1d,
    bin_synaptic_input,
    exponential_basis,
    fit_kernels,
    impulse_response_kernels,
    predict_voltage,
    variance_explained,
)
from neurocomp.mapping.neuronio import (
    GenerationSpec,
    NeuronIODataset,
    dataset_key,
    draw_sequence_inputs,
    generate_dataset,
    load_dataset,
)
from neurocomp.mapping.neuronio_inputs import ChannelTable, InputStatistics, generate_inputs
from neurocomp.mapping.neuronio_sim import (
    BrianSimulator,
    TorchSimulator,
    channel_table,
    dendritic_sites,
    model_fingerprint,
)
from neurocomp.mapping.propagator import softmax_propagator, stochastic_correlate
from neurocomp.mapping.spectral import estimate_rotation_deg, grating, log_spectrum, lowpass_disc
from neurocomp.mapping.surrogate import NeuronIO, load_surrogate, roc_auc
from neurocomp.mapping.surrogate_cost import flops_per_ms, parameter_count
from neurocomp.mapping.surrogate_data import SequenceWindows
from neurocomp.mapping.surrogate_fit import train_surrogate
from neurocomp.mapping.surrogate_fit_config import SurrogateTrainConfig, TrainReport
from neurocomp.mapping.surrogate_predict import predict
from neurocomp.mapping.surrogate_scoring import SurrogateScore, score_surrogate
from neurocomp.mapping.templates import match_template

__all__ = [
    "IMPLEMENTATIONS",
    "BrianSimulator",
    "ChannelTable",
    "GenerationSpec",
    "InputStatistics",
    "KernelConv1d",
    "NeuronIO",
    "NeuronIODataset",
    "SequenceWindows",
    "SurrogateScore",
    "SurrogateTrainConfig",
    "TorchSimulator",
    "TrainReport",
    "bin_synaptic_input",
    "cable_greens_function",
    "channel_table",
    "circular_convolve",
    "conv_output_size",
    "convolution",
    "convolve",
    "correlate",
    "crossover_size",
    "dataset_key",
    "dendritic_sites",
    "diffuse",
    "diffusion",
    "draw_sequence_inputs",
    "estimate_rotation_deg",
    "euler_diffusion",
    "euler_step_kernel",
    "exponential_basis",
    "feature_map_shape",
    "fit_kernels",
    "flops_per_ms",
    "gaussian_diffusion",
    "gaussian_kernel",
    "generate_dataset",
    "generate_inputs",
    "grating",
    "impulse_response_kernels",
    "kernel_variance",
    "load_dataset",
    "load_surrogate",
    "log_spectrum",
    "lowpass_disc",
    "match_template",
    "model_fingerprint",
    "output_shape",
    "parameter_count",
    "passive_system",
    "predict",
    "predict_voltage",
    "propagator",
    "roc_auc",
    "score_surrogate",
    "softmax_propagator",
    "spectral",
    "stochastic_correlate",
    "synaptic_kernels",
    "templates",
    "timing_sweep",
    "train_surrogate",
    "variance_explained",
]
