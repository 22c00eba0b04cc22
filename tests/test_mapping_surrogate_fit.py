"""Training and scoring surrogates on many sequences: windows inside sequences, equal-receptive-
field TCNs, the filter baselines, whole-set validation, pooled metrics with bootstrap intervals
over sequences, FLOPs per simulated ms, and learning a synthetic neuron."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from neurocomp.layers.baselines import FilterSurrogateConfig, LinearSurrogate, LNSurrogate
from neurocomp.layers.elm import ELM, ELMConfig
from neurocomp.layers.tcn import TCN, TCNConfig, TCNOutput, equal_rf_kernels
from neurocomp.mapping import (
    SequenceWindows,
    SurrogateTrainConfig,
    flops_per_ms,
    parameter_count,
    predict,
    score_surrogate,
    train_surrogate,
)
from neurocomp.mapping.surrogate import NeuronIO, roc_auc
from neurocomp.mapping.surrogate_fit import surrogate_loss

F64 = torch.float64

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _seq(rng, n, channels=4, p=0.1, spike_p=0.05) -> NeuronIO:
    return NeuronIO(inputs=(rng.random((channels, n)) < p).astype(np.uint8),
                    soma_mV=-70 + 5 * rng.standard_normal(n),
                    spikes=(rng.random(n) < spike_p).astype(np.uint8))


class Oracle(nn.Module):
    """Spike logit = input channel 0, voltage = channel 1 (mV): a model whose outputs the test
    chooses exactly."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.zeros((), dtype=F64))

    def forward(self, x):
        return TCNOutput(spike_logits=x[:, 0], soma_voltage=x[:, 1], dendritic=None)


# -- equal receptive fields, input projection, baselines ---------------------------------------

@pytest.mark.parametrize("depth", [1, 2, 3, 5, 7])
def test_equal_rf_kernels_give_exactly_the_target(depth):
    ks = equal_rf_kernels(depth, 150)
    cfg = TCNConfig(in_channels=3, depth=depth, width=4, kernel_sizes=ks)
    assert cfg.receptive_field_steps == 150  # exact: 1 + Σ(K_i − 1) by construction
    assert len(ks) == depth and min(ks) >= 2 and max(ks) - min(ks) <= 1  # even split
    assert list(ks) == sorted(ks, reverse=True)  # the first kernels take the remainder


def test_equal_rf_kernels_errors():
    assert equal_rf_kernels(149, 150) == (2,) * 149  # the deepest possible: all 2-tap
    with pytest.raises(ValueError, match=r"depth=150 layers of at least 2 taps see at least "
                                         r"151 bins, more than receptive_field_bins=150"):
        equal_rf_kernels(150, 150)
    with pytest.raises(ValueError, match=r"depth=200 .* use depth ≤ 149"):
        equal_rf_kernels(200, 150)
    with pytest.raises(ValueError, match=r"receptive_field_bins must be an integer in "
                                         r"\[2, inf\]; got 1"):
        equal_rf_kernels(1, 1)


def test_tcn_input_projection_and_soma_bias():
    torch.manual_seed(0)
    plain = TCN(TCNConfig(in_channels=6, depth=2, width=3, kernel_sizes=(3, 2)), dtype=F64)
    proj = TCN(TCNConfig(in_channels=6, depth=2, width=3, kernel_sizes=(3, 2),
                         input_projection=2, soma_bias_init=-67.7), dtype=F64).eval()
    assert not any("input_projection" in k for k in plain.state_dict())  # old layout kept
    # parameters: the 1×1 projection 6·2 + 2, then a first layer on 2 channels, not 6
    n_plain = sum(p.numel() for p in plain.parameters())
    assert sum(p.numel() for p in proj.parameters()) == n_plain + (6 * 2 + 2) - (6 - 2) * 3 * 3
    assert float(proj.soma_head.bias.detach()) == -67.7  # exact fill
    x = torch.randn(2, 6, 12, dtype=F64)
    with torch.no_grad():
        manual = proj.soma_head(proj.body(proj.input_projection(x))).squeeze(1)
        assert torch.equal(proj(x).soma_voltage, manual)  # same ops: exact
    assert proj.config.receptive_field_steps == 4  # a 1×1 layer adds no history


def test_baselines_are_linear_and_ln_starts_linear():
    cfg = FilterSurrogateConfig(in_channels=5, receptive_field_bins=7, projection=2)
    torch.manual_seed(0)
    lin = LinearSurrogate(cfg, dtype=F64)
    torch.manual_seed(0)
    ln = LNSurrogate(cfg, dtype=F64)
    assert parameter_count(lin) == 5 * 2 + 2 * 2 * 7 + 2  # projection, filter, 2 biases
    assert parameter_count(ln) == parameter_count(lin) + (16 + 16) + (16 + 1)  # 1→16→1 MLP
    x, y = torch.randn(2, 5, 20, dtype=F64), torch.randn(2, 5, 20, dtype=F64)
    with torch.no_grad():
        zero = lin(torch.zeros_like(x))
        f = lambda v: torch.stack([lin(v).spike_logits - zero.spike_logits,  # noqa: E731
                                   lin(v).soma_voltage - zero.soma_voltage])
        # superposition holds to float64 round-off (sums of ~50 O(1) terms): 1e-12
        torch.testing.assert_close(f(2 * x - 3 * y), 2 * f(x) - 3 * f(y), rtol=0, atol=1e-12)
        assert float(zero.soma_voltage[0, 0]) == pytest.approx(-67.7, abs=1e-12)  # bias init
        # the LN model's skip + zeroed last layer make it the linear model at first: exact
        assert torch.equal(ln(x).soma_voltage, lin(x).soma_voltage)
        assert torch.equal(ln(x).spike_logits, lin(x).spike_logits)
        with torch.no_grad():
            ln.nonlinearity[2].weight.fill_(1.0)
        u = lin(x).soma_voltage
        z = ((u + 67.7) / 10.0).unsqueeze(-1)  # g is pointwise in the drive u
        expected = u + ln.nonlinearity(z).squeeze(-1)
        torch.testing.assert_close(ln(x).soma_voltage, expected, rtol=0, atol=1e-12)


# -- windows -----------------------------------------------------------------------------------

def _labelled(k: int, n: int) -> NeuronIO:
    """Channel 0 = the sequence's number, channel 1 = the bin index (exact in float32)."""
    inputs = np.stack([np.full(n, float(k)), np.arange(n, dtype=float)])
    return NeuronIO(inputs=inputs, soma_mV=np.linspace(-80, -40, n), spikes=np.zeros(n))


def test_no_window_crosses_a_sequence_boundary():
    lengths = [30, 57, 41]
    ds = SequenceWindows([_labelled(k, n) for k, n in enumerate(lengths)], window=20, stride=7)
    # windows per sequence: ⌊(n − W)/stride⌋ + 1 = 2, 6, 4
    assert len(ds) == sum((n - 20) // 7 + 1 for n in lengths) == 12
    for i in range(len(ds)):
        x, (spikes, volt) = ds[i]
        k, a = ds.index[i]
        assert a + 20 <= lengths[k]  # ends inside its sequence
        assert torch.equal(x[0], torch.full((20,), float(k), dtype=x.dtype))  # sequence k
        assert torch.equal(x[1], torch.arange(a, a + 20, dtype=x.dtype))  # contiguous, exact
        assert float(volt.max()) <= -55.0  # Beniaguev et al.'s ceiling, exact clip
        # inputs keep their stored dtype (float64 here; uint8 events in NeuronIO-mini)
        assert x.dtype == torch.float64 and tuple(spikes.shape) == (20,)


def test_window_errors_name_the_field(rng):
    seqs = [_seq(rng, 100), _seq(rng, 60), _seq(rng, 80)]
    with pytest.raises(ValueError, match=r"window=61 bins is longer than the shortest sequence "
                                         r"\(sequences\[1\], 60 bins\)"):
        SequenceWindows(seqs, window=61)
    bad = np.asarray(seqs[2].inputs, dtype=float)
    bad[1, 5] = np.nan
    nan_seq = NeuronIO(inputs=bad, soma_mV=seqs[2].soma_mV, spikes=seqs[2].spikes)
    with pytest.raises(ValueError, match=r"sequences\[1\].inputs must hold only finite values; "
                                         r"found 1 NaN/inf entry \(first at index \(1, 5\)"):
        SequenceWindows([seqs[0], nan_seq], window=10)
    two = NeuronIO(inputs=seqs[0].inputs, soma_mV=seqs[0].soma_mV,
                   spikes=np.full(100, 2))
    with pytest.raises(ValueError, match=r"sequences\[0\].spikes must be 0 or 1 per bin"):
        SequenceWindows([two], window=10)
    with pytest.raises(ValueError, match=r"sequences\[1\] has 5 input channels; sequences\[0\] "
                                         r"has 4"):
        SequenceWindows([seqs[0], _seq(rng, 50, channels=5)], window=10)
    with pytest.raises(ValueError, match=r"sequences must hold at least one sequence"):
        SequenceWindows([], window=10)
    with pytest.raises(ValueError, match=r"soma_mV must hold only finite values"):
        NeuronIO(inputs=seqs[0].inputs, soma_mV=np.full(100, np.inf), spikes=seqs[0].spikes)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"spike_loss_weight": -1.0}, r"spike_loss_weight must be in \[0, inf\); got -1"),
    ({"voltage_loss_weight": -0.5}, r"voltage_loss_weight must be in \[0, inf\); got -0.5"),
    ({"spike_loss_weight": 0.0, "voltage_loss_weight": 0.0}, r"both 0"),
    ({"spike_pos_weight": 0.0}, r"spike_pos_weight must be in \(0, inf\); got 0"),
    ({"warmup_bins": 500}, r"warmup_bins must be an integer in \[0, 499\]; got 500"),
    ({"schedule": "step"}, r"schedule must be one of 'cosine', 'one_cycle', 'constant'"),
    ({"learning_rate": 0.0}, r"learning_rate must be in \(0, inf\); got 0"),
    ({"weight_decay": -1e-4}, r"weight_decay must be in \[0, inf\); got -0.0001"),
    ({"patience": 0}, r"patience must be an integer in \[1, inf\]; got 0"),
])
def test_train_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SurrogateTrainConfig(**kwargs)


# -- prediction and scoring --------------------------------------------------------------------

def test_predict_in_chunks_equals_one_pass(rng):
    torch.manual_seed(0)
    net = TCN(TCNConfig(in_channels=4, depth=2, width=3, kernel_sizes=(5, 4)), dtype=F64)
    seq = _seq(rng, 230)
    whole = predict(net, seq, chunk_bins=10_000)
    parts = predict(net, seq, chunk_bins=37)  # chunks overlap by the receptive field (8)
    # each kept output saw its full history in both runs; conv round-off only (float64)
    np.testing.assert_allclose(parts[0], whole[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(parts[1], whole[1], rtol=0, atol=1e-12)
    assert net.training  # mode restored


def _oracle_seq(rng, n, spikes=True) -> NeuronIO:
    s = (rng.random(n) < 0.05).astype(np.uint8) if spikes else np.zeros(n, np.uint8)
    logit = s * 1.0 + rng.standard_normal(n)  # informative but imperfect spike score
    target = -70 + 6 * rng.standard_normal(n)
    volt = np.minimum(target, -55) + rng.standard_normal(n)  # 1 mV prediction error
    return NeuronIO(inputs=np.stack([logit, volt]), soma_mV=target, spikes=s)


def test_score_pools_sequences_and_bootstraps_over_them(rng):
    seqs = [_oracle_seq(rng, 400) for _ in range(7)] + [_oracle_seq(rng, 300, spikes=False)]
    warm = 25
    score = score_surrogate(Oracle(), seqs, warmup_bins=warm, n_boot=400, seed=3)
    kept = [(np.asarray(s.inputs)[:, warm:], np.minimum(s.soma_mV, -55)[warm:],
             np.asarray(s.spikes)[warm:]) for s in seqs]
    logit = np.concatenate([k[0][0] for k in kept])
    volt = np.concatenate([k[0][1] for k in kept])
    target = np.concatenate([k[1] for k in kept])
    spikes = np.concatenate([k[2] for k in kept])
    # pooled metrics computed directly; the score uses per-sequence sums: float64 round-off
    assert score.spike_auc == pytest.approx(roc_auc(spikes, logit), abs=1e-12)
    ve = 1 - np.var(target - volt) / np.var(target)
    assert score.voltage_variance_explained == pytest.approx(ve, abs=1e-10)
    assert score.voltage_rmse_mV == pytest.approx(np.sqrt(np.mean((target - volt) ** 2)),
                                                  rel=1e-12)
    assert (score.n_sequences, score.n_bins, score.n_spikes) == (8, 7 * 375 + 275,
                                                                 int(spikes.sum()))
    # a percentile interval of the resampled statistic brackets the full-sample value here
    # (8 similar sequences, 400 resamples: the point sits near the middle of the interval)
    for value, (lo, hi) in ((score.spike_auc, score.spike_auc_ci),
                            (score.voltage_variance_explained, score.voltage_variance_explained_ci),
                            (score.voltage_rmse_mV, score.voltage_rmse_mV_ci)):
        assert lo < value < hi
    assert score.n_boot_auc_undefined == 0 and score.note == ""
    # the resampled AUC formula c^T M c / ((c·P)(c·N)) with repeated sequences equals the
    # AUC of the data with those sequences repeated (exact counting, round-off only)
    picked = [seqs[0], seqs[0], seqs[3], seqs[7], seqs[7], seqs[7]]
    again = score_surrogate(Oracle(), picked, warmup_bins=warm, n_boot=1)
    rep = [kept[i] for i in (0, 0, 3, 7, 7, 7)]
    assert again.spike_auc == pytest.approx(
        roc_auc(np.concatenate([k[2] for k in rep]), np.concatenate([k[0][0] for k in rep])),
        abs=1e-12)
    # same seed, same intervals (exact)
    assert score_surrogate(Oracle(), seqs, warmup_bins=warm, n_boot=400, seed=3) == score


def test_score_without_spikes_and_errors(rng):
    quiet = [_oracle_seq(rng, 200, spikes=False) for _ in range(3)]
    score = score_surrogate(Oracle(), quiet, warmup_bins=10, n_boot=50)
    assert math.isnan(score.spike_auc) and all(math.isnan(v) for v in score.spike_auc_ci)
    assert "no spike in the scored bins" in score.note
    assert score.n_boot_auc_undefined == 50  # no resample has a spike
    assert score.voltage_rmse_mV == pytest.approx(1.0, rel=0.1)  # 1 mV noise, 570 bins: ±5 %
    with pytest.raises(ValueError, match=r"test\[0\] has 200 bins, not more than "
                                         r"warmup_bins=200"):
        score_surrogate(Oracle(), quiet, warmup_bins=200)
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\); got 1"):
        score_surrogate(Oracle(), quiet, warmup_bins=10, confidence=1.0)


# -- cost --------------------------------------------------------------------------------------

def test_flops_per_ms_against_a_hand_count():
    net = TCN(TCNConfig(in_channels=3, depth=2, width=(4, 5), kernel_sizes=(3, 2),
                        batch_norm=False))
    cost = flops_per_ms(net, 3, bins=50)
    # per 1 ms bin: 2 FLOPs per MAC of each conv (bias adds not counted by the registry's conv
    # formula), 1 FLOP per ReLU comparison: conv1 2·3·4·3 = 72, relu 4, conv2 2·4·5·2 = 80,
    # relu 5, spike and soma heads 2·5 each
    assert cost.flop_per_ms == 72 + 4 + 80 + 5 + 10 + 10  # exact: integer counts
    assert cost.counted_on == "meta" and cost.uncounted_ops == ()
    assert cost.convention == "1 multiply-add (MAC) = 2 FLOPs"
    lin = LinearSurrogate(FilterSurrogateConfig(in_channels=600, receptive_field_bins=150))
    assert flops_per_ms(lin, 600).flop_per_ms == 2 * (600 * 4 + 4 * 2 * 150)  # exact
    # a Branch-ELM sums its traces per branch before the MLP: its cost per ms is a fraction
    # of the vanilla ELM's (the MLP's first layer reads 45 branches, not 600 channels)
    vanilla = flops_per_ms(ELM(ELMConfig(in_channels=600)), 600, bins=64).flop_per_ms
    branch = flops_per_ms(ELM(ELMConfig(in_channels=600, branch_of_channel=tuple(
        k % 45 for k in range(600)))), 600, bins=64).flop_per_ms
    # vanilla ≥ 2·40·600 = 48,000 FLOPs/ms for the input projection alone; branch: routing
    # (~2·600) plus 2·40·45 = 3,600 for the projection, the memory MLP the same in both
    assert vanilla > 48_000 and branch < vanilla / 3


def test_flops_per_ms_falls_back_to_the_cpu():
    class NeedsValues(Oracle):
        def forward(self, x):
            scale = float(x.abs().sum() > 0)  # .item(): impossible on the meta device
            return TCNOutput(spike_logits=x[:, 0] * scale, soma_voltage=x[:, 1],
                             dendritic=None)

    cost = flops_per_ms(NeedsValues(), 2, bins=10)
    assert cost.counted_on == "cpu"
    # abs (1 FLOP/element) and sum (1 FLOP/element) over 2·10 inputs, a comparison, and the
    # multiply of 10 logits: (20 + 20 + 1 + 10) / 10 bins — the registry's unit costs
    assert cost.flop_per_ms == pytest.approx((20 + 20 + 1 + 10) / 10, abs=1e-12)


# -- learning a synthetic neuron ---------------------------------------------------------------

C_SYN = 16  # 8 excitatory then 8 inhibitory inputs


def _filtered(d: np.ndarray, tau_ms: float) -> np.ndarray:
    out, a = np.zeros(d.size), 0.0
    for t in range(d.size):
        a = math.exp(-1.0 / tau_ms) * a + d[t]
        out[t] = a
    return out


def _synthetic_neuron(rng, n: int) -> NeuronIO:
    """Voltage a known nonlinear function of two filtered inputs: saturating excitation
    (τ 10 ms) divided by shunting inhibition (τ 20 ms); a spike (voltage +20 mV, clipped by
    the ceiling) on each upward crossing of −68.5 mV. No single linear drive fits it."""
    rate = 0.04 * (1 + np.sin(np.arange(n) / rng.uniform(40, 200) + rng.uniform(0, 6)))
    x = (rng.random((C_SYN, n)) < rate).astype(np.uint8)
    exc = _filtered(x[: C_SYN // 2].sum(0), 10.0)
    inh = _filtered(x[C_SYN // 2:].sum(0), 20.0)
    v = -75 + 20 / (1 + np.exp(-2 * (exc - 2.5))) / (1 + 0.5 * inh)
    above = v > -68.5
    spikes = np.r_[0, above[1:] & ~above[:-1]].astype(np.uint8)
    return NeuronIO(inputs=x, soma_mV=np.where(spikes == 1, 20.0, v), spikes=spikes)


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(0)
    train = [_synthetic_neuron(rng, 2000) for _ in range(10)]
    val = [_synthetic_neuron(rng, 1000) for _ in range(2)]
    test = [_synthetic_neuron(rng, 1000) for _ in range(4)]
    mean = float(np.mean(np.concatenate([np.minimum(s.soma_mV, -55) for s in train])))
    return train, val, test, mean


@pytest.fixture(scope="module")
def linear_baseline(synthetic):
    train, val, test, mean = synthetic
    threads = torch.get_num_threads()  # module scope: set up before one_torch_thread applies
    torch.set_num_threads(1)
    torch.manual_seed(0)
    lin = LinearSurrogate(FilterSurrogateConfig(in_channels=C_SYN, receptive_field_bins=40,
                                                projection=2, voltage_bias_init_mV=mean))
    cfg = SurrogateTrainConfig(epochs=12, learning_rate=5e-3, window_bins=200, stride_bins=50,
                               warmup_bins=40, spike_pos_weight=10.0, patience=None)
    try:
        train_surrogate(lin, train, val, cfg)
        return score_surrogate(lin, test, warmup_bins=40, n_boot=200)
    finally:
        torch.set_num_threads(threads)


def test_tcn_learns_the_synthetic_neuron_better_than_linear(synthetic, linear_baseline):
    train, val, test, mean = synthetic
    torch.manual_seed(0)
    net = TCN(TCNConfig(in_channels=C_SYN, depth=2, width=8, kernel_sizes=equal_rf_kernels(2, 40),
                        batch_norm=False, soma_bias_init=mean))
    cfg = SurrogateTrainConfig(epochs=12, learning_rate=5e-3, window_bins=200, stride_bins=50,
                               warmup_bins=40, spike_pos_weight=10.0, patience=4)
    report = train_surrogate(net, train, val, cfg)
    score = score_surrogate(net, test, warmup_bins=40, n_boot=200)
    # Measured when written (seeds 0, 1, 2 of data order and init): linear VE 0.36, 0.36,
    # 0.35; TCN VE 0.62, 0.72, 0.59. A 0.1 margin is well below the smallest gap (0.23) yet
    # far above what training noise moves the linear model (±0.01).
    assert score.voltage_variance_explained > linear_baseline.voltage_variance_explained + 0.1
    assert score.voltage_rmse_mV < linear_baseline.voltage_rmse_mV  # follows from VE here
    # the restored weights are those of the best epoch: recomputing the validation loss on
    # them gives best_val_loss (float32 model, float64 sums: 1e-5 relative)
    losses = [surrogate_loss(TCNOutput(torch.from_numpy(lg)[None], torch.from_numpy(v)[None],
                                       None),
                             torch.as_tensor(s.spikes, dtype=F64)[None],
                             torch.as_tensor(np.minimum(s.soma_mV, -55))[None], warmup_bins=40,
                             spike_pos_weight=10.0,
                             voltage_variance_mV2=report.voltage_variance_mV2).item()
              for s in val for lg, v in [predict(net, s)]]
    assert np.mean(losses) == pytest.approx(report.best_val_loss, rel=1e-5)  # equal lengths
    assert report.best_val_loss == min(r.val_loss for r in report.history)
    if report.stopped_early:  # patience 4: stops 4 epochs after the best
        assert report.epochs_run == report.best_epoch + 1 + 4
    assert report.n_train_windows == 10 * ((2000 - 200) // 50 + 1)
    assert report.history[-1].learning_rate < 5e-3  # the cosine schedule decayed


def test_elm_learns_the_synthetic_neuron_better_than_linear(synthetic, linear_baseline):
    train, val, test, mean = synthetic
    torch.manual_seed(0)
    elm = ELM(ELMConfig(in_channels=C_SYN, memory_units=8, voltage_bias_init_mV=mean,
                        exc_mask=(True,) * 8 + (False,) * 8))
    cfg = SurrogateTrainConfig(epochs=6, learning_rate=5e-3, window_bins=200, stride_bins=100,
                               warmup_bins=40, spike_pos_weight=10.0, patience=None)
    train_surrogate(elm, train, val, cfg)
    score = score_surrogate(elm, test, warmup_bins=40, n_boot=200)
    # Measured when written: ELM VE 0.59 after 6 epochs (0.71 after 12) vs linear 0.36; the
    # 0.1 margin is below that gap by 0.13
    assert score.voltage_variance_explained > linear_baseline.voltage_variance_explained + 0.1


def test_train_rejects_bad_data(synthetic):
    train, val, _, _ = synthetic
    net = LinearSurrogate(FilterSurrogateConfig(in_channels=C_SYN, receptive_field_bins=5))
    cfg = SurrogateTrainConfig(epochs=1, window_bins=100, warmup_bins=10)
    short = NeuronIO(inputs=val[0].inputs[:, :8], soma_mV=val[0].soma_mV[:8],
                     spikes=val[0].spikes[:8])
    with pytest.raises(ValueError, match=r"val\[1\] has 8 bins, not more than warmup_bins=10"):
        train_surrogate(net, train, [val[0], short], cfg)
    with pytest.raises(ValueError, match=r"window=100 bins is longer than the shortest "
                                         r"sequence \(sequences\[0\], 8 bins\)"):
        train_surrogate(net, [short], val, cfg)
    with pytest.raises(ValueError, match=r"train must hold at least one sequence"):
        train_surrogate(net, [], val, cfg)

