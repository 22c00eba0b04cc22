"""Temporal convolutional nets (Beniaguev, Segev & London 2021 family): shapes, causality, the
receptive field, gradients, the cited configurations and errors."""

from __future__ import annotations

import pytest
import torch
from neurocomp_models.convnets import (
    BENIAGUEV_2021_TCN_3x64x100,
    BENIAGUEV_2021_TCN_7x256x120,
    beniaguev_tcn,
)

from neurocomp.layers import TCN, CausalConv1d, TCNConfig, tcn_loss

F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_tcn(**kw) -> TCN:
    torch.manual_seed(0)
    cfg = TCNConfig(**{"in_channels": 3, "depth": 3, "width": (4, 5, 4),
                       "kernel_sizes": (3, 2, 3), "dilations": (1, 2, 4),
                       "n_dendritic_outputs": 2, **kw})
    return TCN(cfg, dtype=F64)


def test_shapes_and_receptive_field_formula():
    net = small_tcn().eval()
    out = net(torch.randn(2, 3, 20, dtype=F64))
    assert tuple(out.spike_logits.shape) == (2, 20) and tuple(out.soma_voltage.shape) == (2, 20)
    assert tuple(out.dendritic.shape) == (2, 2, 20)
    assert net.config.receptive_field_steps == 1 + 2 * 1 + 1 * 2 + 2 * 4  # 1 + Σ (K-1)·d = 13


def test_tcn_is_causal_and_sees_exactly_its_receptive_field():
    net = small_tcn().eval()  # in training, batch norm's statistics pool over time steps
    x = torch.randn(2, 3, 30, dtype=F64)
    rf = net.config.receptive_field_steps
    t = 25
    with torch.no_grad():
        base = net(x).spike_logits
        later = x.clone()
        later[..., t + 1:] += 1.0
        oldest = x.clone()
        oldest[..., t - rf + 1] += 1.0
        older = x.clone()
        older[..., : t - rf + 1] += 1.0
        # future input never reaches step t (exact)
        assert torch.equal(net(later).spike_logits[:, : t + 1], base[:, : t + 1])
        # the oldest step inside the receptive field does
        assert not torch.equal(net(oldest).spike_logits[:, t], base[:, t])
        # anything older does not (exact)
        assert torch.equal(net(older).spike_logits[:, t], base[:, t])


def test_tcn_gradcheck_float64():
    net = small_tcn(batch_norm=False)
    x = torch.randn(2, 3, 9, dtype=F64, requires_grad=True)
    # gradcheck against finite differences, default tolerances
    assert torch.autograd.gradcheck(lambda v: net(v).soma_voltage, (x,))
    assert torch.autograd.gradcheck(lambda v: net(v).spike_logits, (x,))
    conv = CausalConv1d(2, 3, 4, dilation=2, dtype=F64)
    w = conv.weight.detach().clone().requires_grad_()
    b = conv.bias.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(  # through the module, with its parameters swapped in
        lambda v, ww, bb: torch.func.functional_call(conv, {"weight": ww, "bias": bb}, (v,)),
        (torch.randn(1, 2, 7, dtype=F64, requires_grad=True), w, b))


def test_spike_head_bias_and_loss():
    net = small_tcn().eval()
    assert float(net.spike_head.bias.detach()) == -2.0  # Beniaguev et al.: Constant(-2.0)
    out = net(torch.randn(2, 3, 10, dtype=F64))
    spikes = torch.zeros(2, 10, dtype=F64)
    volt = torch.zeros(2, 10, dtype=F64)
    loss = tcn_loss(out, spikes, volt)
    ref = (torch.nn.functional.binary_cross_entropy(torch.sigmoid(out.spike_logits), spikes)
           + 0.006 * (out.soma_voltage**2).mean())
    torch.testing.assert_close(loss, ref, rtol=1e-12, atol=0)  # logits vs sigmoid+BCE: round-off


def test_cited_configurations():
    assert BENIAGUEV_2021_TCN_3x64x100.receptive_field_steps == 100  # 53 + 23 + 23 + 1
    assert BENIAGUEV_2021_TCN_7x256x120.receptive_field_steps == 120  # 53 + 6·11 + 1
    net = beniaguev_tcn(seed=1).eval()
    with torch.no_grad():
        out = net(torch.zeros(1, 1278, 200))  # 1278 = 2 × 639 segments
    assert tuple(out.dendritic.shape) == (1, 20, 200)  # 20 dendritic PCA components (NMDA)
    same = beniaguev_tcn(seed=1)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), same.parameters(),
                                                 strict=True))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"depth": 0}, r"depth must be an integer in \[1, inf\]; got 0"),
    ({"kernel_sizes": (3, 3)}, r"kernel_sizes must be an int or a sequence of 3 ints"),
    ({"dilations": (1, 0, 1)}, r"dilations\[1\] must be an integer in \[1, inf\]; got 0"),
])
def test_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TCNConfig(**{"in_channels": 3, "depth": 3, **kwargs})


def test_input_errors():
    net = small_tcn()
    with pytest.raises(ValueError, match=r"x must be a 3-D tensor \(batch, channel, time\); "
                                         r"got a 2-D tensor"):
        net(torch.zeros(3, 10, dtype=F64))
    with pytest.raises(ValueError, match=r"x must have 3 channels \(config.in_channels\) along "
                                         r"dimension 1; got 4"):
        net(torch.zeros(1, 4, 10, dtype=F64))
