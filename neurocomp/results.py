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

Result directories are never written in place, and an existing one is replaced only when
neurocomp made it (its marker file); see :mod:`neurocomp.result_files` for the marker and
the safe replacement, and :mod:`neurocomp.result_errors` for ``<name>.error.json``.
"""

from __future__ import annotations

import json
import shutil
import sys
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
)
from neurocomp.result_errors import ERROR_SUFFIX, check_error_file, remove_error_file
from neurocomp.result_files import (
    check_replaceable,
    install_result,
    jsonable,
    stage_directory,
    write_marker,
)
from neurocomp.run_key import RunKey

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["Result", "mode_of", "stack_frames"]

FIGURE_DPI = 300


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
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:  # made by pyplot (see plotting.new_figure): let it go
            pyplot.close(fig)
        self.to_frame().to_csv(directory / "data.csv", index=False)
        (directory / "meta.json").write_text(json.dumps(self.metadata(), indent=2) + "\n")
        return ("figure.png", "figure.pdf", "data.csv", "meta.json")

    def save(self, directory: str | Path) -> Path:
        """Write ``figure.png``, ``figure.pdf``, ``data.csv``, ``meta.json`` and the marker.

        The files are written to a fresh hidden sibling directory first and renamed into
        place at the end, so a crash never leaves a half-written result behind. An existing
        ``directory`` is replaced only when neurocomp wrote it (see
        :mod:`neurocomp.result_files`); a stale ``<directory>.error.json`` that neurocomp
        wrote is removed.

        Returns
        -------
        pathlib.Path
            The directory written.

        Raises
        ------
        neurocomp.result_files.UnsafeOutputError
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
