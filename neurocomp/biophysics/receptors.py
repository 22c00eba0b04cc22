r"""Postsynaptic receptors: difference-of-exponentials kinetics and the NMDA Mg²⁺ block.

A receptor's conductance (or current) after one vesicle is a peak-normalised difference of
exponentials,

.. math::

    g(t) = \hat g\, f\, \bigl(e^{-t/\tau_d} - e^{-t/\tau_r}\bigr),\qquad
    t_\text{peak} = \frac{\tau_r \tau_d}{\tau_d - \tau_r}\ln\frac{\tau_d}{\tau_r},\qquad
    f = \frac{1}{e^{-t_\text{peak}/\tau_d} - e^{-t_\text{peak}/\tau_r}},

the form of NEURON's ``Exp2Syn``. It is simulated with two linear state variables per
compartment (:math:`A` decaying with :math:`\tau_r`, :math:`B` with :math:`\tau_d`, both
incremented by the same weight on each release; :math:`g = f(B - A)`), so the cost grows with
the number of compartments, not of synapses — exact because the kinetics are linear.

NMDA receptors are blocked by extracellular Mg²⁺ (Jahr & Stevens 1990, J Neurosci 10:3178):

.. math:: B(V) = \frac{1}{1 + [\mathrm{Mg}^{2+}]/3.57\,\mathrm{mM}\; e^{-0.062\,V/\mathrm{mV}}}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from neurocomp.biophysics.units import accepts_quantities, convert_quantity_fields
from neurocomp.checks import check_bool, check_choice, check_real

__all__ = [
    "AMPA",
    "GABA_A",
    "NMDA",
    "RECEPTORS",
    "ReceptorKinetics",
    "mg_block",
    "peak_normalisation",
    "peak_time_ms",
    "receptor_waveform",
]

# The text is kept verbatim: it is part of the model's repr, hence of the NeuronIO data keys
# (neurocomp.mapping.model_fingerprint). "anchors_neuro.md section 3.3" is the section key
# docs/references.md#anchors-neuro-3-3 of the references page.
_HAY = ("Hay et al. (2011) L5PC synapses as used by Beniaguev, Segev & London (2021), "
        "Neuron 109:2727 (code: github.com/SelfishGene/neuron_as_deep_net); values from "
        "anchors_neuro.md section 3.3")


@dataclass(frozen=True, kw_only=True)
class ReceptorKinetics:
    """Kinetics of one receptor type.

    Parameters
    ----------
    name : str
        Identifier used in equations (``ampa``, ``nmda``, ``gaba_a``; lower case).
    tau_rise_ms, tau_decay_ms : float
        Rise and decay time constants, ms, with 0 < τ_rise < τ_decay.
    reversal_mV : float
        Reversal potential, mV.
    mg_block : bool
        Whether the Jahr–Stevens Mg²⁺ block applies (NMDA).
    mg_mM : float
        Extracellular [Mg²⁺], mM, used when ``mg_block``.
    source : str
        Where the values come from.
    """

    name: str
    tau_rise_ms: float
    tau_decay_ms: float
    reversal_mV: float
    mg_block: bool = False
    mg_mM: float = 1.0
    source: str = ""

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        if (not isinstance(self.name, str) or not self.name.isidentifier()
                or self.name != self.name.lower()):
            raise ValueError(f"name must be a lower-case identifier; got {self.name!r}")
        check_bool("mg_block", self.mg_block)
        check_real("tau_rise_ms", self.tau_rise_ms, low=0, low_inclusive=False, unit="ms")
        check_real("tau_decay_ms", self.tau_decay_ms, low=self.tau_rise_ms,
                   low_inclusive=False, unit="ms")
        check_real("reversal_mV", self.reversal_mV, low=-200, high=200, unit="mV")
        check_real("mg_mM", self.mg_mM, low=0, high=100, unit="mM")

    @property
    def peak_time_ms(self) -> float:
        """Time of the conductance peak after a release, ms."""
        return peak_time_ms(self.tau_rise_ms, self.tau_decay_ms)

    @property
    def normalisation(self) -> float:
        """The factor f that makes the peak equal to the weight."""
        return peak_normalisation(self.tau_rise_ms, self.tau_decay_ms)


AMPA = ReceptorKinetics(name="ampa", tau_rise_ms=0.3, tau_decay_ms=3.0, reversal_mV=0.0,
                        source=_HAY)
NMDA = ReceptorKinetics(name="nmda", tau_rise_ms=2.0, tau_decay_ms=70.0, reversal_mV=0.0,
                        mg_block=True, mg_mM=1.0,
                        source=_HAY + "; Mg2+ block: Jahr & Stevens (1990) J Neurosci 10:3178")
GABA_A = ReceptorKinetics(name="gaba_a", tau_rise_ms=0.2, tau_decay_ms=8.0,
                          reversal_mV=-80.0, source=_HAY)
RECEPTORS = {r.name: r for r in (AMPA, NMDA, GABA_A)}


@accepts_quantities
def peak_time_ms(tau_rise_ms: float, tau_decay_ms: float) -> float:
    """Peak time of e^{-t/τd} − e^{-t/τr}, ms."""
    tr = check_real("tau_rise_ms", tau_rise_ms, low=0, low_inclusive=False, unit="ms")
    td = check_real("tau_decay_ms", tau_decay_ms, low=tr, low_inclusive=False, unit="ms")
    return tr * td / (td - tr) * math.log(td / tr)


@accepts_quantities
def peak_normalisation(tau_rise_ms: float, tau_decay_ms: float) -> float:
    """The factor f with max_t f (e^{-t/τd} − e^{-t/τr}) = 1."""
    tp = peak_time_ms(tau_rise_ms, tau_decay_ms)
    return 1.0 / (math.exp(-tp / tau_decay_ms) - math.exp(-tp / tau_rise_ms))


@accepts_quantities
def receptor_waveform(t_ms: np.ndarray, receptor: ReceptorKinetics) -> np.ndarray:
    """Peak-normalised response to one release at t = 0 (0 for t < 0)."""
    t = np.asarray(t_ms, dtype=np.float64)
    wave = receptor.normalisation * (np.exp(-t / receptor.tau_decay_ms)
                                     - np.exp(-t / receptor.tau_rise_ms))
    return np.where(t >= 0, wave, 0.0)


@accepts_quantities
def mg_block(v_mV: np.ndarray | float, *, mg_mM: float = 1.0) -> np.ndarray:
    """Jahr–Stevens (1990) fraction of NMDA conductance unblocked at voltage ``v_mV``."""
    mg = check_real("mg_mM", mg_mM, low=0, high=100, unit="mM")
    v = np.asarray(v_mV, dtype=np.float64)
    return 1.0 / (1.0 + mg / 3.57 * np.exp(-0.062 * v))


Mode = Literal["conductance", "current"]


def receptor_equations(receptor: ReceptorKinetics, *, mode: Mode = "conductance") -> str:
    """Brian2 equation lines for one receptor's per-compartment state and its current term.

    Defines ``A_<name>``, ``B_<name>`` (siemens, or amp for ``mode="current"``) and
    ``I_<name>`` (amp): the term added to the compartment's point current.
    """
    check_choice("mode", mode, ("conductance", "current"))
    n = receptor.name
    unit = "siemens" if mode == "conductance" else "amp"
    f = repr(receptor.normalisation)
    lines = [f"dA_{n}/dt = -A_{n}/({receptor.tau_rise_ms!r}*ms) : {unit}",
             f"dB_{n}/dt = -B_{n}/({receptor.tau_decay_ms!r}*ms) : {unit}"]
    if mode == "current":
        lines.append(f"I_{n} = {f}*(B_{n} - A_{n}) : amp")
        return "\n".join(lines)
    drive = f"({receptor.reversal_mV!r}*mV - v)"
    if receptor.mg_block:
        # the block is held over each step (Brian2's "constant over dt"): the current is then
        # linear in v within a step, which spares Brian2 a slow symbolic linearisation of
        # the cable equation (tens of seconds per build); an O(dt) difference
        lines.append(f"mgb_{n} = 1.0/(1.0 + {receptor.mg_mM / 3.57!r}*exp(-0.062*v/mV)) : 1 "
                     "(constant over dt)")
        lines.append(f"I_{n} = {f}*(B_{n} - A_{n})*{drive}*mgb_{n} : amp")
    else:
        lines.append(f"I_{n} = {f}*(B_{n} - A_{n})*{drive} : amp")
    lines.append(f"g_{n} = {f}*(B_{n} - A_{n}) : siemens")
    return "\n".join(lines)
