"""``<out>/<name>.error.json``: the last failure of an analysis whose good result is kept.

When an analysis fails but ``<out>/<name>/`` holds a good result, the runner keeps that
result and records the failure beside it in this file; a later success removes it. The file
carries neurocomp's ``written_by`` entry, so a user's file of the same name is never
overwritten or deleted (:class:`~neurocomp.result_files.UnsafeOutputError`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neurocomp.result_files import (
    _WRITTEN_BY,
    TEMP_PREFIX,
    UnsafeOutputError,
    _read_json,
    jsonable,
    usual_permissions,
)

__all__ = [
    "ERROR_SUFFIX",
    "check_error_file",
    "read_error_file",
    "remove_error_file",
    "write_error_file",
]

#: ``<out>/<name>.error.json``: the last failure of an analysis whose good result is kept.
ERROR_SUFFIX = ".error.json"


def _error_file_is_ours(path: Path) -> bool:
    data = _read_json(path)
    return isinstance(data, dict) and data.get("written_by") == _WRITTEN_BY


def check_error_file(path: str | Path) -> bool:
    """Check that ``<out>/<name>.error.json`` may be (over)written or deleted.

    Returns False when absent, True when neurocomp wrote it; raises
    :class:`UnsafeOutputError` for anything else (a directory, a link, a user's file).
    """
    path = Path(path)
    if not os.path.lexists(path):
        return False
    if path.is_symlink() or not path.is_file() or not _error_file_is_ours(path):
        raise UnsafeOutputError(f"refusing to overwrite {str(path)!r}: neurocomp did not "
                                "write it; move it away or choose another output directory")
    return True


def read_error_file(path: str | Path) -> dict[str, Any] | None:
    """The failure recorded in ``<out>/<name>.error.json`` by neurocomp, or None."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return None
    data = _read_json(path)
    return data if isinstance(data, dict) and data.get("written_by") == _WRITTEN_BY else None


def write_error_file(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically (a temporary file renamed into place)."""
    path = Path(path)
    check_error_file(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps({"written_by": _WRITTEN_BY, **jsonable(dict(payload))},
                                indent=2) + "\n")
        usual_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return path


def remove_error_file(path: str | Path) -> None:
    """Delete ``<out>/<name>.error.json`` if neurocomp wrote it (raise if not neurocomp's)."""
    if check_error_file(path):
        Path(path).unlink()
