"""The best parallel layout of a model on a system, and where its step time goes.

:func:`plan_on_system` tries every model-parallel group size ``m`` that divides the GPU
count and fits inside a node (``m = 1`` is pure data parallelism), lets
:func:`~neurocomp.accounting.parallel.planning.recommend_parallelism` choose data or model
parallelism per layer for each, and keeps the layout with the shortest step (the global
batch is the same for all, ``n_gpus × batch_per_gpu``).

:func:`time_breakdown` splits a step into compute, intra-node and inter-node
communication on its critical path, so that the parts add up to the step time:
activation traffic of model-parallel layers blocks and counts in full; the gradient
all-reduces that outlast the backward pass (:attr:`OverlapSchedule.exposed_s
<neurocomp.accounting.ddp.bucketing.OverlapSchedule.exposed_s>`) are split between the two
levels in proportion to the time all gradient all-reduces spend on each. Each level's
share is found by running the same step with only that level's part of every collective
(:meth:`System.collective_levels_s
<neurocomp.accounting.systems.system.System.collective_levels_s>`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from neurocomp.accounting.ddp import DDP_BUCKET_CAP_BYTES
from neurocomp.accounting.layer_cost import LayerCost, resolve_inputs
from neurocomp.accounting.parallel.planning import recommend_parallelism
from neurocomp.accounting.parallel.steps import (
    DoesNotFitError,
    ParallelOptions,
    StepTime,
    step_time,
)
from neurocomp.accounting.systems import System
from neurocomp.checks import check_instance, check_int

__all__ = ["SystemPlan", "TimeBreakdown", "format_plan", "plan_on_system", "time_breakdown"]


@dataclass(frozen=True, kw_only=True)
class TimeBreakdown:
    """One step's time by where it goes (s); the first three add up to ``step_s``.

    Attributes
    ----------
    compute_s : float
        Forward and backward compute.
    intra_node_s, inter_node_s : float
        Communication on the critical path inside nodes and across them.
    intra_node_total_s, inter_node_total_s : float
        All communication on each level, as if nothing overlapped.
    """

    step_s: float
    compute_s: float
    intra_node_s: float
    inter_node_s: float
    intra_node_total_s: float
    inter_node_total_s: float


def _step(layers: Sequence[LayerCost], network: object, *, system: System, n: int, b: int,
          plan: str | Mapping[str, str], m: int, opts: ParallelOptions) -> StepTime:
    return step_time(layers, device=system.device, network=network,  # type: ignore[arg-type]
                     n_devices=n, batch_per_device=b, plan=plan, model_parallel_size=m,
                     options=opts)


def time_breakdown(layers: Sequence[LayerCost], *, system: System, n_gpus: int,
                   batch_per_gpu: int, plan: str | Mapping[str, str] = "data",
                   model_parallel_size: int = 1,
                   options: ParallelOptions | None = None) -> TimeBreakdown:
    """Compute, intra-node and inter-node time of one step (see the module docstring)."""
    opts = options if options is not None else ParallelOptions()
    kw = {"system": system, "n": n_gpus, "b": batch_per_gpu, "plan": plan,
          "m": model_parallel_size, "opts": opts}
    full = _step(layers, system, **kw)
    quiet = dataclasses.replace(opts, check_memory=False)
    parts = [_step(layers, system.level(k), **{**kw, "opts": quiet}) for k in (0, 1)]
    grad = [p.schedule.communication_s for p in parts]
    exposed = full.schedule.exposed_s
    share = [g / sum(grad) if sum(grad) > 0 else 0.0 for g in grad]
    crit = [p.activation_comm_s + exposed * s for p, s in zip(parts, share, strict=True)]
    return TimeBreakdown(step_s=full.step_s, compute_s=full.compute_s, intra_node_s=crit[0],
                         inter_node_s=crit[1],
                         intra_node_total_s=parts[0].activation_comm_s + grad[0],
                         inter_node_total_s=parts[1].activation_comm_s + grad[1])


@dataclass(frozen=True, kw_only=True)
class SystemPlan:
    """The best layout found for a model on a system, its step and where the time goes.

    Attributes
    ----------
    model_parallel_size : int
        GPUs a model-parallel layer is split over (1: every layer data-parallel).
    plan : mapping of str to {"data", "model"}
        Parallelism of each layer.
    single_gpu_samples_per_s : float
        Throughput of one GPU with the same batch, the speedup's baseline.
    tried : tuple of (int, float, int)
        Each group size tried: ``(m, step_s, model-parallel layers)`` (``inf`` if no plan
        fitted in memory).
    """

    system: System
    n_gpus: int
    batch_per_gpu: int
    model_parallel_size: int
    plan: Mapping[str, str]
    step: StepTime
    breakdown: TimeBreakdown
    single_gpu_samples_per_s: float
    tried: tuple[tuple[int, float, int], ...]

    @property
    def samples_per_s(self) -> float:
        """Training throughput, samples/s."""
        return self.step.samples_per_s

    @property
    def speedup(self) -> float:
        """Throughput over that of one GPU with the same batch per GPU."""
        return self.samples_per_s / self.single_gpu_samples_per_s

    @property
    def efficiency(self) -> float:
        """Speedup / GPUs."""
        return self.speedup / self.n_gpus


def plan_on_system(layers: Sequence[LayerCost], *, system: System, n_gpus: int,
                   batch_per_gpu: int, options: ParallelOptions | None = None) -> SystemPlan:
    """The shortest-step layout of ``layers`` on ``n_gpus`` GPUs of ``system``.

    The per-layer choice is :func:`~neurocomp.accounting.parallel.planning.recommend_parallelism`'s
    local search, so the result is the best of the layouts it reaches, not provably the
    best of all ``2^layers``; it is never slower than plain data parallelism (``m = 1`` is
    always a candidate).

    Raises
    ------
    ValueError
        If ``n_gpus`` is not in ``[1, system.gpus]``.
    DoesNotFitError
        If no layout fits a GPU's memory.
    """
    layers = resolve_inputs(layers)
    check_instance("system", system, System, "System (see neurocomp.accounting.systems)")
    n = check_int(f"n_gpus (on {system.name!r})", n_gpus, low=1, high=system.gpus)
    b = check_int("batch_per_gpu", batch_per_gpu, low=1)
    opts = options if options is not None else ParallelOptions()
    tried: list[tuple[int, float, int]] = []
    best: tuple[float, int, dict[str, str]] | None = None
    last_error: DoesNotFitError | None = None
    for m in (k for k in range(1, min(n, system.node.gpus) + 1) if n % k == 0):
        try:
            if m == 1:
                plan = {layer.name: "data" for layer in layers}
                t = _step(layers, system, system=system, n=n, b=b, plan=plan, m=1,
                          opts=opts).step_s
            else:
                rec = recommend_parallelism(layers, device=system.device, network=system,
                                            n_devices=n, batch_per_device=b,
                                            model_parallel_size=m, options=opts)
                plan, t = dict(rec.plan), rec.step_s
        except DoesNotFitError as exc:
            last_error, t = exc, math.inf
            plan = {}
        tried.append((m, t, sum(v == "model" for v in plan.values())))
        if math.isfinite(t) and (best is None or t < best[0] * (1 - 1e-12)):
            if m > 1 and all(v == "data" for v in plan.values()):
                continue  # the same layout as m = 1
            best = (t, m, plan)
    if best is None:
        assert last_error is not None
        raise last_error
    _, m, plan = best
    step = _step(layers, system, system=system, n=n, b=b, plan=plan, m=m, opts=opts)
    one = _step(layers, system, system=system, n=1, b=b, plan="data", m=1,
                opts=dataclasses.replace(opts, check_memory=False))
    return SystemPlan(system=system, n_gpus=n, batch_per_gpu=b, model_parallel_size=m,
                      plan=plan, step=step, single_gpu_samples_per_s=one.samples_per_s,
                      breakdown=time_breakdown(layers, system=system, n_gpus=n,
                                               batch_per_gpu=b, plan=plan,
                                               model_parallel_size=m, options=opts),
                      tried=tuple(tried))


def _runs(plan: Mapping[str, str]) -> str:
    runs: list[list[str]] = []
    for name, kind in plan.items():
        if runs and runs[-1][0] == kind:
            runs[-1][2] = name
        else:
            runs.append([kind, name, name])
    return "; ".join(f"{'data' if k == 'data' else 'model'}-parallel "
                     f"{a if a == z else f'{a} … {z}'}" for k, a, z in runs)


def _ms(t: float) -> str:
    return f"{t * 1e3:9.3f} ms"


def format_plan(plan: SystemPlan, *, sample: str = "samples") -> str:
    """The plan as the text ``neurocomp plan system`` prints."""
    s, br, n, m = plan.system, plan.breakdown, plan.n_gpus, plan.model_parallel_size
    if m == 1:
        layout = f"all layers data-parallel over {n} GPUs"
    else:
        layout = (f"{_runs(plan.plan)}; model-parallel layers split over groups of {m} GPUs "
                  f"inside a node, {n // m} data-parallel replica{'s' if n // m > 1 else ''}")
    tried = ", ".join(
        f"m={k}: " + ("does not fit" if not math.isfinite(t) else _ms(t).strip()
                      + ("" if k == 1 or n_model else " (every layer data-parallel)"))
        for k, t, n_model in plan.tried)
    dp_ranks, stride = (n, 1) if m == 1 else (n // m, m)
    gradient = ("none (one GPU)" if dp_ranks == 1 else
                s.collective_plan(dp_ranks, stride=stride).describe(DDP_BUCKET_CAP_BYTES))
    lines = [
        f"== {s.describe()}",
        f"layout: {layout}",
        f"  (model-parallel group sizes tried: {tried})",
        f"step: {_ms(plan.step.step_s).strip()} for {plan.step.global_batch} {sample} "
        f"({plan.batch_per_gpu} per GPU): {plan.samples_per_s:,.0f} {sample}/s, speedup "
        f"{plan.speedup:.3g} over one GPU (efficiency {plan.efficiency:.3f})",
        f"gradient all-reduce (25 MiB bucket): {gradient}",
        "where the time goes (critical path of one step):"]
    for label, t, total in (("compute", br.compute_s, None),
                            ("intra-node communication", br.intra_node_s,
                             br.intra_node_total_s),
                            ("inter-node communication", br.inter_node_s,
                             br.inter_node_total_s)):
        extra = ("" if total is None else
                 f"   ({_ms(total).strip()} in all; the rest overlaps the backward pass)")
        lines.append(f"  {label:<26}{_ms(t)} {100 * t / br.step_s:6.1f} %{extra}")
    return "\n".join(lines)
