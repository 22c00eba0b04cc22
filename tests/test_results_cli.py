"""Result saving, the analysis registry, the runner's failure handling and the CLI."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import neurocomp.runner as runner
from neurocomp.analysis import Analysis, AnalysisLoadError, discover, load
from neurocomp.provenance import FLOP_CONVENTION
from neurocomp.result_files import jsonable
from neurocomp.results import Result


@dataclass(kw_only=True)
class LineResult(Result):
    x: np.ndarray
    y: np.ndarray

    layout = (1, 2)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"x_s": self.x, "y_mV": self.y})

    def _draw(self, axes):
        axes[0].plot(self.x, self.y)
        axes[0].set(xlabel="time (s)", ylabel="V (mV)")
        if len(axes) > 1:
            axes[1].plot(self.y, self.x)
            axes[1].set(xlabel="V (mV)", ylabel="time (s)")


def _line(name: str = "line", **kw) -> LineResult:
    return LineResult(name=name, claim="A line is drawn.", params={"n": 5}, seed=3,
                      headline={"slope_mV_per_s": 2.0, "worst": float("nan")},
                      x=np.arange(5.0), y=2 * np.arange(5.0), **kw)


def _png_size(path) -> tuple[int, int]:
    with open(path, "rb") as fh:
        head = fh.read(24)
    return struct.unpack(">II", head[16:24])


def test_save_writes_the_four_files(tmp_path):
    res = _line(wall_time_s=1.25)
    out = res.save(tmp_path / "line")
    assert sorted(p.name for p in out.iterdir()) == [".neurocomp-result.json", "data.csv",
                                                     "figure.pdf", "figure.png", "meta.json"]
    meta = json.loads((out / "meta.json").read_text())
    for key in ("params", "seed", "versions", "git", "wall_time_s", "flop_convention",
                "headline", "claim", "environment"):
        assert key in meta
    assert meta["flop_convention"] == FLOP_CONVENTION == "1 multiply-add (MAC) = 2 FLOPs"
    assert meta["headline"] == {"slope_mV_per_s": 2.0, "worst": "nan"}  # valid JSON, no NaN
    assert meta["versions"]["numpy"] == np.__version__
    width_px, _ = _png_size(out / "figure.png")
    assert width_px >= 3.0 * 150  # single-column figure (>= 3 in) at >= 150 dpi
    assert pd.read_csv(out / "data.csv").shape == (5, 2)
    assert (out / "figure.pdf").read_bytes().startswith(b"%PDF")


def test_save_replaces_an_old_result_atomically(tmp_path):
    _line().save(tmp_path / "line")
    (tmp_path / "line" / "figure.png").write_bytes(b"stale")
    _line().save(tmp_path / "line")  # neurocomp's own result (marker): replaced
    assert (tmp_path / "line" / "figure.png").read_bytes() != b"stale"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "stale.txt").write_text("old")
    with pytest.raises(ValueError, match="no neurocomp marker"):
        _line().save(tmp_path / "mine")  # issue 13: a directory it did not write is kept
    assert (tmp_path / "mine" / "stale.txt").read_text() == "old"


def test_index_of_results_saved_outside_the_runner(tmp_path):
    from neurocomp.report import write_index

    _line("timed", wall_time_s=1.25).save(tmp_path / "timed")
    _line("untimed").save(tmp_path / "untimed")  # no wall time: saved by hand, not run
    page = write_index(tmp_path, ["timed", "untimed"]).read_text()
    assert "1.2 s" in page and "untimed/figure.png" in page and "FAILED" not in page


def test_run_clock_records_a_benchmark_runs_provenance():
    from neurocomp.provenance import RunClock

    clock = RunClock(started_s=time.time() - 2.0)
    rec = clock.record()
    assert 1.9 <= rec["wall_time_s"] < 60  # started 2 s ago; rounded to 0.1 s
    assert len(rec["load_average_1_5_15min"]["start"]) == 3
    assert len(rec["load_average_1_5_15min"]["end"]) == 3
    assert rec["machine"]["node"] and rec["versions"]["numpy"] == np.__version__
    assert set(rec) == {"load_average_1_5_15min", "machine", "versions", "git", "wall_time_s",
                        "created_utc"}


def test_run_clock_keeps_the_commit_the_run_started_from(monkeypatch):
    """A run that outlives a commit made beside it records the commit it started from, and
    the one at its end apart (a paper run once recorded the later commit as its own)."""
    from neurocomp import provenance

    commits = iter([{"commit": "a" * 40, "dirty": False}, {"commit": "b" * 40, "dirty": False}])
    monkeypatch.setattr(provenance, "git_info", lambda *a: next(commits))
    rec = provenance.RunClock().record()
    assert rec["git"]["commit"] == "a" * 40
    assert rec["git_at_end"]["commit"] == "b" * 40


def test_plot_into_given_axes():
    from neurocomp.plotting import new_figure

    _, axes = new_figure(1, 1)
    assert _line().plot(axes[0]) is axes[0]  # one Axes: the main panel only
    assert axes[0].get_xlabel() == "time (s)"
    drawn = _line().plot()
    assert len(drawn) == 2 and all(a.get_xlabel() for a in drawn)


def test_jsonable_handles_numpy_and_non_finite():
    assert jsonable({"a": np.float32(1.5), "b": np.arange(2), "c": (1, float("inf"))}) == {
        "a": 1.5, "b": [0, 1], "c": [1, "inf"]}


def test_analysis_validates_its_fields():
    with pytest.raises(ValueError, match="name must be lower-case words joined by hyphens"):
        Analysis(name="Bad_Name", claim="x", run=lambda **_: None)
    with pytest.raises(ValueError, match="claim of analysis 'ok' must be a non-empty"):
        Analysis(name="ok", claim="  ", run=lambda **_: None)


def test_registered_analyses_load():
    eps = discover()
    assert {"convolution-theorem", "diffusion-as-convolution", "cross-correlation"} <= set(eps)
    for name, ep in eps.items():
        a = load(ep)
        assert a.name == name and a.claim.endswith(".")


def _fake_registry(monkeypatch, analyses):
    monkeypatch.setattr(runner, "discover", lambda: dict(analyses))
    monkeypatch.setattr(runner, "load", lambda obj: obj if isinstance(obj, Analysis)
                        else (_ for _ in ()).throw(AnalysisLoadError("cannot import x")))


def test_a_failing_analysis_does_not_stop_the_others(tmp_path, monkeypatch, capsys):
    def boom(*, quick, seed):
        raise RuntimeError("simulated failure in the middle of a run")

    good = Analysis(name="good", claim="Works.", order=2,
                    run=lambda *, quick, seed: _line("good"))
    _fake_registry(monkeypatch, {
        "bad": Analysis(name="bad", claim="Fails.", run=boom, order=1),
        "good": good,
        "broken-import": "not an analysis",
        "misnamed": Analysis(name="misnamed", claim="Returns another name.", order=3,
                             run=lambda *, quick, seed: _line("other")),
    })
    records = runner.run_analyses(["all"], quick=True, seed=0, out_dir=tmp_path)
    status = {r.name: r.ok for r in records}
    assert status == {"bad": False, "good": True, "broken-import": False, "misnamed": False}
    assert (tmp_path / "good" / "figure.png").exists()
    err = json.loads((tmp_path / "bad" / "error.json").read_text())
    assert "simulated failure" in err["error"] and "Traceback" in err["traceback"]
    page = (tmp_path / "index.html").read_text()
    assert "FAILED" in page and "simulated failure" in page and "cannot import x" in page
    assert "good/figure.png" in page and "slope_mV_per_s" in page
    assert "FAILED" in capsys.readouterr().err


def test_unknown_analysis_name_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown analysis 'nope'; registered: "):
        runner.run_analyses(["nope"], quick=True, seed=0, out_dir=tmp_path)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neurocomp.cli", *args],
                          capture_output=True, text=True, timeout=600)


def test_cli_list_shows_each_analysis_with_its_claim():
    proc = _cli("list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert names[:3] == ["convolution-theorem", "diffusion-as-convolution", "cross-correlation"]
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)  # every one has a claim


def test_cli_rejects_bad_arguments():
    assert _cli("run", "no-such-analysis").returncode == 2
    assert _cli("run", "all", "cross-correlation").returncode == 2
    assert _cli("run", "all", "--quick", "--full").returncode == 2  # argparse: exclusive
