r"""Ground truth for the FLOP counter: ops computed by explicit loops that count what they do.

Every function here *computes* an op — a convolution, its three gradients, a matrix product —
with explicit Python loops over output positions and kernel taps, each step a NumPy product
or sum on small arrays, and counts the scalar operations as it performs them: a
:class:`Tally` primitive adds the number of products it forms, the number of values it sums,
and so on. The count is therefore a property of an implementation that demonstrably computes
the op (callers compare ``value`` with PyTorch's result, ``np.allclose``), not of a formula;
nothing here reads the library's formulas or ``torch.utils.flop_counter``. Attention, pooling
and normalisation: ``truth.layers``; recurrent layers: ``truth.rnn``; the
comparison with the counter: ``truth.zoo`` (its cases in ``truth.cases``).

Convention (one for every op)
-----------------------------
* **MACs of a dense implementation.** An output accumulator starts at the bias (or at 0) and
  every product added into it is one multiply-add (MAC); 1 MAC = :data:`FLOP_PER_MAC` = 2
  FLOPs. So a k-long dot product is k MACs with or without a bias: the bias *initialises*
  the accumulator (as GEMM's ``C`` operand and cuDNN/oneDNN's bias post-op do) and costs no
  extra add; without a bias the first add onto 0 is counted. This is the library's and
  ``FlopCounterMode``'s 2k per dot product.
* **Padding zeros count.** A convolution multiplies the zeros of its padding, as every dense
  kernel (im2col + GEMM, implicit GEMM) does; products a gradient scatters onto padding
  positions are formed and then dropped — counted. A transposed convolution is computed
  the way PyTorch's CPU kernel does it (GEMM, then col2im): every input value times every
  tap, products landing in the cropped border counted; the zeros a "fractionally strided"
  formulation would insert between inputs are never multiplied, so never counted. Hence
  forward, input gradient and weight gradient of a convolution all cost
  :math:`N\,P\,C_\text{out}\,C_\text{in}/g\,K` MACs, :math:`P` the positions of the
  convolution's output (of the transposed convolution's input).
* **Element operations per their definition**, by category: an add, subtract or multiply is
  1 FLOP (``arithmetic``); divisions, square roots (a reciprocal square root is one),
  transcendental functions (``exp``, ``log``, ``tanh``) and comparisons are counted apart
  and priced by :class:`~neurocomp.accounting.scalar_ops.ScalarOpCosts` (1 FLOP each by
  default). A sum of k values costs k adds (the first onto 0), a maximum of k values k
  comparisons (the first against −∞) — the reduction convention of the library.
* The bias gradient is a sum of the output gradient over batch and positions: one add per
  value, no MACs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocomp.accounting.convention import FLOP_PER_MAC
from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts
from neurocomp.checks import check_bool, check_int

__all__ = [
    "CATEGORIES",
    "Computed",
    "ConvGeometry",
    "OpCounts",
    "Tally",
    "conv_bias_grad",
    "conv_forward",
    "conv_input_grad",
    "conv_weight_grad",
    "matmul",
]

#: What :class:`Tally` counts: multiply-adds, then element operations by price category.
CATEGORIES = ("mac", "arithmetic", "division", "sqrt", "transcendental", "comparison")


@dataclass(frozen=True)
class OpCounts:
    """Operations one computation performed, by category (counts, not FLOPs).

    Parameters
    ----------
    mac : int
        Multiply-adds (one product added into an accumulator).
    arithmetic : int
        Adds, subtracts and multiplies outside multiply-adds (1 FLOP each).
    division, sqrt, transcendental, comparison : int
        Divisions, (reciprocal) square roots, ``exp``/``log``/``tanh`` calls, comparisons.
    """

    mac: int = 0
    arithmetic: int = 0
    division: int = 0
    sqrt: int = 0
    transcendental: int = 0
    comparison: int = 0

    def __post_init__(self) -> None:
        for name in CATEGORIES:
            check_int(name, getattr(self, name), low=0)

    def flop(self, costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> float:
        """FLOPs: ``FLOP_PER_MAC``·MACs + arithmetic + the priced operations, FLOP."""
        return float(FLOP_PER_MAC * self.mac + self.arithmetic
                     + self.division * costs.division_flop + self.sqrt * costs.sqrt_flop
                     + self.transcendental * costs.transcendental_flop
                     + self.comparison * costs.comparison_flop)

    @property
    def mac_flop(self) -> int:
        """FLOPs of the multiply-adds alone (what ``FlopCounterMode`` counts), FLOP."""
        return FLOP_PER_MAC * self.mac

    def __add__(self, other: OpCounts) -> OpCounts:
        return OpCounts(*(getattr(self, n) + getattr(other, n) for n in CATEGORIES))


@dataclass(frozen=True)
class Computed:
    """An op's result, computed by a ground-truth function, and what computing it took.

    ``value`` is an array, or a tuple of arrays for ops with several results.
    """

    value: Any
    counts: OpCounts


class Tally:
    """Counting NumPy primitives: each computes its result and adds the operations it did.

    Every primitive counts the elements it actually produces or consumes, so a loop of
    primitives counts itself. Inputs broadcast as in NumPy.
    """

    def __init__(self) -> None:
        self._counts = dict.fromkeys(CATEGORIES, 0)

    @property
    def counts(self) -> OpCounts:
        """The operations counted so far."""
        return OpCounts(**self._counts)

    def _note(self, category: str, n: int) -> None:
        self._counts[category] += int(n)

    def _did(self, category: str, out: np.ndarray) -> np.ndarray:
        """Count one ``category`` operation per element of ``out``; return ``out``."""
        self._note(category, np.size(out))
        return out

    def mac(self, acc: Any, a: Any, b: Any, axis: int | tuple[int, ...] | None = None
            ) -> np.ndarray:
        """``acc + Σ_axis a·b``: every product formed is one multiply-add."""
        products = np.multiply(a, b)
        self._note("mac", products.size)
        summed = products.sum(axis=axis) if axis is not None else products
        return np.asarray(acc) + summed

    def add(self, a: Any, b: Any) -> np.ndarray:
        """``a + b``, one add per result element."""
        return self._did("arithmetic", np.add(a, b))

    def sub(self, a: Any, b: Any) -> np.ndarray:
        """``a − b``, one subtract per result element."""
        return self._did("arithmetic", np.subtract(a, b))

    def mul(self, a: Any, b: Any) -> np.ndarray:
        """``a · b``, one multiply per result element."""
        return self._did("arithmetic", np.multiply(a, b))

    def div(self, a: Any, b: Any) -> np.ndarray:
        """``a / b``, one division per result element."""
        return self._did("division", np.divide(a, b))

    def rsqrt(self, a: Any) -> np.ndarray:
        """``1/√a``, one (reciprocal) square root per element."""
        return self._did("sqrt", 1.0 / np.sqrt(a))

    def exp(self, a: Any) -> np.ndarray:
        """``exp(a)``, one transcendental per element."""
        return self._did("transcendental", np.exp(a))

    def log(self, a: Any) -> np.ndarray:
        """``log(a)``, one transcendental per element."""
        return self._did("transcendental", np.log(a))

    def tanh(self, a: Any) -> np.ndarray:
        """``tanh(a)``, one transcendental per element."""
        return self._did("transcendental", np.tanh(a))

    def sigmoid(self, a: Any) -> np.ndarray:
        """``1/(1 + exp(−a))``: an exp (the sign folded into its argument), an add, a division."""
        return self.div(1.0, self.add(1.0, self.exp(np.negative(a))))

    def sum(self, a: Any, axis: int | tuple[int, ...] | None = None,
            keepdims: bool = False) -> np.ndarray:
        """Sum of the values along ``axis``: one add per value summed (the first onto 0)."""
        self._note("arithmetic", np.size(a))
        return np.sum(a, axis=axis, keepdims=keepdims)

    def max(self, a: Any, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
        """Maximum along ``axis``: one comparison per value (the first against −∞)."""
        self._note("comparison", np.size(a))
        return np.max(a, axis=axis, keepdims=keepdims)

    def greater(self, a: Any, b: Any) -> np.ndarray:
        """``a > b`` (a running maximum's test), one comparison per result element."""
        return self._did("comparison", np.greater(a, b))


# -- matrix products -------------------------------------------------------------------------

def matmul(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None = None) -> Computed:
    """``bias + a @ b`` for (batched) matrices: ``mm``, ``addmm``, ``bmm``, ``baddbmm``, ``linear``.

    ``a`` is ``(..., m, k)``, ``b`` ``(..., k, n)``; ``bias`` broadcasts to ``(..., m, n)``
    and initialises the accumulators. Each of the m·n outputs sums k products: m·n·k MACs
    per matrix.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim < 2 or a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not multiply "
                         f"(need (..., m, k) and (..., k, n) with equal batch dimensions)")
    t = Tally()
    shape = (*a.shape[:-1], b.shape[-1])
    acc = np.zeros(shape) if bias is None else np.broadcast_to(bias, shape).astype(float)
    for j in range(a.shape[-1]):  # one rank-1 update per inner index: m·n MACs each
        acc = t.mac(acc, a[..., :, j, None], b[..., None, j, :])
    return Computed(acc, t.counts)


# -- convolutions ------------------------------------------------------------------------------

def _tuple(name: str, value: int | Sequence[int], dims: int, low: int) -> tuple[int, ...]:
    values = (value,) * dims if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != dims:
        raise ValueError(f"{name} must be an int or have {dims} entries (one per spatial "
                         f"axis); got {value!r}")
    return tuple(check_int(f"{name}[{i}]", v, low=low) for i, v in enumerate(values))


@dataclass(frozen=True)
class ConvGeometry:
    """Hyper-parameters of a 1-, 2- or 3-D (transposed) convolution, one entry per axis.

    Parameters
    ----------
    dims : int
        Spatial axes, 1 to 3.
    stride, dilation : tuple of int
        ≥ 1 per axis.
    padding, output_padding : tuple of int
        ≥ 0 per axis, positions (``output_padding`` only for a transposed convolution).
    groups : int
        ≥ 1; divides both channel counts.
    transposed : bool
        A transposed convolution (``ConvTranspose{1,2,3}d``).
    """

    dims: int
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int = 1
    transposed: bool = False
    output_padding: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_int("dims", self.dims, low=1, high=3)
        for name, low in (("stride", 1), ("padding", 0), ("dilation", 1)):
            object.__setattr__(self, name, _tuple(name, getattr(self, name), self.dims, low))
        out_pad = (0,) * self.dims if self.output_padding is None else self.output_padding
        object.__setattr__(self, "output_padding",
                           _tuple("output_padding", out_pad, self.dims, 0))
        check_int("groups", self.groups, low=1)
        check_bool("transposed", self.transposed)
        if not self.transposed and any(self.output_padding):
            raise ValueError(f"output_padding must be 0 for a convolution that is not "
                             f"transposed; got {self.output_padding}")

    @classmethod
    def of(cls, module: Any) -> ConvGeometry:
        """The geometry of a ``torch.nn`` convolution module (``Conv*d``/``ConvTranspose*d``)."""
        dims = len(module.kernel_size)
        return cls(dims=dims, stride=module.stride, padding=module.padding,
                   dilation=module.dilation, groups=module.groups,
                   transposed=module.transposed, output_padding=module.output_padding)

    def small_sizes(self, x_sizes: Sequence[int], kernel: Sequence[int]) -> tuple[int, ...]:
        """Positions on the side with one position per (input value × tap) pairing: the
        convolution's output (computed here), or the transposed convolution's input."""
        if self.transposed:
            return tuple(x_sizes)
        return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip(
            x_sizes, kernel, self.stride, self.padding, self.dilation, strict=True))

    def big_sizes(self, x_sizes: Sequence[int], kernel: Sequence[int]) -> tuple[int, ...]:
        """The other side: the convolution's input, or the transposed convolution's output."""
        if not self.transposed:
            return tuple(x_sizes)
        return tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, k, s, p, d, o in zip(
            x_sizes, kernel, self.stride, self.padding, self.dilation, self.output_padding,
            strict=True))

    def connections(self, small: Sequence[int], big: Sequence[int], kernel: Sequence[int]
                    ) -> Iterator[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...] | None]]:
        """Every (small position p, tap k, big position i) the kernel connects,
        :math:`i = p\\,s - \\text{pad} + k\\,d` per axis; ``i`` is ``None`` where it falls on
        padding (outside the big side)."""
        for p in itertools.product(*(range(n) for n in small)):
            for k in itertools.product(*(range(n) for n in kernel)):
                i = tuple(pa * s - pad + ka * d for pa, ka, s, pad, d in zip(
                    p, k, self.stride, self.padding, self.dilation, strict=True))
                inside = all(0 <= ia < n for ia, n in zip(i, big, strict=True))
                yield p, k, (i if inside else None)


def _at(pos: tuple[int, ...]) -> tuple[Any, ...]:
    return (slice(None), slice(None), *pos)


def _group_matrices(w: np.ndarray, g: ConvGeometry, *, to_input: bool) -> list[np.ndarray]:
    """Per group, the weight as ``(channels written, channels read, taps...)``.

    The convolution's weight is ``(C_out, C_in/g, k...)``, the transposed one's
    ``(C_in, C_out/g, k...)``. ``to_input``: the matrices write the module's input channels
    (the input gradient) rather than its output channels (the forward pass).
    """
    rows = w.shape[0] // g.groups
    blocks = [w[j * rows:(j + 1) * rows] for j in range(g.groups)]
    if to_input != g.transposed:
        blocks = [np.swapaxes(b, 0, 1) for b in blocks]
    return blocks


def _gather(src: np.ndarray, mats: list[np.ndarray], small: Sequence[int], big: Sequence[int],
            g: ConvGeometry, bias: np.ndarray | None, t: Tally) -> np.ndarray:
    """Write the small side from the big side: ``out[:, a, p] = Σ_k Σ_b M[a, b, k]·src[:, b, i]``
    (``src`` = 0 on padding: the zero is multiplied)."""
    n, kernel = src.shape[0], mats[0].shape[2:]
    out = np.zeros((n, sum(m.shape[0] for m in mats), *small))
    if bias is not None:
        out += bias.reshape(1, -1, *(1,) * len(small))
    for j, m in enumerate(mats):
        a0, b0 = j * m.shape[0], j * m.shape[1]
        part = src[:, b0:b0 + m.shape[1]]
        zero = np.zeros((n, m.shape[1]))
        for p, k, i in g.connections(small, big, kernel):
            value = zero if i is None else part[_at(i)]
            acc = out[(slice(None), slice(a0, a0 + m.shape[0]), *p)]
            out[(slice(None), slice(a0, a0 + m.shape[0]), *p)] = t.mac(
                acc, value[:, None, :], m[(slice(None), slice(None), *k)][None], axis=2)
    return out


def _scatter(src: np.ndarray, mats: list[np.ndarray], small: Sequence[int], big: Sequence[int],
             g: ConvGeometry, bias: np.ndarray | None, t: Tally) -> np.ndarray:
    """Write the big side from the small side: ``out[:, a, i] += M[a, b, k]·src[:, b, p]`` for
    every connection (products landing on padding are formed, counted and dropped)."""
    n, kernel = src.shape[0], mats[0].shape[2:]
    out = np.zeros((n, sum(m.shape[0] for m in mats), *big))
    if bias is not None:
        out += bias.reshape(1, -1, *(1,) * len(big))
    for j, m in enumerate(mats):
        a0, b0 = j * m.shape[0], j * m.shape[1]
        part = src[:, b0:b0 + m.shape[1]]
        dropped = np.zeros((n, m.shape[0]))
        for p, k, i in g.connections(small, big, kernel):
            where = (slice(None), slice(a0, a0 + m.shape[0]), *i) if i is not None else None
            acc = dropped if where is None else out[where]
            value = t.mac(acc, part[_at(p)][:, None, :],
                          m[(slice(None), slice(None), *k)][None], axis=2)
            if where is not None:
                out[where] = value
    return out


def _check_conv(x_shape: Sequence[int], w: np.ndarray, g: ConvGeometry) -> tuple[int, ...]:
    if len(x_shape) != g.dims + 2 or w.ndim != g.dims + 2:
        raise ValueError(f"a {g.dims}-D convolution needs input and weight of {g.dims + 2} "
                         f"dimensions; got {tuple(x_shape)} and {w.shape}")
    c_in = x_shape[1]
    expect = w.shape[0] if g.transposed else w.shape[1] * g.groups
    if c_in != expect or w.shape[0] % g.groups:
        raise ValueError(f"input channels {c_in} do not match weight {w.shape} with "
                         f"groups={g.groups} (transposed={g.transposed})")
    return tuple(w.shape[2:])


def conv_forward(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, g: ConvGeometry
                 ) -> Computed:
    """Forward pass of a (transposed, grouped) convolution, by loops over positions and taps.

    Convolution: each output position gathers every tap of its window (padding zeros
    multiplied). Transposed: each input value is multiplied by every tap and scattered
    (col2im). Either way :math:`N\\,P\\,C_\\text{out}\\,C_\\text{in}/g\\,K` MACs.
    """
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    kernel = _check_conv(x.shape, w, g)
    small, big = g.small_sizes(x.shape[2:], kernel), g.big_sizes(x.shape[2:], kernel)
    t = Tally()
    mats = _group_matrices(w, g, to_input=False)
    if g.transposed:
        out = _scatter(x, mats, small, big, g, bias, t)
    else:
        out = _gather(x, mats, small, big, g, bias, t)
    return Computed(out, t.counts)


def conv_input_grad(grad_out: np.ndarray, w: np.ndarray, x_shape: Sequence[int],
                    g: ConvGeometry) -> Computed:
    """∂L/∂x from ∂L/∂y by the chain rule, :math:`\\partial x_i \\mathrel{+}= w_k\\,
    \\partial y_p` for every connection: the forward's pairings run backwards, so as many
    MACs as the forward pass."""
    grad_out, w = np.asarray(grad_out, dtype=float), np.asarray(w, dtype=float)
    kernel = _check_conv(x_shape, w, g)
    small, big = g.small_sizes(x_shape[2:], kernel), g.big_sizes(x_shape[2:], kernel)
    t = Tally()
    mats = _group_matrices(w, g, to_input=True)
    if g.transposed:  # the transposed convolution's input is the small side
        out = _gather(grad_out, mats, small, big, g, None, t)
    else:
        out = _scatter(grad_out, mats, small, big, g, None, t)
    return Computed(out, t.counts)


def conv_weight_grad(grad_out: np.ndarray, x: np.ndarray, w_shape: Sequence[int],
                     g: ConvGeometry) -> Computed:
    """∂L/∂w: per tap, a sum over batch and positions of (input value × output gradient).

    :math:`\\partial w[a, b, k] = \\sum_{n,p} s[n, a, p]\\,t[n, b, i(p, k)]` with ``s``, ``t``
    the small and big sides (input and output gradient, in the order of the weight's
    channel axes; 0 on padding, multiplied). One MAC per weight entry, sample and position:
    as many as the forward pass — not ``groups`` times more.
    """
    grad_out, x = np.asarray(grad_out, dtype=float), np.asarray(x, dtype=float)
    w_shape = tuple(w_shape)
    kernel = _check_conv(x.shape, np.zeros(w_shape), g)
    small, big = g.small_sizes(x.shape[2:], kernel), g.big_sizes(x.shape[2:], kernel)
    s_side, b_side = (x, grad_out) if g.transposed else (grad_out, x)
    t = Tally()
    grad_w = np.zeros(w_shape)
    rows, cols = w_shape[0] // g.groups, w_shape[1]
    for j in range(g.groups):
        s_part = s_side[:, j * rows:(j + 1) * rows]
        b_part = b_side[:, j * cols:(j + 1) * cols]
        zero = np.zeros((x.shape[0], cols))
        for p, k, i in g.connections(small, big, kernel):
            value = zero if i is None else b_part[_at(i)]
            where = (slice(j * rows, (j + 1) * rows), slice(None), *k)
            grad_w[where] = t.mac(grad_w[where], s_part[_at(p)][:, :, None],
                                  value[:, None, :], axis=0)
    return Computed(grad_w, t.counts)


def conv_bias_grad(grad_out: np.ndarray) -> Computed:
    """∂L/∂b: the output gradient summed over batch and positions, one add per value."""
    grad_out = np.asarray(grad_out, dtype=float)
    t = Tally()
    axes = (0, *range(2, grad_out.ndim))
    return Computed(t.sum(grad_out, axis=axes), t.counts)
