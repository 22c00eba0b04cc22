"""What a Brian2 simulation costs: FLOPs per neuron-second from equations and events.

``expressions`` prices an equation string, ``equations`` a model's per-unit updates,
``events`` a whole run from a Recording's event counts.
"""

from neurocomp.accounting.simcost.equations import SimulationOps, simulation_ops
from neurocomp.accounting.simcost.events import (
    SimulationCost,
    recording_cost,
    simulation_cost,
    throughput_check,
)
from neurocomp.accounting.simcost.expressions import code_ops, expression_ops

__all__ = [
    "SimulationCost",
    "SimulationOps",
    "code_ops",
    "expression_ops",
    "recording_cost",
    "simulation_cost",
    "simulation_ops",
    "throughput_check",
]
