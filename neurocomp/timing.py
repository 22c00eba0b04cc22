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

from neurocomp._validation import check_int

__all__ = ["Timing", "measure"]


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


def measure(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1) -> Timing:
    """Call ``fn()`` ``warmup`` times untimed, then ``repeats`` times timed.

    Parameters
    ----------
    fn : callable
        Called with no arguments; its result is discarded.
    repeats : int
        Timed calls (≥ 1); report the median.
    warmup : int
        Untimed calls first (≥ 0): caches, lazy initialisation, JIT.
    """
    repeats = check_int("repeats", repeats, low=1)
    warmup = check_int("warmup", warmup, low=0)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return Timing(times_s=tuple(times))
