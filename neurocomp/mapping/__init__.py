"""Dendrites and convolution: convolution theory first; kernels and surrogates build on it.

Submodules
----------
convolution
    Direct and FFT convolution/cross-correlation (numpy and torch), shape arithmetic.
spectral
    Log spectra, orientation and rotation of spectra, disc low-pass filtering.
templates
    Template matching by (normalised) cross-correlation.
diffusion
    Diffusion as repeated convolution; the passive cable's Green's function.
propagator
    Kernels as probability distributions; stochastic convolution.
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
from neurocomp.mapping.propagator import softmax_propagator, stochastic_correlate
from neurocomp.mapping.spectral import (
    estimate_rotation_deg,
    grating,
    log_spectrum,
    lowpass_disc,
)
from neurocomp.mapping.templates import match_template

__all__ = [
    "cable_greens_function",
    "circular_convolve",
    "conv_output_size",
    "convolution",
    "convolve",
    "correlate",
    "diffuse",
    "diffusion",
    "estimate_rotation_deg",
    "euler_diffusion",
    "euler_step_kernel",
    "feature_map_shape",
    "gaussian_diffusion",
    "gaussian_kernel",
    "grating",
    "log_spectrum",
    "lowpass_disc",
    "match_template",
    "output_shape",
    "propagator",
    "softmax_propagator",
    "spectral",
    "stochastic_correlate",
    "templates",
]
