"""The FLOP/byte counter of PyTorch modules and every per-op formula it uses.

:func:`count` runs a module (forward and backward) and returns a :class:`CountReport`;
the formulas live in ``formulas`` (matrix products, attention, FFTs), ``conv_formulas``
(convolutions and their hand calculations, incl. :func:`conv_output_length`),
``pointwise_formulas``, ``pooling_formulas`` and ``layer_formulas`` (the paper's layers);
``op_registry`` maps aten ops to them; ``counter_check`` compares with ``FlopCounterMode``.
"""

from neurocomp.accounting.counting.conv_formulas import conv_output_length
from neurocomp.accounting.counting.count_report import (
    LOSS_MODULE,
    PHASES,
    ROOT_LABEL,
    CountReport,
    ModuleCost,
    OpCount,
    UncountedOp,
    UntraceableModuleError,
)
from neurocomp.accounting.counting.counter import as_args, count, forward_bytes_estimate
from neurocomp.accounting.counting.counter_check import (
    compare_with_flop_counter_mode,
    flop_counter_mode_counts,
)

__all__ = [
    "LOSS_MODULE",
    "PHASES",
    "ROOT_LABEL",
    "CountReport",
    "ModuleCost",
    "OpCount",
    "UncountedOp",
    "UntraceableModuleError",
    "as_args",
    "compare_with_flop_counter_mode",
    "conv_output_length",
    "count",
    "flop_counter_mode_counts",
    "forward_bytes_estimate",
]
