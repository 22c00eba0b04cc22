"""neuron-pipeline: the signal followed through every stage of the biophysical neuron.

Dettmers (2015) walks a signal from transmitter release to the next release; this figure
does the same in the reduced mammalian L5b pyramidal cell
(``neurocomp_models.neurons.l5_pyramidal``: Hay et al. 2011's channels at 34 °C, Beniaguev et al.
2021's synapses): presynaptic spikes
(raster) → vesicles released (Tsodyks–Markram; the cell's synapses release on every spike)
→ receptor conductances at a dendritic compartment → dendritic voltage (with
back-propagating spikes) → soma and axon initial segment → the axon terminal, where the
output spike arrives after a conduction delay. The headline gives the delays (the AIS's lead
over the soma, AIS to terminal), back-propagation into the dendrites and the event rates
that the accounting pillar turns into FLOPs; the cell's short axon stub gives no conduction
velocity (``cable-validation`` measures the HH axon's).

The mammalian cell costs several times the squid-kinetics one per simulated second, so the
quick run keeps 400 ms; the input is ``neurocomp_models.l5_drive.L5_DRIVE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from neurocomp_models.l5_drive import L5_DRIVE
from neurocomp_models.neurons import l5_pyramidal

from neurocomp.analysis import Analysis
from neurocomp.biophysics import NeuronPipeline, Recording, RecordSite
from neurocomp.plotting import PALETTE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "neuron-pipeline"
CLAIM = ("A signal followed through every stage of the reduced L5 pyramidal cell: where the "
         "spike starts, its back-propagation into the dendrites, its arrival at the axon "
         "terminal, and the events counted for the FLOP accounting.")


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`.

    Returns
    -------
    str
        One sentence; where the run contradicts the expected shape (the spike not starting
        in the AIS, back-propagation not decaying with distance, no terminal delay) it says
        so.
    """
    lead = headline["ais_lead_over_soma_ms"]
    start = (f"a spike starts in the axon initial segment, {lead:.2f} ms before the soma"
             if lead > 0 else
             f"a spike does not start in the axon initial segment: the soma leads it by "
             f"{-lead:.2f} ms" if np.isfinite(lead) else
             "no spike could be timed at both the axon initial segment and the soma")
    prox, dist = (headline["bap_amplitude_proximal_dendrite_mV"],
                  headline["bap_amplitude_distal_dendrite_mV"])
    where = (f"{prox:.1f} mV at {headline['proximal_dendrite_distance_um']:.0f} µm, "
             f"{dist:.1f} mV at {headline['distal_dendrite_distance_um']:.0f} µm")
    bap = (f"back-propagates into the dendrites with decaying amplitude ({where})"
           if dist < prox else
           f"back-propagates into the dendrites without decaying ({where})")
    delay = headline["ais_to_terminal_delay_ms"]
    path = headline["ais_to_terminal_path_um"]
    end = (f"reaches the axon terminal {delay:.3f} ms after the AIS ({path:.0f} µm away)"
           if np.isfinite(delay) and delay > 0 else
           f"reaches the axon terminal ({path:.0f} µm away) with no measurable delay")
    rates = (f"{headline['synaptic_events_per_s']:.0f} synaptic events and "
             f"{headline['compartment_steps_per_s']:.3g} compartment steps per second".replace(
                 "e+0", "e").replace("e+", "e"))
    return (f"In the reduced L5 pyramidal cell, firing at "
            f"{headline['output_rate_hz']:.0f} Hz, {start}, {bap} and {end}; every stage's "
            f"events are counted for the FLOP accounting ({rates}).")


def _median_lag(first: np.ndarray, then: np.ndarray) -> float:
    """Median of ``t - (last time in first ≤ t)`` over ``then`` (nan if none pair)."""
    lags = [t - first[first <= t][-1] for t in then if (first <= t).any()]
    return float(np.median(lags)) if lags else float("nan")


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
        labels = [s for s, _ in self.sites]
        proximal = next((s for s in labels if s.startswith("dendrite")), "")
        for color, label in zip((PALETTE[2], PALETTE[0], PALETTE[1], PALETTE[4]),
                                (proximal, "soma", "AIS", "axon terminal"), strict=False):
            if label in labels:
                ax.plot(t[keep], self.traces["v"][self.site(label)][keep], color=color,
                        lw=0.9, label=label)
        ax.set(xlabel="time (ms), first output spike", ylabel="V (mV)")
        ax.legend(fontsize=5, loc="lower right", ncols=4, bbox_to_anchor=(1.0, 1.0),
                  borderaxespad=0.1)


def run(*, quick: bool = True, seed: int = 0) -> PipelineResult:
    """Simulate the L5 cell (``quick``: 400 ms; full: 2 s) on cpp_standalone."""
    from brian2 import ms, us

    model = l5_pyramidal()
    duration = 400.0 if quick else 2000.0
    inputs = L5_DRIVE.trains(model, duration_ms=duration, rng=np.random.default_rng(seed))
    pipe = NeuronPipeline(model)
    # the pipeline's default sites; its "most synapses" dendrite is a tie in this cell (one
    # synapse of each kind per compartment), so it is named by its path distance instead
    table = model.morphology.compartment_table()
    sites = [RecordSite(label=f"dendrite ({table['distance_um'][s.index]:.0f} µm)",
                        index=s.index) if s.label == "dendrite (most synapses)" else s
             for s in pipe.default_sites()]
    proximal = next(s.label for s in sites if s.label.startswith("dendrite"))
    rec = pipe.run(inputs, duration=duration * ms, dt=25 * us, backend="cpp_standalone",
                   record=sites, seed=seed, record_dt=0.05 * ms, progress=False)
    sp = rec.spikes_ms
    sites = dict(rec.sites)
    out = sp["output"]
    if out.size == 0:
        raise RuntimeError("the neuron did not fire; raise the input rate")
    # threshold crossings of the recorded traces (one monitor, one clock; the output
    # monitor stamps a spike at the start of the step that crosses): pair each crossing at
    # the terminal and at the soma with the last AIS crossing before it
    ais = sp["AIS"]
    delay = _median_lag(ais, sp["axon terminal"])
    ais_lead = _median_lag(ais, sp["soma"])
    bap = {label: back_propagation(rec, label) for label in (proximal, "distal dendrite")}
    seconds = duration / 1e3
    c = rec.counts
    headline = {
        "output_rate_hz": out.size / seconds,
        "ais_to_terminal_delay_ms": delay,
        "ais_lead_over_soma_ms": ais_lead,
        "ais_to_terminal_path_um": float(table["distance_um"][sites["axon terminal"]]
                                         - table["distance_um"][sites["AIS"]]),
        "bap_amplitude_proximal_dendrite_mV": bap[proximal][0],
        "bap_delay_proximal_dendrite_ms": bap[proximal][1],
        "bap_amplitude_distal_dendrite_mV": bap["distal dendrite"][0],
        "bap_delay_distal_dendrite_ms": bap["distal dendrite"][1],
        "proximal_dendrite_distance_um": float(table["distance_um"][sites[proximal]]),
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
    fields_.update(name=NAME, claim=claim_from(headline), headline=headline,
                   notes=[f"Model: reduced mammalian L5b pyramidal cell ({c['compartments']} "
                          f"compartments, {c['synapses']} synapses); sources: "
                          f"{'; '.join(model.sources)}.",
                          f"Input: inhomogeneous Poisson, excitatory {L5_DRIVE.exc_rate_hz:g} "
                          f"Hz and inhibitory {L5_DRIVE.inh_rate_hz:g} Hz per axon, modulated "
                          f"at {L5_DRIVE.modulation_hz:g} Hz (depth {L5_DRIVE.depth:g}).",
                          "Delays: median lag of threshold crossings at the terminal and at "
                          "the soma after the last AIS crossing before them (positive "
                          "ais_lead_over_soma_ms: the spike starts in the AIS). The cell's axon "
                          "is Beniaguev et al.'s short stub, too short for a conduction "
                          "velocity (cable-validation measures the HH axon's)."])
    fields_["params"] = {**rec.params, "exc_rate_hz": L5_DRIVE.exc_rate_hz,
                         "inh_rate_hz": L5_DRIVE.inh_rate_hz,
                         "modulation_hz": L5_DRIVE.modulation_hz}
    return PipelineResult(**fields_, zoom_ms=(max(0.0, first - 3.0), first + 4.0))


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=41)
