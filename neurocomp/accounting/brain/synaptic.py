r"""Estimates that count synaptic events or entity updates: Kurzweil, Carlsmith, AI Impacts,
Sandberg & Bostrom.

All share one shape, a count times a rate times a cost per event,

.. math:: F = N \cdot r \cdot c,

and differ in what they count: connections firing at 200 Hz, one "calculation" each
(Kurzweil 1999); the post's per-region synapse counts at the same rate (Kurzweil-style,
Dettmers 2015 §Part I); spikes through synapses at 0.1–1 Hz costing 1–100 FLOP each
(Carlsmith 2020, mechanistic method, standard neuron signalling only); traversed edges per
second (AI Impacts), converted to FLOP/s at a stated cost per edge; or simulated entities
updated at a fixed rate (Sandberg & Bostrom 2008, level 4: spiking neural network).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurocomp.accounting._checks import check_positive
from neurocomp.accounting.estimates import EstimateParameters, Factor, factor_meta

__all__ = [
    "AIImpactsTepsParameters",
    "CarlsmithMechanisticParameters",
    "KurzweilParameters",
    "KurzweilRegionalParameters",
    "SandbergBostromParameters",
    "entity_update_flop_per_s",
    "kurzweil_regional_flop_per_s",
    "synaptic_event_flop_per_s",
]


def synaptic_event_flop_per_s(*, synapses: Any, rate_hz: Any,
                              flop_per_event: Any) -> float | np.ndarray:
    r"""FLOP/s of synaptic events: :math:`N_\mathrm{syn} \cdot r \cdot c`.

    Parameters
    ----------
    synapses : float or array_like
        Synapses (or connections) in the brain (> 0).
    rate_hz : float or array_like
        Mean rate of events per synapse, Hz (> 0).
    flop_per_event : float or array_like
        Cost of one event, FLOP (> 0).
    """
    return (check_positive("synapses", synapses)
            * check_positive("rate_hz", rate_hz, unit="Hz")
            * check_positive("flop_per_event", flop_per_event, unit="FLOP"))


def kurzweil_regional_flop_per_s(*, neurons: Any, cerebellum_fraction: Any,
                                 cerebellum_synapses_per_neuron: Any,
                                 cerebrum_synapses_per_neuron: Any, rate_hz: Any,
                                 flop_per_event: Any) -> float | np.ndarray:
    r"""Kurzweil's model with the post's regional numbers, FLOP/s.

    .. math:: F = N\,[f\,s_\mathrm{cb} + (1 - f)\,s_\mathrm{cr}]\; r\; c

    Parameters
    ----------
    neurons : float or array_like
        Neurons in the brain (> 0).
    cerebellum_fraction : float or array_like
        Share of the neurons in the cerebellum, in (0, 1); the rest count as cerebrum.
    cerebellum_synapses_per_neuron, cerebrum_synapses_per_neuron : float or array_like
        Synapses per neuron in each region (> 0).
    rate_hz : float or array_like
        Firing rate, Hz (> 0).
    flop_per_event : float or array_like
        FLOP per synaptic event (> 0).
    """
    f = check_positive("cerebellum_fraction", cerebellum_fraction)
    if np.any(np.asarray(f) >= 1):
        raise ValueError(f"cerebellum_fraction must be in (0, 1); got "
                         f"{np.max(np.asarray(f)):g}")
    synapses_per_neuron = (f * check_positive("cerebellum_synapses_per_neuron",
                                              cerebellum_synapses_per_neuron)
                           + (1 - f) * check_positive("cerebrum_synapses_per_neuron",
                                                      cerebrum_synapses_per_neuron))
    return synaptic_event_flop_per_s(
        synapses=check_positive("neurons", neurons) * synapses_per_neuron,
        rate_hz=rate_hz, flop_per_event=flop_per_event)


def entity_update_flop_per_s(*, entities: Any, flop_per_update: Any,
                             updates_per_s: Any) -> float | np.ndarray:
    r"""FLOP/s of a clock-driven simulation: entities × FLOP per update × updates per second.

    The structure of Sandberg & Bostrom's (2008) Table 9 ([R],
    docs/references.md#anchors-neuro-1-2).
    """
    return (check_positive("entities", entities)
            * check_positive("flop_per_update", flop_per_update, unit="FLOP")
            * check_positive("updates_per_s", updates_per_s, unit="Hz"))


@dataclass(frozen=True, kw_only=True)
class KurzweilParameters(EstimateParameters):
    """Kurzweil (1999): neurons × connections per neuron × calculations per second.

    Every factor must be > 0.
    """

    neurons: Factor = field(metadata=factor_meta(unit="1"))
    connections_per_neuron: Factor = field(metadata=factor_meta(unit="1"))
    rate_hz: Factor = field(metadata=factor_meta(unit="Hz"))
    flop_per_calculation: Factor = field(metadata=factor_meta(unit="FLOP"))

    formula_text = "neurons × connections per neuron × rate × FLOP per calculation"
    uncounted = ("everything inside the neuron beyond one calculation per connection "
                 "per firing",)

    def _formula(self, **v: Any) -> Any:
        return synaptic_event_flop_per_s(
            synapses=check_positive("neurons", v["neurons"])
            * check_positive("connections_per_neuron", v["connections_per_neuron"]),
            rate_hz=v["rate_hz"], flop_per_event=v["flop_per_calculation"])


@dataclass(frozen=True, kw_only=True)
class KurzweilRegionalParameters(EstimateParameters):
    """Kurzweil's model with per-region synapse counts (the post's reference numbers).

    ``cerebellum_fraction`` must be in (0, 1); every other factor > 0.
    """

    neurons: Factor = field(metadata=factor_meta(unit="1"))
    cerebellum_fraction: Factor = field(metadata=factor_meta(unit="1", high=1.0,
                                                             high_inclusive=False))
    cerebellum_synapses_per_neuron: Factor = field(metadata=factor_meta(unit="1"))
    cerebrum_synapses_per_neuron: Factor = field(metadata=factor_meta(unit="1"))
    rate_hz: Factor = field(metadata=factor_meta(unit="Hz"))
    flop_per_event: Factor = field(metadata=factor_meta(unit="FLOP"))

    formula_text = ("neurons × [f·synapses per cerebellar neuron + (1−f)·synapses per "
                    "cerebral neuron] × rate × FLOP per event")
    uncounted = ("the post rejects this model: it leaves out dendritic computation, "
                 "proteins and genes (Dettmers 2015, Part I)",)

    def _formula(self, **v: Any) -> Any:
        return kurzweil_regional_flop_per_s(**v)


@dataclass(frozen=True, kw_only=True)
class CarlsmithMechanisticParameters(EstimateParameters):
    """Carlsmith (2020), mechanistic method, standard neuron signalling: synapses × mean
    rate × FLOP per spike through a synapse. Every factor must be > 0."""

    synapses: Factor = field(metadata=factor_meta(unit="1"))
    mean_rate_hz: Factor = field(metadata=factor_meta(unit="Hz"))
    flop_per_spike_through_synapse: Factor = field(metadata=factor_meta(unit="FLOP"))

    formula_text = "synapses × mean firing rate × FLOP per spike through a synapse"
    uncounted = (
        "firing decisions (neurons × FLOP per firing decision): range NOT FOUND",
        "learning: range NOT FOUND",
        "other signalling (glia, gap junctions, ephaptic effects, blood flow), which "
        "Carlsmith argues does not change the range much",
    )

    def _formula(self, **v: Any) -> Any:
        return synaptic_event_flop_per_s(synapses=v["synapses"], rate_hz=v["mean_rate_hz"],
                                         flop_per_event=v["flop_per_spike_through_synapse"])


@dataclass(frozen=True, kw_only=True)
class AIImpactsTepsParameters(EstimateParameters):
    """AI Impacts (2015): traversed edges per second = synapses × mean spike rate, put on
    the FLOP/s axis at ``flop_per_traversed_edge``. Every factor must be > 0."""

    synapses: Factor = field(metadata=factor_meta(unit="1"))
    mean_rate_hz: Factor = field(metadata=factor_meta(unit="Hz"))
    flop_per_traversed_edge: Factor = field(metadata=factor_meta(unit="FLOP"))

    formula_text = ("synapses × mean spike rate (= TEPS) × FLOP per traversed edge "
                    "(the conversion is this library's, not AI Impacts')")
    uncounted = ("TEPS measures communication, not arithmetic: any computation per edge "
                 "beyond the stated FLOP",)

    def _formula(self, **v: Any) -> Any:
        return synaptic_event_flop_per_s(synapses=v["synapses"], rate_hz=v["mean_rate_hz"],
                                         flop_per_event=v["flop_per_traversed_edge"])

    @property
    def teps(self) -> float:
        """The brain's traversed edges per second at the central values."""
        return float(self.synapses.value * self.mean_rate_hz.value)


@dataclass(frozen=True, kw_only=True)
class SandbergBostromParameters(EstimateParameters):
    """Sandberg & Bostrom (2008), one level of emulation: entities × FLOP per update ×
    updates per second. Every factor must be > 0."""

    level: int
    entities: Factor = field(metadata=factor_meta(unit="1"))
    flop_per_update: Factor = field(metadata=factor_meta(unit="FLOP"))
    updates_per_s: Factor = field(metadata=factor_meta(unit="Hz"))

    formula_text = "entities simulated × FLOP per entity update × updates per second"
    uncounted = ("everything below the chosen level of detail",)

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.level, bool) or not isinstance(self.level, int | np.integer) \
                or not 1 <= self.level <= 11:
            raise ValueError(f"SandbergBostromParameters.level must be an integer in "
                             f"[1, 11]; got {self.level!r}")

    def _formula(self, **v: Any) -> Any:
        return entity_update_flop_per_s(entities=v["entities"],
                                        flop_per_update=v["flop_per_update"],
                                        updates_per_s=v["updates_per_s"])
