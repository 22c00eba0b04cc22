"""neuron-pipeline: the signal followed through every stage of the biophysical neuron.

Dettmers (2015) walks a signal from transmitter release to the next release; this figure
does the same in the reduced L5 pyramidal cell: presynaptic spikes (raster) → vesicles
released (Tsodyks–Markram, stochastic) → receptor conductances at the most innervated
dendritic compartment → dendritic voltage (with back-propagating spikes) → soma and axon
initial segment → the axon terminal, where the output spike arrives after a conduction
delay. The headline gives the delays, the axonal conduction velocity and the event rates
that the accounting pillar turns into FLOPs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from models.neurons import l5_pyramidal
from neurocomp.analysis import Analysis
from neurocomp.biophysics import inputs as spike_inputs
from neurocomp.biophysics.pipeline import NeuronPipeline
from neurocomp.biophysics.recording import Recording
from neurocomp.plotting import PALETTE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "neuron-pipeline"
CLAIM = ("In the reduced L5 pyramidal cell a spike starts in the axon initial segment, "
         "back-propagates into the dendrites with decaying amplitude and reaches the axon "
         "terminal after a measured conduction delay; every stage's events are counted for "
         "the FLOP accounting.")

#: Mean input rates per presynaptic axon. Beniaguev et al. (2021) drive their L5 cell with up
#: to 800 excitatory spikes per 100 ms per tree over ~640 segments (~12 Hz per segment,
#: anchors_neuro.md section 2.1); 4 Hz keeps this cell near 10 Hz output.
EXC_RATE_HZ = 4.0
INH_RATE_HZ = 5.0


def modulated_inputs(model, *, duration_ms: float, exc_rate_hz: float, inh_rate_hz: float,
                     modulation_hz: float, rng: np.random.Generator) -> dict:
    """Inhomogeneous Poisson input: rates modulated sinusoidally (depth 0.8) in 1 ms bins."""
    t = np.arange(int(duration_ms)) + 0.5
    profile = 1.0 + 0.8 * np.sin(2 * np.pi * modulation_hz * t / 1e3)
    out = {}
    for g in model.synapse_groups:
        base = exc_rate_hz if g.name == "exc" else inh_rate_hz
        rates = np.tile(base * profile, (g.n_sources, 1))
        out[g.name] = spike_inputs.inhomogeneous_poisson(rates_hz=rates, dt_ms=1.0, rng=rng)
    return out


def back_propagation(rec: Recording, label: str, *, window_ms: float = 6.0
                     ) -> tuple[float, float]:
    """Median spike-triggered amplitude (mV above the 1 ms pre-spike baseline) and peak delay
    (ms after the somatic spike) of the voltage at a dendritic site."""
    t, v = rec.t_ms, rec.traces["v"][rec.site(label)]
    amps, delays = [], []
    for s in rec.spikes_ms["soma"]:
        base = v[(t >= s - 1.5) & (t < s - 0.5)]
        win = (t >= s) & (t < s + window_ms)
        if base.size and win.any():
            k = int(np.argmax(v[win]))
            amps.append(float(v[win][k] - base.mean()))
            delays.append(float(t[win][k] - s))
    if not amps:
        return float("nan"), float("nan")
    return float(np.median(amps)), float(np.median(delays))


@dataclass(kw_only=True)
class PipelineResult(Recording):
    """The Recording plus a zoom on the first output spike."""

    zoom_ms: tuple[float, float]

    layout = (7, 1)
    row_height_in = 0.8

    def _draw(self, axes: Sequence[Axes]) -> None:
        super()._draw(list(axes)[:6])
        if len(axes) < 7:
            return
        ax = axes[6]
        t = self.t_ms
        lo, hi = self.zoom_ms
        keep = (t >= lo) & (t <= hi)
        for color, label in zip((PALETTE[2], PALETTE[0], PALETTE[1], PALETTE[4]),
                                ("dendrite (most synapses)", "soma", "AIS", "axon terminal"),
                                strict=False):
            if label in [s for s, _ in self.sites]:
                ax.plot(t[keep], self.traces["v"][self.site(label)][keep], color=color,
                        lw=0.9, label=label)
        ax.set(xlabel="time (ms), first output spike", ylabel="V (mV)")
        ax.legend(fontsize=5, loc="upper left", ncols=2)


def run(*, quick: bool = True, seed: int = 0) -> PipelineResult:
    """Simulate the L5 cell (``quick``: 400 ms; full: 2 s) on cpp_standalone."""
    from brian2 import ms, us

    model = l5_pyramidal()
    duration = 400.0 if quick else 2000.0
    rng = np.random.default_rng(seed)
    inputs = modulated_inputs(model, duration_ms=duration, exc_rate_hz=EXC_RATE_HZ,
                              inh_rate_hz=INH_RATE_HZ, modulation_hz=4.0, rng=rng)
    pipe = NeuronPipeline(model)
    rec = pipe.run(inputs, duration=duration * ms, dt=25 * us, backend="cpp_standalone",
                   seed=seed, record_dt=0.05 * ms, progress=False)
    sp = rec.spikes_ms
    table = model.morphology.compartment_table()
    sites = dict(rec.sites)
    out = sp["output"]
    if out.size == 0:
        raise RuntimeError("the neuron did not fire; raise the input rate")
    # pair each output spike with the last AIS spike before it
    ais = sp["AIS"]
    pairs = [(a, o) for o in out for a in ais[ais < o][-1:]]
    delay = float(np.median([o - a for a, o in pairs]))
    path_um = table["distance_um"][sites["axon terminal"]] - table["distance_um"][sites["AIS"]]
    bap = {label: back_propagation(rec, label) for label in ("dendrite (most synapses)",
                                                            "distal dendrite")}
    seconds = duration / 1e3
    c = rec.counts
    headline = {
        "output_rate_hz": out.size / seconds,
        "ais_to_terminal_delay_ms": delay,
        "axon_conduction_velocity_m_per_s": path_um * 1e-6 / (delay * 1e-3),
        "bap_amplitude_proximal_dendrite_mV": bap["dendrite (most synapses)"][0],
        "bap_delay_proximal_dendrite_ms": bap["dendrite (most synapses)"][1],
        "bap_amplitude_distal_dendrite_mV": bap["distal dendrite"][0],
        "bap_delay_distal_dendrite_ms": bap["distal dendrite"][1],
        "distal_dendrite_distance_um": float(table["distance_um"][sites["distal dendrite"]]),
        "presynaptic_spikes_per_s": c["presynaptic_spikes"] / seconds,
        "vesicles_released_per_s": c["vesicles_released"] / seconds,
        "synaptic_events_per_s": c["synaptic_events"] / seconds,
        "compartment_steps_per_s": c["compartment_steps"] / seconds,
        "compartments_count": c["compartments"],
        "synapses_count": c["synapses"],
        "simulation_run_time_s_per_biological_s": rec.timing["run_s"] / seconds,
    }
    first = float(out[0])
    fields_ = {f.name: getattr(rec, f.name) for f in fields(Recording)}
    fields_.update(name=NAME, claim=CLAIM, headline=headline,
                   notes=[f"Model: reduced L5 pyramidal cell ({c['compartments']} compartments, "
                          f"{c['synapses']} synapses); sources: {'; '.join(model.sources)}.",
                          f"Input: inhomogeneous Poisson, excitatory {EXC_RATE_HZ:g} Hz and "
                          f"inhibitory {INH_RATE_HZ:g} Hz per axon, modulated at 4 Hz "
                          f"(depth 0.8).",
                          "Axonal velocity: path length from the AIS recording site to the "
                          "terminal over the median AIS-to-terminal delay."])
    fields_["params"] = {**rec.params, "exc_rate_hz": EXC_RATE_HZ, "inh_rate_hz": INH_RATE_HZ,
                         "modulation_hz": 4.0}
    return PipelineResult(**fields_, zoom_ms=(max(0.0, first - 3.0), first + 4.0))


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=41)
