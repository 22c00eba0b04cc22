"""One paper style for every neurocomp figure.

Figures are drawn at the physical size they will have in print: a single journal column
(89 mm, 3.5 in) wide, with 7–8 pt text, so they stay readable without rescaling. Colours
come from the Okabe–Ito palette, which stays distinguishable under the common forms of
colour blindness (Okabe & Ito 2008, "Color Universal Design",
https://jfly.uni-koeln.de/color/). Helpers take and return :class:`matplotlib.axes.Axes`;
nothing here calls ``pyplot`` or ``show()``, so library code never opens a window.
"""

from __future__ import annotations

import contextlib
import string
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "DOUBLE_COLUMN_IN",
    "PALETTE",
    "SINGLE_COLUMN_IN",
    "label_panels",
    "log_ticks",
    "new_figure",
    "paper_style",
    "spread_apart",
]

#: Width of one journal column (Nature, Cell, J Neurosci all use ~85–89 mm), inches.
SINGLE_COLUMN_IN = 3.5
#: Width of a full page (two columns), inches.
DOUBLE_COLUMN_IN = 7.0

#: Okabe–Ito colour-blind-safe palette, in the order used for successive series.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Perceptually uniform, colour-blind-safe maps for images and signed images.
SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"

_RC: dict[str, Any] = {
    "font.size": 7.5,
    "axes.titlesize": 7.5,
    "axes.labelsize": 7.5,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
    "legend.frameon": False,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.1,
    "lines.markersize": 3.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "image.cmap": SEQUENTIAL_CMAP,
    "figure.dpi": 150,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # embed TrueType so text stays editable in the PDF
    "ps.fonttype": 42,
    "font.family": "sans-serif",
    "mathtext.default": "regular",
}


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Context manager that applies the neurocomp paper style to figures drawn inside it."""
    with mpl.rc_context(_RC):
        yield


def new_figure(
    n_rows: int = 1,
    n_cols: int = 1,
    *,
    mosaic: Sequence[Sequence[str]] | None = None,
    width_in: float = SINGLE_COLUMN_IN,
    row_height_in: float = 1.9,
) -> tuple[Figure, np.ndarray]:
    """A figure in the paper style with a grid of axes.

    Parameters
    ----------
    n_rows, n_cols : int
        A regular grid (ignored when ``mosaic`` is given).
    mosaic : list of lists of str, optional
        A layout for :meth:`matplotlib.figure.Figure.subplot_mosaic`, e.g.
        ``[["a", "a"], ["b", "c"]]`` for one wide panel above two; panels are returned in
        order of first appearance (reading order).
    width_in, row_height_in : float
        Figure width and height per row, inches.

    Returns
    -------
    (Figure, numpy.ndarray of Axes)
        When the caller's process has imported ``matplotlib.pyplot`` (a notebook, an
        interactive session), the figure is made by pyplot, so it shows there like any
        other; otherwise it is not attached to pyplot, is garbage-collected like any object
        and never shown — the library itself never imports pyplot.
    """
    rows = len(mosaic) if mosaic is not None else n_rows
    with paper_style():
        size = (width_in, row_height_in * rows)
        pyplot = sys.modules.get("matplotlib.pyplot")
        fig = (pyplot.figure(figsize=size, layout="constrained") if pyplot is not None
               else Figure(figsize=size, layout="constrained"))
        if mosaic is None:
            return fig, fig.subplots(n_rows, n_cols, squeeze=False).ravel()
        by_label = fig.subplot_mosaic([list(r) for r in mosaic])
        order = list(dict.fromkeys(label for row in mosaic for label in row if label != "."))
        return fig, np.array([by_label[label] for label in order], dtype=object)


def label_panels(axes: Sequence[Axes], *, start: str = "A") -> Sequence[Axes]:
    """Write bold panel letters (A, B, …) in the top-left corner of each axes."""
    letters = string.ascii_uppercase[string.ascii_uppercase.index(start):]
    for ax, letter in zip(axes, letters, strict=False):
        ax.text(-0.02, 1.02, letter, transform=ax.transAxes, fontweight="bold",
                fontsize=9, ha="right", va="bottom")
    return axes


def log_ticks(ax: Axes, ticks: Sequence[float], *, axis: str = "x") -> Axes:
    """Put a log scale on ``axis`` with plain-number labels at ``ticks`` (no minor labels)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target.set_major_locator(FixedLocator(list(ticks)))
    target.set_major_formatter(ScalarFormatter())
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())
    return ax


def spread_apart(values: Sequence[float], *, min_gap: float) -> np.ndarray:
    """Label positions as close to ``values`` (sorted ascending) as possible, neighbours at
    least ``min_gap`` apart: overlapping pairs are pushed apart symmetrically until none
    overlaps (at most 200 sweeps)."""
    pos = np.asarray(values, dtype=float).copy()
    for _ in range(200):
        moved = False
        for i in range(1, len(pos)):
            gap = pos[i] - pos[i - 1]
            if gap < min_gap - 1e-12:
                shift = (min_gap - gap) / 2
                pos[i - 1] -= shift
                pos[i] += shift
                moved = True
        if not moved:
            break
    return pos
