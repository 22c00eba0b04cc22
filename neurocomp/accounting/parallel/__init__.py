"""Step time of data-, model- and hybrid-parallel training, and the planner.

``steps`` (:func:`step_time`), ``model_parallel`` (split products, per-layer traffic),
``compression``, ``planning`` (per-layer recommendations), ``scaling``, ``system_plan``
(the planner on a System) and ``registry`` (named systems and workloads).
"""

from neurocomp.accounting.parallel.compression import Compression
from neurocomp.accounting.parallel.planning import recommend_parallelism
from neurocomp.accounting.parallel.registry import (
    SYSTEMS_GROUP,
    WORKLOADS_GROUP,
    RegistryError,
    Workload,
    named_systems,
    named_workloads,
)
from neurocomp.accounting.parallel.scaling import scaling_curve
from neurocomp.accounting.parallel.steps import DoesNotFitError, ParallelOptions, step_time
from neurocomp.accounting.parallel.system_plan import SystemPlan, format_plan, plan_on_system

__all__ = [
    "SYSTEMS_GROUP",
    "WORKLOADS_GROUP",
    "Compression",
    "DoesNotFitError",
    "ParallelOptions",
    "RegistryError",
    "SystemPlan",
    "Workload",
    "format_plan",
    "named_systems",
    "named_workloads",
    "plan_on_system",
    "recommend_parallelism",
    "scaling_curve",
    "step_time",
]
