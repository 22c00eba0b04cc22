"""The recorded surrogate frontier is priced only while it describes today's cell."""

from __future__ import annotations

from neurocomp_models.neuronio import CONDITIONS
from neurocomp_models.surrogates import cheapest_passing, stale_reason

from neurocomp.mapping import GenerationSpec

SPEC = {"burn_in_ms": 2000.0, "sequence_ms": 10000.0, "data_seed": 0}


def _key(name: str, **spec) -> str:
    s = {**SPEC, **spec}
    return CONDITIONS[name].key(GenerationSpec(
        condition=name, burn_in_ms=s["burn_in_ms"], sequence_ms=s["sequence_ms"], n_train=1,
        n_val=0, n_test=0, seed=s["data_seed"]))


def _frontier(keys: dict[str, str] | None) -> dict:
    rows = [{"condition": "ampa", "model": "A", "spike_auc": 0.96, "flop_per_ms": 10.0},
            {"condition": "ampa", "model": "B", "spike_auc": 0.97, "flop_per_ms": 5.0},
            {"condition": "ampa", "model": "C", "spike_auc": 0.90, "flop_per_ms": 1.0}]
    out = {"accuracy_bar_auc": 0.95, "rows": rows}
    if keys is not None:
        out.update(data_keys=keys, data_spec=dict(SPEC))
    return out


def test_a_frontier_of_todays_data_is_current() -> None:
    f = _frontier({name: _key(name) for name in CONDITIONS})
    assert stale_reason(f) is None  # keys recomputed from today's conditions match
    # the cheapest passing one (C fails the bar; B is cheaper than A): exact choice
    assert cheapest_passing(f, condition="ampa")["model"] == "B"


def test_a_frontier_of_other_data_is_stale() -> None:
    # no keys at all (written before keys were recorded): stale, says why
    assert "no data keys" in stale_reason(_frontier(None))
    # another generation spec (seed) gives another key: stale, naming the condition
    other = {name: _key(name, data_seed=1) for name in CONDITIONS}
    assert "ampa data" in stale_reason(_frontier(other))  # the first condition, sorted
    # a condition that no longer exists
    assert "'gone'" in stale_reason(_frontier({"gone": "0" * 20}))
