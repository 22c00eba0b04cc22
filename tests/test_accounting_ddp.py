"""The α–β fit, DDP's communication predicted from it, and the check on a real engine.

Theory: the ring all-reduce :math:`T = 2(p-1)\\alpha + 2(p-1)/p\\,n\\beta` (Thakur et al.
2005; ``docs/references.md#anchors-accounting-3-2``) must give back α and β from noise-free times
exactly, and nccl-tests' bus bandwidth (§3.3) must equal 1/β for large messages. The 2-process gloo
check (``distributed``) runs in seconds; only the structure of its numbers is asserted
(finite, positive, the buckets adding up to the gradients), never their values.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocomp.accounting.ddp import (
    DDP_BUCKET_CAP_BYTES,
    DDP_FIRST_BUCKET_CAP_BYTES,
    DDPCheckConfig,
    DDPMeasurement,
    GradientReady,
    LayerGradient,
    fit_alpha_beta,
    predict_ddp_step,
    run_ddp_check,
    schedule_overlap,
)
from neurocomp.accounting.ddp.ddp_fit import busbw_of
from neurocomp.accounting.machine import MachineBenchmark, Probe
from neurocomp.accounting.machine.machine_rates import RatePoint
from neurocomp.accounting.network import AlphaBeta, ring_allreduce_time_s
from neurocomp.accounting.network.collectives import busbw_bytes_per_s

ROUND_OFF = 1e-9  # least squares on exact data: a few ulps relative


def ring_times(sizes, *, alpha, bandwidth, p):
    link = AlphaBeta(bandwidth_bytes_per_s=bandwidth, latency_s=alpha)
    return [ring_allreduce_time_s(n, p, link) for n in sizes]


SIZES = [4e3 * 4**k for k in range(8)]


@pytest.mark.parametrize("p", [2, 4, 8])
def test_fit_recovers_alpha_and_beta_from_exact_ring_times(p):
    times = ring_times(SIZES, alpha=25e-6, bandwidth=12.5e9, p=p)
    fit = fit_alpha_beta(SIZES, times, n_ranks=p)
    assert fit.alpha_s == pytest.approx(25e-6, rel=ROUND_OFF)
    assert fit.bandwidth_bytes_per_s == pytest.approx(12.5e9, rel=ROUND_OFF)
    assert fit.beta_s_per_byte == pytest.approx(1 / 12.5e9, rel=ROUND_OFF)
    assert fit.rms_rel_residual < 1e-12
    # the ring's factors were divided out: intercept 2(p−1)α, slope 2(p−1)/p·β
    assert fit.intercept_s == pytest.approx(2 * (p - 1) * 25e-6, rel=ROUND_OFF)
    assert fit.slope_s_per_byte == pytest.approx(2 * (p - 1) / p / 12.5e9, rel=ROUND_OFF)
    for n, t in zip(SIZES, times, strict=True):
        assert fit.allreduce_time_s(n) == pytest.approx(t, rel=ROUND_OFF)


def test_fit_with_noise_stays_close():
    rng = np.random.default_rng(7)
    times = np.array(ring_times(SIZES, alpha=300e-6, bandwidth=1.2e9, p=2))
    noisy = times * np.exp(rng.normal(0.0, 0.05, size=times.size))  # 5 % log-normal jitter
    fit = fit_alpha_beta(SIZES, noisy, n_ranks=2)
    # 8 points at 5 % scatter: each parameter within ~3 standard errors (≈ 15 %)
    assert fit.alpha_s == pytest.approx(300e-6, rel=0.15)
    assert fit.bandwidth_bytes_per_s == pytest.approx(1.2e9, rel=0.15)
    assert 0.01 < fit.rms_rel_residual < 0.1


def test_busbw_of_large_messages_is_the_link_bandwidth():
    p, n = 4, 1e10  # latency negligible at 10 GB
    t = ring_times([n], alpha=5e-6, bandwidth=25e9, p=p)[0]
    assert busbw_of(n, t, p) == pytest.approx(busbw_bytes_per_s("allreduce", n, p, t),
                                             rel=1e-15)
    assert busbw_of(n, t, p) == pytest.approx(25e9, rel=1e-4)  # 2(p−1)α / T ≈ 6e-6


def test_fit_errors_name_the_problem():
    with pytest.raises(ValueError, match="at least two distinct message sizes"):
        fit_alpha_beta([1e6, 1e6], [1e-3, 1e-3], n_ranks=2)
    with pytest.raises(ValueError, match="same length; got 3 and 2"):
        fit_alpha_beta([1e3, 1e6, 1e7], [1e-3, 2e-3], n_ranks=2)
    with pytest.raises(ValueError, match=r"slope .* is not positive"):
        fit_alpha_beta([1e3, 1e6], [2e-3, 1e-3], n_ranks=2)
    with pytest.raises(ValueError, match=r"n_ranks must be an integer in \[2, inf\]; got 1"):
        fit_alpha_beta([1e3, 1e6], [1e-3, 2e-3], n_ranks=1)
    with pytest.raises(ValueError, match=r"times_s entry must be in \(0, inf\) s; got 0 s"):
        fit_alpha_beta([1e3, 1e6], [0.0, 2e-3], n_ranks=2)


# -- DDP's buckets and overlap, by hand ------------------------------------------------------

def test_predicted_ddp_step_by_hand():
    fit = fit_alpha_beta(SIZES, ring_times(SIZES, alpha=1e-4, bandwidth=1e9, p=2), n_ranks=2)
    mib = 2**20
    layers = [  # backward order: output layer first
        LayerGradient(name="fc", n_bytes=2 * mib, backward_s=0.01),   # 2 MiB ≥ 1 MiB: bucket 0
        LayerGradient(name="relu", n_bytes=0.0, backward_s=0.005),
        LayerGradient(name="conv2", n_bytes=20 * mib, backward_s=0.02),
        LayerGradient(name="conv1", n_bytes=10 * mib, backward_s=0.03),  # 30 MiB ≥ 25: bucket 1
    ]
    pred = predict_ddp_step(layers, fit=fit, forward_s=0.02, optimizer_s=0.004,
                            backward_fixed_s=0.001)
    assert pred.bucket_bytes == (2 * mib, 30 * mib)
    t0 = fit.allreduce_time_s(2 * mib)   # 2α + n/B on 2 ranks
    t1 = fit.allreduce_time_s(30 * mib)
    assert t0 == pytest.approx(2e-4 + 2 * mib / 1e9, rel=ROUND_OFF)
    assert pred.communication_s == pytest.approx(t0 + t1, rel=ROUND_OFF)
    # bucket 0 is ready at 1 + 10 ms; bucket 1 when conv1 ends, at 66 ms = end of backward,
    # so its whole all-reduce is exposed (bucket 0 ended long before)
    b0, b1 = pred.schedule.buckets
    assert b0.start_s == pytest.approx(0.011, rel=ROUND_OFF)
    assert b1.start_s == pytest.approx(0.066, rel=ROUND_OFF)
    assert pred.backward_s == pytest.approx(0.066, rel=ROUND_OFF)
    assert pred.exposed_communication_s == pytest.approx(t1, rel=ROUND_OFF)
    assert pred.step_s == pytest.approx(0.02 + 0.066 + t1 + 0.004, rel=ROUND_OFF)
    # without overlap everything waits for the end of the backward pass
    serial = predict_ddp_step(layers, fit=fit, forward_s=0.02, overlap=False)
    assert serial.exposed_communication_s == pytest.approx(t0 + t1, rel=ROUND_OFF)


def test_default_caps_are_torchs():
    assert DDP_FIRST_BUCKET_CAP_BYTES == 2**20 and DDP_BUCKET_CAP_BYTES == 25 * 2**20


def test_predict_ddp_step_errors():
    fit = fit_alpha_beta(SIZES, ring_times(SIZES, alpha=1e-4, bandwidth=1e9, p=2), n_ranks=2)
    with pytest.raises(ValueError, match="at least one LayerGradient"):
        predict_ddp_step([], fit=fit, forward_s=0.0)
    with pytest.raises(ValueError, match=r"fc: n_bytes must be in \[0, inf\) B; got -1 B"):
        LayerGradient(name="fc", n_bytes=-1.0, backward_s=0.0)
    with pytest.raises(TypeError, match="fit must be an AlphaBetaFit"):
        predict_ddp_step([LayerGradient(name="a", n_bytes=1.0, backward_s=0.0)],
                         fit=AlphaBeta(bandwidth_bytes_per_s=1e9, latency_s=0.0), forward_s=0.0)


def test_bad_engine_settings_are_named():
    from neurocomp_models.convnets import cifar_net

    with pytest.raises(ValueError, match=r"world_size must be an integer in \[2, inf\]; got 1"):
        run_ddp_check(DDPCheckConfig(build=cifar_net, sample_shape=(3, 32, 32), n_classes=10),
                      world_size=1)
    with pytest.raises(ValueError, match=r"world_size must be an integer in \[2, inf\]; got 0"):
        run_ddp_check(DDPCheckConfig(build=cifar_net, sample_shape=(3, 32, 32), n_classes=10),
                      world_size=0)
    with pytest.raises(ValueError, match="sweep_bytes needs at least two distinct sizes"):
        DDPCheckConfig(build=cifar_net, sample_shape=(3, 32, 32), n_classes=10,
                       sweep_bytes=(1e6,))
    with pytest.raises(ValueError, match=r"batch_per_rank must be an integer in \[1, inf\]"):
        DDPCheckConfig(build=cifar_net, sample_shape=(3, 32, 32), n_classes=10,
                       batch_per_rank=0)
    with pytest.raises(TypeError, match="build must be callable"):
        DDPCheckConfig(build="cifar_net", sample_shape=(3, 32, 32), n_classes=10)


# -- the analysis on recorded numbers (no processes) --------------------------------------------

def synthetic_machine() -> MachineBenchmark:
    def pt(rate):
        return RatePoint(label="p", work_per_call=1e6, rate_per_s=rate, time_s=1e6 / rate,
                         intensity_flop_per_byte=10.0)

    return MachineBenchmark(
        tables={"matmul": (pt(5e10),), "convolution2d:forward": (pt(4e10),),
                "convolution2d:backward": (pt(3e10),)},
        bandwidth=(RatePoint(label="bw", work_per_call=1e6, rate_per_s=1e10, time_s=1e-4),),
        fresh_allocation_s_per_byte=5e-10, op_overhead_s=2e-6, autograd_op_overhead_s=5e-6,
        backward_call_s=6e-5, reference=Probe(flop_per_s=5e10, bytes_per_s=1e10), threads=1)


def test_ddp_validation_analysis_on_recorded_numbers(tmp_path):
    from neurocomp_analyses.ddp_validation import analyse, cifar_net_10

    config = DDPCheckConfig(build=cifar_net_10, sample_shape=(3, 32, 32), n_classes=10,
                            batch_per_rank=4, steps=3, warmup_steps=1, repeats=3,
                            sweep_bytes=tuple(SIZES))
    sweep_t = ring_times(SIZES, alpha=300e-6, bandwidth=1.2e9, p=2)
    grads = 4.0 * sum(p.numel() for p in cifar_net_10().parameters())
    iso = ring_times([grads], alpha=300e-6, bandwidth=1.2e9, p=2)[0]
    measured = DDPMeasurement(
        world_size=2, backend="gloo",
        sweep=tuple((n, (t * 0.98, t, t * 1.03)) for n, t in zip(SIZES, sweep_t, strict=True)),
        local_step_s=(0.05, 0.052, 0.051), ddp_step_s=(0.06, 0.061, 0.059),
        bucket_bytes=(grads,), bucket_busy_s=(0.004, 0.005, 0.0045), exposed_s=(0.002,) * 3,
        bucket_isolated_s=(iso,), probe=Probe(flop_per_s=5e10, bytes_per_s=1e10),
        load_average=(1.0, 1.0, 1.0))
    r = analyse(measured, config=config, machine=synthetic_machine(), quick=True, seed=0)
    h = r.headline
    assert h["allreduce_alpha_us"] == pytest.approx(300.0, rel=1e-6)
    assert h["allreduce_bandwidth_GB_per_s"] == pytest.approx(1.2, rel=1e-6)
    # one bucket of the whole gradient (< 1 MiB): predicted = that all-reduce on the fit
    assert h["bucket_count_predicted"] == h["bucket_count_ddp"] == 1
    # the sanity check interpolates the sweep: the fit reproduces its own line exactly
    assert h["sanity_rel_error_ddp_communication_alone"] == pytest.approx(0.0, abs=1e-6)
    # no contention measured: the in-step prediction is the plain overlap (1e-12: same sums)
    assert h["contention_comm_slowdown"] is None
    assert h["rel_error_ddp_step_time"] == pytest.approx(
        h["rel_error_ddp_step_time_without_contention"], abs=1e-12)
    out = r.save(tmp_path / "ddp-validation")
    assert (out / "figure.png").exists() and (out / "meta.json").exists()

    # with a contention measurement (all-reduce 3× slower, backward 1.2× slower while
    # shared): the predicted in-step communication and the step both grow
    shared = dataclasses.replace(measured, contention_comm_shared_s=(3 * iso,),
                                 contention_compute_alone_s=(0.03,),
                                 contention_compute_shared_s=(0.03 + 3 * iso * (1 - 1 / 1.2),))
    assert shared.contention.comm_slowdown == pytest.approx(3.0, rel=1e-9)
    assert shared.contention.compute_slowdown == pytest.approx(1.2, rel=1e-9)
    h2 = analyse(shared, config=config, machine=synthetic_machine(), quick=True,
                 seed=0).headline
    assert h2["ddp_communication_predicted_s"] > h["ddp_communication_predicted_s"]
    assert h2["ddp_step_predicted_s"] > h["ddp_step_predicted_s"]
    assert "predicts the real DDP step" in analyse(shared, config=config,
                                                    machine=synthetic_machine(), quick=True,
                                                    seed=0).claim


# -- the real engine ------------------------------------------------------------------------

@pytest.mark.distributed
def test_two_gloo_processes_measure_sweep_and_ddp_steps():
    from neurocomp_analyses.ddp_validation import cifar_net_10

    config = DDPCheckConfig(build=cifar_net_10, sample_shape=(3, 32, 32), n_classes=10,
                            batch_per_rank=4, steps=2, warmup_steps=1, repeats=2,
                            sweep_bytes=(4e3, 6.4e4, 1e6))
    from torch.multiprocessing import ProcessExitedException

    try:
        m = run_ddp_check(config, world_size=2)
    except ProcessExitedException:
        # a gloo child was seen to abort (SIGABRT, no traceback) in 2 of 4 full-suite runs
        # on this shared 2-core machine, never alone: one retry; a second failure fails
        m = run_ddp_check(config, world_size=2)
    assert m.world_size == 2 and m.backend in ("gloo", "nccl")
    assert m.sweep_bytes == (4e3, 6.4e4, 1e6)
    for value in (*m.sweep_median_s, *m.local_step_s, *m.ddp_step_s, *m.bucket_isolated_s,
                  *m.bucket_busy_s, m.probe.flop_per_s, m.probe.bytes_per_s):
        assert math.isfinite(value) and value > 0
    assert len(m.local_step_s) == len(m.ddp_step_s) == 2
    assert all(math.isfinite(v) and v >= 0 for v in m.exposed_s)
    # DDP's buckets hold every gradient once: 4 bytes per trainable parameter
    params = sum(p.numel() for p in cifar_net_10().parameters() if p.requires_grad)
    assert sum(m.bucket_bytes) == 4 * params
    assert len(m.bucket_isolated_s) == len(m.bucket_bytes)
    assert statistics.median(m.ddp_step_s) > 0 and torch.get_num_threads() >= 1


@pytest.mark.slow
@pytest.mark.distributed
def test_ddp_validation_quick_run_and_figure(tmp_path):
    from neurocomp_analyses import ddp_validation

    r = ddp_validation.run(quick=True, seed=0)
    r.save(tmp_path / "ddp-validation")
    h = r.headline
    assert h["allreduce_alpha_us"] > 0 and h["allreduce_bandwidth_GB_per_s"] > 0
    assert h["bucket_count_predicted"] == h["bucket_count_ddp"]
    # the bars of the issue, on the quick run's own measurement (a shared 2-core machine:
    # a miss here is a real miss of the model, reported, not a flaky test to retry)
    assert abs(h["rel_error_ddp_communication_time_in_step"]) <= h["target_comm_rel_error"]
    assert abs(h["rel_error_ddp_step_time"]) <= h["target_step_rel_error"]


# -- shared cores: the contention model -------------------------------------------------------

def test_contended_timeline_by_hand():
    from neurocomp.accounting.ddp.contention import Contention, contended_timeline

    # one 1 s all-reduce ready at once, 2 s of backward work, both slowed 2× while shared:
    # both progress at 1/2 until the all-reduce ends at t = 2 s (backward 1 s done), the
    # remaining 1 s of backward runs alone → ends at 3 s. Exact arithmetic: tolerance 1e-12.
    buckets, end = contended_timeline([0.0], [1.0], backward_work_s=2.0,
                                      contention=Contention(comm_slowdown=2.0,
                                                            compute_slowdown=2.0))
    assert buckets[0] == pytest.approx((0.0, 0.0, 2.0), abs=1e-12)
    assert end == pytest.approx(3.0, abs=1e-12)
    # a bucket ready at the end of the backward pass runs alone, unslowed
    buckets, end = contended_timeline([2.0], [1.0], backward_work_s=2.0,
                                      contention=Contention(comm_slowdown=5.0,
                                                            compute_slowdown=5.0))
    assert buckets[0] == pytest.approx((2.0, 2.0, 3.0), abs=1e-12) and end == 2.0


def test_slowdowns_from_overlap_invert_the_timeline():
    from neurocomp.accounting.ddp.contention import (
        Contention,
        contended_timeline,
        slowdowns_from_overlap,
    )

    truth = Contention(comm_slowdown=2.5, compute_slowdown=1.4)
    (_, _, comm_end), burst_end = contended_timeline([0.0], [0.3], backward_work_s=2.0,
                                                     contention=truth)[0][0], \
        contended_timeline([0.0], [0.3], backward_work_s=2.0, contention=truth)[1]
    got = slowdowns_from_overlap(comm_alone_s=0.3, compute_alone_s=2.0,
                                 comm_shared_s=comm_end, compute_shared_s=burst_end)
    # the experiment's algebra inverts the model exactly (1e-9: float round-off)
    assert got.comm_slowdown == pytest.approx(2.5, rel=1e-9)
    assert got.compute_slowdown == pytest.approx(1.4, rel=1e-9)
    with pytest.raises(ValueError, match="must end before the burst"):
        slowdowns_from_overlap(comm_alone_s=1, compute_alone_s=1, comm_shared_s=2,
                               compute_shared_s=1.5)
    with pytest.raises(ValueError, match="comm_slowdown"):
        Contention(comm_slowdown=0.5)


@given(st.lists(st.tuples(st.floats(0, 0.01), st.floats(0, 3e7)), min_size=1, max_size=10),
       st.floats(0, 0.01), st.booleans())
@settings(max_examples=60, deadline=None)
def test_no_contention_is_the_plain_overlap(grads, tail, overlap):
    from neurocomp.accounting.ddp.contention import Contention

    t, ready = 0.0, []
    for i, (dt, n) in enumerate(grads):
        t += dt
        ready.append(GradientReady(name=f"g{i}", ready_s=t, n_bytes=n))
    def comm(_, n):
        return 1e-4 + n / 1e9
    plain = schedule_overlap(ready, comm_time_s=comm, backward_end_s=t + tail, overlap=overlap)
    same = schedule_overlap(ready, comm_time_s=comm, backward_end_s=t + tail, overlap=overlap,
                            contention=Contention())
    # factors of 1 leave the plain schedule (1e-9 s: the event loop's float sums)
    assert len(plain.buckets) == len(same.buckets)
    for a, b in zip(plain.buckets, same.buckets, strict=True):
        assert (a.ready_s, a.start_s, a.end_s) == pytest.approx((b.ready_s, b.start_s, b.end_s),
                                                               abs=1e-9)
    assert same.backward_end_s == pytest.approx(plain.backward_end_s, abs=1e-12)
