"""``Result.plot()`` shows in a notebook: its figure belongs to pyplot when the user has
imported pyplot, and the library never imports pyplot itself (checked in fresh processes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = """
import sys
import matplotlib
matplotlib.use("Agg")
{pre}
from neurocomp.analysis import discover, load
result = load(discover()["forecast"]).run(quick=True, seed=0)
axes = result.plot()
pyplot = sys.modules.get("matplotlib.pyplot")
print("pyplot" if pyplot is not None else "no-pyplot",
      len(pyplot.get_fignums()) if pyplot is not None else 0)
"""


def _run(pre: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT.format(pre=pre))],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_plot_joins_pyplot_when_the_user_uses_it():
    # one figure, known to pyplot: a notebook's inline backend shows it
    assert _run("import matplotlib.pyplot as plt") == "pyplot 1"


def test_plot_never_imports_pyplot_itself():
    assert _run("") == "no-pyplot 0"
