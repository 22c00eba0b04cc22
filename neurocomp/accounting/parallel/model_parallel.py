r"""Model parallelism of weight matrices with real tensors, and its traffic vs data parallelism.

Dettmers (2014, "How to Parallelize Deep Learning on GPUs Part 2/2: Model Parallelism",
timdettmers.com/2014/11/09/model-parallelism-deep-learning/) splits the weight matrix
:math:`W` (``in × out``; the post's product is :math:`A\cdot B = C` with
:math:`B = W`) over GPUs. With :math:`x` of shape ``batch × in``:

* **split by rows** (the first dimension, the inputs): GPU *k* holds :math:`W_k` =
  rows of :math:`W` and the matching columns :math:`x_k` of the input, computes
  :math:`x_k W_k` (``batch × out``), and the partial products are **added** (an all-reduce).
  Backward: :math:`\partial x_k = \delta W_k^\top` is the *k*-th slice of the input gradient
  (an all-gather joins them), :math:`\partial W_k = x_k^\top\delta`.
* **split by columns** (the second dimension, the outputs): GPU *k* computes
  :math:`x W_k` (``batch × out/n``) and the slices are **stacked** (an all-gather).
  Backward: every GPU's :math:`\delta_k W_k^\top` is a full-size partial sum of the input
  gradient (an all-reduce), :math:`\partial W_k = x^\top\delta_k`.

:func:`split_linear_forward` and :func:`split_linear_backward` do exactly this with torch
tensors (optionally one shard per device), so tests can compare them with the unsplit product
and with autograd.

The per-layer costs that the parallel models consume are a :class:`LayerCost`: name,
forward FLOPs, parameters and activation sizes per sample, nothing else, so that a FLOP
counter can fill it. :func:`krizhevsky_plan` compares, layer by layer, the bytes each device
sends under data parallelism (gradients) and under model parallelism (activations) —
the argument of Krizhevsky (2014), "One weird trick for parallelizing convolutional neural
networks", arXiv:1404.5997: convolutions have much compute and few weights (data parallel),
dense layers the reverse (model parallel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neurocomp.accounting._checks import check_count
from neurocomp.accounting.layer_cost import LayerCost, resolve_inputs
from neurocomp.checks import check_choice, check_int, check_real

if TYPE_CHECKING:  # torch is imported where the split products run, so that the cost models
    import torch  # (and ``import neurocomp.accounting``) do not load it

__all__ = [
    "PARALLELISMS",
    "SPLITS",
    "LayerTraffic",
    "SplitBackward",
    "SplitForward",
    "data_parallel_gradient_bytes",
    "krizhevsky_plan",
    "model_parallel_activation_bytes",
    "shard_shapes",
    "shard_sizes",
    "split_linear_backward",
    "split_linear_forward",
]

#: How a weight matrix ``in × out`` is split: by ``"row"`` (inputs) or ``"column"`` (outputs).
SPLITS = ("row", "column")
#: Per-layer parallelism of the hybrid models.
PARALLELISMS = ("data", "model")


# -- split products with real tensors ----------------------------------------------------------

def shard_sizes(n: int, n_parts: int, *, max_items: int | None = None) -> tuple[int, ...]:
    """Sizes of ``n`` items split into ``n_parts`` (the first ``n % n_parts`` get one more).

    ``max_items`` bounds ``n_parts`` (one size each; ``None``: 2²⁰).
    """
    n = check_int("n", n, low=1)
    k = check_int("n_parts", n_parts, low=1, high=n)
    check_count("shard_sizes", "n_parts", k, max_items=max_items, what="shard sizes")
    return tuple(n // k + (1 if i < n % k else 0) for i in range(k))


def shard_shapes(in_features: int, out_features: int, *, n_parts: int,
                 split: str) -> tuple[tuple[int, int], ...]:
    """Shapes of the weight shards: 1000×1000 over 4 by columns gives four 1000×250."""
    check_choice("split", split, SPLITS)
    if split == "row":
        return tuple((s, out_features) for s in shard_sizes(in_features, n_parts))
    return tuple((in_features, s) for s in shard_sizes(out_features, n_parts))


def _check_operands(x: torch.Tensor, weight: torch.Tensor, n_parts: int,
                    split: str) -> int:
    check_choice("split", split, SPLITS)
    if x.dim() != 2 or weight.dim() != 2:
        raise ValueError(f"x and weight must be 2-D (batch × in, in × out); got shapes "
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    if x.shape[1] != weight.shape[0]:
        raise ValueError(f"x has {x.shape[1]} features but weight has {weight.shape[0]} rows "
                         f"(weight is in × out)")
    dim = weight.shape[0] if split == "row" else weight.shape[1]
    return check_int(f"n_parts (splitting {dim} {split}s)", n_parts, low=1, high=dim)


def _devices(devices: Sequence[torch.device | str] | None, n_parts: int,
             default: torch.device) -> list[torch.device]:
    import torch

    if devices is None:
        return [default] * n_parts
    if len(devices) != n_parts:
        raise ValueError(f"devices must name one device per part ({n_parts}); "
                         f"got {len(devices)}")
    return [torch.device(d) for d in devices]


@dataclass(frozen=True, kw_only=True)
class SplitForward:
    """Result of a split product: the combined output and what each part computed.

    Attributes
    ----------
    output : torch.Tensor
        ``batch × out``, on the input's device.
    partials : tuple of torch.Tensor
        Per-part products (``batch × out`` partial sums for rows, ``batch × out_k`` slices
        for columns), each on its part's device.
    combine : {"sum", "concat"}
        How the partials become the output (an all-reduce or an all-gather).
    """

    output: torch.Tensor
    partials: tuple[torch.Tensor, ...]
    combine: str


def split_linear_forward(x: torch.Tensor, weight: torch.Tensor, *, n_parts: int, split: str,
                         devices: Sequence[torch.device | str] | None = None) -> SplitForward:
    """``x @ weight`` computed in ``n_parts`` shards of ``weight`` (``in × out``).

    Parameters
    ----------
    x : torch.Tensor
        Input, ``batch × in``.
    weight : torch.Tensor
        Weight, ``in × out`` (the post's orientation; ``nn.Linear.weight`` is its transpose).
    n_parts : int
        Number of shards (GPUs), 1 … the split dimension.
    split : {"row", "column"}
        Which dimension of ``weight`` is split.
    devices : sequence of devices, optional
        One device per shard (default: all on ``x``'s device).
    """
    import torch

    k = _check_operands(x, weight, n_parts, split)
    devs = _devices(devices, k, x.device)
    if split == "row":
        xs, ws = torch.tensor_split(x, k, dim=1), torch.tensor_split(weight, k, dim=0)
        partials = tuple(xi.to(d) @ wi.to(d) for xi, wi, d in zip(xs, ws, devs, strict=True))
        output = torch.stack([p.to(x.device) for p in partials]).sum(dim=0)
        return SplitForward(output=output, partials=partials, combine="sum")
    ws = torch.tensor_split(weight, k, dim=1)
    partials = tuple(x.to(d) @ wi.to(d) for wi, d in zip(ws, devs, strict=True))
    output = torch.cat([p.to(x.device) for p in partials], dim=1)
    return SplitForward(output=output, partials=partials, combine="concat")


@dataclass(frozen=True, kw_only=True)
class SplitBackward:
    """Gradients of a split product.

    Attributes
    ----------
    grad_input : torch.Tensor
        :math:`\\partial L/\\partial x = \\delta W^\\top`, ``batch × in``.
    grad_weight : torch.Tensor
        :math:`\\partial L/\\partial W = x^\\top\\delta`, ``in × out`` (shards joined).
    grad_input_partials : tuple of torch.Tensor
        Per-part input gradients: full-size partial sums (column split, summed by an
        all-reduce) or slices (row split, joined by an all-gather).
    grad_weight_shards : tuple of torch.Tensor
        Each part's weight gradient; it stays on its part (no communication).
    combine : {"sum", "concat"}
        How the input-gradient partials are combined.
    """

    grad_input: torch.Tensor
    grad_weight: torch.Tensor
    grad_input_partials: tuple[torch.Tensor, ...]
    grad_weight_shards: tuple[torch.Tensor, ...]
    combine: str


def split_linear_backward(x: torch.Tensor, weight: torch.Tensor, grad_output: torch.Tensor, *,
                          n_parts: int, split: str,
                          devices: Sequence[torch.device | str] | None = None) -> SplitBackward:
    """Backward pass of :func:`split_linear_forward` with ``grad_output`` = δ (``batch × out``)."""
    import torch

    k = _check_operands(x, weight, n_parts, split)
    if grad_output.shape != (x.shape[0], weight.shape[1]):
        raise ValueError(f"grad_output must have shape {(x.shape[0], weight.shape[1])} "
                         f"(batch × out); got {tuple(grad_output.shape)}")
    devs = _devices(devices, k, x.device)
    home = x.device
    if split == "row":
        xs, ws = torch.tensor_split(x, k, dim=1), torch.tensor_split(weight, k, dim=0)
        gi = tuple(grad_output.to(d) @ wi.to(d).T for wi, d in zip(ws, devs, strict=True))
        gw = tuple(xi.to(d).T @ grad_output.to(d) for xi, d in zip(xs, devs, strict=True))
        return SplitBackward(grad_input=torch.cat([g.to(home) for g in gi], dim=1),
                             grad_weight=torch.cat([g.to(home) for g in gw], dim=0),
                             grad_input_partials=gi, grad_weight_shards=gw, combine="concat")
    ws, ds = torch.tensor_split(weight, k, dim=1), torch.tensor_split(grad_output, k, dim=1)
    gi = tuple(di.to(d) @ wi.to(d).T for wi, di, d in zip(ws, ds, devs, strict=True))
    gw = tuple(x.to(d).T @ di.to(d) for di, d in zip(ds, devs, strict=True))
    return SplitBackward(grad_input=torch.stack([g.to(home) for g in gi]).sum(dim=0),
                         grad_weight=torch.cat([g.to(home) for g in gw], dim=1),
                         grad_input_partials=gi, grad_weight_shards=gw, combine="sum")


# -- traffic per layer ----------------------------------------------------------------------

def data_parallel_gradient_bytes(layer: LayerCost, *, n_devices: int,
                                 bytes_per_value: float = 4.0) -> float:
    """Bytes one device sends per step to ring-all-reduce the layer's gradients.

    :math:`2(p-1)/p \\cdot \\text{parameters} \\cdot \\text{bytes}`, independent of the batch.
    """
    p = check_int("n_devices", n_devices, low=1)
    b = check_real("bytes_per_value", bytes_per_value, low=0.0, low_inclusive=False, unit="B")
    return 2 * (p - 1) / p * layer.parameter_count * b


def model_parallel_activation_bytes(layer: LayerCost, *, n_devices: int, group_batch: int,
                                    split: str = "column", bytes_per_value: float = 4.0,
                                    needs_input_grad: bool = True) -> float:
    """Bytes one device sends per step when the layer is split over ``n_devices``.

    Column split: all-gather of the output forward, :math:`(p-1)/p\\cdot B\\cdot\\text{out}`,
    and all-reduce of the input gradient backward, :math:`2(p-1)/p\\cdot B\\cdot\\text{in}`.
    Row split: all-reduce of the output forward, all-gather of the input gradient backward.
    :math:`B` is the batch the group processes together; proportional to it.

    Parameters
    ----------
    needs_input_grad : bool
        ``False`` for the first layer (no gradient flows into the network input).
    """
    check_choice("split", split, SPLITS)
    p = check_int("n_devices", n_devices, low=1)
    batch = check_int("group_batch", group_batch, low=1)
    b = check_real("bytes_per_value", bytes_per_value, low=0.0, low_inclusive=False, unit="B")
    out_elems = batch * layer.activation_elements_per_sample
    in_elems = batch * (layer.input_elements_per_sample or 0) if needs_input_grad else 0
    gather, reduce = (p - 1) / p, 2 * (p - 1) / p
    if split == "column":
        return (gather * out_elems + reduce * in_elems) * b
    return (reduce * out_elems + gather * in_elems) * b


@dataclass(frozen=True, kw_only=True)
class LayerTraffic:
    """Per-device bytes of one layer under each parallelism, and the smaller one."""

    name: str
    data_parallel_bytes: float
    model_parallel_bytes: float

    @property
    def recommended(self) -> str:
        """``"model"`` when activations are cheaper to send than gradients, else ``"data"``."""
        return "model" if self.model_parallel_bytes < self.data_parallel_bytes else "data"


def krizhevsky_plan(layers: Sequence[LayerCost], *, n_devices: int, batch_per_device: int,
                    split: str = "column", bytes_per_value: float = 4.0,
                    ) -> tuple[LayerTraffic, ...]:
    """Per layer: gradient bytes (data parallel) vs activation bytes (model parallel).

    As in Krizhevsky (2014), the model-parallel group is all ``n_devices`` devices working
    on all of their examples together (``n_devices × batch_per_device``), and each layer
    is judged on its own. AlexNet's convolutions come out data-parallel and its dense layers
    model-parallel.
    """
    layers = resolve_inputs(layers)
    p = check_int("n_devices", n_devices, low=1)
    b = check_int("batch_per_device", batch_per_device, low=1)
    return tuple(LayerTraffic(
        name=layer.name,
        data_parallel_bytes=data_parallel_gradient_bytes(layer, n_devices=p,
                                                         bytes_per_value=bytes_per_value),
        model_parallel_bytes=model_parallel_activation_bytes(
            layer, n_devices=p, group_batch=p * b, split=split,
            bytes_per_value=bytes_per_value, needs_input_grad=i > 0))
        for i, layer in enumerate(layers))
