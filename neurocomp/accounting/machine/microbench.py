r"""Micro-benchmarks of this machine: achieved FLOP/s per kind of op, bandwidth, overheads.

The roofline (:mod:`~neurocomp.accounting.machine.roofline_model`) needs a FLOP rate and a
bandwidth; a data sheet gives peaks, but what an op gets is an *achieved* rate that depends on its
arithmetic intensity and on the kernel (Williams et al. 2009 draw the roofline from
measured kernels; Paleo and Calculon scale peaks by measured efficiencies,
``docs/references.md#anchors-accounting-2``). :func:`benchmark_machine` measures, medians of repeats
after a warm-up, on generic shapes (none of them a layer of the reference nets):

* **rate tables** — achieved FLOP/s, with the arithmetic intensity (FLOP per byte) of
  each call, per kind of op: matrix products (square ones, and skinny ones whose time is
  reading the matrix: an empirical roofline), convolutions (1-D and 2-D apart; forward,
  and backward = input and weight gradients), pooling and batch normalisation (forward and
  backward), and ``pow`` with a fractional exponent (the transcendental op of response
  normalisation). FLOPs and bytes of each benchmark are those of the library's counter, so
  the rates apply to its counts;
* **memory bandwidth** — the STREAM "add" kernel :math:`c = a + 2b` with inputs cycled
  through more memory than the last-level cache holds (as a network streams through its
  activations), bytes/s against bytes per call;
* **fresh allocations** — writing into a newly allocated block vs. a reused one: blocks
  above glibc's ``mmap`` threshold (:data:`MMAP_THRESHOLD_BYTES`) come from the kernel on
  every allocation and fault every page in on first touch;
* **overheads** — dispatch of one tiny op; one tiny op recorded for autograd and
  differentiated; the fixed cost of a ``backward()`` call.

:class:`MachineBenchmark` (in :mod:`~neurocomp.accounting.machine.machine_rates`, with the other
result types, re-exported here) holds the tables (matmul interpolated in intensity, the others
summarised by their median, see :meth:`MachineBenchmark.flop_per_s`);
:meth:`MachineBenchmark.device` is the :class:`~neurocomp.accounting.hardware.Device`
the roofline takes (peak = best matmul rate, bandwidth = DRAM bandwidth). :func:`probe` (a
matmul and a large add, ~80 ms) tells how fast the shared machine is *now*;
:meth:`MachineBenchmark.scaled` carries the tables over to that moment.

Clocks: ``"process"`` (CPU time of this process, ``time.process_time``) leaves out the time
other jobs hold the cores; ``"wall"`` (``time.perf_counter``) does not. torch is imported
inside the functions, so importing the accounting package stays light.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from neurocomp.accounting.machine.machine_rates import (
    MMAP_THRESHOLD_BYTES,
    TABLES,
    MachineBenchmark,
    Probe,
    RatePoint,
    median_probe,
)
from neurocomp.checks import check_bytes, check_choice, check_int, check_real
from neurocomp.timing import CLOCKS, Timing, measure

__all__ = [
    "MicroBenchmark",
    "benchmark_machine",
    "default_microbenchmarks",
    "measure_allocation",
    "measure_bandwidth",
    "measure_overheads",
    "measure_table",
    "probe",
    "torch_threads",
]

# -- timing -----------------------------------------------------------------------------------

@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Run the block with ``torch.set_num_threads(threads)`` (``None``: unchanged), then
    restore the previous count; yields the count in force."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(check_int("threads", threads, low=1))
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def _timed(fn: Callable[[], Any], *, repeats: int, warmup: int, clock: str) -> Timing:
    """Time with an inner loop long enough (~20 ms) for the clock's resolution."""
    first = measure(fn, repeats=1, warmup=warmup, clock="wall").median_s
    inner = max(1, min(1000, int(0.02 / max(first, 1e-9))))
    return measure(fn, repeats=repeats, warmup=0, inner=inner, clock=clock)


# -- the rate tables --------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class MicroBenchmark:
    """One generic op to time: a module and its input, and the phase that goes in a table.

    Parameters
    ----------
    table : str
        The table it belongs to (:data:`TABLES`).
    label : str
        Description (shapes).
    build : callable
        ``build() -> (module, input)``; the input requires grad when the backward of the
        input should be timed too.
    """

    table: str
    label: str
    build: Callable[[], tuple[Any, Any]]

    def __post_init__(self) -> None:
        check_choice("table", self.table, TABLES)

    @property
    def phase(self) -> str:
        """``"backward"`` for the backward tables, else ``"forward"``."""
        return "backward" if self.table.endswith(":backward") else "forward"


def measure_table(bench: MicroBenchmark, *, repeats: int = 5, warmup: int = 1,
                  clock: str = "process") -> RatePoint:
    """Time one micro-benchmark and price its main op with the counter's FLOPs and bytes.

    The module is counted (:func:`~neurocomp.accounting.count`); the op with the
    most FLOPs in the benchmark's phase is its main op, and the phase's time (forward
    under ``no_grad``, or ``torch.autograd.grad`` of every leaf) is charged to it.
    """
    import torch

    from neurocomp.accounting.counting import count

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module, x = bench.build()
    backward = bench.phase == "backward"
    report = count(module, x, backward=backward)
    records = [o for o in report.ops if o.phase == bench.phase]
    main = max(records, key=lambda o: o.flop)
    if main.flop <= 0:
        raise ValueError(f"micro-benchmark {bench.label!r} has no FLOPs in {bench.phase}")
    args = x if isinstance(x, tuple) else (x,)
    if backward:
        y = module(*args)
        grad = torch.ones_like(y)
        leaves = [t for t in (*args, *module.parameters()) if t.requires_grad]

        def fn() -> None:
            torch.autograd.grad(y, leaves, grad, retain_graph=True)
    else:
        def fn() -> None:
            with torch.no_grad():
                module(*args)
    t = _timed(fn, repeats=repeats, warmup=warmup, clock=clock)
    calls = max(main.calls, 1)
    flop = main.flop / calls
    moved = (main.bytes_read + main.bytes_written) / calls
    return RatePoint(label=bench.label, work_per_call=flop, rate_per_s=flop * calls / t.median_s,
                     time_s=t.median_s, intensity_flop_per_byte=flop / moved, iqr_s=t.iqr_s)


def _matmul(m: int, k: int, n: int) -> Callable[[], tuple[Any, Any]]:
    def build() -> tuple[Any, Any]:
        import torch

        class MatMul(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.b = torch.nn.Parameter(torch.randn(k, n), requires_grad=False)

            def forward(self, a: torch.Tensor) -> torch.Tensor:
                return torch.mm(a, self.b)

        return MatMul(), torch.randn(m, k)
    return build


def _conv(dims: int, batch: int, c_in: int, c_out: int, size: int, kernel: int
          ) -> Callable[[], tuple[Any, Any]]:
    def build() -> tuple[Any, Any]:
        import torch

        conv = (torch.nn.Conv1d if dims == 1 else torch.nn.Conv2d)(c_in, c_out, kernel,
                                                                   padding=kernel // 2)
        return conv, torch.randn(batch, c_in, *([size] * dims)).requires_grad_(True)
    return build


def _module(factory: Callable[[], Any], shape: tuple[int, ...]) -> Callable[[], tuple[Any, Any]]:
    def build() -> tuple[Any, Any]:
        import torch

        return factory().train(), torch.randn(*shape).requires_grad_(True)
    return build


def _pow(shape: tuple[int, ...]) -> Callable[[], tuple[Any, Any]]:
    def build() -> tuple[Any, Any]:
        import torch

        class Pow(torch.nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x.pow(-0.75)

        return Pow(), torch.rand(*shape) + 1.0
    return build


def default_microbenchmarks(*, quick: bool = False) -> tuple[MicroBenchmark, ...]:
    """The generic ops :func:`benchmark_machine` times (fewer sizes with ``quick``).

    Matrix products: squares of 64–2048 and skinny ``m×2048 @ 2048×2048`` (``m`` 1–64);
    convolutions: 2-D with 3–512 channels on 4–64 px maps, 1×1, 3×3 and 5×5 kernels, and
    1-D with long kernels; pooling: 3×3 windows of stride 2, max and average; batch
    normalisation (training) of 2-D and 1-D activations; ``pow(x, -0.75)``.
    """
    import torch

    mm = [(n, n, n) for n in ((64, 256, 1024) if quick else (64, 128, 256, 512, 1024, 2048))]
    mm += [(m, 2048, 2048) for m in ((1, 16) if quick else (1, 4, 16, 64))]
    convs = [(2, 16, 3, 32, 64, 5), (2, 16, 16, 32, 32, 3), (2, 8, 32, 64, 56, 3),
             (2, 16, 64, 64, 16, 5), (2, 16, 128, 128, 16, 3), (2, 16, 256, 256, 8, 3),
             (2, 16, 512, 512, 4, 3), (2, 16, 96, 192, 12, 1), (2, 8, 64, 128, 28, 1),
             (1, 4, 512, 32, 256, 33), (1, 8, 32, 32, 512, 9), (1, 8, 128, 128, 256, 15),
             (1, 2, 1024, 64, 256, 49)]
    if quick:
        convs = convs[:1] + convs[2:4] + convs[6:8] + convs[9:10] + convs[12:]
    out = [MicroBenchmark(table="matmul", label=f"mm {m}×{k}×{n}", build=_matmul(m, k, n))
           for m, k, n in mm]
    for c in convs:
        label = f"conv{c[0]}d {c[2]}→{c[3]} k{c[5]} {c[4]}px b{c[1]}"
        out += [MicroBenchmark(table=f"convolution{c[0]}d:{p}", label=label, build=_conv(*c))
                for p in ("forward", "backward")]
    pools = [(16, 64, 32), (8, 96, 55)][: 1 if quick else 2]
    for b, c, s in pools:
        for name, factory in (("max", lambda: torch.nn.MaxPool2d(3, 2)),
                              ("avg", lambda: torch.nn.AvgPool2d(3, 2))):
            out += [MicroBenchmark(table=f"pooling:{p}", label=f"{name}pool 3/2 {c}×{s}px b{b}",
                                   build=_module(factory, (b, c, s, s)))
                    for p in ("forward", "backward")]
    norms = [("bn2d", lambda: torch.nn.BatchNorm2d(64), (16, 64, 32, 32)),
             ("bn1d", lambda: torch.nn.BatchNorm1d(64), (8, 64, 512))][: 1 if quick else 2]
    for name, factory, shape in norms:
        out += [MicroBenchmark(table=f"normalization:{p}", label=f"{name} {shape}",
                               build=_module(factory, shape)) for p in ("forward", "backward")]
    for n in ((2**20,) if quick else (2**18, 2**21)):
        out.append(MicroBenchmark(table="aten.pow", label=f"pow(x, -0.75) {n} elements",
                                  build=_pow((n,))))
    return tuple(out)


# -- bandwidth, allocation, overheads ---------------------------------------------------------

#: Memory of one tensor object beside its data (Python object, storage, metadata), bytes;
#: it counts when tiny sizes make the pool hold millions of arrays.
_TENSOR_OVERHEAD_BYTES = 512


def measure_bandwidth(sizes_bytes: Sequence[float] = tuple(2.0**k for k in range(16, 29, 2)),
                      *, repeats: int = 5, warmup: int = 1, clock: str = "process",
                      pool_bytes: float = 96 * 2**20,
                      max_bytes: float | None = None) -> tuple[RatePoint, ...]:
    """STREAM add :math:`c = a + 2b` on float32 arrays of each size (bytes per array).

    The inputs cycle through pairs of arrays holding ``pool_bytes`` in all (more than the
    last-level cache), so each call reads from memory, as a layer reads activations
    written long before; the output buffer is reused. Bytes moved per call: 3 × size.
    Every size is checked first: the pool and the output of one size must fit in
    ``max_bytes`` (``None``: 8 GiB).
    """
    import torch

    pool = check_real("pool_bytes", pool_bytes, low=8.0, unit="B")
    counts = [max(1, int(check_real("bandwidth size", size, low=4.0, unit="B")) // 4)
              for size in sizes_bytes]
    for n in counts:
        pairs = max(1, int(pool // (8 * n)))
        check_bytes("measure_bandwidth", pairs * (8 * n + 2 * _TENSOR_OVERHEAD_BYTES)
                         + 4 * n, max_bytes=max_bytes,
                         sizes=f"sizes_bytes entry {4 * n:g} B with pool_bytes={pool:g} B")
    out = []
    for n in counts:
        pairs = max(1, int(pool // (8 * n)))
        arrays = [(torch.ones(n), torch.ones(n)) for _ in range(pairs)]
        dest = torch.empty(n)
        turn = [0]

        def add(arrays=arrays, dest=dest, turn=turn) -> None:
            a, b = arrays[turn[0] % len(arrays)]
            turn[0] += 1
            torch.add(a, b, alpha=2.0, out=dest)

        t = _timed(add, repeats=repeats, warmup=warmup, clock=clock)
        out.append(RatePoint(label=f"add {4 * n / 2**20:.3g} MiB", work_per_call=12.0 * n,
                             rate_per_s=12.0 * n / t.median_s, time_s=t.median_s,
                             iqr_s=t.iqr_s))
        del arrays
    return tuple(out)


def _paired_difference(slow: Callable[[], Any], fast: Callable[[], Any], *, repeats: int,
                       warmup: int, inner: int, clock: str) -> float:
    """Median over rounds of (time of ``slow`` − time of ``fast``), the two timed in turn
    within each round so that a change of load hits both, s per call."""
    diffs = []
    for _ in range(repeats):
        t_slow = measure(slow, repeats=1, warmup=warmup, inner=inner, clock=clock).median_s
        t_fast = measure(fast, repeats=1, warmup=warmup, inner=inner, clock=clock).median_s
        diffs.append(t_slow - t_fast)
    return statistics.median(diffs)


def measure_allocation(n_bytes: float = 4 * MMAP_THRESHOLD_BYTES, *, repeats: int = 7,
                       warmup: int = 1, clock: str = "process",
                       max_bytes: float | None = None) -> float:
    """Extra seconds per byte of writing a freshly allocated block instead of a reused one.

    Times ``torch.empty(n).fill_(1)`` (allocate, fault every page in, free) against
    ``buffer.fill_(1)`` on a kept buffer, in turn, ``repeats`` rounds; ``n_bytes`` should
    exceed :data:`MMAP_THRESHOLD_BYTES`. Returns s/B (0 if the fresh write is not slower).
    The two blocks must fit in ``max_bytes`` (``None``: 8 GiB).
    """
    import torch

    n = int(check_real("n_bytes", n_bytes, low=4.0, unit="B")) // 4
    check_bytes("measure_allocation", 2 * 4 * n, sizes=f"n_bytes={n_bytes:g}",
                     max_bytes=max_bytes)
    kept = torch.empty(n)
    extra = _paired_difference(lambda: torch.empty(n).fill_(1.0), lambda: kept.fill_(1.0),
                               repeats=check_int("repeats", repeats, low=1), warmup=warmup,
                               inner=1, clock=clock)
    return max(0.0, extra / (4 * n))


def measure_overheads(*, repeats: int = 9, warmup: int = 2, clock: str = "process"
                      ) -> tuple[float, float, float]:
    """Per-call framework costs, s: ``(op, autograd op, backward call)``.

    * op: one ``add`` of two one-element tensors without autograd;
    * autograd op: the extra forward-plus-backward time of a chain of 65 one-element
      multiplications over a chain of 1 (timed in turn, median of ``repeats`` rounds),
      per multiplication, halved (one forward and one backward op each);
    * backward call: the chain of 1 minus its two ops, a ``backward()`` of a tiny graph.
    """
    import torch

    x = torch.zeros(1)
    op = measure(lambda: torch.add(x, x), repeats=repeats, warmup=warmup, inner=500,
                   clock=clock).median_s
    w = torch.zeros(1, requires_grad=True)

    def chain(k: int) -> Callable[[], None]:
        def run() -> None:
            y = w
            for _ in range(k):
                y = y * 1.0
            y.sum().backward()
        return run

    short, long_k = 1, 65
    per_pair = max(0.0, _paired_difference(chain(long_k), chain(short), repeats=repeats,
                                           warmup=warmup, inner=10, clock=clock)
                   / (long_k - short))
    t_short = measure(chain(short), repeats=repeats, warmup=warmup, inner=20,
                        clock=clock).median_s
    return op, per_pair / 2, max(0.0, t_short - 2 * per_pair)


def probe(*, repeats: int = 5, clock: str = "process") -> Probe:
    """The machine's speed now: a 512³ matmul and a 64 MiB add, medians of ``repeats``.

    Takes ~80 ms; a caller interleaving probes with other work takes their median.
    """
    import torch

    n = 512
    a, b, c = torch.ones(n, n), torch.ones(n, n), torch.empty(n, n)
    tm = measure(lambda: torch.mm(a, b, out=c), repeats=repeats, warmup=1, clock=clock)
    m = 2**24
    x, y, z = torch.ones(m), torch.ones(m), torch.empty(m)
    tb = measure(lambda: torch.add(x, y, alpha=2.0, out=z), repeats=repeats, warmup=1,
                   clock=clock)
    return Probe(flop_per_s=2.0 * n**3 / tm.median_s, bytes_per_s=12.0 * m / tb.median_s)


def benchmark_machine(*, threads: int | None = None, repeats: int = 5, warmup: int = 1,
                      clock: str = "process", quick: bool = False,
                      benchmarks: Sequence[MicroBenchmark] | None = None) -> MachineBenchmark:
    """Measure every table of :class:`MachineBenchmark` (~40 s; ``quick``: ~10 s).

    Parameters
    ----------
    threads : int or None
        torch threads during the measurement (restored afterwards); ``None`` keeps the
        current count. Measure with the thread count of the runs to predict.
    repeats, warmup : int
        Timed repeats (median) and untimed calls before them.
    clock : {"process", "wall"}
        ``"process"``: CPU time, insensitive to other jobs taking turns on the cores.
    quick : bool
        Fewer sizes (:func:`default_microbenchmarks`).
    benchmarks : sequence of MicroBenchmark, optional
        The ops of the rate tables (default :func:`default_microbenchmarks`).
    """
    check_choice("clock", clock, CLOCKS)
    kw = {"repeats": repeats, "warmup": warmup, "clock": clock}
    with torch_threads(threads) as n_threads:
        benches = tuple(benchmarks) if benchmarks is not None else default_microbenchmarks(
            quick=quick)
        probes = [probe(clock=clock)]
        tables: dict[str, list[RatePoint]] = {}
        for i, bench in enumerate(benches):
            if not isinstance(bench, MicroBenchmark):
                raise TypeError(f"benchmarks must be MicroBenchmark objects; "
                                f"got {type(bench).__name__}")
            tables.setdefault(bench.table, []).append(measure_table(bench, **kw))
            if i % 8 == 7:
                probes.append(probe(clock=clock))
        sizes = (2.0**k for k in ((16, 20, 24, 27) if quick else range(16, 29, 2)))
        bandwidth = measure_bandwidth(tuple(sizes), **kw)
        fresh = measure_allocation(warmup=warmup, clock=clock)
        op, autograd_op, backward_call = measure_overheads(clock=clock)
        probes.append(probe(clock=clock))
    return MachineBenchmark(tables={k: tuple(v) for k, v in tables.items()},
                            bandwidth=bandwidth, fresh_allocation_s_per_byte=fresh,
                            op_overhead_s=op, autograd_op_overhead_s=autograd_op,
                            backward_call_s=backward_call, reference=median_probe(probes),
                            threads=n_threads, clock=clock)
