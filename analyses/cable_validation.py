"""cable-validation: the Brian2 neuron against cable theory and Huxley's axon.

Four checks, each against a closed form or a published number: the steady-state
attenuation along a sealed finite cable (cosh law, Rall; docs/references.md#anchors-neuro-3-1), the
length constant fitted to a long cable against λ = √(R_m d / 4 R_i), the input resistance,
a Rall 3/2-rule tree against its equivalent cylinder, and the conduction velocity of the
squid giant axon at 18.5 °C against Huxley's 18.8 m/s (Hodgkin & Huxley 1952; Huxley's
computation as reported on NEURON's squid-axon page, docs/references.md#anchors-neuro-3-2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.optimize

from neurocomp.analysis import Analysis
from neurocomp.biophysics import (
    CableParameters,
    electrotonic_distance,
    finite_cable_input_resistance_mohm,
    finite_cable_steady_state_mV,
    hh_axon_velocity,
    morphology,
    passive_steady_state,
    symmetric_tree,
)
from neurocomp.plotting import PALETTE
from neurocomp.results import Result, stack_frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAME = "cable-validation"
CLAIM = ("The Brian2 neuron against cable theory (attenuation, length constant, input "
         "resistance, Rall's equivalent cylinder) and Huxley's squid-axon conduction "
         "velocity.")
#: Largest relative error of a cable check that counts as reproducing cable theory (issue:
#: attenuation within 1 %).
CABLE_TOLERANCE_REL = 0.01
#: Largest relative error of the HH conduction velocity that counts as reproducing Huxley's
#: (issue: within 5 %).
VELOCITY_TOLERANCE_REL = 0.05
#: The cable checks: headline key of the relative error, and the check's name.
CABLE_CHECKS = (("max_rel_error_attenuation_finite_cable", "attenuation"),
                ("rel_error_length_constant", "length constant"),
                ("rel_error_input_resistance", "input resistance"),
                ("max_rel_error_rall_equivalent_cylinder", "Rall's equivalent cylinder"))


def claim_from(headline: Mapping[str, Any]) -> str:
    """The claim sentence, written from the run's headline numbers.

    Parameters
    ----------
    headline : mapping
        The headline of :func:`run`.

    Returns
    -------
    str
        One sentence; a cable check or the conduction velocity outside its tolerance is
        named as missed.
    """
    errors = {name: abs(headline[key]) for key, name in CABLE_CHECKS}
    worst = max(errors.values())
    missed = [name for name, e in errors.items() if not e < CABLE_TOLERANCE_REL]
    cable = (f"The Brian2 neuron reproduces cable theory ({', '.join(errors)}) to within "
             f"{100 * worst:.2g} % (the largest relative error)" if not missed else
             f"The Brian2 neuron misses cable theory in {', '.join(missed)} (relative error up "
             f"to {100 * worst:.2g} %)")
    v = headline["hh_conduction_velocity_m_per_s"]
    rel = headline["rel_error_hh_velocity_vs_huxley"]
    huxley = headline["huxley_1952_conduction_velocity_m_per_s"]
    axon = (f"and Huxley's squid-axon conduction velocity of {huxley:.1f} m/s to within "
            f"{100 * abs(rel):.1f} % ({v:.2f} m/s)" if abs(rel) < VELOCITY_TOLERANCE_REL else
            f"but its squid axon conducts at {v:.2f} m/s, {100 * abs(rel):.1f} % "
            f"{'above' if rel > 0 else 'below'} Huxley's {huxley:.1f} m/s")
    return f"{cable}, {axon}."


#: Brian2's finite-cable test parameters (docs/references.md#anchors-neuro-3-1): d = 1 µm,
#: L = 300 µm, R_m = 10 kΩ·cm², R_i = 150 Ω·cm, 20 pA.
FINITE = CableParameters(diameter_um=1.0, Rm_ohm_cm2=1e4, Ri_ohm_cm=150.0,
                         source="Brian2 test_finitecable (docs/references.md#anchors-neuro-3-1)")
HUXLEY_VELOCITY_M_PER_S = 18.8  # 476 µm axon at 18.5 °C (docs/references.md#anchors-neuro-3-2) [V]


def finite_cable(*, n: int) -> pd.DataFrame:
    """Simulated vs analytic steady state along the finite cable."""
    L = 300.0
    v = passive_steady_state(morphology.cable(length_um=L, diameter_um=1.0, n_compartments=n),
                             Rm_ohm_cm2=FINITE.Rm_ohm_cm2, Ri_ohm_cm=FINITE.Ri_ohm_cm,
                             inject_at=0, current_nA=0.02, duration_ms=150.0, dt_ms=0.1)
    x = (np.arange(n) + 0.5) * L / n
    ref = finite_cable_steady_state_mV(x, cable=FINITE, length_um=L, current_nA=0.02)
    return pd.DataFrame({"x_um": x, "simulated_mV": v, "analytic_mV": ref})


def length_constant(*, n: int) -> tuple[pd.DataFrame, float]:
    """A cable 6 λ long: fit λ of the cosh law V = A cosh((L − x)/λ) to the simulation."""
    lam = FINITE.length_constant_um
    L = 6 * lam
    v = passive_steady_state(morphology.cable(length_um=L, diameter_um=1.0, n_compartments=n),
                             Rm_ohm_cm2=FINITE.Rm_ohm_cm2, Ri_ohm_cm=FINITE.Ri_ohm_cm,
                             inject_at=0, current_nA=0.02, duration_ms=150.0, dt_ms=0.1)
    x = (np.arange(n) + 0.5) * L / n
    (_, lam_fit), _ = scipy.optimize.curve_fit(
        lambda xx, a, lm: a * np.cosh((L - xx) / lm), x, v, p0=(v[0], 0.8 * lam))
    return pd.DataFrame({"x_um": x, "simulated_mV": v}), float(lam_fit)


def rall_tree(*, n_per_section: int) -> pd.DataFrame:
    """A 3/2-rule tree vs its equivalent cylinder, against electrotonic distance."""
    Rm, Ri, d0 = FINITE.Rm_ohm_cm2, FINITE.Ri_ohm_cm, 2.0
    tree = symmetric_tree(levels=3, root_length_um=100.0, root_diameter_um=d0,
                          n_per_section=n_per_section)
    v = passive_steady_state(tree, Rm_ohm_cm2=Rm, Ri_ohm_cm=Ri, inject_at=0, current_nA=0.05,
                             duration_ms=150.0, dt_ms=0.1)
    table = tree.compartment_table()
    X = electrotonic_distance(tree, Rm_ohm_cm2=Rm, Ri_ohm_cm=Ri)
    root = CableParameters(diameter_um=d0, Rm_ohm_cm2=Rm, Ri_ohm_cm=Ri)
    ref = finite_cable_steady_state_mV(X * root.length_constant_um, cable=root,
                                       length_um=3 * 100.0, current_nA=0.05)
    return pd.DataFrame({"electrotonic_distance": X, "simulated_mV": v, "equivalent_mV": ref,
                         "section": table["section"]})


@dataclass(kw_only=True)
class CableValidationResult(Result):
    """Profiles and the HH axon's spike times."""

    finite: pd.DataFrame
    long_cable: pd.DataFrame
    fitted_lambda_um: float
    rall: pd.DataFrame
    axon: pd.DataFrame
    velocity_m_per_s: float

    layout = (2, 2)
    row_height_in = 1.8

    def to_frame(self) -> pd.DataFrame:
        return stack_frames({"finite_cable": self.finite, "long_cable": self.long_cable,
                             "rall_tree": self.rall, "hh_axon": self.axon})

    def _draw(self, axes: Sequence[Axes]) -> None:
        ax = axes[0]
        f = self.finite
        ax.plot(f["x_um"], f["analytic_mV"], color="0.6", lw=2.5, alpha=0.6, label="cosh law")
        ax.plot(f["x_um"][::8], f["simulated_mV"][::8], "o", color=PALETTE[0], mfc="none",
                label="Brian2")
        ax.set(xlabel="distance from injection (µm)", ylabel="ΔV (mV)")
        ax.set_title("finite cable, 20 pA", loc="left", fontsize=6.5)
        ax.legend(fontsize=5.5)
        if len(axes) < 2:
            return
        ax = axes[1]
        lc = self.long_cable
        lam = FINITE.length_constant_um
        ax.semilogy(lc["x_um"] / lam, lc["simulated_mV"], color=PALETTE[0], label="Brian2")
        L = 6 * lam
        x0 = lc["x_um"].iloc[0]
        ax.semilogy(lc["x_um"] / lam, lc["simulated_mV"].iloc[0]
                    * np.cosh((L - lc["x_um"]) / lam) / np.cosh((L - x0) / lam),
                    color="0.5", ls=":", label=f"cosh law, λ = {lam:.1f} µm")
        ax.set(xlabel="x / λ", ylabel="ΔV (mV)")
        ax.set_title(f"fit: λ = {self.fitted_lambda_um:.1f} µm", loc="left",
                     fontsize=6.5)
        ax.legend(fontsize=5.5, loc="lower left")  # the traces run from top left to right
        if len(axes) < 3:
            return
        ax = axes[2]
        r = self.rall
        ax.plot(r["electrotonic_distance"], r["equivalent_mV"], ".", color="0.6", ms=5,
                label="equivalent cylinder")
        ax.plot(r["electrotonic_distance"], r["simulated_mV"], ".", color=PALETTE[1], ms=1.5,
                label="3/2-rule tree")
        ax.set(xlabel="electrotonic distance X", ylabel="ΔV (mV)")
        ax.set_title("Rall equivalence", loc="left", fontsize=6.5)
        ax.legend(fontsize=5.5)
        if len(axes) < 4:
            return
        ax = axes[3]
        for color, (pos, g) in zip(PALETTE[2:], self.axon.groupby("position_um"),
                                   strict=False):
            ax.plot(g["t_ms"], g["v_mV"], color=color, label=f"{pos / 1e3:.0f} mm")
        ax.text(0.98, 0.62, "Huxley: 18.8 m/s", transform=ax.transAxes, ha="right",
                va="top", fontsize=5.5, color="0.3")  # under the legend, clear of the traces
        ax.set(xlabel="time (ms)", ylabel="V (mV)")
        ax.set_title(f"HH, 18.5 °C: {self.velocity_m_per_s:.2f} m/s",
                     loc="left", fontsize=6)
        ax.legend(fontsize=5.5)


def run(*, quick: bool = True, seed: int = 0) -> CableValidationResult:
    """Run the checks (``quick``: coarser grids; both use the numpy target)."""
    n = 100 if quick else 400
    fin = finite_cable(n=n)
    lc, lam_fit = length_constant(n=200 if quick else 800)
    rall = rall_tree(n_per_section=10 if quick else 40)
    axon = hh_axon_velocity(dx_um=100.0 if quick else 50.0,
                            dt_ms=0.005 if quick else 0.0025)
    axon_traces = pd.concat([pd.DataFrame({"t_ms": axon.t_ms, "position_um": pos,
                                           "v_mV": axon.v_mV[k]})
                             for k, pos in enumerate(axon.positions_um)], ignore_index=True)
    # V at the injection point: the first compartment's centre lies half a compartment away;
    # extrapolate linearly from the first two centres (error O(dx^2))
    v0 = 1.5 * fin["simulated_mV"].iloc[0] - 0.5 * fin["simulated_mV"].iloc[1]
    r_in_sim = v0 / 0.02
    r_in = finite_cable_input_resistance_mohm(cable=FINITE, length_um=300.0)
    headline = {
        "max_rel_error_attenuation_finite_cable": float(
            (fin["simulated_mV"] / fin["analytic_mV"] - 1).abs().max()),
        "rel_error_length_constant": lam_fit / FINITE.length_constant_um - 1,
        "length_constant_fitted_um": lam_fit,
        "rel_error_input_resistance": r_in_sim / r_in - 1,
        "input_resistance_simulated_mohm": r_in_sim,
        "max_rel_error_rall_equivalent_cylinder": float(
            (rall["simulated_mV"] / rall["equivalent_mV"] - 1).abs().max()),
        "hh_conduction_velocity_m_per_s": axon.velocity_m_per_s,
        "rel_error_hh_velocity_vs_huxley": axon.velocity_m_per_s / HUXLEY_VELOCITY_M_PER_S - 1,
        "huxley_1952_conduction_velocity_m_per_s": HUXLEY_VELOCITY_M_PER_S,
    }
    notes = ["Input resistance: V extrapolated from the first two compartment centres to "
             "the injection point, divided by the current.",
             "The finite-cable and length-constant checks use Brian2's test parameters "
             "(d = 1 µm, R_m = 10 kΩ·cm², R_i = 150 Ω·cm); the axon uses HH 1952 with "
             "R_i = 35.4 Ω·cm, d = 476 µm, Q10 = 3."]
    return CableValidationResult(
        name=NAME, claim=claim_from(headline), seed=seed, headline=headline, notes=notes,
        params={"finite_cable_compartments": n, "backend": "numpy",
                "hh_dx_um": 100.0 if quick else 50.0, "hh_dt_ms": 0.005 if quick else 0.0025},
        finite=fin, long_cable=lc, fitted_lambda_um=lam_fit, rall=rall,
        axon=axon_traces, velocity_m_per_s=axon.velocity_m_per_s,
    )


ANALYSIS = Analysis(name=NAME, claim=CLAIM, run=run, order=40)
