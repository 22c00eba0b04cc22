"""Sequence files of NeuronIO-mini: what a simulator's result must hold, and the check of
a stored sequence before it is reused or loaded (format: :mod:`neurocomp.mapping.neuronio`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neurocomp.distributed import read_chunk_file

__all__ = ["checked_output", "read_sequence", "sequence_params"]


def checked_output(out: Any, n_total: int) -> dict[str, np.ndarray]:
    if not isinstance(out, Mapping):
        raise TypeError(f"simulate must return a dict; got {type(out).__name__}")
    for name in ("soma_mV", "spikes"):
        if name not in out:
            raise ValueError(f"simulate's result lacks {name!r}; got keys {sorted(out)}")
    result: dict[str, np.ndarray] = {}
    for name, value in out.items():
        arr = np.asarray(value)
        if name in ("soma_mV", "spikes"):
            if arr.shape != (n_total,):
                raise ValueError(f"simulate's {name} must have shape ({n_total},) (burn-in + "
                                 f"sequence bins); got {arr.shape}")
        elif name == "dend_mV":
            if arr.ndim != 2 or arr.shape[1] != n_total:
                raise ValueError(f"simulate's dend_mV must have shape (n_sites, {n_total}); "
                                 f"got {arr.shape}")
        elif arr.ndim != 0:
            raise ValueError(f"simulate's extra output {name!r} must be a scalar "
                             f"(diagnostic); got shape {arr.shape}")
        if name != "spikes" and not np.isfinite(arr.astype(np.float64)).all():
            raise ValueError(f"simulate's {name} holds NaN or inf")
        result[name] = arr
    if not np.isin(result["spikes"], (0, 1)).all():
        raise ValueError("simulate's spikes must be 0 or 1 per bin")
    return result


def read_sequence(path: Path, *, key: str, n_channels: int, n_bins: int,
                   params: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """All arrays of one sequence file, checked; ValueError naming the file otherwise.

    ``params`` (the sequence's ``seed``, ``split``, ``index`` and ``dataset_key``), if
    given, must be the parameters stored in the file, and ``seed`` its stored seed: a file
    of another sequence of the same data set is refused too.
    """
    arrays = read_chunk_file(path, what="sequence file")
    try:
        stored = json.loads(str(arrays["__params__"]))
        owner = stored["dataset_key"]
    except (KeyError, ValueError, TypeError):
        stored, owner = None, None
    if owner != key:
        raise ValueError(f"sequence file {path} belongs to data set {owner!r}, not {key!r}")
    if params is not None:
        expected = dict(params)
        if stored != expected:
            raise ValueError(f"sequence file {path} holds sequence {stored}, not {expected}")
        if "seed" not in arrays or int(arrays["seed"]) != int(expected["seed"]):
            got = int(arrays["seed"]) if "seed" in arrays else "missing"
            raise ValueError(f"sequence file {path}: seed {got} does not match its "
                             f"parameters (seed {expected['seed']})")
    shapes = {"inputs": (n_channels, n_bins), "soma_mV": (n_bins,), "spikes": (n_bins,)}
    for name, shape in shapes.items():
        if name not in arrays or arrays[name].shape != shape:
            got = arrays[name].shape if name in arrays else "missing"
            raise ValueError(f"sequence file {path}: {name} must have shape {shape}; got {got}")
    if "dend_mV" in arrays and (arrays["dend_mV"].ndim != 2
                                or arrays["dend_mV"].shape[1] != n_bins):
        raise ValueError(f"sequence file {path}: dend_mV must have shape (n_sites, {n_bins}); "
                         f"got {arrays['dend_mV'].shape}")
    for name in ("soma_mV", "dend_mV"):
        if name in arrays and not np.isfinite(arrays[name]).all():
            n_bad = int((~np.isfinite(arrays[name])).sum())
            raise ValueError(f"sequence file {path}: {name} holds {n_bad} NaN/inf values")
    return arrays


def sequence_params(key: str, split: str, index: int, seed: int) -> dict[str, Any]:
    """The chunk parameters of one sequence (what its file must carry)."""
    return {"seed": seed, "split": split, "index": index, "dataset_key": key}
