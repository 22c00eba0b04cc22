"""``simulate``: a :class:`~neurocomp.biophysics.NeuronModel` run by the PyTorch engine.

:func:`run_cell` is the differentiable core (tensors in, tensors out: voltages at chosen
nodes and output-spike flags), with time windows optionally checkpointed
(``torch.utils.checkpoint``) so a long backward pass keeps one window's intermediate values
instead of the whole run's. :func:`simulate` wraps it with the pipeline's interface and
returns the library's :class:`~neurocomp.biophysics.Recording` (one per batch row), so
``NeuronPipeline(...).run(..., backend="torch")`` can delegate to it.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.checkpoint import checkpoint

from neurocomp.biophysics import (
    CurrentClamp,
    NeuronModel,
    Recording,
    RecordSite,
    SpikeTrains,
    Stages,
)
from neurocomp.checks import check_choice, check_int
from neurocomp.engine.cell import CellSpec, cell_spec
from neurocomp.engine.checks import check_inputs, check_params, check_run, max_dt_ms
from neurocomp.engine.dynamics import CellDynamics, State
from neurocomp.engine.inputs import Events, build_events

__all__ = ["FIRST_STEPS", "EngineRun", "base_parameters", "run_cell", "simulate"]

#: The first-step conventions of :func:`run_cell` (Brian2's and NEURON's).
FIRST_STEPS = ("brian2", "neuron")


def base_parameters(spec: CellSpec) -> dict[str, np.ndarray | float]:
    """The model's own parameter values (the defaults of every run), by name.

    ``Ri_ohm_cm`` (Ω·cm); per compartment (Brian2's order) ``cm_uF_cm2`` (µF/cm²),
    ``g_leak_S_cm2`` (S/cm²) and ``E_leak_mV`` (mV); ``gbar_<channel>`` (S/cm², at the
    channel's nodes ``spec.channels[k].nodes``, where the model's density is not zero) and
    ``w_<group>_<receptor>`` (nS, or pA for current synapses).
    """
    comp = spec.tree.node_of_compartment
    out: dict[str, Any] = {"Ri_ohm_cm": spec.Ri_ohm_cm, "cm_uF_cm2": spec.cm_uF_cm2[comp],
                           "g_leak_S_cm2": spec.g_leak_S_cm2[comp],
                           "E_leak_mV": spec.E_leak_mV[comp]}
    out |= {f"gbar_{c.channel.name}": c.gbar_S_cm2 for c in spec.channels}
    out |= {f"w_{s.group}_{s.receptor}": s.weight for s in spec.slots}
    return out


@dataclass(frozen=True, eq=False)
class EngineRun:
    """Tensors of one engine run.

    Attributes
    ----------
    v_mV : torch.Tensor, (B, n_record, n_samples)
        Voltage at the recorded nodes, sampled at the start of every ``record_every``-th step.
    spikes : torch.Tensor of bool, (B, n_steps)
        Output spikes (axon terminal) per step.
    g_nS : dict of str to torch.Tensor (B, n_record, n_samples)
        Receptor conductances (before the Mg²⁺ block) at the recorded nodes.
    """

    v_mV: torch.Tensor
    spikes: torch.Tensor
    g_nS: dict[str, torch.Tensor]


def _window(step: Any, der: dict[str, Any], state: State, drive: torch.Tensor | None,
            i_ext: torch.Tensor | None, rec_nodes: torch.Tensor, every: int, start: int,
            recv: list[torch.Tensor], step0: Any = None) -> tuple[State, list[torch.Tensor]]:
    """Steps of one window (recording before each sampled step, as Brian2's monitor);
    ``step0``, if given, takes the window's first step instead of ``step`` (the run's first
    window only)."""
    spikes = []
    n = drive.shape[0] if drive is not None else i_ext.shape[0] if i_ext is not None else 0
    for k in range(n):
        if (start + k) % every == 0:
            recv.append(state.v.index_select(-1, rec_nodes))
        ev = drive[k] if drive is not None else None
        ie = i_ext[k] if i_ext is not None else None
        fn = step0 if step0 is not None and k == 0 else step
        state, sp = fn(state, der, ev, ie)
        spikes.append(sp)
    return state, spikes


def _blocked_window(dyn: CellDynamics, block: int, der: dict[str, Any], state: State,
                    events: Events, i_ext: torch.Tensor | None, start: int, stop: int,
                    rec_nodes: torch.Tensor, every: int, recv: list[torch.Tensor],
                    step0: Any = None) -> tuple[State, torch.Tensor]:
    """The steps [start, stop) in compiled blocks (no gradient): each step that holds
    events starts a block, whose run up to the next such step is covered by blocks of
    ``block``, ``block``/2, … 1 steps (so at most a few graphs are compiled). Returns the
    state and the spike flags (B, stop − start)."""
    offs, dense = events.at_steps(start, stop, dyn.dtype, dyn.device)
    row = {o: k for k, o in enumerate(offs)}
    zeros = torch.zeros(state.v.shape[0], events.n_slots, events.n_nodes, dtype=dyn.dtype,
                        device=dyn.device)
    spikes: list[torch.Tensor] = []
    k = 0
    while k < stop - start:
        nxt = bisect.bisect_right(offs, k)  # the next step with events, or the window's end
        end = offs[nxt] if nxt < len(offs) else stop - start
        # a block without events gets zeros, not None: one compiled graph per block size
        ev = dense[row[k]] if k in row else zeros
        if k == 0 and step0 is not None:
            if start % every == 0:
                recv.append(state.v.index_select(-1, rec_nodes))
            state, sp = step0(state, der, ev, i_ext[0] if i_ext is not None else None)
            spikes.append(sp[None])
            k += 1
            continue
        size = block
        while size > end - k:
            size //= 2
        ie = i_ext[k:k + size] if i_ext is not None else None
        state, sp, vr = dyn.block_stepper(size)(state, der, ev, ie, rec_nodes)
        recv += [vr[j] for j in range(size) if (start + k + j) % every == 0]
        spikes.append(sp)
        k += size
    return state, torch.cat(spikes).transpose(0, 1)


def run_cell(dyn: CellDynamics, params: Mapping[str, torch.Tensor], events: Events,
             *, n_steps: int, batch: int, record_nodes: Sequence[int], record_every: int = 1,
             i_ext: torch.Tensor | None = None, v0_mV: torch.Tensor | None = None,
             window: int = 400, checkpoint_windows: bool = False,
             compile: bool = False, first_step: str = "brian2",
             block: int = 1) -> EngineRun:
    """Run ``n_steps`` of a batch of cells (the differentiable core).

    Parameters
    ----------
    dyn : CellDynamics
        The cell on a device and dtype.
    params : mapping of str to torch.Tensor
        Every parameter of :func:`base_parameters`, each with or without a leading batch dim.
    events : Events
        Synaptic events.
    n_steps, batch : int
        Steps and batch rows.
    record_nodes : sequence of int
        Nodes whose voltage is recorded.
    record_every : int
        Sample every this many steps.
    i_ext : torch.Tensor, (n_steps, B or 1, n_nodes), optional
        Injected current, nA.
    v0_mV : torch.Tensor, (n_nodes,) or (B, n_nodes), optional
        Initial voltage (default the model's); gates start at steady state there.
    window : int
        Steps per window (events are made dense, and checkpointed, per window).
    checkpoint_windows : bool
        Recompute each window in the backward pass instead of storing it.
    compile : bool
        Use the step compiled by ``torch.compile`` (:meth:`CellDynamics.stepper`).
    first_step : {"brian2", "neuron"}
        Where the state update falls at the start: ``"brian2"`` updates the gates (and
        ``cai``) from the initial voltage before the first solve, as Brian2 does;
        ``"neuron"`` solves the first step with the initial gates and updates them after,
        as NEURON's ``fadvance`` does. From then on the two recurrences are the same (the
        gates of one are the other's a step later), so from a steady state they give the
        same voltages; from a kicked start (``v0_mV`` away from the gates' steady state) they
        differ at O(dt). With ``"neuron"`` the HH axon equals NEURON 9 to ~1e-10 mV.
    block : int
        With ``compile``, no gradient taken and spike-train inputs (tensor inputs carry
        gradients and take the step-by-step path), run up to this many steps per compiled
        call (:meth:`CellDynamics.block_stepper`, a power of two), with the inputs made dense
        only at the steps that hold events. Larger blocks cut the calls but compile longer
        (measured in ``benchmarks/results/neuronio_backends.json``). Block and step-by-step
        runs are the same arithmetic (equal to round-off).
    """
    check_choice("first_step", first_step, FIRST_STEPS)
    check_int("block", block, low=1)
    if block & (block - 1):
        raise ValueError(f"block must be a power of two (1, 2, 4, …); got {block}")
    blocked = (compile and not torch.is_grad_enabled() and not events.dense)
    step = dyn.stepper(compile)
    step0 = (lambda *a: dyn.step(*a, hold=True)) if first_step == "neuron" else None
    der = dyn.derived(dict(params))
    state = dyn.initial_state(batch, v0_mV)
    rec_nodes = torch.as_tensor(list(record_nodes), dtype=torch.long, device=dyn.device)
    recv: list[torch.Tensor] = []
    spikes: list[torch.Tensor] = []
    calcium, k = state.cai is not None, state.size
    der_keys = sorted(der)
    n_d = len(der_keys)
    for start in range(0, n_steps, window):
        stop = min(n_steps, start + window)
        ie = (i_ext[start:stop] if i_ext is not None else None)
        if checkpoint_windows and torch.is_grad_enabled():
            # reentrant: the window runs without a graph and is recomputed in the backward
            # pass; every tensor a gradient must reach (state, derived parameters, the
            # tensor inputs' slices, injected current) is an explicit input, and the window's
            # dense drive is made inside it, so the saved inputs are views of the caller's
            # tensors, not a dense copy per window. (The non-reentrant form kept each step's
            # graph nodes alive, ~0.6 MB per step at batch 4: a 1 s pass at batch 16 ran out
            # of 24 GB; saving each window's dense drive cost batch × steps × slots × nodes.)
            parts = events.window_inputs(start, stop)
            n_p = len(parts)

            def body(*flat: Any, _s=start, _e=stop, _n=n_p) -> tuple[torch.Tensor, ...]:
                st = State.from_tuple(flat[:k], calcium)
                dd = dict(zip(der_keys, flat[k:k + n_d], strict=True))
                pp, i_ = flat[k + n_d:k + n_d + _n], flat[k + n_d + _n]
                d_ = events.window(_s, _e, dyn.dtype, dyn.device, tuple(pp))
                if d_ is None and i_ is None:
                    i_ = torch.zeros(_e - _s, 1, 1, dtype=dyn.dtype, device=dyn.device)
                rv: list[torch.Tensor] = []
                st, sp = _window(step, dd, st, d_, i_, rec_nodes, record_every, _s, rv,
                                 step0 if _s == 0 else None)
                return (*st.as_tuple(), torch.stack(sp, -1), *rv)
            out = checkpoint(body, *state.as_tuple(), *[der[n] for n in der_keys], *parts,
                             ie, use_reentrant=True)
            state = State.from_tuple(out[:k], calcium)
            spikes.append(out[k])
            recv += list(out[k + 1:])
        elif blocked:
            state, sp = _blocked_window(dyn, block, der, state, events, ie, start, stop,
                                        rec_nodes, record_every, recv,
                                        step0 if start == 0 else None)
            spikes.append(sp)
        else:
            drive = events.window(start, stop, dyn.dtype, dyn.device)
            if drive is None and ie is None:
                ie = torch.zeros(stop - start, 1, 1, dtype=dyn.dtype, device=dyn.device)
            state, sp = _window(step, der, state, drive, ie, rec_nodes, record_every, start,
                                recv, step0 if start == 0 else None)
            spikes.append(torch.stack(sp, -1))
    return EngineRun(v_mV=torch.stack(recv, -1), spikes=torch.cat(spikes, -1), g_nS={})


def simulate(model: NeuronModel, inputs: Any = None, *, duration_ms: float, dt_ms: float = 0.025,
             stages: Stages | None = None, batch: int | None = None,
             params: Mapping[str, Any] | None = None, record: Sequence[RecordSite] | None = None,
             record_dt_ms: float | None = None, clamps: Sequence[CurrentClamp] = (),
             v_init_mV: Any = None, seed: int = 0, dtype: torch.dtype = torch.float64,
             device: Any = "cpu", window: int = 400, threads: int | None = None,
             compile: bool = False, first_step: str = "brian2",
             method: str = "backward_euler", block: int = 1) -> Recording | list[Recording]:
    """Simulate ``model`` with the PyTorch engine; the pipeline's result type.

    Parameters
    ----------
    model : NeuronModel
        The neuron.
    inputs : SpikeTrains, mapping of group name to SpikeTrains / sequence of SpikeTrains /
        tensor (B, n_steps, n_sources), optional
        Presynaptic input per synapse group (as ``NeuronPipeline.run``); a sequence gives one
        input pattern per batch row.
    duration_ms, dt_ms : float
        Simulated time and step, ms (0 < dt ≤ the model's stability bound, dt ≤ duration).
    stages : Stages, optional
        Stage switches (default: ``Stages()``).
    batch : int, optional
        Batch rows (default: from the inputs or parameters, else 1).
    params : mapping of str to array or tensor, optional
        Overrides of :func:`base_parameters` values; a leading batch dim gives one parameter
        set per row.
    record : sequence of RecordSite, optional
        Compartments to record (default: soma, the terminal if any).
    record_dt_ms : float, optional
        Sampling step (a multiple of dt; default dt).
    clamps : sequence of CurrentClamp
        Injected currents.
    v_init_mV : float or array (n_compartments,), optional
        Initial voltage (default the model's); gates start at steady state at the model's
        initial voltage, so a different value acts as a kick.
    seed : int
        Seed of stochastic release.
    dtype : torch.dtype
        ``torch.float64`` (validation) or ``torch.float32`` (speed).
    device : str or torch.device
        Where to run (CUDA unchanged).
    window : int
        Steps per window of densified events.
    threads : int, optional
        Intra-op CPU threads for this run (``torch.set_num_threads``, restored afterwards);
        None leaves torch's setting. The engine's tensors are small (batch × a few hundred
        nodes): on a loaded machine 1 thread is often many times faster than several.
    compile : bool
        Run the step through ``torch.compile`` (see :meth:`CellDynamics.compiled_step`);
        the first call compiles (tens of seconds; cached on disk by inductor).
    first_step : {"brian2", "neuron"}
        Whose convention the first step follows (see :func:`run_cell`); they differ only
        when ``v_init_mV`` kicks the cell away from the gates' steady state.
    block : int
        With ``compile``, up to this many steps per compiled call (a power of two; see
        :func:`run_cell`): fewer calls, the same result to round-off.

    Returns
    -------
    Recording or list of Recording
        One per batch row (a single Recording when the batch is 1).
    """
    t0 = time.perf_counter()
    stages = stages if stages is not None else Stages()
    spec = cell_spec(model, stages)
    n_steps, every = check_run(duration_ms=duration_ms, dt_ms=dt_ms, record_dt_ms=record_dt_ms,
                               dt_max_ms=max_dt_ms(spec), dtype=dtype)
    m = model.with_stages(stages)
    inputs, batch = check_inputs(inputs, m, duration_ms=duration_ms, batch=batch,
                                 n_steps=n_steps)
    dyn = _dynamics(model, stages, spec, dt_ms, dtype, device, compile, method)
    p, batch = check_params(params, base_parameters(spec), dyn.tensor, batch=batch)
    events = build_events(inputs, groups=m.synapse_groups,
                          slot_groups=[s.group for s in spec.slots],
                          synapse_nodes=spec.synapse_nodes, n_nodes=spec.tree.n_nodes,
                          batch=batch, stages=stages, dt_ms=dt_ms, n_steps=n_steps, seed=seed,
                          device=device)
    sites = list(record) if record is not None else _default_sites(m)
    rec_nodes = [int(spec.tree.node_of_compartment[s.index]) for s in sites]
    i_ext = _clamp_currents(clamps, spec, dyn, n_steps=n_steps, dt_ms=dt_ms,
                            duration_ms=duration_ms)
    v0 = None
    if v_init_mV is not None:
        v0 = dyn.tensor(np.zeros(spec.tree.n_nodes))
        v0[torch.as_tensor(spec.tree.node_of_compartment)] = dyn.tensor(
            np.broadcast_to(np.asarray(v_init_mV, dtype=float), (spec.tree.n_compartments,)))
    previous = torch.get_num_threads()
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be an integer ≥ 1 or None; got {threads!r}")
        torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            run = run_cell(dyn, p, events, n_steps=n_steps, batch=batch,
                           record_nodes=rec_nodes, record_every=every, i_ext=i_ext, v0_mV=v0,
                           window=window, compile=compile, first_step=first_step,
                           block=block)
    finally:
        torch.set_num_threads(previous)
    wall = time.perf_counter() - t0
    recs = [_recording(run, b, m, stages, sites, inputs, duration_ms=duration_ms, dt_ms=dt_ms,
                       every=every, seed=seed, wall=wall, n_comp=spec.tree.n_compartments)
            for b in range(batch)]
    return recs[0] if batch == 1 else recs


#: CellDynamics reused by compiled runs (so a model simulated again with the same stages,
#: dt, dtype and device keeps its compiled step): (model, key) → dynamics, 8 at most.
_COMPILED: dict[tuple[int, Any], tuple[NeuronModel, CellDynamics]] = {}


def _dynamics(model: NeuronModel, stages: Stages, spec: CellSpec, dt_ms: float,
              dtype: torch.dtype, device: Any, compile: bool, method: str) -> CellDynamics:
    if not compile:
        return CellDynamics(spec, dt_ms=dt_ms, dtype=dtype, device=device, method=method)
    key = (id(model), (repr(stages), float(dt_ms), dtype, str(device), method))
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    dyn = CellDynamics(spec, dt_ms=dt_ms, dtype=dtype, device=device, method=method)
    _COMPILED[key] = (model, dyn)
    while len(_COMPILED) > 8:
        _COMPILED.pop(next(iter(_COMPILED)))
    return dyn


def _default_sites(model: NeuronModel) -> list[RecordSite]:
    sites = [RecordSite(label="soma", index=0)]
    if any(r in model.morphology.regions for r in ("axon", "node", "internode")):
        sites.append(RecordSite(label="axon terminal", index=model.terminal_index))
    return sites


def _clamp_currents(clamps: Sequence[CurrentClamp], spec: CellSpec, dyn: CellDynamics, *,
                    n_steps: int, dt_ms: float, duration_ms: float) -> torch.Tensor | None:
    if not clamps:
        return None
    out = np.zeros((n_steps, 1, spec.tree.n_nodes))
    for k, c in enumerate(clamps):
        if not isinstance(c, CurrentClamp):
            raise TypeError(f"clamps[{k}] must be a CurrentClamp; got {type(c).__name__}")
        if not 0 <= c.index < spec.tree.n_compartments:
            raise ValueError(f"clamps[{k}].index = {c.index} does not exist (compartments 0 "
                             f"to {spec.tree.n_compartments - 1})")
        wave = c.waveform(dt_ms=dt_ms, duration_ms=duration_ms)[:n_steps]
        out[:wave.size, 0, spec.tree.node_of_compartment[c.index]] += c.amplitude_nA * wave
    return dyn.tensor(out)


def _recording(run: EngineRun, b: int, model: NeuronModel, stages: Stages,
               sites: list[RecordSite], inputs: Mapping[str, Any], *, duration_ms: float,
               dt_ms: float, every: int, seed: int, wall: float, n_comp: int) -> Recording:
    v = run.v_mV[b].double().cpu().numpy()
    steps = np.flatnonzero(run.spikes[b].cpu().numpy())
    ins, events = {}, {}
    for name, value in inputs.items():
        tr = value if isinstance(value, SpikeTrains) else (
            value[b] if isinstance(value, Sequence) else None)
        ins[name] = ((tr.indices, tr.times_ms) if tr is not None
                     else (np.zeros(0, np.int64), np.zeros(0)))
        events[name] = np.zeros(1)
    raw = {"t_ms": np.arange(v.shape[-1]) * every * dt_ms, "traces": {"v": v},
           "trace_units": {"v": "mV"}, "inputs": ins, "events": events,
           "vesicles": {k: np.zeros(1) for k in events},
           "release": {k: (np.zeros(0), np.zeros((0, 0))) for k in events},
           "output_ms": steps * dt_ms, "n_compartments": n_comp,
           "timing": {"wall_s": wall, "run_s": wall}}
    return Recording.from_raw(raw, model=model, stages=stages, sites=sites,
                              duration_ms=duration_ms, dt_ms=dt_ms, backend="torch", seed=seed)
