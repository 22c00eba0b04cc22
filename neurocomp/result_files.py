"""The files of a saved result: JSON-ready values, neurocomp's marker, safe replacement.

Result directories are never written in place. Every save goes to a fresh hidden directory
beside the target (``.neurocomp-tmp-<name>-…``, :func:`stage_directory`) that is renamed into
place at the end (:func:`install_result`); an existing ``<name>/`` is replaced only when
neurocomp made it: it holds the marker file ``.neurocomp-result.json`` (written into every
result directory, with the run's name, mode, seed and source state, and the list of files
written) and nothing else than the files the marker lists. Anything else — a directory
without the marker, a user's file inside a result directory, a plain file or a symbolic link
named like the analysis — is refused with :class:`UnsafeOutputError` naming the path
(:func:`check_replaceable`). Directories written before the marker existed are recognised by
their content (only ``figure.png``, ``figure.pdf``, ``data.csv``, ``meta.json`` or
``error.json``, with the analysis's name inside).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurocomp.run_key import RunKey

__all__ = [
    "MARKER_NAME",
    "OLD_PREFIX",
    "TEMP_PREFIX",
    "UnsafeOutputError",
    "check_replaceable",
    "install_result",
    "jsonable",
    "read_marker",
    "saved_run",
    "stage_directory",
    "usual_permissions",
    "write_marker",
]

#: Name of the marker file in every result directory neurocomp writes.
MARKER_NAME = ".neurocomp-result.json"
#: Prefix of neurocomp's own temporary directories and files beside a result.
TEMP_PREFIX = ".neurocomp-tmp-"
#: Prefix of a previous result moved aside while its replacement is renamed into place.
OLD_PREFIX = ".neurocomp-old-"
_WRITTEN_BY = "neurocomp"
_MARKER_FORMAT = 1
#: What a result directory held before the marker existed (recognised as neurocomp's own).
_LEGACY_FILES = frozenset({"figure.png", "figure.pdf", "data.csv", "meta.json", "error.json"})


class UnsafeOutputError(ValueError):
    """A path neurocomp would write is not one neurocomp made; nothing was touched."""


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and paths into JSON-ready Python objects.

    Non-finite floats become the strings ``"nan"``, ``"inf"`` and ``"-inf"`` so that the file
    stays valid JSON (``json`` would otherwise write the non-standard ``NaN``).
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _read_json(path: Path) -> Any:
    """The JSON in ``path``, or None when it is missing, unreadable or not JSON."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _is_real_directory(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def read_marker(directory: str | Path) -> dict[str, Any] | None:
    """The marker of a result directory neurocomp wrote, or None (no, or a damaged, marker).

    Returns
    -------
    dict or None
        ``status`` ("ok" or "failed"), ``run`` (a :class:`RunKey`), ``files`` (the files
        written besides the marker) and ``created_utc``.
    """
    directory = Path(directory)
    if not _is_real_directory(directory):
        return None
    data = _read_json(directory / MARKER_NAME)
    if not isinstance(data, dict) or data.get("written_by") != _WRITTEN_BY:
        return None
    key = RunKey.from_json(data.get("run"))
    files = data.get("files")
    if (key is None or key.name != directory.name or data.get("status") not in ("ok", "failed")
            or not isinstance(files, list) or not all(isinstance(f, str) for f in files)):
        return None
    return {"status": data["status"], "run": key, "files": list(files),
            "created_utc": data.get("created_utc")}


def _legacy_result(directory: Path) -> bool:
    """A result directory written before the marker existed: only neurocomp's files."""
    entries = list(directory.iterdir())
    if not entries or any(p.name not in _LEGACY_FILES or not p.is_file() or p.is_symlink()
                          for p in entries):
        return False
    meta = _read_json(directory / "meta.json")
    error = _read_json(directory / "error.json")
    return ((isinstance(meta, dict) and meta.get("name") == directory.name
             and "flop_convention" in meta)
            or (isinstance(error, dict) and error.get("name") == directory.name
                and "traceback" in error))


def check_replaceable(target: str | Path) -> bool:
    """Check that ``target`` may be replaced by a new result of the analysis it is named after.

    Returns
    -------
    bool
        False when nothing is there, True when it is a result directory neurocomp made
        (marker, or a pre-marker result) that holds no other file.

    Raises
    ------
    UnsafeOutputError
        If ``target`` is a symbolic link, a file, a directory without neurocomp's marker, or
        a result directory that also holds files neurocomp did not write.
    """
    target = Path(target)
    if not os.path.lexists(target):
        return False
    if target.is_symlink():
        raise UnsafeOutputError(f"refusing to replace {str(target)!r}: it is a symbolic link, "
                                "not a result directory neurocomp wrote")
    if not target.is_dir():
        raise UnsafeOutputError(f"refusing to replace {str(target)!r}: it is a file, not a "
                                "result directory neurocomp wrote; move it away or choose "
                                "another output directory")
    marker = read_marker(target)
    if marker is not None:
        allowed = {*marker["files"], MARKER_NAME}
    elif _legacy_result(target):
        allowed = set(_LEGACY_FILES)
    else:
        raise UnsafeOutputError(f"refusing to replace {str(target)!r}: it has no neurocomp "
                                f"marker ({MARKER_NAME}), so neurocomp did not write it; move "
                                "it away or choose another output directory")
    foreign = sorted(p.name for p in target.iterdir()
                     if p.name not in allowed or p.is_symlink() or not p.is_file())
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more"
                                         if len(foreign) > 5 else "")
        raise UnsafeOutputError(f"refusing to replace {str(target)!r}: it holds files "
                                f"neurocomp did not write ({shown}); move them away or "
                                "choose another output directory")
    return True


def saved_run(directory: str | Path) -> RunKey | None:
    """The run key of a complete, successful result in ``directory`` (None otherwise).

    Complete: the marker says ``ok`` and every file it lists is there.
    """
    directory = Path(directory)
    marker = read_marker(directory)
    if marker is None or marker["status"] != "ok":
        return None
    if not all((directory / f).is_file() for f in marker["files"]):
        return None
    return marker["run"]


def _umask() -> int:
    """The process's file-creation mask (read without changing it where possible)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def usual_permissions(path: str | Path) -> Path:
    """Give a file or directory made by :mod:`tempfile` (0600/0700) the permissions a plain
    ``open``/``mkdir`` would have given it (0666/0777 less the umask)."""
    path = Path(path)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~_umask())
    return path


def stage_directory(parent: str | Path, name: str) -> Path:
    """A fresh hidden directory in ``parent`` to write a result of ``name`` into."""
    return usual_permissions(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{name}-", dir=parent))


def write_marker(directory: str | Path, *, key: RunKey, status: str,
                 files: Sequence[str]) -> None:
    """Write the marker that makes ``directory`` recognisable as a result neurocomp wrote."""
    if status not in ("ok", "failed"):
        raise ValueError(f"status must be one of 'ok', 'failed'; got {status!r}")
    (Path(directory) / MARKER_NAME).write_text(json.dumps({
        "written_by": _WRITTEN_BY, "format": _MARKER_FORMAT, "status": status,
        "run": key.to_json(), "files": sorted(files),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=2) + "\n")


def install_result(staged: str | Path, target: str | Path) -> Path:
    """Move the staged directory ``staged`` to ``target``, replacing neurocomp's old result.

    The old result is first renamed aside (``.neurocomp-old-<name>-…``), the new one renamed
    into place, then the old one deleted: at no moment is a half-written result at
    ``target``. A crash between the two renames leaves the old result aside; the runner puts
    it back at its next start.

    Raises
    ------
    UnsafeOutputError
        If ``target`` is not neurocomp's (see :func:`check_replaceable`); ``staged`` is left.
    """
    staged, target = Path(staged), Path(target)
    if not check_replaceable(target):
        staged.rename(target)
        return target
    aside = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{target.name}-", dir=target.parent))
    target.rename(aside)  # onto an empty directory: atomic on POSIX
    try:
        staged.rename(target)
    except BaseException:
        aside.rename(target)
        raise
    shutil.rmtree(aside, ignore_errors=True)
    return target
