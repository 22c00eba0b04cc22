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
    "MAX_BYTES",
    "MAX_OPS",
    "check_bool",
    "check_bytes",
    "check_choice",
    "check_finite_array",
    "check_index_array",
    "check_instance",
    "check_int",
    "check_limit",
    "check_ops",
    "check_real",
    "describe_value",
    "format_bytes",
    "setting",
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


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (numpy's included), else raise ``TypeError``.

    Strings such as ``"yes"`` or ``"false"`` and numbers are refused: ``bool("false")`` is
    True, so a silent conversion would turn the stage the user meant to switch off on.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {describe_value(value)} of type "
                        f"{type(value).__name__}")
    return bool(value)


def check_instance(name: str, value: Any, kind: type | tuple[type, ...], what: str = "") -> Any:
    """Return ``value`` if it is an instance of ``kind``, else raise ``TypeError``."""
    if not isinstance(value, kind):
        if not what:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            what = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"{name} must be a {what}; got {describe_value(value)} of type "
                        f"{type(value).__name__}")
    return value


def check_index_array(name: str, values: Any) -> np.ndarray:
    """``values`` as an int64 array of whole numbers, or raise (nothing is rounded).

    Integer arrays pass; floating arrays pass only when every entry is a finite whole number
    (``[0.0, 3.0]``); booleans, strings and fractional or non-finite entries are refused
    with the first offending entry in the message.
    """
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integers; got {describe_value(values)} of dtype "
                        f"{arr.dtype}")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name} must hold whole numbers (indices); got {arr[first]!r} "
                             f"at index {first}")
    return arr.astype(np.int64)


#: Default bound on the memory one call allocates, bytes (8 GiB); ``max_bytes=`` overrides.
MAX_BYTES = 8 * 2**30
#: Default bound on the elementary updates (multiply-adds, array entries touched) one call
#: performs: about 10¹¹, a few minutes of numpy on one core; ``max_ops=`` overrides.
MAX_OPS = 1e11


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units (``"1.5 GiB"``)."""
    for unit, scale in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30),
                        ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n:.4g} B"


def check_limit(name: str, value: Any, default: float) -> float:
    """A user's bound ``value`` (``None``: ``default``) as a float > 0; ``math.inf`` means no
    bound."""
    limit = default if value is None else value
    if isinstance(limit, bool) or not isinstance(limit, int | float) or math.isnan(limit) \
            or limit <= 0:
        raise ValueError(f"{name} must be a number > 0 (math.inf: no bound) or None (the "
                         f"default, {default:g}); got {limit!r}")
    return float(limit)


def check_bytes(owner: str, n_bytes: float, *, sizes: str, max_bytes: float | None,
                what: str = "memory") -> None:
    """Raise ``ValueError`` before work if an estimate of ``n_bytes`` exceeds ``max_bytes``
    (``None``: :data:`MAX_BYTES`); ``sizes`` names the arguments that lead to it."""
    limit = check_limit("max_bytes", max_bytes, MAX_BYTES)
    if n_bytes > limit:
        default = " (the default bound)" if max_bytes is None else ""
        raise ValueError(f"{owner}: {sizes} would allocate about {format_bytes(n_bytes)} of "
                         f"{what}, more than max_bytes = {format_bytes(limit)}{default}; use "
                         f"smaller sizes, or pass max_bytes={int(n_bytes) + 1} (or math.inf) "
                         "if the machine has the memory")


def check_ops(owner: str, n_ops: float, *, sizes: str, max_ops: float | None) -> None:
    """Raise ``ValueError`` before work if ``n_ops`` elementary updates exceed ``max_ops``
    (``None``: :data:`MAX_OPS`); ``sizes`` names the arguments that lead to it."""
    limit = check_limit("max_ops", max_ops, MAX_OPS)
    if n_ops > limit:
        default = " (the default bound)" if max_ops is None else ""
        raise ValueError(f"{owner}: {sizes} means about {n_ops:.3g} elementary updates, more "
                         f"than max_ops = {limit:.3g}{default} (hours of work or more); use "
                         f"smaller sizes, or pass max_ops={n_ops:.3g} (or math.inf) to run it")


def setting(name: str, value: Any, *, env: str, default: float, unit: str) -> float:
    """A positive bound given as an argument, else by the environment variable ``env``, else
    ``default``: ``value`` if not ``None``, checked (> 0); ``$env`` if set, parsed and checked;
    the message names whichever was wrong."""
    import os

    if value is not None:
        return check_real(name, value, low=0, low_inclusive=False, unit=unit)
    text = os.environ.get(env)
    if text:
        try:
            parsed = float(text)
        except ValueError:
            raise ValueError(f"${env} must be a number of {unit} > 0; got {text!r}") from None
        return check_real(f"${env}", parsed, low=0, low_inclusive=False, unit=unit)
    return float(default)
