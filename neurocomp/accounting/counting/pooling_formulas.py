r"""FLOP formulas of pooling, interpolation and normalisation ops (``FlopCounterMode``
leaves them at 0). Calling convention and rules:
:mod:`neurocomp.accounting.counting.pointwise_formulas`.

* pooling: a window of K taps costs K comparisons (max) or K adds and one division
  (average), per output element, padding taps included; adaptive pooling sums the actual
  window sizes; the backward of max-pooling adds each output gradient once;
* batch, layer and group normalisation in training: mean and variance in two passes
  (4 FLOPs per element), then :math:`y = x\,s + t` with the per-channel scale
  :math:`s = \gamma/\sqrt{\sigma^2 + \epsilon}` and shift :math:`t = \beta - \mu s`
  (2 per element) — 6 per element plus a few per channel; in evaluation only the affine map.
  A reciprocal square root is one ``sqrt_flop``. Batch and layer norm, forward and backward,
  and pooling are the algorithms of
  :mod:`~neurocomp.accounting.truth.layers`, which computes them by loops and
  counts them (group norm is not checked there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod
from typing import Any

from neurocomp.accounting.counting.formulas import first_shape, numel
from neurocomp.accounting.scalar_ops import ScalarOpCosts

__all__ = ["adaptive_pool_window_total", "normalization_formulas", "pooling_formulas"]

Costs = ScalarOpCosts


# -- pooling ----------------------------------------------------------------------------------

def _taps(kernel_size: Sequence[int] | int, dims: int) -> int:
    ks = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
    if len(ks) == 1 and dims > 1:
        ks = ks * dims
    return prod(ks)


def _max_pool(dims: int) -> Callable[..., float]:
    def flop(x: Any, kernel_size: Any, *_: Any, out_shape: Any, costs: Costs,
             **__: Any) -> float:
        return numel(first_shape(out_shape)) * _taps(kernel_size, dims) * costs.comparison_flop
    return flop


def _avg_pool(dims: int) -> Callable[..., float]:
    def flop(x: Any, kernel_size: Any, *_: Any, out_shape: Any, costs: Costs,
             **__: Any) -> float:
        return numel(first_shape(out_shape)) * (_taps(kernel_size, dims) + costs.division_flop)
    return flop


def _avg_pool_backward(dims: int) -> Callable[..., float]:
    def flop(grad_out: Any, x: Any, kernel_size: Any, *_: Any, out_shape: Any, costs: Costs,
             **__: Any) -> float:
        return numel(grad_out) * (_taps(kernel_size, dims) + costs.division_flop)
    return flop


def _scatter_grad(grad_out: Any, *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
    """Max-pool backward: each output gradient added into one input position."""
    return float(numel(grad_out))


def adaptive_pool_window_total(n_in: int, n_out: int) -> int:
    """Total window length along one axis of adaptive pooling from ``n_in`` to ``n_out``.

    Window i covers ``[floor(i·n_in/n_out), ceil((i+1)·n_in/n_out))`` (PyTorch's rule).
    """
    return sum(-(-(i + 1) * n_in // n_out) - (i * n_in // n_out) for i in range(n_out))


def _adaptive_windows(x: Sequence[int], out: Sequence[int], dims: int) -> int:
    """Σ over output positions of the window size (windows are separable per axis)."""
    lead = numel(out[:-dims])
    return lead * prod(adaptive_pool_window_total(n, m)
                       for n, m in zip(x[-dims:], out[-dims:], strict=True))


def _adaptive_avg(dims: int) -> Callable[..., float]:
    def flop(x: Any, *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
        out = first_shape(out_shape)
        return _adaptive_windows(x, out, dims) + numel(out) * costs.division_flop
    return flop


def _adaptive_max(dims: int) -> Callable[..., float]:
    def flop(x: Any, *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
        return _adaptive_windows(x, first_shape(out_shape), dims) * costs.comparison_flop
    return flop


def _adaptive_avg_backward(dims: int) -> Callable[..., float]:
    def flop(grad_out: Any, x: Any, *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
        return _adaptive_windows(x, grad_out, dims) + numel(grad_out) * costs.division_flop
    return flop


def _upsample(per_output: float) -> Callable[..., float]:
    def flop(*_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
        return numel(first_shape(out_shape)) * per_output
    return flop


def pooling_formulas() -> dict[str, Callable[..., float]]:
    """Formulas of pooling and interpolation ops, by aten name."""
    table: dict[str, Callable[..., float]] = {}
    for d in (1, 2, 3):
        table[f"max_pool{d}d"] = _max_pool(d)
        table[f"max_pool{d}d_with_indices"] = _max_pool(d)
        table[f"max_pool{d}d_with_indices_backward"] = _scatter_grad
        table[f"avg_pool{d}d"] = _avg_pool(d)
        table[f"avg_pool{d}d_backward"] = _avg_pool_backward(d)
        table[f"adaptive_max_pool{d}d"] = _adaptive_max(d)
        table[f"adaptive_max_pool{d}d_backward"] = _scatter_grad
        table[f"_adaptive_avg_pool{d}d"] = _adaptive_avg(d)
        table[f"adaptive_avg_pool{d}d"] = _adaptive_avg(d)
        table[f"_adaptive_avg_pool{d}d_backward"] = _adaptive_avg_backward(d)
        table[f"upsample_nearest{d}d"] = _upsample(0.0)
        table[f"upsample_nearest{d}d_backward"] = _upsample(0.0)
        table[f"_upsample_nearest_exact{d}d"] = _upsample(0.0)
    # linear interpolation: 2^d products and 2^d − 1 sums per output value
    for name, d in (("upsample_linear1d", 1), ("upsample_bilinear2d", 2),
                    ("upsample_trilinear3d", 3), ("upsample_bicubic2d", 4)):
        table[name] = _upsample(2.0 ** (d + 1) - 1.0)
        table[f"{name}_backward"] = _upsample(2.0 ** (d + 1) - 1.0)
    return table


# -- normalisation ------------------------------------------------------------------------------

def _channels(x: Sequence[int], weight: Any) -> int:
    if weight is not None:
        return numel(weight)
    return x[1] if len(x) > 1 else 1


def _scale_shift(c: Costs, affine: bool) -> float:
    """Per channel: r = 1/√(σ² + ε) (an add and a root), s = γ·r, t = β − μ·s (3; without
    an affine map s = r and t = μ·s, 1)."""
    return 1.0 + c.sqrt_flop + (3.0 if affine else 1.0)


def _batch_norm_flop(x: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any,
                     training: bool, *_: Any, out_shape: Any, costs: Costs,
                     **__: Any) -> float:
    """Training: statistics (4/element, 2 divisions per channel) and the affine map
    :math:`y = x s + t` (2/element), the per-channel scale and shift, and the two
    running-average updates (3 per channel each); evaluation: scale, shift and the map."""
    n, ch = numel(x), _channels(x, weight)
    per_channel = _scale_shift(costs, weight is not None)
    if training:
        running = 6.0 if running_mean is not None else 0.0
        return 6.0 * n + ch * (2.0 * costs.division_flop + per_channel + running)
    return 2.0 * n + ch * per_channel


def _batch_norm_legit_flop(x: Any, weight: Any, bias: Any, running_mean: Any,
                           running_var: Any = None, training: Any = True, *_: Any,
                           out_shape: Any, costs: Costs, **__: Any) -> float:
    """``_native_batch_norm_legit`` (two overloads: with and without running statistics)."""
    if isinstance(running_mean, bool):  # no_stats overload: (x, w, b, training, momentum, eps)
        return _batch_norm_flop(x, weight, bias, None, None, running_mean, out_shape=out_shape,
                                costs=costs)
    return _batch_norm_flop(x, weight, bias, running_mean, running_var, training,
                            out_shape=out_shape, costs=costs)


def _batch_norm_backward_flop(grad_out: Any, x: Any, weight: Any, running_mean: Any,
                              running_var: Any, save_mean: Any, save_invstd: Any,
                              training: bool, eps: Any, output_mask: Sequence[bool], *_: Any,
                              out_shape: Any, costs: Costs, **__: Any) -> float:
    """With :math:`d = x - \\mu`: :math:`\\Sigma g` (1/element) for dβ or a training dx;
    :math:`d` and :math:`\\Sigma d g` (3/element) for dγ or a training dx; training
    :math:`dx = (g - \\Sigma g/m - d\\,r^2\\Sigma dg/m)\\,\\gamma r` (4/element, per channel 3
    and 2 divisions), evaluation :math:`dx = g\\,\\gamma r` (1/element, r from the running
    variance: an add and a root per channel); :math:`d\\gamma = r\\,\\Sigma d g` (1 per
    channel) — ``truth.layers.batch_norm_backward``."""
    n, ch = numel(x), _channels(x, weight)
    want_x, want_w, want_b = (bool(b) for b in output_mask[:3])
    gamma = 1.0 if weight is not None else 0.0
    flop = 0.0
    if not training and (want_x or want_w):
        flop += ch * (1.0 + costs.sqrt_flop)
    if want_b or (want_x and training):
        flop += n
    if want_w or (want_x and training):
        flop += 3.0 * n
    if want_x and training:
        flop += 4.0 * n + ch * (gamma + 2.0 + 2.0 * costs.division_flop)
    elif want_x:
        flop += n + ch * gamma
    if want_w:
        flop += ch
    return flop


def _layer_norm_flop(x: Any, normalized_shape: Sequence[int], weight: Any, bias: Any = None,
                     *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
    """Statistics per row (4/element), :math:`(x - \\mu)\\,r` (2/element, the centred values
    recomputed), then :math:`\\cdot\\gamma` and :math:`+\\beta` where given (1/element each);
    per row two divisions, an add and a root."""
    n = numel(x)
    rows = n // max(numel(normalized_shape), 1)
    per = 6.0 + (weight is not None) + (bias is not None)
    return per * n + rows * (2.0 * costs.division_flop + costs.sqrt_flop + 1.0)


def _layer_norm_backward_flop(grad_out: Any, x: Any, normalized_shape: Any, mean: Any,
                              rstd: Any, weight: Any, bias: Any, output_mask: Sequence[bool],
                              *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
    """:math:`\\hat x = (x-\\mu)\\,r` (2/element) for dx or dγ; dγ = Σ g x̂ (2), dβ = Σ g
    (1); dx with :math:`g' = g\\gamma` (1): the two row means (3/element, 2 divisions per
    row) and :math:`(g' - \\overline{g'} - \\hat x\\,\\overline{g'\\hat x})\\,r` (4) —
    ``truth.layers.layer_norm_backward``."""
    n = numel(x)
    rows = n // max(numel(normalized_shape), 1)
    want_x, want_w, want_b = (bool(b) for b in output_mask[:3])
    flop = 2.0 * n if want_x or want_w else 0.0
    flop += 2.0 * n * want_w + 1.0 * n * want_b
    if want_x:
        flop += (7.0 + (weight is not None)) * n + 2.0 * rows * costs.division_flop
    return flop


def _group_norm_flop(x: Any, weight: Any, bias: Any, n: int, c: int, hw: int, group: int,
                     *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
    """Statistics per (sample, group) (4/element), then the per-channel affine map
    (2/element)."""
    return 6.0 * numel(x) + n * group * (2.0 * costs.division_flop + costs.sqrt_flop + 1.0)


def _group_norm_backward_flop(grad_out: Any, x: Any, *_: Any, out_shape: Any, costs: Costs,
                              **__: Any) -> float:
    return 9.0 * numel(x)


def normalization_formulas() -> dict[str, Callable[..., float]]:
    """Formulas of normalisation ops, by aten name."""
    return {
        "native_batch_norm": _batch_norm_flop,
        "_native_batch_norm_legit": _batch_norm_legit_flop,
        "_native_batch_norm_legit_no_training": lambda x, w, b, rm, rv, *a, out_shape, costs,
        **k: _batch_norm_flop(x, w, b, rm, rv, False, out_shape=out_shape, costs=costs),
        "_batch_norm_with_update": lambda x, w, b, rm, rv, *a, out_shape, costs, **k:
            _batch_norm_flop(x, w, b, rm, rv, True, out_shape=out_shape, costs=costs),
        "_batch_norm_no_update": lambda x, w, b, rm, rv, *a, out_shape, costs, **k:
            _batch_norm_flop(x, w, b, rm, rv, False, out_shape=out_shape, costs=costs),
        "native_batch_norm_backward": _batch_norm_backward_flop,
        "batch_norm_backward": lambda g, x, w, rm, rv, sm, si, training, eps, mask, *a,
        out_shape, costs, **k: _batch_norm_backward_flop(
            g, x, w, rm, rv, sm, si, training, eps, mask, out_shape=out_shape, costs=costs),
        "native_layer_norm": _layer_norm_flop,
        "native_layer_norm_backward": _layer_norm_backward_flop,
        "native_group_norm": _group_norm_flop,
        "native_group_norm_backward": _group_norm_backward_flop,
    }
