"""The result of :func:`~neurocomp.accounting.count`: per-op records, per-module
totals including submodules, layers for the parallel models.

Records are per (module, op, phase), each op attributed to the innermost module; module
totals add up the module's records and its submodules'. Bytes are split by what the tensor
is — parameters (and buffers), activations (inputs and forward results), gradients (results
of the backward pass) — and by direction (read, written).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neurocomp.accounting.convention import flops_to_macs
from neurocomp.accounting.counting.count_errors import UntraceableModuleError
from neurocomp.accounting.layer_cost import LayerCost
from neurocomp.accounting.scalar_ops import ScalarOpCosts
from neurocomp.checks import check_int
from neurocomp.provenance import FLOP_CONVENTION

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BYTE_KINDS", "LOSS_MODULE", "PHASES", "ROOT_LABEL", "CountReport", "ModuleCost",
           "ModuleInfo", "OpCount", "UncountedOp", "UntraceableModuleError"]

PHASES = ("forward", "backward")

BYTE_KINDS = ("parameter", "activation", "gradient")
ROOT_LABEL = "(root)"
LOSS_MODULE = "(loss)"


@dataclass(frozen=True, kw_only=True)
class OpCount:
    """What one op did inside one module (not its submodules) in one phase.

    ``flop`` is the library's count; ``flop_counter_mode_flop`` is what
    ``FlopCounterMode`` counts for the same calls (0 for ops it does not count). Bytes at
    the report's ``dtype_bytes`` per floating element, by the kind of tensor.
    """

    module: str
    op: str
    phase: str
    kind: str
    calls: int
    flop: float
    flop_counter_mode_flop: int
    read_parameter_bytes: float
    read_activation_bytes: float
    read_gradient_bytes: float
    written_parameter_bytes: float
    written_activation_bytes: float
    written_gradient_bytes: float

    @property
    def bytes_read(self) -> float:
        """All bytes read, B."""
        return self.read_parameter_bytes + self.read_activation_bytes + self.read_gradient_bytes

    @property
    def bytes_written(self) -> float:
        """All bytes written, B."""
        return (self.written_parameter_bytes + self.written_activation_bytes
                + self.written_gradient_bytes)


@dataclass(frozen=True, kw_only=True)
class ModuleInfo:
    """One submodule of the counted model (``name`` is its path; ``""`` is the root).

    ``output_shape`` is the shape of what its first call returned: a tuple for a tensor, a
    list (dict) of them for a sequence (mapping), ``None`` if it did not run.
    """

    name: str
    type: str
    depth: int
    is_leaf: bool
    parameters: int
    trainable_parameters: int
    own_trainable_parameters: int
    calls: int
    first_call: int
    input_elements: int
    output_elements: int
    output_shape: Any = None


@dataclass(frozen=True, kw_only=True)
class UncountedOp:
    """An op the counter has no formula for (or whose arguments its formula cannot count)."""

    op: str
    calls: int
    modules: tuple[str, ...]
    phases: tuple[str, ...]
    reason: str


@dataclass(frozen=True, kw_only=True)
class ModuleCost:
    """Totals of one module including its submodules (FLOPs, bytes in B, parameters)."""

    name: str
    type: str
    parameters: int
    trainable_parameters: int
    forward_flop: float
    backward_flop: float
    forward_flop_counter_mode_flop: int
    backward_flop_counter_mode_flop: int
    forward_bytes_read: float
    forward_bytes_written: float
    backward_bytes_read: float
    backward_bytes_written: float
    input_elements: int
    output_elements: int

    @property
    def total_flop(self) -> float:
        """Forward + backward FLOPs."""
        return self.forward_flop + self.backward_flop

    @property
    def total_bytes(self) -> float:
        """All bytes read and written in both phases, B."""
        return (self.forward_bytes_read + self.forward_bytes_written + self.backward_bytes_read
                + self.backward_bytes_written)

    @property
    def arithmetic_intensity_flop_per_byte(self) -> float:
        """Total FLOPs per byte moved (``nan`` when nothing moved)."""
        return self.total_flop / self.total_bytes if self.total_bytes else float("nan")


def _sum_ops(ops: Sequence[OpCount], attr: str, phase: str | None) -> float:
    return sum(getattr(o, attr) for o in ops if phase is None or o.phase == phase)


@dataclass(frozen=True, kw_only=True, repr=False)
class CountReport:
    """FLOPs, bytes and parameters of one model run, per module and op.

    Attributes
    ----------
    model : str
        Class name of the counted module.
    ops : tuple of OpCount
        Per (module, op, phase) records, each op attributed to the innermost module.
    modules : tuple of ModuleInfo
        Every submodule, in ``named_modules`` order (root first).
    uncounted : tuple of UncountedOp
        Ops without a formula (their FLOPs are not in any total; their bytes are).
    batch_size : int
        Samples in the example input (for per-sample numbers).
    backward : bool
        Whether the backward pass was counted.
    training : bool
        The module's mode during the count.
    dtype_bytes : float or None
        Bytes per floating element (``None``: each tensor's own size).
    costs : ScalarOpCosts
        FLOPs per division, transcendental, comparison and random draw.
    convention : str
        The FLOP convention (1 multiply-add = 2 FLOPs).
    counted_on : str
        ``"meta"`` (fake tensors, nothing computed) or ``"real"`` (the tensors were run).
    """

    model: str
    ops: tuple[OpCount, ...]
    modules: tuple[ModuleInfo, ...]
    uncounted: tuple[UncountedOp, ...]
    batch_size: int
    backward: bool
    training: bool
    dtype_bytes: float | None
    costs: ScalarOpCosts
    convention: str = FLOP_CONVENTION
    counted_on: str = "real"
    _by_name: Mapping[str, ModuleInfo] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_int("batch_size", self.batch_size, low=1)
        names = [m.name for m in self.modules]
        if len(set(names)) != len(names):
            raise ValueError("module names of a CountReport must be unique")
        object.__setattr__(self, "_by_name", {m.name: m for m in self.modules})

    def __repr__(self) -> str:
        return (f"CountReport(model={self.model!r}, forward={self.forward_flop:.4g} FLOP, "
                f"backward={self.backward_flop:.4g} FLOP, parameters={self.parameter_count}, "
                f"uncounted={[u.op for u in self.uncounted]})")

    def __str__(self) -> str:
        """The per-module table of :meth:`summary` (depth 3, per batch)."""
        return self.summary()

    def summary(self, depth: int | None = 3, per_sample: bool = False) -> str:
        """A printable per-module table, like ``torchinfo`` or ``fvcore``'s.

        One row per module down to ``depth`` (its name indented by depth): type, output
        shape (of its first call), parameters, forward and backward FLOPs, bytes moved (read
        and written, both phases) — inclusive of submodules —, then the totals and, if ops
        went uncounted, the note that the FLOPs are lower bounds.

        Parameters
        ----------
        depth : int or None
            Deepest module level shown (0: the model alone; ``None``: every module).
        per_sample : bool
            FLOPs and bytes per sample (divided by ``batch_size``) instead of per batch.
        """
        from neurocomp.accounting.counting.count_summary import summary_table

        return summary_table(self, depth=depth, per_sample=per_sample)

    @property
    def is_lower_bound(self) -> bool:
        """Whether some ops had no formula, so the FLOP totals are lower bounds."""
        return bool(self.uncounted)

    # -- totals -----------------------------------------------------------------------
    @property
    def forward_flop(self) -> float:
        """FLOPs of the forward pass (library count)."""
        return _sum_ops(self.ops, "flop", "forward")

    @property
    def backward_flop(self) -> float:
        """FLOPs of the backward pass (library count; 0 without backward)."""
        return _sum_ops(self.ops, "flop", "backward")

    @property
    def total_flop(self) -> float:
        """Forward + backward FLOPs."""
        return self.forward_flop + self.backward_flop

    @property
    def total_mac(self) -> float:
        """The same total in multiply-adds (FLOPs / 2), for readers who count MACs."""
        return float(flops_to_macs(self.total_flop))

    def flop_counter_mode_flop(self, phase: str | None = None) -> int:
        """What ``FlopCounterMode`` counts for the same run (``phase`` ``None``: both)."""
        return int(_sum_ops(self.ops, "flop_counter_mode_flop", phase))

    def bytes_read(self, phase: str | None = None) -> float:
        """Bytes read in ``phase`` (``None``: both), B."""
        return sum(o.bytes_read for o in self.ops if phase is None or o.phase == phase)

    def bytes_written(self, phase: str | None = None) -> float:
        """Bytes written in ``phase`` (``None``: both), B."""
        return sum(o.bytes_written for o in self.ops if phase is None or o.phase == phase)

    def arithmetic_intensity_flop_per_byte(self, phase: str | None = None) -> float:
        """FLOPs per byte read or written in ``phase`` (``None``: both)."""
        flop = _sum_ops(self.ops, "flop", phase)
        moved = self.bytes_read(phase) + self.bytes_written(phase)
        return flop / moved if moved else float("nan")

    @property
    def parameter_count(self) -> int:
        """Parameters of the model (shared ones once)."""
        return self.modules[0].parameters

    @property
    def trainable_parameter_count(self) -> int:
        """Parameters with ``requires_grad``."""
        return self.modules[0].trainable_parameters

    # -- per module ---------------------------------------------------------------------
    def _totals(self, *, inclusive: bool = True) -> dict[str, dict[str, float]]:
        """Per module: FLOPs and bytes by phase and kind, with or without submodules."""
        totals: dict[str, dict[str, float]] = {m.name: {} for m in self.modules}
        totals.setdefault(LOSS_MODULE, {})
        for o in self.ops:
            chain = (_ancestors(o.module) if inclusive and o.module != LOSS_MODULE
                     else [o.module])
            for name in chain:
                t = totals[name]
                for key, value in (
                        (f"{o.phase}_flop", o.flop),
                        (f"{o.phase}_flop_counter_mode_flop", o.flop_counter_mode_flop),
                        (f"{o.phase}_bytes_read", o.bytes_read),
                        (f"{o.phase}_bytes_written", o.bytes_written),
                        *((f"read_{k}_bytes", getattr(o, f"read_{k}_bytes"))
                          for k in BYTE_KINDS),
                        *((f"written_{k}_bytes", getattr(o, f"written_{k}_bytes"))
                          for k in BYTE_KINDS)):
                    t[key] = t.get(key, 0) + value
        return totals

    def _inclusive(self) -> dict[str, dict[str, float]]:
        return self._totals(inclusive=True)

    def module(self, name: str) -> ModuleCost:
        """Totals of module ``name`` (its path, ``""`` for the root) and its submodules.

        Raises
        ------
        KeyError
            For a name that is not a submodule; the message lists some that are.
        """
        if name not in self._by_name:
            known = [m.name for m in self.modules[:12]]
            raise KeyError(f"no module {name!r} in {self.model}; modules include {known}")
        info, t = self._by_name[name], self._inclusive()[name]
        return ModuleCost(
            name=name, type=info.type, parameters=info.parameters,
            trainable_parameters=info.trainable_parameters,
            forward_flop=t.get("forward_flop", 0.0), backward_flop=t.get("backward_flop", 0.0),
            forward_flop_counter_mode_flop=int(t.get("forward_flop_counter_mode_flop", 0)),
            backward_flop_counter_mode_flop=int(t.get("backward_flop_counter_mode_flop", 0)),
            forward_bytes_read=t.get("forward_bytes_read", 0.0),
            forward_bytes_written=t.get("forward_bytes_written", 0.0),
            backward_bytes_read=t.get("backward_bytes_read", 0.0),
            backward_bytes_written=t.get("backward_bytes_written", 0.0),
            input_elements=info.input_elements, output_elements=info.output_elements)

    def to_frame(self, level: str = "module") -> pd.DataFrame:
        """A tidy table.

        Parameters
        ----------
        level : {"module", "op", "operator"}
            ``"module"``: one row per module, totals including submodules;
            ``"op"``: one row per (module, op, phase), each op in its innermost module;
            ``"operator"``: one row per (op, phase), summed over modules.
        """
        import pandas as pd

        from neurocomp.checks import check_choice

        check_choice("level", level, ("module", "op", "operator"))
        rows = [{"module": o.module, "op": o.op, "phase": o.phase, "kind": o.kind,
                 "calls": o.calls, "flop": o.flop,
                 "flop_counter_mode_flop": o.flop_counter_mode_flop,
                 **{f"read_{k}_bytes": getattr(o, f"read_{k}_bytes") for k in BYTE_KINDS},
                 **{f"written_{k}_bytes": getattr(o, f"written_{k}_bytes") for k in BYTE_KINDS},
                 "bytes_read": o.bytes_read, "bytes_written": o.bytes_written}
                for o in self.ops]
        if level == "op":
            return pd.DataFrame(rows)
        if level == "operator":
            frame = pd.DataFrame(rows).drop(columns=["module"])
            return frame.groupby(["op", "phase", "kind"], as_index=False, sort=True).sum()
        totals = self._inclusive()
        out = []
        for m in self.modules:
            t = totals[m.name]
            row = {"module": m.name or ROOT_LABEL, "type": m.type, "depth": m.depth,
                   "is_leaf": m.is_leaf, "calls": m.calls, "parameters": m.parameters,
                   "trainable_parameters": m.trainable_parameters}
            for phase in PHASES:
                for key in ("flop", "flop_counter_mode_flop", "bytes_read", "bytes_written"):
                    row[f"{phase}_{key}"] = t.get(f"{phase}_{key}", 0)
            for k in BYTE_KINDS:
                row[f"read_{k}_bytes"] = t.get(f"read_{k}_bytes", 0.0)
                row[f"written_{k}_bytes"] = t.get(f"written_{k}_bytes", 0.0)
            moved = sum(row[f"{p}_bytes_{d}"] for p in PHASES for d in ("read", "written"))
            flop = row["forward_flop"] + row["backward_flop"]
            row["arithmetic_intensity_flop_per_byte"] = flop / moved if moved else float("nan")
            row["input_elements"], row["output_elements"] = m.input_elements, m.output_elements
            out.append(row)
        return pd.DataFrame(out)

    # -- layers: for the parallel models and the roofline --------------------------------
    def layers(self, *, modules: Sequence[str] | None = None, include_own_ops: bool = True
               ) -> tuple[tuple[str, ModuleInfo, Mapping[str, float], int], ...]:
        """The model cut into layers, in the order they first ran.

        Returns ``(label, module info, totals, trainable parameters)`` per layer, where
        ``totals`` maps ``"forward_flop"``, ``"backward_bytes_read"`` … to numbers.

        Parameters
        ----------
        modules : sequence of str, optional
            Module paths to treat as layers (totals include their submodules). Default:
            every leaf module that ran, plus — with ``include_own_ops`` — one layer
            ``"<path> (own ops)"`` per container whose forward does arithmetic of its own
            (a residual add, a sum over dendrites), so the layers add up to the model.
        include_own_ops : bool
            See ``modules``.
        """
        inclusive = self._totals(inclusive=True)
        rows: list[tuple[int, tuple[str, ModuleInfo, Mapping[str, float], int]]] = []
        chosen = (list(modules) if modules is not None else
                  [m.name for m in self.modules if m.is_leaf and m.calls])
        for name in chosen:
            if name not in self._by_name:
                raise KeyError(f"no module {name!r} in {self.model}")
            info = self._by_name[name]
            rows.append((info.first_call, (name or self.model, info, inclusive[name],
                                           info.trainable_parameters)))
        if modules is None and include_own_ops:
            own = self._totals(inclusive=False)
            for m in self.modules:
                t = own[m.name]
                if not m.is_leaf and m.calls and (t.get("forward_flop", 0) > 0
                                                  or t.get("backward_flop", 0) > 0):
                    rows.append((m.first_call, (f"{m.name or self.model} (own ops)", m, t,
                                                m.own_trainable_parameters)))
        rows.sort(key=lambda r: r[0])
        return tuple(row for _, row in rows)

    def layer_costs(self, *, modules: Sequence[str] | None = None,
                    include_own_ops: bool = True) -> tuple[LayerCost, ...]:
        """The model as :class:`LayerCost` rows, per sample, in the order the layers ran.

        Parameters as :meth:`layers`. Backward FLOPs are the measured ones (the first layer
        has no input gradient), or ``None`` (LayerCost's 2 × forward) without backward.

        Raises
        ------
        ValueError
            If a layer's activation or input size is not a whole number per sample.
        """
        return tuple(self._layer(label, info, totals, params) for label, info, totals, params
                     in self.layers(modules=modules, include_own_ops=include_own_ops))

    def _layer(self, label: str, info: ModuleInfo, t: Mapping[str, float],
               params: int) -> LayerCost:
        per_sample = {}
        for key, elements in (("activation", info.output_elements),
                              ("input", info.input_elements)):
            if elements % self.batch_size:
                raise ValueError(f"module {label!r}: {elements} {key} elements do not split "
                                 f"into {self.batch_size} samples; pass modules=... naming "
                                 f"layers whose first axis is the batch")
            per_sample[key] = elements // self.batch_size
        return LayerCost(
            name=label, kind=info.type, parameter_count=params,
            forward_flop_per_sample=t.get("forward_flop", 0.0) / self.batch_size,
            backward_flop_per_sample=(t.get("backward_flop", 0.0) / self.batch_size
                                      if self.backward else None),
            activation_elements_per_sample=per_sample["activation"],
            input_elements_per_sample=per_sample["input"])


def _ancestors(name: str) -> list[str]:
    """``"a.b.c"`` → ``["a.b.c", "a.b", "a", ""]``."""
    if not name:
        return [""]
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(len(parts), 0, -1)] + [""]
