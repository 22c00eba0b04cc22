"""The held-out nets of step-time-validation: shapes and parameter counts against their papers."""

from __future__ import annotations

import pytest
import torch
from neurocomp_models.modern_nets import (
    lstm_regressor,
    mobilenet_v2,
    resnet50,
    transformer_block,
    vgg11,
)


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_the_papers():
    # He et al. 2016 Table 1 text: 25.6 M (rounded to 0.1 M → tolerance 0.05 M)
    assert n_params(resnet50()) == pytest.approx(25.6e6, abs=0.05e6)
    # Simonyan & Zisserman 2015 Table 2: 133 M for configuration A (rounded to 1 M)
    assert n_params(vgg11()) == pytest.approx(133e6, abs=0.5e6)
    # Sandler et al. 2018 Table 4: 3.4 M; the Table 2 layers with biasless convolutions and
    # batch norm give 3.50 M (the count torchvision's implementation also has) — 0.15 M
    # tolerance covers the paper's rounding and its uncounted batch-norm parameters
    assert n_params(mobilenet_v2()) == pytest.approx(3.4e6, abs=0.15e6)


def test_forward_shapes_and_seeds():
    x = torch.randn(2, 3, 64, 64)
    assert resnet50(num_classes=7)(x).shape == (2, 7)
    assert vgg11(num_classes=5, px=64, width=0.25)(x).shape == (2, 5)
    assert mobilenet_v2(num_classes=3)(x).shape == (2, 3)
    seq = torch.randn(2, 10, 64)
    assert lstm_regressor()(seq).shape == (2, 10, 1)
    assert transformer_block(d_model=64, heads=4)(seq).shape == (2, 10, 1)
    # same seed, same weights; exact (the same draws)
    a, b = lstm_regressor(seed=3), lstm_regressor(seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_causal_transformer_does_not_look_ahead():
    m = transformer_block(d_model=32, heads=2).eval()
    x = torch.randn(1, 12, 32)
    y = x.clone()
    y[:, 8:] += 1.0  # change the future only
    with torch.no_grad():
        # outputs before step 8 are untouched (1e-6: float32 attention sums reordered)
        assert torch.allclose(m(x)[:, :8], m(y)[:, :8], atol=1e-6)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValueError, match="px must be a multiple of 32"):
        vgg11(px=100)
    with pytest.raises(ValueError, match="width"):
        vgg11(width=0.0)
    with pytest.raises(ValueError, match="multiple of heads"):
        transformer_block(d_model=30, heads=4)
    with pytest.raises(ValueError, match="num_classes"):
        resnet50(num_classes=0)
