"""Result objects: the one shape every analysis returns.

A :class:`Result` holds the data behind one figure or table. It can be turned into a tidy
:class:`pandas.DataFrame` (:meth:`Result.to_frame`), drawn (:meth:`Result.plot`), and saved
(:meth:`Result.save`) as ``figure.png`` (300 dpi), ``figure.pdf``, ``data.csv`` and
``meta.json``. The metadata carries the parameters, the seed, the package versions, the git
commit, the wall time, the FLOP convention and a ``"headline"`` object with the analysis's
key numbers under descriptive keys that end in their unit (``_s``, ``_px``, ``_mV`` …;
dimensionless numbers say what they are, e.g. ``_rel`` for a relative error).

Subclasses implement :meth:`Result._draw` (drawing into a given list of axes) and
:meth:`Result.to_frame`; they set :attr:`Result.layout` to choose the grid of panels.

Result directories are never written in place. Every save goes to a fresh hidden directory
beside the target (``.neurocomp-tmp-<name>-…``) that is renamed into place at the end; an
existing ``<name>/`` is replaced only when neurocomp made it: it holds the marker file
``.neurocomp-result.json`` (written into every result directory, with the run's name, mode,
seed and source state, and the list of files written) and nothing else than the files the
marker lists. Anything else — a directory without the marker, a user's file inside a result
directory, a plain file or a symbolic link named like the analysis — is refused with
:class:`UnsafeOutputError` naming the path. Directories written before the marker existed are
recognised by their content (only ``figure.png``, ``figure.pdf``, ``data.csv``, ``meta.json``
or ``error.json``, with the analysis's name inside).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from neurocomp.plotting import label_panels, new_figure, paper_style
from neurocomp.provenance import (
    FLOP_CONVENTION,
    environment_info,
    git_info,
    package_versions,
    source_state,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "ERROR_SUFFIX",
    "MARKER_NAME",
    "OLD_PREFIX",
    "TEMP_PREFIX",
    "Result",
    "RunKey",
    "UnsafeOutputError",
    "check_error_file",
    "check_replaceable",
    "install_result",
    "jsonable",
    "mode_of",
    "read_error_file",
    "read_marker",
    "remove_error_file",
    "saved_run",
    "stack_frames",
    "stage_directory",
    "usual_permissions",
    "write_error_file",
    "write_marker",
]

FIGURE_DPI = 300

#: Name of the marker file in every result directory neurocomp writes.
MARKER_NAME = ".neurocomp-result.json"
#: Prefix of neurocomp's own temporary directories and files beside a result.
TEMP_PREFIX = ".neurocomp-tmp-"
#: Prefix of a previous result moved aside while its replacement is renamed into place.
OLD_PREFIX = ".neurocomp-old-"
#: ``<out>/<name>.error.json``: the last failure of an analysis whose good result is kept.
ERROR_SUFFIX = ".error.json"
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


def stack_frames(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-panel tables into one tidy table with a leading ``panel`` column."""
    import pandas as pd

    parts = [frame.assign(panel=name)[["panel", *frame.columns]]
             for name, frame in frames.items()]
    return pd.concat(parts, ignore_index=True, sort=False)


def mode_of(params: Mapping[str, Any]) -> str | None:
    """``"quick"`` or ``"full"`` from a result's ``params["quick"]`` (None when not set)."""
    quick = params.get("quick")
    return {True: "quick", False: "full"}.get(quick) if isinstance(quick, bool) else None


@dataclass(frozen=True, kw_only=True)
class RunKey:
    """What makes a saved result current: the analysis, its settings and the code that ran.

    Parameters
    ----------
    name : str
        Analysis name.
    mode : {"quick", "full"} or None
        Run settings (None: saved outside the runner with no ``quick`` parameter).
    seed : int or None
        Seed the analysis was run with.
    commit, dirty, diff_sha256, version
        The source state (see :func:`neurocomp.provenance.source_state`).
    """

    name: str
    mode: str | None
    seed: int | None
    commit: str | None
    dirty: bool | None
    diff_sha256: str | None
    version: str | None

    @classmethod
    def current(cls, name: str, *, mode: str | None, seed: int | None) -> RunKey:
        """The key of a run of ``name`` made now, by the code of this process."""
        state = source_state()
        return cls(name=name, mode=mode, seed=seed, commit=state["commit"],
                   dirty=state["dirty"], diff_sha256=state["diff_sha256"],
                   version=state["version"])

    def to_json(self) -> dict[str, Any]:
        """The key as a JSON object (the ``run`` entry of the marker file)."""
        return {"name": self.name, "mode": self.mode, "seed": self.seed,
                "commit": self.commit, "dirty": self.dirty,
                "diff_sha256": self.diff_sha256, "version": self.version}

    @classmethod
    def from_json(cls, data: Any) -> RunKey | None:
        """The key stored in a marker, or None when it is malformed."""
        fields = ("name", "mode", "seed", "commit", "dirty", "diff_sha256", "version")
        if not isinstance(data, dict) or not all(f in data for f in fields):
            return None
        if not isinstance(data["name"], str) or data["mode"] not in ("quick", "full", None):
            return None
        if data["seed"] is not None and (isinstance(data["seed"], bool)
                                         or not isinstance(data["seed"], int)):
            return None
        return cls(**{f: data[f] for f in fields})

    def reproduces(self, other: RunKey) -> bool:
        """Whether a result saved under ``other`` is what a run under ``self`` would make.

        Equal keys only count when the code is identified: a commit or a version, and, for
        a tree with uncommitted changes, the hash of those changes.
        """
        known = (self.commit is not None or self.version is not None) and not (
            self.dirty is not False and self.commit is not None and self.diff_sha256 is None)
        return known and self == other


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


@dataclass(kw_only=True)
class Result(ABC):
    """Base of every analysis result.

    Parameters
    ----------
    name : str
        The analysis name (``convolution-theorem``), also the output directory's name.
    claim : str
        One sentence that the figure supports.
    params : mapping
        Every parameter that shaped the run (sizes, repeats, quick/full …).
    seed : int or None
        The seed of all randomness in the run (``None`` when the run uses none).
    headline : mapping of str to number
        The key numbers, keys naming quantity and unit.
    wall_time_s : float or None
        Wall time of the run in seconds; the runner fills it in.
    """

    name: str
    claim: str
    params: Mapping[str, Any]
    seed: int | None
    headline: Mapping[str, Any]
    wall_time_s: float | None = None
    notes: Sequence[str] = field(default_factory=tuple)

    #: Panels that :meth:`plot` creates when given no axes: a grid ``(rows, cols)`` or a
    #: mosaic (list of rows of panel labels, see :func:`neurocomp.plotting.new_figure`).
    layout: ClassVar[tuple[int, int] | tuple[tuple[str, ...], ...]] = (1, 1)
    #: Height of one row of panels in inches (width is one journal column).
    row_height_in: ClassVar[float] = 1.9

    # -- to implement -------------------------------------------------------------------
    @abstractmethod
    def to_frame(self) -> pd.DataFrame:
        """The data behind the figure as a tidy table (one row per plotted point)."""

    @abstractmethod
    def _draw(self, axes: Sequence[Axes]) -> None:
        """Draw the panels into ``axes`` (as many as :attr:`layout` asks for, or fewer)."""

    # -- shared behaviour ---------------------------------------------------------------
    def plot(self, ax: Axes | Sequence[Axes] | None = None) -> Axes | np.ndarray:
        """Draw the result in the paper style.

        Parameters
        ----------
        ax : Axes, sequence of Axes, or None
            ``None`` creates a new single-column figure with all panels. One ``Axes`` draws
            only the first (main) panel into it; a sequence draws as many panels as given.

        Returns
        -------
        Axes or numpy.ndarray of Axes
            What was drawn into.
        """
        with paper_style():
            if ax is None:
                if isinstance(self.layout[0], int):
                    _, axes = new_figure(*self.layout, row_height_in=self.row_height_in)
                else:
                    _, axes = new_figure(mosaic=self.layout, row_height_in=self.row_height_in)
                self._draw(list(axes))
                if len(axes) > 1:
                    label_panels(axes)
                return axes
            if isinstance(ax, Sequence | np.ndarray):
                self._draw(list(ax))
                return np.asarray(ax)
            self._draw([ax])
            return ax

    def metadata(self) -> dict[str, Any]:
        """Everything ``meta.json`` holds, as a dict."""
        return jsonable({
            "name": self.name,
            "claim": self.claim,
            "headline": dict(self.headline),
            "params": dict(self.params),
            "seed": self.seed,
            "wall_time_s": self.wall_time_s,
            "flop_convention": FLOP_CONVENTION,
            "notes": list(self.notes),
            "git": git_info(),
            "versions": package_versions(),
            "environment": environment_info(),
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })

    def write_files(self, directory: str | Path) -> tuple[str, ...]:
        """Write ``figure.png``, ``figure.pdf``, ``data.csv`` and ``meta.json`` into
        ``directory`` (which must exist) and return their names. No marker is written."""
        directory = Path(directory)
        axes = self.plot()
        fig = np.ravel(axes)[0].figure
        fig.savefig(directory / "figure.png", dpi=FIGURE_DPI)
        fig.savefig(directory / "figure.pdf")
        self.to_frame().to_csv(directory / "data.csv", index=False)
        (directory / "meta.json").write_text(json.dumps(self.metadata(), indent=2) + "\n")
        return ("figure.png", "figure.pdf", "data.csv", "meta.json")

    def save(self, directory: str | Path) -> Path:
        """Write ``figure.png``, ``figure.pdf``, ``data.csv``, ``meta.json`` and the marker.

        The files are written to a fresh hidden sibling directory first and renamed into
        place at the end, so a crash never leaves a half-written result behind. An existing
        ``directory`` is replaced only when neurocomp wrote it (see the module docstring);
        a stale ``<directory>.error.json`` that neurocomp wrote is removed.

        Returns
        -------
        pathlib.Path
            The directory written.

        Raises
        ------
        UnsafeOutputError
            If ``directory`` (or ``<directory>.error.json``) exists and neurocomp did not
            write it; checked before anything is drawn, nothing is touched.
        """
        target = Path(directory)
        error_file = target.parent / f"{target.name}{ERROR_SUFFIX}"
        check_replaceable(target)
        check_error_file(error_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = stage_directory(target.parent, target.name)
        try:
            files = self.write_files(tmp)
            key = RunKey.current(target.name, mode=mode_of(self.params), seed=self.seed)
            write_marker(tmp, key=key, status="ok", files=files)
            install_result(tmp, target)
            remove_error_file(error_file)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return target
