"""The FLOP/byte counter: against FlopCounterMode, hand calculations and the layer formulas.

Reference tier: ``torch.utils.flop_counter.FlopCounterMode`` (torch 2.13) on the same run —
the counter's reproduction of its rules must equal it *exactly* (integers, no tolerance),
forward and backward, per op and per module, on the model zoo and on a hypothesis sweep of
convolutions. Theory tier: convolution FLOPs from hyper-parameters (the output-size formula
and 2·N·P·C_out·C_in/g·K), bytes and parameters of a small net by hand, the closed-form
FLOPs of the DettmersNeuron stages. Small spatial sizes keep the file to seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from neurocomp_analyses.flop_count_check import ConvZoo
from neurocomp_models.convnets import alexnet_2012, cifar_net, resnet18
from neurocomp_models.dettmers_neurons import AMPA, granule_cell, purkinje_cell
from neurocomp_models.workloads import ALEXNET_2012_LAYERS
from torch import nn

from neurocomp.accounting import count
from neurocomp.accounting.counting import (
    UncountedOpWarning,
    UntraceableModuleError,
    compare_with_flop_counter_mode,
    conv_output_length,
    flop_counter_mode_counts,
)
from neurocomp.accounting.counting.conv_formulas import (
    conv_backward_flop,
    conv_flop,
    conv_transpose_output_length,
)
from neurocomp.accounting.counting.count_report import UncountedOp
from neurocomp.accounting.counting.formulas import fft_r2c_flop
from neurocomp.accounting.counting.layer_formulas import dendritic_conv_flop, dettmers_neuron_flop
from neurocomp.accounting.counting.op_registry import REGISTRY, UnknownOpError, op_formula
from neurocomp.accounting.hardware import Device
from neurocomp.accounting.layer_cost import resolve_inputs
from neurocomp.accounting.machine import roofline, roofline_time_s
from neurocomp.accounting.machine.roofline_model import (
    attainable_flop_per_s,
    ridge_point_flop_per_byte,
)
from neurocomp.accounting.scalar_ops import ScalarOpCosts
from neurocomp.layers import TCN, TCNConfig

SMALL_PURKINJE = {"n_synapses": 400, "n_dendrites": 100, "dendritic_kernel": (4, 100, 5),
                  "n_outputs": 10}


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _check_against_flop_counter_mode(module: nn.Module, x) -> None:
    report = count(module, x)
    reference = flop_counter_mode_counts(module, x)
    by_op, by_module = compare_with_flop_counter_mode(report, reference)
    shared = by_op[by_op["counted_by"] == "both"]
    assert len(shared) > 0
    # exact: integer FLOPs, compared with ==, forward and backward, op by op
    for _, row in shared.iterrows():
        assert row["flop_counter_mode_rules"] == row["flop_counter_mode"], row.to_dict()
    assert not (by_op["counted_by"] == "FlopCounterMode only").any()
    for phase, ref in (("forward", reference.forward), ("backward", reference.backward)):
        assert report.flop_counter_mode_flop(phase) == sum(ref.values())
    # and module by module (forward; FlopCounterMode's backward attribution is approximate)
    assert (by_module["flop_counter_mode_rules"] == by_module["flop_counter_mode"]).all()
    assert not report.uncounted, report.uncounted


ZOO = {
    "alexnet_split_67px": (lambda: alexnet_2012(adaptive=True),
                           lambda: torch.randn(2, 3, 67, 67, generator=_gen())),
    "cifar_net": (cifar_net, lambda: torch.randn(2, 3, 32, 32, generator=_gen())),
    "resnet18_32px": (resnet18, lambda: torch.randn(2, 3, 32, 32, generator=_gen())),
    "tcn_depth1": (lambda: TCN(TCNConfig(in_channels=8, depth=1, width=6, kernel_sizes=5)),
                   lambda: torch.rand(2, 8, 24, generator=_gen())),
    "tcn_depth4_dilated": (lambda: TCN(TCNConfig(in_channels=8, depth=4, width=6,
                                                 kernel_sizes=(5, 3, 3, 3),
                                                 dilations=(1, 2, 4, 8),
                                                 n_dendritic_outputs=3)),
                           lambda: torch.rand(2, 8, 40, generator=_gen())),
    "granule_train": (lambda: granule_cell().train(),
                      lambda: torch.rand(3, 15, 5, generator=_gen())),
    "granule_learnable": (lambda: granule_cell(synapse=AMPA, dt_ms=1.0, learnable_synapse=True,
                                               learnable_amplification=True,
                                               amplification=0.3, spike_threshold=0.1),
                          lambda: torch.rand(2, 15, 12, generator=_gen())),
    "purkinje_direct": (lambda: purkinje_cell(**SMALL_PURKINJE,
                                              dendritic_algorithm="direct").eval(),
                        lambda: torch.rand(1, 400, 5, generator=_gen())),
    "purkinje_toeplitz": (lambda: purkinje_cell(**SMALL_PURKINJE,
                                                dendritic_algorithm="toeplitz").train(),
                          lambda: torch.rand(1, 400, 5, generator=_gen())),
    "conv_zoo": (ConvZoo, lambda: (torch.randn(2, 4, 23, generator=_gen()),
                                   torch.randn(2, 6, 9, 11, generator=_gen()),
                                   torch.randn(2, 2, 4, 9, 9, generator=_gen()))),
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_equals_flop_counter_mode_exactly_on_the_zoo(name):
    build, make_input = ZOO[name]
    torch.manual_seed(0)
    _check_against_flop_counter_mode(build(), make_input())


# -- hypothesis: every kind of convolution ----------------------------------------------------

@st.composite
def conv_configs(draw):
    dims = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 2, 3]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kernel = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, dilation * (kernel - 1) // 2 + 1))
    size = dilation * (kernel - 1) + 1 + draw(st.integers(0, 4))
    out_pad = draw(st.integers(0, max(stride, dilation) - 1)) if transposed else 0
    if transposed:
        padding = min(padding, (dilation * (kernel - 1) + out_pad) // 2)
    return {"dims": dims, "transposed": transposed, "groups": groups, "c_in": c_in,
            "c_out": c_out, "kernel": kernel, "stride": stride, "dilation": dilation,
            "padding": padding, "size": size, "output_padding": out_pad,
            "bias": draw(st.booleans()), "input_grad": draw(st.booleans()),
            "batch": draw(st.integers(1, 2))}


def _conv_module(c: dict) -> nn.Module:
    kinds = {(1, False): nn.Conv1d, (2, False): nn.Conv2d, (3, False): nn.Conv3d,
             (1, True): nn.ConvTranspose1d, (2, True): nn.ConvTranspose2d,
             (3, True): nn.ConvTranspose3d}
    kwargs = {"stride": c["stride"], "padding": c["padding"], "dilation": c["dilation"],
              "groups": c["groups"], "bias": c["bias"]}
    if c["transposed"]:
        kwargs["output_padding"] = c["output_padding"]
    return kinds[c["dims"], c["transposed"]](c["c_in"], c["c_out"], c["kernel"], **kwargs)


@settings(max_examples=60, deadline=None)
@given(c=conv_configs())
def test_convolutions_equal_flop_counter_mode_and_the_hand_formula(c):
    module = _conv_module(c)
    x = torch.randn(c["batch"], c["c_in"], *(c["size"],) * c["dims"])
    x.requires_grad_(c["input_grad"])
    _check_against_flop_counter_mode(module, x)
    hyper = {"batch": c["batch"], "in_channels": c["c_in"], "out_channels": c["c_out"],
             "kernel_size": c["kernel"], "input_size": (c["size"],) * c["dims"],
             "stride": c["stride"], "padding": c["padding"], "dilation": c["dilation"],
             "groups": c["groups"], "transposed": c["transposed"],
             "output_padding": c["output_padding"]}
    report = count(module, x)
    ops = report.to_frame("operator").set_index(["op", "phase"])["flop"]
    assert ops[("aten.convolution", "forward")] == conv_flop(**hyper)
    assert ops[("aten.convolution_backward", "backward")] == conv_backward_flop(
        input_grad=c["input_grad"], weight_grad=True, bias_grad=c["bias"], **hyper)


# -- convolution formulas by hand --------------------------------------------------------------

def test_conv_output_sizes_by_hand():
    # floor((n + 2p − d(k−1) − 1)/s) + 1
    assert conv_output_length(227, kernel=11, stride=4) == 55          # AlexNet conv1
    assert conv_output_length(32, kernel=5, stride=2, padding=2) == 16
    assert conv_output_length(10, kernel=3, dilation=2) == 6
    assert conv_output_length(7, kernel=3, stride=2, padding=1) == 4
    # (n − 1)s − 2p + d(k − 1) + p_out + 1
    assert conv_transpose_output_length(4, kernel=3, stride=2, padding=1,
                                        output_padding=1) == 8
    with pytest.raises(ValueError, match="longer than the padded input"):
        conv_output_length(3, kernel=5)


def test_conv_flop_formulas_by_hand():
    # AlexNet conv1: 55·55 outputs × 96 maps × 3·11·11 taps = 105.4 M MACs → 210.8 MFLOP
    assert conv_flop(batch=1, in_channels=3, out_channels=96, kernel_size=11,
                     input_size=(227, 227), stride=4) == 2 * 55 * 55 * 96 * 3 * 121
    # docs/references.md#anchors-accounting-1-4: 3×3, 64→64 at 56×56, N = 32: 7.40 GFLOP
    f = conv_flop(batch=32, in_channels=64, out_channels=64, kernel_size=3,
                  input_size=(56, 56), padding=1)
    assert f == 2 * 32 * 56 * 56 * 64 * 64 * 9
    assert f / 1e9 == pytest.approx(7.40, abs=0.005)
    # groups divide the work once; depthwise is C·K per position
    dense = conv_flop(batch=2, in_channels=8, out_channels=8, kernel_size=3, input_size=10)
    assert conv_flop(batch=2, in_channels=8, out_channels=8, kernel_size=3, input_size=10,
                     groups=4) == dense // 4
    assert conv_flop(batch=2, in_channels=8, out_channels=8, kernel_size=3, input_size=10,
                     groups=8) == 2 * 2 * 8 * 8 * 3
    # transposed: every *input* position meets every tap, whatever the stride
    assert conv_flop(batch=1, in_channels=4, out_channels=6, kernel_size=(3, 3),
                     input_size=(5, 7), stride=3, transposed=True,
                     groups=2) == 2 * 35 * 4 * (6 // 2) * 9
    # backward: input and weight gradients each = forward; bias: one add per output value
    fwd = conv_flop(batch=2, in_channels=3, out_channels=5, kernel_size=3, input_size=8)
    assert conv_backward_flop(batch=2, in_channels=3, out_channels=5, kernel_size=3,
                              input_size=8, bias_grad=True) == 2 * fwd + 2 * 5 * 6
    with pytest.raises(ValueError, match="groups=3 must divide"):
        conv_flop(batch=1, in_channels=4, out_channels=6, kernel_size=3, input_size=8,
                  groups=3)


def test_grouped_weight_gradient_is_where_flop_counter_mode_overcounts():
    # FlopCounterMode (torch 2.13) counts the weight gradient with the full C_in, i.e. g×
    module = nn.Conv2d(8, 8, 3, groups=4, bias=False)
    x = torch.randn(2, 8, 10, 10)
    report = count(module, x)
    ref = flop_counter_mode_counts(module, x)
    fwd = conv_flop(batch=2, in_channels=8, out_channels=8, kernel_size=3, input_size=(10, 10),
                    groups=4)
    assert report.backward_flop == fwd                      # the weight gradient only
    assert ref.backward["aten.convolution_backward"] == 4 * fwd
    assert report.flop_counter_mode_flop("backward") == 4 * fwd


def test_fft_ops_counted_with_fftw_convention():
    # 2.5·N·log2 N per real transform of N points (FFTW's benchmark convention)
    assert fft_r2c_flop((3, 8, 16), [1, 2]) == pytest.approx(3 * 2.5 * 128 * 7)
    module = purkinje_cell(**SMALL_PURKINJE, dendritic_algorithm="fft").eval()
    report = count(module, torch.rand(2, 400, 6, generator=_gen()))
    assert not report.uncounted
    expected = dettmers_neuron_flop(module.config, batch=2, steps=6)["dendrites"]
    assert report.module("dendrites").forward_flop == pytest.approx(expected, rel=1e-12)
    # far fewer FLOPs than the direct sum (4·100·5 taps per output), as FFTs should be
    direct = dendritic_conv_flop(batch=2, in_channels=1, out_channels=1, grid=(4, 100, 6),
                                 kernel=(4, 100, 5))
    assert expected < direct / 2


# -- the layers of neurocomp, stage by stage ----------------------------------------------------

NEURONS = {
    "granule": lambda: granule_cell(),
    "granule_ampa": lambda: granule_cell(synapse=AMPA, dt_ms=1.0),
    "granule_threshold": lambda: granule_cell(spike_threshold=0.2),
    "granule_valid": lambda: granule_cell(spatial_padding="valid", n_dendrites=5,
                                          synapses_per_dendrite=4),
    "purkinje_direct": lambda: purkinje_cell(**SMALL_PURKINJE, dendritic_algorithm="direct"),
    "purkinje_toeplitz": lambda: purkinje_cell(**SMALL_PURKINJE,
                                               dendritic_algorithm="toeplitz"),
    "purkinje_fft": lambda: purkinje_cell(**SMALL_PURKINJE, dendritic_algorithm="fft"),
}


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name", sorted(NEURONS))
def test_dettmers_neuron_stages_match_their_closed_forms(name, training):
    neuron = NEURONS[name]().train(training)
    batch, steps = 3, 7
    x = torch.rand(batch, neuron.config.n_synapses, steps, generator=_gen())
    report = count(neuron, x, backward=False)
    expected = dettmers_neuron_flop(neuron.config, batch=batch, steps=steps, training=training)
    for module, flop in expected.items():
        got = (report.module(module).forward_flop if module else
               sum(o.flop for o in report.ops if o.module == "" and o.phase == "forward"))
        # same arithmetic, summed in another order: equal to float round-off
        assert got == pytest.approx(flop, rel=1e-12, abs=1e-9), module
    assert report.forward_flop == pytest.approx(sum(expected.values()), rel=1e-12)


def test_scalar_costs_change_the_count_of_special_functions():
    module = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid())
    x = torch.randn(2, 4)
    one = count(module, x, backward=False)
    many = count(module, x, backward=False, costs=ScalarOpCosts(transcendental_flop=20))
    # σ(x) = 1/(1 + e^−x): an exp, an add, a division per element; 8 elements
    assert many.forward_flop - one.forward_flop == 8 * (20 - 1)
    assert many.flop_counter_mode_flop() == one.flop_counter_mode_flop()


# -- bytes, parameters, layers ------------------------------------------------------------------

def test_bytes_and_parameters_of_a_small_net_by_hand():
    module = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    report = count(module, torch.randn(2, 4))
    assert report.parameter_count == 4 * 3 + 3
    lin = report.module("0")
    # forward addmm: reads bias (3) + W (12) parameters and x (8); writes y (6); fp32
    ops = {(o.op, o.phase): o for o in report.ops}
    addmm = ops[("aten.addmm", "forward")]
    assert (addmm.read_parameter_bytes, addmm.read_activation_bytes,
            addmm.written_activation_bytes) == (4 * 15, 4 * 8, 4 * 6)
    assert lin.forward_bytes_read == 4 * 23 and lin.forward_bytes_written == 4 * 6
    # backward: ReLU's mask reads ∂L/∂y (6) and y (6), writes 6; dW = ∂ᵀx reads 6 + 8 and
    # writes 12; db = Σ∂ reads 6 and writes 3 (x needs no gradient)
    relu_back = ops[("aten.threshold_backward", "backward")]
    assert (relu_back.read_gradient_bytes, relu_back.read_activation_bytes,
            relu_back.written_gradient_bytes) == (24, 24, 24)
    assert lin.backward_bytes_read == 4 * (6 + 8 + 6)
    assert lin.backward_bytes_written == 4 * (12 + 3)
    # FLOPs: 2·2·4·3 forward; backward 2·3·2·4 (dW) + 6 (db) + 6 (ReLU mask)
    assert report.forward_flop == 2 * 2 * 4 * 3 + 6
    assert report.backward_flop == 2 * 3 * 2 * 4 + 6 + 6
    half = count(module, torch.randn(2, 4), dtype_bytes=2)
    assert half.bytes_read() == report.bytes_read() / 2
    total = report.bytes_read() + report.bytes_written()
    assert report.arithmetic_intensity_flop_per_byte() == pytest.approx(
        report.total_flop / total)


def test_layer_costs_add_up_and_feed_the_parallel_models():
    module = resnet18()
    x = torch.randn(2, 3, 32, 32, generator=_gen())
    report = count(module, x)
    layers = report.layer_costs()
    assert sum(lay.forward_flop_per_sample for lay in layers) * 2 == pytest.approx(
        report.forward_flop)
    assert sum(lay.backward_flop for lay in layers) * 2 == pytest.approx(report.backward_flop)
    assert sum(lay.parameter_count for lay in layers) == report.trainable_parameter_count
    stem = next(lay for lay in layers if lay.name == "stem.0")
    # the first convolution needs no input gradient: backward = weight gradient = forward
    assert stem.backward_flop_per_sample == stem.forward_flop_per_sample
    assert stem.activation_elements_per_sample == 64 * 16 * 16
    assert len(resolve_inputs(layers)) == len(layers)


def test_alexnet_layers_equal_the_hand_written_ones_of_gpus_to_brain():
    module = alexnet_2012()
    report = count(module, torch.randn(1, 3, 227, 227, generator=_gen()), backward=False)
    convs = [f"features.{i}" for i, m in enumerate(module.features) if isinstance(m, nn.Conv2d)]
    fcs = [f"classifier.{i}" for i, m in enumerate(module.classifier)
           if isinstance(m, nn.Linear)]
    counted = report.layer_costs(modules=convs + fcs)
    for mine, hand in zip(counted, ALEXNET_2012_LAYERS, strict=True):
        assert mine.forward_flop_per_sample == hand.forward_flop_per_sample, hand.name
        assert mine.parameter_count == hand.parameter_count, hand.name
        assert mine.activation_elements_per_sample == hand.activation_elements_per_sample


def test_roofline_of_a_layer_by_hand():
    # 7.40 GFLOP over 51.5 MB on an A100 (312 TFLOP/s bf16, 2.039 TB/s): memory-bound
    assert ridge_point_flop_per_byte(peak_flop_per_s=312e12,
                                     memory_bandwidth_bytes_per_s=2.039e12) == pytest.approx(
        153.0, abs=0.1)  # docs/references.md#anchors-accounting-2-1: 153 FLOP/B
    t = roofline_time_s(7.40e9, 51.5e6, peak_flop_per_s=312e12,
                        memory_bandwidth_bytes_per_s=2.039e12)
    assert t == pytest.approx(51.5e6 / 2.039e12)
    assert attainable_flop_per_s(10.0, peak_flop_per_s=1e12,
                                 memory_bandwidth_bytes_per_s=1e10) == 1e11
    report = count(nn.Sequential(nn.Linear(64, 64), nn.ReLU()), torch.randn(8, 64))
    device = Device(name="toy", peak_flop_per_s=1e9, efficiency=0.5,
                    memory_bandwidth_bytes_per_s=1e8)
    roof = roofline(report, device=device)
    frame = roof.to_frame()
    relu = frame[(frame["layer"] == "1") & (frame["phase"] == "forward")].iloc[0]
    assert relu["bound"] == "memory"                    # 0.125 FLOP/B below the 5 FLOP/B ridge
    assert relu["time_s"] == pytest.approx(relu["bytes_moved"] / 1e8)
    assert roof.time_s() == pytest.approx(frame["time_s"].sum())
    with pytest.raises(ValueError, match="needs a FLOP rate and a memory bandwidth"):
        roofline(report, device=Device(peak_flop_per_s=1e9))


# -- errors, uncounted ops, side effects ---------------------------------------------------------

class _NumpyTanh(nn.Module):
    def forward(self, x):
        return torch.from_numpy(np.tanh(x.detach().numpy()))


class _Fails(nn.Module):
    def forward(self, x):
        return x @ torch.ones(5, 5)  # shapes do not match


def test_untraceable_modules_are_named_in_the_error():
    net = nn.Sequential(nn.Linear(3, 3), _NumpyTanh())
    with pytest.raises(UntraceableModuleError, match=r"module '1' \(_NumpyTanh\)") as e:
        count(net, torch.randn(2, 3), backward=False)
    assert e.value.module == "1"
    nested = nn.Sequential(nn.Sequential(nn.ReLU(), _Fails()))
    with pytest.raises(UntraceableModuleError, match=r"inside module '0.1' \(_Fails\)"):
        count(nested, torch.randn(2, 3))


def test_ops_without_a_formula_are_listed_not_silently_zero():
    class Bessel(nn.Module):
        def forward(self, x):
            return torch.special.bessel_j0(x)

    with pytest.warns(UncountedOpWarning, match=r"aten\.special_bessel_j0 .*module '1'"):
        report = count(nn.Sequential(nn.Linear(3, 3), Bessel()), torch.randn(2, 3),
                       backward=False)
    assert report.uncounted == (UncountedOp(op="aten.special_bessel_j0", calls=1,
                                            modules=("1",), phases=("forward",),
                                            reason="no formula"),)


def test_bad_input_gives_clear_errors():
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.Module"):
        count(lambda x: x, torch.randn(2))
    with pytest.raises(TypeError, match="example_input must be a tensor"):
        count(nn.ReLU(), "not a tensor")
    with pytest.raises(ValueError, match=r"dtype_bytes must be in \(0, 64\] B; got 0"):
        count(nn.ReLU(), torch.randn(2), dtype_bytes=0)
    with pytest.raises(ValueError, match="transcendental_flop must be in"):
        ScalarOpCosts(transcendental_flop=-1)
    with pytest.raises(UnknownOpError, match=r"did you mean 'aten\.convolution'"):
        op_formula("aten.convolutoin")
    with pytest.raises(UnknownOpError, match=r"no FLOP formula for op 'aten\.frobnicate'"):
        op_formula("aten.frobnicate")
    with pytest.raises(KeyError, match="no module 'nope'"):
        count(nn.ReLU(), torch.randn(2)).module("nope")
    assert op_formula("aten.mm") is REGISTRY["aten.mm"]


def test_counting_leaves_the_model_untouched():
    module = resnet18().train()
    x = torch.randn(2, 3, 32, 32, generator=_gen())
    before = {k: v.clone() for k, v in module.state_dict().items()}
    state = torch.random.get_rng_state()
    count(module, x)
    assert all(p.grad is None for p in module.parameters())
    assert torch.equal(torch.random.get_rng_state(), state)
    for k, v in module.state_dict().items():  # running statistics restored
        assert torch.equal(v, before[k]), k


def test_report_totals_and_convention():
    report = count(cifar_net(), torch.randn(2, 3, 32, 32, generator=_gen()))
    assert report.convention == "1 multiply-add (MAC) = 2 FLOPs"
    assert report.total_mac == report.total_flop / 2
    frame = report.to_frame()
    root = frame[frame["module"] == "(root)"].iloc[0]
    assert root["forward_flop"] == pytest.approx(report.forward_flop)
    assert root["parameters"] == sum(p.numel() for p in cifar_net().parameters())
    # inclusive totals: a container is the sum of its children and its own ops
    children = frame[frame["depth"] == 1]["forward_flop"].sum()
    own = sum(o.flop for o in report.ops if o.module == "" and o.phase == "forward")
    assert root["forward_flop"] == pytest.approx(children + own)
    assert math.isfinite(root["arithmetic_intensity_flop_per_byte"])


@pytest.mark.parametrize("steps", [40, 600])  # Toeplitz GEMM up to 512 steps, FFT beyond
def test_temporal_filters_match_their_closed_forms(steps):
    from neurocomp.accounting.counting.layer_formulas import (
        somatic_filter_flop,
        temporal_filter_flop,
    )
    from neurocomp.layers import SomaticFilter, SynapticKernel

    x = torch.rand(2, 3, steps, generator=_gen())
    soma = count(SomaticFilter(5), x, backward=False)
    assert soma.forward_flop == pytest.approx(
        somatic_filter_flop(batch=6, steps=steps, taps=5), rel=1e-12)
    kernel = SynapticKernel(AMPA, dt_ms=0.5, n_taps=20)
    syn = count(kernel, x, backward=False)
    assert syn.forward_flop == pytest.approx(
        temporal_filter_flop(rows=6, steps=steps, taps=20), rel=1e-12)
    # for this short kernel both rewrites do more than the sum itself, 2·R·T·K
    assert syn.forward_flop >= temporal_filter_flop(rows=6, steps=steps, taps=20,
                                                    algorithm="direct")


def test_flop_count_check_analysis_runs_and_saves(tmp_path):
    import json

    from neurocomp_analyses import flop_count_check

    result = flop_count_check.run(quick=True, seed=0,
                                  cases=["conv2d_depthwise", "linear", "max_pool2d"])
    h = result.headline
    assert h["library_max_abs_rel_error"] == 0.0                # the library = the truth
    assert h["fcm_rules_reproduction_max_abs_rel_diff"] == 0.0  # sanity check of the rules
    assert (h["fcm_worst_case"], h["fcm_worst_phase"]) == ("conv2d_depthwise", "weight grad")
    assert h["fcm_worst_products_rel_error"] == 5.0             # 6 groups: counted 6×
    assert "6 times over" in result.claim
    out = result.save(tmp_path / "flop-count-check")
    # the saved files and neurocomp's marker (neurocomp.results), nothing else
    assert {p.name for p in out.iterdir()} == {"figure.png", "figure.pdf", "data.csv",
                                               "meta.json", ".neurocomp-result.json"}
    meta = json.loads((out / "meta.json").read_text())
    assert meta["headline"]["cases_count"] == 3
    with pytest.raises(ValueError, match="unknown case 'vgg'"):
        flop_count_check.run(quick=True, cases=["vgg"])


def test_cpu_attention_is_counted_where_flop_counter_mode_sees_nothing():
    class Attention(nn.Module):
        def forward(self, q, k, v):
            return nn.functional.scaled_dot_product_attention(q, k, v)

    q, k, v = (torch.randn(2, 3, 8, 4, generator=_gen(i)).requires_grad_() for i in range(3))
    report = count(Attention(), (q, k, v))
    reference = flop_counter_mode_counts(Attention(), (q, k, v))
    # the CPU kernel (_scaled_dot_product_flash_attention_for_cpu) is not in FlopCounterMode's
    # registry (torch 2.13): it counts 0; the library counts the dense algorithm of the
    # ground truth (truth.layers): QKᵀ and SV, 2·(2·b·h·s·d·s), per score a scaling
    # multiply and the softmax (max, subtract, exp, sum, divide), per row the log-sum-exp
    # (log, add); backward five products, per score 6 (recompute: multiply, subtract, exp;
    # P·(dP − D)·s: 3), per output value D's multiply and add
    assert reference.forward == {} and reference.backward == {}
    products, scores, rows = 2 * 2 * 3 * 8 * 4 * 8, 2 * 3 * 8 * 8, 2 * 3 * 8
    assert report.forward_flop == 2 * products + 6 * scores + 2 * rows
    assert report.backward_flop == 5 * products + 6 * scores + 2 * rows * 4
