r"""Train and score deep surrogates on many sequences (one continuous simulation each).

The protocol of Beniaguev, Segev & London (2021) and Spieler et al. (2024) on data kept as
separate sequences: training windows are cut only *inside* a sequence (a window never spans
two simulations), the voltage target is clipped at
:data:`~neurocomp.mapping.surrogate.VOLTAGE_CEILING_MV` (−55 mV, Beniaguev et al.), the
first ``warmup_bins`` of every window and of every scored sequence are left out (the model
has not yet seen a full input history there: 150 ms burn-in in Spieler et al., App. B), and
early stopping watches the loss over the *whole* validation set, every sequence run
causally from its start.

The loss per window, with :math:`p` the training spike rate and :math:`\sigma_V^2` the
variance of the clipped training voltage,

.. math::
    L = w_s\,\mathrm{BCE}_{pos\_weight}(\text{logit}, \text{spike})
        + w_V\,\frac{\mathrm{MSE}(V, \min(V^*, -55\,\text{mV}))}{\sigma_V^2},
    \qquad pos\_weight = (1 - p)/p \text{ by default,}

so a spike (≈1 bin in 1,000 at 1 Hz) weighs as much as all the silent bins together, and the
voltage term is a fraction of unexplained variance.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from neurocomp.layers import TCNOutput
from neurocomp.mapping.surrogate import NeuronIO
from neurocomp.mapping.surrogate_data import SequenceWindows, _check_sequences, _clipped
from neurocomp.mapping.surrogate_fit_config import EpochLog, SurrogateTrainConfig, TrainReport
from neurocomp.mapping.surrogate_predict import _device_dtype, predict

__all__ = ["surrogate_loss", "train_surrogate"]


def surrogate_loss(output: TCNOutput, spikes: torch.Tensor, voltage: torch.Tensor, *,
                   warmup_bins: int, spike_pos_weight: float, voltage_variance_mV2: float,
                   spike_loss_weight: float = 1.0, voltage_loss_weight: float = 1.0
                   ) -> torch.Tensor:
    """The module-docstring loss over bins ``t ≥ warmup_bins`` of (batch, time) targets."""
    logit = output.spike_logits[..., warmup_bins:]
    pos = torch.as_tensor(spike_pos_weight, dtype=logit.dtype, device=logit.device)
    bce = F.binary_cross_entropy_with_logits(logit, spikes[..., warmup_bins:].to(logit.dtype),
                                             pos_weight=pos)
    v = output.soma_voltage[..., warmup_bins:]
    mse = F.mse_loss(v, voltage[..., warmup_bins:].to(v.dtype))
    return spike_loss_weight * bce + voltage_loss_weight * mse / voltage_variance_mV2


def _scheduler(opt: torch.optim.Optimizer, cfg: SurrogateTrainConfig, total_steps: int):
    if cfg.schedule == "one_cycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.learning_rate,
                                                   total_steps=total_steps)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps)
                                                    / total_steps)))
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)


def train_surrogate(model: nn.Module, train: Sequence[NeuronIO], val: Sequence[NeuronIO],
                    config: SurrogateTrainConfig | None = None) -> TrainReport:
    """Train ``model`` in place on windows of ``train``; stop early on the whole ``val`` set.

    Parameters
    ----------
    model : torch.nn.Module
        Input (batch, channels, time) → :class:`TCNOutput` with voltage in mV (a TCN, an
        ELM, a baseline); trained on the device and in the dtype of its parameters.
    train, val : sequence of NeuronIO
        Training sequences (cut into windows) and validation sequences (scored whole).
    config : SurrogateTrainConfig

    Returns
    -------
    TrainReport
        The model ends with the weights of the epoch with the lowest validation loss.
    """
    cfg = SurrogateTrainConfig() if config is None else config
    if not isinstance(cfg, SurrogateTrainConfig):
        raise TypeError(f"config must be a SurrogateTrainConfig; got {type(cfg).__name__}")
    t_start = time.perf_counter()
    train, val = _checked_train_val(train, val, cfg)
    windows = SequenceWindows(train, window=cfg.window_bins, stride=cfg.stride_bins)
    objective = _Objective.for_training(train, cfg)
    run = _Optimisation.build(model, windows, cfg)
    history, best, best_epoch, stopped = _run_epochs(model, run, objective, val, cfg)
    return TrainReport(history=tuple(history), best_epoch=best_epoch, best_val_loss=best,
                       epochs_run=len(history), stopped_early=stopped,
                       wall_s=time.perf_counter() - t_start,
                       spike_pos_weight=objective.pos_weight,
                       voltage_variance_mV2=objective.var, n_train_windows=len(windows))


def _checked_train_val(train: Sequence[NeuronIO], val: Sequence[NeuronIO],
                       cfg: SurrogateTrainConfig) -> tuple[list[NeuronIO], list[NeuronIO]]:
    """Check the training and validation sequences against each other and the warm-up.

    Parameters
    ----------
    train, val : sequence of NeuronIO
        As :func:`train_surrogate` takes them.
    cfg : SurrogateTrainConfig
        Its ``warmup_bins``: every validation sequence must be longer.

    Returns
    -------
    train, val : list of NeuronIO

    Raises
    ------
    ValueError
        An empty or inconsistent set, different channel counts, or a validation sequence
        with no bin after the warm-up.
    """
    train = _check_sequences("train", train)
    val = _check_sequences("val", val)
    if val[0].inputs.shape[0] != train[0].inputs.shape[0]:
        raise ValueError(f"val has {val[0].inputs.shape[0]} input channels, train has "
                         f"{train[0].inputs.shape[0]}")
    for i, s in enumerate(val):
        if s.inputs.shape[1] <= cfg.warmup_bins:
            raise ValueError(f"val[{i}] has {s.inputs.shape[1]} bins, not more than "
                             f"warmup_bins={cfg.warmup_bins}")
    return train, val


@dataclass(frozen=True)
class _Objective:
    """The loss of one run: :func:`surrogate_loss` with the config's warm-up and weights and
    the scales taken from the training data.

    Attributes
    ----------
    cfg : SurrogateTrainConfig
        Warm-up bins and the weights of the two terms.
    pos_weight : float
        Weight of spike bins in the BCE.
    var : float
        Variance of the clipped training voltage, mV².
    """

    cfg: SurrogateTrainConfig
    pos_weight: float
    var: float

    @classmethod
    def for_training(cls, train: list[NeuronIO], cfg: SurrogateTrainConfig) -> _Objective:
        """Spike weight (the config's, else :math:`(1-p)/p`) and voltage variance of ``train``.

        Raises
        ------
        ValueError
            The clipped training voltage is constant.
        """
        rate = float(np.mean(np.concatenate([np.asarray(s.spikes, np.float64) for s in train])))
        if cfg.spike_pos_weight is not None:
            pos_weight = cfg.spike_pos_weight
        else:
            pos_weight = (1.0 - rate) / rate if 0.0 < rate < 1.0 else 1.0
        var = float(np.var(np.concatenate([_clipped(s) for s in train])))
        if var == 0.0:
            raise ValueError("the clipped training voltage is constant (variance 0): the "
                             "voltage loss cannot be normalised")
        return cls(cfg=cfg, pos_weight=pos_weight, var=var)

    def __call__(self, output: TCNOutput, spikes: torch.Tensor, voltage: torch.Tensor
                 ) -> torch.Tensor:
        """:func:`surrogate_loss` of (batch, time) targets with this run's settings."""
        return surrogate_loss(output, spikes, voltage, warmup_bins=self.cfg.warmup_bins,
                              spike_pos_weight=self.pos_weight, voltage_variance_mV2=self.var,
                              spike_loss_weight=self.cfg.spike_loss_weight,
                              voltage_loss_weight=self.cfg.voltage_loss_weight)


@dataclass(frozen=True)
class _Optimisation:
    """What the training steps use: window batches, optimiser and schedule, device and dtype.

    Attributes
    ----------
    loader : torch.utils.data.DataLoader
        Shuffled batches of training windows (its own generator, seeded by the config).
    steps : int
        Steps per epoch (all batches, or ``max_steps_per_epoch``).
    params : list of torch.nn.Parameter
        The trainable parameters (clipped together).
    opt : torch.optim.AdamW
    sched : torch.optim.lr_scheduler.LRScheduler
        Stepped after every batch.
    device : torch.device
    dtype : torch.dtype
        Where and in what the model computes; every batch is converted to them.
    """

    loader: DataLoader
    steps: int
    params: list[nn.Parameter]
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    device: torch.device
    dtype: torch.dtype

    @classmethod
    def build(cls, model: nn.Module, windows: SequenceWindows, cfg: SurrogateTrainConfig
              ) -> _Optimisation:
        """Seed torch's global generator with ``cfg.seed``, then build loader and optimiser."""
        device, dtype = _device_dtype(model)
        torch.manual_seed(cfg.seed)
        loader = DataLoader(windows, batch_size=cfg.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(cfg.seed))
        steps = len(loader) if cfg.max_steps_per_epoch is None else min(
            len(loader), cfg.max_steps_per_epoch)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        sched = _scheduler(opt, cfg, cfg.epochs * steps)
        return cls(loader=loader, steps=steps, params=params, opt=opt, sched=sched,
                   device=device, dtype=dtype)


def _run_epochs(model: nn.Module, run: _Optimisation, objective: _Objective,
                val: list[NeuronIO], cfg: SurrogateTrainConfig
                ) -> tuple[list[EpochLog], float, int, bool]:
    """Train epoch by epoch, validate after each, stop early; end with the best weights.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place; given the best epoch's weights at the end.
    run : _Optimisation
        Batches, optimiser and schedule.
    objective : _Objective
        The loss for training and validation.
    val : list of NeuronIO
        Validation sequences, scored whole after every epoch.
    cfg : SurrogateTrainConfig
        Epochs, patience and ``min_delta``.

    Returns
    -------
    history : list of EpochLog
    best_val_loss : float
    best_epoch : int
    stopped_early : bool
    """
    history: list[EpochLog] = []
    best, best_epoch, bad = math.inf, 0, 0
    best_state = copy.deepcopy(model.state_dict())
    stopped = False
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        train_loss = _train_epoch(model, run, objective, cfg, epoch)
        val_loss = _val_loss(model, val, objective)
        improved = val_loss < best - cfg.min_delta
        if improved:
            best, best_epoch, bad = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
        history.append(EpochLog(epoch=epoch, train_loss=train_loss, val_loss=val_loss,
                                 learning_rate=float(run.opt.param_groups[0]["lr"]),
                                 seconds=time.perf_counter() - t0, improved=improved))
        if cfg.patience is not None and bad >= cfg.patience:
            stopped = True
            break
    model.load_state_dict(best_state)
    return history, best, best_epoch, stopped


def _train_epoch(model: nn.Module, run: _Optimisation, objective: _Objective,
                 cfg: SurrogateTrainConfig, epoch: int) -> float:
    """One epoch of training steps; the window-weighted mean training loss.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place (in train mode).
    run : _Optimisation
        Batches, optimiser, schedule, device and dtype.
    objective : _Objective
        The loss of a batch.
    cfg : SurrogateTrainConfig
        Gradient clipping, epochs and the progress bar.
    epoch : int
        Counts from 0 (for the progress bar).
    """
    model.train()
    total, count = 0.0, 0
    bar = tqdm(run.loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False,
               disable=not cfg.progress, total=run.steps)
    for step, (xb, (sb, vb)) in enumerate(bar):
        if step >= run.steps:
            break
        xb, sb, vb = (t.to(device=run.device, dtype=run.dtype) for t in (xb, sb, vb))
        run.opt.zero_grad(set_to_none=True)
        loss = objective(model(xb), sb, vb)
        loss.backward()
        if cfg.grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(run.params, cfg.grad_clip_norm)
        run.opt.step()
        run.sched.step()
        total += float(loss.detach()) * xb.shape[0]
        count += xb.shape[0]
    bar.close()
    return total / count


def _val_loss(model: nn.Module, val: list[NeuronIO], objective: _Objective) -> float:
    """Loss pooled over every bin after ``warmup_bins`` of every validation sequence."""
    total, bins = 0.0, 0
    for seq in val:
        logit, volt = predict(model, seq)
        out = TCNOutput(spike_logits=torch.from_numpy(logit)[None],
                        soma_voltage=torch.from_numpy(volt)[None], dendritic=None)
        n = logit.size - objective.cfg.warmup_bins
        loss = objective(out, torch.as_tensor(np.asarray(seq.spikes, np.float64))[None],
                         torch.from_numpy(_clipped(seq))[None])
        total += float(loss) * n
        bins += n
    return total / bins
