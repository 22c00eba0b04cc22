"""Input drive of the reduced L5 cells: sinusoidally modulated Poisson input per axon.

The drive of the ``neuron-pipeline`` and ``stage-correspondence`` figures and of the
library's bottom-up cost estimate: one inhomogeneous Poisson train per presynaptic axon,
its rate :math:`r(t) = \\bar r\\,(1 + d \\sin 2\\pi f t)` in 1 ms bins, one mean rate for the
excitatory group and one for every other group. Beniaguev, Segev & London (2021) drive their
L5 cell with up to 800 excitatory spikes per 100 ms per tree over ~640 segments, about 12 Hz
per segment (``docs/references.md#anchors-neuro-2-1``); the rates below are modelling choices in
that range, set per cell so that it fires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocomp.biophysics import NeuronModel, SpikeTrains
from neurocomp.biophysics import inputs as spike_inputs
from neurocomp.checks import check_real

__all__ = ["L5_DRIVE", "L5_SQUID_DRIVE", "ModulatedDrive"]

_BENIAGUEV = ("Beniaguev, Segev & London (2021) Neuron 109:2727: ~12 Hz per segment "
              "(docs/references.md#anchors-neuro-2-1)")


@dataclass(frozen=True, kw_only=True)
class ModulatedDrive:
    """Sinusoidally modulated Poisson input, one train per presynaptic axon.

    Parameters
    ----------
    exc_rate_hz : float
        Mean rate per axon of the synapse group named ``exc``, Hz (> 0).
    inh_rate_hz : float
        Mean rate per axon of every other group, Hz (≥ 0).
    modulation_hz : float
        Frequency of the modulation, Hz (> 0).
    depth : float
        Modulation depth d, in [0, 1].
    source : str
        Where the rates come from.
    """

    exc_rate_hz: float
    inh_rate_hz: float
    modulation_hz: float = 4.0
    depth: float = 0.8
    source: str = _BENIAGUEV

    def __post_init__(self) -> None:
        check_real("exc_rate_hz", self.exc_rate_hz, low=0, low_inclusive=False, unit="Hz")
        check_real("inh_rate_hz", self.inh_rate_hz, low=0, unit="Hz")
        check_real("modulation_hz", self.modulation_hz, low=0, low_inclusive=False, unit="Hz")
        check_real("depth", self.depth, low=0, high=1)

    def rate_hz(self, group: str) -> float:
        """Mean rate per axon of synapse group ``group``, Hz."""
        return self.exc_rate_hz if group == "exc" else self.inh_rate_hz

    def events_per_s(self, model: NeuronModel) -> dict[str, float]:
        """Mean synaptic events per second of each group of ``model`` (each spike of an axon
        reaches every synapse wired to it: rate × synapses)."""
        return {g.name: self.rate_hz(g.name) * g.n_synapses for g in model.synapse_groups}

    def trains(self, model: NeuronModel, *, duration_ms: float, rng: np.random.Generator
               ) -> dict[str, SpikeTrains]:
        """Spike trains of every synapse group of ``model`` for ``duration_ms`` (whole ms)."""
        t = np.arange(int(duration_ms)) + 0.5
        profile = 1.0 + self.depth * np.sin(2 * np.pi * self.modulation_hz * t / 1e3)
        out = {}
        for g in model.synapse_groups:
            rates = np.tile(self.rate_hz(g.name) * profile, (g.n_sources, 1))
            out[g.name] = spike_inputs.inhomogeneous_poisson(rates_hz=rates, dt_ms=1.0, rng=rng)
        return out


#: The mammalian cell (``neurocomp_models.neurons.l5_pyramidal``: 230 excitatory and 230 inhibitory
#: axons, one synapse each). 10 Hz excitation makes it fire; at 4 Hz it stays silent (a
#: 400 ms probe at 4, 10 and 20 Hz; the figure reports the rate it gets).
L5_DRIVE = ModulatedDrive(exc_rate_hz=10.0, inh_rate_hz=5.0)

#: The squid-kinetics cell (``neurocomp_models.neurons.l5_pyramidal_squid``: 1,000 excitatory
#: and 200 inhibitory axons): 4 Hz keeps it firing at a few Hz.
L5_SQUID_DRIVE = ModulatedDrive(exc_rate_hz=4.0, inh_rate_hz=5.0)
