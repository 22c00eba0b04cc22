"""The engine behind ``NeuronPipeline.run(..., backend="torch")``.

Registered in the entry-point group ``neurocomp.engines`` (``pyproject.toml``), so the Brian2
pillar finds it by name without importing this package. It runs the pipeline's model and
stages on the checked arguments of the run, in float64 on the CPU, and records the membrane
potential ``v`` at the run's sites (the engine's state variables are not named like Brian2's,
so other variables are not recorded: their traces are left out of the ``Recording``).
"""

from __future__ import annotations

from typing import Any

import torch

from neurocomp.biophysics import Recording
from neurocomp.engine.simulate import simulate

__all__ = ["run_pipeline"]


def run_pipeline(pipeline: Any, spec: Any) -> Recording:
    """Simulate ``pipeline`` (a :class:`~neurocomp.biophysics.NeuronPipeline`) on ``spec``,
    the checked arguments of its ``run`` (durations in ms), with the PyTorch engine.

    Returns
    -------
    Recording
        As Brian2's, with ``backend="torch"``.
    """
    return simulate(pipeline.base_model, spec.trains, stages=pipeline.stages,
                    duration_ms=spec.duration_ms, dt_ms=spec.dt_ms, record=spec.sites,
                    record_dt_ms=spec.rec_dt_ms, clamps=spec.clamps, seed=spec.seed,
                    dtype=torch.float64)
