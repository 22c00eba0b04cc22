"""Reference convnets in models/convnets.py against their papers: map sizes, parameter counts,
FLOPs (FlopCounterMode, 2 FLOPs per multiply-add), the two-GPU connectivity and LRN formulas.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from neurocomp_models.convnets import (
    ALEXNET_TWO_GPU_SPLIT,
    GroupedLRN,
    WithinChannelLRN,
    alexnet_2012,
    cifar_net,
    resnet18,
)
from torch.utils.flop_counter import FlopCounterMode

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def conv_params(c_out: int, c_in: int, k: int) -> int:
    return c_out * c_in * k * k + c_out


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def forward_flops(model: torch.nn.Module, x: torch.Tensor) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


def test_alexnet_shapes_parameters_and_flops():
    net = alexnet_2012().eval()
    x = torch.zeros(1, 3, 227, 227)
    sizes = []
    h = x
    for layer in net.features:
        h = layer(h)
        if isinstance(layer, torch.nn.Conv2d):
            sizes.append(tuple(h.shape[1:]))
    # Fig. 2 of Krizhevsky et al. (2012): 55×55×96, 27×27×256, 13×13×384, 13×13×384, 13×13×256
    assert sizes == [(96, 55, 55), (256, 27, 27), (384, 13, 13), (384, 13, 13), (256, 13, 13)]
    expected = (conv_params(96, 3, 11) + conv_params(256, 48, 5) + conv_params(384, 256, 3)
                + conv_params(384, 192, 3) + conv_params(256, 192, 3)
                + 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000)
    assert n_params(net) == expected == 60_965_224  # "60 million parameters" (§1)
    macs = (55 * 55 * 96 * 11 * 11 * 3 + 27 * 27 * 256 * 5 * 5 * 48 + 13 * 13 * 384 * 9 * 256
            + 13 * 13 * 384 * 9 * 192 + 13 * 13 * 256 * 9 * 192 + 9216 * 4096 + 4096 * 4096
            + 4096 * 1000)
    # conv + fc only (FlopCounterMode counts no LRN, pooling or ReLU): exact
    assert forward_flops(net, x) == 2 * macs  # 1.449 GFLOP; ptflops lists 0.72 GMac
    assert net(x).shape == (1, 1000)
    single = alexnet_2012(split=False)
    assert n_params(single) > n_params(net)  # full connectivity in conv2, conv4, conv5


def test_alexnet_two_gpu_connectivity():
    net = alexnet_2012(seed=1).eval()
    conv2 = net.features[4]
    assert conv2.groups == 2 and tuple(conv2.weight.shape[1:]) == (48, 5, 5)  # 5×5×48
    assert ALEXNET_TWO_GPU_SPLIT.within_gpu_layers == ("conv2", "conv4", "conv5")
    x = torch.randn(1, 96, 27, 27)
    x2 = x.clone()
    x2[:, 48:] += 1.0  # change only "GPU 1"'s maps
    y, y2 = conv2(x), conv2(x2)
    assert torch.equal(y[:, :128], y2[:, :128])  # GPU 0's half never sees them (exact)
    assert not torch.equal(y[:, 128:], y2[:, 128:])


def test_grouped_lrn_is_the_paper_formula_per_gpu():
    lrn = GroupedLRN(groups=2)
    x = torch.randn(2, 12, 3, 3, dtype=torch.float64)
    ref = torch.empty_like(x)
    for g in range(2):
        part = x[:, 6 * g: 6 * g + 6]
        for i in range(6):  # b_i = a_i / (k + alpha Σ_{|j-i| <= n/2} a_j²)^beta, k=2, n=5
            lo, hi = max(0, i - 2), min(5, i + 2)
            s = (part[:, lo: hi + 1] ** 2).sum(1)
            ref[:, 6 * g + i] = part[:, i] / (2.0 + 1e-4 * s) ** 0.75
    torch.testing.assert_close(lrn(x), ref, rtol=1e-12, atol=0)  # float64 round-off
    # and torch's own LocalResponseNorm (which divides alpha by n) on each group
    for size in (5, 4):
        torch_lrn = torch.nn.LocalResponseNorm(size, alpha=size * 1e-4, beta=0.75, k=2.0)
        per_group = torch.cat([torch_lrn(p) for p in x.chunk(2, dim=1)], dim=1)
        torch.testing.assert_close(GroupedLRN(groups=2, size=size)(x), per_group,
                                   rtol=1e-12, atol=0)
    cl = x.contiguous(memory_format=torch.channels_last)
    assert lrn(cl).is_contiguous(memory_format=torch.channels_last)


def test_within_channel_lrn_matches_loop():
    x = torch.randn(1, 2, 5, 4, dtype=torch.float64)
    ref = torch.empty_like(x)
    for c, i, j in itertools.product(range(2), range(5), range(4)):
        s = sum(float(x[0, c, a, b]) ** 2 for a in range(i - 1, i + 2) for b in range(j - 1, j + 2)
                if 0 <= a < 5 and 0 <= b < 4)
        ref[0, c, i, j] = x[0, c, i, j] * (1 + 5e-5 * s / 9) ** -0.75  # mean over 3×3 cells
    torch.testing.assert_close(WithinChannelLRN()(x), ref, rtol=1e-12, atol=0)


def test_cifar_net_shapes_parameters_flops():
    net = cifar_net().eval()
    x = torch.zeros(1, 3, 32, 32)
    assert net.features(x).shape == (1, 64, 4, 4)  # 32 → 16 → 8 → 4 with ceil-mode pooling
    assert n_params(net) == (conv_params(32, 3, 5) + conv_params(32, 32, 5)
                             + conv_params(64, 32, 5) + 1024 * 10 + 10)  # 89,578
    macs = 32 * 32 * 32 * 75 + 16 * 16 * 32 * 800 + 8 * 8 * 64 * 800 + 1024 * 10
    assert forward_flops(net, x) == 2 * macs  # conv + fc, exact


def test_resnet18_parameters_and_flops():
    net = resnet18().eval()
    # torchvision's resnet18 lists 11,689,512 parameters (projection shortcuts with BN)
    assert n_params(net) == 11_689_512
    flops = forward_flops(net, torch.zeros(1, 3, 224, 224))
    # He et al. (2016) Table 1: 1.8×10^9 multiply-adds (rounded to 2 digits: ±0.05e9)
    assert abs(flops / 2 - 1.8e9) <= 0.05e9
    assert flops == 3_628_146_688  # conv + fc counted by FlopCounterMode (1.814 GMAC) [pinned]


def test_factories_are_seeded_and_leave_the_global_generator_alone():
    state = torch.get_rng_state()
    a, b = resnet18(seed=3), resnet18(seed=3)
    assert torch.equal(state, torch.get_rng_state())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.fc.weight, resnet18(seed=4).fc.weight)


@pytest.mark.gpu
def test_convnets_run_on_cuda():
    for net, px in ((cifar_net(device="cuda"), 32), (resnet18(device="cuda"), 64),
                    (alexnet_2012(device="cuda", adaptive=True), 128)):
        out = net(torch.randn(2, 3, px, px, device="cuda"))
        out.sum().backward()
        assert out.device.type == "cuda"
