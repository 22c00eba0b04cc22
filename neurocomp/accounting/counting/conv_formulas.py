r"""FLOP formulas of convolutions: per op from shapes, and by hand from layer hyper-parameters.

The per-op formulas (``aten.convolution``, ``aten.convolution_backward`` …) follow the calling
convention of :mod:`~neurocomp.accounting.counting.formulas`, where the two deliberate
differences from ``FlopCounterMode`` in ``convolution_backward`` are explained. The hand
calculations (:func:`conv_output_length`, :func:`conv_flop`, :func:`conv_backward_flop`) start
from layer hyper-parameters instead of shapes; :func:`conv_output_length` is the library's one
output-length formula (``neurocomp.mapping`` uses it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

from neurocomp.accounting.counting.formulas import Shape, first_shape, numel
from neurocomp.checks import check_int

__all__ = [
    "conv_backward_flop",
    "conv_flop",
    "conv_output_length",
    "conv_transpose_output_length",
    "convolution_backward_flop",
    "convolution_backward_flop_counter_mode",
    "convolution_flop",
]


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
