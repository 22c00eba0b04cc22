r"""Discrete convolution and cross-correlation, direct and by the convolution theorem.

Every function accepts numpy arrays or torch tensors and returns the same kind. numpy inputs
are computed in float64; torch inputs keep their (floating) dtype and device, so the same call
runs on CUDA and stays differentiable. Signals and kernels have the same number of dimensions
(1, 2 or 3; a 2-D image is ``(rows, cols)``).

Definitions (for 1-D; the n-D case applies them per axis). With a signal :math:`x` of length
:math:`N` and a kernel :math:`k` of length :math:`K`,

.. math::

    (x \ast k)[n] = \sum_{m} x[n - m]\, k[m], \qquad
    (x \star k)[n] = \sum_{m} x[n + m]\, k[m] = (x \ast \tilde k)[n],\quad
    \tilde k[m] = k[K-1-m].

``mode`` selects which outputs are returned, with scipy's conventions: ``"full"`` every
:math:`n` where the two overlap (:math:`N+K-1` values), ``"valid"`` only where the kernel
lies entirely inside the signal (:math:`N-K+1` values; the kernel must not be larger than the
signal), and ``"same"`` the :math:`N` central values of ``"full"`` (starting at index
:math:`\lfloor (K-1)/2 \rfloor`). ``normalize=True`` divides by the number :math:`m` of kernel
entries, the patch averaging of Dettmers (2015), "Understanding Convolution in Deep Learning".

The convolution theorem states :math:`x \ast k = \mathcal{F}^{-1}(\mathcal{F}x \cdot
\mathcal{F}k)`. With the discrete Fourier transform it holds for *circular* convolution of
length :math:`L`; zero-padding both operands to :math:`L \ge N + K - 1` makes circular and
linear convolution coincide (``method="fft"``). Without padding the result wraps around
(:func:`circular_convolve`). The constant :math:`\sqrt{2\pi}` in the post's continuous
formula belongs to the unitary continuous transform; with numpy's default DFT normalisation
the constant is 1, and with the unitary DFT (``norm="ortho"``) it is :math:`\sqrt{L}`
per transformed axis.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.fft

from neurocomp.accounting.counting import conv_output_length
from neurocomp.checks import check_choice, check_finite_array, check_int

if TYPE_CHECKING:
    import torch

__all__ = [
    "MODES",
    "circular_convolve",
    "conv_output_size",
    "convolve",
    "correlate",
    "feature_map_shape",
    "is_torch",
    "output_shape",
]

Mode = Literal["valid", "same", "full"]
Method = Literal["direct", "fft"]
MODES: tuple[str, ...] = ("valid", "same", "full")
_METHODS = ("direct", "fft")
_MAX_NDIM = 3


def is_torch(x: Any) -> bool:
    """True if ``x`` is a torch tensor (checked without importing torch)."""
    return type(x).__module__.split(".")[0] == "torch"


# -- shape arithmetic ------------------------------------------------------------------------

def output_shape(signal_shape: tuple[int, ...], kernel_shape: tuple[int, ...],
                 mode: Mode = "full") -> tuple[int, ...]:
    """Shape of ``convolve(signal, kernel, mode)`` for the given input shapes.

    Raises
    ------
    ValueError
        If the shapes have different lengths, an entry is < 1, or (``mode="valid"``) the
        kernel is larger than the signal along an axis.
    """
    check_choice("mode", mode, MODES)
    if len(signal_shape) != len(kernel_shape):
        raise ValueError(f"signal and kernel must have the same number of dimensions; "
                         f"got signal shape {tuple(signal_shape)} and kernel shape "
                         f"{tuple(kernel_shape)}")
    for what, shape in (("signal", signal_shape), ("kernel", kernel_shape)):
        if any(int(s) < 1 for s in shape):
            raise ValueError(f"{what} must have at least one entry per axis; "
                             f"got shape {tuple(shape)}")
    if mode == "full":
        return tuple(n + k - 1 for n, k in zip(signal_shape, kernel_shape, strict=True))
    if mode == "same":
        return tuple(signal_shape)
    for axis, (n, k) in enumerate(zip(signal_shape, kernel_shape, strict=True)):
        if k > n:
            raise ValueError(f"kernel is larger than signal along axis {axis} in 'valid' mode "
                             f"(kernel {k} > signal {n}); use mode='same' or 'full', or a "
                             f"kernel of at most {n} along that axis")
    return tuple(n - k + 1 for n, k in zip(signal_shape, kernel_shape, strict=True))


def conv_output_size(n: int, k: int, *, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    r"""Output length of a (deep-learning) convolution along one axis.

    .. math:: \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor + 1

    the formula of ``torch.nn.Conv1d/2d/3d``, computed by the accounting's
    :func:`~neurocomp.accounting.counting.conv_output_length` after this function's checks.

    Parameters
    ----------
    n : int
        Input length (pixels or samples), ≥ 1.
    k : int
        Kernel length, ≥ 1.
    stride, padding, dilation : int
        Stride ≥ 1, zero padding per side ≥ 0, dilation ≥ 1.

    Raises
    ------
    ValueError
        If the (dilated) kernel does not fit in the padded input.
    """
    n = check_int("n", n, low=1)
    k = check_int("k", k, low=1)
    stride = check_int("stride", stride, low=1)
    padding = check_int("padding", padding, low=0)
    dilation = check_int("dilation", dilation, low=1)
    span = dilation * (k - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(f"kernel (k={k}, dilation={dilation}, span {span}) is larger than the "
                         f"padded input (n={n} + 2×padding={padding} = {n + 2 * padding})")
    return conv_output_length(n, kernel=k, stride=stride, padding=padding, dilation=dilation)


def feature_map_shape(n_kernels: int, kernel_size: int | tuple[int, ...],
                      input_size: int | tuple[int, ...], *, stride: int = 1, padding: int = 0,
                      dilation: int = 1) -> tuple[int, ...]:
    """Shape ``(n_kernels, *spatial)`` of the feature maps of a bank of kernels.

    Dettmers (2015): a bank of 32 kernels of 16×16 on a 256×256 image gives 32 feature maps
    of 241×241 (``feature_map_shape(32, 16, 256) == (32, 241, 241)``). Integers stand for
    square kernels and inputs.
    """
    n_kernels = check_int("n_kernels", n_kernels, low=1)
    ks = (kernel_size,) * 2 if isinstance(kernel_size, int) else tuple(kernel_size)
    ns = (input_size,) * len(ks) if isinstance(input_size, int) else tuple(input_size)
    if len(ks) != len(ns):
        raise ValueError(f"kernel_size and input_size must have the same number of dimensions; "
                         f"got {ks} and {ns}")
    return (n_kernels, *(conv_output_size(n, k, stride=stride, padding=padding,
                                          dilation=dilation) for n, k in zip(ns, ks, strict=True)))


# -- argument preparation --------------------------------------------------------------------

def _check_pair(signal: Any, kernel: Any, mode: str, method: str) -> tuple[Any, Any]:
    """Validate the pair; return array-likes (lists, tuples) as numpy arrays."""
    check_choice("mode", mode, MODES)
    check_choice("method", method, _METHODS)
    if is_torch(signal) != is_torch(kernel):
        raise TypeError("signal and kernel must both be numpy arrays or both torch tensors; got "
                        f"{type(signal).__name__} and {type(kernel).__name__}")
    if not is_torch(signal):
        for name, x in (("signal", signal), ("kernel", kernel)):
            if isinstance(x, str | bytes):
                raise TypeError(f"{name} must be an array of numbers (numpy array, list or "
                                f"torch tensor); got the string {x!r}")
        signal, kernel = np.asarray(signal), np.asarray(kernel)
    if not 1 <= signal.ndim <= _MAX_NDIM:
        raise ValueError(f"signal must have 1 to {_MAX_NDIM} dimensions; got {signal.ndim}")
    output_shape(tuple(signal.shape), tuple(kernel.shape), mode)  # checks dims and sizes
    return signal, kernel


def _as_float_numpy(name: str, x: Any) -> np.ndarray:
    arr = np.asarray(x)
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real; got complex dtype {arr.dtype}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    return check_finite_array(name, arr.astype(np.float64, copy=False))


def _as_float_torch(name: str, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    import torch

    if x.is_complex():
        raise TypeError(f"{name} must be real; got complex dtype {x.dtype}")
    x = x.to(dtype)
    if not bool(torch.isfinite(x).all()):
        n_bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} must hold only finite values; found {n_bad} NaN/inf entries")
    return x


def _pads(signal_shape: tuple[int, ...], kernel_shape: tuple[int, ...],
          mode: str) -> list[tuple[int, int]]:
    """Zero padding (before, after) per axis that turns ``mode`` into a 'valid' correlation."""
    if mode == "valid":
        return [(0, 0)] * len(kernel_shape)
    if mode == "full":
        return [(k - 1, k - 1) for k in kernel_shape]
    return [(k - 1 - (k - 1) // 2, (k - 1) // 2) for k in kernel_shape]  # "same"


def _crop_full(y: Any, signal_shape: tuple[int, ...], kernel_shape: tuple[int, ...],
               mode: str) -> Any:
    """Cut the ``mode`` part out of a 'full' result."""
    if mode == "full":
        return y
    out = output_shape(signal_shape, kernel_shape, mode)
    starts = [(k - 1) // 2 if mode == "same" else k - 1 for k in kernel_shape]
    return y[tuple(slice(s, s + n) for s, n in zip(starts, out, strict=True))]


# -- numpy implementations -------------------------------------------------------------------

def _direct_numpy(x: np.ndarray, k: np.ndarray, mode: str) -> np.ndarray:
    """Shift-and-add: one scaled, shifted copy of the signal per kernel entry (O(N·K))."""
    xp = np.pad(x, _pads(x.shape, k.shape, mode))
    kf = np.flip(k)
    out_shape = tuple(p - q + 1 for p, q in zip(xp.shape, k.shape, strict=True))
    out = np.zeros(out_shape)
    for idx in itertools.product(*(range(s) for s in k.shape)):
        w = kf[idx]
        if w != 0.0:
            out += w * xp[tuple(slice(i, i + n) for i, n in zip(idx, out_shape, strict=True))]
    return out


def _fft_numpy(x: np.ndarray, k: np.ndarray, mode: str) -> np.ndarray:
    full = tuple(n + m - 1 for n, m in zip(x.shape, k.shape, strict=True))
    fast = [scipy.fft.next_fast_len(s, real=True) for s in full]
    axes = tuple(range(x.ndim))
    spec = scipy.fft.rfftn(x, fast, axes=axes) * scipy.fft.rfftn(k, fast, axes=axes)
    y = scipy.fft.irfftn(spec, fast, axes=axes)[tuple(slice(0, s) for s in full)]
    return _crop_full(y, x.shape, k.shape, mode)


# -- torch implementations -------------------------------------------------------------------

def _direct_torch(x: torch.Tensor, k: torch.Tensor, mode: str) -> torch.Tensor:
    import torch
    import torch.nn.functional as F

    conv = (F.conv1d, F.conv2d, F.conv3d)[x.ndim - 1]
    flat_pads = [p for before_after in reversed(_pads(tuple(x.shape), tuple(k.shape), mode))
                 for p in before_after]
    xp = F.pad(x, flat_pads)
    kf = torch.flip(k, dims=tuple(range(k.ndim)))
    return conv(xp[None, None], kf[None, None])[0, 0]


def _fft_torch(x: torch.Tensor, k: torch.Tensor, mode: str) -> torch.Tensor:
    import torch

    full = tuple(n + m - 1 for n, m in zip(x.shape, k.shape, strict=True))
    fast = [scipy.fft.next_fast_len(s, real=True) for s in full]
    dims = tuple(range(x.ndim))
    spec = torch.fft.rfftn(x, s=fast, dim=dims) * torch.fft.rfftn(k, s=fast, dim=dims)
    y = torch.fft.irfftn(spec, s=fast, dim=dims)[tuple(slice(0, s) for s in full)]
    return _crop_full(y, tuple(x.shape), tuple(k.shape), mode)


# -- public API ------------------------------------------------------------------------------

def convolve(signal: Any, kernel: Any, mode: Mode = "full", *, method: Method = "direct",
             normalize: bool = False) -> Any:
    """Linear convolution :math:`x \\ast k` of a signal or image with a kernel.

    Parameters
    ----------
    signal : numpy.ndarray or torch.Tensor
        1-, 2- or 3-D real signal (finite values only).
    kernel : numpy.ndarray or torch.Tensor
        Kernel of the same type and number of dimensions.
    mode : {"full", "same", "valid"}
        Which part of the result to return (see the module docstring).
    method : {"direct", "fft"}
        ``"direct"`` sums shifted copies (numpy) or calls ``torch.nn.functional.convNd``;
        ``"fft"`` multiplies zero-padded spectra (convolution theorem).
    normalize : bool
        Divide by the number of kernel entries (Dettmers' 1/m patch normalisation).

    Returns
    -------
    numpy.ndarray (float64) or torch.Tensor (input dtype, device)
        Shape :func:`output_shape` ``(signal.shape, kernel.shape, mode)``.

    Raises
    ------
    ValueError
        Mismatched dimensions, empty axes, NaN/inf values, an unknown mode or method, or a
        kernel larger than the signal in ``"valid"`` mode; each message names the argument.
    TypeError
        Mixed numpy/torch inputs or complex values.
    """
    signal, kernel = _check_pair(signal, kernel, mode, method)
    if is_torch(signal):
        import torch

        dtype = torch.promote_types(signal.dtype, kernel.dtype)
        if not dtype.is_floating_point:
            dtype = torch.get_default_dtype()
        x = _as_float_torch("signal", signal, dtype)
        k = _as_float_torch("kernel", kernel.to(x.device), dtype)
        y = (_direct_torch if method == "direct" else _fft_torch)(x, k, mode)
    else:
        x = _as_float_numpy("signal", signal)
        k = _as_float_numpy("kernel", kernel)
        y = (_direct_numpy if method == "direct" else _fft_numpy)(x, k, mode)
    if normalize:
        y = y / (k.numel() if is_torch(k) else k.size)
    return y


def correlate(signal: Any, kernel: Any, mode: Mode = "full", *, method: Method = "direct",
              normalize: bool = False) -> Any:
    """Cross-correlation :math:`x \\star k`: the kernel slides over the signal unflipped.

    Equal to ``convolve(signal, flip(kernel), ...)`` (real inputs), which is what
    ``torch.nn.Conv2d`` computes and what Dettmers' patch picture describes. Arguments,
    return value and errors as in :func:`convolve`.
    """
    if is_torch(kernel):
        import torch

        flipped = torch.flip(kernel, dims=tuple(range(kernel.ndim)))
    else:
        flipped = np.flip(np.asarray(kernel))
    return convolve(signal, flipped, mode, method=method, normalize=normalize)


def circular_convolve(signal: Any, kernel: Any) -> Any:
    """Circular (periodic) convolution of length ``signal.shape``: the DFT product unpadded.

    This is what the convolution theorem gives when the zero padding is left out; it equals
    linear convolution only away from the first ``K-1`` samples of each axis, where the tail
    of the result wraps around. The kernel must not be larger than the signal.
    """
    signal, kernel = _check_pair(signal, kernel, "valid", "fft")
    shape = tuple(signal.shape)
    if is_torch(signal):
        import torch

        x = _as_float_torch("signal", signal, torch.promote_types(signal.dtype, kernel.dtype))
        k = _as_float_torch("kernel", kernel.to(x.device), x.dtype)
        dims = tuple(range(x.ndim))
        return torch.fft.irfftn(torch.fft.rfftn(x, dim=dims) * torch.fft.rfftn(k, s=shape,
                                                                               dim=dims),
                                s=shape, dim=dims)
    x = _as_float_numpy("signal", signal)
    k = _as_float_numpy("kernel", kernel)
    axes = tuple(range(x.ndim))
    return scipy.fft.irfftn(scipy.fft.rfftn(x, axes=axes) * scipy.fft.rfftn(k, shape, axes=axes),
                            shape, axes=axes)
