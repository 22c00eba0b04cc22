"""What the micro-benchmarks measured: rate tables, probes, and this machine as a Device.

The types here are pure data (no torch); :mod:`~neurocomp.accounting.machine.microbench` fills them
by timing ops on this machine, and :mod:`~neurocomp.accounting.machine.step_model` prices a counted
training step with them. A :class:`MachineBenchmark` can also be written by hand (known
rates), which is how the step model is tested.
"""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from neurocomp.accounting.hardware import Device
from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.timing import CLOCKS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BY_INTENSITY",
    "MMAP_THRESHOLD_BYTES",
    "TABLES",
    "MachineBenchmark",
    "Probe",
    "RatePoint",
    "median_probe",
]

#: glibc's largest dynamic ``mmap`` threshold on 64-bit systems, 32 MiB
#: (``DEFAULT_MMAP_THRESHOLD_MAX = 4·1024·1024·sizeof(long)``, mallopt(3)): larger blocks
#: are always mapped fresh from the kernel, so they page-fault when first written, every
#: time they are allocated. PyTorch's CPU allocator takes its memory from the C heap.
MMAP_THRESHOLD_BYTES = 32 * 2**20

#: Rate tables: op kind (and phase) of the counter, or one aten op by name.
TABLES = ("matmul", "convolution1d:forward", "convolution1d:backward", "convolution2d:forward",
          "convolution2d:backward", "pooling:forward", "pooling:backward",
          "normalization:forward", "normalization:backward", "aten.pow")
#: Tables interpolated in arithmetic intensity; the others price every op at their median.
BY_INTENSITY = ("matmul",)


@dataclass(frozen=True, kw_only=True)
class RatePoint:
    """One micro-benchmark: what one call does and how fast it went.

    Attributes
    ----------
    label : str
        What was run (``"mm 512×512×512"``).
    work_per_call : float
        FLOPs (rate tables) or bytes moved (bandwidth table) per call.
    rate_per_s : float
        Median achieved FLOP/s or bytes/s.
    time_s : float
        Median time of one call, s.
    intensity_flop_per_byte : float or None
        FLOPs per byte the counter counts for the call (rate tables).
    iqr_s : float
        Inter-quartile range of the repeats, s.
    """

    label: str
    work_per_call: float
    rate_per_s: float
    time_s: float
    intensity_flop_per_byte: float | None = None
    iqr_s: float = 0.0

    def __post_init__(self) -> None:
        check_real(f"{self.label}: work_per_call", self.work_per_call, low=0.0,
                   low_inclusive=False)
        check_real(f"{self.label}: rate_per_s", self.rate_per_s, low=0.0, low_inclusive=False)
        check_real(f"{self.label}: time_s", self.time_s, low=0.0, low_inclusive=False,
                   unit="s")
        if self.intensity_flop_per_byte is not None:
            check_real(f"{self.label}: intensity_flop_per_byte", self.intensity_flop_per_byte,
                       low=0.0, low_inclusive=False, unit="FLOP/B")


@dataclass(frozen=True, kw_only=True)
class Probe:
    """How fast the machine is at one moment: one matmul and one large add.

    Attributes
    ----------
    flop_per_s : float
        ``512×512 @ 512×512`` float32 rate, FLOP/s.
    bytes_per_s : float
        :math:`c = a + 2b` on 64 MiB arrays, bytes/s.
    """

    flop_per_s: float
    bytes_per_s: float

    def __post_init__(self) -> None:
        check_real("flop_per_s", self.flop_per_s, low=0.0, low_inclusive=False, unit="FLOP/s")
        check_real("bytes_per_s", self.bytes_per_s, low=0.0, low_inclusive=False, unit="B/s")


def median_probe(probes: Sequence[Probe]) -> Probe:
    """Element-wise median of several probes."""
    if not probes:
        raise ValueError("median_probe needs at least one Probe")
    return Probe(flop_per_s=statistics.median(p.flop_per_s for p in probes),
                 bytes_per_s=statistics.median(p.bytes_per_s for p in probes))


def _interp_loglog(xs: Sequence[float], ys: Sequence[float], x: float) -> float:
    """``y(x)``, linear in log–log between the points (sorted by x), clamped at the ends."""
    order = np.argsort(xs)
    lx, ly = np.log(np.asarray(xs)[order]), np.log(np.asarray(ys)[order])
    if x <= 0:
        return float(np.exp(ly[0]))
    return float(np.exp(np.interp(math.log(x), lx, ly)))


@dataclass(frozen=True, kw_only=True)
class MachineBenchmark:
    """This machine's achieved rates, measured by :func:`benchmark_machine`.

    Attributes
    ----------
    tables : mapping of str to tuple of RatePoint
        Empirical rooflines (keys from :data:`TABLES`): FLOP/s against FLOP/B.
    bandwidth : tuple of RatePoint
        STREAM add with cold inputs, bytes/s against bytes moved per call.
    fresh_allocation_s_per_byte : float
        Extra time per byte written into a block newly mapped from the kernel (above
        :data:`MMAP_THRESHOLD_BYTES`), s/B: page faults, zeroing, unmapping later.
    op_overhead_s : float
        Dispatch of one tiny op (no autograd), s.
    autograd_op_overhead_s : float
        One tiny op recorded for autograd: half of its forward-plus-backward time, s.
    backward_call_s : float
        Fixed cost of one ``backward()`` call, s.
    reference : Probe
        Median of the :func:`probe` results taken between the measurements.
    threads : int
        ``torch.get_num_threads()`` during the measurement.
    clock : {"process", "wall"}
        Clock of every timing.
    """

    tables: Mapping[str, tuple[RatePoint, ...]]
    bandwidth: tuple[RatePoint, ...]
    fresh_allocation_s_per_byte: float
    op_overhead_s: float
    autograd_op_overhead_s: float
    backward_call_s: float
    reference: Probe
    threads: int
    clock: str = "process"
    name: str = "this machine (measured)"

    def __post_init__(self) -> None:
        tables = {}
        for key, points in dict(self.tables).items():
            points = tuple(points)
            if not points or not all(isinstance(p, RatePoint) for p in points):
                raise TypeError(f"tables[{key!r}] must hold at least one RatePoint")
            if any(p.intensity_flop_per_byte is None for p in points):
                raise ValueError(f"tables[{key!r}]: every point needs intensity_flop_per_byte")
            tables[key] = points
        if "matmul" not in tables:
            raise ValueError("tables needs a 'matmul' table (it sets the peak)")
        object.__setattr__(self, "tables", tables)  # a copy (a plain dict: picklable)
        bandwidth = tuple(self.bandwidth)
        if not bandwidth or not all(isinstance(p, RatePoint) for p in bandwidth):
            raise TypeError("bandwidth must hold at least one RatePoint")
        object.__setattr__(self, "bandwidth", bandwidth)
        for name in ("fresh_allocation_s_per_byte", "op_overhead_s", "autograd_op_overhead_s",
                     "backward_call_s"):
            check_real(name, getattr(self, name), low=0.0)
        if not isinstance(self.reference, Probe):
            raise TypeError(f"reference must be a Probe; got {type(self.reference).__name__}")
        check_int("threads", self.threads, low=1)
        check_choice("clock", self.clock, CLOCKS)

    # -- rates ----------------------------------------------------------------------------
    @property
    def peak_flop_per_s(self) -> float:
        """Best matmul rate measured, FLOP/s (the roofline's flat roof)."""
        return max(p.rate_per_s for p in self.tables["matmul"])

    @property
    def memory_bandwidth_bytes_per_s(self) -> float:
        """Bandwidth of the largest add (out of cache: DRAM), bytes/s."""
        return max(self.bandwidth, key=lambda p: p.work_per_call).rate_per_s

    def table_for(self, op: str, kind: str, phase: str, *, dims: int | None = None
                  ) -> str | None:
        """The table that prices ``op``: by name, then ``kind`` with the spatial ``dims``
        and ``phase`` (``"convolution2d:forward"``), then ``kind:phase``, then ``kind``.

        ``kind:phase`` also matches every ``kind<n>d:phase`` table together (a convolution
        of unknown dimensionality is priced over all convolution benchmarks).
        """
        names = [op] + ([f"{kind}{dims}d:{phase}"] if dims is not None else []) + [
            f"{kind}:{phase}", kind]
        for key in names:
            if key in self.tables or key in self._merged():
                return key
        return None

    def _merged(self) -> dict[str, tuple[RatePoint, ...]]:
        """``kind:phase`` tables formed from the ``kind<n>d:phase`` ones."""
        merged: dict[str, list[RatePoint]] = {}
        for key, points in self.tables.items():
            match = re.fullmatch(r"([a-z_]+)\dd:(\w+)", key)
            if match:
                merged.setdefault(f"{match[1]}:{match[2]}", []).extend(points)
        return {k: tuple(v) for k, v in merged.items() if k not in self.tables}

    def flop_per_s(self, table: str, intensity_flop_per_byte: float) -> float:
        """Achieved rate of an op priced by ``table`` at this arithmetic intensity, FLOP/s.

        Tables in :data:`BY_INTENSITY` (matrix products, whose rate rises steadily from
        skinny to square shapes) are interpolated in intensity (log–log, clamped); every
        other table gives the median of its benchmarks: over generic convolutions the rate
        depends on the shape in ways the intensity does not order (1×1 kernels, small
        maps, long 1-D kernels), and the median is the estimate least moved by that.
        """
        pts = self.tables.get(table) or self._merged().get(table)
        if pts is None:
            raise KeyError(f"no table {table!r}; tables: {sorted(self.tables)}")
        if table in BY_INTENSITY:
            return _interp_loglog([p.intensity_flop_per_byte for p in pts],
                                  [p.rate_per_s for p in pts], intensity_flop_per_byte)
        return statistics.median(p.rate_per_s for p in pts)

    def bandwidth_bytes_per_s(self, bytes_per_call: float) -> float:
        """Memory bandwidth for a call moving this many bytes, bytes/s."""
        return _interp_loglog([p.work_per_call for p in self.bandwidth],
                              [p.rate_per_s for p in self.bandwidth], bytes_per_call)

    def device(self) -> Device:
        """This machine as the roofline's :class:`Device`: best matmul rate, DRAM bandwidth."""
        return Device(name=self.name, peak_flop_per_s=self.peak_flop_per_s, efficiency=1.0,
                      memory_bandwidth_bytes_per_s=self.memory_bandwidth_bytes_per_s)

    def scaled(self, now: Probe) -> MachineBenchmark:
        """The tables carried over to the moment of ``now``.

        Compute rates and overheads scale with ``now.flop_per_s / reference.flop_per_s``,
        the bandwidth and the allocation cost with the bandwidth ratio: a shared machine
        that is slower now is slower in that proportion for every kernel of that kind.
        """
        if not isinstance(now, Probe):
            raise TypeError(f"now must be a Probe; got {type(now).__name__}")
        fc = now.flop_per_s / self.reference.flop_per_s
        fb = now.bytes_per_s / self.reference.bytes_per_s

        def table(points: tuple[RatePoint, ...], f: float) -> tuple[RatePoint, ...]:
            return tuple(dataclasses.replace(p, rate_per_s=p.rate_per_s * f,
                                             time_s=p.time_s / f) for p in points)

        return dataclasses.replace(
            self, tables={k: table(v, fc) for k, v in self.tables.items()},
            bandwidth=table(self.bandwidth, fb),
            fresh_allocation_s_per_byte=self.fresh_allocation_s_per_byte / fb,
            op_overhead_s=self.op_overhead_s / fc,
            autograd_op_overhead_s=self.autograd_op_overhead_s / fc,
            backward_call_s=self.backward_call_s / fc, reference=now)

    def to_frame(self) -> pd.DataFrame:
        """One row per micro-benchmark (tables, bandwidth, then the scalars)."""
        import pandas as pd

        tables = [*self.tables.items(), ("bandwidth", self.bandwidth)]
        rows = [{"table": name, "label": p.label, "work_per_call": p.work_per_call,
                 "intensity_flop_per_byte": p.intensity_flop_per_byte,
                 "rate_per_s": p.rate_per_s, "time_s": p.time_s, "iqr_s": p.iqr_s}
                for name, points in tables for p in points]
        rows += [{"table": "scalar", "label": name, "time_s": getattr(self, name)}
                 for name in ("fresh_allocation_s_per_byte", "op_overhead_s",
                              "autograd_op_overhead_s", "backward_call_s")]
        return pd.DataFrame(rows)
