r"""Current clamps: steps, EPSP-shaped currents and arbitrary waveforms at a compartment.

A :class:`CurrentClamp` is a waveform scaled to a peak amplitude and injected as a point
current (positive = depolarising, into the cell). Shapes:

* ``"step"``: the amplitude from ``start_ms`` for ``duration_ms``;
* ``"epsp"``: a difference of exponentials starting at ``start_ms``, normalised to peak 1,

  .. math:: I(t) = \hat I f \bigl(e^{-t/\tau_d} - e^{-t/\tau_r}\bigr),

  the ``epsp.mod`` current of Hay et al. (2011)'s BAC protocol (τ_r 0.5 ms, τ_d 5 ms),
  cut off at ``start_ms + duration_ms``;
* ``"samples"``: any waveform, ``amplitude_nA × samples[k]`` held from ``start_ms + k ×
  sample_dt_ms`` for one ``sample_dt_ms`` (zero-order hold, read at each step of the run);
  :meth:`CurrentClamp.from_samples` makes one from currents in nA (or a Brian2 current
  array).

Times and currents take floats (ms, nA) or Brian2 quantities
(:mod:`~neurocomp.biophysics.units`). Clamps go to
:meth:`~neurocomp.biophysics.pipeline.NeuronPipeline.run` or ``build`` as ``clamps=``::

    from brian2 import ms, nA
    import numpy as np
    step = CurrentClamp(index=0, amplitude_nA=0.5, start_ms=20, duration_ms=100)
    epsp = CurrentClamp(index=60, amplitude_nA=0.4*nA, start_ms=50*ms, duration_ms=30*ms,
                        shape="epsp")
    t = np.arange(0, 100, 0.1)                      # ms
    chirp = CurrentClamp.from_samples(index=0, current_nA=0.2*np.sin(2*np.pi*t*t/2000),
                                      sample_dt_ms=0.1, start_ms=20)
    rec = pipe.run(trains, duration=150*ms, clamps=[step, epsp, chirp])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics.receptors import peak_normalisation
from neurocomp.biophysics.units import accepts_quantities, convert_quantity_fields
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
    shape : {"step", "epsp", "samples"}
        Waveform (see the module docstring).
    tau_rise_ms, tau_decay_ms : float
        Time constants of the ``"epsp"`` shape, ms (0 < τ_r < τ_d).
    samples : tuple of float
        The ``"samples"`` waveform, unitless (scaled by ``amplitude_nA``; each |I| ≤ 100 nA);
        ``duration_ms`` must be ``len(samples) × sample_dt_ms``.
    sample_dt_ms : float
        Time between samples, ms (> 0 for ``"samples"``).

    Examples
    --------
    >>> CurrentClamp(index=0, amplitude_nA=0.5, start_ms=20, duration_ms=100)  # a step
    >>> CurrentClamp(index=0, amplitude_nA=500*pA, start_ms=20*ms, duration_ms=0.1*second)
    >>> CurrentClamp.from_samples(index=0, current_nA=[0.1, 0.3, 0.2], sample_dt_ms=5.0)
    """

    index: int
    amplitude_nA: float
    start_ms: float
    duration_ms: float
    shape: str = "step"
    tau_rise_ms: float = 0.5
    tau_decay_ms: float = 5.0
    samples: tuple[float, ...] = ()
    sample_dt_ms: float = 0.0

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        check_int("index", self.index, low=0)
        check_real("amplitude_nA", self.amplitude_nA, low=-100, high=100, unit="nA")
        check_real("start_ms", self.start_ms, low=0, unit="ms")
        check_real("duration_ms", self.duration_ms, low=0, low_inclusive=False, unit="ms")
        check_choice("shape", self.shape, ("step", "epsp", "samples"))
        check_real("tau_rise_ms", self.tau_rise_ms, low=0, low_inclusive=False, unit="ms")
        check_real("tau_decay_ms", self.tau_decay_ms, low=self.tau_rise_ms,
                   low_inclusive=False, unit="ms")
        if self.shape == "samples":
            self._check_samples()
        elif self.samples:
            raise ValueError(f"samples are for shape='samples'; got shape={self.shape!r}")

    def _check_samples(self) -> None:
        """The ``"samples"`` waveform: finite, within ±100 nA, lasting ``duration_ms``."""
        samples = tuple(float(x) for x in np.asarray(self.samples, dtype=np.float64).ravel())
        object.__setattr__(self, "samples", samples)
        dt = check_real("sample_dt_ms", self.sample_dt_ms, low=0, low_inclusive=False,
                        unit="ms")
        if not samples:
            raise ValueError("shape='samples' needs at least one sample")
        current = np.abs(np.asarray(samples)) * abs(self.amplitude_nA)
        if not np.all(np.isfinite(current)) or current.max() > 100:
            raise ValueError(f"samples × amplitude_nA must be finite and within ±100 nA; "
                             f"got a largest |I| of {current.max():g} nA")
        if abs(self.duration_ms - len(samples) * dt) > 1e-9 * max(1.0, self.duration_ms):
            raise ValueError(f"duration_ms = {self.duration_ms:g} ms must be len(samples) × "
                             f"sample_dt_ms = {len(samples)} × {dt:g} ms")

    @classmethod
    @accepts_quantities
    def from_samples(cls, *, index: int, current_nA: Sequence[float] | np.ndarray,
                     sample_dt_ms: float, start_ms: float = 0.0) -> CurrentClamp:
        """An arbitrary current waveform: ``current_nA[k]`` (nA, or a Brian2 current array)
        held from ``start_ms + k × sample_dt_ms`` (ms) for ``sample_dt_ms``."""
        samples = tuple(float(x) for x in np.asarray(current_nA, dtype=np.float64).ravel())
        dt = check_real("sample_dt_ms", sample_dt_ms, low=0, low_inclusive=False, unit="ms")
        return cls(index=index, amplitude_nA=1.0, start_ms=start_ms,
                   duration_ms=len(samples) * dt, shape="samples", samples=samples,
                   sample_dt_ms=dt)

    @property
    def stop_ms(self) -> float:
        """End of the injection, ms."""
        return self.start_ms + self.duration_ms

    @accepts_quantities
    def waveform(self, *, dt_ms: float, duration_ms: float) -> np.ndarray:
        """The shape sampled every ``dt_ms`` over ``duration_ms`` (unitless; the current is
        ``amplitude_nA`` times it): peak 1 for ``"step"`` and ``"epsp"``."""
        t = np.arange(round(duration_ms / dt_ms)) * dt_ms
        on = (t >= self.start_ms - 1e-9) & (t < self.stop_ms - 1e-9)
        if self.shape == "step":
            return on.astype(np.float64)
        if self.shape == "samples":
            k = np.floor((t - self.start_ms) / self.sample_dt_ms + 1e-9).astype(np.int64)
            k = np.clip(k, 0, len(self.samples) - 1)
            return np.where(on, np.asarray(self.samples)[k], 0.0)
        s = np.maximum(t - self.start_ms, 0.0)
        f = peak_normalisation(self.tau_rise_ms, self.tau_decay_ms)
        wave = f * (np.exp(-s / self.tau_decay_ms) - np.exp(-s / self.tau_rise_ms))
        return np.where(on, wave, 0.0)


@accepts_quantities
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
