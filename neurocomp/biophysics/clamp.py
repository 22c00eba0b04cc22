r"""Current clamps: steps and EPSP-shaped currents injected at a compartment.

A :class:`CurrentClamp` is a waveform scaled to a peak amplitude and injected as a point
current (positive = depolarising, into the cell). Shapes:

* ``"step"``: the amplitude from ``start_ms`` for ``duration_ms``;
* ``"epsp"``: a difference of exponentials starting at ``start_ms``, normalised to peak 1,

  .. math:: I(t) = \hat I f \bigl(e^{-t/\tau_d} - e^{-t/\tau_r}\bigr),

  the ``epsp.mod`` current of Hay et al. (2011)'s BAC protocol (τ_r 0.5 ms, τ_d 5 ms),
  cut off at ``start_ms + duration_ms``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics.receptors import peak_normalisation
from neurocomp.checks import check_choice, check_int, check_real

__all__ = ["CurrentClamp", "check_clamps"]


@dataclass(frozen=True, kw_only=True)
class CurrentClamp:
    """A current injected at one compartment.

    Parameters
    ----------
    index : int
        Compartment index (≥ 0).
    amplitude_nA : float
        Peak current, nA (negative hyperpolarises); |I| ≤ 100 nA.
    start_ms, duration_ms : float
        Onset (≥ 0) and length (> 0) of the injection, ms.
    shape : {"step", "epsp"}
        Waveform (see the module docstring).
    tau_rise_ms, tau_decay_ms : float
        Time constants of the ``"epsp"`` shape, ms (0 < τ_r < τ_d).
    """

    index: int
    amplitude_nA: float
    start_ms: float
    duration_ms: float
    shape: str = "step"
    tau_rise_ms: float = 0.5
    tau_decay_ms: float = 5.0

    def __post_init__(self) -> None:
        check_int("index", self.index, low=0)
        check_real("amplitude_nA", self.amplitude_nA, low=-100, high=100, unit="nA")
        check_real("start_ms", self.start_ms, low=0, unit="ms")
        check_real("duration_ms", self.duration_ms, low=0, low_inclusive=False, unit="ms")
        check_choice("shape", self.shape, ("step", "epsp"))
        check_real("tau_rise_ms", self.tau_rise_ms, low=0, low_inclusive=False, unit="ms")
        check_real("tau_decay_ms", self.tau_decay_ms, low=self.tau_rise_ms,
                   low_inclusive=False, unit="ms")

    @property
    def stop_ms(self) -> float:
        """End of the injection, ms."""
        return self.start_ms + self.duration_ms

    def waveform(self, *, dt_ms: float, duration_ms: float) -> np.ndarray:
        """The shape sampled every ``dt_ms`` over ``duration_ms``, peak 1 (unitless)."""
        t = np.arange(round(duration_ms / dt_ms)) * dt_ms
        on = (t >= self.start_ms - 1e-9) & (t < self.stop_ms - 1e-9)
        if self.shape == "step":
            return on.astype(np.float64)
        s = np.maximum(t - self.start_ms, 0.0)
        f = peak_normalisation(self.tau_rise_ms, self.tau_decay_ms)
        wave = f * (np.exp(-s / self.tau_decay_ms) - np.exp(-s / self.tau_rise_ms))
        return np.where(on, wave, 0.0)


def check_clamps(clamps: Sequence[CurrentClamp], *, n_compartments: int,
                 duration_ms: float) -> tuple[CurrentClamp, ...]:
    """Validate clamps against a model and a run: they must exist, be inside the cell and end
    within the run (a clamp past the end would be cut silently)."""
    out = tuple(clamps)
    for k, c in enumerate(out):
        if not isinstance(c, CurrentClamp):
            raise TypeError(f"clamps[{k}] must be a CurrentClamp; got {type(c).__name__}")
        if c.index >= n_compartments:
            raise ValueError(f"clamps[{k}].index = {c.index} does not exist (compartments 0 "
                             f"to {n_compartments - 1})")
        if c.stop_ms > duration_ms + 1e-9:
            raise ValueError(f"clamps[{k}] ends at {c.stop_ms:g} ms, after the run "
                             f"(duration {duration_ms:g} ms)")
    return out
