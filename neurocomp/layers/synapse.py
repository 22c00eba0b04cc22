"""Synapse layers: receptor kinetics as a causal temporal filter, and the transmitter dense layer.

Thin :class:`torch.nn.Module` shells around :mod:`neurocomp.layers.functional`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.layers import functional as LF
from neurocomp.layers._checks import bytes_per_value, check_allocation, check_min_rank

__all__ = ["DifferenceOfExponentials", "SynapticKernel", "TransmitterDense"]


@dataclass(frozen=True, kw_only=True)
class DifferenceOfExponentials:
    r"""Time constants of a difference-of-exponentials synapse, :math:`0<\tau_r<\tau_d`.

    Parameters
    ----------
    tau_rise_ms : float
        Rise time constant, ms (> 0).
    tau_decay_ms : float
        Decay time constant, ms (> ``tau_rise_ms``).
    source : str
        Where the values come from (paper, model file); empty for ad-hoc values.
    """

    tau_rise_ms: float
    tau_decay_ms: float
    source: str = ""

    def __post_init__(self) -> None:
        check_real("tau_rise_ms", self.tau_rise_ms, low=0.0, low_inclusive=False, unit="ms")
        check_real("tau_decay_ms", self.tau_decay_ms, low=self.tau_rise_ms,
                   low_inclusive=False, unit="ms")


class SynapticKernel(nn.Module):
    r"""Causal temporal convolution with a difference-of-exponentials kernel.

    Stands for receptor binding and channel kinetics: a presynaptic spike train
    ``(..., time)`` becomes the synaptic drive :math:`y = g \ast x` (see
    :func:`~neurocomp.layers.functional.difference_of_exponentials_kernel`). One kernel is
    shared by all channels (one receptor type).

    Parameters
    ----------
    time_constants : DifferenceOfExponentials
        Initial (``learnable=True``) or fixed rise and decay time constants, ms.
    dt_ms : float
        Time step of the input, ms.
    n_taps : int
        Kernel length in steps.
    normalization : {"area", "peak"}
        See the functional.
    learnable : bool
        If True the two time constants are parameters, stored as
        :math:`\log\tau_r` and :math:`\log(\tau_d-\tau_r)` so that :math:`0<\tau_r<\tau_d`
        holds throughout training; otherwise the kernel is a fixed buffer.
    device, dtype
        Where and in which precision to hold the kernel or the parameters.
    max_bytes : float or None
        Refuse a kernel whose construction needs more than this, bytes (``None``: 8 GiB).
    """

    def __init__(self, time_constants: DifferenceOfExponentials, *, dt_ms: float, n_taps: int,
                 normalization: str = "area", learnable: bool = False,
                 device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, max_bytes: float | None = None) -> None:
        super().__init__()
        if not isinstance(time_constants, DifferenceOfExponentials):
            raise TypeError(f"time_constants must be a DifferenceOfExponentials; got "
                            f"{type(time_constants).__name__}")
        self.dt_ms = check_real("dt_ms", dt_ms, low=0.0, low_inclusive=False, unit="ms")
        self.n_taps = check_int("n_taps", n_taps, low=1)
        self.normalization = check_choice("normalization", normalization,
                                          LF.KERNEL_NORMALIZATIONS)
        self.learnable = bool(learnable)
        check_allocation("SynapticKernel", LF.kernel_build_bytes(self.n_taps, dtype),
                         sizes=f"n_taps={self.n_taps}", max_bytes=max_bytes,
                         what="memory to build the kernel")
        factory = {"device": device, "dtype": dtype or torch.get_default_dtype()}
        tau_r, tau_d = time_constants.tau_rise_ms, time_constants.tau_decay_ms
        if self.learnable:
            self.log_tau_rise = nn.Parameter(torch.tensor(math.log(tau_r), **factory))
            self.log_tau_gap = nn.Parameter(torch.tensor(math.log(tau_d - tau_r), **factory))
        else:
            self.register_buffer("fixed_kernel", LF.difference_of_exponentials_kernel(
                tau_r, tau_d, dt_ms=self.dt_ms, n_taps=self.n_taps,
                normalization=self.normalization, **factory))

    @property
    def tau_rise_ms(self) -> torch.Tensor:
        """Current rise time constant, ms (0-D tensor)."""
        if self.learnable:
            return self.log_tau_rise.exp()
        raise AttributeError("tau_rise_ms is stored only for learnable kernels")

    @property
    def tau_decay_ms(self) -> torch.Tensor:
        """Current decay time constant, ms (0-D tensor)."""
        if self.learnable:
            return self.log_tau_rise.exp() + self.log_tau_gap.exp()
        raise AttributeError("tau_decay_ms is stored only for learnable kernels")

    def kernel(self) -> torch.Tensor:
        """The current kernel, shape ``(n_taps,)`` (differentiable when learnable)."""
        if not self.learnable:
            return self.fixed_kernel
        return LF._doe_kernel(self.tau_rise_ms, self.tau_decay_ms, self.dt_ms, self.n_taps,
                              self.normalization)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Filter ``x`` of shape ``(..., time)`` causally; same shape out."""
        check_min_rank("x", x, 1, "(..., time)")
        return LF.temporal_filter(x, self.kernel())

    def extra_repr(self) -> str:
        return (f"n_taps={self.n_taps}, dt_ms={self.dt_ms:g}, normalization="
                f"{self.normalization!r}, learnable={self.learnable}")


class TransmitterDense(nn.Module):
    r"""Dense layer with weight = release amount × receptor count.

    :math:`y_o = \sum_i r_i R_{oi} x_i (+ b_o)` along axis ``dim`` of the input (default
    ``-2``: inputs ``(..., feature, time)``), the post's dot product of the transmitter
    released by each input with the receptors at each synapse. ``release`` starts at 1 and
    ``receptors`` with ``nn.Linear``'s initialisation, so at construction the layer equals a
    ``Linear`` layer; the factorisation matters once release is shared by all synapses of one
    terminal (a presynaptic change of release scales a whole column).

    Parameters
    ----------
    in_features, out_features : int
        Presynaptic inputs and postsynaptic synapses (or target neurons).
    bias : bool
        Add a learnable offset per output.
    dim : int
        Feature axis of the input.
    device, dtype
        Placement of the parameters.
    max_bytes : float or None
        Refuse parameters larger than this, bytes (``None``: 8 GiB).
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = False, dim: int = -2,
                 device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, max_bytes: float | None = None) -> None:
        super().__init__()
        self.in_features = check_int("in_features", in_features, low=1)
        self.out_features = check_int("out_features", out_features, low=1)
        n = self.in_features + self.out_features * (self.in_features + int(bool(bias)))
        check_allocation("TransmitterDense", n * bytes_per_value(dtype), what="parameters",
                         sizes=f"in_features={self.in_features}, out_features="
                               f"{self.out_features}", max_bytes=max_bytes)
        self.dim = check_int("dim", dim)
        factory = {"device": device, "dtype": dtype}
        self.release = nn.Parameter(torch.ones(self.in_features, **factory))
        self.receptors = nn.Parameter(torch.empty(self.out_features, self.in_features, **factory))
        self.bias = nn.Parameter(torch.empty(self.out_features, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Release 1; receptors and bias as ``nn.Linear`` (uniform, ±1/√in_features)."""
        nn.init.ones_(self.release)
        bound = 1.0 / math.sqrt(self.in_features)
        nn.init.uniform_(self.receptors, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    @property
    def weight(self) -> torch.Tensor:
        """The effective dense weight ``receptors * release``, ``(out, in)``."""
        return self.receptors * self.release.unsqueeze(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return LF.transmitter_dense(x, self.release, self.receptors, self.bias, dim=self.dim)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, dim={self.dim}")
