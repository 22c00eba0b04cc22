"""The engine's PyTorch evaluation of channel expressions equals the NumPy one (issue 17).

Every gate expression (steady state, time constant, α, β) of every channel of
``neurocomp_models.channels`` (Hay et al. 2011) and of ``neurocomp.biophysics.channels`` (HH squid)
is evaluated on a voltage grid by ``mechanisms.evaluate`` (NumPy) and by
``neurocomp.engine.evaluate_torch`` in float64. Tolerance 1e-12 relative (+1e-300 absolute):
both evaluate the same expression tree with correctly rounded IEEE operations, so they can
differ only where libm's and PyTorch's exp/expm1 differ (≤ 1 ulp each, amplified by at most a
few dozen operations: ~1e-14), except at exprel's removable singularity, where NumPy uses
1 + x/2 below |x| < 1e-9 and the engine 1 + x/2 + x²/6 below 1e-6 (difference ≤ x²/6 ≈
2e-13 of the value; the grid hits x = 0 exactly, where both give 1).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from neurocomp_models.channels import HAY_CHANNELS

from neurocomp.biophysics import channels as hh
from neurocomp.biophysics.mechanisms import evaluate
from neurocomp.engine import evaluate_torch, exprel

V_GRID = np.concatenate([np.linspace(-120.0, 60.0, 3601), [-66.0, -60.0, -38.0, -154.9, -17.0,
                                                            -64.4, -27.0, 0.0]])
CAI = np.geomspace(1e-5, 1e-2, V_GRID.size)

ALL = {**HAY_CHANNELS, "hh_na": hh.hh_sodium(), "hh_k": hh.hh_potassium(),
       "hh_na_0": hh.hh_sodium(E_rest_mV=0.0)}
CASES = [(name, g.name, field, getattr(g, field)) for name, c in ALL.items() for g in c.gates
         for field in ("inf", "tau_ms", "alpha", "beta") if getattr(g, field) is not None]


@pytest.mark.parametrize(("channel", "gate", "field", "expr"), CASES,
                         ids=[f"{c}-{g}-{f}" for c, g, f, _ in CASES])
def test_torch_expression_equals_numpy(channel, gate, field, expr) -> None:
    ref = np.broadcast_to(np.asarray(evaluate(expr, v_mV=V_GRID, cai_mM=CAI), dtype=float),
                          V_GRID.shape)
    got = evaluate_torch(expr, v_mV=torch.tensor(V_GRID, dtype=torch.float64),
                         cai_mM=torch.tensor(CAI, dtype=torch.float64)).numpy()
    assert got.shape == V_GRID.shape
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300)


def test_exprel_is_finite_and_differentiable_at_zero() -> None:
    x = torch.tensor([-1e-3, -1e-8, 0.0, 1e-8, 1e-3], dtype=torch.float64, requires_grad=True)
    y = exprel(x)
    y.sum().backward()
    expected = np.expm1(x.detach().numpy()) / np.where(x.detach().numpy() == 0, 1,
                                                        x.detach().numpy())
    expected[2] = 1.0
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12)
    # d/dx exprel at 0 is 1/2; finite differences elsewhere (tolerance: series truncation)
    assert torch.isfinite(x.grad).all()
    assert x.grad[2].item() == pytest.approx(0.5, rel=1e-12)
    assert torch.autograd.gradcheck(exprel, (x.detach().clone().requires_grad_(),))


def test_expressions_follow_dtype_and_reject_empty() -> None:
    v = torch.linspace(-80, 20, 11, dtype=torch.float32)
    out = evaluate_torch(HAY_CHANNELS["K_Pst"].gates[0].tau_ms, v_mV=v)  # uses int(...)
    assert out.dtype == torch.float32 and out.shape == v.shape
    with pytest.raises(ValueError, match="non-empty"):
        evaluate_torch("  ", v_mV=v)
