"""Issue 13, items 1 and 3: no user file is lost, and runs resume and agree.

Every analysis here is a fake that returns a tiny result at once (no Brian2), registered by
replacing the runner's registry, as in ``test_results_cli.py``.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import time
from dataclasses import dataclass

import pandas as pd
import pytest

import neurocomp.runner as runner
from neurocomp.analysis import Analysis
from neurocomp.provenance import source_state
from neurocomp.result_files import MARKER_NAME, UnsafeOutputError, read_marker, write_marker
from neurocomp.results import Result
from neurocomp.run_key import RunKey


@dataclass(kw_only=True)
class TinyResult(Result):
    value: float = 1.0

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, self.value]})

    def _draw(self, axes):
        axes[0].plot([0.0, 1.0], [0.0, self.value])


def tiny(name: str, seed: int | None = 0, value: float = 1.0, **params) -> TinyResult:
    return TinyResult(name=name, claim="A tiny claim.", params=params, seed=seed,
                      headline={"value_rel": value}, value=value)


def _counting(name: str, calls: list[str], *, value: float = 1.0, order: int = 100):
    def run(*, quick, seed):
        calls.append(name)
        return tiny(name, seed, value)
    return Analysis(name=name, claim=f"{name} works.", run=run, order=order)


def _failing(name: str, calls: list[str], exc: BaseException | None = None, *,
             order: int = 100):
    def run(*, quick, seed):
        calls.append(name)
        raise exc or RuntimeError(f"simulated failure of {name}")
    return Analysis(name=name, claim=f"{name} fails.", run=run, order=order)


def _registry(monkeypatch, *analyses: Analysis) -> None:
    monkeypatch.setattr(runner, "discover", lambda: {a.name: a for a in analyses})
    monkeypatch.setattr(runner, "load", lambda obj: obj)


def _run(out, names=("all",), **kw):
    kw.setdefault("quick", True)
    kw.setdefault("seed", 0)
    return runner.run_analyses(list(names), out_dir=out, **kw)


# -- item 1: never lose a user's file ----------------------------------------------------

def test_save_refuses_a_users_directory_and_leaves_it_intact(tmp_path):
    thesis = tmp_path / "forecast" / "thesis.tex"
    thesis.parent.mkdir()
    thesis.write_text("years of work")
    with pytest.raises(UnsafeOutputError, match=r"forecast'.*no neurocomp marker"):
        tiny("forecast").save(tmp_path / "forecast")
    assert thesis.read_text() == "years of work"  # the lost file: untouched now
    assert [p.name for p in tmp_path.iterdir()] == ["forecast"]  # no temp left behind


def test_save_refuses_a_user_file_inside_its_own_result(tmp_path):
    out = tiny("a").save(tmp_path / "a")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UnsafeOutputError, match=r"files neurocomp did not write \(notes.txt\)"):
        tiny("a").save(out)
    assert (out / "notes.txt").read_text() == "mine"  # a marker alone is not enough


def test_save_refuses_a_file_or_link_named_like_the_analysis(tmp_path):
    (tmp_path / "a").write_text("user data")
    (tmp_path / "real").mkdir()
    (tmp_path / "b").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeOutputError, match="it is a file"):
        tiny("a").save(tmp_path / "a")
    with pytest.raises(UnsafeOutputError, match="symbolic link"):
        tiny("b").save(tmp_path / "b")
    assert (tmp_path / "a").read_text() == "user data"  # neither followed nor replaced
    # the link was not followed
    assert (tmp_path / "real").is_dir() and not any((tmp_path / "real").iterdir())


def test_save_marks_and_replaces_its_own_results(tmp_path):
    first = tiny("a", seed=4, quick=False).save(tmp_path / "a")
    marker = read_marker(first)
    assert marker["status"] == "ok" and marker["run"].seed == 4  # the run is recorded
    # mode and commit are what resume compares
    assert marker["run"].mode == "full" and marker["run"].commit == source_state()["commit"]
    # the marker lists what it may replace
    assert set(marker["files"]) == {"figure.png", "figure.pdf", "data.csv", "meta.json"}
    tiny("a", value=2.0).save(first)  # neurocomp's own result: replaced
    # the new result is in place
    assert json.loads((first / "meta.json").read_text())["headline"] == {"value_rel": 2.0}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_a_result_from_before_the_marker_is_recognised(tmp_path):
    old = tmp_path / "a"
    old.mkdir()
    (old / "meta.json").write_text(json.dumps({"name": "a", "flop_convention": "x"}))
    (old / "figure.png").write_bytes(b"png")
    tiny("a").save(old)  # only neurocomp's file names, meta naming it: neurocomp's
    assert (old / MARKER_NAME).is_file()  # and is now marked


def test_a_failure_keeps_the_good_result_and_reports_beside_it(tmp_path, monkeypatch):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls, value=1.0))
    _run(tmp_path)
    _registry(monkeypatch, _failing("a", calls))
    (rec,) = _run(tmp_path, force=True)
    assert not rec.ok and "simulated failure" in rec.error  # the failure is reported
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    assert meta["headline"] == {"value_rel": 1.0}  # the good result survives the failure
    err = json.loads((tmp_path / "a.error.json").read_text())
    # with its traceback
    assert "simulated failure" in err["error"] and "Traceback" in err["traceback"]
    page = (tmp_path / "index.html").read_text()
    assert "latest run FAILED; older result kept" in page  # the failure is not hidden
    _registry(monkeypatch, _counting("a", calls, value=3.0))
    _run(tmp_path, force=True)
    assert not (tmp_path / "a.error.json").exists()  # a success clears the stale failure


def test_a_failure_without_a_good_result_writes_error_json(tmp_path, monkeypatch):
    calls: list[str] = []
    _registry(monkeypatch, _failing("a", calls))
    _run(tmp_path)
    assert read_marker(tmp_path / "a")["status"] == "failed"  # ours, so replaceable later
    # the error is kept
    assert "simulated failure" in json.loads((tmp_path / "a" / "error.json").read_text())["error"]
    _registry(monkeypatch, _counting("a", calls))
    (rec,) = _run(tmp_path)
    assert rec.ok and not rec.skipped  # a failed result is never "current": it reruns
    assert not (tmp_path / "a" / "error.json").exists()  # the old failure is gone


def test_refusals_come_before_any_work_and_name_the_path(tmp_path, monkeypatch):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls), _counting("b", calls))
    (tmp_path / "b").write_text("a file named like an analysis")
    (tmp_path / "index.html").write_text("<html>my own page</html>")
    with pytest.raises(UnsafeOutputError) as info:
        _run(tmp_path)
    assert str(tmp_path / "b") in str(info.value)  # every refused path is named
    assert str(tmp_path / "index.html") in str(info.value)  # both refusals at once
    assert calls == []  # nothing ran
    # the user's page is untouched
    assert (tmp_path / "index.html").read_text() == "<html>my own page</html>"
    assert not (tmp_path / "a").exists()  # no result was written


@pytest.mark.parametrize(("kw", "match"), [
    ({"seed": -1}, r"seed must be an integer in \[0, 4294967295\]; got -1"),
    ({"seed": 2**32}, r"seed must be an integer in \[0, 4294967295\]"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"jobs": 0}, r"jobs must be an integer in \[1, inf\]; got 0"),
    ({"out_dir": ""}, "out_dir must be a non-empty directory path; got ''"),
    ({"skip": ["nope"]}, "unknown analysis 'nope' in skip"),
])
def test_bad_arguments_are_refused_before_any_work(tmp_path, monkeypatch, kw, match):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls))
    kw.setdefault("out_dir", tmp_path / "out")
    with pytest.raises((ValueError, TypeError), match=match):
        runner.run_analyses(["a"], quick=True, **{"seed": 0, **kw})
    assert calls == [] and not (tmp_path / "out").exists()  # checked before anything


def test_out_dir_on_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match=r"out_dir must be a directory; .*f' is an existing"):
        runner.check_out_dir(tmp_path / "f")
    with pytest.raises(ValueError, match="cannot be created"):
        runner.check_out_dir(tmp_path / "f" / "sub")  # a file in the middle of the path


# -- item 3: resumable, consistent runs --------------------------------------------------

def test_a_killed_run_all_resumes_without_recomputing(tmp_path, monkeypatch, capsys):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls, order=1), _counting("b", calls, order=2))
    _run(tmp_path, ["a"])  # the killed run: only the first analysis finished
    (tmp_path / ".neurocomp-tmp-b-k1ll3d").mkdir()  # and its half-written second one
    (tmp_path / ".neurocomp-tmp-b-k1ll3d" / "figure.png").write_bytes(b"half")
    calls.clear()
    records = _run(tmp_path)
    assert calls == ["b"]  # the finished analysis is not recomputed
    # the skip is recorded
    assert [(r.name, r.skipped) for r in records] == [("a", True), ("b", False)]
    err = capsys.readouterr().err
    assert "a: skipped, its saved result is current" in err  # and the run says so
    assert "removed 1 temporary entry" in err  # the leftover is reported
    assert not (tmp_path / ".neurocomp-tmp-b-k1ll3d").exists()  # leftovers cleaned
    calls.clear()
    _run(tmp_path, force=True)
    assert calls == ["a", "b"]  # --force reruns
    calls.clear()
    _run(tmp_path, seed=7)
    _run(tmp_path, seed=7, quick=False)
    assert calls == ["a", "b", "a", "b"]  # another seed or mode is not the same result


def test_another_commit_is_not_current(tmp_path, monkeypatch):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls))
    _run(tmp_path)
    d = tmp_path / "a"
    key = read_marker(d)["run"]
    other = RunKey(**{**key.to_json(), "commit": "0" * 40})
    write_marker(d, key=other, status="ok", files=read_marker(d)["files"])
    calls.clear()
    _run(tmp_path)
    assert calls == ["a"]  # a result of other code is recomputed, not trusted


def test_only_neurocomps_leftovers_are_cleaned(tmp_path, monkeypatch):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls))
    _run(tmp_path)
    aside = tmp_path / ".neurocomp-old-a-x1y2"
    (tmp_path / "a").rename(aside)  # killed between the two renames of a replacement
    (tmp_path / ".a.backup").mkdir()  # a user's hidden directory, named like a result
    (tmp_path / ".a.backup" / "keep").write_text("mine")
    runner.run_analyses(["a"], quick=True, seed=0, out_dir=tmp_path, skip=["a"])
    assert read_marker(tmp_path / "a")["status"] == "ok"  # the old result is put back
    assert not aside.exists()  # nothing is left aside
    assert (tmp_path / ".a.backup" / "keep").read_text() == "mine"  # not ours: kept


def test_a_second_run_into_the_same_out_is_refused(tmp_path, monkeypatch):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls))
    with runner.lock_output(tmp_path):  # a run in progress (this process holds the lock)
        with pytest.raises(runner.OutputLockedError, match=f"pid {os.getpid()}"):
            _run(tmp_path)
    assert calls == [] and not (tmp_path / "a").exists()  # the second run touched nothing
    _run(tmp_path)
    assert calls == ["a"]  # the lock is released with the first run


def test_index_is_rebuilt_from_disk_and_flags_other_runs(tmp_path, monkeypatch):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls), _counting("b", calls))
    _run(tmp_path, ["a"], seed=1, quick=False)  # an earlier full run with seed 1
    _run(tmp_path, ["b"], seed=0)
    with open(tmp_path / "headline.csv", newline="") as fh:
        rows = {r["analysis"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"a", "b"}  # both on disk, both listed
    assert rows["a"]["flags"] == "full mode; seed 1"  # the mix is visible ...
    assert rows["b"]["flags"] == "" and rows["b"]["seed"] == "0"  # ... the current run not
    page = (tmp_path / "index.html").read_text()
    # a visible badge
    assert "<span class='flag'>seed 1</span>" in page and "1 of 2 results come from" in page
    d = tmp_path / "b"
    key = read_marker(d)["run"]
    other = {"commit": "f" * 40, "dirty": True, "diff_sha256": "e" * 64}
    write_marker(d, key=RunKey(**{**key.to_json(), **other}), status="ok",
                 files=read_marker(d)["files"])
    runner.run_analyses(["b"], quick=True, seed=0, out_dir=tmp_path, skip=["b"])
    page = (tmp_path / "index.html").read_text()
    # other code is flagged
    assert "other commit ffffffffff" in page and "uncommitted changes" in page


def test_ctrl_c_stops_the_run_and_keeps_the_old_result(tmp_path, monkeypatch):
    calls: list[str] = []
    _registry(monkeypatch, _counting("a", calls, order=1), _counting("b", calls, order=2),
              _counting("c", calls, order=3))
    _run(tmp_path, ["b"])
    _registry(monkeypatch, _counting("a", calls, order=1),
              _failing("b", calls, KeyboardInterrupt(), order=2), _counting("c", calls, order=3))
    calls.clear()
    with pytest.raises(runner.RunInterrupted) as info:
        _run(tmp_path, force=True)
    assert calls == ["a", "b"]  # no analysis starts after Ctrl-C
    assert [r.name for r in info.value.records] == ["a"]  # what finished is reported
    assert read_marker(tmp_path / "b")["status"] == "ok"  # the old result is kept
    assert not (tmp_path / "b.error.json").exists()  # an interruption is not a failure
    assert "a/figure.png" in (tmp_path / "index.html").read_text()  # the index is rebuilt
    # no temp left
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".neurocomp-tmp")]


def test_an_error_caused_by_ctrl_c_counts_as_the_interruption(tmp_path, monkeypatch):
    # Ctrl-C must be deliverable: where the suite runs with SIGINT ignored (a background
    # job), Python's default handler is put in place for this test and restored after
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_during_a_compile(tmp_path, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_during_a_compile(tmp_path, monkeypatch):
    def compile_then_error(*, quick, seed):
        try:  # as in a compile: the child dies of SIGINT and the caller raises its own error
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            raise RuntimeError("make: *** [main] Interrupt") from None
        return tiny("a")

    calls: list[str] = []
    _registry(monkeypatch, Analysis(name="a", claim="Compiles.", run=compile_then_error),
              _counting("b", calls))
    with pytest.raises(runner.RunInterrupted):
        _run(tmp_path)
    assert calls == [] and not (tmp_path / "a").exists()  # not recorded as a failure
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


# -- --jobs N ----------------------------------------------------------------------------

def run_noisy_a(*, quick, seed):
    print("hello from a", flush=True)
    return tiny("noisy-a", seed)


def run_noisy_b(*, quick, seed):
    return tiny("noisy-b", seed, value=2.0)


def run_threads(*, quick, seed):
    import os

    import torch

    with open(os.environ["THREADS_OUT"], "a") as f:
        f.write(f"{torch.get_num_threads()} {os.environ.get('OMP_NUM_THREADS')}\n")
    return tiny("threads-a", seed)


def test_parallel_workers_share_the_cores(tmp_path, monkeypatch):
    """Each of ``jobs`` workers gets cores // jobs math threads (torch, OpenMP), not all of
    them: two workers on two cores each running torch at two threads ran slower."""
    import os

    record = tmp_path / "threads.txt"
    monkeypatch.setenv("THREADS_OUT", str(record))
    _registry(monkeypatch, Analysis(name="threads-a", claim="Counts.", run=run_threads),
              Analysis(name="noisy-b", claim="Quiet.", run=run_noisy_b))
    records = _run(tmp_path / "out", jobs=2)
    assert all(r.ok for r in records)
    share = max(1, (os.cpu_count() or 1) // 2)
    assert record.read_text().split() == [str(share), str(share)]


def test_jobs_run_analyses_in_parallel_processes(tmp_path, monkeypatch, capfd):
    _registry(monkeypatch, Analysis(name="noisy-a", claim="Prints.", run=run_noisy_a),
              Analysis(name="noisy-b", claim="Quiet.", run=run_noisy_b))
    records = _run(tmp_path, jobs=2)
    assert [(r.name, r.ok) for r in records] == [("noisy-a", True), ("noisy-b", True)]  # both ran
    assert read_marker(tmp_path / "noisy-b")["status"] == "ok"  # installed by the parent
    out = capfd.readouterr()
    assert "[noisy-a] hello from a" in out.out  # worker output is prefixed by its name
