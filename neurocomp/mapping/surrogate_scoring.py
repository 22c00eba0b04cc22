"""Score a surrogate on held-out sequences: pooled metrics with bootstrap intervals.

Spike ROC AUC, voltage variance explained and RMSE pool every bin after the warm-up of every
test sequence; the intervals come from resampling whole sequences, computed exactly from
per-sequence sums (no re-prediction per resample).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from neurocomp.checks import check_int, check_real
from neurocomp.mapping.surrogate import NeuronIO
from neurocomp.mapping.surrogate_data import _check_sequences, _clipped
from neurocomp.mapping.surrogate_predict import predict

__all__ = ["SurrogateScore", "score_surrogate"]


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

    Every sequence is predicted whole (:func:`~neurocomp.mapping.surrogate_predict.predict`)
    and its first ``warmup_bins`` are dropped; the metrics pool all remaining bins (AUC over
    pooled bins as in Beniaguev et al.'s ``evaluate_CNN_test.py``;
    VE :math:`= 1 - \\mathrm{var}(V^* - V)/\\mathrm{var}(V^*)` and RMSE on the target clipped
    at −55 mV). Sequences without spikes are fine (they add negatives); the AUC is NaN, with
    a note, only if the pool lacks spikes or non-spikes.

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
    pooled = _PooledSums.of(*_scored_bins(model, seqs, warm))
    point = pooled.metrics(np.ones((1, len(seqs))))[0]
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(seqs), np.full(len(seqs), 1.0 / len(seqs)), size=n_boot)
    boot = pooled.metrics(counts.astype(float))
    q = [(1 - conf) / 2, (1 + conf) / 2]
    return SurrogateScore(
        spike_auc=float(point[0]), spike_auc_ci=_interval(boot[:, 0], q),
        voltage_variance_explained=float(point[1]),
        voltage_variance_explained_ci=_interval(boot[:, 1], q),
        voltage_rmse_mV=float(point[2]), voltage_rmse_mV_ci=_interval(boot[:, 2], q),
        n_sequences=len(seqs), n_bins=int(pooled.stats[:, 0].sum()),
        n_spikes=int(pooled.n_pos.sum()), n_boot=n_boot,
        n_boot_auc_undefined=int(np.sum(~np.isfinite(boot[:, 0]))), confidence=conf,
        warmup_bins=warm, note=_note(pooled, point))


def _scored_bins(model: nn.Module, seqs: list[NeuronIO], warm: int
                 ) -> tuple[list[np.ndarray], list[np.ndarray],
                            list[tuple[int, np.ndarray, np.ndarray]]]:
    """Predict every sequence whole and keep its bins after the warm-up.

    Parameters
    ----------
    model : torch.nn.Module
        The surrogate (run by :func:`~neurocomp.mapping.surrogate_predict.predict`).
    seqs : list of NeuronIO
        The checked test sequences.
    warm : int
        Bins left out at the start of every sequence.

    Returns
    -------
    pos, neg : list of ndarray
        Per sequence, the spike logits of the scored bins with and without a spike.
    sums : list of tuple
        Per sequence, ``(n, target, error)``: scored bins, the clipped voltage target and
        target minus predicted voltage.

    Raises
    ------
    ValueError
        A sequence has no bin after the warm-up.
    """
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
    return pos, neg, sums


@dataclass(frozen=True)
class _PooledSums:
    """Per-sequence sums the pooled metrics of any resample of sequences are built from.

    Attributes
    ----------
    stats : ndarray, shape (S, 5)
        Per sequence: bins, Σy, Σy², Σe, Σe² (target ``y`` centred on its pooled mean, error
        ``e``).
    n_pos, n_neg : ndarray, shape (S,)
        Scored bins with and without a spike.
    wins : ndarray, shape (S, S)
        Correctly ranked (positive of i, negative of j) pairs (:func:`_pairwise_wins`).
    """

    stats: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray
    wins: np.ndarray

    @classmethod
    def of(cls, pos: list[np.ndarray], neg: list[np.ndarray],
           sums: list[tuple[int, np.ndarray, np.ndarray]]) -> _PooledSums:
        """Sums from :func:`_scored_bins`'s per-sequence logits, targets and errors."""
        offset = float(np.mean(np.concatenate([t for _, t, _ in sums])))  # centring: round-off
        stats = np.array([[n, np.sum(t - offset), np.sum((t - offset) ** 2), e.sum(),
                           (e**2).sum()] for n, t, e in sums])  # (S, 5): n, Σy, Σy², Σe, Σe²
        n_pos = np.array([p.size for p in pos], dtype=float)
        n_neg = np.array([q.size for q in neg], dtype=float)
        return cls(stats=stats, n_pos=n_pos, n_neg=n_neg, wins=_pairwise_wins(pos, neg))

    def metrics(self, c: np.ndarray) -> np.ndarray:
        """AUC, variance explained and RMSE of resamples with sequence counts ``c``.

        Parameters
        ----------
        c : ndarray, shape (B, S)
            How often each sequence is drawn in each of ``B`` resamples.

        Returns
        -------
        ndarray, shape (B, 3)
            Spike AUC, voltage variance explained, voltage RMSE (mV); NaN where undefined.
        """
        tot = c @ self.stats
        n = tot[:, 0]
        var_y = tot[:, 2] / n - (tot[:, 1] / n) ** 2
        var_e = tot[:, 4] / n - (tot[:, 3] / n) ** 2
        denom = (c @ self.n_pos) * (c @ self.n_neg)
        with np.errstate(invalid="ignore", divide="ignore"):
            auc = np.where(denom > 0, np.einsum("bi,ij,bj->b", c, self.wins, c) / denom,
                           np.nan)
            ve = np.where(var_y > 0, 1.0 - var_e / var_y, np.nan)
        return np.stack([auc, ve, np.sqrt(tot[:, 4] / n)], axis=1)


def _interval(values: np.ndarray, q: list[float]) -> tuple[float, float]:
    """Percentile interval at quantiles ``q`` of the finite ``values`` (NaNs without any)."""
    vals = values[np.isfinite(values)]
    if vals.size == 0:
        return (math.nan, math.nan)
    lo, hi = np.quantile(vals, q)
    return (float(lo), float(hi))


def _note(pooled: _PooledSums, point: np.ndarray) -> str:
    """Why a point metric is NaN, if one is (``""`` when all are defined)."""
    notes = []
    if pooled.n_pos.sum() == 0:
        notes.append("spike AUC undefined: no spike in the scored bins of any test sequence")
    elif pooled.n_neg.sum() == 0:
        notes.append("spike AUC undefined: every scored bin holds a spike")
    if not np.isfinite(point[1]):
        notes.append("variance explained undefined: the clipped target voltage is constant")
    return "; ".join(notes)
