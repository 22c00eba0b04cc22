r"""Diffusion as repeated convolution, and the passive cable as a decaying diffusion.

The diffusion equation :math:`\partial_t c = D\,\nabla^2 c` integrated with the explicit
Euler method on a grid of spacing :math:`\Delta x` is *exactly* a convolution per time step:
with :math:`r = D\,\Delta t / \Delta x^2`, one step convolves :math:`c` with the stencil
:math:`\delta + r\,L`, where :math:`L` is the discrete Laplacian ([1, −2, 1] per axis). When
:math:`r \le 1/(2d)` in :math:`d` dimensions the stencil is non-negative and sums to one — a
*propagator* in Dettmers' (2015) sense — and its :math:`n`-fold convolution has variance
exactly :math:`2 D n \Delta t` per axis, the variance of the continuous heat kernel
:math:`G_t = \mathcal{N}(0, 2Dt)`. So diffusion for a time :math:`t` is one convolution with a
Gaussian of standard deviation :math:`\sqrt{2Dt}`.

The link used by the biophysics and mapping layers of this library: the passive cable
equation

.. math:: \tau_m \partial_t V = \lambda^2 \partial_x^2 V - V

is diffusion with :math:`D = \lambda^2/\tau_m` plus a uniform decay at rate :math:`1/\tau_m`,
so its Green's function is a Gaussian that spreads and fades,

.. math:: G(x, t) = \frac{e^{-t/\tau_m}}{\sqrt{4\pi D t}} \exp\!\left(-\frac{x^2}{4Dt}\right),

and the voltage on an infinite passive cable is a convolution of its initial state with
:math:`G` (:func:`cable_greens_function`).

Units: :func:`euler_diffusion`, :func:`gaussian_diffusion` and :func:`euler_step_kernel` take
any consistent units (for example D in µm²/ms, dx in µm, dt and t in ms); the cable functions
carry their units in their argument names.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from neurocomp.checks import (
    check_bytes,
    check_choice,
    check_finite_array,
    check_int,
    check_ops,
    check_real,
)
from neurocomp.mapping.convolution import convolve

__all__ = [
    "BOUNDARIES",
    "cable_greens_function",
    "diffuse",
    "euler_diffusion",
    "euler_step_kernel",
    "gaussian_diffusion",
    "gaussian_kernel",
    "kernel_variance",
    "laplacian_stencil",
]

Boundary = Literal["reflect", "periodic", "zero"]
#: ``reflect``: no flux through the border (mass conserved); ``periodic``: the grid wraps;
#: ``zero``: the border is held at 0 (an absorbing boundary, mass leaks out).
BOUNDARIES: tuple[str, ...] = ("reflect", "periodic", "zero")
_PAD_MODE = {"reflect": "symmetric", "periodic": "wrap", "zero": "constant"}


def _field(name: str, field: np.ndarray) -> np.ndarray:
    arr = np.asarray(field, dtype=np.float64)
    if not 1 <= arr.ndim <= 3:
        raise ValueError(f"{name} must have 1 to 3 dimensions; got shape {arr.shape}")
    return check_finite_array(name, arr)


def laplacian_stencil(ndim: int) -> np.ndarray:
    """The unscaled discrete Laplacian: [1, −2, 1] in 1-D, the 5-point stencil in 2-D, 7 in 3-D."""
    ndim = check_int("ndim", ndim, low=1, high=3)
    lap = np.zeros((3,) * ndim)
    centre = (1,) * ndim
    for axis in range(ndim):
        for side in (0, 2):
            idx = list(centre)
            idx[axis] = side
            lap[tuple(idx)] = 1.0
    lap[centre] = -2.0 * ndim
    return lap


def euler_step_kernel(*, D: float, dx: float, dt: float, ndim: int,
                      decay_rate: float = 0.0) -> np.ndarray:
    r"""Kernel of one explicit Euler step of :math:`\partial_t c = D\nabla^2 c - k c`.

    Equal to :math:`(1 - k\Delta t)\,\delta + r L` with :math:`r = D\Delta t/\Delta x^2`.

    Raises
    ------
    ValueError
        Negative ``D`` or ``decay_rate``, non-positive ``dx``/``dt``, or a ``dt`` beyond the
        stability limit :math:`\Delta t \le \Delta x^2 / (2 d D + k \Delta x^2)` (where a
        stencil entry would turn negative and the scheme would oscillate).
    """
    D = check_real("D", D, low=0.0)
    dx = check_real("dx", dx, low=0.0, low_inclusive=False)
    decay_rate = check_real("decay_rate", decay_rate, low=0.0)
    ndim = check_int("ndim", ndim, low=1, high=3)
    limit = dx * dx / (2 * ndim * D + decay_rate * dx * dx) if (D or decay_rate) else np.inf
    dt = check_real("dt", dt, low=0.0, high=limit, low_inclusive=False)
    kernel = D * dt / dx**2 * laplacian_stencil(ndim)
    kernel[(1,) * ndim] += 1.0 - decay_rate * dt
    return kernel


def _pad(c: np.ndarray, width: int | list[tuple[int, int]], boundary: str) -> np.ndarray:
    return np.pad(c, width, mode=_PAD_MODE[boundary])


def diffuse(field: np.ndarray, kernel: np.ndarray, *, steps: int,
            boundary: Boundary = "reflect", max_ops: float | None = None) -> np.ndarray:
    """Apply ``kernel`` ``steps`` times by convolution, with the given boundary.

    Each step pads the field by the kernel's half-width (mirror, wrap or zeros) and keeps the
    'valid' part, so the field keeps its shape. The kernel must have odd sizes (a centre).
    ``max_ops`` bounds ``steps × field.size × kernel.size`` (``None``:
    :data:`~neurocomp.checks.MAX_OPS`), checked before the first step.
    """
    c = _field("field", field)
    k = check_finite_array("kernel", np.asarray(kernel, dtype=np.float64))
    if k.ndim != c.ndim:
        raise ValueError(f"kernel must have the same number of dimensions as field; "
                         f"got kernel shape {k.shape} and field shape {c.shape}")
    if any(s % 2 == 0 for s in k.shape):
        raise ValueError(f"kernel must have an odd size along every axis (a centre pixel); "
                         f"got shape {k.shape}")
    steps = check_int("steps", steps, low=0)
    check_choice("boundary", boundary, BOUNDARIES)
    check_ops("diffuse", float(steps) * c.size * k.size,
              sizes=f"steps={steps} × field {c.shape} × kernel {k.shape}", max_ops=max_ops)
    half = [(s // 2, s // 2) for s in k.shape]
    for _ in range(steps):
        c = convolve(_pad(c, half, boundary), k, "valid")
    return c


def euler_diffusion(field: np.ndarray, *, D: float, dx: float, dt: float, steps: int,
                    decay_rate: float = 0.0, boundary: Boundary = "reflect",
                    max_ops: float | None = None) -> np.ndarray:
    r"""Explicit Euler finite differences for :math:`\partial_t c = D\nabla^2 c - k c`.

    Written with array slices rather than a convolution, as an independent check of
    :func:`diffuse` with :func:`euler_step_kernel`. Stability and argument errors as in
    :func:`euler_step_kernel`. ``max_ops`` bounds ``steps × field.size × (2·ndim + 3)``
    (``None``: :data:`~neurocomp.checks.MAX_OPS`), checked before the first step.
    """
    c = _field("field", field)
    euler_step_kernel(D=D, dx=dx, dt=dt, ndim=c.ndim, decay_rate=decay_rate)  # validates
    steps = check_int("steps", steps, low=0)
    check_choice("boundary", boundary, BOUNDARIES)
    check_ops("euler_diffusion", float(steps) * c.size * (2 * c.ndim + 3),
              sizes=f"steps={steps} × field {c.shape}", max_ops=max_ops)
    r = D * dt / dx**2
    core = tuple(slice(1, -1) for _ in range(c.ndim))
    for _ in range(steps):
        p = _pad(c, 1, boundary)
        lap = -2.0 * c.ndim * c
        for axis in range(c.ndim):
            for lo in (0, 2):
                idx = list(core)
                idx[axis] = slice(lo, lo + c.shape[axis])
                lap = lap + p[tuple(idx)]
        c = c + r * lap - decay_rate * dt * c
    return c


def gaussian_kernel(sigma_px: float | tuple[float, ...], ndim: int = 1, *,
                    truncate: float = 6.0, max_bytes: float | None = None) -> np.ndarray:
    """A sampled Gaussian, normalised to sum to 1, of standard deviation ``sigma_px`` pixels.

    Extends ``truncate`` standard deviations each side (odd size). ``sigma_px = 0`` gives the
    identity kernel ``[1]``. ``max_bytes`` bounds the kernel's memory (``None``:
    :data:`~neurocomp.checks.MAX_BYTES`), checked before it is built.
    """
    ndim = check_int("ndim", ndim, low=1, high=3)
    if isinstance(sigma_px, str | bytes) or not (np.isscalar(sigma_px)
                                                 or isinstance(sigma_px, tuple | list)):
        raise TypeError(f"sigma_px must be a number or a tuple of numbers (one per axis); got "
                        f"{sigma_px!r} of type {type(sigma_px).__name__}")
    sigmas = (sigma_px,) * ndim if np.isscalar(sigma_px) else tuple(sigma_px)
    if len(sigmas) != ndim:
        raise ValueError(f"sigma_px must be a number or one value per axis ({ndim}); "
                         f"got {sigma_px!r}")
    truncate = check_real("truncate", truncate, low=1.0)
    sigmas = tuple(check_real(f"sigma_px[{axis}]", s, low=0.0) for axis, s in enumerate(sigmas))
    sizes = [2 * math.ceil(truncate * s) + 1 for s in sigmas]
    check_bytes("gaussian_kernel", 8.0 * (math.prod(sizes) + sum(sizes)),
                sizes=f"sigma_px={sigma_px!r}, truncate={truncate:g} (kernel shape "
                      f"{tuple(sizes)})", max_bytes=max_bytes)
    kernel = np.ones((1,) * ndim)
    for axis, s in enumerate(sigmas):
        half = int(np.ceil(truncate * s))
        x = np.arange(-half, half + 1, dtype=np.float64)
        with np.errstate(over="ignore"):  # a tiny sigma: (x/s)² overflows to inf, exp → 0
            g = np.exp(-0.5 * (x / s) ** 2) if s > 0 else np.ones(1)
        shape = [1] * ndim
        shape[axis] = g.size
        kernel = kernel * (g / g.sum()).reshape(shape)
    return kernel


def kernel_variance(kernel: np.ndarray, *, dx: float = 1.0) -> np.ndarray:
    """Variance per axis of a normalised, non-negative kernel about its centre, in dx² units."""
    k = np.asarray(kernel, dtype=np.float64)
    total = k.sum()
    variances = []
    for axis in range(k.ndim):
        x = (np.arange(k.shape[axis]) - (k.shape[axis] - 1) / 2) * dx
        marginal = k.sum(axis=tuple(a for a in range(k.ndim) if a != axis))
        mean = np.sum(marginal * x) / total
        variances.append(np.sum(marginal * (x - mean) ** 2) / total)
    return np.array(variances)


def gaussian_diffusion(field: np.ndarray, *, D: float, dx: float, t: float,
                       decay_rate: float = 0.0, boundary: Boundary = "reflect",
                       truncate: float = 6.0) -> np.ndarray:
    r"""Diffusion for time ``t`` as one convolution with the heat kernel.

    Convolves with a sampled Gaussian of standard deviation :math:`\sqrt{2Dt}/\Delta x`
    pixels per axis and multiplies by :math:`e^{-kt}`.
    """
    c = _field("field", field)
    D = check_real("D", D, low=0.0)
    dx = check_real("dx", dx, low=0.0, low_inclusive=False)
    t = check_real("t", t, low=0.0)
    decay_rate = check_real("decay_rate", decay_rate, low=0.0)
    check_choice("boundary", boundary, BOUNDARIES)
    kernel = gaussian_kernel(np.sqrt(2 * D * t) / dx, c.ndim, truncate=truncate)
    half = [(s // 2, s // 2) for s in kernel.shape]
    return np.exp(-decay_rate * t) * convolve(_pad(c, half, boundary), kernel, "valid",
                                              method="fft")


def cable_greens_function(x_um: np.ndarray, t_ms: float, *, length_constant_um: float,
                          tau_m_ms: float) -> np.ndarray:
    r"""Green's function of the infinite passive cable, in 1/µm.

    .. math:: G(x, t) = \frac{e^{-t/\tau_m}}{\sqrt{4\pi D t}}
              \exp\!\left(-\frac{x^2}{4Dt}\right), \quad D = \lambda^2/\tau_m.

    The voltage at time ``t`` is :math:`V(x,t) = \int G(x - y, t)\, V(y, 0)\, dy` for an
    initial deviation :math:`V(y, 0)` from rest (Tuckwell 1988, *Introduction to theoretical
    neurobiology*, vol. 1, ch. 5; Koch 1999, *Biophysics of Computation*, ch. 2).

    Parameters
    ----------
    x_um : array
        Distance along the cable, µm.
    t_ms : float
        Time since the initial state, ms (> 0).
    length_constant_um : float
        λ, µm (> 0).
    tau_m_ms : float
        Membrane time constant τ_m, ms (> 0).
    """
    t = check_real("t_ms", t_ms, low=0.0, low_inclusive=False, unit="ms")
    lam = check_real("length_constant_um", length_constant_um, low=0.0, low_inclusive=False,
                     unit="µm")
    tau = check_real("tau_m_ms", tau_m_ms, low=0.0, low_inclusive=False, unit="ms")
    x = check_finite_array("x_um", np.asarray(x_um, dtype=np.float64))
    D = lam * lam / tau
    return np.exp(-t / tau) / np.sqrt(4 * np.pi * D * t) * np.exp(-x * x / (4 * D * t))
