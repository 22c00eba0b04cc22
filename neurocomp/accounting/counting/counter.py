r"""Count a PyTorch module's FLOPs, bytes and parameters, forward and backward, per module.

:func:`count` traces the module once on example inputs or input shapes (and its backward
pass) under a ``TorchDispatchMode`` that sees every aten op — the design of
``torch.utils.flop_counter.FlopCounterMode`` and fvcore: a registry of per-op formulas
(:mod:`neurocomp.accounting.counting.op_registry`), ops attributed to the innermost module running
(in backward: the module whose forward created the autograd node being executed), and a
list of the ops it could not count. The result is a frozen :class:`CountReport`:

* per (module, op, phase) records (:class:`OpCount`) with the library's FLOPs and, beside
  them, what ``FlopCounterMode`` counts for the same op
  (:mod:`~neurocomp.accounting.counting.formulas` explains the two deliberate differences,
  both in ``convolution_backward``);
* per-module totals, inclusive of submodules (:meth:`CountReport.module`,
  :meth:`CountReport.to_frame`), with parameter counts, output shapes, bytes read and
  written by kind (parameters, activations, gradients) at ``dtype_bytes`` per element, and
  arithmetic intensity; :meth:`CountReport.summary` prints them as a table;
* :meth:`CountReport.layer_costs`: :class:`~neurocomp.accounting.LayerCost`
  rows for the parallel step-time models.

Bytes are op-level traffic: every op reads its tensor arguments and writes its results once
(views move nothing). That is the traffic of an unfused execution with no cache reuse — the
usual roofline input (``docs/references.md#anchors-accounting-1-4``, Paleo) — not a measurement.

**Where it runs.** By default (``device="meta"``) nothing is computed: parameters, buffers
and inputs are replaced, for the count only, by fake tensors on the ``meta`` device that
report the device of the tensors they stand for (:mod:`~neurocomp.accounting.counting._meta`),
so the same kernels are chosen and the counts equal those of a real run op for op, at a
fraction of its time and no memory — any model size counts on a laptop. A model that cannot
run there (an output shape or a branch that depends on tensor values: ``nonzero`` of an
input, ``.item()``) is run on real tensors instead, with a :class:`MetaFallbackWarning`
naming the module (``fallback=False``: an :class:`UntraceableModuleError` naming it).
``device="real"`` runs the real tensors from the start. A module and inputs already on the
``meta`` device are counted as they are.

Sizes are checked before real work: the forward pass is first run on the ``meta`` device
(shapes only) to add up the bytes its ops would write; beyond ``max_bytes`` (8 GiB by
default) a real count refuses before touching real memory.

**Never a silent zero.** Ops without a formula are listed in ``report.uncounted``, the report
says its FLOPs are a lower bound (:attr:`CountReport.is_lower_bound`), and one
:class:`UncountedOpWarning` per count names the ops and modules (``strict=True``: an
:class:`UncountedOpError` instead).

Side effects: none on the module. Gradients go to ``torch.autograd.grad`` (``.grad`` is
untouched), buffers (batch-norm running statistics) are restored after a real run (a meta
run never touches them), and the global random generator is forked. FLOP convention:
:data:`~neurocomp.accounting.FLOP_CONVENTION`.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from neurocomp.accounting.counting.count_errors import (
    MetaFallbackWarning,
    UncountedOpError,
    UncountedOpWarning,
    UntraceableModuleError,
)
from neurocomp.accounting.counting.count_report import (
    LOSS_MODULE,
    ROOT_LABEL,
    CountReport,
    ModuleInfo,
    OpCount,
    UncountedOp,
)
from neurocomp.accounting.counting.formulas import OpFormula
from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts
from neurocomp.checks import check_bytes, check_choice, check_real

if TYPE_CHECKING:  # torch is imported inside count(), so importing accounting stays light
    import torch

__all__ = ["DEVICES", "as_args", "count", "flat_tensors", "forward_bytes_estimate"]

#: Where :func:`count` runs the model: ``"meta"`` (fake tensors, nothing computed) or
#: ``"real"`` (the module's own tensors).
DEVICES = ("meta", "real")

# -- counting --------------------------------------------------------------------------------

def as_args(example_input: Any) -> tuple[Any, ...]:
    """The positional arguments of a call from ``example_input`` (as :func:`count` takes it).

    Parameters
    ----------
    example_input : torch.Tensor or tuple or list
        One tensor, or the arguments of ``module(*args)``, at least one of them a tensor.

    Returns
    -------
    tuple
        ``(example_input,)`` for a single value, ``tuple(example_input)`` for a sequence.

    Raises
    ------
    TypeError
        If no argument is a tensor.
    """
    import torch

    args = tuple(example_input) if isinstance(example_input, list | tuple) else (example_input,)
    if not any(isinstance(a, torch.Tensor) for a in args):
        raise TypeError(f"example_input must be a tensor or a tuple of arguments holding at "
                        f"least one tensor; got {type(example_input).__name__}")
    return args


def flat_tensors(value: Any) -> list[torch.Tensor]:
    """Every tensor in ``value``, depth first: a tensor, or mappings, lists and tuples of
    them (anything else holds none)."""
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in flat_tensors(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in flat_tensors(v)]
    return []


def forward_bytes_estimate(module: torch.nn.Module, args: tuple[Any, ...]) -> int | None:
    """Bytes the ops of ``module(*args)`` write, from a run on the ``meta`` device.

    Parameters, buffers and tensor arguments are replaced by ``meta`` tensors of the same
    shapes (:func:`torch.func.functional_call`), so nothing is allocated or computed.
    ``None`` if the module cannot run on ``meta`` (data-dependent shapes, ``.item()``).
    """
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten, tree_map

    class _Written(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
            out = func(*args, **(kwargs or {}))
            self.total += sum(t.numel() * t.element_size() for t in tree_flatten(out)[0]
                              if isinstance(t, torch.Tensor))
            return out

    def meta(t: Any) -> Any:
        return torch.empty_like(t, device="meta") if isinstance(t, torch.Tensor) else t

    state = {k: meta(v) for k, v in itertools.chain(module.named_parameters(),
                                                     module.named_buffers())}
    try:
        with torch.no_grad(), _Written() as written:
            torch.func.functional_call(module, state, tree_map(meta, args))
    except Exception:  # any failure means no estimate, not a failed count
        return None
    return written.total


def count(module: torch.nn.Module, example_input: Any = None, *,
          input_shape: Any = None, dtype: Any = None, device: str = "meta",
          fallback: bool = True, strict: bool = False, backward: bool = True,
          dtype_bytes: float | None = 4, costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS,
          loss: Callable[[Any], torch.Tensor] | None = None, batch_size: int | None = None,
          extra_formulas: Mapping[str, OpFormula] | None = None,
          max_bytes: float | None = None) -> CountReport:
    """Count FLOPs, bytes and parameters of ``module(*inputs)``, per module.

    Parameters
    ----------
    module : torch.nn.Module
        The model, in the mode (train/eval) and on the device it should be counted in.
    example_input : tensor or tuple, optional
        The positional arguments of one call (a tensor for a single argument). Give this or
        ``input_shape``.
    input_shape : tuple of int or torch.Size, or a tuple of them, optional
        The shape of the one tensor argument — ``(8, 3, 224, 224)``, batch first — or of
        each tensor argument; every dimension >= 1.
    dtype : torch.dtype or tuple of torch.dtype, optional
        The dtype of the ``input_shape`` tensors (default: the module's floating dtype).
    device : {"meta", "real"}
        ``"meta"`` (default): count without computing, on fake tensors of the same shapes
        and dtypes (module docstring); ``"real"``: run the module's own tensors.
    fallback : bool
        With ``device="meta"``: run real tensors, with a :class:`MetaFallbackWarning`
        naming the module, when the model cannot run on meta (``False``: raise).
    strict : bool
        Raise :class:`UncountedOpError` for ops without a formula instead of warning.
    backward : bool
        Also count the backward pass: gradients of every trainable parameter (and of inputs
        that require grad), seeded with ones — the gradient of the sum of the outputs —
        unless ``loss`` is given.
    dtype_bytes : float or None
        Bytes per floating-point element for the byte counts (4 = float32, 2 = bf16);
        ``None`` uses each tensor's own element size. Integer tensors always use theirs.
    costs : ScalarOpCosts
        FLOPs per division, square root, transcendental, comparison and random draw.
    loss : callable, optional
        ``loss(output) -> scalar``; its ops are counted under the module ``"(loss)"``.
    batch_size : int, optional
        Samples in the input (default: the first dimension of the first tensor argument).
    extra_formulas : mapping of str to OpFormula, optional
        Formulas for ops the registry lacks (custom ops), or replacements.
    max_bytes : float or None
        Refuse (``ValueError``) a real count whose forward pass would write more than this,
        bytes, twice that with ``backward`` (``None``: 8 GiB); estimated on the ``meta``
        device first. A meta count allocates nothing and is not limited.

    Returns
    -------
    CountReport

    Raises
    ------
    UntraceableModuleError
        If a module returns a tensor no traced op produced (numpy inside the forward, an
        extension bypassing the dispatcher), uses a higher-order operator, fails while
        being counted (shapes that do not fit: the message names the module and the shapes
        it was called with), or cannot run on meta with ``fallback=False``.
    UncountedOpError
        With ``strict=True``, for ops without a formula (named, with their modules).
    TypeError, ValueError
        For a module that is not an ``nn.Module``, bad inputs or options (the message
        names the argument, its value and what is allowed).

    Warns
    -----
    UncountedOpWarning
        Ops without a formula: the FLOP totals are lower bounds (without ``strict``).
    MetaFallbackWarning
        The model was counted on real tensors because it cannot run on meta.
    """
    import torch

    from neurocomp.accounting.counting._count_inputs import batch_size_of, resolve_args
    from neurocomp.accounting.counting.op_registry import registry_with

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    check_choice("device", device, DEVICES)
    args, from_shape = resolve_args(module, example_input, input_shape, dtype)
    if dtype_bytes is not None:
        dtype_bytes = check_real("dtype_bytes", dtype_bytes, low=0.0, low_inclusive=False,
                                 high=64.0, unit="B")
    if not isinstance(costs, ScalarOpCosts):
        raise TypeError(f"costs must be a ScalarOpCosts; got {type(costs).__name__}")
    if loss is not None and not callable(loss):
        raise TypeError("loss must be callable (output -> scalar tensor) or None")
    options = {"registry": registry_with(extra_formulas), "costs": costs, "loss": loss,
               "dtype_bytes": dtype_bytes, "backward": backward,
               "batch_size": batch_size_of(flat_tensors(args), batch_size)}
    state = (*flat_tensors(args), *module.parameters(), *module.buffers())
    if not from_shape and all(t.device.type == "meta" for t in state):
        report = _traced(module, args, counted_on="meta", **options)  # as given
    elif device == "meta":
        report = _count_on_meta(module, args, fallback=fallback, max_bytes=max_bytes,
                                options=options)
    else:
        report = _count_real(module, args, max_bytes=max_bytes, options=options)
    _check_uncounted(report, strict=strict)
    return report


def _count_real(module, args, *, max_bytes, options) -> CountReport:
    """Run the module's own tensors (``meta`` inputs made real first), sizes checked."""
    from neurocomp.accounting.counting._count_inputs import materialize, shapes_text
    from neurocomp.accounting.counting._meta import module_device

    args = materialize(args, module_device(module))
    written = forward_bytes_estimate(module, args)
    if written is not None:
        backward = options["backward"]
        check_bytes("count", written * (2 if backward else 1), max_bytes=max_bytes,
                    what="activations (forward" + (" and backward)" if backward else ")"),
                    sizes=f"{type(module).__name__} on example_input of shape "
                          f"{shapes_text(flat_tensors(args))}")
    return _traced(module, args, counted_on="real", **options)


def _count_on_meta(module, args, *, fallback, max_bytes, options) -> CountReport:
    """Count on fake tensors; if the model cannot run there, on real ones (or raise)."""
    from neurocomp.accounting.counting._meta import meta_failure, meta_run

    try:
        with meta_run(module, args) as (fake_args, folder):
            return _traced(module, fake_args, counted_on="meta", run_op=folder, **options)
    except Exception as exc:
        why = meta_failure(exc)
        if why is None:
            raise
        where = getattr(exc, "module", ROOT_LABEL) or ROOT_LABEL
        label = f"module {where!r} of {type(module).__name__}"
        if not fallback:
            raise UntraceableModuleError(
                f"{label} cannot be counted on the meta device ({why}): a shape or value "
                f"depends on tensor data; pass device='real' (or fallback=True) to count it "
                f"by running real tensors", module=where) from exc
    report = _count_real(module, args, max_bytes=max_bytes, options=options)
    warnings.warn(MetaFallbackWarning(
        f"count: {label} cannot run on the meta device ({why}); counted by running real "
        f"tensors instead (pass device='real' to skip the meta attempt, or fallback=False "
        f"to raise)"), stacklevel=3)
    return report


def _check_uncounted(report: CountReport, *, strict: bool) -> None:
    """One warning (or, ``strict``, an error) naming the ops without a formula."""
    if not report.uncounted:
        return
    from neurocomp.accounting.counting.count_summary import uncounted_text

    text = uncounted_text(report)
    if strict:
        raise UncountedOpError(f"count({report.model}, strict=True): {text}",
                               ops=tuple(u.op for u in report.uncounted))
    warnings.warn(UncountedOpWarning(
        f"count({report.model}): {text}; its FLOP totals are lower bounds (pass "
        f"strict=True to raise)"), stacklevel=3)


def _traced(module, args, *, registry, costs, dtype_bytes, backward, loss, batch_size,
            counted_on, run_op=None) -> CountReport:
    """One traced run (forward, then backward) and its report."""
    import torch

    from neurocomp.accounting.counting._tracer import Trace

    inputs = flat_tensors(args)
    trace = Trace(module, registry=registry, costs=costs, dtype_bytes=dtype_bytes,
                  run_op=run_op)
    loss_index = len(trace.names)
    trace.names.append(LOSS_MODULE)
    trace.module_types.append("loss")
    for lst in (trace.calls, trace.first_call, trace.in_elements, trace.out_elements):
        lst.append(0)
    trace.register_inputs(inputs)
    real = run_op is None and counted_on == "real"
    saved = [(b, b.detach().clone()) for b in module.buffers()] if real else []
    devices = sorted({t.device.index or 0 for t in (*inputs, *module.parameters())
                      if t.device.type == "cuda"}) if real else []
    try:
        with torch.random.fork_rng(devices=devices), torch.set_grad_enabled(backward):
            outputs = _forward(module, args, trace, loss, loss_index, UntraceableModuleError)
            if backward:
                _backward(module, inputs, outputs, trace, UntraceableModuleError)
    finally:
        trace.hooks_off()
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)
    return _report(module, trace, batch_size=batch_size, backward=backward,
                   dtype_bytes=dtype_bytes, costs=costs, counted_on=counted_on)


def _forward(module, args, trace, loss, loss_index, error_type) -> list:
    trace.hooks_on()
    try:
        with trace:
            out = module(*args)
            if loss is not None:
                trace.stack.append(loss_index)
                out = loss(out)
                trace.stack.pop()
    except error_type:
        raise
    except Exception as exc:
        i = trace.stack[-1]
        name = trace.names[i] or ROOT_LABEL
        from neurocomp.accounting.counting._count_inputs import shapes_text

        called = (f" called with input shape(s) {shapes_text(trace.arg_shapes[-1])}"
                  if 1 < len(trace.stack) == len(trace.arg_shapes) else "")
        given = shapes_text(flat_tensors(args))
        raise error_type(f"counting failed inside module {name!r} ({trace.module_types[i]})"
                         f"{called}, model input shape(s) {given}: "
                         f"{type(exc).__name__}: {exc}", module=name) from exc
    finally:
        trace.hooks_off()
    return [t for t in flat_tensors(out) if t.requires_grad and t.is_floating_point()]


def _backward(module, inputs, outputs, trace, error_type) -> None:
    import torch

    from neurocomp.accounting.counting._tracer import GRADIENT

    leaves = [p for p in module.parameters() if p.requires_grad]
    leaves += [t for t in inputs if t.requires_grad and t.is_leaf]
    if not outputs or not leaves:
        return
    seeds = [torch.ones_like(t) for t in outputs]
    trace.register_inputs(seeds, kind=GRADIENT)  # ∂L/∂output: the first gradient read
    trace.start_backward()
    try:
        with trace:
            torch.autograd.grad(outputs, leaves, grad_outputs=seeds, allow_unused=True)
    except error_type:
        raise
    except Exception as exc:
        raise error_type(f"counting the backward pass failed: {type(exc).__name__}: {exc}",
                         module=ROOT_LABEL) from exc


def _report(module, trace, *, batch_size, backward, dtype_bytes, costs,
            counted_on) -> CountReport:
    from neurocomp.accounting.counting._tracer import CALLS, FCM_FLOP, FLOP, READ, WRITTEN
    from neurocomp.accounting.counting.count_report import PHASES as phases

    registry = trace.registry
    ops = []
    for (i, op, phase), rec in sorted(trace.records.items(),
                                      key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
        entry = registry.get(op)
        ops.append(OpCount(
            module=trace.names[i], op=op, phase=phases[phase],
            kind=entry.kind if entry is not None else "uncounted", calls=int(rec[CALLS]),
            flop=float(rec[FLOP]), flop_counter_mode_flop=int(rec[FCM_FLOP]),
            read_parameter_bytes=rec[READ], read_activation_bytes=rec[READ + 1],
            read_gradient_bytes=rec[READ + 2], written_parameter_bytes=rec[WRITTEN],
            written_activation_bytes=rec[WRITTEN + 1], written_gradient_bytes=rec[WRITTEN + 2]))
    infos = []
    for i, (name, sub) in enumerate(module.named_modules()):
        params = list(sub.parameters())
        infos.append(ModuleInfo(
            name=name, type=type(sub).__name__, depth=0 if not name else name.count(".") + 1,
            is_leaf=not any(True for _ in sub.children()),
            parameters=sum(p.numel() for p in params),
            trainable_parameters=sum(p.numel() for p in params if p.requires_grad),
            own_trainable_parameters=sum(p.numel() for p in sub.parameters(recurse=False)
                                         if p.requires_grad),
            calls=trace.calls[i], first_call=trace.first_call[i],
            input_elements=trace.in_elements[i], output_elements=trace.out_elements[i],
            output_shape=trace.out_shapes.get(i)))
    uncounted = tuple(
        UncountedOp(op=op, calls=u["calls"],
                    modules=tuple(sorted({trace.names[i] or ROOT_LABEL for i in u["modules"]})),
                    phases=tuple(phases[p] for p in sorted(u["phases"])), reason=u["reason"])
        for op, u in sorted(trace.uncounted.items()))
    return CountReport(model=type(module).__name__, ops=tuple(ops), modules=tuple(infos),
                       uncounted=uncounted, batch_size=batch_size, backward=backward,
                       training=module.training, dtype_bytes=dtype_bytes, costs=costs,
                       counted_on=counted_on)
