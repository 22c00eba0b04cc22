"""Hardware descriptions: GPUs, interconnects, supercomputers, ranking lists, and lookup.

Every number of a catalogue entry is a :class:`~neurocomp.citations.Cited` (value, unit,
source, note), so a figure or a forecast can always say where its peak FLOP/s or its link
bandwidth came from. The cited entries themselves live in ``neurocomp_models.hardware``; the library
holds only the types, the unit conversions and :class:`Catalogue`, the name lookup that
suggests close matches for a misspelt name.

A catalogue entry is a description; the step-time models take a :class:`Device` (peak
FLOP/s times the fraction of it actually achieved) and a link, anything with
``bandwidth_bytes_per_s`` and ``latency_s`` (:class:`Interconnect` is one).

Units: bytes (not bits) everywhere; bandwidths per direction; FLOP/s dense (no structured
sparsity); conversions from the units data sheets use (Gbit/s, GB, TFLOP/s) are below.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic, Protocol, TypeVar

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.citations import Cited

__all__ = [
    "DTYPES",
    "INTERCONNECT_KINDS",
    "Catalogue",
    "Device",
    "Gpu",
    "Interconnect",
    "RankingEntry",
    "Supercomputer",
    "UnknownNameError",
    "bytes_per_s_from_gbit_per_s",
]

#: Number formats a GPU peak can be given for. ``*_tensor`` are matrix (tensor-core) units,
#: the others vector units; ``int8_tensor`` counts integer operations, not FLOPs.
DTYPES = ("fp64", "fp64_tensor", "fp32", "tf32_tensor", "fp16", "fp16_tensor",
          "bf16_tensor", "fp8_tensor", "int8_tensor")

#: Families of links in the interconnect catalogue (``"socket"``: the link between the CPU
#: sockets of a node, QPI, UPI or Infinity Fabric).
INTERCONNECT_KINDS = ("pcie", "nvlink", "infiniband", "ethernet", "socket")

#: Bytes per gigabyte (decimal, as data sheets use for bandwidth and HBM size).
GB = 1e9
#: Bits per byte.
BITS_PER_BYTE = 8


def bytes_per_s_from_gbit_per_s(gbit_per_s: float) -> float:
    """Bandwidth in bytes/s of a link quoted in Gbit/s (decimal): ``gbit_per_s × 1e9 / 8``.

    Parameters
    ----------
    gbit_per_s : float
        Line rate in gigabits per second (e.g. 40 for QDR InfiniBand), > 0.
    """
    return check_real("gbit_per_s", gbit_per_s, low=0.0, low_inclusive=False,
                      unit="Gbit/s") * 1e9 / BITS_PER_BYTE


def _check_cited(owner: str, field_name: str, value: Cited | None, unit: str, *,
                 optional: bool = False, positive: bool = True) -> None:
    where = f"{owner}.{field_name}"
    if value is None:
        if optional:
            return
        raise ValueError(f"{where} is required (a Cited value in {unit})")
    if not isinstance(value, Cited):
        raise TypeError(f"{where} must be a Cited value (number with source); "
                        f"got {type(value).__name__}")
    if value.unit != unit:
        raise ValueError(f"{where} must be in {unit!r}; got unit {value.unit!r}")
    if positive:
        check_real(where, value.value, low=0.0, low_inclusive=False, unit=unit)


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{kind} name must be a non-empty string; got {name!r}")


# -- devices -----------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Device:
    """One accelerator as the step-time models see it.

    Parameters
    ----------
    name : str
        Label for tables.
    peak_flop_per_s : float
        Peak rate in the number format used, FLOP/s (> 0).
    efficiency : float
        Fraction of the peak a layer actually achieves, in (0, 1]. The library never
        assumes one: a measured value (a roofline micro-benchmark) or a cited one (for
        example model-FLOP utilisation of a published run) goes here.
    memory_bytes : float or None
        Device memory, bytes; ``None`` skips the fit check.
    memory_bandwidth_bytes_per_s : float or None
        Memory bandwidth, bytes/s (for roofline models; the step-time models do not use it).
    """

    name: str = "device"
    peak_flop_per_s: float
    efficiency: float = 1.0
    memory_bytes: float | None = None
    memory_bandwidth_bytes_per_s: float | None = None

    def __post_init__(self) -> None:
        check_real("peak_flop_per_s", self.peak_flop_per_s, low=0.0, low_inclusive=False,
                   unit="FLOP/s")
        check_real("efficiency", self.efficiency, low=0.0, high=1.0, low_inclusive=False)
        if self.memory_bytes is not None:
            check_real("memory_bytes", self.memory_bytes, low=0.0, low_inclusive=False,
                       unit="B")
        if self.memory_bandwidth_bytes_per_s is not None:
            check_real("memory_bandwidth_bytes_per_s", self.memory_bandwidth_bytes_per_s,
                       low=0.0, low_inclusive=False, unit="B/s")

    @property
    def achieved_flop_per_s(self) -> float:
        """``peak_flop_per_s × efficiency``, FLOP/s."""
        return self.peak_flop_per_s * self.efficiency


@dataclass(frozen=True, kw_only=True)
class Gpu:
    """A GPU model with its data-sheet numbers, each cited.

    Parameters
    ----------
    name : str
        Display name (``"H100 SXM5"``); lookup ignores case, spaces and punctuation.
    year : int
        Launch year.
    architecture : str
        Micro-architecture (``"Hopper"``).
    peak_flop_per_s : mapping of str to Cited
        Dense peak per number format (keys from :data:`DTYPES`), unit ``"FLOP/s"``
        (``"OP/s"`` for ``int8_tensor``).
    memory_bytes : Cited
        Device memory, unit ``"B"``.
    memory_bandwidth_bytes_per_s : Cited
        Memory bandwidth, unit ``"B/s"``.
    power_w : Cited
        Board power (TDP), unit ``"W"``.
    launch_price_usd : Cited or None
        Launch price where one was published, unit ``"USD"``; its note says what it is
        (list price of the card, or a system price divided by its GPUs).
    aliases : tuple of str
        Other names lookup accepts (``"H100"``).
    """

    name: str
    year: int
    architecture: str
    peak_flop_per_s: Mapping[str, Cited]
    memory_bytes: Cited
    memory_bandwidth_bytes_per_s: Cited
    power_w: Cited
    launch_price_usd: Cited | None = None
    aliases: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("GPU", self.name)
        check_int(f"{self.name}.year", self.year, low=1990, high=2100)
        if not self.peak_flop_per_s:
            raise ValueError(f"{self.name}.peak_flop_per_s needs at least one number format")
        for dtype, cited in self.peak_flop_per_s.items():
            check_choice(f"{self.name}.peak_flop_per_s key", dtype, DTYPES)
            unit = "OP/s" if dtype.startswith("int") else "FLOP/s"
            _check_cited(self.name, f"peak_flop_per_s[{dtype!r}]", cited, unit)
        object.__setattr__(self, "peak_flop_per_s", MappingProxyType(dict(self.peak_flop_per_s)))
        _check_cited(self.name, "memory_bytes", self.memory_bytes, "B")
        _check_cited(self.name, "memory_bandwidth_bytes_per_s",
                     self.memory_bandwidth_bytes_per_s, "B/s")
        _check_cited(self.name, "power_w", self.power_w, "W")
        _check_cited(self.name, "launch_price_usd", self.launch_price_usd, "USD",
                     optional=True)

    @property
    def dtypes(self) -> tuple[str, ...]:
        """Number formats with a published peak, in :data:`DTYPES` order."""
        return tuple(d for d in DTYPES if d in self.peak_flop_per_s)

    def peak(self, dtype: str) -> float:
        """Dense peak in ``dtype``, FLOP/s (OP/s for ``int8_tensor``).

        Raises
        ------
        ValueError
            If the GPU has no published peak in that format (the message lists those it has).
        """
        if dtype not in self.peak_flop_per_s:
            raise ValueError(f"{self.name} has no peak for dtype {dtype!r}; it has "
                             f"{', '.join(repr(d) for d in self.dtypes)}")
        return self.peak_flop_per_s[dtype].value

    def ridge_point_flop_per_byte(self, dtype: str) -> float:
        """Roofline ridge point: peak in ``dtype`` ÷ memory bandwidth, FLOP/byte."""
        return self.peak(dtype) / self.memory_bandwidth_bytes_per_s.value

    def device(self, *, dtype: str, efficiency: float = 1.0) -> Device:
        """This GPU as a :class:`Device` computing in ``dtype`` at ``efficiency`` of peak."""
        return Device(name=f"{self.name} ({dtype})", peak_flop_per_s=self.peak(dtype),
                      efficiency=efficiency, memory_bytes=self.memory_bytes.value,
                      memory_bandwidth_bytes_per_s=self.memory_bandwidth_bytes_per_s.value)


# -- links -------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Interconnect:
    """A link family (PCIe 3.0 x16, NVLink 4, NDR InfiniBand …) with cited bandwidth and latency.

    It satisfies the :class:`~neurocomp.accounting.network.collectives.Link` protocol, so it can be
    handed to every collective-cost function directly.

    Parameters
    ----------
    name : str
        Display name.
    kind : str
        One of :data:`INTERCONNECT_KINDS`.
    year : int
        Year of the first products.
    bandwidth : Cited
        Bandwidth per direction, unit ``"B/s"`` (after line encoding, before protocol
        overhead unless the note says otherwise).
    latency : Cited
        Typical small-message one-way latency, unit ``"s"``.
    """

    name: str
    kind: str
    year: int
    bandwidth: Cited
    latency: Cited
    aliases: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("interconnect", self.name)
        check_choice(f"{self.name}.kind", self.kind, INTERCONNECT_KINDS)
        check_int(f"{self.name}.year", self.year, low=1990, high=2100)
        _check_cited(self.name, "bandwidth", self.bandwidth, "B/s")
        _check_cited(self.name, "latency", self.latency, "s", positive=False)
        check_real(f"{self.name}.latency", self.latency.value, low=0.0, unit="s")

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Bandwidth per direction, bytes/s."""
        return self.bandwidth.value

    @property
    def latency_s(self) -> float:
        """Small-message latency, s."""
        return self.latency.value


# -- machines and lists ----------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Supercomputer:
    """A TOP500 machine with its HPL (Rmax, Rpeak), HPCG and power, each cited.

    Parameters
    ----------
    name : str
        Display name.
    year : int
        Year of its first TOP500 entry.
    site : str
        Where it is installed.
    list_edition : str
        TOP500 edition (``"YYYY-MM"``) the Rmax, Rpeak and power refer to.
    rmax, rpeak : Cited
        HPL result and theoretical peak, unit ``"FLOP/s"`` (rpeak may be ``None``).
    hpcg : Cited or None
        HPCG result where published, unit ``"FLOP/s"``.
    power_w : Cited or None
        Power during HPL, unit ``"W"``.
    """

    name: str
    year: int
    site: str
    list_edition: str
    rmax: Cited
    rpeak: Cited | None = None
    hpcg: Cited | None = None
    power_w: Cited | None = None
    aliases: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("supercomputer", self.name)
        check_int(f"{self.name}.year", self.year, low=1990, high=2100)
        _check_edition(f"{self.name}.list_edition", self.list_edition)
        _check_cited(self.name, "rmax", self.rmax, "FLOP/s")
        for name in ("rpeak", "hpcg"):
            _check_cited(self.name, name, getattr(self, name), "FLOP/s", optional=True)
        _check_cited(self.name, "power_w", self.power_w, "W", optional=True)
        if self.rpeak is not None and self.rpeak.value < self.rmax.value:
            raise ValueError(f"{self.name}: rpeak ({self.rpeak.value:g} FLOP/s) must be ≥ "
                             f"rmax ({self.rmax.value:g} FLOP/s)")

    @property
    def rmax_flop_per_s(self) -> float:
        """HPL Rmax, FLOP/s."""
        return self.rmax.value

    @property
    def hpl_efficiency(self) -> float | None:
        """Rmax / Rpeak (``None`` without Rpeak)."""
        return None if self.rpeak is None else self.rmax.value / self.rpeak.value

    @property
    def flop_per_joule(self) -> float | None:
        """Rmax per watt of HPL power, FLOP/J (``None`` without power)."""
        return None if self.power_w is None else self.rmax.value / self.power_w.value


_EDITION = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")


def _check_edition(name: str, edition: str) -> None:
    if not isinstance(edition, str) or not _EDITION.match(edition):
        raise ValueError(f"{name} must be a list edition 'YYYY-MM' (e.g. '2013-06'); "
                         f"got {edition!r}")


@dataclass(frozen=True, kw_only=True)
class RankingEntry:
    """The number-one system of one edition of a ranking list (TOP500 HPL or HPCG).

    Parameters
    ----------
    benchmark : {"HPL", "HPCG"}
        Which list.
    edition : str
        ``"YYYY-MM"`` (June lists are ``-06``, November lists ``-11``).
    system : str
        The number-one system.
    performance : Cited
        Its result, unit ``"FLOP/s"``.
    """

    benchmark: str
    edition: str
    system: str
    performance: Cited

    def __post_init__(self) -> None:
        check_choice("benchmark", self.benchmark, ("HPL", "HPCG"))
        _check_edition("edition", self.edition)
        _check_cited(f"{self.benchmark} {self.edition}", "performance", self.performance,
                     "FLOP/s")

    @property
    def year(self) -> float:
        """Decimal year of the edition (start of its month): June 2013 → 2013.417."""
        y, m = self.edition.split("-")
        return int(y) + (int(m) - 1) / 12

    @property
    def flop_per_s(self) -> float:
        """The result, FLOP/s."""
        return self.performance.value


# -- lookup ------------------------------------------------------------------------------------

class UnknownNameError(ValueError):
    """A catalogue lookup found no entry of that name (the message suggests close ones)."""


class _Named(Protocol):
    name: str
    aliases: tuple[str, ...]


T = TypeVar("T", bound=_Named)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Catalogue(Generic[T]):
    """Named entries looked up by name or alias, ignoring case, spaces and punctuation.

    Parameters
    ----------
    kind : str
        What the entries are (``"GPU"``), used in messages.
    entries : iterable
        Objects with ``name`` and ``aliases``; names and aliases must be unique.

    Examples
    --------
    >>> gpus["h100"]            # doctest: +SKIP
    >>> gpus["H10O"]            # doctest: +SKIP
    UnknownNameError: unknown GPU 'H10O'; did you mean 'H100 SXM5'? ...
    """

    kind: str
    entries: tuple[T, ...]
    _index: Mapping[str, T] = field(init=False, repr=False, compare=False)

    def __init__(self, kind: str, entries: Iterable[T]) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "entries", tuple(entries))
        index: dict[str, T] = {}
        for entry in self.entries:
            for label in (entry.name, *entry.aliases):
                key = _key(label)
                if key in index and index[key] is not entry:
                    raise ValueError(f"{kind} name or alias {label!r} is used by both "
                                     f"{index[key].name!r} and {entry.name!r}")
                index[key] = entry
        object.__setattr__(self, "_index", MappingProxyType(index))

    def __getitem__(self, name: str) -> T:
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string; got {type(name).__name__}")
        entry = self._index.get(_key(name))
        if entry is not None:
            return entry
        raise UnknownNameError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        labels = {label: e.name for e in self.entries for label in (e.name, *e.aliases)}
        by_key = {_key(label): n for label, n in labels.items()}
        query = _key(name)
        close = difflib.get_close_matches(query, list(by_key), n=5, cutoff=0.5)
        contains = [k for k in by_key if query and (query in k or k in query)]
        suggestions = list(dict.fromkeys(by_key[k] for k in [*close, *contains]))
        hint = (f"; did you mean {', '.join(repr(s) for s in suggestions[:4])}?"
                if suggestions else "")
        return (f"unknown {self.kind} {name!r}{hint} Known {self.kind}s: "
                f"{', '.join(self.names)}")

    def get(self, name: str) -> T:
        """The entry called ``name`` (or an alias); raises :class:`UnknownNameError`."""
        return self[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._index

    def __iter__(self) -> Iterator[T]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def names(self) -> tuple[str, ...]:
        """Display names in catalogue order."""
        return tuple(e.name for e in self.entries)
