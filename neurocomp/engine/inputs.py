"""Input spikes as tensors: release per spike, and the synaptic events of each time window.

Two input forms per synapse group:

* :class:`~neurocomp.biophysics.SpikeTrains` (one input pattern) or a sequence of them (one
  per batch row). Spikes are snapped to steps as the pipeline does (``dedupe(dt)``: one spike
  per source and step, at the step that contains it); each synapse k receives the spikes of
  source ``k % n_sources``; the vesicles it releases at each spike come from the group's
  release rule — the very ``on_pre`` code the Brian2 pipeline runs (``release_code``),
  executed here with NumPy on all synapses at once (deterministic, or stochastic with a seeded
  generator: then Brian2 and the engine agree in distribution, not spike for spike).
* a tensor ``(batch, n_steps, n_sources)`` of released amounts per source and step
  (differentiable: a network upstream can produce it; release rules are not applied).

The events are kept sparse (tensor inputs: as given) and made dense one window of steps at a
time, as a tensor ``(window, batch, slots, nodes)`` of unit-weight increments (weights
multiply later); no tensor of the whole run's length is made from the inputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from neurocomp.biophysics import SpikeTrains, Stages, SynapseGroup, release_code

__all__ = ["Events", "build_events", "release_amounts"]

_LINE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(.+)$")


def release_amounts(steps: Sequence[np.ndarray], group: SynapseGroup, *, mode: str,
                    dt_ms: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Vesicles released at each presynaptic spike of every synapse of ``group``.

    Parameters
    ----------
    steps : sequence of ndarray of int
        Spike steps of each synapse (sorted).
    group : SynapseGroup
        The synapses (their release parameters).
    mode : {"deterministic", "stochastic"}
        The release stage.
    dt_ms : float
        Time step, ms (spike times are step × dt, as in Brian2).
    rng : numpy.random.Generator
        Draws for stochastic release.

    Returns
    -------
    list of ndarray
        Released amount at each spike, per synapse.
    """
    rel = group.release
    code = [(m.group(1), compile(m.group(2), "<release>", "eval"))
            for m in map(_LINE.match, release_code(rel, mode=mode).splitlines()) if m]
    n_syn = len(steps)
    counts = np.array([s.size for s in steps])
    out = [np.zeros(c) for c in counts]
    state = {"U": np.full(n_syn, rel.U), "u": np.full(n_syn, rel.U),
             "tau_rec": np.full(n_syn, rel.tau_rec_ms),
             "tau_facil": np.full(n_syn, max(rel.tau_facil_ms, 1e-9)),
             "tlast": np.full(n_syn, -1e7), "x": np.ones(n_syn),
             "vesicles_total": np.zeros(n_syn), "events_total": np.zeros(n_syn)}
    state |= {f"occ{k}": np.ones(n_syn) for k in range(rel.n_sites)}
    for k in range(int(counts.max(initial=0))):
        active = np.flatnonzero(counts > k)
        local = {name: arr[active] for name, arr in state.items()}
        local["t"] = np.array([steps[s][k] for s in active], dtype=np.float64) * dt_ms
        funcs = {"exp": np.exp, "int": lambda a: np.asarray(a, dtype=np.float64),
                 "rand": lambda n=active.size: rng.random(n)}
        for name, expr in code:
            local[name] = np.broadcast_to(eval(expr, {"__builtins__": {}},
                                               funcs | local), active.shape).astype(float)
        for name in state:
            state[name][active] = local[name]
        for j, s in enumerate(active):
            out[s][k] = local["released"][j]
    return out


@dataclass(frozen=True, eq=False)
class _DenseInput:
    """A group's tensor input, mapped to nodes one window at a time (never whole: a 1 s run
    at batch 16 would hold batch × 40,000 steps × synapses per copy)."""

    value: torch.Tensor     # (B or 1, n_steps, n_sources) released amount per source
    source: torch.Tensor    # (n_synapses,) long: each synapse's source
    node: torch.Tensor      # (n_synapses,) long: each synapse's node
    slots: tuple[int, ...]  # the receptor slots this group drives


@dataclass(eq=False)
class Events:
    """Sparse unit-weight events, sorted by step, densified one window at a time; tensor
    inputs are kept as given and mapped to their synapses' nodes per window."""

    batch: int
    n_slots: int
    n_nodes: int
    step: torch.Tensor | None = None       # (E,) long, sorted
    flat: torch.Tensor | None = None       # (E,) long: (batch·K + slot)·n + node
    amount: torch.Tensor | None = None     # (E,)
    dense: list[_DenseInput] | None = None

    def window_inputs(self, start: int, stop: int) -> tuple[torch.Tensor, ...]:
        """The tensor inputs' slices for steps [start, stop) (views: no copy), in the order
        :meth:`window` takes them as ``parts``: what a checkpointed window must receive as
        explicit inputs for gradients to reach the tensors."""
        return tuple(d.value[:, start:stop] for d in self.dense or ())

    def window(self, start: int, stop: int, dtype: torch.dtype, device: Any,
               parts: tuple[torch.Tensor, ...] | None = None) -> torch.Tensor | None:
        """Increments of steps [start, stop): (stop − start, B, K, n), or None if empty.

        ``parts``: the tensor inputs' slices (:meth:`window_inputs`; default taken here)."""
        if self.step is None and not self.dense:
            return None
        shape = (stop - start, self.batch, self.n_slots, self.n_nodes)
        out = torch.zeros(shape, dtype=dtype, device=device)
        if self.step is not None:
            lo, hi = (int(i) for i in torch.searchsorted(
                self.step, torch.tensor([start, stop], device=self.step.device)))
            if hi > lo:
                size = self.batch * self.n_slots * self.n_nodes
                idx = (self.step[lo:hi] - start) * size + self.flat[lo:hi]
                out = out.view(-1).index_add(0, idx, self.amount[lo:hi].to(dtype)).view(shape)
        parts = self.window_inputs(start, stop) if parts is None else parts
        for d, part in zip(self.dense or (), parts, strict=True):
            per_syn = part.index_select(-1, d.source)
            per_node = torch.zeros(*part.shape[:-1], self.n_nodes, dtype=part.dtype,
                                   device=part.device).index_add(-1, d.node, per_syn)
            per_node = per_node.transpose(0, 1).to(dtype).expand(-1, self.batch, -1)
            for slot in d.slots:
                out = out.index_add(2, torch.tensor([slot], device=device),
                                    per_node.unsqueeze(2))
        return out

    def at_steps(self, start: int, stop: int, dtype: torch.dtype, device: Any
                 ) -> tuple[list[int], torch.Tensor | None]:
        """The spike-train events of steps [start, stop) made dense only at the steps that
        hold any: (offsets from ``start``, sorted; increments (m, B, K, n)), or ([], None).

        For the blocked, gradient-free path: a window of 400 steps at dt 25 µs with inputs on
        a 1 ms grid holds 10 such steps, so 40× less is made dense than by :meth:`window`.
        Tensor inputs are not covered (they take :meth:`window`)."""
        if self.dense:
            raise ValueError("at_steps covers spike-train events only; tensor inputs take "
                             "window()")
        if self.step is None:
            return [], None
        lo, hi = (int(i) for i in torch.searchsorted(
            self.step, torch.tensor([start, stop], device=self.step.device)))
        if hi <= lo:
            return [], None
        steps = self.step[lo:hi] - start
        uniq, slot_of = torch.unique_consecutive(steps, return_inverse=True)
        shape = (int(uniq.numel()), self.batch, self.n_slots, self.n_nodes)
        size = self.batch * self.n_slots * self.n_nodes
        out = torch.zeros(shape, dtype=dtype, device=device).view(-1).index_add(
            0, slot_of * size + self.flat[lo:hi], self.amount[lo:hi].to(dtype)).view(shape)
        return [int(u) for u in uniq.tolist()], out


def _trains_events(trains: Sequence[SpikeTrains], group: SynapseGroup, nodes: np.ndarray,
                   slots: list[int], *, stages: Stages, dt_ms: float, n_steps: int,
                   rng: np.random.Generator) -> list[np.ndarray]:
    """Rows (batch, step, slot, node, amount) of one group's events."""
    rows = []
    for b, tr in enumerate(trains):
        t = tr.dedupe(dt_ms)
        step = np.floor(t.times_ms / dt_ms + 1e-6).astype(np.int64)
        src = np.arange(group.n_synapses) % group.n_sources
        per_source = [step[t.indices == s] for s in range(group.n_sources)]
        syn_steps = [per_source[s] for s in src]
        amounts = release_amounts(syn_steps, group, mode=stages.release, dt_ms=dt_ms,
                                  rng=rng)
        st = np.concatenate(syn_steps) if syn_steps else np.zeros(0, np.int64)
        am = np.concatenate(amounts) if amounts else np.zeros(0)
        nd = np.repeat(nodes, [s.size for s in syn_steps])
        keep = (st < n_steps) & (am != 0)
        for slot in slots:
            rows.append(np.stack([np.full(keep.sum(), b), st[keep], np.full(keep.sum(), slot),
                                  nd[keep], am[keep]], axis=1))
    return rows


def build_events(inputs: Mapping[str, Any], *, groups: Sequence[SynapseGroup],
                 slot_groups: Sequence[str], synapse_nodes: Mapping[str, np.ndarray],
                 n_nodes: int, batch: int, stages: Stages, dt_ms: float, n_steps: int,
                 seed: int, device: Any) -> Events:
    """Collect every group's events (inputs already checked by the caller)."""
    rng = np.random.default_rng(seed)
    ev = Events(batch=batch, n_slots=len(slot_groups), n_nodes=n_nodes, dense=[])
    rows: list[np.ndarray] = []
    for g in groups:
        slots = [k for k, name in enumerate(slot_groups) if name == g.name]
        value = inputs[g.name]
        nodes = np.asarray(synapse_nodes[g.name])
        if isinstance(value, torch.Tensor):
            ev.dense.append(_DenseInput(
                value=value, slots=tuple(slots),
                source=torch.as_tensor(np.arange(g.n_synapses) % g.n_sources,
                                       device=value.device),
                node=torch.as_tensor(nodes, device=value.device)))
            continue
        trains = [value] if isinstance(value, SpikeTrains) else list(value)
        if len(trains) == 1 and batch > 1:
            trains = trains * batch
        rows += _trains_events(trains, g, nodes, slots, stages=stages, dt_ms=dt_ms,
                               n_steps=n_steps, rng=rng)
    if rows:
        table = np.concatenate(rows)
        table = table[np.argsort(table[:, 1], kind="stable")]
        b, st, slot, node = (table[:, i].astype(np.int64) for i in range(4))
        ev.step = torch.as_tensor(st, device=device)
        ev.flat = torch.as_tensor((b * ev.n_slots + slot) * n_nodes + node, device=device)
        ev.amount = torch.as_tensor(table[:, 4], device=device)
    return ev
