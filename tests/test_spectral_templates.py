"""Spectra, rotation, low-pass filtering and template matching."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.ndimage
from neurocomp_models.images import grace_hopper_grey

from neurocomp.mapping.convolution import circular_convolve
from neurocomp.mapping.spectral import (
    angular_profile,
    disc_mask,
    estimate_rotation_deg,
    grating,
    log_spectrum,
    lowpass_disc,
)
from neurocomp.mapping.templates import match_template


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    return grace_hopper_grey(size_px=128)


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_grating_spectrum_peaks_at_its_orientation(angle):
    # a period of 8 px on 128 px puts the peak exactly on a frequency sample for 0 and 90 deg
    angles, profile = angular_profile(grating((128, 128), angle_deg=angle, period_px=8.0),
                                      n_bins=360)
    # orientation resolution: 0.5 deg bins plus leakage of an off-grid frequency (< 2 deg)
    diff = (angles[np.argmax(profile)] - angle + 90) % 180 - 90
    assert abs(diff) < 2.0


@pytest.mark.parametrize("alpha", [-40.0, 12.5, 33.0])
def test_spectrum_rotates_with_the_image(portrait, alpha):
    turned = scipy.ndimage.rotate(portrait, alpha, reshape=False, order=3, mode="reflect")
    # ndimage turns counter-clockwise on screen = negative in array coordinates;
    # 0.25 deg: interpolation of the rotation and of the polar resampling (seen: < 0.05)
    assert estimate_rotation_deg(portrait, turned) == pytest.approx(-alpha, abs=0.25)


def test_log_spectrum_is_centred_and_point_symmetric(portrait):
    spec = log_spectrum(portrait, window=False)
    n = portrait.shape[0]
    assert spec.shape == portrait.shape
    assert np.unravel_index(np.argmax(spec), spec.shape) == (n // 2, n // 2)  # DC at centre
    # real image -> |F(-f)| = |F(f)|: point symmetry about the centre (round-off)
    np.testing.assert_allclose(spec[1:, 1:], spec[1:, 1:][::-1, ::-1], atol=1e-10)


def test_lowpass_disc_is_a_circular_convolution(portrait):
    lp = lowpass_disc(portrait, 0.3)
    kernel = np.real(np.fft.ifft2(np.fft.ifftshift(lp.mask)))
    # multiplying the spectrum by the disc == convolving with its inverse transform (round-off)
    np.testing.assert_allclose(circular_convolve(portrait, kernel), lp.image, atol=1e-9)


def test_lowpass_compression_ratio_and_limits(portrait):
    lp = lowpass_disc(portrait, 0.3)
    kept = lp.mask.sum()
    assert lp.compression_ratio == pytest.approx((lp.mask.size - kept) / kept, rel=1e-15)
    assert lp.kept_fraction == pytest.approx(kept / lp.mask.size, rel=1e-15)
    # disc area ~ pi r^2 with r = 0.3 * 64 samples: within 2 % (pixelisation of the disc)
    assert kept == pytest.approx(np.pi * (0.3 * 64) ** 2, rel=0.02)
    everything = lowpass_disc(portrait, np.sqrt(2))
    assert everything.compression_ratio == 0.0
    assert everything.relative_error < 1e-12  # keeping every frequency changes nothing
    errors = [lowpass_disc(portrait, r).relative_error for r in (0.1, 0.2, 0.4, 0.8)]
    assert all(a > b for a, b in itertools.pairwise(errors))  # bigger disc, less error


def test_spectral_bad_input():
    with pytest.raises(ValueError, match=r"radius_frac must be in \(0, 1.41"):
        disc_mask((8, 8), 0.0)
    with pytest.raises(ValueError, match="image must be a 2-D"):
        log_spectrum(np.ones(8))
    with pytest.raises(ValueError, match="image must hold only finite values"):
        log_spectrum(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match=r"period_px must be in \[2, inf\)"):
        grating((8, 8), angle_deg=0, period_px=1.5)


# -- template matching --------------------------------------------------------------------

def test_ncc_finds_the_exact_place_with_score_one(rng, portrait):
    tpl = portrait[40:72, 50:90]
    # brightness and contrast changes leave NCC unchanged
    m = match_template(3.0 * portrait + 40.0, tpl)
    assert m.location == (40, 50)
    assert m.peak == pytest.approx(1.0, abs=1e-9)  # exact match up to round-off
    assert m.score.shape == (128 - 32 + 1, 128 - 40 + 1)
    assert m.score.max() <= 1 + 1e-9 and m.score.min() >= -1 - 1e-9


def test_raw_cross_correlation_is_the_sliding_dot_product(rng):
    img, tpl = rng.random((20, 30)), rng.random((4, 5))
    m = match_template(img, tpl, method="xcorr")
    r, c = 7, 11
    assert m.score[r, c] == pytest.approx(np.sum(img[r:r + 4, c:c + 5] * tpl), rel=1e-12)


def test_raw_cross_correlation_is_drawn_to_bright_regions(rng):
    # a dim copy of the template in the dark half, a bright uniform patch elsewhere
    img = rng.random((40, 40)) * 0.1
    tpl = rng.random((6, 6))
    img[5:11, 5:11] = tpl
    img[25:35, 25:35] = 5.0
    assert match_template(img, tpl, method="ncc").location == (5, 5)
    assert match_template(img, tpl, method="xcorr").location != (5, 5)


def test_template_bad_input(portrait):
    with pytest.raises(ValueError, match="template is constant"):
        match_template(portrait, np.ones((5, 5)))
    with pytest.raises(ValueError, match=r"template must not be larger than image.*\(20, 5\)"):
        match_template(portrait[:10, :10], portrait[:20, :5])
    with pytest.raises(ValueError, match="method must be one of"):
        match_template(portrait, portrait[:5, :5], method="sad")
    with pytest.raises(ValueError, match="template must hold only finite values"):
        match_template(portrait, np.full((3, 3), np.inf))
