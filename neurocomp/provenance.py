"""Where a result came from: package versions, git commit, machine and conventions."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FLOP_CONVENTION", "RunClock", "environment_info", "git_info", "package_versions",
           "source_state"]

#: The single FLOP convention of the whole library, stated in every saved result.
FLOP_CONVENTION = "1 multiply-add (MAC) = 2 FLOPs"

_PACKAGES = ("neurocomp", "numpy", "scipy", "torch", "brian2", "matplotlib", "pandas",
             "dask", "distributed", "tqdm")


def package_versions(packages: tuple[str, ...] = _PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (``None`` when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@functools.cache
def git_info(path: str | Path | None = None) -> dict[str, Any]:
    """Commit hash and dirty flag of the git checkout that holds ``path``.

    Defaults to the checkout holding this package. Returns ``{"commit": None, ...}`` when the
    code does not run from a git checkout (an installed wheel, say).
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True)
        status = subprocess.run(["git", "-C", str(where), "status", "--porcelain",
                                 "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


@functools.cache
def source_state(path: str | Path | None = None) -> dict[str, Any]:
    """The code a run uses: git commit, dirty flag, a hash of the uncommitted changes, version.

    Two runs with equal source states ran the same tracked source code, so a saved result
    made under one is current under the other (untracked files are not covered, as in
    :func:`git_info`). Computed once per process: a run is keyed by the code it started with.

    Returns
    -------
    dict
        ``commit`` (str or None outside a git checkout), ``dirty`` (bool or None),
        ``diff_sha256`` (SHA-256 of ``git diff HEAD --binary``; None when the tree is clean
        or unknown) and ``version`` (the installed neurocomp version, or None).
    """
    git = git_info(path)
    digest = None
    if git["dirty"]:
        where = Path(path) if path is not None else Path(__file__).resolve().parent
        try:
            diff = subprocess.run(["git", "-C", str(where), "diff", "HEAD", "--binary",
                                   "--no-color", "--no-ext-diff"],
                                  capture_output=True, timeout=30, check=True)
            digest = hashlib.sha256(diff.stdout).hexdigest()
        except (OSError, subprocess.SubprocessError):
            digest = None
    return {"commit": git["commit"], "dirty": git["dirty"], "diff_sha256": digest,
            "version": package_versions(("neurocomp",))["neurocomp"]}


def environment_info() -> dict[str, Any]:
    """Python, platform and CPU description for ``meta.json``."""
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }


def _load_average() -> list[float]:
    import os

    return list(os.getloadavg())


@dataclass(frozen=True)
class RunClock:
    """Start of a benchmark run: its wall time and the machine's load at that moment.

    ``RunClock().record()`` at the end gives the provenance every benchmark report carries
    (load averages at start and end, machine, versions, git commit, wall time, date). The
    git commit is the one the run *started* from (a long run can outlive a commit made
    beside it); if the checkout changed during the run, ``git_at_end`` says to what.
    """

    started_s: float = field(default_factory=time.time)
    load_start: list[float] = field(default_factory=_load_average)
    git_start: dict[str, Any] = field(default_factory=lambda: git_info())

    def record(self) -> dict[str, Any]:
        """Provenance of the run so far, for a benchmark's JSON report."""
        return {
            "load_average_1_5_15min": {"start": self.load_start, "end": _load_average()},
            "machine": {**environment_info(), "node": platform.node()},
            "versions": package_versions(), "git": self.git_start,
            **({"git_at_end": end} if (end := git_info()) != self.git_start else {}),
            "wall_time_s": round(time.time() - self.started_s, 1),
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
