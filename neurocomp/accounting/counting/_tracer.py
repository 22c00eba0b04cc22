"""The machinery behind :func:`neurocomp.accounting.count` (imports torch).

A :class:`~torch.utils._python_dispatch.TorchDispatchMode` sees every aten op after
autograd, exactly as ``FlopCounterMode`` does: ops with a CompositeImplicitAutograd kernel
are decomposed first (so both see the same ops), shape/stride queries are passed over, and
each remaining op is looked up in the formula registry.

Attribution to modules:

* forward — global module pre/post hooks keep a stack of the modules of the counted model
  that are running; an op belongs to the innermost one;
* backward — every autograd node created in the forward pass carries a sequence number;
  the hooks record, per module call, the interval of sequence numbers created while it ran,
  so the node the engine is executing (``torch._C._current_autograd_node()``) names the
  innermost module that created it. Gradient accumulation for a parameter belongs to the
  module that owns the parameter.

Bytes: every op reads its tensor arguments and writes its results (views move nothing),
each floating element at ``dtype_bytes`` (other dtypes at their own size). A tensor's kind
comes from its storage: parameters and buffers are ``parameter``; storage last written in
the forward pass (or an input) is ``activation``; storage written in the backward pass is
``gradient``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakIdKeyDictionary

from neurocomp.accounting.counting.count_report import UntraceableModuleError
from neurocomp.accounting.counting.formulas import NotCountable, OpFormula
from neurocomp.accounting.scalar_ops import ScalarOpCosts

__all__ = ["ACTIVATION", "GRADIENT", "PARAMETER", "Trace", "shape_of"]

PARAMETER, ACTIVATION, GRADIENT = 0, 1, 2
#: Accumulator slots of one (module, op, phase) record.
CALLS, FLOP, FCM_FLOP, READ, WRITTEN = 0, 1, 2, 3, 6  # READ+kind, WRITTEN+kind

_aten = torch.ops.aten
#: Queries of shape, stride and layout: FlopCounterMode passes them over, and so do we.
METADATA_OPS = frozenset({
    _aten.sym_is_contiguous.default, _aten.is_contiguous.default,
    _aten.is_contiguous.memory_format, _aten.is_strides_like_format.default,
    _aten.is_non_overlapping_and_dense.default, _aten.size.default, _aten.sym_size.default,
    _aten.stride.default, _aten.sym_stride.default, _aten.storage_offset.default,
    _aten.sym_storage_offset.default, _aten.numel.default, _aten.sym_numel.default,
    _aten.dim.default, torch.ops.prim.layout.default})
_PRIM_DEVICE = torch.ops.prim.device.default
_CIA = torch._C.DispatchKey.CompositeImplicitAutograd


#: Namespaces of ops that compute nothing (the profiler's ``record_function`` markers, which
#: ``torch.optim`` emits): run, not recorded.
BOOKKEEPING_NAMESPACES = frozenset({"profiler"})


class _OpInfo:
    __slots__ = ("bookkeeping", "compute_flop", "decomposes", "entry", "moves_data", "name")

    def __init__(self, name: str, entry: OpFormula | None, decomposes: bool) -> None:
        self.name = name
        self.bookkeeping = name.split(".", 1)[0] in BOOKKEEPING_NAMESPACES
        self.entry = entry
        self.decomposes = decomposes
        self.moves_data = entry is None or entry.moves_data
        self.compute_flop = entry is not None and entry.kind not in ("view", "data movement")


def _storage_ptr(t: torch.Tensor) -> int:
    """The identity of ``t``'s storage (shared by its views): the address of the storage
    object, which, unlike the data pointer, also tells apart storages on the ``meta``
    device and fake tensors (whose data pointers are all 0)."""
    return t.untyped_storage()._cdata


def _bytes_of(t: torch.Tensor, dtype_bytes: float | None) -> tuple[float, bool, bool]:
    """(bytes, floating, complex) of a tensor: floating and complex tensors at the chosen
    ``dtype_bytes`` per real number (``None``: their own size), others at their own size."""
    is_complex = not t.is_floating_point() and t.is_complex()
    is_float = is_complex or t.is_floating_point()
    per = (dtype_bytes * (2 if is_complex else 1) if is_float and dtype_bytes is not None
           else t.element_size())
    return t.numel() * per, is_float, is_complex


def _shape(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, list | tuple):
        return [_shape(v) for v in value] if value and any(
            isinstance(v, torch.Tensor) for v in value) else value
    return value


def _out_shape(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, list | tuple):
        return [_out_shape(o) for o in out]
    return out


def shape_of(value: Any) -> Any:
    """The shape of a module's output: a tuple for a tensor, a list (or dict) of them for a
    sequence (mapping) holding tensors, ``None`` for anything else."""
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, Mapping):
        return {k: shape_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shape_of(v) for v in value]
    return None


def _tensors(values: Any, into: list[torch.Tensor]) -> None:
    for v in values:
        if isinstance(v, torch.Tensor):
            into.append(v)
        elif isinstance(v, list | tuple):
            _tensors(v, into)


class Trace(TorchDispatchMode):
    """Counts FLOPs and bytes per (module, op, phase) while active.

    Parameters
    ----------
    root : torch.nn.Module
        The counted model; its named submodules are the attribution targets.
    registry : mapping of str to OpFormula
        Formulas by op name.
    costs : ScalarOpCosts
        Scalar costs passed to the formulas.
    dtype_bytes : float or None
        Bytes per floating-point element (``None``: each tensor's own element size).
    run_op : callable, optional
        ``run_op(func, args, kwargs)`` computes an op's result in place of ``func(*args,
        **kwargs)`` (the meta run's constant folding); ``None`` calls the op.
    """

    def __init__(self, root: torch.nn.Module, *, registry: Mapping[str, OpFormula],
                 costs: ScalarOpCosts, dtype_bytes: float | None,
                 run_op: Any = None) -> None:
        super().__init__()
        self.run_op = run_op
        self.registry = registry
        self.costs = costs
        self.dtype_bytes = dtype_bytes
        self.names = [name for name, _ in root.named_modules()]
        self.module_types = [type(m).__name__ for _, m in root.named_modules()]
        self.index = {id(m): i for i, (_, m) in enumerate(root.named_modules())}
        self.phase = 0
        self.stack: list[int] = [0]
        self.starts: list[int] = []
        self.intervals: list[tuple[int, int, int]] = []
        self.records: dict[tuple[int, str, int], list[float]] = {}
        self.uncounted: dict[str, dict[str, Any]] = {}
        self.ops: dict[Any, _OpInfo] = {}
        self.storage: dict[int, int] = {}
        self.calls = [0] * len(self.names)
        self.first_call = [-1] * len(self.names)
        self.in_elements = [0] * len(self.names)
        self.out_elements = [0] * len(self.names)
        #: output shape of each module's first call (by module index)
        self.out_shapes: dict[int, Any] = {}
        #: input shapes of the module calls on the stack (for error messages)
        self.arg_shapes: list[Any] = [None]
        self._order = 0
        self._node_module: dict[int, int] = {}
        self._owner: np.ndarray | None = None
        self._owner_base = 0
        self.param_owner: dict[int, int] = {}
        #: every tensor a traced op returned, plus parameters, buffers and inputs
        self.produced: WeakIdKeyDictionary = WeakIdKeyDictionary()
        for i, (_, m) in enumerate(root.named_modules()):
            for p in m.parameters(recurse=False):
                self.param_owner.setdefault(id(p), i)
                self.storage[_storage_ptr(p)] = PARAMETER
                self.produced[p] = True
            for b in m.buffers(recurse=False):
                if b is not None:
                    self.storage[_storage_ptr(b)] = PARAMETER
                    self.produced[b] = True
        self._hooks: list[Any] = []

    # -- module hooks ------------------------------------------------------------------
    def hooks_on(self) -> None:
        """Start following module calls (forward pass)."""
        self._hooks = [register_module_forward_pre_hook(self._pre),
                       register_module_forward_hook(self._post)]

    def hooks_off(self) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def _elements(self, values: Any) -> int:
        found: list[torch.Tensor] = []
        _tensors(values if isinstance(values, list | tuple) else (values,), found)
        return sum(t.numel() for t in found if t.is_floating_point())

    def _pre(self, module: torch.nn.Module, inputs: Any) -> None:
        i = self.index.get(id(module))
        if i is None:
            return
        self.stack.append(i)
        self.arg_shapes.append(shape_of(inputs))
        self.starts.append(torch._C._autograd._get_sequence_nr())
        self.calls[i] += 1
        if self.first_call[i] < 0:
            self.first_call[i] = self._order
            self._order += 1
        self.in_elements[i] += self._elements(inputs)

    def _post(self, module: torch.nn.Module, inputs: Any, output: Any) -> None:
        i = self.index.get(id(module))
        if i is None:
            return
        self.stack.pop()
        self.arg_shapes.pop()
        if i not in self.out_shapes:
            self.out_shapes[i] = shape_of(output)
        self.intervals.append((self.starts.pop(), torch._C._autograd._get_sequence_nr(), i))
        found: list[torch.Tensor] = []
        _tensors(output if isinstance(output, list | tuple) else (output,), found)
        given: list[torch.Tensor] = []
        _tensors(inputs if isinstance(inputs, list | tuple) else (inputs,), given)
        for t in found:
            if t.is_floating_point() and t not in self.produced and not any(
                    t is g for g in given):
                name = self.names[i] or "(root)"
                raise UntraceableModuleError(
                    f"module {name!r} ({self.module_types[i]}) returned a tensor that no "
                    f"traced torch op computed (made from numpy or Python data, or by an "
                    f"extension that bypasses the dispatcher), so its FLOPs cannot be "
                    f"counted", module=name)
        self.out_elements[i] += sum(t.numel() for t in found if t.is_floating_point())

    def register_inputs(self, tensors: list[torch.Tensor], *, kind: int = ACTIVATION) -> None:
        """Mark the storage of tensors made outside the trace (the example inputs; the
        output gradients seeding the backward pass) before any op reads them."""
        for t in tensors:  # a storage freed earlier may have left its address behind
            self._mark(_storage_ptr(t), kind)
            self.produced[t] = True

    def _mark(self, key: int, kind: int) -> None:
        if self.storage.get(key) != PARAMETER:
            self.storage[key] = kind

    # -- backward attribution -----------------------------------------------------------
    def start_backward(self) -> None:
        """Build the sequence-number → module map of the forward pass's autograd nodes."""
        self.phase = 1
        if not self.intervals:
            return
        base = min(a for a, _, _ in self.intervals)
        top = max(b for _, b, _ in self.intervals)
        owner = np.zeros(max(top - base, 1), dtype=np.int64)
        for a, b, i in sorted(self.intervals, key=lambda iv: (iv[0], -iv[1])):
            owner[a - base:b - base] = i  # inner calls start later, end earlier: painted last
        self._owner, self._owner_base = owner, base

    def _backward_module(self) -> int:
        node = torch._C._current_autograd_node()
        if node is None:
            return 0
        key = id(node)
        i = self._node_module.get(key)
        if i is None:
            i = 0
            variable = getattr(node, "variable", None)  # AccumulateGrad of a parameter
            if variable is not None:
                i = self.param_owner.get(id(variable), 0)
            elif self._owner is not None:
                k = node._sequence_nr() - self._owner_base
                if 0 <= k < self._owner.size:
                    i = int(self._owner[k])
            self._node_module[key] = i
        return i

    # -- the dispatch hook --------------------------------------------------------------
    def _info(self, func: Any) -> _OpInfo:
        packet = func._overloadpacket
        name = str(packet) if not isinstance(packet, str) else packet
        decomposes = func is not _PRIM_DEVICE and (
            _CIA in func.py_kernels or torch._C._dispatch_has_kernel_for_dispatch_key(
                func.name(), _CIA))
        entry = self.registry.get(name)
        if name.startswith("prim."):
            entry = None
        info = _OpInfo(name, entry, decomposes)
        if name.startswith("prim."):
            info.moves_data = False
        self.ops[func] = info
        return info

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in METADATA_OPS or func is _PRIM_DEVICE:  # the device of a fake tensor
            return NotImplemented
        if isinstance(func, torch._ops.HigherOrderOperator):
            name = self.names[self.stack[-1]] or "(root)"
            raise UntraceableModuleError(
                f"module {name!r} uses the higher-order operator {func}, which the counter "
                f"cannot trace", module=name)
        info = self.ops.get(func) or self._info(func)
        if info.bookkeeping:
            return func(*args, **kwargs)
        if info.decomposes:
            with self:
                result = func.decompose(*args, **kwargs)
            if result is not NotImplemented:
                return result
        out = (func(*args, **kwargs) if self.run_op is None
               else self.run_op(func, args, kwargs))
        if info.name == "aten.lift_fresh":  # data from outside torch (numpy, Python lists)
            pass
        elif isinstance(out, torch.Tensor):
            self.produced[out] = True
        elif isinstance(out, list | tuple):
            for t in out:
                if isinstance(t, torch.Tensor):
                    self.produced[t] = True
        self._record(info, args, kwargs, out)
        return out

    def _record(self, info: _OpInfo, args: tuple, kwargs: dict, out: Any) -> None:
        module = self.stack[-1] if self.phase == 0 else self._backward_module()
        key = (module, info.name, self.phase)
        rec = self.records.get(key)
        if rec is None:
            rec = self.records[key] = [0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        rec[CALLS] += 1
        entry = info.entry
        if entry is None:
            u = self.uncounted.setdefault(info.name, {"calls": 0, "modules": set(),
                                                      "phases": set(), "reason": "no formula"})
            u["calls"] += 1
            u["modules"].add(module)
            u["phases"].add(self.phase)
        if not info.moves_data:
            if info.name == "aten.lift_fresh" and isinstance(out, torch.Tensor):
                self._mark(_storage_ptr(out), ACTIVATION)  # torch.tensor(...)
            return
        inputs: list[torch.Tensor] = []
        _tensors(args, inputs)
        written_to = kwargs.get("out")
        for k, v in kwargs.items():
            if k != "out" and isinstance(v, torch.Tensor | list | tuple):
                _tensors((v,), inputs)
        outputs: list[torch.Tensor] = []
        _tensors(out if isinstance(out, list | tuple) else (out,), outputs)
        if written_to is not None and not outputs:
            _tensors((written_to,), outputs)
        any_float = any_complex = False
        storage, dtype_bytes = self.storage, self.dtype_bytes
        for t in inputs:
            size, is_float, is_complex = _bytes_of(t, dtype_bytes)
            any_float, any_complex = any_float or is_float, any_complex or is_complex
            rec[READ + storage.get(_storage_ptr(t), ACTIVATION)] += size
        phase_kind = ACTIVATION if self.phase == 0 else GRADIENT
        for t in outputs:
            size, is_float, is_complex = _bytes_of(t, dtype_bytes)
            any_float, any_complex = any_float or is_float, any_complex or is_complex
            ptr = _storage_ptr(t)
            kind = storage.get(ptr)
            if kind != PARAMETER:
                storage[ptr] = kind = phase_kind
            rec[WRITTEN + kind] += size
        if entry is None or not info.compute_flop:
            return
        shaped = [_shape(a) for a in args]
        kw = {k: _shape(v) for k, v in kwargs.items()}
        out_shape = _out_shape(out)
        try:
            if entry.flop_counter_mode is not None:  # FlopCounterMode counts every dtype
                rec[FCM_FLOP] += entry.flop_counter_mode(*shaped, out_shape=out_shape, **kw)
            if any_complex and entry.complex_factor is None:
                raise NotCountable(f"no FLOP count for {info.name} on complex numbers")
            if any_float or not entry.float_only:
                flop = entry.flop(*shaped, out_shape=out_shape, costs=self.costs, **kw)
                rec[FLOP] += flop * entry.complex_factor if any_complex else flop
        except NotCountable as exc:
            u = self.uncounted.setdefault(info.name, {"calls": 0, "modules": set(),
                                                      "phases": set(), "reason": str(exc)})
            u["calls"] += 1
            u["modules"].add(module)
            u["phases"].add(self.phase)
