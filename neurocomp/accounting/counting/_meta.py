"""Counting without running: the model's tensors replaced by fake ones on the ``meta`` device.

:func:`meta_run` puts, for the duration of one count, a *fake* tensor
(``torch._subclasses.FakeTensor``: storage on the ``meta`` device, so no memory and no
arithmetic) in place of every parameter, buffer and input of the module
(``torch.nn.utils.stateless``, the mechanism of ``torch.func.functional_call``: the module
object, its submodules, hooks and training mode stay as they are and nothing is left on it
afterwards). A fake tensor reports the device of the tensor it stands for, so every kernel
chosen by device — the CPU attention kernel, the batch-norm path — is the one a real run
takes, and the counter sees the same ops with the same shapes: the same counts.

Tensors the module makes itself (``torch.arange``, literals) or holds outside its state
are real; values computed from them alone are *constants*: :class:`ConstantFolder` computes
them for real beside their fake tensors (up to :data:`FOLD_LIMIT` elements per op), so a
module that builds index tensors from its shapes — ``nonzero`` of a band mask — still runs
on meta. An op whose output shape or value depends on values the count does not have (the
inputs', the parameters') cannot: :func:`meta_failure` recognises those failures, and
``count`` then runs the real tensors (or raises).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import torch
from torch._subclasses.fake_tensor import (
    DataDependentOutputException,
    DynamicOutputShapeException,
    FakeTensor,
    FakeTensorMode,
    UnsupportedFakeTensorException,
    UnsupportedMutationAliasingException,
    UnsupportedOperatorException,
)
from torch.nn.utils.stateless import _reparametrize_module
from torch.utils._mode_utils import no_dispatch
from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten
from torch.utils.weak import WeakIdKeyDictionary

__all__ = ["FOLD_LIMIT", "ConstantFolder", "meta_failure", "meta_run", "module_device"]

#: Largest op output, elements, whose value the meta run computes when it is a constant.
FOLD_LIMIT = 1 << 20

#: Failures of fake tensors that a run on real tensors does not have.
_META_ONLY = (DynamicOutputShapeException, DataDependentOutputException,
              UnsupportedOperatorException, UnsupportedFakeTensorException,
              UnsupportedMutationAliasingException, NotImplementedError)
_DATA_DEPENDENT = (DynamicOutputShapeException, DataDependentOutputException)
_META_WORDS = ("meta", "fake", "data-dependent", "data dependent", "data pointer",
               "data_ptr", "numpy")


def module_device(module: torch.nn.Module) -> torch.device:
    """The device of the module's first parameter or buffer (the CPU without any)."""
    for t in (*module.parameters(), *module.buffers()):
        return t.device
    return torch.device("cpu")


def meta_failure(exc: BaseException) -> str | None:
    """Why ``exc`` (or an exception that caused it) is a failure of the meta run alone —
    ``"DynamicOutputShapeException: aten.nonzero.default"`` — or ``None`` if a run on real
    tensors would fail the same way (a shape mismatch, say)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        text = str(e).lower()
        if isinstance(e, _META_ONLY) or (
                e is not exc and any(word in text for word in _META_WORDS)):
            return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".strip()
        e = e.__cause__ or e.__context__
    return None


def _fake_of(mode: FakeTensorMode, t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A fake tensor standing for ``t`` (same shape, strides, dtype, ``requires_grad``), on
    ``t``'s device — or, for a ``meta`` tensor (from an input shape), on ``device``."""
    plain = (type(t) in (torch.Tensor, torch.nn.Parameter) and t.layout == torch.strided
             and not t.is_quantized and (t.is_leaf or not t.requires_grad))
    if not plain:  # subclasses, sparse, views with autograd history: torch's converter
        return mode.from_tensor(t)
    with no_dispatch():
        meta = torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")
    on = device if t.device.type == "meta" else t.device
    fake = mode.fake_tensor_converter.from_meta_and_device(mode, meta, on)
    return fake.requires_grad_(t.requires_grad) if t.requires_grad else fake


def _fake_state(module: torch.nn.Module, mode: FakeTensorMode,
                device: torch.device) -> dict[str, torch.Tensor]:
    """Fake parameters (``nn.Parameter``, same ``requires_grad``) and buffers by name, tied
    ones (shared objects) kept shared."""
    state: dict[str, torch.Tensor] = {}
    made: dict[int, torch.Tensor] = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        if id(p) not in made:
            made[id(p)] = torch.nn.Parameter(_fake_of(mode, p.detach(), device),
                                              requires_grad=p.requires_grad)
        state[name] = made[id(p)]
    for name, b in module.named_buffers(remove_duplicate=False):
        if id(b) not in made:
            made[id(b)] = _fake_of(mode, b, device)
        state[name] = made[id(b)]
    return state


@contextlib.contextmanager
def meta_run(module: torch.nn.Module, args: tuple[Any, ...]
             ) -> Iterator[tuple[tuple[Any, ...], ConstantFolder]]:
    """Inside: the module's parameters and buffers are fake and ``FakeTensorMode`` is
    active; yields the fake arguments and the constant folder for the tracer."""
    mode = FakeTensorMode(allow_non_fake_inputs=True, allow_fallback_kernels=False)
    device = module_device(module)
    state = _fake_state(module, mode, device)
    fake_args = tree_map(
        lambda a: _fake_of(mode, a, device) if isinstance(a, torch.Tensor) else a, args)
    log = logging.getLogger("torch._subclasses.fake_tensor")
    level = log.level  # it logs every failed meta kernel with a traceback; count raises
    log.setLevel(logging.CRITICAL)
    try:
        with _reparametrize_module(module, state, tie_weights=True, strict=False), mode:
            yield fake_args, ConstantFolder(mode)
    finally:
        log.setLevel(level)


def _numel(out: Any) -> int:
    return sum(t.numel() for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor))


class ConstantFolder:
    """Computes ops on fake tensors, and for real those whose inputs are all constants.

    A tensor is a constant if it is real (made outside the fake run: a literal, a tensor
    the module holds) or a fake tensor the folder computed a real value for and that no op
    has since overwritten with non-constant data. Call it as ``folder(func, args,
    kwargs)`` in place of ``func(*args, **kwargs)``.
    """

    def __init__(self, mode: FakeTensorMode, limit: int = FOLD_LIMIT) -> None:
        self.mode = mode
        self.limit = limit
        self.real: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self.overwritten: set[int] = set()  # storages written with non-constant data
        self._writes: dict[Any, tuple[tuple[int, str], ...]] = {}

    def _value(self, t: torch.Tensor) -> torch.Tensor | None:
        if not isinstance(t, FakeTensor):
            return t
        if t.untyped_storage()._cdata in self.overwritten:
            return None
        return self.real.get(t)

    def _written(self, func: Any) -> tuple[tuple[int, str], ...]:
        """(position, name) of the arguments ``func`` writes to (in-place, ``out=``)."""
        if func not in self._writes:
            self._writes[func] = tuple(
                (i, a.name) for i, a in enumerate(func._schema.arguments)
                if a.alias_info is not None and a.alias_info.is_write)
        return self._writes[func]

    def __call__(self, func: Any, args: tuple, kwargs: dict) -> Any:
        flat, spec = tree_flatten((args, kwargs))
        values = [self._value(a) if isinstance(a, torch.Tensor) else a for a in flat]
        constant = not any(v is None and isinstance(a, torch.Tensor)
                           for a, v in zip(flat, values, strict=True))
        if not constant:
            out = func(*args, **kwargs)
            self._forget_writes(func, args, kwargs)
            return out
        try:
            out = func(*args, **kwargs)
        except _DATA_DEPENDENT as exc:
            try:
                real_out = self._compute(func, values, spec)
            except Exception:
                raise exc from None
            return tree_map(lambda r: self._fake(r, flat), real_out)
        if _numel(out) <= self.limit:
            try:
                real_out = self._compute(func, values, spec)
            except Exception:  # the values stay unknown; the fake result is the count's
                return out
            fakes, reals = tree_flatten(out)[0], tree_flatten(real_out)[0]
            for f, r in zip(fakes, reals, strict=False):
                if isinstance(f, FakeTensor) and isinstance(r, torch.Tensor):
                    self.real[f] = r
                    if not func.is_view:
                        self.overwritten.discard(f.untyped_storage()._cdata)
        return out

    def _forget_writes(self, func: Any, args: tuple, kwargs: dict) -> None:
        """An op with non-constant inputs overwrote its mutable arguments."""
        written = [args[i] if i < len(args) else kwargs.get(name)
                   for i, name in self._written(func)]
        for t in tree_flatten(written)[0]:
            if isinstance(t, FakeTensor):
                self.overwritten.add(t.untyped_storage()._cdata)

    @staticmethod
    def _compute(func: Any, values: list[Any], spec: Any) -> Any:
        """The op on the real values (on the CPU), outside every dispatch mode."""
        cpu = torch.device("cpu")
        real = [cpu if isinstance(v, torch.device) else v for v in values]
        r_args, r_kwargs = tree_unflatten(real, spec)
        with no_dispatch(), torch.no_grad():
            return func(*r_args, **r_kwargs)

    def _fake(self, real: Any, flat: list[Any]) -> Any:
        """A fake tensor for a real result whose shape only the real run could tell."""
        if not isinstance(real, torch.Tensor):
            return real  # .item(), .tolist(): the Python number itself
        device = next((a.device for a in flat if isinstance(a, FakeTensor)), real.device)
        with no_dispatch():
            meta = real.to("meta")
        fake = self.mode.fake_tensor_converter.from_meta_and_device(self.mode, meta, device)
        self.real[fake] = real
        return fake
