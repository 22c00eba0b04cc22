r"""FLOP formulas of matrix products, attention and FFTs, one pure function per op.

Each formula takes the op's arguments with every tensor replaced by its shape (a tuple of
ints; ``None`` stays ``None``; a list of tensors becomes a list of shapes), the shape of
the result as ``out_shape`` (a list of shapes for ops with several results) and the scalar
costs as ``costs``, and returns a FLOP count — the calling convention of
``torch.utils.flop_counter`` (``anchors_accounting.md`` §1.2), so the two can be compared op
by op. No formula imports torch.

Convention (:mod:`neurocomp.accounting.convention`): a multiply-add is 2 FLOPs, and a
k-long dot product counts 2k (rounded from 2k − 1) — which is exactly 2k − 1 products and
sums plus the one addition of a bias, so bias adds are inside these counts. Convolutions are
counted densely: taps that fall on zero padding are multiplied too, as every counter does.

For ``aten.convolution_backward`` the library's count and ``FlopCounterMode``'s differ on
purpose in two places: (1) the weight gradient of a grouped convolution has
:math:`C_\text{out} \cdot C_\text{in}/g \cdot K` entries, each a sum over
:math:`N P` products, but ``FlopCounterMode`` (torch 2.13) multiplies the input's full
channel count, so it counts the weight gradient ``groups`` times over (see
``anchors_accounting.md`` §1.5, PR #183405, which fixes the transposed case); (2) the bias
gradient (a sum of the output gradient over batch and positions) is a reduction the library
counts and ``FlopCounterMode`` ignores. Each op therefore has two formulas: ``flop`` (the
library's) and ``flop_counter_mode`` (what ``FlopCounterMode`` counts, reproduced rule for
rule), and reports carry both.

The convolutions' formulas, and the hand calculations from layer hyper-parameters, are in
:mod:`~neurocomp.accounting.counting.conv_formulas`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import log2, prod
from typing import Any

from neurocomp.checks import check_choice

__all__ = [
    "FLOP_COUNTER_MODE_KINDS",
    "KINDS",
    "NotCountable",
    "OpFormula",
    "addmm_flop",
    "attention_backward_flop",
    "attention_flop",
    "bmm_flop",
    "fft_c2c_flop",
    "fft_c2r_flop",
    "fft_r2c_flop",
    "first_shape",
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

def _sdpa_forward(q: Shape, k: Shape, v: Shape) -> int:
    b, h_q, s_q, d_q = q
    _, h_kv, s_k, _ = k
    d_v = v[-1]
    if h_q % h_kv:
        raise ValueError(f"attention: {h_q} query heads are not a multiple of {h_kv}")
    return bmm_flop((b * h_q, s_q, d_q), (b * h_q, d_q, s_k)) + bmm_flop(
        (b * h_q, s_q, s_k), (b * h_q, s_k, d_v))


def _sdpa_backward(q: Shape, k: Shape, v: Shape) -> int:
    b, h_q, s_q, d_q = q
    s_k, d_v = k[2], v[-1]
    bh = b * h_q
    return (bmm_flop((bh, s_q, d_q), (bh, d_q, s_k)) + bmm_flop((bh, s_q, d_v), (bh, d_v, s_k))
            + bmm_flop((bh, s_k, s_q), (bh, s_q, d_v)) + bmm_flop((bh, s_q, s_k), (bh, s_k, d_q))
            + bmm_flop((bh, d_q, s_q), (bh, s_q, s_k)))


def attention_flop(q: Shape, k: Shape, v: Shape, *args: Any, out_shape: Any = None,
                   **__: Any) -> int:
    """Scaled dot-product attention forward: the two batched products
    :math:`QK^\\top` and :math:`SV` (softmax and scaling not counted; a causal mask is not
    discounted — FlopCounterMode's rule)."""
    if len(q) != 4:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_forward(q, k, v)


def attention_backward_flop(grad_out: Shape, q: Shape, k: Shape, v: Shape, *args: Any,
                            out_shape: Any = None, **__: Any) -> int:
    """Scaled dot-product attention backward: five batched products (scores recomputed)."""
    if len(q) != 4:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_backward(q, k, v)


def flash_attention_flop(q: Shape, k: Shape, v: Shape, cum_seq_q: Any, *args: Any,
                         out_shape: Any = None, **__: Any) -> int:
    """``_flash_attention_forward`` / ``_efficient_attention_forward`` on dense inputs
    (``(batch, seq, heads, dim)`` layout of the kernels is not used: FlopCounterMode reads
    the shapes as given)."""
    if cum_seq_q is not None:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_forward(q, k, v)


def flash_attention_backward_flop(grad_out: Shape, q: Shape, k: Shape, v: Shape, *args: Any,
                                  out_shape: Any = None, **__: Any) -> int:
    """``_flash_attention_backward`` / ``_efficient_attention_backward`` on dense inputs."""
    cum_seq = args[2] if len(args) > 2 else None
    if cum_seq is not None:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_backward(q, k, v)


def efficient_attention_backward_flop(grad_out: Shape, q: Shape, k: Shape, v: Shape,
                                      _bias: Any, _out: Any, cu_seqlens_q: Any, *args: Any,
                                      out_shape: Any = None, **__: Any) -> int:
    """``_efficient_attention_backward`` on dense inputs."""
    if cu_seqlens_q is not None:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_backward(q, k, v)


def efficient_attention_flop(q: Shape, k: Shape, v: Shape, _bias: Any, cu_seqlens_q: Any,
                             *args: Any, out_shape: Any = None, **__: Any) -> int:
    """``_efficient_attention_forward`` on dense inputs."""
    if cu_seqlens_q is not None:
        raise NotCountable("attention on nested (jagged) tensors is not counted")
    return _sdpa_forward(q, k, v)


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
