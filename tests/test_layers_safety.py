"""Issue 13, layers: no silent casts, resumes only of the same run, finite data and loss, and
sizes checked before anything is allocated."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from neurocomp.layers import (
    ELM,
    TCN,
    CausalConv1d,
    DendriticConv,
    DettmersNeuron,
    DettmersNeuronConfig,
    ELMConfig,
    FilterSurrogateConfig,
    FitConfig,
    LNSurrogate,
    SomaticFilter,
    TCNConfig,
    TransmitterDense,
    fit,
)
from neurocomp.layers import functional as LF
from neurocomp.layers.training_data import check_finite_data

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# -- 3. no silent casts ---------------------------------------------------------------------

def test_causal_conv1d_refuses_integer_tensors():
    w = torch.full((1, 1, 2), 0.4)
    with pytest.raises(TypeError, match=r"x must have a floating-point dtype .* got torch.int64"):
        LF.causal_conv1d(torch.ones(1, 1, 4, dtype=torch.int64), w)  # was: all zeros
    with pytest.raises(TypeError, match=r"weight must have a floating-point dtype .* got "
                                        r"torch.int32"):
        LF.causal_conv1d(torch.ones(1, 1, 4), w.to(torch.int32))
    with pytest.raises(TypeError, match=r"bias must have a floating-point dtype .* got torch.bool"):
        LF.causal_conv1d(torch.ones(1, 1, 4), w, torch.ones(1, dtype=torch.bool))
    y = LF.causal_conv1d(torch.ones(1, 1, 4, dtype=torch.float64), w)
    # float weights follow a float input's dtype, values intact (0.4, then 0.8)
    assert y.dtype == torch.float64 and torch.allclose(y, torch.tensor([[[0.4, 0.8, 0.8, 0.8]]],
                                                                        dtype=torch.float64))


def test_the_other_functional_ops_refuse_integers_too():
    i = torch.ones(2, 3, 4, dtype=torch.int64)
    cases = {
        "x": [lambda: LF.transmitter_dense(i, torch.ones(3), torch.ones(2, 3)),
              lambda: LF.sublinear(i), lambda: LF.supralinear(i), lambda: LF.bistable(i),
              lambda: LF.temporal_filter(i, torch.ones(2)),
              lambda: LF.dendritic_conv(torch.ones(1, 1, 2, 2, 3, dtype=torch.int64),
                                        torch.ones(1, 1, 1, 1, 1))],
        "release": [lambda: LF.transmitter_dense(torch.ones(2, 3, 4), torch.ones(
            3, dtype=torch.int64), torch.ones(2, 3))],
        "kernel": [lambda: LF.temporal_filter(torch.ones(2, 4), torch.ones(2, dtype=torch.int64))],
        "weight": [lambda: LF.dendritic_conv(torch.ones(1, 1, 2, 2, 3),
                                             torch.ones(1, 1, 1, 1, 1, dtype=torch.int64))],
    }
    for name, calls in cases.items():
        for call in calls:
            with pytest.raises(TypeError, match=rf"^{name} must have a floating-point dtype"):
                call()  # each names the offending argument and its dtype, never casts
    with pytest.raises(TypeError, match=r"dtype must be None or a floating-point torch.dtype"):
        LF.poisson_delay_pmf(0.5, 4, dtype=torch.int64)  # was [0.61, 0, 0, 0]
    with pytest.raises(TypeError, match=r"dtype must be None or a floating-point"):
        LF.difference_of_exponentials_kernel(1.0, 2.0, dt_ms=1.0, n_taps=4, dtype=torch.int32)
    with pytest.raises(TypeError, match=r"tau_rise_ms must have a floating-point dtype"):
        LF.difference_of_exponentials_kernel(torch.tensor(1), torch.tensor(2.0), dt_ms=1.0,
                                             n_taps=4)


# -- 4. fit: resume only the same run, finite data and loss -----------------------------------

def data(n: int = 24, seed: int = 0, scale: float = 1.0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, generator=g)
    return TensorDataset(x, scale * x.sum(1, keepdim=True))


def mse(out, y):
    return nn.functional.mse_loss(out, y)


def net(width: int = 3) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, width), nn.Tanh(), nn.Linear(width, 1))


CFG = FitConfig(epochs=2, batch_size=8, learning_rate=0.05, progress=False, seed=1)


def test_resume_refuses_another_run(tmp_path):
    cfg = replace(CFG, checkpoint_dir=tmp_path)
    fit(net(), mse, data(), config=cfg)
    with pytest.raises(ValueError, match=r"cannot resume .*last.pt: it was written for another "
                                         r"training data"):
        fit(net(), mse, data(seed=5), config=cfg)  # was: resumed and ran 0 epochs
    with pytest.raises(ValueError, match=r"written for another model architecture"):
        fit(net(width=4), mse, data(), config=cfg)  # different hidden width
    with pytest.raises(ValueError, match=r"written for another loss function"):
        fit(net(), nn.functional.l1_loss, data(), config=cfg)
    with pytest.raises(ValueError, match=r"written with learning_rate=0.05, this run has "
                                         r"learning_rate=0.1 \(use resume=False"):
        fit(net(), mse, data(), config=replace(cfg, learning_rate=0.1))
    with pytest.raises(ValueError, match=r"written for another validation data"):
        fit(net(), mse, data(), config=cfg, val_data=data(8))
    res = fit(net(), mse, data(), config=replace(cfg, epochs=3))
    # the same run continues (epochs may grow): resumed after the 2 epochs written
    assert res.resumed_from_epoch == 2 and len(res.history) == 3
    fresh = fit(net(), mse, data(seed=5), config=replace(cfg, resume=False))
    assert fresh.resumed_from_epoch == 0  # resume=False starts afresh, as the message says


def test_resume_refuses_a_checkpoint_without_fingerprint(tmp_path):
    cfg = replace(CFG, checkpoint_dir=tmp_path)
    fit(net(), mse, data(), config=cfg)
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    del state["fingerprint"]
    state["format"] = 1
    torch.save(state, tmp_path / "last.pt")
    with pytest.raises(ValueError, match=r"checkpoint format 1 without a run fingerprint"):
        fit(net(), mse, data(), config=cfg)  # cannot be checked, so not trusted


class Nested(Dataset):
    """x and a (spikes, voltage) target pair; voltage of example 5 is inf."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i):
        v = torch.full((4,), math.inf if i == 5 else 0.0)
        return torch.zeros(3), (torch.zeros(4), v)


def test_non_finite_data_is_refused_before_training():
    x = torch.rand(10, 3)
    x[7, 2] = math.nan
    model = net()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"train_data.tensors\[0\] holds non-finite values "
                                         r"\(NaN or inf\): first at index \(7, 2\) \(example 7\)"):
        fit(model, mse, TensorDataset(x, torch.zeros(10, 1)), config=CFG)
    # refused before any step: the weights are untouched
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    with pytest.raises(ValueError, match=r"val_data example 5 \(of 8\): y\[1\] holds a "
                                         r"non-finite value \(inf"):
        check_finite_data("val_data", Nested())
    assert FitConfig(check_data=False).check_data is False  # the pass can be skipped


def test_nan_loss_stops_with_a_clear_error():
    calls = [0]

    def diverging(out, y):
        calls[0] += 1
        loss = mse(out, y)
        return loss * math.nan if calls[0] > 3 else loss  # the second epoch turns NaN

    model = net()
    with pytest.raises(FloatingPointError, match=r"mean training loss of epoch 1 is nan .* the "
                                                 r"model holds the weights of the best epoch"):
        fit(model, diverging, data(), config=replace(CFG, epochs=5))
    # was: NaN weights and best_loss=inf without a word; now the best epoch's weights are back
    assert all(torch.isfinite(p).all() for p in model.parameters())


# -- 5. sizes checked before work ----------------------------------------------------------------

def test_layer_constructors_refuse_huge_sizes_before_allocating():
    refused = {
        r"TCN\(config\): config.in_channels=3, depth=2, width=1000000.*10.91 TiB":
            lambda: TCN(TCNConfig(in_channels=3, depth=2, width=10**6, kernel_sizes=3)),
        r"TCN\(config\): config.depth=10000000 builds 10000000 layers .* max_layers = 10000":
            lambda: TCN(TCNConfig(in_channels=3, depth=10**7, width=4, kernel_sizes=3)),
        r"CausalConv1d: in_channels=100000, out_channels=100000, kernel_size=100":
            lambda: CausalConv1d(10**5, 10**5, 100),
        r"TransmitterDense: in_features=1000000, out_features=1000000":
            lambda: TransmitterDense(10**6, 10**6),
        r"DendriticConv: in_channels=10000, out_channels=10000, kernel_size=\(10, 10, 10\)":
            lambda: DendriticConv(10**4, 10**4, (10, 10, 10)),
        r"SomaticFilter: n_taps=100000000000": lambda: SomaticFilter(10**11),
        r"ELM\(config\): config.in_channels=1000000000":
            lambda: ELM(ELMConfig(in_channels=10**9)),
        r"LNSurrogate\(config\): .*nonlinearity_hidden=10000000000":
            lambda: LNSurrogate(FilterSurrogateConfig(in_channels=3,
                                                      nonlinearity_hidden=10**10)),
        r"DettmersNeuron\(config\): .*dendritic_kernel=\(2, 2, 10000000000\)":
            lambda: DettmersNeuron(DettmersNeuronConfig(
                n_synapses=5, n_dendrites=2, dendritic_kernel=(2, 2, 10**10), n_outputs=3)),
        r"difference_of_exponentials_kernel: n_taps=100000000000":
            lambda: LF.difference_of_exponentials_kernel(1.0, 2.0, dt_ms=1.0, n_taps=10**11),
        r"poisson_delay_pmf: n_taps=100000000000": lambda: LF.poisson_delay_pmf(0.5, 10**11),
        r"sample_poisson_delays: shape=\(1000000, 1000000\)":
            lambda: LF.sample_poisson_delays((10**6, 10**6), 0.5),
    }
    for pattern, build in refused.items():
        # each names the call and its size arguments, the estimate and the bound to raise
        with pytest.raises(ValueError, match=pattern + r".*(max_bytes|max_layers)"):
            build()


def test_the_bound_is_an_argument():
    with pytest.raises(ValueError, match=r"would allocate about 56 B of parameters, more than "
                                         r"max_bytes = 40 B; .* pass max_bytes=57"):
        CausalConv1d(2, 2, 3, max_bytes=40)  # 2 × (2 × 3 + 1) float32 values = 56 B
    assert CausalConv1d(2, 2, 3, max_bytes=56).weight.shape == (2, 2, 3)  # at the bound: fine
    tcn = TCN(TCNConfig(in_channels=2, depth=3, width=2, kernel_sizes=2), max_layers=3)
    assert len(tcn.body) == 9  # three layers of conv, ReLU, batch norm
    with pytest.raises(ValueError, match=r"max_bytes must be a number > 0"):
        SomaticFilter(5, max_bytes=-1)


def test_forward_passes_check_their_work():
    x = torch.zeros(1, 1, 1, 4096, 8)
    w = torch.zeros(1, 1, 1, 4096, 1)
    with pytest.raises(ValueError, match=r"dendritic_conv: x of shape \(1, 1, 1, 4096, 8\) and "
                                         r"weight of shape \(1, 1, 1, 4096, 1\) would allocate "
                                         r"about .* of memory \(algorithm='toeplitz'\)"):
        LF.dendritic_conv(x, w, algorithm="toeplitz", max_bytes=2**26)  # 4096² matrices
    assert LF.dendritic_conv(x, w, algorithm="direct").shape == x.shape  # the cheap form runs
    neuron = DettmersNeuron(DettmersNeuronConfig(
        n_synapses=2, n_dendrites=1000, synapses_per_dendrite=10**6, dendritic_kernel=(1, 1, 1),
        n_outputs=1), max_bytes=2**30)
    with pytest.raises(ValueError, match=r"DettmersNeuron.forward: x of shape \(1, 2, 5\) on a "
                                         r"grid of config.branch_slots=1000000 × "
                                         r"n_dendrites=1000"):
        neuron(torch.zeros(1, 2, 5))  # 2 synapses padded to a 10⁹-slot grid


def test_per_channel_toeplitz_falls_back_to_fft_when_large():
    x = torch.randn(2, 600, 300, dtype=torch.float64)
    kernel = torch.randn(600, 5, dtype=torch.float64)
    y = LF.temporal_filter(x, kernel)  # 600 × 300² entries: over the Toeplitz cap
    direct = torch.stack([torch.stack([
        torch.tensor([sum(kernel[c, n] * x[b, c, t - n] for n in range(5) if t - n >= 0)
                      for t in range(8)]) for c in range(3)]) for b in range(2)])
    # the FFT route gives the causal sum (checked on the first steps of three channels)
    assert torch.allclose(y[:, :3, :8], direct, atol=1e-10)
