"""Simulators other than Brian2 behind ``NeuronPipeline.run(..., backend=NAME)``.

A simulator registers itself in the entry-point group ``neurocomp.engines`` with a callable
``run(pipeline, spec) -> Recording``: ``pipeline`` is the :class:`NeuronPipeline` (its
``model`` and ``stages``), ``spec`` the run's checked arguments (inputs per synapse group,
``duration_ms``, ``dt_ms``, ``rec_dt_ms``, ``seed``, ``sites``, ``trace_vars``, ``clamps``).
neurocomp's own PyTorch engine registers as ``"torch"`` (``pyproject.toml``); a user's
package can add one the same way. The pipeline finds engines by name at run time, so this
pillar never imports them.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any

__all__ = ["ENGINE_GROUP", "engine_names", "load_engine"]

#: The entry-point group of simulators.
ENGINE_GROUP = "neurocomp.engines"


def engine_names() -> tuple[str, ...]:
    """Names of the registered simulators, sorted."""
    return tuple(sorted(ep.name for ep in importlib.metadata.entry_points(group=ENGINE_GROUP)))


def load_engine(name: str) -> Callable[[Any, Any], Any]:
    """The run function of the simulator registered as ``name``.

    Raises
    ------
    ValueError
        If no simulator is registered under ``name`` (the message lists those that are).
    RuntimeError
        If its entry point fails to import (the cause is chained).
    """
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENGINE_GROUP)}
    if name not in eps:
        raise ValueError(f"no simulator {name!r} is registered in {ENGINE_GROUP!r}; "
                         f"registered: {sorted(eps)}")
    try:
        run = eps[name].load()
    except Exception as exc:  # a broken plug-in is named, not a bare ImportError
        raise RuntimeError(f"simulator {name!r} ({eps[name].value}) failed to import: "
                           f"{type(exc).__name__}: {exc}") from exc
    if not callable(run):
        raise RuntimeError(f"simulator {name!r} ({eps[name].value}) is not callable")
    return run
