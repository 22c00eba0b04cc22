"""The FLOP counter against a ground truth that computes each op and counts what it does.

Reference tier: ``neurocomp.accounting.truth.loops`` (with ``truth.layers``
and ``truth.rnn``) computes convolutions and their gradients, matrix products,
attention, pooling, normalisation and recurrent layers by explicit loops, counting every
multiply-add and element operation it performs. First its results must equal PyTorch's (it
computes the op), and a few counts must equal what can be derived by hand; then the library's
count must equal it on every case and phase of the zoo, exactly (integers compared with ``==``:
both count the same operations, so any difference is a wrong formula, not rounding).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from neurocomp.accounting import count
from neurocomp.accounting.counting import formulas as F
from neurocomp.accounting.scalar_ops import ScalarOpCosts
from neurocomp.accounting.truth import ground_truth_table
from neurocomp.accounting.truth.layers import avg_pool, max_pool
from neurocomp.accounting.truth.loops import (
    ConvGeometry,
    OpCounts,
    conv_forward,
    conv_input_grad,
    conv_weight_grad,
    matmul,
)
from neurocomp.accounting.truth.rnn import (
    RecurrentWeights,
    gru_layer_forward,
    lstm_layer_forward,
    rnn_tanh_layer_forward,
)
from neurocomp.accounting.truth.zoo import GroundTruthError, agree

HEAVY = ScalarOpCosts(division_flop=4.0, sqrt_flop=4.0, transcendental_flop=20.0,
                      comparison_flop=2.0)


@pytest.fixture(scope="module")
def table():
    return ground_truth_table()


def _np(t):
    return t.detach().double().numpy()


# -- the reference computes the ops ------------------------------------------------------------

@st.composite
def conv_configs(draw):
    dims, transposed = draw(st.integers(1, 2)), draw(st.booleans())
    groups = draw(st.sampled_from([1, 2, 3]))
    kernel, stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(
        st.integers(1, 2))
    padding = draw(st.integers(0, dilation * (kernel - 1) // 2 + 1))
    out_pad = draw(st.integers(0, max(stride, dilation) - 1)) if transposed else 0
    if transposed:
        padding = min(padding, (dilation * (kernel - 1) + out_pad) // 2)
    size = dilation * (kernel - 1) + 1 + draw(st.integers(0, 3))
    kinds = {(1, False): nn.Conv1d, (2, False): nn.Conv2d, (1, True): nn.ConvTranspose1d,
             (2, True): nn.ConvTranspose2d}
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if transposed:
        kwargs["output_padding"] = out_pad
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    return kinds[dims, transposed](c_in, c_out, kernel, **kwargs).double(), (2, c_in, *(
        (size,) * dims))


@settings(max_examples=12, deadline=None)
@given(c=conv_configs())
def test_convolution_and_its_gradients_equal_torch_and_the_library(c):
    module, shape = c
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    y = module(x)
    gy = torch.randn_like(y)
    gx, gw = torch.autograd.grad(y, (x, module.weight), gy)
    geo, w = ConvGeometry.of(module), _np(module.weight)
    fwd = conv_forward(_np(x), w, _np(module.bias), geo)
    agree("forward", fwd.value, y)
    agree("input grad", conv_input_grad(_np(gy), w, shape, geo).value, gx)
    weight = conv_weight_grad(_np(gy), _np(x), w.shape, geo)
    agree("weight grad", weight.value, gw)
    # forward, input and weight gradient: the same N·P·C_out·C_in/g·K multiply-adds
    assert weight.counts.mac == fwd.counts.mac
    assert count(module, x.detach(), backward=False, device="real").forward_flop \
        == fwd.counts.flop()


def test_agree_refuses_a_wrong_result():
    with pytest.raises(GroundTruthError, match="differs from PyTorch's"):
        agree("op", np.zeros(3), torch.ones(3))


def test_geometry_errors_name_the_field():
    with pytest.raises(ValueError, match=r"stride\[0\] must be an integer in \[1, inf\]"):
        ConvGeometry(dims=1, stride=0, padding=0, dilation=1)
    with pytest.raises(ValueError, match="stride must be an int or have 2 entries"):
        ConvGeometry(dims=2, stride=(1, 1, 1), padding=0, dilation=1)
    with pytest.raises(ValueError, match="output_padding must be 0"):
        ConvGeometry(dims=1, stride=2, padding=0, dilation=1, output_padding=1)
    with pytest.raises(ValueError, match="do not multiply"):
        matmul(np.ones((2, 3)), np.ones((4, 2)))


# -- counts derivable by hand --------------------------------------------------------------------

def test_one_by_one_convolution_is_n_cout_cin_l_macs():
    # a 1×1 convolution without padding is one C_in-long dot product per output value: exactly
    # N·C_out·C_in·L products, each added into its accumulator once (tolerance 0: both sides
    # are integer counts of the same operations)
    n, c_in, c_out, length = 2, 3, 5, 7
    module = nn.Conv1d(c_in, c_out, 1).double()
    x = torch.randn(n, c_in, length, dtype=torch.float64)
    truth = conv_forward(_np(x), _np(module.weight), _np(module.bias), ConvGeometry.of(module))
    assert truth.counts == OpCounts(mac=n * c_out * c_in * length)
    assert truth.counts.flop() == 2 * n * c_out * c_in * length


def test_grouped_weight_gradient_is_not_counted_groups_times():
    # depthwise 3×3, 6 channels: each of the 6·1·9 weights sums N·P = 2·25 products
    module = nn.Conv2d(6, 6, 3, padding=1, groups=6).double()
    x = np.random.default_rng(0).normal(size=(2, 6, 5, 5))
    gw = conv_weight_grad(np.ones((2, 6, 5, 5)), x, module.weight.shape,
                          ConvGeometry.of(module))
    assert gw.counts.mac == 6 * 1 * 9 * 2 * 25


def test_matrix_product_and_pooling_counts_by_hand():
    assert matmul(np.ones((4, 5)), np.ones((5, 3))).counts == OpCounts(mac=4 * 3 * 5)
    assert matmul(np.ones((2, 4, 5)), np.ones((2, 5, 3)), np.ones(3)).counts.mac == 2 * 60
    x = np.ones((1, 2, 6, 6))
    # 3×3 windows, stride 3, no padding: 2·2·2 outputs of 9 taps each
    assert max_pool(x, (3, 3), (3, 3), (0, 0)).counts == OpCounts(comparison=8 * 9)
    assert avg_pool(x, (3, 3), (3, 3), (0, 0)).counts == OpCounts(arithmetic=8 * 9,
                                                                  division=8)


def test_recurrent_layers_by_hand():
    steps, batch, n_in, hidden = 3, 2, 5, 4
    rng = np.random.default_rng(1)
    rows = steps * batch
    for gates, layer, per_unit in ((4, lstm_layer_forward, 19), (3, gru_layer_forward, 14),
                                   (1, rnn_tanh_layer_forward, 2)):
        w = RecurrentWeights(rng.normal(size=(gates * hidden, n_in)),
                             rng.normal(size=(gates * hidden, hidden)),
                             np.zeros(gates * hidden), np.zeros(gates * hidden))
        h0 = np.zeros((batch, hidden))
        args = (h0, h0) if layer is lstm_layer_forward else (h0,)
        c = layer(rng.normal(size=(steps, batch, n_in)), w, *args).counts
        assert c.mac == rows * gates * hidden * (n_in + hidden)
        assert c.flop() - c.mac_flop == rows * hidden * per_unit


# -- the library against the ground truth -------------------------------------------------------

def test_library_equals_the_ground_truth_on_every_case_and_phase(table):
    assert len(table) >= 70 and set(table["family"]) == {
        "convolution", "matmul", "attention", "pooling", "normalization", "recurrent"}
    bad = table[table["library_flop"] != table["truth_flop"]]
    assert bad.empty, bad[["case", "phase", "truth_flop", "library_flop"]].to_string()
    assert (table["uncounted"] == "").all()
    # every phase of the convolutions is there, each gradient apart
    conv = table[table["family"] == "convolution"]
    assert set(conv["phase"]) == {"forward", "input grad", "weight grad", "bias grad"}


def test_library_equals_the_ground_truth_at_other_prices():
    heavy = ground_truth_table(costs=HEAVY, cases=[
        "attention_fused", "attention_unfused_causal", "max_pool2d", "avg_pool2d",
        "batch_norm_train", "batch_norm_eval", "layer_norm", "lstm"])
    bad = heavy[heavy["library_flop"] != heavy["truth_flop"]]
    assert bad.empty, bad[["case", "phase", "truth_flop", "library_flop"]].to_string()


def test_flop_counter_mode_against_the_ground_truth(table):
    # its rules, as the library reproduces them, equal FlopCounterMode (a sanity check only)
    assert (table["fcm_rules_flop"] == table["fcm_flop"]).all()
    conv = table[table["family"] == "convolution"].set_index(["case", "phase"])
    # products exact for forward and input gradient; the weight gradient counted g times
    for case, groups in (("conv2d_groups4", 4), ("conv2d_depthwise", 6),
                         ("convT2d_depthwise", 4), ("conv2d_strided", 1)):
        for phase in ("forward", "input grad"):
            assert conv.at[(case, phase), "fcm_flop"] == conv.at[(case, phase), "truth_flop"]
        row = conv.loc[(case, "weight grad")]
        assert row["fcm_flop"] == groups * row["truth_flop"]
    fused = table[table["case"] == "attention_fused"]
    assert (fused["fcm_flop"] == 0).all() and (fused["truth_flop"] > 0).all()


def test_lstm_on_the_cpu_is_counted_and_equals_the_unrolled_truth(table):
    lstm = table[table["case"] == "lstm"].set_index("phase")
    assert lstm.at["forward", "library_flop"] > 0
    assert lstm.at["all grads", "library_flop"] == lstm.at["all grads", "truth_flop"] > 0
    # bidirectional, batch first: one oneDNN call per layer and direction, each an unrolled layer
    module = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    report = count(module, torch.randn(2, 5, 3), backward=False)
    assert "aten.mkldnn_rnn_layer" in {o.op for o in report.ops}
    rng = np.random.default_rng(2)
    zeros = np.zeros((2, 4))
    truth = 0.0
    for n_in in (3, 8):  # the second layer reads both directions' outputs
        w = RecurrentWeights(rng.normal(size=(16, n_in)), rng.normal(size=(16, 4)))
        truth += 2 * lstm_layer_forward(rng.normal(size=(5, 2, n_in)), w, zeros, zeros
                                        ).counts.flop()
    assert report.forward_flop == truth


def test_oneDNN_formula_of_gru_and_rnn_modes_equals_the_unrolled_truth():
    # on this CPU PyTorch runs GRU and RNN as generic ops; the mkldnn_rnn_layer formula of
    # their modes must still be the unrolled layer's count
    rng = np.random.default_rng(3)
    steps, batch, n_in, hidden = 4, 3, 5, 2
    for mode, gates, layer in ((3, 3, gru_layer_forward), (1, 1, rnn_tanh_layer_forward)):
        w = RecurrentWeights(rng.normal(size=(gates * hidden, n_in)),
                             rng.normal(size=(gates * hidden, hidden)))
        truth = layer(rng.normal(size=(steps, batch, n_in)), w, np.zeros((batch, hidden)))
        flop = F.mkldnn_rnn_layer_flop((steps, batch, n_in), w.w_ih.shape, w.w_hh.shape, None,
                                       None, None, None, False, [], mode, hidden, costs=HEAVY)
        assert flop == truth.counts.flop(HEAVY)


def test_low_level_attention_kernels_read_batch_seq_heads_dim():
    # _flash_attention_forward takes (batch, seq, heads, dim): the same work as the fused
    # kernel on (batch, heads, seq, dim); FlopCounterMode's rule reads the shapes as given
    b, s, h, d = 2, 7, 3, 4
    low = F.attention(backward=False, layout="bshd", nested_at=0)
    fused = F.attention(backward=False)
    assert low((b, s, h, d), (b, s, h, d), (b, s, h, d), None) == fused(
        (b, h, s, d), (b, h, s, d), (b, h, s, d))
    assert F.flash_attention_flop((b, s, h, d), (b, s, h, d), (b, s, h, d), None) \
        == 2 * 2 * b * s * h * h * d  # its products with s and h swapped


@pytest.mark.parametrize("case", ["conv2d_groups4", "attention_fused", "layer_norm"])
def test_counting_on_meta_gives_the_same_counts(case, table):
    from neurocomp.accounting.truth.cases import zoo_cases

    built = zoo_cases()[case](torch.Generator().manual_seed(0))
    rows = table[table["case"] == case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = count(built.module, built.inputs, backward=False)
    assert report.forward_flop == rows.loc[rows["phase"] == "forward", "truth_flop"].item()
