"""The gate-expression language of channel units: its names, its check, its evaluation.

An expression is a string in the membrane potential ``v`` (mV) and the internal calcium
concentration ``cai`` (mM) that uses only ``exp``, ``exprel`` (:math:`(e^x - 1)/x`, finite at
0), ``log``, ``sqrt``, ``clip``, ``inf``, ``int`` (of a comparison: 1 where true),
arithmetic and powers; :mod:`neurocomp.biophysics.mechanisms` writes its gates in it. It is
checked to use only those names and evaluated with NumPy (or with another engine's
functions, e.g. PyTorch's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from neurocomp.biophysics.units import accepts_quantities

__all__ = ["evaluate", "exprel"]

_ALLOWED_NAMES = {"v", "cai", "exp", "exprel", "log", "sqrt", "clip", "inf", "int"}
_IDENT = re.compile(r"[A-Za-z_]\w*")


def exprel(x: Any) -> Any:
    """(eˣ − 1)/x with its limit 1 at x = 0 (NumPy arrays or scalars)."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 1e-9
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 + x / 2, np.expm1(safe) / safe)


def _as_number(x: Any) -> Any:
    """``int(condition)`` of an expression: 1.0 where true, else 0.0 (arrays too)."""
    return np.asarray(x, dtype=np.float64)


_NUMPY_FUNCTIONS = {"exp": np.exp, "exprel": exprel, "log": np.log, "sqrt": np.sqrt,
                    "clip": np.clip, "inf": np.inf, "int": _as_number}


def _check_expression(what: str, expr: str) -> str:
    """Return ``expr`` if it is a non-empty expression using only the allowed names.

    Parameters
    ----------
    what : str
        What the expression is (``gate 'm' inf`` …), for the error message.
    expr : str
        The expression, in ``v`` (mV) and ``cai`` (mM).

    Raises
    ------
    ValueError
        If ``expr`` is not a non-empty string, or names anything but ``v``, ``cai`` and the
        allowed functions (numbers in exponent notation are not names).
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError(f"{what} must be a non-empty expression string; got {expr!r}")
    unknown = sorted(set(_IDENT.findall(re.sub(r"\d+\.?\d*[eE][-+]?\d+", "", expr)))
                     - _ALLOWED_NAMES)
    if unknown:
        raise ValueError(f"{what} = {expr!r} uses unknown names {unknown}; an expression may "
                         f"use only {sorted(_ALLOWED_NAMES)}")
    return expr


@accepts_quantities
def evaluate(expr: str, *, v_mV: Any, cai_mM: Any = 1e-4,
             functions: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a gate expression at membrane potential ``v_mV`` and calcium ``cai_mM``.

    ``functions`` replaces the NumPy functions (``exp``, ``exprel``, ``log``, ``sqrt``,
    ``clip``) by another engine's, e.g. PyTorch's.
    """
    namespace = dict(_NUMPY_FUNCTIONS if functions is None else functions)
    namespace.update(v=v_mV, cai=cai_mM)
    return eval(expr, {"__builtins__": {}}, namespace)
