"""Passive kernels: eigen-decomposition against closed forms and Brian2; linear tools."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurocomp.biophysics import Morphology, Section
from neurocomp.biophysics.morphology import ball_and_stick
from neurocomp.biophysics.receptors import AMPA
from neurocomp.mapping.kernels import impulse_responses, passive_system, synaptic_kernels
from neurocomp.mapping.linear import (
    KernelConv1d,
    exponential_basis,
    fit_kernels,
    predict_voltage,
    variance_explained,
)


def _bs() -> Morphology:
    return ball_and_stick(soma_diameter_um=20, dendrite_length_um=600, dendrite_diameter_um=2,
                          n_compartments=40)


def test_single_compartment_is_an_rc_circuit():
    soma = Section(name="soma", region="soma", parent=None, lengths_um=(20.0,),
                   diameters_um=(20.0,), is_soma=True)
    s = passive_system(Morphology((soma,)), Ri_ohm_cm=100, gL_S_per_cm2=1 / 20_000,
                       Cm_uF_per_cm2=1.0)
    assert s.membrane_time_constant_ms == pytest.approx(20.0, rel=1e-12)  # R_m C_m
    t = np.linspace(0, 100, 11)
    area_cm2 = np.pi * (20e-4) ** 2
    c_pF = 1.0 * area_cm2 * 1e6
    # 1 pC into C pF gives 1/C V, decaying with tau (closed form; round-off)
    np.testing.assert_allclose(impulse_responses(s, inputs=[0], output=0, t_ms=t)[0],
                               1e3 / c_pF * np.exp(-t / 20.0), rtol=1e-10)


def test_kernel_integrals_equal_the_steady_state_transfer_resistance():
    m = _bs()
    s = passive_system(m, Ri_ohm_cm=100, gL_S_per_cm2=5e-5, Cm_uF_per_cm2=1.0)
    t = np.arange(0, 600, 0.01)
    h = impulse_responses(s, inputs=[0, 20, 40], output=0, t_ms=t)
    transfer = np.linalg.inv(s.conductance_S)[0, [0, 20, 40]] * 1e3 * 1e-12 * 1e3  # mV/(pC/ms)
    # integral of the impulse response = DC transfer resistance (30 tau of tail, trapezoid)
    np.testing.assert_allclose(np.trapezoid(h, t, axis=1), transfer, rtol=1e-3)
    # a uniform passive tree's slowest mode is tau_m = R_m C_m (Rall 1969); Brian2's ~1 S
    # soma coupling beside ~1 nS dendritic ones leaves eigh a condition number ~1e9 (seen
    # 6e-8 relative error)
    assert s.membrane_time_constant_ms == pytest.approx(20.0, rel=1e-6)
    # and attenuation grows with distance
    assert h[0].max() > h[1].max() > h[2].max()


def test_synaptic_kernel_is_impulse_response_convolved_with_the_current():
    s = passive_system(_bs(), Ri_ohm_cm=100, gL_S_per_cm2=5e-5, Cm_uF_per_cm2=1.0)
    dt = 0.005
    t = np.arange(0, 100, dt)
    h = impulse_responses(s, inputs=[20], output=0, t_ms=t)[0]  # mV per pC
    current_pA = 10.0 * AMPA.normalisation * (np.exp(-t / 3.0) - np.exp(-t / 0.3))
    numeric = np.convolve(h, current_pA)[: t.size] * dt * 1e-3  # pA x ms = 1e-3 pC
    closed = synaptic_kernels(s, inputs=[20], output=0, t_ms=t, receptor=AMPA,
                              weight_pA=10.0)[0]
    # rectangle-rule convolution at 5 us: error ~ dt x slope, < 0.5 % of the peak
    assert np.abs(numeric - closed).max() < 5e-3 * closed.max()


@pytest.mark.cpp_standalone
def test_analytic_kernels_match_brian2_impulse_responses():
    from neurocomp.biophysics.channels import ChannelDensities
    from neurocomp.biophysics.model import NeuronModel, SynapseGroup
    from neurocomp.mapping.linear import impulse_response_kernels

    comps = (0, 10, 40)
    dens = ChannelDensities(gL_mS_cm2=0.05)
    model = NeuronModel(name="passive_bs", morphology=_bs(), Ri_ohm_cm=100.0,
                        densities={"soma": dens, "dendrite": dens},
                        synapse_groups=(SynapseGroup(name="s", n_synapses=3, n_sources=3,
                                                     compartments=comps,
                                                     receptors={"ampa": 10.0}),))
    got_comps, sim = impulse_response_kernels(model, group="s", t_ms=160.0, dt_ms=0.025)
    s = passive_system(model.morphology, Ri_ohm_cm=100, gL_S_per_cm2=5e-5, Cm_uF_per_cm2=1.0)
    ref = synaptic_kernels(s, inputs=list(got_comps), output=0,
                           t_ms=np.arange(sim.shape[1]) * 0.025, receptor=AMPA,
                           weight_pA=10.0)
    # issue: analytic and impulse-response kernels agree to 1 % of their peak; the residual
    # is Brian2's first-order time stepping at dt = 25 us (seen 0.6 %)
    assert np.all(np.abs(sim - ref).max(axis=1) < 0.01 * ref.max(axis=1))


def test_conv1d_direct_fft_and_numpy_agree(rng):
    k = rng.random((3, 40))
    x = (rng.random((3, 300)) < 0.1).astype(float)
    ref = predict_voltage(x, k) - 65.0
    for method in ("direct", "fft"):
        layer = KernelConv1d(k, offset=-65.0, method=method)
        with torch.no_grad():
            y = layer(torch.from_numpy(x[None]))[0, 0].numpy()
        np.testing.assert_allclose(y, ref, atol=1e-12)  # round-off
    # causal: an input at t changes nothing before t
    x2 = x.copy()
    x2[:, 200] += 1
    y1 = KernelConv1d(k)(torch.from_numpy(x[None]))[0, 0].detach().numpy()
    y2 = KernelConv1d(k)(torch.from_numpy(x2[None]))[0, 0].detach().numpy()
    np.testing.assert_array_equal(y1[:200], y2[:200])


def test_least_squares_recovers_kernels_in_the_basis(rng):
    dt, taps = 0.1, 600
    basis = exponential_basis(taps, dt_ms=dt, taus_ms=[1.0, 5.0, 20.0], tau_rise_ms=0.3,
                              tau_decay_ms=3.0)
    true = np.array([[1.0, 0.5, 2.0], [0.2, 1.5, 0.7]]) @ basis
    x = (rng.random((2, 20_000)) < 0.02).astype(float)
    y = -65.0 + predict_voltage(x, true)
    got, off = fit_kernels(x, y, basis=basis, ridge=0.0, offset_mV=-65.0)
    np.testing.assert_allclose(got, true, atol=1e-8)  # noise-free, in the span: exact
    assert off == -65.0
    got2, off2 = fit_kernels(x, y, basis=basis, ridge=0.0)
    assert off2 == pytest.approx(-65.0, abs=1e-6)  # random input: offset identifiable
    assert variance_explained(y, -65.0 + predict_voltage(x, got2)) > 1 - 1e-10


def test_linear_tool_errors():
    with pytest.raises(ValueError, match="kernels are longer"):
        predict_voltage(np.ones((1, 10)), np.ones((1, 20)))
    with pytest.raises(ValueError, match="must match in their first axis"):
        predict_voltage(np.ones((2, 10)), np.ones((1, 5)))
    with pytest.raises(ValueError, match="y is constant"):
        variance_explained(np.ones(5), np.zeros(5))
    with pytest.raises(ValueError, match=r"input must be \(batch, 2, time\)"):
        KernelConv1d(np.ones((2, 3)))(torch.ones(1, 3, 10))
    with pytest.raises(ValueError, match=r"gL_S_per_cm2 must be > 0 in every compartment; "
                                         r"got 0 at compartment 0"):
        passive_system(_bs(), Ri_ohm_cm=100, gL_S_per_cm2=0.0, Cm_uF_per_cm2=1.0)
