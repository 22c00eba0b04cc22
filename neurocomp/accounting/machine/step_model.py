r"""Predicted time of one training step on one device, op by op, from measured rates.

Input: the counter's :class:`~neurocomp.accounting.counting.CountReport` of a forward and
backward pass (loss included), optionally one of the optimizer step, and a
:class:`~neurocomp.accounting.machine.MachineBenchmark`. Nothing is fitted to step
times: every rate comes from the micro-benchmarks. Each (module, op, phase) record of the
report is priced per call, with :math:`F` FLOPs, :math:`B` bytes moved and :math:`B_w`
bytes written per call:

.. math::

    t = \max\!\left(\frac{F}{R(I)},\; \frac{B}{W(B)}\right)
        + [B_w > M]\, B_w\, c_\text{fresh} + o, \qquad I = F/B

* :math:`R` — how the per-op efficiency is chosen
  (:meth:`~neurocomp.accounting.machine.MachineBenchmark.table_for`): matrix products
  (``mm``, ``addmm``, ``bmm`` …) at the **measured matmul rate at their arithmetic
  intensity** :math:`I` (interpolated between skinny and square products); convolutions at
  the **median measured rate of generic convolutions** of their dimensionality (1-D or
  2-D, from ``conv_dims``), forward and backward apart; pooling, batch normalisation and
  ``pow`` at the medians of their own micro-benchmarks; every other op (element-wise,
  reductions, copies) at most at the matmul peak, which leaves it **bandwidth-bound**;
* :math:`W(B)` — the measured STREAM-add bandwidth (inputs cycled through memory) for a
  call moving :math:`B` bytes;
* :math:`c_\text{fresh}` — the measured extra cost per byte of writing freshly mapped
  memory, charged to calls whose output exceeds glibc's ``mmap`` threshold :math:`M`
  (AlexNet's 151 MB ``fc6`` weight gradient is re-allocated, faulted in and freed every
  step on a CPU);
* :math:`o` — the measured dispatch overhead of one op: recorded for autograd in the
  forward and backward passes, plain in the optimizer step.

Calls run one after another (one stream; no overlap of ops), and one ``backward()`` call
adds its measured fixed cost. The bytes are the counter's op-level traffic (no fusion, no
cache reuse across ops). What this leaves out is listed in :data:`NOT_MODELLED`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neurocomp.accounting.counting import ROOT_LABEL, CountReport, OpCount
from neurocomp.accounting.machine.machine_rates import MMAP_THRESHOLD_BYTES, MachineBenchmark

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMPUTE_KINDS", "NOT_MODELLED", "OpTime", "StepPrediction", "predict_step"]

#: What the step-time model does not represent (stated in every analysis that uses it).
NOT_MODELLED = (
    "the efficiency of each convolution's own shape: all convolutions of one "
    "dimensionality run at the median rate of the generic ones (1×1 kernels, maps of a "
    "few pixels and 3-channel first layers run slower, large 5×5 ones faster)",
    "transcendental element-wise ops other than pow (exp, tanh …) priced as bandwidth-bound",
    "cache reuse between consecutive ops, and fusion",
    "other jobs on the machine beyond the probe's correction",
    "data loading and host-device copies",
)

#: Op kinds priced at a measured compute rate; all others are bandwidth-bound.
COMPUTE_KINDS = ("matmul", "convolution")


@dataclass(frozen=True, kw_only=True)
class OpTime:
    """One (module, op, phase) record priced on the machine (times in s, all calls)."""

    module: str
    op: str
    phase: str
    kind: str
    calls: int
    flop: float
    bytes_moved: float
    compute_s: float
    memory_s: float
    allocation_s: float
    overhead_s: float
    table: str = "bandwidth"

    @property
    def time_s(self) -> float:
        """max(compute, memory) + allocation + overhead, s."""
        return max(self.compute_s, self.memory_s) + self.allocation_s + self.overhead_s

    @property
    def bound(self) -> str:
        """``"compute"``, ``"memory"`` or ``"overhead"``: the largest term."""
        terms = {"compute": self.compute_s, "memory": self.memory_s + self.allocation_s,
                 "overhead": self.overhead_s}
        return max(terms, key=terms.__getitem__)


@dataclass(frozen=True, kw_only=True)
class StepPrediction:
    """A training step's predicted time, op by op.

    Attributes
    ----------
    ops : tuple of OpTime
        The model's forward and backward records (phases ``"forward"``/``"backward"``) and
        the optimizer's (phase ``"optimizer"``).
    fixed_s : float
        One ``backward()`` call's fixed cost, s.
    batch_size : int
        Samples per step.
    """

    ops: tuple[OpTime, ...]
    fixed_s: float
    batch_size: int

    def phase_s(self, phase: str) -> float:
        """Total of one phase (``"forward"``, ``"backward"``, ``"optimizer"``), s."""
        return sum(o.time_s for o in self.ops if o.phase == phase)

    @property
    def forward_s(self) -> float:
        """Forward pass (loss included), s."""
        return self.phase_s("forward")

    @property
    def backward_s(self) -> float:
        """Backward pass plus the fixed cost of the ``backward()`` call, s."""
        return self.phase_s("backward") + self.fixed_s

    @property
    def optimizer_s(self) -> float:
        """Optimizer step, s (0 without an optimizer report)."""
        return self.phase_s("optimizer")

    @property
    def step_s(self) -> float:
        """Forward + backward + optimizer, s."""
        return self.forward_s + self.backward_s + self.optimizer_s

    def by(self, key: str = "kind") -> dict[str, float]:
        """Time summed by ``"kind"``, ``"phase"``, ``"bound"`` or ``"module"``, s."""
        out: dict[str, float] = {}
        for o in self.ops:
            label = getattr(o, key)
            out[label] = out.get(label, 0.0) + o.time_s
        return out

    def module_s(self, names: Iterable[str], *, phase: str) -> dict[str, float]:
        """Time of each named module and its submodules in ``phase``, s.

        Records of modules under none of ``names`` are left out; a record under several
        (nested names) counts for the innermost.
        """
        names = list(names)
        out = dict.fromkeys(names, 0.0)
        for o in self.ops:
            if o.phase != phase:
                continue
            owner = _owner(o.module, names)
            if owner is not None:
                out[owner] += o.time_s
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per priced record."""
        import pandas as pd

        return pd.DataFrame([{**vars(o), "time_s": o.time_s, "bound": o.bound}
                             for o in self.ops])


def _owner(module: str, names: Sequence[str]) -> str | None:
    best = None
    for name in names:
        if name == "" or module == name or module.startswith(name + "."):
            if best is None or len(name) > len(best):
                best = name
    return best


def _price(o: OpCount, machine: MachineBenchmark, phase: str, overhead_s: float,
           dims: int | None = None) -> OpTime:
    calls = max(o.calls, 1)
    flop, moved = o.flop / calls, (o.bytes_read + o.bytes_written) / calls
    written = o.bytes_written / calls
    table = machine.table_for(o.op, o.kind, o.phase, dims=dims)
    if table is not None and flop > 0:
        intensity = flop / moved if moved else float("inf")
        compute = flop / machine.flop_per_s(table, intensity)
    else:
        compute = flop / machine.peak_flop_per_s
    memory = moved / machine.bandwidth_bytes_per_s(moved) if moved else 0.0
    fresh = written * machine.fresh_allocation_s_per_byte if written > MMAP_THRESHOLD_BYTES \
        else 0.0
    return OpTime(module=o.module or ROOT_LABEL, op=o.op, phase=phase, kind=o.kind,
                  calls=o.calls, flop=o.flop, bytes_moved=moved * calls,
                  compute_s=compute * calls, memory_s=memory * calls,
                  allocation_s=fresh * calls, overhead_s=overhead_s * o.calls,
                  table=table or "bandwidth")


def predict_step(report: CountReport, machine: MachineBenchmark, *,
                 optimizer_report: CountReport | None = None,
                 conv_dims: Mapping[str, int] | None = None) -> StepPrediction:
    """Price every op of a counted training step on a measured machine.

    Parameters
    ----------
    report : CountReport
        Forward and backward pass of the model (``count(..., loss=...)``: the loss's ops are
        under ``"(loss)"``), counted at the batch size to predict.
    machine : MachineBenchmark
        Measured rates (:func:`~neurocomp.accounting.machine.microbench.benchmark_machine`), taken
        with the thread count and clock of the runs to predict.
    optimizer_report : CountReport, optional
        The optimizer step counted as a forward pass
        (:func:`~neurocomp.accounting.machine.step_measure.count_optimizer_step`).
    conv_dims : mapping of str to int, optional
        Spatial dimensions of the convolution in each module (1 or 2), so that 1-D and 2-D
        convolutions are priced from their own benchmarks
        (:func:`~neurocomp.accounting.machine.step_measure.conv_dims`); modules not named use the
        benchmarks of all convolutions.

    Raises
    ------
    TypeError
        For arguments of the wrong type.
    ValueError
        If ``report`` has no backward pass.
    """
    if not isinstance(report, CountReport):
        raise TypeError(f"report must be a CountReport; got {type(report).__name__}")
    if not isinstance(machine, MachineBenchmark):
        raise TypeError(f"machine must be a MachineBenchmark; got {type(machine).__name__}")
    if not report.backward:
        raise ValueError("report must count the backward pass too (count(..., backward=True)) "
                         "to predict a training step")
    dims = dict(conv_dims or {})
    ops = [_price(o, machine, o.phase, machine.autograd_op_overhead_s,
                  dims.get(o.module) if o.kind == "convolution" else None) for o in report.ops]
    if optimizer_report is not None:
        if not isinstance(optimizer_report, CountReport):
            raise TypeError(f"optimizer_report must be a CountReport; "
                            f"got {type(optimizer_report).__name__}")
        ops += [_price(o, machine, "optimizer", machine.op_overhead_s)
                for o in optimizer_report.ops if o.phase == "forward"]
    return StepPrediction(ops=tuple(ops), fixed_s=machine.backward_call_s,
                          batch_size=report.batch_size)

