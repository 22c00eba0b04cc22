"""Accounting: what computation costs, in one FLOP convention (1 multiply-add = 2 FLOPs).

The package is built of wings, each a sub-package with one job and a small face (its
``__init__``); from outside a wing, import its face. Where each formula lives:

counting
    The FLOP/byte counter of PyTorch modules (:func:`count`; checked op by op against a
    ground truth that computes each op by explicit loops and counts what it does), its
    per-op formula registry, the hand formulas of convolutions, attention, FFTs, pointwise
    and pooling ops and of the paper's layers, count reports.
truth
    The ground truth the counter is checked against: convolutions, matrix products,
    attention, pooling, norms and recurrent cells computed by explicit loops that count what
    they do, independent of the counter's formulas
    (:func:`~neurocomp.accounting.truth.ground_truth_table`).
estimates
    :class:`~neurocomp.accounting.estimates.Factor` (a cited value with a range and a
    distribution), the parameter-set base
    :class:`~neurocomp.accounting.estimates.EstimateParameters`, :func:`estimate`,
    Monte-Carlo, input ranges, tornado, elasticities and the per-method random streams.
brain
    The published brain estimates as pure formulas: Dettmers (2015); Kurzweil; Carlsmith
    (2020); AI Impacts (TEPS); Sandberg & Bostrom (2008); Moravec (1998); bottom-up per-neuron
    costs scaled by neuron counts.
forecast
    Doublings, year reached, trend fits, GPUs, power and cost to reach an estimate.
simcost
    FLOPs a Brian2 simulation spends per neuron-second, from expressions and event counts.
hardware
    Types of the hardware catalogue (GPUs, links, supercomputers) and the
    :class:`~neurocomp.accounting.hardware.Device` the step-time models compute on; the
    cited catalogue is ``neurocomp_models.hardware``.
network
    The α–β model of collectives (ring, tree, hierarchical; nccl-tests busbw), once.
systems
    Multi-GPU systems: nodes, the hops between any two GPUs, rings, systems usable wherever a
    Network is, JSON system files.
parallel
    Step time of data, model and hybrid parallelism, gradient compression, per-layer
    recommendations, scaling curves, the planner on a system, named systems and workloads.
ddp
    DDP's bucketing and overlap, the α–β line fitted to an all-reduce sweep, DDP's step
    predicted from it, and the measurement on local processes.
machine
    This machine's measured rates and the micro-benchmarks behind them, the roofline, a
    training step priced op by op, and real steps timed for comparison.

Shared by the wings: :mod:`~neurocomp.accounting.convention` (the FLOP convention),
:mod:`~neurocomp.accounting.scalar_ops` (the FLOP price of scalar operations) and
:mod:`~neurocomp.accounting.layer_cost` (:class:`LayerCost`, one layer's cost per sample).
The cited parameter sets live in ``neurocomp_models.brain_estimates`` (the library never imports
``neurocomp_models``); ``docs/MODULES.md`` lists every module.
"""

from neurocomp.accounting.convention import FLOP_PER_MAC, flops_to_macs, macs_to_flops
from neurocomp.accounting.counting import count
from neurocomp.accounting.estimates import estimate, monte_carlo
from neurocomp.accounting.layer_cost import LayerCost
from neurocomp.accounting.machine import benchmark_machine, predict_step
from neurocomp.accounting.parallel import plan_on_system, step_time
from neurocomp.accounting.simcost import recording_cost, simulation_cost
from neurocomp.accounting.systems import load_system
from neurocomp.provenance import FLOP_CONVENTION

__all__ = [
    "FLOP_CONVENTION",
    "FLOP_PER_MAC",
    "LayerCost",
    "benchmark_machine",
    "count",
    "estimate",
    "flops_to_macs",
    "load_system",
    "macs_to_flops",
    "monte_carlo",
    "plan_on_system",
    "predict_step",
    "recording_cost",
    "simulation_cost",
    "step_time",
]
