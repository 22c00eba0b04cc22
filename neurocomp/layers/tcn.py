"""Temporal convolutional nets: causal (dilated) 1-D convolutions with spike and voltage heads.

The architecture family of Beniaguev, Segev & London (2021), "Single cortical neurons as
deep artificial neural networks", Neuron 109:2727 (code: github.com/SelfishGene/
neuron_as_deep_net, ``fit_CNN.py``): every layer is a causal ``Conv1D`` followed by ReLU and
then batch normalisation; 1×1 convolutions read out the spike probability (sigmoid, trained
with binary cross-entropy), the somatic voltage (linear, MSE) and optionally principal
components of the dendritic voltages (linear, MSE). Here the spike head returns *logits*
(use ``binary_cross_entropy_with_logits``); the sigmoid is applied by the loss.
"""

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
    check_layers,
    check_rank,
    check_size,
    int_tuple,
)

__all__ = ["TCN", "CausalConv1d", "TCNConfig", "TCNOutput", "equal_rf_kernels", "tcn_loss"]


class CausalConv1d(nn.Module):
    """``conv1d`` with :math:`(K-1)d` zeros in front: output length = input length, causal.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
    dilation : int
        Spacing of the taps in steps.
    bias : bool
    max_bytes : float or None
        Refuse parameters larger than this, bytes (``None``: 8 GiB,
        :data:`~neurocomp.layers._checks.MAX_ALLOCATION_BYTES`).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *,
                 dilation: int = 1, bias: bool = True, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, max_bytes: float | None = None) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, low=1)
        self.out_channels = check_int("out_channels", out_channels, low=1)
        self.kernel_size = check_int("kernel_size", kernel_size, low=1)
        self.dilation = check_int("dilation", dilation, low=1)
        n = self.out_channels * (self.in_channels * self.kernel_size + 1)
        check_allocation("CausalConv1d", n * bytes_per_value(dtype), what="parameters",
                         sizes=f"in_channels={self.in_channels}, out_channels="
                               f"{self.out_channels}, kernel_size={self.kernel_size}",
                         max_bytes=max_bytes)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(self.out_channels, self.in_channels,
                                               self.kernel_size, **factory))
        self.bias = nn.Parameter(torch.empty(self.out_channels, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Conv1d``'s initialisation."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return LF.causal_conv1d(x, self.weight, self.bias, dilation=self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}")


@dataclass(frozen=True, kw_only=True)
class TCNConfig:
    """Depth, widths, kernels and heads of a :class:`TCN`.

    Parameters
    ----------
    in_channels : int
        Input channels (Beniaguev et al.: 1278 = 639 segments × excitatory/inhibitory).
    depth : int
        Number of causal convolution layers.
    width : int or tuple of int
        Channels per layer (one int for all).
    kernel_sizes : int or tuple of int
        Taps per layer, in steps (1 ms in Beniaguev et al.).
    dilations : int or tuple of int
        Dilation per layer (1 in Beniaguev et al.; powers of 2 give the WaveNet pattern).
    batch_norm : bool
        Batch normalisation after each ReLU (as in Beniaguev et al.).
    n_dendritic_outputs : int
        Channels of the optional dendritic-voltage head (0: none; they used 20 PCA
        components for the NMDA model).
    spike_bias_init : float
        Initial bias of the spike head (they used −2, a low firing probability).
    soma_bias_init : float
        Initial bias of the somatic-voltage head, in the target's units (e.g. −67.7 for a
        target in mV, the offset Beniaguev et al. subtracted; 0 keeps the old behaviour).
    input_projection : int or None
        Channels of an optional 1×1 convolution (linear, with bias, no nonlinearity) applied
        to the input before the first causal layer; it cuts the first layer's weights from
        ``in_channels·width·K`` to ``in_channels·P + P·width·K``. ``None``: no projection.
    source : str
        Where the configuration comes from.
    """

    in_channels: int
    depth: int
    width: int | tuple[int, ...] = 128
    kernel_sizes: int | tuple[int, ...] = 35
    dilations: int | tuple[int, ...] = 1
    batch_norm: bool = True
    n_dendritic_outputs: int = 0
    spike_bias_init: float = -2.0
    soma_bias_init: float = 0.0
    input_projection: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        check_int("in_channels", self.in_channels, low=1)
        depth = check_int("depth", self.depth, low=1)
        for name in ("width", "kernel_sizes", "dilations"):
            object.__setattr__(self, name, int_tuple(name, getattr(self, name), depth))
        check_int("n_dendritic_outputs", self.n_dendritic_outputs, low=0)
        check_real("spike_bias_init", self.spike_bias_init)
        check_real("soma_bias_init", self.soma_bias_init)
        if self.input_projection is not None:
            check_int("input_projection", self.input_projection, low=1)

    @property
    def parameter_count(self) -> int:
        """Parameters and buffers of the :class:`TCN` it builds (batch-norm statistics
        included), the number its constructor checks before allocating."""
        n, c = 0, self.in_channels
        if self.input_projection is not None:
            n += self.input_projection * (c + 1)
            c = self.input_projection
        for w, k in zip(self.width, self.kernel_sizes, strict=True):
            n += w * (c * k + 1) + (4 * w + 1 if self.batch_norm else 0)
            c = w
        return n + 2 * (c + 1) + self.n_dendritic_outputs * (c + 1)

    @property
    def receptive_field_steps(self) -> int:
        """Steps of input history one output sees: :math:`1 + \\sum_l (K_l - 1) d_l`
        (Beniaguev et al.'s "T" in their D×W×T model names)."""
        return 1 + sum((k - 1) * d for k, d in zip(self.kernel_sizes, self.dilations,
                                                    strict=True))


def _compact(values: tuple[int, ...]) -> str:
    """A per-layer tuple for a message: one value if all agree, else at most 6 shown."""
    if len(set(values)) == 1:
        return str(values[0])
    if len(values) <= 6:
        return str(values)
    return f"({', '.join(map(str, values[:6]))}, … {len(values)} layers)"


class TCNOutput(NamedTuple):
    """Outputs of a :class:`TCN`, each with time last."""

    spike_logits: torch.Tensor  #: (batch, time) logit of a somatic spike in each step
    soma_voltage: torch.Tensor  #: (batch, time) somatic voltage (in the target's units)
    dendritic: torch.Tensor | None  #: (batch, n_dendritic_outputs, time) or None


class TCN(nn.Module):
    """Causal temporal convolutional net with a spike head and a somatic-voltage head.

    Input ``(batch, in_channels, time)``; each layer is causal conv → ReLU → (batch norm),
    so in evaluation mode every output step depends only on the past
    ``receptive_field_steps`` input steps. (In training mode batch normalisation uses
    statistics over the batch and all time steps, which lets later steps shift earlier
    outputs a little — as in the Keras original.)

    Parameters
    ----------
    config : TCNConfig
    device, dtype
        Placement of the parameters.
    max_bytes : float or None
        Refuse parameters and buffers larger than this, bytes (``None``: 8 GiB).
    max_layers : int or None
        Refuse more causal layers than this (``None``: 10,000); they are built one by one.
    """

    def __init__(self, config: TCNConfig, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, max_bytes: float | None = None,
                 max_layers: int | None = None) -> None:
        super().__init__()
        if not isinstance(config, TCNConfig):
            raise TypeError(f"config must be a TCNConfig; got {type(config).__name__}")
        check_layers("TCN(config)", "config.depth", config.depth, max_layers=max_layers)
        check_allocation("TCN(config)", config.parameter_count * bytes_per_value(dtype),
                         what="parameters and buffers",
                         sizes=f"config.in_channels={config.in_channels}, depth={config.depth},"
                               f" width={_compact(config.width)}, kernel_sizes="
                               f"{_compact(config.kernel_sizes)}", max_bytes=max_bytes)
        self.config = config
        factory = {"device": device, "dtype": dtype}
        layers: list[nn.Module] = []
        channels = config.in_channels
        self.input_projection = None
        if config.input_projection is not None:
            self.input_projection = nn.Conv1d(channels, config.input_projection, 1, **factory)
            channels = config.input_projection
        for width, k, d in zip(config.width, config.kernel_sizes, config.dilations, strict=True):
            layers += [CausalConv1d(channels, width, k, dilation=d, max_bytes=math.inf,
                                    **factory), nn.ReLU()]
            if config.batch_norm:
                layers.append(nn.BatchNorm1d(width, **factory))
            channels = width
        self.body = nn.Sequential(*layers)
        self.spike_head = nn.Conv1d(channels, 1, 1, **factory)
        self.soma_head = nn.Conv1d(channels, 1, 1, **factory)
        self.dendritic_head = (nn.Conv1d(channels, config.n_dendritic_outputs, 1, **factory)
                               if config.n_dendritic_outputs else None)
        with torch.no_grad():
            self.spike_head.bias.fill_(config.spike_bias_init)
            if config.soma_bias_init:
                self.soma_head.bias.fill_(config.soma_bias_init)

    def forward(self, x: torch.Tensor) -> TCNOutput:
        check_rank("x", x, 3, "(batch, channel, time)")
        check_size("x", x, 1, self.config.in_channels, "channels (config.in_channels)")
        h = x if self.input_projection is None else self.input_projection(x)
        h = self.body(h)
        dendritic = None if self.dendritic_head is None else self.dendritic_head(h)
        return TCNOutput(spike_logits=self.spike_head(h).squeeze(1),
                         soma_voltage=self.soma_head(h).squeeze(1), dendritic=dendritic)


def equal_rf_kernels(depth: int, receptive_field_bins: int) -> tuple[int, ...]:
    """Kernel sizes of ``depth`` undilated layers whose receptive field is exactly the target.

    The receptive field of undilated causal layers is :math:`1 + \\sum_i (K_i - 1)`; the
    :math:`T - 1` steps of history are split as evenly as possible, the remainder going to
    the first layers (Beniaguev et al. 2021 also made the first kernel the largest). Every
    kernel has at least 2 taps, so that every layer adds temporal depth; hence
    ``depth ≤ receptive_field_bins − 1``.

    Parameters
    ----------
    depth : int
        Number of causal layers (≥ 1).
    receptive_field_bins : int
        Target receptive field :math:`T`, in bins (≥ 2).

    Returns
    -------
    tuple of int
        ``depth`` kernel sizes, non-increasing.

    Raises
    ------
    ValueError
        If ``depth`` layers of ≥ 2 taps cannot have exactly that receptive field.
    """
    depth = check_int("depth", depth, low=1)
    rf = check_int("receptive_field_bins", receptive_field_bins, low=2)
    history = rf - 1
    if depth > history:
        raise ValueError(f"depth={depth} layers of at least 2 taps see at least {depth + 1} "
                         f"bins, more than receptive_field_bins={rf}; use depth ≤ {history}")
    base, extra = divmod(history, depth)
    return tuple(1 + base + (1 if i < extra else 0) for i in range(depth))


def tcn_loss(output: TCNOutput, spikes: torch.Tensor, voltage: torch.Tensor, *,
             spike_weight: float = 1.0, voltage_weight: float = 0.006,
             reduction: str = "mean") -> torch.Tensor:
    """Weighted sum of spike BCE (on logits) and voltage MSE, Beniaguev et al.'s first weights.

    ``spikes`` and ``voltage`` have shape ``(batch, time)``; the default weights are the
    ``loss_weights=[1.0, 0.006, ...]`` of their ``fit_CNN.py`` (voltage in mV).
    """
    check_choice("reduction", reduction, ("mean", "sum"))
    spike_weight = check_real("spike_weight", spike_weight, low=0.0)
    voltage_weight = check_real("voltage_weight", voltage_weight, low=0.0)
    for name, target, pred in (("spikes", spikes, output.spike_logits),
                               ("voltage", voltage, output.soma_voltage)):
        if not isinstance(target, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor of shape (batch, time); got "
                            f"{type(target).__name__}")
        check_floating(name, target)
        if target.shape != pred.shape:
            raise ValueError(f"{name} must have the shape of the model's output "
                             f"{tuple(pred.shape)} (batch, time); got {tuple(target.shape)}")
    spike = nn.functional.binary_cross_entropy_with_logits(output.spike_logits, spikes,
                                                           reduction=reduction)
    volt = nn.functional.mse_loss(output.soma_voltage, voltage, reduction=reduction)
    return spike_weight * spike + voltage_weight * volt

