"""Run analyses, save their results, and keep going when one fails."""

from __future__ import annotations

import json
import shutil
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from neurocomp.analysis import Analysis, AnalysisLoadError, discover, load
from neurocomp.report import write_index
from neurocomp.results import Result

__all__ = ["RunRecord", "run_analyses"]


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """What happened to one analysis in a run."""

    name: str
    ok: bool
    wall_time_s: float
    directory: Path
    error: str | None = None


def _write_failure(directory: Path, name: str, claim: str | None, exc: BaseException,
                   wall_time_s: float) -> str:
    message = f"{type(exc).__name__}: {exc}"
    if directory.exists():
        shutil.rmtree(directory)  # never leave an old figure that looks current
    directory.mkdir(parents=True)
    (directory / "error.json").write_text(json.dumps({
        "name": name,
        "claim": claim,
        "error": message,
        "traceback": "".join(traceback.format_exception(exc)),
        "wall_time_s": wall_time_s,
    }, indent=2) + "\n")
    return message


def run_analyses(
    names: Sequence[str],
    *,
    quick: bool,
    seed: int,
    out_dir: str | Path,
    stream=None,
) -> list[RunRecord]:
    """Run the named analyses in order, saving each to ``out_dir/<name>/``.

    An analysis that fails to import or raises is recorded (``error.json`` in its directory)
    and the run moves on. ``out_dir/index.html`` is rewritten at the end.

    Parameters
    ----------
    names : sequence of str
        Registered analysis names, or ``["all"]``.
    quick : bool
        Quick (minutes in all) or full (paper) settings.
    seed : int
        Seed handed to every analysis.
    out_dir : path
        Where results go.
    stream : file, optional
        Where progress lines go (default: standard error).

    Raises
    ------
    ValueError
        If a name is not registered (nothing is run then).
    """
    stream = sys.stderr if stream is None else stream
    registry = discover()
    if list(names) == ["all"]:
        names = list(registry)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ValueError(f"unknown analysis {', '.join(map(repr, unknown))}; "
                         f"registered: {', '.join(sorted(registry))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    loaded: dict[str, Analysis | AnalysisLoadError] = {}
    for name in names:
        try:
            loaded[name] = load(registry[name])
        except AnalysisLoadError as exc:
            loaded[name] = exc
    order = sorted(names, key=lambda n: (getattr(loaded[n], "order", 10**6), n))

    records: list[RunRecord] = []
    mode = "quick" if quick else "full"
    for i, name in enumerate(order, start=1):
        print(f"[{i}/{len(order)}] {name} ({mode}) ...", file=stream, flush=True)
        target = out / name
        start = time.perf_counter()
        entry = loaded[name]
        try:
            if isinstance(entry, AnalysisLoadError):
                raise entry
            result = entry.run(quick=quick, seed=seed)
            if not isinstance(result, Result) or result.name != name:
                raise TypeError(f"analysis {name!r} must return a neurocomp Result named "
                                f"{name!r}; got {type(result).__name__} "
                                f"named {getattr(result, 'name', None)!r}")
            wall = time.perf_counter() - start
            result.wall_time_s = wall
            result.params = {**dict(result.params), "quick": quick}
            result.save(target)
            records.append(RunRecord(name=name, ok=True, wall_time_s=wall, directory=target))
            print(f"[{i}/{len(order)}] {name}: done in {wall:.1f} s -> {target}",
                  file=stream, flush=True)
        except Exception as exc:  # one failure must not stop the others
            wall = time.perf_counter() - start
            claim = None if isinstance(entry, AnalysisLoadError) else entry.claim
            message = _write_failure(target, name, claim, exc, wall)
            records.append(RunRecord(name=name, ok=False, wall_time_s=wall,
                                     directory=target, error=message))
            print(f"[{i}/{len(order)}] {name}: FAILED after {wall:.1f} s: {message}",
                  file=stream, flush=True)

    index = write_index(out, [n for n in order])
    n_failed = sum(not r.ok for r in records)
    print(f"{len(records) - n_failed} of {len(records)} analyses succeeded; report: {index}",
          file=stream, flush=True)
    return records
