r"""Dettmers (2015): the cerebellum as convolutions, rebuilt from the post's stated factors.

The post ("The Brain vs Deep Learning Part I", timdettmers.com, 27 July 2015) models each
neuron as a spatio-temporal convolution over its synaptic inputs and arrives at
**1.075×10²¹ FLOPS**, a lower bound. The formula and its arithmetic were images that are
lost (``docs/references.md#seed-brain-vs-dl-0, #seed-brain-vs-dl-2-3``), so the exact decomposition
is NOT FOUND. What survives are the factors: T = 5 time steps; granule cells (5×10¹⁰ of them)
with ~15 inputs and a 3×4 dendritic filter; Purkinje cells (10⁸) with ~100,000 inputs and a
10×1000 filter; and, from the Kurzweil-style model the post describes, 200 Hz.

The rebuild here (the reference notes' "arithmetic probe", *not* Dettmers' formula) counts,
for each cell type, every input element against every filter element at every firing:

.. math::

    F = \sum_{c\,\in\,\{\mathrm{granule},\,\mathrm{Purkinje}\}}
        N_c \cdot r \cdot k \cdot (I_c T)\,(B_c D_c T),

with :math:`N_c` cells, rate :math:`r`, :math:`k` FLOP per multiply-add, :math:`I_c`
synaptic inputs and a :math:`B_c \times D_c \times T` filter. With the post's numbers the
Purkinje term is exactly 1.0×10²¹ and the granule term 9×10¹⁶; the remaining
7.49×10¹⁹ (7.0 % of the published value) is unexplained (:func:`dettmers_decomposition`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neurocomp.accounting._checks import check_positive
from neurocomp.accounting.estimates import EstimateParameters, Factor, factor_meta, relative_error

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "DettmersDecomposition",
    "DettmersParameters",
    "dettmers_2015_flop_per_s",
    "dettmers_decomposition",
    "dettmers_neuron_macs_per_step",
    "time_steps_from_latency",
]

_COUNTED = ("granule", "purkinje")


def time_steps_from_latency(latency_ms: Any, frames_per_s: Any) -> float | np.ndarray:
    """Time steps a latency spans at a frame rate: ``latency_ms × frames_per_s / 1000``.

    The post's route to T: 20 ms at 30 frames/s is 0.6 steps, 80–200 ms is 2.4–6; it fixes
    T = 5 (``docs/references.md#seed-brain-vs-dl-2-3`` (item 2)).

    Parameters
    ----------
    latency_ms : float or array_like
        Latency, ms (> 0).
    frames_per_s : float or array_like
        Frame rate, frames/s (> 0).
    """
    return (check_positive("latency_ms", latency_ms, unit="ms")
            * check_positive("frames_per_s", frames_per_s, unit="frames/s") / 1000.0)


def dettmers_neuron_macs_per_step(*, inputs: Any, filter_branches: Any, filter_dendrites: Any,
                                  time_steps: Any) -> float | np.ndarray:
    r"""Multiply-adds of one neuron's dendritic convolution per step, as the probe counts them.

    .. math:: \mathrm{MAC} = (I\,T)\,(B\,D\,T)

    Every one of the ``inputs × time_steps`` input elements meets every one of the
    ``filter_branches × filter_dendrites × time_steps`` filter elements once.

    Parameters
    ----------
    inputs : float or array_like
        Synaptic inputs per neuron (> 0).
    filter_branches, filter_dendrites : float or array_like
        Spatial filter size (> 0): branches per dendrite × dendrites.
    time_steps : float or array_like
        Temporal extent T of input and filter, steps (> 0).
    """
    t = check_positive("time_steps", time_steps, unit="steps")
    return (check_positive("inputs", inputs) * t
            * check_positive("filter_branches", filter_branches)
            * check_positive("filter_dendrites", filter_dendrites) * t)


def _terms(*, granule_count: Any, granule_inputs: Any, granule_filter_branches: Any,
           granule_filter_dendrites: Any, purkinje_count: Any, purkinje_inputs: Any,
           purkinje_filter_branches: Any, purkinje_filter_dendrites: Any, time_steps: Any,
           rate_hz: Any, flop_per_mac: Any) -> dict[str, Any]:
    per_firing = (check_positive("rate_hz", rate_hz, unit="Hz")
                  * check_positive("flop_per_mac", flop_per_mac, unit="FLOP/MAC"))
    return {
        "granule": check_positive("granule_count", granule_count) * per_firing
        * dettmers_neuron_macs_per_step(inputs=granule_inputs,
                                        filter_branches=granule_filter_branches,
                                        filter_dendrites=granule_filter_dendrites,
                                        time_steps=time_steps),
        "purkinje": check_positive("purkinje_count", purkinje_count) * per_firing
        * dettmers_neuron_macs_per_step(inputs=purkinje_inputs,
                                        filter_branches=purkinje_filter_branches,
                                        filter_dendrites=purkinje_filter_dendrites,
                                        time_steps=time_steps),
    }


def _check_factor_names(factors: Mapping[str, Any]) -> None:
    """The keywords of :func:`_terms`, no more, no fewer (a TypeError naming them)."""
    known = [k for k in inspect.signature(_terms).parameters]
    unknown = sorted(set(factors) - set(known))
    missing = [k for k in known if k not in factors]
    if unknown or missing:
        parts = ([f"unknown {', '.join(map(repr, unknown))}"] if unknown else []) + \
                ([f"missing {', '.join(map(repr, missing))}"] if missing else [])
        raise TypeError(f"Dettmers (2015) factors: {'; '.join(parts)}; the factors are "
                        f"{', '.join(known)}")


def dettmers_2015_flop_per_s(**factors: Any) -> float | np.ndarray:
    """The probe's rebuild of Dettmers (2015), FLOP/s (floats or arrays of samples).

    Keywords: ``granule_count``, ``granule_inputs``, ``granule_filter_branches``,
    ``granule_filter_dendrites``, ``purkinje_count``, ``purkinje_inputs``,
    ``purkinje_filter_branches``, ``purkinje_filter_dendrites``, ``time_steps`` (steps),
    ``rate_hz`` (Hz) and ``flop_per_mac`` (FLOP/MAC), all > 0. See the module docstring for
    the formula and :class:`DettmersParameters` for the values and their sources.
    """
    _check_factor_names(factors)
    terms = _terms(**factors)
    return sum(terms[c] for c in _COUNTED)


@dataclass(frozen=True, kw_only=True)
class DettmersParameters(EstimateParameters):
    """Factors of the Dettmers (2015) rebuild; each a :class:`Factor` with its source.

    Counts are dimensionless (unit ``"1"``); every factor must be > 0.
    """

    granule_count: Factor = field(metadata=factor_meta(unit="1"))
    granule_inputs: Factor = field(metadata=factor_meta(unit="1"))
    granule_filter_branches: Factor = field(metadata=factor_meta(unit="1"))
    granule_filter_dendrites: Factor = field(metadata=factor_meta(unit="1"))
    purkinje_count: Factor = field(metadata=factor_meta(unit="1"))
    purkinje_inputs: Factor = field(metadata=factor_meta(unit="1"))
    purkinje_filter_branches: Factor = field(metadata=factor_meta(unit="1"))
    purkinje_filter_dendrites: Factor = field(metadata=factor_meta(unit="1"))
    time_steps: Factor = field(metadata=factor_meta(unit="steps"))
    rate_hz: Factor = field(metadata=factor_meta(unit="Hz"))
    flop_per_mac: Factor = field(metadata=factor_meta(unit="FLOP/MAC"))

    bound = "lower bound"
    formula_text = ("Σ over granule and Purkinje cells of count × rate × FLOP/MAC × "
                    "(inputs·T) × (branches·dendrites·T) (the reference notes' arithmetic "
                    "probe; the post's own formula is NOT FOUND)")
    uncounted = (
        "the post's soma filter (1×1×5) and output dense layers (granule 100×T, Purkinje "
        "1000×T outputs): stated, but the probe does not need them to reach 1.0e21",
        "7.49e19 FLOP/s of the published 1.075e21: decomposition NOT FOUND",
        "all neurons other than cerebellar granule and Purkinje cells",
        "back-propagating signals (soma to dendrites, reflected axonal AP)",
        "axon-terminal processing; multi-transmitter vesicles; dendritic geometry; spines",
        "non-axodendritic and electrical synapses; protein and gene regulation; glia",
        "learning (the backward pass)",
    )

    def _formula(self, **values: Any) -> Any:
        return dettmers_2015_flop_per_s(**values)

    def terms(self) -> dict[str, float]:
        """The granule and Purkinje terms at the central values, FLOP/s."""
        return {k: float(v) for k, v in _terms(**self.central_values()).items()}


@dataclass(frozen=True, kw_only=True)
class DettmersDecomposition:
    """The rebuild's terms beside the published value.

    Attributes
    ----------
    purkinje_flop_per_s, granule_flop_per_s : float
        The two terms of the probe, FLOP/s.
    published_flop_per_s : float
        The post's 1.075×10²¹ FLOPS (or another target).
    """

    purkinje_flop_per_s: float
    granule_flop_per_s: float
    published_flop_per_s: float

    @property
    def rebuilt_flop_per_s(self) -> float:
        """Sum of the two terms, FLOP/s."""
        return self.purkinje_flop_per_s + self.granule_flop_per_s

    @property
    def unexplained_flop_per_s(self) -> float:
        """Published minus rebuilt, FLOP/s (what no stated factor accounts for)."""
        return self.published_flop_per_s - self.rebuilt_flop_per_s

    @property
    def unexplained_fraction(self) -> float:
        """The unexplained part as a fraction of the published value."""
        return self.unexplained_flop_per_s / self.published_flop_per_s

    @property
    def rel_error(self) -> float:
        """(rebuilt − published) / published."""
        return relative_error(self.rebuilt_flop_per_s, self.published_flop_per_s)

    def to_frame(self) -> pd.DataFrame:
        """One row per part: Purkinje term, granule term, unexplained, published."""
        import pandas as pd

        return pd.DataFrame({
            "part": ["purkinje dendritic convolution", "granule dendritic convolution",
                     "unexplained remainder", "published"],
            "flop_per_s": [self.purkinje_flop_per_s, self.granule_flop_per_s,
                           self.unexplained_flop_per_s, self.published_flop_per_s],
            "fraction_of_published": [self.purkinje_flop_per_s / self.published_flop_per_s,
                                      self.granule_flop_per_s / self.published_flop_per_s,
                                      self.unexplained_fraction, 1.0],
        })


def dettmers_decomposition(params: DettmersParameters, *,
                           published_flop_per_s: float | None = None) -> DettmersDecomposition:
    """Split the rebuild into its terms and set it beside the published value.

    Parameters
    ----------
    params : DettmersParameters
        The factors.
    published_flop_per_s : float, optional
        Target, FLOP/s; defaults to ``params.published.flop_per_s``.

    Raises
    ------
    ValueError
        If no target is given and the parameter set carries none.
    """
    if published_flop_per_s is None:
        if params.published is None or params.published.flop_per_s is None:
            raise ValueError(f"parameter set {params.name!r} carries no published point "
                             f"value; pass published_flop_per_s")
        published_flop_per_s = params.published.flop_per_s
    target = float(check_positive("published_flop_per_s", published_flop_per_s,
                                  unit="FLOP/s"))
    terms = params.terms()
    return DettmersDecomposition(purkinje_flop_per_s=terms["purkinje"],
                                 granule_flop_per_s=terms["granule"],
                                 published_flop_per_s=target)
