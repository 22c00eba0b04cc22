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
neuronio_inputs, neuronio
    NeuronIO-mini: Beniaguev-style inputs, the data set's key, generation as a resumable
    sweep, its on-disk format and loader.
surrogate, surrogate_fit
    Deep surrogates of a neuron: containers, metrics, training on sequences (windows never
    cross a sequence), bootstrap scores and FLOPs per simulated millisecond.
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
from neurocomp.mapping.diffusion import (
    cable_greens_function,
    diffuse,
    euler_diffusion,
    euler_step_kernel,
    gaussian_diffusion,
    gaussian_kernel,
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
from neurocomp.mapping.propagator import softmax_propagator, stochastic_correlate
from neurocomp.mapping.spectral import (
    estimate_rotation_deg,
    grating,
    log_spectrum,
    lowpass_disc,
)
from neurocomp.mapping.surrogate import NeuronIO, roc_auc
from neurocomp.mapping.surrogate_fit import (
    SequenceWindows,
    SurrogateScore,
    SurrogateTrainConfig,
    TrainReport,
    flops_per_ms,
    parameter_count,
    predict,
    score_surrogate,
    train_surrogate,
)
from neurocomp.mapping.templates import match_template

__all__ = [
    "ChannelTable",
    "GenerationSpec",
    "InputStatistics",
    "NeuronIO",
    "NeuronIODataset",
    "SequenceWindows",
    "SurrogateScore",
    "SurrogateTrainConfig",
    "TrainReport",
    "cable_greens_function",
    "circular_convolve",
    "conv_output_size",
    "convolution",
    "convolve",
    "correlate",
    "dataset_key",
    "diffuse",
    "diffusion",
    "draw_sequence_inputs",
    "estimate_rotation_deg",
    "euler_diffusion",
    "euler_step_kernel",
    "feature_map_shape",
    "flops_per_ms",
    "gaussian_diffusion",
    "gaussian_kernel",
    "generate_dataset",
    "generate_inputs",
    "grating",
    "load_dataset",
    "log_spectrum",
    "lowpass_disc",
    "match_template",
    "output_shape",
    "parameter_count",
    "predict",
    "propagator",
    "roc_auc",
    "score_surrogate",
    "softmax_propagator",
    "spectral",
    "stochastic_correlate",
    "templates",
    "train_surrogate",
]
