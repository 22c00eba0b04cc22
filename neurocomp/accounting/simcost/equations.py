r"""FLOPs per event and per compartment-step of a biophysical neuron, from its equations.

A Brian2 ``SpatialNeuron`` run by :class:`~neurocomp.biophysics.pipeline.NeuronPipeline`
does, every time step:

1. **membrane currents** in every compartment: :math:`I_m` (the leak, every channel's
   current :math:`\bar g \prod_x x^{p_x} (E - V)`, and the point currents
   :math:`\sum_r I_r/\text{area}` of the receptors), which Brian2 splits into
   :math:`I_0 - g_\text{tot} v` for its implicit solver — counted here as evaluating
   :math:`I_m` twice (once for :math:`I_0`, once for :math:`g_\text{tot}`; Brian2's own
   sympy-simplified forms were not op-counted, so this term is an estimate);
2. **channel gates** in every compartment: one set of equations covers the whole cell, so
   Brian2 integrates *every* gate of *every* channel of the model in every compartment
   (where a region lacks a channel its density is 0, and the gate is still computed). Per
   gate, its expressions (:class:`~neurocomp.biophysics.mechanisms.Gate`) with the
   channel's temperature factor :math:`\phi`, then the exponential-Euler update of a state
   linear in itself, :math:`x \leftarrow x_\infty + (x - x_\infty)\,e^{-dt/\tau}`:

   * a gate written with rates :math:`\alpha, \beta` (``alpha``/``beta``): both rates,
     then :math:`\alpha+\beta`, :math:`x_\infty = \alpha/(\alpha+\beta)`, the exponent
     :math:`-(\alpha+\beta)\,dt` and the update — 5 FLOPs, a division and an ``exp``;
   * a gate written as :math:`x_\infty, \tau` (``inf``, ``tau_ms``): both expressions, the
     exponent :math:`-dt/\tau` (a division; Brian2's :math:`B/A` reduces to
     :math:`-x_\infty`) and the update — 3 FLOPs, a division and an ``exp`` (3 FLOPs
     alone for a constant :math:`\tau`, whose factor :math:`e^{-dt/\tau}` is hoisted);

   a model with a :class:`~neurocomp.biophysics.mechanisms.CalciumPool` also integrates
   ``cai`` in every compartment: the calcium current :math:`i_\mathrm{Ca}` (the ``ica``
   subexpression), the steady state :math:`c_\infty = c_\text{rest} - \tau_d K \gamma
   i_\mathrm{Ca}/d` of :math:`dc/dt = -K\gamma i_\mathrm{Ca}/d - (c - c_\text{rest})/\tau_d`
   and the same 3-FLOP update with its division and ``exp``. The HH squid densities
   (:class:`~neurocomp.biophysics.channels.ChannelDensities`) are priced through their
   channel units (``hh_na``, ``hh_k``), like any other channel;
3. **receptor states**: two linear decays per receptor type per compartment,
   :math:`A \leftarrow A\,e^{-dt/\tau}` (the exponential is a per-step constant): 2 FLOPs;
4. **the cable solve** (Hines' method as Brian2 implements it): per compartment the
   right-hand side :math:`-(C_m/dt)\,v - I_0` (3), and three tridiagonal solves (the
   particular and two homogeneous solutions; Brian2 refactors the matrix each time), each
   a diagonal :math:`a^*_1 - g_\text{tot}` (1) and the Thomas algorithm — forward
   elimination :math:`c'_i = c_i/(b_i - a_i c'_{i-1})`, :math:`d'_i = (d_i - a_i d'_{i-1})/
   (\cdot)` (4 FLOPs, 2 divisions) and back substitution :math:`x_i = d'_i - c'_i x_{i+1}`
   (2) — then the combination :math:`v = v^* + V_p u^- + V_c u^+` (4) and the capacitive
   current :math:`C_m(v - v_\text{prev})/dt` (3); per section, the branch-point system
   (coupling terms 9, the elimination into the parent 2 + a division, the substitution
   2 + a division);
5. **spike detection**: one comparison at the threshold compartment per step (models with
   an axon).

And per synaptic event (one presynaptic spike reaching one synapse): the release code
(:func:`~neurocomp.biophysics.release.release_code`: Tsodyks–Markram update, binomial
draws in stochastic mode) and the delivery :math:`A_r \mathrel{+}= w_r\,n_\text{released}`,
:math:`B_r \mathrel{+}= w_r\,n_\text{released}` for each receptor of the synapse (4 FLOPs per
receptor). Recording bookkeeping (``vesicles_total``, ``events_total``) and event queues
(integer work) are not counted; random draws are reported separately.

Items 1–3 and the release code are counted from the model's own equations and channel
units with :mod:`neurocomp.accounting.simcost.expressions`, so changing a channel, a receptor or
the release rule changes the cost; items 4–5 and the exponential-Euler structure are
derived by hand above. Gate expressions are counted as written, with ``v`` in mV (the
rescaling of Brian2's ``v`` to mV is a constant factor a code generator folds into the
expression's constants) and without common-subexpression elimination (a gate whose
:math:`x_\infty` and :math:`\tau` repeat the same rates pays for them twice, as the
equations Brian2 receives do). What a simulator that integrates each channel only where
it is inserted (NEURON's per-section mechanisms) would spend is
:attr:`SimulationOps.region_specific_gate_flop_per_step`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts
from neurocomp.accounting.simcost.expressions import code_ops, expression_ops
from neurocomp.biophysics import (
    AXONAL_REGIONS,
    Channel,
    Gate,
    NeuronModel,
    Stages,
    brian2_equations,
    receptor_equations,
    release_code,
)

__all__ = ["SimulationOps", "cable_flop_per_compartment_step", "calcium_flop_per_compartment_step",
           "channel_gate_flop", "gate_flop", "hines_flop_per_section_step", "simulation_ops"]

#: Per-step constants of the membrane and receptor equations (``inf``: the open upper bound
#: of a ``clip``).
_SCALARS = ("E_rest", "E_Na", "E_K", "dt", "t", "inf")
#: Names that vary per compartment in a gate expression (the rest are constants).
_PER_ELEMENT = frozenset({"v", "cai"})
_IDENT = re.compile(r"[A-Za-z_]\w*")
#: Assignments of the release code that only record (not model state).
_BOOKKEEPING = ("vesicles_total", "events_total", "tlast")


def cable_flop_per_compartment_step(costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS,
                                    *, solves: int = 3) -> float:
    """Cable solve per compartment and step (item 4 of the module notes).

    Right-hand side 3; per solve a diagonal (1) and Thomas' 6 FLOPs + 2 divisions; the
    combination 4; the capacitive current 3.
    """
    per_solve = 1.0 + 6.0 + 2.0 * costs.division_flop
    return 3.0 + solves * per_solve + 4.0 + 3.0


def hines_flop_per_section_step(costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> float:
    """Branch-point system per section and step: coupling terms (9), the elimination into
    the parent (2 + a division) and the substitution (2 + a division)."""
    return 9.0 + 2.0 * (2.0 + costs.division_flop)


def _flop(expression: str, costs: ScalarOpCosts) -> float:
    return expression_ops(expression, scalars=_SCALARS, costs=costs).flop


def gate_flop(channel: Channel, gate: Gate, *, temperature_C: float,
              costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> float:
    r"""FLOPs of one gate per compartment and step (item 2 of the module notes).

    Rates: :math:`\phi\alpha`, :math:`\phi\beta` as written, + 5 + a division + an ``exp``.
    Steady state and time constant: :math:`x_\infty`, :math:`\tau/\phi` as written, + 3 + a
    division + an ``exp`` (+ 3 only when :math:`\tau` is a constant: the factor
    :math:`e^{-dt/\tau}` is then hoisted out of the loop).

    Parameters
    ----------
    channel : Channel
        The channel the gate belongs to (its temperature factor).
    gate : Gate
        One of ``channel.gates``.
    temperature_C : float
        Temperature of the simulation, °C.
    costs : ScalarOpCosts
    """
    if gate not in channel.gates:
        raise ValueError(f"gate {gate.name!r} is not a gate of channel {channel.name!r}")
    phi = channel.rate_factor(temperature_C)
    update = costs.division_flop + costs.transcendental_flop
    if gate.alpha is not None and gate.beta is not None:
        return (_flop(f"{phi!r}*({gate.alpha})", costs) + _flop(f"{phi!r}*({gate.beta})", costs)
                + 5.0 + update)
    if not _PER_ELEMENT.intersection(_IDENT.findall(gate.tau_ms)):
        update = 0.0  # a constant τ: e^(−dt/τ) is a per-step constant, hoisted
    return _flop(gate.inf, costs) + _flop(f"({gate.tau_ms})/{phi!r}", costs) + 3.0 + update


def channel_gate_flop(channel: Channel, *, temperature_C: float,
                      costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> float:
    """FLOPs of all gates of ``channel`` per compartment and step (sum of :func:`gate_flop`)."""
    return sum(gate_flop(channel, g, temperature_C=temperature_C, costs=costs)
               for g in channel.gates)


def _subexpressions(equations: str) -> dict[str, str]:
    """``name = expr : unit`` lines of Brian2 equations → {name: expr}."""
    out = {}
    for line in equations.splitlines():
        lhs, eq, rhs = line.partition("=")
        if eq and "/dt" not in lhs:
            out[lhs.strip()] = rhs.rsplit(":", 1)[0].strip()
    return out


def calcium_flop_per_compartment_step(model: NeuronModel, *,
                                      costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> float:
    r"""FLOPs of the calcium pool per compartment and step (0 without one): the calcium
    current ``ica`` as the pipeline's equations write it, :math:`c_\infty = c_\text{rest} -
    \tau_d K\gamma\, i_\mathrm{Ca}/d` (:math:`K` a constant) and the update, 3 + a division +
    an ``exp`` (+ a division, a ``log`` and a product for a Nernst E_Ca)."""
    if not model.has_calcium:
        return 0.0
    nernst = model.calcium_nernst
    eqs = brian2_equations(list(model.channels().values()), temperature_C=model.temperature_C,
                           calcium_reversal_mV=model.calcium_reversal_mV, calcium=True,
                           calcium_nernst=nernst)
    ica = _subexpressions(eqs)["ica"]
    steady = "ca_rest - K*ca_decay*ca_gamma*ica/ca_depth_um"  # K = 1000/(2F): a constant
    # E_Ca from cai each step (Nernst): RT/2F · log(cao/cai), a division, a log, a product
    e_ca = (costs.division_flop + costs.transcendental_flop + 1.0) if nernst else 0.0
    return (_flop(ica, costs) + expression_ops(steady, scalars=(*_SCALARS, "K"),
                                                costs=costs).flop
            + 3.0 + costs.division_flop + costs.transcendental_flop + e_ca)


def _receptor_current(name: str, line: str) -> str:
    """``I_x = <expr> : amp`` → ``<expr>``."""
    lhs, rhs = line.split("=", 1)
    if lhs.strip() != f"I_{name}":
        raise ValueError(f"expected the current of receptor {name!r}; got {line!r}")
    return rhs.rsplit(":", 1)[0].strip()


@dataclass(frozen=True, kw_only=True)
class SimulationOps:
    """Op costs of one neuron model's simulation, per unit of work (FLOP).

    Attributes
    ----------
    model : str
        The model's name.
    compartments, sections : int
        Size of the morphology.
    gated_compartments : int
        Compartments whose gates (and calcium pool) are integrated: all of them if the model
        has any channel or a calcium pool, as Brian2 does (one set of equations covers the
        cell); 0 for a passive model.
    active_compartments : int
        Compartments with a non-zero density of at least one channel (what a simulator that
        inserts channels per region would integrate).
    cable_flop_per_compartment_step, membrane_flop_per_compartment_step,
    receptor_state_flop_per_compartment_step, gate_flop_per_gated_compartment_step,
    branch_flop_per_section_step, detection_flop_per_step : float
        The per-step terms (items 1–5 of the module notes). The gate term includes the
        calcium pool's.
    gate_flop_by_channel : mapping of str to float
        The gates of each channel per gated compartment-step (their sum plus
        ``calcium_flop_per_gated_compartment_step`` is the gate term).
    calcium_flop_per_gated_compartment_step : float
        The calcium pool's update (0 without one).
    channel_compartments : mapping of str to int
        Compartments where each channel's density is non-zero.
    calcium_compartments : int
        Compartments in regions with a calcium pool.
    event_flop : mapping of str to float
        Release and delivery per synaptic event, by synapse group.
    event_random_draws : mapping of str to int
        Random numbers drawn per synaptic event, by synapse group.
    costs : ScalarOpCosts
    """

    model: str
    compartments: int
    sections: int
    gated_compartments: int
    active_compartments: int
    cable_flop_per_compartment_step: float
    membrane_flop_per_compartment_step: float
    receptor_state_flop_per_compartment_step: float
    gate_flop_per_gated_compartment_step: float
    branch_flop_per_section_step: float
    detection_flop_per_step: float
    gate_flop_by_channel: Mapping[str, float] = field(default_factory=dict)
    calcium_flop_per_gated_compartment_step: float = 0.0
    channel_compartments: Mapping[str, int] = field(default_factory=dict)
    calcium_compartments: int = 0
    event_flop: Mapping[str, float] = field(default_factory=dict)
    event_random_draws: Mapping[str, int] = field(default_factory=dict)
    costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS

    def __post_init__(self) -> None:
        for name in ("cable_flop_per_compartment_step", "membrane_flop_per_compartment_step",
                     "receptor_state_flop_per_compartment_step",
                     "gate_flop_per_gated_compartment_step", "branch_flop_per_section_step",
                     "detection_flop_per_step", "calcium_flop_per_gated_compartment_step"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be ≥ 0 FLOP; got {getattr(self, name)}")
        for name in ("gate_flop_by_channel", "channel_compartments", "event_flop",
                     "event_random_draws"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def per_step_flop(self) -> float:
        """FLOPs of one time step of the whole cell without synaptic events."""
        return (self.compartments * (self.cable_flop_per_compartment_step
                                     + self.membrane_flop_per_compartment_step
                                     + self.receptor_state_flop_per_compartment_step)
                + self.gated_compartments * self.gate_flop_per_gated_compartment_step
                + self.sections * self.branch_flop_per_section_step
                + self.detection_flop_per_step)

    @property
    def region_specific_gate_flop_per_step(self) -> float:
        """Gate and calcium FLOPs per step if each channel were integrated only where its
        density is non-zero (and the pool only where a region has one) — NEURON's
        per-section mechanisms, not what the Brian2 pipeline does."""
        return (sum(self.channel_compartments.get(c, 0) * f
                    for c, f in self.gate_flop_by_channel.items())
                + self.calcium_compartments * self.calcium_flop_per_gated_compartment_step)


def simulation_ops(model: NeuronModel, *, stages: Stages | None = None,
                   costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> SimulationOps:
    """Derive the op costs of simulating ``model`` with the pipeline's ``stages``.

    Any membrane is priced from its channel units (HH squid densities through ``hh_na``
    and ``hh_k``): the membrane current from each channel's current term, the gates from
    each gate's expressions, the calcium pool from its current and update — in every
    compartment, because Brian2 integrates one set of equations over the whole cell.

    Parameters
    ----------
    model : NeuronModel
        The neuron as built (before stages are applied).
    stages : Stages, optional
        Which stages are on (default ``Stages()``: all, stochastic release).
    costs : ScalarOpCosts
        FLOPs per division, transcendental, comparison and random draw.
    """
    if not isinstance(model, NeuronModel):
        raise TypeError(f"model must be a NeuronModel; got {type(model).__name__}")
    if not isinstance(costs, ScalarOpCosts):
        raise TypeError(f"costs must be a ScalarOpCosts; got {type(costs).__name__}")
    stages = stages if stages is not None else Stages()
    m = model.with_stages(stages)
    table = m.morphology.compartment_table()
    n_comp = m.morphology.n_compartments
    channels = m.channels()
    membranes = m.membranes()

    # where each channel has a non-zero density, and where a calcium pool is
    density = {c: np.zeros(n_comp) for c in channels}
    pooled = np.zeros(n_comp, dtype=bool)
    for region, mem in membranes.items():
        sel = table["region"] == region
        for cd in mem.channels:
            density[cd.channel.name][sel] = cd.at(table["distance_um"][sel])
        pooled[sel] = mem.calcium is not None
    channel_compartments = {c: int(np.count_nonzero(d)) for c, d in density.items()}
    active = int(np.count_nonzero(np.any([d > 0 for d in density.values()], axis=0))
                 if density else 0)

    receptors = list(dict.fromkeys(r for g in m.synapse_groups for r in g.receptors))
    equations = brian2_equations(list(channels.values()), temperature_C=m.temperature_C,
                                 calcium_reversal_mV=m.calcium_reversal_mV,
                                 calcium=m.has_calcium,
                                 calcium_nernst=m.calcium_nernst)
    im = _subexpressions(equations)["Im"]
    receptor_lines = {r: receptor_equations(m.receptors[r], mode=stages.synapses).splitlines()
                      for r in receptors}
    currents = [_receptor_current(r, next(line for line in lines
                                          if line.startswith(f"I_{r} =")))
                for r, lines in receptor_lines.items()]
    # terms held over a step ("constant over dt", e.g. the NMDA Mg block) are computed once
    # per step; the membrane current itself twice (I0 and g_tot of the cable solver)
    held = [line.split("=", 1)[1].rsplit(":", 1)[0].strip()
            for lines in receptor_lines.values() for line in lines
            if line.endswith("(constant over dt)")]
    if currents:
        im = f"{im} + ({' + '.join(f'({c})' for c in currents)})/area"
    membrane_flop = (2.0 * expression_ops(im, scalars=_SCALARS, costs=costs).flop
                     + sum(expression_ops(h, scalars=_SCALARS, costs=costs).flop for h in held))

    by_channel = {name: channel_gate_flop(c, temperature_C=m.temperature_C, costs=costs)
                  for name, c in channels.items()}
    calcium = calcium_flop_per_compartment_step(m, costs=costs)
    gated = n_comp if (channels or m.has_calcium) else 0

    event_flop, event_draws = {}, {}
    for g in m.synapse_groups:
        code = release_code(g.release, mode=stages.release)
        code += "\n" + "\n".join(f"A_{r}_post += w_{r}*released\nB_{r}_post += w_{r}*released"
                                 for r in g.receptors)
        tally = code_ops(code, scalars=("t",), costs=costs, skip=_BOOKKEEPING)
        event_flop[g.name] = tally.flop
        event_draws[g.name] = tally.random_draws
    has_axon = any(r in m.morphology.regions for r in AXONAL_REGIONS[1:])
    return SimulationOps(
        model=m.name, compartments=n_comp, sections=len(m.morphology.sections),
        gated_compartments=gated, active_compartments=active,
        cable_flop_per_compartment_step=cable_flop_per_compartment_step(costs),
        membrane_flop_per_compartment_step=membrane_flop,
        receptor_state_flop_per_compartment_step=2.0 * len(receptors),
        gate_flop_per_gated_compartment_step=sum(by_channel.values()) + calcium,
        branch_flop_per_section_step=hines_flop_per_section_step(costs),
        detection_flop_per_step=costs.comparison_flop if has_axon else 0.0,
        gate_flop_by_channel=by_channel, calcium_flop_per_gated_compartment_step=calcium,
        channel_compartments=channel_compartments,
        calcium_compartments=int(pooled.sum()) if m.has_calcium else 0,
        event_flop=event_flop, event_random_draws=event_draws, costs=costs)
