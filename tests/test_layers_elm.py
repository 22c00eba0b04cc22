"""The Expressive Leaky Memory neuron (Spieler et al., ICLR 2024): the fast forward against the
step-by-step update, the trace filter, Branch-ELM routing, the parameter count of the paper,
causality, gradients and errors."""

from __future__ import annotations

import math

import pytest
import torch

from neurocomp.layers.elm import (
    ELM,
    ELMConfig,
    ELMState,
    elm_step,
    exponential_filter,
)

F64 = torch.float64

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _elm(seed: int = 0, **kw) -> ELM:
    torch.manual_seed(seed)
    cfg = ELMConfig(**{"in_channels": 6, "memory_units": 4, **kw})
    net = ELM(cfg, dtype=F64)
    with torch.no_grad():  # break the symmetry of the equal initial synaptic weights
        net.synapse_weight.copy_(torch.linspace(0.2, 0.9, cfg.in_channels, dtype=F64))
    return net


def _spikes(batch: int, channels: int, steps: int, p: float = 0.3, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, channels, steps, generator=g) < p).to(F64)


def naive(net: ELM, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The update of the paper, one time step after another (elm_step in a Python loop)."""
    p = net.params()
    state = ELMState(s=x.new_zeros(x.shape[:2]), m=x.new_zeros(x.shape[0],
                                                                 net.config.memory_units))
    ys = []
    for t in range(x.shape[-1]):
        y, state = elm_step(state, x[..., t], p)
        ys.append(y)
    y = torch.stack(ys, dim=-1)
    return y[:, 0], y[:, 1]


@pytest.mark.parametrize("kw", [
    {},                                                             # vanilla ELM
    {"branch_of_channel": (0, 0, 1, -1, 2, 1)},                      # Branch-ELM, one unused
    {"exc_mask": (True, True, True, False, False, False), "mlp_activation": "silu",
     "learn_memory_tau": True, "lambda_": 10.0, "mlp_hidden": 5},
    {"branch_of_channel": (1, 0, 1, 0, 0, 1), "exc_mask": (True, False) * 3},
])
def test_forward_equals_the_step_by_step_update(kw):
    net = _elm(**kw)
    x = _spikes(3, 6, 75)  # 75 steps: two full blocks of 32 and a partial third one
    with torch.no_grad():
        out = net(x)
        spike, volt = naive(net, x)
    # Same arithmetic in another order (linear part hoisted, block filter): float64 round-off
    # of ~1e-16 relative per op; the memory recurrence contracts (κ_m < 1), so errors do not
    # grow over 75 steps. 1e-11 (logit, O(1)) and 1e-10 mV (voltage, ×10 mV scale) leave
    # orders of magnitude of margin while catching any real mismatch (> 1e-6).
    torch.testing.assert_close(out.spike_logits, spike, rtol=0, atol=1e-11)
    torch.testing.assert_close(out.soma_voltage, volt, rtol=0, atol=1e-10)
    assert out.dendritic is None


@pytest.mark.parametrize(("steps", "chunk"), [(1, 32), (50, 1), (50, 7), (50, 64), (96, 32)])
def test_exponential_filter_equals_the_recurrence(steps, chunk):
    u = torch.randn(2, 3, steps, dtype=F64)
    kappa = torch.tensor(math.exp(-1 / 5), dtype=F64)  # τ_s = 5 ms, Δt = 1 ms (ELM Table S1)
    ref, s = [], torch.zeros(2, 3, dtype=F64)
    for t in range(steps):
        s = kappa * s + u[..., t]
        ref.append(s)
    # summation order differs from the recurrence: float64 round-off, sums of ≤ 64 terms of
    # O(1) with weights ≤ 1 → errors ~1e-14; 1e-12 absolute is a safe bound
    torch.testing.assert_close(exponential_filter(u, kappa, chunk=chunk),
                               torch.stack(ref, -1), rtol=0, atol=1e-12)


def test_branch_elm_is_an_elm_on_branch_sums():
    """Routing = summing the (weighted) traces per branch: a Branch-ELM on x equals a vanilla
    ELM with one input per branch fed the per-branch sums, when weights agree."""
    routing = (0, 2, 1, -1, 2, 0, 1, 2)
    branch = _elm(in_channels=8, branch_of_channel=routing)
    with torch.no_grad():
        branch.synapse_weight.fill_(0.5)  # Table S1: w_s = 0.5 at initialisation
    plain = _elm(seed=3, in_channels=3)
    plain.load_state_dict({k: v for k, v in branch.state_dict().items()
                           if k not in ("synapse_weight", "sign", "routed", "branch")},
                          strict=False)
    with torch.no_grad():
        plain.synapse_weight.fill_(0.5)
    x = _spikes(2, 8, 40)
    summed = torch.stack([x[:, [j for j, b in enumerate(routing) if b == k]].sum(1)
                          for k in range(3)], dim=1)
    with torch.no_grad():
        a, b = branch(x), plain(summed)
    # the same sums in another order: float64 round-off only (see the forward test)
    torch.testing.assert_close(a.spike_logits, b.spike_logits, rtol=0, atol=1e-11)
    torch.testing.assert_close(a.soma_voltage, b.soma_voltage, rtol=0, atol=1e-10)
    # an unused channel (−1) has no effect at all: exact
    y = x.clone()
    y[:, 3] = 1.0 - y[:, 3]
    with torch.no_grad():
        assert torch.equal(branch(y).soma_voltage, a.soma_voltage)


def test_exc_mask_signs_the_inhibitory_inputs():
    mask = (True, False, True, False, True, False)
    signed = _elm(exc_mask=mask)
    unsigned = _elm()
    x = _spikes(2, 6, 30)
    sign = torch.tensor([1.0 if m else -1.0 for m in mask], dtype=F64)[:, None]
    with torch.no_grad():
        # x·sign through the unsigned model is the same product: exact
        assert torch.equal(signed(x).soma_voltage, unsigned(x * sign).soma_voltage)


def test_paper_parameter_count():
    """Spieler et al. (2024), docs/references.md#anchors-surrogates-engines-b-2:
    P = d_tree·d_brch + (d_tree + d_m)·2d_m + 2d_m + 2d_m·d_m + d_m + 2(d_m + 1) = 8,002 at
    d_m = 20 and 4,601 at d_m = 1 (d_tree 45, d_brch 100). Here each channel feeds one branch
    and carries one weight, so d_tree·d_brch is replaced by in_channels: 45 branches × 100
    channels gives the same count."""
    routing = tuple(k // 100 for k in range(4500))
    for d_m, expected in ((20, 8002), (1, 4601)):
        net = ELM(ELMConfig(in_channels=4500, memory_units=d_m, branch_of_channel=routing))
        n = sum(p.numel() for p in net.parameters() if p.requires_grad)
        assert n == expected  # exact: an integer count
        formula = 4500 + (45 + d_m) * 2 * d_m + 2 * d_m + 2 * d_m * d_m + d_m + 2 * (d_m + 1)
        assert n == formula  # exact
    learned = ELM(ELMConfig(in_channels=4500, memory_units=20, branch_of_channel=routing,
                            learn_memory_tau=True))
    assert sum(p.numel() for p in learned.parameters()) == 8002 + 20  # + one τ_m per unit


def test_time_constants_and_readout_initialisation():
    net = ELM(ELMConfig(in_channels=4), dtype=F64)
    p = net.params()
    tau_m = -1.0 / torch.log(p.kappa_m)  # Δt = 1 ms
    # log-spaced 1–150 ms (the code's range, docs/references.md#anchors-surrogates-engines-b-2);
    # float64 round-off of exp/log
    torch.testing.assert_close(tau_m, torch.logspace(0, math.log10(150), 20, dtype=F64),
                               rtol=1e-12, atol=0)
    assert float(p.kappa_s) == pytest.approx(math.exp(-1 / 5), rel=1e-15)  # τ_s 5 ms
    # readout bias: spike −2 (TCN head, Beniaguev et al.), voltage −67.7 mV (their offset);
    # one rounding of −67.7/10 × 10
    assert float(net.readout.bias.detach()[0]) == -2.0
    assert 10.0 * float(net.readout.bias.detach()[1]) == pytest.approx(-67.7, abs=1e-12)
    # no trainable time constant by default (every released NeuronIO config,
    # docs/references.md#anchors-surrogates-engines-b-1)
    assert not any(name == "log_tau_m" for name, _ in net.named_parameters())


def test_causal():
    net = _elm(branch_of_channel=(0, 1, 0, 1, 2, 2))
    x = _spikes(2, 6, 60)
    later = x.clone()
    later[..., 41:] = 1.0 - later[..., 41:]
    with torch.no_grad():
        a, b = net(x), net(later)
    # steps ≤ 40 never see input after step 40: exact
    assert torch.equal(a.soma_voltage[:, :41], b.soma_voltage[:, :41])
    assert not torch.equal(a.soma_voltage[:, 41], b.soma_voltage[:, 41])


def test_gradcheck_float64():
    net = _elm(in_channels=3, memory_units=2, branch_of_channel=(0, 1, 0),
               learn_memory_tau=True)
    x = _spikes(1, 3, 12)
    params = dict(net.named_parameters())
    names = list(params)

    def f(*values):
        out = torch.func.functional_call(net, dict(zip(names, values, strict=True)), (x,))
        return out.spike_logits, out.soma_voltage

    values = tuple(v.detach().clone().requires_grad_() for v in params.values())
    # finite differences vs autograd, torch's default float64 tolerances
    assert torch.autograd.gradcheck(f, values)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"memory_units": 0}, r"memory_units must be an integer in \[1, inf\]; got 0"),
    ({"tau_m_max_ms": 0.5}, r"tau_m_max_ms must be in \[1, inf\) ms; got 0.5 ms"),
    ({"lambda_": 0.0}, r"lambda_ must be in \(0, inf\); got 0"),
    ({"tau_s_ms": -5.0}, r"tau_s_ms must be in \(0, inf\) ms; got -5 ms"),
    ({"mlp_activation": "gelu"}, r"mlp_activation must be one of 'relu', 'silu'; got 'gelu'"),
    ({"branch_of_channel": (0, 1)}, r"branch_of_channel must give one branch id per input "
                                    r"channel \(3\); got 2"),
    ({"branch_of_channel": (0, -2, 1)}, r"branch_of_channel\[1\] must be an integer in "
                                        r"\[-1, inf\]; got -2"),
    ({"branch_of_channel": (0, 2, 2)}, r"ids \[1\] have no channel"),
    ({"branch_of_channel": (-1, -1, -1)}, r"routes no channel"),
    ({"exc_mask": (True, False)}, r"exc_mask must give one bool per input channel \(3\)"),
    ({"synapse_weight_init": -0.5}, r"synapse_weight_init must be in \[0, inf\); got -0.5"),
])
def test_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ELMConfig(**{"in_channels": 3, **kwargs})


def test_input_errors():
    net = _elm()
    with pytest.raises(ValueError, match=r"x must be a 3-D tensor"):
        net(torch.zeros(6, 10, dtype=F64))
    with pytest.raises(ValueError, match=r"x must have 6 channels \(config.in_channels\)"):
        net(torch.zeros(1, 5, 10, dtype=F64))
    with pytest.raises(TypeError, match=r"exc_mask\[0\] must be a bool; got 1"):
        ELMConfig(in_channels=2, exc_mask=(1, 0))
