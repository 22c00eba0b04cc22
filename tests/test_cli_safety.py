"""Issue 13 through the command line: bad ``run`` arguments get one clear error line and exit
code 2 before any work, a user's file is never touched, Ctrl-C exits with 130.

Only argument errors reach the real registry (they stop before any analysis is loaded);
runs use fake analyses registered by replacing the runner's registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pandas as pd
import pytest

import neurocomp.runner as runner
from neurocomp.analysis import Analysis
from neurocomp.cli import main
from neurocomp.results import Result


@dataclass(kw_only=True)
class _Tiny(Result):
    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"x": [0.0]})

    def _draw(self, axes):
        axes[0].plot([0.0, 1.0])


def _ok(name: str):
    return Analysis(name=name, claim="Works.",
                    run=lambda *, quick, seed: _Tiny(name=name, claim="Works.", params={},
                                                     seed=seed, headline={}))


def _interrupted(*, quick, seed):
    raise KeyboardInterrupt


def _registry(monkeypatch, *analyses: Analysis) -> None:
    monkeypatch.setattr(runner, "discover", lambda: {a.name: a for a in analyses})
    monkeypatch.setattr(runner, "load", lambda obj: obj)


def _main(capsys, *args: str) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    return code, capsys.readouterr().err


def test_cli_out_on_a_file_is_one_clear_error(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("not a directory")
    proc = subprocess.run([sys.executable, "-m", "neurocomp.cli", "run", "convolution-theorem",
                           "--out", str(target)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2  # argparse's exit code for a bad argument
    assert "Traceback" not in proc.stderr  # no raw (or double) traceback
    # names option, value and reason
    assert f"error: --out must be a directory; {str(target)!r} is an existing file" in proc.stderr
    assert target.read_text() == "not a directory"  # the file is untouched


def test_cli_seed_out_of_numpys_range_is_refused_by_argparse(capsys):
    for seed in ("-1", str(2**32), "1.5", "x"):
        code, err = _main(capsys, "run", "convolution-theorem", "--seed", seed)
        assert code == 2  # refused before any analysis ran (and wrote error.json)
        # names the range
        assert "argument --seed: must be an integer in [0, 4294967295]" in err, err


def test_cli_jobs_and_skip_are_checked(capsys, tmp_path):
    out = str(tmp_path / "new")
    code, err = _main(capsys, "run", "all", "--jobs", "0", "--out", out)
    assert code == 2 and "argument --jobs: must be an integer in [1, inf]; got 0" in err  # N ≥ 1
    code, err = _main(capsys, "run", "all", "--skip", "a,,b", "--out", out)
    # no empty names
    assert code == 2 and "argument --skip: must be analysis names separated by commas" in err
    code, err = _main(capsys, "run", "all", "--skip", "nope", "--out", out)
    assert code == 2 and "unknown analysis 'nope' in skip" in err  # names are checked
    assert not any(tmp_path.iterdir())  # refused before --out was even created


@pytest.mark.parametrize(("out", "message"), [
    ("", "--out must be a non-empty directory path; got ''"),
    ("/sys/neurocomp-test-out", "--out '/sys/neurocomp-test-out' cannot be created"),
])
def test_cli_empty_or_unwritable_out_is_refused(capsys, out, message):
    if out.startswith("/sys") and not os.path.isdir("/sys"):
        pytest.skip("needs Linux's read-only /sys")
    code, err = _main(capsys, "run", "convolution-theorem", "--out", out)
    assert code == 2 and message in err and "Traceback" not in err  # named, no traceback


def test_cli_refuses_a_file_named_like_an_analysis(capsys, tmp_path):
    user_file = tmp_path / "convolution-theorem"
    user_file.write_text("my notes")
    code, err = _main(capsys, "run", "convolution-theorem", "--out", str(tmp_path))
    assert code == 2 and "Traceback" not in err  # a clean refusal
    assert f"refusing to replace {str(user_file)!r}: it is a file" in err  # names the path
    assert user_file.read_text() == "my notes"  # the user's file is untouched


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    # --version prints the version
    assert info.value.code == 0 and capsys.readouterr().out.startswith("neurocomp 0.")


def test_cli_run_skip_force_and_lock(capsys, tmp_path, monkeypatch):
    _registry(monkeypatch, _ok("a"), _ok("b"))
    code, err = _main(capsys, "run", "all", "--out", str(tmp_path), "--skip", "b")
    # --skip leaves b out
    assert code == 0 and (tmp_path / "a").is_dir() and not (tmp_path / "b").exists()
    code, err = _main(capsys, "run", "all", "--out", str(tmp_path))
    # the rerun skips the current result
    assert code == 0 and "a: skipped" in err and "(1 skipped as current)" in err
    code, err = _main(capsys, "run", "a", "--out", str(tmp_path), "--force")
    assert code == 0 and "skipped" not in err  # --force reruns
    with runner.lock_output(tmp_path):
        code, err = _main(capsys, "run", "a", "--out", str(tmp_path))
    # the lock holder is named
    assert code == 2 and f"another neurocomp run (pid {os.getpid()})" in err


def test_cli_ctrl_c_exits_130(capsys, tmp_path, monkeypatch):
    _registry(monkeypatch, Analysis(name="a", claim="Stops.", run=_interrupted))
    code, err = _main(capsys, "run", "a", "--out", str(tmp_path))
    # Ctrl-C: 130, no traceback
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    assert (tmp_path / "index.html").is_file()  # the report is rebuilt even so
