"""Each custom layer of neurocomp.layers next to its best expressions in stock PyTorch ops.

Used by ``layers_throughput.py``. A case is the layer (called as it is used), one or more
stock expressions of the same math written directly with ``torch`` / ``torch.nn.functional``
(the fastest of them is "the best stock expression"), and inputs at a size the layer meets
in the post's neurons (mostly the Purkinje cell's 1000 dendrites × 5 steps at batch 128).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import scipy.fft
import torch
import torch.nn.functional as F
from neurocomp_models.dettmers_neurons import AMPA
from torch import nn

from neurocomp.layers import (
    AmplifyingPool,
    CausalConv1d,
    DendriticConv,
    DendriticNonlinearity,
    PoissonFiring,
    SomaticFilter,
    SynapticKernel,
    TransmitterDense,
)
from neurocomp.layers import functional as LF

Fn = Callable[..., torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class Case:
    layer: str
    shape: str
    custom: Fn
    stock: dict[str, Fn]
    inputs: tuple[torch.Tensor, ...]


def _same(k: int) -> tuple[int, int]:
    return (k - 1) // 2, k - 1 - (k - 1) // 2


def _causal_fft(v: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal filtering along the last axis by the convolution theorem (stock torch.fft)."""
    n = v.shape[-1]
    size = scipy.fft.next_fast_len(n + kernel.shape[-1] - 1, real=True)
    return torch.fft.irfft(torch.fft.rfft(v, n=size) * torch.fft.rfft(kernel, n=size),
                           n=size)[..., :n]


def _toeplitz_mm(v: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal filtering as one GEMM with the T×T lower-triangular Toeplitz matrix."""
    n, k = v.shape[-1], kernel.shape[-1]
    lag = torch.arange(n)[:, None] - torch.arange(n)[None, :]
    m = torch.where((lag >= 0) & (lag < k), kernel[lag.clamp(0, k - 1)], 0.0)
    return v @ m.T


def _shift_add(v: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal filtering as K scaled, shifted copies."""
    n, k = v.shape[-1], kernel.shape[-1]
    vp = F.pad(v, (k - 1, 0))
    y = vp[..., k - 1:] * kernel[0]
    for lag in range(1, min(k, n)):
        y = y + vp[..., k - 1 - lag:k - 1 - lag + n] * kernel[lag]
    return y


def _conv1d(v: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal filtering with a single-channel conv1d."""
    n, k = v.shape[-1], kernel.shape[-1]
    return F.conv1d(F.pad(v.reshape(-1, 1, n), (k - 1, 0)), kernel.flip(0).view(1, 1, k)
                    ).view_as(v)


def _filters(kernel_of: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, Fn]:
    return {"conv1d": lambda v: _conv1d(v, kernel_of(v)),
            "rfft": lambda v: _causal_fft(v, kernel_of(v)),
            "toeplitz matmul": lambda v: _toeplitz_mm(v, kernel_of(v)),
            "shift-add": lambda v: _shift_add(v, kernel_of(v))}


def _conv3d_fft(v: torch.Tensor, w: torch.Tensor, pad: tuple[int, ...]) -> torch.Tensor:
    """Valid cross-correlation of the zero-padded input by rfftn (stock torch.fft)."""
    vp = F.pad(v, pad)
    sizes = [scipy.fft.next_fast_len(int(n), real=(i == 2)) for i, n in enumerate(vp.shape[2:])]
    spec = torch.fft.rfftn(vp, s=sizes, dim=(2, 3, 4)) * torch.fft.rfftn(
        w.flip(2, 3, 4), s=sizes, dim=(2, 3, 4))
    y = torch.fft.irfftn(spec, s=sizes, dim=(2, 3, 4))
    kb, kd, kt = w.shape[2:]
    return y[:, :, kb - 1:vp.shape[2], kd - 1:vp.shape[3], kt - 1:vp.shape[4]]


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(1)


def cases() -> list[Case]:
    g = _gen()

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g).requires_grad_()

    out: list[Case] = []
    x = randn(32, 1278, 400)  # Beniaguev et al.'s 1278 inputs over a 400 ms window, 1 ms steps
    syn = SynapticKernel(AMPA, dt_ms=1.0, n_taps=16)
    k = syn.kernel()
    out.append(Case(layer="SynapticKernel (fixed)", shape="32x1278x400, 16 taps", custom=syn,
                    stock=_filters(lambda v: k), inputs=(x,)))
    learn = SynapticKernel(AMPA, dt_ms=1.0, n_taps=16, learnable=True)

    def learned_kernel(v: torch.Tensor) -> torch.Tensor:
        tr, td = learn.log_tau_rise.exp(), learn.log_tau_rise.exp() + learn.log_tau_gap.exp()
        t = torch.arange(17, dtype=v.dtype)
        big = tr * torch.exp(-t / tr) - td * torch.exp(-t / td)
        return (big[1:] - big[:-1]) / (td - tr)

    out.append(Case(
        layer="SynapticKernel (learnable taus)", shape="32x1278x400, 16 taps", custom=learn,
        stock=_filters(learned_kernel), inputs=(x,)))
    dense = TransmitterDense(1000, 1000)
    out.append(Case(layer="TransmitterDense", shape="128x1000x5, 1000->1000", custom=dense,
                    stock={"linear": lambda v: F.linear(v.transpose(1, 2), dense.receptors
                                                        * dense.release).transpose(1, 2)},
                    inputs=(randn(128, 1000, 5),)))
    granule = DendriticConv(1, 1, (3, 4, 5))
    out.append(Case(layer="DendriticConv granule (auto: direct)",
                    shape="128x1x4x4x5, kernel 3x4x5", custom=granule,
                    stock={"conv3d": lambda v: F.conv3d(F.pad(v, (4, 0, *_same(4), *_same(3))),
                                                        granule.weight, granule.bias)},
                    inputs=(randn(128, 1, 4, 4, 5),)))
    purk = DendriticConv(1, 1, (10, 1000, 5), bias=False)
    ppad = (4, 0, *_same(1000), *_same(10))
    out.append(Case(layer="DendriticConv Purkinje (auto: fft)",
                    shape="1x1x100x1000x5, kernel 10x1000x5", custom=purk,
                    stock={"rfftn": lambda v: _conv3d_fft(v, purk.weight, ppad)},
                    inputs=(randn(1, 1, 100, 1000, 5),)))
    toe = DendriticConv(1, 1, (10, 1000, 5), bias=False, algorithm="toeplitz")
    out.append(Case(layer="DendriticConv Purkinje (toeplitz) vs conv3d, 4 of 100 slots",
                    shape="1x1x4x1000x5, kernel 10x1000x5", custom=toe,
                    stock={"conv3d": lambda v: F.conv3d(F.pad(v, ppad), toe.weight)},
                    inputs=(randn(1, 1, 4, 1000, 5),)))
    xs = randn(16, 1, 100, 1000, 5)
    pool = AmplifyingPool((100, 1, 1), amplification=0.5)
    out.append(Case(layer="AmplifyingPool (pooled)", shape="16x1x100x1000x5, window 100",
                    custom=pool,
                    stock={"avg+max pool": lambda v: 0.5 * F.avg_pool3d(v, (100, 1, 1))
                           + 0.5 * F.max_pool3d(v, (100, 1, 1))}, inputs=(xs,)))
    amp = AmplifyingPool((10, 1, 1), amplification=0.5, reduce=False)

    def pull_pool(v: torch.Tensor) -> torch.Tensor:
        m = F.max_pool3d(v, (10, 1, 1)).repeat_interleave(10, dim=2)
        return v + 0.5 * (m - v)

    def pull_amax(v: torch.Tensor) -> torch.Tensor:
        t = v.view(16, 1, 10, 10, 1000, 5)
        return (t + 0.5 * (t.amax(dim=3, keepdim=True) - t)).view_as(v)

    out.append(Case(layer="AmplifyingPool (same shape)", shape="16x1x100x1000x5, tiles 10",
                    custom=amp, stock={"max_pool+repeat": pull_pool, "view+amax": pull_amax},
                    inputs=(xs,)))
    xr = randn(128, 1000, 5)
    out.append(Case(layer="DendriticNonlinearity sublinear", shape="128x1000x5",
                    custom=DendriticNonlinearity("sublinear"), stock={"tanh": torch.tanh},
                    inputs=(xr,)))
    out.append(Case(layer="DendriticNonlinearity supralinear", shape="128x1000x5",
                    custom=DendriticNonlinearity("supralinear"),
                    stock={"relu**2": lambda v: torch.relu(v) ** 2}, inputs=(xr,)))

    def bistable_loop(v: torch.Tensor) -> torch.Tensor:
        prev, steps = torch.zeros_like(v[..., 0]), []
        for x_t in v.unbind(-1):
            prev = torch.sigmoid((x_t + prev - 0.5) / 0.1)
            steps.append(prev)
        return torch.stack(steps, -1)

    out.append(Case(layer="DendriticNonlinearity bistable", shape="128x1000x5",
                    custom=DendriticNonlinearity("bistable"), stock={"loop": bistable_loop},
                    inputs=(xr,)))
    soma = SomaticFilter(5, init="uniform")
    out.append(Case(layer="SomaticFilter 1x1x5", shape="128x1000x5", custom=soma,
                    stock={name: lambda v, f=f: f(v) + soma.bias
                           for name, f in _filters(lambda v: soma.kernel).items()},
                    inputs=(xr,)))
    pmf = LF.poisson_delay_pmf(0.5, 5)
    out.append(Case(layer="PoissonFiring (eval: expectation)", shape="128x1000x5",
                    custom=PoissonFiring(0.5).eval(),
                    stock=_filters(lambda v: pmf), inputs=(xr,)))

    def poisson_scatter(v: torch.Tensor) -> torch.Tensor:
        d = torch.poisson(torch.full(v.shape, 0.5)).long()
        tgt = torch.arange(5) + d
        return torch.zeros_like(v).scatter_add(-1, tgt.clamp(max=4), v * (tgt < 5))

    out.append(Case(layer="PoissonFiring (train: sampled delays)", shape="128x1000x5",
                    custom=PoissonFiring(0.5).train(), stock={"poisson+scatter_add":
                                                              poisson_scatter}, inputs=(xr,)))
    tcn = CausalConv1d(128, 128, 35)
    out.append(Case(layer="CausalConv1d (TCN layer)", shape="8x128x400, 128->128, K=35",
                    custom=tcn, stock={"conv1d": lambda v: F.conv1d(F.pad(v, (34, 0)),
                                                                    tcn.weight, tcn.bias)},
                    inputs=(randn(8, 128, 400),)))
    for case in out:
        if isinstance(case.custom, nn.Module):
            case.custom.requires_grad_(True)
    return out
