"""Where FFT convolution overtakes direct convolution: timing sweeps on this machine.

:func:`timing_sweep` times 'same'-mode 2-D convolution (:func:`~neurocomp.mapping.convolution.
convolve`) of an n×n image with k×k kernels for each of :data:`IMPLEMENTATIONS` — numpy
shift-and-add and scipy FFT in float64, torch ``conv2d`` and torch FFT in float32 — each the
median of repeats after a warm-up (:func:`neurocomp.timing.measure`, wall clock).
:func:`crossover_size` reads the kernel size beyond which the FFT stays faster off two such
curves. Used by the ``convolution-theorem`` analysis and ``benchmarks/conv_fft_vs_direct.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from neurocomp.mapping.convolution import convolve
from neurocomp.timing import measure

__all__ = ["IMPLEMENTATIONS", "crossover_size", "timing_sweep"]

#: Implementations timed, as (label, backend, method); torch runs in float32 as nets do.
IMPLEMENTATIONS = (
    ("numpy direct (shift-add, f64)", "numpy", "direct"),
    ("scipy FFT (f64)", "numpy", "fft"),
    ("torch conv2d (f32)", "torch", "direct"),
    ("torch FFT (f32)", "torch", "fft"),
)


def crossover_size(sizes: Sequence[int], t_direct: Sequence[float],
                   t_fft: Sequence[float]) -> float:
    """Kernel size beyond which the FFT stays faster, interpolated in log–log, px.

    Parameters
    ----------
    sizes : sequence of int
        Kernel sizes measured, px, increasing.
    t_direct, t_fft : sequence of float
        Times of direct and FFT convolution at each size, s (any common unit).

    Returns
    -------
    float
        The size, px, where log(t_direct / t_fft) last crosses zero (linear in log size);
        ``sizes[0]`` if the FFT is faster everywhere, NaN if it is not faster at the
        largest size measured.
    """
    ratio = np.log(np.asarray(t_direct) / np.asarray(t_fft))  # > 0: FFT faster
    if ratio[-1] <= 0:
        return math.nan
    i = len(ratio) - 1
    while i > 0 and ratio[i - 1] > 0:
        i -= 1
    if i == 0:
        return float(sizes[0])
    x0, x1 = np.log(sizes[i - 1]), np.log(sizes[i])
    return float(np.exp(x0 + (x1 - x0) * (0 - ratio[i - 1]) / (ratio[i] - ratio[i - 1])))


def timing_sweep(*, n_px: int, kernel_sizes: Sequence[int], repeats: int,
                 rng: np.random.Generator, progress: bool = True) -> pd.DataFrame:
    """Median wall time of 'same'-mode 2-D convolution of an n×n image, per implementation.

    Parameters
    ----------
    n_px : int
        Image side, px.
    kernel_sizes : sequence of int
        Kernel sides k, px (k×k kernels).
    repeats : int
        Timed calls per case, after one untimed warm-up.
    rng : numpy.random.Generator
        Source of the image and kernels (uniform on [0, 1)).
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    pandas.DataFrame
        One row per (kernel, implementation): ``kernel_px``, ``implementation`` (label of
        :data:`IMPLEMENTATIONS`), ``median_s`` and ``iqr_s`` (s), ``repeats``, ``image_px``.
    """
    image = rng.random((n_px, n_px))
    rows = []
    jobs = [(k, impl) for k in kernel_sizes for impl in IMPLEMENTATIONS]
    for k, (label, backend, method) in tqdm(jobs, desc="timing", disable=not progress,
                                            leave=False):
        kernel = rng.random((k, k))
        if backend == "torch":
            x, w = torch.from_numpy(image).float(), torch.from_numpy(kernel).float()
        else:
            x, w = image, kernel
        t = measure(lambda x=x, w=w, m=method: convolve(x, w, "same", method=m),
                    repeats=repeats, warmup=1)
        rows.append({"kernel_px": k, "implementation": label, "median_s": t.median_s,
                     "iqr_s": t.iqr_s, "repeats": repeats, "image_px": n_px})
    return pd.DataFrame(rows)
