#!/usr/bin/env python3
"""Set up neurocomp in a local virtual environment, then run the main job or the tests.

The README's two commands::

    python3 dev.py report     # set up, then run every analysis (quick, one process per
                              # core up to 4) into results/
    python3 dev.py test       # set up, then run the default test suite

Only the Python standard library is used here, so this works on a machine that has nothing
but Python (and a C compiler, which Brian2's compiled targets use later). The virtual
environment lives in ``.venv/``; it is created once and reinstalled only when
``pyproject.toml`` or ``requirements/constraints.txt`` change, so a second call is quick.
Extra arguments after the command are passed on (``python3 dev.py test -m slow``,
``python3 dev.py report --full``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".neurocomp-installed"
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
LOCAL_WHEELS = Path("/opt/wheels")  # where this machine keeps the CPU torch wheel
TORCH_PIN = "torch==2.13.0"  # also pinned in constraints.txt; never loosen (CUDA build)


def _bin(name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / sub / f"{name}{suffix}"


def _install_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", CONSTRAINTS, Path(__file__)):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _run(cmd: list[str | Path], **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)


def ensure_environment() -> None:
    """Create ``.venv`` and install neurocomp (editable, with dev extras) if needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py may be run by an old python3)
        sys.exit(f"neurocomp needs Python >= 3.11; this is {sys.version.split()[0]}")
    fingerprint = _install_fingerprint()
    python = _bin("python")
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == fingerprint:
        return
    if not python.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    pip = [python, "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS]
    if LOCAL_WHEELS.is_dir():
        pip += ["--find-links", LOCAL_WHEELS]
    # torch first and alone, pinned, so no dependency can ask for a CUDA build.
    _run([*pip, TORCH_PIN])
    _run([*pip, "-e", ".[dev,docs]"])
    STAMP.write_text(fingerprint + "\n")


def main(argv: list[str]) -> int:
    commands = {"report", "test", "setup"}
    if not argv or argv[0] not in commands:
        print(__doc__)
        print(f"usage: python3 dev.py {{{'|'.join(sorted(commands))}}} [args...]")
        return 2
    command, extra = argv[0], argv[1:]
    ensure_environment()
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    if command == "setup":
        return 0
    if command == "report":
        cmd = [_bin("neurocomp"), "run", "all", "--out", ROOT / "results"]
        if not any(a in ("--quick", "--full") for a in extra):
            cmd.append("--quick")
        if not any(a.startswith("--jobs") for a in extra):
            # the analyses are independent: one process per core (up to 4), each with its
            # share of the cores' threads
            cmd += ["--jobs", str(max(1, min(4, os.cpu_count() or 1)))]
        cmd += extra
    else:
        cmd = [_bin("python"), "-m", "pytest", *extra]
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
