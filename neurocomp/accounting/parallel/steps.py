r"""Step time of data-, model- and hybrid-parallel training on many devices.

One training step of a network given as :class:`~neurocomp.accounting.LayerCost`
rows, on ``n_devices`` copies of a :class:`~neurocomp.accounting.hardware.Device`, joined by a
:class:`~neurocomp.accounting.network.Network` (or a bare link). Each layer is either

* **data-parallel**: every device runs it on its own ``batch_per_device`` samples, and its
  gradient is all-reduced over all devices, in DDP buckets overlapped with the rest of the
  backward pass (:mod:`~neurocomp.accounting.ddp.bucketing`), optionally compressed
  (:mod:`~neurocomp.accounting.parallel.compression`); or
* **model-parallel**: split (by rows or columns) over a group of ``model_parallel_size``
  consecutive devices that process their ``group × batch_per_device`` samples together; its
  activations are exchanged forward and backward, blocking, and its weight shards are
  all-reduced across the ``n_devices / group`` groups.

Activation rules for a model-parallel layer (each one stands alone: its input and output
are full, replicated activations of the group's batch): column split, all-gather of the
output forward and all-reduce of the input gradient backward; row split, all-reduce of the
output forward and all-gather of the input gradient backward; entering from a data-parallel
layer costs an all-gather of the input forward (and the input gradient is reduce-scattered
instead of all-reduced); a data-parallel layer after a model-parallel one all-gathers its
input gradient backward. The first layer needs no input gradient.

Time: forward = Σ(compute + forward activation traffic); backward = Σ(compute + backward
activation traffic), gradients ready as each layer's backward compute ends; step = forward +
backward + the gradient communication still running when the backward pass ends. Compute =
FLOPs / (peak × efficiency). Not modelled: the optimizer update, input loading, contention
between activation and gradient traffic, pipeline parallelism.

Throughput is ``n_devices × batch_per_device`` samples per step; speedup and efficiency
compare it with one device (:mod:`~neurocomp.accounting.parallel.scaling`); the parallelism
per layer can be chosen on this model (:mod:`~neurocomp.accounting.parallel.planning`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neurocomp.accounting.ddp import (
    DDP_BUCKET_CAP_BYTES,
    DDP_FIRST_BUCKET_CAP_BYTES,
    GradientReady,
    OverlapSchedule,
    schedule_overlap,
)
from neurocomp.accounting.hardware import Device
from neurocomp.accounting.layer_cost import LayerCost, resolve_inputs
from neurocomp.accounting.network import Link, Network, as_network
from neurocomp.accounting.parallel.compression import (
    NO_COMPRESSION,
    Compression,
    compressed_allreduce_time_s,
)
from neurocomp.accounting.parallel.model_parallel import PARALLELISMS, SPLITS
from neurocomp.checks import check_choice, check_int, check_real

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DoesNotFitError",
    "LayerTime",
    "ParallelOptions",
    "StepTime",
    "data_parallel_step",
    "model_parallel_step",
    "step_time",
]


class DoesNotFitError(ValueError):
    """A layer (or the whole network) needs more memory than the device has."""


@dataclass(frozen=True, kw_only=True)
class ParallelOptions:
    """Everything about a parallel step except the network, the devices and the batch.

    Parameters
    ----------
    split : {"column", "row"}
        How model-parallel weight matrices are split.
    gradient_bytes_per_value, activation_bytes_per_value : float
        Bytes per gradient value sent (before compression) and per activation (4 = fp32).
    compression : Compression
        Compression of the data-parallel gradient traffic.
    bucket_cap_bytes, first_bucket_cap_bytes : float
        DDP bucket caps, bytes.
    overlap : bool
        Overlap gradient all-reduces with the backward pass.
    state_bytes_per_parameter : float
        Device memory per parameter: 16 = fp32 weight, gradient and two Adam moments.
    check_memory : bool
        Raise :class:`DoesNotFitError` when a device's memory is too small.
    """

    split: str = "column"
    gradient_bytes_per_value: float = 4.0
    activation_bytes_per_value: float = 4.0
    compression: Compression = NO_COMPRESSION
    bucket_cap_bytes: float = DDP_BUCKET_CAP_BYTES
    first_bucket_cap_bytes: float = DDP_FIRST_BUCKET_CAP_BYTES
    overlap: bool = True
    state_bytes_per_parameter: float = 16.0
    check_memory: bool = True

    def __post_init__(self) -> None:
        check_choice("split", self.split, SPLITS)
        for name in ("gradient_bytes_per_value", "activation_bytes_per_value"):
            check_real(name, getattr(self, name), low=0.0, low_inclusive=False, unit="B")
        if not isinstance(self.compression, Compression):
            raise TypeError(f"compression must be a Compression; "
                            f"got {type(self.compression).__name__}")
        check_real("state_bytes_per_parameter", self.state_bytes_per_parameter, low=0.0,
                   unit="B")


@dataclass(frozen=True, kw_only=True)
class LayerTime:
    """One layer's share of a step on one device (s, bytes)."""

    name: str
    parallelism: str
    compute_s: float
    forward_comm_s: float
    backward_comm_s: float
    gradient_bytes: float
    memory_bytes: float


@dataclass(frozen=True, kw_only=True)
class StepTime:
    """A training step of the whole network on every device (times in s).

    Attributes
    ----------
    forward_s, backward_s : float
        Forward and backward pass, blocking activation traffic included.
    compute_s : float
        Forward and backward compute alone.
    activation_comm_s : float
        Blocking activation traffic of model-parallel layers.
    schedule : OverlapSchedule
        The gradient all-reduces and when they run.
    step_s : float
        ``forward_s + backward_s + schedule.exposed_s``.
    """

    n_devices: int
    batch_per_device: int
    model_parallel_size: int
    layers: tuple[LayerTime, ...]
    forward_s: float
    backward_s: float
    compute_s: float
    activation_comm_s: float
    schedule: OverlapSchedule
    step_s: float

    @property
    def global_batch(self) -> int:
        """Samples per step over all devices."""
        return self.n_devices * self.batch_per_device

    @property
    def samples_per_s(self) -> float:
        """Training throughput, samples/s."""
        return self.global_batch / self.step_s

    @property
    def gradient_comm_s(self) -> float:
        """All gradient all-reduces, as if nothing overlapped, s."""
        return self.schedule.communication_s

    @property
    def exposed_comm_s(self) -> float:
        """Communication on the critical path (activations + unhidden gradients), s."""
        return self.activation_comm_s + self.schedule.exposed_s

    def to_frame(self) -> pd.DataFrame:
        """One row per layer."""
        import pandas as pd

        return pd.DataFrame([vars(t) for t in self.layers])


def _plan(layers: tuple[LayerCost, ...], plan: str | Mapping[str, str]) -> list[str]:
    if isinstance(plan, str):
        return [check_choice("plan", plan, PARALLELISMS)] * len(layers)
    unknown = sorted(set(plan) - {layer.name for layer in layers})
    if unknown:
        raise ValueError(f"plan names layers that do not exist: {unknown}; layers are "
                         f"{[layer.name for layer in layers]}")
    return [check_choice(f"plan[{layer.name!r}]", plan.get(layer.name, "data"), PARALLELISMS)
            for layer in layers]


def _size(n_bytes: float) -> str:
    """Bytes in the largest decimal unit that keeps the number ≥ 1 (3 significant digits)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.3g} B"


def _fits(layers: tuple[LayerCost, ...], weights: Sequence[float], others: Sequence[float],
          device: Device, state_bytes: float) -> None:
    if device.memory_bytes is None:
        return
    cap = device.memory_bytes
    for layer, w, other in zip(layers, weights, others, strict=True):
        need = w + other
        if need <= cap:
            continue
        full = layer.parameter_count * state_bytes
        if other < cap and full > 0:
            hint = (f"; split its weights over at least {math.ceil(full / (cap - other))} "
                    "devices (model parallelism) or use a smaller batch")
        else:
            hint = "; its activations alone exceed the memory: use a smaller batch"
        raise DoesNotFitError(
            f"layer {layer.name!r} needs {_size(need)} per device ({_size(w)} of weights, "
            f"gradients and optimizer state + {_size(other)} of activations) but "
            f"{device.name} has {_size(cap)}: {_size(need - cap)} ({need / cap - 1:.1%}) too "
            f"large{hint}")
    total = sum(weights) + sum(others)
    if total > cap:
        per_layer = [w + o for w, o in zip(weights, others, strict=True)]
        worst = sorted(zip(per_layer, layers, strict=True), key=lambda t: -t[0])[:3]
        raise DoesNotFitError(
            f"the network needs {_size(total)} per device but {device.name} has "
            f"{_size(cap)}: {_size(total - cap)} ({total / cap - 1:.1%}) too much; largest "
            "layers: " + ", ".join(f"{layer.name!r} {_size(m)}" for m, layer in worst))


def step_time(layers: Sequence[LayerCost], *, device: Device, network: Network | Link,
              n_devices: int, batch_per_device: int, plan: str | Mapping[str, str] = "data",
              model_parallel_size: int | None = None,
              options: ParallelOptions | None = None) -> StepTime:
    """One training step (see the module docstring for the rules).

    Parameters
    ----------
    layers : sequence of LayerCost
        The network, input to output.
    device : Device
        Every device.
    network : Network or Link
        How devices talk (a bare link is a flat network).
    n_devices : int
        Devices (≥ 1).
    batch_per_device : int
        Samples per device per step (≥ 1).
    plan : {"data", "model"} or mapping of layer name to it
        Parallelism of every layer, or per layer (missing layers are data-parallel).
    model_parallel_size : int or None
        Devices a model-parallel layer is split over; must divide ``n_devices``
        (default: all of them).
    options : ParallelOptions
        Split, bytes per value, compression, buckets, overlap, memory.

    Raises
    ------
    DoesNotFitError
        If ``options.check_memory`` and a layer (or the network) does not fit a device.
    """
    layers = resolve_inputs(layers)
    opts = options if options is not None else ParallelOptions()
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device; got {type(device).__name__}")
    net = as_network(network)
    n = check_int("n_devices", n_devices, low=1)
    b = check_int("batch_per_device", batch_per_device, low=1)
    kinds = _plan(layers, plan)
    m = n if model_parallel_size is None else check_int("model_parallel_size",
                                                        model_parallel_size, low=1, high=n)
    if n % m:
        raise ValueError(f"model_parallel_size ({m}) must divide n_devices ({n})")
    if "model" not in kinds:
        m = 1
    rows, backward, weight_mem, other_mem, fwd_total = _layer_times(
        layers, kinds, device=device, net=net, b=b, m=m, opts=opts)
    if opts.check_memory:
        _fits(layers, weight_mem, other_mem, device, opts.state_bytes_per_parameter)
    grads, t = _gradients_ready(backward, n=n, m=m, gradient_bytes=opts.gradient_bytes_per_value)
    groups = n // m

    def grad_comm(group: object, n_bytes: float) -> float:
        ranks, stride = (n, 1) if group == "data" else (groups, m)
        return compressed_allreduce_time_s(n_bytes, ranks, net,
                                           compression=opts.compression, stride=stride)

    schedule = schedule_overlap(grads, comm_time_s=grad_comm, backward_end_s=t,
                                bucket_cap_bytes=opts.bucket_cap_bytes,
                                first_bucket_cap_bytes=opts.first_bucket_cap_bytes,
                                overlap=opts.overlap)
    return StepTime(n_devices=n, batch_per_device=b, model_parallel_size=m,
                    layers=tuple(rows), forward_s=fwd_total, backward_s=t,
                    compute_s=sum(r.compute_s for r in rows),
                    activation_comm_s=sum(r.forward_comm_s + r.backward_comm_s for r in rows),
                    schedule=schedule, step_s=fwd_total + t + schedule.exposed_s)


def _activation_comm(layer: LayerCost, kind: str, prev: str | None, *, first: bool,
                     in_bytes: float, out_bytes: float, m: int, net: Any,
                     split: str) -> tuple[float, float]:
    """Forward and backward activation communication of one layer, s (model-parallel
    layers and the data-parallel layer after one; nothing when ``m`` is 1)."""
    def coll(what: str, n_bytes: float) -> float:
        return net.collective_time_s(what, n_bytes, m)

    f_comm = b_comm = 0.0
    if m <= 1:
        return f_comm, b_comm
    if kind == "model":
        if prev == "data":
            f_comm += coll("allgather", in_bytes)
        if split == "column":
            f_comm += coll("allgather", out_bytes)
            if not first:
                b_comm += coll("reduce_scatter" if prev == "data" else "allreduce", in_bytes)
        else:
            f_comm += coll("allreduce", out_bytes)
            if not first:
                b_comm += coll("allgather", in_bytes)
    elif kind == "data" and prev == "model":
        b_comm += coll("allgather", in_bytes)
    return f_comm, b_comm


def _layer_times(layers: Sequence[LayerCost], kinds: Sequence[str], *, device: Device,
                 net: Any, b: int, m: int, opts: ParallelOptions
                 ) -> tuple[list[LayerTime], list[tuple[float, float, LayerCost, str]],
                            list[float], list[float], float]:
    """Per layer: its :class:`LayerTime`, (backward compute s, backward comm s, layer,
    parallelism) for the backward schedule, and weight and other memory, bytes; and the
    forward pass with its communication, s."""
    rate = device.achieved_flop_per_s
    act, grad_b = opts.activation_bytes_per_value, opts.gradient_bytes_per_value
    group_batch = m * b
    rows, backward, weight_mem, other_mem = [], [], [], []
    fwd_total = 0.0
    for i, (layer, kind) in enumerate(zip(layers, kinds, strict=True)):
        f_comm, b_comm = _activation_comm(
            layer, kind, kinds[i - 1] if i else None, first=i == 0,
            in_bytes=group_batch * (layer.input_elements_per_sample or 0) * act,
            out_bytes=group_batch * layer.activation_elements_per_sample * act,
            m=m, net=net, split=opts.split)
        compute_f = layer.forward_flop_per_sample * b / rate
        compute_b = layer.backward_flop * b / rate
        shard = 1 if kind == "data" else m
        g_bytes = layer.parameter_count * grad_b / shard
        w_mem = layer.parameter_count * opts.state_bytes_per_parameter / shard
        o_mem = ((b if kind == "data" else group_batch) * layer.activation_elements_per_sample
                 * act + opts.compression.error_feedback_bytes(g_bytes))
        fwd_total += compute_f + f_comm
        backward.append((compute_b, b_comm, layer, kind))
        rows.append(LayerTime(name=layer.name, parallelism=kind,
                              compute_s=compute_f + compute_b, forward_comm_s=f_comm,
                              backward_comm_s=b_comm, gradient_bytes=g_bytes,
                              memory_bytes=w_mem + o_mem))
        weight_mem.append(w_mem)
        other_mem.append(o_mem)
    return rows, backward, weight_mem, other_mem, fwd_total


def _gradients_ready(backward: Sequence[tuple[float, float, LayerCost, str]], *, n: int,
                     m: int, gradient_bytes: float) -> tuple[list[GradientReady], float]:
    """Walk the backward pass output to input: when each replicated layer's gradient is
    ready, s, and when the pass ends, s."""
    groups = n // m
    grads, t = [], 0.0
    for compute_b, b_comm, layer, kind in reversed(backward):
        t += compute_b
        replicas = n if kind == "data" else groups
        if replicas > 1 and layer.parameter_count > 0:
            grads.append(GradientReady(name=layer.name, ready_s=t, group=kind,
                                       n_bytes=layer.parameter_count * gradient_bytes
                                       / (1 if kind == "data" else m)))
        t += b_comm
    return grads, t


def data_parallel_step(layers: Sequence[LayerCost], *, device: Device,
                       network: Network | Link, n_devices: int, batch_per_device: int,
                       options: ParallelOptions | None = None) -> StepTime:
    """Every layer data-parallel (DDP-style)."""
    return step_time(layers, device=device, network=network, n_devices=n_devices,
                     batch_per_device=batch_per_device, plan="data", options=options)


def model_parallel_step(layers: Sequence[LayerCost], *, device: Device,
                        network: Network | Link, n_devices: int, batch: int,
                        options: ParallelOptions | None = None) -> StepTime:
    """Every layer split over all ``n_devices``, which share one batch of ``batch`` samples.

    ``batch`` must be a multiple of ``n_devices`` (the step is booked as
    ``batch / n_devices`` samples per device).
    """
    n = check_int("n_devices", n_devices, low=1)
    total = check_int("batch", batch, low=1)
    if total % n:
        raise ValueError(f"batch ({total}) must be a multiple of n_devices ({n})")
    return step_time(layers, device=device, network=network, n_devices=n,
                     batch_per_device=total // n, plan="model", model_parallel_size=n,
                     options=options)
