"""passive-kernels: a passive dendrite *is* a convolution — and where linearity ends.

For a passive ball-and-stick neuron with current-based synapses the somatic voltage is an
exact sum of per-synapse convolutions. The kernels come three ways — from the linear
compartmental system (eigendecomposition, :mod:`neurocomp.mapping.kernels`), from Brian2
impulse responses, and learned by least squares from input/output data — and, placed in a
causal ``Conv1d``, predict the somatic voltage of held-out Poisson input. The same linear
model, and a fitted linear–nonlinear (LN) cascade, are then tried on conductance-based
synapses (shunting), active dendrites and NMDA receptors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from neurocomp_models.neurons.common import active_dendrite, passive

from neurocomp.analysis import Analysis
from neurocomp.biophysics import (
    AMPA,
    NeuronModel,
    NeuronPipeline,
    RecordSite,
    ReleaseParameters,
    Stages,
    SynapseGroup,
    ball_and_stick,
)
from neurocomp.biophysics import inputs as spike_inputs
from neurocomp.mapping import (
    KernelConv1d,
    bin_synaptic_input,
    exponential_basis,
    fit_kernels,
    impulse_response_kernels,
    passive_system,
    predict_voltage,
    synaptic_kernels,
    variance_explained,
)
from neurocomp.plotting import PALETTE
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "passive-kernels"
CLAIM = ("Analytic, impulse-response and learned kernels of a passive dendrite, and how much "
         "of the somatic voltage variance of held-out input they explain as a Conv1d, "
         "passive and with shunting, active dendrites, NMDA and an LN cascade.")
#: Largest kernel error (fraction of the peak) called agreement (issue 5: 1 %).
KERNEL_TOLERANCE_REL = 0.01
#: Smallest variance explained by the passive current-based Conv1d called "explains" (issue
#: 5: 99 %).
VE_PASSIVE_MIN = 0.99


def _pct(fraction: float) -> str:
    """A fraction in percent with enough decimals to tell it from 100 %: ``99.9997 %``."""
    gap = 100 * (1 - fraction)
    decimals = max(1, math.ceil(-math.log10(gap))) if 0 < gap < 1 else 1
    return f"{100 * fraction:.{decimals}f} %"


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`.

    Returns
    -------
    str
        One sentence; where the run contradicts the expected shape (kernels that disagree,
        a passive Conv1d below :data:`VE_PASSIVE_MIN`, a condition that does not lower the
        variance explained, an LN cascade that recovers nothing) it says so.
    """
    impulse = headline["max_kernel_error_impulse_vs_analytic_rel_peak"]
    learned = headline["max_kernel_error_learned_vs_analytic_rel_peak"]
    median = headline["median_kernel_error_learned_vs_analytic_rel_peak"]
    pair = ("Analytic and impulse-response kernels of a passive dendrite agree to "
            f"{_pct(impulse)} of their peak" if impulse < KERNEL_TOLERANCE_REL else
            "Analytic and impulse-response kernels of a passive dendrite differ by up to "
            f"{_pct(impulse)} of their peak")
    fit = (f"learned kernels to {_pct(learned)}" if learned < KERNEL_TOLERANCE_REL else
           f"learned kernels only to {_pct(learned)} (median {_pct(median)})")
    ve = headline["variance_explained_current_based_passive"]
    conv = (f"as a Conv1d the analytic kernels explain {_pct(ve)} of the somatic voltage "
            f"variance of held-out input" if ve >= VE_PASSIVE_MIN else
            f"as a Conv1d the analytic kernels explain only {_pct(ve)} of the somatic voltage "
            f"variance of held-out input")
    learned_ve = headline["variance_explained_learned_kernels_current_based"]
    conv += f" (learned kernels: {_pct(learned_ve)})"
    others = {"shunting": "variance_explained_conductance_based_passive",
              "active dendrites": "variance_explained_conductance_based_active",
              "NMDA": "variance_explained_nmda_active"}
    items = [f"{k} ({_pct(headline[v])})" for k, v in others.items()]
    listed = f"{', '.join(items[:-1])} and {items[-1]}"
    not_lower = [k for k, v in others.items() if not headline[v] < ve]
    lower = (f"{listed} lower it" if not not_lower else
             f"of {listed}, {' and '.join(not_lower)} do not lower it")
    nmda, ln = headline["variance_explained_nmda_active"], headline[
        "variance_explained_ln_nmda_active"]
    cascade = (f"an LN cascade recovers part of the loss ({_pct(ln)} with NMDA)" if ln > nmda
               else f"an LN cascade recovers none of the loss ({_pct(ln)} with NMDA)")
    return f"{pair}, {fit}; {conv}; {lower}, and {cascade}."


DT_MS = 0.025         # simulation and binning step (resolves the HH gates of active dendrites)
KERNEL_MS = 200.0     # 10 τ_m of the 20 ms membrane
RM_OHM_CM2 = 20_000.0  # τ_m = 20 ms with C_m = 1 µF/cm²
AMPA_NS = 0.5         # conductance per vesicle; current-based weight = g (E_AMPA − E_rest)
N_SYN = 24
RATE_HZ = 5.0         # per synapse: ~5 mV mean depolarisation


def make_model(*, active: bool = False) -> NeuronModel:
    """Ball-and-stick without an axon; soma passive; dendrite passive or active."""
    morph = ball_and_stick(soma_diameter_um=20.0, dendrite_length_um=600.0,
                           dendrite_diameter_um=2.0, n_compartments=30)
    dend = active_dendrite(RM_OHM_CM2, 0.1) if active else passive(RM_OHM_CM2)
    weight_pA = AMPA_NS * (AMPA.reversal_mV - (-65.0))  # used when synapses are current-based
    return NeuronModel(
        name="ball_and_stick_passive", morphology=morph, Ri_ohm_cm=100.0,
        densities={"soma": passive(RM_OHM_CM2), "dendrite": dend},
        synapse_groups=(SynapseGroup(
            name="exc", regions=("dendrite", "soma"), n_synapses=N_SYN, n_sources=N_SYN,
            receptors={"ampa": AMPA_NS}, release=ReleaseParameters(U=1.0, tau_rec_ms=0.01),
            source=f"{AMPA_NS} nS per vesicle ({weight_pA:g} pA when current-based)"),),
        placement_seed=3, sources=("modelling choices stated in analyses/passive_kernels.py",))


def _simulate(model: NeuronModel, stages: Stages, trains, duration_ms: float, seed: int
              ) -> np.ndarray:
    from brian2 import ms

    rec = NeuronPipeline(model, stages=stages).run(
        trains, duration=duration_ms * ms, dt=DT_MS * ms, backend="cpp_standalone",
        seed=seed, record=[RecordSite(label="soma", index=0)])
    return rec.traces["v"][0]


def _ln_fit(lin_train: np.ndarray, v_train: np.ndarray, lin_test: np.ndarray) -> np.ndarray:
    """Static cubic nonlinearity on the linear prediction, fitted on the training half."""
    coef = np.polyfit(lin_train, v_train, 3)
    return np.polyval(coef, lin_test)


@dataclass(kw_only=True)
class PassiveKernelResult(Result):
    """Kernels three ways, the held-out prediction, and linearity per condition."""

    kernels: pd.DataFrame
    prediction: pd.DataFrame
    linearity: pd.DataFrame

    layout = (("kernels", "kernels"), ("trace", "trace"), ("ve", "ve"))
    row_height_in = 1.45

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"kernels": self.kernels, "prediction": self.prediction,
                             "linearity": self.linearity})

    def _draw(self, axes: Sequence[Axes]) -> None:
        ax = axes[0]
        for color, (dist, g) in zip(PALETTE, self.kernels.groupby("distance_um"),
                                    strict=False):
            ax.plot(g["t_ms"], g["analytic_mV"], color=color, lw=2.2, alpha=0.4)
            ax.plot(g["t_ms"], g["impulse_response_mV"], color=color, lw=0.8,
                    label=f"{dist:.0f} µm")
            ax.plot(g["t_ms"][::40], g["learned_mV"][::40], "o", color=color, ms=2,
                    mfc="none")
        ax.set(xlabel="time after release (ms)", ylabel="somatic ΔV (mV)", xlim=(0, 80))
        ax.set_title("kernels: analytic (thick), Brian2 (thin), learned (o)", loc="left",
                     fontsize=6.5)
        ax.legend(fontsize=5, title="synapse distance", title_fontsize=5, ncols=2)
        if len(axes) < 2:
            return
        ax = axes[1]
        p = self.prediction
        ax.plot(p["t_ms"], p["simulated_mV"], color="0.3", lw=1.6, label="Brian2")
        ax.plot(p["t_ms"], p["conv1d_mV"], color=PALETTE[1], lw=0.7, label="Conv1d")
        ax.set(xlabel="time (ms), held-out input", ylabel="somatic V (mV)")
        ax.legend(fontsize=5.5, loc="upper right", ncols=2)
        if len(axes) < 3:
            return
        ax = axes[2]
        lin = self.linearity
        x = np.arange(len(lin))
        ax.bar(x - 0.2, lin["ve_linear"], 0.4, color=PALETTE[0], label="linear kernels")
        ax.bar(x + 0.2, lin["ve_ln"], 0.4, color=PALETTE[2], label="LN cascade")
        ax.axhline(0.99, color="0.5", ls=":", lw=0.8)
        ax.set_xticks(x, [c.replace(", ", "\n") for c in lin["condition"]], fontsize=5.5)
        ax.set(ylabel="variance explained", xlabel="synapses and dendrites",
               ylim=(min(0.0, float(lin["ve_linear"].min())), 1.05))
        ax.legend(fontsize=5.5, loc="lower right", ncols=2, bbox_to_anchor=(1.0, 1.0),
                  borderaxespad=0.1)  # above the bars, which fill the panel


def run(*, quick: bool = True, seed: int = 0) -> PassiveKernelResult:
    """Quick: 4 s training + 4 s test input per condition; full: 20 s + 20 s."""
    rng = np.random.default_rng(seed)
    seconds = 4.0 if quick else 20.0
    model = make_model()
    comps = model.synapse_compartments()["exc"]
    table = model.morphology.compartment_table()
    taps = round(KERNEL_MS / DT_MS)
    t_k = np.arange(taps) * DT_MS
    system = passive_system(model.morphology, Ri_ohm_cm=model.Ri_ohm_cm,
                            gL_S_per_cm2=1.0 / RM_OHM_CM2, Cm_uF_per_cm2=1.0)
    weight_pA = AMPA_NS * (AMPA.reversal_mV - model.E_rest_mV)
    # kernels per distinct compartment, then per synapse
    uniq, inverse = np.unique(comps, return_inverse=True)
    analytic_u = synaptic_kernels(system, inputs=uniq, output=0, t_ms=t_k, receptor=AMPA,
                                  weight_pA=weight_pA)
    current_model = replace(model, synapse_groups=(replace(
        model.synapse_groups[0], receptors={"ampa": weight_pA}),))
    comps_ir, impulse_u = impulse_response_kernels(current_model, group="exc", t_ms=KERNEL_MS,
                                                   dt_ms=DT_MS)
    assert np.array_equal(comps_ir, uniq)
    kernel_error = float(np.max(np.abs(impulse_u - analytic_u).max(axis=1)
                                / analytic_u.max(axis=1)))
    analytic = analytic_u[inverse]

    duration = 2 * seconds * 1e3
    trains = spike_inputs.poisson(n_sources=N_SYN, rate_hz=RATE_HZ, duration_ms=duration,
                                  rng=rng).dedupe(DT_MS)
    counts = bin_synaptic_input(trains, synapse_sources=np.arange(N_SYN), dt_ms=DT_MS,
                                duration_ms=duration)
    half = counts.shape[1] // 2
    settle = taps  # skip one kernel length at the start of each half
    conditions = (("current, passive", current_model, Stages(synapses="current",
                                                            release="deterministic")),
                  ("conductance, passive", model, Stages(release="deterministic")),
                  ("conductance, active", make_model(active=True),
                   Stages(release="deterministic")),
                  ("+ NMDA, active", replace(make_model(active=True), synapse_groups=(replace(
                      model.synapse_groups[0], receptors={"ampa": AMPA_NS,
                                                          "nmda": AMPA_NS}),)),
                   Stages(release="deterministic")))
    rows, prediction, learned_u = [], None, None
    for label, m, stages in conditions:
        v = _simulate(m, stages, trains, duration, seed)
        lin = model.E_rest_mV + predict_voltage(counts, analytic)
        train, test = slice(settle, half), slice(half + settle, None)
        ve_lin = variance_explained(v[test], lin[test])
        ve_ln = variance_explained(v[test], _ln_fit(lin[train], v[train], lin[test]))
        rows.append({"condition": label, "ve_linear": ve_lin, "ve_ln": ve_ln,
                     "rmse_linear_mV": float(np.sqrt(np.mean((v[test] - lin[test]) ** 2)))})
        if label == "current, passive":
            conv = KernelConv1d(analytic, offset=model.E_rest_mV)
            with torch.no_grad():
                conv_pred = conv(torch.from_numpy(counts[None]))[0, 0].numpy()
            conv_vs_fft = float(np.abs(conv_pred - lin).max())
            learned_u, learned_pred = _learn_kernels(counts, inverse, len(uniq), v, train,
                                                     taps)
            ve_learned = variance_explained(v[test], learned_pred[test])
            window = slice(half + settle, half + settle + round(1000 / DT_MS))
            prediction = pd.DataFrame({"t_ms": np.arange(counts.shape[1])[window] * DT_MS,
                                       "simulated_mV": v[window], "conv1d_mV": conv_pred[window],
                                       "learned_mV": learned_pred[window]})
    linearity = pd.DataFrame(rows)
    show = [int(np.argmin(np.abs(table["distance_um"][uniq] - d))) for d in (0, 150, 300, 550)]
    kernels = pd.concat([pd.DataFrame({
        "distance_um": float(table["distance_um"][uniq[k]]), "t_ms": t_k,
        "analytic_mV": analytic_u[k], "impulse_response_mV": impulse_u[k],
        "learned_mV": learned_u[k]}) for k in dict.fromkeys(show)], ignore_index=True)
    learned_errors = np.abs(learned_u - analytic_u).max(axis=1) / analytic_u.max(axis=1)
    learned_error = float(learned_errors.max())
    ve = linearity.set_index("condition")
    headline = {
        "max_kernel_error_impulse_vs_analytic_rel_peak": kernel_error,
        "max_kernel_error_learned_vs_analytic_rel_peak": learned_error,
        "median_kernel_error_learned_vs_analytic_rel_peak": float(np.median(learned_errors)),
        "min_events_per_compartment_in_training": int(_per_compartment(
            counts, inverse, len(uniq))[:, settle:half].sum(axis=1).min()),
        "variance_explained_current_based_passive": float(ve.loc["current, passive",
                                                                 "ve_linear"]),
        "variance_explained_learned_kernels_current_based": ve_learned,
        "variance_explained_conductance_based_passive": float(ve.loc["conductance, passive",
                                                                     "ve_linear"]),
        "variance_explained_conductance_based_active": float(ve.loc["conductance, active",
                                                                    "ve_linear"]),
        "variance_explained_nmda_active": float(ve.loc["+ NMDA, active", "ve_linear"]),
        "variance_explained_ln_nmda_active": float(ve.loc["+ NMDA, active", "ve_ln"]),
        "max_abs_difference_conv1d_vs_fft_mV": conv_vs_fft,
        "membrane_time_constant_ms": system.membrane_time_constant_ms,
    }
    return PassiveKernelResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline,
        notes=[f"{N_SYN} synapses at {RATE_HZ:g} Hz Poisson each; {seconds:g} s training and "
               f"{seconds:g} s held-out test; dt = {DT_MS} ms; kernels {KERNEL_MS:g} ms.",
               "Learned kernels: least squares on 10 exponential basis functions per synapse "
               "compartment (AMPA current convolved with e^(-t/tau), tau 0.2-100 ms), fitted "
               "on the training half only, with the offset fixed at the resting potential.",
               "LN cascade: cubic polynomial of the linear prediction, fitted on training."],
        params={"seconds_per_half": seconds, "dt_ms": DT_MS, "n_synapses": N_SYN,
                "rate_hz": RATE_HZ, "ampa_nS": AMPA_NS, "Rm_ohm_cm2": RM_OHM_CM2},
        kernels=kernels, prediction=prediction, linearity=linearity,
    )


def _learn_kernels(counts: np.ndarray, inverse: np.ndarray, n_comp: int, v: np.ndarray,
                   train: slice, taps: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares kernels per compartment on an exponential basis (training half only).

    Basis: the AMPA current convolved with e^{-t/τ_b}, τ_b log-spaced from 0.2 to 100 ms —
    the form every passive kernel takes (a sum over membrane modes), nothing model-specific.
    """
    per_comp = _per_compartment(counts, inverse, n_comp)
    basis = exponential_basis(taps, dt_ms=DT_MS, taus_ms=np.geomspace(0.2, 100.0, 10),
                              tau_rise_ms=AMPA.tau_rise_ms, tau_decay_ms=AMPA.tau_decay_ms)
    kernels, offset = fit_kernels(per_comp[:, train], v[train], basis=basis, ridge=1e-6,
                                  offset_mV=-65.0)  # the resting potential is known
    return kernels, offset + predict_voltage(per_comp, kernels)


def _per_compartment(counts: np.ndarray, inverse: np.ndarray, n: int) -> np.ndarray:
    """Sum the event counts of synapses that share a compartment (they share a kernel)."""
    out = np.zeros((n, counts.shape[1]))
    np.add.at(out, inverse, counts)
    return out


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=50)
