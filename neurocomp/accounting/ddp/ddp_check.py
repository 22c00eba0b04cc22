"""A real distributed engine: all-reduce sweep and DDP training with torch.distributed.

:func:`run_ddp_check` starts ``world_size`` processes on this machine
(:func:`~neurocomp.layers.ddp.launch_local`, the variables ``torchrun`` sets) that join one
process group — gloo on CPUs, NCCL when CUDA is present, so the same code checks a GPU
node — and measure, all with the wall clock (communication is waiting, not computing):

1. an **all-reduce sweep**: median time of ``all_reduce`` of ``n`` bytes per rank over a
   range of ``n``, sizes interleaved round by round after an untimed round (the slowest
   rank's time per repeat, as nccl-tests reports), for
   :func:`~neurocomp.accounting.ddp.ddp_fit.fit_alpha_beta`;
2. **local steps**: the model trained without DDP in every process at once (the compute of
   a step under the same sharing of the cores);
3. **DDP steps**: ``DistributedDataParallel`` with a communication hook that does what
   DDP's default hook does (divide by the world size, all-reduce the bucket) and records
   each bucket's size, launch and completion time;
4. **isolated bucket all-reduces**: each recorded bucket size all-reduced again on its own
   after training (medians), the communication time of a step without the backward pass
   competing for the cores;
5. **contention**: each bucket size all-reduced again, launched together with a backward
   pass of the model without DDP, against that backward pass alone — how much the two slow
   each other down on shared cores
   (:func:`~neurocomp.accounting.ddp.contention.slowdowns_from_overlap`). This is not the DDP
   step: one all-reduce from the start of a whole backward pass, no buckets, no reducer.

Rank 0 writes the numbers to a JSON file that the parent reads into a
:class:`DDPMeasurement`. Every rank trains on its own random batch (seeded), with SGD and
cross-entropy on random labels: the timing does not depend on the data.
"""

from __future__ import annotations

import copy
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from neurocomp.accounting.ddp.bucketing import busy_s
from neurocomp.accounting.ddp.contention import Contention, slowdowns_from_overlap
from neurocomp.accounting.machine import Probe
from neurocomp.checks import check_bytes, check_int, check_real

__all__ = ["DDPCheckConfig", "DDPMeasurement", "run_ddp_check"]

#: Default all-reduce sweep: 4 kB to 64 MB per rank, two sizes per decade.
SWEEP_BYTES = tuple(float(4 * 10 ** (k / 2)) * 1e3 for k in range(0, 10))


@dataclass(frozen=True, kw_only=True)
class DDPCheckConfig:
    """What each process of :func:`run_ddp_check` runs.

    Parameters
    ----------
    build : callable
        ``build() -> torch.nn.Module``; a module-level function (it is pickled into the
        spawned processes), e.g. ``neurocomp_models.convnets.cifar_net``.
    sample_shape : tuple of int
        Shape of one input sample (``(3, 32, 32)``).
    n_classes : int
        Outputs of the model (cross-entropy on random labels).
    batch_per_rank : int
        Samples per process per step.
    steps, warmup_steps : int
        Timed and untimed steps, for the local and the DDP runs each.
    sweep_bytes : sequence of float
        All-reduce sizes per rank, bytes.
    repeats : int
        Timed all-reduces per size (sweep and isolated buckets).
    threads : int
        torch threads per process (1: two processes share two cores).
    bucket_cap_mb : float or None
        DDP's ``bucket_cap_mb`` (``None``: torch's default, 25 MiB).
    seed : int
        Seeds the weights (same on every rank) and each rank's data.
    """

    build: Callable[[], Any]
    sample_shape: tuple[int, ...]
    n_classes: int
    batch_per_rank: int = 32
    steps: int = 10
    warmup_steps: int = 3
    sweep_bytes: tuple[float, ...] = SWEEP_BYTES
    repeats: int = 10
    threads: int = 1
    bucket_cap_mb: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not callable(self.build):
            raise TypeError("build must be callable: build() -> torch.nn.Module")
        object.__setattr__(self, "sample_shape", tuple(
            check_int("sample_shape entry", s, low=1) for s in self.sample_shape))
        check_int("n_classes", self.n_classes, low=2)
        check_int("batch_per_rank", self.batch_per_rank, low=1)
        check_int("steps", self.steps, low=1)
        check_int("warmup_steps", self.warmup_steps, low=0)
        sizes = tuple(check_real("sweep_bytes entry", s, low=4.0, unit="B")
                      for s in self.sweep_bytes)
        if len(set(sizes)) < 2:
            raise ValueError("sweep_bytes needs at least two distinct sizes to fit α and β")
        object.__setattr__(self, "sweep_bytes", sizes)
        check_int("repeats", self.repeats, low=1)
        check_int("threads", self.threads, low=1)
        if self.bucket_cap_mb is not None:
            check_real("bucket_cap_mb", self.bucket_cap_mb, low=0.0, low_inclusive=False,
                       unit="MiB")
        check_int("seed", self.seed, low=0)


@dataclass(frozen=True, kw_only=True)
class DDPMeasurement:
    """What :func:`run_ddp_check` measured (times in s, sizes in bytes).

    Attributes
    ----------
    world_size : int
    backend : str
        ``"gloo"`` or ``"nccl"``.
    sweep : tuple of (float, tuple of float)
        Per size: the all-reduce times of every repeat (slowest rank).
    local_step_s, ddp_step_s : tuple of float
        Step times without and with DDP (slowest rank per step).
    bucket_bytes : tuple of float
        DDP's buckets in launch order (from the communication hook).
    bucket_busy_s : tuple of float
        Per DDP step, the time at least one bucket all-reduce was in flight.
    exposed_s : tuple of float
        Per DDP step, the time from the launch of the last bucket to the return of
        ``backward()`` (DDP waits there for its all-reduces).
    bucket_isolated_s : tuple of float
        Median all-reduce time of each bucket size on its own.
    probe : Probe
        Median of the wall-clock probes rank 0 took before each timed step (the speed of
        the shared machine during the steps).
    load_average : tuple of float
        1-, 5-, 15-minute load averages at the end.
    contention_comm_shared_s : tuple of float
        Per bucket size: median time of its all-reduce launched with a backward pass.
    contention_compute_alone_s, contention_compute_shared_s : tuple of float
        Per bucket size: median time of that backward pass alone and with the all-reduce.
    """

    world_size: int
    backend: str
    sweep: tuple[tuple[float, tuple[float, ...]], ...]
    local_step_s: tuple[float, ...]
    ddp_step_s: tuple[float, ...]
    bucket_bytes: tuple[float, ...]
    bucket_busy_s: tuple[float, ...]
    exposed_s: tuple[float, ...]
    bucket_isolated_s: tuple[float, ...]
    probe: Probe
    load_average: tuple[float, ...] = field(default=())
    contention_comm_shared_s: tuple[float, ...] = field(default=())
    contention_compute_alone_s: tuple[float, ...] = field(default=())
    contention_compute_shared_s: tuple[float, ...] = field(default=())

    @property
    def contention(self) -> Contention | None:
        """Slow-downs measured by the overlap experiment, pooled over the bucket sizes
        (sums of times, so larger buckets weigh more); ``None`` if it did not run."""
        if not self.contention_comm_shared_s:
            return None
        return slowdowns_from_overlap(
            comm_alone_s=sum(self.bucket_isolated_s),
            comm_shared_s=sum(self.contention_comm_shared_s),
            compute_alone_s=sum(self.contention_compute_alone_s),
            compute_shared_s=sum(self.contention_compute_shared_s))

    @property
    def sweep_bytes(self) -> tuple[float, ...]:
        """Sizes of the sweep, bytes per rank."""
        return tuple(n for n, _ in self.sweep)

    @property
    def sweep_median_s(self) -> tuple[float, ...]:
        """Median all-reduce time per size, s."""
        return tuple(statistics.median(ts) for _, ts in self.sweep)

    @property
    def communication_isolated_s(self) -> float:
        """Σ of the isolated bucket all-reduces: a step's communication, s."""
        return sum(self.bucket_isolated_s)

    @property
    def communication_in_step_s(self) -> float:
        """Median over DDP steps of the time buckets were in flight, s."""
        return statistics.median(self.bucket_busy_s)

    @property
    def local_step_median_s(self) -> float:
        """Median step without DDP, s."""
        return statistics.median(self.local_step_s)

    @property
    def ddp_step_median_s(self) -> float:
        """Median DDP step, s."""
        return statistics.median(self.ddp_step_s)


# -- what runs in each process --------------------------------------------------------------

def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _max_over_ranks(values: Sequence[float], device: Any) -> list[float]:
    import torch
    import torch.distributed as dist

    t = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.cpu().tolist()


def _allreduce_rounds(sizes: Sequence[float], repeats: int, device: Any
                      ) -> list[list[float]]:
    """All-reduce times per size: one untimed round over every size, then ``repeats``
    rounds (sizes interleaved, so a change of load hits them alike; sizes under 1 MB are
    timed several times a round, up to 8, since they are cheap and their latency is the
    noisiest number); each time is the slowest rank's."""
    import torch
    import torch.distributed as dist

    bufs = [torch.ones(max(1, int(n) // 4), dtype=torch.float32, device=device)
            for n in sizes]
    per_round = [max(1, min(8, int(1e6 // max(n, 1.0)))) for n in sizes]
    times: list[list[float]] = [[] for _ in sizes]
    for r in range(repeats + 1):
        for i, buf in enumerate(bufs):
            for _ in range(per_round[i] if r else 1):
                dist.barrier()
                _sync(device)
                t0 = time.perf_counter()
                dist.all_reduce(buf)
                _sync(device)
                if r:
                    times[i].append(time.perf_counter() - t0)
    flat = _max_over_ranks([t for ts in times for t in ts], device)
    out, start = [], 0
    for ts in times:
        out.append(flat[start:start + len(ts)])
        start += len(ts)
    return out


def _contention_rounds(net: Any, x: Any, y: Any, sizes: Sequence[float], repeats: int,
                       device: Any) -> tuple[list[float], list[float], list[float]]:
    """Per size: median times of the backward pass alone, of the backward pass with an
    all-reduce of that size launched at its start (alone + the median paired difference),
    and of that all-reduce (its completion stamped by a callback); slowest rank per repeat,
    sizes interleaved round by round."""
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    bufs = [torch.ones(max(1, int(n) // 4), dtype=torch.float32, device=device)
            for n in sizes]
    alone: list[list[float]] = [[] for _ in sizes]
    shared: list[list[float]] = [[] for _ in sizes]
    comm: list[list[float]] = [[] for _ in sizes]

    def backward(buf: Any) -> tuple[float, float]:
        net.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        dist.barrier()
        _sync(device)
        t0, stamp = time.perf_counter(), []
        fut = None
        if buf is not None:
            fut = dist.all_reduce(buf, async_op=True).get_future().then(
                lambda f: stamp.append(time.perf_counter()))
        loss.backward()
        _sync(device)
        t_b = time.perf_counter() - t0
        if fut is not None:
            fut.wait()
        return t_b, (stamp[0] - t0) if stamp else float("nan")

    for r in range(repeats + 1):
        for i, buf in enumerate(bufs):
            b0, _ = backward(None)
            b1, c1 = backward(buf)
            if r:
                alone[i].append(b0)
                shared[i].append(b1)
                comm[i].append(c1)
    per_size = []
    for series in (alone, shared, comm):
        flat = _max_over_ranks([t for ts in series for t in ts], device)
        per_size.append([flat[i * repeats:(i + 1) * repeats] for i in range(len(sizes))])
    b0 = [statistics.median(ts) for ts in per_size[0]]
    # the backward pass with the all-reduce: its alone median plus the median of the paired
    # differences (each pair ran back to back, so a drift of the machine's load cancels)
    b1 = [m + statistics.median(s - a for a, s in zip(alone_ts, shared_ts, strict=True))
          for m, alone_ts, shared_ts in zip(b0, per_size[0], per_size[1], strict=True)]
    return b0, b1, [statistics.median(ts) for ts in per_size[2]]


class _HookState:
    """Per-step records of the timing hook: (bytes, launch, done) since the step began."""

    def __init__(self, world_size: int) -> None:
        self.world_size = world_size
        self.t0 = 0.0
        self.records: list[tuple[float, float, float]] = []


def _timing_hook(state, bucket):  # DDP rejects annotations other than torch's own
    """DDP's default all-reduce hook (divide, all-reduce, return) plus a timer."""
    import torch.distributed as dist

    tensor = bucket.buffer()
    launch = time.perf_counter() - state.t0
    tensor.div_(state.world_size)
    fut = dist.all_reduce(tensor, async_op=True).get_future()

    def done(f: Any) -> Any:
        state.records.append((float(tensor.numel() * tensor.element_size()), launch,
                              time.perf_counter() - state.t0))
        return f.value()[0]

    return fut.then(done)


def _model_and_batch(config: DDPCheckConfig, *, rank: int, device: Any) -> tuple[Any, Any, Any]:
    """The model (same weights on every rank) and this rank's batch of inputs and labels."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = config.build().to(device).train()
    g = torch.Generator().manual_seed(config.seed + 1 + rank)
    x = torch.randn(config.batch_per_rank, *config.sample_shape, generator=g).to(device)
    y = torch.randint(0, config.n_classes, (config.batch_per_rank,), generator=g).to(device)
    return model, x, y


def _worker(config: DDPCheckConfig, out_path: str) -> None:
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    from neurocomp.accounting.machine import median_probe, probe
    from neurocomp.layers import setup_distributed, teardown_distributed

    ctx = setup_distributed()
    torch.set_num_threads(config.threads)
    dev = ctx.device
    try:
        sweep = list(zip(config.sweep_bytes,
                         map(tuple, _allreduce_rounds(config.sweep_bytes, config.repeats, dev)),
                         strict=True))
        model, x, y = _model_and_batch(config, rank=ctx.rank, device=dev)

        def run(net: Any, state: _HookState | None) -> tuple[list[float], list[float]]:
            opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
            steps, exposed = [], []
            for i in range(config.warmup_steps + config.steps):
                if i >= config.warmup_steps:
                    probes.append(probe(clock="wall"))
                dist.barrier()
                _sync(dev)
                t0 = time.perf_counter()
                if state is not None:
                    state.t0, state.records = t0, []
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(net(x), y).backward()
                _sync(dev)
                t_bwd = time.perf_counter() - t0
                opt.step()
                _sync(dev)
                if i >= config.warmup_steps:
                    steps.append(time.perf_counter() - t0)
                    if state is not None:
                        last = max(r[1] for r in state.records)
                        exposed.append(max(0.0, t_bwd - last))
                        busy.append(busy_s((r[1], r[2]) for r in state.records))
                        sizes[:] = [r[0] for r in sorted(state.records, key=lambda r: r[1])]
            return steps, exposed

        busy: list[float] = []
        sizes: list[float] = []
        probes: list[Probe] = []
        local_net = copy.deepcopy(model)
        local, _ = run(local_net, None)
        kw = {} if config.bucket_cap_mb is None else {"bucket_cap_mb": config.bucket_cap_mb}
        ddp = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda"
                                      else None, **kw)
        state = _HookState(ctx.world_size)
        ddp.register_comm_hook(state, _timing_hook)
        ddp_steps, exposed = run(ddp, state)
        isolated = [statistics.median(ts)
                    for ts in _allreduce_rounds(sizes, config.repeats, dev)]
        b_alone, b_shared, c_shared = _contention_rounds(
            local_net, x, y, sizes, max(3, config.repeats // 2), dev)
        local = _max_over_ranks(local, dev)
        ddp_steps = _max_over_ranks(ddp_steps, dev)
        busy = _max_over_ranks(busy, dev)
        exposed = _max_over_ranks(exposed, dev)
        del ddp, state  # the reducer and its hook go before the process group
        dist.barrier()
        if ctx.is_main:
            Path(out_path).write_text(json.dumps(asdict(DDPMeasurement(
                world_size=ctx.world_size, backend=str(ctx.backend), sweep=tuple(sweep),
                local_step_s=tuple(local), ddp_step_s=tuple(ddp_steps),
                bucket_bytes=tuple(sizes), bucket_busy_s=tuple(busy), exposed_s=tuple(exposed),
                bucket_isolated_s=tuple(isolated), probe=median_probe(probes),
                load_average=tuple(os.getloadavg()), contention_comm_shared_s=tuple(c_shared),
                contention_compute_alone_s=tuple(b_alone),
                contention_compute_shared_s=tuple(b_shared)))))
    finally:
        teardown_distributed(ctx)


def run_ddp_check(config: DDPCheckConfig, *, world_size: int = 2,
                  max_bytes: float | None = None) -> DDPMeasurement:
    """Start ``world_size`` local processes, run the check in each, return rank 0's numbers.

    Before any process starts, the data all processes hold together — a float32 batch and
    its gradient, and the send and receive buffers of the largest all-reduce, per process
    (the model's own weights come on top) — must fit in ``max_bytes`` (``None``: 8 GiB).

    Raises
    ------
    ValueError
        For ``world_size`` below 2 (there is nothing to communicate with one process), or
        sizes beyond ``max_bytes``.
    RuntimeError
        If a process fails (the error of the failing rank is raised).
    """
    from neurocomp.layers import launch_local

    if not isinstance(config, DDPCheckConfig):
        raise TypeError(f"config must be a DDPCheckConfig; got {type(config).__name__}")
    n = check_int("world_size", world_size, low=2)
    batch = config.batch_per_rank * math.prod(config.sample_shape) * 4 * 2
    check_bytes("run_ddp_check", n * (batch + 2 * max(config.sweep_bytes)),
                     max_bytes=max_bytes,
                     sizes=f"world_size={n}, batch_per_rank={config.batch_per_rank}, "
                           f"sample_shape={config.sample_shape}, largest sweep_bytes entry "
                           f"{max(config.sweep_bytes):g} B")
    with tempfile.TemporaryDirectory(prefix="neurocomp-ddp-") as tmp:
        out = Path(tmp) / "rank0.json"
        launch_local(_worker, world_size=n, args=(config, str(out)))
        data = json.loads(out.read_text())
    data["sweep"] = tuple((float(s), tuple(ts)) for s, ts in data["sweep"])
    for key in ("local_step_s", "ddp_step_s", "bucket_bytes", "bucket_busy_s", "exposed_s",
                "bucket_isolated_s", "load_average", "contention_comm_shared_s",
                "contention_compute_alone_s", "contention_compute_shared_s"):
        data[key] = tuple(data[key])
    data["probe"] = Probe(**data["probe"])
    return DDPMeasurement(**data)
