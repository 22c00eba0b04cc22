"""A whole neuron as a small convnet: Dettmers' (2015) pipeline composed stage by stage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.layers import functional as LF
from neurocomp.layers._checks import (
    bytes_per_value,
    check_allocation,
    check_floating,
    check_rank,
    check_size,
    int_tuple,
)
from neurocomp.layers.dendrite import (
    NONLINEARITIES,
    AmplifyingPool,
    DendriticConv,
    DendriticNonlinearity,
)
from neurocomp.layers.soma import PoissonFiring, SomaticFilter
from neurocomp.layers.synapse import DifferenceOfExponentials, SynapticKernel, TransmitterDense

__all__ = ["DettmersNeuron", "DettmersNeuronConfig", "NeuronStages"]


@dataclass(frozen=True, kw_only=True)
class DettmersNeuronConfig:
    """Shapes and constants of one :class:`DettmersNeuron` (cited instances live in
    ``neurocomp_models``).

    Parameters
    ----------
    n_synapses : int
        Synaptic inputs :math:`S` (granule ~15, Purkinje ~100,000 in the post).
    n_dendrites : int
        Dendrites :math:`D` the synapses sit on (granule ~4, Purkinje ~1,000).
    dendritic_kernel : (int, int, int)
        Filter along (branch, dendrite, time) in steps (granule 3×4×5, Purkinje 10×1000×5).
    n_outputs : int
        Output synapses made by the axon (granule ~100, Purkinje ~1,000).
    synapses_per_dendrite : int or None
        Slots :math:`P` along each dendrite (the branch axis); default
        :math:`\\lceil S/D \\rceil`. Synapse :math:`s` sits on dendrite :math:`\\lfloor s/P
        \\rfloor` at slot :math:`s \\bmod P`; unused slots hold zeros.
    dendritic_channels : int
        Feature maps of the dendritic convolution (the post: one filter, 1).
    spatial_padding : {"same", "valid"}
        Padding of the dendritic convolution along branch and dendrite.
    dt_ms : float
        Time step, ms (the post: 30 frames/s, 33.3 ms).
    synapse : DifferenceOfExponentials or None
        Receptor kinetics of the synaptic stage; ``None`` leaves the stage out.
    synaptic_kernel_taps : int
        Length of the synaptic kernel in steps.
    learnable_synapse : bool
        Train the synaptic time constants.
    amplification : float
        Pull toward the dendritic-spike maximum, α in [0, 1] (1 = max-pooling).
    learnable_amplification : bool
        Train α (then 0 < α < 1).
    spike_threshold : float or None
        Dendritic-spike threshold of the pool (``None``: every dendrite amplifies).
    dendritic_nonlinearity, somatic_nonlinearity : str
        One of :data:`~neurocomp.layers.dendrite.NONLINEARITIES`.
    somatic_kernel_taps : int
        The soma filter's length in steps (the post's 1×1×5: 5).
    firing_lambda : float
        Poisson delay mean λ in cycles (the post's example: 0.5).
    dendritic_algorithm : {"auto", "direct", "toeplitz", "fft"}
        How the dendritic convolution is computed (same numbers either way).
    name : str
        Label for reports.
    """

    n_synapses: int
    n_dendrites: int
    dendritic_kernel: tuple[int, int, int]
    n_outputs: int
    synapses_per_dendrite: int | None = None
    dendritic_channels: int = 1
    spatial_padding: str = "same"
    dt_ms: float = 1000.0 / 30.0
    synapse: DifferenceOfExponentials | None = None
    synaptic_kernel_taps: int = 5
    learnable_synapse: bool = False
    amplification: float = 0.5
    learnable_amplification: bool = False
    spike_threshold: float | None = None
    dendritic_nonlinearity: str = "relu"
    somatic_kernel_taps: int = 5
    somatic_nonlinearity: str = "relu"
    firing_lambda: float = 0.5
    dendritic_algorithm: str = "auto"
    name: str = "neuron"

    def __post_init__(self) -> None:
        check_int("n_synapses", self.n_synapses, low=1)
        check_int("n_dendrites", self.n_dendrites, low=1)
        check_int("n_outputs", self.n_outputs, low=1)
        kernel = int_tuple("dendritic_kernel", self.dendritic_kernel, 3)
        object.__setattr__(self, "dendritic_kernel", kernel)
        if self.synapses_per_dendrite is not None:
            slots = check_int("synapses_per_dendrite", self.synapses_per_dendrite, low=1)
            if slots * self.n_dendrites < self.n_synapses:
                raise ValueError(
                    f"synapses_per_dendrite × n_dendrites must hold every synapse; got "
                    f"{slots} × {self.n_dendrites} = {slots * self.n_dendrites} < n_synapses="
                    f"{self.n_synapses}")
        check_int("dendritic_channels", self.dendritic_channels, low=1)
        check_choice("spatial_padding", self.spatial_padding, LF.SPATIAL_PADDINGS)
        if self.spatial_padding == "valid":
            for axis, k, n in (("branch", kernel[0], self.branch_slots),
                               ("dendrite", kernel[1], self.n_dendrites)):
                if k > n:
                    raise ValueError(
                        f"dendritic_kernel is longer than the neuron along the {axis} axis "
                        f"({k} > {n}); spatial_padding='valid' needs the filter to fit")
        check_real("dt_ms", self.dt_ms, low=0.0, low_inclusive=False, unit="ms")
        if self.synapse is not None and not isinstance(self.synapse, DifferenceOfExponentials):
            raise TypeError(f"synapse must be a DifferenceOfExponentials or None; got "
                            f"{type(self.synapse).__name__}")
        check_int("synaptic_kernel_taps", self.synaptic_kernel_taps, low=1)
        high_ok = not self.learnable_amplification
        check_real("amplification", self.amplification, low=0.0, high=1.0,
                   low_inclusive=high_ok, high_inclusive=high_ok)
        if self.spike_threshold is not None:
            check_real("spike_threshold", self.spike_threshold)
        check_choice("dendritic_nonlinearity", self.dendritic_nonlinearity, NONLINEARITIES)
        check_choice("somatic_nonlinearity", self.somatic_nonlinearity, NONLINEARITIES)
        check_int("somatic_kernel_taps", self.somatic_kernel_taps, low=1)
        check_real("firing_lambda", self.firing_lambda, low=0.0)
        check_choice("dendritic_algorithm", self.dendritic_algorithm, LF.CONV_ALGORITHMS)

    def construction_bytes(self, dtype: torch.dtype | None = None) -> int:
        """Bytes the :class:`DettmersNeuron` constructor allocates: the synaptic kernel's
        build, the dendritic filter, the somatic kernel and the axon's weights."""
        size = bytes_per_value(dtype)
        synapse = (0 if self.synapse is None or self.learnable_synapse
                   else LF.kernel_build_bytes(self.synaptic_kernel_taps, dtype))
        dendrites = self.dendritic_channels * (math.prod(self.dendritic_kernel) + 1)
        return synapse + size * (dendrites + self.somatic_kernel_taps + 1
                                 + 2 * self.n_outputs + 8)

    @property
    def branch_slots(self) -> int:
        """Slots :math:`P` along each dendrite (the branch axis of the grid)."""
        if self.synapses_per_dendrite is not None:
            return self.synapses_per_dendrite
        return -(-self.n_synapses // self.n_dendrites)


class NeuronStages(NamedTuple):
    """Every intermediate signal of one :meth:`DettmersNeuron.stages` call (time last)."""

    synaptic: torch.Tensor  #: (batch, synapse, time) after the receptor kernel
    grid: torch.Tensor  #: (batch, 1, branch, dendrite, time) synapses placed on the tree
    dendritic: torch.Tensor  #: (batch, channel, branch, dendrite, time) after the convolution
    spikes: torch.Tensor  #: (batch, channel, dendrite, time) after dendritic-spike pooling
    rates: torch.Tensor  #: (batch, channel, dendrite, time) dendritic rates
    somatic: torch.Tensor  #: (batch, 1, time) summed at the soma and filtered
    firing: torch.Tensor  #: (batch, 1, time) somatic rate after the Poisson firing step
    output: torch.Tensor  #: (batch, n_outputs, time) transmitter at the output synapses


class DettmersNeuron(nn.Module):
    """One neuron as a convnet, following Dettmers (2015), stage by stage.

    Input ``(batch, n_synapses, time)`` — presynaptic activity at each synapse, the post's
    15×5 (granule) or 100,000×5 (Purkinje); output ``(batch, n_outputs, time)`` — transmitter
    delivered to the axon's output synapses (100×5 or 1,000×5), which is the input of the
    next neurons. Each stage stands for one step of the biophysical pipeline
    (``docs/references.md#seed-brain-vs-dl-1`` (rows in brackets)):

    1. ``synapse`` — :class:`SynapticKernel`, optional [1–2, receptor binding opens
       channels]: the transmitter pulse at each synapse becomes a conductance time course,
       a causal difference-of-exponentials filter. The post has no such stage (its 33 ms steps
       are longer than AMPA kinetics); it is here so finer time steps can use it.
    2. placement on the tree [0, 3–4: synapses sit on spines along dendrites]: synapse
       :math:`s` goes to dendrite :math:`\\lfloor s/P \\rfloor`, slot :math:`s \\bmod P`,
       giving a (branch, dendrite, time) grid.
    3. ``dendrites`` — :class:`DendriticConv` [4, charge spreads through the tree to the
       soma; the post's "diffusion = convolution"]: a spatio-temporal filter (3×4×5 or
       10×1000×5), causal in time. Its weights are the synaptic strengths together with the
       passive transfer of the tree; weight sharing is the post's simplification.
    4. ``spikes`` — :class:`AmplifyingPool` over each dendrite's slots [5, dendritic
       spikes]: the local maximum amplifies its neighbours (α toward the max, α = 1 is the
       max-pooling of the post's analogy); the pooled value is one number per dendrite.
    5. ``dendritic_rate`` — :class:`DendriticNonlinearity` [11, dendritic summation →
       instantaneous rate]: ReLU for Purkinje cells, or linear / sub-linear / supra-linear /
       bistable by cell type.
    6. somatic summation and ``soma`` — :class:`SomaticFilter` [12, the soma as a further
       temporal filter]: the dendrites' rates are summed and filtered by the one 1×1×5
       kernel all neurons share.
    7. ``somatic_rate`` [8, threshold → firing rate]: a second nonlinearity (ReLU).
    8. ``firing`` — :class:`PoissonFiring` [8, LNP's inhomogeneous Poisson step, the
       post's "dropout"]: firing delayed by Poisson(λ) cycles in training, its expectation in
       evaluation.
    9. ``axon`` — :class:`TransmitterDense` [9–10 and back to 1: the action potential
       releases transmitter at each terminal, times the receptors of the target synapse]:
       a dense layer from the one soma to the ``n_outputs`` synapses.

    Not modelled, as in the post's LNP estimate: reuptake, G-protein cascades, spine
    dynamics, back-propagating action potentials, gene regulation.

    Parameters
    ----------
    config : DettmersNeuronConfig
        Shapes and constants.
    device, dtype
        Placement of the parameters.
    max_bytes : float or None
        Refuse a construction that allocates more than this
        (:meth:`DettmersNeuronConfig.construction_bytes`), bytes (``None``: 8 GiB); the
        dendritic convolution checks its forward pass against the same bound.
    """

    def __init__(self, config: DettmersNeuronConfig, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, max_bytes: float | None = None) -> None:
        super().__init__()
        if not isinstance(config, DettmersNeuronConfig):
            raise TypeError(f"config must be a DettmersNeuronConfig; got "
                            f"{type(config).__name__}")
        c = config
        check_allocation("DettmersNeuron(config)", c.construction_bytes(dtype),
                         what="parameters and buffers", max_bytes=max_bytes,
                         sizes=f"config.synaptic_kernel_taps={c.synaptic_kernel_taps}, "
                               f"dendritic_channels={c.dendritic_channels}, dendritic_kernel="
                               f"{c.dendritic_kernel}, somatic_kernel_taps="
                               f"{c.somatic_kernel_taps}, n_outputs={c.n_outputs}")
        self.config = config
        self.max_bytes = max_bytes
        factory = {"device": device, "dtype": dtype}
        sized = {**factory, "max_bytes": math.inf}  # the total is checked above
        self.synapse: nn.Module = (
            nn.Identity() if config.synapse is None else
            SynapticKernel(config.synapse, dt_ms=config.dt_ms, n_taps=config.synaptic_kernel_taps,
                           learnable=config.learnable_synapse, **sized))
        self.dendrites = DendriticConv(1, config.dendritic_channels, config.dendritic_kernel,
                                       spatial_padding=config.spatial_padding,
                                       algorithm=config.dendritic_algorithm, **factory,
                                       max_bytes=max_bytes)
        slots = config.branch_slots
        branch_out = slots if config.spatial_padding == "same" else (
            slots - config.dendritic_kernel[0] + 1)
        self.spikes = AmplifyingPool((branch_out, 1, 1), amplification=config.amplification,
                                     learnable=config.learnable_amplification,
                                     threshold=config.spike_threshold, **factory)
        self.dendritic_rate = DendriticNonlinearity(config.dendritic_nonlinearity)
        self.soma = SomaticFilter(config.somatic_kernel_taps, **sized)
        self.somatic_rate = DendriticNonlinearity(config.somatic_nonlinearity)
        self.firing = PoissonFiring(config.firing_lambda)
        self.axon = TransmitterDense(1, config.n_outputs, **sized)

    def place_on_tree(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, S, time)`` → ``(batch, 1, branch, dendrite, time)``, zeros in free slots."""
        cfg = self.config
        batch, steps = x.shape[0], x.shape[-1]
        slots = cfg.branch_slots
        free = slots * cfg.n_dendrites - cfg.n_synapses
        if free:
            x = torch.cat([x, x.new_zeros(batch, free, steps)], dim=1)
        return x.view(batch, cfg.n_dendrites, slots, steps).transpose(1, 2).unsqueeze(1)

    def stages(self, x: torch.Tensor) -> NeuronStages:
        """Run the pipeline and return every intermediate signal (see :class:`NeuronStages`)."""
        check_rank("x", x, 3, "(batch, synapse, time)")
        check_floating("x", x)
        check_size("x", x, 1, self.config.n_synapses, "synapses (config.n_synapses)")
        cfg = self.config
        grid_values = x.shape[0] * cfg.branch_slots * cfg.n_dendrites * x.shape[-1]
        check_allocation("DettmersNeuron.forward", grid_values * x.element_size(),
                         what="memory for the (branch, dendrite, time) grid",
                         max_bytes=self.max_bytes,
                         sizes=f"x of shape {tuple(x.shape)} on a grid of config.branch_slots="
                               f"{cfg.branch_slots} × n_dendrites={cfg.n_dendrites}")
        synaptic = self.synapse(x)
        grid = self.place_on_tree(synaptic)
        dendritic = self.dendrites(grid)
        spikes = self.spikes(dendritic).squeeze(2)
        rates = self.dendritic_rate(spikes)
        somatic = self.soma(rates.sum(dim=(1, 2)).unsqueeze(1))
        firing = self.firing(self.somatic_rate(somatic))
        return NeuronStages(synaptic=synaptic, grid=grid, dendritic=dendritic, spikes=spikes,
                            rates=rates, somatic=somatic, firing=firing,
                            output=self.axon(firing))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, n_synapses, time)`` → ``(batch, n_outputs, time)``."""
        return self.stages(x).output

    def extra_repr(self) -> str:
        c = self.config
        return (f"name={c.name!r}, synapses={c.n_synapses}, grid=({c.branch_slots}, "
                f"{c.n_dendrites}), outputs={c.n_outputs}")
