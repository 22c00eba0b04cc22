"""Run analyses, save their results, and keep going when one fails.

What a run does to the output directory ``out``, and what it never does:

* **Nothing but neurocomp's own files is touched.** Each result is written into a fresh
  hidden directory (``.neurocomp-tmp-<name>-…``) and renamed to ``out/<name>/`` only when
  the analysis succeeded; an existing ``out/<name>/`` is replaced only when neurocomp made
  it (see :mod:`neurocomp.result_files`). Before any analysis is loaded every path the run may
  write is checked — ``out/<name>/``, ``out/<name>.error.json``, ``out/index.html``,
  ``out/headline.csv`` — and the run refuses (:class:`~neurocomp.result_files.UnsafeOutputError`,
  naming the path) if any of them is not neurocomp's.
* **A failure never deletes a good result.** When ``out/<name>/`` holds a successful result,
  a failed rerun keeps it and writes its error to ``out/<name>.error.json`` (the index shows
  the kept result with the failure); a later success removes that file. When there is no
  good result, the failure is written as ``out/<name>/error.json`` (with the marker).
* **Runs resume.** An analysis whose saved result was made by the same code (commit and
  uncommitted changes), mode and seed is skipped (``force=True`` reruns it), so a killed
  ``run all`` restarted with the same arguments computes only what is missing.
* **One run per directory.** ``out/.neurocomp.lock`` is locked (``fcntl.flock``,
  non-blocking) for the whole run; a second run into the same ``out`` fails at once with
  :class:`OutputLockedError` naming the holder's pid. Hidden temporary directories left by a
  killed run are removed at the next start (only names with neurocomp's own prefix), and a
  previous result moved aside by an interrupted replacement is put back.
* **The report is rebuilt from disk** (``index.html``, ``headline.csv``) at the end of every
  run — also a failed or interrupted one — flagging results of another run.
* **Ctrl-C stops the whole run.** No further analysis starts, the interrupted analysis's
  previous result is kept (an error raised while Ctrl-C is handled, as when a compiler
  child dies of the same signal, counts as the interruption, not as a failure), the report
  is rebuilt, and :class:`RunInterrupted` is raised (the CLI exits with 130).
* ``jobs > 1`` runs analyses in that many processes (``spawn``); their output lines are
  prefixed with ``[name]``.

The parts: this module checks the arguments, holds the lock and runs the whole;
:mod:`neurocomp.runner_schedule` runs the analyses that are due and saves each outcome;
:mod:`neurocomp.runner_worker` runs one analysis (in this process or a worker).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from neurocomp.analysis import Analysis, AnalysisLoadError, discover, load
from neurocomp.checks import check_int
from neurocomp.report import check_report_files, write_index
from neurocomp.result_errors import ERROR_SUFFIX, check_error_file
from neurocomp.result_files import (
    OLD_PREFIX,
    TEMP_PREFIX,
    UnsafeOutputError,
    check_replaceable,
    saved_run,
)
from neurocomp.run_key import RunKey
from neurocomp.runner_schedule import RunRecord, _run_parallel, _run_sequential
from neurocomp.runner_worker import _watch_sigint

__all__ = [
    "LOCK_NAME",
    "SEED_MAX",
    "OutputLockedError",
    "RunInterrupted",
    "check_out_dir",
    "check_seed",
    "clean_leftovers",
    "lock_output",
    "resolve_names",
    "run_analyses",
]

#: Largest seed numpy accepts (``numpy.random.seed`` takes 32-bit unsigned integers).
SEED_MAX = 2**32 - 1
#: The lock file of an output directory.
LOCK_NAME = ".neurocomp.lock"


class OutputLockedError(RuntimeError):
    """Another run holds the lock of the output directory; nothing was touched."""


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by Ctrl-C; :attr:`records` says what finished before."""

    def __init__(self, records: list[RunRecord]) -> None:
        super().__init__("run interrupted")
        self.records = records


# -- argument checks --------------------------------------------------------------------

def check_seed(seed: Any, *, name: str = "seed") -> int:
    """Return ``seed`` if it is an integer in ``[0, 2**32 - 1]`` (numpy's range), else raise."""
    return check_int(name, seed, low=0, high=SEED_MAX)


def check_out_dir(out_dir: Any, *, name: str = "out_dir") -> Path:
    """Check an output directory before any work, creating it (and its parents) if needed.

    Raises
    ------
    TypeError
        If ``out_dir`` is not a str or path.
    ValueError
        If it is empty, an existing file (or under one), cannot be created, or is not
        writable; the message names ``name``, the path and the reason.
    """
    if not isinstance(out_dir, str | os.PathLike):
        raise TypeError(f"{name} must be a directory path (str or pathlib.Path); got "
                        f"{out_dir!r} of type {type(out_dir).__name__}")
    text = os.fspath(out_dir)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name} must be a non-empty directory path; got {text!r}")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} must be a directory; {text!r} is an existing file")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValueError(f"{name} must be a directory; {text!r} is an existing file "
                         "(or a broken link)") from None
    except OSError as exc:
        raise ValueError(f"{name} {text!r} cannot be created: "
                         f"{exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {text!r} is not writable")
    return path


# -- the output directory: lock, leftovers, preflight -----------------------------------

@contextlib.contextmanager
def lock_output(out: Path, *, name: str = "out_dir") -> Iterator[Path]:
    """Hold the exclusive lock of ``out`` (``out/.neurocomp.lock``) for the ``with`` block.

    Raises
    ------
    OutputLockedError
        If another process holds it (the message names its pid).
    ValueError
        If the lock file cannot be created (the directory is not writable).
    """
    import fcntl

    lock_path = out / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ValueError(f"{name} {str(out)!r} is not writable: cannot create "
                         f"{str(lock_path)!r}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise OutputLockedError(
                f"another neurocomp run (pid {holder}) is writing to {str(out)!r} (it holds "
                f"{str(lock_path)!r}); wait for it to finish or choose another output "
                "directory") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield lock_path
    finally:
        os.close(fd)  # releases the lock; the file stays (deleting it would race)


def clean_leftovers(out: Path) -> int:
    """Remove neurocomp's temporary entries in ``out`` that a killed run left behind.

    Only names with neurocomp's own prefixes are touched: ``.neurocomp-tmp-*`` is deleted;
    ``.neurocomp-old-<name>-*`` (a previous result moved aside during a replacement) is put
    back when ``<name>`` is missing, else deleted. Call it only while holding the lock.

    Returns
    -------
    int
        How many entries were removed or restored.
    """
    n = 0
    for entry in sorted(out.iterdir()):
        if entry.name.startswith(TEMP_PREFIX):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            n += 1
        elif entry.name.startswith(OLD_PREFIX) and entry.is_dir() and not entry.is_symlink():
            original = out / entry.name[len(OLD_PREFIX):].rsplit("-", 1)[0]
            if not os.path.lexists(original):
                entry.rename(original)
            else:
                shutil.rmtree(entry, ignore_errors=True)
            n += 1
    return n


def _preflight(out: Path, names: Sequence[str]) -> None:
    """Refuse, before any work, if a path the run may write is not neurocomp's."""
    problems = []
    for check in ([lambda n=n: check_replaceable(out / n) for n in names]
                  + [lambda n=n: check_error_file(out / f"{n}{ERROR_SUFFIX}") for n in names]
                  + [lambda: check_report_files(out)]):
        try:
            check()
        except UnsafeOutputError as exc:
            problems.append(str(exc))
    if problems:
        raise UnsafeOutputError("nothing was run: " + "; ".join(problems))


# -- the run ----------------------------------------------------------------------------

def _resolve(names: Sequence[str], registry: dict[str, Any], what: str) -> list[str]:
    """``names`` without repeats, checked against ``registry`` (``what`` names the option)."""
    if isinstance(names, str):
        raise TypeError(f"{what or 'names'} must be a sequence of analysis names; got the "
                        f"string {names!r}")
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ValueError(f"unknown analysis {', '.join(map(repr, unknown))}"
                         f"{f' in {what}' if what else ''}; "
                         f"registered: {', '.join(sorted(registry))}")
    return list(dict.fromkeys(names))


def resolve_names(names: Sequence[str], *, skip: Sequence[str] = ()) -> list[str]:
    """The registered analyses a run of ``names`` (or ``["all"]``) less ``skip`` covers.

    Raises
    ------
    ValueError
        If a name in ``names`` or ``skip`` is not registered (the message lists them all).
    """
    registry = discover()
    chosen = (list(registry) if isinstance(names, list | tuple) and list(names) == ["all"]
              else _resolve(names, registry, ""))
    excluded = _resolve(skip, registry, "skip")
    return [n for n in chosen if n not in excluded]


def run_analyses(
    names: Sequence[str],
    *,
    quick: bool,
    seed: int,
    out_dir: str | Path,
    stream=None,
    force: bool = False,
    jobs: int = 1,
    skip: Sequence[str] = (),
) -> list[RunRecord]:
    """Run the named analyses in order, saving each to ``out_dir/<name>/``.

    An analysis that fails to import or raises is recorded and the run moves on; a saved
    result of the same code, mode and seed is kept and the analysis skipped. See the module
    docstring for what is (and is never) written. ``out_dir/index.html`` and
    ``out_dir/headline.csv`` are rebuilt at the end.

    Parameters
    ----------
    names : sequence of str
        Registered analysis names, or ``["all"]``.
    quick : bool
        Quick (minutes in all) or full (paper) settings.
    seed : int
        Seed handed to every analysis, in ``[0, 2**32 - 1]``.
    out_dir : path
        Where results go (created if missing).
    stream : file, optional
        Where progress lines go (default: standard error).
    force : bool
        Rerun analyses whose saved result is current.
    jobs : int
        Number of analyses run at once, each in its own process (1: in this process).
    skip : sequence of str
        Registered analyses not to run (their saved results stay in the report).

    Returns
    -------
    list of RunRecord
        One per analysis run or skipped as current, in run order.

    Raises
    ------
    ValueError, TypeError
        If a name, the seed, ``jobs`` or ``out_dir`` is invalid, or
        (:class:`~neurocomp.result_files.UnsafeOutputError`) a path the run would write is not
        neurocomp's. Nothing is run then.
    OutputLockedError
        If another run writes to ``out_dir``.
    RunInterrupted
        On Ctrl-C, after the report was rebuilt.
    """
    stream = sys.stderr if stream is None else stream
    seed = check_seed(seed)
    jobs = check_int("jobs", jobs, low=1)
    if not isinstance(quick, bool) or not isinstance(force, bool):
        raise TypeError(f"quick and force must be bools; got quick={quick!r}, force={force!r}")
    registry = discover()
    names = resolve_names(names, skip=skip)
    out = check_out_dir(out_dir)
    mode = "quick" if quick else "full"

    with lock_output(out):
        _clean_at_start(out, stream)
        keys = {n: RunKey.current(n, mode=mode, seed=seed) for n in names}
        current = _current_results(out, names, keys, force=force)
        _preflight(out, [n for n in names if n not in current])
        loaded = _load_analyses(registry, names)
        order = sorted(names, key=lambda n: (getattr(loaded[n], "order", 10**6), n))

        records: dict[str, RunRecord] = {}
        interrupted = False
        try:
            with _watch_sigint():
                _skip_current(order, current, keys, records, out=out, mode=mode, seed=seed,
                              stream=stream)
                todo = [n for n in order if n not in current]
                run = _run_parallel if jobs > 1 and len(todo) > 1 else _run_sequential
                interrupted = run(todo, order=order, loaded=loaded, quick=quick, seed=seed,
                                  out=out, keys=keys, records=records, stream=stream,
                                  jobs=jobs)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            clean_leftovers(out)
            index = write_index(out, order, mode=mode, seed=seed)
    return _summarise(records, order, interrupted=interrupted, index=index, stream=stream)


def _clean_at_start(out: Path, stream: Any) -> None:
    """Remove what a killed run left in ``out`` (see :func:`clean_leftovers`) and say so."""
    n_left = clean_leftovers(out)
    if n_left:
        print(f"removed {n_left} temporary entr{'y' if n_left == 1 else 'ies'} left in "
              f"{out} by an interrupted run", file=stream, flush=True)


def _current_results(out: Path, names: Sequence[str], keys: dict[str, RunKey], *,
                     force: bool) -> set[str]:
    """The analyses whose saved result a run made now would reproduce: they are skipped.

    Parameters
    ----------
    out : pathlib.Path
        The output directory.
    names : sequence of str
        The analyses of the run.
    keys : dict of str to RunKey
        The key a run of each analysis made now has.
    force : bool
        Rerun every analysis: then none is current.
    """
    return {n for n in names if not force and (saved := saved_run(out / n)) is not None
            and keys[n].reproduces(saved)}


def _load_analyses(registry: dict[str, Any], names: Sequence[str]
                   ) -> dict[str, Analysis | AnalysisLoadError]:
    """Each analysis of the run, loaded from its registry entry, or the error that kept it
    from loading (recorded later as the analysis's failure)."""
    loaded: dict[str, Analysis | AnalysisLoadError] = {}
    for name in names:
        try:
            loaded[name] = load(registry[name])
        except AnalysisLoadError as exc:
            loaded[name] = exc
    return loaded


def _skip_current(order: list[str], current: set[str], keys: dict[str, RunKey],
                  records: dict[str, RunRecord], *, out: Path, mode: str, seed: int,
                  stream: Any) -> None:
    """Record the analyses whose saved result is current as skipped, printing a line each.

    Parameters
    ----------
    order : list of str
        Every analysis of the run, in run order (numbers the lines).
    current : set of str
        The analyses to skip.
    keys : dict of str to RunKey
        The key of each analysis's run (its commit is named in the line).
    records : dict of str to RunRecord
        Where the records go.
    out : pathlib.Path
        The output directory.
    mode : {"quick", "full"}
        The run's mode.
    seed : int
        The run's seed.
    stream : file
        Where the lines go.
    """
    for i, name in enumerate(order, start=1):
        if name in current:
            key = keys[name]
            records[name] = RunRecord(name=name, ok=True, wall_time_s=0.0,
                                      directory=out / name, skipped=True)
            print(f"[{i}/{len(order)}] {name}: skipped, its saved result is "
                  f"current ({str(key.commit)[:10]}"
                  f"{'+changes' if key.dirty else ''}, {mode} mode, seed {seed});"
                  " --force reruns it", file=stream, flush=True)


def _summarise(records: dict[str, RunRecord], order: list[str], *, interrupted: bool,
               index: Path, stream: Any) -> list[RunRecord]:
    """Print the run's last line and return its records in run order.

    Parameters
    ----------
    records : dict of str to RunRecord
        The analyses that finished or were skipped.
    order : list of str
        Every analysis of the run, in run order.
    interrupted : bool
        Whether Ctrl-C stopped the run.
    index : pathlib.Path
        The report's ``index.html``.
    stream : file
        Where the line goes.

    Raises
    ------
    RunInterrupted
        When the run was interrupted (after its line is printed).
    """
    ordered = [records[n] for n in order if n in records]
    n_failed = sum(not r.ok for r in ordered)
    n_skipped = sum(r.skipped for r in ordered)
    if interrupted:
        print(f"interrupted: {len(ordered)} of {len(order)} analyses finished, the "
              f"interrupted ones keep their previous results; report: {index}",
              file=stream, flush=True)
        raise RunInterrupted(ordered)
    print(f"{len(ordered) - n_failed} of {len(ordered)} analyses succeeded"
          f"{f' ({n_skipped} skipped as current)' if n_skipped else ''}; report: {index}",
          file=stream, flush=True)
    return ordered
