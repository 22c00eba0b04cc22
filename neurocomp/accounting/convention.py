"""The one FLOP convention of neurocomp, and conversions to and from MACs.

A multiply-add (multiply-accumulate, MAC) counts as **2 FLOPs** everywhere in the library,
as in PyTorch's ``torch.utils.flop_counter.FlopCounterMode``, Megatron and the DeepSpeed
profiler's "flops" column (fvcore, ptflops, thop and torchinfo count MACs instead; see
``docs/references.md#anchors-accounting-1-1``). The exact count of a k-long dot product
is 2k − 1 FLOPs; like every tool, the library rounds it to 2k. Every estimate and report
carries :data:`FLOP_CONVENTION`, and :func:`flops_to_macs` converts back for readers who
count MACs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomp.accounting._checks import check_nonnegative

__all__ = ["FLOP_PER_MAC", "flops_to_macs", "macs_to_flops"]

#: FLOPs per multiply-add (MAC): the library's convention (:data:`FLOP_CONVENTION`).
FLOP_PER_MAC = 2


def macs_to_flops(macs: Any) -> float | np.ndarray:
    """FLOPs of ``macs`` multiply-adds (``2 × macs``).

    Parameters
    ----------
    macs : float or array_like
        Multiply-add count (or rate, MAC/s), ≥ 0.

    Returns
    -------
    float or numpy.ndarray
        The same count in FLOPs (or FLOP/s).
    """
    return FLOP_PER_MAC * check_nonnegative("macs", macs)


def flops_to_macs(flops: Any) -> float | np.ndarray:
    """Multiply-adds equivalent to ``flops`` FLOPs (``flops / 2``).

    Parameters
    ----------
    flops : float or array_like
        FLOP count (or rate, FLOP/s), ≥ 0.

    Returns
    -------
    float or numpy.ndarray
        The same count in MACs (or MAC/s).
    """
    return check_nonnegative("flops", flops) / FLOP_PER_MAC
