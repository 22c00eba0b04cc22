"""torch-engine-validation: the PyTorch engine against Brian2, and what its gradients buy.

Issue 17 (item 4). Three parts, one panel or two each:

A. The engine (:mod:`neurocomp.engine`) and Brian2 (numpy target, same dt) run the same small
   active cell — an HH ball-and-stick with AMPA synapses on its dendrite, under Poisson input
   and a somatic current step — and their voltages are compared at three sites (mean |ΔV|).
B. Parameter fit: a target trace is simulated with the model's own parameters; a
   gradient-based fit (L-BFGS on log scales, :func:`neurocomp.engine.fit.fit_scales`, each
   evaluation one forward and one backward pass through the engine) starts from every
   fitted parameter perturbed by 20–40 % and fits them back. Quick mode fits five parameters
   of the small cell; full mode six of the reduced L5 cell under three protocols at once
   (:func:`neurocomp_models.neurons.l5_pyramidal.l5_pyramidal`). The regime is checked first:
   the target spikes, and scaling any one fitted parameter alone by 20 % changes the loss.
C. One graph that holds both: a Conv1d layer turns input channels into per-synapse release
   amounts that drive the compartmental cell; the pair is trained end to end so that the soma
   voltage follows the trace a teacher Conv1d (other weights) makes through the same cell.
D. The voltage integrators against theory: a sealed passive cable (20 compartments) under a
   current step, simulated by backward Euler and by Crank–Nicolson at several dt, against
   the exact solution of its compartmental equations (C dV/dt = −M V + I, solved by the
   eigendecomposition of M built here from the geometry, not by the engine): the largest
   error against dt, whose log-log slope is the integrator's order (1 and 2 expected), and
   the traces at the coarsest dt.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from neurocomp.analysis import Analysis
from neurocomp.biophysics import (
    ChannelDensities,
    CurrentClamp,
    Membrane,
    NeuronModel,
    NeuronPipeline,
    RecordSite,
    Stages,
    SynapseGroup,
    ball_and_stick,
    import_brian2,
    inputs,
    morphology,
)
from neurocomp.engine import (
    CompartmentalNeuron,
    ScaleFit,
    fit_scales,
    scaled_voltage,
    simulate,
)
from neurocomp.plotting import PALETTE
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "torch-engine-validation"
CLAIM = ("The PyTorch engine against Brian2 on an active cell, a gradient-descent fit of "
         "biophysical parameters to a voltage trace, and a convolution layer trained end to "
         "end through the compartmental cell.")
#: Largest relative error of a fitted parameter that counts as recovered (issue 17: 5 %).
FIT_TOLERANCE_REL = 0.05
#: Largest mean |ΔV| against Brian2 that counts as agreement (issue 17, Jaxley's bar), mV.
AGREEMENT_MV = 0.05
DT_MS = 0.025


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`.

    Returns
    -------
    str
        One sentence; a missed bar (agreement, a parameter outside tolerance, a training loss
        that does not fall) is said as missed.
    """
    dv = headline["brian2_mean_abs_dv_worst_site_mV"]
    agree = (f"The PyTorch engine follows Brian2 on a small active cell to {dv:.2g} mV mean "
             f"|ΔV| at its worst site" if dv <= AGREEMENT_MV else
             f"The PyTorch engine departs from Brian2 on a small active cell by {dv:.2g} mV "
             f"mean |ΔV| at its worst site")
    n, model = headline["fit_n_parameters"], headline["fit_model"]
    err, pert = headline["fit_max_abs_rel_error"], headline["fit_max_abs_start_perturbation"]
    worst = headline["fit_worst_parameter"]
    l0, l1 = headline["fit_loss_start_mV2"], headline["fit_loss_end_mV2"]
    fit = (f"a gradient-based fit (L-BFGS) recovers {n} biophysical parameters of the {model} "
           f"from a start up to {100 * pert:.0f} % off to within {100 * err:.2g} % each (loss "
           f"{l0:.3g} → {l1:.2g} mV²)" if err <= FIT_TOLERANCE_REL else
           f"a gradient-based fit (L-BFGS) fits {n} biophysical parameters of the {model} from "
           f"a start up to {100 * pert:.0f} % off only to within {100 * err:.2g} % ({worst} "
           f"worst; loss {l0:.3g} → {l1:.2g} mV²)")
    drop = headline["e2e_loss_drop_factor"]
    e2e = (f"a Conv1d layer feeding the cell trains end to end, its loss falling "
           f"{drop:.3g}×" if drop > 1 else
           "a Conv1d layer feeding the cell does not lower its loss when trained end to end")
    be, cn = headline.get("order_backward_euler"), headline.get("order_crank_nicolson")
    order = ""
    if be is not None and cn is not None:
        order = (f"; against the exact solution of a passive cable's compartments its "
                 f"backward Euler converges at order {be:.2f} in dt and its Crank–Nicolson at "
                 f"order {cn:.2f}")
    return f"{agree}; {fit}; and {e2e}{order}."


# -- the integrators against theory ------------------------------------------------------
#: The passive cable of part D: length, diameter, compartments, R_i, g_leak (sealed ends).
CABLE = {"length_um": 1000.0, "diameter_um": 2.0, "n": 20, "Ri_ohm_cm": 100.0,
         "g_leak_S_cm2": 1e-4, "cm_uF_cm2": 1.0}
STEP_NA = 0.05          # current injected into the first compartment from t = 0, nA
CONVERGENCE_MS = 20.0   # simulated time; errors from SKIP_MS on (the first samples are ~0)
SKIP_MS = 4.0
SAMPLE_MS = 0.4         # the sampling step (a multiple of every dt below)


def exact_cable_mV(t_ms: np.ndarray) -> np.ndarray:
    """The exact solution (n, len(t)) of the sealed cable's compartmental equations
    C dV/dt = −M V + I (V = 0 at t = 0, the step on from t = 0), by the eigendecomposition
    of the symmetric C⁻¹ᐟ² M C⁻¹ᐟ²; units nF, µS, nA, mV, ms."""
    c = CABLE
    n, dx_cm, d_cm = c["n"], c["length_um"] / c["n"] * 1e-4, c["diameter_um"] * 1e-4
    area = np.pi * d_cm * dx_cm                                    # cm²
    g_ax = np.pi * d_cm ** 2 / 4 / (c["Ri_ohm_cm"] * dx_cm) * 1e6  # µS
    m = np.diag(np.full(n, c["g_leak_S_cm2"] * area * 1e6))
    for k in range(n - 1):
        m[k, k] += g_ax
        m[k + 1, k + 1] += g_ax
        m[k, k + 1] = m[k + 1, k] = -g_ax
    cap = c["cm_uF_cm2"] * area * 1e3                               # nF, every compartment
    i = np.zeros(n)
    i[0] = STEP_NA
    lam, q = np.linalg.eigh(m / cap)                                # 1/ms
    steady = np.linalg.solve(m, i)                                  # mV
    decay = np.exp(-np.outer(lam, np.asarray(t_ms, dtype=np.float64)))
    return steady[:, None] - q @ (decay * (q.T @ steady)[:, None])


def integrator_convergence(dts_ms: Sequence[float] = (0.2, 0.1, 0.05, 0.025)
                           ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Largest error against :func:`exact_cable_mV` per integrator and dt, the traces at
    the coarsest dt, and each integrator's order (log-log slope of error against dt)."""
    c = CABLE
    morph = morphology.cable(length_um=c["length_um"], diameter_um=c["diameter_um"],
                             n_compartments=c["n"], region="dendrite")
    model = NeuronModel(name="convergence_cable", morphology=morph, Ri_ohm_cm=c["Ri_ohm_cm"],
                        E_rest_mV=0.0, densities={"dendrite": Membrane(
                            g_leak_S_cm2=c["g_leak_S_cm2"], E_leak_mV=0.0,
                            Cm_uF_cm2=c["cm_uF_cm2"])})
    clamp = CurrentClamp(index=0, amplitude_nA=STEP_NA, start_ms=0.0,
                         duration_ms=CONVERGENCE_MS)
    ends = [RecordSite(label="injected end", index=0),
            RecordSite(label="far end", index=c["n"] - 1)]
    t = np.arange(round(CONVERGENCE_MS / SAMPLE_MS)) * SAMPLE_MS
    exact = exact_cable_mV(t)[[0, c["n"] - 1]]
    keep = t >= SKIP_MS
    rows, traces, orders = [], [], {}
    for method in ("backward_euler", "crank_nicolson"):
        errs = []
        for dt in dts_ms:
            v = simulate(model, {}, duration_ms=CONVERGENCE_MS, dt_ms=dt, clamps=[clamp],
                         record=ends, record_dt_ms=SAMPLE_MS, method=method).traces["v"]
            errs.append(float(np.abs(v - exact)[:, keep].max()))
            rows.append({"method": method, "dt_ms": dt, "max_abs_error_mV": errs[-1]})
            if dt == max(dts_ms):
                traces += [{"method": method, "site": s.label, "t_ms": tt, "v_mV": vv,
                            "exact_mV": ee} for s, vs, es in zip(ends, v, exact, strict=True)
                           for tt, vv, ee in zip(t, vs, es, strict=True)]
        orders[method] = float(np.polyfit(np.log(dts_ms), np.log(errs), 1)[0])
    return pd.DataFrame(rows), pd.DataFrame(traces), orders


# -- the cells ----------------------------------------------------------------------------
def small_cell() -> NeuronModel:
    """An HH ball-and-stick (soma, four dendritic compartments) with AMPA synapses."""
    morph = ball_and_stick(soma_diameter_um=15, dendrite_length_um=200,
                           dendrite_diameter_um=1.5, n_compartments=4)
    # HH squid densities (120/36/0.3 mS/cm²), leak reversal set for rest at −65 mV
    active = ChannelDensities(gNa_mS_cm2=120.0, gK_mS_cm2=36.0,
                              gL_mS_cm2=0.3).as_membrane(E_rest_mV=-65.0)
    syn = SynapseGroup(name="exc", regions=("dendrite",), n_synapses=4, n_sources=4,
                       compartments=(1, 2, 3, 4), receptors={"ampa": 1.0})
    return NeuronModel(name="small_hh", morphology=morph, Ri_ohm_cm=100.0, E_rest_mV=-65.0,
                       densities={"soma": active, "dendrite": active}, synapse_groups=(syn,))


# -- A: against Brian2 --------------------------------------------------------------------
def against_brian2(*, duration_ms: float, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The small cell under Poisson input and a step, by Brian2 (numpy) and by the engine."""
    b2 = import_brian2()
    model = small_cell()
    stages = Stages(release="deterministic")
    trains = inputs.poisson(n_sources=4, rate_hz=150.0, duration_ms=duration_ms,
                            rng=np.random.default_rng(seed))
    sites = [RecordSite(label="soma", index=0), RecordSite(label="mid dendrite", index=2),
             RecordSite(label="tip", index=4)]
    clamps = [CurrentClamp(index=0, amplitude_nA=0.15, start_ms=2.0,
                           duration_ms=duration_ms - 4.0)]
    ref = NeuronPipeline(model, stages=stages).run(
        {"exc": trains}, duration=duration_ms * b2.ms, dt=DT_MS * b2.ms, backend="numpy",
        record=sites, clamps=clamps)
    got = simulate(model, {"exc": trains}, duration_ms=duration_ms, dt_ms=DT_MS,
                   stages=stages, record=sites, clamps=clamps, threads=1)
    dv = np.abs(ref.traces["v"] - got.traces["v"])
    frame = pd.concat([pd.DataFrame({"t_ms": ref.t_ms, "site": s.label,
                                     "brian2_mV": ref.traces["v"][k],
                                     "torch_mV": got.traces["v"][k], "abs_dv_mV": dv[k]})
                       for k, s in enumerate(sites)], ignore_index=True)
    out = {"brian2_mean_abs_dv_worst_site_mV": float(dv.mean(axis=1).max()),
           "brian2_max_abs_dv_mV": float(dv.max()),
           "brian2_n_sites": len(sites),
           "brian2_soma_spikes": _crossings(ref.traces["v"][0]),
           "torch_soma_spikes": _crossings(got.traces["v"][0])}
    return frame, out


def _crossings(v: np.ndarray, threshold_mV: float = 0.0) -> int:
    """Upward crossings of ``threshold_mV``."""
    return int(((v[1:] > threshold_mV) & (v[:-1] <= threshold_mV)).sum())


# -- B: the parameter fit -----------------------------------------------------------------
@dataclass(frozen=True)
class FitProblem:
    """A cell, its inputs and the parameters to fit."""

    model_label: str
    cell: CompartmentalNeuron
    names: tuple[str, ...]
    inputs: dict[str, torch.Tensor]
    i_ext: torch.Tensor
    spiking_names: tuple[str, ...] = ()
    """If given, a first stage fits the other parameters on the protocols whose target does
    not spike, these held at their start values; the second fits all on every protocol."""


def small_fit_problem(*, n_steps: int) -> FitProblem:
    """The small cell under two conditions: synaptic bursts on every synapse; sparse input
    on one synapse during a somatic current step."""
    cell = CompartmentalNeuron(small_cell(), dt_ms=DT_MS, record=(0, 4))
    drive = torch.zeros(2, n_steps, 4, dtype=torch.float64)
    drive[0, n_steps // 8:n_steps - n_steps // 8:60, :] = 1.0
    drive[1, n_steps // 4:3 * n_steps // 8:10, 2] = 1.0
    i_ext = torch.zeros(n_steps, 2, cell.spec.tree.n_nodes, dtype=torch.float64)
    i_ext[3 * n_steps // 20:3 * n_steps // 4, 1, int(cell.spec.tree.node_of_compartment[0])] = 0.1
    return FitProblem(model_label="small HH cell", cell=cell,
                      names=("gbar_hh_na", "gbar_hh_k", "g_leak_S_cm2", "cm_uF_cm2",
                             "w_exc_ampa"),
                      inputs={"exc": drive}, i_ext=i_ext)


def l5_fit_problem(*, n_steps: int) -> FitProblem:
    """The reduced L5 cell under three protocols at once (the batch): a depolarising
    somatic step (0.8 nA: spikes), a hyperpolarising one (−0.4 nA: input resistance, Ih)
    and a synaptic burst on a third of its excitatory inputs; recorded at the soma and on
    the apical trunk ~400 µm out (axial resistance, apical Ih)."""
    from neurocomp_models.neurons.l5_pyramidal import l5_pyramidal

    model = l5_pyramidal()
    table = model.morphology.compartment_table()
    apical = np.flatnonzero(np.asarray(table["region"]) == "apical")
    site = int(apical[np.argmin(np.abs(np.asarray(table["distance_um"])[apical] - 400.0))])
    cell = CompartmentalNeuron(model, dt_ms=DT_MS, record=(0, site))
    n_exc = model.synapse_groups[0].n_sources
    drive = torch.zeros(3, n_steps, n_exc, dtype=torch.float64)
    drive[2, n_steps // 5:n_steps - 100:80, : n_exc // 3] = 1.0
    i_ext = torch.zeros(n_steps, 3, cell.spec.tree.n_nodes, dtype=torch.float64)
    soma = int(cell.spec.tree.node_of_compartment[0])
    i_ext[n_steps // 6:, 0, soma] = 0.8
    i_ext[n_steps // 6:, 1, soma] = -0.4
    return FitProblem(model_label="reduced L5 cell", cell=cell,
                      names=("gbar_NaTa_t", "gbar_SKv3_1", "gbar_Ih", "g_leak_S_cm2",
                             "Ri_ohm_cm", "w_exc_ampa"),
                      inputs={"exc": drive, "inh": torch.zeros_like(drive)}, i_ext=i_ext,
                      spiking_names=("gbar_NaTa_t", "gbar_SKv3_1"))


def start_scales(n: int, *, seed: int, low: float = 0.2, high: float = 0.4) -> np.ndarray:
    """Scales 1 ± u, u uniform in [low, high], signs alternating from a random first."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(low, high, n)
    sign = np.where(np.arange(n) % 2 == rng.integers(2), 1.0, -1.0)
    return 1.0 + sign * u


def run_fit(problem: FitProblem, *, iterations: int,
            seed: int) -> tuple[ScaleFit, torch.Tensor, dict[str, float], dict[str, float]]:
    """Target with the true values, sensitivity of the loss to each, then the fit (in two
    stages if the problem names its spiking parameters); also ``first_stage_evaluations``
    (0 for one stage) and the loss over every protocol at the start and at the end."""
    p = problem
    n = len(p.names)
    with torch.no_grad():
        target = p.cell(p.inputs, i_ext=p.i_ext).v_mV

        def mse(scales: np.ndarray) -> float:  # loss over every protocol at these scales
            v = scaled_voltage(p.cell, p.names, torch.as_tensor(scales), p.inputs,
                               i_ext=p.i_ext)
            return float((v - target).pow(2).mean())

        sens = {name: mse(np.where(np.arange(n) == k, 1.2, 1.0))
                for k, name in enumerate(p.names)}
    start = start_scales(n, seed=seed)
    first, n_first = None, 0
    quiet = [b for b in range(target.shape[0]) if _spike_count(target[b:b + 1]) == 0]
    if p.spiking_names and quiet:
        sub = tuple(x for x in p.names if x not in p.spiking_names)
        idx = [p.names.index(x) for x in sub]
        rows = torch.as_tensor(quiet)
        first = fit_scales(p.cell, target.index_select(0, rows), sub,
                           start_scales=start[idx],
                           inputs={k: v.index_select(0, rows) for k, v in p.inputs.items()},
                           i_ext=p.i_ext.index_select(1, rows), iterations=iterations // 2,
                           lr=1.0, method="lbfgs",
                           fixed_scales={x: float(start[p.names.index(x)])
                                         for x in p.spiking_names})
        n_first = len(first.loss)
        begin = start.copy()
        begin[idx] = first.scales
    else:
        begin = start
    fit = fit_scales(p.cell, target, p.names, start_scales=begin, inputs=p.inputs,
                     i_ext=p.i_ext, iterations=iterations, lr=1.0, method="lbfgs")
    # the loss over every protocol at the start: the fit's first evaluation in one stage
    with torch.no_grad():
        loss0 = mse(start) if first is not None else float(fit.loss[0])
    losses = {"first_stage_evaluations": n_first, "loss_start_mV2": loss0,
              "loss_end_mV2": float(fit.loss.min())}
    if first is not None:
        hist = np.tile(start, (n_first, 1))
        hist[:, idx] = first.scale_history
        fit = replace(fit, start_scales=start, loss=np.concatenate([first.loss, fit.loss]),
                      scale_history=np.concatenate([hist, fit.scale_history]))
    return fit, target, sens, losses


# -- C: a Conv1d layer feeding the cell ---------------------------------------------------
class ConvDrive(nn.Module):
    """Input channels (B, C, T) → release amounts per synapse (B, T, n_sources) ≥ 0."""

    def __init__(self, n_in: int, n_sources: int, kernel: int, scale: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(n_in, n_sources, kernel, padding=kernel // 2, dtype=torch.float64)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.scale * nn.functional.softplus(self.conv(x))).transpose(1, 2)


def end_to_end(*, n_steps: int, iterations: int, seed: int) -> tuple[pd.DataFrame,
                                                                      dict[str, Any]]:
    """Train a student Conv1d through the cell to reproduce a teacher Conv1d's soma trace."""
    torch.manual_seed(seed)
    cell = CompartmentalNeuron(small_cell(), dt_ms=DT_MS, record=(0,))
    for p in cell.buffers():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(2, 3, n_steps, generator=gen, dtype=torch.float64) < 0.02).double()
    x = nn.functional.avg_pool1d(x, 9, stride=1, padding=4) * 9
    teacher, student = ConvDrive(3, 4, 21, 0.05), ConvDrive(3, 4, 21, 0.05)
    with torch.no_grad():
        teacher.conv.weight.mul_(4.0)
        teacher.conv.bias.fill_(0.5)
        target = cell({"exc": teacher(x)}).v_mV
    opt = torch.optim.Adam(student.parameters(), lr=0.02)
    losses, grad_norms = [], []
    for _ in range(iterations):
        opt.zero_grad()
        loss = (cell({"exc": student(x)}).v_mV - target).pow(2).mean()
        loss.backward()
        losses.append(float(loss.detach()))
        grad_norms.append(float(student.conv.weight.grad.norm()))
        opt.step()
    with torch.no_grad():
        final = cell({"exc": student(x)}).v_mV
    losses.append(float((final - target).pow(2).mean()))
    frame = pd.DataFrame({"iteration": np.arange(len(losses)), "loss_mV2": losses,
                          "conv_weight_grad_norm": [*grad_norms, np.nan]})
    out = {"e2e_loss_start_mV2": losses[0], "e2e_loss_end_mV2": losses[-1],
           "e2e_loss_drop_factor": losses[0] / losses[-1] if losses[-1] > 0 else np.inf,
           "e2e_conv_weight_grad_norm_first": grad_norms[0],
           "e2e_iterations": iterations,
           "e2e_target_spikes": _spike_count(target)}
    return frame, out


def _spike_count(v: torch.Tensor) -> int:
    """Upward crossings of 0 mV in the first recorded trace of every row."""
    s = v[:, 0]
    return int(((s[:, 1:] > 0) & (s[:, :-1] <= 0)).sum())


# -- the result ---------------------------------------------------------------------------
@dataclass(kw_only=True)
class TorchEngineValidationResult(Result):
    """Traces against Brian2, the fit's loss and scales, the end-to-end training loss."""

    traces: pd.DataFrame
    fit_loss: pd.DataFrame
    fit_scales_table: pd.DataFrame
    e2e: pd.DataFrame
    convergence: pd.DataFrame
    convergence_traces: pd.DataFrame

    layout = (3, 2)
    row_height_in = 2.0

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"brian2": self.traces, "fit_loss": self.fit_loss,
                             "fit_scales": self.fit_scales_table, "end_to_end": self.e2e,
                             "convergence": self.convergence,
                             "convergence_traces": self.convergence_traces})

    def _draw(self, axes: Sequence[Axes]) -> None:
        ax = axes[0]
        tr = self.traces
        for color, (site, g) in zip(PALETTE, tr.groupby("site", sort=False), strict=False):
            ax.plot(g["t_ms"], g["brian2_mV"], color=color, lw=2.2, alpha=0.35)
            ax.plot(g["t_ms"], g["torch_mV"], color=color, lw=0.7, ls="--", label=site)
        dv = self.headline["brian2_mean_abs_dv_worst_site_mV"]
        ax.set(xlabel="time (ms)", ylabel="V (mV)")
        ax.set_title(f"engine (--) vs Brian2\nmean |ΔV| ≤ {dv:.1e} mV", loc="left",
                     fontsize=6)
        ax.legend(fontsize=5, loc="center", bbox_to_anchor=(0.52, 0.5), frameon=False)
        if len(axes) < 2:
            return
        ax = axes[1]
        fl = self.fit_loss
        stages = fl["stage"] if "stage" in fl else pd.Series("all", index=fl.index)
        for color, stage in zip((PALETTE[4], PALETTE[0]), ("subthreshold", "all"), strict=True):
            g = fl[stages == stage]
            if len(g):
                label = ("stage 1: subthreshold protocols" if stage == "subthreshold"
                         else "all parameters, all protocols")
                ax.semilogy(g["iteration"], g["loss_mV2"], color=color, label=label)
        if (stages == "subthreshold").any():
            ax.legend(fontsize=5, frameon=False, loc="lower left")
        ax.set(xlabel="L-BFGS evaluation", ylabel="loss (mV²)")
        ax.set_title(f"fit, {self.headline['fit_model']}", loc="left", fontsize=6)
        if len(axes) < 3:
            return
        ax = axes[2]
        st = self.fit_scales_table
        xs = np.arange(len(st))
        ax.bar(xs - 0.2, st["start_over_true"], 0.4, color="0.75", label="start")
        ax.bar(xs + 0.2, st["fitted_over_true"], 0.4, color=PALETTE[1], label="fitted")
        ax.axhline(1.0, color="k", lw=0.6)
        ax.axhspan(1 - FIT_TOLERANCE_REL, 1 + FIT_TOLERANCE_REL, color=PALETTE[2], alpha=0.2,
                   lw=0, label="±5 %")
        ax.set_xticks(xs, [n.replace("gbar_", "ḡ ").replace("_S_cm2", "").replace(
            "_uF_cm2", "").replace("_ohm_cm", "") for n in st["parameter"]],
            rotation=60, ha="right", rotation_mode="anchor", fontsize=5)
        ax.set(xlabel="parameter", ylabel="value / true value", ylim=(0.5, 1.6))
        ax.set_title("recovered vs true", loc="left", fontsize=6)
        ax.legend(fontsize=5, ncol=3, loc="upper left", frameon=False, handlelength=1,
                  columnspacing=0.8)
        if len(axes) < 4:
            return
        ax = axes[3]
        e = self.e2e
        ax.semilogy(e["iteration"], e["loss_mV2"], color=PALETTE[3])
        ax.set(xlabel="training iteration", ylabel="loss (mV²)")
        ax.set_title(f"Conv1d → cell\nloss ÷{self.headline['e2e_loss_drop_factor']:.0f}",
                     loc="left", fontsize=6)
        if len(axes) > 4:
            self._draw_convergence(axes[4], axes[5] if len(axes) > 5 else None)

    def _draw_convergence(self, ax: Axes, ax_tr: Axes | None) -> None:
        from matplotlib.ticker import NullLocator

        labels = {"backward_euler": "backward Euler", "crank_nicolson": "Crank–Nicolson"}
        colors = {"backward_euler": PALETTE[0], "crank_nicolson": PALETTE[1]}
        for method, g in self.convergence.groupby("method", sort=False):
            order = self.headline[f"order_{method}"]
            ax.loglog(g["dt_ms"], g["max_abs_error_mV"], "o-", ms=3, color=colors[method],
                      label=f"{labels[method]} (slope {order:.2f})")
        dts = sorted(self.convergence["dt_ms"].unique())
        ax.set_xticks(dts, [f"{d:g}" for d in dts])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set(xlabel="dt (ms)", ylabel="largest |V − exact| (mV)")
        ax.set_title("passive cable vs exact solution", loc="left", fontsize=6)
        ax.legend(fontsize=5, frameon=False, loc="upper left", bbox_to_anchor=(0.0, 0.72))
        if ax_tr is None:
            return
        tr = self.convergence_traces
        near = tr[tr["site"] == "injected end"]
        for method, g in near.groupby("method", sort=False):
            ax_tr.plot(g["t_ms"], g["v_mV"] - g["exact_mV"], color=colors[method], lw=0.9,
                       label=labels[method])
        ax_tr.axhline(0.0, color="0.6", lw=0.5)
        dt = float(self.convergence["dt_ms"].max())
        ax_tr.set(xlabel="time (ms)", ylabel="V − exact, injected end (mV)")
        ax_tr.set_title(f"error at dt = {dt:g} ms", loc="left", fontsize=6)
        ax_tr.legend(fontsize=5, frameon=False, loc="upper right")


def run(*, quick: bool = True, seed: int = 0) -> TorchEngineValidationResult:
    """Run the three parts (``quick``: the small cell fitted; full: the L5 cell)."""
    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tensors of a few hundred nodes: one thread is fastest
    try:
        traces, agree = against_brian2(duration_ms=20.0 if quick else 60.0, seed=seed)
        if quick:
            problem, iterations = small_fit_problem(n_steps=480), 40
        else:
            problem, iterations = l5_fit_problem(n_steps=1200), 80
        fit, target, sens, losses = run_fit(problem, iterations=iterations, seed=seed)
        e2e, trained = end_to_end(n_steps=240 if quick else 800,
                                  iterations=15 if quick else 60, seed=seed)
        conv, conv_traces, orders = integrator_convergence()
    finally:
        torch.set_num_threads(threads)
    errors = fit.rel_errors()
    worst = max(errors, key=lambda k: abs(errors[k]))
    headline: dict[str, Any] = {
        **agree,
        "fit_model": problem.model_label,
        "fit_n_parameters": len(fit.names),
        "fit_evaluations": len(fit.loss),
        "fit_max_abs_rel_error": abs(errors[worst]),
        "fit_worst_parameter": worst,
        "fit_max_abs_start_perturbation": float(np.abs(fit.start_scales - 1).max()),
        "fit_loss_start_mV2": losses["loss_start_mV2"],
        "fit_loss_end_mV2": losses["loss_end_mV2"],
        "fit_first_stage_evaluations": losses["first_stage_evaluations"],
        "fit_target_spikes": _spike_count(target),
        "fit_min_loss_one_parameter_off_20pct_mV2": min(sens.values()),
        **{f"fit_rel_error_{k}": v for k, v in errors.items()},
        **trained,
        **{f"order_{m}": o for m, o in orders.items()},
        "convergence_finest_dt_ms": float(conv["dt_ms"].min()),
        **{f"error_{m}_finest_dt_mV": float(
            conv[(conv["method"] == m) & (conv["dt_ms"] == conv["dt_ms"].min())]
            ["max_abs_error_mV"].iloc[0]) for m in orders},
    }
    n_first = losses["first_stage_evaluations"]
    fit_loss = pd.DataFrame({"iteration": np.arange(len(fit.loss)), "loss_mV2": fit.loss,
                             "stage": np.where(np.arange(len(fit.loss)) < n_first,
                                               "subthreshold", "all")})
    scales = pd.DataFrame({"parameter": list(fit.names), "start_over_true": fit.start_scales,
                           "fitted_over_true": fit.scales,
                           "loss_one_parameter_off_20pct_mV2": [sens[n] for n in fit.names]})
    notes = [f"Fit: L-BFGS (strong-Wolfe line search, at most {iterations} loss-and-gradient "
             "evaluations, each a forward and a backward pass through the engine) on log "
             "scales of each parameter (one scalar per name, the spatial profile kept), loss "
             "the mean squared voltage error at the recorded sites; the reported values are at "
             f"the lowest loss, reached after {int(np.argmin(fit.loss)) + 1} evaluations.",
             "End to end: a teacher Conv1d (3 input channels → 4 synapses, 21 taps) drives "
             "the small cell; a student Conv1d of another initialisation learns through the "
             "cell to reproduce the teacher's soma trace.",
             "Against Brian2: numpy target, same dt (25 µs), deterministic release.",
             f"Integrators: the exact solution is of the same {CABLE['n']} compartments (so "
             "the error is the time step's alone); errors are the largest over both ends from "
             f"{SKIP_MS:g} ms on, sampled every {SAMPLE_MS:g} ms; the order is the slope of "
             "log error against log dt over the dt shown. Against NEURON 9 (tests, slow "
             "tier): backward Euler equals its secondorder = 0 and Crank–Nicolson its "
             "secondorder = 2 to round-off on a passive cable and the HH axon.",
             "The loss's sensitivity to each parameter alone (20 % off) is in the fit table: "
             f"smallest {min(sens.values()):.3g} mV² ({min(sens, key=sens.get)}), so every "
             "parameter leaves a mark on the trace; parameters that trade off against each "
             "other (scaling every conductance with the capacitance; a resting conductance "
             "against the leak) need protocols that separate them."]
    return TorchEngineValidationResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"quick": quick, "dt_ms": DT_MS, "fit_model": problem.model_label,
                "fit_evaluations_budget": iterations, "fit_method": "L-BFGS",
                "elapsed_s": round(time.perf_counter() - t0, 1)},
        traces=traces, fit_loss=fit_loss, fit_scales_table=scales, e2e=e2e,
        convergence=conv, convergence_traces=conv_traces)


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=45)
