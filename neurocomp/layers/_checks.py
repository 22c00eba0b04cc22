"""Tensor checks shared by the layers: rank, size and dtype, named in every message.

These checks read only shapes and dtypes (never values), so they cost nothing on the
forward path and never force a device synchronisation on CUDA.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from neurocomp._validation import check_int

__all__ = ["check_floating", "check_min_rank", "check_rank", "check_size", "int_tuple",
           "same_padding"]


def check_rank(name: str, x: torch.Tensor, ndim: int | Sequence[int], layout: str = "") -> None:
    """Raise ``ValueError`` unless ``x`` is a tensor with ``ndim`` dimensions.

    Parameters
    ----------
    name : str
        Argument name for the message.
    x : torch.Tensor
        The tensor to check.
    ndim : int or sequence of int
        Allowed numbers of dimensions; a sequence is a set of allowed values.
    layout : str
        Meaning of the axes, printed in the message (``"(batch, synapse, time)"``).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        want = " or ".join(f"{n}-D" for n in allowed)
        where = f" {layout}" if layout else ""
        raise ValueError(f"{name} must be a {want} tensor{where}; got a {x.ndim}-D tensor of "
                         f"shape {tuple(x.shape)}")


def check_min_rank(name: str, x: torch.Tensor, ndim: int, layout: str = "") -> None:
    """Raise ``ValueError`` unless ``x`` is a tensor with at least ``ndim`` dimensions."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if x.ndim < ndim:
        where = f" {layout}" if layout else ""
        raise ValueError(f"{name} must be a tensor with at least {ndim} dimension(s){where}; "
                         f"got a {x.ndim}-D tensor of shape {tuple(x.shape)}")


def check_size(name: str, x: torch.Tensor, dim: int, size: int, what: str) -> None:
    """Raise ``ValueError`` unless ``x.shape[dim] == size``."""
    if x.shape[dim] != size:
        raise ValueError(f"{name} must have {size} {what} along dimension {dim}; got "
                         f"{x.shape[dim]} (shape {tuple(x.shape)})")


def check_floating(name: str, x: torch.Tensor) -> None:
    """Raise ``TypeError`` unless ``x`` has a real floating-point dtype."""
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must have a floating-point dtype (float16, bfloat16, float32 "
                        f"or float64); got {x.dtype}")


def int_tuple(name: str, value: int | Sequence[int], n: int, *, low: int = 1) -> tuple[int, ...]:
    """``value`` as a tuple of ``n`` ints ≥ ``low`` (an int is repeated ``n`` times)."""
    items = (value,) * n if isinstance(value, int) else tuple(value)
    if len(items) != n:
        raise ValueError(f"{name} must be an int or a sequence of {n} ints; got {value!r}")
    return tuple(check_int(f"{name}[{i}]", v, low=low) for i, v in enumerate(items))


def same_padding(kernel: int) -> tuple[int, int]:
    """Zero padding (before, after) that keeps the length: torch's ``padding="same"`` split.

    The ``kernel - 1`` padded entries are split with the extra one *after* for even kernels,
    as ``torch.nn.functional.conv1d(..., padding="same")`` does.
    """
    before = (kernel - 1) // 2
    return before, kernel - 1 - before
