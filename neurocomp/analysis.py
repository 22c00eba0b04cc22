"""The analysis registry.

An analysis is a named function ``run(*, quick: bool, seed: int) -> Result`` together with
the one-line claim its figure supports. Analyses live outside the library (the
``neurocomp_analyses`` package, or any user package) and register through the entry-point group
``neurocomp.analyses``::

    [project.entry-points."neurocomp.analyses"]
    my-analysis = "my_package.my_module:ANALYSIS"

where ``ANALYSIS`` is an :class:`Analysis`. The library discovers them at run time and never
imports the ``neurocomp_analyses`` package itself.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable
from dataclasses import dataclass

from neurocomp.results import Result

__all__ = ["ENTRY_POINT_GROUP", "Analysis", "AnalysisLoadError", "discover", "load"]

ENTRY_POINT_GROUP = "neurocomp.analyses"
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class AnalysisLoadError(RuntimeError):
    """An analysis's entry point could not be imported or is not an :class:`Analysis`."""


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """A registered analysis.

    Parameters
    ----------
    name : str
        Lower-case, hyphenated (``convolution-theorem``); also the output directory name.
    claim : str
        One sentence: what the figure shows.
    run : callable
        ``run(*, quick: bool, seed: int) -> Result``. ``quick=True`` must finish in well
        under a minute on two cores; ``quick=False`` is the paper run.
    order : int
        Position in listings and in the report (lower first).
    """

    name: str
    claim: str
    run: Callable[..., Result]
    order: int = 100

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"name must be lower-case words joined by hyphens "
                             f"(e.g. 'convolution-theorem'); got {self.name!r}")
        if not self.claim.strip():
            raise ValueError(f"claim of analysis {self.name!r} must be a non-empty sentence")
        if not callable(self.run):
            raise TypeError(f"run of analysis {self.name!r} must be callable; "
                            f"got {type(self.run).__name__}")


def discover() -> dict[str, importlib.metadata.EntryPoint]:
    """Entry points of every registered analysis, by name (nothing is imported yet)."""
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return {ep.name: ep for ep in eps}


def load(entry_point: importlib.metadata.EntryPoint) -> Analysis:
    """Import one entry point and check that it is an :class:`Analysis` of the same name."""
    try:
        obj = entry_point.load()
    except Exception as exc:  # an analysis that fails to import must not stop the others
        raise AnalysisLoadError(f"cannot import {entry_point.value}: "
                                f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(obj, Analysis):
        raise AnalysisLoadError(f"{entry_point.value} is a {type(obj).__name__}, "
                                f"not a neurocomp.analysis.Analysis")
    if obj.name != entry_point.name:
        raise AnalysisLoadError(f"entry point {entry_point.name!r} points to an analysis "
                                f"named {obj.name!r}")
    return obj
