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

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset
from tqdm.auto import tqdm

from neurocomp.layers.ddp import DistContext, setup_distributed, teardown_distributed
from neurocomp.layers.training_checkpoints import (
    _restore_run,
    _RunState,
    _write_checkpoints,
    run_fingerprint,
)
from neurocomp.layers.training_config import EpochRecord, FitConfig, FitResult
from neurocomp.layers.training_data import check_finite_data

__all__ = ["epoch_seed", "fit"]


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


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


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
    """The body of :func:`fit` once the inputs are checked and the process group is up.

    Parameters
    ----------
    model, loss_fn, train_data, val_data, cfg
        As :func:`fit` takes them (``cfg`` resolved).
    ctx : DistContext
        This process's rank, world size and device.

    Returns
    -------
    FitResult
        The whole history, resumed epochs included.
    """
    net = _on_device(model, ctx)
    optimizer = _make_optimizer(model, cfg)
    sampler = DistributedSampler(train_data, num_replicas=ctx.world_size, rank=ctx.rank,
                                 shuffle=True, seed=cfg.seed)
    loader = DataLoader(train_data, batch_size=cfg.batch_size, sampler=sampler,
                        num_workers=cfg.num_workers, pin_memory=ctx.device.type == "cuda")
    monitored = "val_loss" if val_data is not None else "train_loss"
    ckpt_dir = None if cfg.checkpoint_dir is None else Path(cfg.checkpoint_dir)
    fingerprint = (None if ckpt_dir is None else
                   run_fingerprint(model, loss_fn, train_data, val_data, cfg, ctx.world_size))
    run = _RunState() if ckpt_dir is None else _restore_run(
        ckpt_dir, cfg.resume, fingerprint, model, optimizer, ctx.device)  # type: ignore[arg-type]
    resumed_from = run.epochs_done
    for epoch in range(run.epochs_done, cfg.epochs):
        if run.stopped:
            break
        t0 = time.perf_counter()
        torch.manual_seed(epoch_seed(cfg.seed, epoch, ctx.rank))
        sampler.set_epoch(epoch)
        train_loss = _train_epoch(net, model, loss_fn, loader, optimizer, cfg, ctx, epoch)
        val_loss = None if val_data is None else _evaluate(model, loss_fn, val_data, cfg, ctx)
        _check_finite_losses(model, cfg, run, epoch, train_loss, val_loss)
        improved = _record_epoch(model, cfg, run, epoch, train_loss, val_loss, t0)
        if ckpt_dir is not None and ctx.is_main:
            _write_checkpoints(ckpt_dir, run, improved=improved, model=model,
                               optimizer=optimizer, cfg=cfg, world_size=ctx.world_size,
                               fingerprint=fingerprint)  # type: ignore[arg-type]
        if ctx.is_distributed:
            dist.barrier()
    if cfg.restore_best and run.best_state is not None:
        model.load_state_dict(run.best_state)
    return FitResult(history=tuple(run.history), best_epoch=run.best_epoch,
                     best_loss=run.best_loss, monitored=monitored, stopped_early=run.stopped,
                     resumed_from_epoch=resumed_from, world_size=ctx.world_size,
                     device=str(ctx.device))


def _on_device(model: nn.Module, ctx: DistContext) -> nn.Module:
    """Move ``model`` to this process's device; under DDP, sync its buffers and wrap it.

    Parameters
    ----------
    model : torch.nn.Module
        Moved in place.
    ctx : DistContext
        This process's place in the run.

    Returns
    -------
    torch.nn.Module
        What the training steps call: ``model`` itself, or its
        :class:`~torch.nn.parallel.DistributedDataParallel` wrapper.
    """
    model.to(ctx.device)
    if not ctx.is_distributed:
        return model
    _sync_buffers(model, ctx)
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def _train_epoch(net: nn.Module, model: nn.Module, loss_fn: Callable[[Any, Any], torch.Tensor],
                 loader: DataLoader, optimizer: torch.optim.Optimizer, cfg: FitConfig,
                 ctx: DistContext, epoch: int) -> float:
    """One pass of training steps over ``loader``; the mean loss over all processes.

    Parameters
    ----------
    net : torch.nn.Module
        What the steps call (``model`` or its DDP wrapper).
    model : torch.nn.Module
        The wrapped model: its gradients are clipped, its buffers synced after the pass.
    loss_fn : callable
        ``loss_fn(net(x), y)``, the mean over the batch.
    loader : torch.utils.data.DataLoader
        This rank's batches of the epoch (its sampler already set to ``epoch``).
    optimizer : torch.optim.Optimizer
        Stepped after every batch.
    cfg : FitConfig
        Progress bar, gradient clipping and the cap on steps per epoch.
    ctx : DistContext
        This process's place in the run.
    epoch : int
        Counts from 0 (for the progress bar).

    Returns
    -------
    float
        The example-weighted mean training loss of the epoch, over every process.
    """
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
    return float(sums[0] / sums[1])


def _check_finite_losses(model: nn.Module, cfg: FitConfig, run: _RunState, epoch: int,
                         train_loss: float, val_loss: float | None) -> None:
    """Raise ``FloatingPointError`` if an epoch's mean loss is NaN or infinite.

    Before raising, the model gets the best epoch's weights back when ``cfg.restore_best``
    and a best epoch exists; the message says which weights it holds.

    Parameters
    ----------
    model : torch.nn.Module
        The model being trained.
    cfg : FitConfig
        ``restore_best`` decides which weights the model keeps.
    run : _RunState
        The run before this epoch is recorded (its ``best_state``).
    epoch : int
        The epoch the losses belong to.
    train_loss : float
        Mean training loss of the epoch.
    val_loss : float or None
        Mean validation loss, ``None`` without validation data.
    """
    for what, value in (("training", train_loss), ("validation", val_loss)):
        if value is not None and not math.isfinite(value):
            if cfg.restore_best and run.best_state is not None:
                model.load_state_dict(run.best_state)
            kept = ("the weights of the best epoch" if cfg.restore_best and run.best_state
                    is not None else "the diverged weights")
            raise FloatingPointError(
                f"the mean {what} loss of epoch {epoch} is {value} (the run diverged or "
                f"the loss is undefined for these data): lower learning_rate, set "
                f"grad_clip_norm or check loss_fn; the model holds {kept}, and no "
                f"checkpoint was written for this epoch")


def _record_epoch(model: nn.Module, cfg: FitConfig, run: _RunState, epoch: int,
                  train_loss: float, val_loss: float | None, t0: float) -> bool:
    """Add a finished epoch to ``run``: best loss and weights, patience, early stop, history.

    Parameters
    ----------
    model : torch.nn.Module
        Its weights are copied to the CPU when the epoch improves.
    cfg : FitConfig
        ``min_delta`` and ``patience``.
    run : _RunState
        Updated in place.
    epoch : int
        The finished epoch.
    train_loss : float
        Its mean training loss.
    val_loss : float or None
        Its mean validation loss (monitored when given).
    t0 : float
        ``time.perf_counter()`` at the epoch's start.

    Returns
    -------
    bool
        Whether the monitored loss improved by more than ``min_delta``.
    """
    current = train_loss if val_loss is None else val_loss
    improved = current < run.best_loss - cfg.min_delta
    if improved:
        run.best_loss, run.best_epoch, run.bad_epochs = current, epoch, 0
        run.best_state = _cpu_state(model)
    else:
        run.bad_epochs += 1
    run.stopped = cfg.patience is not None and run.bad_epochs >= cfg.patience
    run.history.append(EpochRecord(epoch=epoch, train_loss=train_loss, val_loss=val_loss,
                                   seconds=time.perf_counter() - t0, improved=improved))
    run.epochs_done = epoch + 1
    return improved
