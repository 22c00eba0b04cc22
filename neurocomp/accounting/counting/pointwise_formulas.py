r"""FLOP formulas of element-wise ops and reductions (ops ``FlopCounterMode`` leaves at 0),
and the lists of ops without arithmetic (views, copies) and of random draws.

Same calling convention as :mod:`neurocomp.accounting.counting.formulas`: tensors arrive as shapes,
the result's shape as ``out_shape``, the scalar costs (:class:`ScalarOpCosts`: division,
square root, transcendental, comparison, random draw) as ``costs``.

Counting rules, all stated so they can be disputed:

* element-wise: FLOPs per *output* element × output elements (broadcast inputs are not
  re-counted); an op that only negates still counts 1 per element (it runs as an op);
* a reduction over k values counts k FLOPs (rounded up from k − 1, like the dot products of
  the multiply-add convention), so ``sum`` costs one FLOP per input element;
* pooling and normalisation: :mod:`neurocomp.accounting.counting.pooling_formulas`;
* copies, padding, indexing, concatenation: 0 FLOPs (their bytes are counted);
* random draws: ``costs.random_draw_flop`` per number drawn (default 0).
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil, floor, log2
from typing import Any

from neurocomp.accounting.counting.formulas import first_shape, numel
from neurocomp.accounting.scalar_ops import ScalarOpCosts

__all__ = [
    "DATA_MOVEMENT_OPS",
    "ELEMENTWISE",
    "RANDOM_OPS",
    "VIEW_OPS",
    "native_dropout_flop",
    "pointwise_formulas",
    "random_flop",
    "reduction_formulas",
    "zero_flop",
]

Costs = ScalarOpCosts
PerElement = Callable[[Costs], float]


def _integer_power_cost(exponent: Any, c: Costs) -> float:
    """Multiplies of ``x**k`` by repeated squaring; other exponents are special functions."""
    if isinstance(exponent, bool) or not isinstance(exponent, int | float):
        return c.transcendental_flop
    if float(exponent).is_integer():
        k = abs(int(exponent))
        mults = 0 if k <= 1 else floor(log2(k)) + bin(k).count("1") - 1
        return mults + (c.division_flop if exponent < 0 else 0)
    if exponent == 0.5:
        return c.sqrt_flop
    if exponent == -0.5:
        return c.sqrt_flop + c.division_flop
    return c.transcendental_flop


#: FLOPs per output element of element-wise ops (aten names without the ``aten.`` prefix;
#: in-place ``_`` variants share the entry). Ops whose cost depends on an argument have
#: their own formula below.
ELEMENTWISE: dict[str, PerElement] = {
    # one arithmetic operation
    **{name: (lambda c: 1.0) for name in (
        "sub", "rsub", "mul", "neg", "abs", "square", "floor", "ceil", "round", "trunc", "frac",
        "sgn", "sign")},
    **{name: (lambda c: c.division_flop) for name in (
        "div", "true_divide", "reciprocal")},
    **{name: (lambda c: c.division_flop + 1.0) for name in ("floor_divide", "remainder", "fmod")},
    **{name: (lambda c: c.sqrt_flop) for name in ("sqrt", "rsqrt")},
    # comparisons, maxima, ReLU and friends
    **{name: (lambda c: c.comparison_flop) for name in (
        "eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum", "fmax", "fmin", "relu",
        "threshold", "threshold_backward", "clamp_min", "clamp_max", "isnan", "isinf",
        "signbit", "heaviside")},
    **{name: (lambda c: 2.0 * c.comparison_flop) for name in (
        "hardtanh", "hardtanh_backward", "relu6")},
    **{name: (lambda c: c.comparison_flop + 1.0) for name in (
        "leaky_relu", "leaky_relu_backward", "prelu")},
    # transcendental functions
    **{name: (lambda c: c.transcendental_flop) for name in (
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin",
        "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf",
        "erfc", "erfinv", "lgamma", "digamma", "i0", "special_i0e", "special_i1")},
    "sigmoid": lambda c: c.transcendental_flop + 1.0 + c.division_flop,  # 1/(1 + e^-x)
    "sigmoid_backward": lambda c: 3.0,                                    # g·y·(1 − y)
    "tanh_backward": lambda c: 3.0,                                       # g·(1 − y²)
    "silu": lambda c: c.transcendental_flop + 2.0 + c.division_flop,     # x·σ(x)
    "silu_backward": lambda c: c.transcendental_flop + 5.0 + c.division_flop,
    "gelu": lambda c: c.transcendental_flop + 4.0,                        # x/2·(1 + erf(x/√2))
    "gelu_backward": lambda c: 2.0 * c.transcendental_flop + 8.0,
    "elu": lambda c: c.transcendental_flop + c.comparison_flop + 2.0,
    "elu_backward": lambda c: c.comparison_flop + 2.0,
    "softplus": lambda c: 2.0 * c.transcendental_flop + c.comparison_flop + 2.0,
    "softplus_backward": lambda c: c.transcendental_flop + c.division_flop + 3.0,
    "hardsigmoid": lambda c: 2.0 * c.comparison_flop + 2.0,
    "hardswish": lambda c: 2.0 * c.comparison_flop + 3.0,
    "mish": lambda c: 3.0 * c.transcendental_flop + 3.0,
    "logit": lambda c: c.transcendental_flop + c.division_flop + 1.0,
    "xlogy": lambda c: c.transcendental_flop + 1.0 + c.comparison_flop,
    "lerp": lambda c: 3.0,                                                # a + w·(b − a)
    "nan_to_num": lambda c: 3.0 * c.comparison_flop,
}


def _elementwise(per_element: PerElement) -> Callable[..., float]:
    def flop(*_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
        return numel(first_shape(out_shape)) * per_element(costs)
    return flop


def _add_flop(a: Any, b: Any = None, *args: Any, out_shape: Any, costs: Costs,
              alpha: Any = 1, **__: Any) -> float:
    """``a + alpha·b``: 1 FLOP per element, 2 with a scaling ``alpha``."""
    alpha = args[0] if args else alpha
    return numel(first_shape(out_shape)) * (1.0 if alpha == 1 else 2.0)


def _div_flop(a: Any, b: Any = None, *args: Any, out_shape: Any, costs: Costs,
              rounding_mode: Any = None, **__: Any) -> float:
    """``a / b``, plus a rounding when ``rounding_mode`` is given."""
    rounding = args[0] if args else rounding_mode
    return numel(first_shape(out_shape)) * (costs.division_flop + (rounding is not None))


def _pow_flop(base: Any, exponent: Any, *_: Any, out_shape: Any, costs: Costs,
              **__: Any) -> float:
    """``x**k``: repeated squaring for an integer scalar k, else a transcendental."""
    per = (_integer_power_cost(exponent, costs) if not isinstance(exponent, tuple)
           else costs.transcendental_flop)
    if isinstance(base, int | float):  # pow.Scalar: scalar base, tensor exponent
        per = costs.transcendental_flop
    return numel(first_shape(out_shape)) * per


def _clamp_flop(x: Any, lo: Any = None, hi: Any = None, *_: Any, out_shape: Any,
                costs: Costs, **__: Any) -> float:
    """One comparison per bound given."""
    bounds = (lo is not None) + (hi is not None)
    return numel(first_shape(out_shape)) * bounds * costs.comparison_flop


def _addcmul_flop(x: Any, t1: Any, t2: Any, *args: Any, out_shape: Any, costs: Costs,
                  value: Any = 1, **__: Any) -> float:
    """``x + value·t1·t2``: 2 FLOPs per element, 3 with a ``value`` ≠ 1."""
    value = args[0] if args else value
    return numel(first_shape(out_shape)) * (2.0 + (value != 1))


def _addcdiv_flop(x: Any, t1: Any, t2: Any, *args: Any, out_shape: Any, costs: Costs,
                  value: Any = 1, **__: Any) -> float:
    """``x + value·t1/t2``."""
    value = args[0] if args else value
    return numel(first_shape(out_shape)) * (1.0 + costs.division_flop + (value != 1))


def pointwise_formulas() -> dict[str, Callable[..., float]]:
    """Formula of every element-wise op, by aten name (in-place variants included)."""
    table: dict[str, Callable[..., float]] = {name: _elementwise(per)
                                              for name, per in ELEMENTWISE.items()}
    table.update({"add": _add_flop, "div": _div_flop, "pow": _pow_flop, "float_power": _pow_flop,
                  "clamp": _clamp_flop, "clip": _clamp_flop, "addcmul": _addcmul_flop,
                  "addcdiv": _addcdiv_flop})
    table.update({f"{name}_": fn for name, fn in list(table.items()) if not name.endswith("_")})
    return table


# -- reductions --------------------------------------------------------------------------------

def _input_numel(x: Any, *_: Any, **__: Any) -> int:
    return numel(x)


def _reduction(per_input: PerElement, per_output: PerElement | None = None
               ) -> Callable[..., float]:
    def flop(x: Any, *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
        out = numel(first_shape(out_shape)) if per_output is not None else 0
        return numel(x) * per_input(costs) + (out * per_output(costs) if per_output else 0.0)
    return flop


def _softmax_flop(x: Any, *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
    """max, subtract, exp, sum, divide per element."""
    return numel(x) * (costs.comparison_flop + 2.0 + costs.transcendental_flop
                       + costs.division_flop)


def _log_softmax_flop(x: Any, dim: int, *_: Any, out_shape: Any, costs: Costs,
                      **__: Any) -> float:
    """max, subtract, exp, sum, subtract per element; one log per row."""
    rows = numel(x) // max(x[dim], 1) if x else 1
    return (numel(x) * (costs.comparison_flop + 3.0 + costs.transcendental_flop)
            + rows * costs.transcendental_flop)


def _sort_flop(x: Any, dim: int = -1, *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
    """A comparison sort along ``dim``: n·⌈log2 n⌉ comparisons per row."""
    if not x:
        return 0.0
    n = x[dim if isinstance(dim, int) else -1]
    return numel(x) * ceil(log2(n)) * costs.comparison_flop if n > 1 else 0.0


def reduction_formulas() -> dict[str, Callable[..., float]]:
    """Formulas of reductions, losses and scatter-adds, by aten name."""
    c1: PerElement = lambda c: 1.0  # noqa: E731
    cmp: PerElement = lambda c: c.comparison_flop  # noqa: E731
    div: PerElement = lambda c: c.division_flop  # noqa: E731
    table = {
        **{name: _reduction(c1) for name in ("sum", "nansum", "prod", "cumsum", "cumprod")},
        "mean": _reduction(c1, div),
        "nanmean": _reduction(c1, div),
        **{name: _reduction(cmp) for name in (
            "amax", "amin", "max", "min", "argmax", "argmin", "aminmax", "cummax", "cummin",
            "logical_any", "any", "all")},
        # two-pass variance: mean (1/element), (x − μ)² summed (3/element), two divisions
        **{name: _reduction(lambda c: 4.0, lambda c: 2.0 * c.division_flop)
           for name in ("var", "var_mean")},
        **{name: _reduction(lambda c: 4.0, lambda c: 2.0 * c.division_flop + c.sqrt_flop)
           for name in ("std", "std_mean")},
        # ‖x‖₂: square and sum, one root
        **{name: _reduction(lambda c: 2.0, lambda c: c.sqrt_flop)
           for name in ("linalg_vector_norm", "norm")},
        "logsumexp": _reduction(lambda c: c.comparison_flop + 2.0 + c.transcendental_flop,
                                lambda c: c.transcendental_flop + 1.0),
        "_softmax": _softmax_flop,
        "_safe_softmax": _softmax_flop,  # softmax; rows that are all −∞ give 0 (a selection)
        "_log_softmax": _log_softmax_flop,
        "_softmax_backward_data": _reduction(lambda c: 4.0),      # g·y − y·Σ(g·y)
        "_log_softmax_backward_data": _reduction(lambda c: c.transcendental_flop + 3.0),
        "mse_loss": _reduction(lambda c: 3.0, div),               # (x − y)² summed
        "mse_loss_backward": _reduction(lambda c: 3.0),           # 2(x − y)·g/n
        "l1_loss": _reduction(lambda c: 3.0, div),
        "binary_cross_entropy_with_logits": _reduction(
            lambda c: 2.0 * c.transcendental_flop + c.comparison_flop + 5.0, div),
        "binary_cross_entropy": _reduction(lambda c: 2.0 * c.transcendental_flop + 5.0, div),
        "nll_loss_forward": _reduction(lambda c: 0.0, lambda c: 1.0),
        "nll_loss2d_forward": _reduction(lambda c: 0.0, lambda c: 1.0),
        "sort": _sort_flop,
        "argsort": _sort_flop,
    }
    # scatter-adds: one add per source element
    table.update({name: (lambda *a, out_shape, costs, **k: float(numel(a[3])))
                  for name in ("index_add", "index_add_", "scatter_add", "scatter_add_")})
    table["index_put_"] = table["index_put"] = _index_put_flop
    table["embedding_dense_backward"] = lambda g, *a, out_shape, costs, **k: float(numel(g))
    table["nll_loss_backward"] = lambda g, x, *a, out_shape, costs, **k: float(x[0] if x else 1)
    return table


def _index_put_flop(x: Any, indices: Any, values: Any, accumulate: bool = False, *_: Any,
                    out_shape: Any, costs: Costs, **__: Any) -> float:
    """``index_put_``: a copy, or one add per value when ``accumulate``."""
    return float(numel(values)) if accumulate else 0.0


# -- ops without arithmetic --------------------------------------------------------------------

#: Ops that only reinterpret a tensor's memory: no FLOPs and no bytes.
VIEW_OPS: tuple[str, ...] = (
    "view", "_unsafe_view", "_reshape_alias", "reshape", "t", "transpose", "permute", "expand",
    "unsqueeze", "squeeze", "select", "slice", "as_strided", "detach", "alias", "split",
    "split_with_sizes", "unbind", "chunk", "narrow", "diagonal", "unfold", "view_as_real",
    "view_as_complex", "real", "imag", "numpy_T", "mT", "mH", "adjoint", "_conj", "conj",
    "_neg_view", "lift_fresh", "t_", "transpose_", "unsqueeze_", "squeeze_", "as_strided_",
    "detach_", "movedim", "swapaxes", "swapdims", "expand_as", "view_as", "flatten",
    "unflatten", "tensor_split", "positive", "unsafe_split", "unsafe_split_with_sizes",
    "unsafe_chunk",
)

#: Ops that copy, fill, pad, gather or rearrange data: 0 FLOPs, bytes counted.
DATA_MOVEMENT_OPS: tuple[str, ...] = (
    "clone", "copy", "copy_", "_to_copy", "contiguous", "cat", "stack", "index", "_unsafe_index",
    "index_select", "gather", "scatter", "scatter_", "constant_pad_nd", "reflection_pad1d",
    "reflection_pad2d", "reflection_pad3d", "replication_pad1d", "replication_pad2d",
    "replication_pad3d", "repeat", "repeat_interleave", "flip", "roll", "masked_fill",
    "masked_fill_", "where", "masked_select", "masked_scatter", "nonzero", "fill", "fill_",
    "zero", "zero_", "zeros", "ones", "full", "empty", "empty_like", "zeros_like", "ones_like",
    "full_like", "new_zeros", "new_ones", "new_empty", "new_full", "empty_strided",
    "new_empty_strided", "arange", "linspace", "scalar_tensor", "lift_fresh_copy",
    "_local_scalar_dense", "slice_backward", "select_backward", "index_select_backward",
    "unfold_backward", "as_strided_scatter", "slice_scatter", "select_scatter",
    "diagonal_scatter", "diagonal_backward", "expand_copy", "permute_copy", "view_copy",
    "t_copy", "transpose_copy", "unsqueeze_copy", "squeeze_copy", "_unsafe_index_put",
    "triu", "tril", "one_hot", "embedding", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "logical_and", "logical_or", "logical_not", "logical_xor", "resize_",
    "set_", "_index_put_impl_", "im2col", "col2im", "pixel_shuffle", "pixel_unshuffle",
    "channel_shuffle", "alias_copy", "detach_copy", "_pin_memory", "record_stream",
)

#: Ops that draw random numbers: ``costs.random_draw_flop`` per number drawn.
RANDOM_OPS: tuple[str, ...] = (
    "normal", "normal_", "uniform", "uniform_", "bernoulli", "bernoulli_", "poisson", "rand",
    "randn", "randint", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_",
    "multinomial", "randperm", "rand_like", "randn_like", "randint_like",
    "_standard_gamma", "binomial",
)


def random_flop(*_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
    """One draw per element of the result."""
    return numel(first_shape(out_shape)) * costs.random_draw_flop


def native_dropout_flop(x: Any, *_: Any, out_shape: Any, costs: Costs, **__: Any) -> float:
    """A draw, a comparison and a scaling multiply per element."""
    return numel(x) * (costs.random_draw_flop + costs.comparison_flop + 1.0)


def zero_flop(*_: Any, **__: Any) -> float:
    """No arithmetic."""
    return 0.0
