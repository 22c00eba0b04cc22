"""Physical values given as floats in a named unit or as Brian2 quantities.

A public parameter or field of :mod:`neurocomp.biophysics` whose name ends in a unit suffix
(``start_ms``, ``amplitude_nA``, ``length_um``, ``E_rest_mV``, ``rate_hz``, ``gNa_mS_cm2``
…; the table :data:`SUFFIX_UNITS`) takes either a number in that unit or a Brian2
``Quantity`` of the matching dimension: ``CurrentClamp(start_ms=5)`` and
``CurrentClamp(start_ms=5*ms)`` are the same clamp, and so is ``start_ms=5000*us``. The
conversion is one floating-point division, ``value / unit`` (Brian2 keeps SI values, so
``x*ms`` read back in ms is ``x`` to the last bit for the values tried here, while ``25*us``
in ms is 0.024999999999999998, as Brian2 itself would give). Lists and tuples of quantities
and quantity arrays are converted element-wise. A quantity of another dimension is a
:class:`UnitMismatchError` naming the parameter, the value and the dimension expected.
Plain numbers, arrays (and tensors) pass unchanged, so every float call works as before.

Functions take the rule with the :func:`accepts_quantities` decorator, frozen dataclasses
by calling :func:`convert_quantity_fields` first in ``__post_init__``; both use
:func:`in_unit`. Non-physical limits (``max_memory_gib``, ``max_hours``), counts, indices
and temperatures in °C (Brian2 has no Celsius unit) stay plain numbers.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["SUFFIX_UNITS", "UnitMismatchError", "accepts_quantities",
           "convert_quantity_fields", "in_unit", "is_quantity", "unit_of_name"]

F = TypeVar("F", bound=Callable[..., Any])

#: Name suffix -> (Brian2 expression of the unit, the dimension in words). Longest first:
#: ``_mS_cm2`` must win over ``_S_cm2``.
SUFFIX_UNITS: dict[str, tuple[str, str]] = {
    "mS_cm2": ("msiemens/cm**2", "conductance per area"),
    "S_cm2": ("siemens/cm**2", "conductance per area"),
    "uF_cm2": ("ufarad/cm**2", "capacitance per area"),
    "ohm_cm2": ("ohm*cm**2", "resistance × area"),
    "ohm_cm": ("ohm*cm", "resistivity"),
    "ms": ("ms", "time"),
    "nA": ("nA", "current"),
    "pA": ("pA", "current"),
    "um": ("um", "length"),
    "mV": ("mV", "voltage"),
    "nS": ("nS", "conductance"),
    "mM": ("mmolar", "concentration"),
    "hz": ("Hz", "frequency"),
}
_SUFFIX = re.compile(r"_(" + "|".join(SUFFIX_UNITS) + r")$")


class UnitMismatchError(TypeError):
    """A Brian2 quantity given for a parameter of another dimension (a ``TypeError``, as a
    value of the wrong kind)."""


def unit_of_name(name: str) -> str | None:
    """The unit suffix of a parameter name (``"ms"`` for ``"tau_rise_ms"``), or None."""
    m = _SUFFIX.search(name)
    return m.group(1) if m else None


def _brian2() -> Any:
    """Brian2 if something imported it already, else None (then nothing can be a Quantity,
    and converting a plain float never imports Brian2)."""
    return sys.modules.get("brian2")


def is_quantity(value: Any) -> bool:
    """Whether ``value`` is a Brian2 ``Quantity`` (False without importing Brian2)."""
    b2 = _brian2()
    return b2 is not None and isinstance(value, b2.Quantity)


def _has_quantity(value: Any) -> bool:
    if is_quantity(value):
        return True
    return isinstance(value, list | tuple) and any(_has_quantity(v) for v in value)


def _unit(b2: Any, suffix: str) -> Any:
    """The Brian2 unit of a suffix of :data:`SUFFIX_UNITS`."""
    cm = b2.cm
    return {"mS_cm2": b2.msiemens / cm**2, "S_cm2": b2.siemens / cm**2,
            "uF_cm2": b2.ufarad / cm**2, "ohm_cm2": b2.ohm * cm**2, "ohm_cm": b2.ohm * cm,
            "ms": b2.ms, "nA": b2.nA, "pA": b2.pA, "um": b2.um, "mV": b2.mV, "nS": b2.nS,
            "mM": b2.mmolar, "hz": b2.Hz}[suffix]


def in_unit(name: str, value: Any, unit: str | None = None) -> Any:
    """``value`` as a number in ``unit`` (default: the unit suffix of ``name``).

    Parameters
    ----------
    name : str
        The parameter or field, used in the message (and for its unit suffix).
    value : float, array, Brian2 Quantity, or list/tuple of them
        A plain number or array is returned unchanged (it is in ``unit`` already); a
        Quantity (or a list/tuple holding one) is divided by ``unit``: a float for a scalar,
        an ndarray for an array, a tuple or list of floats for a tuple or list.
    unit : str, optional
        A key of :data:`SUFFIX_UNITS`.

    Raises
    ------
    UnitMismatchError
        For a quantity whose dimension is not that of ``unit``.
    """
    if not _has_quantity(value):
        return value
    suffix = unit or unit_of_name(name)
    if suffix is None:
        raise ValueError(f"{name!r} has no unit suffix; give unit=")
    b2 = _brian2()
    target = _unit(b2, suffix)
    if isinstance(value, list | tuple) and not is_quantity(value):
        return type(value)(in_unit(f"{name}[{k}]", v, suffix) for k, v in enumerate(value))
    if not (b2.get_dimensions(value) == b2.get_dimensions(target)
            or (b2.get_dimensions(value).is_dimensionless)):
        raise UnitMismatchError(
            f"{name} must be a number in {suffix} or a Brian2 quantity of dimension "
            f"{SUFFIX_UNITS[suffix][1]} (e.g. {_example(suffix)}); got {_show(value)}, a "
            f"quantity in {b2.get_unit(b2.get_dimensions(value))!s} "
            f"(dimension {b2.get_dimensions(value)!s})")
    if b2.get_dimensions(value).is_dimensionless:
        x = np.asarray(value, dtype=np.float64)
    else:
        x = np.asarray(value / target, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def _show(value: Any) -> str:
    return f"array of shape {np.shape(value)}" if np.size(value) > 8 else str(value)


def _example(suffix: str) -> str:
    return {"ms": "5*ms", "nA": "0.5*nA", "um": "20*um", "mV": "-65*mV"}.get(
        suffix, f"1*{SUFFIX_UNITS[suffix][0]}")


def accepts_quantities(func: F) -> F:
    """Decorate ``func`` so that each parameter whose name has a unit suffix takes a float in
    that unit or a Brian2 quantity (:func:`in_unit`); the call is unchanged when no
    argument is a quantity."""
    sig = inspect.signature(func)
    physical = {p: s for p in sig.parameters if (s := unit_of_name(p)) is not None}

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _brian2() is None or not (any(map(_has_quantity, args))
                                     or any(map(_has_quantity, kwargs.values()))):
            return func(*args, **kwargs)
        bound = sig.bind(*args, **kwargs)
        for name, value in bound.arguments.items():
            if name in physical:
                bound.arguments[name] = in_unit(name, value, physical[name])
        return func(*bound.args, **bound.kwargs)

    wrapper._accepts_quantities = tuple(physical)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def convert_quantity_fields(obj: Any) -> None:
    """In a (frozen) dataclass's ``__post_init__``: replace each field with a unit suffix
    that holds a Brian2 quantity by its value in that unit (:func:`in_unit`)."""
    if _brian2() is None:
        return
    for f in dataclasses.fields(obj):
        if unit_of_name(f.name) is not None:
            value = getattr(obj, f.name)
            if _has_quantity(value):
                object.__setattr__(obj, f.name, in_unit(f.name, value))
