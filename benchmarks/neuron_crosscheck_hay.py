#!/usr/bin/env python3
"""Cross-check: Hay et al. (2011)'s channels in Brian2 (neurocomp) against NEURON 9.

One isolated soma, 34 °C, fixed step dt = 0.025 ms, a current step; the same cell twice:

* **NEURON** (``neuron==9.0.2``, fixed step, ``secondorder = 0``) with NMODL files written
  from the published formulas of Hay et al. (2011), PLoS Comput Biol 7:e1002107, ModelDB
  139653 (``tests/reference/hay_mod/*.mod``), compiled with ``nrnivmodl`` in a temporary
  directory; the soma is a cylinder with L = diam = d (lateral area πd²);
* **Brian2** through :class:`~neurocomp.biophysics.pipeline.NeuronPipeline` with the channel
  units of ``neurocomp_models.channels`` (``cpp_standalone`` by default); the soma is a sphere of
  diameter d (area πd², the same).

The membrane is Hay's biophys3 soma (``L5PCbiophys3.hoc``: g_pas 3.38e-5 S/cm², e_pas −90
mV, NaTa_t 2.04, Nap_Et2 1.72e-3, K_Pst 2.23e-3, K_Tst 0.0812, SKv3_1 0.693, SK_E2 0.0441,
Ca_HVA 9.92e-4, Ca_LVAst 3.43e-3, Ih 2e-4 S/cm²; CaDynamics_E2 γ 5.01e-4, decay 460 ms)
plus Im at Hay's biophys3 *apical* density 6.75e-5 S/cm² (the soma has none), so that every
channel of the set is exercised. E_Na 50, E_K −85, E_h −45 mV. **E_Ca is fixed** at the
Nernst value for cao 2 mM, cai 1e-4 mM, 34 °C (``calcium_nernst_mV``, 131.06 mV): our Brian2
cell fixes E_Ca (exponential Euler needs each equation linear in its own state), so NEURON's
``ca_ion`` is set to a constant ``eca`` with ``ion_style`` (Hay's own cell recomputes it
from cai every step). Both engines start at v_init with every gate at steady state and cai
= 1e-4 mM.

What may differ (our derivation, following the engines' step orders): NEURON evaluates the
channel currents with states staggered by dt/2 and linearises them by a 1e-3 mV finite
difference; Brian2 updates the gates first and uses the exact symbolic slope. Started from
steady state the two voltage sequences coincide, so with the voltage-gated channels alone
the engines agree to round-off (the ``without_SK_E2`` case: ~1e-6 mV, ~1e-7 ms). The
calcium shell is updated in a different order: Brian2 integrates cai together with the
gates, from the previous step's gates and voltage, while NEURON integrates it after the
voltage solve from the Ca²⁺ current it has just evaluated. That O(dt) difference (cai 0.3 %
apart after the first spikes at dt 0.025 ms) reaches the voltage through SK_E2 and moves the
spikes that follow long, slow approaches to threshold; halving dt halves it, and both
engines extrapolate (Richardson, first order) to the same spike times.

Cases (``benchmarks/results/neuron_crosscheck_hay.json``): the full set at each ``--dts-ms``
(default 0.025, 0.0125, 0.00625 ms; the first is the headline) and the set without SK_E2 at
0.025 ms. For each: mean and max |ΔV| (whole trace and outside ±2 ms of any spike), spike
times of both engines and their largest difference, cai difference, areas, timings; plus
the extrapolated (dt → 0) spike times of each engine. ``tests/test_neuron_crosscheck.py``
(slow) runs the same functions.

    NEURON_MODULE_OPTIONS=-nogui .venv/bin/python benchmarks/neuron_crosscheck_hay.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
MOD_DIR = HERE.parent / "tests" / "reference" / "hay_mod"

#: Hay et al. (2011) L5PCbiophys3.hoc somatic densities, S/cm², plus Im at the biophys3
#: apical density (see the module docstring).
SOMA_DENSITIES_S_CM2 = {
    "NaTa_t": 2.04, "Nap_Et2": 1.72e-3, "K_Pst": 2.23e-3, "K_Tst": 0.0812,
    "SKv3_1": 0.693, "SK_E2": 0.0441, "Ca_HVA": 9.92e-4, "Ca_LVAst": 3.43e-3, "Ih": 2e-4,
    "Im": 6.75e-5,
}
G_PAS_S_CM2 = 3.38e-5   # Hay biophys3 soma g_pas
E_PAS_MV = -90.0        # Hay biophys3 e_pas
CA_GAMMA = 5.01e-4      # Hay biophys3 soma gamma_CaDynamics_E2
CA_DECAY_MS = 460.0     # Hay biophys3 soma decay_CaDynamics_E2
SPIKE_THRESHOLD_MV = -20.0


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """The simulated experiment (same for both engines)."""

    diameter_um: float = 18.0     # the reduced L5 cell's soma (area ≈ Beniaguev's soma)
    v_init_mV: float = -75.0
    temperature_C: float = 34.0   # Hay's kinetics assume 34 °C (qt)
    dt_ms: float = 0.025
    delay_ms: float = 50.0
    step_ms: float = 200.0
    amplitude_nA: float = 0.5
    after_ms: float = 50.0
    densities_S_cm2: dict[str, float] = field(default_factory=lambda: dict(
        SOMA_DENSITIES_S_CM2))

    @property
    def duration_ms(self) -> float:
        return self.delay_ms + self.step_ms + self.after_ms

    @property
    def area_um2(self) -> float:
        return math.pi * self.diameter_um**2


def calcium_reversal_mV(temperature_C: float) -> float:
    from neurocomp_models.channels import calcium_nernst_mV

    return calcium_nernst_mV(temperature_C=temperature_C)


# -- NEURON -----------------------------------------------------------------------------------

def compile_mechanisms(build_dir: Path) -> Path:
    """``nrnivmodl`` on ``tests/reference/hay_mod`` inside ``build_dir``; the library path."""
    nrnivmodl = Path(sys.executable).with_name("nrnivmodl")
    build_dir.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([str(nrnivmodl), str(MOD_DIR)], cwd=build_dir, capture_output=True,
                         text=True)
    lib = build_dir / "x86_64" / "libnrnmech.so"
    if out.returncode != 0 or not lib.exists():
        raise RuntimeError(f"nrnivmodl failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return lib


_LOADED: set[str] = set()


def simulate_neuron(protocol: Protocol, *, library: Path) -> dict[str, Any]:
    """Run the protocol in NEURON; v and cai every dt (t = 0, dt, …)."""
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
    from neuron import h

    if not _LOADED:  # a mechanism library can be loaded once per process
        h.nrn_load_dll(str(library))
        _LOADED.add(str(library))
    h.load_file("stdrun.hoc")
    p = protocol
    soma = h.Section(name="soma")
    soma.L = soma.diam = p.diameter_um
    soma.nseg, soma.cm, soma.Ra = 1, 1.0, 100.0
    soma.insert("pas")
    soma.g_pas, soma.e_pas = G_PAS_S_CM2, E_PAS_MV
    for name, g in p.densities_S_cm2.items():
        soma.insert(name)
        setattr(soma(0.5), f"g{name}bar_{name}", g)
    soma.insert("CaDynamics_E2")
    soma.gamma_CaDynamics_E2, soma.decay_CaDynamics_E2 = CA_GAMMA, CA_DECAY_MS
    soma.ena, soma.ek = 50.0, -85.0
    h.cai0_ca_ion, h.cao0_ca_ion = 1e-4, 2.0
    # cai a state initialised to cai0; eca a parameter never recomputed (einit = eadvance = 0)
    h.ion_style("ca_ion", 3, 1, 0, 0, 1, sec=soma)
    soma.eca = calcium_reversal_mV(p.temperature_C)
    h.celsius = p.temperature_C
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur, stim.amp = p.delay_ms, p.step_ms, p.amplitude_nA
    rec = {k: h.Vector().record(ref) for k, ref in
           (("v", soma(0.5)._ref_v), ("cai", soma(0.5)._ref_cai),
            ("eca", soma(0.5)._ref_eca))}
    h.cvode_active(0)
    h.secondorder = 0
    h.dt = p.dt_ms
    h.steps_per_ms = 1.0 / p.dt_ms
    h.tstop = p.duration_ms
    start = time.perf_counter()
    h.finitialize(p.v_init_mV)
    h.continuerun(p.duration_ms)
    wall = time.perf_counter() - start
    n = round(p.duration_ms / p.dt_ms)
    out = {k: np.asarray(vec)[:n] for k, vec in rec.items()}
    out.update(t_ms=np.arange(n) * p.dt_ms, area_um2=float(soma(0.5).area()), run_s=wall,
               ena_mV=float(soma.ena), ek_mV=float(soma.ek))
    del stim, soma
    return out


# -- Brian2 (neurocomp) -----------------------------------------------------------------------

def brian2_model(protocol: Protocol):
    """The same soma as a :class:`NeuronModel` of channel units."""
    from neurocomp_models.channels import HAY_CHANNELS

    from neurocomp.biophysics import (
        CalciumPool,
        ChannelDensity,
        Membrane,
        Morphology,
        NeuronModel,
        Section,
    )

    p = protocol
    soma = Section(name="soma", region="soma", parent=None, lengths_um=(p.diameter_um,),
                   diameters_um=(p.diameter_um,), is_soma=True)
    membrane = Membrane(
        Cm_uF_cm2=1.0, g_leak_S_cm2=G_PAS_S_CM2, E_leak_mV=E_PAS_MV,
        calcium=CalciumPool(gamma=CA_GAMMA, decay_ms=CA_DECAY_MS),
        channels=tuple(ChannelDensity(channel=HAY_CHANNELS[n], gbar=g)
                       for n, g in p.densities_S_cm2.items()))
    return NeuronModel(name="hay_soma_crosscheck", morphology=Morphology((soma,)),
                       densities={"soma": membrane}, Ri_ohm_cm=100.0,
                       E_rest_mV=p.v_init_mV, v_init_mV=p.v_init_mV,
                       temperature_C=p.temperature_C,
                       calcium_reversal_mV=calcium_reversal_mV(p.temperature_C))


def simulate_brian2(protocol: Protocol, *, backend: str = "cpp_standalone") -> dict[str, Any]:
    """Run the protocol through the pipeline; v and cai every dt (t = 0, dt, …)."""
    from brian2 import ms

    from neurocomp.biophysics import CurrentClamp, NeuronPipeline, RecordSite

    p = protocol
    model = brian2_model(p)
    clamp = CurrentClamp(index=0, amplitude_nA=p.amplitude_nA, start_ms=p.delay_ms,
                         duration_ms=p.step_ms)
    start = time.perf_counter()
    rec = NeuronPipeline(model).run({}, duration=p.duration_ms * ms, dt=p.dt_ms * ms,
                                    backend=backend, record=[RecordSite(label="soma", index=0)],
                                    variables=["cai"], clamps=(clamp,))
    wall = time.perf_counter() - start
    return {"t_ms": np.asarray(rec.t_ms), "v": np.asarray(rec.traces["v"][0]),
            "cai": np.asarray(rec.traces["cai"][0]),
            "area_um2": float(model.morphology.compartment_table()["area_um2"][0]),
            "wall_s": wall, "timing": dict(rec.timing)}


# -- comparison -------------------------------------------------------------------------------

def spike_times_ms(t_ms: np.ndarray, v_mV: np.ndarray) -> np.ndarray:
    """Upward crossings of −20 mV, linearly interpolated between samples."""
    from neurocomp.biophysics import detect_spikes

    return detect_spikes(t_ms, v_mV, SPIKE_THRESHOLD_MV)


def compare(nrn: dict[str, Any], b2: dict[str, Any], *, dt_ms: float) -> dict[str, Any]:
    """Voltage and spike-time differences between the two runs."""
    n = min(len(nrn["v"]), len(b2["v"]))
    if not np.allclose(nrn["t_ms"][:n], b2["t_ms"][:n], atol=1e-9):
        raise ValueError("the two engines sampled different times")
    t, dv = nrn["t_ms"][:n], np.abs(nrn["v"][:n] - b2["v"][:n])
    s_nrn, s_b2 = spike_times_ms(t, nrn["v"][:n]), spike_times_ms(t, b2["v"][:n])
    near = np.zeros(n, dtype=bool)
    for s in np.concatenate([s_nrn, s_b2]):
        near |= np.abs(t - s) <= 2.0
    same = s_nrn.size == s_b2.size
    dts = np.abs(s_nrn - s_b2) if same else np.array([np.inf])
    rel_ca = np.abs(nrn["cai"][:n] - b2["cai"][:n]) / nrn["cai"][:n]
    return {
        "mean_abs_dv_mV": float(dv.mean()), "max_abs_dv_mV": float(dv.max()),
        "mean_abs_dv_outside_spikes_mV": float(dv[~near].mean()),
        "max_abs_dv_outside_spikes_mV": float(dv[~near].max()),
        "spikes_neuron": int(s_nrn.size), "spikes_brian2": int(s_b2.size),
        "spike_times_neuron_ms": [round(float(x), 4) for x in s_nrn],
        "spike_times_brian2_ms": [round(float(x), 4) for x in s_b2],
        "max_abs_spike_dt_ms": float(dts.max()) if dts.size else 0.0,
        "max_abs_spike_dt_in_steps": float(dts.max() / dt_ms) if dts.size else 0.0,
        "max_rel_dcai": float(rel_ca.max()),
    }


def run_case(protocol: Protocol, *, library: Path, backend: str = "cpp_standalone"
             ) -> dict[str, Any]:
    """Run both engines on ``protocol`` and compare them."""
    p = protocol
    nrn = simulate_neuron(p, library=library)
    b2 = simulate_brian2(p, backend=backend)
    result = compare(nrn, b2, dt_ms=p.dt_ms)
    n_before = round(p.delay_ms / p.dt_ms)
    result["v_before_step_mV"] = {"neuron": float(nrn["v"][n_before - 1]),
                                  "brian2": float(b2["v"][n_before - 1])}
    return {
        "protocol": {**asdict(p), "duration_ms": p.duration_ms,
                     "calcium_reversal_mV": calcium_reversal_mV(p.temperature_C),
                     "E_Na_mV": nrn["ena_mV"], "E_K_mV": nrn["ek_mV"]},
        "area_um2": {"neuron_cylinder": nrn["area_um2"], "brian2_sphere": b2["area_um2"]},
        "eca_range_neuron_mV": [float(nrn["eca"].min()), float(nrn["eca"].max())],
        "comparison": result,
        "timing_s": {"neuron_run": nrn["run_s"], "brian2_total": b2["wall_s"],
                     "brian2": b2["timing"]},
        "brian2_backend": backend,
        "traces": {"t_ms": nrn["t_ms"], "v_neuron": nrn["v"], "v_brian2": b2["v"],
                   "cai_neuron": nrn["cai"], "cai_brian2": b2["cai"]},
    }


def without(channel: str, protocol: Protocol) -> Protocol:
    """``protocol`` with one channel removed."""
    return replace(protocol, densities_S_cm2={k: g for k, g in protocol.densities_S_cm2.items()
                                              if k != channel})


def extrapolated_spike_times(coarse: dict, fine: dict, engine: str) -> list[float] | None:
    """Richardson estimate 2·t(dt/2) − t(dt) of each spike time (first-order schemes)."""
    a = coarse["comparison"][f"spike_times_{engine}_ms"]
    b = fine["comparison"][f"spike_times_{engine}_ms"]
    if len(a) != len(b):
        return None
    return [round(2 * y - x, 4) for x, y in zip(a, b, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amplitude-nA", type=float, default=Protocol.amplitude_nA)
    parser.add_argument("--dts-ms", type=float, nargs="+", default=[0.025, 0.0125, 0.00625],
                        help="time steps of the full-set runs (the first is the headline)")
    parser.add_argument("--backend", default="cpp_standalone",
                        choices=("numpy", "cython", "cpp_standalone"))
    parser.add_argument("--out", type=Path,
                        default=HERE / "results" / "neuron_crosscheck_hay.json")
    args = parser.parse_args()
    from neurocomp.provenance import RunClock, package_versions

    clock = RunClock()
    base = Protocol(amplitude_nA=args.amplitude_nA, dt_ms=args.dts_ms[0])
    cases = {f"full_dt_{dt:g}ms": replace(base, dt_ms=dt) for dt in args.dts_ms}
    cases["without_SK_E2_dt_0.025ms"] = without("SK_E2", replace(base, dt_ms=0.025))
    with tempfile.TemporaryDirectory(prefix="hay-nrnivmodl-") as tmp:
        t0 = time.perf_counter()
        lib = compile_mechanisms(Path(tmp))
        compile_s = time.perf_counter() - t0
        results = {name: run_case(p, library=lib, backend=args.backend)
                   for name, p in cases.items()}
    for r in results.values():
        r.pop("traces")
    full = [results[f"full_dt_{dt:g}ms"] for dt in args.dts_ms]
    limits = {}
    if len(full) >= 2:
        limits = {e: extrapolated_spike_times(full[-2], full[-1], e)
                  for e in ("neuron", "brian2")}
    report = {"benchmark": "neuron_crosscheck_hay", "headline": f"full_dt_{args.dts_ms[0]:g}ms",
              "aim": {"mean_abs_dv_mV": 0.5, "max_abs_spike_dt_ms": 0.1},
              "cases": results,
              "spike_times_extrapolated_dt_to_0_ms": limits,
              "note": "residuals come from the O(dt) order of the calcium-shell update "
                      "(see the script's docstring): without SK_E2 the engines agree to "
                      "round-off; with it, differences halve with dt and both engines "
                      "extrapolate to the same spike times",
              "nrnivmodl_s": compile_s, **clock.record()}
    report["versions"] |= package_versions(("neuron",))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({n: {k: r["comparison"][k] for k in
                          ("mean_abs_dv_mV", "max_abs_spike_dt_ms", "spikes_neuron",
                           "spikes_brian2")} for n, r in results.items()}, indent=2))
    print(json.dumps(limits))


if __name__ == "__main__":
    main()
