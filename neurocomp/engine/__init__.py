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
:class:`~neurocomp.biophysics.Recording` interface), ``module`` (an ``nn.Module``) and
``fit`` (parameters fitted to a voltage trace by Adam on log scales).

Speed: every gate of every channel lives in one state tensor (B, G) and is updated by one
exponential-Euler expression; channel sites reach the nodes by one gather-and-sum; the solve
is a chain of functional per-level sweeps. ``simulate(..., compile=True)`` (or
``CompartmentalNeuron(compile=True)``) runs the step through ``torch.compile``: inductor fuses
the gate expressions into one vectorised C++ kernel (on the L5 cell, 0.21 ms per step at
batch 1 and 1.8 ms at batch 64 in float32 on one shared core, against 2.5 and 5.1 ms for the
first version; ``benchmarks/results/torch_engine.json``). ``threads=1`` avoids OpenMP
spin-waits on a loaded machine (the first version's 19 ms per step at batch 1 was mostly
that). The plain step is the fallback and equals the first version to round-off
(``tests/test_engine_regression.py``).

This face is the package's contract: code outside ``neurocomp/engine/`` imports from here.
"""

from neurocomp.engine.cell import CellSpec, cell_spec
from neurocomp.engine.dynamics import METHODS, CellDynamics
from neurocomp.engine.expressions import evaluate_torch, exprel
from neurocomp.engine.fit import ScaleFit, fit_scales, scaled_voltage
from neurocomp.engine.module import CompartmentalNeuron
from neurocomp.engine.simulate import FIRST_STEPS, EngineRun, base_parameters, run_cell, simulate
from neurocomp.engine.solver import TreePlan, tree_solve
from neurocomp.engine.tree import CableTree, cable_tree

__all__ = [
    "FIRST_STEPS",
    "METHODS",
    "CableTree",
    "CellDynamics",
    "CellSpec",
    "CompartmentalNeuron",
    "EngineRun",
    "ScaleFit",
    "TreePlan",
    "base_parameters",
    "cable_tree",
    "cell_spec",
    "evaluate_torch",
    "exprel",
    "fit_scales",
    "run_cell",
    "scaled_voltage",
    "simulate",
    "tree_solve",
]
