"""Dendrite layers: spatio-temporal convolution, dendritic-spike pooling, dendritic summation.

Thin :class:`torch.nn.Module` shells around :mod:`neurocomp.layers.functional`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.layers import functional as LF
from neurocomp.layers._checks import bytes_per_value, check_allocation, int_tuple

__all__ = ["NONLINEARITIES", "AmplifyingPool", "DendriticConv", "DendriticNonlinearity"]

#: Kinds of dendritic summation (Dettmers 2015: linear, sub-linear, supra-linear, bistable;
#: ReLU for Purkinje cells).
NONLINEARITIES: tuple[str, ...] = ("linear", "sublinear", "supralinear", "bistable", "relu")


class DendriticConv(nn.Module):
    """Convolution over (branch, dendrite, time), causal in time.

    Input ``(batch, in_channels, branch, dendrite, time)``; output ``(batch, out_channels,
    branch', dendrite', time)`` (primes: unchanged for ``"same"`` padding). See
    :func:`~neurocomp.layers.functional.dendritic_conv` for the sum and the algorithms.

    Parameters
    ----------
    in_channels, out_channels : int
        Feature maps in and out (the post's neuron uses 1 and 1).
    kernel_size : (int, int, int)
        Steps along (branch, dendrite, time): 3×4×5 granule, 10×1000×5 Purkinje.
    spatial_padding : {"same", "valid"}
    bias : bool
    algorithm : {"auto", "direct", "toeplitz", "fft"}
    device, dtype
        Placement of the parameters.
    max_bytes : float or None
        Refuse parameters larger than this, bytes (``None``: 8 GiB); the forward pass checks
        its own work against the same bound.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Sequence[int], *,
                 spatial_padding: str = "same", bias: bool = True, algorithm: str = "auto",
                 device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, max_bytes: float | None = None) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, low=1)
        self.out_channels = check_int("out_channels", out_channels, low=1)
        self.kernel_size = int_tuple("kernel_size", kernel_size, 3)
        self.spatial_padding = check_choice("spatial_padding", spatial_padding,
                                            LF.SPATIAL_PADDINGS)
        self.algorithm = check_choice("algorithm", algorithm, LF.CONV_ALGORITHMS)
        self.max_bytes = max_bytes
        n = self.out_channels * (self.in_channels * math.prod(self.kernel_size) + 1)
        check_allocation("DendriticConv", n * bytes_per_value(dtype), what="parameters",
                         sizes=f"in_channels={self.in_channels}, out_channels="
                               f"{self.out_channels}, kernel_size={self.kernel_size}",
                         max_bytes=max_bytes)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(self.out_channels, self.in_channels,
                                               *self.kernel_size, **factory))
        self.bias = nn.Parameter(torch.empty(self.out_channels, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Conv3d``'s initialisation (Kaiming-uniform weight, uniform bias)."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight[0].numel()
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return LF.dendritic_conv(x, self.weight, self.bias, spatial_padding=self.spatial_padding,
                                 algorithm=self.algorithm, max_bytes=self.max_bytes)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"spatial_padding={self.spatial_padding!r}, algorithm={self.algorithm!r}")


class AmplifyingPool(nn.Module):
    r"""Dendritic-spike pooling: neighbours pulled toward the local maximum.

    ``reduce=True`` (default) pools like ``max_pool`` over the trailing ``len(kernel_size)``
    axes with :math:`y_w = (1-\alpha)\,\mathrm{mean}_w + \alpha \max_w`
    (:func:`~neurocomp.layers.functional.amplifying_pool`); ``reduce=False`` keeps the shape
    and returns the amplified map (:func:`~neurocomp.layers.functional.dendritic_spike_amplify`).
    :math:`\alpha = 1` is ordinary max-pooling.

    Parameters
    ----------
    kernel_size : int or sequence of 1–3 ints
        Window (or tile) size along the pooled axes.
    stride : int, sequence or None
        Window step (``reduce=True`` only); default the window size.
    amplification : float
        :math:`\alpha` in [0, 1]; with ``learnable=True`` it must lie strictly inside and is
        stored as a logit, :math:`\alpha = \sigma(\theta)`, so max-pooling is the limit
        :math:`\theta \to \infty`.
    learnable : bool
        Train :math:`\alpha`.
    threshold : float or None
        Amplify only windows whose maximum reaches this value (a dendritic spike fired).
    reduce : bool
        Pool (True) or keep the shape (False).
    """

    def __init__(self, kernel_size: int | Sequence[int], *,
                 stride: int | Sequence[int] | None = None, amplification: float = 0.5,
                 learnable: bool = False, threshold: float | None = None, reduce: bool = True,
                 device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        ks = (kernel_size,) if isinstance(kernel_size, int) else tuple(kernel_size)
        if not 1 <= len(ks) <= 3:
            raise ValueError(f"kernel_size must have 1 to 3 entries; got {kernel_size!r}")
        self.kernel_size = int_tuple("kernel_size", ks, len(ks))
        self.stride = None if stride is None else int_tuple("stride", stride, len(ks))
        if not reduce and self.stride is not None and self.stride != self.kernel_size:
            raise ValueError(f"stride must equal kernel_size (tiles) when reduce=False; got "
                             f"stride={self.stride} and kernel_size={self.kernel_size}")
        self.threshold = None if threshold is None else check_real("threshold", threshold)
        self.reduce = bool(reduce)
        self.learnable = bool(learnable)
        if self.learnable:
            alpha = check_real("amplification", amplification, low=0.0, high=1.0,
                               low_inclusive=False, high_inclusive=False)
            self.amplification_logit = nn.Parameter(torch.tensor(
                math.log(alpha / (1.0 - alpha)), device=device,
                dtype=dtype or torch.get_default_dtype()))
        else:
            self.fixed_amplification = check_real("amplification", amplification,
                                                  low=0.0, high=1.0)

    @property
    def amplification(self) -> float | torch.Tensor:
        """Current :math:`\\alpha` (a 0-D tensor when learnable)."""
        if self.learnable:
            return torch.sigmoid(self.amplification_logit)
        return self.fixed_amplification

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        alpha = self.amplification
        if isinstance(alpha, torch.Tensor):
            alpha = alpha.to(x.dtype)
        if self.reduce:
            return LF.amplifying_pool(x, kernel_size=self.kernel_size, stride=self.stride,
                                      amplification=alpha, threshold=self.threshold)
        return LF.dendritic_spike_amplify(x, kernel_size=self.kernel_size, amplification=alpha,
                                          threshold=self.threshold)

    def extra_repr(self) -> str:
        alpha = self.amplification
        alpha = float(alpha.detach()) if isinstance(alpha, torch.Tensor) else alpha
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, amplification="
                f"{alpha:.3g}, learnable={self.learnable}, threshold={self.threshold}, "
                f"reduce={self.reduce}")


class DendriticNonlinearity(nn.Module):
    """Dendritic summation turned into a rate: linear, sub-/supra-linear, bistable or ReLU.

    Parameters
    ----------
    kind : {"linear", "sublinear", "supralinear", "bistable", "relu"}
        ``"relu"`` is the post's choice for Purkinje cells; the others follow its list of
        summation types (formulas in :mod:`neurocomp.layers.functional`).
    saturation : float
        ``"sublinear"``: output bound :math:`s` of :math:`s\\tanh(x/s)`.
    exponent : float
        ``"supralinear"``: power :math:`p \\ge 1` of :math:`\\max(0,x)^p`.
    threshold, width, feedback, high : float
        ``"bistable"``: switch point, sharpness, self-excitation and up-state level.
    """

    def __init__(self, kind: str = "relu", *, saturation: float = 1.0, exponent: float = 2.0,
                 threshold: float = 0.5, width: float = 0.1, feedback: float = 1.0,
                 high: float = 1.0) -> None:
        super().__init__()
        self.kind = check_choice("kind", kind, NONLINEARITIES)
        self.saturation = check_real("saturation", saturation, low=0.0, low_inclusive=False)
        self.exponent = check_real("exponent", exponent, low=1.0)
        self.threshold = check_real("threshold", threshold)
        self.width = check_real("width", width, low=0.0, low_inclusive=False)
        self.feedback = check_real("feedback", feedback, low=0.0)
        self.high = check_real("high", high, low=0.0, low_inclusive=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "linear":
            return x
        if self.kind == "relu":
            return torch.relu(x)
        if self.kind == "sublinear":
            return LF.sublinear(x, saturation=self.saturation)
        if self.kind == "supralinear":
            return LF.supralinear(x, exponent=self.exponent)
        return LF.bistable(x, threshold=self.threshold, width=self.width,
                           feedback=self.feedback, high=self.high)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
