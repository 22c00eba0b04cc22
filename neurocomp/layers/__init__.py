"""PyTorch layers: the neuron's pipeline as convnet parts, a neuron-as-convnet, TCNs, training.

Math lives in :mod:`neurocomp.layers.functional` (pure functions); the modules are thin
shells around it. Every layer follows its input's device and dtype, so the code that runs on
this CPU runs unchanged on CUDA. Time is the last axis everywhere.

Submodules
----------
functional
    Synaptic kernel, transmitter dense layer, dendritic convolution, amplifying pool,
    dendritic nonlinearities, temporal filter, Poisson firing, causal convolution.
synapse, dendrite, soma
    The modules of each stage.
neuron
    :class:`DettmersNeuron`, the whole pipeline (cited configurations in
    ``neurocomp_models.dettmers_neurons``).
tcn
    Causal temporal convolutional nets with spike and voltage heads (Beniaguev et al. 2021).
elm, baselines
    The Expressive Leaky Memory neuron and Branch-ELM (Spieler et al. 2024); linear and LN
    surrogate baselines with the TCN's output interface.
training, training_config, training_checkpoints, training_data, ddp
    :func:`fit` (seeds, progress, early stopping; CPU, CUDA, torchrun/DDP), its options and
    results, checkpoints and resumption, data checks, and the process-group helpers.

This face is the pillar's contract: code outside ``neurocomp/layers/`` imports from here only
(``tests/test_architecture.py``); ``functional`` is public as a module.
"""

from neurocomp.layers import functional
from neurocomp.layers._functional_dendrite import FFT_MIN_TAPS
from neurocomp.layers.baselines import FilterSurrogateConfig, LinearSurrogate, LNSurrogate
from neurocomp.layers.ddp import (
    DistContext,
    choose_device,
    launch_local,
    setup_distributed,
    teardown_distributed,
)
from neurocomp.layers.dendrite import (
    NONLINEARITIES,
    AmplifyingPool,
    DendriticConv,
    DendriticNonlinearity,
)
from neurocomp.layers.elm import ELM, ELMConfig, elm_forward, elm_step
from neurocomp.layers.functional import TOEPLITZ_MAX_STEPS
from neurocomp.layers.neuron import DettmersNeuron, DettmersNeuronConfig, NeuronStages
from neurocomp.layers.soma import PoissonFiring, SomaticFilter
from neurocomp.layers.synapse import DifferenceOfExponentials, SynapticKernel, TransmitterDense
from neurocomp.layers.tcn import (
    TCN,
    CausalConv1d,
    TCNConfig,
    TCNOutput,
    equal_rf_kernels,
    tcn_loss,
)
from neurocomp.layers.training import fit
from neurocomp.layers.training_config import EpochRecord, FitConfig, FitResult

__all__ = [
    "ELM",
    "FFT_MIN_TAPS",
    "NONLINEARITIES",
    "TCN",
    "TOEPLITZ_MAX_STEPS",
    "AmplifyingPool",
    "CausalConv1d",
    "DendriticConv",
    "DendriticNonlinearity",
    "DettmersNeuron",
    "DettmersNeuronConfig",
    "DifferenceOfExponentials",
    "DistContext",
    "ELMConfig",
    "EpochRecord",
    "FilterSurrogateConfig",
    "FitConfig",
    "FitResult",
    "LNSurrogate",
    "LinearSurrogate",
    "NeuronStages",
    "PoissonFiring",
    "SomaticFilter",
    "SynapticKernel",
    "TCNConfig",
    "TCNOutput",
    "TransmitterDense",
    "choose_device",
    "elm_forward",
    "elm_step",
    "equal_rf_kernels",
    "fit",
    "functional",
    "launch_local",
    "setup_distributed",
    "tcn_loss",
    "teardown_distributed",
]
