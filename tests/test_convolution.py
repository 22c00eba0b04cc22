"""Convolution and cross-correlation: theory, reference implementations, errors.

Tiers (see STYLE.md): (a) theory — convolution theorem, shape arithmetic; (b) reference
implementations — scipy.signal and torch.nn.Conv2d.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from neurocomp.mapping.convolution import (
    MODES,
    circular_convolve,
    conv_output_size,
    convolve,
    correlate,
    feature_map_shape,
    output_shape,
)

# Float64 round-off of an O(N K) sum of O(1) numbers stays near 1e-13; the issue asks 1e-9.
ATOL_F64 = 1e-9


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize(("sshape", "kshape"), [((31,), (7,)), ((20, 17), (4, 5)),
                                                ((9, 8, 7), (3, 2, 3)), ((12,), (12,))])
def test_matches_scipy_signal(rng, mode, method, sshape, kshape):
    x, k = rng.standard_normal(sshape), rng.standard_normal(kshape)
    # reference implementation: scipy.signal, same mode conventions
    np.testing.assert_allclose(convolve(x, k, mode, method=method),
                               scipy.signal.convolve(x, k, mode, method="direct"),
                               rtol=0, atol=1e-12)  # round-off only
    np.testing.assert_allclose(correlate(x, k, mode, method=method),
                               scipy.signal.correlate(x, k, mode, method="direct"),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_torch_agrees_with_numpy(rng, mode, method):
    x, k = rng.standard_normal((23, 19)), rng.standard_normal((5, 4))
    y_np = convolve(x, k, mode, method=method)
    y_t = convolve(torch.from_numpy(x), torch.from_numpy(k), mode, method=method)
    assert isinstance(y_t, torch.Tensor) and y_t.dtype == torch.float64
    np.testing.assert_allclose(y_t.numpy(), y_np, rtol=0, atol=1e-12)  # round-off only


def test_torch_keeps_float32_and_is_differentiable():
    x = torch.randn(16, 16, dtype=torch.float64, requires_grad=True)
    k = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    for method in ("direct", "fft"):
        # gradcheck compares autograd with finite differences (its default tolerances)
        assert torch.autograd.gradcheck(
            lambda a, b, m=method: convolve(a, b, "same", method=m), (x, k))
    y = convolve(x.float().detach(), k.float().detach(), "valid")
    assert y.dtype == torch.float32


def test_cross_correlation_is_what_conv2d_computes(rng):
    x, k = rng.standard_normal((1, 1, 14, 15)), rng.standard_normal((1, 1, 3, 4))
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(k))[0, 0].numpy()
    np.testing.assert_allclose(correlate(x[0, 0], k[0, 0], "valid"), ref, atol=1e-12)


def test_patch_normalisation_divides_by_kernel_entries(rng):
    x, k = rng.random((10, 10)), rng.random((3, 3))
    np.testing.assert_allclose(convolve(x, k, "valid", normalize=True),
                               convolve(x, k, "valid") / 9, rtol=1e-15)  # m = 9 for 3×3
    ones = np.ones((3, 3))
    # a box kernel with 1/m normalisation keeps a constant image's intensity exactly
    np.testing.assert_allclose(correlate(np.full((8, 8), 7.0), ones, "valid", normalize=True),
                               7.0, rtol=1e-15)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), ndim=st.integers(1, 2), mode=st.sampled_from(MODES),
       normalize=st.booleans())
def test_fft_equals_direct_property(data, ndim, mode, normalize):
    sshape = tuple(data.draw(st.lists(st.integers(1, 24), min_size=ndim, max_size=ndim)))
    kshape = tuple(data.draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    if mode == "valid":
        kshape = tuple(min(k, s) for k, s in zip(kshape, sshape, strict=True))
    elems = st.floats(-1, 1, allow_nan=False, allow_infinity=False)
    x = data.draw(arrays(np.float64, sshape, elements=elems))
    k = data.draw(arrays(np.float64, kshape, elements=elems))
    direct = convolve(x, k, mode, normalize=normalize)
    fft = convolve(x, k, mode, method="fft", normalize=normalize)
    assert direct.shape == fft.shape == output_shape(sshape, kshape, mode)
    np.testing.assert_allclose(fft, direct, rtol=0, atol=ATOL_F64)


def test_convolution_theorem_constant_with_unitary_dft(rng):
    # With the unitary DFT the theorem carries a constant sqrt(L) (the discrete analogue of
    # the post's sqrt(2 pi)); with numpy's default normalisation it is 1.
    L = 64
    x, k = rng.standard_normal(L), rng.standard_normal(L)
    circ = circular_convolve(x, k)
    prod = np.fft.ifft(np.fft.fft(x, norm="ortho") * np.fft.fft(k, norm="ortho"), norm="ortho")
    np.testing.assert_allclose(np.sqrt(L) * prod.real, circ, atol=1e-12)  # round-off
    np.testing.assert_allclose(np.fft.ifft(np.fft.fft(x) * np.fft.fft(k)).real, circ, atol=1e-12)


def test_circular_convolution_wraps_only_the_first_k_minus_1_samples(rng):
    x, k = rng.standard_normal(50), rng.standard_normal(8)
    full = convolve(x, k, "full")
    circ = circular_convolve(x, k)
    np.testing.assert_allclose(circ[7:], full[7:50], atol=1e-12)   # untouched by the wrap
    np.testing.assert_allclose(circ[:7], full[:7] + full[50:], atol=1e-12)  # tail folded in
    assert np.abs(circ[:7] - full[:7]).max() > 1e-3  # and the wrap is real, not round-off


def test_post_feature_map_example():
    # Dettmers (2015): 32 kernels of 16x16 on a 256x256 image -> 32 maps of 241x241
    assert feature_map_shape(32, 16, 256) == (32, 241, 241)
    conv = torch.nn.Conv2d(1, 32, 16)
    assert tuple(conv(torch.zeros(1, 1, 256, 256)).shape[1:]) == (32, 241, 241)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 7), stride=st.integers(1, 4),
       padding=st.integers(0, 3), dilation=st.integers(1, 3))
def test_conv_output_size_matches_torch(n, k, stride, padding, dilation):
    span = dilation * (k - 1) + 1
    if span > n + 2 * padding:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv_output_size(n, k, stride=stride, padding=padding, dilation=dilation)
        return
    conv = torch.nn.Conv1d(1, 1, k, stride=stride, padding=padding, dilation=dilation)
    expected = conv(torch.zeros(1, 1, n)).shape[-1]
    assert conv_output_size(n, k, stride=stride, padding=padding, dilation=dilation) == expected


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_integer_pixels_are_accepted_as_float64(method):
    img = np.arange(25, dtype=np.uint8).reshape(5, 5)
    y = convolve(img, np.ones((2, 2), dtype=int), "valid", method=method)
    assert y.dtype == np.float64
    assert y[0, 0] == pytest.approx(0 + 1 + 5 + 6, abs=1e-9)


# -- bad input -------------------------------------------------------------------------------

def test_kernel_larger_than_signal_in_valid_mode():
    with pytest.raises(ValueError, match=r"kernel is larger than signal along axis 1.*'valid'"):
        convolve(np.ones((5, 5)), np.ones((3, 6)), "valid")
    assert convolve(np.ones((5, 5)), np.ones((3, 6)), "full").shape == (7, 10)  # fine here


def test_mismatched_dimensions():
    with pytest.raises(ValueError, match=r"same number of dimensions.*signal shape"):
        convolve(np.ones((5, 5)), np.ones(3))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("which", ["signal", "kernel"])
def test_nan_and_inf_are_rejected_naming_the_argument(bad, which):
    x, k = np.ones((6, 6)), np.ones((2, 2))
    (x if which == "signal" else k)[1, 1] = bad
    with pytest.raises(ValueError, match=rf"^{which} must hold only finite values"):
        convolve(x, k)
    with pytest.raises(ValueError, match=rf"^{which} must hold only finite values"):
        convolve(torch.from_numpy(x), torch.from_numpy(k))


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="mode must be one of"):
        convolve(np.ones(4), np.ones(2), "middle")
    with pytest.raises(ValueError, match="method must be one of"):
        convolve(np.ones(4), np.ones(2), method="winograd")
    with pytest.raises(TypeError, match="must both be numpy arrays or both torch tensors"):
        convolve(np.ones(4), torch.ones(2))
    with pytest.raises(TypeError, match="signal must be real"):
        convolve(np.ones(4) * 1j, np.ones(2))
    with pytest.raises(ValueError, match="signal must have 1 to 3 dimensions"):
        convolve(np.ones((2, 2, 2, 2)), np.ones((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="kernel must have at least one entry"):
        convolve(np.ones(4), np.ones(0))
    with pytest.raises(ValueError, match=r"n_kernels must be an integer in \[1, inf\]; got 0"):
        feature_map_shape(0, 3, 10)


def test_lists_are_accepted():
    assert convolve([1.0, 2.0, 3.0], [1.0, 1.0]).tolist() == [1.0, 3.0, 5.0, 3.0]
