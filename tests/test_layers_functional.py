"""neurocomp.layers.functional: each function against a naive Python-loop reference, theory,
gradients (float64 gradcheck), causality by perturbation, and error messages.

Tiers (STYLE.md): (a) theory — kernel areas and peaks, max-pooling as a limit, Poisson
statistics; (b) reference implementations — explicit loops over every index, written for
clarity and nothing else.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from neurocomp.layers import functional as LF

F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_torch_thread")
# Float64 round-off of sums of O(100) terms of O(1): ~1e-14; 1e-12 leaves room.
ATOL = 1e-12


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(20150727)  # the date of the post


def randn(gen: torch.Generator, *shape: int, grad: bool = False) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=F64).requires_grad_(grad)


# -- synaptic kernel -------------------------------------------------------------------------

def naive_doe(tau_r: float, tau_d: float, dt: float, n: int, normalization: str) -> list[float]:
    if normalization == "peak":
        t_peak = tau_r * tau_d / (tau_d - tau_r) * math.log(tau_d / tau_r)
        peak = math.exp(-t_peak / tau_d) - math.exp(-t_peak / tau_r)
        return [(math.exp(-i * dt / tau_d) - math.exp(-i * dt / tau_r)) / peak for i in range(n)]
    out = []
    for i in range(n):  # integrate g over [i dt, (i+1) dt] with a fine midpoint rule
        m, h = 2000, dt / 2000
        area = sum(math.exp(-(i * dt + (j + 0.5) * h) / tau_d)
                   - math.exp(-(i * dt + (j + 0.5) * h) / tau_r) for j in range(m)) * h
        out.append(area / (tau_d - tau_r))
    return out


@pytest.mark.parametrize("normalization", LF.KERNEL_NORMALIZATIONS)
def test_doe_kernel_matches_loop(normalization):
    k = LF.difference_of_exponentials_kernel(0.3, 3.0, dt_ms=0.5, n_taps=12,
                                             normalization=normalization, dtype=F64)
    ref = torch.tensor(naive_doe(0.3, 3.0, 0.5, 12, normalization), dtype=F64)
    # midpoint rule with 2000 cells: error ~ h²/24·|g''| ≈ 1e-9 here; exact formula for "peak"
    torch.testing.assert_close(k, ref, rtol=0, atol=1e-8)


def test_doe_kernel_area_and_peak_theory():
    # area normalisation: taps sum to 1 - (tail beyond n dt) exactly
    k = LF.difference_of_exponentials_kernel(2.0, 70.0, dt_ms=1.0, n_taps=2000, dtype=F64)
    tail = (70.0 * math.exp(-2000 / 70.0) - 2.0 * math.exp(-2000 / 2.0)) / 68.0
    assert abs(float(k.sum()) - (1.0 - tail)) < 1e-12  # closed form telescopes: round-off only
    # peak normalisation: a grid point on t_peak gives exactly 1 (Exp2Syn's factor)
    t_peak = 0.3 * 3.0 / 2.7 * math.log(10.0)
    dt = t_peak / 10
    kp = LF.difference_of_exponentials_kernel(0.3, 3.0, dt_ms=dt, n_taps=40,
                                              normalization="peak", dtype=F64)
    assert abs(float(kp[10]) - 1.0) < 1e-12 and float(kp.max()) <= 1.0 + 1e-12  # round-off
    assert float(kp[0]) == 0.0  # g(0) = 0: no instantaneous effect


def test_doe_kernel_learnable_time_constants_gradcheck():
    tau_r = torch.tensor(0.7, dtype=F64, requires_grad=True)
    tau_d = torch.tensor(4.0, dtype=F64, requires_grad=True)
    for norm in LF.KERNEL_NORMALIZATIONS:
        assert torch.autograd.gradcheck(  # finite differences vs autograd, default tolerances
            lambda a, b, n=norm: LF.difference_of_exponentials_kernel(a, b, dt_ms=0.5, n_taps=8,
                                                                      normalization=n),
            (tau_r, tau_d))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"tau_rise_ms": -1.0, "tau_decay_ms": 3.0}, r"tau_rise_ms must be in \(0, inf\) ms; got -1"),
    ({"tau_rise_ms": 0.3, "tau_decay_ms": -3.0}, r"tau_decay_ms must be in \(0, inf\) ms"),
    ({"tau_rise_ms": 3.0, "tau_decay_ms": 0.3}, "tau_rise_ms must be smaller than tau_decay_ms"),
    ({"tau_rise_ms": torch.tensor(-0.5), "tau_decay_ms": 3.0}, "tau_rise_ms must be in"),
])
def test_doe_kernel_bad_time_constants(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LF.difference_of_exponentials_kernel(**kwargs, dt_ms=1.0, n_taps=5)
    with pytest.raises(ValueError, match=r"dt_ms must be in \(0, inf\) ms; got 0"):
        LF.difference_of_exponentials_kernel(0.3, 3.0, dt_ms=0.0, n_taps=5)


# -- temporal filter, causal conv, dense -----------------------------------------------------

def naive_temporal_filter(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    y = torch.zeros_like(x)
    lead = x.shape[:-1]
    for idx in itertools.product(*(range(s) for s in lead)):
        kern = k if k.ndim == 1 else k[idx[-1]]
        for t in range(x.shape[-1]):
            y[(*idx, t)] = sum(kern[n] * x[(*idx, t - n)] for n in range(k.shape[-1]) if t >= n)
    return y


@pytest.mark.parametrize(("xshape", "kshape"), [
    ((7,), (3,)), ((2, 3, 6), (5,)), ((2, 3, 6), (3, 4)), ((2, 4), (9,)),  # Toeplitz GEMM
    ((2, 600), (5,)), ((1, 3, 530), (3, 7)), ((520,), (600,)),  # > 512 steps: FFT
])
def test_temporal_filter_matches_loop(gen, xshape, kshape):
    x, k = randn(gen, *xshape), randn(gen, *kshape)  # (2, 4)/(9,): kernel longer than input
    # float64 round-off, GEMM or FFT: ~1e-14 for sums of up to 600 O(1) terms
    torch.testing.assert_close(LF.temporal_filter(x, k), naive_temporal_filter(x, k),
                               rtol=0, atol=1e-11)


def test_temporal_filter_causal_and_gradcheck(gen):
    x, k = randn(gen, 2, 3, 9, grad=True), randn(gen, 3, 4, grad=True)
    assert torch.autograd.gradcheck(LF.temporal_filter, (x, k))
    assert_causal(lambda v: LF.temporal_filter(v, k.detach()), x.detach())
    long_x, long_k = randn(gen, 1, 600, grad=True), randn(gen, 6, grad=True)  # the FFT path
    assert torch.autograd.gradcheck(LF.temporal_filter, (long_x, long_k), fast_mode=True)
    # FFT round-off (~1e-15 in float64) reaches every output; a leak would be O(1)
    assert_causal(lambda v: LF.temporal_filter(v, long_k.detach()), long_x.detach(), t0=300,
                  atol=1e-12)


def assert_causal(fn, x: torch.Tensor, *, t0: int | None = None, dim: int = -1,
                  atol: float = 0.0) -> None:
    """Perturb every input step after t0 by O(1): outputs up to t0 must not move (exactly, or
    within ``atol`` for methods such as the FFT that spread round-off over all outputs)."""
    steps = x.shape[dim]
    for cut in ([t0] if t0 is not None else range(steps - 1)):
        x2 = x.clone()
        x2.narrow(dim, cut + 1, steps - cut - 1).add_(1.0 + x2.narrow(dim, cut + 1,
                                                                       steps - cut - 1).abs())
        y, y2 = fn(x), fn(x2)
        # inputs after t0 must not enter the sums for outputs at <= t0
        torch.testing.assert_close(y.narrow(dim, 0, cut + 1), y2.narrow(dim, 0, cut + 1),
                                   rtol=0, atol=atol, msg=f"cut {cut}")
        assert not torch.equal(y, y2)  # and the perturbation does reach later outputs


@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_causal_conv1d_matches_loop_and_is_causal(gen, dilation):
    x, w, b = randn(gen, 2, 3, 11), randn(gen, 4, 3, 3), randn(gen, 4)
    ref = torch.zeros(2, 4, 11, dtype=F64)
    for n, o, t in itertools.product(range(2), range(4), range(11)):
        ref[n, o, t] = b[o] + sum(w[o, c, k] * x[n, c, t - (2 - k) * dilation]
                                  for c in range(3) for k in range(3)
                                  if t - (2 - k) * dilation >= 0)
    torch.testing.assert_close(LF.causal_conv1d(x, w, b, dilation=dilation), ref,
                               rtol=0, atol=ATOL)
    assert_causal(lambda v: LF.causal_conv1d(v, w, b, dilation=dilation), x)


def test_transmitter_dense_matches_loop_and_gradcheck(gen):
    x, r, rec, b = randn(gen, 2, 5, 3), randn(gen, 5), randn(gen, 4, 5), randn(gen, 4)
    ref = torch.zeros(2, 4, 3, dtype=F64)
    for n, o, t in itertools.product(range(2), range(4), range(3)):
        ref[n, o, t] = b[o] + sum(r[i] * rec[o, i] * x[n, i, t] for i in range(5))
    torch.testing.assert_close(LF.transmitter_dense(x, r, rec, b), ref, rtol=0, atol=ATOL)
    torch.testing.assert_close(LF.transmitter_dense(x.transpose(1, 2), r, rec, b, dim=-1),
                               ref.transpose(1, 2), rtol=0, atol=ATOL)
    args = tuple(t.clone().requires_grad_() for t in (x, r, rec, b))
    assert torch.autograd.gradcheck(LF.transmitter_dense, args)
    with pytest.raises(ValueError, match=r"x must have 5 features \(release.shape\[0\]\) "
                                         r"along dimension -2; got 4"):
        LF.transmitter_dense(x[:, :4], r, rec)


# -- dendritic convolution -------------------------------------------------------------------

def naive_dendritic_conv(x, w, b, padding):
    n_b, n_d, n_t = x.shape[2:]
    c_out, c_in, k_b, k_d, k_t = w.shape
    if padding == "same":
        lo_b, lo_d = (k_b - 1) // 2, (k_d - 1) // 2
        out_b, out_d = n_b, n_d
    else:
        lo_b = lo_d = 0
        out_b, out_d = n_b - k_b + 1, n_d - k_d + 1
    y = torch.zeros(x.shape[0], c_out, out_b, out_d, n_t, dtype=x.dtype)
    for n, o, p, d, t in itertools.product(range(x.shape[0]), range(c_out), range(out_b),
                                           range(out_d), range(n_t)):
        acc = b[o].item()
        for c, i, j, k in itertools.product(range(c_in), range(k_b), range(k_d), range(k_t)):
            pi, dj, tk = p + i - lo_b, d + j - lo_d, t + k - (k_t - 1)
            if 0 <= pi < n_b and 0 <= dj < n_d and 0 <= tk < n_t:
                acc += w[o, c, i, j, k].item() * x[n, c, pi, dj, tk].item()
        y[n, o, p, d, t] = acc
    return y


@pytest.mark.parametrize("algorithm", ["direct", "toeplitz", "fft"])
@pytest.mark.parametrize("padding", LF.SPATIAL_PADDINGS)
@pytest.mark.parametrize(("xshape", "wshape"), [((2, 1, 4, 4, 5), (1, 1, 3, 4, 5)),
                                                ((1, 2, 5, 6, 3), (3, 2, 2, 3, 2))])
def test_dendritic_conv_matches_loop(gen, algorithm, padding, xshape, wshape):
    x, w, b = randn(gen, *xshape), randn(gen, *wshape), randn(gen, wshape[0])
    got = LF.dendritic_conv(x, w, b, spatial_padding=padding, algorithm=algorithm)
    # FFT round-off in float64 stays near 1e-15 at these sizes; the same 1e-12 for all three
    torch.testing.assert_close(got, naive_dendritic_conv(x, w, b, padding), rtol=0, atol=ATOL)


@pytest.mark.parametrize("algorithm", ["direct", "toeplitz", "fft"])
def test_dendritic_conv_gradcheck_and_causality(gen, algorithm):
    x, w = randn(gen, 1, 2, 3, 4, 3, grad=True), randn(gen, 2, 2, 2, 3, 2, grad=True)
    b = randn(gen, 2, grad=True)
    assert torch.autograd.gradcheck(
        lambda *a: LF.dendritic_conv(*a, algorithm=algorithm), (x, w, b))
    # exact for the direct sums; FFT round-off (float64, ~1e-15) reaches every output
    assert_causal(lambda v: LF.dendritic_conv(v, w.detach(), b.detach(), algorithm=algorithm),
                  x.detach(), atol=1e-12 if algorithm == "fft" else 0.0)


def test_dendritic_conv_long_kernels_agree_across_algorithms(gen):
    # a Purkinje-like long dendrite kernel (scaled down; 1200 taps, so "auto" takes the FFT)
    x, w = randn(gen, 2, 2, 6, 80, 5), randn(gen, 3, 2, 3, 80, 5)
    direct = LF.dendritic_conv(x, w, algorithm="direct")
    for algorithm in ("auto", "toeplitz", "fft"):
        # 2400-term float64 sums of O(1) terms: round-off ~1e-13 whatever the algorithm
        torch.testing.assert_close(LF.dendritic_conv(x, w, algorithm=algorithm), direct,
                                   rtol=0, atol=1e-11)
    x32, w32 = x.float(), w.float()
    # float32 FFT: relative round-off ~1e-6 of the output scale (sqrt(2400) ≈ 50)
    torch.testing.assert_close(LF.dendritic_conv(x32, w32, algorithm="fft").double(), direct,
                               rtol=0, atol=5e-4)


def test_dendritic_conv_errors(gen):
    x, w = randn(gen, 2, 1, 4, 4, 5), randn(gen, 1, 1, 3, 4, 5)
    with pytest.raises(ValueError, match=r"x must be a 5-D tensor \(batch, channel, branch, "
                                         r"dendrite, time\); got a 3-D tensor of shape"):
        LF.dendritic_conv(x[:, 0, 0], w)
    with pytest.raises(ValueError, match=r"weight is longer than x along the dendrite axis "
                                         r"\(6 > 4\); with spatial_padding='valid'"):
        LF.dendritic_conv(x, randn(gen, 1, 1, 3, 6, 5), spatial_padding="valid")
    with pytest.raises(ValueError, match="spatial_padding must be one of 'same', 'valid'; "
                                         "got 'full'"):
        LF.dendritic_conv(x, w, spatial_padding="full")
    with pytest.raises(TypeError, match="x must have a floating-point dtype"):
        LF.dendritic_conv(x.long(), w)


# -- dendritic-spike amplification and pooling -----------------------------------------------

def naive_amplify(x: torch.Tensor, k: int, alpha: float) -> torch.Tensor:
    """1-D tiles along the last axis, by hand."""
    y = x.clone()
    for idx in itertools.product(*(range(s) for s in x.shape[:-1])):
        for start in range(0, x.shape[-1], k):
            tile = [x[(*idx, j)].item() for j in range(start, min(start + k, x.shape[-1]))]
            m = max(tile)
            for off, v in enumerate(tile):
                y[(*idx, start + off)] = v + alpha * (m - v)
    return y


def naive_pool(x: torch.Tensor, k: int, s: int, alpha: float) -> torch.Tensor:
    n_out = (x.shape[-1] - k) // s + 1
    y = torch.zeros(*x.shape[:-1], n_out, dtype=x.dtype)
    for idx in itertools.product(*(range(q) for q in x.shape[:-1])):
        for w in range(n_out):
            vals = [x[(*idx, j)].item() for j in range(w * s, w * s + k)]
            m = max(vals)
            y[(*idx, w)] = sum(v + alpha * (m - v) for v in vals) / k
    return y


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("steps", [10, 12])  # 10: the last tile of 4 is partial
def test_amplify_matches_loop_and_preserves_the_maximum(gen, alpha, steps):
    x = randn(gen, 2, 3, steps)
    y = LF.dendritic_spike_amplify(x, kernel_size=4, amplification=alpha)
    torch.testing.assert_close(y, naive_amplify(x, 4, alpha), rtol=0, atol=ATOL)
    tile_max = F.max_pool1d(x.reshape(6, 1, steps), 4, 4, ceil_mode=True)
    # the maximum is preserved exactly: every tile keeps its max, nothing exceeds it
    assert torch.equal(F.max_pool1d(y.reshape(6, 1, steps), 4, 4, ceil_mode=True), tile_max)
    assert bool((y >= x).all())  # neighbours are amplified, never reduced (exact comparison)


def test_amplify_limits(gen):
    x = randn(gen, 2, 3, 6, 4)
    same = LF.dendritic_spike_amplify(x, kernel_size=(3, 2), amplification=0.0)
    assert torch.equal(same, x)  # alpha = 0: identity, bit for bit
    full = LF.dendritic_spike_amplify(x, kernel_size=(3, 2), amplification=1.0)
    pooled = F.max_pool2d(x.reshape(6, 1, 6, 4), (3, 2))
    expected = pooled.repeat_interleave(3, 2).repeat_interleave(2, 3).reshape(x.shape)
    assert torch.equal(full, expected)  # alpha = 1: each tile overwritten by its max (exact)


@pytest.mark.parametrize(("k", "s", "alpha"), [(3, 3, 0.4), (4, 2, 0.7), (5, 1, 0.0)])
def test_amplifying_pool_matches_loop(gen, k, s, alpha):
    x = randn(gen, 2, 3, 11)
    y = LF.amplifying_pool(x, kernel_size=k, stride=s, amplification=alpha)
    torch.testing.assert_close(y, naive_pool(x, k, s, alpha), rtol=0, atol=ATOL)


@pytest.mark.parametrize("ks", [(3,), (2, 3), (4, 1, 1)])
def test_amplifying_pool_is_max_pooling_in_its_limit(gen, ks):
    x = randn(gen, 2, 3, 8, 6, 5)
    n = len(ks)
    flat = x.reshape(-1, 1, *x.shape[-n:])
    max_pool, avg_pool = {1: (F.max_pool1d, F.avg_pool1d), 2: (F.max_pool2d, F.avg_pool2d),
                          3: (F.max_pool3d, F.avg_pool3d)}[n]
    ref_max = max_pool(flat, ks).reshape(*x.shape[:-n], *max_pool(flat, ks).shape[2:])
    ref_avg = avg_pool(flat, ks).reshape(ref_max.shape)
    got_max = LF.amplifying_pool(x, kernel_size=ks, amplification=1.0)
    assert torch.equal(got_max, ref_max)  # alpha = 1 is max-pooling, bit for bit
    assert torch.equal(LF.amplifying_pool(x, kernel_size=ks, amplification=0.0),
                       ref_avg)  # alpha = 0 is average pooling, bit for bit
    # pooling the amplified map by max gives the max-pool of the input: maximum preserved
    amp = LF.dendritic_spike_amplify(x, kernel_size=ks, amplification=0.6)
    assert torch.equal(max_pool(amp.reshape(flat.shape), ks).reshape(ref_max.shape), ref_max)


def test_amplifying_pool_threshold_and_gradcheck(gen):
    x = randn(gen, 2, 12, grad=True)
    assert torch.autograd.gradcheck(
        lambda v: LF.amplifying_pool(v, kernel_size=3, amplification=0.4), (x,))
    alpha = torch.tensor(0.3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(  # learnable amplification
        lambda v, a: LF.dendritic_spike_amplify(v, kernel_size=4, amplification=a), (x, alpha))
    xd = x.detach()
    gated = LF.amplifying_pool(xd, kernel_size=3, amplification=1.0, threshold=0.5)
    win_max = F.max_pool1d(xd.unsqueeze(1), 3).squeeze(1)
    win_avg = F.avg_pool1d(xd.unsqueeze(1), 3).squeeze(1)
    # windows below threshold fire no dendritic spike: plain mean; the others: the max
    torch.testing.assert_close(gated, torch.where(win_max >= 0.5, win_max, win_avg),
                               rtol=0, atol=1e-15)


def test_pool_errors(gen):
    x = randn(gen, 2, 5)
    with pytest.raises(ValueError, match=r"kernel_size\[0\]=6 is longer than x along that "
                                         r"axis \(size 5\)"):
        LF.amplifying_pool(x, kernel_size=6, amplification=0.5)
    with pytest.raises(ValueError, match=r"amplification must be in \[0, 1\]; got 1.5"):
        LF.amplifying_pool(x, kernel_size=2, amplification=1.5)
    with pytest.raises(ValueError, match="kernel_size must have 1 to 3 entries"):
        LF.dendritic_spike_amplify(x, kernel_size=(1, 1, 1, 1), amplification=0.5)


# -- dendritic nonlinearities ----------------------------------------------------------------

def test_nonlinearities_match_loops(gen):
    x = randn(gen, 3, 7)
    sub = [[1.5 * math.tanh(v / 1.5) for v in row] for row in x.tolist()]
    sup = [[max(0.0, v) ** 2.5 for v in row] for row in x.tolist()]
    torch.testing.assert_close(LF.sublinear(x, saturation=1.5), torch.tensor(sub, dtype=F64),
                               rtol=0, atol=ATOL)
    torch.testing.assert_close(LF.supralinear(x, exponent=2.5), torch.tensor(sup, dtype=F64),
                               rtol=0, atol=ATOL)
    ref = []
    for row in x.tolist():
        prev, out = 0.0, []
        for v in row:
            prev = 2.0 / (1.0 + math.exp(-(v + 0.8 * prev - 0.4) / 0.2))
            out.append(prev)
        ref.append(out)
    got = LF.bistable(x, threshold=0.4, width=0.2, feedback=0.8, high=2.0)
    torch.testing.assert_close(got, torch.tensor(ref, dtype=F64), rtol=0, atol=ATOL)


def test_sub_and_supra_linear_summation():
    a, b = torch.tensor(0.7, dtype=F64), torch.tensor(0.9, dtype=F64)
    # sub-linear: f(a + b) < f(a) + f(b) for positive inputs; supra-linear: >
    assert LF.sublinear(a + b) < LF.sublinear(a) + LF.sublinear(b)
    assert LF.supralinear(a + b) > LF.supralinear(a) + LF.supralinear(b)


def test_bistable_has_hysteresis():
    # same input 0 at the end, different histories: a strong pulse switches the dendrite up
    # and the feedback (f·h = 1 > 4w = 0.4) holds it there; without the pulse it stays down.
    # Fixed points of y = sigma((y - 0.5)/0.1): y ≈ 0.0068 (stable), 0.5, y ≈ 0.9932 (stable)
    quiet = torch.zeros(8, dtype=F64)
    pulsed = quiet.clone()
    pulsed[2] = 1.5
    y_quiet, y_pulsed = LF.bistable(quiet), LF.bistable(pulsed)
    assert float(y_quiet[-1]) < 0.01  # down state
    assert float(y_pulsed[-1]) > 0.99  # up state, five steps after the pulse ended
    no_feedback = LF.bistable(pulsed, feedback=0.0)
    assert float(no_feedback[-1]) == float(LF.bistable(quiet, feedback=0.0)[-1])  # memoryless


def test_nonlinearity_gradcheck_and_errors(gen):
    x = randn(gen, 2, 6, grad=True)
    for fn in (lambda v: LF.sublinear(v, saturation=0.7),
               lambda v: LF.supralinear(v, exponent=1.5),
               lambda v: LF.bistable(v, feedback=0.6)):
        assert torch.autograd.gradcheck(fn, (x,))
    with pytest.raises(ValueError, match=r"exponent must be in \[1, inf\); got 0.5"):
        LF.supralinear(x, exponent=0.5)
    with pytest.raises(ValueError, match=r"width must be in \(0, inf\); got 0"):
        LF.bistable(x, width=0.0)


# -- Poisson firing --------------------------------------------------------------------------

def test_poisson_pmf_theory():
    p = LF.poisson_delay_pmf(0.5, 30, dtype=F64)
    ref = torch.tensor([math.exp(-0.5) * 0.5 ** d / math.factorial(d) for d in range(30)],
                       dtype=F64)
    torch.testing.assert_close(p, ref, rtol=1e-13, atol=0)  # lgamma vs factorial round-off
    assert abs(float(p.sum()) - 1.0) < 1e-15  # tail beyond d = 29 is < 1e-40
    assert torch.equal(LF.poisson_delay_pmf(0.0, 3), torch.tensor([1.0, 0.0, 0.0]))


def test_poisson_delay_statistics_match_lambda():
    lam, n = 0.5, 200_000
    d = LF.sample_poisson_delays((n,), lam, generator=torch.Generator().manual_seed(1))
    d = d.double()
    # sample mean and variance both estimate lambda; standard errors sqrt(lam/n) = 0.0016 and
    # sqrt((lam + 2 lam²)/n) = 0.0022; 5 standard errors leave a 1-in-10^6 false alarm
    assert abs(float(d.mean()) - lam) < 5 * math.sqrt(lam / n)
    assert abs(float(d.var()) - lam) < 5 * math.sqrt((lam + 2 * lam**2) / n)
    pmf = LF.poisson_delay_pmf(lam, 5, dtype=F64)
    for k in range(5):  # each bin frequency within 5 binomial standard errors (+1/n for k = 4)
        freq = float((d == k).double().mean())
        se = math.sqrt(float(pmf[k]) * (1 - float(pmf[k])) / n)
        assert abs(freq - float(pmf[k])) < 5 * se + 1.0 / n, k


def test_poisson_firing_training_delays_spikes_by_poisson_cycles():
    # one spike per row at t = 0 and 16 steps: where it lands is the delay
    lam, rows, steps = 0.5, 100_000, 16
    x = torch.zeros(rows, steps, dtype=F64)
    x[:, 0] = 1.0
    y = LF.poisson_firing(x, lam, training=True, generator=torch.Generator().manual_seed(2))
    assert torch.equal(y.sum(1), torch.ones(rows, dtype=F64))  # delays < 16 w.p. 1 - 1e-19
    landed = y.argmax(1).double()
    # mean landing step = lambda; 5 standard errors sqrt(lam/rows) = 0.011
    assert abs(float(landed.mean()) - lam) < 5 * math.sqrt(lam / rows)
    # a spike near the end of the window is dropped when its delay runs past it
    late = torch.zeros(rows, steps, dtype=F64)
    late[:, -1] = 1.0
    kept = float(LF.poisson_firing(late, lam, training=True,
                                   generator=torch.Generator().manual_seed(3)).sum() / rows)
    p0 = math.exp(-lam)  # kept only if fired at once; binomial se = sqrt(p0 (1-p0)/rows)
    assert abs(kept - p0) < 5 * math.sqrt(p0 * (1 - p0) / rows)


def test_poisson_firing_eval_is_the_expectation_of_training(gen):
    x = torch.rand(1, 6, generator=gen, dtype=F64)
    expected = LF.poisson_firing(x, 0.5, training=False)
    draws = 40_000
    mc = LF.poisson_firing(x.expand(draws, 6), 0.5, training=True,
                           generator=torch.Generator().manual_seed(4)).mean(0)
    # Monte-Carlo mean of 40,000 draws: standard error <= max|x|·0.5/sqrt(draws) = 0.0025;
    # 5 standard errors
    torch.testing.assert_close(mc, expected[0], rtol=0, atol=5 * 0.5 / math.sqrt(draws))
    ref = naive_temporal_filter(x, LF.poisson_delay_pmf(0.5, 6, dtype=F64))
    torch.testing.assert_close(expected, ref, rtol=0, atol=ATOL)


def test_poisson_firing_training_matches_loop_and_is_causal(gen):
    x = randn(gen, 3, 4, 7)
    y = LF.poisson_firing(x, 0.8, training=True, generator=torch.Generator().manual_seed(5))
    d = LF.sample_poisson_delays(x.shape, 0.8, generator=torch.Generator().manual_seed(5))
    ref = torch.zeros_like(x)
    for i, j, t in itertools.product(range(3), range(4), range(7)):
        if t + d[i, j, t] < 7:
            ref[i, j, t + d[i, j, t]] += x[i, j, t]
    torch.testing.assert_close(y, ref, rtol=0, atol=ATOL)
    for training in (False, True):
        assert_causal(lambda v, tr=training: LF.poisson_firing(
            v, 0.8, training=tr, generator=torch.Generator().manual_seed(6)), x)
    assert torch.equal(LF.poisson_firing(x, 0.0, training=True), x)  # lambda = 0: identity


def test_poisson_errors(gen):
    with pytest.raises(ValueError, match=r"lam must be in \[0, inf\); got -0.5"):
        LF.poisson_firing(randn(gen, 3), -0.5, training=True)
    with pytest.raises(ValueError, match=r"lam must be in \[0, inf\); got -1"):
        LF.poisson_delay_pmf(-1.0, 4)
    with pytest.raises(ValueError, match=r"x must be a tensor with at least 1 dimension"):
        LF.poisson_firing(torch.tensor(1.0), 0.5, training=False)


def test_pull_toward_the_max_stays_between_value_and_max_in_float32():
    # 2,000 random tiles × 101 pull fractions in float32, where rounding is coarse: the
    # amplified values never leave [x, tile max] and the max itself never moves (exact)
    g = torch.Generator().manual_seed(8)
    x = torch.randn(2000, 6, generator=g) * torch.logspace(-3, 3, 6)
    m = x.amax(dim=1, keepdim=True)
    for alpha in torch.linspace(0, 1, 101).tolist():
        y = LF.dendritic_spike_amplify(x, kernel_size=6, amplification=alpha)
        assert bool((y >= x).all()) and bool((y <= m).all()), alpha
        assert torch.equal(y.amax(dim=1, keepdim=True), m), alpha
