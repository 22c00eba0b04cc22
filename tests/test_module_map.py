"""docs/MODULES.md matches the code (issue 14: a module map that cannot go stale)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("module_map", ROOT / "tools" / "module_map.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_module_map_is_current() -> None:
    tool = _tool()
    text = (ROOT / "docs" / "MODULES.md").read_text(encoding="utf-8")
    # regenerated from the modules' docstrings, the file must be identical (exact)
    assert text == tool.render(), "docs/MODULES.md is stale: python tools/module_map.py --write"


def test_every_library_module_says_what_it_is_for() -> None:
    tool = _tool()
    missing = [p.relative_to(ROOT).as_posix() for p in (ROOT / "neurocomp").rglob("*.py")
               if "__pycache__" not in p.parts and tool.summary(p) == "(no docstring)"]
    assert missing == [], missing  # a module without a docstring has no line in the map
