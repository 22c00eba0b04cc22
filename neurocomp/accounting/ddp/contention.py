r"""Communication and computation on shared cores: how each slows the other.

On a CPU node the all-reduce (gloo's threads copying, reducing and sending) and the backward
pass run on the same cores; on a GPU, NCCL's kernels share the streaming multiprocessors
with the backward kernels. While both run, the all-reduce takes ``comm_slowdown`` times as
long as alone and the backward pass ``compute_slowdown`` times as long — a processor-sharing
model with two measured factors (:class:`Contention`). :func:`contended_timeline` plays the
buckets of one backward pass through it: each bucket starts when its last gradient is ready
and the previous all-reduce is done, and progress of each activity runs at its shared rate
while the other is active, at full rate otherwise.

The factors are measured by a micro-benchmark (an all-reduce launched while the process
computes matrix products, :mod:`~neurocomp.accounting.ddp.ddp_check`), never from the
training step the prediction is compared with. With both factors 1 the timeline is the
plain overlap of :func:`~neurocomp.accounting.ddp.bucketing.schedule_overlap`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from neurocomp.checks import check_real

__all__ = ["Contention", "contended_timeline", "slowdowns_from_overlap"]

#: Relative tolerance of the event loop (work and communication left counted as done).
_EPS = 1e-12


@dataclass(frozen=True, kw_only=True)
class Contention:
    """Slow-down factors while an all-reduce and the backward pass run at once.

    Parameters
    ----------
    comm_slowdown : float
        All-reduce time while the backward pass runs over its time alone (≥ 1).
    compute_slowdown : float
        Backward time while an all-reduce is in flight over its time alone (≥ 1).
    """

    comm_slowdown: float = 1.0
    compute_slowdown: float = 1.0

    def __post_init__(self) -> None:
        check_real("comm_slowdown", self.comm_slowdown, low=1.0, high=1e3)
        check_real("compute_slowdown", self.compute_slowdown, low=1.0, high=1e3)


def slowdowns_from_overlap(*, comm_alone_s: float, compute_alone_s: float,
                           comm_shared_s: float, compute_shared_s: float) -> Contention:
    """Both factors from one overlap experiment: an all-reduce launched together with a
    compute burst longer than it.

    Parameters
    ----------
    comm_alone_s, compute_alone_s : float
        The all-reduce and the burst, each on its own, s.
    comm_shared_s : float
        The all-reduce's time when launched with the burst (it ends first), s.
    compute_shared_s : float
        The burst's time when the all-reduce ran during its first ``comm_shared_s``, s.

    Returns
    -------
    Contention
        ``comm_slowdown = comm_shared / comm_alone``; the burst progressed
        ``comm_shared / compute_slowdown`` while shared and ran alone after, so
        ``compute_shared = comm_shared + compute_alone − comm_shared / compute_slowdown``.
        Factors below 1 (timing noise) are reported as 1.
    """
    c0 = check_real("comm_alone_s", comm_alone_s, low=0.0, low_inclusive=False, unit="s")
    b0 = check_real("compute_alone_s", compute_alone_s, low=0.0, low_inclusive=False, unit="s")
    c1 = check_real("comm_shared_s", comm_shared_s, low=0.0, low_inclusive=False, unit="s")
    b1 = check_real("compute_shared_s", compute_shared_s, low=0.0, low_inclusive=False,
                    unit="s")
    if c1 >= b1:
        raise ValueError(f"comm_shared_s ({c1:g} s) must end before the burst "
                         f"(compute_shared_s = {b1:g} s): make the burst longer")
    progressed = b0 - (b1 - c1)  # burst work done while shared, in seconds alone
    compute = c1 / progressed if progressed > 0 else 1e3
    return Contention(comm_slowdown=min(1e3, max(1.0, c1 / c0)),
                      compute_slowdown=min(1e3, max(1.0, compute)))


def contended_timeline(ready_work_s: Sequence[float], comm_s: Sequence[float], *,
                       backward_work_s: float, contention: Contention,
                       overlap: bool = True) -> tuple[list[tuple[float, float, float]], float]:
    """Play one backward pass and its bucket all-reduces on shared cores.

    Parameters
    ----------
    ready_work_s : sequence of float
        Per bucket, in launch order: the backward work (s at full speed) after which its
        last gradient is ready.
    comm_s : sequence of float
        Per bucket: its all-reduce time alone, s.
    backward_work_s : float
        The backward pass's work, s at full speed (≥ every ready point).
    contention : Contention
    overlap : bool
        ``False``: no all-reduce starts before the backward pass ends.

    Returns
    -------
    buckets : list of (ready_s, start_s, end_s)
        Per bucket, wall-clock times from the start of the backward pass, s.
    backward_end_s : float
        When the backward pass ends, s (later than ``backward_work_s`` where it shared).
    """
    if len(ready_work_s) != len(comm_s):
        raise ValueError(f"ready_work_s and comm_s must have one entry per bucket; got "
                         f"{len(ready_work_s)} and {len(comm_s)}")
    work = check_real("backward_work_s", backward_work_s, low=0.0, unit="s")
    ready = [work if not overlap else min(work, r) for r in ready_work_s]
    t = done = 0.0
    k, left, out = 0, None, []
    ready_at: dict[int, float] = {}
    backward_end = 0.0 if work == 0 else None
    while k < len(comm_s):
        for j in range(k, len(comm_s)):
            if j not in ready_at and done >= ready[j] * (1 - _EPS):
                ready_at[j] = t
        if left is None and k in ready_at:
            left, start = comm_s[k], t
        computing = backward_end is None
        rate_b = 1.0 / contention.compute_slowdown if left is not None else 1.0
        rate_c = 1.0 / contention.comm_slowdown if computing else 1.0
        steps = []
        if computing:
            nxt = min([r for r in ready if r > done * (1 + _EPS)] + [work])
            steps.append((nxt - done) / rate_b)
        if left is not None:
            steps.append(left / rate_c)
        dt = min(steps)
        t += dt
        if computing:
            done += dt * rate_b
            if done >= work * (1 - _EPS):
                done, backward_end = work, t
        if left is not None:
            left -= dt * rate_c
            if left <= _EPS * max(1.0, comm_s[k]):
                out.append((ready_at[k], start, t))
                k, left = k + 1, None
    if backward_end is None:  # buckets done before the pass ended: the rest runs alone
        backward_end = t + (work - done)
    return out, backward_end
