"""``results/index.html``: every figure first, each with its claim and its own headline numbers.

Both ``index.html`` and ``headline.csv`` are rebuilt from what is on disk, so they never show
a result that is not there. Every result carries the run it came from (commit, uncommitted
changes, quick/full mode, seed); a result whose run differs from the reference — the current
commit, and the mode and seed of the run that rebuilds the index (or, when none is given, the
most common ones on disk) — gets a visible flag in both files, so results of different runs
never mix silently.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurocomp.provenance import FLOP_CONVENTION, git_info, source_state
from neurocomp.result_errors import ERROR_SUFFIX, read_error_file
from neurocomp.result_files import (
    TEMP_PREFIX,
    UnsafeOutputError,
    read_marker,
    usual_permissions,
)
from neurocomp.results import mode_of

__all__ = ["check_report_files", "collect", "write_index"]

_GENERATOR = "<meta name='generator' content='neurocomp'>"
_CSV_HEADER = ("analysis", "quantity", "value", "mode", "seed", "commit", "flags")

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2.5rem; border-top: 1px solid #ddd;
     padding-top: 1rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.2rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.failed { color: #b00; font-weight: 600; } .ok { color: #0a6; }
.flag { background: #fff1c2; color: #7a5200; border-radius: 0.3rem; padding: 0 0.3rem;
        font-size: 0.75rem; white-space: nowrap; }
.claim { font-style: italic; } img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.75rem; }
td { overflow-wrap: anywhere; max-width: 36rem; } table.headline { width: 100%; }
table.headline td:first-child { width: 45%; }
nav ol { columns: 2; font-size: 0.9rem; padding-left: 1.5rem; }
details summary { cursor: pointer; font-size: 0.85rem; color: #444; }
.notes p { font-size: 0.85rem; color: #333; }
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "×".join(_fmt(v) for v in value)
    return str(value)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _run_of(directory: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The run a result came from: from its marker, else from its ``meta.json``."""
    marker = read_marker(directory)
    if marker is not None:
        key = marker["run"]
        return {"mode": key.mode, "seed": key.seed, "commit": key.commit, "dirty": key.dirty,
                "diff_sha256": key.diff_sha256}
    git = data.get("git") if isinstance(data.get("git"), dict) else {}
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    return {"mode": mode_of(params), "seed": data.get("seed"), "commit": git.get("commit"),
            "dirty": git.get("dirty")}


def collect(out_dir: str | Path, names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Read each analysis result under ``out_dir``: its meta (ok) or its error (failed).

    ``names`` come first in the given order; other results follow by name. Every entry has
    ``status`` ("ok" or "failed"), ``name``, the fields of its ``meta.json`` or
    ``error.json``, ``run`` (``mode``, ``seed``, ``commit``, ``dirty``: the run it came from)
    and, for a kept result whose latest run failed, ``last_error`` (the content of
    ``<name>.error.json``). Hidden entries, links and damaged files are ignored.
    """
    out = Path(out_dir)
    dirs = {p.name for p in out.iterdir()
            if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
            and ((p / "meta.json").is_file() or (p / "error.json").is_file())}
    sidecars = {p.name[:-len(ERROR_SUFFIX)] for p in out.iterdir()
                if p.name.endswith(ERROR_SUFFIX) and not p.name.startswith(".")
                and read_error_file(p) is not None}
    found = sorted(dirs | sidecars)
    ordered = [n for n in names if n in found] + [n for n in found if n not in names]
    entries = []
    for name in ordered:
        d = out / name
        marker = read_marker(d)
        meta = _read_json(d / "meta.json") if name in dirs else None
        error = _read_json(d / "error.json") if name in dirs else None
        sidecar = read_error_file(out / f"{name}{ERROR_SUFFIX}") if name in sidecars else None
        failed = (marker["status"] == "failed") if marker is not None else error is not None
        if not failed and isinstance(meta, dict):
            entry = {"status": "ok", **meta, "run": _run_of(d, meta)}
            if sidecar is not None:
                entry["last_error"] = sidecar
        else:
            data = error if isinstance(error, dict) else sidecar
            if not isinstance(data, dict):
                continue  # damaged: nothing readable to show
            entry = {"status": "failed", **data}
            entry["run"] = entry.get("run") if isinstance(entry.get("run"), dict) else {}
            entry["error"] = str(entry.get("error", "unknown error"))
        entries.append({**entry, "name": name})  # the directory is the name that links
    return entries


def _most_common(values: list[Any]) -> Any:
    counts = Counter(v for v in values if v is not None)
    return counts.most_common(1)[0][0] if counts else None


def _flags(run: dict[str, Any], *, state: dict[str, Any], mode: str | None,
           seed: int | None) -> list[str]:
    """Why a result's run differs from the reference run (empty when it does not).

    Uncommitted changes are flagged unless they are known to be the current ones (same
    hash of ``git diff HEAD``), which the page's header names.
    """
    flags = []
    if run.get("commit") is None:
        flags.append("unknown commit")
    elif run["commit"] != state["commit"]:
        flags.append(f"other commit {str(run['commit'])[:10]}")
    if run.get("dirty") and (run.get("diff_sha256") is None
                             or run.get("diff_sha256") != state["diff_sha256"]):
        flags.append("uncommitted changes")
    if mode is not None and run.get("mode") != mode:
        flags.append(f"{run.get('mode') or 'unknown'} mode")
    if seed is not None and run.get("seed") != seed:
        flags.append(f"seed {run.get('seed')}")
    return flags


def check_report_files(out_dir: str | Path) -> None:
    """Raise :class:`UnsafeOutputError` if ``index.html`` or ``headline.csv`` in ``out_dir``
    exists and neurocomp did not write it (so rebuilding the report would overwrite a
    user's file)."""
    out = Path(out_dir)
    for name, ours in (("index.html", lambda head: _GENERATOR in head
                        or "<title>neurocomp results</title>" in head),
                       ("headline.csv", lambda head: head.startswith("analysis,quantity,value"))):
        path = out / name
        if not os.path.lexists(path):
            continue
        head = ""
        if path.is_file() and not path.is_symlink():
            try:
                with path.open(errors="replace") as fh:
                    head = fh.read(4096)
            except OSError:
                head = ""
        if not ours(head):
            raise UnsafeOutputError(f"refusing to overwrite {str(path)!r}: neurocomp did not "
                                    "write it (it rebuilds index.html and headline.csv in "
                                    "the output directory); move it away or choose another "
                                    "output directory")


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        usual_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_index(out_dir: str | Path, names: Sequence[str] = (), *, mode: str | None = None,
                seed: int | None = None) -> Path:
    """Write ``index.html`` and ``headline.csv`` for the results on disk in ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The output directory.
    names : sequence of str
        Analyses to list first, in this order.
    mode : None or {"quick", "full"}
        Mode of the run that rebuilds the index; results of another mode are flagged.
        None: the most common mode on disk.
    seed : int or None
        Seed of that run; results of another seed are flagged. None: the most common.

    Raises
    ------
    UnsafeOutputError
        If ``index.html`` or ``headline.csv`` exists and neurocomp did not write it.
    """
    out = Path(out_dir)
    check_report_files(out)
    entries = collect(out, names)
    git, state = git_info(), source_state()
    ok_runs = [e["run"] for e in entries if e["status"] == "ok"]
    mode = _most_common([r.get("mode") for r in ok_runs]) if mode is None else mode
    seed = _most_common([r.get("seed") for r in ok_runs]) if seed is None else seed
    for e in entries:
        e["flags"] = (_flags(e["run"], state=state, mode=mode, seed=seed)
                      if e["status"] == "ok" else [])
    rows = [(e, key, value) for e in entries if e["status"] == "ok"
            for key, value in (e.get("headline") or {}).items()]
    _write_atomic(out / "headline.csv", _headline_csv(rows))

    parts = [*_page_head(entries, git=git, mode=mode, seed=seed), *_contents(entries)]
    for e in entries:
        parts += _section(e, [(k, v) for owner, k, v in rows if owner is e])
    parts.append("</body></html>")
    index = out / "index.html"
    _write_atomic(index, "\n".join(parts))
    return index


def _headline_csv(rows: Sequence[tuple[dict[str, Any], str, Any]]) -> str:
    """The text of ``headline.csv``: one line per headline number, with its run and flags.

    Parameters
    ----------
    rows : sequence of (entry, quantity, value)
        The headline numbers of the successful results (entries of :func:`collect`, with
        their ``flags``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_HEADER)
    writer.writerows((e["name"], k, json.dumps(v) if isinstance(v, list) else v,
                      e["run"].get("mode"), e["run"].get("seed"), e["run"].get("commit"),
                      "; ".join(e["flags"])) for e, k, v in rows)
    return buffer.getvalue()


def _page_head(entries: Sequence[dict[str, Any]], *, git: dict[str, Any], mode: str | None,
               seed: int | None) -> list[str]:
    """The page's opening lines: title, run, FLOP convention, failure and flag counts.

    Parameters
    ----------
    entries : sequence of dict
        The results on disk (:func:`collect`, with their ``flags``).
    git : dict
        The current source state (:func:`neurocomp.provenance.git_info`).
    mode, seed
        The reference run's mode and seed, as the header names them.
    """
    esc = html.escape
    n_failed = sum(e["status"] == "failed" for e in entries)
    n_flagged = sum(bool(e["flags"]) for e in entries)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'>{_GENERATOR}",
        "<title>neurocomp results</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>neurocomp results</h1>",
        f"<p>Generated {esc(time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))}; "
        f"commit <code>{esc(str(git['commit']))}</code>"
        f"{' (uncommitted changes)' if git['dirty'] else ''}; "
        f"{esc(str(mode or 'unknown'))} mode, seed {esc(str(seed))}. "
        f"FLOP convention: {esc(FLOP_CONVENTION)}.</p>",
    ]
    if n_failed:
        parts.append(f"<p class='failed'>{n_failed} of {len(entries)} analyses failed; "
                     f"see their sections below.</p>")
    if n_flagged:
        parts.append(f"<p><span class='flag'>{n_flagged} of {len(entries)} results come from "
                     "another run</span> (another commit, uncommitted changes, another mode "
                     "or seed): see the flags beside each analysis.</p>")
    return parts


def _contents(entries: Sequence[dict[str, Any]]) -> list[str]:
    """A short list of the analyses (status, wall time, flags) linking to their sections;
    every number is in its own section and in ``headline.csv``."""
    esc = html.escape
    parts = ["<nav><ol>"]
    for e in entries:
        status = "" if e["status"] == "ok" else " <span class='failed'>FAILED</span>"
        if "last_error" in e:
            status += " <span class='failed'>(latest run FAILED; older result kept)</span>"
        wall = _wall(e.get("wall_time_s"))
        parts.append(f"<li><a href='#{esc(e['name'])}'>{esc(e['name'])}</a>{status}"
                     f"{f' · {wall}' if wall else ''} {_badges(e['flags'])}</li>")
    parts.append("</ol></nav><p>All headline numbers with their runs: "
                 "<a href='headline.csv'>headline.csv</a>.</p>")
    return parts


def _headline_table(items: Sequence[tuple[str, Any]]) -> list[str]:
    """One result's headline numbers, folded when long (open up to 16 rows)."""
    if not items:
        return []
    esc = html.escape
    rows = "".join(f"<tr><td><code>{esc(key)}</code></td><td class='num'>{esc(_fmt(value))}"
                   "</td></tr>" for key, value in items)
    return [f"<details{' open' if len(items) <= 16 else ''}><summary>headline numbers "
            f"({len(items)})</summary><table class='headline'>{rows}</table></details>"]


def _section(e: dict[str, Any], headline: Sequence[tuple[str, Any]] = ()) -> list[str]:
    """One result's section: claim, then its failure, or its figure, links, its own headline
    numbers and notes.

    Parameters
    ----------
    e : dict
        One entry of :func:`collect`, with its ``flags``.
    headline : sequence of (str, value)
        Its headline numbers.
    """
    esc = html.escape
    name = esc(e["name"])
    parts = [f"<h2 id='{name}'>{name}</h2>"]
    if e.get("claim"):
        parts.append(f"<p class='claim'>{esc(str(e['claim']))}</p>")
    if e["status"] == "failed":
        parts.append(f"<p class='failed'>Failed: {esc(e['error'])}</p>"
                     f"<details><summary>traceback</summary><pre>"
                     f"{esc(str(e.get('traceback', '')))}</pre></details>")
        return parts
    if "last_error" in e:
        last = e["last_error"]
        parts.append(f"<p class='failed'>The latest run failed and this older result was "
                     f"kept: {esc(str(last.get('error', '')))}</p>"
                     f"<details><summary>traceback</summary><pre>"
                     f"{esc(str(last.get('traceback', '')))}</pre></details>")
    if e["flags"]:
        parts.append(f"<p>{_badges(e['flags'])}</p>")
    parts.append(f"<img src='{name}/figure.png' alt='{name} figure'>"
                 f"<p><a href='{name}/figure.pdf'>PDF</a> · "
                 f"<a href='{name}/data.csv'>data.csv</a> · "
                 f"<a href='{name}/meta.json'>meta.json</a> · {esc(_run_text(e['run']))} · "
                 f"{_wall(e.get('wall_time_s'))}</p>")
    parts += _headline_table(headline)
    notes = e.get("notes", [])
    if notes:
        parts.append(f"<details class='notes'><summary>notes ({len(notes)})</summary>"
                     + "".join(f"<p>{esc(str(n))}</p>" for n in notes) + "</details>")
    return parts


def _run_text(run: dict[str, Any]) -> str:
    commit = run.get("commit")
    return (f"{run.get('mode') or '?'}, seed {run.get('seed')}, "
            f"{str(commit)[:10] if commit else 'no commit'}"
            f"{'+dirty' if run.get('dirty') else ''}") if run else ""


def _badges(flags: Sequence[str]) -> str:
    return " ".join(f"<span class='flag'>{html.escape(f)}</span>" for f in flags)


def _wall(seconds: float | None) -> str:
    """A wall time for the page ('' when unknown: a result saved outside the runner)."""
    return "" if not isinstance(seconds, int | float) else f"{seconds:.1f} s"
