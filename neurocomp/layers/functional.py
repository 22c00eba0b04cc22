r"""The neuron's pipeline as pure tensor functions (the math behind :mod:`neurocomp.layers`).

Every function takes tensors and plain numbers and returns a tensor on the input's device and
in its floating dtype; nothing here holds state, draws from a hidden generator or moves data
between devices. Time is always the **last** axis, sampled every ``dt_ms``; "causal" means
the output at step :math:`t` depends on inputs at steps :math:`\le t` only.

Stages, in the order of Dettmers (2015), "The Brain vs Deep Learning Part I" (see
``docs/references.md#seed-brain-vs-dl-1, #seed-brain-vs-dl-2``):

=====================================  ==============================================
biophysical stage                       function
=====================================  ==============================================
receptor kinetics at a synapse          :func:`difference_of_exponentials_kernel`,
                                        :func:`temporal_filter`
transmitter release × receptors         :func:`transmitter_dense`
passive spread in the dendritic tree    :func:`dendritic_conv`
dendritic spikes                        :func:`dendritic_spike_amplify`,
                                        :func:`amplifying_pool`
dendritic summation / rate              :func:`sublinear`, :func:`supralinear`,
                                        :func:`bistable` (and ReLU, identity)
soma as a temporal filter               :func:`temporal_filter` (1×1×5 kernel)
firing decision (LNP Poisson step)      :func:`poisson_firing`, :func:`poisson_delay_pmf`
=====================================  ==============================================

plus :func:`causal_conv1d`, the building block of the temporal convolutional nets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import scipy.fft
import torch
import torch.nn.functional as F

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.layers._checks import (
    Scalar,
    _cast,
    _check_floating_args,
    bytes_per_value,
    check_allocation,
    check_floating,
    check_min_rank,
    check_rank,
    check_size,
)
from neurocomp.layers._functional_dendrite import (
    CONV_ALGORITHMS,
    FFT_MIN_TAPS,
    SPATIAL_PADDINGS,
    amplifying_pool,
    bistable,
    dendritic_conv,
    dendritic_conv_bytes,
    dendritic_spike_amplify,
    sublinear,
    supralinear,
)

__all__ = [
    "CONV_ALGORITHMS",
    "FFT_MIN_TAPS",
    "KERNEL_NORMALIZATIONS",
    "SPATIAL_PADDINGS",
    "TOEPLITZ_MAX_STEPS",
    "amplifying_pool",
    "bistable",
    "causal_conv1d",
    "dendritic_conv",
    "dendritic_conv_bytes",
    "dendritic_spike_amplify",
    "difference_of_exponentials_kernel",
    "kernel_build_bytes",
    "poisson_delay_pmf",
    "poisson_firing",
    "sample_poisson_delays",
    "sublinear",
    "supralinear",
    "temporal_filter",
    "transmitter_dense",
]

KERNEL_NORMALIZATIONS: tuple[str, ...] = ("area", "peak")
#: Longest signal (time steps) :func:`temporal_filter` filters by a Toeplitz GEMM under
#: ``algorithm="auto"``; a longer one goes through the FFT.
TOEPLITZ_MAX_STEPS = 512
#: Largest Toeplitz matrix (entries, all channels) :func:`temporal_filter` builds; a longer
#: per-channel kernel set goes through the FFT (64 Mi entries: 256 MiB in float32).
_TOEPLITZ_MAX_ENTRIES = 2**26
#: Arrays of the kernel's length alive while it is built (grid, two exponentials, sum).
_KERNEL_TEMPORARIES = 6


# -- synapse ---------------------------------------------------------------------------------

def _check_float_dtype(name: str, dtype: torch.dtype | None) -> None:
    """``dtype`` is ``None`` (torch's default) or a floating dtype; an integer one would round
    every probability or tap to 0 or 1."""
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"{name} must be None or a floating-point torch.dtype (float16, "
                        f"bfloat16, float32 or float64); got {dtype!r}")



def _as_tensor(value: Scalar, dtype: torch.dtype | None,
               device: torch.device | str | None) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.tensor(float(value), dtype=dtype or torch.get_default_dtype(), device=device)


def difference_of_exponentials_kernel(
    tau_rise_ms: Scalar, tau_decay_ms: Scalar, *, dt_ms: float, n_taps: int,
    normalization: str = "area", dtype: torch.dtype | None = None,
    device: torch.device | str | None = None, max_bytes: float | None = None,
) -> torch.Tensor:
    r"""Synaptic kernel :math:`g(t) \propto e^{-t/\tau_d} - e^{-t/\tau_r}` on a time grid.

    Parameters
    ----------
    tau_rise_ms, tau_decay_ms : float or 0-D tensor
        Rise and decay time constants, ms; :math:`0 < \tau_r < \tau_d`. Tensors (learnable
        time constants) keep the autograd graph and set dtype and device.
    dt_ms : float
        Time step, ms (> 0).
    n_taps : int
        Kernel length in steps (≥ 1); tap :math:`n` covers :math:`[n\,dt, (n+1)\,dt)`.
    normalization : {"area", "peak"}
        ``"area"``: tap :math:`n` is the fraction of the response's total area that falls in
        its step, :math:`\int_{n dt}^{(n+1) dt} g / \int_0^\infty g`, so the taps sum to 1
        minus the truncated tail — right for coarse steps such as the post's 33 ms frames.
        ``"peak"``: :math:`g` sampled at :math:`t = n\,dt` and scaled to a peak of 1, as
        NEURON's ``Exp2Syn`` (peak time :math:`t_p = \frac{\tau_r\tau_d}{\tau_d-\tau_r}
        \ln\frac{\tau_d}{\tau_r}`).
    dtype, device
        Used when both time constants are floats.
    max_bytes : float or None
        Refuse a kernel whose construction needs more than this, bytes (``None``: 8 GiB;
        :func:`kernel_build_bytes`).

    Returns
    -------
    torch.Tensor
        Shape ``(n_taps,)``; tap 0 weights the current step (see :func:`temporal_filter`).

    Raises
    ------
    ValueError
        Non-positive time constants or step, ``tau_rise_ms >= tau_decay_ms``, ``n_taps < 1``,
        a kernel beyond ``max_bytes``.
    """
    dt_ms = check_real("dt_ms", dt_ms, low=0.0, low_inclusive=False, unit="ms")
    n_taps = check_int("n_taps", n_taps, low=1)
    check_choice("normalization", normalization, KERNEL_NORMALIZATIONS)
    _check_float_dtype("dtype", dtype)
    check_allocation("difference_of_exponentials_kernel", kernel_build_bytes(n_taps, dtype),
                     sizes=f"n_taps={n_taps}", max_bytes=max_bytes,
                     what="memory to build the kernel")
    for name, tau in (("tau_rise_ms", tau_rise_ms), ("tau_decay_ms", tau_decay_ms)):
        if not isinstance(tau, torch.Tensor):
            check_real(name, tau, low=0.0, low_inclusive=False, unit="ms")
        elif tau.numel() != 1:
            raise ValueError(f"{name} must be a scalar (0-D) tensor; got shape {tuple(tau.shape)}")
        elif not tau.dtype.is_floating_point:
            raise TypeError(f"{name} must have a floating-point dtype (it sets the kernel's); "
                            f"got {tau.dtype}")
        elif not bool(tau.detach() > 0):
            raise ValueError(f"{name} must be in (0, inf) ms; got {float(tau.detach()):g} ms")
    tau_r_f, tau_d_f = (float(t.detach()) if isinstance(t, torch.Tensor) else float(t)
                        for t in (tau_rise_ms, tau_decay_ms))
    if not tau_r_f < tau_d_f:
        raise ValueError(f"tau_rise_ms must be smaller than tau_decay_ms; got tau_rise_ms="
                         f"{tau_r_f:g} ms and tau_decay_ms={tau_d_f:g} ms")
    ref = next((t for t in (tau_rise_ms, tau_decay_ms) if isinstance(t, torch.Tensor)), None)
    if ref is not None:
        dtype, device = ref.dtype, ref.device
    tau_r = _as_tensor(tau_rise_ms, dtype, device).reshape(())
    tau_d = _as_tensor(tau_decay_ms, dtype, device).reshape(())
    return _doe_kernel(tau_r, tau_d, dt_ms, n_taps, normalization)


def kernel_build_bytes(n_taps: int, dtype: torch.dtype | None = None) -> int:
    """Bytes alive while a kernel of ``n_taps`` taps is built (a few arrays of its length)."""
    return _KERNEL_TEMPORARIES * (n_taps + 1) * bytes_per_value(dtype)


def _doe_kernel(tau_r: torch.Tensor, tau_d: torch.Tensor, dt_ms: float, n_taps: int,
                normalization: str) -> torch.Tensor:
    """Unchecked kernel builder (the modules call this with guaranteed-valid tensors)."""
    t = torch.arange(n_taps + 1, dtype=tau_r.dtype, device=tau_r.device) * dt_ms
    if normalization == "area":
        # Antiderivative of g: G(t) = tau_r e^{-t/tau_r} - tau_d e^{-t/tau_d}; area = tau_d - tau_r
        big_g = tau_r * torch.exp(-t / tau_r) - tau_d * torch.exp(-t / tau_d)
        return (big_g[1:] - big_g[:-1]) / (tau_d - tau_r)
    t_peak = tau_r * tau_d / (tau_d - tau_r) * torch.log(tau_d / tau_r)
    peak = torch.exp(-t_peak / tau_d) - torch.exp(-t_peak / tau_r)
    return (torch.exp(-t[:-1] / tau_d) - torch.exp(-t[:-1] / tau_r)) / peak


def temporal_filter(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    r"""Causal temporal filtering :math:`y[\dots, t] = \sum_{n=0}^{K-1} k[n]\, x[\dots, t-n]`.

    Inputs before the first step count as zero. A kernel longer than the sequence is allowed
    (its late taps meet only zeros).

    Parameters
    ----------
    x : torch.Tensor
        ``(..., time)``, ≥ 1-D, floating.
    kernel : torch.Tensor
        ``(K,)`` — one kernel shared by every channel (the post's soma filter, "the same for
        every neuron") — or ``(C, K)`` with ``C = x.shape[-2]``, one kernel per channel.

    Returns
    -------
    torch.Tensor
        Same shape as ``x``.

    Notes
    -----
    Up to 512 steps the filter is one matrix product with the kernel's lower-triangular
    Toeplitz matrix :math:`M_{ts} = k[t-s]` (a GEMM over all rows at once); longer sequences,
    and per-channel kernels whose matrices would exceed 2^26 entries in all, go through the
    FFT. Both are exact rewrites of the sum. For the 16-tap synaptic kernel
    over 400 steps and the 5-tap soma filter over 5 steps, the GEMM form ran 3–7× faster
    than a single-channel ``conv1d`` and 2–3× faster than the FFT on this CPU
    (``benchmarks/results/layers_throughput.json``).
    """
    check_rank("kernel", kernel, (1, 2), "(taps,) or (channel, taps)")
    check_floating("x", x)
    check_floating("kernel", kernel)
    if x.ndim < kernel.ndim:
        raise ValueError(f"x must have at least {kernel.ndim} dimension(s) for a kernel of shape "
                         f"{tuple(kernel.shape)}; got shape {tuple(x.shape)}")
    if kernel.ndim == 2:
        check_size("x", x, -2, kernel.shape[0], "channels (one per kernel row)")
    steps = x.shape[-1]
    k = kernel.to(x.dtype)[..., :steps]  # taps beyond the sequence only ever meet zeros
    rows = k.shape[0] if k.ndim == 2 else 1
    if steps <= TOEPLITZ_MAX_STEPS and rows * steps * steps <= _TOEPLITZ_MAX_ENTRIES:
        lag = (torch.arange(steps, device=x.device)[:, None]
               - torch.arange(steps, device=x.device)[None, :])  # t - s
        taps = k[..., lag.clamp(0, k.shape[-1] - 1)]
        matrix_t = torch.where((lag >= 0) & (lag < k.shape[-1]), taps, 0.0).transpose(-1, -2)
        if k.ndim == 1:
            return x @ matrix_t
        rows = x.reshape(-1, k.shape[0], steps).transpose(0, 1)  # (C, rows, T)
        return torch.bmm(rows, matrix_t).transpose(0, 1).reshape(x.shape)
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    size = scipy.fft.next_fast_len(steps + k.shape[-1] - 1, real=True)
    spec = torch.fft.rfft(x.to(work), n=size) * torch.fft.rfft(k.to(work), n=size)
    return torch.fft.irfft(spec, n=size)[..., :steps].to(x.dtype)


def causal_conv1d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, *,
                  dilation: int = 1) -> torch.Tensor:
    r"""Causal (dilated) 1-D convolution, the layer of a temporal convolutional net.

    :math:`y[o, t] = b[o] + \sum_{c,k} w[o, c, k]\, x[c, t - (K-1-k)\,d]`: ``conv1d``'s
    cross-correlation with :math:`(K-1)\,d` zeros in front, so the output has the input's
    length and step :math:`t` sees steps :math:`t-(K-1)d, \dots, t`.

    Parameters
    ----------
    x : torch.Tensor
        ``(batch, C_in, time)``.
    weight : torch.Tensor
        ``(C_out, C_in, K)``.
    bias : torch.Tensor or None
        ``(C_out,)``.
    dilation : int
        Spacing of the taps in steps (≥ 1).
    """
    check_rank("x", x, 3, "(batch, channel, time)")
    check_rank("weight", weight, 3, "(out_channel, in_channel, taps)")
    _check_floating_args(x=x, weight=weight, bias=bias)
    check_size("x", x, 1, weight.shape[1], "channels (weight.shape[1])")
    if x.shape[-1] < 1:
        raise ValueError(f"x must have at least one time step (the last axis); got shape "
                         f"{tuple(x.shape)}")
    dilation = check_int("dilation", dilation, low=1)
    pad = (weight.shape[-1] - 1) * dilation
    return F.conv1d(F.pad(x, (pad, 0)), weight.to(x.dtype), _cast(bias, x), dilation=dilation)


def transmitter_dense(x: torch.Tensor, release: torch.Tensor, receptors: torch.Tensor,
                      bias: torch.Tensor | None = None, *, dim: int = -2) -> torch.Tensor:
    r"""Dense layer whose weight is release amount × receptor count.

    .. math:: y_o = b_o + \sum_i (r_i\, R_{oi})\, x_i

    the post's dot product of the transmitter released by every input (:math:`r_i`, per
    presynaptic terminal) with the matching receptors at every synapse (:math:`R_{oi}`).

    Parameters
    ----------
    x : torch.Tensor
        Input with ``in_features`` entries along ``dim`` (default: ``(..., feature, time)``).
    release : torch.Tensor
        ``(in_features,)``, transmitter released per unit of presynaptic activity.
    receptors : torch.Tensor
        ``(out_features, in_features)``, receptors reached at each synapse (negative entries
        stand for inhibitory receptors).
    bias : torch.Tensor or None
        ``(out_features,)``.
    dim : int
        Axis of ``x`` that holds the features.
    """
    check_rank("release", release, 1, "(in_features,)")
    check_rank("receptors", receptors, 2, "(out_features, in_features)")
    _check_floating_args(x=x, release=release, receptors=receptors, bias=bias)
    check_size("receptors", receptors, 1, release.shape[0], "columns (release.shape[0])")
    if not -x.ndim <= dim < x.ndim:
        raise ValueError(f"dim must be in [{-x.ndim}, {x.ndim - 1}] for x of shape "
                         f"{tuple(x.shape)}; got {dim}")
    check_size("x", x, dim, release.shape[0], "features (release.shape[0])")
    weight = (receptors * release.unsqueeze(0)).to(x.dtype)
    return F.linear(x.movedim(dim, -1), weight, _cast(bias, x)).movedim(-1, dim)


# -- firing ----------------------------------------------------------------------------------

def poisson_delay_pmf(lam: float, n_taps: int, *, dtype: torch.dtype | None = None,
                      device: torch.device | str | None = None,
                      max_bytes: float | None = None) -> torch.Tensor:
    r"""Probabilities :math:`P(d) = e^{-\lambda}\lambda^d/d!` of waiting :math:`d` cycles.

    ``(n_taps,)`` for :math:`d = 0, \dots, n_{taps}-1`; :math:`\lambda \ge 0` (the post's
    example is :math:`\lambda = 0.5`: fire at once with :math:`P = e^{-0.5} \approx 0.61`).
    ``max_bytes`` bounds the memory of the build (``None``: 8 GiB).
    """
    lam = check_real("lam", lam, low=0.0)
    n_taps = check_int("n_taps", n_taps, low=1)
    _check_float_dtype("dtype", dtype)
    check_allocation("poisson_delay_pmf", kernel_build_bytes(n_taps, dtype),
                     sizes=f"n_taps={n_taps}", max_bytes=max_bytes,
                     what="memory to build the probabilities")
    d = torch.arange(n_taps, dtype=dtype or torch.get_default_dtype(), device=device)
    return torch.exp(torch.xlogy(d, torch.tensor(lam, dtype=d.dtype, device=device))
                     - lam - torch.lgamma(d + 1))


def sample_poisson_delays(shape: Sequence[int], lam: float, *,
                          generator: torch.Generator | None = None,
                          device: torch.device | str | None = None,
                          max_bytes: float | None = None) -> torch.Tensor:
    """Integer delays (cycles) drawn from Poisson(``lam``), shape ``shape``, dtype int64.

    ``generator`` must live on ``device`` (a CUDA generator for CUDA tensors). ``max_bytes``
    bounds the memory (float32 rates and int64 delays; ``None``: 8 GiB).
    """
    lam = check_real("lam", lam, low=0.0)
    dims = tuple(check_int(f"shape[{i}]", s, low=0) for i, s in enumerate(shape))
    check_allocation("sample_poisson_delays", math.prod(dims) * (4 + 8),
                     sizes=f"shape={dims}", max_bytes=max_bytes)
    # the rates only feed the sampler (float32 is enough for λ); the delays are integers
    rates = torch.full(tuple(shape), lam, dtype=torch.float32, device=device)
    return torch.poisson(rates, generator=generator).long()


def poisson_firing(x: torch.Tensor, lam: float, *, training: bool,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    r"""The LNP firing step as "dropout": each step's output is delayed by Poisson cycles.

    Training: every entry :math:`x[\dots, t]` (a spike or a rate) is moved to step
    :math:`t + d` with an independent :math:`d \sim \mathrm{Poisson}(\lambda)` — the neuron
    reaches threshold but skips :math:`d` cycles before it fires — and what would land after
    the last step is lost (dropped). Evaluation: the deterministic expectation of that,

    .. math:: \mathbb{E}\,y[t] = \sum_{d=0}^{t} P(d)\, x[t-d],

    a causal filter with the Poisson probabilities as kernel. The output is causal in both
    modes.

    Parameters
    ----------
    x : torch.Tensor
        ``(..., time)``, floating.
    lam : float
        Mean delay in cycles, :math:`\lambda \ge 0` (0: fire at once, identity).
    training : bool
        Sample (True) or take the expectation (False).
    generator : torch.Generator or None
        Source of the delays in training (on ``x``'s device); ``None`` uses torch's global
        generator.
    """
    lam = check_real("lam", lam, low=0.0)
    check_floating("x", x)
    check_min_rank("x", x, 1, "(..., time)")
    steps = x.shape[-1]
    if not training:
        return temporal_filter(x, poisson_delay_pmf(lam, steps, dtype=x.dtype, device=x.device))
    if lam == 0.0:
        return x
    delays = sample_poisson_delays(x.shape, lam, generator=generator, device=x.device)
    target = torch.arange(steps, device=x.device) + delays
    kept = target < steps
    return torch.zeros_like(x).scatter_add(-1, target.clamp(max=steps - 1),
                                           x * kept.to(x.dtype))
