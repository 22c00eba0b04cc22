"""gpus-to-brain: how many GPUs match each brain estimate, at a parallel efficiency, and the bill.

For every published brain estimate (``neurocomp_models.brain_estimates``) and five GPUs from the
post's era to now, the number of GPUs N whose delivered rate N × peak × achieved fraction ×
E(N) reaches the estimate. E(N) is not assumed: it is the weak-scaling efficiency that the
step-time model (``neurocomp.accounting.parallel.steps``) gives for a deep-learning workload on a
reference system of each GPU's generation — AlexNet (Krizhevsky et al. 2012), 128 images
per GPU, the parallelism per layer chosen on the model (data-parallel convolutions,
model-parallel dense layers inside a node where that is faster), hierarchical all-reduce
over NVLink/PCIe and InfiniBand. Their power (TDP × Tianhe-2's facility overhead), their
yearly electricity at the price the post's 24 MW ≈ $23M/yr implies, and their purchase cost.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from neurocomp_models.brain_estimates import ALL_ESTIMATES
from neurocomp_models.hardware import (
    DEVICE_EFFICIENCY_MEGATRON_2021,
    ELECTRICITY_USD_PER_KWH_IMPLIED_BY_POST,
    LINK_EFFICIENCY_HGX_H100_ASTRA_SIM,
    TIANHE2_ELECTRICITY_USD_PER_YEAR,
    TIANHE2_FACILITY_OVERHEAD,
    TIANHE2_POWER_W_POST,
)
from neurocomp_models.systems import REFERENCE_NODES, ReferenceNode
from neurocomp_models.workloads import ALEXNET_2012_LAYERS

from neurocomp.accounting import estimate, step_time
from neurocomp.accounting.forecast import (
    HOURS_PER_YEAR,
    annualized_usd_per_year,
    electricity_usd_per_year,
    gpus_needed,
    implied_usd_per_kwh,
)
from neurocomp.accounting.parallel import ParallelOptions, recommend_parallelism
from neurocomp.analysis import Analysis
from neurocomp.plotting import PALETTE, log_ticks
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "gpus-to-brain"
CLAIM = ("GPUs needed to match each brain estimate at the parallel efficiency an AlexNet-style "
         "workload reaches on each generation's reference system, with their power, "
         "electricity and purchase cost.")
#: The GPU and the comparison estimate the claim names.
CLAIM_GPU, CLAIM_LOW_ESTIMATE = "h100", "carlsmith_2020"


def _count_text(n: float) -> str:
    """A GPU count in words: ``4.5 million``, ``4,022``, ``3``."""
    for word, scale in (("billion", 1e9), ("million", 1e6)):
        if n >= scale:
            return f"{n / scale:.2g} {word}"
    return f"{n:,.0f}"


def _usd_text(x: float) -> str:
    """Dollars in words: ``$4.0 billion``, ``$23 million``."""
    for word, scale in (("trillion", 1e12), ("billion", 1e9), ("million", 1e6)):
        if x >= scale:
            return f"${x / scale:.2g} {word}"
    return f"${x:,.0f}"


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`.

    Returns
    -------
    str
        One sentence: the GPUs, efficiency, power and electricity for Dettmers' published
        value on :data:`CLAIM_GPU`, beside :data:`CLAIM_LOW_ESTIMATE`'s count.
    """
    g, name = CLAIM_GPU, SHORT_GPU[CLAIM_GPU]
    k = f"dettmers_2015_{g}"
    n, eff = headline[f"{k}_gpus_count"], headline[f"{k}_parallel_efficiency"]
    power_gw = headline[f"{k}_power_mw"] / 1e3
    low = headline[f"{CLAIM_LOW_ESTIMATE}_{g}_gpus_count"]
    low_label = SHORT_ESTIMATE[CLAIM_LOW_ESTIMATE]
    return (f"Matching Dettmers' {headline['dettmers_2015_target_flop_per_s']:.4g} FLOP/s "
            f"takes about {_count_text(n)} {name}s at the {eff:.2f} parallel efficiency an "
            f"AlexNet-style workload reaches on their reference system: {power_gw:.2g} GW and "
            f"{_usd_text(headline[f'{k}_electricity_usd_per_year'])} a year of electricity, "
            f"where {low_label}'s "
            f"{headline[f'{CLAIM_LOW_ESTIMATE}_target_flop_per_s']:.2g} FLOP/s needs "
            f"{_count_text(low)} {name}{'' if low == 1 else 's'}.").replace("e+", "e")


KRIZHEVSKY_2012 = ("Krizhevsky, Sutskever & Hinton (2012), ImageNet Classification with Deep "
                   "Convolutional Neural Networks, NeurIPS 25, §3.5 and Fig. 2")
#: Images per GPU per step (Krizhevsky et al. 2012 trained with batches of 128).
BATCH_PER_GPU = 128
#: Achieved fraction of bus bandwidth: 741 of 900 GB/s on an HGX-H100 (ASTRA-sim, [S]).
LINK_EFFICIENCY = LINK_EFFICIENCY_HGX_H100_ASTRA_SIM.value
#: Short estimate names for panel A.
SHORT_ESTIMATE = {"dettmers_2015": "Dettmers", "bottom_up_tcn_beniaguev_2021": "TCN × neurons",
                  "sandberg_bostrom_2008": "S & B 2008", "kurzweil_style_2015": "Kurzweil-style",
                  "kurzweil_1999": "Kurzweil", "carlsmith_2020": "Carlsmith",
                  "ai_impacts_2015": "AI Impacts", "moravec_1998": "Moravec"}
#: Short GPU names for the table.
SHORT_GPU = {"titan_x": "Titan X", "v100": "V100", "a100": "A100", "h100": "H100",
             "b200": "B200"}
#: Years over which the purchase is spread (this analysis's assumption; no source).
LIFETIME_Y = 5.0


def efficiency_function(system: ReferenceNode, *, plan_devices: int = 64):
    """E(N) of AlexNet on ``system``, with the parallelism chosen at ``plan_devices`` GPUs.

    Beyond one node, N is rounded up to whole nodes (a partly filled node runs as a full
    one) and the model-parallel group is a node; within a node it is all N GPUs. E(N) is
    the throughput on N GPUs over N times that of one GPU.
    """
    device = system.device()
    network = system.network(bandwidth_efficiency=LINK_EFFICIENCY)
    g = system.ranks_per_node
    plan = recommend_parallelism(ALEXNET_2012_LAYERS, device=device, network=network,
                                 n_devices=plan_devices, batch_per_device=BATCH_PER_GPU,
                                 model_parallel_size=g).plan
    one = step_time(ALEXNET_2012_LAYERS, device=device, network=network, n_devices=1,
                    batch_per_device=BATCH_PER_GPU, plan=plan, model_parallel_size=1,
                    options=ParallelOptions(check_memory=False)).samples_per_s

    @functools.cache
    def on_whole_nodes(n: int) -> float:
        step = step_time(ALEXNET_2012_LAYERS, device=device, network=network, n_devices=n,
                         batch_per_device=BATCH_PER_GPU, plan=plan,
                         model_parallel_size=min(n, g))
        return step.samples_per_s / (n * one)

    def efficiency(n: int) -> float:
        return on_whole_nodes(n if n <= g else -(-n // g) * g)

    return efficiency, plan


@dataclass(kw_only=True)
class GpusToBrainResult(Result):
    """GPUs, power and cost per estimate and GPU; E(N) per system."""

    table: pd.DataFrame
    efficiency: pd.DataFrame
    plans: pd.DataFrame

    layout = (("gpus",),) * 3 + (("efficiency",),) * 2 + (("table",),) * 2
    row_height_in = 0.62

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"gpus_to_brain": self.table, "parallel_efficiency":
                             self.efficiency, "parallelism_plan": self.plans})

    def _draw(self, axes: Sequence[Axes]) -> None:
        self._draw_gpus(axes[0])
        if len(axes) > 1:
            self._draw_efficiency(axes[1])
        if len(axes) > 2:
            self._draw_table(axes[2])

    def _draw_gpus(self, ax: Axes) -> None:
        order = (self.table.groupby("estimate")["target_flop_per_s"].first()
                 .sort_values(ascending=False))
        labels = self.table.groupby("estimate")["label"].first()
        for j, system in enumerate(REFERENCE_NODES):
            t = self.table[self.table["system"] == system.key].set_index("estimate")
            ys = np.arange(len(order)) + (j - 2) * 0.13
            ax.plot(t.loc[order.index, "n_gpus"], ys, "o", ms=2.6, color=PALETTE[j],
                    label=system.gpu.name.replace(" (Maxwell)", ""), mew=0)
        ax.set_yticks(range(len(order)), [SHORT_ESTIMATE.get(n, labels[n]) for n in order.index])
        ax.set_ylim(len(order) - 0.5, -0.6)
        log_ticks(ax, [1, 1e2, 1e4, 1e6, 1e8, 1e10], axis="x")
        ax.xaxis.set_major_formatter(_pow10)
        ax.set_xlabel("GPUs to match the estimate (at E(N))")
        ax.set_ylabel("estimate")
        ax.legend(loc="lower right", fontsize=5.2, ncols=1, handletextpad=0.2,
                  borderaxespad=0.2, labelspacing=0.2)

    def _draw_efficiency(self, ax: Axes) -> None:
        for j, system in enumerate(REFERENCE_NODES):
            e = self.efficiency[self.efficiency["system"] == system.key]
            ax.plot(e["n_gpus"], e["efficiency"], color=PALETTE[j], lw=0.9)
        log_ticks(ax, [1, 1e2, 1e4, 1e6, 1e8], axis="x")
        ax.xaxis.set_major_formatter(_pow10)
        ax.set_ylim(0, 1.05)
        ax.text(0.98, 0.04, "AlexNet, 128 images/GPU; colours as in A", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=5.2, color="0.3")
        ax.set_xlabel("GPUs N")
        ax.set_ylabel("parallel\nefficiency E(N)")

    def _draw_table(self, ax: Axes) -> None:
        t = self.table[self.table["estimate"] == "dettmers_2015"].set_index("system")
        rows = []
        for s in REFERENCE_NODES:
            r = t.loc[s.key]
            buy = r["purchase_usd"]
            rows.append([SHORT_GPU[s.key], f"{r['n_gpus'] / 1e6:.3g}",
                         f"{r['efficiency_at_n']:.2f}", f"{r['power_w'] / 1e9:.3g}",
                         f"{r['electricity_usd_per_year'] / 1e9:.3g}",
                         "n/a" if not np.isfinite(buy) else f"{buy / 1e9:.0f}"])
        ax.set_axis_off()
        table = ax.table(cellText=rows, colLabels=["GPU", "GPUs\n(million)", "E(N)", "GW",
                                                   "$bn/yr\npower", "$bn\nbuy"],
                         cellLoc="right", colLoc="right", bbox=[0.0, 0.0, 1.0, 0.84],
                         colWidths=[0.16, 0.2, 0.14, 0.14, 0.18, 0.18])
        table.auto_set_font_size(False)
        table.set_fontsize(5.8)
        for (r, c), cell in table.get_celld().items():
            if r == 0:
                cell.set_height(cell.get_height() * 1.8)
            cell.set_linewidth(0.3)
            cell.set_edgecolor("0.75")
            if c == 0:
                cell.set_text_props(ha="left")
        ax.text(0.0, 1.0, "Dettmers 2015 (1.075e21 FLOP/s)", fontsize=6.2,
                transform=ax.transAxes, va="top", ha="left")
        ax.set_xlabel("table: GPUs, power and cost to match Dettmers 2015")
        ax.set_ylabel("GPU")


def _pow10_format(x: float, _pos: int) -> str:
    return f"$10^{{{round(math.log10(x))}}}$" if x > 1 else "1"


def _pow10_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(_pow10_format)


_pow10 = _pow10_formatter()


def run(*, quick: bool = True, seed: int = 0) -> GpusToBrainResult:
    """Run the analysis (deterministic; ``quick`` only thins the E(N) curves drawn).

    Parameters
    ----------
    quick : bool
        Fewer device counts on the efficiency curves (the GPU counts are found by bisection
        either way).
    seed : int
        Unused (nothing is random); kept for the common interface.
    """
    price = ELECTRICITY_USD_PER_KWH_IMPLIED_BY_POST.value
    overhead = TIANHE2_FACILITY_OVERHEAD.value
    rows, eff_rows, plan_rows, headline = [], [], [], {}
    grid = np.unique(np.round(np.logspace(0, 9, 28 if quick else 91)).astype(int))
    for system in REFERENCE_NODES:
        g = system.gpu
        eff, plan = efficiency_function(system)
        plan_rows += [{"system": system.key, "layer": k, "parallelism": v}
                      for k, v in plan.items()]
        eff_rows += [{"system": system.key, "gpu": g.name, "n_gpus": int(n),
                      "efficiency": eff(int(n))} for n in grid]
        per_gpu = g.peak(system.dtype) * DEVICE_EFFICIENCY_MEGATRON_2021.value
        for name, params in ALL_ESTIMATES.items():
            target = estimate(params).flop_per_s
            if name == "dettmers_2015":
                target = params.published.flop_per_s  # the post's number, not the rebuild
            count = gpus_needed(target, flop_per_s_per_device=per_gpu,
                                parallel_efficiency=eff)
            power = count.n_devices * g.power_w.value * overhead
            purchase = (count.n_devices * g.launch_price_usd.value
                        if g.launch_price_usd is not None else math.nan)
            rows.append({
                "estimate": name, "label": params.label, "target_flop_per_s": target,
                "system": system.key, "gpu": g.name, "dtype": system.dtype,
                "peak_flop_per_s": g.peak(system.dtype), "flop_per_s_per_gpu": per_gpu,
                "n_gpus_at_peak": math.ceil(target / g.peak(system.dtype)),
                "n_gpus_alone": math.ceil(count.n_devices_at_full_efficiency),
                "n_gpus": count.n_devices, "efficiency_at_n": count.efficiency,
                "power_w": power,
                "electricity_usd_per_year": electricity_usd_per_year(power,
                                                                     usd_per_kwh=price),
                "purchase_usd": purchase,
                "purchase_usd_per_year": (annualized_usd_per_year(purchase,
                                                                  lifetime_y=LIFETIME_Y)
                                          if math.isfinite(purchase) else math.nan),
                "price_note": "" if g.launch_price_usd is None else g.launch_price_usd.note})
    table = pd.DataFrame(rows)
    for r in table.itertuples():
        if r.estimate == "dettmers_2015" or r.system == "h100":
            k = f"{r.estimate}_{r.system}"
            headline.setdefault(f"{r.estimate}_target_flop_per_s", r.target_flop_per_s)
            headline[f"{k}_gpus_count"] = r.n_gpus
            if r.estimate == "dettmers_2015":
                headline[f"{k}_parallel_efficiency"] = r.efficiency_at_n
                headline[f"{k}_power_mw"] = r.power_w / 1e6
                headline[f"{k}_electricity_usd_per_year"] = r.electricity_usd_per_year
                if math.isfinite(r.purchase_usd):  # no key for a GPU without a price
                    headline[f"{k}_purchase_usd"] = r.purchase_usd
                    headline[f"{k}_purchase_usd_per_year"] = r.purchase_usd_per_year
    tianhe_power = TIANHE2_POWER_W_POST.value
    headline.update({
        "electricity_usd_per_kwh_implied_by_post": price,
        "tianhe2_24mw_electricity_usd_per_year": electricity_usd_per_year(
            tianhe_power, usd_per_kwh=price),
        "tianhe2_24mw_electricity_usd_per_day": tianhe_power / 1e3 * 24 * price,
        "tianhe2_implied_price_check_usd_per_kwh": implied_usd_per_kwh(
            tianhe_power, TIANHE2_ELECTRICITY_USD_PER_YEAR.value),
        "facility_overhead_factor": overhead,
    })
    notes = [
        f"Per GPU: dense peak in the listed dtype × {DEVICE_EFFICIENCY_MEGATRON_2021.value} "
        f"({DEVICE_EFFICIENCY_MEGATRON_2021.note}; {DEVICE_EFFICIENCY_MEGATRON_2021.source}).",
        "E(N): weak-scaling efficiency of AlexNet-2012 training (128 images per GPU; "
        "parallelism per layer chosen by recommend_parallelism at 64 GPUs, model-parallel "
        "group = one node) on each reference system; links at "
        f"{LINK_EFFICIENCY:.1%} of nominal bandwidth (ASTRA-sim's best on HGX-H100, "
        "docs/references.md#anchors-accounting-2-5). It stands in for 'a deep-learning "
        "workload': the brain's own "
        "communication pattern is not modelled.",
        "Systems: " + "; ".join(f"{s.key}: {s.note}" for s in REFERENCE_NODES) + ".",
        f"Power: N × TDP × {overhead:.2f} (Tianhe-2's 24 MW in the post over its 17.8 MW on "
        f"HPL). Electricity at ${price:.4f}/kWh, the price at which 24 MW for "
        f"{HOURS_PER_YEAR:.0f} h costs the post's $23M [derived].",
        "Purchase: launch prices where published; P100/V100/A100 are DGX list prices / 8 "
        "(host included); H100 is an analyst's estimate of the price paid, not a list price; "
        f"none for K40, H200, B200. Per year: spread over {LIFETIME_Y:.0f} years "
        "(an assumption).",
        "Dettmers 2015 uses the published 1.075e21, the others their rebuilt central value.",
    ]
    return GpusToBrainResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"quick": quick, "batch_per_gpu": BATCH_PER_GPU,
                "device_efficiency": DEVICE_EFFICIENCY_MEGATRON_2021.value,
                "link_efficiency": LINK_EFFICIENCY, "lifetime_y": LIFETIME_Y,
                "systems": [s.key for s in REFERENCE_NODES]},
        table=table, efficiency=pd.DataFrame(eff_rows), plans=pd.DataFrame(plan_rows))


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=85)
