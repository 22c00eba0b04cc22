"""Choose data or model parallelism per layer on the step-time model, and run the hybrid.

Krizhevsky (2014, "One weird trick for parallelizing convolutional neural networks",
arXiv:1404.5997) makes convolutions data-parallel and dense layers model-parallel, because
the former have few weights and large activations and the latter the reverse
(:func:`~neurocomp.accounting.parallel.model_parallel.krizhevsky_plan` compares the bytes).
:func:`recommend_parallelism` decides on the whole :func:`~neurocomp.accounting.step_time`
instead, so overlap of the gradient all-reduce with the backward pass and the device memory
count too; :func:`hybrid_step` runs the plan it finds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neurocomp.accounting.hardware import Device
from neurocomp.accounting.layer_cost import LayerCost, resolve_inputs
from neurocomp.accounting.network import Link, Network, as_network
from neurocomp.accounting.parallel.compression import compressed_allreduce_time_s
from neurocomp.accounting.parallel.model_parallel import krizhevsky_plan
from neurocomp.accounting.parallel.steps import (
    DoesNotFitError,
    ParallelOptions,
    StepTime,
    step_time,
)
from neurocomp.checks import check_int

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LayerRecommendation", "ParallelismPlan", "hybrid_step", "recommend_parallelism"]


@dataclass(frozen=True, kw_only=True)
class LayerRecommendation:
    """One layer's communication under each parallelism, judged alone, and its final choice.

    Attributes
    ----------
    compute_s : float
        Forward and backward compute on one device, s.
    data_parallel_comm_s, model_parallel_comm_s : float
        Its gradient all-reduce over all devices, against its activation traffic as a
        stand-alone model-parallel layer plus the all-reduce of its weight shards, s (no
        overlap).
    data_parallel_bytes, model_parallel_bytes : float
        Bytes one device sends per step in each case
        (:func:`~neurocomp.accounting.parallel.model_parallel.krizhevsky_plan`).
    choice : {"data", "model"}
        The parallelism of the layer in the plan with the shortest step.
    """

    name: str
    compute_s: float
    data_parallel_comm_s: float
    model_parallel_comm_s: float
    data_parallel_bytes: float
    model_parallel_bytes: float
    choice: str

    @property
    def isolated_choice(self) -> str:
        """The faster parallelism for this layer alone, ignoring overlap."""
        return "model" if self.model_parallel_comm_s < self.data_parallel_comm_s else "data"


@dataclass(frozen=True, kw_only=True)
class ParallelismPlan:
    """A parallelism per layer, chosen on the step-time model, and what it gains."""

    layers: tuple[LayerRecommendation, ...]
    plan: Mapping[str, str]
    step_s: float
    all_data_step_s: float

    @property
    def gain_over_data_parallel(self) -> float:
        """Step time with every layer data-parallel / step time with the plan."""
        return self.all_data_step_s / self.step_s

    def to_frame(self) -> pd.DataFrame:
        """One row per layer."""
        import pandas as pd

        return pd.DataFrame([{**vars(r), "isolated_choice": r.isolated_choice}
                             for r in self.layers])


def recommend_parallelism(layers: Sequence[LayerCost], *, device: Device,
                          network: Network | Link, n_devices: int, batch_per_device: int,
                          model_parallel_size: int | None = None,
                          options: ParallelOptions | None = None) -> ParallelismPlan:
    """Choose data or model parallelism per layer by the step time it gives.

    Starting from every layer data-parallel (or, if that does not fit in memory, from the
    byte-count plan of :func:`~neurocomp.accounting.parallel.model_parallel.krizhevsky_plan`, then
    from every layer model-parallel), each layer in turn is switched whenever that shortens
    the :func:`step_time`, with overlap and memory taken into account, until no switch
    helps. Each layer's stand-alone communication times are reported beside the choice;
    they ignore overlap, so a layer whose gradient all-reduce hides under the backward
    pass can stay data-parallel although its activations are cheaper to send.

    Raises
    ------
    DoesNotFitError
        If no plan tried fits a device's memory.
    """
    layers = resolve_inputs(layers)
    opts = options if options is not None else ParallelOptions()
    n = check_int("n_devices", n_devices, low=1)
    b = check_int("batch_per_device", batch_per_device, low=1)
    m = n if model_parallel_size is None else check_int("model_parallel_size",
                                                        model_parallel_size, low=1, high=n)
    if n % m:
        raise ValueError(f"model_parallel_size ({m}) must divide n_devices ({n})")
    net = as_network(network)
    traffic = krizhevsky_plan(layers, n_devices=m, batch_per_device=b, split=opts.split,
                              bytes_per_value=opts.activation_bytes_per_value)

    def step(plan: Mapping[str, str]) -> float:
        try:
            return step_time(layers, device=device, network=net, n_devices=n,
                             batch_per_device=b, plan=plan, model_parallel_size=m,
                             options=opts).step_s
        except DoesNotFitError:
            return math.inf

    names = [layer.name for layer in layers]
    all_data = dict.fromkeys(names, "data")
    starts = [all_data, {t.name: t.recommended for t in traffic}, dict.fromkeys(names, "model")]
    plan, best = next(((p, t) for p in starts if math.isfinite(t := step(p))), (None, None))
    if plan is None:  # nothing fits: let step_time raise its message for the all-model plan
        step_time(layers, device=device, network=net, n_devices=n, batch_per_device=b,
                  plan="model", model_parallel_size=m, options=opts)
        raise AssertionError("unreachable")  # pragma: no cover
    plan = dict(plan)
    for _ in range(len(names)):
        changed = False
        for name in names:
            trial = {**plan, name: "model" if plan[name] == "data" else "data"}
            t = step(trial)
            if t < best * (1 - 1e-12):
                plan, best, changed = trial, t, True
        if not changed:
            break
    out = []
    for i, (layer, tr) in enumerate(zip(layers, traffic, strict=True)):
        act = opts.activation_bytes_per_value
        in_bytes = m * b * (layer.input_elements_per_sample or 0) * act
        out_bytes = m * b * layer.activation_elements_per_sample * act
        fwd, bwd = (("allgather", "allreduce") if opts.split == "column"
                    else ("allreduce", "allgather"))
        mp = 0.0
        if m > 1:
            mp = net.collective_time_s(fwd, out_bytes, m)
            mp += net.collective_time_s(bwd, in_bytes, m) if i > 0 else 0.0
        grad = layer.parameter_count * opts.gradient_bytes_per_value
        mp += compressed_allreduce_time_s(grad / m, n // m, net, compression=opts.compression,
                                          stride=m)
        dp = compressed_allreduce_time_s(grad, n, net, compression=opts.compression)
        out.append(LayerRecommendation(
            name=layer.name, compute_s=layer.training_flop_per_sample * b
            / device.achieved_flop_per_s, data_parallel_comm_s=dp, model_parallel_comm_s=mp,
            data_parallel_bytes=tr.data_parallel_bytes,
            model_parallel_bytes=tr.model_parallel_bytes, choice=plan[layer.name]))
    return ParallelismPlan(layers=tuple(out), plan=plan, step_s=best,
                           all_data_step_s=step(all_data))


def hybrid_step(layers: Sequence[LayerCost], *, device: Device, network: Network | Link,
                n_devices: int, batch_per_device: int, plan: Mapping[str, str] | None = None,
                model_parallel_size: int | None = None,
                options: ParallelOptions | None = None) -> StepTime:
    """A step with each layer data- or model-parallel as ``plan`` says.

    Without a ``plan``, :func:`recommend_parallelism` chooses per layer (data-parallel
    convolutions and model-parallel dense layers, for AlexNet on a fast GPU).
    """
    if plan is None:
        plan = recommend_parallelism(
            layers, device=device, network=network, n_devices=n_devices,
            batch_per_device=batch_per_device, model_parallel_size=model_parallel_size,
            options=options).plan
    return step_time(layers, device=device, network=network, n_devices=n_devices,
                     batch_per_device=batch_per_device, plan=plan,
                     model_parallel_size=model_parallel_size, options=options)
