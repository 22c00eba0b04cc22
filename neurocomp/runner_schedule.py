"""The analyses of a run that are due, run one after the other or in worker processes.

Each outcome is saved as it arrives (:func:`_settle`): a success is installed as
``out/<name>/``; a failure never deletes a good result — it is written beside it as
``out/<name>.error.json``, or, with no good result, as ``out/<name>/error.json``. Its
:class:`RunRecord` is kept and a progress line printed. With ``jobs > 1`` the analyses run
in that many spawned processes; Ctrl-C stops them all (:func:`_stop_pool`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurocomp.analysis import AnalysisLoadError
from neurocomp.result_errors import ERROR_SUFFIX, remove_error_file, write_error_file
from neurocomp.result_files import (
    UnsafeOutputError,
    install_result,
    read_marker,
    stage_directory,
    write_marker,
)
from neurocomp.run_key import RunKey
from neurocomp.runner_worker import _failure, _Outcome, _run_one, _worker_init

__all__ = ["RunRecord"]


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


def _report(records: dict[str, RunRecord], out: Path, outcome: _Outcome, error: str | None,
            *, i: int, n: int, stream: Any) -> None:
    """Keep the record of a finished analysis and print its progress line."""
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
    workers = min(jobs, len(todo))
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init, initargs=(max(1, (os.cpu_count() or 1) // workers),))
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
