"""A batched, differentiable multicompartment engine in PyTorch (issue 17).

The same :class:`~neurocomp.biophysics.NeuronModel` the Brian2 pipeline runs — morphology,
channel units, receptors, synapse groups, inputs — simulated on tensors: many cells,
parameter sets and input patterns at once, float64 for validation or float32 for speed, on
the device of the tensors, with gradients.

Modules: ``expressions`` (the channel units' expression strings evaluated with PyTorch),
``tree`` (the compartments as Brian2's ``SpatialNeuron`` discretises them), ``solver``
(Hines elimination scheduled by tree levels, an autograd function), ``cell`` (a model laid
out per node), ``dynamics`` (one exponential-Euler/backward-Euler step in Brian2's order),
``inputs`` (spike trains and release as events), ``checks``, ``simulate`` (the
:class:`~neurocomp.biophysics.Recording` interface) and ``module`` (an ``nn.Module``).

This face is the package's contract: code outside ``neurocomp/engine/`` imports from here.
"""

from neurocomp.engine.cell import CellSpec, cell_spec
from neurocomp.engine.dynamics import CellDynamics
from neurocomp.engine.expressions import evaluate_torch, exprel
from neurocomp.engine.module import CompartmentalNeuron
from neurocomp.engine.simulate import EngineRun, base_parameters, run_cell, simulate
from neurocomp.engine.solver import TreePlan, tree_solve
from neurocomp.engine.tree import CableTree, cable_tree

__all__ = [
    "CableTree",
    "CellDynamics",
    "CellSpec",
    "CompartmentalNeuron",
    "EngineRun",
    "TreePlan",
    "base_parameters",
    "cable_tree",
    "cell_spec",
    "evaluate_torch",
    "exprel",
    "run_cell",
    "simulate",
    "tree_solve",
]
