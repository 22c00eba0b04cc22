r"""The α–β model fitted to an all-reduce sweep, and DDP's communication predicted from it.

nccl-tests (``docs/references.md#anchors-accounting-3-3``) times an all-reduce of :math:`n` bytes
per rank over a range of :math:`n`; small sizes measure latency, large ones bandwidth. A ring
all-reduce over :math:`p` ranks takes (:func:`~neurocomp.accounting.network.collectives.
ring_allreduce_time_s`)

.. math:: T(n) = 2(p-1)\,\alpha + 2\frac{p-1}{p}\,n\,\beta ,

so a straight line :math:`T = a + b\,n` through the sweep gives the link's latency
:math:`\alpha = a / (2(p-1))` and bandwidth :math:`1/\beta = 2(p-1) / (p\,b)`: the ring's
factors are divided out explicitly, and the bandwidth is the nccl-tests *bus* bandwidth in
the large-message limit. (With :math:`p = 2` the factors are 2 and 1.) The line is fitted
by least squares on the *relative* residuals (weights :math:`1/T^2`), so microsecond
messages count as much as 100 MB ones.

:func:`predict_ddp_step` turns per-layer backward times and gradient sizes into DDP's
buckets and their overlap with the backward pass
(:func:`~neurocomp.accounting.ddp.bucketing.schedule_overlap`), each bucket costing
:math:`T(n)` of the fitted link.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocomp.accounting.ddp.bucketing import (
    DDP_BUCKET_CAP_BYTES,
    DDP_FIRST_BUCKET_CAP_BYTES,
    GradientReady,
    OverlapSchedule,
    schedule_overlap,
)
from neurocomp.accounting.ddp.contention import Contention
from neurocomp.accounting.network import AlphaBeta, busbw_factor, ring_allreduce_time_s
from neurocomp.checks import check_int, check_real

__all__ = ["AlphaBetaFit", "DDPPrediction", "LayerGradient", "busbw_of", "fit_alpha_beta",
           "predict_ddp_step"]


@dataclass(frozen=True, kw_only=True)
class AlphaBetaFit:
    """A ring all-reduce line fitted to measured times.

    Attributes
    ----------
    alpha_s : float
        Latency per message, α, s.
    bandwidth_bytes_per_s : float
        1/β, bytes/s (the bus bandwidth of large messages).
    n_ranks : int
        Ranks of the sweep (p).
    intercept_s, slope_s_per_byte : float
        The fitted line :math:`T = a + b n` before the ring's factors are divided out.
    rms_rel_residual : float
        Root-mean-square relative residual of the line over the sweep.
    """

    alpha_s: float
    bandwidth_bytes_per_s: float
    n_ranks: int
    intercept_s: float
    slope_s_per_byte: float
    rms_rel_residual: float

    @property
    def beta_s_per_byte(self) -> float:
        """β = 1 / bandwidth, s/B."""
        return 1.0 / self.bandwidth_bytes_per_s

    @property
    def link(self) -> AlphaBeta:
        """The fitted link, for every collective-cost function."""
        return AlphaBeta(bandwidth_bytes_per_s=self.bandwidth_bytes_per_s,
                         latency_s=self.alpha_s, name="fitted all-reduce link")

    def allreduce_time_s(self, n_bytes: float, n_ranks: int | None = None) -> float:
        """Ring all-reduce of ``n_bytes`` per rank on the fitted link, s."""
        p = self.n_ranks if n_ranks is None else n_ranks
        return ring_allreduce_time_s(n_bytes, p, self.link)


def fit_alpha_beta(n_bytes: Sequence[float], times_s: Sequence[float], *,
                   n_ranks: int) -> AlphaBetaFit:
    """Fit :math:`T = 2(p-1)\\alpha + 2(p-1)/p\\,n\\beta` to an all-reduce sweep.

    Parameters
    ----------
    n_bytes : sequence of float
        Buffer per rank of each measurement, bytes (≥ 0; at least two distinct sizes).
    times_s : sequence of float
        Its all-reduce time (a median), s (> 0).
    n_ranks : int
        Ranks p (≥ 2).

    Raises
    ------
    ValueError
        For fewer than two distinct sizes, mismatched lengths, non-positive times, or a
        sweep whose fitted latency or bandwidth is not positive (the message says which).
    """
    p = check_int("n_ranks", n_ranks, low=2)
    n = np.asarray([check_real("n_bytes entry", v, low=0.0, unit="B") for v in n_bytes])
    t = np.asarray([check_real("times_s entry", v, low=0.0, low_inclusive=False, unit="s")
                    for v in times_s])
    if n.shape != t.shape:
        raise ValueError(f"n_bytes and times_s must have the same length; got {n.size} and "
                         f"{t.size}")
    if np.unique(n).size < 2:
        raise ValueError(f"the fit needs at least two distinct message sizes; got "
                         f"{np.unique(n).tolist()}")
    w = 1.0 / t  # relative residuals: (a + b n - t) / t
    design = np.stack([np.ones_like(n), n], axis=1) * w[:, None]
    (a, b), *_ = np.linalg.lstsq(design, t * w, rcond=None)
    if b <= 0:
        raise ValueError(f"fitted slope {b:g} s/B is not positive: the sweep's times do not "
                         "grow with the message size (sizes too small or too noisy)")
    if a <= 0:
        raise ValueError(f"fitted intercept {a:g} s is not positive: no latency can be "
                         "read from the sweep (add smaller messages)")
    rel = (a + b * n - t) / t
    return AlphaBetaFit(alpha_s=float(a / (2 * (p - 1))),
                        bandwidth_bytes_per_s=float(2 * (p - 1) / p / b), n_ranks=p,
                        intercept_s=float(a), slope_s_per_byte=float(b),
                        rms_rel_residual=float(math.sqrt(np.mean(rel**2))))


def busbw_of(n_bytes: float, time_s: float, n_ranks: int) -> float:
    """nccl-tests' bus bandwidth of one all-reduce: :math:`n/T \\cdot 2(p-1)/p`, B/s."""
    return n_bytes / check_real("time_s", time_s, low=0.0, low_inclusive=False, unit="s") \
        * busbw_factor("allreduce", n_ranks)


@dataclass(frozen=True, kw_only=True)
class LayerGradient:
    """A layer's gradients as DDP sees them: their size and the layer's backward time.

    Parameters
    ----------
    name : str
        Layer name.
    n_bytes : float
        Gradient bytes (parameters × bytes per value).
    backward_s : float
        Time of the layer's backward pass, s.
    """

    name: str
    n_bytes: float
    backward_s: float

    def __post_init__(self) -> None:
        check_real(f"{self.name}: n_bytes", self.n_bytes, low=0.0, unit="B")
        check_real(f"{self.name}: backward_s", self.backward_s, low=0.0, unit="s")


@dataclass(frozen=True, kw_only=True)
class DDPPrediction:
    """DDP's communication in one step, predicted (times in s).

    Attributes
    ----------
    schedule : OverlapSchedule
        The buckets and when their all-reduces run, from the start of the backward pass.
    forward_s, backward_s, optimizer_s : float
        Compute of the step's phases (as given).
    """

    schedule: OverlapSchedule
    forward_s: float
    backward_s: float
    optimizer_s: float

    @property
    def communication_s(self) -> float:
        """All bucket all-reduces, as if none overlapped, s."""
        return self.schedule.communication_s

    @property
    def exposed_communication_s(self) -> float:
        """Communication left after the backward pass, s."""
        return self.schedule.exposed_s

    @property
    def step_s(self) -> float:
        """Forward + backward + exposed communication + optimizer, s."""
        return self.forward_s + self.backward_s + self.exposed_communication_s + \
            self.optimizer_s

    @property
    def bucket_bytes(self) -> tuple[float, ...]:
        """Bucket sizes in launch order, bytes."""
        return tuple(b.n_bytes for b in self.schedule.buckets)


def predict_ddp_step(layers_in_backward_order: Sequence[LayerGradient], *, fit: AlphaBetaFit,
                     forward_s: float, optimizer_s: float = 0.0, backward_fixed_s: float = 0.0,
                     n_ranks: int | None = None,
                     bucket_cap_bytes: float = DDP_BUCKET_CAP_BYTES,
                     first_bucket_cap_bytes: float = DDP_FIRST_BUCKET_CAP_BYTES,
                     overlap: bool = True,
                     contention: Contention | None = None) -> DDPPrediction:
    """One DDP step: buckets filled in backward order, all-reduced on the fitted link.

    Parameters
    ----------
    layers_in_backward_order : sequence of LayerGradient
        Layers in the order the backward pass reaches them (output layer first); a layer's
        gradients are ready when its backward time has elapsed after the previous ones.
    fit : AlphaBetaFit
        The measured link (:func:`fit_alpha_beta`).
    forward_s, optimizer_s : float
        Forward pass and optimizer step, s.
    backward_fixed_s : float
        Backward time outside the layers (autograd's start-up), s; added at the start.
    n_ranks : int, optional
        Ranks (default: the sweep's).
    bucket_cap_bytes, first_bucket_cap_bytes : float
        DDP's bucket caps (defaults: torch's).
    overlap : bool
        Start each bucket as soon as it is full (DDP) rather than after the backward pass.
    contention : Contention, optional
        Measured slow-downs of the all-reduce and the backward pass while they share cores
        (:mod:`~neurocomp.accounting.ddp.contention`); the prediction's ``backward_s`` then
        includes the backward pass's own slow-down.
    """
    layers = list(layers_in_backward_order)
    if not layers:
        raise ValueError("layers_in_backward_order must hold at least one LayerGradient")
    if not isinstance(fit, AlphaBetaFit):
        raise TypeError(f"fit must be an AlphaBetaFit; got {type(fit).__name__}")
    p = fit.n_ranks if n_ranks is None else check_int("n_ranks", n_ranks, low=1)
    t = check_real("backward_fixed_s", backward_fixed_s, low=0.0, unit="s")
    ready = []
    for layer in layers:
        if not isinstance(layer, LayerGradient):
            raise TypeError(f"layers must be LayerGradient objects; got {type(layer).__name__}")
        t += layer.backward_s
        if layer.n_bytes > 0:
            ready.append(GradientReady(name=layer.name, ready_s=t, n_bytes=layer.n_bytes))
    schedule = schedule_overlap(ready, comm_time_s=lambda _, n: fit.allreduce_time_s(n, p),
                                backward_end_s=t, bucket_cap_bytes=bucket_cap_bytes,
                                first_bucket_cap_bytes=first_bucket_cap_bytes, overlap=overlap,
                                contention=contention)
    return DDPPrediction(schedule=schedule,
                         forward_s=check_real("forward_s", forward_s, low=0.0, unit="s"),
                         backward_s=schedule.backward_end_s,
                         optimizer_s=check_real("optimizer_s", optimizer_s, low=0.0, unit="s"))

