"""A fit loop with seeds, progress, early stopping and checkpoints; CPU, CUDA or DDP.

The same call trains in one CPU process, on a GPU, or in every process of
``torchrun --nproc_per_node N script.py`` (DistributedDataParallel over NCCL with CUDA, gloo
without). Randomness is explicit: the data order of epoch :math:`e` comes from
``(seed, e)`` and torch's global generator (dropout, Poisson firing) is reseeded at the start
of every epoch from ``(seed, e, rank)``, so a run resumed from a checkpoint continues with
exactly the numbers of an uninterrupted one.

Safety (each check runs before any step):

* **Resume only what was started.** ``last.pt`` stores a fingerprint of the run — the
  model's class, structure and parameter shapes, the data (length, shapes and dtypes, and a
  hash of the first, middle and last example), the loss function, and the hyper-parameters
  that shape the trajectory (seed, batch size, world size, optimiser and its settings,
  gradient clipping, steps per epoch). ``resume=True`` continues only when all match and
  otherwise raises :class:`ValueError` naming what differs: the checkpoint directory is the
  caller's explicit choice, so another run's checkpoint there is a mistake to report, not
  one to overwrite. ``epochs`` may grow (continue a finished run). Checkpoints without a
  fingerprint (format 1) are refused the same way.
* **Finite data.** NaN or ±inf in a floating tensor of ``train_data`` or ``val_data``
  raises :class:`ValueError` naming the data set, the example and the tensor
  (``FitConfig.check_data=False`` skips the pass over the data).
* **Finite loss.** An epoch whose mean training or validation loss is NaN or infinite
  stops the run with :class:`FloatingPointError` (the model is given back the best epoch's
  weights when ``restore_best``; the checkpoints stay those of the last finite epoch).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset, TensorDataset
from tqdm.auto import tqdm

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.layers.ddp import DistContext, setup_distributed, teardown_distributed

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OPTIMIZERS", "EpochRecord", "FitConfig", "FitResult", "check_finite_data",
           "epoch_seed", "fit", "run_fingerprint"]

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "nadam", "sgd")
_CHECKPOINT_FORMAT = 2
#: Examples a data fingerprint hashes: the first, the middle and the last.
_SAMPLED_EXAMPLES = 3


@dataclass(frozen=True, kw_only=True)
class FitConfig:
    """Options of :func:`fit`.

    Parameters
    ----------
    epochs : int
        Passes over the training data (the total, also when resuming).
    batch_size : int
        Examples per step *per process*.
    learning_rate : float
        Step size of the optimiser.
    optimizer : {"adam", "adamw", "nadam", "sgd"}
        Nadam is what Beniaguev et al. (2021) used for their TCNs.
    momentum : float
        SGD momentum.
    weight_decay : float
        L2 penalty (decoupled for AdamW).
    seed : int
        Seeds the data order and the global generator (see the module docstring).
    patience : int or None
        Stop after this many epochs without improvement of the monitored loss (validation
        loss when validation data are given, else training loss); ``None`` never stops early.
    min_delta : float
        Improvement smaller than this does not count.
    restore_best : bool
        End with the weights of the best epoch (early stopping's usual choice).
    checkpoint_dir : str, Path or None
        Write ``last.pt`` (model, optimiser, history) after every epoch and ``best.pt`` (model)
        on improvement; rank 0 writes, atomically.
    resume : bool
        Continue from ``checkpoint_dir/last.pt`` if it exists; it must have been written
        for the same model, data, loss and hyper-parameters (see the module docstring),
        else :func:`fit` raises ``ValueError`` — pass ``resume=False`` to start afresh
        (the checkpoints are then overwritten) or choose another ``checkpoint_dir``.
    progress : bool
        Show a tqdm bar per epoch (rank 0 only).
    grad_clip_norm : float or None
        Clip the global gradient norm to this value.
    max_steps_per_epoch : int or None
        Cut epochs short (smoke tests, very large data sets).
    num_workers : int
        DataLoader worker processes.
    check_data : bool
        Check every floating tensor of the data for NaN/inf before training (one pass).
    """

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    seed: int = 0
    patience: int | None = None
    min_delta: float = 0.0
    restore_best: bool = True
    checkpoint_dir: str | Path | None = None
    resume: bool = True
    progress: bool = True
    grad_clip_norm: float | None = None
    max_steps_per_epoch: int | None = None
    num_workers: int = 0
    check_data: bool = True

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_real("learning_rate", self.learning_rate, low=0.0, low_inclusive=False)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_real("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_real("weight_decay", self.weight_decay, low=0.0)
        check_int("seed", self.seed, low=0)
        if self.patience is not None:
            check_int("patience", self.patience, low=1)
        check_real("min_delta", self.min_delta, low=0.0)
        if self.grad_clip_norm is not None:
            check_real("grad_clip_norm", self.grad_clip_norm, low=0.0, low_inclusive=False)
        if self.max_steps_per_epoch is not None:
            check_int("max_steps_per_epoch", self.max_steps_per_epoch, low=1)
        check_int("num_workers", self.num_workers, low=0)
        for name in ("restore_best", "resume", "progress", "check_data"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool; got {getattr(self, name)!r}")


@dataclass(frozen=True, kw_only=True)
class EpochRecord:
    """One epoch: mean losses over all processes, wall time, whether it improved."""

    epoch: int
    train_loss: float
    val_loss: float | None
    seconds: float
    improved: bool


@dataclass(frozen=True, kw_only=True)
class FitResult:
    """What :func:`fit` did."""

    history: tuple[EpochRecord, ...]
    best_epoch: int | None
    best_loss: float
    monitored: str
    stopped_early: bool
    resumed_from_epoch: int
    world_size: int
    device: str

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.history])


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """Seed of torch's global generator in ``epoch`` on ``rank`` (SeedSequence-mixed)."""
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0])


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, tuple | list):
        return type(batch)(_to_device(b, device) for b in batch)
    return batch


def _batch_len(batch: Any) -> int:
    while isinstance(batch, tuple | list):
        batch = batch[0]
    return int(batch.shape[0]) if isinstance(batch, torch.Tensor) and batch.ndim else 1


def _make_optimizer(model: nn.Module, cfg: FitConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.learning_rate, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "nadam": torch.optim.NAdam}[cfg.optimizer]
    return cls(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)


def _all_reduce_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    if ctx.is_distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def _sync_buffers(model: nn.Module, ctx: DistContext) -> None:
    """Give every rank rank 0's buffers (BatchNorm statistics drift apart after a step)."""
    if ctx.is_distributed:
        for buf in model.buffers():
            dist.broadcast(buf, src=0)


@torch.no_grad()
def _evaluate(model: nn.Module, loss_fn: Callable[[Any, Any], torch.Tensor], data: Dataset,
              cfg: FitConfig, ctx: DistContext) -> float:
    """Mean loss over ``data``; each rank takes every world_size-th example, no duplicates."""
    was_training = model.training
    model.eval()
    shard = Subset(data, range(ctx.rank, len(data), ctx.world_size))  # type: ignore[arg-type]
    sums = torch.zeros(2, dtype=torch.float64, device=ctx.device)
    for xb, yb in DataLoader(shard, batch_size=cfg.batch_size, num_workers=cfg.num_workers):
        xb, yb = _to_device(xb, ctx.device), _to_device(yb, ctx.device)
        n = _batch_len(xb)
        sums += torch.stack([loss_fn(model(xb), yb).detach().double() * n,
                             torch.tensor(float(n), dtype=torch.float64, device=ctx.device)])
    model.train(was_training)
    sums = _all_reduce_sum(sums, ctx)
    return float(sums[0] / sums[1])


def _save(obj: dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


# -- data checks and fingerprints ---------------------------------------------------------------

def _leaves(item: Any, path: str) -> list[tuple[str, Any]]:
    """``(name, leaf)`` of a nested example: ``x``, ``y``, ``y[0]`` …"""
    if isinstance(item, tuple | list):
        return [leaf for k, v in enumerate(item) for leaf in _leaves(v, f"{path}[{k}]")]
    return [(path, item)]


def _example_leaves(example: Any) -> list[tuple[str, Any]]:
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


def fit(model: nn.Module, loss_fn: Callable[[Any, Any], torch.Tensor], train_data: Dataset, *,
        config: FitConfig | None = None, val_data: Dataset | None = None,
        device: torch.device | str | None = None) -> FitResult:
    """Train ``model`` in place on ``train_data`` and return the history.

    Parameters
    ----------
    model : torch.nn.Module
        Built (and seeded) by the caller; moved to the chosen device.
    loss_fn : callable
        ``loss_fn(model(x), y)`` → scalar tensor, the *mean* over the batch.
    train_data, val_data : torch.utils.data.Dataset
        Map-style data sets of ``(x, y)`` pairs (tensors or tuples of tensors).
    config : FitConfig
        Options; defaults to ``FitConfig()``.
    device : torch.device, str or None
        Explicit device; by default the model's accelerator, else CUDA when present, else the
        CPU (under ``torchrun``: ``cuda:LOCAL_RANK``).

    Returns
    -------
    FitResult
        Per-epoch losses (averaged over all processes), best epoch and how the run ended.

    Raises
    ------
    ValueError
        NaN/inf in the data; resuming a checkpoint written for another model, data, loss or
        hyper-parameters (seed, batch size, world size, optimiser …).
    FloatingPointError
        The mean training or validation loss of an epoch is NaN or infinite.
    """
    cfg = FitConfig() if config is None else config
    if not isinstance(cfg, FitConfig):
        raise TypeError(f"config must be a FitConfig; got {type(cfg).__name__}")
    if len(train_data) == 0:  # type: ignore[arg-type]
        raise ValueError("train_data must hold at least one example; got an empty data set")
    if val_data is not None and len(val_data) == 0:  # type: ignore[arg-type]
        raise ValueError("val_data must hold at least one example (or be None); got an empty "
                         "data set")
    if cfg.check_data:
        check_finite_data("train_data", train_data)
        if val_data is not None:
            check_finite_data("val_data", val_data)
    ctx = setup_distributed(model, device=device)
    try:
        return _fit(model, loss_fn, train_data, val_data, cfg, ctx)
    finally:
        teardown_distributed(ctx)


def _fit(model: nn.Module, loss_fn: Callable[[Any, Any], torch.Tensor], train_data: Dataset,
         val_data: Dataset | None, cfg: FitConfig, ctx: DistContext) -> FitResult:
    model.to(ctx.device)
    if ctx.is_distributed:
        _sync_buffers(model, ctx)
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        net: nn.Module = DistributedDataParallel(model, device_ids=ids)
    else:
        net = model
    optimizer = _make_optimizer(model, cfg)
    sampler = DistributedSampler(train_data, num_replicas=ctx.world_size, rank=ctx.rank,
                                 shuffle=True, seed=cfg.seed)
    loader = DataLoader(train_data, batch_size=cfg.batch_size, sampler=sampler,
                        num_workers=cfg.num_workers, pin_memory=ctx.device.type == "cuda")
    monitored = "val_loss" if val_data is not None else "train_loss"
    history: list[EpochRecord] = []
    best_loss, best_epoch, bad_epochs, start, stopped = math.inf, None, 0, 0, False
    best_state: dict[str, torch.Tensor] | None = None
    ckpt_dir = None if cfg.checkpoint_dir is None else Path(cfg.checkpoint_dir)
    fingerprint = (None if ckpt_dir is None else
                   run_fingerprint(model, loss_fn, train_data, val_data, cfg, ctx.world_size))
    if ckpt_dir is not None:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        last = ckpt_dir / "last.pt"
        if cfg.resume and last.exists():
            state = torch.load(last, map_location=ctx.device, weights_only=True)
            _check_resumable(last, state, fingerprint)  # type: ignore[arg-type]
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            history = [EpochRecord(**r) for r in state["history"]]
            best_loss, best_epoch = state["best_loss"], state["best_epoch"]
            bad_epochs, stopped, start = state["bad_epochs"], state["stopped"], state["epoch"]
            if (ckpt_dir / "best.pt").exists():
                best_state = torch.load(ckpt_dir / "best.pt", map_location="cpu",
                                        weights_only=True)
    resumed_from = start
    for epoch in range(start, cfg.epochs):
        if stopped:
            break
        t0 = time.perf_counter()
        torch.manual_seed(epoch_seed(cfg.seed, epoch, ctx.rank))
        sampler.set_epoch(epoch)
        net.train()
        sums = torch.zeros(2, dtype=torch.float64, device=ctx.device)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch", leave=False,
                   disable=not (cfg.progress and ctx.is_main))
        for step, (xb, yb) in enumerate(bar):
            if cfg.max_steps_per_epoch is not None and step >= cfg.max_steps_per_epoch:
                break
            xb, yb = _to_device(xb, ctx.device), _to_device(yb, ctx.device)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), yb)
            loss.backward()
            if cfg.grad_clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip_norm)
            optimizer.step()
            n = _batch_len(xb)
            sums += torch.stack([loss.detach().double() * n,
                                 torch.tensor(float(n), dtype=torch.float64, device=ctx.device)])
            if not bar.disable and step % 10 == 0:  # .item() syncs a GPU: only when shown
                bar.set_postfix(loss=f"{loss.item():.4g}")
        bar.close()
        _sync_buffers(model, ctx)
        sums = _all_reduce_sum(sums, ctx)
        train_loss = float(sums[0] / sums[1])
        val_loss = None if val_data is None else _evaluate(model, loss_fn, val_data, cfg, ctx)
        for what, value in (("training", train_loss), ("validation", val_loss)):
            if value is not None and not math.isfinite(value):
                if cfg.restore_best and best_state is not None:
                    model.load_state_dict(best_state)
                kept = ("the weights of the best epoch" if cfg.restore_best and best_state
                        is not None else "the diverged weights")
                raise FloatingPointError(
                    f"the mean {what} loss of epoch {epoch} is {value} (the run diverged or "
                    f"the loss is undefined for these data): lower learning_rate, set "
                    f"grad_clip_norm or check loss_fn; the model holds {kept}, and no "
                    f"checkpoint was written for this epoch")
        current = train_loss if val_loss is None else val_loss
        improved = current < best_loss - cfg.min_delta
        if improved:
            best_loss, best_epoch, bad_epochs = current, epoch, 0
            best_state = _cpu_state(model)
        else:
            bad_epochs += 1
        stopped = cfg.patience is not None and bad_epochs >= cfg.patience
        history.append(EpochRecord(epoch=epoch, train_loss=train_loss, val_loss=val_loss,
                                   seconds=time.perf_counter() - t0, improved=improved))
        if ckpt_dir is not None and ctx.is_main:
            if improved:
                _save(best_state, ckpt_dir / "best.pt")  # type: ignore[arg-type]
            _save({"format": _CHECKPOINT_FORMAT, "epoch": epoch + 1, "model": model.state_dict(),
                   "optimizer": optimizer.state_dict(), "history": [asdict(r) for r in history],
                   "best_loss": best_loss, "best_epoch": best_epoch, "bad_epochs": bad_epochs,
                   "stopped": stopped, "seed": cfg.seed, "batch_size": cfg.batch_size,
                   "world_size": ctx.world_size, "fingerprint": fingerprint},
                  ckpt_dir / "last.pt")
        if ctx.is_distributed:
            dist.barrier()
    if cfg.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return FitResult(history=tuple(history), best_epoch=best_epoch, best_loss=best_loss,
                     monitored=monitored, stopped_early=stopped, resumed_from_epoch=resumed_from,
                     world_size=ctx.world_size, device=str(ctx.device))
