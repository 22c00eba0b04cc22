"""Argument checks of the engine: each error names the field, its value and the allowed range."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from neurocomp.biophysics import NeuronModel, SpikeTrains
from neurocomp.engine.cell import CellSpec

__all__ = ["check_inputs", "check_params", "check_run", "max_dt_ms"]

#: Parameters that are conductances or weights (≥ 0) and those that must be > 0.
_NON_NEGATIVE = ("gbar_", "g_leak_S_cm2", "w_")
_POSITIVE = ("Ri_ohm_cm", "cm_uF_cm2")


def max_dt_ms(spec: CellSpec, *, fraction: float = 0.5) -> float:
    """Largest dt (ms): ``fraction`` × the fastest gate's time constant between −90 and
    −10 mV at the model's temperature — the pipeline's rule (exponential Euler integrates a
    gate exactly at fixed V; the upstroke is what must be resolved). Passive: no limit."""
    if not spec.channels:
        return math.inf
    v = np.linspace(-90.0, -10.0, 161)
    taus = [g.time_constant_ms(v, rate_factor=c.rate_factor).min()
            for c in spec.channels for g in c.channel.gates]
    return fraction * float(min(taus))


def check_run(*, duration_ms: Any, dt_ms: Any, record_dt_ms: Any, dt_max_ms: float,
              dtype: Any) -> tuple[int, int]:
    """Steps and the sampling stride, or a ValueError naming the argument."""
    for name, value in (("duration_ms", duration_ms), ("dt_ms", dt_ms)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0 ms; got {value!r}")
    if dt_ms > duration_ms:
        raise ValueError(f"dt_ms = {dt_ms:g} must not exceed duration_ms = {duration_ms:g}")
    if dt_ms > dt_max_ms:
        raise ValueError(f"dt_ms = {dt_ms:g} is too large for this model's channels: allowed "
                         f"range (0, {dt_max_ms:.4g}] ms (half the fastest gate's time "
                         f"constant between −90 and −10 mV)")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")
    n_steps = round(duration_ms / dt_ms)
    if abs(n_steps * dt_ms - duration_ms) > 1e-9 * duration_ms:
        n_steps = math.ceil(duration_ms / dt_ms)
    every = 1
    if record_dt_ms is not None:
        ratio = record_dt_ms / dt_ms
        if not (math.isfinite(ratio) and ratio >= 1 - 1e-9
                and abs(ratio - round(ratio)) < 1e-6):
            raise ValueError(f"record_dt_ms = {record_dt_ms!r} must be a whole multiple "
                             f"(≥ 1) of dt_ms = {dt_ms:g}")
        every = round(ratio)
    return n_steps, every


def check_params(params: Mapping[str, Any] | None, base: Mapping[str, Any],
                 to_tensor: Callable[[Any], torch.Tensor], *, batch: int | None
                 ) -> tuple[dict[str, torch.Tensor], int]:
    """Merge ``params`` over ``base`` as tensors; check names, shapes, NaN and signs."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(base))
    if unknown:
        raise ValueError(f"params names unknown parameters {unknown}; known: {sorted(base)}")
    out, rows = {}, set()
    for name, default in base.items():
        value = params.get(name, default)
        t = value if isinstance(value, torch.Tensor) else to_tensor(value)
        shape = tuple(np.shape(default))
        if tuple(t.shape) != shape:
            if tuple(t.shape[1:]) != shape:
                raise ValueError(f"params[{name!r}] has shape {tuple(t.shape)}; allowed: "
                                 f"{shape} or (batch, *{shape})")
            rows.add(int(t.shape[0]))
        _check_values(name, t)
        out[name] = t
    if batch is not None:
        rows.add(batch)
    if len(rows - {1}) > 1:
        raise ValueError(f"batch sizes do not match: inputs and params give {sorted(rows)}")
    n = max(rows) if rows else 1
    return out, n


def _check_values(name: str, t: torch.Tensor) -> None:
    with torch.no_grad():
        if not bool(torch.isfinite(t).all()):
            bad = t[~torch.isfinite(t)].flatten()[0].item()
            raise ValueError(f"params[{name!r}] contains {bad} (NaN or infinite); allowed: "
                             f"finite values")
        if name.startswith(_NON_NEGATIVE) and bool((t < 0).any()):
            raise ValueError(f"params[{name!r}] has a negative value {t.min().item():g}; "
                             f"allowed range: ≥ 0 (a conductance or weight)")
        if name.startswith(_POSITIVE) and bool((t <= 0).any()):
            raise ValueError(f"params[{name!r}] has the value {t.min().item():g}; allowed "
                             f"range: > 0")


def check_inputs(inputs: Any, model: NeuronModel, *, duration_ms: float, batch: int | None,
                 n_steps: int) -> tuple[dict[str, Any], int | None]:
    """Inputs as a mapping group → trains/tensor; checks groups, sources, times, batch."""
    groups = {g.name: g for g in model.synapse_groups}
    if inputs is None:
        inputs = {}
    if isinstance(inputs, SpikeTrains | torch.Tensor) or (
            isinstance(inputs, Sequence) and len(groups) == 1):
        if len(groups) != 1:
            raise ValueError(f"the model has synapse groups {sorted(groups)}; pass inputs as a "
                             f"mapping from group name to spike trains")
        inputs = {next(iter(groups)): inputs}
    if not isinstance(inputs, Mapping):
        raise TypeError(f"inputs must be SpikeTrains, a tensor or a mapping from synapse "
                        f"group to them; got {type(inputs).__name__}")
    unknown = sorted(set(inputs) - set(groups))
    missing = sorted(set(groups) - set(inputs))
    if unknown or missing:
        raise ValueError(f"inputs must name each synapse group once: unknown {unknown}, "
                         f"missing {missing}; groups: {sorted(groups)}")
    rows = {batch} if batch is not None else set()
    for name, value in inputs.items():
        g = groups[name]
        if isinstance(value, torch.Tensor):
            if value.dim() != 3 or value.shape[1:] != (n_steps, g.n_sources):
                raise ValueError(f"inputs[{name!r}] has shape {tuple(value.shape)}; expected "
                                 f"(batch, n_steps={n_steps}, n_sources={g.n_sources})")
            rows.add(int(value.shape[0]))
            continue
        trains = [value] if isinstance(value, SpikeTrains) else list(value)
        if not isinstance(value, SpikeTrains):
            rows.add(len(trains))
        for k, t in enumerate(trains):
            where = f"inputs[{name!r}]" + ("" if isinstance(value, SpikeTrains) else f"[{k}]")
            if not isinstance(t, SpikeTrains):
                raise TypeError(f"{where} must be SpikeTrains; got {type(t).__name__}")
            if t.n_sources != g.n_sources:
                raise ValueError(f"{where} has n_sources = {t.n_sources}; synapse group "
                                 f"{name!r} expects {g.n_sources}")
            if t.duration_ms > duration_ms * (1 + 1e-9):
                raise ValueError(f"{where} covers duration_ms = {t.duration_ms:g} ms, outside "
                                 f"the simulated duration_ms = {duration_ms:g} ms; allowed: "
                                 f"≤ {duration_ms:g} ms")
    rows.discard(1)
    if len(rows) > 1:
        raise ValueError(f"batch sizes do not match: batch and inputs give {sorted(rows)}")
    return dict(inputs), (rows.pop() if rows else batch)
