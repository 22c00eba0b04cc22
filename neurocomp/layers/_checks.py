"""Tensor checks shared by the layers: rank, size and dtype, named in every message.

These checks read only shapes and dtypes (never values), so they cost nothing on the
forward path and never force a device synchronisation on CUDA.

Sizes are checked before work: a constructor or op that allocates in proportion to its
size arguments first estimates the bytes (:func:`check_allocation`) and refuses beyond
``max_bytes`` — by default :data:`MAX_ALLOCATION_BYTES` (8 GiB), far above every cited
model (the Purkinje neuron and the 7 × 256 TCN need megabytes) and below what this
project's machines hold. Pass ``max_bytes=`` a larger number (or ``math.inf``) to allow
more. Loops over layers are bounded the same way by :data:`MAX_LAYERS`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from neurocomp.checks import MAX_BYTES, check_bytes, check_int

__all__ = ["MAX_ALLOCATION_BYTES", "MAX_LAYERS", "bytes_per_value", "check_allocation",
           "check_floating", "check_layers", "check_min_rank", "check_rank", "check_size",
           "int_tuple", "same_padding"]

#: Default bound on what one constructor or op allocates, bytes (8 GiB).
MAX_ALLOCATION_BYTES = float(MAX_BYTES)  # the library's one default bound
#: Default bound on the layers a model constructor builds one by one (a Python loop).
MAX_LAYERS = 10_000
#: A number or a 0-d tensor (a learnable parameter).
Scalar = float | torch.Tensor


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


def check_floating(name: str, x: torch.Tensor | None, *, optional: bool = False) -> None:
    """Raise ``TypeError`` unless ``x`` is a tensor with a real floating-point dtype.

    The functional ops compute in the input's floating dtype and convert parameters to it;
    an integer or boolean input would turn float weights into integers (``0.4 → 0``)
    silently, and a complex one would drop imaginary parts, so both are refused here rather
    than cast. ``optional=True`` lets ``None`` through (an absent bias).
    """
    if x is None and optional:
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must have a floating-point dtype (float16, bfloat16, float32 "
                        f"or float64); got {x.dtype} — convert it explicitly, e.g. "
                        f"{name}.float()")


def int_tuple(name: str, value: int | Sequence[int], n: int, *, low: int = 1) -> tuple[int, ...]:
    """``value`` as a tuple of ``n`` ints ≥ ``low`` (an int is repeated ``n`` times)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (check_int(name, value, low=low),) * n  # checked once, not n times
    items = tuple(value)
    if len(items) != n:
        shown = value if len(items) <= 8 else f"a sequence of {len(items)}"
        raise ValueError(f"{name} must be an int or a sequence of {n} ints; got {shown!r}")
    return tuple(check_int(f"{name}[{i}]", v, low=low) for i, v in enumerate(items))


def bytes_per_value(dtype: torch.dtype | None) -> int:
    """Element size of ``dtype`` (``None``: torch's default dtype), bytes.

    Raises ``TypeError`` unless ``dtype`` is ``None`` or a floating-point ``torch.dtype``
    (every caller sizes parameters or kernels: integer ones would round them to 0 or 1).
    """
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be None or a floating-point torch.dtype (torch.float16, "
                        f"torch.bfloat16, torch.float32 or torch.float64); got {dtype!r}")
    d = torch.get_default_dtype() if dtype is None else dtype
    return torch.empty((), dtype=d, device="meta").element_size()


def check_allocation(owner: str, n_bytes: float, *, sizes: str,
                     max_bytes: float | None, what: str = "memory") -> None:
    """Raise ``ValueError`` if an estimated allocation exceeds ``max_bytes``.

    Parameters
    ----------
    owner : str
        The call, as the user wrote it (``"TCN(config)"``, ``"dendritic_conv"``).
    n_bytes : float
        The estimate, bytes (integers may exceed float range: compared exactly).
    sizes : str
        The size arguments that lead to it (``"width=(1000000, 1000000), kernel_sizes=…"``).
    max_bytes : float or None
        The bound; ``None``: :data:`MAX_ALLOCATION_BYTES` (the library's
        :data:`neurocomp.checks.MAX_BYTES`). Must be > 0.
    what : str
        What is allocated (``"parameters"``, ``"the Toeplitz matrices"``).
    """
    check_bytes(owner, n_bytes, sizes=sizes, max_bytes=max_bytes, what=what)


def check_layers(owner: str, name: str, n: int, *, max_layers: int | None) -> None:
    """Raise ``ValueError`` if a constructor would build more than ``max_layers`` layers."""
    limit = MAX_LAYERS if max_layers is None else check_int("max_layers", max_layers, low=1)
    if n > limit:
        default = " (the default bound)" if max_layers is None else ""
        raise ValueError(f"{owner}: {name}={n} builds {n} layers one by one, more than "
                         f"max_layers = {limit}{default}; pass max_layers={n} to allow it")


def same_padding(kernel: int) -> tuple[int, int]:
    """Zero padding (before, after) that keeps the length: torch's ``padding="same"`` split.

    The ``kernel - 1`` padded entries are split with the extra one *after* for even kernels,
    as ``torch.nn.functional.conv1d(..., padding="same")`` does.
    """
    before = (kernel - 1) // 2
    return before, kernel - 1 - before


def _check_floating_args(**tensors: torch.Tensor | None) -> None:
    """Every given tensor floating-point (``None``: an absent bias): never cast an integer
    input or weight to the other's dtype silently."""
    for name, t in tensors.items():
        check_floating(name, t, optional=name == "bias")


def _cast(t: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """``t`` in ``like``'s dtype (parameters follow the input; a no-op when they agree)."""
    return None if t is None else t.to(like.dtype)
