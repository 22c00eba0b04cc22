"""Files written so that a reader never sees half of one: write beside, fsync, rename."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["write_json_atomic"]


def write_json_atomic(path: str | Path, obj: Any, *, indent: int = 1,
                      allow_nan: bool = True) -> None:
    """Write ``obj`` as JSON (sorted keys) to ``path`` atomically.

    The text goes to a hidden temporary file in the same directory, is flushed to disk and
    renamed over ``path``: a crash leaves the old file or the new one, never a mix. The
    temporary file is removed on any error.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=indent, sort_keys=True, allow_nan=allow_nan)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
