"""The registry: one :class:`~neurocomp.accounting.counting.formulas.OpFormula` per aten op name.

The counter (:func:`neurocomp.accounting.count`) looks every aten op it sees up
here by its overload-packet name (``"aten.convolution"``; in-place and ``out=`` overloads
share the entry). An op with no entry is *uncounted*: the report lists it with the modules
that called it, instead of silently counting 0. Users add formulas for their own ops with
``count(..., extra_formulas=...)`` (no global state is changed).

The ops ``FlopCounterMode`` counts carry its rule in ``flop_counter_mode``; every other op
is one that only this library counts. Views (``view``, ``t``, ``select`` …) have no FLOPs and
move no bytes; copies, fills and gathers have no FLOPs and move bytes.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from types import MappingProxyType

from neurocomp.accounting.counting import conv_formulas as C
from neurocomp.accounting.counting import formulas as F
from neurocomp.accounting.counting import pointwise_formulas as P
from neurocomp.accounting.counting import pooling_formulas as Q
from neurocomp.accounting.counting.formulas import OpFormula

__all__ = [
    "FLOP_COUNTER_MODE_OPS",
    "REGISTRY",
    "UnknownOpError",
    "op_formula",
    "registry_with",
]


class UnknownOpError(ValueError):
    """An op name the registry has no formula for (the message suggests close names)."""


def _core() -> list[OpFormula]:
    mm = [OpFormula("aten.mm", "matmul", F.mm_flop, F.mm_flop),
          OpFormula("aten.addmm", "matmul", F.addmm_flop, F.addmm_flop),
          OpFormula("aten.bmm", "matmul", F.bmm_flop, F.bmm_flop),
          OpFormula("aten.baddbmm", "matmul", F.baddbmm_flop, F.baddbmm_flop),
          OpFormula("aten._scaled_mm", "matmul", F.scaled_mm_flop, F.scaled_mm_flop),
          # matrix products FlopCounterMode does not list (it counts them as 0)
          OpFormula("aten.mv", "matmul", F.mv_flop),
          OpFormula("aten.addmv", "matmul", F.addmv_flop),
          OpFormula("aten.dot", "matmul", F.dot_flop),
          OpFormula("aten.vdot", "matmul", F.dot_flop),
          OpFormula("aten.addbmm", "matmul", F.addbmm_flop),
          OpFormula("aten.addr", "matmul", F.addr_flop),
          OpFormula("aten._addmm_activation", "matmul",
                    lambda b, a, w, *r, out_shape, costs, **k: F.addmm_flop(b, a, w)
                    + F.numel(F.first_shape(out_shape)) * costs.comparison_flop)]
    conv = [OpFormula(f"aten.{name}", "convolution", C.convolution_flop,
                      C.convolution_flop_counter_mode)
            for name in ("convolution", "_convolution", "convolution_overrideable")]
    conv += [OpFormula("aten.cudnn_convolution", "convolution", C.slow_conv2d_flop,
                       C.convolution_flop_counter_mode),
             OpFormula("aten._slow_conv2d_forward", "convolution", C.slow_conv2d_flop,
                       C.slow_conv2d_flop),
             OpFormula("aten.convolution_backward", "convolution", C.convolution_backward_flop,
                       C.convolution_backward_flop_counter_mode)]
    fwd_rule, bwd_rule = F.attention_flop_counter_mode, F.attention_backward_flop_counter_mode
    attention = [
        # the fused kernels: (argument index after q, k, v of the additive mask, or None)
        OpFormula("aten._scaled_dot_product_efficient_attention", "attention",
                  F.attention(backward=False, mask_at=0), fwd_rule),
        OpFormula("aten._scaled_dot_product_flash_attention", "attention",
                  F.attention(backward=False), fwd_rule),
        OpFormula("aten._scaled_dot_product_cudnn_attention", "attention",
                  F.attention(backward=False, mask_at=0), fwd_rule),
        OpFormula("aten._scaled_dot_product_efficient_attention_backward", "attention",
                  F.attention(backward=True, mask_at=0), bwd_rule),
        OpFormula("aten._scaled_dot_product_flash_attention_backward", "attention",
                  F.attention(backward=True), bwd_rule),
        OpFormula("aten._scaled_dot_product_cudnn_attention_backward", "attention",
                  F.attention(backward=True, mask_at=4), bwd_rule),
        # the low-level kernels take (batch, seq, heads, dim); FlopCounterMode reads them as
        # (batch, heads, seq, dim), the library transposes
        OpFormula("aten._flash_attention_forward", "attention",
                  F.attention(backward=False, layout="bshd", nested_at=0),
                  F.flash_attention_flop),
        OpFormula("aten._efficient_attention_forward", "attention",
                  F.attention(backward=False, mask_at=0, layout="bshd", nested_at=1),
                  F.efficient_attention_flop),
        OpFormula("aten._flash_attention_backward", "attention",
                  F.attention(backward=True, layout="bshd", nested_at=2),
                  F.flash_attention_backward_flop),
        OpFormula("aten._efficient_attention_backward", "attention",
                  F.attention(backward=True, mask_at=0, layout="bshd", nested_at=2),
                  F.efficient_attention_backward_flop),
        # the CPU kernel of scaled_dot_product_attention, which FlopCounterMode does not list
        OpFormula("aten._scaled_dot_product_flash_attention_for_cpu", "attention",
                  F.attention(backward=False)),
        OpFormula("aten._scaled_dot_product_flash_attention_for_cpu_backward", "attention",
                  F.attention(backward=True)),
    ]
    # recurrent layers on the CPU (oneDNN), which FlopCounterMode does not list
    recurrent = [OpFormula("aten.mkldnn_rnn_layer", "matmul", F.mkldnn_rnn_layer_flop),
                 OpFormula("aten.mkldnn_rnn_layer_backward", "matmul",
                           F.mkldnn_rnn_layer_backward_flop)]
    fft = [OpFormula("aten._fft_r2c", "fft", F.fft_r2c_flop, complex_factor=1.0),
           OpFormula("aten._fft_c2r", "fft", F.fft_c2r_flop, complex_factor=1.0),
           OpFormula("aten._fft_c2c", "fft", F.fft_c2c_flop, complex_factor=1.0)]
    return [dataclasses.replace(e, complex_factor=4.0) for e in mm + conv + attention
            ] + recurrent + fft


#: Real FLOPs per FLOP of element-wise ops on complex numbers: (a+bi)(c+di) takes 4
#: multiplies and 2 adds, a complex add 2 adds, a division 6 multiplies, 3 adds, 2 divisions.
_COMPLEX_FACTORS = {"mul": 6.0, "add": 2.0, "sub": 2.0, "rsub": 2.0, "neg": 2.0, "div": 11.0,
                    "sum": 2.0, "mean": 2.0, "cumsum": 2.0}


def _tables() -> list[OpFormula]:
    entries = []
    for kind, table in (("pointwise", P.pointwise_formulas()),
                        ("reduction", P.reduction_formulas()),
                        ("pooling", Q.pooling_formulas()),
                        ("normalization", Q.normalization_formulas())):
        entries += [OpFormula(f"aten.{name}", kind, fn,
                              complex_factor=_COMPLEX_FACTORS.get(name.rstrip("_")))
                    for name, fn in table.items()]
    entries += [OpFormula(f"aten.{name}", "view", P.zero_flop, float_only=False,
                          complex_factor=1.0) for name in P.VIEW_OPS]
    entries += [OpFormula(f"aten.{name}", "data movement", P.zero_flop, float_only=False,
                          complex_factor=1.0) for name in P.DATA_MOVEMENT_OPS]
    entries += [OpFormula(f"aten.{name}", "random", P.random_flop, float_only=False)
                for name in P.RANDOM_OPS]
    entries.append(OpFormula("aten.native_dropout", "random", P.native_dropout_flop))
    entries.append(OpFormula("aten.native_dropout_backward", "pointwise",
                             P.pointwise_formulas()["mul"]))
    return entries


def _build(entries: list[OpFormula]) -> dict[str, OpFormula]:
    table: dict[str, OpFormula] = {}
    for entry in entries:
        if entry.op in table and table[entry.op].kind in F.FLOP_COUNTER_MODE_KINDS:
            continue  # the matrix/convolution entries win over generic tables
        table[entry.op] = entry
    return table


#: Every op the library can count, by name (read-only).
REGISTRY: Mapping[str, OpFormula] = MappingProxyType(_build(_core() + _tables()))

#: Names of the ops ``FlopCounterMode`` counts (its registry, torch 2.13).
FLOP_COUNTER_MODE_OPS: frozenset[str] = frozenset(
    name for name, entry in REGISTRY.items() if entry.flop_counter_mode is not None)


def op_formula(name: str, *, registry: Mapping[str, OpFormula] = REGISTRY) -> OpFormula:
    """The formula of one op, by its aten name (``"aten.convolution"``).

    Raises
    ------
    UnknownOpError
        For a name without a formula; the message suggests the closest known names.
    """
    if not isinstance(name, str):
        raise TypeError(f"op name must be a string like 'aten.mm'; got {type(name).__name__}")
    try:
        return registry[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownOpError(f"no FLOP formula for op {name!r} ({len(registry)} ops are "
                             f"known){hint}") from None


def registry_with(extra: Mapping[str, OpFormula] | None) -> Mapping[str, OpFormula]:
    """The registry with ``extra`` formulas added or replacing entries (checked)."""
    if not extra:
        return REGISTRY
    table = dict(REGISTRY)
    for name, entry in extra.items():
        if not isinstance(entry, OpFormula):
            raise TypeError(f"extra_formulas[{name!r}] must be an OpFormula; got "
                            f"{type(entry).__name__}")
        if entry.op != name:
            raise ValueError(f"extra_formulas key {name!r} differs from its formula's op "
                             f"{entry.op!r}")
        table[name] = entry
    return MappingProxyType(table)
