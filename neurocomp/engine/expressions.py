"""Gate expressions evaluated with PyTorch: the channel units' own strings, not a re-typing.

A :class:`~neurocomp.biophysics.Gate` holds its steady state, time constant (and, when it was
written from rates, α and β) as expression strings in ``v`` (mV) and ``cai`` (mM) over the
functions ``exp``, ``exprel``, ``log``, ``sqrt``, ``clip``, ``int`` and the constant ``inf``
(see :mod:`neurocomp.biophysics.mechanisms`). Brian2 receives the same strings through
``brian2_equations``; here they are compiled once to Python code objects and evaluated on
tensors with the PyTorch versions of those functions, so one description drives both engines
and every result is differentiable in ``v``, ``cai`` and anything the tensors depend on.

``exprel(x) = (eˣ − 1)/x`` is evaluated as ``expm1(x)/x`` away from 0 and by its Taylor
series ``1 + x/2 + x²/6`` for ``|x| < 1e-6`` (truncation error < x³/24 ≈ 4e-20, below float64
round-off), with the division guarded so neither branch produces NaN gradients at 0.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import torch

__all__ = ["TORCH_FUNCTIONS", "evaluate_torch", "exprel"]

_EXPREL_SMALL = 1e-6


def exprel(x: torch.Tensor) -> torch.Tensor:
    """(eˣ − 1)/x with its limit 1 at x = 0; finite value and gradient everywhere."""
    x = torch.as_tensor(x)
    small = x.abs() < _EXPREL_SMALL
    safe = torch.where(small, torch.ones_like(x), x)
    series = 1.0 + x * (0.5 + x / 6.0)
    return torch.where(small, series, torch.expm1(safe) / safe)


def _as_number(dtype: torch.dtype) -> Any:
    """``int(condition)``: 1.0 where true, else 0.0 (a comparison has no gradient)."""

    def to_number(x: Any) -> Any:
        return x.to(dtype) if isinstance(x, torch.Tensor) else float(x)

    return to_number


def _clip(x: Any, low: Any, high: Any) -> Any:
    x = torch.as_tensor(x)
    return torch.clamp(x, min=float(low), max=float(high))


#: The expression language's functions, in PyTorch (``int`` is added per call, in the dtype
#: of ``v``).
TORCH_FUNCTIONS = {"exp": torch.exp, "exprel": exprel, "log": torch.log, "sqrt": torch.sqrt,
                   "clip": _clip, "inf": float("inf")}


@lru_cache(maxsize=1024)
def _compiled(expr: str) -> Callable[..., Any]:
    """The expression as a plain Python function of (v, cai, int) over the PyTorch
    functions: a real function (not ``eval``) so ``torch.compile`` can trace it."""
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError(f"expression must be a non-empty string; got {expr!r}")
    namespace: dict[str, Any] = {"__builtins__": {}, **TORCH_FUNCTIONS}
    source = f"def gate_expression(v, cai, int):\n    return ({expr})\n"
    exec(compile(source, f"<gate expression {expr[:40]!r}>", "exec"),
         namespace)
    return namespace["gate_expression"]


def evaluate_torch(expr: str, *, v_mV: torch.Tensor, cai_mM: Any = 1e-4) -> torch.Tensor:
    """Evaluate a gate expression on tensors.

    Parameters
    ----------
    expr : str
        A gate expression (``Gate.inf``, ``Gate.tau_ms``, ``Gate.alpha`` …), in ``v`` (mV)
        and ``cai`` (mM).
    v_mV : torch.Tensor
        Membrane potential, mV (any shape).
    cai_mM : torch.Tensor or float
        Internal calcium concentration, mM (broadcastable to ``v_mV``).

    Returns
    -------
    torch.Tensor
        The value, broadcast to the shape of ``v_mV`` (a constant expression too), in the
        dtype and on the device of ``v_mV``.
    """
    v = torch.as_tensor(v_mV)
    out = _compiled(expr)(v, cai_mM, _as_number(v.dtype))
    out = torch.as_tensor(out, dtype=v.dtype, device=v.device)
    return out.expand(v.shape) if out.shape != v.shape else out
