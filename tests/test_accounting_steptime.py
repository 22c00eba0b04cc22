"""One-device step time: micro-benchmarks, the op-by-op price of a counted step, and the
measurement of real steps.

The pricing is checked on machines written by hand (known rates, so every time has a closed
form); the micro-benchmarks and step timings run for real on tiny sizes, and only their
structure is asserted (positive, finite, the right shapes): timing numbers are never
compared with thresholds.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from neurocomp.accounting import benchmark_machine, count, predict_step, step_time
from neurocomp.accounting.hardware import Device
from neurocomp.accounting.machine import (
    MachineBenchmark,
    Probe,
    StepPrediction,
    conv_dims,
    count_optimizer_step,
    measure_training_step,
    probe,
    torch_threads,
)
from neurocomp.accounting.machine.machine_rates import MMAP_THRESHOLD_BYTES, RatePoint
from neurocomp.accounting.machine.microbench import MicroBenchmark, measure_bandwidth, measure_table
from neurocomp.accounting.machine.step_measure import sgd
from neurocomp.accounting.parallel import scaling_curve
from neurocomp.layers import CausalConv1d
from neurocomp.timing import measure

ROUND_OFF = 1e-12  # a handful of float operations


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny ops: one thread avoids OpenMP spin-waits when other jobs share the 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def point(rate: float, intensity: float = 10.0, label: str = "p") -> RatePoint:
    return RatePoint(label=label, work_per_call=1e6, rate_per_s=rate, time_s=1e6 / rate,
                     intensity_flop_per_byte=intensity)


def machine(*, matmul: float = 1e10, conv: float = 5e9, conv1d: float | None = None,
            bandwidth: float = 1e10, fresh: float = 0.0, op: float = 0.0,
            autograd_op: float = 0.0, backward_call: float = 0.0) -> MachineBenchmark:
    """A machine with one rate per table (no size dependence): closed-form times."""
    tables = {"matmul": (point(matmul),), "convolution2d:forward": (point(conv),),
              "convolution2d:backward": (point(conv),)}
    if conv1d is not None:
        tables |= {"convolution1d:forward": (point(conv1d),),
                   "convolution1d:backward": (point(conv1d),)}
    bw = (RatePoint(label="bw", work_per_call=1e6, rate_per_s=bandwidth, time_s=1e6 / bandwidth),)
    return MachineBenchmark(tables=tables, bandwidth=bw, fresh_allocation_s_per_byte=fresh,
                            op_overhead_s=op, autograd_op_overhead_s=autograd_op,
                            backward_call_s=backward_call,
                            reference=Probe(flop_per_s=matmul, bytes_per_s=bandwidth),
                            threads=1)


class TinyNet(nn.Module):
    """conv → relu → pool → linear: one op of each kind the model prices differently."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(F.relu(self.conv(x))), 1))


def tiny_case(batch: int = 4, seed: int = 0):
    torch.manual_seed(seed)
    net = TinyNet()
    x = torch.randn(batch, 3, 8, 8)
    y = torch.randint(0, 5, (batch,))
    return net, x, (lambda out: F.cross_entropy(out, y))


# -- pricing on hand-written machines ----------------------------------------------------------

def test_prediction_structure_and_totals():
    net, x, loss = tiny_case()
    report = count(net, x, loss=loss)
    pred = predict_step(report, machine(backward_call=1e-3),
                        optimizer_report=count_optimizer_step(net), conv_dims=conv_dims(net))
    assert isinstance(pred, StepPrediction)
    assert {o.phase for o in pred.ops} == {"forward", "backward", "optimizer"}
    # the total is the three phases, the backward call's fixed cost in the backward
    assert pred.step_s == pytest.approx(pred.forward_s + pred.backward_s + pred.optimizer_s,
                                        rel=ROUND_OFF)
    assert pred.backward_s == pytest.approx(pred.phase_s("backward") + 1e-3, rel=ROUND_OFF)
    assert sum(pred.by("kind").values()) == pytest.approx(pred.step_s - pred.fixed_s,
                                                          rel=ROUND_OFF)
    frame = pred.to_frame()
    assert len(frame) == len(pred.ops) and {"time_s", "bound", "table"} <= set(frame.columns)
    # the loss is priced too (under "(loss)"), and every op has a finite, non-negative time
    assert any(o.module == "(loss)" for o in pred.ops)
    assert all(math.isfinite(o.time_s) and o.time_s >= 0 for o in pred.ops)


def test_each_kind_is_priced_by_its_own_rate():
    net, x, loss = tiny_case()
    report = count(net, x, loss=loss)
    m = machine(matmul=1e10, conv=2e9, bandwidth=1e20)  # memory free: compute-bound ops
    pred = predict_step(report, m, conv_dims=conv_dims(net))
    for op in pred.ops:
        if op.kind == "matmul":  # mm / addmm: FLOPs / matmul rate (1 point: constant rate)
            assert op.compute_s == pytest.approx(op.flop / 1e10, rel=ROUND_OFF)
            assert op.table == "matmul"
        if op.kind == "convolution":  # the 2-D convolution tables (the median of one point)
            assert op.compute_s == pytest.approx(op.flop / 2e9, rel=ROUND_OFF)
            assert op.table == f"convolution2d:{op.phase}"
        if op.kind in ("pointwise", "pooling", "reduction"):  # no table: peak, i.e. matmul's
            assert op.table == "bandwidth"
            assert op.compute_s == pytest.approx(op.flop / 1e10, rel=ROUND_OFF)


def test_memory_bound_ops_take_bytes_over_bandwidth_and_overheads_add_per_call():
    net, x, loss = tiny_case()
    report = count(net, x, loss=loss)
    m = machine(matmul=1e20, conv=1e20, bandwidth=1e9, autograd_op=1e-5)
    pred = predict_step(report, m)
    for op in pred.ops:
        # with infinitely fast arithmetic every op is bytes / bandwidth + 10 µs per call
        assert op.time_s == pytest.approx(op.bytes_moved / 1e9 + 1e-5 * op.calls, rel=1e-9)
    total_bytes = report.bytes_read() + report.bytes_written()
    calls = sum(o.calls for o in report.ops)
    assert pred.step_s == pytest.approx(total_bytes / 1e9 + 1e-5 * calls, rel=1e-9)


def test_fresh_allocation_is_charged_above_the_mmap_threshold_only():
    # a Linear whose weight gradient (out × in float32) is 40 MiB > 32 MiB: re-mapped each step
    big = nn.Linear(2048, 5120, bias=False)
    report = count(big, torch.randn(2, 2048))
    m = machine(fresh=1e-9)
    pred = predict_step(report, m)
    charged = [o for o in pred.ops if o.allocation_s > 0]
    assert charged and all(o.phase == "backward" and o.kind == "matmul" for o in charged)
    grad_w = 2048 * 5120 * 4
    assert grad_w > MMAP_THRESHOLD_BYTES
    assert sum(o.allocation_s for o in charged) == pytest.approx(grad_w * 1e-9, rel=1e-6)


def test_one_d_convolutions_use_their_own_tables():
    net = nn.Sequential(CausalConv1d(4, 6, 5), nn.ReLU(), nn.Conv1d(6, 2, 1))
    report = count(net, torch.randn(2, 4, 32))
    dims = conv_dims(net)
    assert dims == {"0": 1, "2": 1}
    pred = predict_step(report, machine(conv=1e9, conv1d=3e9, bandwidth=1e20), conv_dims=dims)
    convs = [o for o in pred.ops if o.kind == "convolution"]
    assert convs and all(o.table.startswith("convolution1d") for o in convs)
    assert all(o.compute_s == pytest.approx(o.flop / 3e9, rel=ROUND_OFF) for o in convs)
    # without the dimensions, the convolutions of every dimensionality are pooled
    pooled = predict_step(report, machine(conv=1e9, conv1d=3e9, bandwidth=1e20))
    assert {o.table for o in pooled.ops if o.kind == "convolution"} == {
        "convolution:forward", "convolution:backward"}


def test_prediction_grows_with_the_batch():
    m = machine(matmul=5e10, conv=3e10, bandwidth=1e10, autograd_op=5e-6, backward_call=5e-5)
    times = []
    for batch in (1, 4, 16, 64):
        net, x, loss = tiny_case(batch)
        times.append(predict_step(count(net, x, loss=loss), m,
                                  optimizer_report=count_optimizer_step(net)).step_s)
    assert all(a < b for a, b in itertools.pairwise(times))
    # the per-sample time falls (fixed costs spread over more samples) but stays positive
    per_sample = [t / b for t, b in zip(times, (1, 4, 16, 64), strict=True)]
    assert per_sample[-1] < per_sample[0]


def test_scaled_machine_moves_compute_and_memory_apart():
    m = machine(matmul=1e10, conv=2e10, bandwidth=1e10, op=1e-6, autograd_op=2e-6,
                backward_call=1e-4, fresh=1e-9)
    slow = m.scaled(Probe(flop_per_s=0.5e10, bytes_per_s=2e10))  # half the compute, 2× bw
    assert slow.flop_per_s("matmul", 10.0) == pytest.approx(0.5e10, rel=ROUND_OFF)
    assert slow.flop_per_s("convolution2d:forward", 10.0) == pytest.approx(1e10, rel=ROUND_OFF)
    assert slow.bandwidth_bytes_per_s(1e6) == pytest.approx(2e10, rel=ROUND_OFF)
    assert slow.autograd_op_overhead_s == pytest.approx(4e-6, rel=ROUND_OFF)
    assert slow.fresh_allocation_s_per_byte == pytest.approx(0.5e-9, rel=ROUND_OFF)
    assert slow.reference == Probe(flop_per_s=0.5e10, bytes_per_s=2e10)


def test_matmul_rate_is_interpolated_in_intensity_and_conv_rate_is_the_median():
    mm = (point(1e9, 1.0), point(1e10, 100.0))
    convs = (point(1e9, 1.0), point(4e9, 5.0), point(2e9, 500.0))
    m = dataclasses.replace(machine(), tables={"matmul": mm, "convolution2d:forward": convs})
    # log–log: halfway in log intensity is halfway in log rate; clamped outside the range
    assert m.flop_per_s("matmul", 10.0) == pytest.approx(math.sqrt(1e9 * 1e10), rel=1e-9)
    assert m.flop_per_s("matmul", 1e4) == pytest.approx(1e10, rel=ROUND_OFF)
    assert m.flop_per_s("convolution2d:forward", 1e6) == 2e9  # median of 1, 4, 2 GFLOP/s
    assert m.table_for("aten.mm", "matmul", "forward") == "matmul"
    assert m.table_for("aten.relu", "pointwise", "forward") is None
    with pytest.raises(KeyError, match="no table 'pooling:forward'"):
        m.flop_per_s("pooling:forward", 1.0)


def test_device_is_the_best_matmul_and_dram_bandwidth():
    m = dataclasses.replace(machine(), tables={"matmul": (point(2e9), point(7e9))},
                            bandwidth=(RatePoint(label="a", work_per_call=1e3, rate_per_s=5e10,
                                                 time_s=1e3 / 5e10),
                                       RatePoint(label="b", work_per_call=1e9, rate_per_s=1e10,
                                                 time_s=0.1)))
    dev = m.device()
    assert isinstance(dev, Device)
    assert dev.peak_flop_per_s == 7e9 and dev.memory_bandwidth_bytes_per_s == 1e10
    # the roofline step models take it as any other device
    from neurocomp.accounting import LayerCost

    layer = LayerCost(name="fc", forward_flop_per_sample=1e6, parameter_count=10,
                      activation_elements_per_sample=10)
    from neurocomp.accounting.network import AlphaBeta

    s = step_time([layer], device=dev, network=AlphaBeta(bandwidth_bytes_per_s=1e9,
                                                         latency_s=0.0),
                  n_devices=1, batch_per_device=2)
    assert s.step_s == pytest.approx(2 * 3e6 / 7e9, rel=ROUND_OFF)


# -- bad input ---------------------------------------------------------------------------------

def test_bad_input_is_named():
    net, x, loss = tiny_case()
    forward_only = count(net, x, backward=False)
    with pytest.raises(ValueError, match="report must count the backward pass"):
        predict_step(forward_only, machine())
    with pytest.raises(TypeError, match="machine must be a MachineBenchmark"):
        predict_step(count(net, x), Device(peak_flop_per_s=1e9))
    with pytest.raises(ValueError, match="table must be one of"):
        MicroBenchmark(table="convolution3d:forward", label="x", build=lambda: None)
    with pytest.raises(ValueError, match="clock must be one of 'process', 'wall'; got 'cpu'"):
        measure(lambda: None, clock="cpu")
    with pytest.raises(ValueError, match="tables needs a 'matmul' table"):
        dataclasses.replace(machine(), tables={"convolution2d:forward": (point(1e9),)})
    with pytest.raises(ValueError, match=r"p: rate_per_s must be in \(0, inf\); got -1"):
        point(-1.0)
    with pytest.raises(ValueError, match="repeats must be an integer in \\[1, inf\\]; got 0"):
        measure_training_step(net, x, loss, repeats=0)
    with pytest.raises(ValueError, match="has no trainable parameters"):
        count_optimizer_step(nn.ReLU())


def test_zero_devices_in_a_scaling_curve_is_rejected():
    from neurocomp.accounting import LayerCost
    from neurocomp.accounting.network import AlphaBeta

    layer = LayerCost(name="fc", forward_flop_per_sample=1e6, parameter_count=10,
                      activation_elements_per_sample=10)
    with pytest.raises(ValueError, match=r"device_counts entry must be an integer in \[1, inf\]; "
                                         r"got 0"):
        scaling_curve([layer], device=Device(peak_flop_per_s=1e12),
                      network=AlphaBeta(bandwidth_bytes_per_s=1e9, latency_s=1e-6),
                      device_counts=[1, 0], batch_per_device=4)


# -- real measurements, tiny sizes (structure only) --------------------------------------------

def test_optimizer_step_is_counted_from_its_real_ops():
    net = nn.Linear(3, 2)  # 8 parameters
    before = [p.detach().clone() for p in net.parameters()]
    report = count_optimizer_step(net, sgd(lr=0.1, momentum=0.9))
    # SGD with momentum, per tensor: buf.mul_(m) (read+write buf), buf.add_(grad) (read buf,
    # grad; write buf), param.add_(buf, -lr) (read param, buf; write param): 32 B per value
    assert report.bytes_read() + report.bytes_written() == 32 * 8
    ops = {o.op: o.calls for o in report.ops}
    assert ops["aten.mul_"] == 2 and ops["aten.add_"] == 4  # two tensors (weight, bias)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_measured_steps_are_positive_and_leave_the_model_alone():
    net, x, loss = tiny_case()
    before = [p.detach().clone() for p in net.parameters()]
    m = measure_training_step(net, x, loss, repeats=3, warmup=1)
    assert len(m.timing.times_s) == 3 and len(m.wall.times_s) == 3
    assert all(t > 0 and math.isfinite(t) for t in (*m.timing.times_s, *m.wall.times_s))
    assert m.probe is not None and m.probe.flop_per_s > 0 and m.probe.bytes_per_s > 0
    assert m.clock == "process" and m.threads == 1 and len(m.load_average) == 3
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_micro_benchmarks_on_tiny_sizes_give_positive_rates():
    benches = [
        MicroBenchmark(table="matmul", label="mm 32", build=lambda: (
            _MM(torch.randn(32, 32)), torch.randn(32, 32))),
        MicroBenchmark(table="convolution2d:backward", label="conv 4→4", build=lambda: (
            nn.Conv2d(4, 4, 3, padding=1), torch.randn(2, 4, 8, 8).requires_grad_(True))),
    ]
    with torch_threads(1):
        m = benchmark_machine(benchmarks=benches, repeats=2, warmup=1)
    assert set(m.tables) == {"matmul", "convolution2d:backward"}
    for pts in m.tables.values():
        for p in pts:
            assert p.rate_per_s > 0 and p.time_s > 0 and p.intensity_flop_per_byte > 0
    conv = m.tables["convolution2d:backward"][0]
    # its FLOPs are the counter's: input and weight gradients, 2 × 2·N·P·K·Cin·Cout, + bias
    macs = 2 * 8 * 8 * 9 * 4 * 4
    assert conv.work_per_call >= 2 * 2 * macs
    assert m.peak_flop_per_s > 0 and m.memory_bandwidth_bytes_per_s > 0
    assert all(math.isfinite(v) and v >= 0 for v in (
        m.fresh_allocation_s_per_byte, m.op_overhead_s, m.autograd_op_overhead_s,
        m.backward_call_s))
    frame = m.to_frame()
    assert {"table", "rate_per_s", "intensity_flop_per_byte"} <= set(frame.columns)
    assert np.isfinite(frame["time_s"]).all()


def test_bandwidth_and_probe_are_positive():
    pts = measure_bandwidth((2.0**14, 2.0**16), repeats=2, pool_bytes=2**18)
    assert [p.work_per_call for p in pts] == [12 * 2**12, 12 * 2**14]
    assert all(p.rate_per_s > 0 for p in pts)
    pr = probe(repeats=1)
    assert pr.flop_per_s > 0 and pr.bytes_per_s > 0


def test_measure_table_prices_the_main_op():
    bench = MicroBenchmark(table="pooling:forward", label="maxpool",
                           build=lambda: (nn.MaxPool2d(3, 2), torch.randn(2, 4, 16, 16)))
    p = measure_table(bench, repeats=2)
    # 2·4·7·7 outputs × 9 comparisons (the counter's max-pool rule)
    assert p.work_per_call == 2 * 4 * 7 * 7 * 9
    assert p.rate_per_s > 0


class _MM(nn.Module):
    def __init__(self, b: torch.Tensor) -> None:
        super().__init__()
        self.b = nn.Parameter(b, requires_grad=False)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a @ self.b


# -- the analyses (minutes of measuring: slow tier) --------------------------------------------

@pytest.mark.slow
def test_step_time_validation_full_run_meets_the_bars(tmp_path):
    from neurocomp_analyses import step_time_validation

    # the full cases (the nets' own input sizes): the quick ones are too small to be priced
    # by rates of generic kernels, so the bars are asserted on the full run only
    r = step_time_validation.run(quick=False, seed=0, repeats=5)
    out = r.save(tmp_path / "step-time-validation")
    assert (out / "figure.png").exists() and (out / "data.csv").exists()
    h = r.headline
    assert h["cases_count"] == len(r.steps) and h["held_out_cases_count"] >= 10
    assert (r.steps[["measured_s", "predicted_s", "predicted_adjusted_s"]] > 0).all().all()
    # the bars: median |error| ≤ 10 % over all cases, ≤ 15 % on held-out nets
    assert h["median_rel_error_step_time"] <= h["target_median_rel_error"]
    assert h["held_out_median_rel_error_step_time"] <= h["target_held_out_median_rel_error"]


def test_step_time_claim_is_written_from_the_headline():
    from neurocomp_analyses.step_time_validation import HELD_OUT, NET_LABELS, cases, claim_from

    h = {"median_rel_error_step_time": 0.084, "held_out_median_rel_error_step_time": 0.21,
         "in_sample_median_rel_error_step_time": 0.05, "cases_count": 24,
         "held_out_cases_count": 10, "target_median_rel_error": 0.10,
         "target_held_out_median_rel_error": 0.15}
    claim = claim_from(h)
    assert "8 %" in claim and "21 %" in claim and "5 %" in claim and "24 cases" in claim
    assert "all cases: 8 % (target 10 %, met)" in claim
    assert "held-out nets: 21 % (target 15 %, missed)" in claim
    assert "no held-out nets were run" in claim_from({**h, "held_out_median_rel_error_step_time":
                                                       float("nan")})
    # every held-out net has cases in both modes, and none of them shaped the model
    for quick in (True, False):
        nets = {c.net for c in cases(quick=quick)}
        assert HELD_OUT <= nets and HELD_OUT <= set(NET_LABELS)
        assert {"cifar_net", "alexnet", "resnet18"} <= nets - HELD_OUT
