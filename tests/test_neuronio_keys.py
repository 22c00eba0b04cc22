"""The NeuronIO-mini data keys of the shipped quick subset still match the model.

A key hashes the model's full description, the input statistics and the data code's version,
so any edit that reaches them — even of descriptive text inside a frozen dataclass, such as a
citation string — silently orphans every cached and shipped simulation. This test fails first.
"""

from __future__ import annotations

from pathlib import Path

from neurocomp_analyses.surrogate_depth import QUICK
from neurocomp_models.neuronio import CONDITIONS

SHIPPED = Path(__file__).resolve().parents[1] / "analyses" / "data" / "neuronio-mini"


def test_shipped_quick_data_match_the_current_keys():
    shipped = {p.name for p in SHIPPED.iterdir() if p.is_dir()}
    for name, condition in CONDITIONS.items():
        key = condition.key(QUICK.spec(name))
        # exact: a key is a hash, a changed model or input table gives another one
        assert key in shipped, (f"{name}: key {key} has no shipped data (shipped: "
                                f"{sorted(shipped)}); a change reached the model's or the "
                                "inputs' description — bump DATA_CODE_VERSION and regenerate, "
                                "or undo it")
