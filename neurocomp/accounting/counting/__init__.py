"""The FLOP/byte counter of PyTorch modules and every per-op formula it uses.

:func:`count` traces a module (forward and backward) — by default on the ``meta`` device,
computing nothing — and returns a :class:`CountReport` (``print(report)``: a per-module
table, :meth:`CountReport.summary`); its warnings and errors are in ``count_errors``;
the formulas live in ``formulas`` (matrix products, attention, FFTs), ``conv_formulas``
(convolutions and their hand calculations, incl. :func:`conv_output_length`),
``pointwise_formulas``, ``pooling_formulas`` and ``layer_formulas`` (the paper's layers);
``op_registry`` maps aten ops to them; ``counter_check`` compares with ``FlopCounterMode``.
What the formulas are checked against — ops computed by explicit loops that count what they
do — is the separate wing :mod:`neurocomp.accounting.truth`.
"""

from neurocomp.accounting.counting.conv_formulas import conv_output_length
from neurocomp.accounting.counting.count_errors import (
    MetaFallbackWarning,
    UncountedOpError,
    UncountedOpWarning,
    UntraceableModuleError,
)
from neurocomp.accounting.counting.count_report import (
    LOSS_MODULE,
    PHASES,
    ROOT_LABEL,
    CountReport,
    OpCount,
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
    "MetaFallbackWarning",
    "OpCount",
    "UncountedOpError",
    "UncountedOpWarning",
    "UntraceableModuleError",
    "as_args",
    "compare_with_flop_counter_mode",
    "conv_output_length",
    "count",
    "flop_counter_mode_counts",
    "forward_bytes_estimate",
]
