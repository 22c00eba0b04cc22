"""Finite-data checks before training: NaN or ±inf in a data set, named by example and tensor.

:func:`check_finite_data` is the pass :func:`~neurocomp.layers.training.fit` makes over its
data before any step; the example leaves (``x``, ``y``, ``y[0]`` …) it names are also what a
run's data fingerprint hashes (:mod:`neurocomp.layers.training_checkpoints`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

__all__ = ["check_finite_data"]


def _leaves(item: Any, path: str) -> list[tuple[str, Any]]:
    """``(name, leaf)`` of a nested example: ``x``, ``y``, ``y[0]`` …"""
    if isinstance(item, tuple | list):
        return [leaf for k, v in enumerate(item) for leaf in _leaves(v, f"{path}[{k}]")]
    return [(path, item)]


def _example_leaves(example: Any) -> list[tuple[str, Any]]:
    """The named leaves of one example: ``x…`` and ``y…`` of a pair, else ``example…``."""
    if isinstance(example, tuple | list) and len(example) == 2:
        return _leaves(example[0], "x") + _leaves(example[1], "y")
    return _leaves(example, "example")


def _first_bad(t: torch.Tensor | np.ndarray) -> tuple[int, Any] | None:
    """(flat index, value) of the first NaN/inf entry of a floating tensor or array, or
    ``None``."""
    if isinstance(t, np.ndarray):
        if t.dtype.kind not in "fc" or t.size == 0:
            return None
        bad_np = ~np.isfinite(t)
        if not bad_np.any():
            return None
        k = int(np.flatnonzero(bad_np)[0])
        return k, t.reshape(-1)[k].item()
    if not (t.dtype.is_floating_point or t.dtype.is_complex) or t.numel() == 0:
        return None
    bad = ~torch.isfinite(t)
    if not bool(bad.any()):
        return None
    k = int(bad.flatten().nonzero()[0, 0])
    return k, t.flatten()[k].item()


def check_finite_data(name: str, data: Dataset, *, batch_size: int = 1024) -> None:
    """Raise ``ValueError`` if a floating tensor of ``data`` holds NaN or ±inf.

    A :class:`~torch.utils.data.TensorDataset` is checked tensor by tensor at once; any other
    map-style data set is read once, example by example in batches. The message names the
    data set, the example and the tensor (``x``, ``y``, ``y[1]`` for nested targets).
    """
    if isinstance(data, TensorDataset):
        for k, t in enumerate(data.tensors):
            hit = _first_bad(t)
            if hit is not None:
                index = tuple(int(i) for i in np.unravel_index(hit[0], tuple(t.shape)))
                raise ValueError(f"{name}.tensors[{k}] holds non-finite values (NaN or inf): "
                                 f"first at index {index} (example {index[0]}), value "
                                 f"{hit[1]!r}; clean or drop these examples before fit()")
        return
    n = len(data)  # type: ignore[arg-type]
    loader = DataLoader(data, batch_size=batch_size, shuffle=False,
                        collate_fn=lambda batch: batch)
    start = 0
    for batch in loader:
        for offset, example in enumerate(batch):
            for path, leaf in _example_leaves(example):
                if isinstance(leaf, torch.Tensor | np.ndarray):
                    hit = _first_bad(leaf)
                elif isinstance(leaf, float) and not math.isfinite(leaf):
                    hit = (0, leaf)
                else:
                    hit = None
                if hit is not None:
                    raise ValueError(f"{name} example {start + offset} (of {n}): {path} holds "
                                     f"a non-finite value ({hit[1]!r} at flat index {hit[0]}); "
                                     "clean or drop these examples before fit()")
        start += len(batch)
