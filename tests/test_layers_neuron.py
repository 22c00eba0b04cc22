"""The stage modules and DettmersNeuron: the post's shapes, gradients, causality, errors, and
the same numbers on every device and dtype.

Shapes are Dettmers (2015) as summarised in ``docs/references.md#seed-brain-vs-dl-2-3``: granule
15×5 in, 3×4×5 dendritic filter, 1×1×5 soma, 100×5 out; Purkinje 100,000×5 in, 10×1000×5, 1,000×5
out.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from neurocomp_models.dettmers_neurons import (
    AMPA,
    GRANULE,
    GRANULE_NUMBERS,
    PURKINJE,
    granule_cell,
    purkinje_cell,
)

from neurocomp.layers import (
    NONLINEARITIES,
    AmplifyingPool,
    DendriticConv,
    DendriticNonlinearity,
    DettmersNeuron,
    DettmersNeuronConfig,
    DifferenceOfExponentials,
    PoissonFiring,
    SomaticFilter,
    SynapticKernel,
    TransmitterDense,
)
from neurocomp.layers import functional as LF

F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_configs_carry_the_posts_numbers():
    assert (GRANULE.n_synapses, GRANULE.n_dendrites, GRANULE.n_outputs) == (15, 4, 100)
    assert GRANULE.dendritic_kernel == (3, 4, 5) and GRANULE.somatic_kernel_taps == 5
    assert (PURKINJE.n_synapses, PURKINJE.n_dendrites, PURKINJE.n_outputs) == (100_000, 1000,
                                                                               1000)
    assert PURKINJE.dendritic_kernel == (10, 1000, 5) and PURKINJE.branch_slots == 100
    assert GRANULE.firing_lambda == 0.5 and abs(GRANULE.dt_ms - 1000 / 30) < 1e-12
    assert all("timdettmers.com" in c.source for c in GRANULE_NUMBERS.values())


def test_granule_stage_shapes():
    neuron = granule_cell(seed=1).eval()
    stages = neuron.stages(torch.rand(8, 15, 5))  # the post's 15×5 input
    shapes = {k: tuple(v.shape) for k, v in stages._asdict().items()}
    assert shapes == {"synaptic": (8, 15, 5), "grid": (8, 1, 4, 4, 5),
                      "dendritic": (8, 1, 4, 4, 5), "spikes": (8, 1, 4, 5), "rates": (8, 1, 4, 5),
                      "somatic": (8, 1, 5), "firing": (8, 1, 5), "output": (8, 100, 5)}
    assert tuple(neuron.dendrites.weight.shape[2:]) == (3, 4, 5)  # 3×4×5 filter
    assert tuple(neuron.soma.kernel.shape) == (5,)  # 1×1×5 soma filter, one kernel


def test_purkinje_shapes_at_the_posts_size():
    neuron = purkinje_cell(seed=2).eval()
    assert tuple(neuron.dendrites.weight.shape) == (1, 1, 10, 1000, 5)  # 10×1000×5 filter
    with torch.no_grad():
        stages = neuron.stages(torch.rand(1, 100_000, 5))  # the post's 100,000×5 input
    assert tuple(stages.grid.shape) == (1, 1, 100, 1000, 5)
    assert tuple(stages.dendritic.shape) == (1, 1, 100, 1000, 5)
    assert tuple(stages.spikes.shape) == (1, 1, 1000, 5)  # one value per dendrite
    assert tuple(stages.output.shape) == (1, 1000, 5)  # the post's 1,000×5 output


def test_synapses_are_placed_dendrite_by_dendrite():
    neuron = granule_cell()
    x = torch.arange(15, dtype=torch.float32).view(1, 15, 1).expand(1, 15, 2)
    grid = neuron.place_on_tree(x)[0, 0, :, :, 0]  # (slot, dendrite)
    assert grid[:, 0].tolist() == [0, 1, 2, 3] and grid[:, 3].tolist() == [12, 13, 14, 0]


def small_config(**kw) -> DettmersNeuronConfig:
    base = {"n_synapses": 7, "n_dendrites": 3, "dendritic_kernel": (2, 3, 3), "n_outputs": 4,
            "synapse": DifferenceOfExponentials(tau_rise_ms=2.0, tau_decay_ms=9.0),
            "synaptic_kernel_taps": 3, "dt_ms": 2.0, "learnable_synapse": True,
            "learnable_amplification": True, "amplification": 0.4}
    return DettmersNeuronConfig(**{**base, **kw})


@pytest.mark.parametrize("kind", NONLINEARITIES)
def test_neuron_gradcheck_float64(kind):
    torch.manual_seed(3)
    neuron = DettmersNeuron(small_config(dendritic_nonlinearity=kind), dtype=F64).eval()
    x = torch.rand(2, 7, 4, dtype=F64, requires_grad=True)
    # every parameter (time constants, conv, amplification logit, soma, release, receptors)
    # and the input, against finite differences (gradcheck's default tolerances)
    params = tuple(p for p in neuron.parameters() if p.requires_grad)
    assert len(params) == 9

    def run(inp, *ps):
        state = dict(zip([n for n, p in neuron.named_parameters() if p.requires_grad], ps,
                         strict=True))
        return torch.func.functional_call(neuron, state, (inp,))

    assert torch.autograd.gradcheck(run, (x, *params))


@pytest.mark.parametrize("training", [False, True])
def test_neuron_is_causal(training):
    torch.manual_seed(4)
    neuron = DettmersNeuron(small_config(), dtype=F64).train(training)
    x = torch.rand(3, 7, 6, dtype=F64)
    for cut in range(5):
        x2 = x.clone()
        x2[..., cut + 1:] += 1.0
        torch.manual_seed(5)  # same Poisson delays for both runs
        y = neuron(x)
        torch.manual_seed(5)
        y2 = neuron(x2)
        # outputs up to the cut may not see later input at all (exact), later ones must
        assert torch.equal(y[..., :cut + 1], y2[..., :cut + 1]), cut
        assert not torch.equal(y, y2)


def test_modules_equal_their_functionals():
    g = torch.Generator().manual_seed(6)
    x = torch.randn(2, 3, 6, generator=g, dtype=F64)
    syn = SynapticKernel(AMPA, dt_ms=0.5, n_taps=8, dtype=F64)
    k = LF.difference_of_exponentials_kernel(0.3, 3.0, dt_ms=0.5, n_taps=8, dtype=F64)
    assert torch.equal(syn(x), LF.temporal_filter(x, k))
    learn = SynapticKernel(AMPA, dt_ms=0.5, n_taps=8, learnable=True, dtype=F64)
    # the log-parametrised time constants start at AMPA's values (round-trip through exp/log)
    assert abs(float(learn.tau_rise_ms.detach()) - 0.3) < 1e-15
    assert abs(float(learn.tau_decay_ms.detach()) - 3.0) < 1e-14
    torch.testing.assert_close(learn(x), syn(x), rtol=0, atol=1e-14)
    dense = TransmitterDense(3, 5, bias=True, dtype=F64)
    torch.testing.assert_close(dense(x), torch.nn.functional.linear(
        x.transpose(1, 2), dense.weight, dense.bias).transpose(1, 2), rtol=0, atol=1e-15)
    soma = SomaticFilter(5, init="uniform", dtype=F64)
    torch.testing.assert_close(soma(x), LF.temporal_filter(x, torch.full((5,), 0.2,
                                                                          dtype=F64)),
                               rtol=0, atol=1e-15)
    assert torch.equal(SomaticFilter(5, bias=False, dtype=F64)(x), x)  # delta init: identity


def test_poisson_module_train_and_eval():
    x = torch.rand(4, 6, dtype=F64)
    fire = PoissonFiring(0.5, generator=torch.Generator().manual_seed(7))
    y_train = fire.train()(x)
    y_ref = LF.poisson_firing(x, 0.5, training=True, generator=torch.Generator().manual_seed(7))
    assert torch.equal(y_train, y_ref)
    assert torch.equal(fire.eval()(x), fire(x))  # deterministic in evaluation
    with pytest.raises(ValueError, match=r"lam must be in \[0, inf\); got -0.1"):
        PoissonFiring(-0.1)


def test_amplifying_pool_module():
    x = torch.randn(2, 3, 8, dtype=F64)
    assert torch.equal(AmplifyingPool(4, amplification=1.0)(x),
                       torch.nn.functional.max_pool1d(x, 4))  # the max-pooling limit
    learn = AmplifyingPool(4, amplification=0.25, learnable=True, dtype=F64)
    assert abs(float(learn.amplification.detach()) - 0.25) < 1e-15  # sigmoid(logit(0.25))
    same = AmplifyingPool(4, amplification=0.25, reduce=False)(x)
    assert same.shape == x.shape
    with pytest.raises(ValueError, match=r"amplification must be in \(0, 1\); got 1"):
        AmplifyingPool(4, amplification=1.0, learnable=True)  # logit(1) is infinite
    with pytest.raises(ValueError, match="stride must equal kernel_size"):
        AmplifyingPool(4, stride=2, reduce=False)


def test_nonlinearity_module_kinds():
    x = torch.linspace(-2, 2, 9, dtype=F64)
    assert torch.equal(DendriticNonlinearity("linear")(x), x)
    assert torch.equal(DendriticNonlinearity("relu")(x), torch.relu(x))
    assert torch.equal(DendriticNonlinearity("supralinear", exponent=3.0)(x),
                       LF.supralinear(x, exponent=3.0))
    with pytest.raises(ValueError, match="kind must be one of 'linear', 'sublinear', "
                                         "'supralinear', 'bistable', 'relu'; got 'tanh'"):
        DendriticNonlinearity("tanh")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_synapses": 0}, r"n_synapses must be an integer in \[1, inf\]; got 0"),
    ({"dendritic_kernel": (3, 4)}, r"dendritic_kernel must be an int or a sequence of 3"),
    ({"synapses_per_dendrite": 3}, "synapses_per_dendrite × n_dendrites must hold every "
                                   "synapse; got 3 × 4 = 12 < n_synapses=15"),
    ({"spatial_padding": "valid", "dendritic_kernel": (3, 6, 5)},
     r"dendritic_kernel is longer than the neuron along the dendrite axis \(6 > 4\)"),
    ({"firing_lambda": -0.5}, r"firing_lambda must be in \[0, inf\); got -0.5"),
    ({"dt_ms": -1.0}, r"dt_ms must be in \(0, inf\) ms; got -1 ms"),
    ({"amplification": 1.2}, r"amplification must be in \[0, 1\]; got 1.2"),
])
def test_config_errors_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        replace(GRANULE, **kwargs)


def test_input_errors_name_the_argument():
    neuron = granule_cell()
    with pytest.raises(ValueError, match=r"x must be a 3-D tensor \(batch, synapse, time\); "
                                         r"got a 2-D tensor of shape \(15, 5\)"):
        neuron(torch.rand(15, 5))
    with pytest.raises(ValueError, match=r"x must have 15 synapses \(config.n_synapses\) along "
                                         r"dimension 1; got 16"):
        neuron(torch.rand(2, 16, 5))
    with pytest.raises(TypeError, match="x must have a floating-point dtype"):
        neuron(torch.ones(2, 15, 5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"tau_rise_ms must be in \(0, inf\) ms; got -0.3 ms"):
        DifferenceOfExponentials(tau_rise_ms=-0.3, tau_decay_ms=3.0)
    with pytest.raises(ValueError, match=r"tau_decay_ms must be in \(0.3, inf\) ms; got 0.2"):
        DifferenceOfExponentials(tau_rise_ms=0.3, tau_decay_ms=0.2)
    with pytest.raises(ValueError, match=r"kernel_size\[1\] must be an integer in \[1, inf\]"):
        DendriticConv(1, 1, (3, 0, 5))


def test_seeds_and_dtypes():
    a, b, c = granule_cell(seed=9), granule_cell(seed=9), granule_cell(seed=10)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.dendrites.weight, c.dendrites.weight)
    state = torch.get_rng_state()
    granule_cell(seed=11)
    assert torch.equal(state, torch.get_rng_state())  # the global generator is untouched
    n64 = granule_cell(seed=9, dtype=F64).eval()
    y = n64(torch.rand(2, 15, 5, dtype=F64))
    assert y.dtype == F64
    y32 = a.eval()(torch.rand(2, 15, 5, generator=torch.Generator().manual_seed(0)))
    y64 = n64(torch.rand(2, 15, 5, generator=torch.Generator().manual_seed(0)).double())
    # float32 vs float64 of the same weights: float32 round-off over ~60-term sums, ~1e-6
    torch.testing.assert_close(y32.double(), y64, rtol=1e-5, atol=1e-5)


def test_layers_follow_the_input_dtype():
    # a float32 layer given float64 input computes in float64 (its parameters are cast)
    from neurocomp.layers import CausalConv1d

    x5, x3 = torch.randn(2, 1, 4, 4, 5, dtype=F64), torch.randn(2, 3, 6, dtype=F64)
    for layer, x in ((DendriticConv(1, 2, (3, 4, 5)), x5), (TransmitterDense(3, 4, bias=True), x3),
                     (CausalConv1d(3, 2, 3), x3), (SomaticFilter(5, init="uniform"), x3)):
        y = layer(x)
        ref = layer.to(F64)(x)
        assert y.dtype == F64 and torch.equal(y, ref)  # same math once parameters are cast


def test_amplification_one_makes_the_spike_stage_a_max_pool():
    neuron = granule_cell(seed=12, amplification=1.0).eval()
    stages = neuron.stages(torch.rand(3, 15, 5))
    assert torch.equal(stages.spikes, stages.dendritic.amax(dim=2))  # max over each dendrite


def test_purkinje_filter_count_matches_the_arithmetic_probe():
    # docs/references.md#seed-brain-vs-dl-2-4 (arithmetic probe) probe: 2·(100,000·5)·(10·1000·5)
    # FLOPs per Purkinje cell and input window — the dendritic convolution of this layout does
    # exactly that many MACs·2
    from torch.utils.flop_counter import FlopCounterMode

    for algorithm, device in (("direct", "meta"), ("toeplitz", "cpu")):  # meta: count only
        conv = DendriticConv(1, 1, (10, 1000, 5), bias=False, algorithm=algorithm,
                             device=device)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            conv(torch.zeros(1, 1, 100, 1000, 5, device=device))
        assert counter.get_total_flops() == 2 * (100_000 * 5) * (10 * 1000 * 5)  # exact count
    assert math.isclose(2 * 500_000 * 50_000 * 1e8 * 200, 1.0e21)  # the probe's 1.0×10^21


@pytest.mark.gpu
def test_layers_match_on_cuda():
    cpu = granule_cell(seed=13, dtype=F64).eval()
    gpu = granule_cell(seed=13, dtype=F64, device="cuda").eval()
    x = torch.rand(4, 15, 5, dtype=F64)
    # same weights (drawn on the CPU), same float64 math: agreement to round-off
    torch.testing.assert_close(gpu(x.cuda()).cpu(), cpu(x), rtol=0, atol=1e-12)
    fire = PoissonFiring(0.5, generator=torch.Generator("cuda").manual_seed(1)).train()
    assert fire(x.cuda()).device.type == "cuda"
    conv = DendriticConv(1, 2, (3, 70, 3), dtype=F64)
    xx = torch.randn(2, 1, 5, 70, 4, dtype=F64)
    ref = conv(xx)
    conv.cuda()
    for algorithm in ("direct", "toeplitz", "fft"):
        conv.algorithm = algorithm
        torch.testing.assert_close(conv(xx.cuda()).cpu(), ref, rtol=0, atol=1e-11)
