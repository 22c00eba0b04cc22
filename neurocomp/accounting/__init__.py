"""Accounting: what computation costs, in one FLOP convention (1 multiply-add = 2 FLOPs).

Submodules
----------
convention
    The FLOP convention and MAC conversions.
factors
    :class:`Factor` (a cited value with a range and a sampling distribution),
    :class:`Published` (what a source reports) and :class:`EstimateParameters`, the base of
    every estimate's parameter set.
estimate
    :func:`estimate`: a parameter set evaluated at its central values.
dettmers, synaptic, moravec
    The published brain estimates as pure formulas and their parameter classes: Dettmers
    (2015); Kurzweil (1999) and Kurzweil-style with the post's numbers; Carlsmith (2020,
    mechanistic); AI Impacts (TEPS); Sandberg & Bostrom (2008); Moravec (1998).
bottom_up
    A per-neuron cost scaled by cited neuron counts per type.
uncertainty
    Monte-Carlo, input ranges, tornado and elasticities of any estimate.
hardware
    Types of the hardware catalogue (GPUs, links, supercomputers) and name lookup with
    suggestions; the cited catalogue is ``models.hardware``.
collectives, compression, bucketing
    Collectives in the α–β model (ring, tree, parameter server, hierarchical; nccl-tests
    busbw), gradient compression, DDP-style bucketing and overlap.
model_parallel, parallel, planning, scaling
    Row/column splits checked with real tensors, per-layer traffic, step time for data,
    model and hybrid parallelism, per-layer recommendations, speedup and efficiency.
forecast
    Doublings, year reached, trend fits, GPUs/power/cost to reach an estimate.
counter, count_report, formulas, layer_formulas, op_registry, roofline
    The FLOP/byte counter of PyTorch modules (equal to FlopCounterMode on every op both
    count), its per-op formula registry, and roofline times per layer.
simulation_cost, simulation_ops
    FLOPs a Brian2 simulation spends per neuron-second, from a Recording's event counts.
machine_rates, microbench, step_model, step_measure
    This machine's measured rates (matmul by arithmetic intensity, convolutions, pooling,
    bandwidth, page faults, per-op overheads), the micro-benchmarks that measure them, a
    training step priced op by op from them, and real steps timed for comparison.
ddp_fit, ddp_check
    The α–β line fitted to an all-reduce sweep, DDP's bucketed step predicted from it, and
    the measurement itself: a sweep and DDP training on local gloo (or NCCL) processes.
node, paths, rings, systems, system_files, system_plan, registry
    Multi-GPU systems: nodes and clusters, the hops between any two GPUs (with and without
    GPUDirect RDMA), systems usable wherever a Network is, JSON system files, the planner.

The cited parameter sets themselves live in ``models.brain_estimates`` (the library never
imports ``models``).
"""

from neurocomp.accounting.bottom_up import (
    BottomUpParameters,
    NeuronPopulation,
    bottom_up,
    bottom_up_flop_per_s,
)
from neurocomp.accounting.collectives import (
    AlphaBeta,
    busbw_bytes_per_s,
    collective_time_s,
    ring_allreduce_time_s,
)
from neurocomp.accounting.convention import (
    FLOP_CONVENTION,
    FLOP_PER_MAC,
    flops_to_macs,
    macs_to_flops,
)
from neurocomp.accounting.count_report import (
    CountReport,
    ModuleCost,
    OpCount,
    UncountedOp,
)
from neurocomp.accounting.counter import (
    UntraceableModuleError,
    count,
)
from neurocomp.accounting.counter_check import (
    compare_with_flop_counter_mode,
)
from neurocomp.accounting.ddp_check import DDPCheckConfig, DDPMeasurement, run_ddp_check
from neurocomp.accounting.ddp_fit import (
    AlphaBetaFit,
    DDPPrediction,
    fit_alpha_beta,
    predict_ddp_step,
)
from neurocomp.accounting.dettmers import (
    DettmersDecomposition,
    DettmersParameters,
    dettmers_2015_flop_per_s,
    dettmers_decomposition,
    dettmers_neuron_macs_per_step,
    time_steps_from_latency,
)
from neurocomp.accounting.estimate import (
    Estimate,
    estimate,
    relative_error,
    select,
)
from neurocomp.accounting.factors import (
    DISTRIBUTIONS,
    EstimateParameters,
    Factor,
    Published,
    factor_meta,
)
from neurocomp.accounting.forecast import (
    doublings_needed,
    fit_trend,
    gpus_needed,
    year_reached,
)
from neurocomp.accounting.hardware import (
    Catalogue,
    Device,
    Gpu,
    Interconnect,
    Supercomputer,
    UnknownNameError,
)
from neurocomp.accounting.machine_rates import MachineBenchmark, Probe
from neurocomp.accounting.microbench import benchmark_machine
from neurocomp.accounting.model_parallel import (
    LayerCost,
    split_linear_backward,
    split_linear_forward,
)
from neurocomp.accounting.moravec import (
    MoravecParameters,
    moravec_flop_per_s,
    retina_instructions_per_s,
)
from neurocomp.accounting.node import CpuCoresWarning, HostStaging, Node, NvLink
from neurocomp.accounting.parallel import (
    step_time,
)
from neurocomp.accounting.paths import Hop, Path
from neurocomp.accounting.planning import (
    recommend_parallelism,
)
from neurocomp.accounting.registry import Workload
from neurocomp.accounting.roofline import (
    Roofline,
    roofline,
    roofline_time_s,
)
from neurocomp.accounting.scaling import (
    scaling_curve,
)
from neurocomp.accounting.simulation_cost import (
    SimulationCost,
    recording_cost,
    simulation_cost,
    throughput_check,
)
from neurocomp.accounting.step_measure import StepMeasurement, measure_training_step
from neurocomp.accounting.step_model import StepPrediction, predict_step
from neurocomp.accounting.synaptic import (
    AIImpactsTepsParameters,
    CarlsmithMechanisticParameters,
    KurzweilParameters,
    KurzweilRegionalParameters,
    SandbergBostromParameters,
    entity_update_flop_per_s,
    kurzweil_regional_flop_per_s,
    synaptic_event_flop_per_s,
)
from neurocomp.accounting.system_files import load_system
from neurocomp.accounting.system_plan import plan_on_system
from neurocomp.accounting.systems import Fabric, System
from neurocomp.accounting.uncertainty import (
    MonteCarlo,
    Tornado,
    elasticities,
    input_range,
    method_rng,
    monte_carlo,
    tornado,
)

__all__ = [
    "DISTRIBUTIONS",
    "FLOP_CONVENTION",
    "FLOP_PER_MAC",
    "AIImpactsTepsParameters",
    "AlphaBeta",
    "AlphaBetaFit",
    "BottomUpParameters",
    "CarlsmithMechanisticParameters",
    "Catalogue",
    "CountReport",
    "CpuCoresWarning",
    "DDPCheckConfig",
    "DDPMeasurement",
    "DDPPrediction",
    "DettmersDecomposition",
    "DettmersParameters",
    "Device",
    "Estimate",
    "EstimateParameters",
    "Fabric",
    "Factor",
    "Gpu",
    "Hop",
    "HostStaging",
    "Interconnect",
    "KurzweilParameters",
    "KurzweilRegionalParameters",
    "LayerCost",
    "MachineBenchmark",
    "ModuleCost",
    "MonteCarlo",
    "MoravecParameters",
    "NeuronPopulation",
    "Node",
    "NvLink",
    "OpCount",
    "Path",
    "Probe",
    "Published",
    "Roofline",
    "SandbergBostromParameters",
    "SimulationCost",
    "StepMeasurement",
    "StepPrediction",
    "Supercomputer",
    "System",
    "Tornado",
    "UncountedOp",
    "UnknownNameError",
    "UntraceableModuleError",
    "Workload",
    "benchmark_machine",
    "bottom_up",
    "bottom_up_flop_per_s",
    "busbw_bytes_per_s",
    "collective_time_s",
    "compare_with_flop_counter_mode",
    "count",
    "dettmers_2015_flop_per_s",
    "dettmers_decomposition",
    "dettmers_neuron_macs_per_step",
    "doublings_needed",
    "elasticities",
    "entity_update_flop_per_s",
    "estimate",
    "factor_meta",
    "fit_alpha_beta",
    "fit_trend",
    "flops_to_macs",
    "gpus_needed",
    "input_range",
    "kurzweil_regional_flop_per_s",
    "load_system",
    "macs_to_flops",
    "measure_training_step",
    "method_rng",
    "monte_carlo",
    "moravec_flop_per_s",
    "plan_on_system",
    "predict_ddp_step",
    "predict_step",
    "recommend_parallelism",
    "recording_cost",
    "relative_error",
    "retina_instructions_per_s",
    "ring_allreduce_time_s",
    "roofline",
    "roofline_time_s",
    "run_ddp_check",
    "scaling_curve",
    "select",
    "simulation_cost",
    "split_linear_backward",
    "split_linear_forward",
    "step_time",
    "synaptic_event_flop_per_s",
    "throughput_check",
    "time_steps_from_latency",
    "tornado",
    "year_reached",
]
