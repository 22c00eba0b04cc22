"""Speedup and efficiency of a parallel step against the number of devices.

Throughput on :math:`N` devices is ``N × batch_per_device`` samples per step time; the
speedup divides it by the throughput of one device doing the same per-device work (weak
scaling) or the whole batch (strong scaling), and the efficiency is speedup / N.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neurocomp.accounting.hardware import Device
from neurocomp.accounting.layer_cost import LayerCost
from neurocomp.accounting.network import Link, Network
from neurocomp.accounting.parallel.steps import ParallelOptions, StepTime, step_time
from neurocomp.checks import check_int

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ScalingCurve", "parallel_efficiency", "scaling_curve"]


@dataclass(frozen=True, kw_only=True)
class ScalingCurve:
    """Step time, speedup and efficiency against device count.

    Attributes
    ----------
    steps : tuple of StepTime
        One per device count.
    baseline : StepTime
        The same work on one device.
    scaling : {"weak", "strong"}
        Batch per device held fixed (weak) or global batch held fixed (strong).
    """

    steps: tuple[StepTime, ...]
    baseline: StepTime
    scaling: str
    label: str = ""

    @property
    def speedups(self) -> tuple[float, ...]:
        """Throughput on n devices / throughput on one."""
        return tuple(s.samples_per_s / self.baseline.samples_per_s for s in self.steps)

    @property
    def efficiencies(self) -> tuple[float, ...]:
        """Speedup / n."""
        return tuple(sp / s.n_devices for sp, s in zip(self.speedups, self.steps, strict=True))

    def to_frame(self) -> pd.DataFrame:
        """One row per device count."""
        import pandas as pd

        return pd.DataFrame([{
            "label": self.label, "scaling": self.scaling, "n_devices": s.n_devices,
            "batch_per_device": s.batch_per_device, "model_parallel_size":
            s.model_parallel_size, "step_s": s.step_s, "compute_s": s.compute_s,
            "exposed_comm_s": s.exposed_comm_s, "gradient_comm_s": s.gradient_comm_s,
            "samples_per_s": s.samples_per_s, "speedup": sp, "efficiency": eff}
            for s, sp, eff in zip(self.steps, self.speedups, self.efficiencies, strict=True)])


def scaling_curve(layers: Sequence[LayerCost], *, device: Device, network: Network | Link,
                  device_counts: Sequence[int], batch_per_device: int | None = None,
                  global_batch: int | None = None, plan: str | Mapping[str, str] = "data",
                  model_parallel_size: int | None = None,
                  options: ParallelOptions | None = None, label: str = "") -> ScalingCurve:
    """:func:`step_time` over ``device_counts``, weak or strong scaling.

    Give exactly one of ``batch_per_device`` (weak scaling) and ``global_batch`` (strong
    scaling; it must divide by every count). ``model_parallel_size`` is capped at each count
    (default: all devices). The one-device baseline skips the memory check, so the speedup
    of a network that only fits when split is still defined.
    """
    if (batch_per_device is None) == (global_batch is None):
        raise ValueError("give exactly one of batch_per_device (weak scaling) and "
                         "global_batch (strong scaling)")
    counts = [check_int("device_counts entry", c, low=1) for c in device_counts]
    if not counts:
        raise ValueError("device_counts must hold at least one count")
    opts = options if options is not None else ParallelOptions()
    steps = []
    for n in counts:
        if global_batch is not None:
            if global_batch % n:
                raise ValueError(f"global_batch ({global_batch}) must be a multiple of every "
                                 f"device count; {n} does not divide it")
            b = global_batch // n
        else:
            b = batch_per_device
        m = n if model_parallel_size is None else min(model_parallel_size, n)
        steps.append(step_time(layers, device=device, network=network, n_devices=n,
                               batch_per_device=b, plan=plan, model_parallel_size=m,
                               options=opts))
    base_batch = batch_per_device if batch_per_device is not None else global_batch
    baseline = step_time(layers, device=device, network=network, n_devices=1,
                         batch_per_device=base_batch, plan=plan, model_parallel_size=1,
                         options=dataclasses.replace(opts, check_memory=False))
    return ScalingCurve(steps=tuple(steps), baseline=baseline,
                        scaling="weak" if global_batch is None else "strong", label=label)


def parallel_efficiency(layers: Sequence[LayerCost], *, device: Device,
                        network: Network | Link, n_devices: int, batch_per_device: int,
                        plan: str | Mapping[str, str] = "data",
                        model_parallel_size: int | None = None,
                        options: ParallelOptions | None = None) -> float:
    """Weak-scaling efficiency on ``n_devices``: throughput / (n × one device's throughput)."""
    curve = scaling_curve(layers, device=device, network=network, device_counts=[n_devices],
                          batch_per_device=batch_per_device, plan=plan,
                          model_parallel_size=model_parallel_size, options=options)
    return curve.efficiencies[0]
