r"""One time step of the cell, as Brian2's ``SpatialNeuron`` with ``method="exponential_euler"``
takes it (the method the pipeline uses), on batched tensors.

Per step of length :math:`\Delta t`, in Brian2's order:

1. **Gates, calcium, receptors** from the values at the start of the step (Brian2's state
   updater runs before the cable solver): every gate by exponential Euler,
   :math:`x \leftarrow x_\infty + (x - x_\infty)e^{-\Delta t\,\phi/\tau}` (α/β gates:
   :math:`x_\infty = α/(α+β)`, :math:`\tau = 1/(α+β)`), exact at fixed V; the calcium shell
   likewise (linear in ``cai``; its Ca²⁺ current from the old gates and V); each receptor's
   two states decay exactly; the NMDA block is taken at the old V (Brian2's
   "constant over dt").
2. **Voltage** by backward Euler of the cable equation with the membrane current linearised
   as Brian2 does (``gtot``, ``I0``, here with the new gates): one tree solve
   (:func:`~neurocomp.engine.solver.tree_solve`). Optionally Crank–Nicolson
   (``method="crank_nicolson"``, as NEURON's ``secondorder = 2``): the same solve with twice
   the capacitive term gives the midpoint voltage u, and the new voltage is 2u − v.
3. **Spike detection** at the axon terminal: an upward crossing of the threshold by the new V
   while not refractory (refractory until V falls below threshold − 10 mV, the pipeline's
   ``refractory`` condition); the spike's time is the step's start, as Brian2 records it.
4. **Synaptic events** of the step are added to the receptor states *after* the solve (Brian2's
   synapses run after the state update), so an input at step n acts from step n + 1.

Units: V mV, t ms, conductances µS (densities S/cm² × area cm² × 1e6), currents nA,
capacitance nF, calcium mM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from neurocomp.checks import check_choice, check_int
from neurocomp.engine.cell import CellSpec
from neurocomp.engine.expressions import _as_number, _compiled
from neurocomp.engine.solver import TreePlan, solve_levels, tree_solve

__all__ = ["METHODS", "CellDynamics", "State"]

#: The voltage integrators of :class:`CellDynamics`.
METHODS = ("backward_euler", "crank_nicolson")

_FARADAY = 96485.33212  # C/mol (CODATA 2018 exact), as in the Brian2 rendering


@dataclass
class State:
    """The dynamic state of a batch of cells (each tensor has the batch as its first dim)."""

    v: torch.Tensor                 # (B, n_nodes) mV
    gates: torch.Tensor             # (B, G): every gate at every node carrying it
    cai: torch.Tensor | None        # (B, n_nodes) mM
    syn_a: torch.Tensor             # (B, K, n_nodes) unit-weight rise states
    syn_b: torch.Tensor             # (B, K, n_nodes) unit-weight decay states
    armed: torch.Tensor             # (B,) bool: not refractory

    def as_tuple(self) -> tuple[torch.Tensor, ...]:
        extra = () if self.cai is None else (self.cai,)
        return (self.v, self.syn_a, self.syn_b, self.armed, self.gates, *extra)

    @classmethod
    def from_tuple(cls, items: tuple[torch.Tensor, ...], calcium: bool) -> State:
        v, a, b, armed, gates = items[:5]
        return cls(v=v, gates=gates, cai=items[5] if calcium else None,
                   syn_a=a, syn_b=b, armed=armed)

    @property
    def size(self) -> int:
        """Number of tensors in :meth:`as_tuple`."""
        return 5 + int(self.cai is not None)


def _value(fn: Any, v: torch.Tensor, cai: Any, as_number: Any) -> torch.Tensor:
    """A compiled gate expression on ``v`` (as :func:`evaluate_torch`, without its checks):
    a constant expression becomes a tensor of ``v``'s shape."""
    out = fn(v, cai, as_number)
    if not isinstance(out, torch.Tensor):
        return torch.full_like(v, out)
    return out if out.shape == v.shape else out.expand(v.shape)


class CellDynamics:
    """The constants of one :class:`CellSpec` on a device and dtype, and the step.

    Layout: every gate of every channel, at every node carrying the channel, is one column
    of a single state tensor ``gates`` (B, G), gate after gate (each gate a contiguous
    block, in channel order); ``gate_nodes`` (G,) is each column's node. A step gathers V
    (and ``cai``) at all columns with one ``index_select``, evaluates each gate's own
    expressions on its block, and updates all G columns with one exponential-Euler
    expression. Channel sites (every channel at every node carrying it, C columns) take
    their gates' powers by gathers from the powered gate block, and reach the nodes by one
    scatter-add over the sites' nodes (``site_nodes``; a padded gather-and-sum table ran 7x
    slower once compiled).

    Parameters
    ----------
    spec : CellSpec
        The laid-out model.
    dt_ms : float
        Time step, ms (> 0).
    dtype : torch.dtype
        float64 (validation) or float32 (speed).
    device : torch.device or str
        Where everything runs.
    method : {"backward_euler", "crank_nicolson"}
        The voltage update: backward Euler (Brian2's, first order in dt) or Crank–Nicolson
        (second order for the cable; NEURON's ``secondorder = 2``). The gates are staggered
        half a step from V either way (updated from the step's starting V, then used over
        the step), so with Crank–Nicolson the channel currents are taken at the step's
        midpoint. Crank–Nicolson is A-stable but not L-stable: at a dt far above a
        compartment's time constant its fast modes ring instead of decaying.
    """

    def __init__(self, spec: CellSpec, *, dt_ms: float, dtype: torch.dtype,
                 device: torch.device | str, method: str = "backward_euler") -> None:
        check_choice("method", method, METHODS)
        self.spec, self.dt, self.dtype, self.device = spec, float(dt_ms), dtype, device
        self.method = method
        #: Crank–Nicolson: the backward-Euler system at dt/2 (twice the capacitive term)
        #: gives the midpoint voltage u; the step's voltage is 2u − v
        self.cn_factor = 2.0 if method == "crank_nicolson" else 1.0
        t = self.tensor
        self.plan = TreePlan(spec.tree, device)
        self.n = spec.tree.n_nodes
        self.area = t(spec.tree.area_cm2)
        self.axial = t(spec.tree.axial_um)
        self.nodes = [torch.as_tensor(c.nodes, device=device) for c in spec.channels]
        self.as_number = _as_number(dtype)
        first_col, site_start = self._layout_gates(spec)
        all_nodes = self._layout_sites(spec, first_col, site_start)
        self._layout_calcium(spec, site_start, all_nodes)
        self._layout_synapses(spec)
        comp_of_node = np.full(self.n, spec.tree.n_compartments)  # branch points: a zero
        comp_of_node[spec.tree.node_of_compartment] = np.arange(spec.tree.n_compartments)
        self.comp_of_node = torch.as_tensor(comp_of_node, device=device)
        self.detect = spec.detect_node
        self.threshold = spec.threshold_mV
        self._compiled: Any = None
        self._blocks: dict[int, Any] = {}

    def _layout_gates(self, spec: CellSpec) -> tuple[list[list[int]], np.ndarray]:
        """The gate state's columns: one block per (channel, gate) over the channel's nodes,
        the compiled rate expressions of each block and the powers; returns each channel's
        block columns and where each channel's sites start."""
        t, device = self.tensor, self.device
        # gate columns
        gate_nodes, scale, self.gate_code = [], [], []
        site_start = np.cumsum([0] + [c.nodes.size for c in spec.channels])
        col = 0
        first_col: list[list[int]] = []      # per channel: column of each gate's block
        powers: list[int] = []
        for c in spec.channels:
            cols = []
            for g in c.channel.gates:
                m = c.nodes.size
                gate_nodes.append(c.nodes)
                scale.append(np.full(m, -self.dt * c.rate_factor))
                if g.alpha is not None:
                    fns = ("ab", _compiled(g.alpha), _compiled(g.beta))
                else:
                    fns = ("it", _compiled(g.inf), _compiled(g.tau_ms))
                self.gate_code.append((col, col + m, *fns))
                powers.append(int(g.power) if float(g.power).is_integer() else g.power)
                cols.append(col)
                col += m
            first_col.append(cols)
        self.n_cols = col
        self.powers = powers
        self.gate_nodes = (torch.as_tensor(np.concatenate(gate_nodes), device=device)
                           if gate_nodes else torch.zeros(0, dtype=torch.long, device=device))
        self.neg_dt_rate = t(np.concatenate(scale)) if scale else t([])
        return first_col, site_start

    def _layout_sites(self, spec: CellSpec, first_col: list[list[int]],
                      site_start: np.ndarray) -> np.ndarray:
        """The channel sites (one per channel and node): the gate column of each of their
        gates, their reversal potentials and the node table; returns the sites' nodes."""
        t, device, col = self.tensor, self.device, self.n_cols
        # channel sites: column of gate r of each site (G = the padding "1" column)
        n_sites = int(site_start[-1])
        self.n_sites = n_sites
        self.max_gates = max((len(c.channel.gates) for c in spec.channels), default=0)
        rank = np.full((self.max_gates, n_sites), col, dtype=np.int64)
        for k, c in enumerate(spec.channels):
            for r, c0 in enumerate(first_col[k]):
                rank[r, site_start[k]:site_start[k + 1]] = c0 + np.arange(c.nodes.size)
        self.site_gate = [torch.as_tensor(r, device=device) for r in rank]
        self.reversal = torch.cat([t(np.full(c.nodes.size, c.reversal_mV))
                                   for c in spec.channels]) if spec.channels else t([])
        all_nodes = (np.concatenate([c.nodes for c in spec.channels]) if spec.channels
                     else np.zeros(0, np.int64))
        self.site_nodes = torch.as_tensor(all_nodes, device=device)
        return all_nodes

    def _layout_calcium(self, spec: CellSpec, site_start: np.ndarray,
                        all_nodes: np.ndarray) -> None:
        """The Ca²⁺ channels' sites and nodes, the gate powers' blocks, the calcium pool's
        constants."""
        t, device, powers = self.tensor, self.device, self.powers
        # calcium: the Ca²⁺ channels' sites (their rows in the site layout) and nodes
        self.ca_sites = [k for k, c in enumerate(spec.channels) if c.channel.ion == "ca"]
        ca_rows = (np.concatenate([np.arange(site_start[k], site_start[k + 1])
                                   for k in self.ca_sites]) if self.ca_sites
                   else np.zeros(0, np.int64))
        self.ca_rows = torch.as_tensor(ca_rows, device=device)
        self.ca_gate = [g[self.ca_rows] for g in self.site_gate]
        self.ca_nodes = torch.as_tensor(all_nodes[ca_rows], device=device)
        self.ca_reversal = self.reversal[self.ca_rows] if ca_rows.size else t([])
        #: (RT/2F mV, cao mM) when E_Ca follows cai (Nernst), else None
        self.ca_nernst = spec.calcium_nernst if ca_rows.size else None
        # gate columns whose power is not 1, grouped by power (for one pow per power)
        self.power_blocks = []
        for p in sorted({q for q in powers if q != 1}):
            cols_p = np.concatenate([np.arange(c0, c1) for (c0, c1, *_), q in
                                     zip(self.gate_code, powers, strict=True) if q == p])
            self.power_blocks.append((p, torch.as_tensor(cols_p, device=device)))
        self.calcium = None if spec.calcium is None else {k: t(v) for k, v in
                                                          spec.calcium.items()}
        if self.calcium is not None:
            ca = self.calcium
            k_mm = 1000.0 / (2.0 * _FARADAY)
            # c_inf = rest − k·γ·(10·ica)·decay/depth; decay factor e^{−dt/decay}
            self.ca_rest = ca["rest_mM"]
            self.ca_gain = k_mm * ca["gamma"]
            self.ca_decay, self.ca_depth = ca["decay_ms"], ca["depth_um"]
            self.ca_factor = torch.exp(-self.dt / ca["decay_ms"])

    def _layout_synapses(self, spec: CellSpec) -> None:
        """Per synapse slot: the decay factors of its two exponentials over one step, its
        normalisation, reversal and Mg²⁺ block."""
        t = self.tensor
        slots = spec.slots
        self.k = len(slots)
        self.decay_a = t([math.exp(-self.dt / s.tau_rise_ms) for s in slots]).reshape(-1, 1)
        self.decay_b = t([math.exp(-self.dt / s.tau_decay_ms) for s in slots]).reshape(-1, 1)
        self.norm = t([s.normalisation for s in slots]).reshape(-1, 1)
        self.syn_rev = t([s.reversal_mV for s in slots]).reshape(-1, 1)
        self.blocks = [(k, _compiled(s.block)) for k, s in enumerate(slots)
                       if s.block is not None]

    def tensor(self, x: Any) -> torch.Tensor:
        """``x`` as a tensor of the engine's dtype and device."""
        return torch.as_tensor(np.array(x, dtype=np.float64), dtype=self.dtype,
                               device=self.device)

    # -- parameters -----------------------------------------------------------------
    def derived(self, params: dict[str, torch.Tensor]) -> dict[str, Any]:
        """Per-run constants from the parameters (computed once, differentiable)."""
        area = self.area

        def nodes(x: torch.Tensor) -> torch.Tensor:  # compartment values → node order
            return torch.cat([x, torch.zeros_like(x[..., :1])], -1).index_select(
                -1, self.comp_of_node)

        g_ax = 100.0 * self.axial / params["Ri_ohm_cm"].unsqueeze(-1)
        g_leak = nodes(params["g_leak_S_cm2"]) * area * 1e6
        c_dt = nodes(params["cm_uF_cm2"]) * area * 1e3 * (self.cn_factor / self.dt)
        out: dict[str, Any] = {"g_ax": g_ax, "c_dt": c_dt,
                               "d_base": c_dt + self.plan.neighbour_sum(g_ax) + g_leak,
                               "i_leak": g_leak * nodes(params["E_leak_mV"])}
        density = [params[f"gbar_{c.channel.name}"] for c in self.spec.channels]
        gbar = [g * area[n] * 1e6 for g, n in zip(density, self.nodes, strict=True)]
        if density:
            lead = torch.broadcast_shapes(*(x.shape[:-1] for x in density))
            out["density"] = torch.cat([x.expand(*lead, -1) for x in density], -1)
            out["gbar"] = torch.cat([x.expand(*lead, -1) for x in gbar], -1)
            out["ca_density"] = out["density"].index_select(-1, self.ca_rows)
        out["w"] = torch.stack([params[f"w_{s.group}_{s.receptor}"] for s in
                                self.spec.slots], dim=-1).unsqueeze(-1) if self.k else None
        return out

    # -- initial state ----------------------------------------------------------------
    def initial_state(self, batch: int, v0_mV: torch.Tensor | None = None) -> State:
        """Every cell at ``v0_mV`` (default the model's); gates (and ``cai``) at their steady
        state at the model's initial voltage, so ``v0_mV`` acts as a kick."""
        v = self.tensor(self.spec.v0_mV).expand(batch, self.n).clone()
        cai = None
        if self.calcium is not None:
            cai = self.calcium["rest_mM"].expand(batch, self.n).clone()
        gates = self._inf_rate(v, cai)[0].clone()
        if v0_mV is not None:
            v = v0_mV.to(self.dtype).expand(batch, self.n).clone()
        zeros = torch.zeros(batch, self.k, self.n, dtype=self.dtype, device=self.device)
        armed = torch.ones(batch, dtype=torch.bool, device=self.device)
        return State(v=v, gates=gates, cai=cai, syn_a=zeros, syn_b=zeros.clone(),
                     armed=armed)

    def _inf_rate(self, v: torch.Tensor, cai: torch.Tensor | None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """x∞ and the rate 1/τ (1/ms, before the temperature factor) of every gate column
        (α/β gates: x∞ = α/(α+β), rate α+β)."""
        if not self.gate_code:
            empty = v[..., :0]
            return empty, empty
        vg = v.index_select(-1, self.gate_nodes)
        cg = cai.index_select(-1, self.gate_nodes) if cai is not None else None
        infs, rates = [], []
        for c0, c1, kind, f1, f2 in self.gate_code:
            vs = vg[..., c0:c1]
            cs = cg[..., c0:c1] if cg is not None else 1e-4
            if kind == "ab":
                a = _value(f1, vs, cs, self.as_number)
                s = a + _value(f2, vs, cs, self.as_number)
                infs.append(a / s)
                rates.append(s)
            else:
                infs.append(_value(f1, vs, cs, self.as_number))
                rates.append(1.0 / _value(f2, vs, cs, self.as_number))
        return torch.cat(infs, -1), torch.cat(rates, -1)

    def _powered(self, x: torch.Tensor) -> torch.Tensor:
        """Every gate column raised to its gate's power, and a last column of ones."""
        out = x
        if self.power_blocks:
            for p, cols in self.power_blocks:
                out = out.index_copy(-1, cols, x.index_select(-1, cols) ** p)
        return torch.cat([out, torch.ones_like(x[..., :1])], -1)

    def _open(self, xp: torch.Tensor, rank: list[torch.Tensor],
              scale: torch.Tensor | None) -> torch.Tensor:
        """``scale`` · Π_r xᵖ of gate r, per site (sites of ``rank``)."""
        out = scale
        for idx in rank:
            y = xp.index_select(-1, idx)
            out = y if out is None else out * y
        return out

    def _to_nodes(self, site_values: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """Σ per node of site values (B, S), site s landing on node ``nodes[s]`` (a
        scatter-add, in site order)."""
        out = torch.zeros(*site_values.shape[:-1], self.n, dtype=site_values.dtype,
                          device=site_values.device)
        return out.index_add(-1, nodes, site_values)

    # -- the step ---------------------------------------------------------------------
    def stepper(self, compile: bool = False) -> Any:
        """The step as a function ``(state, der, events, i_ext) → (state, spikes)``:
        :meth:`step` itself, or (``compile=True``) :meth:`step` through ``torch.compile``
        (inductor; one graph per batch size, dtype and input kind, compiled on first use,
        fusing the gate expressions and each level sweep of the solve into a few kernels)."""
        if not compile:
            return self.step
        if self._compiled is None:
            calcium = self.calcium is not None

            def flat(der: dict[str, Any], events: torch.Tensor | None,
                     i_ext: torch.Tensor | None, *items: torch.Tensor
                     ) -> tuple[torch.Tensor, ...]:
                new, spikes = self.step(State.from_tuple(items, calcium), der, events, i_ext)
                return (*new.as_tuple(), spikes)

            # a code object of its own: dynamo keeps compiled graphs (and its recompile
            # limit) per code object, so each CellDynamics has its own cache
            flat.__code__ = flat.__code__.replace()
            fn = torch.compile(flat, dynamic=False)

            def run(state: State, der: dict[str, Any], events: torch.Tensor | None,
                    i_ext: torch.Tensor | None) -> tuple[State, torch.Tensor]:
                out = fn(der, events, i_ext, *state.as_tuple())
                return State.from_tuple(out[:-1], calcium), out[-1]

            self._compiled = run
        return self._compiled

    def block_stepper(self, k_steps: int) -> Any:
        """``k_steps`` steps in one compiled call (no gradient path): a function
        ``(state, der, events, i_ext, rec_nodes) → (state, spikes (K, B), v_rec (K, B, R))``
        where ``events`` (B, slots, nodes) or None is added at the end of the block's *first*
        step only, ``i_ext`` is (K, B or 1, nodes) or None, and ``v_rec`` holds the voltage
        at ``rec_nodes`` before each step (the caller keeps the sampled ones).

        One compiled call per block instead of per step: on the CPU about half of a compiled
        step's time for the L5 cell was the call itself (guards and wrappers), not the
        kernels; each block size is its own graph (compile time grows with it)."""
        k_steps = check_int("k_steps", k_steps, low=1)
        cached = self._blocks.get(k_steps)
        if cached is not None:
            return cached
        calcium = self.calcium is not None

        def flat(der: dict[str, Any], events: torch.Tensor | None, i_ext: torch.Tensor | None,
                 rec_nodes: torch.Tensor, *items: torch.Tensor) -> tuple[torch.Tensor, ...]:
            state = State.from_tuple(items, calcium)
            spikes, recv = [], []
            for j in range(k_steps):
                recv.append(state.v.index_select(-1, rec_nodes))
                state, sp = self.step(state, der, events if j == 0 else None,
                                      i_ext[j] if i_ext is not None else None)
                spikes.append(sp)
            return (*state.as_tuple(), torch.stack(spikes), torch.stack(recv))

        flat.__code__ = flat.__code__.replace()  # its own dynamo cache (see stepper)
        # a C++ wrapper calls the kernels: the Python wrapper's per-kernel calls were ~1/5 of
        # a step on the CPU (measured, L5 cell at batch 6)
        fn = torch.compile(flat, dynamic=False, options={"cpp_wrapper": True})

        def run(state: State, der: dict[str, Any], events: torch.Tensor | None,
                i_ext: torch.Tensor | None, rec_nodes: torch.Tensor
                ) -> tuple[State, torch.Tensor, torch.Tensor]:
            out = fn(der, events, i_ext, rec_nodes, *state.as_tuple())
            return State.from_tuple(out[:-2], calcium), out[-2], out[-1]

        self._blocks[k_steps] = run
        return run

    def step(self, state: State, der: dict[str, Any], events: torch.Tensor | None,
             i_ext: torch.Tensor | None, hold: bool = False) -> tuple[State, torch.Tensor]:
        """Advance one step; returns the new state and the output-spike flags (B,).

        ``hold=True`` leaves the gates and the calcium shell as they are for this step (the
        solve uses them unchanged): a run whose first step is taken so follows NEURON's
        convention (:func:`~neurocomp.engine.simulate.run_cell`'s ``first_step``)."""
        v, cai = state.v, state.cai
        # E_Ca of the Ca²⁺ sites from the step's starting cai (Nernst), or the fixed one
        e_ca = (None if self.ca_nernst is None else self.ca_nernst[0]
                * torch.log(self.ca_nernst[1] / cai.index_select(-1, self.ca_nodes)))
        if cai is not None and not hold:
            cai = self._calcium(state, v, cai, der["ca_density"], e_ca)
        d = der["d_base"]
        b = der["c_dt"] * v + der["i_leak"]
        gates = state.gates
        if self.gate_code:
            if not hold:
                inf, rate = self._inf_rate(v, state.cai)
                gates = inf + (gates - inf) * torch.exp(rate * self.neg_dt_rate)
            g_site = self._open(self._powered(gates), self.site_gate, der["gbar"])
            batch = v.shape[0]
            g_site = g_site.expand(batch, -1)
            d = d + self._to_nodes(g_site, self.site_nodes)
            rev = (self.reversal if e_ca is None else
                   self.reversal.expand(batch, -1).index_copy(-1, self.ca_rows, e_ca))
            b = b + self._to_nodes(g_site * rev, self.site_nodes)
        syn_a = state.syn_a * self.decay_a
        syn_b = state.syn_b * self.decay_b
        if self.k:
            d, b = self._synaptic(d, b, syn_a, syn_b, v, der)
        if i_ext is not None:
            b = b + i_ext
        if torch.is_grad_enabled():
            v_new = tree_solve(d, b, der["g_ax"], self.plan)
        else:  # the same sweeps without the autograd.Function (simpler to compile)
            d, b = torch.broadcast_tensors(d, b)
            v_new = solve_levels(d, b, der["g_ax"], self.plan)[0]
        if self.cn_factor != 1.0:  # the solve gave the midpoint voltage
            v_new = 2.0 * v_new - v
        if events is not None:
            syn_a = syn_a + events
            syn_b = syn_b + events
        spikes, armed = self._detect(v, v_new, state.armed)
        return State(v=v_new, gates=gates, cai=cai, syn_a=syn_a, syn_b=syn_b,
                     armed=armed), spikes

    def _calcium(self, state: State, v: torch.Tensor, cai: torch.Tensor,
                 density: torch.Tensor, e_ca: torch.Tensor | None = None) -> torch.Tensor:
        """Exponential Euler of the shell, from the old gates and V (Brian2's order); ``e_ca``
        the Ca²⁺ sites' reversal if it follows cai (else the fixed one)."""
        if self.ca_rows.numel():
            xp = self._powered(state.gates)
            open_ = self._open(xp, self.ca_gate, None)
            rev = self.ca_reversal if e_ca is None else e_ca
            cur = density * open_ * (v.index_select(-1, self.ca_nodes) - rev)
            ica = self._to_nodes(cur, self.ca_nodes)  # mA/cm², outward
        else:
            ica = torch.zeros_like(cai)
        c_inf = self.ca_rest - self.ca_gain * (10.0 * ica) * self.ca_decay / self.ca_depth
        return c_inf + (cai - c_inf) * self.ca_factor

    def _synaptic(self, d: torch.Tensor, b: torch.Tensor, syn_a: torch.Tensor,
                  syn_b: torch.Tensor, v: torch.Tensor, der: dict[str, Any]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        g = der["w"] * self.norm * (syn_b - syn_a) * 1e-3  # µS (or nA for currents)
        if self.spec.current_synapses:
            return d, b + g.sum(dim=-2)
        if self.blocks:
            scale = [torch.ones_like(v)] * self.k
            for k, fn in self.blocks:
                scale[k] = _value(fn, v, 1e-4, self.as_number)
            g = g * torch.stack(scale, dim=-2)
        return d + g.sum(dim=-2), b + (g * self.syn_rev).sum(dim=-2)

    def _detect(self, v_old: torch.Tensor, v_new: torch.Tensor, armed: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.detect is None:
            return torch.zeros_like(armed), armed
        node = self.detect
        with torch.no_grad():
            armed = armed | ~(v_old[:, node] > self.threshold - 10.0)
            spikes = armed & (v_new[:, node] > self.threshold)
        return spikes, armed & ~spikes
