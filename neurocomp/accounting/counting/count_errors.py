"""The errors and warnings of :func:`~neurocomp.accounting.count`.

* :class:`UntraceableModuleError` — a module the counter cannot trace (it names it);
* :class:`UncountedOpError` — ``count(..., strict=True)`` met ops without a formula;
* :class:`UncountedOpWarning` — the same without ``strict``: the totals are a lower bound;
* :class:`MetaFallbackWarning` — the model could not be counted on the ``meta`` device and
  was run on real tensors instead.
"""

from __future__ import annotations

__all__ = ["MetaFallbackWarning", "UncountedOpError", "UncountedOpWarning",
           "UntraceableModuleError"]


class UntraceableModuleError(RuntimeError):
    """A module the counter cannot trace; the message and ``module`` (its path) name it."""

    def __init__(self, message: str, *, module: str) -> None:
        super().__init__(message)
        self.module = module


class UncountedOpError(ValueError):
    """Ops without a FLOP formula met in a ``strict`` count; ``ops`` lists their names and
    the message the modules that called them."""

    def __init__(self, message: str, *, ops: tuple[str, ...]) -> None:
        super().__init__(message)
        self.ops = ops


class UncountedOpWarning(UserWarning):
    """A count met ops without a FLOP formula: its FLOP totals are lower bounds."""


class MetaFallbackWarning(UserWarning):
    """A model that cannot run on the ``meta`` device was counted on real tensors."""
