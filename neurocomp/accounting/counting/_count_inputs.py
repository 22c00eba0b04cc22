"""The inputs of a count: example tensors, or shapes (``input_shape=(8, 3, 224, 224)``).

A shape becomes a tensor on the ``meta`` device (no memory); the meta run gives it the
module's device, and a run on real tensors fills it with standard normal numbers (seed 0)
if floating, zeros otherwise (:func:`materialize`).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import torch

__all__ = ["batch_size_of", "materialize", "resolve_args", "shapes_text"]


def _is_dims(value: Any) -> bool:
    return isinstance(value, torch.Size) or (
        isinstance(value, Sequence) and not isinstance(value, str)
        and all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in value))


def _shapes(input_shape: Any) -> tuple[tuple[int, ...], ...]:
    """One shape, or a sequence of shapes, as a tuple of shapes (checked)."""
    if _is_dims(input_shape) and (len(input_shape) or isinstance(input_shape, torch.Size)):
        shapes = (tuple(int(d) for d in input_shape),)
    elif (isinstance(input_shape, Sequence) and not isinstance(input_shape, str)
          and len(input_shape) and all(_is_dims(s) for s in input_shape)):
        shapes = tuple(tuple(int(d) for d in s) for s in input_shape)
    else:
        raise TypeError(f"input_shape must be a shape — a tuple of integers or a torch.Size, "
                        f"like (8, 3, 224, 224) — or a tuple of shapes, one per argument; "
                        f"got {input_shape!r}")
    for k, shape in enumerate(shapes):
        label = "input_shape" if len(shapes) == 1 else f"input_shape[{k}]"
        for j, d in enumerate(shape):
            if d < 1:
                what = "the batch size (dimension 0)" if j == 0 else f"dimension {j}"
                raise ValueError(f"{label} = {shape}: {what} must be an integer >= 1; got {d}")
    return shapes


def _default_dtype(module: torch.nn.Module) -> torch.dtype:
    for p in (*module.parameters(), *module.buffers()):
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()


def _dtypes(dtype: Any, n: int, module: torch.nn.Module) -> tuple[torch.dtype, ...]:
    if dtype is None:
        return (_default_dtype(module),) * n
    if isinstance(dtype, torch.dtype):
        return (dtype,) * n
    if (isinstance(dtype, Sequence) and len(dtype) == n
            and all(isinstance(d, torch.dtype) for d in dtype)):
        return tuple(dtype)
    raise TypeError(f"dtype must be a torch.dtype, or a sequence of {n} (one per input "
                    f"shape), or None (the module's floating dtype); got {dtype!r}")


def resolve_args(module: torch.nn.Module, example_input: Any, input_shape: Any,
                 dtype: Any) -> tuple[tuple[Any, ...], bool]:
    """The call's positional arguments, and whether they come from ``input_shape``.

    Raises
    ------
    TypeError, ValueError
        Neither or both of ``example_input`` and ``input_shape``; a malformed shape, a
        dimension below 1, a bad ``dtype``; an ``example_input`` without tensors.
    """
    from neurocomp.accounting.counting.counter import as_args

    if (example_input is None) == (input_shape is None):
        raise TypeError("give exactly one of example_input (tensors) and input_shape "
                        f"(shapes); got {'both' if input_shape is not None else 'neither'}")
    if example_input is not None:
        if dtype is not None:
            raise TypeError("dtype applies to input_shape only; example_input tensors keep "
                            "their own dtypes")
        return as_args(example_input), False
    shapes = _shapes(input_shape)
    dtypes = _dtypes(dtype, len(shapes), module)
    return tuple(torch.empty(s, dtype=d, device="meta")
                 for s, d in zip(shapes, dtypes, strict=True)), True


def shapes_text(values: Any) -> str:
    """``"(8, 3, 224, 224), (8,)"``: the shapes of the tensors in ``values`` (tensors, or
    shapes as the tracer records them: tuples of ints in lists and dicts), or ``"none"``."""
    found: list[tuple[int, ...]] = []

    def walk(v: Any) -> None:
        if isinstance(v, torch.Tensor):
            found.append(tuple(v.shape))
        elif isinstance(v, tuple) and all(isinstance(d, int) for d in v):
            found.append(v)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, Mapping):
            for x in v.values():
                walk(x)

    walk(values)
    return ", ".join(str(s) for s in found) or "none"


def batch_size_of(inputs: Sequence[torch.Tensor], batch_size: int | None) -> int:
    """``batch_size``, or the first dimension of the first input (1 for a scalar).

    Raises
    ------
    ValueError
        For a batch below 1 (the message names where it came from).
    """
    from neurocomp.checks import check_int

    if batch_size is not None:
        return check_int("batch_size", batch_size, low=1)
    first = inputs[0]
    size = int(first.shape[0]) if first.dim() else 1
    if size < 1:
        raise ValueError(f"the batch size (the first dimension of the first input, shape "
                         f"{tuple(first.shape)}) must be >= 1; got {size} (pass batch_size=... "
                         f"if the batch is not the first axis)")
    return size


def materialize(args: tuple[Any, ...], device: torch.device, seed: int = 0) -> tuple[Any, ...]:
    """The arguments with every ``meta`` tensor replaced by a real one on ``device``:
    standard normal numbers (generator seeded with ``seed``) if floating or complex, zeros
    otherwise; ``requires_grad`` kept."""
    generator = torch.Generator().manual_seed(seed)

    def real(a: Any) -> Any:
        if not isinstance(a, torch.Tensor) or a.device.type != "meta":
            return a
        if a.is_floating_point() or a.is_complex():
            t = torch.randn(a.shape, dtype=a.dtype, generator=generator).to(device)
        else:
            t = torch.zeros(a.shape, dtype=a.dtype, device=device)
        return t.requires_grad_(a.requires_grad)

    return tuple(real(a) for a in args)
