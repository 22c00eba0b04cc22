"""The README's Python examples run as written (users copy them) — slow: the first one runs
Brian2's numpy target (~20 s for both)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.slow


def test_readme_python_blocks_run_in_order() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2  # the quick start and the engine example
    ns: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), ns)
    # the engine example: 8 recordings from one pass, and a gradient that reached the cell
    assert len(ns["recs"]) == 8
    grad = ns["cell"].Ri_ohm_cm.grad
    assert grad is not None and bool(grad != 0)
