#!/usr/bin/env python3
"""What a Nernst E_Ca changes in the reduced L5 cell's f–I (issue 12, the cell's checks).

The reduced L5b cell (``neurocomp_models.neurons.l5_pyramidal``) holds E_Ca at its resting
Nernst value, while Hay et al. (2011)'s cells, in NEURON, recompute it from cai every step.
The ``l5-cell`` analysis finds the cell firing faster and adapting more than Hay's targets, and
a fixed E_Ca was a suspect: it overstates the Ca²⁺ influx (and so the SK current) once cai
has risen. This script measures the difference: Hay's three somatic steps (0.619, 0.793 and
1.507 nA for 2 s; Hay et al. 2011's fitting protocol), the cell with the fixed E_Ca and with
``calcium_outside_mM = 2`` (cao of Hay's cells), simulated by the PyTorch engine in float64
(equal to Brian2 on this cell with either convention: ``tests/test_engine_validation.py``):
rate, adaptation index (eFEL's ``adaptation_index2``) and the first inter-spike intervals.

    python benchmarks/l5_calcium_reversal.py

Writes ``benchmarks/results/l5_calcium_reversal.json``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
#: Hay et al. (2011)'s step amplitudes, nA (their f–I fitting protocol)
STEPS_NA = (0.619, 0.793, 1.507)
SETTLE_MS, STEP_MS, TAIL_MS = 200.0, 2000.0, 100.0


def _train(model, amp_nA: float) -> np.ndarray:
    from neurocomp.biophysics import CurrentClamp, Stages, inputs
    from neurocomp.engine import simulate

    total = SETTLE_MS + STEP_MS + TAIL_MS
    silent = {g.name: inputs.from_times([[]] * g.n_sources, duration_ms=total)
              for g in model.synapse_groups}
    clamp = CurrentClamp(index=0, amplitude_nA=amp_nA, start_ms=SETTLE_MS,
                         duration_ms=STEP_MS)
    rec = simulate(model, silent, duration_ms=total, dt_ms=0.025,
                   stages=Stages(release="deterministic"), clamps=[clamp], threads=1,
                   compile=True, record_dt_ms=1.0)
    out = np.asarray(rec.spikes_ms["output"])
    return out[(out >= SETTLE_MS) & (out < SETTLE_MS + STEP_MS)] - SETTLE_MS


def main() -> None:
    from neurocomp_models.neurons.l5_pyramidal import CA_OUTSIDE_MM, l5_pyramidal

    from neurocomp.biophysics import adaptation_index
    from neurocomp.provenance import RunClock

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "l5_calcium_reversal.json")
    args = ap.parse_args()
    clock = RunClock()
    base = l5_pyramidal()
    models = {"fixed E_Ca": replace(base, calcium_outside_mM=None),
              "Nernst E_Ca": replace(base, calcium_outside_mM=CA_OUTSIDE_MM)}
    rows = []
    for label, model in models.items():
        for amp in STEPS_NA:
            sp = _train(model, amp)
            isi = np.diff(sp)
            rows.append({"e_ca": label, "step_nA": amp, "spikes": int(sp.size),
                         "rate_hz": sp.size / (STEP_MS / 1e3),
                         "adaptation_index": adaptation_index(sp),
                         "first_isis_ms": isi[:4].tolist(), "last_isi_ms": float(isi[-1])
                         if isi.size else float("nan")})
            print(json.dumps({k: rows[-1][k] for k in ("e_ca", "step_nA", "rate_hz",
                                                       "adaptation_index")}), flush=True)
    by = {(r["e_ca"], r["step_nA"]): r for r in rows}
    summary = {f"{amp:g}_nA": {
        "rate_hz_fixed": by[("fixed E_Ca", amp)]["rate_hz"],
        "rate_hz_nernst": by[("Nernst E_Ca", amp)]["rate_hz"],
        "adaptation_index_fixed": by[("fixed E_Ca", amp)]["adaptation_index"],
        "adaptation_index_nernst": by[("Nernst E_Ca", amp)]["adaptation_index"]}
        for amp in STEPS_NA}
    out = {"benchmark": "l5_calcium_reversal",
           "command": "python benchmarks/l5_calcium_reversal.py",
           "protocol": f"{SETTLE_MS:g} ms settle, {STEP_MS:g} ms somatic step, spikes at the "
                       f"axon terminal, engine float64 dt 25 us",
           "summary": summary, "runs": rows, "provenance": clock.record()}
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
