"""Soma layers: the shared 1×1×K temporal filter and the Poisson firing "dropout".

Thin :class:`torch.nn.Module` shells around :mod:`neurocomp.layers.functional`.
"""

from __future__ import annotations

import torch
from torch import nn

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.layers import functional as LF
from neurocomp.layers._checks import bytes_per_value, check_allocation, check_min_rank

__all__ = ["PoissonFiring", "SomaticFilter"]


class SomaticFilter(nn.Module):
    r"""The soma as a temporal filter: one causal kernel of ``n_taps`` steps for every neuron.

    The post's 1×1×5 filter: 1×1 in space (the soma is one point), 5 steps in time, "the same
    for every neuron" — so one kernel is applied to every channel of ``(..., neuron, time)``.
    :math:`y[t] = \sum_n k[n]\,x[t-n] + b`.

    Parameters
    ----------
    n_taps : int
        Kernel length in steps (5 in the post).
    init : {"delta", "uniform"}
        Start as the identity (``k = (1, 0, …, 0)``) or as the running mean (``k = 1/K``).
    bias : bool
        Learnable offset (minus a firing threshold) added after filtering.
    learnable : bool
        Train the kernel (and bias) or keep it fixed.
    max_bytes : float or None
        Refuse a kernel larger than this, bytes (``None``: 8 GiB).
    """

    def __init__(self, n_taps: int = 5, *, init: str = "delta", bias: bool = True,
                 learnable: bool = True, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, max_bytes: float | None = None) -> None:
        super().__init__()
        self.n_taps = check_int("n_taps", n_taps, low=1)
        check_allocation("SomaticFilter", (self.n_taps + 1) * bytes_per_value(dtype),
                         what="parameters", sizes=f"n_taps={self.n_taps}", max_bytes=max_bytes)
        check_choice("init", init, ("delta", "uniform"))
        factory = {"device": device, "dtype": dtype}
        if init == "delta":
            kernel = torch.zeros(self.n_taps, **factory)
            kernel[0] = 1.0
        else:
            kernel = torch.full((self.n_taps,), 1.0 / self.n_taps, **factory)
        self.kernel = nn.Parameter(kernel, requires_grad=learnable)
        self.bias = (nn.Parameter(torch.zeros((), **factory), requires_grad=learnable)
                     if bias else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_min_rank("x", x, 1, "(..., time)")
        y = LF.temporal_filter(x, self.kernel)
        return y if self.bias is None else y + self.bias.to(y.dtype)

    def extra_repr(self) -> str:
        return f"n_taps={self.n_taps}, bias={self.bias is not None}"


class PoissonFiring(nn.Module):
    r"""Firing delayed by Poisson(λ) cycles in training; its expectation in evaluation.

    The LNP model's spike generator read as dropout (Dettmers 2015, "Back to the LNP model":
    the neuron fires on reaching threshold or waits :math:`d \sim \mathrm{Poisson}(\lambda)`
    cycles; :math:`\lambda = 0.5` is the post's example). See
    :func:`~neurocomp.layers.functional.poisson_firing`.

    Parameters
    ----------
    lam : float
        Mean delay in cycles (≥ 0).
    generator : torch.Generator or None
        Source of the delays (on the input's device); ``None`` uses torch's global generator
        (which :func:`neurocomp.layers.training.fit` seeds every epoch).
    """

    def __init__(self, lam: float = 0.5, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.lam = check_real("lam", lam, low=0.0)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return LF.poisson_firing(x, self.lam, training=self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"lam={self.lam:g}"
