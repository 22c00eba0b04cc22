"""Checks on the inputs of the accounting formulas, for scalars and for arrays of samples.

The formulas are pure functions that take either plain floats (one estimate) or numpy
arrays (a Monte-Carlo batch). Both get the same message style as
:mod:`neurocomp.checks`: the argument, the value and the allowed range.

Entry points that allocate or loop in proportion to their arguments (measurements, shard
lists) estimate the bytes or items first and refuse beyond a stated bound
(:func:`neurocomp.checks.check_bytes`, :func:`check_count`), overridable by an argument.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocomp.checks import check_limit, check_real, describe_value

__all__ = ["MAX_ITEMS", "check_count", "check_nonnegative", "check_positive"]

#: Default bound on the items a function lists one by one (2²⁰).
MAX_ITEMS = 2**20


def check_count(owner: str, name: str, n: int, *, max_items: int | None,
                what: str = "items") -> None:
    """Raise ``ValueError`` if ``n`` (named ``name``) exceeds ``max_items``
    (``None``: :data:`MAX_ITEMS`)."""
    limit = check_limit("max_items", max_items, MAX_ITEMS)
    if n > limit:
        default = " (the default bound)" if max_items is None else ""
        shown = f"{int(limit):,}" if math.isfinite(limit) else "inf"
        raise ValueError(f"{owner}: {name}={n:,} lists {n:,} {what} one by one, more than "
                         f"max_items = {shown}{default}; pass max_items={n} to allow it")


def _check_bounded(name: str, value: Any, *, low: float, strict: bool,
                   unit: str) -> float | np.ndarray:
    if np.ndim(value) == 0:
        return check_real(name, value.item() if isinstance(value, np.ndarray) else value,
                          low=low, low_inclusive=not strict, unit=unit)
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a real number or an array of them; got {value!r}")
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers; got {describe_value(value)} "
                        f"of dtype {arr.dtype}")
    arr = arr.astype(float)
    bad = ~np.isfinite(arr) | ((arr <= low) if strict else (arr < low))
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        left = "(" if strict else "["
        suffix = f" {unit}" if unit else ""
        raise ValueError(f"{name} must be finite and in {left}{low:g}, inf){suffix}; "
                         f"{int(bad.sum())} entr{'y is' if bad.sum() == 1 else 'ies are'} "
                         f"not (first at index {first}: {arr[first]:g}{suffix})")
    return arr


def check_positive(name: str, value: Any, *, unit: str = "") -> float | np.ndarray:
    """Return ``value`` (a float, or a float array) if every entry is finite and > 0."""
    return _check_bounded(name, value, low=0.0, strict=True, unit=unit)


def check_nonnegative(name: str, value: Any, *, unit: str = "") -> float | np.ndarray:
    """Return ``value`` (a float, or a float array) if every entry is finite and ≥ 0."""
    return _check_bounded(name, value, low=0.0, strict=False, unit=unit)
