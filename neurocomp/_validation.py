"""Input checks shared by the whole library.

Every check raises :class:`ValueError` (or :class:`TypeError` for a wrong kind of object)
with a message that names the argument, the value it got and what is allowed, so that a
user can fix the call without reading the source. Nothing is ever clipped silently.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_choice",
    "check_finite_array",
    "check_int",
    "check_real",
    "describe_value",
]


def describe_value(value: Any) -> str:
    """Short printable form of ``value`` for error messages."""
    if isinstance(value, np.ndarray | list | tuple) and np.size(value) > 8:
        arr = np.asarray(value)
        return f"array of shape {arr.shape}"
    return repr(value)


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    unit: str = "",
) -> float:
    """Return ``value`` as a finite float inside ``[low, high]`` or raise ``ValueError``.

    Parameters
    ----------
    name : str
        Argument or field name, used in the message.
    value : real number
        The value to check.
    low, high : float or None
        Bounds; ``None`` means unbounded on that side.
    low_inclusive, high_inclusive : bool
        Whether the bounds themselves are allowed.
    unit : str
        Unit printed after the bounds in the message (for example ``"ms"``).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number; got {describe_value(value)} "
                        f"of type {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite; got {x!r}")
    below = low is not None and (x < low or (x == low and not low_inclusive))
    above = high is not None and (x > high or (x == high and not high_inclusive))
    if below or above:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        left = "[" if (low is not None and low_inclusive) else "("
        right = "]" if (high is not None and high_inclusive) else ")"
        suffix = f" {unit}" if unit else ""
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}{suffix}; got {x:g}{suffix}")
    return x


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int inside ``[low, high]`` or raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer; got {describe_value(value)} "
                        f"of type {type(value).__name__}")
    x = int(value)
    if (low is not None and x < low) or (high is not None and x > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]; got {x}")
    return x


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_finite_array(name: str, array: np.ndarray) -> np.ndarray:
    """Raise ``ValueError`` if ``array`` holds NaN or infinite entries."""
    finite = np.isfinite(array)
    if not finite.all():
        n_bad = int(array.size - np.count_nonzero(finite))
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{name} must hold only finite values; found {n_bad} NaN/inf entr"
            f"{'y' if n_bad == 1 else 'ies'} (first at index {first}: {array[first]!r})"
        )
    return array
