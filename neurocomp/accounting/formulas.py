r"""FLOP formulas of matrix products, convolutions and attention, one pure function per op.

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

Also here: hand-calculation helpers (:func:`conv_output_length`, :func:`conv_flop`,
:func:`conv_backward_flop`) that start from layer hyper-parameters instead of shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import log2, prod
from typing import Any

from neurocomp._validation import check_choice, check_int

__all__ = [
    "FLOP_COUNTER_MODE_KINDS",
    "KINDS",
    "NotCountable",
    "OpFormula",
    "addmm_flop",
    "attention_backward_flop",
    "attention_flop",
    "bmm_flop",
    "conv_backward_flop",
    "conv_flop",
    "conv_output_length",
    "conv_transpose_output_length",
    "convolution_backward_flop",
    "convolution_backward_flop_counter_mode",
    "convolution_flop",
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


# -- convolutions ----------------------------------------------------------------------------

def _conv_macs(x: Shape, w: Shape, out: Shape, transposed: bool) -> int:
    """Multiply-adds of a (transposed) convolution from shapes.

    The weight is ``(C_out, C_in/g, k...)`` (or ``(C_in, C_out/g, k...)`` transposed), so
    its size already carries the ``1/g`` of grouping: MACs = N · P · numel(w), with P the
    output positions — or, transposed, the input positions, since every input value is
    multiplied by every tap once.
    """
    positions = (x if transposed else out)[2:]
    return x[0] * prod(positions) * numel(w)


def convolution_flop(x: Shape, w: Shape, _bias: Any, _stride: Any, _padding: Any,
                     _dilation: Any, transposed: bool, *_: Any, out_shape: Any = None,
                     **__: Any) -> int:
    """``aten.convolution`` (and ``_convolution``): :math:`2 N P\\,C_{out} C_{in} K/g`."""
    return 2 * _conv_macs(x, w, first_shape(out_shape), bool(transposed))


def slow_conv2d_flop(x: Shape, w: Shape, *_: Any, out_shape: Any = None, **__: Any) -> int:
    """``aten._slow_conv2d_forward`` / ``cudnn_convolution``: a plain convolution."""
    return 2 * _conv_macs(x, w, first_shape(out_shape), False)


def convolution_flop_counter_mode(x: Shape, w: Shape, _bias: Any, _stride: Any, _padding: Any,
                                  _dilation: Any, transposed: Any, *_: Any,
                                  out_shape: Any = None, **__: Any) -> int:
    """FlopCounterMode's rule, which reads the 7th argument as ``transposed`` for every
    convolution op it lists (``cudnn_convolution``'s 7th is ``benchmark``)."""
    return 2 * _conv_macs(x, w, first_shape(out_shape), bool(transposed))


def _swap01(shape: Shape) -> Shape:
    return (shape[1], shape[0], *shape[2:])


def _fcm_conv_count(x: Shape, w: Shape, out: Shape, transposed: bool) -> int:
    """``torch.utils.flop_counter.conv_flop_count``, rewritten: 2·N·P·C_out·C_in·K."""
    positions = (x if transposed else out)[2:]
    c_out, c_in, *taps = w
    return 2 * prod(positions) * prod(taps) * x[0] * c_out * c_in


def convolution_backward_flop(grad_out: Shape, x: Shape, w: Shape, _bias_sizes: Any,
                              _stride: Any, _padding: Any, _dilation: Any, transposed: bool,
                              _output_padding: Any, _groups: int, output_mask: Sequence[bool],
                              *_: Any, out_shape: Any = None, **__: Any) -> int:
    """``aten.convolution_backward``: input, weight and bias gradients as ``output_mask`` asks.

    Input gradient: a transposed convolution of the output gradient with the weight, as many
    multiply-adds as the forward pass. Weight gradient: one sum of N·P products per weight
    entry, again as many as the forward pass. Bias gradient: a sum over the output
    gradient's N·P values per channel, one FLOP per value.
    """
    forward = 2 * _conv_macs(x, w, grad_out, bool(transposed))
    flop = 0
    if output_mask[0]:
        flop += forward
    if output_mask[1]:
        flop += forward
    if len(output_mask) > 2 and output_mask[2]:
        flop += numel(grad_out)
    return flop


def convolution_backward_flop_counter_mode(grad_out: Shape, x: Shape, w: Shape, _bias_sizes: Any,
                                           _stride: Any, _padding: Any, _dilation: Any,
                                           transposed: bool, _output_padding: Any, _groups: int,
                                           output_mask: Sequence[bool], *_: Any,
                                           out_shape: Any = None, **__: Any) -> int:
    """FlopCounterMode's rule (torch 2.13): no bias gradient; the weight gradient counted as
    a convolution over the *full* input channels, i.e. ``groups`` times the library's."""
    grad_input, grad_weight = out_shape[0], out_shape[1]
    flop = 0
    if output_mask[0]:
        flop += _fcm_conv_count(grad_out, w, tuple(grad_input), not transposed)
    if output_mask[1]:
        gw = tuple(grad_weight)
        if transposed:
            flop += _fcm_conv_count(_swap01(grad_out), _swap01(x), _swap01(gw), False)
        else:
            flop += _fcm_conv_count(_swap01(x), _swap01(grad_out), _swap01(gw), False)
    return flop


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


# -- hand calculations from hyper-parameters --------------------------------------------------

def _per_axis(name: str, value: int | Sequence[int], n: int) -> tuple[int, ...]:
    values = (value,) * n if isinstance(value, int) else tuple(value)
    if len(values) != n:
        raise ValueError(f"{name} must be an int or have {n} entries (one per spatial axis); "
                         f"got {value!r}")
    return values


def conv_output_length(n_in: int, *, kernel: int, stride: int = 1, padding: int = 0,
                       dilation: int = 1) -> int:
    r"""Output length of a convolution along one axis.

    .. math:: n_\text{out} = \left\lfloor \frac{n_\text{in} + 2p - d(k-1) - 1}{s}
              \right\rfloor + 1
    """
    n_in = check_int("n_in", n_in, low=1)
    k, s = check_int("kernel", kernel, low=1), check_int("stride", stride, low=1)
    p, d = check_int("padding", padding, low=0), check_int("dilation", dilation, low=1)
    span = n_in + 2 * p - d * (k - 1) - 1
    if span < 0:
        raise ValueError(f"the dilated kernel ({d * (k - 1) + 1}) is longer than the padded "
                         f"input ({n_in + 2 * p})")
    return span // s + 1


def conv_transpose_output_length(n_in: int, *, kernel: int, stride: int = 1, padding: int = 0,
                                 dilation: int = 1, output_padding: int = 0) -> int:
    r"""Output length of a transposed convolution along one axis.

    .. math:: n_\text{out} = (n_\text{in} - 1)s - 2p + d(k - 1) + p_\text{out} + 1
    """
    n_in = check_int("n_in", n_in, low=1)
    k, s = check_int("kernel", kernel, low=1), check_int("stride", stride, low=1)
    p, d = check_int("padding", padding, low=0), check_int("dilation", dilation, low=1)
    op = check_int("output_padding", output_padding, low=0)
    return (n_in - 1) * s - 2 * p + d * (k - 1) + op + 1


def conv_flop(*, batch: int, in_channels: int, out_channels: int,
              kernel_size: int | Sequence[int], input_size: int | Sequence[int],
              stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
              dilation: int | Sequence[int] = 1, groups: int = 1, transposed: bool = False,
              output_padding: int | Sequence[int] = 0) -> int:
    r"""Forward FLOPs of a 1-, 2- or 3-D (transposed) convolution from its hyper-parameters.

    .. math:: F = 2\,N\,P\,C_\text{out}\,\frac{C_\text{in}}{g}\,\prod_i k_i

    with :math:`P` the number of output positions (input positions for a transposed
    convolution), computed with :func:`conv_output_length`. Bias adds are inside the
    rounding (see the module notes); zero padding is counted.

    Parameters
    ----------
    batch, in_channels, out_channels, groups : int
        ``groups`` must divide both channel counts.
    kernel_size, input_size, stride, padding, dilation, output_padding : int or sequence
        Per spatial axis (an int applies to every axis; ``input_size`` sets the number of
        axes).
    transposed : bool
        A transposed convolution (``ConvTranspose{1,2,3}d``).
    """
    n = check_int("batch", batch, low=1)
    c_in, c_out = check_int("in_channels", in_channels, low=1), check_int(
        "out_channels", out_channels, low=1)
    g = check_int("groups", groups, low=1)
    if c_in % g or c_out % g:
        raise ValueError(f"groups={g} must divide in_channels={c_in} and out_channels={c_out}")
    sizes = (input_size,) if isinstance(input_size, int) else tuple(input_size)
    dims = len(sizes)
    ks = _per_axis("kernel_size", kernel_size, dims)
    if transposed:
        positions = prod(sizes)
        for axis, (size, k, s, p, d, o) in enumerate(zip(
                sizes, ks, _per_axis("stride", stride, dims), _per_axis("padding", padding, dims),
                _per_axis("dilation", dilation, dims),
                _per_axis("output_padding", output_padding, dims), strict=True)):
            if conv_transpose_output_length(size, kernel=k, stride=s, padding=p, dilation=d,
                                            output_padding=o) < 1:
                raise ValueError(f"transposed convolution gives no output along axis {axis}")
    else:
        positions = prod(conv_output_length(size, kernel=k, stride=s, padding=p, dilation=d)
                         for size, k, s, p, d in zip(
                             sizes, ks, _per_axis("stride", stride, dims),
                             _per_axis("padding", padding, dims),
                             _per_axis("dilation", dilation, dims), strict=True))
    return 2 * n * positions * c_out * (c_in // g) * prod(ks)


def conv_backward_flop(*, input_grad: bool = True, weight_grad: bool = True,
                       bias_grad: bool = False, **conv: Any) -> int:
    """Backward FLOPs of a convolution (arguments of :func:`conv_flop` plus what is needed).

    Input gradient and weight gradient each cost the forward FLOPs; the bias gradient costs
    one FLOP per output-gradient value (:math:`N\\,C_\\text{out}\\,P_\\text{out}`).
    """
    forward = conv_flop(**conv)
    flop = forward * (int(input_grad) + int(weight_grad))
    if bias_grad:
        sizes = conv["input_size"]
        sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
        dims = len(sizes)
        if conv.get("transposed", False):
            outs = [conv_transpose_output_length(
                n, kernel=k, stride=s, padding=p, dilation=d, output_padding=o)
                for n, k, s, p, d, o in zip(
                    sizes, _per_axis("kernel_size", conv["kernel_size"], dims),
                    _per_axis("stride", conv.get("stride", 1), dims),
                    _per_axis("padding", conv.get("padding", 0), dims),
                    _per_axis("dilation", conv.get("dilation", 1), dims),
                    _per_axis("output_padding", conv.get("output_padding", 0), dims),
                    strict=True)]
        else:
            outs = [conv_output_length(n, kernel=k, stride=s, padding=p, dilation=d)
                    for n, k, s, p, d in zip(
                        sizes, _per_axis("kernel_size", conv["kernel_size"], dims),
                        _per_axis("stride", conv.get("stride", 1), dims),
                        _per_axis("padding", conv.get("padding", 0), dims),
                        _per_axis("dilation", conv.get("dilation", 1), dims), strict=True)]
        flop += conv["batch"] * conv["out_channels"] * prod(outs)
    return flop
