"""``results/index.html``: every figure with its claim, and one table of all headline numbers."""

from __future__ import annotations

import csv
import html
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurocomp.provenance import FLOP_CONVENTION, git_info

__all__ = ["collect", "write_index"]

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2.5rem; border-top: 1px solid #ddd;
     padding-top: 1rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.2rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.failed { color: #b00; font-weight: 600; } .ok { color: #0a6; }
.claim { font-style: italic; } img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.75rem; }
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "×".join(_fmt(v) for v in value)
    return str(value)


def collect(out_dir: Path, names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Read each analysis directory under ``out_dir``: its meta (ok) or its error (failed).

    ``names`` come first in the given order; other result directories follow by name.
    """
    found = sorted(p.name for p in out_dir.iterdir()
                   if p.is_dir() and not p.name.startswith(".")
                   and ((p / "meta.json").exists() or (p / "error.json").exists()))
    ordered = [n for n in names if n in found] + [n for n in found if n not in names]
    entries = []
    for name in ordered:
        d = out_dir / name
        if (d / "error.json").exists():
            entry = {"status": "failed", **json.loads((d / "error.json").read_text())}
        else:
            entry = {"status": "ok", **json.loads((d / "meta.json").read_text())}
        entries.append({**entry, "name": name})  # the directory is the name that links
    return entries


def _headline_rows(entries: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    return [(e["name"], key, value) for e in entries if e["status"] == "ok"
            for key, value in e.get("headline", {}).items()]


def write_index(out_dir: str | Path, names: Sequence[str] = ()) -> Path:
    """Write ``index.html`` and ``headline.csv`` for the results in ``out_dir``."""
    out = Path(out_dir)
    entries = collect(out, names)
    rows = _headline_rows(entries)
    with (out / "headline.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["analysis", "quantity", "value"])
        writer.writerows((a, k, json.dumps(v) if isinstance(v, list) else v)
                         for a, k, v in rows)

    esc = html.escape
    git = git_info()
    n_failed = sum(e["status"] == "failed" for e in entries)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>neurocomp results</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>neurocomp results</h1>",
        f"<p>Generated {esc(time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))}; "
        f"commit <code>{esc(str(git['commit']))}</code>"
        f"{' (uncommitted changes)' if git['dirty'] else ''}. "
        f"FLOP convention: {esc(FLOP_CONVENTION)}.</p>",
    ]
    if n_failed:
        parts.append(f"<p class='failed'>{n_failed} of {len(entries)} analyses failed; "
                     f"see their sections below.</p>")
    parts.append("<h2>Analyses</h2><table><tr><th>analysis</th><th>status</th>"
                 "<th>claim</th><th>wall time</th></tr>")
    for e in entries:
        status = ("<span class='ok'>ok</span>" if e["status"] == "ok"
                  else "<span class='failed'>FAILED</span>")
        wall = e.get("wall_time_s")
        parts.append(f"<tr><td><a href='#{esc(e['name'])}'>{esc(e['name'])}</a></td>"
                     f"<td>{status}</td><td>{esc(str(e.get('claim') or ''))}</td>"
                     f"<td class='num'>{_wall(wall)}</td></tr>")
    parts.append("</table><h2>Headline numbers</h2><table><tr><th>analysis</th>"
                 "<th>quantity</th><th>value</th></tr>")
    for analysis, key, value in rows:
        parts.append(f"<tr><td>{esc(analysis)}</td><td><code>{esc(key)}</code></td>"
                     f"<td class='num'>{esc(_fmt(value))}</td></tr>")
    parts.append("</table>")
    for e in entries:
        name = esc(e["name"])
        parts.append(f"<h2 id='{name}'>{name}</h2>")
        if e.get("claim"):
            parts.append(f"<p class='claim'>{esc(e['claim'])}</p>")
        if e["status"] == "failed":
            parts.append(f"<p class='failed'>Failed: {esc(e['error'])}</p>"
                         f"<details><summary>traceback</summary><pre>"
                         f"{esc(e.get('traceback', ''))}</pre></details>")
            continue
        parts.append(f"<img src='{name}/figure.png' alt='{name} figure'>"
                     f"<p><a href='{name}/figure.pdf'>PDF</a> · "
                     f"<a href='{name}/data.csv'>data.csv</a> · "
                     f"<a href='{name}/meta.json'>meta.json</a> · seed {e.get('seed')} · "
                     f"{_wall(e.get('wall_time_s'))}</p>")
        for note in e.get("notes", []):
            parts.append(f"<p>{esc(note)}</p>")
    parts.append("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts))
    return index


def _wall(seconds: float | None) -> str:
    """A wall time for the page ('' when unknown: a result saved outside the runner)."""
    return "" if seconds is None else f"{seconds:.1f} s"
