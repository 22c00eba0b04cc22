"""Checkpoints of :func:`~neurocomp.layers.training.fit`: run fingerprints, resume, writes.

``last.pt`` carries a fingerprint of the run (model structure, data, loss function and the
hyper-parameters that shape the trajectory); a run resumes from it only when every part
matches, else :class:`ValueError` names what differs (see :mod:`neurocomp.layers.training`).
Rank 0 writes ``last.pt`` after every epoch and ``best.pt`` on improvement, atomically.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from neurocomp.layers.training_config import EpochRecord, FitConfig
from neurocomp.layers.training_data import _example_leaves

__all__ = ["run_fingerprint"]

_CHECKPOINT_FORMAT = 2
#: Examples a data fingerprint hashes: the first, the middle and the last.
_SAMPLED_EXAMPLES = 3


@dataclass(kw_only=True)
class _RunState:
    """Where a run stands after its last finished epoch: what ``last.pt`` stores.

    Attributes
    ----------
    history : list of EpochRecord
        The finished epochs.
    best_loss : float
        Lowest monitored loss so far (``inf`` before the first epoch).
    best_epoch : int or None
        The epoch of ``best_loss``.
    bad_epochs : int
        Epochs since the last improvement.
    epochs_done : int
        Finished epochs: the first epoch the run trains next.
    stopped : bool
        Early stopping has ended the run.
    best_state : dict or None
        The best epoch's weights on the CPU (``best.pt``).
    """

    history: list[EpochRecord] = field(default_factory=list)
    best_loss: float = math.inf
    best_epoch: int | None = None
    bad_epochs: int = 0
    epochs_done: int = 0
    stopped: bool = False
    best_state: dict[str, torch.Tensor] | None = None


def _digest(*parts: Any) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, torch.Tensor):
            t = part.detach().to("cpu").contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


def _no_addresses(text: str) -> str:
    """``repr`` text without memory addresses (``at 0x7f…``), which change every run."""
    return re.sub(r"0x[0-9a-fA-F]+", "0x", text)


def _data_fingerprint(data: Dataset | None) -> str:
    """Length, then per sampled example its leaves' names, shapes, dtypes and bytes."""
    if data is None:
        return "none"
    n = len(data)  # type: ignore[arg-type]
    picks = sorted({0, n // 2, n - 1})[:_SAMPLED_EXAMPLES]
    parts: list[Any] = [n]
    for i in picks:
        for path, leaf in _example_leaves(data[i]):
            if isinstance(leaf, np.ndarray) and leaf.dtype != object:
                leaf = torch.from_numpy(np.ascontiguousarray(leaf))  # hash all its bytes
            parts += [i, path, leaf if isinstance(leaf, torch.Tensor) else _no_addresses(
                repr(leaf))]
    return _digest(*parts)


def _model_fingerprint(model: nn.Module) -> str:
    """Class, printed structure and parameter/buffer names, shapes and dtypes (not values)."""
    shapes = [(k, tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()]
    cls = type(model)
    return _digest(f"{cls.__module__}.{cls.__qualname__}", _no_addresses(repr(model)), shapes)


def _loss_fingerprint(loss_fn: Callable[..., Any]) -> str:
    if isinstance(loss_fn, nn.Module):
        return _digest(type(loss_fn).__qualname__, _no_addresses(repr(loss_fn)))
    name = getattr(loss_fn, "__qualname__", None)
    if name is None:
        return _digest(_no_addresses(repr(loss_fn)))
    return _digest(f"{getattr(loss_fn, '__module__', '')}.{name}")


def _hyperparameters(cfg: FitConfig, world_size: int) -> dict[str, Any]:
    """The settings that shape the training trajectory (``epochs`` may grow on resume)."""
    hp: dict[str, Any] = {"seed": cfg.seed, "batch_size": cfg.batch_size,
                          "world_size": world_size, "optimizer": cfg.optimizer,
                          "learning_rate": cfg.learning_rate, "weight_decay": cfg.weight_decay,
                          "grad_clip_norm": cfg.grad_clip_norm,
                          "max_steps_per_epoch": cfg.max_steps_per_epoch}
    if cfg.optimizer == "sgd":
        hp["momentum"] = cfg.momentum
    return hp


def run_fingerprint(model: nn.Module, loss_fn: Callable[..., Any], train_data: Dataset,
                    val_data: Dataset | None, cfg: FitConfig, world_size: int
                    ) -> dict[str, Any]:
    """What a checkpoint must match to be resumed (see the module docstring)."""
    return {"model architecture": _model_fingerprint(model),
            "training data": _data_fingerprint(train_data),
            "validation data": _data_fingerprint(val_data),
            "loss function": _loss_fingerprint(loss_fn),
            **_hyperparameters(cfg, world_size)}


def _check_resumable(path: Path, state: dict[str, Any], now: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless ``state`` (a loaded ``last.pt``) was written for ``now``."""
    how = "use resume=False to start afresh (overwriting it) or another checkpoint_dir"
    if not isinstance(state, dict):
        raise ValueError(f"cannot resume {path}: it holds a {type(state).__name__}, not a "
                         f"checkpoint written by fit(); {how}")
    old = state.get("fingerprint")
    if state.get("format") != _CHECKPOINT_FORMAT or not isinstance(old, dict):
        raise ValueError(f"cannot resume {path}: it has checkpoint format "
                         f"{state.get('format')!r} without a run fingerprint (this version "
                         f"writes format {_CHECKPOINT_FORMAT}), so it cannot be checked to "
                         f"belong to this model and data; {how}")
    for key, value in now.items():
        if key not in old:
            raise ValueError(f"cannot resume {path}: its fingerprint lacks {key!r}; {how}")
        if old[key] == value:
            continue
        if key in ("model architecture", "training data", "validation data", "loss function"):
            raise ValueError(f"cannot resume {path}: it was written for another {key} "
                             f"(fingerprint {str(old[key])[:12]}…, this run's "
                             f"{str(value)[:12]}…); {how}")
        raise ValueError(f"cannot resume {path}: it was written with {key}={old[key]}, this "
                         f"run has {key}={value} ({how})")


def _save(obj: dict[str, Any], path: Path) -> None:
    """``torch.save`` to a temporary file, then rename it to ``path`` (atomic)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _restore_run(ckpt_dir: Path, resume: bool, fingerprint: dict[str, Any], model: nn.Module,
                 optimizer: torch.optim.Optimizer, device: torch.device) -> _RunState:
    """Create ``ckpt_dir`` and, when resuming from its ``last.pt``, load the run's state.

    Parameters
    ----------
    ckpt_dir : Path
        The checkpoint directory (created if missing).
    resume : bool
        Continue from ``ckpt_dir/last.pt`` if it exists.
    fingerprint : dict
        This run's :func:`run_fingerprint`, which ``last.pt`` must match.
    model, optimizer
        Given the checkpoint's weights and optimiser state when resuming.
    device : torch.device
        Where ``last.pt``'s tensors are loaded (``best.pt`` stays on the CPU).

    Returns
    -------
    _RunState
        The stored state, or a fresh one when there is nothing to resume.

    Raises
    ------
    ValueError
        ``last.pt`` was written for another run (:func:`_check_resumable`).
    """
    run = _RunState()
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    last = ckpt_dir / "last.pt"
    if resume and last.exists():
        state = torch.load(last, map_location=device, weights_only=True)
        _check_resumable(last, state, fingerprint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        run.history = [EpochRecord(**r) for r in state["history"]]
        run.best_loss, run.best_epoch = state["best_loss"], state["best_epoch"]
        run.bad_epochs, run.stopped = state["bad_epochs"], state["stopped"]
        run.epochs_done = state["epoch"]
        if (ckpt_dir / "best.pt").exists():
            run.best_state = torch.load(ckpt_dir / "best.pt", map_location="cpu",
                                        weights_only=True)
    return run


def _write_checkpoints(ckpt_dir: Path, run: _RunState, *, improved: bool, model: nn.Module,
                       optimizer: torch.optim.Optimizer, cfg: FitConfig, world_size: int,
                       fingerprint: dict[str, Any]) -> None:
    """Write ``best.pt`` (on improvement) and ``last.pt`` after the epoch ``run`` just ended.

    Parameters
    ----------
    ckpt_dir : Path
        The checkpoint directory.
    run : _RunState
        The state after the epoch (``epochs_done`` counts it).
    improved : bool
        The epoch improved the monitored loss: ``run.best_state`` is its weights.
    model, optimizer
        Their state goes into ``last.pt``.
    cfg : FitConfig
        Seed and batch size are stored alongside the fingerprint.
    world_size : int
        Processes of the run.
    fingerprint : dict
        This run's :func:`run_fingerprint`.
    """
    if improved:
        _save(run.best_state, ckpt_dir / "best.pt")  # type: ignore[arg-type]
    _save({"format": _CHECKPOINT_FORMAT, "epoch": run.epochs_done,
           "model": model.state_dict(), "optimizer": optimizer.state_dict(),
           "history": [asdict(r) for r in run.history], "best_loss": run.best_loss,
           "best_epoch": run.best_epoch, "bad_epochs": run.bad_epochs, "stopped": run.stopped,
           "seed": cfg.seed, "batch_size": cfg.batch_size, "world_size": world_size,
           "fingerprint": fingerprint}, ckpt_dir / "last.pt")
