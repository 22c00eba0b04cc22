"""Surrogate tools: ROC AUC, windows, evaluation on held-out data, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurocomp.layers.tcn import TCN, TCNConfig
from neurocomp.mapping.surrogate import (
    NeuronIO,
    WindowDataset,
    evaluate_surrogate,
    load_surrogate,
    roc_auc,
    save_surrogate,
)


def _auc_brute(y, s):
    pos, neg = s[y == 1], s[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (pos.size * neg.size)


def test_roc_auc_matches_pairwise_definition(rng):
    y = (rng.random(300) < 0.2).astype(int)
    s = np.round(rng.standard_normal(300) + y, 1)  # ties on purpose
    assert roc_auc(y, s) == pytest.approx(_auc_brute(y, s), abs=1e-12)
    assert roc_auc(y, y) == 1.0 and roc_auc(y, -y) == 0.0
    with pytest.raises(ValueError, match="needs both classes"):
        roc_auc(np.zeros(5), np.arange(5))


def _io(rng, n=600, channels=5) -> NeuronIO:
    x = (rng.random((channels, n)) < 0.05).astype(np.uint16)
    v = -65 + np.convolve(x.sum(0), np.exp(-np.arange(30) / 10.0))[:n]
    return NeuronIO(inputs=x, soma_mV=v, spikes=(v > -62).astype(np.uint8))


def test_window_dataset_and_errors(rng):
    io = _io(rng)
    ds = WindowDataset(io, window=100, stride=50)
    assert len(ds) == 11
    x, (s, v) = ds[3]
    assert x.shape == (5, 100) and s.shape == v.shape == (100,)
    assert float(v.max()) <= -55.0  # the voltage target is clipped at the ceiling
    with pytest.raises(ValueError, match=r"soma_mV must have one value per bin"):
        NeuronIO(inputs=np.zeros((2, 10)), soma_mV=np.zeros(9), spikes=np.zeros(10))
    with pytest.raises(ValueError, match="nothing to concatenate"):
        NeuronIO.concatenate([])
    with pytest.raises(ValueError, match="different input channels"):
        NeuronIO.concatenate([_io(rng, channels=2), _io(rng, channels=3)])


def test_evaluate_and_save_load_roundtrip(rng, tmp_path):
    torch.manual_seed(0)
    io = _io(rng)
    model = TCN(TCNConfig(in_channels=5, depth=2, width=4, kernel_sizes=(5, 3)))
    model.eval()
    m = evaluate_surrogate(model, io, chunk_bins=97)  # chunking must not change the result
    m_whole = evaluate_surrogate(model, io, chunk_bins=10_000)
    assert m.voltage_rmse_mV == pytest.approx(m_whole.voltage_rmse_mV, rel=1e-6)
    assert m.n_bins == 600 - model.config.receptive_field_steps
    path = save_surrogate(tmp_path / "s.pt", model, metadata={"depth": 2})
    loaded, meta = load_surrogate(path)
    assert meta == {"depth": 2} and not loaded.training
    x = torch.as_tensor(io.inputs[None].astype(np.float32))
    with torch.no_grad():
        np.testing.assert_array_equal(loaded(x).soma_voltage.numpy(),
                                      model(x).soma_voltage.numpy())  # identical weights
    (tmp_path / "junk.pt").write_bytes(b"x")
    with pytest.raises(ValueError, match="is not a neurocomp TCN surrogate file"):
        load_surrogate(tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="not longer than the warm-up"):
        evaluate_surrogate(model, NeuronIO(inputs=io.inputs[:, :4], soma_mV=io.soma_mV[:4],
                                           spikes=io.spikes[:4]))
