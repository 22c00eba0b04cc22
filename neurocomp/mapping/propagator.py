r"""Kernels as propagators, and the stochastic reading of convolution.

Dettmers (2015) turns a kernel into a probability distribution over the positions of a patch
with the softmax, :math:`P(p) = e^{K(p)} / \sum_{p'} e^{K(p')}`, and reads convolution as a
measurement: every output pixel "collapses" onto one neighbour drawn from :math:`P` and takes
its value. That stochastic operation is unbiased for the deterministic one: its mean over
draws is the cross-correlation of the image with :math:`P`,

.. math:: \mathbb{E}[y_n] = \sum_p P(p)\, x_{n+p},

and the mean of :math:`S` independent draws has standard error
:math:`\sqrt{(\sum_p P(p) x_{n+p}^2 - \mathbb{E}[y_n]^2)/S}` (central limit theorem).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocomp.checks import check_finite_array, check_int, check_real
from neurocomp.mapping.convolution import correlate

__all__ = ["StochasticEstimate", "check_propagator", "softmax_propagator",
           "stochastic_correlate"]


def softmax_propagator(kernel: np.ndarray, *, temperature: float = 1.0) -> np.ndarray:
    r"""The softmax of a kernel, :math:`e^{K/T} / \sum e^{K/T}`, computed stably.

    The maximum entry is subtracted before exponentiating, so kernels with entries of ±10⁴
    give a valid distribution (the naive formula overflows to inf/inf = NaN).

    Parameters
    ----------
    kernel : array
        Any real kernel (finite values).
    temperature : float
        T > 0; large T flattens the distribution, small T concentrates it on the maximum.
    """
    k = check_finite_array("kernel", np.asarray(kernel, dtype=np.float64))
    if k.size == 0:
        raise ValueError("kernel must have at least one entry")
    t = check_real("temperature", temperature, low=0.0, low_inclusive=False)
    z = (k - k.max()) / t
    e = np.exp(z)
    return e / e.sum()


def check_propagator(propagator: np.ndarray, *, name: str = "propagator",
                     atol: float = 1e-9) -> np.ndarray:
    """Return ``propagator`` as float64 if it is a probability distribution, else raise."""
    p = check_finite_array(name, np.asarray(propagator, dtype=np.float64))
    if (p < 0).any():
        raise ValueError(f"{name} must be non-negative; its smallest entry is {p.min():g}")
    total = float(p.sum())
    if abs(total - 1.0) > atol:
        raise ValueError(f"{name} must sum to 1 (within {atol:g}); it sums to {total:.12g}")
    return p


@dataclass(frozen=True, kw_only=True)
class StochasticEstimate:
    """Monte-Carlo estimate of a convolution from stochastic draws.

    Attributes
    ----------
    mean : ndarray
        Mean output over the draws.
    standard_error : ndarray
        Exact standard error of that mean (from the propagator and the image, not estimated).
    n_samples : int
        Number of draws per pixel.
    """

    mean: np.ndarray
    standard_error: np.ndarray
    n_samples: int


def stochastic_correlate(image: np.ndarray, propagator: np.ndarray, *, n_samples: int,
                         rng: np.random.Generator, chunk: int = 64) -> StochasticEstimate:
    """Each output pixel draws a neighbour from ``propagator`` and copies its value.

    The kernel entry at index ``j`` (per axis) stands for the displacement ``j - K//2``, and
    pixels outside the image are 0, so the mean converges to
    ``correlate(image, propagator, "same")``.

    Parameters
    ----------
    image : array, 1-D to 3-D
        The input.
    propagator : array
        Same number of dimensions as ``image``; non-negative, sums to 1.
    n_samples : int
        Independent draws per pixel (≥ 1).
    rng : numpy.random.Generator
        Source of randomness (pass ``numpy.random.default_rng(seed)``).
    chunk : int
        Draws generated at once (memory: ``chunk × image.size`` integers).
    """
    x = check_finite_array("image", np.asarray(image, dtype=np.float64))
    p = check_propagator(propagator)
    if p.ndim != x.ndim:
        raise ValueError(f"propagator must have the same number of dimensions as image; "
                         f"got {p.shape} and {x.shape}")
    n_samples = check_int("n_samples", n_samples, low=1)
    chunk = check_int("chunk", chunk, low=1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (numpy.random.default_rng(seed))")

    half = [k // 2 for k in p.shape]
    padded = np.pad(x, [(h, k - 1 - h) for h, k in zip(half, p.shape, strict=True)])
    offsets = np.array(np.unravel_index(np.arange(p.size), p.shape))  # (ndim, K)
    grid = np.indices(x.shape).reshape(x.ndim, -1)                     # (ndim, N)
    total = np.zeros(x.size)
    done = 0
    while done < n_samples:
        n = min(chunk, n_samples - done)
        draws = rng.choice(p.size, size=(n, x.size), p=p.ravel())
        idx = tuple(grid[a][None, :] + offsets[a][draws] for a in range(x.ndim))
        total += padded[idx].sum(axis=0)
        done += n
    mean = (total / n_samples).reshape(x.shape)
    exact = correlate(x, p, "same")
    second = correlate(x * x, p, "same")
    se = np.sqrt(np.maximum(second - exact * exact, 0.0) / n_samples)
    return StochasticEstimate(mean=mean, standard_error=se, n_samples=n_samples)
