"""``Recording``: what a pipeline run saw, stage by stage, and what it cost in events.

A Recording is a :class:`~neurocomp.results.Result`: ``plot()`` draws the signal through the
stages (raster → release → receptor conductances → dendrite → soma → AIS → axon terminal),
``to_frame()`` gives the traces as a tidy table, and ``save()`` writes them with the model,
stage switches, seed and backend. :attr:`Recording.counts` holds the events the accounting
pillar turns into FLOPs: presynaptic spikes, synaptic events, vesicles released,
compartment-steps, output spikes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from neurocomp.biophysics.units import accepts_quantities
from neurocomp.plotting import PALETTE
from neurocomp.results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from neurocomp.biophysics.model import NeuronModel, Stages

__all__ = ["Recording", "adaptation_index", "detect_spikes"]


@accepts_quantities
def detect_spikes(t_ms: np.ndarray, v_mV: np.ndarray, threshold_mV: float) -> np.ndarray:
    """Times (ms) of upward crossings of ``threshold_mV``, linearly interpolated."""
    v = np.asarray(v_mV)
    up = np.flatnonzero((v[:-1] <= threshold_mV) & (v[1:] > threshold_mV))
    frac = (threshold_mV - v[up]) / (v[up + 1] - v[up])
    return t_ms[up] + frac * (t_ms[up + 1] - t_ms[up])


@dataclass(kw_only=True)
class Recording(Result):
    """Traces, spikes per stage and event counts of one pipeline run.

    Attributes
    ----------
    t_ms : ndarray
        Sample times of the traces, ms.
    sites : list of (label, compartment index)
        Recorded compartments.
    traces : dict of str to ndarray (n_sites, n_t)
        ``v`` (mV) and receptor conductances ``g_<name>`` (nS) or currents ``I_<name>`` (pA).
    spikes_ms : dict of str to ndarray
        Spike times per recorded site (threshold crossings) and ``"output"`` (the axon
        terminal, detected by Brian2 at every step).
    inputs : dict of str to (indices, times_ms)
        Presynaptic spikes per synapse group.
    release : dict of str to (times_ms, cumulative vesicles of up to 20 synapses)
    counts : dict of str to int
        Event counts of the whole run.
    timing : dict of str to float
        Wall, compile and run times, s.
    """

    t_ms: np.ndarray
    sites: list[tuple[str, int]]
    traces: dict[str, np.ndarray]
    trace_units: dict[str, str]
    spikes_ms: dict[str, np.ndarray]
    inputs: dict[str, tuple[np.ndarray, np.ndarray]]
    release: dict[str, tuple[np.ndarray, np.ndarray]]
    counts: dict[str, int]
    timing: dict[str, float]
    model_name: str
    stages: dict[str, Any]
    backend: str

    layout = (6, 1)
    row_height_in = 0.85

    @classmethod
    def from_raw(cls, raw: dict[str, Any], *, model: NeuronModel, stages: Stages,
                 sites: Sequence[Any], duration_ms: float, dt_ms: float, backend: str,
                 seed: int) -> Recording:
        """Build a Recording from the pipeline's raw monitor data."""
        t = raw["t_ms"]
        v = raw["traces"]["v"]
        spikes = {s.label: detect_spikes(t, v[k], model.spike_threshold_mV)
                  for k, s in enumerate(sites)}
        spikes["output"] = raw["output_ms"]
        n_steps = round(duration_ms / dt_ms)
        counts = {
            "presynaptic_spikes": int(sum(idx.size for idx, _ in raw["inputs"].values())),
            "synaptic_events": int(sum(e.sum() for e in raw["events"].values())),
            "vesicles_released": round(sum(v.sum() for v in raw["vesicles"].values())),
            "compartments": raw["n_compartments"],
            "steps": n_steps,
            "compartment_steps": raw["n_compartments"] * n_steps,
            "synapses": int(sum(e.size for e in raw["events"].values())),
            "output_spikes": int(raw["output_ms"].size),
        }
        headline = {"output_rate_hz": counts["output_spikes"] / (duration_ms / 1e3),
                    "vesicles_per_synaptic_event": (counts["vesicles_released"]
                                                    / max(counts["synaptic_events"], 1)),
                    "wall_time_s": raw["timing"].get("wall_s", float("nan"))}
        return cls(
            name="recording", claim=f"{model.name}: the signal through every stage.",
            params={"model": model.name, "duration_ms": duration_ms, "dt_ms": dt_ms,
                    "backend": backend, "stages": asdict(stages),
                    "sites": [(s.label, s.index) for s in sites]},
            seed=seed, headline=headline, t_ms=t,
            sites=[(s.label, s.index) for s in sites], traces=raw["traces"],
            trace_units=raw["trace_units"], spikes_ms=spikes, inputs=raw["inputs"],
            release=raw["release"], counts=counts, timing=raw["timing"],
            model_name=model.name, stages=asdict(stages), backend=backend,
        )

    def site(self, label: str) -> int:
        """Row of ``traces`` for the site with this label."""
        for k, (name, _) in enumerate(self.sites):
            if name == label:
                return k
        raise KeyError(f"no recorded site {label!r}; sites: {[s for s, _ in self.sites]}")

    def to_frame(self) -> pd.DataFrame:
        frames = []
        for var, values in self.traces.items():
            for k, (label, idx) in enumerate(self.sites):
                frames.append(pd.DataFrame({"t_ms": self.t_ms, "site": label,
                                            "compartment": idx, "variable": var,
                                            "unit": self.trace_units[var],
                                            "value": values[k]}))
        return pd.concat(frames, ignore_index=True)

    def metadata(self) -> dict[str, Any]:
        meta = super().metadata()
        meta["counts"] = self.counts
        meta["timing"] = self.timing
        return meta

    # -- figure -------------------------------------------------------------------------
    def _draw(self, axes: Sequence[Axes]) -> None:
        t = self.t_ms
        panels = [self._raster, self._release, self._conductance, self._dendrite,
                  self._soma_ais, self._terminal]
        for ax, panel in zip(axes, panels, strict=False):
            panel(ax)
            ax.set_xlim(t[0], t[-1])
        for ax in axes[:-1]:  # one shared time axis: labels on the bottom panel only
            ax.tick_params(labelbottom=False)
            ax.set_xlabel("")
        axes[min(len(axes), len(panels)) - 1].set_xlabel("time (ms)")

    def _raster(self, ax: Axes) -> None:
        offset = 0
        for color, (name, (idx, times)) in zip(PALETTE, self.inputs.items(), strict=False):
            ax.plot(times, idx + offset, "|", ms=1.5, color=color, label=name)
            offset += int(idx.max()) + 1 if idx.size else 1
        ax.set_ylabel("input\naxon")
        ax.set_xlabel("time (ms)")
        if len(self.inputs) > 1:
            ax.legend(fontsize=5, loc="lower right", ncols=len(self.inputs),
                      bbox_to_anchor=(1.0, 1.0), borderaxespad=0.1, markerscale=3)

    def _release(self, ax: Axes) -> None:
        for color, (_name, (times, cum)) in zip(PALETTE, self.release.items(), strict=False):
            total = cum.sum(axis=0)
            if times.size > 1:
                ax.step(times[1:], np.diff(total), where="post", color=color, lw=0.8)
        ax.set_ylabel("vesicles\nper ms")
        ax.set_xlabel("time (ms)")

    def _conductance(self, ax: Axes) -> None:
        k = self._dendrite_row()
        for color, (var, values) in zip(PALETTE, ((v, x) for v, x in self.traces.items()
                                                  if v != "v"), strict=False):
            ax.plot(self.t_ms, values[k], color=color, lw=0.8, label=var.split("_", 1)[1])
        unit = next((u for v, u in self.trace_units.items() if v != "v"), "nS")
        ax.set_ylabel(f"receptors\n({unit})")
        ax.set_xlabel("time (ms)")
        _legend_above(ax, ncols=3)

    def _dendrite_row(self) -> int:
        for k, (label, _) in enumerate(self.sites):
            if label.startswith("dendrite"):
                return k
        return 0

    def _dendrite(self, ax: Axes) -> None:
        for k, (label, _) in enumerate(self.sites):
            if "dendrite" in label:
                ax.plot(self.t_ms, self.traces["v"][k], lw=0.8, label=label,
                        color=PALETTE[2 if label.startswith("dendrite") else 3])
        ax.set_ylabel("dendrite\nV (mV)")
        ax.set_xlabel("time (ms)")
        _legend_above(ax, ncols=2)

    def _soma_ais(self, ax: Axes) -> None:
        for label, color in (("soma", PALETTE[0]), ("AIS", PALETTE[1])):
            if label in [s for s, _ in self.sites]:
                ax.plot(self.t_ms, self.traces["v"][self.site(label)], lw=0.8, label=label,
                        color=color)
        ax.set_ylabel("soma, AIS\nV (mV)")
        ax.set_xlabel("time (ms)")
        _legend_above(ax, ncols=2)

    def _terminal(self, ax: Axes) -> None:
        if "axon terminal" in [s for s, _ in self.sites]:
            ax.plot(self.t_ms, self.traces["v"][self.site("axon terminal")], lw=0.8,
                    color=PALETTE[4])
        for t in self.spikes_ms.get("output", []):
            ax.axvline(t, color="0.6", lw=0.5, ls=":")
        ax.set_ylabel("terminal\nV (mV)")
        ax.set_xlabel("time (ms)")


@accepts_quantities
def adaptation_index(spikes_ms: Sequence[float]) -> float:
    """Spike-frequency adaptation of a train: the mean of (ISI_{i+1} − ISI_i)/(ISI_{i+1} +
    ISI_i) from the second ISI on (eFEL's ``adaptation_index2``, the feature Hay et al. 2011
    fitted); NaN with fewer than 3 ISIs after the first. 0 for a regular train, > 0 when it
    slows down.

    Parameters
    ----------
    spikes_ms : sequence of float
        Spike times, ms, sorted.
    """
    isi = np.diff(np.asarray(spikes_ms, float))[1:]
    if isi.size < 2:
        return float("nan")
    return float(np.mean((isi[1:] - isi[:-1]) / (isi[1:] + isi[:-1])))


def _legend_above(ax: Axes, *, ncols: int) -> None:
    """A one-row legend above the top-right corner of ``ax``, clear of the traces."""
    ax.legend(fontsize=5, loc="lower right", ncols=ncols, bbox_to_anchor=(1.0, 1.0),
              borderaxespad=0.1)
