"""Run a surrogate over whole sequences: spike logits and voltage for every bin, in eval mode.

Models with a finite receptive field run in overlapping chunks (same outputs as one pass);
recurrent ones run in one pass from zero state.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from neurocomp.checks import check_int
from neurocomp.mapping.surrogate import NeuronIO, check_sequence

__all__ = ["predict"]


def _device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Device and dtype of ``model``'s first parameter (where and how it computes)."""
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
