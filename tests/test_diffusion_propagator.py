"""Diffusion as convolution, the cable link, propagators and stochastic convolution."""

from __future__ import annotations

import numpy as np
import pytest
from neurocomp_models.cables import RALLPACK1

from neurocomp.biophysics.cable import CableParameters
from neurocomp.mapping.convolution import convolve, correlate
from neurocomp.mapping.diffusion import (
    BOUNDARIES,
    cable_greens_function,
    diffuse,
    euler_diffusion,
    euler_step_kernel,
    gaussian_diffusion,
    gaussian_kernel,
    kernel_variance,
    laplacian_stencil,
)
from neurocomp.mapping.propagator import (
    check_propagator,
    softmax_propagator,
    stochastic_correlate,
)

# -- theory: diffusion kernels --------------------------------------------------------------


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_euler_stencil_is_a_propagator(ndim):
    k = euler_step_kernel(D=1.0, dx=1.0, dt=0.9 / (2 * ndim), ndim=ndim)
    assert k.sum() == pytest.approx(1.0, abs=1e-15)  # mass conservation (round-off)
    assert (k >= 0).all()
    assert laplacian_stencil(ndim).sum() == 0


@pytest.mark.parametrize("steps", [1, 7, 50])
def test_n_fold_stencil_variance_is_2Dt(steps):
    D, dx, dt = 0.7, 0.5, 0.05  # r = 0.14
    k = euler_step_kernel(D=D, dx=dx, dt=dt, ndim=1)
    field = np.zeros(2 * steps + 3)
    field[steps + 1] = 1.0
    for _ in range(steps):
        field = convolve(field, k, "same")
    # exact in exact arithmetic: each step adds variance 2 r dx^2 = 2 D dt (round-off only)
    assert kernel_variance(field, dx=dx)[0] == pytest.approx(2 * D * steps * dt, rel=1e-12)


@pytest.mark.parametrize("sigma", [1.5, 3.0, 10.0])
def test_gaussian_kernel_variance(sigma):
    k = gaussian_kernel(sigma, 2, truncate=10.0)
    assert k.sum() == pytest.approx(1.0, abs=1e-14)
    # a sampled Gaussian's variance differs from sigma^2 by ~exp(-2 pi^2 sigma^2) and the
    # 10-sigma truncation removes ~1e-21 of it: round-off only
    np.testing.assert_allclose(kernel_variance(k), sigma**2, rtol=1e-10)
    # the default 6-sigma truncation drops the tails: variance short by ~1e-7 (relative)
    np.testing.assert_allclose(kernel_variance(gaussian_kernel(sigma, 1)), sigma**2, rtol=1e-6)


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("shape", [(40,), (17, 23), (6, 7, 8)])
def test_euler_finite_differences_equal_repeated_convolution(rng, boundary, shape):
    c0 = rng.random(shape)
    kw = dict(D=1.3, dx=0.7, dt=0.9 * 0.49 / (2 * len(shape) * 1.3), steps=25)
    k = euler_step_kernel(D=kw["D"], dx=kw["dx"], dt=kw["dt"], ndim=len(shape))
    # two independent implementations of the same scheme: equal to round-off
    np.testing.assert_allclose(euler_diffusion(c0, boundary=boundary, **kw),
                               diffuse(c0, k, steps=25, boundary=boundary),
                               rtol=0, atol=1e-12)


def test_boundaries_conserve_or_absorb_mass(rng):
    c0 = rng.random((20, 20))
    kw = dict(D=1.0, dx=1.0, dt=0.2, steps=200)
    for boundary in ("reflect", "periodic"):
        total = euler_diffusion(c0, boundary=boundary, **kw).sum()
        assert total == pytest.approx(c0.sum(), rel=1e-12)  # no flux out (round-off)
    assert euler_diffusion(c0, boundary="zero", **kw).sum() < 0.9 * c0.sum()  # leaks


def test_euler_and_gaussian_converge_to_the_analytic_solution():
    D, t, s0 = 1.0, 2.0, 1.5
    errors = []
    for dx in (0.4, 0.2, 0.1):
        x = np.arange(-30, 30, dx) + dx / 2
        c0 = np.exp(-x**2 / (2 * s0**2))
        s2 = s0**2 + 2 * D * t
        exact = s0 / np.sqrt(s2) * np.exp(-x**2 / (2 * s2))
        steps = int(np.ceil(t * D / (0.2 * dx**2)))
        errors.append(np.abs(euler_diffusion(c0, D=D, dx=dx, dt=t / steps, steps=steps)
                             - exact).max())
        # one Gaussian convolution of a sampled Gaussian: sampling error only
        assert np.abs(gaussian_diffusion(c0, D=D, dx=dx, t=t) - exact).max() < 1e-8
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # explicit Euler at fixed r: O(dt) + O(dx^2) = O(dx^2); observed 1.98-2.0
    np.testing.assert_allclose(orders, 2.0, atol=0.1)


# -- the cable link -------------------------------------------------------------------------

@pytest.mark.parametrize(("Rm", "Ri", "lam"), [(10_000, 150, 408.2), (40_000, 100, 1000.0),
                                               (20_000, 100, 707.1), (10_000, 100, 500.0)])
def test_length_constants_match_the_reference_table(Rm, Ri, lam):
    # docs/references.md#anchors-neuro-3-1 (computed from lambda = sqrt(Rm d / 4 Ri), d = 1 um)
    p = CableParameters(diameter_um=1.0, Rm_ohm_cm2=Rm, Ri_ohm_cm=Ri)
    assert p.length_constant_um == pytest.approx(lam, abs=0.05)  # table printed to 0.1 um
    assert p.tau_m_ms == pytest.approx(Rm * 1e-3, rel=1e-12)  # Cm = 1 uF/cm^2


def test_rallpack1_parameters():
    assert RALLPACK1.length_constant_um == pytest.approx(1000.0, rel=1e-12)
    assert RALLPACK1.tau_m_ms == pytest.approx(40.0, rel=1e-12)


def test_cable_greens_function_charge_decays_with_tau():
    x = np.linspace(-20_000, 20_000, 40_001)
    for t in (0.5, 5.0, 40.0):
        g = cable_greens_function(x, t, length_constant_um=1000.0, tau_m_ms=40.0)
        # integral over x = exp(-t/tau) (trapezoid on a fine, wide grid: 1e-9)
        assert np.trapezoid(g, x) == pytest.approx(np.exp(-t / 40.0), rel=1e-9)


def test_cable_euler_matches_greens_function_convolution():
    lam, tau, dx = 1000.0, 40.0, 10.0
    D = lam**2 / tau
    x = np.arange(-4000, 4000 + dx / 2, dx)
    v0 = 5.0 * np.exp(-x**2 / (2 * 30.0**2))
    t = 2.0
    steps = int(np.ceil(t / (0.8 * dx**2 / (2 * D + dx**2 / tau))))
    euler = euler_diffusion(v0, D=D, dx=dx, dt=t / steps, steps=steps, decay_rate=1 / tau,
                            boundary="zero")
    green = convolve(v0, cable_greens_function(x, t, length_constant_um=lam, tau_m_ms=tau),
                     "same", method="fft") * dx
    # Euler's O(dx^2) error at dx = 10 um vs a peak of ~0.5 mV: seen 4e-4 mV
    assert np.abs(euler - green).max() < 2e-3


# -- bad input -------------------------------------------------------------------------------

def test_diffusion_bad_input():
    with pytest.raises(ValueError, match=r"^D must be in \[0, inf\); got -1"):
        euler_step_kernel(D=-1.0, dx=1.0, dt=0.1, ndim=1)
    with pytest.raises(ValueError, match=r"^dt must be in \(0, 0.25\]; got 0.3"):
        euler_step_kernel(D=1.0, dx=1.0, dt=0.3, ndim=2)  # stability limit dx^2/(4D)
    with pytest.raises(ValueError, match=r"^dx must be in \(0, inf\)"):
        euler_diffusion(np.ones(5), D=1.0, dx=0.0, dt=0.1, steps=1)
    with pytest.raises(ValueError, match=r"^field must hold only finite values"):
        diffuse(np.array([1.0, np.nan, 1.0]), np.ones(3) / 3, steps=1)
    with pytest.raises(ValueError, match="kernel must have an odd size"):
        diffuse(np.ones(5), np.ones(2) / 2, steps=1)
    with pytest.raises(ValueError, match="boundary must be one of"):
        diffuse(np.ones(5), np.ones(3) / 3, steps=1, boundary="open")
    with pytest.raises(ValueError, match=r"^t_ms must be in \(0, inf\) ms; got 0 ms"):
        cable_greens_function(np.zeros(3), 0.0, length_constant_um=1.0, tau_m_ms=1.0)
    with pytest.raises(ValueError, match=r"^diameter_um must be in \(0, 1000\] µm; got -1 µm"):
        CableParameters(diameter_um=-1.0, Rm_ohm_cm2=1e4, Ri_ohm_cm=100.0)


# -- propagators ----------------------------------------------------------------------------

def test_softmax_propagator_sums_to_one_and_is_stable():
    k = np.array([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]])
    p = softmax_propagator(k)
    naive = np.exp(k) / np.exp(k).sum()
    np.testing.assert_allclose(p, naive, rtol=1e-14)  # same as the naive formula here
    big = softmax_propagator(k * 1e4)  # naive: exp(8e4) overflows to inf, inf/inf = NaN
    assert np.isfinite(big).all() and big.sum() == pytest.approx(1.0, abs=1e-15)
    assert big[1, 1] == 1.0
    flat = softmax_propagator(k, temperature=1e12)
    np.testing.assert_allclose(flat, 1 / 9, rtol=1e-9)  # infinite temperature -> uniform


def test_check_propagator_errors():
    with pytest.raises(ValueError, match="propagator must be non-negative"):
        check_propagator(np.array([1.5, -0.5]))
    with pytest.raises(ValueError, match="propagator must sum to 1"):
        check_propagator(np.array([0.5, 0.4]))
    with pytest.raises(ValueError, match=r"temperature must be in \(0, inf\)"):
        softmax_propagator(np.ones(3), temperature=0.0)


def test_stochastic_convolution_mean_within_clt_bound(rng):
    image = rng.random((12, 14))
    p = softmax_propagator(rng.standard_normal((3, 3)))
    est = stochastic_correlate(image, p, n_samples=2000, rng=rng)
    exact = correlate(image, p, "same")
    z = (est.mean - exact) / est.standard_error
    # 168 pixels: P(max |z| > 5) ~ 168 * 5.7e-7 < 1e-4 under the CLT
    assert np.abs(z).max() < 5.0
    # and the z-scores really have unit spread (chi-square with 168 dof: 0.75-1.25 is ~3 sigma)
    assert 0.75 < np.sqrt(np.mean(z**2)) < 1.25


def test_stochastic_convolution_is_reproducible_and_exact_for_delta(rng):
    image = rng.random((5, 6))
    p = softmax_propagator(rng.standard_normal((3, 3)))
    a = stochastic_correlate(image, p, n_samples=10, rng=np.random.default_rng(1))
    b = stochastic_correlate(image, p, n_samples=10, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.mean, b.mean)  # same seed, same numbers
    delta = np.zeros((3, 3))
    delta[1, 1] = 1.0
    d = stochastic_correlate(image, delta, n_samples=3, rng=rng)
    # a certain draw copies the pixel itself (mean of 3 equal numbers: round-off)
    np.testing.assert_allclose(d.mean, image, rtol=1e-15)
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        stochastic_correlate(image, p, n_samples=3, rng=1)
