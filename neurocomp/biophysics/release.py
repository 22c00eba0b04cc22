r"""Transmitter release: Tsodyks–Markram short-term plasticity, deterministic or stochastic.

Each synapse has :math:`N` release sites. Between presynaptic spikes an empty site refills
with rate :math:`1/\tau_\text{rec}` and the utilisation :math:`u` relaxes to its baseline
:math:`U` (the release probability of a rested synapse) with :math:`\tau_\text{facil}`. At a
spike, :math:`u` first facilitates, :math:`u \leftarrow u + U(1-u)`, then each occupied site
releases its vesicle with probability :math:`u`.

* **Stochastic** (binomial quantal release): sites are binary; the refill of each empty site
  since the last spike is a Bernoulli draw with probability :math:`1-e^{-\Delta t/\tau_\text{rec}}`
  (exact for independent sites, so the process is simulated event by event).
* **Deterministic** (Tsodyks, Pawelzik & Markram 1998, Neural Comput 10:821): the expected
  fraction :math:`x` of occupied sites follows the same rules in expectation; a spike
  releases :math:`N u x` vesicles on average and leaves :math:`x(1-u)`.

The released amount (a vesicle count, or its expectation) scales the receptors' increment:
``weight × released``. :func:`simulate_release` is a pure numpy reference used in the tests;
:func:`release_code` writes the same rules as Brian2 ``on_pre`` code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from neurocomp.biophysics.units import accepts_quantities, convert_quantity_fields
from neurocomp.checks import check_choice, check_int, check_real

__all__ = ["ReleaseParameters", "release_code", "release_model", "simulate_release"]

ReleaseMode = Literal["stochastic", "deterministic"]


@dataclass(frozen=True, kw_only=True)
class ReleaseParameters:
    """Short-term plasticity and quantal parameters of a synapse type.

    Parameters
    ----------
    U : float
        Baseline release probability per site, (0, 1].
    tau_rec_ms : float
        Site recovery (vesicle refill) time constant, ms (> 0).
    tau_facil_ms : float
        Facilitation decay time constant, ms (≥ 0; 0 disables facilitation).
    n_sites : int
        Release sites per synapse, 1 to 20.
    source : str
        Where the values come from.
    """

    U: float = 0.5
    tau_rec_ms: float = 800.0
    tau_facil_ms: float = 0.0
    n_sites: int = 1
    source: str = ""

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        check_real("U", self.U, low=0.0, high=1.0, low_inclusive=False)
        check_real("tau_rec_ms", self.tau_rec_ms, low=0.0, low_inclusive=False, unit="ms")
        check_real("tau_facil_ms", self.tau_facil_ms, low=0.0, unit="ms")
        check_int("n_sites", self.n_sites, low=1, high=20)


@accepts_quantities
def simulate_release(spike_times_ms: np.ndarray, params: ReleaseParameters, *,
                     mode: ReleaseMode, rng: np.random.Generator | None = None) -> np.ndarray:
    """Vesicles released at each presynaptic spike of one synapse (numpy reference).

    Returns an array of the same length as ``spike_times_ms``: integers for
    ``mode="stochastic"`` (needs ``rng``), expected counts for ``"deterministic"``.
    """
    check_choice("mode", mode, ("stochastic", "deterministic"))
    times = np.asarray(spike_times_ms, dtype=np.float64)
    if times.ndim != 1 or np.any(np.diff(times) < 0):
        raise ValueError("spike_times_ms must be a sorted 1-D array")
    if mode == "stochastic" and not isinstance(rng, np.random.Generator):
        raise TypeError("mode='stochastic' needs rng=numpy.random.default_rng(seed)")
    u, last = params.U, -np.inf
    x = 1.0
    occupied = np.ones(params.n_sites, dtype=bool)
    out = np.zeros(times.size)
    for k, t in enumerate(times):
        dt = t - last
        if params.tau_facil_ms > 0:
            u = params.U + (u - params.U) * math.exp(-dt / params.tau_facil_ms)
            u = u + params.U * (1 - u)
        else:
            u = params.U
        p_refill = 1.0 - math.exp(-dt / params.tau_rec_ms)
        if mode == "deterministic":
            x = 1.0 - (1.0 - x) * (1.0 - p_refill)
            out[k] = params.n_sites * u * x
            x = x * (1.0 - u)
        else:
            occupied |= rng.random(params.n_sites) < p_refill
            released = occupied & (rng.random(params.n_sites) < u)
            out[k] = released.sum()
            occupied &= ~released
        last = t
    return out


def release_model(params: ReleaseParameters, *, mode: ReleaseMode) -> str:
    """Brian2 synapse state variables for the release rules."""
    check_choice("mode", mode, ("stochastic", "deterministic"))
    lines = ["U : 1 (constant)", "tau_rec : second (constant)", "tau_facil : second (constant)",
             "u : 1", "tlast : second", "released : 1", "vesicles_total : 1",
             "events_total : 1"]
    if mode == "deterministic":
        lines.append("x : 1")
    else:
        lines += [f"occ{k} : 1" for k in range(params.n_sites)]
    return "\n".join(lines)


def release_code(params: ReleaseParameters, *, mode: ReleaseMode) -> str:
    """Brian2 ``on_pre`` code: updates the release state and sets ``released``."""
    check_choice("mode", mode, ("stochastic", "deterministic"))
    lines = ["dt_since = t - tlast"]
    if params.tau_facil_ms > 0:
        lines += ["u = U + (u - U)*exp(-dt_since/tau_facil)", "u = u + U*(1 - u)"]
    else:
        lines.append("u = U")
    lines.append("p_refill = 1 - exp(-dt_since/tau_rec)")
    if mode == "deterministic":
        lines += ["x = 1 - (1 - x)*(1 - p_refill)",
                  f"released = {params.n_sites}*u*x",
                  "x = x*(1 - u)"]
    else:
        lines.append("released = 0")
        for k in range(params.n_sites):
            lines += [f"occ{k} = occ{k} + (1 - occ{k})*int(rand() < p_refill)",
                      f"rel{k} = occ{k}*int(rand() < u)",
                      f"occ{k} = occ{k} - rel{k}",
                      f"released = released + rel{k}"]
    lines += ["tlast = t", "vesicles_total = vesicles_total + released",
              "events_total = events_total + 1"]
    return "\n".join(lines)
