r"""Input side of NeuronIO-mini: the channel layout and Beniaguev-style random input.

Beniaguev, Segev & London (2021, Neuron 109:2727; protocol from their
``simulate_L5PC_and_create_dataset.py``) drive an L5 pyramidal cell with one excitatory and
one inhibitory input channel per dendritic compartment, with *doubly stochastic* rates:

1. the simulation is cut into hold intervals of one duration :math:`\Delta`;
2. per hold interval and subtree an excitatory rate is drawn uniformly, and an inhibitory
   rate uniformly in :math:`[\max(0, e - a),\; e + b]` around it;
3. each channel's rate is that subtree rate times a per-channel, per-interval factor
   :math:`U(0.5, 1.5)` times the channel's dendritic length;
4. the piecewise-constant rates are smoothed in time by a Gaussian of width :math:`\sigma`;
5. spikes are drawn per 1 ms bin, at most one per bin and channel.

Here rates are densities in **Hz per µm of dendrite**, so the same statistics give the same
input per µm however finely the cell is cut into compartments:

.. math::

    r_c(t) = s_\text{kind}\, L_c \sum_k \rho_{\text{kind},\text{subtree}(c),k}\,
             j_{c,k}\, w_k(t), \qquad
    w_k(t) = \Phi\!\left(\frac{t_{k+1} - t}{\sigma}\right)
           - \Phi\!\left(\frac{t_k - t}{\sigma}\right),

with :math:`L_c` the channel's length, :math:`j_{c,k}` the jitter, :math:`s` the rate scale,
:math:`t_k` the interval edges (the first and last intervals extend to :math:`\mp\infty`, so
a constant rate stays constant at the ends) and :math:`\Phi` the normal CDF. Differences from
Beniaguev's code, each a modelling choice: lengths are not padded by +10 µm; :math:`\Delta`
and :math:`\sigma` are drawn from continuous ranges rather than their lists; the smoothing is
the exact Gaussian (not a window cut at ±3.5σ with 'same' zero padding, which lowers the rate
at the ends); and a bin spikes with probability :math:`r\,\Delta t` (Bernoulli) rather than
after a further exponential draw of the probability.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
from scipy.special import ndtr

from neurocomp.checks import check_bytes, check_choice, check_int, check_real

__all__ = ["KINDS", "ChannelTable", "InputStatistics", "generate_inputs"]

KINDS = ("exc", "inh")
_BLOCK_BINS = 4096  # time block of the generator: fixed, since the random stream depends on it
_TAIL_SIGMAS = 5.0  # intervals farther than this many σ from a block are ignored (Φ(−5) ≈ 3e−7)


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


# ---------------------------------------------------------------------------------------------
# channel layout
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChannelTable:
    """One entry per input channel (columns of equal length).

    Attributes
    ----------
    kind : tuple of str
        ``"exc"`` or ``"inh"``.
    subtree : tuple of str
        Dendritic subtree of the channel (for example ``"basal"``, ``"apical"``).
    length_um : tuple of float
        Length of dendrite the channel stands for, µm (> 0); the channel's rate is the rate
        density times this length.
    compartment : tuple of int
        Index of the model compartment the channel's synapse sits on (≥ 0).
    distance_um : tuple of float
        Path distance of that compartment from the soma, µm (≥ 0).
    """

    kind: tuple[str, ...]
    subtree: tuple[str, ...]
    length_um: tuple[float, ...]
    compartment: tuple[int, ...]
    distance_um: tuple[float, ...]

    def __post_init__(self) -> None:
        cols: dict[str, tuple[Any, ...]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
                raise TypeError(f"{f.name} must be a sequence (one entry per channel); got "
                                f"{type(value).__name__}")
            cols[f.name] = tuple(np.asarray(value).tolist())
        lengths = {name: len(col) for name, col in cols.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"ChannelTable columns must have equal lengths; got {lengths}")
        if lengths["kind"] == 0:
            raise ValueError("ChannelTable needs at least one channel; got 0")
        for i, kind in enumerate(cols["kind"]):
            check_choice(f"kind[{i}]", kind, KINDS)
        for i, sub in enumerate(cols["subtree"]):
            if not isinstance(sub, str) or not sub:
                raise ValueError(f"subtree[{i}] must be a non-empty string; got {sub!r}")
        cols["length_um"] = tuple(check_real(f"length_um[{i}]", x, low=0, low_inclusive=False,
                                             unit="µm") for i, x in enumerate(cols["length_um"]))
        cols["compartment"] = tuple(check_int(f"compartment[{i}]", x, low=0)
                                    for i, x in enumerate(cols["compartment"]))
        cols["distance_um"] = tuple(check_real(f"distance_um[{i}]", x, low=0, unit="µm")
                                    for i, x in enumerate(cols["distance_um"]))
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    @classmethod
    def per_compartment(cls, *, subtree: Sequence[str], length_um: Sequence[float],
                        distance_um: Sequence[float],
                        compartment: Sequence[int] | None = None) -> ChannelTable:
        """One excitatory then one inhibitory channel per dendritic compartment.

        The order is Beniaguev et al.'s (all excitatory channels in compartment order, then
        all inhibitory ones in the same order). ``compartment`` defaults to ``0, 1, …``.
        """
        n = len(subtree)
        comp = list(range(n)) if compartment is None else list(compartment)
        return cls(kind=("exc",) * n + ("inh",) * n, subtree=tuple(subtree) * 2,
                   length_um=tuple(length_um) * 2, compartment=tuple(comp) * 2,
                   distance_um=tuple(distance_um) * 2)

    @property
    def n_channels(self) -> int:
        """Number of input channels."""
        return len(self.kind)

    @property
    def exc_mask(self) -> np.ndarray:
        """Boolean array, True for excitatory channels."""
        return np.array([k == "exc" for k in self.kind], dtype=bool)

    @property
    def subtrees(self) -> tuple[str, ...]:
        """The distinct subtree names, sorted."""
        return tuple(sorted(set(self.subtree)))

    def lengths(self) -> np.ndarray:
        """``length_um`` as a float64 array, µm."""
        return np.asarray(self.length_um, dtype=np.float64)

    def to_dict(self) -> dict[str, list[Any]]:
        """Plain lists (JSON-ready)."""
        return {f.name: list(getattr(self, f.name)) for f in fields(self)}

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces)."""
        return _canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelTable:
        """Inverse of :meth:`to_dict`."""
        return cls(**{f.name: tuple(data[f.name]) for f in fields(cls)})

    @classmethod
    def from_json(cls, text: str) -> ChannelTable:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical JSON: equal tables give equal fingerprints."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# input statistics
# ---------------------------------------------------------------------------------------------

# Kept verbatim: the text is part of the input statistics' fingerprint, hence of the NeuronIO
# data keys; "anchors A.3" is docs/references.md#anchors-surrogates-engines-a-3.
_BENIAGUEV = "Beniaguev, Segev & London 2021 Neuron 109:2727, dataset code (anchors A.3)"


def _meta(unit: str, source: str) -> dict[str, str]:
    return {"unit": unit, "source": source}


def _check_range(name: str, value: Any, *, low: float, low_inclusive: bool = True,
                 unit: str) -> tuple[float, float]:
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray) or len(value) != 2:
        raise ValueError(f"{name} must be a pair (lo, hi) in {unit}; got {value!r}")
    lo = check_real(f"{name}[0]", value[0], low=low, low_inclusive=low_inclusive, unit=unit)
    hi = check_real(f"{name}[1]", value[1], low=low, low_inclusive=low_inclusive, unit=unit)
    if lo > hi:
        raise ValueError(f"{name} must satisfy lo <= hi; got ({lo:g}, {hi:g}) {unit}")
    return lo, hi


@dataclass(frozen=True, kw_only=True)
class InputStatistics:
    """Statistics of the doubly stochastic input (see the module docstring for the model).

    Every field carries its unit and source in ``dataclasses.fields(...)[i].metadata``.

    Attributes
    ----------
    hold_ms : (float, float)
        Range of the hold-interval duration Δ, ms; one Δ per generated sequence. Beniaguev's
        code draws Δ from a list spanning 25–450 ms (plus U(−20, 20)); here U(25, 450).
    sigma_ms : (float, float)
        Range of the Gaussian smoothing width σ, ms (> 0); one σ per sequence. Beniaguev's
        list spans 25–600 ms (plus U(−20, 20)); here U(25, 600).
    exc_hz_per_um : (float, float)
        Range of the excitatory rate density drawn per subtree and hold interval, Hz/µm.
        Beniaguev: U(0, 800) spikes/100 ms per subtree, i.e. 0–8,000 Hz over 5,133 µm basal
        or 7,441 µm apical dendrite (docs/references.md#anchors-surrogates-engines-a-1) = 0–1.6 /
        0–1.1 Hz/µm; (0, 1) here, a modelling choice between the two, to be tuned with
        ``rate_scale_*``.
    subtree_exc_hz_per_um : tuple of (str, float, float)
        Per-subtree replacements of ``exc_hz_per_um`` (a mapping is accepted and stored as
        sorted triples). Default: none (modelling choice).
    inh_below_hz_per_um, inh_above_hz_per_um : float
        ``a`` and ``b`` of the inhibitory density U(max(0, e − a), e + b) given the
        excitatory density e, Hz/µm. Beniaguev: a = 600, b = 200 spikes/100 ms against an
        excitatory range of 800, scaled here to 0.75 and 0.25 of the 1 Hz/µm range.
    jitter : (float, float)
        Range of the per-channel, per-interval multiplicative factor (Beniaguev: 0.5–1.5).
    rate_scale_exc, rate_scale_inh : float
        Multipliers of all excitatory / inhibitory rates (≥ 0), used to tune the output rate
        of a condition (for example AMPA-only vs AMPA + NMDA). Modelling choice, default 1.
    """

    hold_ms: tuple[float, float] = field(
        default=(25.0, 450.0), metadata=_meta("ms", _BENIAGUEV + "; continuous range"))
    sigma_ms: tuple[float, float] = field(
        default=(25.0, 600.0), metadata=_meta("ms", _BENIAGUEV + "; continuous range"))
    exc_hz_per_um: tuple[float, float] = field(
        default=(0.0, 1.0), metadata=_meta("Hz/µm", _BENIAGUEV + "; per-µm density chosen here"))
    subtree_exc_hz_per_um: tuple[tuple[str, float, float], ...] = field(
        default=(), metadata=_meta("Hz/µm", "modelling choice"))
    inh_below_hz_per_um: float = field(
        default=0.75, metadata=_meta("Hz/µm", _BENIAGUEV + "; 600 of 800 spikes/100 ms"))
    inh_above_hz_per_um: float = field(
        default=0.25, metadata=_meta("Hz/µm", _BENIAGUEV + "; 200 of 800 spikes/100 ms"))
    jitter: tuple[float, float] = field(default=(0.5, 1.5), metadata=_meta("1", _BENIAGUEV))
    rate_scale_exc: float = field(default=1.0, metadata=_meta("1", "modelling choice (tuning)"))
    rate_scale_inh: float = field(default=1.0, metadata=_meta("1", "modelling choice (tuning)"))

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "hold_ms", _check_range("hold_ms", self.hold_ms, low=0, low_inclusive=False,
                                           unit="ms"))
        set_(self, "sigma_ms", _check_range("sigma_ms", self.sigma_ms, low=0,
                                            low_inclusive=False, unit="ms"))
        set_(self, "exc_hz_per_um", _check_range("exc_hz_per_um", self.exc_hz_per_um, low=0,
                                                 unit="Hz/µm"))
        raw = self.subtree_exc_hz_per_um
        items = (list(raw.items()) if isinstance(raw, Mapping)
                 else [(t[0], tuple(t[1:])) for t in raw])
        triples = []
        for name, pair in items:
            if not isinstance(name, str) or not name:
                raise ValueError(f"subtree_exc_hz_per_um: subtree names must be non-empty "
                                 f"strings; got {name!r}")
            lo, hi = _check_range(f"subtree_exc_hz_per_um[{name!r}]", pair, low=0, unit="Hz/µm")
            triples.append((name, lo, hi))
        names = [t[0] for t in triples]
        if len(set(names)) != len(names):
            raise ValueError(f"subtree_exc_hz_per_um names a subtree twice: {sorted(names)}")
        set_(self, "subtree_exc_hz_per_um", tuple(sorted(triples)))
        for name in ("inh_below_hz_per_um", "inh_above_hz_per_um"):
            set_(self, name, check_real(name, getattr(self, name), low=0, unit="Hz/µm"))
        set_(self, "jitter", _check_range("jitter", self.jitter, low=0, unit="(factor)"))
        for name in ("rate_scale_exc", "rate_scale_inh"):
            set_(self, name, check_real(name, getattr(self, name), low=0))

    # --- derived quantities --------------------------------------------------------------

    def exc_range(self, subtree: str) -> tuple[float, float]:
        """Excitatory density range of ``subtree``, Hz/µm."""
        for name, lo, hi in self.subtree_exc_hz_per_um:
            if name == subtree:
                return lo, hi
        return self.exc_hz_per_um

    def mean_density_hz_per_um(self, kind: str, subtree: str) -> float:
        """Expected rate density (before ``rate_scale`` and jitter), Hz/µm.

        For e ~ U(lo, hi): E[e] = (lo + hi)/2 and the inhibitory density has mean
        (E[max(0, e − a)] + E[e] + b)/2 with
        E[max(0, e − a)] = ((hi − a)² − (max(lo, a) − a)²) / (2 (hi − lo)) for hi > a.
        """
        check_choice("kind", kind, KINDS)
        lo, hi = self.exc_range(subtree)
        mean_e = 0.5 * (lo + hi)
        if kind == "exc":
            return mean_e
        a, b = self.inh_below_hz_per_um, self.inh_above_hz_per_um
        if hi == lo:
            excess = max(0.0, lo - a)
        elif hi <= a:
            excess = 0.0
        else:
            m = max(lo, a)
            excess = ((hi - a) ** 2 - (m - a) ** 2) / (2.0 * (hi - lo))
        return 0.5 * (excess + mean_e + b)

    def _per_channel(self, channels: ChannelTable, density_of) -> np.ndarray:
        scale = {"exc": self.rate_scale_exc, "inh": self.rate_scale_inh}
        return np.array([density_of(k, s) * scale[k] * length for k, s, length in
                         zip(channels.kind, channels.subtree, channels.length_um, strict=True)])

    def expected_rate_hz(self, channels: ChannelTable) -> np.ndarray:
        """Expected rate of every channel, Hz (the smoothing preserves the mean)."""
        mean_jitter = 0.5 * (self.jitter[0] + self.jitter[1])
        return self._per_channel(channels, self.mean_density_hz_per_um) * mean_jitter

    def max_rate_hz(self, channels: ChannelTable) -> np.ndarray:
        """Largest rate any channel can reach, Hz (largest density × largest jitter)."""
        def top(kind: str, subtree: str) -> float:
            hi = self.exc_range(subtree)[1]
            return hi if kind == "exc" else hi + self.inh_above_hz_per_um
        return self._per_channel(channels, top) * self.jitter[1]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (pairs become lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputStatistics:
        """Inverse of :meth:`to_dict`."""
        kw = dict(data)
        for name in ("hold_ms", "sigma_ms", "exc_hz_per_um", "jitter"):
            kw[name] = tuple(kw[name])
        kw["subtree_exc_hz_per_um"] = tuple(tuple(t) for t in kw["subtree_exc_hz_per_um"])
        return cls(**kw)


# ---------------------------------------------------------------------------------------------
# generator
# ---------------------------------------------------------------------------------------------


def _interval_weights(edges_ms: np.ndarray, t_ms: np.ndarray, sigma_ms: float) -> np.ndarray:
    """w[k, i]: Gaussian-smoothed indicator of interval k at time t_i (edges: inner ones)."""
    cdf = ndtr((edges_ms[:, None] - t_ms[None, :]) / sigma_ms)  # (n_edges, n_t)
    ones = np.ones((1, t_ms.size))
    return np.diff(np.concatenate([np.zeros_like(ones), cdf, ones]), axis=0)


def generate_inputs(stats: InputStatistics, channels: ChannelTable, n_bins: int, *,
                    rng: np.random.Generator, bin_ms: float = 1.0,
                    max_bytes: float | None = None) -> np.ndarray:
    """Draw a Beniaguev-style input: 0/1 per channel and bin.

    Parameters
    ----------
    stats : InputStatistics
        Rate statistics (densities in Hz/µm).
    channels : ChannelTable
        Channel layout (kind, subtree and length of each channel).
    n_bins : int
        Number of time bins (≥ 1).
    rng : numpy.random.Generator
        Source of randomness; the same state gives the same array.
    bin_ms : float
        Bin width, ms.
    max_bytes : float, optional
        Bound on the memory of the draw (the output and the per-interval rates at the
        shortest hold), checked before any work; ``None``:
        :data:`~neurocomp.checks.MAX_BYTES`.

    Returns
    -------
    ndarray of uint8, shape (n_channels, n_bins)

    Raises
    ------
    ValueError
        If some channel could reach a spike probability above 1 per bin. This is checked
        before drawing, on the largest possible rate, so a configuration either always works
        or never does, and no probability is ever capped.
    """
    n_bins = check_int("n_bins", n_bins, low=1)
    bin_ms = check_real("bin_ms", bin_ms, low=0, low_inclusive=False, unit="ms")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    # output (1 B per channel-bin) + density, jitter and rates (3 × 8 B per channel-interval)
    n_int_max = -(-n_bins // max(1, round(stats.hold_ms[0] / bin_ms)))
    check_bytes("generate_inputs", channels.n_channels * (n_bins + 24.0 * n_int_max),
                sizes=f"n_bins={n_bins} × {channels.n_channels} channels (bin_ms={bin_ms:g}, "
                      f"holds from {stats.hold_ms[0]:g} ms)", max_bytes=max_bytes)
    p_max = stats.max_rate_hz(channels) * bin_ms / 1000.0
    worst = int(np.argmax(p_max))
    if p_max[worst] > 1.0:
        raise ValueError(
            f"the rates could exceed one spike per {bin_ms:g} ms bin: channel {worst} "
            f"({channels.kind[worst]}, {channels.subtree[worst]}, {channels.length_um[worst]:g}"
            f" µm) can reach {p_max[worst] * 1000.0 / bin_ms:g} Hz (largest density × jitter "
            f"{stats.jitter[1]:g} × rate_scale × length); lower exc_hz_per_um, "
            f"inh_above_hz_per_um or rate_scale_*, or cut the dendrite into shorter channels")

    hold_ms = rng.uniform(*stats.hold_ms)
    hold_bins = max(1, round(hold_ms / bin_ms))
    sigma_ms = rng.uniform(*stats.sigma_ms)
    n_int = -(-n_bins // hold_bins)
    subtrees = channels.subtrees
    exc = np.empty((len(subtrees), n_int))
    inh = np.empty((len(subtrees), n_int))
    for s, name in enumerate(subtrees):
        exc[s] = rng.uniform(*stats.exc_range(name), size=n_int)
        lo = np.maximum(0.0, exc[s] - stats.inh_below_hz_per_um)
        inh[s] = rng.uniform(lo, exc[s] + stats.inh_above_hz_per_um)
    jitter = rng.uniform(*stats.jitter, size=(channels.n_channels, n_int))
    sub_index = np.array([subtrees.index(s) for s in channels.subtree])
    is_exc = channels.exc_mask
    density = np.where(is_exc[:, None], exc[sub_index], inh[sub_index])
    scale = np.where(is_exc, stats.rate_scale_exc, stats.rate_scale_inh)
    values_hz = density * jitter * (scale * channels.lengths())[:, None]  # (n_channels, n_int)

    edges_ms = np.arange(1, n_int) * hold_bins * bin_ms  # inner edges of the intervals
    reach_ms = _TAIL_SIGMAS * sigma_ms
    out = np.empty((channels.n_channels, n_bins), dtype=np.uint8)
    for a in range(0, n_bins, _BLOCK_BINS):
        b = min(n_bins, a + _BLOCK_BINS)
        t_ms = (np.arange(a, b) + 0.5) * bin_ms
        k0 = int(np.searchsorted(edges_ms, t_ms[0] - reach_ms))  # first interval in reach
        k1 = int(np.searchsorted(edges_ms, t_ms[-1] + reach_ms))  # last interval in reach
        w = _interval_weights(edges_ms[k0:k1], t_ms, sigma_ms)  # (k1 - k0 + 1, b - a)
        p = (values_hz[:, k0:k1 + 1] @ w) * (bin_ms / 1000.0)
        out[:, a:b] = rng.random(p.shape) < p
    return out

