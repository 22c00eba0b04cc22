"""Ground truth for the FLOP counter: ops computed by explicit loops that count what they do.

``loops`` (convolutions of every kind and their three gradients, matrix products; the
counting convention), ``layers`` (attention fused and unfused, pooling, batch and layer
norm), ``rnn`` (RNN, LSTM and GRU cells unrolled) each *compute* an op on small shapes —
checked against PyTorch's result — while counting every multiply-add and element operation
they perform. They never read the counter's formulas (an import-linter contract in
``pyproject.toml`` holds this): the check is independent. :func:`ground_truth_table`
(``zoo``, its cases in ``cases``) runs them beside :func:`~neurocomp.accounting.count` and
``torch.utils.flop_counter.FlopCounterMode`` and returns the comparison, op by op and phase
by phase.
"""

from neurocomp.accounting.truth.zoo import GroundTruthError, ground_truth_table

__all__ = ["GroundTruthError", "ground_truth_table"]
