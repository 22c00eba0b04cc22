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
"""

from __future__ import annotations

import json
import math
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
from neurocomp.provenance import FLOP_CONVENTION, environment_info, git_info, package_versions

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["Result", "jsonable", "stack_frames"]

FIGURE_DPI = 300


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

    def save(self, directory: str | Path) -> Path:
        """Write ``figure.png``, ``figure.pdf``, ``data.csv`` and ``meta.json`` to ``directory``.

        The files are written to a temporary sibling directory first and moved into place at
        the end, so a crash never leaves a half-written result behind.

        Returns
        -------
        pathlib.Path
            The directory written.
        """
        target = Path(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            axes = self.plot()
            fig = np.ravel(axes)[0].figure
            fig.savefig(tmp / "figure.png", dpi=FIGURE_DPI)
            fig.savefig(tmp / "figure.pdf")
            self.to_frame().to_csv(tmp / "data.csv", index=False)
            (tmp / "meta.json").write_text(json.dumps(self.metadata(), indent=2) + "\n")
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return target
