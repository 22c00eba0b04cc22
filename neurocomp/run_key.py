"""What makes a saved result current: the analysis, its settings and the code that ran.

A :class:`RunKey` is written into the marker of every result directory neurocomp writes
(see :mod:`neurocomp.result_files`); the runner skips an analysis whose saved result has
the key a run made now would have (:meth:`RunKey.reproduces`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neurocomp.provenance import source_state

__all__ = ["RunKey"]


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
