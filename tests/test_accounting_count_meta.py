"""Issue 15, item 2 — count without running: :func:`neurocomp.accounting.count` on the meta
device by default, never a silent zero, a per-module summary and ``neurocomp count``.

Meta and real counts are compared with ``==`` (tolerance 0): the tracer sees the same ops
with the same shapes on both and applies the same formulas, so any difference is a bug.
"""

from __future__ import annotations

import pytest
import torch
from neurocomp_analyses.flop_count_check import ConvZoo
from neurocomp_models.convnets import cifar_net, resnet18
from neurocomp_models.dettmers_neurons import AMPA, granule_cell, purkinje_cell
from neurocomp_models.modern_nets import resnet50
from torch import nn

from neurocomp.accounting import count
from neurocomp.accounting.counting import (
    MetaFallbackWarning,
    UncountedOpError,
    UncountedOpWarning,
    UntraceableModuleError,
)
from neurocomp.accounting.counting.formulas import OpFormula
from neurocomp.cli import main
from neurocomp.layers import TCN, TCNConfig


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


ZOO = {
    "cifar_net": (cifar_net, lambda: torch.randn(2, 3, 32, 32, generator=_gen())),
    "resnet18_32px": (resnet18, lambda: torch.randn(2, 3, 32, 32, generator=_gen())),
    "resnet50_eval_32px": (lambda: resnet50().eval(),
                           lambda: torch.randn(1, 3, 32, 32, generator=_gen())),
    "tcn_depth4_dilated": (lambda: TCN(TCNConfig(in_channels=8, depth=4, width=6,
                                                 kernel_sizes=(5, 3, 3, 3),
                                                 dilations=(1, 2, 4, 8),
                                                 n_dendritic_outputs=3)),
                           lambda: torch.rand(2, 8, 40, generator=_gen())),
    "granule_learnable": (lambda: granule_cell(synapse=AMPA, dt_ms=1.0, learnable_synapse=True,
                                               learnable_amplification=True,
                                               amplification=0.3, spike_threshold=0.1),
                          lambda: torch.rand(2, 15, 12, generator=_gen())),
    # builds index tensors with nonzero() from its shapes: runs on meta by constant folding
    "purkinje_toeplitz": (lambda: purkinje_cell(n_synapses=400, n_dendrites=100,
                                                dendritic_kernel=(4, 100, 5), n_outputs=10,
                                                dendritic_algorithm="toeplitz").train(),
                          lambda: torch.rand(1, 400, 5, generator=_gen())),
    "conv_zoo": (ConvZoo, lambda: (torch.randn(2, 4, 23, generator=_gen()),
                                   torch.randn(2, 6, 9, 11, generator=_gen()),
                                   torch.randn(2, 2, 4, 9, 9, generator=_gen()))),
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_meta_count_equals_real_count_op_by_op(name):
    build, make_input = ZOO[name]
    torch.manual_seed(0)
    model, x = build(), make_input()
    meta = count(model, x)
    real = count(model, x, device="real")
    assert (meta.counted_on, real.counted_on) == ("meta", "real")
    assert meta.ops == real.ops  # FLOPs and bytes by kind, per (module, op, phase): exact
    assert meta.modules == real.modules  # parameters, calls, elements, output shapes
    assert meta.total_flop > 0 and not meta.uncounted


def test_meta_count_leaves_the_model_as_it_was():
    model = resnet18().train()
    params = {k: v for k, v in model.named_parameters()}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = torch.random.get_rng_state()
    count(model, torch.randn(2, 3, 32, 32, generator=_gen()))
    assert model.training and all(p.grad is None for p in model.parameters())
    assert {k: v for k, v in model.named_parameters()} == params  # the same objects
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert torch.equal(torch.random.get_rng_state(), state)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_lstm_is_counted_on_the_default_path():
    lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    x = torch.randn(4, 5, 8, generator=_gen())
    meta, real = count(lstm, x), count(lstm, x, device="real")
    assert meta.counted_on == "meta" and not meta.uncounted
    assert meta.forward_flop > 0 and meta.backward_flop > 0
    # FLOPs agree op by op; bytes may not: oneDNN's workspace output is sized by the kernel
    assert [(o.module, o.op, o.phase, o.flop) for o in meta.ops] == [
        (o.module, o.op, o.phase, o.flop) for o in real.ops]


def test_input_shape_counts_like_an_example_input():
    model = cifar_net()
    by_shape = count(model, input_shape=(2, 3, 32, 32))
    assert by_shape.ops == count(model, torch.zeros(2, 3, 32, 32)).ops
    assert count(model, input_shape=torch.Size([2, 3, 32, 32])).ops == by_shape.ops
    zoo = count(ConvZoo(), input_shape=((2, 4, 23), (2, 6, 9, 11), (2, 2, 4, 9, 9)))
    assert zoo.ops == count(ConvZoo(), ZOO["conv_zoo"][1]()).ops
    double = cifar_net().double()  # input dtype: the model's, or as given
    wide = count(double, input_shape=(2, 3, 32, 32), dtype_bytes=None, backward=False)
    assert wide.ops == count(double, input_shape=(2, 3, 32, 32), dtype=torch.float64,
                             dtype_bytes=None, backward=False).ops
    assert wide.bytes_read() == 2 * count(model, input_shape=(2, 3, 32, 32), dtype_bytes=None,
                                          backward=False).bytes_read()
    real = count(model, input_shape=(2, 3, 32, 32), device="real")  # made real: seeded noise
    assert real.counted_on == "real" and real.ops == by_shape.ops


class _Bessel(nn.Module):
    def forward(self, x):
        return torch.special.bessel_j0(x)


@torch.library.custom_op("neurocomp_count_test::twice", mutates_args=())
def _twice(x: torch.Tensor) -> torch.Tensor:
    return 2 * x


@_twice.register_fake
def _(x):
    return torch.empty_like(x)


class _Custom(nn.Module):
    def forward(self, x):
        return _twice(x)


def test_an_op_without_a_formula_warns_and_the_report_is_a_lower_bound():
    net = nn.Sequential(nn.Linear(3, 3), _Bessel(), _Custom())
    with pytest.warns(UncountedOpWarning, match=r"2 ops have no FLOP formula: "
                      r"aten\.special_bessel_j0 .*module '1'.*neurocomp_count_test\.twice "
                      r".*module '2'") as caught:
        report = count(net, torch.randn(2, 3), backward=False)
    assert len(caught) == 1  # one warning per count, listing every op
    assert report.is_lower_bound and report.forward_flop > 0
    text = str(report)
    assert "≥" in text and "lower bound" in text and "aten.special_bessel_j0" in text
    with pytest.raises(UncountedOpError, match=r"aten\.special_bessel_j0") as e:
        count(net, torch.randn(2, 3), strict=True)
    assert set(e.value.ops) == {"aten.special_bessel_j0", "neurocomp_count_test.twice"}
    bessel = OpFormula("aten.special_bessel_j0", "pointwise",
                       lambda x, *, out_shape, costs: 20.0 * torch.Size(x).numel())
    counted = count(nn.Sequential(nn.Linear(3, 3), _Bessel()), torch.randn(2, 3),
                    extra_formulas={"aten.special_bessel_j0": bessel}, strict=True)
    assert not counted.is_lower_bound and "≥" not in str(counted)


class _DataDependent(nn.Module):
    def forward(self, x):
        return x[x > 0].sum() * x


def test_a_data_dependent_module_falls_back_to_real_with_a_warning_or_raises():
    net = nn.Sequential(nn.Linear(3, 3), _DataDependent())
    x = torch.randn(2, 3, generator=_gen())
    with pytest.warns(MetaFallbackWarning, match=r"module '1' of Sequential cannot run on "
                                                 r"the meta device"):
        report = count(net, x)
    assert report.counted_on == "real"
    assert report.ops == count(net, x, device="real").ops
    with pytest.raises(UntraceableModuleError, match=r"module '1' of Sequential cannot be "
                                                     r"counted on the meta device") as e:
        count(net, x, fallback=False)
    assert e.value.module == "1"


def test_summary_table_names_modules_types_and_shapes():
    report = count(resnet18(), input_shape=(2, 3, 32, 32))
    text = report.summary(depth=3)
    for piece in ("ResNet18", "(root)", "stages.0", "BasicBlock", "(2, 512, 1, 1)",
                  "(2, 10", "Fwd FLOP", "Bwd FLOP", "Total", "11.7 M", "counted on meta"):
        assert piece in text, piece
    assert "stages.0.0.conv1" not in text  # depth 4
    assert "stages.0.0.conv1" in report.summary(depth=None) and str(report) == report.summary()
    top = report.summary(depth=0).splitlines()
    assert sum(line.startswith("(root)") for line in top) == 1
    per_sample = report.summary(depth=0, per_sample=True)
    assert "per sample" in per_sample
    with pytest.raises(ValueError, match="depth must be"):
        report.summary(depth=-1)


def test_bad_inputs_give_clear_errors():
    model = cifar_net()
    with pytest.raises(ValueError, match=r"input_shape = \(0, 3, 32, 32\): the batch size "
                                         r"\(dimension 0\) must be an integer >= 1; got 0"):
        count(model, input_shape=(0, 3, 32, 32))
    with pytest.raises(ValueError, match=r"input_shape\[1\] = \(2, -4\): dimension 1"):
        count(ConvZoo(), input_shape=((2, 4, 23), (2, -4)))
    with pytest.raises(ValueError, match=r"batch size .* must be >= 1; got 0"):
        count(model, torch.zeros(0, 3, 32, 32))
    with pytest.raises(TypeError, match="exactly one of example_input"):
        count(model)
    with pytest.raises(TypeError, match="input_shape must be a shape"):
        count(model, input_shape="8,3,32,32")
    with pytest.raises(ValueError, match=r"device must be one of 'meta', 'real'; got 'gpu'"):
        count(model, input_shape=(2, 3, 32, 32), device="gpu")
    with pytest.raises(UntraceableModuleError,
                       match=r"module 'classifier' \(Linear\) called with input shape\(s\) "
                             r"\(2, 4096\), model input shape\(s\) \(2, 3, 64, 64\)"):
        count(model, input_shape=(2, 3, 64, 64))
    with pytest.raises(ValueError, match="would allocate about"):  # real runs: sizes checked
        count(model, input_shape=(2, 3, 32, 32), device="real", max_bytes=1000)
    assert count(model, input_shape=(2, 3, 32, 32), max_bytes=1000).total_flop > 0


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_count_prints_the_summary(capsys):
    code, out, _ = _cli(capsys, "count", "neurocomp_models.convnets:cifar_net",
                        "--input-shape", "2,3,32,32", "--depth", "1")
    assert code == 0
    assert "CifarNet18pct" in out and "features" in out and "(2, 10)" in out
    code, out, _ = _cli(capsys, "count", "resnet18", "--input-shape", "2,3,32,32",
                        "--no-backward", "--depth", "0")
    assert code == 0 and "forward only" in out and "stages" not in out


def test_cli_count_bad_arguments_are_one_clear_error(capsys):
    code, _, err = _cli(capsys, "count", "cifar_net", "--input-shape", "0,3,32,32")
    assert code == 2 and "the batch size (first number) must be an integer >= 1; got 0" in err
    code, _, err = _cli(capsys, "count", "no_such_net", "--input-shape", "1,3,32,32")
    assert code == 2 and "'neurocomp_models.convnets' has no 'no_such_net'" in err
    code, _, err = _cli(capsys, "count", "cifar_net", "--input-shape", "2,3,64,64")
    assert code == 2 and "module 'classifier' (Linear)" in err and "(2, 3, 64, 64)" in err
    code, _, err = _cli(capsys, "count", "resnet18", "--input-shape", "1,3,32,32")
    assert code == 2 and "module 'stages.3.0.bn1' (BatchNorm2d)" in err  # batch 1, training
