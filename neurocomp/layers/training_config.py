"""Options and results of :func:`~neurocomp.layers.training.fit`: its config and history.

:class:`FitConfig` checks every option when built; :class:`EpochRecord` and
:class:`FitResult` are what a run reports (and what ``last.pt`` stores to resume).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from neurocomp.checks import check_choice, check_int, check_real

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OPTIMIZERS", "EpochRecord", "FitConfig", "FitResult"]

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "nadam", "sgd")


@dataclass(frozen=True, kw_only=True)
class FitConfig:
    """Options of :func:`~neurocomp.layers.training.fit`.

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
        Seeds the data order and the global generator (see
        :mod:`neurocomp.layers.training`).
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
        for the same model, data, loss and hyper-parameters (see
        :mod:`neurocomp.layers.training`), else :func:`~neurocomp.layers.training.fit` raises
        ``ValueError`` — pass ``resume=False`` to start afresh (the checkpoints are then
        overwritten) or choose another ``checkpoint_dir``.
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
    """What :func:`~neurocomp.layers.training.fit` did."""

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
