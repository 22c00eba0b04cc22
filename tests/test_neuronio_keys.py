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


def test_data_only_loads_the_shipped_quick_sets_without_simulating(tmp_path, monkeypatch,
                                                                   capsys):
    """``python -m neurocomp_analyses.surrogate_depth --data-only`` at the quick size, on an
    empty cache: the shipped sequences are copied in and loaded, nothing is simulated (the
    simulators are replaced by ones that fail), and each condition's key and rate are
    printed."""
    from neurocomp_analyses import surrogate_depth as sd
    from neurocomp_models import neuronio

    monkeypatch.setenv("NEUROCOMP_CACHE", str(tmp_path))

    class Refusing:  # a simulator of either kind that fails if asked for anything
        batch_size = 16

        def __call__(self, *a):
            raise AssertionError("the shipped quick set must not be simulated again")

        simulate_batch = __call__

    made = []
    monkeypatch.setattr(neuronio.NeuronIOCondition, "simulator",
                        lambda self, backend="brian2", **k: made.append(backend) or (
                            Refusing() if backend == "torch" else Refusing().__call__))
    size = ["--n-train", str(QUICK.n_train), "--n-val", str(QUICK.n_val), "--n-test",
            str(QUICK.n_test)]
    for backend in ("brian2", "torch"):
        sd.main([*size, "--data-only", "--data-backend", backend])
        out = capsys.readouterr().out.splitlines()
        assert [line.split(":")[0] for line in out] == list(CONDITIONS)
        for line, (name, cond) in zip(out, CONDITIONS.items(), strict=True):
            assert cond.key(QUICK.spec(name)) in line and "6 sequences" in line
    assert made == ["brian2", "brian2", "torch", "torch"]  # the backend reached the data
