"""Named systems and workloads, found through entry points (the library never imports them).

The cited systems (``neurocomp_models.systems``) and the models' layer costs
(``neurocomp_models.workloads``) live outside the library, which must not import
``neurocomp_models``. The planner (``neurocomp plan
system``) finds them the way ``neurocomp run`` finds analyses: through entry-point groups,
the standard plugin mechanism, so a user's own package can register its systems and
models the same way::

    [project.entry-points."neurocomp.systems"]
    my-lab = "my_package.systems:SYSTEMS"        # a System, or an iterable of them

    [project.entry-points."neurocomp.workloads"]
    my-lab = "my_package.workloads:WORKLOADS"    # a Workload, or an iterable of them

Nothing is imported until a name is looked up; lookups ignore case and punctuation and
suggest close names (:class:`~neurocomp.accounting.hardware.catalogue.Catalogue`).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from neurocomp.accounting.hardware import Catalogue
from neurocomp.accounting.layer_cost import LayerCost, resolve_inputs
from neurocomp.accounting.systems import System
from neurocomp.checks import check_int

__all__ = ["SYSTEMS_GROUP", "WORKLOADS_GROUP", "RegistryError", "Workload", "named_systems",
           "named_workloads"]

SYSTEMS_GROUP = "neurocomp.systems"
WORKLOADS_GROUP = "neurocomp.workloads"


class RegistryError(RuntimeError):
    """An entry point could not be loaded or holds the wrong kind of object."""


@dataclass(frozen=True, kw_only=True)
class Workload:
    """A model to plan for: its per-layer costs and the batch it trains with.

    Parameters
    ----------
    name : str
        Lookup name (``"alexnet"``).
    description : str
        One line for listings.
    batch_per_device : int
        Samples per GPU per step the model was trained with (≥ 1).
    build : callable
        ``build() -> sequence of LayerCost``, called when the layers are needed (counting a
        model can take seconds).
    source : str
        Where the architecture and the batch come from.
    aliases : tuple of str
        Other names.
    """

    name: str
    description: str
    batch_per_device: int
    build: Callable[[], Sequence[LayerCost]]
    source: str = ""
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"workload name must be a non-empty string; got {self.name!r}")
        check_int(f"workload {self.name!r}: batch_per_device", self.batch_per_device, low=1)
        if not callable(self.build):
            raise TypeError(f"workload {self.name!r}: build must be callable")

    def layers(self) -> tuple[LayerCost, ...]:
        """The layers, input to output (validated)."""
        return resolve_inputs(self.build())


T = TypeVar("T")


def _entry_points(group: str) -> Sequence[importlib.metadata.EntryPoint]:
    return tuple(importlib.metadata.entry_points(group=group))


def _collect(group: str, kind: type[T], label: str) -> Catalogue[T]:
    found: list[Any] = []
    for ep in _entry_points(group):
        try:
            obj = ep.load()
        except Exception as exc:  # one broken plugin must say which one it is
            raise RegistryError(f"cannot load {label} entry point {ep.name!r} ({ep.value}): "
                                f"{type(exc).__name__}: {exc}") from exc
        items: Iterable[Any] = [obj] if isinstance(obj, kind) else obj
        try:
            items = list(items)
        except TypeError:
            items = [obj]
        bad = [type(x).__name__ for x in items if not isinstance(x, kind)]
        if bad:
            raise RegistryError(f"{label} entry point {ep.name!r} ({ep.value}) must give a "
                                f"{kind.__name__} or an iterable of them; got {bad[0]}")
        found += items
    return Catalogue(label, found)


def named_systems() -> Catalogue[System]:
    """Every system registered under :data:`SYSTEMS_GROUP`."""
    return _collect(SYSTEMS_GROUP, System, "system")


def named_workloads() -> Catalogue[Workload]:
    """Every workload registered under :data:`WORKLOADS_GROUP`."""
    return _collect(WORKLOADS_GROUP, Workload, "model")
