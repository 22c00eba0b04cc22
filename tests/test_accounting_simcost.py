"""Simulation cost: op counts of the model's equations, linear in every count, and a real run.

Theory tier: the expression op counter on equations counted by hand; the per-unit costs of
the ball-and-stick model derived term by term (the derivations are in the comments). The
run tier: a 10 ms ball-and-stick simulation on Brian2's numpy target, whose counted FLOPs
must imply a rate below this machine's measured peak.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from brian2 import ms
from neurocomp_models.channels import HAY_CHANNELS
from neurocomp_models.neurons import ball_and_stick_model, l5_pyramidal

from neurocomp.accounting import simulation_cost
from neurocomp.accounting.scalar_ops import ScalarOpCosts
from neurocomp.accounting.simcost import (
    code_ops,
    expression_ops,
    recording_cost,
    simulation_ops,
    throughput_check,
)
from neurocomp.accounting.simcost.equations import (
    cable_flop_per_compartment_step,
    channel_gate_flop,
    gate_flop,
)
from neurocomp.accounting.simcost.events import COUNT_NAMES, events_by_group
from neurocomp.biophysics import inputs as spikes
from neurocomp.biophysics.model import Stages
from neurocomp.biophysics.pipeline import NeuronPipeline
from neurocomp.biophysics.release import ReleaseParameters

SCALARS = ("E_rest", "E_Na", "E_K")


# -- counting the arithmetic of equations ------------------------------------------------------

def test_expression_ops_by_hand():
    assert expression_ops("gL*(E_L - v)").flop == 2                       # −, ×
    assert expression_ops("gNa*m**3*h*(E_Na - v)", scalars=SCALARS).flop == 6  # m³: 2, −, 3 ×
    assert expression_ops("n**4").flop == 2                               # (n²)²
    # constants fold: (25 mV + E_rest) − v is one subtraction; /(10 mV) one multiply
    assert expression_ops("(25*mV - (v - E_rest))/(10*mV)", scalars=SCALARS).flop == 2
    # 1/(1 + c·e^{−0.062 v/mV}): ×, exp, ×, +, ÷
    block = expression_ops("1.0/(1.0 + 0.28*exp(-0.062*v/mV))")
    assert block.flop == 5
    heavy = expression_ops("1.0/(1.0 + 0.28*exp(-0.062*v/mV))",
                           costs=ScalarOpCosts(transcendental_flop=20, division_flop=4))
    assert heavy.flop == 3 + 20 + 4
    assert expression_ops("A*exp(-dt/tau)", scalars=("dt", "tau")).flop == 1  # hoisted exp
    draws = code_ops("occ = occ + (1 - occ)*int(rand() < p)\nrel = occ*int(rand() < u)")
    assert draws.random_draws == 2 and draws.flop == 4 + 2
    assert code_ops("x += w*r\nevents_total = events_total + 1",
                    skip=("events_total",)).flop == 2
    with pytest.raises(ValueError, match="no FLOP count for function 'frobnicate'"):
        expression_ops("frobnicate(v)")
    with pytest.raises(ValueError, match="cannot parse expression"):
        expression_ops("v +* 2")


def test_ball_and_stick_op_costs_derived_from_its_equations():
    ops = simulation_ops(ball_and_stick_model())
    # 40 dendrite + 1 soma + 3 AIS + 40 axon compartments in 4 sections, all HH-gated
    assert (ops.compartments, ops.sections, ops.gated_compartments) == (84, 4, 84)
    # cable: rhs 3 + 3 solves × (diagonal 1 + Thomas 6 + 2 divisions) + combine 4 + Ic 3
    assert ops.cable_flop_per_compartment_step == 3 + 3 * 9 + 4 + 3 == 37
    # HH rates: α_m 4, β_m 4, α_h 4, β_h 5, α_n 4, β_n 4 = 25; 3 exponential-Euler updates of
    # 5 + a division + an exp = 21 (priced from the channel units hh_na, hh_k since the
    # accounting reads channel units; the same count as the legacy HH equations gave)
    assert ops.gate_flop_per_gated_compartment_step == 25 + 21
    assert dict(ops.gate_flop_by_channel) == {"hh_na": 4 + 4 + 4 + 5 + 2 * 7, "hh_k": 4 + 4 + 7}
    # I_m: leak 2 + Na 6 + K 5 + 2 adds = 15; AMPA 4, NMDA 5 (× the held Mg block),
    # GABA_A 4, 2 adds, /area, + 1 = 17 → 32, counted twice (I0 and g_tot); the Mg block
    # 1/(1 + c·exp(−0.062·v/mV)) — ×, exp, ×, +, ÷ (v/mV strips a unit: free) = 5 — is
    # computed once per step
    assert ops.membrane_flop_per_compartment_step == 2 * 32 + 5
    assert ops.receptor_state_flop_per_compartment_step == 2 * 3
    # stochastic release, 1 site: Δt 1, p_refill 3, refill 4, release 2, occupancy 1, sum 1
    # = 12; delivery 2 states × 2 FLOPs per receptor (exc: AMPA + NMDA, inh: GABA_A)
    assert dict(ops.event_flop) == {"exc": 12 + 8, "inh": 12 + 4}
    assert dict(ops.event_random_draws) == {"exc": 2, "inh": 2}
    assert ops.detection_flop_per_step == 1


def test_model_and_convention_changes_change_the_cost():
    model = ball_and_stick_model()
    base = simulation_ops(model)
    counts = {"steps": 400, "compartment_steps": 400 * 84, "synaptic_events": 30}
    by_group = {"exc": 25, "inh": 5}

    def total(m=model, stages=None, costs=None):
        return simulation_cost(model=m, counts=counts, duration_s=0.01, stages=stages,
                               synaptic_events_by_group=by_group,
                               costs=costs or ScalarOpCosts()).total_flop

    reference = total()
    assert total(stages=Stages(nmda=False)) < reference
    # deterministic release: the expectation, no random draws (for one release site its
    # arithmetic happens to cost the same 12 FLOPs as the binomial draws' bookkeeping)
    deterministic = simulation_ops(model, stages=Stages(release="deterministic"))
    assert dict(deterministic.event_random_draws) == {"exc": 0, "inh": 0}
    assert total(costs=ScalarOpCosts(transcendental_flop=20)) > reference
    facilitating = dataclasses.replace(model, synapse_groups=(
        dataclasses.replace(model.synapse_groups[0], release=ReleaseParameters(
            U=0.2, tau_rec_ms=100.0, tau_facil_ms=50.0, n_sites=3)),
        model.synapse_groups[1]))
    assert simulation_ops(facilitating).event_flop["exc"] > base.event_flop["exc"]
    assert total(m=facilitating) > reference
    assert simulation_ops(facilitating).event_random_draws["exc"] == 2 * 3  # 2 per site
    passive = ball_and_stick_model(axon=False, active_dendrite=False)
    # the soma keeps HH channels, so every compartment still integrates gates (as Brian2 does)
    assert simulation_ops(passive).gated_compartments == passive.morphology.n_compartments
    assert simulation_ops(passive).active_compartments == 1
    assert cable_flop_per_compartment_step(ScalarOpCosts(division_flop=3)) == 37 + 3 * 2 * 2


def test_hay_cell_gate_cost_is_the_sum_of_its_gates():
    model = l5_pyramidal()
    ops = simulation_ops(model)
    sk = HAY_CHANNELS["SKv3_1"]  # no Q10: φ = 1 at 34 °C
    # by hand: m∞ = 1/(1 + exp((v − 18.7)/(−9.7))): −, ×, exp, +, ÷ = 5; τ = 4/(1 +
    # exp((v + 46.56)/(−44.14)))/φ: 5 likewise (4/φ folds into the division); the update
    # x∞ + (x − x∞)·exp(−dt/τ): ÷, exp, −, ×, + = 5
    assert ops.gate_flop_by_channel["SKv3_1"] == 5 + 5 + 5
    heavy = ScalarOpCosts(transcendental_flop=20, division_flop=4)
    assert channel_gate_flop(sk, temperature_C=34.0, costs=heavy) == 3 * (3 + 20 + 4)
    # Brian2 integrates every gate of every channel in every compartment, plus the pool:
    # exact sums of the per-gate counts (integers in float64)
    assert ops.gated_compartments == model.morphology.n_compartments == 342
    per_gate = sum(gate_flop(c, g, temperature_C=model.temperature_C)
                   for c in model.channels().values() for g in c.gates)
    assert ops.gate_flop_per_gated_compartment_step == (
        per_gate + ops.calcium_flop_per_gated_compartment_step)
    assert sum(ops.gate_flop_by_channel.values()) == per_gate
    # calcium: ica = Ca_HVA + Ca_LVAst, each ḡ·m²·h·(v − E_Ca): m² 1, − 1, 3 × = 5, + 1 = 11;
    # c∞ = c_rest − K·τ_d·γ·ica/d: 3 ×, ÷, − = 5; update ÷, exp, 3 = 5
    assert ops.calcium_flop_per_gated_compartment_step == 11 + 5 + 5
    # SK_E2 has a constant τ (1 ms): its exp(−dt/τ) is hoisted, the update costs 3;
    # z∞ = 1/(1 + (4.3e-4/clip(cai))**4.8): clip 2, ÷, pow (transcendental), +, ÷ = 6
    assert ops.gate_flop_by_channel["SK_E2"] == 6 + 3
    # passive dendrites drop Im (apical only); the soma's channels are still integrated in
    # every compartment, so the cost per gated compartment falls by exactly Im's gates
    passive = simulation_ops(model, stages=Stages(dendrites="passive"))
    assert passive.gated_compartments == 342 and "Im" not in passive.gate_flop_by_channel
    assert (ops.gate_flop_per_gated_compartment_step
            - passive.gate_flop_per_gated_compartment_step) == ops.gate_flop_by_channel["Im"]
    assert passive.active_compartments == 4  # the soma and the 3 channel-bearing axon ones
    assert passive.region_specific_gate_flop_per_step < ops.region_specific_gate_flop_per_step


@pytest.mark.parametrize("name", ["steps", "compartment_steps", "exc", "inh"])
def test_cost_is_linear_in_every_count(name):
    model = ball_and_stick_model()
    counts = {"steps": 400, "compartment_steps": 400 * 84, "synaptic_events": 30}
    by_group = {"exc": 25, "inh": 5}

    def cost(scale: float) -> float:
        c, g = dict(counts), dict(by_group)
        if name in g:
            g[name] = int(g[name] * scale)
            c["synaptic_events"] = sum(g.values())
        else:
            c[name] = int(c[name] * scale)
        return simulation_cost(model=model, counts=c, duration_s=0.01,
                               synaptic_events_by_group=g).total_flop

    one, two, three = cost(1), cost(2), cost(3)
    assert three - two == pytest.approx(two - one, rel=1e-12)   # affine in the count …
    zero = dict(counts, **{k: 0 for k in counts})
    empty = simulation_cost(model=model, counts=zero, duration_s=0.01,
                            synaptic_events_by_group={"exc": 0, "inh": 0}).total_flop
    assert empty == 0                                            # … and 0 without any work
    assert two - one > 0


def test_bad_counts_give_clear_errors():
    model = ball_and_stick_model()
    good = {"steps": 10, "compartment_steps": 840, "synaptic_events": 2}
    kwargs = {"model": model, "duration_s": 0.001, "synaptic_events_by_group":
              {"exc": 1, "inh": 1}}
    with pytest.raises(ValueError, match=r"counts\['steps'\] must be an integer in \[0, inf\]"):
        simulation_cost(counts={**good, "steps": -1}, **kwargs)
    with pytest.raises(ValueError, match="unknown count name 'spikes'"):
        simulation_cost(counts={**good, "spikes": 3}, **kwargs)
    with pytest.raises(ValueError, match="'compartment_steps' is missing"):
        simulation_cost(counts={"steps": 1, "synaptic_events": 0}, **kwargs)
    with pytest.raises(ValueError, match="pass synaptic_events_by_group"):
        simulation_cost(model=model, counts=good, duration_s=0.001)
    with pytest.raises(ValueError, match="unknown synapse group 'gaba'"):
        simulation_cost(model=model, counts=good, duration_s=0.001,
                        synaptic_events_by_group={"gaba": 2})
    with pytest.raises(ValueError, match="sums to 3, not"):
        simulation_cost(model=model, counts=good, duration_s=0.001,
                        synaptic_events_by_group={"exc": 2, "inh": 1})
    with pytest.raises(ValueError, match=r"duration_s must be in \(0, inf\) s"):
        simulation_cost(counts=good, **{**kwargs, "duration_s": 0.0})
    with pytest.raises(ValueError, match="division_flop must be in"):
        ScalarOpCosts(division_flop=-2)
    assert set(good) <= set(COUNT_NAMES)


# -- a real run ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_run():
    model = ball_and_stick_model(n_excitatory=20, n_inhibitory=4, n_compartments=10)
    rng = np.random.default_rng(3)
    trains = {"exc": spikes.poisson(n_sources=20, rate_hz=100.0, duration_ms=10.0, rng=rng),
              "inh": spikes.poisson(n_sources=4, rate_hz=20.0, duration_ms=10.0, rng=rng)}
    rec = NeuronPipeline(model).run(trains, duration=10 * ms, backend="numpy", seed=1)
    return model, rec


def test_cost_of_a_simulated_run(small_run):
    model, rec = small_run
    cost = recording_cost(rec, model)
    ops = cost.ops
    by_group = events_by_group(rec, model)
    assert sum(by_group.values()) == rec.counts["synaptic_events"] > 0
    # every term by hand: per-step work × steps + per-event work × events
    expected = ops.per_step_flop * rec.counts["steps"] + sum(
        n * ops.event_flop[g] for g, n in by_group.items())
    assert cost.total_flop == pytest.approx(expected, rel=1e-12)
    assert cost.flop_per_neuron_second == pytest.approx(cost.total_flop / 0.010, rel=1e-12)
    frame = cost.to_frame()
    assert frame["share"].sum() == pytest.approx(1.0)
    # the compartment terms dominate a lightly driven cell
    assert cost.share("cable solve") + cost.share("membrane currents") > 0.5
    with pytest.raises(ValueError, match="the recording is of model 'ball_and_stick'"):
        recording_cost(rec, dataclasses.replace(model, name="other"))


def test_counted_flops_imply_less_than_the_machine_can_do(small_run):
    model, rec = small_run
    check = throughput_check(recording_cost(rec, model), run_s=rec.timing["run_s"])
    # numpy interprets Brian2's code: far below a float64 matmul's rate, and never above it
    assert 0 < check.fraction_of_peak < 1
    assert check.plausible
    assert check.implied_flop_per_s == pytest.approx(check.flop / rec.timing["run_s"])
