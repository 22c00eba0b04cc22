"""Run analyses, save their results, and keep going when one fails.

What a run does to the output directory ``out``, and what it never does:

* **Nothing but neurocomp's own files is touched.** Each result is written into a fresh
  hidden directory (``.neurocomp-tmp-<name>-…``) and renamed to ``out/<name>/`` only when
  the analysis succeeded; an existing ``out/<name>/`` is replaced only when neurocomp made
  it (see :mod:`neurocomp.results`). Before any analysis is loaded every path the run may
  write is checked — ``out/<name>/``, ``out/<name>.error.json``, ``out/index.html``,
  ``out/headline.csv`` — and the run refuses (:class:`~neurocomp.results.UnsafeOutputError`,
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
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurocomp.analysis import Analysis, AnalysisLoadError, discover, load
from neurocomp.checks import check_int
from neurocomp.report import check_report_files, write_index
from neurocomp.results import (
    ERROR_SUFFIX,
    OLD_PREFIX,
    TEMP_PREFIX,
    Result,
    RunKey,
    UnsafeOutputError,
    check_error_file,
    check_replaceable,
    install_result,
    read_marker,
    remove_error_file,
    saved_run,
    stage_directory,
    write_error_file,
    write_marker,
)

__all__ = [
    "LOCK_NAME",
    "SEED_MAX",
    "OutputLockedError",
    "RunInterrupted",
    "RunRecord",
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


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """What happened to one analysis in a run.

    ``ok`` is True for a success and for a skip (``skipped``: its saved result was current);
    ``wall_time_s`` is the analysis's wall time in seconds (0 when skipped).
    """

    name: str
    ok: bool
    wall_time_s: float
    directory: Path
    error: str | None = None
    skipped: bool = False


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


# -- one analysis (in this process or a worker) ------------------------------------------

class _Sigint:
    """Set when SIGINT arrived during a run (see :func:`_watch_sigint`)."""

    seen = False


def _on_sigint(signum: int, frame: Any) -> None:
    _Sigint.seen = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def _watch_sigint() -> Iterator[None]:
    """Record SIGINT while still raising KeyboardInterrupt, so that an error raised because
    of Ctrl-C (a compiler child killed by the same signal) counts as the interruption."""
    _Sigint.seen = False
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield  # someone else handles SIGINT: leave it alone
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_init() -> None:
    """Initializer of a worker process."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    _Sigint.seen = False
    signal.signal(signal.SIGINT, _on_sigint)


class _Prefixed(io.TextIOBase):
    """A text stream that starts every line with ``prefix``."""

    def __init__(self, stream: Any, prefix: str) -> None:
        self._stream, self._prefix, self._at_start = stream, prefix, True

    def write(self, text: str) -> int:
        out = []
        for piece in text.splitlines(keepends=True):
            if self._at_start:
                out.append(self._prefix)
            out.append(piece)
            self._at_start = piece.endswith(("\n", "\r"))
        self._stream.write("".join(out))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


@dataclass(frozen=True, kw_only=True)
class _Outcome:
    name: str
    status: str  # "ok", "failed" or "interrupted"
    wall_time_s: float
    files: tuple[str, ...] = ()
    error: str | None = None
    traceback: str | None = None


def _run_one(analysis: Analysis, *, quick: bool, seed: int, stage: str,
             prefix_output: bool = False) -> _Outcome:
    """Run one analysis and write its files into ``stage``; never raises."""
    name = analysis.name
    saved = sys.stdout, sys.stderr
    if prefix_output:
        sys.stdout, sys.stderr = _Prefixed(sys.stdout, f"[{name}] "), _Prefixed(
            sys.stderr, f"[{name}] ")
    start = time.perf_counter()
    try:
        result = analysis.run(quick=quick, seed=seed)
        if not isinstance(result, Result) or result.name != name:
            raise TypeError(f"analysis {name!r} must return a neurocomp Result named "
                            f"{name!r}; got {type(result).__name__} "
                            f"named {getattr(result, 'name', None)!r}")
        wall = time.perf_counter() - start
        result.wall_time_s = wall
        result.params = {**dict(result.params), "quick": quick}
        files = result.write_files(stage)
        return _Outcome(name=name, status="ok", wall_time_s=wall, files=tuple(files))
    except KeyboardInterrupt:
        return _Outcome(name=name, status="interrupted",
                        wall_time_s=time.perf_counter() - start)
    except Exception as exc:  # one failure must not stop the others
        wall = time.perf_counter() - start
        if _Sigint.seen:
            return _Outcome(name=name, status="interrupted", wall_time_s=wall)
        return _Outcome(name=name, status="failed", wall_time_s=wall,
                        error=f"{type(exc).__name__}: {exc}",
                        traceback="".join(traceback.format_exception(exc)))
    finally:
        if prefix_output:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = saved


def _failure(name: str, exc: BaseException) -> _Outcome:
    return _Outcome(name=name, status="failed", wall_time_s=0.0,
                    error=f"{type(exc).__name__}: {exc}",
                    traceback="".join(traceback.format_exception(exc)))


def _has_good_result(target: Path) -> bool:
    """Whether ``target`` holds a successful result (with marker, or from before it)."""
    marker = read_marker(target)
    if marker is not None:
        return marker["status"] == "ok"
    return (target.is_dir() and not target.is_symlink() and (target / "meta.json").is_file()
            and not (target / "error.json").exists())


def _settle(out: Path, outcome: _Outcome, *, claim: str | None, key: RunKey,
            stage: Path | None) -> str | None:
    """Install a success, or record a failure without losing a good result.

    Returns the error message (None on success). Never raises for a refused path: the
    refusal becomes the analysis's error.
    """
    target = out / outcome.name
    error_file = out / f"{outcome.name}{ERROR_SUFFIX}"
    try:
        if outcome.status == "ok" and stage is not None:
            write_marker(stage, key=key, status="ok", files=outcome.files)
            install_result(stage, target)
            remove_error_file(error_file)
            return None
        payload = {"name": outcome.name, "claim": claim, "error": outcome.error,
                   "traceback": outcome.traceback, "wall_time_s": outcome.wall_time_s,
                   "run": key.to_json()}
        if _has_good_result(target):
            write_error_file(error_file, payload)  # keep the good result beside it
        else:
            failed = stage_directory(out, outcome.name)
            try:
                write_error_file(failed / "error.json", payload)
                write_marker(failed, key=key, status="failed", files=["error.json"])
                install_result(failed, target)
                remove_error_file(error_file)
            finally:
                if failed.exists():
                    shutil.rmtree(failed, ignore_errors=True)
        return outcome.error
    except (UnsafeOutputError, OSError) as exc:
        return (f"{outcome.error}; and " if outcome.error else "") + (
            f"the result could not be saved: {type(exc).__name__}: {exc}")
    finally:
        if stage is not None and stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


# -- the run ----------------------------------------------------------------------------

def _resolve(names: Sequence[str], registry: dict[str, Any], what: str) -> list[str]:
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
        (:class:`~neurocomp.results.UnsafeOutputError`) a path the run would write is not
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
        n_left = clean_leftovers(out)
        if n_left:
            print(f"removed {n_left} temporary entr{'y' if n_left == 1 else 'ies'} left in "
                  f"{out} by an interrupted run", file=stream, flush=True)
        keys = {n: RunKey.current(n, mode=mode, seed=seed) for n in names}
        current = {n for n in names if not force and (saved := saved_run(out / n)) is not None
                   and keys[n].reproduces(saved)}
        _preflight(out, [n for n in names if n not in current])

        loaded: dict[str, Analysis | AnalysisLoadError] = {}
        for name in names:
            try:
                loaded[name] = load(registry[name])
            except AnalysisLoadError as exc:
                loaded[name] = exc
        order = sorted(names, key=lambda n: (getattr(loaded[n], "order", 10**6), n))

        records: dict[str, RunRecord] = {}
        interrupted = False
        try:
            with _watch_sigint():
                for i, name in enumerate(order, start=1):
                    if name in current:
                        key = keys[name]
                        records[name] = RunRecord(name=name, ok=True, wall_time_s=0.0,
                                                  directory=out / name, skipped=True)
                        print(f"[{i}/{len(order)}] {name}: skipped, its saved result is "
                              f"current ({str(key.commit)[:10]}"
                              f"{'+changes' if key.dirty else ''}, {mode} mode, seed {seed});"
                              " --force reruns it", file=stream, flush=True)
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


def _report(records: dict[str, RunRecord], out: Path, outcome: _Outcome, error: str | None,
            *, i: int, n: int, stream: Any) -> None:
    name, wall = outcome.name, outcome.wall_time_s
    records[name] = RunRecord(name=name, ok=error is None, wall_time_s=wall,
                              directory=out / name, error=error)
    if error is None:
        print(f"[{i}/{n}] {name}: done in {wall:.1f} s -> {out / name}", file=stream,
              flush=True)
    else:
        print(f"[{i}/{n}] {name}: FAILED after {wall:.1f} s: {error}", file=stream,
              flush=True)


def _run_sequential(todo: list[str], *, order: list[str], loaded: dict[str, Any],
                    quick: bool, seed: int, out: Path, keys: dict[str, RunKey],
                    records: dict[str, RunRecord], stream: Any, jobs: int) -> bool:
    """Run ``todo`` one after the other in this process; return whether interrupted."""
    mode = "quick" if quick else "full"
    for name in todo:
        i = order.index(name) + 1
        print(f"[{i}/{len(order)}] {name} ({mode}) ...", file=stream, flush=True)
        entry = loaded[name]
        if isinstance(entry, AnalysisLoadError):
            outcome, stage = _failure(name, entry), None
        else:
            stage = stage_directory(out, name)
            outcome = _run_one(entry, quick=quick, seed=seed, stage=str(stage))
        if outcome.status == "interrupted":
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)
            return True
        error = _settle(out, outcome, claim=getattr(entry, "claim", None), key=keys[name],
                        stage=stage)
        _report(records, out, outcome, error, i=i, n=len(order), stream=stream)
    return False


def _run_parallel(todo: list[str], *, order: list[str], loaded: dict[str, Any],
                  quick: bool, seed: int, out: Path, keys: dict[str, RunKey],
                  records: dict[str, RunRecord], stream: Any, jobs: int) -> bool:
    """Run ``todo`` in ``jobs`` spawned processes; return whether interrupted."""
    mode = "quick" if quick else "full"
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=min(jobs, len(todo)), mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init)
    futures: dict[concurrent.futures.Future, tuple[str, Path]] = {}
    try:
        for name in todo:
            i = order.index(name) + 1
            entry = loaded[name]
            if isinstance(entry, AnalysisLoadError):
                outcome = _failure(name, entry)
                error = _settle(out, outcome, claim=None, key=keys[name], stage=None)
                _report(records, out, outcome, error, i=i, n=len(order), stream=stream)
                continue
            stage = stage_directory(out, name)
            print(f"[{i}/{len(order)}] {name} ({mode}) queued", file=stream, flush=True)
            futures[pool.submit(_run_one, entry, quick=quick, seed=seed, stage=str(stage),
                                prefix_output=True)] = (name, stage)
        for future in concurrent.futures.as_completed(futures):
            name, stage = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died, or the analysis could not be sent
                outcome = _failure(name, RuntimeError(
                    f"could not run in a worker process (--jobs): {type(exc).__name__}: "
                    f"{exc}"))
            if outcome.status == "interrupted":
                raise KeyboardInterrupt
            error = _settle(out, outcome, claim=loaded[name].claim, key=keys[name],
                            stage=stage)
            _report(records, out, outcome, error, i=order.index(name) + 1, n=len(order),
                    stream=stream)
    except KeyboardInterrupt:
        _stop_pool(pool)
        return True
    pool.shutdown(wait=True)
    return False


def _stop_pool(pool: concurrent.futures.ProcessPoolExecutor, grace_s: float = 5.0) -> None:
    """Cancel queued analyses, interrupt running ones, and end every worker process."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive() and proc.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + grace_s
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.terminate()
            proc.join(1.0)

