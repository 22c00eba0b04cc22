r"""Ground truth of attention, pooling, normalisation and recurrent cells, counted as computed.

Same method and convention as :mod:`~neurocomp.accounting.truth.loops`: each
function computes the op with counting primitives (:class:`Tally`), so its count is what the
stated algorithm performs. The choices these ops add:

* **Attention** is the dense algorithm :math:`\mathrm{softmax}(QK^\top s)\,V`: the score
  matrix is formed in full, scaled (one multiply per score), and a causal mask is applied by
  *selecting* −∞ (no arithmetic); **masked products count** — a dense kernel computes them
  (PyTorch's CPU flash kernel skips whole blocks above the diagonal, so it does fewer; the
  count is that of the dense algorithm, as ``FlopCounterMode``'s). An additive float mask
  costs one add per score. Softmax per score: a comparison (row maximum, from −∞), a
  subtract, an ``exp``, an add (row sum) and a division. The fused op also returns the
  log-sum-exp, one ``log`` and one add per row. Its backward (FlashAttention's) recomputes
  the probabilities from the log-sum-exp — :math:`QK^\top` again, a multiply, a subtract and
  an ``exp`` per score — and uses :math:`D = \mathrm{rowsum}(dO \odot O)` (a multiply and an
  add per output value), :math:`dS = P \odot (dP - D)\,s` (three per score): five products
  in all. The backward of the unfused ops keeps :math:`P`: four products, the softmax
  gradient :math:`g y - y \sum g y` (four per score) and the scale (one).
* **Pooling** is computed on the explicitly padded input (−∞ for maximum, 0 for average):
  K comparisons, or K adds and a division, per output — padding taps included, as for a
  convolution (PyTorch's CPU pooling skips them, doing fewer at the borders). Backward: one
  add per output gradient (maximum); a division and K adds (average).
* **Normalisation** (two-pass statistics, a reciprocal square root counted as one root):
  batch norm :math:`y = x s + t` with per-channel :math:`s = \gamma r`,
  :math:`t = \beta - \mu s`; layer norm :math:`y = (x - \mu) r \gamma + \beta` per element
  (the centred values recomputed, not stored). Running statistics: three operations per
  channel each (the unbiased factor folded into the momentum constant).
* **Recurrent cells** (:mod:`~neurocomp.accounting.truth.rnn`; PyTorch's
  equations, gates i, f, g, o / r, z, n): each gate sums two accumulators, one started at
  ``b_ih`` and one at ``b_hh`` (one add per gate value); sigmoid is ``exp``, add, division.
  The LSTM backward keeps the forward's gates and ``tanh(c)`` and computes the two bias
  gradients once (they are equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np

from neurocomp.accounting.truth.loops import Computed, ConvGeometry, Tally

__all__ = [
    "attention_backward_flash",
    "attention_backward_saved",
    "attention_forward",
    "avg_pool",
    "avg_pool_backward",
    "batch_norm_backward",
    "batch_norm_forward",
    "layer_norm_backward",
    "layer_norm_forward",
    "max_pool",
    "max_pool_backward",
]


# -- attention ---------------------------------------------------------------------------------

def _scores(t: Tally, q: np.ndarray, k: np.ndarray, scale: float, causal: bool,
            mask: np.ndarray | None) -> np.ndarray:
    """:math:`QK^\\top s` (+ mask): sq·sk·d MACs and one multiply per score."""
    s = t.mul(t.mac(0.0, q[..., :, None, :], k[..., None, :, :], axis=-1), scale)
    if mask is not None:
        s = t.add(s, mask)
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], dtype=bool)), s, -np.inf)
    return s


def _default_scale(q: np.ndarray, scale: float | None) -> float:
    return 1.0 / np.sqrt(q.shape[-1]) if scale is None else float(scale)


def attention_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, *, scale: float | None = None,
                      causal: bool = False, mask: np.ndarray | None = None,
                      logsumexp: bool = False) -> Computed:
    """Dense scaled dot-product attention, ``(..., s, d)`` tensors.

    Returns the output (and, with ``logsumexp``, the per-row log-sum-exp the fused kernel
    returns). Per head: sq·sk·(d + d_v) MACs, per score a multiply and the softmax's five.
    """
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    t = Tally()
    s = _scores(t, q, k, _default_scale(q, scale), causal, mask)
    m = t.max(s, axis=-1, keepdims=True)
    e = t.exp(t.sub(s, m))
    total = t.sum(e, axis=-1, keepdims=True)
    p = t.div(e, total)
    out = t.mac(0.0, p[..., :, :, None], v[..., None, :, :], axis=-2)
    if not logsumexp:
        return Computed(out, t.counts)
    lse = t.add(m, t.log(total))[..., 0]
    return Computed((out, lse), t.counts)


def attention_backward_flash(grad_out: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray,
                             out: np.ndarray, lse: np.ndarray, *, scale: float | None = None,
                             causal: bool = False) -> Computed:
    """Gradients (dQ, dK, dV) of the fused op, probabilities recomputed from the log-sum-exp."""
    grad_out, q, k, v, out, lse = (np.asarray(a, dtype=float)
                                   for a in (grad_out, q, k, v, out, lse))
    t = Tally()
    s_val = _default_scale(q, scale)
    p = t.exp(t.sub(_scores(t, q, k, s_val, causal, None), lse[..., None]))
    grad_v = t.mac(0.0, p[..., :, :, None], grad_out[..., :, None, :], axis=-3)
    grad_p = t.mac(0.0, grad_out[..., :, None, :], v[..., None, :, :], axis=-1)
    d = t.sum(t.mul(grad_out, out), axis=-1, keepdims=True)
    grad_s = t.mul(t.mul(p, t.sub(grad_p, d)), s_val)
    grad_q = t.mac(0.0, grad_s[..., :, :, None], k[..., None, :, :], axis=-2)
    grad_k = t.mac(0.0, grad_s[..., :, :, None], q[..., :, None, :], axis=-3)
    return Computed((grad_q, grad_k, grad_v), t.counts)


def attention_backward_saved(grad_out: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray,
                             probs: np.ndarray, *, scale: float | None = None) -> Computed:
    """Gradients (dQ, dK, dV) of the unfused ops, the probabilities kept from the forward.

    (A causal mask's gradient is a selection: no arithmetic, so it is not an argument.)
    """
    grad_out, q, k, v, p = (np.asarray(a, dtype=float) for a in (grad_out, q, k, v, probs))
    t = Tally()
    grad_v = t.mac(0.0, p[..., :, :, None], grad_out[..., :, None, :], axis=-3)
    grad_p = t.mac(0.0, grad_out[..., :, None, :], v[..., None, :, :], axis=-1)
    gy = t.mul(grad_p, p)
    grad_s = t.mul(t.sub(gy, t.mul(p, t.sum(gy, axis=-1, keepdims=True))),
                   _default_scale(q, scale))
    grad_q = t.mac(0.0, grad_s[..., :, :, None], k[..., None, :, :], axis=-2)
    grad_k = t.mac(0.0, grad_s[..., :, :, None], q[..., :, None, :], axis=-3)
    return Computed((grad_q, grad_k, grad_v), t.counts)


# -- pooling -----------------------------------------------------------------------------------

def _pool_geometry(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
                   padding: Sequence[int], dilation: Sequence[int] | int = 1
                   ) -> tuple[ConvGeometry, tuple[int, ...], tuple[int, ...]]:
    dims = len(kernel)
    g = ConvGeometry(dims=dims, stride=stride, padding=padding, dilation=dilation)
    sizes = tuple(x.shape[2:])
    if len(sizes) != dims:
        raise ValueError(f"a {dims}-D pooling needs input of {dims + 2} dimensions; "
                         f"got {x.shape}")
    return g, g.small_sizes(sizes, kernel), sizes


def max_pool(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
             padding: Sequence[int], dilation: Sequence[int] | int = 1) -> Computed:
    """Max pooling over padded windows: ``(output, flat argmax indices)``, K comparisons per
    output (the first against −∞)."""
    x = np.asarray(x, dtype=float)
    g, small, big = _pool_geometry(x, kernel, stride, padding, dilation)
    t = Tally()
    n, c = x.shape[:2]
    best = np.full((n, c, *small), -np.inf)
    where = np.zeros((n, c, *small), dtype=np.int64)
    pad = np.full((n, c), -np.inf)
    for p, _, i in g.connections(small, big, kernel):
        value = pad if i is None else x[(slice(None), slice(None), *i)]
        at = (slice(None), slice(None), *p)
        larger = t.greater(value, best[at])
        best[at] = np.where(larger, value, best[at])
        if i is not None:
            where[at] = np.where(larger, np.ravel_multi_index(i, big), where[at])
    return Computed((best, where), t.counts)


def max_pool_backward(grad_out: np.ndarray, indices: np.ndarray, x_shape: Sequence[int]
                      ) -> Computed:
    """Each output gradient added into the input position that won: one add per value."""
    grad_out = np.asarray(grad_out, dtype=float)
    t = Tally()
    n, c = grad_out.shape[:2]
    grad_x = np.zeros((n, c, prod(x_shape[2:])))
    flat_g, flat_i = grad_out.reshape(n, c, -1), np.asarray(indices).reshape(n, c, -1)
    for j in range(flat_g.shape[2]):
        rows = (np.arange(n)[:, None], np.arange(c)[None, :], flat_i[:, :, j])
        grad_x[rows] = t.add(grad_x[rows], flat_g[:, :, j])
    return Computed(grad_x.reshape(tuple(x_shape)), t.counts)


def avg_pool(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
             padding: Sequence[int]) -> Computed:
    """Average pooling over zero-padded windows (padding counted in the divisor, PyTorch's
    default): K adds and one division per output."""
    x = np.asarray(x, dtype=float)
    g, small, big = _pool_geometry(x, kernel, stride, padding)
    t = Tally()
    n, c = x.shape[:2]
    acc = np.zeros((n, c, *small))
    zero = np.zeros((n, c))
    for p, _, i in g.connections(small, big, kernel):
        at = (slice(None), slice(None), *p)
        acc[at] = t.add(acc[at], zero if i is None else x[(slice(None), slice(None), *i)])
    return Computed(t.div(acc, float(prod(kernel))), t.counts)


def avg_pool_backward(grad_out: np.ndarray, x_shape: Sequence[int], kernel: Sequence[int],
                      stride: Sequence[int], padding: Sequence[int]) -> Computed:
    """Each output gradient divided by K and added into its K window positions (those on
    padding formed and dropped)."""
    grad_out = np.asarray(grad_out, dtype=float)
    g, small, big = _pool_geometry(np.zeros(tuple(x_shape)), kernel, stride, padding)
    t = Tally()
    share = t.div(grad_out, float(prod(kernel)))
    grad_x = np.zeros(tuple(x_shape))
    dropped = np.zeros(grad_out.shape[:2])
    for p, _, i in g.connections(small, big, kernel):
        value = share[(slice(None), slice(None), *p)]
        if i is None:
            t.add(dropped, value)
        else:
            at = (slice(None), slice(None), *i)
            grad_x[at] = t.add(grad_x[at], value)
    return Computed(grad_x, t.counts)


# -- normalisation -----------------------------------------------------------------------------

def _channel_view(a: np.ndarray, ndim: int) -> np.ndarray:
    return np.asarray(a, dtype=float).reshape(1, -1, *(1,) * (ndim - 2))


def batch_norm_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                       running_mean: np.ndarray | None, running_var: np.ndarray | None, *,
                       training: bool, momentum: float = 0.1, eps: float = 1e-5) -> Computed:
    """Batch norm, ``(y, new running mean, new running var)``.

    Training: :math:`\\mu = \\Sigma x/m`, :math:`\\sigma^2 = \\Sigma (x-\\mu)^2/m` (4 per
    element, 2 divisions per channel), :math:`r = 1/\\sqrt{\\sigma^2+\\epsilon}`,
    :math:`s = \\gamma r`, :math:`t = \\beta - \\mu s` (3 per channel; without an affine map
    :math:`s = r`, :math:`t = \\mu s`, 1), :math:`y = x s \\pm t` (2 per element);
    running statistics :math:`(1-a)\\,\\bar x + a\\,\\cdot` (3 per channel each). Evaluation:
    :math:`r` from the running variance, then the same affine map.
    """
    x = np.asarray(x, dtype=float)
    t = Tally()
    axes = (0, *range(2, x.ndim))
    new_mean, new_var = running_mean, running_var
    if training:
        m = x.size // x.shape[1]
        mean = t.div(t.sum(x, axis=axes, keepdims=True), m)
        centred = t.sub(x, mean)
        var = t.div(t.sum(t.mul(centred, centred), axis=axes, keepdims=True), m)
        if running_mean is not None:
            keep = 1.0 - momentum
            new_mean = t.add(t.mul(keep, running_mean), t.mul(momentum, mean.ravel()))
            new_var = t.add(t.mul(keep, running_var),
                            t.mul(momentum * m / (m - 1), var.ravel()))
    else:
        mean, var = _channel_view(running_mean, x.ndim), _channel_view(running_var, x.ndim)
    rstd = t.rsqrt(t.add(var, eps))
    if weight is None:  # no affine map: y = x r − μ r
        scale = rstd
        y = t.sub(t.mul(x, scale), t.mul(mean, scale))
    else:
        scale = t.mul(_channel_view(weight, x.ndim), rstd)
        y = t.add(t.mul(x, scale), t.sub(_channel_view(bias, x.ndim), t.mul(mean, scale)))
    return Computed((y, new_mean, new_var), t.counts)


def batch_norm_backward(grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray | None,
                        mean: np.ndarray, *, output_mask: Sequence[bool],
                        invstd: np.ndarray | None = None, running_var: np.ndarray | None = None,
                        eps: float = 1e-5) -> Computed:
    """Batch-norm gradients ``(dx, dγ, dβ)`` as ``output_mask`` asks (``None`` where not).

    Training: pass the batch ``mean`` and the saved ``invstd`` (r); evaluation: the running
    mean and ``running_var``, from which r is computed (an add and a root per channel). With
    :math:`d = x - \\mu`: :math:`d\\beta = \\Sigma g`, :math:`d\\gamma = r\\,\\Sigma d g`;
    training :math:`dx = (g - \\Sigma g/m - d\\,r^2 \\Sigma d g/m)\\,\\gamma r` (4 per
    element), evaluation :math:`dx = g\\,\\gamma r` (1). The sums are formed only where a
    requested gradient needs them.
    """
    if (invstd is None) == (running_var is None):
        raise ValueError("pass invstd (training) or running_var (evaluation), exactly one")
    training = invstd is not None
    grad_out, x = np.asarray(grad_out, dtype=float), np.asarray(x, dtype=float)
    t = Tally()
    want_x, want_w, want_b = (bool(b) for b in output_mask)
    axes = (0, *range(2, x.ndim))
    m = x.size // x.shape[1]
    if training:
        r = _channel_view(invstd, x.ndim)
    elif want_x or want_w:
        r = t.rsqrt(t.add(_channel_view(running_var, x.ndim), eps))
    need_stats = want_w or (want_x and training)
    sum_g = (t.sum(grad_out, axis=axes, keepdims=True)
             if want_b or (want_x and training) else None)
    centred = t.sub(x, _channel_view(mean, x.ndim)) if need_stats else None
    dot = t.sum(t.mul(centred, grad_out), axis=axes, keepdims=True) if need_stats else None
    grad_x = grad_w = grad_b = None
    if want_x:
        q = r if weight is None else t.mul(_channel_view(weight, x.ndim), r)
        if training:
            proj = t.div(t.mul(t.mul(r, r), dot), m)
            mean_g = t.div(sum_g, m)
            grad_x = t.mul(t.sub(t.sub(grad_out, mean_g), t.mul(centred, proj)), q)
        else:
            grad_x = t.mul(grad_out, q)
    if want_w:
        grad_w = t.mul(dot, r).ravel()
    if want_b:
        grad_b = sum_g.ravel()
    return Computed((grad_x, grad_w, grad_b), t.counts)


def layer_norm_forward(x: np.ndarray, normalized_dims: int, weight: np.ndarray | None,
                       bias: np.ndarray | None, eps: float = 1e-5) -> Computed:
    """Layer norm over the last ``normalized_dims`` axes: ``(y, mean, rstd)``.

    Per element: the two statistics (4), :math:`(x - \\mu)\\,r` (2, recomputed), then
    :math:`\\cdot\\gamma` and :math:`+\\beta` where given; per row two divisions, an add and
    a root.
    """
    x = np.asarray(x, dtype=float)
    t = Tally()
    axes = tuple(range(x.ndim - normalized_dims, x.ndim))
    m = prod(x.shape[a] for a in axes)
    mean = t.div(t.sum(x, axis=axes, keepdims=True), m)
    centred = t.sub(x, mean)
    var = t.div(t.sum(t.mul(centred, centred), axis=axes, keepdims=True), m)
    rstd = t.rsqrt(t.add(var, eps))
    y = t.mul(t.sub(x, mean), rstd)
    if weight is not None:
        y = t.mul(y, weight)
    if bias is not None:
        y = t.add(y, bias)
    return Computed((y, mean, rstd), t.counts)


def layer_norm_backward(grad_out: np.ndarray, x: np.ndarray, normalized_dims: int,
                        mean: np.ndarray, rstd: np.ndarray, weight: np.ndarray | None, *,
                        output_mask: Sequence[bool]) -> Computed:
    """Layer-norm gradients ``(dx, dγ, dβ)`` as ``output_mask`` asks.

    :math:`\\hat x = (x-\\mu)\\,r` (2 per element, if dx or dγ), :math:`d\\gamma = \\Sigma g
    \\hat x` (2), :math:`d\\beta = \\Sigma g` (1); with :math:`g' = g\\gamma` (1),
    :math:`dx = (g' - \\overline{g'} - \\hat x\\,\\overline{g'\\hat x})\\,r` (2 + 2 for the
    row means, 4, and 2 divisions per row).
    """
    grad_out, x = np.asarray(grad_out, dtype=float), np.asarray(x, dtype=float)
    t = Tally()
    want_x, want_w, want_b = (bool(b) for b in output_mask)
    row_axes = tuple(range(x.ndim - normalized_dims, x.ndim))
    lead = tuple(range(x.ndim - normalized_dims))
    m = prod(x.shape[a] for a in row_axes)
    x_hat = t.mul(t.sub(x, mean), rstd) if want_x or want_w else None
    grad_x = grad_w = grad_b = None
    if want_w:
        grad_w = t.sum(t.mul(grad_out, x_hat), axis=lead)
    if want_b:
        grad_b = t.sum(grad_out, axis=lead)
    if want_x:
        g = grad_out if weight is None else t.mul(grad_out, weight)
        mean_g = t.div(t.sum(g, axis=row_axes, keepdims=True), m)
        mean_gx = t.div(t.sum(t.mul(g, x_hat), axis=row_axes, keepdims=True), m)
        grad_x = t.mul(t.sub(t.sub(g, mean_g), t.mul(x_hat, mean_gx)), rstd)
    return Computed((grad_x, grad_w, grad_b), t.counts)
