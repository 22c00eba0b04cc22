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
   (:func:`~neurocomp.engine.solver.tree_solve`).
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

from neurocomp.engine.cell import CellSpec
from neurocomp.engine.expressions import evaluate_torch
from neurocomp.engine.solver import TreePlan, tree_solve

__all__ = ["CellDynamics", "State"]

_FARADAY = 96485.33212  # C/mol (CODATA 2018 exact), as in the Brian2 rendering


@dataclass
class State:
    """The dynamic state of a batch of cells (each tensor has the batch as its first dim)."""

    v: torch.Tensor                 # (B, n_nodes) mV
    gates: list[torch.Tensor]       # per gate (B, n_channel_nodes)
    cai: torch.Tensor | None        # (B, n_nodes) mM
    syn_a: torch.Tensor             # (B, K, n_nodes) unit-weight rise states
    syn_b: torch.Tensor             # (B, K, n_nodes) unit-weight decay states
    armed: torch.Tensor             # (B,) bool: not refractory

    def as_tuple(self) -> tuple[torch.Tensor, ...]:
        extra = () if self.cai is None else (self.cai,)
        return (self.v, self.syn_a, self.syn_b, self.armed, *self.gates, *extra)

    @classmethod
    def from_tuple(cls, items: tuple[torch.Tensor, ...], n_gates: int, calcium: bool
                   ) -> State:
        v, a, b, armed = items[:4]
        gates = list(items[4:4 + n_gates])
        return cls(v=v, gates=gates, cai=items[4 + n_gates] if calcium else None,
                   syn_a=a, syn_b=b, armed=armed)


class CellDynamics:
    """The constants of one :class:`CellSpec` on a device and dtype, and the step.

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
    """

    def __init__(self, spec: CellSpec, *, dt_ms: float, dtype: torch.dtype,
                 device: torch.device | str) -> None:
        self.spec, self.dt, self.dtype, self.device = spec, float(dt_ms), dtype, device
        t = self.tensor
        self.plan = TreePlan(spec.tree, device)
        self.n = spec.tree.n_nodes
        self.area = t(spec.tree.area_cm2)
        self.axial = t(spec.tree.axial_um)
        self.nodes = [torch.as_tensor(c.nodes, device=device) for c in spec.channels]
        # channel values → nodes as a matmul with a 0/1 matrix (compiles; see solver)
        self.all_nodes = torch.cat(self.nodes) if self.nodes else torch.zeros(
            0, dtype=torch.long, device=device)
        self.to_nodes = torch.zeros(self.all_nodes.numel(), self.n, dtype=dtype,
                                    device=device)
        self.to_nodes[torch.arange(self.all_nodes.numel(), device=device), self.all_nodes] = 1
        self.ca_to_nodes = [self.to_nodes[int(sum(n.numel() for n in self.nodes[:k])):
                                          int(sum(n.numel() for n in self.nodes[:k + 1]))]
                            for k in range(len(self.nodes))]
        self.reversal = torch.cat([t(np.full(c.nodes.size, c.reversal_mV))
                                   for c in spec.channels]) if spec.channels else t([])
        self.gate_list = [(k, c, g) for k, c in enumerate(spec.channels)
                          for g in c.channel.gates]
        self.ca_sites = [k for k, c in enumerate(spec.channels) if c.channel.ion == "ca"]
        self.calcium = None if spec.calcium is None else {k: t(v) for k, v in
                                                          spec.calcium.items()}
        slots = spec.slots
        self.k = len(slots)
        self.decay_a = t([math.exp(-self.dt / s.tau_rise_ms) for s in slots]).reshape(-1, 1)
        self.decay_b = t([math.exp(-self.dt / s.tau_decay_ms) for s in slots]).reshape(-1, 1)
        self.norm = t([s.normalisation for s in slots]).reshape(-1, 1)
        self.syn_rev = t([s.reversal_mV for s in slots]).reshape(-1, 1)
        self.blocks = [(k, s.block) for k, s in enumerate(slots) if s.block is not None]
        comp_of_node = np.full(self.n, spec.tree.n_compartments)  # branch points: a zero
        comp_of_node[spec.tree.node_of_compartment] = np.arange(spec.tree.n_compartments)
        self.comp_of_node = torch.as_tensor(comp_of_node, device=device)
        self.detect = spec.detect_node
        self.threshold = spec.threshold_mV

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
        c_dt = nodes(params["cm_uF_cm2"]) * area * 1e3 / self.dt
        out: dict[str, Any] = {"g_ax": g_ax, "c_dt": c_dt,
                               "d_base": c_dt + self.plan.neighbour_sum(g_ax) + g_leak,
                               "i_leak": g_leak * nodes(params["E_leak_mV"])}
        out["density"] = [params[f"gbar_{c.channel.name}"] for c in self.spec.channels]
        out["gbar"] = [g * area[n] * 1e6 for g, n in zip(out["density"], self.nodes,
                                                         strict=True)]
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
        gates = []
        for k, _c, g in self.gate_list:
            vs = v.index_select(-1, self.nodes[k])
            cs = cai.index_select(-1, self.nodes[k]) if cai is not None else 1e-4
            gates.append(self._inf_tau(g, vs, cs)[0].clone())
        if v0_mV is not None:
            v = v0_mV.to(self.dtype).expand(batch, self.n).clone()
        zeros = torch.zeros(batch, self.k, self.n, dtype=self.dtype, device=self.device)
        armed = torch.ones(batch, dtype=torch.bool, device=self.device)
        return State(v=v, gates=gates, cai=cai, syn_a=zeros, syn_b=zeros.clone(),
                     armed=armed)

    def _inf_tau(self, gate: Any, v: torch.Tensor, cai: Any
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """x∞ and the rate 1/τ (1/ms, before the temperature factor)."""
        if gate.alpha is not None:
            a = evaluate_torch(gate.alpha, v_mV=v, cai_mM=cai)
            s = a + evaluate_torch(gate.beta, v_mV=v, cai_mM=cai)
            return a / s, s
        return (evaluate_torch(gate.inf, v_mV=v, cai_mM=cai),
                1.0 / evaluate_torch(gate.tau_ms, v_mV=v, cai_mM=cai))

    # -- the step ---------------------------------------------------------------------
    def step(self, state: State, der: dict[str, Any], events: torch.Tensor | None,
             i_ext: torch.Tensor | None) -> tuple[State, torch.Tensor]:
        """Advance one step; returns the new state and the output-spike flags (B,)."""
        v, cai = state.v, state.cai
        v_ch = [v.index_select(-1, n) for n in self.nodes]
        cai_ch = ([cai.index_select(-1, n) for n in self.nodes] if cai is not None
                  else [1e-4] * len(self.nodes))
        if cai is not None:
            cai = self._calcium(state, v_ch, cai, der["density"])
        gates = []
        for (k, c, g), x in zip(self.gate_list, state.gates, strict=True):
            inf, rate = self._inf_tau(g, v_ch[k], cai_ch[k])
            gates.append(inf + (x - inf) * torch.exp(rate * (-self.dt * c.rate_factor)))
        g_mem, i_mem = self._channel_conductances(gates, der)
        d = der["d_base"] + g_mem
        b = der["c_dt"] * v + der["i_leak"] + i_mem
        syn_a = state.syn_a * self.decay_a
        syn_b = state.syn_b * self.decay_b
        if self.k:
            d, b = self._synaptic(d, b, syn_a, syn_b, v, der)
        if i_ext is not None:
            b = b + i_ext
        v_new = tree_solve(d, b, der["g_ax"], self.plan)
        if events is not None:
            syn_a = syn_a + events
            syn_b = syn_b + events
        spikes, armed = self._detect(v, v_new, state.armed)
        return State(v=v_new, gates=gates, cai=cai, syn_a=syn_a, syn_b=syn_b,
                     armed=armed), spikes

    def _channel_conductances(self, gates: list[torch.Tensor], der: dict[str, Any]
                              ) -> tuple[torch.Tensor, torch.Tensor]:
        """Σ ḡ Πxᵖ (µS) and Σ ḡ Πxᵖ E (nA) per node."""
        batch = gates[0].shape[0] if gates else 1
        zeros = torch.zeros(batch, self.n, dtype=self.dtype, device=self.device)
        if not gates:
            return zeros, zeros
        parts, j = [], 0
        for k, site in enumerate(self.spec.channels):
            open_ = der["gbar"][k]
            for g in site.channel.gates:
                open_ = open_ * (gates[j] if g.power == 1 else gates[j] ** g.power)
                j += 1
            parts.append(open_.expand(batch, -1))
        g_all = torch.cat(parts, dim=-1)
        return g_all @ self.to_nodes, (g_all * self.reversal) @ self.to_nodes

    def _calcium(self, state: State, v_ch: list[torch.Tensor], cai: torch.Tensor,
                 density: list[torch.Tensor]) -> torch.Tensor:
        """Exponential Euler of the shell, from the old gates and V (Brian2's order)."""
        ica = torch.zeros((), dtype=self.dtype, device=self.device)  # mA/cm², outward
        ica = ica.expand_as(cai)
        j = 0
        for k, site in enumerate(self.spec.channels):
            open_ = None
            for g in site.channel.gates:
                x = state.gates[j] ** g.power
                open_ = x if open_ is None else open_ * x
                j += 1
            if k in self.ca_sites:
                cur = density[k] * open_ * (v_ch[k] - site.reversal_mV)
                ica = ica + cur @ self.ca_to_nodes[k]
        ca = self.calcium
        k_mm = 1000.0 / (2.0 * _FARADAY)
        c_inf = ca["rest_mM"] - k_mm * ca["gamma"] * (10.0 * ica) * ca["decay_ms"] / ca[
            "depth_um"]
        return c_inf + (cai - c_inf) * torch.exp(-self.dt / ca["decay_ms"])

    def _synaptic(self, d: torch.Tensor, b: torch.Tensor, syn_a: torch.Tensor,
                  syn_b: torch.Tensor, v: torch.Tensor, der: dict[str, Any]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        g = der["w"] * self.norm * (syn_b - syn_a) * 1e-3  # µS (or nA for currents)
        if self.spec.current_synapses:
            return d, b + g.sum(dim=-2)
        if self.blocks:
            scale = [torch.ones_like(v)] * self.k
            for k, expr in self.blocks:
                scale[k] = evaluate_torch(expr, v_mV=v)
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
