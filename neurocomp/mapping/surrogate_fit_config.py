"""Options and results of :func:`~neurocomp.mapping.surrogate_fit.train_surrogate`.

:class:`SurrogateTrainConfig` checks every option when built; :class:`EpochLog` and
:class:`TrainReport` are what a training run reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from neurocomp.checks import check_choice, check_int, check_real

__all__ = ["SCHEDULES", "EpochLog", "SurrogateTrainConfig", "TrainReport"]

SCHEDULES: tuple[str, ...] = ("cosine", "one_cycle", "constant")


@dataclass(frozen=True, kw_only=True)
class SurrogateTrainConfig:
    """Options of :func:`~neurocomp.mapping.surrogate_fit.train_surrogate`.

    Parameters
    ----------
    epochs : int
        Passes over the training windows.
    batch_size : int
        Windows per step (8 in both Beniaguev et al. 2021 and Spieler et al. 2024).
    learning_rate : float
        Peak learning rate (Spieler et al.: Adam 5e-4 with cosine decay).
    weight_decay : float
        Decoupled weight decay (AdamW; 0 is plain Adam).
    schedule : {"cosine", "one_cycle", "constant"}
        Learning-rate schedule over all steps, stepped after every batch.
    window_bins : int
        Training window, bins (500 ms in Spieler et al.; 400 ms in Beniaguev et al.).
    stride_bins : int or None
        Bins between window starts (default: ``window_bins``).
    warmup_bins : int
        Bins at the start of every window (and of every validation sequence) left out of the
        loss: the receptive field or burn-in (150 ms in Spieler et al.).
    spike_pos_weight : float or None
        Weight of spike bins in the BCE; ``None``: :math:`(1-p)/p` from the training spike
        rate :math:`p` (1 if the training data hold no spike).
    spike_loss_weight, voltage_loss_weight : float
        Weights of the two terms (Spieler et al.: equal).
    grad_clip_norm : float or None
        Clip the global gradient norm.
    patience : int or None
        Stop after this many epochs without a validation improvement larger than
        ``min_delta``; ``None`` runs all epochs. The best weights are restored either way.
    min_delta : float
    max_steps_per_epoch : int or None
        Cut epochs short.
    seed : int
        Seeds the initial global generator and the window order.
    progress : bool
        A tqdm bar per epoch.
    """

    epochs: int = 20
    batch_size: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"
    window_bins: int = 500
    stride_bins: int | None = None
    warmup_bins: int = 150
    spike_pos_weight: float | None = None
    spike_loss_weight: float = 1.0
    voltage_loss_weight: float = 1.0
    grad_clip_norm: float | None = None
    patience: int | None = 5
    min_delta: float = 0.0
    max_steps_per_epoch: int | None = None
    seed: int = 0
    progress: bool = False

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_real("learning_rate", self.learning_rate, low=0.0, low_inclusive=False)
        check_real("weight_decay", self.weight_decay, low=0.0)
        check_choice("schedule", self.schedule, SCHEDULES)
        w = check_int("window_bins", self.window_bins, low=1)
        if self.stride_bins is not None:
            check_int("stride_bins", self.stride_bins, low=1)
        check_int("warmup_bins", self.warmup_bins, low=0, high=w - 1)
        if self.spike_pos_weight is not None:
            check_real("spike_pos_weight", self.spike_pos_weight, low=0.0, low_inclusive=False)
        check_real("spike_loss_weight", self.spike_loss_weight, low=0.0)
        check_real("voltage_loss_weight", self.voltage_loss_weight, low=0.0)
        if self.spike_loss_weight == 0 and self.voltage_loss_weight == 0:
            raise ValueError("spike_loss_weight and voltage_loss_weight are both 0: nothing "
                             "to train")
        if self.grad_clip_norm is not None:
            check_real("grad_clip_norm", self.grad_clip_norm, low=0.0, low_inclusive=False)
        if self.patience is not None:
            check_int("patience", self.patience, low=1)
        check_real("min_delta", self.min_delta, low=0.0)
        if self.max_steps_per_epoch is not None:
            check_int("max_steps_per_epoch", self.max_steps_per_epoch, low=1)
        check_int("seed", self.seed, low=0)


@dataclass(frozen=True, kw_only=True)
class EpochLog:
    """One epoch: mean training loss, validation loss, learning rate at its end, wall time."""

    epoch: int
    train_loss: float
    val_loss: float
    learning_rate: float
    seconds: float
    improved: bool


@dataclass(frozen=True, kw_only=True)
class TrainReport:
    """What :func:`~neurocomp.mapping.surrogate_fit.train_surrogate` did; the model holds the
    weights of ``best_epoch``.

    Epochs count from 0; ``best_val_loss`` is the loss pooled over every validation bin after
    the warm-up; ``wall_s`` includes the checks and all validation passes."""

    history: tuple[EpochLog, ...]
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    stopped_early: bool
    wall_s: float
    spike_pos_weight: float
    voltage_variance_mV2: float
    n_train_windows: int
