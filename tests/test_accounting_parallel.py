"""Model parallelism with real tensors, collectives in the α–β model, buckets, compression, and
the parallel step-time model.

Closed forms: ring all-reduce 2(p−1)/p·n/B + 2(p−1)α and nccl-tests' bus-bandwidth factors
(docs/references.md#anchors-accounting-3-2, #anchors-accounting-3-3); the post's split
products (docs/references.md#seed-conv-parallel-c-2).
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from neurocomp_models import hardware as hw
from neurocomp_models.workloads import ALEXNET_2012_LAYERS

from neurocomp.accounting import LayerCost, step_time
from neurocomp.accounting.ddp import (
    DDP_BUCKET_CAP_BYTES,
    DDP_FIRST_BUCKET_CAP_BYTES,
    GradientReady,
    schedule_overlap,
)
from neurocomp.accounting.ddp.bucketing import assign_buckets
from neurocomp.accounting.hardware import Device
from neurocomp.accounting.layer_cost import resolve_inputs
from neurocomp.accounting.network import (
    AlphaBeta,
    HierarchicalNetwork,
    as_network,
    busbw_factor,
    collective_time_s,
    derate,
    ring_allreduce_time_s,
    tree_allreduce_time_s,
)
from neurocomp.accounting.network.collectives import (
    FlatNetwork,
    allgather_time_s,
    broadcast_time_s,
    busbw_bytes_per_s,
    hierarchical_allreduce_time_s,
    parameter_server_time_s,
    reduce_scatter_time_s,
)
from neurocomp.accounting.parallel import (
    Compression,
    DoesNotFitError,
    ParallelOptions,
    recommend_parallelism,
    scaling_curve,
)
from neurocomp.accounting.parallel.compression import NO_COMPRESSION, compressed_allreduce_time_s
from neurocomp.accounting.parallel.model_parallel import (
    data_parallel_gradient_bytes,
    krizhevsky_plan,
    model_parallel_activation_bytes,
    shard_shapes,
    shard_sizes,
    split_linear_backward,
    split_linear_forward,
)
from neurocomp.accounting.parallel.planning import hybrid_step
from neurocomp.accounting.parallel.steps import data_parallel_step, model_parallel_step

ROUND_OFF = 1e-12  # a handful of float operations
LINK = AlphaBeta(bandwidth_bytes_per_s=10e9, latency_s=5e-6)
NO_LATENCY = AlphaBeta(bandwidth_bytes_per_s=10e9, latency_s=0.0)


def tensors(batch, n_in, n_out, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, n_in, generator=g, dtype=dtype),
            torch.randn(n_in, n_out, generator=g, dtype=dtype),
            torch.randn(batch, n_out, generator=g, dtype=dtype))


# -- split products with real tensors ----------------------------------------------------------

def test_post_example_128x1000_by_1000x500_on_two_gpus():
    x, w, _ = tensors(128, 1000, 500)
    full = x @ w
    rows = split_linear_forward(x, w, n_parts=2, split="row")
    cols = split_linear_forward(x, w, n_parts=2, split="column")
    # docs/references.md#seed-conv-parallel-c-2: by rows each GPU does 128×500 · 500×500 = 128×500
    # and the two are added; by columns each does 128×1000 · 1000×250 = 128×250 and the two are
    # stacked
    assert [tuple(p.shape) for p in rows.partials] == [(128, 500), (128, 500)]
    assert rows.combine == "sum"
    assert [tuple(p.shape) for p in cols.partials] == [(128, 250), (128, 250)]
    assert cols.combine == "concat"
    # float64, sums of 1000 products of N(0,1) values (|y| ≲ 150): re-associating the sum
    # costs ~1e-13; 1e-10 absolute is a wide margin
    torch.testing.assert_close(rows.output, full, rtol=0, atol=1e-10)
    torch.testing.assert_close(cols.output, full, rtol=0, atol=1e-10)  # same sums, own blocking


def test_1000x1000_on_four_gpus_forward_and_backward():
    # docs/references.md#seed-conv-parallel-c-1
    assert shard_shapes(1000, 1000, n_parts=4, split="column") == ((1000, 250),) * 4
    assert shard_shapes(1000, 1000, n_parts=4, split="row") == ((250, 1000),) * 4
    x, w, delta = tensors(128, 1000, 1000)
    for split in ("row", "column"):
        f = split_linear_forward(x, w, n_parts=4, split=split)
        b = split_linear_backward(x, w, delta, n_parts=4, split=split)
        torch.testing.assert_close(f.output, x @ w, rtol=0, atol=1e-10)
        torch.testing.assert_close(b.grad_input, delta @ w.T, rtol=0, atol=1e-10)  # δ·Wᵀ
        torch.testing.assert_close(b.grad_weight, x.T @ delta, rtol=0, atol=1e-10)


@pytest.mark.parametrize("split", ["row", "column"])
@pytest.mark.parametrize("n_parts", [1, 2, 3, 7])
def test_split_backward_equals_autograd(split, n_parts):
    x, w, delta = tensors(32, 20, 14, seed=n_parts)
    xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
    ((xg @ wg) * delta).sum().backward()  # dL/dy = δ
    b = split_linear_backward(x, w, delta, n_parts=n_parts, split=split)
    torch.testing.assert_close(b.grad_input, xg.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(b.grad_weight, wg.grad, rtol=0, atol=1e-12)
    # column: every part's input gradient is a full-size partial sum (an all-reduce);
    # row: every part holds a slice of it (an all-gather)
    assert b.combine == ("sum" if split == "column" else "concat")


def test_float32_split_within_float32_tolerance():
    x, w, delta = tensors(128, 1000, 500, dtype=torch.float32)
    for split in ("row", "column"):
        f = split_linear_forward(x, w, n_parts=2, split=split)
        b = split_linear_backward(x, w, delta, n_parts=2, split=split)
        # |y| reaches ~140 (4.5 σ of a 1000-term sum); float32's ulp there is 1.5e-5 and
        # re-associating the sum moves it by a few ulp: 2e-4 absolute (≈ 13 ulp) is ample
        torch.testing.assert_close(f.output, x @ w, rtol=0, atol=2e-4)
        torch.testing.assert_close(b.grad_input, delta @ w.T, rtol=0, atol=2e-4)
        torch.testing.assert_close(b.grad_weight, x.T @ delta, rtol=0, atol=2e-4)


def test_uneven_shards_and_bad_splits():
    assert shard_sizes(1000, 3) == (334, 333, 333)
    x, w, _ = tensors(4, 10, 3)
    torch.testing.assert_close(split_linear_forward(x, w, n_parts=3, split="column").output,
                               x @ w, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"n_parts \(splitting 3 columns\) must be an integer "
                                         r"in \[1, 3\]; got 4"):
        split_linear_forward(x, w, n_parts=4, split="column")
    with pytest.raises(ValueError, match=r"n_parts \(splitting 10 rows\) must be an integer in "
                                         r"\[1, 10\]; got 0"):
        split_linear_forward(x, w, n_parts=0, split="row")
    with pytest.raises(ValueError, match=r"x has 10 features but weight has 3 rows"):
        split_linear_forward(x, w.T, n_parts=1, split="row")
    with pytest.raises(ValueError, match=r"devices must name one device per part \(2\); got 1"):
        split_linear_forward(x, w, n_parts=2, split="row", devices=["cpu"])
    with pytest.raises(ValueError, match=r"split must be one of 'row', 'column'; got 'diagonal'"):
        split_linear_forward(x, w, n_parts=2, split="diagonal")


# -- collectives in the α–β model ---------------------------------------------------------------

@pytest.mark.parametrize("p", [2, 3, 8, 64, 1000])
def test_ring_allreduce_closed_form_and_busbw(p):
    n, b, a = 4e8, LINK.bandwidth_bytes_per_s, LINK.latency_s
    assert ring_allreduce_time_s(n, p, LINK) == pytest.approx(
        2 * (p - 1) / p * n / b + 2 * (p - 1) * a, rel=ROUND_OFF)
    # ring = reduce-scatter + all-gather
    assert ring_allreduce_time_s(n, p, LINK) == pytest.approx(
        reduce_scatter_time_s(n, p, LINK) + allgather_time_s(n, p, LINK), rel=ROUND_OFF)
    # nccl-tests: busbw = algbw · factor equals the link bandwidth for a bandwidth-bound run
    assert busbw_factor("allreduce", p) == pytest.approx(2 * (p - 1) / p, rel=ROUND_OFF)
    for coll in ("allreduce", "allgather", "reduce_scatter", "broadcast"):
        t = collective_time_s(coll, n, p, NO_LATENCY, algorithm="ring")
        assert busbw_bytes_per_s(coll, n, p, t) == pytest.approx(b, rel=ROUND_OFF), coll


def test_tree_parameter_server_broadcast_closed_forms():
    n, b, a = 1e8, LINK.bandwidth_bytes_per_s, LINK.latency_s
    # pipelined double binary tree: 2⌈log2 p⌉α + 2n/B
    assert tree_allreduce_time_s(n, 5, LINK) == pytest.approx(2 * 3 * a + 2 * n / b,
                                                              rel=ROUND_OFF)
    # one server that is one of p ranks serving the other p−1 = Paleo's OneToAll 2(p−1)n/B
    p = 8
    assert parameter_server_time_s(n, p - 1, LINK) - 2 * a == pytest.approx(
        2 * (p - 1) * n / b, rel=ROUND_OFF)
    # enough shards and the workers' own links limit it: 2α + 2n/B
    assert parameter_server_time_s(n, 8, LINK, n_servers=8) == pytest.approx(2 * a + 2 * n / b,
                                                                             rel=ROUND_OFF)
    assert broadcast_time_s(n, 4, LINK) == pytest.approx(3 * a + n / b, rel=ROUND_OFF)
    for f in (ring_allreduce_time_s, tree_allreduce_time_s, allgather_time_s):
        assert f(n, 1, LINK) == 0.0  # one rank has nobody to talk to


def test_auto_takes_tree_for_small_and_ring_for_large_messages():
    # 512 ranks, 1 kB: the ring's 1022 latencies lose to the tree's 18; 8 ranks, 1 GB: the
    # ring's 2·7/8 n/B beats the tree's 2 n/B
    small, large = 1e3, 1e9
    assert collective_time_s("allreduce", small, 512, LINK) == tree_allreduce_time_s(small, 512,
                                                                                      LINK)
    assert collective_time_s("allreduce", large, 8, LINK) == ring_allreduce_time_s(large, 8,
                                                                                    LINK)


def test_hierarchical_allreduce_by_hand():
    nv, ndr = hw.interconnect("NVLink4"), hw.interconnect("NDR")
    n = 1e8
    # 2 nodes × 8 H100: reduce-scatter and all-gather inside (7/8·n/450e9 + 7α each), then a
    # 2-rank all-reduce of n/8 per GPU on its own NDR link (2·½·(n/8)/50e9 + 2α)
    inside = 2 * (7 / 8 * n / 450e9 + 7 * nv.latency_s)
    across = 2 * 0.5 * (n / 8) / 50e9 + 2 * ndr.latency_s
    got = hierarchical_allreduce_time_s(n, n_nodes=2, ranks_per_node=8, intra=nv, inter=ndr,
                                        algorithm="ring")
    assert got == pytest.approx(inside + across, rel=ROUND_OFF)
    net = HierarchicalNetwork(intra=nv, inter=ndr, ranks_per_node=8, algorithm="ring")
    assert net.collective_time_s("allreduce", n, 16) == pytest.approx(got, rel=ROUND_OFF)
    # a group inside one node uses NVLink only; one rank per node uses NDR only
    assert net.collective_time_s("allreduce", n, 8) == ring_allreduce_time_s(n, 8, nv)
    assert net.collective_time_s("allreduce", n, 4, stride=8) == ring_allreduce_time_s(n, 4, ndr)
    assert net.placement(64, stride=2) == (16, 4)


def test_link_protocol_accepts_a_multi_hop_path():
    @dataclasses.dataclass(frozen=True)
    class Path:  # what a multi-hop system path can look like: slowest hop, summed latency
        hops: tuple

        @property
        def bandwidth_bytes_per_s(self):
            return min(h.bandwidth_bytes_per_s for h in self.hops)

        @property
        def latency_s(self):
            return sum(h.latency_s for h in self.hops)

    path = Path((hw.interconnect("PCIe3"), hw.interconnect("QDR"), hw.interconnect("PCIe3")))
    t = ring_allreduce_time_s(1e8, 4, path)
    assert t == pytest.approx(2 * 3 / 4 * 1e8 / 4e9 + 6 * path.latency_s, rel=ROUND_OFF)
    assert isinstance(as_network(path), FlatNetwork)
    slower = derate(path, bandwidth_efficiency=0.5, extra_latency_s=1e-5)
    assert slower.bandwidth_bytes_per_s == 2e9 and slower.latency_s == path.latency_s + 1e-5


def test_collective_errors_are_clear():
    with pytest.raises(ValueError, match=r"n_ranks must be an integer in \[1, inf\]; got 0"):
        ring_allreduce_time_s(1e6, 0, LINK)
    with pytest.raises(ValueError, match=r"n_bytes must be in \[0, inf\) B; got -1 B"):
        ring_allreduce_time_s(-1, 2, LINK)
    with pytest.raises(ValueError, match=r"bandwidth_bytes_per_s must be in \(0, inf\) B/s; "
                                         r"got 0 B/s"):
        AlphaBeta(bandwidth_bytes_per_s=0.0, latency_s=0.0)
    with pytest.raises(TypeError, match=r"link must have bandwidth_bytes_per_s and latency_s"):
        ring_allreduce_time_s(1e6, 2, 10e9)
    with pytest.raises(ValueError, match=r"collective must be one of .*; got 'alltoall'"):
        collective_time_s("alltoall", 1.0, 2, LINK)


# -- compression --------------------------------------------------------------------------------

def test_compression_volumes_and_overhead():
    fp16 = hw.COMPRESSION_FP16
    eight, one = hw.COMPRESSION_8BIT_DETTMERS_2016, hw.COMPRESSION_1BIT_SEIDE_2014
    n, p = 4e8, 8
    assert (fp16.ratio, eight.ratio) == (2.0, 4.0)
    assert one.ratio == pytest.approx(32 / (1 + 64 / 2048), rel=ROUND_OFF)  # 31.03
    assert one.error_feedback_bytes(n) == n and fp16.error_feedback_bytes(n) == 0.0
    # fp16 is summed on the wire: the ring on half the bytes
    assert compressed_allreduce_time_s(n, p, LINK, compression=fp16) == pytest.approx(
        ring_allreduce_time_s(n / 2, p, LINK), rel=ROUND_OFF)
    # 8-bit gathered: (p−1)·(n/4)/B against the ring's 2(p−1)/p·n/B — equal at p = 8,
    # worse above, better below (no latency)
    for ranks, relation in ((4, -1), (8, 0), (16, 1)):
        gathered = compressed_allreduce_time_s(n, ranks, NO_LATENCY, compression=eight)
        ring = compressed_allreduce_time_s(n, ranks, NO_LATENCY, compression=NO_COMPRESSION)
        diff = (gathered - ring) / ring
        assert (abs(diff) < ROUND_OFF) if relation == 0 else (math.copysign(1, diff)
                                                               == relation), ranks
    # the codec overhead is a parameter: encode once, decode p times when gathering
    slow = dataclasses.replace(eight, encode_s_per_value=1e-9, decode_s_per_value=2e-9)
    extra = n / 4 * (1e-9 + p * 2e-9)
    assert compressed_allreduce_time_s(n, p, LINK, compression=slow) == pytest.approx(
        compressed_allreduce_time_s(n, p, LINK, compression=eight) + extra, rel=ROUND_OFF)
    with pytest.raises(ValueError, match=r"sends 40 bits per value, more than the 32"):
        Compression(name="bad", wire_bits_per_value=8.0, scale_bits_per_block=32.0)


# -- buckets and overlap ------------------------------------------------------------------------

def test_ddp_defaults_are_torchs():
    from torch.distributed import _DEFAULT_FIRST_BUCKET_BYTES
    from torch.nn.parallel.distributed import _DEFAULT_BUCKET_CAP_MB

    assert DDP_BUCKET_CAP_BYTES == _DEFAULT_BUCKET_CAP_MB * 2**20 == 25 * 2**20
    assert DDP_FIRST_BUCKET_CAP_BYTES == _DEFAULT_FIRST_BUCKET_BYTES == 2**20


def test_buckets_and_overlap_by_hand():
    mib = 2**20
    grads = [GradientReady(name=n, ready_s=t, n_bytes=b) for n, t, b in
             (("fc8", 0.1, 0.5 * mib), ("fc7", 0.2, 0.6 * mib), ("fc6", 0.3, 30 * mib),
              ("conv5", 0.4, 2 * mib), ("conv1", 1.0, 1 * mib))]
    # first bucket closes at ≥ 1 MiB; a 30 MiB gradient fills one alone; the rest follow
    assert [[g.name for g in b] for b in assign_buckets(grads)] == [
        ["fc8", "fc7"], ["fc6"], ["conv5", "conv1"]]
    comm = {1.1 * mib: 0.05, 30 * mib: 0.5, 3 * mib: 0.1}

    def comm_time_s(_group, n_bytes):
        return comm[min(comm, key=lambda k: abs(k - n_bytes))]

    s = schedule_overlap(grads, comm_time_s=comm_time_s, backward_end_s=1.0)
    # bucket 0: ready 0.2, runs 0.2–0.25; bucket 1: ready 0.3, runs 0.3–0.8; bucket 2: ready
    # 1.0 (conv1 is last), runs 1.0–1.1, so 0.1 s outlasts the backward pass
    assert [t for b in s.buckets for t in (b.start_s, b.end_s)] == pytest.approx(
        [0.2, 0.25, 0.3, 0.8, 1.0, 1.1], rel=ROUND_OFF)
    assert s.exposed_s == pytest.approx(0.1, rel=ROUND_OFF)
    assert s.communication_s == pytest.approx(0.65, rel=ROUND_OFF)
    off = schedule_overlap(grads, comm_time_s=comm_time_s, backward_end_s=1.0, overlap=False)
    assert off.exposed_s == pytest.approx(off.communication_s, rel=ROUND_OFF)


# -- step time ---------------------------------------------------------------------------------

def dense(name, n_in, n_out):
    return LayerCost(name=name, forward_flop_per_sample=2.0 * n_in * n_out,
                     parameter_count=n_in * n_out, activation_elements_per_sample=n_out,
                     input_elements_per_sample=n_in, kind="dense")


DEVICE = Device(name="toy", peak_flop_per_s=1e13, efficiency=0.5, memory_bytes=16e9)


def test_one_device_is_compute_only():
    layers = [dense("a", 1000, 1000), dense("b", 1000, 10)]
    s = step_time(layers, device=DEVICE, network=LINK, n_devices=1, batch_per_device=64)
    flops = 3 * 2 * (1000 * 1000 + 1000 * 10) * 64  # forward + 2 × forward backward
    assert s.step_s == pytest.approx(flops / 5e12, rel=ROUND_OFF)
    assert s.exposed_comm_s == 0.0 and s.schedule.buckets == ()


def test_data_parallel_step_bounds_and_overlap():
    layers = ALEXNET_2012_LAYERS
    kw = {"device": hw.gpu("H100").device(dtype="bf16_tensor", efficiency=0.5),
          "network": hw.interconnect("NDR"), "n_devices": 16, "batch_per_device": 128}
    on = data_parallel_step(layers, **kw)
    off = data_parallel_step(layers, **kw, options=ParallelOptions(overlap=False))
    # without overlap every all-reduce adds; with it, never more than that, never less than
    # compute alone (up to round-off of the sums)
    assert off.step_s == pytest.approx(off.compute_s + off.gradient_comm_s, rel=ROUND_OFF)
    assert on.compute_s <= on.step_s <= off.step_s
    assert on.step_s < off.step_s  # the fc layers' buckets hide under the conv backward
    # the gradients sent are the parameters, 4 bytes each
    total = sum(layer.parameter_count for layer in layers) * 4
    assert sum(b.n_bytes for b in on.schedule.buckets) == pytest.approx(total, rel=ROUND_OFF)


def test_speedup_and_efficiency_definitions():
    fast = AlphaBeta(bandwidth_bytes_per_s=1e18, latency_s=0.0)
    curve = scaling_curve(ALEXNET_2012_LAYERS, device=DEVICE, network=fast,
                          device_counts=[1, 2, 8, 64], batch_per_device=32)
    # an almost free network: efficiency 1 to the 1e-6 the finite bandwidth leaves
    assert curve.efficiencies == pytest.approx([1.0] * 4, abs=1e-6)
    slow = scaling_curve(ALEXNET_2012_LAYERS, device=DEVICE, network=hw.interconnect("10GbE"),
                         device_counts=[1, 2, 8, 64], batch_per_device=32,
                         options=ParallelOptions(overlap=False))
    assert all(e == pytest.approx(s / n, rel=ROUND_OFF) for e, s, n in
               zip(slow.efficiencies, slow.speedups, [1, 2, 8, 64], strict=True))
    # a flat ring: communication grows with p, so efficiency only falls
    assert all(a >= b for a, b in zip(slow.efficiencies, slow.efficiencies[1:], strict=False))
    strong = scaling_curve(ALEXNET_2012_LAYERS, device=DEVICE, network=fast,
                           device_counts=[1, 4], global_batch=128)
    assert [s.batch_per_device for s in strong.steps] == [128, 32]


def test_model_parallel_step_by_hand():
    layer = dense("fc", 4096, 4096)
    n, batch = 4, 128
    s = model_parallel_step([layer], device=DEVICE, network=NO_LATENCY, n_devices=n,
                            batch=batch)
    # each device computes 1/4 of the layer on all 128 samples; forward all-gather of the
    # 128×4096 fp32 output; no input gradient for a first layer; no gradient all-reduce
    compute = 3 * 2 * 4096 * 4096 * batch / n / 5e12
    gather = (n - 1) / n * batch * 4096 * 4 / 10e9
    assert s.step_s == pytest.approx(compute + gather, rel=ROUND_OFF)
    assert s.schedule.buckets == ()
    # per-device bytes (column split): (p−1)/p·B·out + 2(p−1)/p·B·in for an inner layer
    inner = resolve_inputs([dense("a", 10, 4096), layer])[1]
    assert model_parallel_activation_bytes(inner, n_devices=n, group_batch=batch) == (
        pytest.approx((0.75 * batch * 4096 + 1.5 * batch * 4096) * 4, rel=ROUND_OFF))
    assert data_parallel_gradient_bytes(layer, n_devices=n) == 1.5 * 4096 * 4096 * 4


def test_krizhevsky_hybrid_on_alexnet():
    # Krizhevsky (2014): convolutions data-parallel, dense layers model-parallel (8 GPUs,
    # 128 images each); by bytes, fc8's 4 M weights cost less than its 1000 outputs × 1024
    plan = {t.name: t.recommended for t in krizhevsky_plan(ALEXNET_2012_LAYERS, n_devices=8,
                                                           batch_per_device=128)}
    assert plan == {"conv1": "data", "conv2": "data", "conv3": "data", "conv4": "data",
                    "conv5": "data", "fc6": "model", "fc7": "model", "fc8": "data"}
    # on the step-time model: a fast GPU on a slow network gains from the hybrid; an
    # infinitely fast network keeps every layer data-parallel
    dev = hw.gpu("H100").device(dtype="bf16_tensor", efficiency=0.5)
    net = HierarchicalNetwork(intra=hw.interconnect("NVLink4"), inter=hw.interconnect("NDR"),
                              ranks_per_node=8)
    rec = recommend_parallelism(ALEXNET_2012_LAYERS, device=dev, network=net, n_devices=64,
                                batch_per_device=128, model_parallel_size=8)
    assert rec.plan["fc6"] == "model" and rec.plan["conv1"] == "data"
    assert rec.step_s < rec.all_data_step_s
    hybrid = hybrid_step(ALEXNET_2012_LAYERS, device=dev, network=net, n_devices=64,
                         batch_per_device=128, model_parallel_size=8)
    assert hybrid.step_s == pytest.approx(rec.step_s, rel=ROUND_OFF)
    free = recommend_parallelism(ALEXNET_2012_LAYERS, device=dev,
                                 network=AlphaBeta(bandwidth_bytes_per_s=1e18, latency_s=0.0),
                                 n_devices=64, batch_per_device=128, model_parallel_size=8)
    assert set(free.plan.values()) == {"data"}


def test_a_custom_network_object_is_accepted():
    class Constant:  # e.g. a multi-node system answering with its own path model
        def collective_time_s(self, collective, n_bytes, n_ranks, *, stride=1):
            return 0.0 if n_ranks == 1 else 1e-3

    s = data_parallel_step([dense("a", 100, 100)], device=DEVICE, network=Constant(),
                           n_devices=4, batch_per_device=1)
    assert s.schedule.exposed_s == pytest.approx(1e-3, rel=ROUND_OFF)  # one bucket, at the end


# -- bad input ---------------------------------------------------------------------------------

def test_zero_devices_is_rejected():
    with pytest.raises(ValueError, match=r"n_devices must be an integer in \[1, inf\]; got 0"):
        step_time(ALEXNET_2012_LAYERS, device=DEVICE, network=LINK, n_devices=0,
                  batch_per_device=1)
    with pytest.raises(ValueError, match=r"model_parallel_size \(3\) must divide n_devices"):
        step_time(ALEXNET_2012_LAYERS, device=DEVICE, network=LINK, n_devices=8,
                  batch_per_device=1, plan="model", model_parallel_size=3)
    with pytest.raises(ValueError, match=r"plan names layers that do not exist: \['fc9'\]"):
        step_time(ALEXNET_2012_LAYERS, device=DEVICE, network=LINK, n_devices=2,
                  batch_per_device=1, plan={"fc9": "model"})
    with pytest.raises(ValueError, match=r"layer names must be unique; repeated: \['a'\]"):
        resolve_inputs([dense("a", 1, 1), dense("a", 1, 1)])
    with pytest.raises(ValueError, match=r"layer 'x': parameter_count must be an integer in "
                                         r"\[0, inf\]; got -1"):
        LayerCost(name="x", forward_flop_per_sample=1.0, parameter_count=-1,
                  activation_elements_per_sample=1)


def test_a_layer_too_large_for_the_device_says_which_and_by_how_much():
    huge = LayerCost(name="fc_huge", forward_flop_per_sample=2e9, parameter_count=10**9,
                     activation_elements_per_sample=1000, input_elements_per_sample=10**6)
    k40 = hw.gpu("K40").device(dtype="fp32", efficiency=0.5)  # 12 GB
    # 1e9 parameters × 16 B (weights, gradients, Adam) = 16 GB + 4 kB of activations, 4 GB
    # (33.3 %) more than 12 GB; two shards of 8 GB would fit
    with pytest.raises(DoesNotFitError, match=r"layer 'fc_huge' needs 16 GB per device \(16 "
                                              r"GB of weights, gradients and optimizer state \+ "
                                              r"4 kB of activations\) but Tesla K40 \(fp32\) "
                                              r"has 12 GB: 4 GB \(33\.3%\) too large; split its "
                                              r"weights over at least 2 devices"):
        data_parallel_step([huge], device=k40, network=LINK, n_devices=4, batch_per_device=1)
    # split over 2 devices it fits
    step_time([huge], device=k40, network=LINK, n_devices=2, batch_per_device=1, plan="model")
    # layers that fit one by one but not together
    parts = [dataclasses.replace(huge, name=f"fc{i}", parameter_count=5 * 10**8)
             for i in range(3)]
    with pytest.raises(DoesNotFitError, match=r"the network needs 24 GB per device but .* has "
                                              r"12 GB: 12 GB \(100\.0%\) too much; largest "
                                              r"layers: 'fc0' 8 GB"):
        data_parallel_step(parts, device=k40, network=LINK, n_devices=2, batch_per_device=1)
