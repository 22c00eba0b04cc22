r"""FLOPs per event and per compartment-step of a biophysical neuron, from its equations.

A Brian2 ``SpatialNeuron`` run by :class:`~neurocomp.biophysics.pipeline.NeuronPipeline`
does, every time step:

1. **membrane currents** in every compartment: :math:`I_m` (leak, HH Na⁺/K⁺, and the point
   currents :math:`\sum_r I_r/\text{area}` of the receptors), which Brian2 splits into
   :math:`I_0 - g_\text{tot} v` for its implicit solver — counted here as evaluating
   :math:`I_m` twice (once for :math:`I_0`, once for :math:`g_\text{tot}`; Brian2's own
   sympy-simplified forms were not op-counted, so this term is an estimate);
2. **HH gates** :math:`m, h, n` in every compartment when any region has HH channels (Brian2
   integrates one set of equations over all compartments; passive ones just have zero
   densities): the six rate functions :math:`\alpha, \beta`, and for each gate the
   exponential-Euler update :math:`x \leftarrow x_\infty + (x - x_\infty)\,
   e^{-(\alpha+\beta)\,dt}`, :math:`x_\infty = \alpha/(\alpha+\beta)` — 5 FLOPs, a division
   and an ``exp``;
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

Items 1–3 and the release code are counted from the model's own equation strings with
:mod:`neurocomp.accounting.expression_ops`, so changing a channel, a receptor or the release
rule changes the cost; items 4–5 and the exponential-Euler structure are derived by hand
above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from neurocomp.accounting.expression_ops import OpTally, code_ops, expression_ops
from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts
from neurocomp.biophysics.channels import membrane_equations
from neurocomp.biophysics.model import AXONAL_REGIONS, NeuronModel, Stages
from neurocomp.biophysics.receptors import receptor_equations
from neurocomp.biophysics.release import release_code

__all__ = ["SimulationOps", "cable_flop_per_compartment_step", "hines_flop_per_section_step",
           "simulation_ops"]

#: Per-step constants of the membrane and receptor equations.
_MEMBRANE_SCALARS = ("E_rest", "E_Na", "E_K", "dt", "t")
#: Assignments of the release code that only record (not model state).
_BOOKKEEPING = ("vesicles_total", "events_total", "tlast")
_GATES = ("m", "h", "n")


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
        Compartments whose HH gates are integrated (all of them if any region is active,
        as Brian2 does; 0 for a passive model).
    active_compartments : int
        Compartments with non-zero HH densities (what a region-specific simulator would
        integrate).
    cable_flop_per_compartment_step, membrane_flop_per_compartment_step,
    receptor_state_flop_per_compartment_step, gate_flop_per_gated_compartment_step,
    branch_flop_per_section_step, detection_flop_per_step : float
        The per-step terms (items 1–5 of the module notes).
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
    event_flop: Mapping[str, float] = field(default_factory=dict)
    event_random_draws: Mapping[str, int] = field(default_factory=dict)
    costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS

    def __post_init__(self) -> None:
        for name in ("cable_flop_per_compartment_step", "membrane_flop_per_compartment_step",
                     "receptor_state_flop_per_compartment_step",
                     "gate_flop_per_gated_compartment_step", "branch_flop_per_section_step",
                     "detection_flop_per_step"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be ≥ 0 FLOP; got {getattr(self, name)}")
        object.__setattr__(self, "event_flop", MappingProxyType(dict(self.event_flop)))
        object.__setattr__(self, "event_random_draws",
                           MappingProxyType(dict(self.event_random_draws)))

    @property
    def per_step_flop(self) -> float:
        """FLOPs of one time step of the whole cell without synaptic events."""
        return (self.compartments * (self.cable_flop_per_compartment_step
                                     + self.membrane_flop_per_compartment_step
                                     + self.receptor_state_flop_per_compartment_step)
                + self.gated_compartments * self.gate_flop_per_gated_compartment_step
                + self.sections * self.branch_flop_per_section_step
                + self.detection_flop_per_step)


def _gate_flop(with_hh: bool, temperature_C: float, costs: ScalarOpCosts) -> float:
    if not with_hh:
        return 0.0
    lines = membrane_equations(temperature_C=temperature_C, with_hh=True).splitlines()
    rates = OpTally()
    for line in lines:
        name = line.split("=", 1)[0].strip()
        if name.startswith(("alpha_", "beta_")):
            rates = rates + expression_ops(line.split("=", 1)[1].rsplit(":", 1)[0],
                                           scalars=_MEMBRANE_SCALARS, costs=costs)
    update = 5.0 + costs.division_flop + costs.transcendental_flop
    return rates.flop + len(_GATES) * update


def simulation_ops(model: NeuronModel, *, stages: Stages | None = None,
                   costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> SimulationOps:
    """Derive the op costs of simulating ``model`` with the pipeline's ``stages``.

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
    active_regions = [r for r, d in m.densities.items() if d.active]
    active = int(sum(int((table["region"] == r).sum()) for r in active_regions))
    with_hh = bool(active_regions)
    receptors = list(dict.fromkeys(r for g in m.synapse_groups for r in g.receptors))

    membrane = membrane_equations(temperature_C=m.temperature_C, with_hh=with_hh)
    im = membrane.splitlines()[0].split("=", 1)[1].rsplit(":", 1)[0].strip()
    currents = [_receptor_current(r, next(line for line in receptor_equations(
        m.receptors[r], mode=stages.synapses).splitlines() if line.startswith(f"I_{r} =")))
        for r in receptors]
    if currents:
        im = f"{im} + ({' + '.join(f'({c})' for c in currents)})/area"
    membrane_flop = 2.0 * expression_ops(im, scalars=_MEMBRANE_SCALARS, costs=costs).flop

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
        gated_compartments=n_comp if with_hh else 0, active_compartments=active,
        cable_flop_per_compartment_step=cable_flop_per_compartment_step(costs),
        membrane_flop_per_compartment_step=membrane_flop,
        receptor_state_flop_per_compartment_step=2.0 * len(receptors),
        gate_flop_per_gated_compartment_step=_gate_flop(with_hh, m.temperature_C, costs),
        branch_flop_per_section_step=hines_flop_per_section_step(costs),
        detection_flop_per_step=costs.comparison_flop if has_axon else 0.0,
        event_flop=event_flop, event_random_draws=event_draws, costs=costs)
