"""The input and synapse stages of a pipeline run: spike generators and Brian2 synapses.

Each synapse group of a model becomes a ``SpikeGeneratorGroup`` replaying its presynaptic
spikes, ``Synapses`` onto the group's compartments that run the Tsodyks–Markram release rules
(:mod:`neurocomp.biophysics.release`, stochastic or deterministic) and add ``weight ×
released`` to each receptor's conductance (nS) or current (pA) rise and decay terms, and a
``SpikeMonitor`` of the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomp.biophysics.backend import import_brian2
from neurocomp.biophysics.inputs import SpikeTrains
from neurocomp.biophysics.model import Stages, SynapseGroup
from neurocomp.biophysics.release import ReleaseParameters, release_code, release_model

__all__: list[str] = []


def _synapse_model(group: SynapseGroup, stages: Stages) -> str:
    """The ``Synapses`` equations of ``group``: its release state (``stages.release``) and a
    constant weight ``w_<receptor>`` per receptor (siemens for conductance synapses, amp for
    current-based ones)."""
    unit_name = "siemens" if stages.synapses == "conductance" else "amp"
    model_eq = release_model(group.release, mode=stages.release)
    model_eq += "\n" + "\n".join(f"w_{r} : {unit_name} (constant)" for r in group.receptors)
    return model_eq


def _synapse_on_pre(group: SynapseGroup, stages: Stages) -> str:
    """The ``on_pre`` code of ``group``: release (``stages.release``), then ``w × released``
    added to each receptor's ``A`` and ``B`` terms on the postsynaptic compartment."""
    on_pre = release_code(group.release, mode=stages.release)
    on_pre += "\n" + "\n".join(f"A_{r}_post += w_{r}*released\nB_{r}_post += "
                               f"w_{r}*released" for r in group.receptors)
    return on_pre


def _set_rested(syn: Any, release: ReleaseParameters, mode: str) -> None:
    """Start every synapse rested: utilisation at its baseline ``U``, every release site
    occupied (``x`` = 1, or each ``occ<k>`` = 1), the last spike 10⁴ s ago; ``tau_rec`` and
    ``tau_facil`` (ms; a zero facilitation time as 1e-9 ms) set from ``release``."""
    b2 = import_brian2()
    ms, second = b2.ms, b2.second
    syn.U = release.U
    syn.u = release.U
    syn.tau_rec = release.tau_rec_ms * ms
    syn.tau_facil = max(release.tau_facil_ms, 1e-9) * ms
    syn.tlast = -1e4 * second
    if mode == "deterministic":
        syn.x = 1.0
    else:
        for k in range(release.n_sites):
            setattr(syn, f"occ{k}", 1.0)


def _build_synapses(group: SynapseGroup, trains: SpikeTrains, neuron: Any, *,
                    compartments: np.ndarray, dt_ms: float, stages: Stages
                    ) -> tuple[Any, Any, Any]:
    """The input generator, synapses and input monitor of one synapse group.

    Parameters
    ----------
    group : SynapseGroup
        The group: sources, synapses, release parameters and receptor weights (nS for
        conductance synapses, pA for current-based ones).
    trains : SpikeTrains
        Its presynaptic spikes (duplicates within one step of ``dt_ms`` merged).
    neuron : brian2.SpatialNeuron
        The postsynaptic neuron.
    compartments : numpy.ndarray
        The compartment of each synapse; synapse ``k`` is driven by source
        ``k % group.n_sources``.
    dt_ms : float
        Integration step, ms.
    stages : Stages
        The release mode and synapse kind of the run.

    Returns
    -------
    tuple
        ``(generator, synapses, monitor)``: the ``SpikeGeneratorGroup``
        (``input_<group>``), the ``Synapses`` (``syn_<group>``) and the input ``SpikeMonitor``
        (``inmon_<group>``).
    """
    b2 = import_brian2()
    ms = b2.ms
    weight_unit = b2.nS if stages.synapses == "conductance" else b2.pA
    t = trains.dedupe(dt_ms)
    gen = b2.SpikeGeneratorGroup(group.n_sources, t.indices, t.times_ms * ms,
                                 dt=dt_ms * ms, name=f"input_{group.name}")
    syn = b2.Synapses(gen, neuron, model=_synapse_model(group, stages),
                      on_pre=_synapse_on_pre(group, stages), dt=dt_ms * ms,
                      name=f"syn_{group.name}", namespace={})
    syn.connect(i=np.arange(group.n_synapses) % group.n_sources, j=compartments)
    _set_rested(syn, group.release, stages.release)
    for r, w in group.receptors.items():
        setattr(syn, f"w_{r}", w * weight_unit)
    monitor = b2.SpikeMonitor(gen, name=f"inmon_{group.name}")
    return gen, syn, monitor
