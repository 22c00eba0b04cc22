"""The docs site's gallery of analyses, generated from the code (an mkdocs hook).

One page per registered analysis (``neurocomp.analysis.discover()``): its name, static
``CLAIM`` and module docstring, read from the source with ``ast`` — no analysis is imported
or run. Where a saved result exists (``<dir>/<name>/figure.png`` and ``meta.json``, the
layout :meth:`neurocomp.results.Result.save` writes), the page embeds the figure, the run's
claim, its headline table and notes; otherwise it says how to produce one. Result
directories are searched in the order of ``NEUROCOMP_DOCS_RESULTS`` (paths separated by
``os.pathsep``, relative to the repository; default ``results-paper:results``).

``mkdocs.yml`` names this file under ``hooks:``: :func:`on_config` adds a page per analysis
under the nav's "Gallery" section, :func:`on_files` adds the generated pages and figures to
the build. The same hook brings in the pages kept in ``docs/`` (:data:`DOCS_PAGES`: the
module map ``docs/MODULES.md``, the references ``docs/references.md`` once it exists).

``python tools/docs_gallery.py [--out DIR]`` lists the analyses and what the gallery would
show, or writes the pages into ``DIR`` to read them without mkdocs.
"""

from __future__ import annotations

import argparse
import ast
import html
import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from docs_roles import rewrite, rewrite_roles  # noqa: E402 - a sibling script, not a package

GALLERY = "gallery"  # folder of the generated pages inside the site
#: Pages of ``docs/`` shown on the site: source, site path and nav title. Each is listed in
#: the nav only when its source exists; Sphinx roles in it are written as Markdown.
DOCS_PAGES = (("MODULES.md", "module-map.md", "Module map"),
              ("references.md", "references.md", "References"))
DEFAULT_RESULTS = ("results-paper", "results")
_MODE_TEXT = {"full": "full (paper) run", "quick": "quick run"}


@dataclass
class Saved:
    """A saved result of one analysis: where it is and what its ``meta.json`` says."""

    directory: Path
    meta: dict[str, Any]
    mode: str | None
    figure: Path | None


@dataclass
class Entry:
    """One analysis as the gallery shows it."""

    name: str
    module: str
    order: int
    claim: str
    doc: str
    source: Path | None
    saved: Saved | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def result_dirs() -> list[Path]:
    """The result directories searched, first match wins."""
    raw = os.environ.get("NEUROCOMP_DOCS_RESULTS")
    names = raw.split(os.pathsep) if raw else list(DEFAULT_RESULTS)
    return [(ROOT / n) if not Path(n).is_absolute() else Path(n) for n in names if n]


def _static(path: Path) -> tuple[str, str | None, int | None]:
    """Module docstring, literal ``CLAIM`` and ``ANALYSIS(order=…)`` of an analysis file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    doc = ast.get_docstring(tree) or ""
    claim = order = None
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if not isinstance(target, ast.Name):
            continue
        if target.id == "CLAIM":
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            claim = value if isinstance(value, str) else None
        elif target.id == "ANALYSIS" and isinstance(node.value, ast.Call):
            for kw in node.value.keywords:
                if kw.arg == "order" and isinstance(kw.value, ast.Constant):
                    order = kw.value.value
    return doc, claim, order


def _saved(name: str) -> tuple[Saved | None, str | None]:
    """The first saved result of ``name`` in :func:`result_dirs`, or the last error."""
    from neurocomp.result_files import read_marker
    from neurocomp.results import mode_of

    error = None
    for base in result_dirs():
        d = base / name
        meta_path = d / "meta.json"
        if d.is_dir() and meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                continue
            if not isinstance(meta, dict):
                continue
            marker = read_marker(d)
            if marker is not None and marker["status"] != "ok":
                continue
            mode = marker["run"].mode if marker is not None else mode_of(meta.get("params", {}))
            figure = d / "figure.png"
            return Saved(d, meta, mode, figure if figure.is_file() else None), None
        err_path = d / "error.json"
        if error is None and err_path.is_file():
            try:
                error = str(json.loads(err_path.read_text()).get("error", "unknown error"))
            except (OSError, ValueError, AttributeError):
                error = "unreadable error.json"
    return None, error


def entries() -> list[Entry]:
    """Every registered analysis, in report order, with its saved result if any."""
    from neurocomp.analysis import discover, load

    found = []
    for name, ep in discover().items():
        try:
            spec = importlib.util.find_spec(ep.module)
        except (ImportError, ValueError):  # its package does not import: load() says why
            spec = None
        source = Path(spec.origin) if spec is not None and spec.origin else None
        doc, claim, order = _static(source) if source is not None else ("", None, None)
        if claim is None or order is None:  # not literal in the source: import (not run) it
            analysis = load(ep)
            claim, order = analysis.claim, analysis.order
        saved, error = _saved(name)
        found.append(Entry(name=name, module=ep.module, order=order, claim=claim, doc=doc,
                           source=source, saved=saved, error=error))
    return sorted(found, key=lambda e: (e.order, e.name))


# -- Markdown -------------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return " × ".join(_fmt(v) for v in value)
    return str(value)


_MARKDOWN_SPECIAL = {c: f"&#{ord(c)};" for c in "\\`*_[]|$"}


def _cell(text: str) -> str:
    """``text`` as literal Markdown on one line: no emphasis, links, math or table cells."""
    text = html.escape(text, quote=False).replace("\n", " ")
    return "".join(_MARKDOWN_SPECIAL.get(c, c) for c in text)


def _headline_table(headline: dict[str, Any]) -> list[str]:
    rows = ["| headline number | value |", "|---|---|"]
    rows += [f"| <code>{_cell(str(k))}</code> | {_cell(_fmt(v))} |" for k, v in headline.items()]
    return rows


def _relative_source(e: Entry) -> str:
    if e.source is None:
        return e.module
    try:
        return e.source.relative_to(ROOT).as_posix()
    except ValueError:
        return e.source.name


def _docstring_body(e: Entry) -> str:
    """The module docstring without its first line (``name: summary``) as Markdown."""
    lines = e.doc.splitlines()
    body = "\n".join(lines[1:]).strip() if lines and lines[0].startswith(e.name) else e.doc
    return rewrite(body, None, None)


def page(e: Entry) -> str:
    """The gallery page of one analysis."""
    summary = e.doc.splitlines()[0].split(":", 1)[-1].strip() if e.doc else ""
    out = [f"# {e.name}", ""]
    if summary:
        out += [f"*{_cell(summary)}*", ""]
    out += ['!!! abstract "Claim"', "", f"    {_cell(e.claim)}", ""]
    if e.saved is not None:
        s = e.saved
        run = s.meta
        git = run.get("git") if isinstance(run.get("git"), dict) else {}
        commit = str(git.get("commit") or "")[:10]
        what = [_MODE_TEXT.get(s.mode or "", f"{s.mode} run" if s.mode else "run")]
        if run.get("seed") is not None:
            what.append(f"seed {run['seed']}")
        if commit:
            what.append(f"commit `{commit}`" + (" (dirty)" if git.get("dirty") else ""))
        if run.get("created_utc"):
            what.append(str(run["created_utc"]))
        where = (s.directory.relative_to(ROOT).as_posix() if s.directory.is_relative_to(ROOT)
                 else s.directory.as_posix())
        out += ["## Figure", ""]
        if s.figure is not None:
            out += [f"![{e.name}: figure of the {what[0]}]({e.name}.png)", ""]
        else:
            out += [f"The saved result in `{where}/` has no `figure.png`.", ""]
        out += [f"From the {', '.join(what)}, saved in `{where}/`.", ""]
        if run.get("claim"):
            out += ['!!! success "What this run found"', "", f"    {_cell(str(run['claim']))}", ""]
        headline = run.get("headline")
        if isinstance(headline, dict) and headline:
            out += ["## Headline numbers", "", *_headline_table(headline), ""]
        notes = [str(n) for n in run.get("notes") or []]
        if notes:
            out += ['??? note "Notes of the run"', ""]
            out += [f"    - {_cell(n)}" for n in notes]
            out.append("")
    else:
        out += ['!!! info "No saved result"', ""]
        searched = ", ".join(f"`{p.name}/`" for p in result_dirs())
        if e.error:
            out += [f"    The last saved run failed: {_cell(e.error)}", ""]
        out += [f"    No figure yet: nothing of `{e.name}` in {searched}. Produce it with",
                "", "    ```bash",
                f"    neurocomp run {e.name} --quick      # or --full for the paper run",
                "    ```", "",
                "    (`--out DIR` writes elsewhere; list `DIR` in `NEUROCOMP_DOCS_RESULTS`), "
                "then rebuild the site.", ""]
    body = _docstring_body(e)
    if body:
        out += ["## About", "", body, ""]
    out += [f"Source: `{_relative_source(e)}` · run it: `neurocomp run {e.name}`", ""]
    return "\n".join(out)


def index_page(items: list[Entry]) -> str:
    """The gallery's front page: every analysis with its claim."""
    have = sum(e.saved is not None for e in items)
    searched = ", ".join(f"`{p.name}/`" for p in result_dirs())
    out = ["# Gallery of the analyses", "",
           "Each analysis is a figure and a claim. The pages are generated from the code "
           "(each analysis's `CLAIM` and module docstring) and, where a saved run exists, "
           f"show its figure and headline numbers ({have} of {len(items)} found in "
           f"{searched}). `neurocomp run all --quick` produces them all "
           "(`--full` for the paper runs); see [Getting started](../getting-started.md).", "",
           "| analysis | claim | figure |", "|---|---|---|"]
    for e in items:
        fig = "yes" if e.saved is not None and e.saved.figure is not None else "—"
        out.append(f"| [{e.name}]({e.name}.md) | {_cell(e.claim)} | {fig} |")
    out.append("")
    return "\n".join(out)


# -- mkdocs hook ----------------------------------------------------------------------------

_ENTRIES: list[Entry] = []


def on_config(config: Any) -> Any:
    """Read the analyses once and list a page for each under the nav's "Gallery"; list the
    ``docs/`` pages that exist (:data:`DOCS_PAGES`) and drop those that do not."""
    _ENTRIES[:] = entries()
    nav = config["nav"] or []
    for source, target, title in DOCS_PAGES:
        listed = [i for i in nav if isinstance(i, dict) and target in i.values()]
        if (ROOT / "docs" / source).is_file():
            if not listed:
                nav.append({title: target})
        else:
            for i in listed:
                nav.remove(i)
    for item in nav:
        if isinstance(item, dict) and "Gallery" in item:
            section = item["Gallery"]
            section = [section] if isinstance(section, str) else list(section)
            section = [s for s in section
                       if not (isinstance(s, dict) and any(
                           str(v).startswith(f"{GALLERY}/") and v != f"{GALLERY}/index.md"
                           for v in s.values()))]
            section += [{e.name: f"{GALLERY}/{e.name}.md"} for e in _ENTRIES]
            item["Gallery"] = section
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated gallery pages and the saved figures to the build."""
    from mkdocs.structure.files import File

    def add(src_uri: str, **source: Any) -> None:
        old = files.get_file_from_path(src_uri)
        if old is not None:
            files.remove(old)
        files.append(File.generated(config, src_uri, **source))

    for source, target, _ in DOCS_PAGES:
        path = ROOT / "docs" / source
        if path.is_file():
            add(target, content=rewrite_roles(path.read_text(encoding="utf-8")))
    add(f"{GALLERY}/index.md", content=index_page(_ENTRIES))
    for e in _ENTRIES:
        add(f"{GALLERY}/{e.name}.md", content=page(e))
        if e.saved is not None and e.saved.figure is not None:
            add(f"{GALLERY}/{e.name}.png", abs_src_path=str(e.saved.figure))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the Markdown pages into this folder")
    args = parser.parse_args(argv)
    items = entries()
    for e in items:
        where = (e.saved.directory.as_posix() if e.saved is not None
                 else "no saved result")
        print(f"{e.order:4d}  {e.name:28s} {where}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "index.md").write_text(index_page(items), encoding="utf-8")
        for e in items:
            (args.out / f"{e.name}.md").write_text(page(e), encoding="utf-8")
        print(f"wrote {len(items) + 1} pages to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
