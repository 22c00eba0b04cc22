r"""Shallow surrogate baselines with the :class:`~neurocomp.layers.tcn.TCN` interface.

Both share one linear, causal filter of the input: a 1×1 projection of the ``in_channels``
inputs to ``projection`` channels, then a causal convolution of ``receptive_field_bins``
taps to two drives :math:`d_0` (spike) and :math:`d_1` (voltage),

.. math:: d_{o,t} = b_o + \sum_{c,k} w_{o,c,k} \sum_j P_{c,j}\, x_{j,t-k}.

* :class:`LinearSurrogate`: spike logit :math:`d_0`, voltage :math:`d_1` (mV) — both linear
  in the input.
* :class:`LNSurrogate` (linear–nonlinear): spike logit :math:`d_0` (a logistic spike
  probability), voltage :math:`g(d_1)` with a learned pointwise nonlinearity
  :math:`g(u) = u + \mathrm{MLP}(u)` (one hidden layer, ``nonlinearity_hidden`` tanh units;
  the identity skip makes the initial model the linear one).

The one-hidden-layer net of Beniaguev et al. (2021) is the TCN of depth 1, not a class here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from neurocomp.checks import check_int, check_real
from neurocomp.layers._checks import bytes_per_value, check_allocation, check_rank, check_size
from neurocomp.layers.tcn import CausalConv1d, TCNOutput

__all__ = ["FilterSurrogateConfig", "LNSurrogate", "LinearSurrogate"]

#: Input scale of the LN voltage nonlinearity, mV (a design choice: the subthreshold range
#: below the −55 mV ceiling spans ~10–20 mV, so tanh units see O(1) inputs).
_NONLINEARITY_SCALE_MV = 10.0


@dataclass(frozen=True, kw_only=True)
class FilterSurrogateConfig:
    """Sizes of :class:`LinearSurrogate` and :class:`LNSurrogate`.

    Parameters
    ----------
    in_channels : int
        Input channels (synapses).
    receptive_field_bins : int
        Taps of the temporal filter, bins (≈150 ms matches the deepest TCNs of Beniaguev et
        al. 2021, whose best NMDA model saw 153 ms).
    projection : int
        Channels of the 1×1 projection before the filter (keeps the parameter count at
        ``in_channels·P + P·2·K``).
    nonlinearity_hidden : int
        Hidden units of the LN model's pointwise voltage nonlinearity.
    spike_bias_init : float
        Initial spike-logit bias (−2 as the TCN head of Beniaguev et al. 2021).
    voltage_bias_init_mV : float
        Initial voltage output, mV (−67.7 mV, Beniaguev et al.'s target offset).
    """

    in_channels: int
    receptive_field_bins: int = 150
    projection: int = 4
    nonlinearity_hidden: int = 16
    spike_bias_init: float = -2.0
    voltage_bias_init_mV: float = -67.7

    def __post_init__(self) -> None:
        check_int("in_channels", self.in_channels, low=1)
        check_int("receptive_field_bins", self.receptive_field_bins, low=1)
        check_int("projection", self.projection, low=1)
        check_int("nonlinearity_hidden", self.nonlinearity_hidden, low=1)
        check_real("spike_bias_init", self.spike_bias_init)
        check_real("voltage_bias_init_mV", self.voltage_bias_init_mV, unit="mV")

    @property
    def receptive_field_steps(self) -> int:
        """Steps of input one output sees (same name as :attr:`TCNConfig.receptive_field_steps`)."""
        return self.receptive_field_bins


class _LinearFilter(nn.Module):
    """1×1 projection (no bias) then a causal convolution to two drives (spike, voltage)."""

    def __init__(self, config: FilterSurrogateConfig, *, device=None, dtype=None,
                 max_bytes: float | None = None) -> None:
        super().__init__()
        if not isinstance(config, FilterSurrogateConfig):
            raise TypeError(f"config must be a FilterSurrogateConfig; got "
                            f"{type(config).__name__}")
        c = config
        n = (c.in_channels * c.projection + 2 * c.projection * c.receptive_field_bins + 2
             + 3 * c.nonlinearity_hidden + 2)
        check_allocation(f"{type(self).__name__}(config)", n * bytes_per_value(dtype),
                         what="parameters", max_bytes=max_bytes,
                         sizes=f"config.in_channels={c.in_channels}, projection="
                               f"{c.projection}, receptive_field_bins={c.receptive_field_bins},"
                               f" nonlinearity_hidden={c.nonlinearity_hidden}")
        self.config = config
        f = {"device": device, "dtype": dtype}
        self.projection = nn.Conv1d(config.in_channels, config.projection, 1, bias=False, **f)
        self.filter = CausalConv1d(config.projection, 2, config.receptive_field_bins, **f,
                                   max_bytes=max_bytes)
        with torch.no_grad():
            self.filter.bias.copy_(torch.tensor([config.spike_bias_init,
                                                 config.voltage_bias_init_mV],
                                                dtype=self.filter.bias.dtype))

    def drives(self, x: torch.Tensor) -> torch.Tensor:
        check_rank("x", x, 3, "(batch, channel, time)")
        check_size("x", x, 1, self.config.in_channels, "channels (config.in_channels)")
        return self.filter(self.projection(x.to(self.filter.weight.dtype)))


class LinearSurrogate(_LinearFilter):
    """Spike logit and voltage (mV), both a causal linear filter of the input."""

    def forward(self, x: torch.Tensor) -> TCNOutput:
        d = self.drives(x)
        return TCNOutput(spike_logits=d[:, 0], soma_voltage=d[:, 1], dendritic=None)


class LNSurrogate(_LinearFilter):
    """The linear filter, then a learned pointwise nonlinearity for the voltage.

    The spike logit stays linear (a logistic spike probability); the voltage is
    :math:`g(u) = u + \\mathrm{MLP}(u)` of the voltage drive :math:`u`.
    """

    def __init__(self, config: FilterSurrogateConfig, *, device=None, dtype=None,
                 max_bytes: float | None = None) -> None:
        super().__init__(config, device=device, dtype=dtype, max_bytes=max_bytes)
        f = {"device": device, "dtype": dtype}
        self.nonlinearity = nn.Sequential(nn.Linear(1, config.nonlinearity_hidden, **f),
                                          nn.Tanh(),
                                          nn.Linear(config.nonlinearity_hidden, 1, **f))
        self.register_buffer("center_mV", torch.tensor(config.voltage_bias_init_mV, **f))
        with torch.no_grad():
            self.nonlinearity[2].weight.zero_()  # start as the linear model
            self.nonlinearity[2].bias.zero_()

    def forward(self, x: torch.Tensor) -> TCNOutput:
        d = self.drives(x)
        u = d[:, 1]
        # the MLP reads the drive relative to the initial operating point in units of 10 mV,
        # so its tanh units start in their sensitive range whatever the resting voltage
        z = (u - self.center_mV) / _NONLINEARITY_SCALE_MV
        g = u + self.nonlinearity(z.unsqueeze(-1)).squeeze(-1)
        return TCNOutput(spike_logits=d[:, 0], soma_voltage=g, dendritic=None)
