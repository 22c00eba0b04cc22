"""Bottom-up brain estimates from this library's own models (for ``brain-estimates``).

Three per-neuron costs, each scaled by cited neuron counts (``neurocomp_models.brain_estimates``):

* **Brian2 simulation** — the reduced mammalian L5b cell's
  (``neurocomp_models.neurons.l5_pyramidal``, Hay et al. 2011's channels) simulation cost per
  neuron-second
  (:func:`neurocomp.accounting.simcost.events`, priced from its channel units and
  equations at dt = 25 µs and the ``neuron-pipeline`` input rates,
  ``neurocomp_models.l5_drive.L5_DRIVE``; no simulation is run), for every neuron;
* **fitted surrogate** — only a surrogate that passes the accuracy bar on held-out data of
  the mammalian cell, the cheapest that does, as measured by the ``surrogate-depth`` paper
  run (``neurocomp_models.surrogates``, written by ``python -m
  neurocomp_analyses.surrogate_depth``): its forward FLOPs per simulated millisecond × 1000, for
  every neuron. When no surrogate passes
  (or no run has been recorded), there is no row to price, and :func:`surrogate_status`
  says so with the best measured accuracy — a failing surrogate is shown as failing;
* **DettmersNeuron** — the counter's forward FLOPs of the post's granule and Purkinje
  layers per window of T = 5 steps × the post's window rate
  (``neurocomp_models.dettmers_neurons.SHARED_NUMBERS["window_rate"]``), for the post's granule and
  Purkinje counts.

Used by the ``brain-estimates`` analysis; it lives in ``models/`` (beside the cited
estimates of ``neurocomp_models.brain_estimates``) so that no analysis imports another: the input
rates, the window rate and the measured surrogates are ``models/`` too.
"""

from __future__ import annotations

import functools

import torch
from neurocomp_models.brain_estimates import (
    AZEVEDO_2009_WHOLE_BRAIN,
    DETTMERS_2015_CEREBELLAR_TYPES,
)
from neurocomp_models.dettmers_neurons import SHARED_NUMBERS, granule_cell, purkinje_cell
from neurocomp_models.l5_drive import L5_DRIVE
from neurocomp_models.neurons import l5_pyramidal
from neurocomp_models.surrogates import cheapest_passing, stale_reason, surrogate_frontier

from neurocomp.accounting import count, simulation_cost
from neurocomp.accounting.brain import BottomUpParameters, bottom_up

DT_MS = 0.025
T_STEPS = int(SHARED_NUMBERS["time_steps"].value)
WINDOWS_PER_S = SHARED_NUMBERS["window_rate"].value
def simulation_flop_per_neuron_s() -> float:
    """The reduced L5 cell's simulation cost for 1 s at the neuron-pipeline input rates."""
    model = l5_pyramidal()
    steps = round(1000.0 / DT_MS)
    events = {g: round(n) for g, n in L5_DRIVE.events_per_s(model).items()}
    comps = model.morphology.n_compartments
    counts = {"steps": steps, "compartment_steps": comps * steps,
              "synaptic_events": sum(events.values())}
    return simulation_cost(model=model, counts=counts, duration_s=1.0,
                           synaptic_events_by_group=events).flop_per_neuron_second


def surrogate_status(condition: str = "nmda") -> tuple[dict | None, str]:
    """The cheapest surrogate of ``condition`` that passes the recorded accuracy bar (or
    ``None``) and a sentence saying what was found, formatted from the recorded run."""
    frontier = surrogate_frontier()
    if frontier is None:
        return None, ("No surrogate-depth paper run is recorded (models/data/"
                      "surrogate_frontier.json): no fitted surrogate is priced.")
    prov = frontier.get("provenance", {})
    stale = stale_reason(frontier)
    if stale is not None:
        return None, (f"Fitted surrogate × neurons: NOT priced — the recorded surrogate-depth "
                      f"run ('{prov.get('command', '?')}') no longer describes today's cell: "
                      f"{stale}.")
    bar = float(frontier["accuracy_bar_auc"])
    rows = [r for r in frontier["rows"] if r["condition"] == condition]
    passing = cheapest_passing(frontier, condition=condition)
    source = (f"surrogate-depth run '{prov.get('command', '?')}' "
              f"({prov.get('train_s', float('nan')) / 60:.1f} min of training data)")
    if passing is None:
        best = max(rows, key=lambda r: float(r["spike_auc"])) if rows else None
        best_txt = (f"the best, {best['model']}, reaches held-out spike AUC "
                    f"{float(best['spike_auc']):.3f}" if best else "no surrogate was scored")
        return None, (f"Fitted surrogate × neurons: NOT priced — no surrogate of the "
                      f"{condition} condition passes the accuracy bar (AUC ≥ {bar:g}); "
                      f"{best_txt} ({source}).")
    return passing, (f"Fitted surrogate × neurons: the cheapest surrogate passing the bar "
                     f"(AUC ≥ {bar:g}), {passing['model']} at AUC "
                     f"{float(passing['spike_auc']):.3f} and "
                     f"{float(passing['flop_per_ms']):.3g} FLOPs per simulated ms ({source}).")


def dettmers_neuron_flop_per_neuron_s(algorithm: str = "auto") -> dict[str, float]:
    """Forward FLOPs per neuron-second of the post's granule and Purkinje layers.

    ``algorithm="toeplitz"`` computes the dendritic convolution as the post's direct sums;
    ``"auto"`` lets the layer pick (the FFT for the Purkinje cell's 1,000-tap filter).
    """
    out = {}
    for name, make in (("granule", granule_cell), ("purkinje", purkinje_cell)):
        neuron = make(dendritic_algorithm=algorithm).eval()
        x = torch.zeros(1, neuron.config.n_synapses, T_STEPS)
        out[name] = count(neuron, x, backward=False).forward_flop * WINDOWS_PER_S
    return out


@functools.cache
def library_bottom_up_estimates() -> dict[str, BottomUpParameters]:
    """The three estimates, by key (computed once per process)."""
    model = l5_pyramidal()
    n_syn = sum(g.n_synapses for g in model.synapse_groups)
    sim = bottom_up(
        name="bottom_up_brian2_simulation", label="Brian2 L5 cell × neurons",
        populations=AZEVEDO_2009_WHOLE_BRAIN,
        flop_per_s_per_neuron=simulation_flop_per_neuron_s(),
        cost_source="this library: the reduced mammalian L5b cell's simulation cost "
                    f"({model.morphology.n_compartments} compartments, {n_syn:,} synapses, "
                    f"dt {DT_MS} ms, {L5_DRIVE.exc_rate_hz:g}/{L5_DRIVE.inh_rate_hz:g} Hz "
                    "input) priced from its channel units and equations",
        notes=("Every neuron simulated as this library's reduced mammalian L5b cell.",))
    passing, status = surrogate_status()
    surrogate = [] if passing is None else [bottom_up(
        name="bottom_up_fitted_surrogate", label=f"fitted {passing['model']} × neurons",
        populations=AZEVEDO_2009_WHOLE_BRAIN,
        flop_per_s_per_neuron=float(passing["flop_per_ms"]) * 1e3,
        cost_source="this library: " + status,
        notes=("The cheapest surrogate of the mammalian L5 cell that passes the accuracy "
               "bar on held-out data, applied to every neuron.",))]
    dns = []
    for algorithm, key, label in (("toeplitz", "direct", "direct sums"),
                                  ("auto", "fft", "FFT")):
        dns.append(bottom_up(
            name=f"bottom_up_dettmers_neuron_{key}",
            label=f"DettmersNeuron ({label}) × cells",
            populations=DETTMERS_2015_CEREBELLAR_TYPES,
            flop_per_s_per_neuron=dettmers_neuron_flop_per_neuron_s(algorithm),
            cost_source="this library: counter forward FLOPs of the post's granule and "
                        f"Purkinje layers ({label}) per T = {T_STEPS} window × "
                        f"{WINDOWS_PER_S:g} "
                        "windows/s",
            notes=("The post's two cerebellar types only, as in its own estimate.",)))
    return {p.name: p for p in (sim, *surrogate, *dns)}
