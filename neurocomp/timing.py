"""Wall-clock measurement the way this project reports speed: medians of repeats.

The machines are shared and noisy, so a single timing means little. :func:`measure` runs a
function a few times after a warm-up and reports the median and the spread; comparisons are
made as ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neurocomp.checks import check_choice, check_int

__all__ = ["CLOCKS", "Timing", "clock_function", "measure"]

#: Clocks a measurement can use: CPU time of this process, or wall-clock time.
CLOCKS = ("process", "wall")


def clock_function(clock: str) -> Callable[[], float]:
    """The clock called ``clock``: ``time.process_time`` or ``time.perf_counter``."""
    check_choice("clock", clock, CLOCKS)
    return time.process_time if clock == "process" else time.perf_counter


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Repeated wall-clock times of one call, in seconds."""

    times_s: tuple[float, ...]

    @property
    def median_s(self) -> float:
        """Median of the repeats, s."""
        return statistics.median(self.times_s)

    @property
    def min_s(self) -> float:
        """Fastest repeat, s."""
        return min(self.times_s)

    @property
    def iqr_s(self) -> float:
        """Inter-quartile range of the repeats, s (0 with fewer than 2 repeats)."""
        if len(self.times_s) < 2:
            return 0.0
        q = statistics.quantiles(self.times_s, n=4, method="inclusive")
        return q[2] - q[0]


def measure(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1, inner: int = 1,
            clock: str = "wall") -> Timing:
    """Call ``fn()`` ``warmup`` times untimed, then time ``repeats`` runs of ``inner`` calls.

    Parameters
    ----------
    fn : callable
        Called with no arguments; its result is discarded.
    repeats : int
        Timed runs (≥ 1); report the median.
    warmup : int
        Untimed calls first (≥ 0): caches, lazy initialisation, JIT.
    inner : int
        Calls per timed run (≥ 1), for calls too short to time one by one; the times
        reported are per call.
    clock : {"wall", "process"}
        ``time.perf_counter`` or the CPU time of this process (``time.process_time``).

    Returns
    -------
    Timing
        Per-call times, s (at least 1e-12 s: a clock coarser than the run reads 0).
    """
    repeats = check_int("repeats", repeats, low=1)
    warmup = check_int("warmup", warmup, low=0)
    inner = check_int("inner", inner, low=1)
    now = clock_function(clock)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = now()
        for _ in range(inner):
            fn()
        times.append(max((now() - start) / inner, 1e-12))
    return Timing(times_s=tuple(times))
