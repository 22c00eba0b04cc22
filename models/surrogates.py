"""Fitted surrogates of the mammalian L5 cell, as measured by this library's paper run.

``models/data/surrogate_frontier.json`` is written by ``python -m
neurocomp_analyses.surrogate_depth`` from a run of the ``surrogate-depth`` analysis (its
command, date, machine and amount of data are inside): one row per condition and surrogate with its
held-out spike AUC (and bootstrap interval), voltage VE, parameters and forward FLOPs per simulated
millisecond. The brain-scale "fitted surrogate × neurons" estimate prices only a surrogate that
passes the accuracy bar, the cheapest that does (:func:`cheapest_passing`); when none passes,
there is nothing to price, and the estimate says so. A frontier fitted to another cell or
other inputs than today's (:func:`stale_reason`) prices nothing either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["FRONTIER_PATH", "cheapest_passing", "stale_reason", "surrogate_frontier"]

FRONTIER_PATH = Path(__file__).resolve().parent / "data" / "surrogate_frontier.json"


def surrogate_frontier(path: str | Path = FRONTIER_PATH) -> dict[str, Any] | None:
    """The measured frontier (``{"provenance": ..., "accuracy_bar_auc": ..., "rows": [...]}``)
    or ``None`` when no run has written it."""
    p = Path(path)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p} is not a surrogate frontier file: not valid JSON ({exc}); "
                         f"rerun python -m neurocomp_analyses.surrogate_depth to write it"
                         ) from None
    if not isinstance(data, dict) or "rows" not in data or "accuracy_bar_auc" not in data:
        raise ValueError(f"{p} is not a surrogate frontier file (needs 'rows' and "
                         f"'accuracy_bar_auc')")
    return data


def cheapest_passing(frontier: dict[str, Any], *, condition: str = "nmda"
                     ) -> dict[str, Any] | None:
    """The cheapest surrogate (FLOPs per ms) of ``condition`` whose held-out spike AUC
    reaches the frontier's accuracy bar, or ``None`` if none does."""
    bar = float(frontier["accuracy_bar_auc"])
    known = sorted({"nmda", "ampa"} | {r["condition"] for r in frontier["rows"]})
    if condition not in known:  # models.neuronio.CONDITIONS and any the file holds
        raise ValueError(f"condition must be one of {', '.join(map(repr, known))}; got "
                         f"{condition!r}")
    rows = [r for r in frontier["rows"] if r["condition"] == condition
            and float(r["spike_auc"]) >= bar]
    return min(rows, key=lambda r: float(r["flop_per_ms"])) if rows else None


def stale_reason(frontier: dict[str, Any]) -> str | None:
    """Why ``frontier`` does not describe today's cell and inputs, or ``None`` if it does.

    The frontier records the NeuronIO-mini data keys its surrogates were fitted to (a hash of
    the model, the input statistics, the generation spec and the simulating code's version);
    they are recomputed for today's :data:`neurocomp_models.neuronio.CONDITIONS` and compared.
    """
    from neurocomp_models.neuronio import CONDITIONS

    from neurocomp.mapping import GenerationSpec

    keys, spec = frontier.get("data_keys"), frontier.get("data_spec")
    if not keys or not spec:
        return ("the recorded run does not say which data it was fitted to (no data keys: "
                "written before the cell got its cell1-like apical tree)")
    for name, key in sorted(keys.items()):
        if name not in CONDITIONS:
            return f"it was fitted to condition {name!r}, which no longer exists"
        now = CONDITIONS[name].key(GenerationSpec(
            condition=name, burn_in_ms=float(spec["burn_in_ms"]),
            sequence_ms=float(spec["sequence_ms"]), n_train=1, n_val=0, n_test=0,
            seed=int(spec["data_seed"])))
        if now != key:
            return (f"its {name} data (key {key}) were simulated from another cell, inputs or "
                    f"code than today's (key {now})")
    return None
