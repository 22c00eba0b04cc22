"""Fitted surrogates of the mammalian L5 cell, as measured by this library's paper run.

``models/data/surrogate_frontier.json`` is written by ``python -m analyses.surrogate_depth``
from a run of the ``surrogate-depth`` analysis (its command, date, machine and amount of
data are inside): one row per condition and surrogate with its held-out spike AUC (and
bootstrap interval), voltage VE, parameters and forward FLOPs per simulated millisecond.
The brain-scale "fitted surrogate × neurons" estimate prices only a surrogate that passes
the accuracy bar, the cheapest that does (:func:`cheapest_passing`); when none passes,
there is nothing to price, and the estimate says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["FRONTIER_PATH", "cheapest_passing", "surrogate_frontier"]

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
                         f"rerun python -m analyses.surrogate_depth to write it") from None
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
