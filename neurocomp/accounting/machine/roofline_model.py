r"""Per-layer roofline times from a :class:`~neurocomp.accounting.counting.CountReport`.

Williams, Waterman & Patterson (2009), "Roofline: an insightful visual performance model for
multicore architectures", CACM 52(4):65 (``docs/references.md#anchors-accounting-2-1``): a kernel
that does
:math:`F` FLOPs and moves :math:`B` bytes of memory traffic takes at least

.. math:: t = \max\!\left(\frac{F}{P}, \frac{B}{W}\right),

with :math:`P` the peak (or achieved) FLOP/s and :math:`W` the memory bandwidth; its
attainable rate is :math:`\min(P,\; W\,I)` at arithmetic intensity :math:`I = F/B`, and it
is memory-bound below the ridge point :math:`P/W`. The bytes here are the counter's
op-level traffic (every op reads its inputs and writes its outputs once): an unfused upper
bound on DRAM traffic for tensors that do not stay in cache, a lower bound for kernels that
re-read their inputs. The time is a lower bound of the real one, as any roofline is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neurocomp.accounting.counting import PHASES, CountReport
from neurocomp.accounting.hardware import Device
from neurocomp.checks import check_real

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LayerRoofline", "Roofline", "attainable_flop_per_s", "ridge_point_flop_per_byte",
           "roofline", "roofline_time_s"]


def ridge_point_flop_per_byte(*, peak_flop_per_s: float,
                              memory_bandwidth_bytes_per_s: float) -> float:
    """Arithmetic intensity above which a kernel is compute-bound, :math:`P/W` (FLOP/B)."""
    p = check_real("peak_flop_per_s", peak_flop_per_s, low=0.0, low_inclusive=False,
                   unit="FLOP/s")
    w = check_real("memory_bandwidth_bytes_per_s", memory_bandwidth_bytes_per_s, low=0.0,
                   low_inclusive=False, unit="B/s")
    return p / w


def attainable_flop_per_s(intensity_flop_per_byte: float, *, peak_flop_per_s: float,
                          memory_bandwidth_bytes_per_s: float) -> float:
    """:math:`\\min(P, W I)`, FLOP/s, at arithmetic intensity ``intensity_flop_per_byte``."""
    i = check_real("intensity_flop_per_byte", intensity_flop_per_byte, low=0.0, unit="FLOP/B")
    ridge_point_flop_per_byte(peak_flop_per_s=peak_flop_per_s,
                              memory_bandwidth_bytes_per_s=memory_bandwidth_bytes_per_s)
    return min(peak_flop_per_s, memory_bandwidth_bytes_per_s * i)


def roofline_time_s(flop: float, n_bytes: float, *, peak_flop_per_s: float,
                    memory_bandwidth_bytes_per_s: float) -> float:
    """:math:`\\max(F/P, B/W)`: the roofline's lower bound on a kernel's time, s."""
    f = check_real("flop", flop, low=0.0, unit="FLOP")
    b = check_real("n_bytes", n_bytes, low=0.0, unit="B")
    ridge_point_flop_per_byte(peak_flop_per_s=peak_flop_per_s,
                              memory_bandwidth_bytes_per_s=memory_bandwidth_bytes_per_s)
    return max(f / peak_flop_per_s, b / memory_bandwidth_bytes_per_s)


@dataclass(frozen=True, kw_only=True)
class LayerRoofline:
    """One layer in one phase on the roofline.

    Attributes
    ----------
    name, phase : str
        Layer label and ``"forward"`` / ``"backward"``.
    flop, bytes_moved : float
        FLOPs and bytes read + written.
    compute_time_s, memory_time_s, time_s : float
        :math:`F/P`, :math:`B/W` and their maximum, s.
    """

    name: str
    phase: str
    flop: float
    bytes_moved: float
    compute_time_s: float
    memory_time_s: float
    time_s: float

    @property
    def bound(self) -> str:
        """``"compute"`` or ``"memory"``: which term sets the time."""
        return "compute" if self.compute_time_s >= self.memory_time_s else "memory"

    @property
    def arithmetic_intensity_flop_per_byte(self) -> float:
        """FLOPs per byte (``nan`` when no bytes move)."""
        return self.flop / self.bytes_moved if self.bytes_moved else float("nan")


@dataclass(frozen=True, kw_only=True)
class Roofline:
    """A network's layers on one device's roofline.

    Attributes
    ----------
    peak_flop_per_s, memory_bandwidth_bytes_per_s : float
        The device's roof (FLOP/s, B/s).
    layers : tuple of LayerRoofline
        In the order the layers ran, forward then backward per layer.
    """

    peak_flop_per_s: float
    memory_bandwidth_bytes_per_s: float
    layers: tuple[LayerRoofline, ...]

    def __post_init__(self) -> None:
        ridge_point_flop_per_byte(peak_flop_per_s=self.peak_flop_per_s,
                                  memory_bandwidth_bytes_per_s=self.memory_bandwidth_bytes_per_s)
        if not all(isinstance(lay, LayerRoofline) for lay in self.layers):
            raise TypeError("layers must be LayerRoofline objects")

    @property
    def ridge_point_flop_per_byte(self) -> float:
        """:math:`P/W`, FLOP/B."""
        return self.peak_flop_per_s / self.memory_bandwidth_bytes_per_s

    def time_s(self, phase: str | None = None) -> float:
        """Sum of the layer times (layers run one after another), s."""
        return sum(lay.time_s for lay in self.layers if phase is None or lay.phase == phase)

    @property
    def memory_bound_fraction(self) -> float:
        """Fraction of the total time spent in memory-bound layers."""
        total = self.time_s()
        return (sum(lay.time_s for lay in self.layers if lay.bound == "memory") / total
                if total else float("nan"))

    def to_frame(self) -> pd.DataFrame:
        """One row per (layer, phase)."""
        import pandas as pd

        return pd.DataFrame([{
            "layer": lay.name, "phase": lay.phase, "flop": lay.flop,
            "bytes_moved": lay.bytes_moved,
            "arithmetic_intensity_flop_per_byte": lay.arithmetic_intensity_flop_per_byte,
            "compute_time_s": lay.compute_time_s, "memory_time_s": lay.memory_time_s,
            "time_s": lay.time_s, "bound": lay.bound} for lay in self.layers])


def roofline(report: CountReport, *, device: Device | None = None,
             peak_flop_per_s: float | None = None,
             memory_bandwidth_bytes_per_s: float | None = None,
             modules: Sequence[str] | None = None,
             phases: Sequence[str] = PHASES) -> Roofline:
    """Roofline time of every layer of a counted model.

    Parameters
    ----------
    report : CountReport
        From :func:`~neurocomp.accounting.count`.
    device : Device, optional
        Supplies the FLOP rate (``achieved_flop_per_s`` = peak × efficiency) and
        ``memory_bandwidth_bytes_per_s``; explicit numbers below override it.
    peak_flop_per_s : float, optional
        FLOP/s (> 0).
    memory_bandwidth_bytes_per_s : float, optional
        B/s (> 0).
    modules : sequence of str, optional
        Layers as in :meth:`CountReport.layers` (default: leaves plus containers' own ops).
    phases : sequence of {"forward", "backward"}
        Phases to include.

    Raises
    ------
    ValueError
        If neither a device nor both rates are given, or the device has no bandwidth.
    """
    if not isinstance(report, CountReport):
        raise TypeError(f"report must be a CountReport; got {type(report).__name__}")
    if device is not None and not isinstance(device, Device):
        raise TypeError(f"device must be a Device; got {type(device).__name__}")
    peak = peak_flop_per_s if peak_flop_per_s is not None else (
        device.achieved_flop_per_s if device is not None else None)
    bw = memory_bandwidth_bytes_per_s if memory_bandwidth_bytes_per_s is not None else (
        device.memory_bandwidth_bytes_per_s if device is not None else None)
    if peak is None or bw is None:
        raise ValueError("roofline needs a FLOP rate and a memory bandwidth: pass a Device with "
                         "memory_bandwidth_bytes_per_s, or peak_flop_per_s and "
                         "memory_bandwidth_bytes_per_s")
    ridge_point_flop_per_byte(peak_flop_per_s=peak, memory_bandwidth_bytes_per_s=bw)
    for phase in phases:
        if phase not in PHASES:
            raise ValueError(f"phases must be among {PHASES}; got {phase!r}")
    rows = []
    for label, _, totals, _ in report.layers(modules=modules):
        for phase in phases:
            flop = float(totals.get(f"{phase}_flop", 0.0))
            moved = float(totals.get(f"{phase}_bytes_read", 0.0)
                          + totals.get(f"{phase}_bytes_written", 0.0))
            if flop == 0 and moved == 0:
                continue
            rows.append(LayerRoofline(name=label, phase=phase, flop=flop, bytes_moved=moved,
                                      compute_time_s=flop / peak, memory_time_s=moved / bw,
                                      time_s=max(flop / peak, moved / bw)))
    return Roofline(peak_flop_per_s=float(peak), memory_bandwidth_bytes_per_s=float(bw),
                    layers=tuple(rows))
