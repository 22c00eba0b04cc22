"""What one layer costs, per sample: the record a FLOP counter fills and the parallel models read.

:class:`LayerCost` holds a layer's forward FLOPs, parameters and activation sizes per sample,
nothing else; :func:`resolve_inputs` checks a network of them and fills each missing input size
from the previous layer's output.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from neurocomp.checks import check_int, check_real

__all__ = ["LayerCost", "resolve_inputs"]


@dataclass(frozen=True, kw_only=True)
class LayerCost:
    """What the parallel models need to know about one layer (per sample, forward).

    Parameters
    ----------
    name : str
        Layer name (unique within a network).
    forward_flop_per_sample : float
        Forward FLOPs for one sample (1 multiply-add = 2 FLOPs).
    parameter_count : int
        Trainable parameters (their gradients are what data parallelism exchanges).
    activation_elements_per_sample : int
        Elements of the layer's output for one sample (what model parallelism exchanges).
    input_elements_per_sample : int or None
        Elements of its input for one sample; ``None`` means "the previous layer's output"
        (see :func:`resolve_inputs`), or, for the first layer, the network input, whose
        gradient is never needed.
    backward_flop_per_sample : float or None
        Backward FLOPs for one sample; ``None`` means 2 × forward (input and weight
        gradients; the first layer needs no input gradient, which a FLOP counter can state).
    kind : str
        Free label (``"conv"``, ``"dense"``) for tables.
    """

    name: str
    forward_flop_per_sample: float
    parameter_count: int
    activation_elements_per_sample: int
    input_elements_per_sample: int | None = None
    backward_flop_per_sample: float | None = None
    kind: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"layer name must be a non-empty string; got {self.name!r}")
        where = f"layer {self.name!r}"
        check_real(f"{where}: forward_flop_per_sample", self.forward_flop_per_sample, low=0.0,
                   unit="FLOP")
        check_int(f"{where}: parameter_count", self.parameter_count, low=0)
        check_int(f"{where}: activation_elements_per_sample",
                  self.activation_elements_per_sample, low=0)
        if self.input_elements_per_sample is not None:
            check_int(f"{where}: input_elements_per_sample", self.input_elements_per_sample,
                      low=0)
        if self.backward_flop_per_sample is not None:
            check_real(f"{where}: backward_flop_per_sample", self.backward_flop_per_sample,
                       low=0.0, unit="FLOP")

    @property
    def backward_flop(self) -> float:
        """Backward FLOPs per sample (2 × forward unless given)."""
        if self.backward_flop_per_sample is None:
            return 2.0 * self.forward_flop_per_sample
        return self.backward_flop_per_sample

    @property
    def training_flop_per_sample(self) -> float:
        """Forward plus backward FLOPs per sample."""
        return self.forward_flop_per_sample + self.backward_flop


def resolve_inputs(layers: Sequence[LayerCost]) -> tuple[LayerCost, ...]:
    """Check a network's layers and fill each missing input size from the previous output.

    Raises
    ------
    ValueError
        For an empty network or duplicate names.
    """
    layers = tuple(layers)
    if not layers:
        raise ValueError("layers must hold at least one LayerCost; got none")
    for layer in layers:
        if not isinstance(layer, LayerCost):
            raise TypeError(f"layers must be LayerCost objects; got {type(layer).__name__}")
    names = [layer.name for layer in layers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"layer names must be unique; repeated: {dupes}")
    out = [layers[0]]
    for prev, layer in itertools.pairwise(layers):
        if layer.input_elements_per_sample is None:
            layer = dataclasses.replace(
                layer, input_elements_per_sample=prev.activation_elements_per_sample)
        out.append(layer)
    return tuple(out)
