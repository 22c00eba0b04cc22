r"""When hardware reaches a brain estimate, and what matching it costs.

* Doublings from a machine to an estimate: :math:`d = \log_2(\text{target}/\text{start})`;
  the year reached at a doubling period :math:`T`: :math:`y_0 + dT`
  (:func:`year_reached`). Dettmers (2015) goes from Tianhe-2's 0.58 PFLOPS on HPCG to
  1.075×10²¹: :math:`d = 20.82`, which the post rounds to 21 doublings before multiplying,
  so 2015 + 21 × 1.8 = 2052.8 → 2053 and 2015 + 63 = 2078 (unrounded: 2052.5 and 2077.5).
* Trends: least squares of :math:`\log_2` performance on the year (:func:`fit_trend`);
  the doubling time is the inverse slope.
* Devices to match an estimate: the smallest :math:`N` with
  :math:`N\,f\,E(N) \ge` target, for a per-device rate :math:`f` (peak × achieved
  fraction) and a parallel efficiency :math:`E(N)` taken from a step-time model
  (:func:`gpus_needed`); their power, electricity and purchase cost.
* Fab cost growing by a fixed fraction a year (:func:`fab_cost_usd`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from neurocomp.checks import check_choice, check_finite_array, check_real

__all__ = [
    "HOURS_PER_YEAR",
    "ROUNDINGS",
    "DeviceCount",
    "TrendFit",
    "annualized_usd_per_year",
    "doublings_needed",
    "electricity_usd_per_year",
    "fab_cost_usd",
    "fit_trend",
    "gpus_needed",
    "implied_doubling_period_y",
    "implied_usd_per_kwh",
    "performance_at",
    "year_reached",
]

#: Hours in a (365-day) year.
HOURS_PER_YEAR = 8760.0
#: How :func:`year_reached` rounds the number of doublings before multiplying.
ROUNDINGS = ("none", "nearest", "up")


def _positive(name: str, value: float, unit: str = "") -> float:
    return check_real(name, value, low=0.0, low_inclusive=False, unit=unit)


def doublings_needed(target_flop_per_s: float, start_flop_per_s: float) -> float:
    """:math:`\\log_2(\\text{target}/\\text{start})`; negative when the start is already above."""
    return math.log2(_positive("target_flop_per_s", target_flop_per_s, "FLOP/s")
                     / _positive("start_flop_per_s", start_flop_per_s, "FLOP/s"))


def year_reached(*, start_year: float, start_flop_per_s: float, target_flop_per_s: float,
                 doubling_period_y: float, rounding: str = "none") -> float:
    """Year at which exponential growth from the start reaches the target.

    Parameters
    ----------
    start_year : float
        Year of the starting performance.
    start_flop_per_s, target_flop_per_s : float
        Start and target, FLOP/s (> 0).
    doubling_period_y : float
        Years per doubling (> 0).
    rounding : {"none", "nearest", "up"}
        Round the number of doublings first (the post rounds 20.8 to 21).

    Returns
    -------
    float
        ``start_year + doublings × doubling_period_y``.
    """
    check_real("start_year", start_year, low=1900.0, high=3000.0)
    period = _positive("doubling_period_y", doubling_period_y, "y")
    check_choice("rounding", rounding, ROUNDINGS)
    d = doublings_needed(target_flop_per_s, start_flop_per_s)
    if rounding == "nearest":
        d = float(round(d))
    elif rounding == "up":
        d = float(math.ceil(d))
    return start_year + d * period


def implied_doubling_period_y(*, start_year: float, year: float, doublings: float) -> float:
    """Doubling period that reaches a stated ``year`` after ``doublings``, years."""
    return (check_real("year", year) - check_real("start_year", start_year)) \
        / _positive("doublings", doublings)


def performance_at(year: float | np.ndarray, *, start_year: float, start_flop_per_s: float,
                   doubling_period_y: float) -> float | np.ndarray:
    """:math:`\\text{start}\\cdot 2^{(y-y_0)/T}`, FLOP/s."""
    start = _positive("start_flop_per_s", start_flop_per_s, "FLOP/s")
    period = _positive("doubling_period_y", doubling_period_y, "y")
    return start * np.exp2((np.asarray(year, dtype=float) - start_year) / period)


@dataclass(frozen=True, kw_only=True)
class TrendFit:
    """Least-squares fit of :math:`\\log_2` performance against the year.

    Attributes
    ----------
    slope_doublings_per_y, intercept_log2 : float
        :math:`\\log_2 P(y) = \\text{intercept} + \\text{slope}\\cdot y`.
    r_squared : float
        Coefficient of determination in log space.
    first_year, last_year : float
        Span of the data.
    n_points : int
        Number of points fitted.
    """

    slope_doublings_per_y: float
    intercept_log2: float
    r_squared: float
    first_year: float
    last_year: float
    n_points: int

    @property
    def doubling_period_y(self) -> float:
        """Years per doubling (inf for a flat or falling trend)."""
        return 1.0 / self.slope_doublings_per_y if self.slope_doublings_per_y > 0 else math.inf

    def predict(self, year: float | np.ndarray) -> float | np.ndarray:
        """Performance on the trend line, FLOP/s."""
        return np.exp2(self.intercept_log2 + self.slope_doublings_per_y
                       * np.asarray(year, dtype=float))

    def year_reached(self, target_flop_per_s: float) -> float:
        """Year at which the trend line reaches the target (inf if it never does)."""
        t = _positive("target_flop_per_s", target_flop_per_s, "FLOP/s")
        if self.slope_doublings_per_y <= 0:
            return math.inf
        return (math.log2(t) - self.intercept_log2) / self.slope_doublings_per_y


def fit_trend(years: Sequence[float], flop_per_s: Sequence[float]) -> TrendFit:
    """Fit :math:`\\log_2 P = a + b\\,y` by least squares (at least two distinct years)."""
    for name, values in (("years", years), ("flop_per_s", flop_per_s)):
        if isinstance(values, str | bytes):
            raise TypeError(f"{name} must be a sequence of numbers; got {values!r}")
    y = np.asarray(years, dtype=float)
    p = np.asarray(flop_per_s, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"years and flop_per_s must be 1-D of the same length; got shapes "
                         f"{y.shape} and {p.shape}")
    check_finite_array("years", y)
    check_finite_array("flop_per_s", p)
    if (p <= 0).any():
        i = int(np.flatnonzero(p <= 0)[0])
        raise ValueError(f"flop_per_s must be > 0 (it is fitted in log2); got {p[i]:g} at "
                         f"index {i}")
    if len(np.unique(y)) < 2:
        raise ValueError(f"years must hold at least two distinct years to fit a trend; got "
                         f"{len(np.unique(y))}")
    logp = np.log2(p)
    slope, intercept = np.polyfit(y, logp, 1)
    resid = logp - (intercept + slope * y)
    ss_tot = float(np.sum((logp - logp.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    return TrendFit(slope_doublings_per_y=float(slope), intercept_log2=float(intercept),
                    r_squared=r2, first_year=float(y.min()), last_year=float(y.max()),
                    n_points=int(y.size))


# -- devices, power and cost --------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class DeviceCount:
    """How many devices match a target rate, and at what efficiency.

    Attributes
    ----------
    n_devices : float
        Smallest count whose delivered rate reaches the target (``inf`` if none up to the
        search limit does).
    efficiency : float
        Parallel efficiency at that count (at the limit when unreachable).
    delivered_flop_per_s : float
        ``n × flop_per_s_per_device × efficiency``.
    """

    target_flop_per_s: float
    flop_per_s_per_device: float
    n_devices: float
    efficiency: float
    delivered_flop_per_s: float

    @property
    def reachable(self) -> bool:
        """Whether some count up to the search limit reaches the target."""
        return math.isfinite(self.n_devices)

    @property
    def n_devices_at_full_efficiency(self) -> float:
        """``target / flop_per_s_per_device``: the count if every device ran alone."""
        return self.target_flop_per_s / self.flop_per_s_per_device


def gpus_needed(target_flop_per_s: float, *, flop_per_s_per_device: float,
                parallel_efficiency: float | Callable[[int], float] = 1.0,
                max_devices: float = 1e15) -> DeviceCount:
    """Smallest device count :math:`N` with :math:`N f E(N) \\ge` target.

    Parameters
    ----------
    target_flop_per_s : float
        Rate to match, FLOP/s.
    flop_per_s_per_device : float
        What one device delivers on its own (peak × achieved fraction), FLOP/s.
    parallel_efficiency : float or callable
        :math:`E` in (0, 1], or a function of :math:`N` returning it (for example
        :func:`~neurocomp.accounting.parallel.scaling.parallel_efficiency` of a network on a
        system). :math:`N E(N)` is assumed to grow with :math:`N` (checked along the search).
    max_devices : float
        Search limit.

    Returns
    -------
    DeviceCount
    """
    target = _positive("target_flop_per_s", target_flop_per_s, "FLOP/s")
    f = _positive("flop_per_s_per_device", flop_per_s_per_device, "FLOP/s")
    limit = _positive("max_devices", max_devices)

    def eff(n: int) -> float:
        e = parallel_efficiency(n) if callable(parallel_efficiency) else parallel_efficiency
        return check_real(f"parallel_efficiency({n})", e, low=0.0, high=1.0 + 1e-12,
                          low_inclusive=False)

    def delivered(n: int) -> float:
        return n * f * eff(n)

    lo, hi = 0, 1
    last = 0.0
    while delivered(hi) < target:
        now = delivered(hi)
        if now < last or hi >= limit:
            return DeviceCount(target_flop_per_s=target, flop_per_s_per_device=f,
                               n_devices=math.inf, efficiency=eff(hi), delivered_flop_per_s=now)
        lo, last, hi = hi, now, min(2 * hi, int(limit))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if delivered(mid) < target else (lo, mid)
    return DeviceCount(target_flop_per_s=target, flop_per_s_per_device=f, n_devices=float(hi),
                       efficiency=eff(hi), delivered_flop_per_s=delivered(hi))


def electricity_usd_per_year(power_w: float, *, usd_per_kwh: float,
                             utilization: float = 1.0) -> float:
    """Yearly electricity bill of ``power_w`` drawn ``utilization`` of the time, USD."""
    p = check_real("power_w", power_w, low=0.0, unit="W")
    price = check_real("usd_per_kwh", usd_per_kwh, low=0.0, unit="USD/kWh")
    u = check_real("utilization", utilization, low=0.0, high=1.0)
    return p / 1e3 * HOURS_PER_YEAR * u * price


def implied_usd_per_kwh(power_w: float, usd_per_year: float) -> float:
    """Electricity price at which ``power_w`` all year costs ``usd_per_year``, USD/kWh."""
    return check_real("usd_per_year", usd_per_year, low=0.0, unit="USD") \
        / (_positive("power_w", power_w, "W") / 1e3 * HOURS_PER_YEAR)


def annualized_usd_per_year(purchase_usd: float, *, lifetime_y: float) -> float:
    """Purchase cost spread evenly over the machine's life (no interest), USD/year."""
    return check_real("purchase_usd", purchase_usd, low=0.0, unit="USD") \
        / _positive("lifetime_y", lifetime_y, "y")


def fab_cost_usd(year: float | np.ndarray, *, base_usd: float, base_year: float,
                 growth_per_year: float) -> float | np.ndarray:
    """Cost of a chip fab growing by ``growth_per_year`` (0.07 = 7 %) a year, USD."""
    base = _positive("base_usd", base_usd, "USD")
    g = check_real("growth_per_year", growth_per_year, low=-1.0, low_inclusive=False)
    return base * (1.0 + g) ** (np.asarray(year, dtype=float) - base_year)

