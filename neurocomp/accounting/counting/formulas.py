r"""FLOP formulas of matrix products, attention and FFTs, one pure function per op.

Each formula takes the op's arguments with every tensor replaced by its shape (a tuple of
ints; ``None`` stays ``None``; a list of tensors becomes a list of shapes), the shape of
the result as ``out_shape`` (a list of shapes for ops with several results) and the scalar
costs as ``costs``, and returns a FLOP count — the calling convention of
``torch.utils.flop_counter`` (``docs/references.md#anchors-accounting-1-2``), so the two can be
compared op by op. No formula imports torch.

Convention (:mod:`neurocomp.accounting.convention`): a multiply-add is 2 FLOPs, and a
k-long dot product counts 2k — k multiply-adds into an accumulator that starts at the bias
(or at 0), so a bias costs no extra add. Convolutions are counted densely: taps that fall on
zero padding are multiplied too. Every formula is checked against an independent count:
:mod:`~neurocomp.accounting.truth.loops` computes each op by explicit loops and
counts what it does (``truth.zoo`` sets the two side by side).

Where the library's count and ``FlopCounterMode``'s differ, ``FlopCounterMode`` is the one
the ground truth contradicts: (1) the weight gradient of a grouped convolution has
:math:`C_\text{out} \cdot C_\text{in}/g \cdot K` entries, each a sum over :math:`N P`
products, but ``FlopCounterMode`` (torch 2.13) multiplies the input's full channel count, so
it counts the weight gradient ``groups`` times over (``docs/references.md#anchors-accounting-1-5``,
PR
#183405 fixes the transposed case); (2) the bias gradient (a sum of the output gradient over
batch and positions) it ignores; (3) fused attention it counts as its products alone
(softmax and scaling left out), and the CPU kernel not at all. Each op therefore has two
formulas: ``flop`` (the library's) and ``flop_counter_mode`` (``FlopCounterMode``'s rule,
reproduced so that the two can be compared op by op), and reports carry both.

The convolutions' formulas, and the hand calculations from layer hyper-parameters, are in
:mod:`~neurocomp.accounting.counting.conv_formulas`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import log2, prod
from typing import Any

from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts
from neurocomp.checks import check_choice

__all__ = [
    "FLOP_COUNTER_MODE_KINDS",
    "KINDS",
    "NotCountable",
    "OpFormula",
    "addmm_flop",
    "attention",
    "attention_backward_flop_counter_mode",
    "attention_flop_counter_mode",
    "bmm_flop",
    "fft_c2c_flop",
    "fft_c2r_flop",
    "fft_r2c_flop",
    "first_shape",
    "mkldnn_rnn_layer_backward_flop",
    "mkldnn_rnn_layer_flop",
    "mm_flop",
    "numel",
]

#: What an op does, for tables and for deciding how its bytes are counted.
KINDS = ("matmul", "convolution", "attention", "fft", "pointwise", "reduction", "pooling",
         "normalization", "data movement", "view", "random")
#: Kinds whose ops ``FlopCounterMode`` counts (the others it leaves at 0).
FLOP_COUNTER_MODE_KINDS = ("matmul", "convolution", "attention")

Shape = tuple[int, ...]


class NotCountable(Exception):
    """Raised by a formula for an argument combination it cannot count (e.g. nested tensors).

    The counter lists the op as uncounted, with this message as the reason.
    """


@dataclass(frozen=True)
class OpFormula:
    """How to count one aten op.

    Parameters
    ----------
    op : str
        The op's overload-packet name, ``"aten.convolution"``.
    kind : str
        One of :data:`KINDS`.
    flop : callable
        ``flop(*args, out_shape, costs, **kwargs) -> float``: the library's count.
    flop_counter_mode : callable or None
        ``f(*args, out_shape, **kwargs) -> int``: what ``FlopCounterMode`` counts for the op;
        ``None`` for ops it does not count.
    float_only : bool
        Count FLOPs only when a floating-point tensor takes part (integer and boolean
        arithmetic is not floating-point work).
    complex_factor : float or None
        Real FLOPs per counted FLOP when a complex tensor takes part (a complex multiply-add
        is 4 real multiplies and 4 adds: 4× a real one; a complex multiply 6 real FLOPs, an
        add 2); ``None``: complex arguments make the op uncounted.
    """

    op: str
    kind: str
    flop: Callable[..., float]
    flop_counter_mode: Callable[..., int] | None = None
    float_only: bool = True
    complex_factor: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.op, str) or not self.op.startswith("aten."):
            raise ValueError(f"op must be an aten op name like 'aten.mm'; got {self.op!r}")
        check_choice(f"{self.op}: kind", self.kind, KINDS)
        if not callable(self.flop):
            raise TypeError(f"{self.op}: flop must be callable")
        if self.complex_factor is not None and not self.complex_factor > 0:
            raise ValueError(f"{self.op}: complex_factor must be > 0 or None; got "
                             f"{self.complex_factor!r}")

    @property
    def moves_data(self) -> bool:
        """Whether the op reads and writes tensor data (views only reinterpret it)."""
        return self.kind != "view"


# -- shape helpers ---------------------------------------------------------------------------

def numel(shape: Sequence[int] | None) -> int:
    """Number of elements of a tensor of ``shape`` (0 for ``None``)."""
    return 0 if shape is None else prod(shape)


def first_shape(out_shape: Any) -> Shape:
    """The first result's shape, whether ``out_shape`` is one shape or a list of them."""
    if isinstance(out_shape, list):
        return first_shape(out_shape[0])
    return tuple(out_shape)


# -- matrix products (counted by FlopCounterMode: 2·m·n·k) -----------------------------------

def mm_flop(a: Shape, b: Shape, *_: Any, out_shape: Any = None, **__: Any) -> int:
    """``a @ b`` with ``a`` m×k, ``b`` k×n: :math:`2mnk`."""
    m, k = a
    k2, n = b
    if k != k2:
        raise ValueError(f"mm: inner dimensions differ ({k} and {k2})")
    return 2 * m * n * k


def addmm_flop(_bias: Shape, a: Shape, b: Shape, *_: Any, out_shape: Any = None,
               **__: Any) -> int:
    """``bias + a @ b``: :math:`2mnk` (the bias add is the rounding's +1 per output)."""
    return mm_flop(a, b)


def bmm_flop(a: Shape, b: Shape, *_: Any, out_shape: Any = None, **__: Any) -> int:
    """Batched ``a @ b``, ``a`` b×m×k, ``b`` b×k×n: :math:`2bmnk`."""
    nb, m, k = a
    nb2, k2, n = b
    if nb != nb2 or k != k2:
        raise ValueError(f"bmm: shapes {a} and {b} do not match")
    return 2 * nb * m * n * k


def baddbmm_flop(_bias: Shape, a: Shape, b: Shape, *_: Any, out_shape: Any = None,
                 **__: Any) -> int:
    """``bias + bmm(a, b)``: :math:`2bmnk`."""
    return bmm_flop(a, b)


def scaled_mm_flop(a: Shape, b: Shape, *_: Any, out_shape: Any = None, **__: Any) -> int:
    """``_scaled_mm`` (low-precision matmul with scales): :math:`2mnk`."""
    return mm_flop(a, b)


def mv_flop(a: Shape, x: Shape, *_: Any, out_shape: Any = None, **__: Any) -> int:
    """Matrix-vector product, ``a`` m×n: :math:`2mn` (FlopCounterMode does not count it)."""
    return 2 * numel(a)


def addmv_flop(_bias: Shape, a: Shape, x: Shape, *_: Any, out_shape: Any = None,
               **__: Any) -> int:
    """``bias + a @ x``: :math:`2mn`."""
    return 2 * numel(a)


def dot_flop(a: Shape, b: Shape, *_: Any, out_shape: Any = None, **__: Any) -> int:
    """Dot product of two n-vectors: :math:`2n`."""
    return 2 * numel(a)


def addbmm_flop(_bias: Shape, a: Shape, b: Shape, *_: Any, out_shape: Any = None,
                **__: Any) -> int:
    """``bias + Σ_b a_b @ b_b``: :math:`2bmnk` (the sum over b continues the dot products)."""
    return bmm_flop(a, b)


def addr_flop(_bias: Shape, u: Shape, v: Shape, *_: Any, out_shape: Any = None,
              **__: Any) -> int:
    """``bias + u ⊗ v``: a multiply and an add per entry, :math:`2mn`."""
    return 2 * numel(u) * numel(v)


# -- attention (scaled dot-product kernels) ---------------------------------------------------
#
# FlopCounterMode counts the products alone (``*_flop_counter_mode`` below). The library
# counts the dense algorithm of ``truth.layers`` (the masked products of a causal mask
# included): per score a scaling multiply, an add for a float mask, the softmax's comparison,
# subtract, exp, add and division, and per query row the log-sum-exp the kernels return (a log
# and an add); backward: five products, per score the recomputed probabilities (multiply,
# [mask add,] subtract, exp) and dS = P(dP − D)·s (3), per output value D's multiply and add.
# Dropout's draws and multiplies are not counted.

def _heads(q: Shape, k: Shape, v: Shape) -> tuple[int, int, int, int, int]:
    """(batch·heads, s_q, s_k, d, d_v) of ``(b, h, s, d)`` shapes."""
    b, h_q, s_q, d_q = q
    _, h_kv, s_k, _ = k
    if h_q % h_kv:
        raise ValueError(f"attention: {h_q} query heads are not a multiple of {h_kv}")
    return b * h_q, s_q, s_k, d_q, v[-1]


def _sdpa_forward(q: Shape, k: Shape, v: Shape) -> int:
    bh, s_q, s_k, d, d_v = _heads(q, k, v)
    return bmm_flop((bh, s_q, d), (bh, d, s_k)) + bmm_flop((bh, s_q, s_k), (bh, s_k, d_v))


def _sdpa_backward(q: Shape, k: Shape, v: Shape) -> int:
    bh, s_q, s_k, d_q, d_v = _heads(q, k, v)
    return (bmm_flop((bh, s_q, d_q), (bh, d_q, s_k)) + bmm_flop((bh, s_q, d_v), (bh, d_v, s_k))
            + bmm_flop((bh, s_k, s_q), (bh, s_q, d_v)) + bmm_flop((bh, s_q, s_k), (bh, s_k, d_q))
            + bmm_flop((bh, d_q, s_q), (bh, s_q, s_k)))


def _sdpa_elements(q: Shape, k: Shape, v: Shape, masked: bool, costs: ScalarOpCosts,
                   backward: bool) -> float:
    bh, s_q, s_k, _, d_v = _heads(q, k, v)
    if backward:  # scale, subtract, dP − D, ·P, ·s (5), the mask's add, exp
        per_score = 5.0 + masked + costs.transcendental_flop
        return bh * s_q * s_k * per_score + 2.0 * bh * s_q * d_v
    # scale, subtract and sum (3), the mask's add, the maximum, exp and division
    per_score = (3.0 + masked + costs.comparison_flop + costs.transcendental_flop
                 + costs.division_flop)
    return bh * s_q * s_k * per_score + bh * s_q * (1.0 + costs.transcendental_flop)


def _bshd(shape: Shape) -> Shape:
    """The low-level kernels' ``(batch, seq, heads, dim)`` read as ``(batch, heads, seq, dim)``."""
    return (shape[0], shape[2], shape[1], shape[3])


def attention_flop_counter_mode(q: Shape, k: Shape, v: Shape, *_: Any, out_shape: Any = None,
                                **__: Any) -> int:
    """FlopCounterMode's rule for the fused forward kernels: :math:`QK^\\top` and :math:`SV`."""
    if len(q) != 4:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_forward(q, k, v)


def attention_backward_flop_counter_mode(grad_out: Shape, q: Shape, k: Shape, v: Shape,
                                         *_: Any, out_shape: Any = None, **__: Any) -> int:
    """FlopCounterMode's rule for the fused backward kernels: five batched products."""
    if len(q) != 4:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_backward(q, k, v)


def attention(*, backward: bool, mask_at: int | None = None, layout: str = "bhsd",
              nested_at: int | None = None) -> Callable[..., float]:
    """The library's formula of one fused attention kernel (forward or backward).

    ``mask_at``: position, after ``q, k, v``, of the kernel's additive mask argument (``None``:
    the ``attn_mask`` keyword, if any); ``layout``: ``"bshd"`` for the low-level
    ``_flash/_efficient_attention_*`` kernels, which take ``(batch, seq, heads, dim)``;
    ``nested_at``: position, after ``q, k, v``, of a cumulative-length argument that marks
    nested (jagged) inputs, which are not counted.
    """
    check_choice("layout", layout, ("bhsd", "bshd"))

    def flop(*args: Any, out_shape: Any = None, costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS,
             **kwargs: Any) -> float:
        q, k, v, *rest = args[1:] if backward else args
        if len(q) != 4 or (nested_at is not None and len(rest) > nested_at
                           and rest[nested_at] is not None):
            raise NotCountable("attention on nested (jagged) tensors is not counted")
        if layout == "bshd":
            q, k, v = _bshd(q), _bshd(k), _bshd(v)
        mask = rest[mask_at] if mask_at is not None and len(rest) > mask_at else kwargs.get(
            "attn_mask")
        products = _sdpa_backward(q, k, v) if backward else _sdpa_forward(q, k, v)
        return products + _sdpa_elements(q, k, v, mask is not None, costs, backward)
    return flop


def flash_attention_flop(q: Shape, k: Shape, v: Shape, cum_seq_q: Any, *args: Any,
                         out_shape: Any = None, **__: Any) -> int:
    """FlopCounterMode's rule for ``_flash_attention_forward`` on dense inputs (it reads the
    kernel's ``(batch, seq, heads, dim)`` shapes as ``(batch, heads, seq, dim)``)."""
    if cum_seq_q is not None:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_forward(q, k, v)


def flash_attention_backward_flop(grad_out: Shape, q: Shape, k: Shape, v: Shape, *args: Any,
                                  out_shape: Any = None, **__: Any) -> int:
    """FlopCounterMode's rule for ``_flash_attention_backward`` on dense inputs."""
    cum_seq = args[2] if len(args) > 2 else None
    if cum_seq is not None:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_backward(q, k, v)


def efficient_attention_backward_flop(grad_out: Shape, q: Shape, k: Shape, v: Shape,
                                      _bias: Any, _out: Any, cu_seqlens_q: Any, *args: Any,
                                      out_shape: Any = None, **__: Any) -> int:
    """FlopCounterMode's rule for ``_efficient_attention_backward`` on dense inputs."""
    if cu_seqlens_q is not None:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_backward(q, k, v)


def efficient_attention_flop(q: Shape, k: Shape, v: Shape, _bias: Any, cu_seqlens_q: Any,
                             *args: Any, out_shape: Any = None, **__: Any) -> int:
    """FlopCounterMode's rule for ``_efficient_attention_forward`` on dense inputs."""
    if cu_seqlens_q is not None:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_forward(q, k, v)


# -- recurrent layers (the CPU's oneDNN kernels) ----------------------------------------------

#: Per hidden unit and step, by ``mode`` (cuDNN's numbering, which ``mkldnn_rnn_layer``
#: takes: 0 ReLU RNN, 1 tanh RNN, 2 LSTM, 3 GRU): gates, then the element operations as
#: (adds and multiplies, divisions, transcendentals, comparisons) — ``truth.rnn``.
RNN_MODES: dict[int, tuple[int, int, int, int, int]] = {
    0: (1, 1, 0, 0, 1), 1: (1, 1, 0, 1, 0), 2: (4, 11, 3, 5, 0), 3: (3, 9, 2, 3, 0)}
_LSTM = 2


def _rnn_sizes(x: Shape, w_ih: Shape, hidden: int) -> tuple[int, int, int]:
    """(steps × samples, input size, hidden size) of one layer call."""
    if not x or x[-1] != w_ih[1]:
        raise ValueError(f"recurrent layer: input {x} does not match w_ih {w_ih}")
    return numel(x) // x[-1], x[-1], hidden


def mkldnn_rnn_layer_flop(x: Shape, w_ih: Shape, _w_hh: Shape, _b_ih: Any, _b_hh: Any,
                          _hx: Any, _cx: Any, _reverse: bool, _batch_sizes: Any, mode: int,
                          hidden_size: int, *_: Any, out_shape: Any = None,
                          costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS, **__: Any) -> float:
    """``aten.mkldnn_rnn_layer``: one layer, one direction, over all steps.

    Per step and sample :math:`2 G H (I + H)` FLOPs of products (G gates) and the cell's
    element operations (:data:`RNN_MODES`; for an LSTM 19 per hidden unit).
    """
    if mode not in RNN_MODES:
        raise NotCountable(f"mkldnn_rnn_layer mode {mode!r} is not one of {sorted(RNN_MODES)}")
    rows, n_in, h = _rnn_sizes(x, w_ih, hidden_size)
    gates, arith, div, trans, cmp = RNN_MODES[mode]
    per_unit = (arith + div * costs.division_flop + trans * costs.transcendental_flop
                + cmp * costs.comparison_flop)
    return rows * (2.0 * gates * h * (n_in + h) + h * per_unit)


def mkldnn_rnn_layer_backward_flop(x: Shape, w_ih: Shape, *args: Any, out_shape: Any = None,
                                   costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS,
                                   **__: Any) -> float:
    """``aten.mkldnn_rnn_layer_backward`` of an LSTM layer: every gradient at once.

    Per step and sample: :math:`4 G H (I + H)` FLOPs of products (input, recurrent-state
    and both weight gradients), 23 element operations per hidden unit, and 4 adds for the
    bias gradient (one, shared by ``b_ih`` and ``b_hh``) when the layer has biases.
    """
    mode, hidden_size, has_biases = args[12], args[13], args[15]
    if mode != _LSTM:
        raise NotCountable(f"mkldnn_rnn_layer_backward of mode {mode!r} (only the LSTM's, "
                           f"mode {_LSTM}, is counted)")
    rows, n_in, h = _rnn_sizes(x, w_ih, hidden_size)
    return rows * (4.0 * 4 * h * (n_in + h) + h * (23.0 + (4.0 if has_biases else 0.0)))


# -- fast Fourier transforms -------------------------------------------------------------------

def _fft_flop(n: int, batches: int, per_point: float) -> float:
    return batches * per_point * n * log2(n) if n > 1 else 0.0


def fft_r2c_flop(x: Shape, dim: Sequence[int], *_: Any, out_shape: Any = None,
                 **__: Any) -> float:
    r"""Real-to-complex FFT over ``dim``: :math:`2.5\,N \log_2 N` per transform of N real
    points — FFTW's benchmark convention (5 N log2 N for a complex transform, half for a
    real one; www.fftw.org/speed/method.html), normalisation not counted."""
    n = prod(x[d] for d in dim)
    return _fft_flop(n, numel(x) // max(n, 1), 2.5)


def fft_c2r_flop(x: Shape, dim: Sequence[int], *_: Any, out_shape: Any = None,
                 **__: Any) -> float:
    r"""Complex-to-real (inverse) FFT: :math:`2.5\,N \log_2 N` per transform, N the real
    output points."""
    out = first_shape(out_shape)
    n = prod(out[d] for d in dim)
    return _fft_flop(n, numel(out) // max(n, 1), 2.5)


def fft_c2c_flop(x: Shape, dim: Sequence[int], *_: Any, out_shape: Any = None,
                 **__: Any) -> float:
    r"""Complex FFT: :math:`5\,N \log_2 N` per transform of N points (FFTW's convention)."""
    n = prod(x[d] for d in dim)
    return _fft_flop(n, numel(x) // max(n, 1), 5.0)
