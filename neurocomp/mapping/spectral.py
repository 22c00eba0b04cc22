r"""Images in the frequency domain: log spectra, orientation, rotation and low-pass filtering.

Dettmers (2015) shows that the (shifted, log-scaled) Fourier spectrum of an image encodes the
*direction* in which brightness changes, so rotating the image rotates its spectrum, and that
multiplying the spectrum by a disc and transforming back is a low-pass filter (a convolution
by the theorem) whose "compression ratio" is the black area relative to the disc.

Frequencies are in cycles per pixel; angles in degrees, measured in array coordinates: the
angle of a wave vector :math:`(k_c, k_r)` (column, row frequency) is
:math:`\operatorname{atan2}(k_r, k_c)`, so 0° is a grating whose brightness changes along the
columns (vertical stripes) and 90° one that changes along the rows (horizontal stripes).
Spectra of real images are point-symmetric, so orientations live in [0°, 180°).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.ndimage

from neurocomp.checks import check_finite_array, check_int, check_real

__all__ = [
    "LowpassResult",
    "angular_profile",
    "disc_mask",
    "estimate_rotation_deg",
    "grating",
    "log_spectrum",
    "lowpass_disc",
    "radial_window",
]


def _image(name: str, image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (rows, cols) array; got shape {arr.shape}")
    if min(arr.shape) < 2:
        raise ValueError(f"{name} must be at least 2×2 pixels; got shape {arr.shape}")
    return check_finite_array(name, arr)


def grating(shape: tuple[int, int], *, angle_deg: float, period_px: float,
            phase_rad: float = 0.0) -> np.ndarray:
    r"""A sinusoidal grating :math:`\cos(2\pi (c\cos\theta + r\sin\theta)/P + \phi)`.

    Its brightness changes along the direction ``angle_deg`` (array coordinates, see the
    module docstring), with ``period_px`` pixels per cycle (≥ 2, the Nyquist limit).
    """
    if isinstance(shape, str | bytes) or not hasattr(shape, "__len__") or len(shape) != 2:
        raise ValueError(f"shape must be (rows, cols), two integers >= 2; got {shape!r}")
    rows, cols = (check_int("shape[0]", shape[0], low=2), check_int("shape[1]", shape[1], low=2))
    theta = np.deg2rad(check_real("angle_deg", angle_deg))
    period = check_real("period_px", period_px, low=2.0)
    r, c = np.mgrid[0:rows, 0:cols].astype(np.float64)
    return np.cos(2 * np.pi * (c * np.cos(theta) + r * np.sin(theta)) / period + phase_rad)


def radial_window(shape: tuple[int, int]) -> np.ndarray:
    """A radially symmetric Hann window (1 at the centre, 0 beyond the inscribed circle).

    Multiplying an image by it removes the square border, whose sharp edges would otherwise
    put a fixed cross into every spectrum that does not rotate with the image content.
    """
    rows, cols = shape
    r, c = np.mgrid[0:rows, 0:cols].astype(np.float64)
    radius = np.hypot((r - (rows - 1) / 2) / (rows / 2), (c - (cols - 1) / 2) / (cols / 2))
    return np.where(radius < 1.0, 0.5 * (1 + np.cos(np.pi * radius)), 0.0)


def log_spectrum(image: np.ndarray, *, window: bool = True) -> np.ndarray:
    r"""Centred log-magnitude spectrum :math:`\log_{10}(1 + |\mathcal{F}[I]|)`.

    The zero frequency is moved to the centre (``fftshift``); low frequencies sit near the
    centre and high ones at the edges, as in the post's figures. The post displays the log of
    the real part; the magnitude is used here because it does not depend on where the image's
    origin lies.

    Parameters
    ----------
    image : array, shape (rows, cols)
        Grey-level image.
    window : bool
        Multiply by :func:`radial_window` after removing the mean (recommended when the
        spectrum is used to read orientation).
    """
    img = _image("image", image)
    if window:
        img = (img - img.mean()) * radial_window(img.shape)
    return np.log10(1.0 + np.abs(scipy.fft.fftshift(scipy.fft.fft2(img))))


def _frequency_grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Row and column frequencies (cycles/px) of a centred (fftshifted) spectrum."""
    fr = scipy.fft.fftshift(scipy.fft.fftfreq(shape[0]))
    fc = scipy.fft.fftshift(scipy.fft.fftfreq(shape[1]))
    return np.meshgrid(fr, fc, indexing="ij")


def angular_profile(image: np.ndarray, *, n_bins: int = 180, f_min: float = 0.02,
                    f_max: float = 0.35, n_radii: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Log spectral power against orientation, averaged over an annulus of frequencies.

    The windowed power spectrum :math:`\\log|\\mathcal{F}|^2` is sampled on a polar grid
    (bilinear interpolation) at ``n_bins`` orientations in [0°, 180°) and ``n_radii``
    frequencies between ``f_min`` and ``f_max`` cycles/px, and averaged over the frequencies.
    The annulus leaves out the DC term and the corners of the square spectrum, which would
    favour the diagonals.

    Returns
    -------
    angles_deg : ndarray, shape (n_bins,)
    log_power : ndarray, shape (n_bins,)
    """
    img = _image("image", image)
    n_bins = check_int("n_bins", n_bins, low=4)
    n_radii = check_int("n_radii", n_radii, low=1)
    f_min = check_real("f_min", f_min, low=0.0, high=0.5, low_inclusive=False)
    f_max = check_real("f_max", f_max, low=f_min, high=0.5, low_inclusive=False)
    power = np.abs(scipy.fft.fftshift(scipy.fft.fft2((img - img.mean())
                                                     * radial_window(img.shape)))) ** 2
    log_power = np.log(power + 1e-12 * max(float(power.max()), 1e-300))
    angles = np.arange(n_bins) * 180.0 / n_bins
    theta = np.deg2rad(angles)[:, None]
    radii = np.linspace(f_min, f_max, n_radii)[None, :]
    rows, cols = img.shape
    # centred spectrum: frequency f along an axis of length n sits at index n//2 + f*n
    r_idx = rows // 2 + radii * np.sin(theta) * rows
    c_idx = cols // 2 + radii * np.cos(theta) * cols
    samples = scipy.ndimage.map_coordinates(log_power, [r_idx, c_idx], order=1,
                                            mode="nearest")
    return angles, samples.mean(axis=1)


def estimate_rotation_deg(reference: np.ndarray, rotated: np.ndarray, *,
                          n_bins: int = 360) -> float:
    """Angle (degrees, in (-90, 90]) by which the spectrum of ``rotated`` is turned.

    Circularly cross-correlates the log angular profiles (:func:`angular_profile`) of the two
    images and refines the best lag by a parabola through its neighbours. If ``rotated`` is
    ``reference`` turned by α in array coordinates, the result is α (mod 180°).
    """
    _, la = angular_profile(reference, n_bins=n_bins)
    _, lb = angular_profile(rotated, n_bins=n_bins)
    la, lb = la - la.mean(), lb - lb.mean()
    xc = np.real(np.fft.ifft(np.conj(np.fft.fft(la)) * np.fft.fft(lb)))
    best = int(np.argmax(xc))
    y0, y1, y2 = xc[best - 1], xc[best], xc[(best + 1) % n_bins]
    denom = y0 - 2 * y1 + y2
    offset = 0.5 * (y0 - y2) / denom if denom != 0 else 0.0
    angle = (best + offset) * 180.0 / n_bins
    return float((angle + 90.0) % 180.0 - 90.0)


def disc_mask(shape: tuple[int, int], radius_frac: float) -> np.ndarray:
    """Boolean disc in a centred spectrum: True where :math:`|f| \\le` ``radius_frac`` × 0.5.

    ``radius_frac`` is the disc radius as a fraction of the Nyquist frequency (0.5
    cycles/px), in (0, √2]; √2 keeps every frequency.
    """
    frac = check_real("radius_frac", radius_frac, low=0.0, high=np.sqrt(2), low_inclusive=False)
    fr, fc = _frequency_grid(shape)
    return np.hypot(fr, fc) <= frac * 0.5


@dataclass(frozen=True, kw_only=True)
class LowpassResult:
    """A disc low-pass filtered image.

    Attributes
    ----------
    image : ndarray
        The filtered image (real part of the inverse transform).
    mask : ndarray of bool
        The disc in the centred spectrum.
    kept_fraction : float
        Fraction of Fourier coefficients kept (disc area / spectrum area).
    compression_ratio : float
        Dettmers' ratio: black (discarded) area relative to the disc area.
    relative_error : float
        ‖filtered − original‖₂ / ‖original − mean‖₂.
    """

    image: np.ndarray
    mask: np.ndarray
    kept_fraction: float
    compression_ratio: float
    relative_error: float


def lowpass_disc(image: np.ndarray, radius_frac: float) -> LowpassResult:
    """Keep only the frequencies inside a disc (:func:`disc_mask`) and transform back.

    By the convolution theorem this is a circular convolution of the image with the inverse
    transform of the disc (an Airy-like ring kernel).
    """
    img = _image("image", image)
    mask = disc_mask(img.shape, radius_frac)
    spec = scipy.fft.fftshift(scipy.fft.fft2(img))
    out = np.real(scipy.fft.ifft2(scipy.fft.ifftshift(spec * mask)))
    kept = int(mask.sum())
    centred = img - img.mean()
    norm = float(np.linalg.norm(centred)) or 1.0
    return LowpassResult(
        image=out, mask=mask, kept_fraction=kept / mask.size,
        compression_ratio=(mask.size - kept) / kept,
        relative_error=float(np.linalg.norm(out - img)) / norm,
    )
