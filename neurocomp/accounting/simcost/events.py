r"""FLOPs a biophysical simulation spends per neuron-second, from its event counts.

.. math::

    F = n_\text{comp-steps}\,(c_\text{cable} + c_\text{membrane} + c_\text{receptors})
      + n_\text{gated comp-steps}\,c_\text{gates} + n_\text{section-steps}\,c_\text{branch}
      + n_\text{steps}\,c_\text{detect} + \sum_g n_{\text{events},g}\,c_{\text{event},g}

with the per-unit costs :math:`c` derived from the model's equations
(:func:`~neurocomp.accounting.simcost.equations`) and the counts :math:`n` from a
:class:`~neurocomp.biophysics.recording.Recording` (``counts``: ``steps``,
``compartment_steps``, ``synaptic_events`` …) or given by hand. Dividing by the simulated
time gives FLOP per neuron-second — the real-time FLOP/s one such neuron needs.

Convention: 1 multiply-add = 2 FLOPs; divisions, transcendental functions (``exp``,
``exprel``), comparisons and random draws cost what a
:class:`~neurocomp.accounting.scalar_ops.ScalarOpCosts` says — by default 1, 1, 1 and 0,
a stated choice (Izhikevich's 2004 FLOP-per-ms ranking, ``docs/references.md#anchors-neuro-1-6``,
gives no convention for ``exp``), so every result carries it.

:func:`throughput_check` sets the count against the run's own wall time: the implied
FLOP/s (count ÷ ``Recording.timing['run_s']``) over this machine's measured peak
(:func:`measure_peak_flop_per_s`, a float64 matrix product, the precision Brian2 computes
in) must be below 1 — a count that implied more than the machine can do would be wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts
from neurocomp.accounting.simcost.equations import SimulationOps, simulation_ops
from neurocomp.biophysics import NeuronModel, Stages
from neurocomp.checks import check_int, check_real
from neurocomp.provenance import FLOP_CONVENTION

if TYPE_CHECKING:
    import pandas as pd

    from neurocomp.biophysics import Recording

__all__ = ["COUNT_NAMES", "CostItem", "SimulationCost", "ThroughputCheck",
           "events_by_group", "measure_peak_flop_per_s", "recording_cost", "simulation_cost",
           "throughput_check"]

#: Event counts a Recording holds (``Recording.counts``); the cost uses the first four.
COUNT_NAMES = ("steps", "compartments", "compartment_steps", "synaptic_events",
               "presynaptic_spikes", "vesicles_released", "synapses", "output_spikes")
_REQUIRED = ("steps", "compartment_steps", "synaptic_events")


@dataclass(frozen=True, kw_only=True)
class CostItem:
    """One term of the cost: ``count`` units of ``unit`` at ``flop_per_unit`` each."""

    name: str
    unit: str
    count: float
    flop_per_unit: float

    @property
    def flop(self) -> float:
        """``count × flop_per_unit``."""
        return self.count * self.flop_per_unit


@dataclass(frozen=True, kw_only=True)
class SimulationCost:
    """The FLOPs of one simulation run, term by term.

    Attributes
    ----------
    model : str
        The neuron model.
    duration_s : float
        Simulated (biological) time, s.
    n_neurons : int
        Neurons simulated (the counts are for all of them together).
    items : tuple of CostItem
        The terms of the sum.
    random_draws : float
        Random numbers drawn (priced at ``costs.random_draw_flop``, default 0).
    ops : SimulationOps
        The per-unit costs used.
    costs : ScalarOpCosts
    convention : str
    not_counted : tuple of str
        What the cost leaves out.
    """

    model: str
    duration_s: float
    n_neurons: int
    items: tuple[CostItem, ...]
    random_draws: float
    ops: SimulationOps
    costs: ScalarOpCosts
    convention: str = FLOP_CONVENTION
    not_counted: tuple[str, ...] = (
        "event queues and spike delivery (integer work)",
        "recording: monitors, vesicle and event totals",
        "random-number generation beyond costs.random_draw_flop per draw",
        "Brian2's exact sympy-simplified forms of I0 and g_tot (estimated as 2 × I_m)")

    def __post_init__(self) -> None:
        check_real("duration_s", self.duration_s, low=0.0, low_inclusive=False, unit="s")
        check_int("n_neurons", self.n_neurons, low=1)

    @property
    def total_flop(self) -> float:
        """All FLOPs of the run."""
        return sum(item.flop for item in self.items)

    @property
    def flop_per_neuron_second(self) -> float:
        """FLOPs per neuron per second of simulated time (= real-time FLOP/s per neuron)."""
        return self.total_flop / (self.duration_s * self.n_neurons)

    def share(self, name: str) -> float:
        """Fraction of the total in the term ``name``."""
        total = self.total_flop
        return sum(i.flop for i in self.items if i.name == name) / total if total else 0.0

    def to_frame(self) -> pd.DataFrame:
        """One row per term, with FLOP per neuron-second and share of the total."""
        import pandas as pd

        total = self.total_flop
        return pd.DataFrame([{
            "term": i.name, "unit": i.unit, "count": i.count, "flop_per_unit": i.flop_per_unit,
            "flop": i.flop, "flop_per_neuron_second": i.flop / (self.duration_s * self.n_neurons),
            "share": i.flop / total if total else 0.0} for i in self.items])


def _check_counts(counts: Mapping[str, Any]) -> dict[str, int]:
    if not isinstance(counts, Mapping):
        raise TypeError(f"counts must be a mapping of count name to int; got "
                        f"{type(counts).__name__}")
    unknown = [k for k in counts if k not in COUNT_NAMES]
    if unknown:
        raise ValueError(f"unknown count name {unknown[0]!r}; known: {', '.join(COUNT_NAMES)}")
    missing = [k for k in _REQUIRED if k not in counts]
    if missing:
        raise ValueError(f"counts must give {', '.join(_REQUIRED)}; {missing[0]!r} is missing")
    return {k: check_int(f"counts[{k!r}]", v, low=0) for k, v in counts.items()}


def simulation_cost(*, model: NeuronModel, counts: Mapping[str, int], duration_s: float,
                    stages: Stages | None = None,
                    synaptic_events_by_group: Mapping[str, int] | None = None,
                    costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS,
                    n_neurons: int = 1) -> SimulationCost:
    """FLOPs of a simulation of ``model`` with the given event counts.

    Parameters
    ----------
    model : NeuronModel
        The neuron (before stages are applied).
    counts : mapping of str to int
        At least ``steps``, ``compartment_steps`` and ``synaptic_events`` (≥ 0); other
        :data:`COUNT_NAMES` are accepted and ignored.
    duration_s : float
        Simulated time, s (> 0).
    stages : Stages, optional
        The pipeline's stages (default: all on, stochastic release).
    synaptic_events_by_group : mapping of str to int, optional
        Events per synapse group; required when the model has several groups (they differ
        in receptors and release), and must sum to ``counts['synaptic_events']``.
    costs : ScalarOpCosts
    n_neurons : int
        Neurons the counts cover.

    Raises
    ------
    ValueError
        For negative or missing counts, unknown count or group names, or groups that do not
        add up.
    """
    c = _check_counts(counts)
    duration_s = check_real("duration_s", duration_s, low=0.0, low_inclusive=False, unit="s")
    n_neurons = check_int("n_neurons", n_neurons, low=1)
    ops = simulation_ops(model, stages=stages, costs=costs)
    groups = list(ops.event_flop)
    if synaptic_events_by_group is None:
        if len(groups) > 1 and c["synaptic_events"]:
            raise ValueError(f"model {model.name!r} has synapse groups {groups}; pass "
                             f"synaptic_events_by_group (they cost differently per event)")
        by_group = {groups[0]: c["synaptic_events"]} if groups else {}
    else:
        by_group = {g: check_int(f"synaptic_events_by_group[{g!r}]", n, low=0)
                    for g, n in synaptic_events_by_group.items()}
        unknown = [g for g in by_group if g not in groups]
        if unknown:
            raise ValueError(f"unknown synapse group {unknown[0]!r}; groups: {groups}")
        if sum(by_group.values()) != c["synaptic_events"]:
            raise ValueError(f"synaptic_events_by_group sums to {sum(by_group.values())}, "
                             f"not counts['synaptic_events'] = {c['synaptic_events']}")
    if c["synaptic_events"] and not groups:
        raise ValueError(f"counts give {c['synaptic_events']} synaptic events but model "
                         f"{model.name!r} has no synapse groups")
    steps, comp_steps = c["steps"], c["compartment_steps"]
    per_comp = steps * n_neurons  # steps of every per-neuron structure
    items = [
        CostItem(name="cable solve", unit="compartment-step", count=comp_steps,
                 flop_per_unit=ops.cable_flop_per_compartment_step),
        CostItem(name="branch points", unit="section-step", count=ops.sections * per_comp,
                 flop_per_unit=ops.branch_flop_per_section_step),
        CostItem(name="membrane currents", unit="compartment-step", count=comp_steps,
                 flop_per_unit=ops.membrane_flop_per_compartment_step),
        CostItem(name="channel gates", unit="gated compartment-step",
                 count=comp_steps * ops.gated_compartments / max(ops.compartments, 1),
                 flop_per_unit=ops.gate_flop_per_gated_compartment_step),
        CostItem(name="receptor states", unit="compartment-step", count=comp_steps,
                 flop_per_unit=ops.receptor_state_flop_per_compartment_step),
        CostItem(name="spike detection", unit="step", count=per_comp,
                 flop_per_unit=ops.detection_flop_per_step),
    ]
    items += [CostItem(name=f"release and delivery ({g})", unit="synaptic event", count=n,
                       flop_per_unit=ops.event_flop[g]) for g, n in by_group.items()]
    draws = sum(n * ops.event_random_draws[g] for g, n in by_group.items())
    return SimulationCost(model=ops.model, duration_s=duration_s, n_neurons=n_neurons,
                          items=tuple(items), random_draws=float(draws), ops=ops, costs=costs)


def events_by_group(recording: Recording, model: NeuronModel) -> dict[str, int]:
    """Synaptic events per group of a run: each input spike of source i reaches every
    synapse wired to i (the pipeline wires synapse k to source ``k % n_sources``)."""
    import numpy as np

    m = model.with_stages(Stages(**recording.stages))
    out = {}
    for g in m.synapse_groups:
        idx, _ = recording.inputs.get(g.name, (np.zeros(0, dtype=int), None))
        per_source = np.bincount(np.arange(g.n_synapses) % g.n_sources, minlength=g.n_sources)
        out[g.name] = int(per_source[np.asarray(idx, dtype=int)].sum()) if len(idx) else 0
    return out


def recording_cost(recording: Recording, model: NeuronModel, *,
                   costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> SimulationCost:
    """:func:`simulation_cost` of a pipeline run: its counts, duration, stages and events.

    Raises
    ------
    ValueError
        If ``model`` is not the recording's model, or the events per group (from the input
        spikes) do not add up to the recorded total.
    """
    if model.name != recording.model_name:
        raise ValueError(f"the recording is of model {recording.model_name!r}, not "
                         f"{model.name!r}")
    by_group = events_by_group(recording, model)
    if sum(by_group.values()) != recording.counts["synaptic_events"]:
        raise ValueError(f"input spikes imply {sum(by_group.values())} synaptic events but "
                         f"the recording counted {recording.counts['synaptic_events']}")
    return simulation_cost(model=model, counts=recording.counts,
                           duration_s=float(recording.params["duration_ms"]) / 1e3,
                           stages=Stages(**recording.stages),
                           synaptic_events_by_group=by_group, costs=costs)


def measure_peak_flop_per_s(*, n: int = 1024, repeats: int = 5, dtype: str = "float64") -> float:
    """This machine's matrix-product rate, FLOP/s: ``2n³`` over the median of ``repeats``
    numpy ``n×n @ n×n`` products (all cores BLAS uses), after a warm-up."""
    import numpy as np

    from neurocomp.timing import measure

    n = check_int("n", n, low=16, high=16384)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    timing = measure(lambda: np.matmul(a, b, out=out), repeats=repeats, warmup=1)
    return 2.0 * n**3 / timing.median_s


@dataclass(frozen=True, kw_only=True)
class ThroughputCheck:
    """The counted FLOPs of a run against its wall time and the machine's peak.

    Attributes
    ----------
    flop : float
        Counted FLOPs of the run.
    run_s : float
        Wall time of the simulation loop, s.
    peak_flop_per_s : float
        The machine's measured peak, FLOP/s.
    """

    flop: float
    run_s: float
    peak_flop_per_s: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        check_real("flop", self.flop, low=0.0, unit="FLOP")
        check_real("run_s", self.run_s, low=0.0, low_inclusive=False, unit="s")
        check_real("peak_flop_per_s", self.peak_flop_per_s, low=0.0, low_inclusive=False,
                   unit="FLOP/s")

    @property
    def implied_flop_per_s(self) -> float:
        """Counted FLOPs ÷ run time."""
        return self.flop / self.run_s

    @property
    def fraction_of_peak(self) -> float:
        """Implied rate ÷ peak; physically plausible only below 1."""
        return self.implied_flop_per_s / self.peak_flop_per_s

    @property
    def plausible(self) -> bool:
        """Whether the implied rate is below the machine's peak."""
        return self.fraction_of_peak < 1.0


def throughput_check(cost: SimulationCost, *, run_s: float,
                     peak_flop_per_s: float | None = None) -> ThroughputCheck:
    """Compare a cost with the run's wall time (``Recording.timing['run_s']``).

    ``peak_flop_per_s`` defaults to :func:`measure_peak_flop_per_s` measured now.
    """
    if not isinstance(cost, SimulationCost):
        raise TypeError(f"cost must be a SimulationCost; got {type(cost).__name__}")
    measured = peak_flop_per_s is None
    peak = measure_peak_flop_per_s() if measured else peak_flop_per_s
    note = "peak: float64 matmul measured now" if measured else "peak: given"
    return ThroughputCheck(flop=cost.total_flop, run_s=run_s, peak_flop_per_s=peak,
                           notes=(note,))

