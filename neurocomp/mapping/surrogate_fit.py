r"""Train and score deep surrogates on many sequences (one continuous simulation each).

The protocol of Beniaguev, Segev & London (2021) and Spieler et al. (2024) on data kept as
separate sequences: training windows are cut only *inside* a sequence (a window never spans
two simulations), the voltage target is clipped at :data:`VOLTAGE_CEILING_MV` (−55 mV,
Beniaguev et al.), the first ``warmup_bins`` of every window and of every scored sequence are
left out (the model has not yet seen a full input history there: 150 ms burn-in in Spieler
et al., App. B), and early stopping watches the loss over the *whole* validation set, every
sequence run causally from its start.

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
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.layers import TCNOutput
from neurocomp.mapping.surrogate import VOLTAGE_CEILING_MV, NeuronIO, check_sequence

__all__ = [
    "SCHEDULES",
    "EpochLog",
    "ForwardCost",
    "SequenceWindows",
    "SurrogateScore",
    "SurrogateTrainConfig",
    "TrainReport",
    "flops_per_ms",
    "parameter_count",
    "predict",
    "score_surrogate",
    "surrogate_loss",
    "train_surrogate",
]

SCHEDULES: tuple[str, ...] = ("cosine", "one_cycle", "constant")


def _check_sequences(name: str, seqs: Sequence[NeuronIO]) -> list[NeuronIO]:
    """Non-empty list of NeuronIO with the same channels, finite inputs and 0/1 spikes."""
    seqs = list(seqs)
    if not seqs:
        raise ValueError(f"{name} must hold at least one sequence; got none")
    channels = None
    for i, s in enumerate(seqs):
        check_sequence(f"{name}[{i}]", s)
        if channels is None:
            channels = s.inputs.shape[0]
        elif s.inputs.shape[0] != channels:
            raise ValueError(f"{name}[{i}] has {s.inputs.shape[0]} input channels; "
                             f"{name}[0] has {channels}")
    return seqs


def _clipped(seq: NeuronIO) -> np.ndarray:
    return np.minimum(np.asarray(seq.soma_mV, dtype=np.float64), VOLTAGE_CEILING_MV)


class SequenceWindows(Dataset):
    """Windows of ``window`` bins cut inside each sequence, every ``stride`` bins.

    Item ``i`` is ``(x, (spikes, voltage))``: ``x`` (channels, window) in the inputs' own
    dtype (uint8 spike counts take a quarter of float32; :func:`train_surrogate` converts
    each batch), spikes and the voltage target clipped at −55 mV, float32 (window,).
    ``index[i]`` is ``(sequence, start)``; a window never crosses from one sequence into the
    next.

    Parameters
    ----------
    sequences : sequence of NeuronIO
    window : int
        Bins per window; at most the length of the shortest sequence.
    stride : int or None
        Bins between window starts within a sequence (default: ``window``, no overlap).
    """

    def __init__(self, sequences: Sequence[NeuronIO], *, window: int,
                 stride: int | None = None) -> None:
        seqs = _check_sequences("sequences", sequences)
        self.window = check_int("window", window, low=1)
        self.stride = check_int("stride", self.window if stride is None else stride, low=1)
        lengths = [s.inputs.shape[1] for s in seqs]
        shortest = int(np.argmin(lengths))
        if self.window > lengths[shortest]:
            raise ValueError(f"window={self.window} bins is longer than the shortest sequence "
                             f"(sequences[{shortest}], {lengths[shortest]} bins)")
        self._x = [torch.as_tensor(np.ascontiguousarray(s.inputs)) for s in seqs]
        self._s = [torch.as_tensor(np.asarray(s.spikes, dtype=np.float32)) for s in seqs]
        self._v = [torch.as_tensor(_clipped(s).astype(np.float32)) for s in seqs]
        self.index: list[tuple[int, int]] = [
            (k, a) for k, n in enumerate(lengths) for a in range(0, n - self.window + 1,
                                                                 self.stride)]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        k, a = self.index[i]
        b = a + self.window
        # the input window keeps its stored dtype (uint8 events: 4× less to copy and stack);
        # the training loop converts whole batches
        return self._x[k][:, a:b], (self._s[k][a:b], self._v[k][a:b])


@dataclass(frozen=True, kw_only=True)
class SurrogateTrainConfig:
    """Options of :func:`train_surrogate`.

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
    """What :func:`train_surrogate` did; the model holds the weights of ``best_epoch``.

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


def _device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    p = next(model.parameters())
    return p.device, p.dtype


def _receptive_field(model: nn.Module) -> int | None:
    """Finite receptive field in steps (TCNs, filter baselines) or ``None`` (recurrent)."""
    rf = getattr(getattr(model, "config", None), "receptive_field_steps", None)
    return None if rf is None else int(rf)


@torch.no_grad()
def predict(model: nn.Module, seq: NeuronIO, *, chunk_bins: int = 20_000
            ) -> tuple[np.ndarray, np.ndarray]:
    """Spike logits and voltage (mV) for every bin of a whole sequence, in eval mode.

    A model with a finite receptive field (``model.config.receptive_field_steps``: TCNs,
    the filter baselines) runs in chunks of ``chunk_bins`` that overlap by the receptive
    field, which gives the same outputs as one pass; any other model (the ELM) runs over the
    sequence in one pass from zero state. The model's train/eval mode is restored.

    Returns
    -------
    spike_logit, voltage_mV : ndarray, shape (n_bins,), float64
    """
    check_sequence("seq", seq)
    chunk = check_int("chunk_bins", chunk_bins, low=1)
    device, dtype = _device_dtype(model)
    was_training = model.training
    model.eval()
    n = seq.inputs.shape[1]
    rf = _receptive_field(model)
    starts = range(0, n, chunk) if rf is not None else [0]
    logits, volts = [], []
    try:
        for a in starts:
            lo = max(0, a - rf) if rf is not None else 0
            hi = min(n, a + chunk) if rf is not None else n
            x = torch.as_tensor(np.asarray(seq.inputs[:, lo:hi]), device=device).to(dtype)
            out = model(x[None])
            logits.append(out.spike_logits[0, a - lo:].double().cpu().numpy())
            volts.append(out.soma_voltage[0, a - lo:].double().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(logits), np.concatenate(volts)


def _val_loss(model: nn.Module, val: list[NeuronIO], cfg: SurrogateTrainConfig,
              pos_weight: float, var: float) -> float:
    """Loss pooled over every bin after ``warmup_bins`` of every validation sequence."""
    total, bins = 0.0, 0
    for seq in val:
        logit, volt = predict(model, seq)
        out = TCNOutput(spike_logits=torch.from_numpy(logit)[None],
                        soma_voltage=torch.from_numpy(volt)[None], dendritic=None)
        n = logit.size - cfg.warmup_bins
        loss = surrogate_loss(out, torch.as_tensor(np.asarray(seq.spikes, np.float64))[None],
                              torch.from_numpy(_clipped(seq))[None], warmup_bins=cfg.warmup_bins,
                              spike_pos_weight=pos_weight, voltage_variance_mV2=var,
                              spike_loss_weight=cfg.spike_loss_weight,
                              voltage_loss_weight=cfg.voltage_loss_weight)
        total += float(loss) * n
        bins += n
    return total / bins


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
    train = _check_sequences("train", train)
    val = _check_sequences("val", val)
    if val[0].inputs.shape[0] != train[0].inputs.shape[0]:
        raise ValueError(f"val has {val[0].inputs.shape[0]} input channels, train has "
                         f"{train[0].inputs.shape[0]}")
    for i, s in enumerate(val):
        if s.inputs.shape[1] <= cfg.warmup_bins:
            raise ValueError(f"val[{i}] has {s.inputs.shape[1]} bins, not more than "
                             f"warmup_bins={cfg.warmup_bins}")
    windows = SequenceWindows(train, window=cfg.window_bins, stride=cfg.stride_bins)
    rate = float(np.mean(np.concatenate([np.asarray(s.spikes, np.float64) for s in train])))
    if cfg.spike_pos_weight is not None:
        pos_weight = cfg.spike_pos_weight
    else:
        pos_weight = (1.0 - rate) / rate if 0.0 < rate < 1.0 else 1.0
    var = float(np.var(np.concatenate([_clipped(s) for s in train])))
    if var == 0.0:
        raise ValueError("the clipped training voltage is constant (variance 0): the "
                         "voltage loss cannot be normalised")
    device, dtype = _device_dtype(model)
    torch.manual_seed(cfg.seed)
    loader = DataLoader(windows, batch_size=cfg.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(cfg.seed))
    steps = len(loader) if cfg.max_steps_per_epoch is None else min(len(loader),
                                                                    cfg.max_steps_per_epoch)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    sched = _scheduler(opt, cfg, cfg.epochs * steps)
    history: list[EpochLog] = []
    best, best_epoch, bad = math.inf, 0, 0
    best_state = copy.deepcopy(model.state_dict())
    stopped = False
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False,
                   disable=not cfg.progress, total=steps)
        for step, (xb, (sb, vb)) in enumerate(bar):
            if step >= steps:
                break
            xb, sb, vb = (t.to(device=device, dtype=dtype) for t in (xb, sb, vb))
            opt.zero_grad(set_to_none=True)
            loss = surrogate_loss(model(xb), sb, vb, warmup_bins=cfg.warmup_bins,
                                  spike_pos_weight=pos_weight, voltage_variance_mV2=var,
                                  spike_loss_weight=cfg.spike_loss_weight,
                                  voltage_loss_weight=cfg.voltage_loss_weight)
            loss.backward()
            if cfg.grad_clip_norm is not None:
                nn.utils.clip_grad_norm_(params, cfg.grad_clip_norm)
            opt.step()
            sched.step()
            total += float(loss.detach()) * xb.shape[0]
            count += xb.shape[0]
        bar.close()
        val_loss = _val_loss(model, val, cfg, pos_weight, var)
        improved = val_loss < best - cfg.min_delta
        if improved:
            best, best_epoch, bad = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
        history.append(EpochLog(epoch=epoch, train_loss=total / count, val_loss=val_loss,
                                 learning_rate=float(opt.param_groups[0]["lr"]),
                                 seconds=time.perf_counter() - t0, improved=improved))
        if cfg.patience is not None and bad >= cfg.patience:
            stopped = True
            break
    model.load_state_dict(best_state)
    return TrainReport(history=tuple(history), best_epoch=best_epoch, best_val_loss=best,
                       epochs_run=len(history), stopped_early=stopped,
                       wall_s=time.perf_counter() - t_start, spike_pos_weight=pos_weight,
                       voltage_variance_mV2=var, n_train_windows=len(windows))


# -- scoring ---------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class SurrogateScore:
    """Held-out accuracy pooled over sequences, with bootstrap intervals over sequences.

    ``*_ci`` are percentile intervals at ``confidence`` from ``n_boot`` resamples of the test
    sequences (with replacement). ``note`` says why a value is NaN, if one is.
    """

    spike_auc: float
    spike_auc_ci: tuple[float, float]
    voltage_variance_explained: float
    voltage_variance_explained_ci: tuple[float, float]
    voltage_rmse_mV: float
    voltage_rmse_mV_ci: tuple[float, float]
    n_sequences: int
    n_bins: int
    n_spikes: int
    n_boot: int
    n_boot_auc_undefined: int
    confidence: float
    warmup_bins: int
    note: str


def _pairwise_wins(pos: list[np.ndarray], neg: list[np.ndarray]) -> np.ndarray:
    """``M[i, j]``: pairs (positive of sequence i, negative of j) ranked right, ties ½."""
    s = len(pos)
    owner = np.concatenate([np.full(p.size, i) for i, p in enumerate(pos)])
    scores = np.concatenate(pos)
    m = np.zeros((s, s))
    for j, negatives in enumerate(neg):
        sorted_neg = np.sort(negatives)
        below = np.searchsorted(sorted_neg, scores, side="left")
        tied = np.searchsorted(sorted_neg, scores, side="right") - below
        m[:, j] = np.bincount(owner, weights=below + 0.5 * tied, minlength=s)
    return m


def score_surrogate(model: nn.Module, test: Sequence[NeuronIO], *, warmup_bins: int,
                    n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
                    ) -> SurrogateScore:
    """Spike ROC AUC, voltage variance explained and RMSE on ``test``, with bootstrap CIs.

    Every sequence is predicted whole (:func:`predict`) and its first ``warmup_bins`` are
    dropped; the metrics pool all remaining bins (AUC over pooled bins as in Beniaguev et
    al.'s ``evaluate_CNN_test.py``; VE :math:`= 1 - \\mathrm{var}(V^* - V)/\\mathrm{var}(V^*)`
    and RMSE on the target clipped at −55 mV). Sequences without spikes are fine (they add
    negatives); the AUC is NaN, with a note, only if the pool lacks spikes or non-spikes.

    The bootstrap resamples sequences with replacement. It is exact and fast: the AUC of a
    resample with counts :math:`c` is :math:`c^T M c / ((c\\cdot P)(c\\cdot N))` with
    :math:`M_{ij}` the correctly ranked (positive of i, negative of j) pairs, and VE and RMSE
    come from per-sequence sums. Resamples without a spike give no AUC
    (``n_boot_auc_undefined``) and are left out of its interval.
    """
    seqs = _check_sequences("test", test)
    warm = check_int("warmup_bins", warmup_bins, low=0)
    n_boot = check_int("n_boot", n_boot, low=1)
    check_int("seed", seed, low=0)
    conf = check_real("confidence", confidence, low=0.0, high=1.0, low_inclusive=False,
                      high_inclusive=False)
    pos, neg, sums = [], [], []
    for i, seq in enumerate(seqs):
        if seq.inputs.shape[1] <= warm:
            raise ValueError(f"test[{i}] has {seq.inputs.shape[1]} bins, not more than "
                             f"warmup_bins={warm}")
        logit, volt = predict(model, seq)
        spikes = np.asarray(seq.spikes)[warm:].astype(bool)
        target = _clipped(seq)[warm:]
        pos.append(logit[warm:][spikes])
        neg.append(logit[warm:][~spikes])
        sums.append((target.size, target, target - volt[warm:]))
    offset = float(np.mean(np.concatenate([t for _, t, _ in sums])))  # centring: round-off
    stats = np.array([[n, np.sum(t - offset), np.sum((t - offset) ** 2), e.sum(), (e**2).sum()]
                      for n, t, e in sums])  # (S, 5): n, Σy, Σy², Σe, Σe²
    n_pos = np.array([p.size for p in pos], dtype=float)
    n_neg = np.array([q.size for q in neg], dtype=float)
    wins = _pairwise_wins(pos, neg)

    def metrics(c: np.ndarray) -> np.ndarray:  # c: (B, S) counts → (B, 3) AUC, VE, RMSE
        tot = c @ stats
        n = tot[:, 0]
        var_y = tot[:, 2] / n - (tot[:, 1] / n) ** 2
        var_e = tot[:, 4] / n - (tot[:, 3] / n) ** 2
        denom = (c @ n_pos) * (c @ n_neg)
        with np.errstate(invalid="ignore", divide="ignore"):
            auc = np.where(denom > 0, np.einsum("bi,ij,bj->b", c, wins, c) / denom, np.nan)
            ve = np.where(var_y > 0, 1.0 - var_e / var_y, np.nan)
        return np.stack([auc, ve, np.sqrt(tot[:, 4] / n)], axis=1)

    point = metrics(np.ones((1, len(seqs))))[0]
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(seqs), np.full(len(seqs), 1.0 / len(seqs)), size=n_boot)
    boot = metrics(counts.astype(float))
    q = [(1 - conf) / 2, (1 + conf) / 2]

    def interval(col: int) -> tuple[float, float]:
        vals = boot[:, col][np.isfinite(boot[:, col])]
        if vals.size == 0:
            return (math.nan, math.nan)
        lo, hi = np.quantile(vals, q)
        return (float(lo), float(hi))

    notes = []
    if n_pos.sum() == 0:
        notes.append("spike AUC undefined: no spike in the scored bins of any test sequence")
    elif n_neg.sum() == 0:
        notes.append("spike AUC undefined: every scored bin holds a spike")
    if not np.isfinite(point[1]):
        notes.append("variance explained undefined: the clipped target voltage is constant")
    return SurrogateScore(
        spike_auc=float(point[0]), spike_auc_ci=interval(0),
        voltage_variance_explained=float(point[1]), voltage_variance_explained_ci=interval(1),
        voltage_rmse_mV=float(point[2]), voltage_rmse_mV_ci=interval(2),
        n_sequences=len(seqs), n_bins=int(stats[:, 0].sum()), n_spikes=int(n_pos.sum()),
        n_boot=n_boot, n_boot_auc_undefined=int(np.sum(~np.isfinite(boot[:, 0]))),
        confidence=conf, warmup_bins=warm, note="; ".join(notes))


# -- cost ------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class ForwardCost:
    """Forward FLOPs per simulated millisecond of a surrogate, batch 1, eval mode."""

    flop_per_ms: float
    bins: int
    bin_ms: float
    counted_on: str  #: "meta" or "cpu"
    uncounted_ops: tuple[str, ...]
    convention: str


def flops_per_ms(model: nn.Module, in_channels: int, *, bins: int = 1000,
                 bin_ms: float = 1.0) -> ForwardCost:
    """Forward FLOPs per simulated ms, counted by :func:`neurocomp.accounting.count`.

    A copy of the model, in eval mode, runs once on ``(1, in_channels, bins)`` zeros; the
    forward FLOPs are divided by ``bins · bin_ms``. The copy runs on the ``meta`` device
    (no arithmetic, any size); if the model cannot run there (e.g. an op without a meta
    kernel), it runs on the CPU instead, and ``counted_on`` says which. The count is of the
    ops as implemented (a causal convolution counts every tap, including the zero padding
    of the first bins: for a TCN the cost per bin is constant). Convention: 1 MAC = 2 FLOPs.
    """
    from neurocomp.accounting import FLOP_CONVENTION, count

    c = check_int("in_channels", in_channels, low=1)
    n = check_int("bins", bins, low=1)
    dt = check_real("bin_ms", bin_ms, low=0.0, low_inclusive=False, unit="ms")
    _, dtype = _device_dtype(model)
    report, where = None, "meta"
    try:
        meta = copy.deepcopy(model).eval().to("meta")
        report = count(meta, torch.zeros(1, c, n, device="meta", dtype=dtype), backward=False)
    except (RuntimeError, NotImplementedError):
        where = "cpu"
        cpu = copy.deepcopy(model).eval().to("cpu")
        report = count(cpu, torch.zeros(1, c, n, dtype=dtype), backward=False)
    return ForwardCost(flop_per_ms=report.forward_flop / (n * dt), bins=n, bin_ms=dt,
                       counted_on=where, uncounted_ops=tuple(u.op for u in report.uncounted),
                       convention=FLOP_CONVENTION)


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (buffers such as fixed time constants do not count)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
