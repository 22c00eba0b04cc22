"""Deep surrogates of a neuron: data sets, metrics, and saving fitted TCNs.

The protocol of Beniaguev, Segev & London (2021): record a biophysical neuron's input
(spikes per synapse per 1 ms bin) and output (somatic voltage, output spikes), train causal
TCNs of growing depth to predict the output from the input, and measure on held-out data the
spike ROC AUC, the somatic-voltage RMSE and the variance explained. As in their code, the
voltage target is clipped at a ceiling (−55 mV) so that action potentials — predicted by the
spike head — do not dominate the voltage loss.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from neurocomp.checks import check_finite_array, check_int, check_real
from neurocomp.layers import TCN, TCNConfig

__all__ = [
    "NeuronIO",
    "SurrogateMetrics",
    "WindowDataset",
    "check_sequence",
    "evaluate_surrogate",
    "load_surrogate",
    "roc_auc",
    "save_surrogate",
]

VOLTAGE_CEILING_MV = -55.0  # Beniaguev et al.'s clipping of the somatic voltage target


@dataclass(frozen=True, kw_only=True)
class NeuronIO:
    """Input/output recording of a neuron in 1 ms bins (or any fixed bin).

    Attributes
    ----------
    inputs : ndarray, shape (n_channels, n_bins)
        Presynaptic events per channel and bin.
    soma_mV : ndarray, shape (n_bins,)
        Somatic voltage at each bin, mV.
    spikes : ndarray, shape (n_bins,)
        1 where an output spike occurred in the bin.
    bin_ms : float
        Bin width, ms.
    """

    inputs: np.ndarray
    soma_mV: np.ndarray
    spikes: np.ndarray
    bin_ms: float = 1.0

    def __post_init__(self) -> None:
        x = np.asarray(self.inputs)
        if x.ndim != 2:
            raise ValueError(f"inputs must be (n_channels, n_bins); got shape {x.shape}")
        for name in ("soma_mV", "spikes"):
            arr = np.asarray(getattr(self, name))
            if arr.shape != (x.shape[1],):
                raise ValueError(f"{name} must have one value per bin ({x.shape[1]}); got "
                                 f"shape {arr.shape}")
        if x.shape[1] == 0:
            raise ValueError("the recording is empty (0 bins)")
        check_finite_array("soma_mV", np.asarray(self.soma_mV, dtype=np.float64))
        check_real("bin_ms", self.bin_ms, low=0, low_inclusive=False, unit="ms")

    @staticmethod
    def concatenate(parts: Sequence[NeuronIO]) -> NeuronIO:
        """Join recordings in time (same channels and bin)."""
        if not parts:
            raise ValueError("nothing to concatenate: empty data")
        channels = {p.inputs.shape[0] for p in parts}
        if len(channels) != 1:
            raise ValueError(f"recordings have different input channels: {sorted(channels)}")
        return NeuronIO(inputs=np.concatenate([p.inputs for p in parts], axis=1),
                        soma_mV=np.concatenate([p.soma_mV for p in parts]),
                        spikes=np.concatenate([p.spikes for p in parts]),
                        bin_ms=parts[0].bin_ms)


class WindowDataset(Dataset):
    """Windows of ``window`` bins (every ``stride``) as ``(x, (spikes, voltage))`` tensors.

    ``x`` is float32 (n_channels, window); the voltage target is clipped at the ceiling.
    """

    def __init__(self, io: NeuronIO, *, window: int, stride: int | None = None) -> None:
        n = io.inputs.shape[1]
        self.window = check_int("window", window, low=1, high=n)
        self.stride = check_int("stride", stride if stride is not None else window, low=1)
        self.x = torch.as_tensor(np.asarray(io.inputs, dtype=np.float32))
        self.v = torch.as_tensor(np.minimum(io.soma_mV, VOLTAGE_CEILING_MV).astype(np.float32))
        self.s = torch.as_tensor(np.asarray(io.spikes, dtype=np.float32))
        self.starts = list(range(0, n - self.window + 1, self.stride))

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int):
        a = self.starts[i]
        b = a + self.window
        return self.x[:, a:b], (self.s[a:b], self.v[a:b])


def check_sequence(name: str, seq: Any) -> NeuronIO:
    """``seq`` if it is a NeuronIO with finite inputs and spikes in [0, 1], else raise.

    :class:`NeuronIO` is a container and checks only shapes and the voltage; every function
    that computes with one checks the rest here, naming the sequence (``test[2].inputs``).
    """
    if not isinstance(seq, NeuronIO):
        raise TypeError(f"{name} must be a NeuronIO; got {type(seq).__name__}")
    check_finite_array(f"{name}.inputs", np.asarray(seq.inputs, dtype=np.float64))
    spikes = check_finite_array(f"{name}.spikes", np.asarray(seq.spikes, dtype=np.float64))
    if spikes.min() < 0 or spikes.max() > 1:
        raise ValueError(f"{name}.spikes must be 0 or 1 per bin; got values in "
                         f"[{spikes.min():g}, {spikes.max():g}]")
    return seq


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U with average ranks for ties).

    ``labels``: 0/1 (or booleans) per sample; ``scores``: finite reals of the same length.
    """
    y_raw = np.asarray(labels)
    s = np.asarray(scores)
    if y_raw.dtype.kind not in "biuf" or s.dtype.kind not in "biuf":
        raise TypeError(f"labels and scores must be real arrays; got dtypes {y_raw.dtype} and "
                        f"{s.dtype}")
    y_raw, s = y_raw.ravel(), s.astype(np.float64).ravel()
    if y_raw.shape != s.shape:
        raise ValueError(f"labels and scores must have the same length; got {y_raw.size} labels "
                         f"and {s.size} scores")
    check_finite_array("scores", s)
    if y_raw.dtype != np.bool_:
        y_float = y_raw.astype(np.float64)
        bad = ~np.isin(y_float, (0.0, 1.0))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"labels must be 0 or 1 (or booleans); got {y_raw[first]!r} at "
                             f"index {first}")
    y = y_raw.astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"ROC AUC needs both classes; got {n_pos} positives and {n_neg} "
                         f"negatives")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size)
    sorted_s = s[order]
    # average ranks over ties
    edges = np.flatnonzero(np.diff(sorted_s)) + 1
    starts = np.r_[0, edges]
    stops = np.r_[edges, s.size]
    for a, b in zip(starts, stops, strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True, kw_only=True)
class SurrogateMetrics:
    """Held-out accuracy of a surrogate."""

    spike_auc: float
    voltage_rmse_mV: float
    voltage_variance_explained: float
    n_bins: int
    n_spikes: int


def evaluate_surrogate(model: TCN, io: NeuronIO, *, warmup_bins: int | None = None,
                       chunk_bins: int = 20_000) -> SurrogateMetrics:
    """Run the TCN over a held-out recording (in eval mode) and score it.

    The first ``warmup_bins`` (default: the receptive field) are excluded, since the net
    has not yet seen a full input history there.
    """
    check_sequence("io", io)
    chunk_bins = check_int("chunk_bins", chunk_bins, low=1)
    model.eval()
    rf = model.config.receptive_field_steps
    warm = rf if warmup_bins is None else check_int("warmup_bins", warmup_bins, low=0)
    n = io.inputs.shape[1]
    if n <= warm:
        raise ValueError(f"the recording ({n} bins) is not longer than the warm-up "
                         f"({warm} bins)")
    device = next(model.parameters()).device
    logits, volts = [], []
    with torch.no_grad():
        # overlap chunks by the receptive field so every kept output sees its full history
        for a in range(0, n, chunk_bins):
            lo = max(0, a - rf)
            x = torch.as_tensor(np.asarray(io.inputs[:, lo:a + chunk_bins], dtype=np.float32),
                                device=device)[None]
            out = model(x)
            keep = slice(a - lo, None)
            logits.append(out.spike_logits[0, keep].cpu().numpy())
            volts.append(out.soma_voltage[0, keep].cpu().numpy())
    logit = np.concatenate(logits)[warm:]
    volt = np.concatenate(volts)[warm:]
    target = np.minimum(io.soma_mV, VOLTAGE_CEILING_MV)[warm:]
    spikes = np.asarray(io.spikes)[warm:]
    var = float(np.var(target))
    return SurrogateMetrics(
        spike_auc=roc_auc(spikes, logit) if 0 < spikes.sum() < spikes.size else float("nan"),
        voltage_rmse_mV=float(np.sqrt(np.mean((volt - target) ** 2))),
        voltage_variance_explained=1.0 - float(np.var(target - volt)) / var if var else
        float("nan"),
        n_bins=int(target.size), n_spikes=int(spikes.sum()))


def save_surrogate(path: str | Path, model: TCN, *, metadata: dict[str, Any] | None = None
                   ) -> Path:
    """Save weights, configuration and metadata to one file (``torch.save``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": "neurocomp-tcn-surrogate/1", "config": asdict(model.config),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "metadata": json.loads(json.dumps(metadata or {}, default=str))}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_surrogate(path: str | Path, *, device: torch.device | str | None = None
                   ) -> tuple[TCN, dict[str, Any]]:
    """Load a surrogate saved by :func:`save_surrogate`: ``(model in eval mode, metadata)``."""
    try:
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises several unpickling errors for foreign files
        raise ValueError(f"{path} is not a neurocomp TCN surrogate file "
                         f"({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != "neurocomp-tcn-surrogate/1":
        raise ValueError(f"{path} is not a neurocomp TCN surrogate file")
    config = dict(payload["config"])
    for key in ("width", "kernel_sizes", "dilations"):
        config[key] = tuple(config[key])
    model = TCN(TCNConfig(**config), device=device)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, payload["metadata"]
