"""A :class:`~neurocomp.biophysics.NeuronModel` laid out for the engine: per-node constants,
the channels with the nodes that carry them, receptor slots, and the base parameters.

Per-compartment values are assigned region by region exactly as the Brian2 pipeline assigns
them (its ``compartment_values``): leak, capacitance and every channel density from the region's
:class:`~neurocomp.biophysics.Membrane` (profiles at the compartment's path distance), the
calcium pool's parameters where a region has one (elsewhere no influx, so ``cai`` stays at
rest), ``v`` at ``v_init_mV`` (default ``E_rest_mV``) and every gate at its steady state. A
channel is evaluated only at the nodes where its density is not zero (Brian2 evaluates it in
every compartment; the result is the same, the cost is not) — so a density that is zero in the
model stays zero when it is trained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics import (
    Channel,
    NeuronModel,
    Stages,
    calcium_rt_2f_mV,
    receptor_equations,
)
from neurocomp.engine.tree import CableTree, cable_tree

__all__ = ["CellSpec", "ChannelSite", "ReceptorSlot", "cell_spec"]


@dataclass(frozen=True, eq=False)
class ChannelSite:
    """A channel and the nodes carrying it (indices into the node order)."""

    channel: Channel
    nodes: np.ndarray
    gbar_S_cm2: np.ndarray
    rate_factor: float
    reversal_mV: float


@dataclass(frozen=True, eq=False)
class ReceptorSlot:
    """One (synapse group, receptor) pair: its kinetics and weight.

    ``block`` is the Mg²⁺-block expression in ``v`` (mV) rendered by
    ``receptor_equations`` (None without a block).
    """

    group: str
    receptor: str
    tau_rise_ms: float
    tau_decay_ms: float
    normalisation: float
    reversal_mV: float
    weight: float
    block: str | None


@dataclass(frozen=True, eq=False)
class CellSpec:
    """Everything the engine needs of a model, as numpy arrays in node order.

    Attributes
    ----------
    tree : CableTree
        The cable network.
    cm_uF_cm2, g_leak_S_cm2, E_leak_mV, v0_mV : ndarray, (n_nodes,)
        Capacitance, leak and initial voltage (0 at branch points).
    channels : tuple of ChannelSite
    calcium : dict of str to ndarray, or None
        ``gamma``, ``decay_ms``, ``depth_um``, ``rest_mM`` per node.
    calcium_reversal_mV : float
        Fixed E_Ca of the Ca²⁺ channels' sites (their ``reversal_mV``), mV.
    calcium_nernst : tuple of (float, float) or None
        ``(RT/2F in mV, cao in mM)`` when E_Ca follows ``cai`` (Nernst, from each step's
        starting ``cai``); None for the fixed E_Ca.
    slots : tuple of ReceptorSlot
    synapse_nodes : dict of str to ndarray
        Node of every synapse, per group.
    current_synapses : bool
        Weights are pA of current rather than nS of conductance.
    detect_node : int or None
        The axon terminal's node (None without an axon).
    threshold_mV : float
    """

    tree: CableTree
    cm_uF_cm2: np.ndarray
    g_leak_S_cm2: np.ndarray
    E_leak_mV: np.ndarray
    v0_mV: np.ndarray
    channels: tuple[ChannelSite, ...]
    calcium: dict[str, np.ndarray] | None
    calcium_reversal_mV: float
    slots: tuple[ReceptorSlot, ...]
    synapse_nodes: dict[str, np.ndarray]
    current_synapses: bool
    detect_node: int | None
    threshold_mV: float
    Ri_ohm_cm: float
    calcium_nernst: tuple[float, float] | None = None


def _block_expression(receptor: object) -> str | None:
    """The Mg²⁺ block as rendered for Brian2, with ``v/mV`` read as ``v`` in mV."""
    text = receptor_equations(receptor)
    match = re.search(r"^mgb_\w+\s*=\s*(.+?)\s*:\s*1", text, flags=re.MULTILINE)
    if match is None:
        return None
    return match.group(1).replace("v/mV", "v")


def _per_node(tree: CableTree, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Compartment values in node order; branch points get ``fill``."""
    out = np.full(tree.n_nodes, fill)
    out[tree.node_of_compartment] = values
    return out


def _membrane_arrays(model: NeuronModel, tree: CableTree
                     ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], bool]:
    table = model.morphology.compartment_table()
    n = table["index"].size
    base = {k: np.zeros(n) for k in ("gL", "E_L", "Cm")}
    gbar = {c: np.zeros(n) for c in model.channels()}
    calcium = model.has_calcium
    ca = {"gamma": np.zeros(n), "decay_ms": np.full(n, 100.0), "depth_um": np.full(n, 0.1),
          "rest_mM": np.full(n, 1e-4)}
    for region, mem in model.membranes().items():
        sel = table["region"] == region
        base["gL"][sel], base["E_L"][sel] = mem.g_leak_S_cm2, mem.E_leak_mV
        base["Cm"][sel] = mem.Cm_uF_cm2
        for cd in mem.channels:
            gbar[cd.channel.name][sel] = cd.at(table["distance_um"][sel])
        if calcium and mem.calcium is not None:
            pool = mem.calcium
            ca["gamma"][sel], ca["decay_ms"][sel] = pool.gamma, pool.decay_ms
            ca["depth_um"][sel], ca["rest_mM"][sel] = pool.depth_um, pool.rest_mM
    arrays = {k: _per_node(tree, v) for k, v in gbar.items()}
    if calcium:
        fills = {"gamma": 0.0, "decay_ms": 100.0, "depth_um": 0.1, "rest_mM": 1e-4}
        arrays |= {f"ca_{k}": _per_node(tree, v, fills[k]) for k, v in ca.items()}
    return {k: _per_node(tree, v) for k, v in base.items()}, arrays, calcium


def cell_spec(model: NeuronModel, stages: Stages | None = None) -> CellSpec:
    """Lay ``model`` (with ``stages`` applied, as the pipeline does) out for the engine.

    Parameters
    ----------
    model : NeuronModel
        The neuron.
    stages : Stages, optional
        Stage switches (default ``Stages()``); stochastic release is handled by the inputs.

    Returns
    -------
    CellSpec
    """
    stages = stages if stages is not None else Stages()
    m = model.with_stages(stages)
    tree = cable_tree(m.morphology)
    base, arrays, calcium = _membrane_arrays(m, tree)
    channels = []
    for name, ch in m.channels().items():
        g = arrays[name]
        nodes = np.flatnonzero(g > 0)
        if nodes.size:
            rev = m.calcium_reversal_mV if ch.ion == "ca" else ch.reversal_mV
            channels.append(ChannelSite(channel=ch, nodes=nodes, gbar_S_cm2=g[nodes],
                                        rate_factor=ch.rate_factor(m.temperature_C),
                                        reversal_mV=float(rev)))
    ca = ({k[3:]: v for k, v in arrays.items() if k.startswith("ca_")} if calcium else None)
    slots = []
    for grp in m.synapse_groups:
        for rec, w in grp.receptors.items():
            kin = m.receptors[rec]
            slots.append(ReceptorSlot(
                group=grp.name, receptor=rec, tau_rise_ms=kin.tau_rise_ms,
                tau_decay_ms=kin.tau_decay_ms, normalisation=kin.normalisation,
                reversal_mV=kin.reversal_mV, weight=float(w),
                block=_block_expression(kin) if kin.mg_block else None))
    comps = m.synapse_compartments()
    syn_nodes = {k: tree.node_of_compartment[v] for k, v in comps.items()}
    has_axon = any(r in m.morphology.regions for r in ("axon", "node", "internode"))
    v0 = m.E_rest_mV if m.v_init_mV is None else m.v_init_mV
    v0_nodes = np.full(tree.n_nodes, float(v0))
    return CellSpec(tree=tree, cm_uF_cm2=base["Cm"], g_leak_S_cm2=base["gL"],
                    E_leak_mV=base["E_L"], v0_mV=v0_nodes, channels=tuple(channels),
                    calcium=ca, calcium_reversal_mV=m.calcium_reversal_mV,
                    slots=tuple(slots), synapse_nodes=syn_nodes,
                    current_synapses=stages.synapses == "current",
                    detect_node=(int(tree.node_of_compartment[m.terminal_index])
                                 if has_axon else None),
                    threshold_mV=m.spike_threshold_mV, Ri_ohm_cm=m.Ri_ohm_cm,
                    calcium_nernst=((calcium_rt_2f_mV(m.temperature_C), m.calcium_outside_mM)
                                    if m.calcium_nernst else None))
