"""Cost of a surrogate: forward FLOPs per simulated millisecond and trainable parameters.

FLOPs are counted by :func:`neurocomp.accounting.count` on a copy of the model (on the
``meta`` device where it runs there, else on the CPU); 1 MAC = 2 FLOPs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from neurocomp.checks import check_int, check_real
from neurocomp.mapping.surrogate_predict import _device_dtype

__all__ = ["ForwardCost", "flops_per_ms", "parameter_count"]


@dataclass(frozen=True, kw_only=True)
class ForwardCost:
    """Forward FLOPs per simulated millisecond of a surrogate, batch 1, eval mode."""

    flop_per_ms: float
    bins: int
    bin_ms: float
    counted_on: str  #: "meta" or "cpu"
    uncounted_ops: tuple[str, ...]
    convention: str


def flops_per_ms(model: nn.Module, in_channels: int, *, bins: int = 1000,
                 bin_ms: float = 1.0) -> ForwardCost:
    """Forward FLOPs per simulated ms, counted by :func:`neurocomp.accounting.count`.

    A copy of the model, in eval mode, runs once on ``(1, in_channels, bins)`` zeros; the
    forward FLOPs are divided by ``bins · bin_ms``. The copy runs on the ``meta`` device
    (no arithmetic, any size); if the model cannot run there (e.g. an op without a meta
    kernel), it runs on the CPU instead, and ``counted_on`` says which. The count is of the
    ops as implemented (a causal convolution counts every tap, including the zero padding
    of the first bins: for a TCN the cost per bin is constant). Convention: 1 MAC = 2 FLOPs.
    """
    from neurocomp.accounting import FLOP_CONVENTION, count

    c = check_int("in_channels", in_channels, low=1)
    n = check_int("bins", bins, low=1)
    dt = check_real("bin_ms", bin_ms, low=0.0, low_inclusive=False, unit="ms")
    _, dtype = _device_dtype(model)
    report, where = None, "meta"
    try:
        meta = copy.deepcopy(model).eval().to("meta")
        report = count(meta, torch.zeros(1, c, n, device="meta", dtype=dtype), backward=False)
    except (RuntimeError, NotImplementedError):
        where = "cpu"
        cpu = copy.deepcopy(model).eval().to("cpu")
        report = count(cpu, torch.zeros(1, c, n, dtype=dtype), backward=False, device="real")
    return ForwardCost(flop_per_ms=report.forward_flop / (n * dt), bins=n, bin_ms=dt,
                       counted_on=where, uncounted_ops=tuple(u.op for u in report.uncounted),
                       convention=FLOP_CONVENTION)


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (buffers such as fixed time constants do not count)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
