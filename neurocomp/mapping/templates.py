r"""Template matching by cross-correlation.

Dettmers (2015) finds a face in an image by rotating the face 180°, using it as a kernel and
convolving: the output is brightest where the image looks like the template. That is the raw
cross-correlation :math:`(I \star T)[r, c] = \sum_{i,j} I[r+i, c+j]\,T[i, j]`, which also
grows with the local brightness of the image. The normalised cross-correlation divides out the
local mean and energy,

.. math::

    \rho[r, c] = \frac{\sum_{i,j} (I[r+i,c+j] - \bar I_{rc})(T[i,j] - \bar T)}
                      {\sqrt{\sum_{i,j} (I[r+i,c+j] - \bar I_{rc})^2
                             \sum_{i,j} (T[i,j] - \bar T)^2}} \in [-1, 1],

and equals 1 exactly where the image contains the template up to brightness and contrast.
Both are computed with the FFT (zero-padded, :func:`neurocomp.mapping.convolution.correlate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from neurocomp.checks import check_choice, check_finite_array
from neurocomp.mapping.convolution import correlate

__all__ = ["TemplateMatch", "match_template"]


@dataclass(frozen=True, kw_only=True)
class TemplateMatch:
    """Where a template matches best.

    Attributes
    ----------
    score : ndarray, shape (rows - t_rows + 1, cols - t_cols + 1)
        Score of the template placed with its top-left corner at each pixel.
    location : tuple of int
        (row, col) of the top-left corner of the best match.
    peak : float
        The best score.
    method : str
        ``"xcorr"`` (raw cross-correlation) or ``"ncc"`` (normalised).
    """

    score: np.ndarray
    location: tuple[int, int]
    peak: float
    method: str


def _window_sums(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Sum of ``x`` over every window of ``shape`` (valid positions), via integral images."""
    s = np.pad(x, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    h, w = shape
    return s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]


def match_template(image: np.ndarray, template: np.ndarray, *,
                   method: Literal["ncc", "xcorr"] = "ncc") -> TemplateMatch:
    """Slide ``template`` over ``image`` and find where it fits best.

    Parameters
    ----------
    image : array, shape (rows, cols)
        The image searched.
    template : array, shape (t_rows, t_cols)
        What is searched for; not larger than the image along either axis.
    method : {"ncc", "xcorr"}
        Normalised cross-correlation (robust) or the post's raw cross-correlation.

    Raises
    ------
    ValueError
        Non-2-D inputs, a template larger than the image, NaN/inf values, or a constant
        template (``"ncc"`` is undefined for it).
    """
    check_choice("method", method, ("ncc", "xcorr"))
    img = check_finite_array("image", np.asarray(image, dtype=np.float64))
    tpl = check_finite_array("template", np.asarray(template, dtype=np.float64))
    if img.ndim != 2 or tpl.ndim != 2:
        raise ValueError(f"image and template must be 2-D; got shapes {img.shape} and {tpl.shape}")
    if tpl.shape[0] > img.shape[0] or tpl.shape[1] > img.shape[1]:
        raise ValueError(f"template must not be larger than image along either axis; got "
                         f"template {tpl.shape} and image {img.shape}")
    if method == "xcorr":
        score = correlate(img, tpl, "valid", method="fft")
    else:
        t0 = tpl - tpl.mean()
        t_energy = float(np.sum(t0 * t0))
        if t_energy <= 1e-12 * max(1.0, float(np.sum(tpl * tpl))):
            raise ValueError("template is constant; normalised cross-correlation needs a "
                             "template with some contrast (use method='xcorr')")
        numerator = correlate(img, t0, "valid", method="fft")
        n = tpl.size
        # centre the image first: the windowed variance below subtracts nearly equal numbers
        centred = img - img.mean()
        s1 = _window_sums(centred, tpl.shape)
        s2 = _window_sums(centred * centred, tpl.shape)
        local_energy = np.maximum(s2 - s1 * s1 / n, 0.0)
        denom = np.sqrt(local_energy * t_energy)
        flat = denom <= 1e-12 * np.sqrt(t_energy) * max(1.0, float(np.abs(centred).max()))
        score = np.where(flat, 0.0, numerator / np.where(flat, 1.0, denom))
    best = np.unravel_index(int(np.argmax(score)), score.shape)
    return TemplateMatch(score=score, location=(int(best[0]), int(best[1])),
                         peak=float(score[best]), method=method)
