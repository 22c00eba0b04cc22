"""Forecasts: doublings, year reached, trend fits, GPUs, power and cost to reach an estimate.
"""

from neurocomp.accounting.forecast.trends import (
    HOURS_PER_YEAR,
    DeviceCount,
    TrendFit,
    annualized_usd_per_year,
    doublings_needed,
    electricity_usd_per_year,
    fab_cost_usd,
    fit_trend,
    gpus_needed,
    implied_doubling_period_y,
    implied_usd_per_kwh,
    performance_at,
    year_reached,
)

__all__ = [
    "HOURS_PER_YEAR",
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
