"""The counter against ``torch.utils.flop_counter.FlopCounterMode`` on the same run.

:func:`flop_counter_mode_counts` runs a module under ``FlopCounterMode`` exactly as
:func:`~neurocomp.accounting.count` runs it (forward, then the backward pass seeded
with ones into ``torch.autograd.grad``), once per phase, and returns its counts by op and —
for the forward pass — by module. :func:`compare_with_flop_counter_mode` sets a
:class:`~neurocomp.accounting.counting.CountReport` beside them, op by op and module by
module: the column ``flop_counter_mode_rules`` (the counter's reproduction of
``FlopCounterMode``'s rules) must equal ``flop_counter_mode`` exactly on every op either
counts — a check of the reproduction, not of either count; the column ``flop`` (the
library's count) differs where the ground truth
(:mod:`~neurocomp.accounting.truth.zoo`) shows ``FlopCounterMode`` wrong or
silent (:mod:`neurocomp.accounting.counting.formulas`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neurocomp.accounting.counting.count_report import ROOT_LABEL, CountReport
from neurocomp.accounting.counting.counter import as_args, flat_tensors, forward_bytes_estimate
from neurocomp.checks import check_bytes

if TYPE_CHECKING:
    import pandas as pd
    import torch

__all__ = ["FlopCounterModeCounts", "compare_with_flop_counter_mode",
           "flop_counter_mode_counts", "relative_difference"]


@dataclass(frozen=True, kw_only=True)
class FlopCounterModeCounts:
    """``FlopCounterMode``'s numbers for one run.

    Attributes
    ----------
    forward, backward : mapping of str to int
        FLOPs by op name (``"aten.convolution"``) in each phase.
    forward_by_module : mapping of str to int
        Forward FLOPs by module path (``""`` = root), including submodules, as
        ``FlopCounterMode``'s module tracker attributes them.
    """

    forward: Mapping[str, int]
    backward: Mapping[str, int]
    forward_by_module: Mapping[str, int]


def _module_path(fcm_name: str) -> str | None:
    """``"ResNet18.stages.0"`` → ``"stages.0"``; the root's class name → ``""``."""
    if fcm_name == "Global":
        return None
    return fcm_name.split(".", 1)[1] if "." in fcm_name else ""


def flop_counter_mode_counts(module: torch.nn.Module, example_input: Any, *,
                             backward: bool = True,
                             loss: Callable[[Any], torch.Tensor] | None = None,
                             max_bytes: float | None = None) -> FlopCounterModeCounts:
    """Run ``module`` under ``FlopCounterMode`` as :func:`count` does; counts per phase.

    Buffers are restored and the random generator forked afterwards, as in :func:`count`;
    the activations are estimated first and checked against ``max_bytes`` as there.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    args = as_args(example_input)
    inputs = flat_tensors(args)
    if any(t.device.type != "meta" for t in (*inputs, *module.parameters())):
        written = forward_bytes_estimate(module, args)
        if written is not None:
            check_bytes("flop_counter_mode_counts", written * (2 if backward else 1),
                             max_bytes=max_bytes, what="activations",
                             sizes=f"{type(module).__name__} on example_input of shape(s) "
                                   + ", ".join(str(tuple(t.shape)) for t in inputs))
    saved = [(b, b.detach().clone()) for b in module.buffers()]
    try:
        with torch.random.fork_rng(devices=[]), torch.set_grad_enabled(backward):
            with FlopCounterMode(display=False) as fwd:
                out = module(*args)
                if loss is not None:
                    out = loss(out)
            forward = {str(k): int(v) for k, v in fwd.get_flop_counts().get("Global", {}).items()}
            by_module = {}
            for name, ops in fwd.get_flop_counts().items():
                path = _module_path(name)
                if path is not None:
                    by_module[path] = int(sum(ops.values()))
            backward_counts: dict[str, int] = {}
            outs = [t for t in flat_tensors(out) if t.requires_grad and t.is_floating_point()]
            leaves = [p for p in module.parameters() if p.requires_grad]
            leaves += [t for t in inputs if t.requires_grad and t.is_leaf]
            if backward and outs and leaves:
                seeds = [torch.ones_like(t) for t in outs]
                with FlopCounterMode(display=False) as bwd:
                    torch.autograd.grad(outs, leaves, grad_outputs=seeds, allow_unused=True)
                backward_counts = {str(k): int(v)
                                   for k, v in bwd.get_flop_counts().get("Global", {}).items()}
    finally:
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)
    return FlopCounterModeCounts(forward=forward, backward=backward_counts,
                                 forward_by_module=by_module)


def relative_difference(ours: float, reference: float) -> float:
    """``|ours − reference| / reference`` (0 when both are 0, ``inf`` when only ours is)."""
    if reference == 0:
        return 0.0 if ours == 0 else float("inf")
    return abs(ours - reference) / abs(reference)


def compare_with_flop_counter_mode(report: CountReport, reference: FlopCounterModeCounts
                                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Op-by-op and module-by-module comparison of a report with ``FlopCounterMode``.

    Returns
    -------
    (by_op, by_module) : pandas.DataFrame
        ``by_op``: one row per (op, phase) that either side counts, with ``flop`` (the
        library), ``flop_counter_mode_rules`` (the library reproducing FlopCounterMode's
        rules), ``flop_counter_mode`` (FlopCounterMode itself), ``counted_by`` (``"both"``,
        ``"neurocomp only"``, ``"FlopCounterMode only"``) and the relative differences.
        ``by_module``: forward FLOPs per module path, the same three columns.
    """
    import pandas as pd

    ours = report.to_frame("operator")
    rows = []
    for phase, ref in (("forward", reference.forward), ("backward", reference.backward)):
        mine = ours[ours["phase"] == phase].groupby("op")[["flop", "flop_counter_mode_flop"]].sum()
        for op in sorted(set(mine.index) | set(ref)):
            flop = float(mine["flop"].get(op, 0.0))
            rules = int(mine["flop_counter_mode_flop"].get(op, 0))
            fcm = int(ref.get(op, 0))
            if flop == 0 and rules == 0 and fcm == 0:
                continue
            by_fcm, by_us = op in ref, flop > 0 or rules > 0
            counted_by = ("both" if by_fcm and by_us else
                          "FlopCounterMode only" if by_fcm else "neurocomp only")
            rows.append({"op": op, "phase": phase, "flop": flop, "flop_counter_mode_rules": rules,
                         "flop_counter_mode": fcm, "counted_by": counted_by,
                         "rules_rel_diff": relative_difference(rules, fcm) if fcm else 0.0,
                         "flop_rel_diff": relative_difference(flop, fcm) if fcm else float("nan")})
    by_op = pd.DataFrame(rows, columns=["op", "phase", "flop", "flop_counter_mode_rules",
                                        "flop_counter_mode", "counted_by", "rules_rel_diff",
                                        "flop_rel_diff"])
    module_rows = []
    frame = report.to_frame("module").set_index("module")
    for path, fcm in sorted(reference.forward_by_module.items()):
        label = path or ROOT_LABEL
        if label not in frame.index:
            continue
        rules = int(frame.at[label, "forward_flop_counter_mode_flop"])
        module_rows.append({"module": label, "flop": float(frame.at[label, "forward_flop"]),
                            "flop_counter_mode_rules": rules, "flop_counter_mode": fcm,
                            "rules_rel_diff": relative_difference(rules, fcm)})
    by_module = pd.DataFrame(module_rows, columns=["module", "flop", "flop_counter_mode_rules",
                                                   "flop_counter_mode", "rules_rel_diff"])
    return by_op, by_module
