"""The counter, ``FlopCounterMode`` and the ground truth side by side, op by op and phase by phase.

:func:`ground_truth_table` runs a zoo of small modules — convolutions of every kind, the
matrix-product family, attention (fused and unfused, causal or not), pooling, batch and
layer norm, recurrent layers — and for each phase (forward; input, weight and bias gradient
apart, by making only that tensor require a gradient; or all gradients where one kernel
computes them together) sets three counts beside each other:

* the ground truth (:mod:`~neurocomp.accounting.truth.loops`,
  ``truth.layers``, ``truth.rnn``): the op computed by explicit loops that
  count what they do, its result checked against PyTorch's (``np.allclose``; a mismatch
  raises :class:`GroundTruthError`, so no count of a wrong computation gets into the table);
* the library's count (:func:`~neurocomp.accounting.count`), all ops of the phase;
* ``FlopCounterMode``'s count of the same run, and the library's reproduction of its rules
  (a sanity check of the reproduction only, never a check of the count).

FLOPs of element operations use one :class:`~neurocomp.accounting.scalar_ops.ScalarOpCosts`
for both the ground truth and the library. ``FlopCounterMode`` counts products only, so it is
also compared with the ground truth's products alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts
from neurocomp.accounting.truth.loops import OpCounts

if TYPE_CHECKING:
    import pandas as pd
    import torch

__all__ = ["FAMILIES", "GroundTruthCase", "GroundTruthError", "PhaseCheck", "fcm_verdict",
           "ground_truth_table", "relative_error", "run_case"]

#: The zoo's op families, in table order.
FAMILIES = ("convolution", "matmul", "attention", "pooling", "normalization", "recurrent")
#: Phases: the forward pass, one gradient alone, or every gradient of one kernel together.
PHASES = ("forward", "input grad", "weight grad", "bias grad", "all grads")


class GroundTruthError(AssertionError):
    """The ground truth's result differs from PyTorch's: its count would be of a wrong op."""


@dataclass(frozen=True)
class PhaseCheck:
    """One phase of a case: which tensors need a gradient, and the ground truth's count.

    Parameters
    ----------
    phase : str
        One of ``PHASES``.
    trainable : tuple of str
        Names of the parameters that require a gradient (the others are frozen; ``"*"``:
        all of them).
    input_grad : bool
        Whether the tensor inputs require a gradient.
    truth : OpCounts
        What the ground truth did for this phase.
    """

    phase: str
    trainable: tuple[str, ...]
    input_grad: bool
    truth: OpCounts

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}; got {self.phase!r}")


@dataclass(frozen=True, eq=False)
class GroundTruthCase:
    """A module of the zoo, its inputs, and its phases with their ground truth.

    ``family`` is one of :data:`FAMILIES`; ``ops`` names the aten op(s) the case checks
    (for the table).
    """

    key: str
    label: str
    family: str
    ops: str
    module: torch.nn.Module
    inputs: tuple[torch.Tensor, ...]
    phases: tuple[PhaseCheck, ...]

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}; got {self.family!r}")


def agree(what: str, ours: Any, theirs: Any, *, atol: float = 1e-6) -> None:
    """Raise :class:`GroundTruthError` unless the ground truth's result equals PyTorch's."""
    theirs = theirs.detach().double().numpy() if hasattr(theirs, "detach") else theirs
    ours = np.asarray(ours, dtype=float).reshape(np.shape(theirs))
    if not np.allclose(ours, theirs, rtol=1e-5, atol=atol):
        worst = float(np.max(np.abs(ours - theirs)))
        raise GroundTruthError(f"{what}: the ground truth's result differs from PyTorch's "
                               f"(max |difference| {worst:.3g}); its count is not used")


def relative_error(value: float, truth: float) -> float:
    """``(value − truth) / truth``: signed, 0 when both are 0, ±inf when only truth is 0."""
    if truth == 0:
        return 0.0 if value == 0 else float(np.sign(value)) * float("inf")
    return (value - truth) / truth


def fcm_verdict(fcm: float, truth: OpCounts, costs: ScalarOpCosts) -> str:
    """Why ``FlopCounterMode``'s count differs from the ground truth (or that it does not)."""
    products, total = truth.mac_flop, truth.flop(costs)
    if fcm == total:
        return "exact"
    if fcm == 0:
        return ("not counted (op not in its registry)" if products else
                "not counted (element operations)")
    if fcm == products:
        return "products exact; element operations not counted"
    return f"products counted {fcm / products:.3g}x" if products else "counts what is not there"


def _measure(case: GroundTruthCase, check: PhaseCheck, costs: ScalarOpCosts
             ) -> dict[str, Any]:
    """Count one phase with the library (at ``costs``) and with ``FlopCounterMode``."""
    from neurocomp.accounting.counting import count, flop_counter_mode_counts

    module, backward = case.module, check.phase != "forward"
    saved = {n: p.requires_grad for n, p in module.named_parameters()}
    try:
        for name, p in module.named_parameters():
            p.requires_grad_(backward and ("*" in check.trainable or name in check.trainable))
        args = tuple(t.detach().requires_grad_(backward and check.input_grad)
                     for t in case.inputs)
        report = count(module, args, backward=backward, device="real", costs=costs)
        fcm = flop_counter_mode_counts(module, args, backward=backward)
    finally:
        for name, p in module.named_parameters():
            p.requires_grad_(saved[name])
    phase = "backward" if backward else "forward"
    ops = [o for o in report.ops if o.phase == phase]
    counted = sorted({o.op for o in ops if o.flop or o.flop_counter_mode_flop})
    return {"aten_ops": ", ".join(counted), "library_flop": float(sum(o.flop for o in ops)),
            "fcm_flop": float(sum((fcm.backward if backward else fcm.forward).values())),
            "fcm_rules_flop": float(sum(o.flop_counter_mode_flop for o in ops)),
            "uncounted": ", ".join(u.op for u in report.uncounted)}


def run_case(case: GroundTruthCase, costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS
             ) -> list[dict[str, Any]]:
    """The table rows of one case, one per phase."""
    rows = []
    for check in case.phases:
        counts = _measure(case, check, costs)
        truth = check.truth.flop(costs)
        rows.append({
            "case": case.key, "label": case.label, "family": case.family, "ops": case.ops,
            "phase": check.phase, **counts, "truth_flop": truth,
            "truth_mac_flop": float(check.truth.mac_flop),
            "library_rel_error": relative_error(counts["library_flop"], truth),
            "fcm_rel_error": relative_error(counts["fcm_flop"], truth),
            "fcm_products_rel_error": relative_error(counts["fcm_flop"],
                                                     check.truth.mac_flop),
            "fcm_verdict": fcm_verdict(counts["fcm_flop"], check.truth, costs),
            "fcm_rules_rel_error": relative_error(counts["fcm_rules_flop"],
                                                  counts["fcm_flop"])})
    return rows


def ground_truth_table(*, costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS,
                       cases: Sequence[str] | None = None, seed: int = 0) -> pd.DataFrame:
    """Ground truth, library and ``FlopCounterMode`` FLOPs of every case of the zoo.

    Parameters
    ----------
    costs : ScalarOpCosts
        Prices of divisions, roots, transcendentals and comparisons (ground truth and library).
    cases : sequence of str, optional
        Keys of the cases to run (default: all); an unknown key raises ``ValueError``.
    seed : int
        Seed of weights and inputs (counts do not depend on it; the value checks do run).

    Returns
    -------
    pandas.DataFrame
        One row per (case, phase): ``case``, ``label``, ``family``, ``ops``, ``phase``,
        ``aten_ops`` (the ops the library counted), ``truth_flop``, ``truth_mac_flop`` (its
        products alone), ``library_flop``, ``fcm_flop``, ``fcm_rules_flop`` (the library's
        reproduction of FlopCounterMode's rules), the signed relative errors
        ``library_rel_error``, ``fcm_rel_error`` (against all of the truth),
        ``fcm_products_rel_error`` (against its products), ``fcm_rules_rel_error``
        (reproduction against FlopCounterMode), ``fcm_verdict`` and ``uncounted``.

    Raises
    ------
    GroundTruthError
        If a ground-truth result differs from PyTorch's.
    """
    import pandas as pd

    from neurocomp.accounting.truth.cases import zoo_cases

    builders = zoo_cases()
    if cases is not None:
        unknown = [c for c in cases if c not in builders]
        if unknown:
            raise ValueError(f"unknown case {unknown[0]!r}; the zoo has {sorted(builders)}")
    rows = []
    for i, (key, build) in enumerate(builders.items()):
        if cases is None or key in cases:
            rows += run_case(_built(build, seed * 1000 + i), costs)
    return pd.DataFrame(rows)


def _built(build: Callable[[Any], GroundTruthCase], seed: int) -> GroundTruthCase:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build(torch.Generator().manual_seed(seed))
