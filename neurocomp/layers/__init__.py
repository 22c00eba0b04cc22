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
    ``models.dettmers_neurons``).
tcn
    Causal temporal convolutional nets with spike and voltage heads (Beniaguev et al. 2021).
training, ddp
    :func:`fit` (seeds, progress, early stopping, checkpoints; CPU, CUDA, torchrun/DDP) and
    the process-group helpers.
"""

from neurocomp.layers import functional
from neurocomp.layers.ddp import DistContext, choose_device, launch_local, setup_distributed
from neurocomp.layers.dendrite import (
    NONLINEARITIES,
    AmplifyingPool,
    DendriticConv,
    DendriticNonlinearity,
)
from neurocomp.layers.neuron import DettmersNeuron, DettmersNeuronConfig, NeuronStages
from neurocomp.layers.soma import PoissonFiring, SomaticFilter
from neurocomp.layers.synapse import DifferenceOfExponentials, SynapticKernel, TransmitterDense
from neurocomp.layers.tcn import TCN, CausalConv1d, TCNConfig, TCNOutput, tcn_loss
from neurocomp.layers.training import EpochRecord, FitConfig, FitResult, fit

__all__ = [
    "NONLINEARITIES",
    "TCN",
    "AmplifyingPool",
    "CausalConv1d",
    "DendriticConv",
    "DendriticNonlinearity",
    "DettmersNeuron",
    "DettmersNeuronConfig",
    "DifferenceOfExponentials",
    "DistContext",
    "EpochRecord",
    "FitConfig",
    "FitResult",
    "NeuronStages",
    "PoissonFiring",
    "SomaticFilter",
    "SynapticKernel",
    "TCNConfig",
    "TCNOutput",
    "TransmitterDense",
    "choose_device",
    "fit",
    "functional",
    "launch_local",
    "setup_distributed",
    "tcn_loss",
]
