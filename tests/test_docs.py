"""The docs site (issue 16): it builds with warnings as errors, and what it shows is true.

``mkdocs build --strict`` of ``mkdocs.yml`` into a temporary directory, with the gallery
reading a made-up saved result (so the test does not depend on ``results/``); the
getting-started page's Python snippets run as written; the Sphinx-to-Markdown rewriting of
the docstrings (``tools/docs_roles.py``) on small cases. Skipped, with the reason, where the
``docs`` extra is not installed (``pip install -e ".[docs]"``).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _missing(modules: tuple[str, ...]) -> list[str]:
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # its parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


DOCS_MISSING = _missing(("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python",
                         "griffe", "pymdownx"))
needs_docs = pytest.mark.skipif(
    bool(DOCS_MISSING),
    reason=f"the docs tools are not installed ({', '.join(DOCS_MISSING)} missing): "
           f"pip install -e '.[docs]'")
#: A 1×1 PNG: the made-up figure the gallery must embed.
_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                     "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return mod


def _analysis_names() -> list[str]:
    from neurocomp.analysis import discover

    return sorted(discover())


@needs_docs
def test_site_builds_strict(tmp_path: Path) -> None:
    names = _analysis_names()
    assert names, "no analysis is registered: is neurocomp installed (pip install -e .)?"
    shown = names[0]
    saved = tmp_path / "results" / shown
    saved.mkdir(parents=True)
    (saved / "figure.png").write_bytes(_PNG)
    (saved / "meta.json").write_text(json.dumps({
        "name": shown, "claim": "A made-up run claim | with a pipe and $5 and *stars*.",
        "headline": {"made_up_value_s": 1.25, "made_up_flag": True},
        "params": {"quick": True}, "seed": 7, "notes": ["a note"],
        "git": {"commit": "0123456789abcdef", "dirty": False},
        "flop_convention": "1 MAC = 2 FLOPs"}))
    site = tmp_path / "site"
    env = {**os.environ, "NEUROCOMP_DOCS_RESULTS": str(tmp_path / "results"),
           "NO_MKDOCS_2_WARNING": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed after {seconds:.0f} s:\n{log}"
    assert "WARNING" not in log, log

    for page in ("index.html", "getting-started/index.html", "module-map/index.html",
                 "gallery/index.html", "api/index.html", "api/neurocomp/index.html",
                 "api/biophysics/index.html", "api/layers/index.html", "api/mapping/index.html",
                 "api/accounting/index.html", "api/accounting/counting/index.html"):
        assert (site / page).is_file(), f"{page} missing from the built site"
    # one gallery page per registered analysis; the saved one embeds its figure and numbers
    for name in names:
        assert (site / "gallery" / name / "index.html").is_file(), name
    assert (site / "gallery" / f"{shown}.png").read_bytes() == _PNG
    page = (site / "gallery" / shown / "index.html").read_text(encoding="utf-8")
    assert f'src="../{shown}.png"' in page
    text = html.unescape(page)
    assert "made_up_value_s" in text and "1.25" in text and "seed 7" in text
    # the run's claim is shown literally: no table cell split, no math, no emphasis
    assert "A made-up run claim | with a pipe and $5 and *stars*." in text
    other = (site / "gallery" / names[1] / "index.html").read_text(encoding="utf-8")
    other = html.unescape(re.sub(r"<[^>]+>", "", other))
    assert f"neurocomp run {names[1]} --quick" in other  # says how to produce the figure
    # the API pages are generated from the docstrings, Sphinx roles turned into links/code
    api = (site / "api" / "accounting" / "index.html").read_text(encoding="utf-8")
    assert 'id="neurocomp.accounting.count"' in api
    assert ":func:" not in api and ":class:" not in api and ":math:" not in api
    module_map = (site / "module-map" / "index.html").read_text(encoding="utf-8")
    assert "analysis.py" in module_map


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


@pytest.mark.slow  # ~15 s alone, 30+ s on a loaded 2-core machine (Brian2, an analysis)
def test_getting_started_snippets_run(tmp_path: Path) -> None:
    """Every Python block of the getting-started page runs, in order, in a fresh process."""
    blocks = _python_blocks(ROOT / "docs" / "site" / "getting-started.md")
    assert len(blocks) >= 4
    script = tmp_path / "snippets.py"
    script.write_text("\n".join(
        f"exec(compile({b!r}, 'getting-started block {i}', 'exec'), {{'__name__': '__main__'}})"
        for i, b in enumerate(blocks)), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, check=False,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert "(32, 241, 241)" in proc.stdout
    assert (tmp_path / "my-results" / "convolution-theorem" / "figure.png").is_file()


@needs_docs
def test_sphinx_markup_becomes_markdown() -> None:
    rewrite = _tool("docs_roles").rewrite
    text = rewrite(":func:`~neurocomp.mapping.convolve` and :class:`Result` "
                   ":math:`\\tau_m` :ref:`x`")
    assert '<autoref identifier="neurocomp.mapping.convolve" optional>`convolve()`' in text
    assert '<autoref identifier="Result" optional>`Result`</autoref>' in text
    assert "\\(\\tau_m\\)" in text and "`x`" in text
    block = rewrite("Text.\n\n.. math:: a = b\n   + c\n\nAfter::\n\n    code()\n\nEnd.")
    assert "\\[\na = b\n+ c\n\\]" in block
    assert "After:\n\n```\ncode()\n```" in block
    deflist = rewrite("Summary.\n\nterm\n    its definition,\n    continued.\n\nParameters\n"
                      "----------\nx : int\n    Not a definition list.")
    assert "term\n:   its definition,\n    continued." in deflist
    assert "x : int\n    Not a definition list." in deflist
