"""Where a result came from: package versions, git commit, machine and conventions."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["FLOP_CONVENTION", "environment_info", "git_info", "package_versions"]

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
