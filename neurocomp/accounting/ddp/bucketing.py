"""Gradient bucketing and overlap of the all-reduce with the backward pass, as PyTorch DDP does.

DDP (Li et al. 2020, "PyTorch Distributed", PVLDB 13(12), arXiv 2006.15704) packs gradients
into buckets in the order they become ready in the backward pass and all-reduces each
bucket as soon as all of its gradients exist, while the backward pass goes on; the
all-reduces run one after another on one communication stream. The caps are DDP's defaults,
read in the source of the installed torch 2.13.0: ``_DEFAULT_BUCKET_CAP_MB = 25`` (MiB) in
``torch/nn/parallel/distributed.py`` and ``torch.distributed._DEFAULT_FIRST_BUCKET_BYTES =
1 MiB``, a small first bucket so that communication starts early. A bucket closes once it
reaches its cap, so a gradient larger than the cap gets a bucket of its own.

:func:`schedule_overlap` returns when each bucket's all-reduce starts and ends; the part of
the communication that outlasts the backward pass (:attr:`OverlapSchedule.exposed_s`) is
what it adds to the step.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from neurocomp.accounting.ddp.contention import Contention, contended_timeline
from neurocomp.checks import check_real

__all__ = [
    "DDP_BUCKET_CAP_BYTES",
    "DDP_FIRST_BUCKET_CAP_BYTES",
    "Bucket",
    "GradientReady",
    "OverlapSchedule",
    "assign_buckets",
    "busy_s",
    "schedule_overlap",
]

#: DDP's default bucket cap: 25 MiB (torch 2.13.0, ``_DEFAULT_BUCKET_CAP_MB × 1024²``).
DDP_BUCKET_CAP_BYTES = 25 * 2**20
#: DDP's default cap of the first bucket: 1 MiB (``torch.distributed._DEFAULT_FIRST_BUCKET_BYTES``).
DDP_FIRST_BUCKET_CAP_BYTES = 2**20


@dataclass(frozen=True, kw_only=True)
class GradientReady:
    """One gradient tensor (or a layer's gradients) and when the backward pass produces it.

    Parameters
    ----------
    name : str
        Layer or parameter name.
    ready_s : float
        Time since the start of the backward pass when it is complete, s.
    n_bytes : float
        Its size, bytes.
    group : hashable
        Which group of ranks reduces it (gradients of different groups never share a bucket).
    """

    name: str
    ready_s: float
    n_bytes: float
    group: Hashable = "all"

    def __post_init__(self) -> None:
        check_real(f"{self.name}.ready_s", self.ready_s, low=0.0, unit="s")
        check_real(f"{self.name}.n_bytes", self.n_bytes, low=0.0, unit="B")


@dataclass(frozen=True, kw_only=True)
class Bucket:
    """One all-reduce: its gradients, size and timing (s from the start of the backward)."""

    index: int
    names: tuple[str, ...]
    n_bytes: float
    group: Hashable
    ready_s: float
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        """Communication time of the bucket, s."""
        return self.end_s - self.start_s


@dataclass(frozen=True, kw_only=True)
class OverlapSchedule:
    """The bucket all-reduces of one backward pass.

    Attributes
    ----------
    buckets : tuple of Bucket
        In launch order.
    backward_end_s : float
        When the backward pass ends, s.
    """

    buckets: tuple[Bucket, ...]
    backward_end_s: float

    @property
    def communication_s(self) -> float:
        """Total all-reduce time (as if nothing overlapped), s."""
        return sum(b.duration_s for b in self.buckets)

    @property
    def end_s(self) -> float:
        """When the last all-reduce (or the backward pass) ends, s."""
        return max([self.backward_end_s, *(b.end_s for b in self.buckets)])

    @property
    def in_flight_s(self) -> float:
        """Time at least one all-reduce is in flight, from its bucket being ready to its end,
        s (a bucket launched behind another waits in flight, as a DDP hook measures it)."""
        return busy_s((b.ready_s, b.end_s) for b in self.buckets)

    @property
    def exposed_s(self) -> float:
        """Communication left after the backward pass ends, s."""
        return self.end_s - self.backward_end_s

    @property
    def hidden_fraction(self) -> float:
        """Share of the communication hidden under the backward pass (1 with none)."""
        total = self.communication_s
        return 1.0 if total == 0 else 1.0 - self.exposed_s / total


def busy_s(intervals: Iterable[tuple[float, float]]) -> float:
    """Length of the union of ``(start, end)`` intervals, s."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def assign_buckets(gradients: Sequence[GradientReady], *,
                   bucket_cap_bytes: float = DDP_BUCKET_CAP_BYTES,
                   first_bucket_cap_bytes: float = DDP_FIRST_BUCKET_CAP_BYTES,
                   ) -> list[list[GradientReady]]:
    """Group gradients, in the given (ready) order, into buckets as DDP does.

    A bucket takes gradients until its size reaches its cap (``first_bucket_cap_bytes`` for
    the first, ``bucket_cap_bytes`` after that), or until the next gradient belongs to
    another group.
    """
    cap = check_real("bucket_cap_bytes", bucket_cap_bytes, low=0.0, low_inclusive=False,
                     unit="B")
    first = check_real("first_bucket_cap_bytes", first_bucket_cap_bytes, low=0.0,
                       low_inclusive=False, unit="B")
    buckets: list[list[GradientReady]] = []
    current: list[GradientReady] = []
    size = 0.0
    for grad in gradients:
        if not isinstance(grad, GradientReady):
            raise TypeError(f"gradients must be GradientReady; got {type(grad).__name__}")
        if current and grad.group != current[-1].group:
            buckets.append(current)
            current, size = [], 0.0
        current.append(grad)
        size += grad.n_bytes
        if size >= (first if not buckets else cap):
            buckets.append(current)
            current, size = [], 0.0
    if current:
        buckets.append(current)
    return buckets


def schedule_overlap(gradients: Sequence[GradientReady], *,
                     comm_time_s: Callable[[Hashable, float], float],
                     backward_end_s: float,
                     bucket_cap_bytes: float = DDP_BUCKET_CAP_BYTES,
                     first_bucket_cap_bytes: float = DDP_FIRST_BUCKET_CAP_BYTES,
                     overlap: bool = True,
                     contention: Contention | None = None) -> OverlapSchedule:
    """Start and end of each bucket's all-reduce.

    Parameters
    ----------
    gradients : sequence of GradientReady
        In the order they become ready.
    comm_time_s : callable
        ``comm_time_s(group, n_bytes)``: time of one all-reduce of ``n_bytes``, s.
    backward_end_s : float
        When the backward pass ends, s (≥ every ``ready_s``).
    bucket_cap_bytes, first_bucket_cap_bytes : float
        Bucket caps, bytes (DDP's defaults).
    overlap : bool
        ``False`` starts the first all-reduce only when the backward pass has ended.
    contention : Contention, optional
        How the all-reduces and the backward pass slow each other down on shared cores
        (:mod:`~neurocomp.accounting.ddp.contention`); ``None``: they do not. With it,
        ``backward_end_s`` is the backward pass's time alone and the schedule's
        ``backward_end_s`` its time with the all-reduces sharing its cores.

    Returns
    -------
    OverlapSchedule
        A bucket starts when its last gradient is ready and the previous bucket is done.
    """
    end_bwd = check_real("backward_end_s", backward_end_s, low=0.0, unit="s")
    late = [g.name for g in gradients if g.ready_s > end_bwd * (1 + 1e-12)]
    if late:
        raise ValueError(f"gradients {late} are ready after backward_end_s = {end_bwd:g} s")
    if contention is not None:
        return _contended(gradients, comm_time_s, end_bwd, bucket_cap_bytes,
                          first_bucket_cap_bytes, overlap, contention)
    out: list[Bucket] = []
    free_s = 0.0
    for i, grads in enumerate(assign_buckets(gradients, bucket_cap_bytes=bucket_cap_bytes,
                                             first_bucket_cap_bytes=first_bucket_cap_bytes)):
        ready = max(g.ready_s for g in grads) if overlap else end_bwd
        n_bytes = sum(g.n_bytes for g in grads)
        duration = check_real("comm_time_s(...)", comm_time_s(grads[0].group, n_bytes),
                              low=0.0, unit="s")
        start = max(ready, free_s)
        free_s = start + duration
        out.append(Bucket(index=i, names=tuple(g.name for g in grads), n_bytes=n_bytes,
                          group=grads[0].group, ready_s=ready, start_s=start, end_s=free_s))
    return OverlapSchedule(buckets=tuple(out), backward_end_s=end_bwd)


def _contended(gradients: Sequence[GradientReady], comm_time_s: Callable[[Hashable, float], float],
               work_s: float, cap: float, first_cap: float, overlap: bool,
               contention: Contention) -> OverlapSchedule:
    """:func:`schedule_overlap` on shared cores (:func:`contended_timeline`)."""
    if not isinstance(contention, Contention):
        raise TypeError(f"contention must be a Contention; got {type(contention).__name__}")
    groups = assign_buckets(gradients, bucket_cap_bytes=cap, first_bucket_cap_bytes=first_cap)
    sizes = [sum(g.n_bytes for g in grads) for grads in groups]
    comm = [check_real("comm_time_s(...)", comm_time_s(grads[0].group, n), low=0.0, unit="s")
            for grads, n in zip(groups, sizes, strict=True)]
    timeline, end = contended_timeline([max(g.ready_s for g in grads) for grads in groups],
                                       comm, backward_work_s=work_s, contention=contention,
                                       overlap=overlap)
    buckets = tuple(Bucket(index=i, names=tuple(g.name for g in grads), n_bytes=n,
                           group=grads[0].group, ready_s=r, start_s=a, end_s=b)
                    for i, (grads, n, (r, a, b)) in enumerate(zip(groups, sizes, timeline,
                                                                  strict=True)))
    return OverlapSchedule(buckets=buckets, backward_end_s=end)
