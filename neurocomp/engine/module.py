"""``CompartmentalNeuron``: the engine as an ``nn.Module`` whose biophysics are parameters.

Every value of :func:`~neurocomp.engine.simulate.base_parameters` — channel densities,
leak, capacitance, axial resistivity, synaptic weights — is held by the module; the names in
``trainable`` are ``nn.Parameter``\\ s (the others buffers), so an optimiser fits them and the
module sits in a larger graph (e.g. a convnet producing the input tensor). ``forward`` takes
per-group input tensors ``(batch, n_steps, n_sources)`` of released amounts (or spike trains)
and returns an :class:`~neurocomp.engine.simulate.EngineRun` with the voltages at the
recorded compartments and the output spikes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocomp.biophysics import NeuronModel, Stages
from neurocomp.checks import check_choice
from neurocomp.engine.cell import cell_spec
from neurocomp.engine.checks import check_inputs, check_params, check_run, max_dt_ms
from neurocomp.engine.dynamics import METHODS, CellDynamics
from neurocomp.engine.inputs import build_events
from neurocomp.engine.simulate import EngineRun, base_parameters, run_cell

__all__ = ["CompartmentalNeuron"]


class CompartmentalNeuron(nn.Module):
    """A multicompartment neuron as a differentiable layer.

    Parameters
    ----------
    model : NeuronModel
        The neuron.
    stages : Stages, optional
        Stage switches (default ``Stages(release="deterministic")``).
    dt_ms : float
        Time step, ms.
    trainable : sequence of str
        Parameter names to train (see ``base_parameters``); ``()`` trains nothing.
    record : sequence of int
        Compartments whose voltage ``forward`` returns (default: the soma).
    dtype : torch.dtype
        float64 or float32.
    checkpoint : bool
        Recompute time windows in the backward pass (memory ∝ one window, not the run).
    window : int
        Steps per window.
    compile : bool
        Run the step through ``torch.compile`` (see ``CellDynamics.stepper``).
    method : {"backward_euler", "crank_nicolson"}
        The voltage integrator (see ``CellDynamics``).
    """

    def __init__(self, model: NeuronModel, *, stages: Stages | None = None,
                 dt_ms: float = 0.025, trainable: Sequence[str] = (),
                 record: Sequence[int] = (0,), dtype: torch.dtype = torch.float64,
                 checkpoint: bool = False, window: int = 400, compile: bool = False,
                 method: str = "backward_euler") -> None:
        super().__init__()
        self.method = check_choice("method", method, METHODS)  # checked here: the dynamics
        # are built at the first forward pass
        self.stages = stages if stages is not None else Stages(release="deterministic")
        self.model = model.with_stages(self.stages)
        self.spec = cell_spec(model, self.stages)
        self.dt_ms = float(dt_ms)
        check_run(duration_ms=self.dt_ms, dt_ms=self.dt_ms, record_dt_ms=None,
                  dt_max_ms=max_dt_ms(self.spec), dtype=dtype)
        base = base_parameters(self.spec)
        unknown = sorted(set(trainable) - set(base))
        if unknown:
            raise ValueError(f"trainable names unknown parameters {unknown}; known: "
                             f"{sorted(base)}")
        self.trainable = tuple(trainable)
        for name, value in base.items():
            t = torch.as_tensor(np.array(value, dtype=np.float64), dtype=dtype)
            if name in self.trainable:
                self.register_parameter(name, nn.Parameter(t))
            else:
                self.register_buffer(name, t)
        n = self.spec.tree.n_compartments
        bad = [c for c in record if not 0 <= int(c) < n]
        if bad:
            raise ValueError(f"record compartment {bad[0]} does not exist (0 to {n - 1})")
        self.record = [int(self.spec.tree.node_of_compartment[c]) for c in record]
        self.checkpoint, self.window = bool(checkpoint), int(window)
        self.compile = bool(compile)
        self._dyn: dict[tuple[Any, Any], CellDynamics] = {}

    def parameters_by_name(self) -> dict[str, torch.Tensor]:
        """Every biophysical value (parameters and buffers), by name."""
        return {name: getattr(self, name) for name in base_parameters(self.spec)}

    def _dynamics(self, dtype: torch.dtype, device: torch.device) -> CellDynamics:
        key = (dtype, str(device))
        if key not in self._dyn:
            self._dyn[key] = CellDynamics(self.spec, dt_ms=self.dt_ms, dtype=dtype,
                                          device=device, method=self.method)
        return self._dyn[key]

    def forward(self, inputs: Mapping[str, Any] | None = None, *, n_steps: int | None = None,
                batch: int | None = None, i_ext: torch.Tensor | None = None,
                seed: int = 0) -> EngineRun:
        """Simulate; ``n_steps`` defaults to the input tensors' second dimension.

        Parameters
        ----------
        inputs : mapping of group name to tensor (B, n_steps, n_sources) or SpikeTrains
            Released amounts per source and step (or spike trains).
        n_steps : int, optional
            Steps to simulate (needed when no input tensor gives it).
        batch : int, optional
            Batch rows (default from the inputs or parameters).
        i_ext : torch.Tensor, (n_steps, B or 1, n_nodes), optional
            Injected current per node, nA.
        seed : int
            Seed of stochastic release.
        """
        params = self.parameters_by_name()
        ref = next(iter(params.values()))
        if n_steps is None:
            tensors = [v for v in (inputs or {}).values() if isinstance(v, torch.Tensor)]
            if not tensors:
                raise ValueError("n_steps is required when no input tensor gives it")
            n_steps = int(tensors[0].shape[1])
        if not isinstance(n_steps, int) or n_steps < 1:
            raise ValueError(f"n_steps must be an integer ≥ 1; got {n_steps!r}")
        ins, batch = check_inputs(inputs, self.model, duration_ms=n_steps * self.dt_ms,
                                  batch=batch, n_steps=n_steps)
        dyn = self._dynamics(ref.dtype, ref.device)
        p, batch = check_params(params, params, dyn.tensor, batch=batch)
        events = build_events(ins, groups=self.model.synapse_groups,
                              slot_groups=[s.group for s in self.spec.slots],
                              synapse_nodes=self.spec.synapse_nodes,
                              n_nodes=self.spec.tree.n_nodes, batch=batch, stages=self.stages,
                              dt_ms=self.dt_ms, n_steps=n_steps, seed=seed, device=ref.device)
        return run_cell(dyn, p, events, n_steps=n_steps, batch=batch,
                        record_nodes=self.record, i_ext=i_ext, window=self.window,
                        checkpoint_windows=self.checkpoint, compile=self.compile)
