"""The dendritic stage as pure tensor functions: convolution, amplifying pools, nonlinearities.

Re-exported by :mod:`neurocomp.layers.functional`, whose docstring maps each function to its
biophysical stage; the same conventions hold (time is the last axis, outputs follow the
input's device and floating dtype).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import scipy.fft
import torch
import torch.nn.functional as F

from neurocomp.checks import check_choice, check_real
from neurocomp.layers._checks import (
    Scalar,
    _cast,
    _check_floating_args,
    check_allocation,
    check_floating,
    check_min_rank,
    check_rank,
    check_size,
    int_tuple,
    same_padding,
)
from neurocomp.layers._dendritic_conv import fft_conv, toeplitz_conv

__all__ = [
    "CONV_ALGORITHMS",
    "FFT_MIN_TAPS",
    "SPATIAL_PADDINGS",
    "amplifying_pool",
    "bistable",
    "dendritic_conv",
    "dendritic_conv_bytes",
    "dendritic_spike_amplify",
    "sublinear",
    "supralinear",
]

SPATIAL_PADDINGS: tuple[str, ...] = ("same", "valid")
CONV_ALGORITHMS: tuple[str, ...] = ("auto", "direct", "toeplitz", "fft")
#: ``algorithm="auto"`` of :func:`dendritic_conv` takes the FFT from this many kernel taps
#: (k_b × k_d × k_t) on; fewer go through direct convolution.
FFT_MIN_TAPS = 1024
_POOLS = {1: (F.max_pool1d, F.avg_pool1d), 2: (F.max_pool2d, F.avg_pool2d),
          3: (F.max_pool3d, F.avg_pool3d)}


def dendritic_conv_bytes(x_shape: Sequence[int], weight_shape: Sequence[int], *,
                         algorithm: str, pads: tuple[int, int], itemsize: int) -> int:
    """Estimated peak bytes :func:`dendritic_conv` allocates with a resolved ``algorithm``.

    ``pads``: total zero padding along branch and dendrite. Counts the padded input, the
    output and the algorithm's own arrays — the Toeplitz matrices and their index
    (:mod:`~neurocomp.layers._dendritic_conv`), or the three spectra of the FFT.
    """
    batch, c_in, n_b, n_d, n_t = (int(s) for s in x_shape)
    c_out, _, k_b, k_d, k_t = (int(s) for s in weight_shape)
    p, d = n_b + pads[0], n_d + pads[1]
    t = n_t + k_t - 1
    p_out, d_out = p - k_b + 1, d - k_d + 1
    padded = batch * c_in * p * d * t * itemsize
    out = batch * c_out * p_out * d_out * n_t * itemsize
    if algorithm == "direct":
        return padded + out
    if algorithm == "toeplitz":
        d_in = n_d
        index = d_out * d_in * (8 + 1) + 16 * d_out * min(k_d, d_in)  # lags, mask, taps
        return (padded + 2 * out + index + c_out * d_out * d_in * itemsize
                + batch * p_out * n_t * d_in * itemsize)
    work = 8 if itemsize > 4 else 4  # half precision is computed in float32
    sizes = [scipy.fft.next_fast_len(n, real=(axis == 2)) for axis, n in enumerate((p, d, t))]
    half = sizes[0] * sizes[1] * (sizes[2] // 2 + 1)
    spectra = (batch * c_in + c_out * c_in + batch * c_out) * half * 2 * work
    return padded + spectra + batch * c_out * math.prod(sizes) * work + out


def dendritic_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, *,
                   spatial_padding: str = "same", algorithm: str = "auto",
                   max_bytes: float | None = None) -> torch.Tensor:
    r"""Spatio-temporal convolution over (branch, dendrite, time), causal in time.

    .. math:: y[o, p, d, t] = b_o + \sum_{c,i,j,k} w[o, c, i, j, k]\,
              x[c,\ p + i - p_b,\ d + j - p_d,\ t + k - (K_t - 1)]

    with zeros outside the input: ``conv3d``'s cross-correlation, zero padding
    :math:`(p_b, p_d)` along branch and dendrite (``"same"``: torch's split, output as large
    as the input; ``"valid"``: none) and :math:`K_t - 1` zeros before the first time step.

    Parameters
    ----------
    x : torch.Tensor
        ``(batch, C_in, branch, dendrite, time)``.
    weight : torch.Tensor
        ``(C_out, C_in, K_branch, K_dendrite, K_time)`` — the post's 3×4×5 (granule) or
        10×1000×5 (Purkinje) filter.
    bias : torch.Tensor or None
        ``(C_out,)``.
    spatial_padding : {"same", "valid"}
        ``"valid"`` needs the kernel to fit in the input along branch and dendrite.
    algorithm : {"auto", "direct", "toeplitz", "fft"}
        How the same sums are computed (:mod:`neurocomp.layers._dendritic_conv`):
        ``"direct"``: ``conv3d``; ``"toeplitz"``: GEMMs with the banded matrix of the
        dendrite axis (the direct sum's multiply-adds at GEMM speed, counted by
        ``FlopCounterMode``); ``"fft"``: the convolution theorem. ``"auto"`` takes ``"fft"``
        for kernels of ≥ 1024 taps (the Purkinje filter has 50,000) and ``"direct"`` below.
    max_bytes : float or None
        Refuse a call whose estimated memory (:func:`dendritic_conv_bytes`) exceeds this,
        bytes (``None``: 8 GiB), before anything is allocated.

    Returns
    -------
    torch.Tensor
        ``(batch, C_out, branch_out, dendrite_out, time)``.
    """
    check_rank("x", x, 5, "(batch, channel, branch, dendrite, time)")
    check_rank("weight", weight, 5, "(out_channel, in_channel, branch, dendrite, time)")
    _check_floating_args(x=x, weight=weight, bias=bias)
    check_size("x", x, 1, weight.shape[1], "channels (weight.shape[1])")
    check_choice("spatial_padding", spatial_padding, SPATIAL_PADDINGS)
    check_choice("algorithm", algorithm, CONV_ALGORITHMS)
    k_b, k_d, k_t = weight.shape[2:]
    n_b, n_d = x.shape[2], x.shape[3]
    if spatial_padding == "valid":
        for axis, k, n in (("branch", k_b, n_b), ("dendrite", k_d, n_d)):
            if k > n:
                raise ValueError(f"weight is longer than x along the {axis} axis ({k} > {n}); "
                                 f"with spatial_padding='valid' the kernel must fit in the "
                                 f"input (use spatial_padding='same' or a kernel of ≤ {n})")
        pad_b, pad_d = (0, 0), (0, 0)
    else:
        pad_b, pad_d = same_padding(k_b), same_padding(k_d)
    d_out = n_d + sum(pad_d) - k_d + 1
    if algorithm == "auto":
        algorithm = "fft" if k_b * k_d * k_t >= FFT_MIN_TAPS else "direct"
    need = dendritic_conv_bytes(x.shape, weight.shape, algorithm=algorithm,
                                pads=(sum(pad_b), sum(pad_d)), itemsize=x.element_size())
    check_allocation("dendritic_conv", need, max_bytes=max_bytes,
                     what=f"memory (algorithm={algorithm!r})",
                     sizes=f"x of shape {tuple(x.shape)} and weight of shape "
                           f"{tuple(weight.shape)}")
    if algorithm in ("direct", "fft"):
        xp = F.pad(x, (k_t - 1, 0, *pad_d, *pad_b))
        if algorithm == "direct":
            return F.conv3d(xp, weight.to(x.dtype), _cast(bias, x))
        y = fft_conv(xp, weight)
        return y if bias is None else y + _cast(bias, x).view(1, -1, 1, 1, 1)
    xp = F.pad(x.transpose(3, 4), (0, 0, k_t - 1, 0, *pad_b))  # (B, C, P, T, D)
    y = toeplitz_conv(xp, weight.to(x.dtype), pad_lo=pad_d[0], d_out=d_out)
    y = y.permute(0, 3, 1, 4, 2)  # (B, C_out, P, D, T)
    return y if bias is None else y + _cast(bias, x).view(1, -1, 1, 1, 1)


def _pool_args(x: torch.Tensor, kernel_size: int | Sequence[int],
               amplification: Scalar) -> tuple[tuple[int, ...], int]:
    ks = (kernel_size,) if isinstance(kernel_size, int) else tuple(kernel_size)
    if not 1 <= len(ks) <= 3:
        raise ValueError(f"kernel_size must have 1 to 3 entries (one per pooled axis); got "
                         f"{kernel_size!r}")
    ks = int_tuple("kernel_size", ks, len(ks))
    check_floating("x", x)
    if x.ndim < len(ks):
        raise ValueError(f"x must have at least {len(ks)} dimension(s) to pool over "
                         f"{len(ks)} trailing axes; got shape {tuple(x.shape)}")
    if not isinstance(amplification, torch.Tensor):
        check_real("amplification", amplification, low=0.0, high=1.0)
    return ks, len(ks)


def _gate(amplification: Scalar, window_max: torch.Tensor,
          threshold: float | None) -> Scalar | torch.Tensor:
    """Pull fraction per window: α, or α only where the window reaches the spike threshold."""
    if threshold is None:
        return amplification
    return amplification * (window_max >= threshold).to(window_max.dtype)


def _pull(low: torch.Tensor, high: torch.Tensor, g: Scalar | torch.Tensor) -> torch.Tensor:
    """``low + g (high - low)`` for ``low <= high`` and g in [0, 1], in floating point too.

    Computed from the nearer end (``low + g·gap`` for g ≤ ½, ``high - (1-g)·gap`` above), the
    rounded result stays in [low, high] — the scaled gap is below the full gap even after two
    roundings — and equals ``low`` at g = 0 and ``high`` at g = 1 exactly.
    """
    gap = high - low
    if not isinstance(g, torch.Tensor):
        return low + g * gap if g <= 0.5 else high - (1.0 - g) * gap
    return torch.where(g <= 0.5, low + g * gap, high - (1.0 - g) * gap)


def dendritic_spike_amplify(x: torch.Tensor, *, kernel_size: int | Sequence[int],
                            amplification: Scalar, threshold: float | None = None
                            ) -> torch.Tensor:
    r"""Pull every value toward the maximum of its tile: neighbours amplified, not overwritten.

    The trailing ``len(kernel_size)`` axes are cut into tiles of ``kernel_size`` (the last
    tile may be partial). With tile maximum :math:`m`,

    .. math:: y_j = x_j + \alpha\,(m - x_j), \qquad 0 \le \alpha \le 1,

    so each value moves a fraction :math:`\alpha` of the way to the spike's level. The
    maximum itself is unchanged and no value passes it (:math:`x_j \le y_j \le m`): the map
    *preserves the maximum*. :math:`\alpha = 0` is the identity; :math:`\alpha = 1` overwrites
    each tile with its maximum — max-pooling, repeated over the tile. With ``threshold`` only
    tiles whose maximum reaches it (a dendritic spike fired) are amplified.

    Returns
    -------
    torch.Tensor
        Same shape as ``x``.
    """
    ks, n = _pool_args(x, kernel_size, amplification)
    spatial = x.shape[-n:]
    if all(s % k == 0 for s, k in zip(spatial, ks, strict=True)):
        # whole tiles: split each pooled axis into (tile, within-tile) and broadcast the max
        lead = x.ndim - n
        tiled = x.reshape(*x.shape[:lead],
                          *(d for s, k in zip(spatial, ks, strict=True) for d in (s // k, k)))
        window_max = tiled.amax(dim=tuple(range(lead + 1, lead + 2 * n, 2)), keepdim=True)
        y = _pull(tiled, window_max, _gate(amplification, window_max, threshold))
        return y.reshape(x.shape)
    flat = x.reshape(-1, 1, *spatial)  # a partial last tile: pool with ceil mode, upsample
    window_max = _POOLS[n][0](flat, ks, stride=ks, ceil_mode=True)
    for axis, k in enumerate(ks):
        if k > 1:
            window_max = window_max.repeat_interleave(k, dim=2 + axis)
    window_max = window_max[(..., *(slice(0, s) for s in spatial))]
    return _pull(flat, window_max, _gate(amplification, window_max, threshold)).reshape(x.shape)


def amplifying_pool(x: torch.Tensor, *, kernel_size: int | Sequence[int],
                    stride: int | Sequence[int] | None = None, amplification: Scalar,
                    threshold: float | None = None) -> torch.Tensor:
    r"""Dendritic-spike pooling: each window's values pulled toward its max, then averaged.

    .. math:: y_w = \frac{1}{|w|}\sum_{j\in w}\bigl(x_j + \alpha(m_w - x_j)\bigr)
              = (1-\alpha)\,\overline{x}_w + \alpha\, m_w

    — the charge a stretch of dendrite passes on once the spike has amplified its
    neighbours. :math:`\alpha = 1` is max-pooling (the post's convnet analogue, where the
    neighbours are overwritten), :math:`\alpha = 0` average pooling. Windows as in
    ``max_pool{1,2,3}d`` over the trailing ``len(kernel_size)`` axes (no padding, floor).
    ``threshold`` as in :func:`dendritic_spike_amplify`.

    Raises
    ------
    ValueError
        A kernel longer than the input along a pooled axis (no window fits).
    """
    ks, n = _pool_args(x, kernel_size, amplification)
    st = ks if stride is None else int_tuple("stride", stride, n)
    spatial = x.shape[-n:]
    for axis, (k, s) in enumerate(zip(ks, spatial, strict=True)):
        if k > s:
            raise ValueError(f"kernel_size[{axis}]={k} is longer than x along that axis "
                             f"(size {s}); at least one full window must fit")
    max_pool, avg_pool = _POOLS[n]
    flat = x.reshape(-1, 1, *spatial)
    window_max = max_pool(flat, ks, stride=st)
    window_mean = avg_pool(flat, ks, stride=st)
    y = _pull(window_mean, window_max, _gate(amplification, window_max, threshold))
    return y.reshape(*x.shape[:-n], *y.shape[2:])


def sublinear(x: torch.Tensor, *, saturation: float = 1.0) -> torch.Tensor:
    r"""Sub-linear dendritic summation :math:`s \tanh(x/s)`: slope 1 at 0, saturating at ±s.

    The combined response grows less than the summed input; :math:`s \to \infty` is linear.
    """
    saturation = check_real("saturation", saturation, low=0.0, low_inclusive=False)
    check_floating("x", x)
    if saturation == 1.0:
        return torch.tanh(x)
    return saturation * torch.tanh(x / saturation)


def supralinear(x: torch.Tensor, *, exponent: float = 2.0) -> torch.Tensor:
    r"""Supra-linear dendritic summation :math:`\max(0, x)^p`, :math:`p \ge 1` (p = 1: ReLU)."""
    exponent = check_real("exponent", exponent, low=1.0)
    check_floating("x", x)
    return torch.relu(x).pow(exponent)


def bistable(x: torch.Tensor, *, threshold: float = 0.5, width: float = 0.1,
             feedback: float = 1.0, high: float = 1.0) -> torch.Tensor:
    r"""Bistable dendrite: a sigmoid switch with self-excitation along time (last axis).

    .. math:: y_t = h\,\sigma\!\left(\frac{x_t + f\,y_{t-1} - \theta}{w}\right),\quad y_{-1}=0

    With feedback :math:`f\,h > 4w` the map has two stable states (a down state near 0 and
    an up state, a plateau, near :math:`h`) over a range of inputs, so the output depends on
    the history — hysteresis. ``feedback=0`` gives a memoryless all-or-none switch.

    Parameters
    ----------
    x : torch.Tensor
        ``(..., time)``.
    threshold : float
        Input at which the switch is half-on without feedback (:math:`\theta`).
    width : float
        Sharpness (:math:`w > 0`, same unit as ``x``).
    feedback : float
        Self-excitation :math:`f \ge 0` from the previous step's output.
    high : float
        Output of the up state (:math:`h > 0`, e.g. a rate in Hz).
    """
    check_real("threshold", threshold)
    width = check_real("width", width, low=0.0, low_inclusive=False)
    feedback = check_real("feedback", feedback, low=0.0)
    high = check_real("high", high, low=0.0, low_inclusive=False)
    check_floating("x", x)
    check_min_rank("x", x, 1, "(..., time)")
    if feedback == 0.0:
        return high * torch.sigmoid((x - threshold) / width)
    # one sigmoid per step; constants folded: y_t = h σ(x_t/w + (f/w) y_{t-1} - θ/w)
    scaled = (x - threshold) / width
    gain = feedback / width
    prev, out = torch.zeros_like(x[..., 0]), []
    for s_t in scaled.unbind(-1):
        prev = torch.sigmoid(torch.add(s_t, prev, alpha=gain))
        if high != 1.0:
            prev = high * prev
        out.append(prev)
    return torch.stack(out, dim=-1)
