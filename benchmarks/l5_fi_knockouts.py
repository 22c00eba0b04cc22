#!/usr/bin/env python3
"""Which channels shape the reduced L5 cell's fast onset and adaptation (issue 12's cell)?

The ``l5-cell`` analysis finds the reduced L5b cell firing faster and adapting more than Hay
et al. (2011)'s targets; ``neuron_crosscheck_l5.json`` rules out the fixed E_Ca as the cause
(and an implementation error: NEURON 9 fires the same). Here the cell takes Hay's two lower
somatic steps (0.619 and 0.793 nA for 2 s) with one set of channels removed at a time
(density 0 in the named regions; every other value the cell's), all rows in one engine pass
(float64, a parameter set per batch row): rate, adaptation index (eFEL's
``adaptation_index2``) and the first inter-spike intervals.

    python benchmarks/l5_fi_knockouts.py

Writes ``benchmarks/results/l5_fi_knockouts.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STEPS_NA = (0.619, 0.793)  # Hay et al. (2011)'s first two step amplitudes, nA
SETTLE_MS, STEP_MS = 200.0, 2000.0
#: row label → (channels removed, regions they are removed from)
KNOCKOUTS = {
    "the cell": ((), ()),
    "no Ca/SK in the AIS": (("Ca_HVA", "Ca_LVAst", "SK_E2"), ("ais",)),
    "no Nap in the AIS": (("Nap_Et2",), ("ais",)),
    "no SK in soma and AIS": (("SK_E2",), ("soma", "ais")),
    "no Ca_LVAst in soma and AIS": (("Ca_LVAst",), ("soma", "ais")),
    "no K_Pst in soma and AIS": (("K_Pst",), ("soma", "ais")),
}


def main() -> None:
    from neurocomp_models.neurons.l5_pyramidal import l5_pyramidal

    from neurocomp.biophysics import CurrentClamp, Stages, adaptation_index, inputs
    from neurocomp.engine import base_parameters, cell_spec, simulate
    from neurocomp.provenance import RunClock

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "l5_fi_knockouts.json")
    args = ap.parse_args()
    clock = RunClock()
    model, stages = l5_pyramidal(), Stages(release="deterministic")
    spec = cell_spec(model, stages)
    base = base_parameters(spec)
    regions = np.asarray(model.morphology.compartment_table()["region"])
    nodes_of = {c.channel.name: c.nodes for c in spec.channels}
    labels = list(KNOCKOUTS)
    rows_params = []
    for label in labels:
        names, where = KNOCKOUTS[label]
        gone = spec.tree.node_of_compartment[np.isin(regions, where)]
        row = {}
        for name in names:
            g = np.array(base[f"gbar_{name}"], dtype=float)
            g[np.isin(nodes_of[name], gone)] = 0.0
            row[f"gbar_{name}"] = g
        rows_params.append(row)
    keys = sorted({k for r in rows_params for k in r})
    params = {k: np.stack([r.get(k, np.asarray(base[k], dtype=float)) for r in rows_params])
              for k in keys}
    total = SETTLE_MS + STEP_MS
    silent = {g.name: inputs.from_times([[]] * g.n_sources, duration_ms=total)
              for g in model.synapse_groups}
    runs = []
    for amp in STEPS_NA:
        clamp = CurrentClamp(index=0, amplitude_nA=amp, start_ms=SETTLE_MS, duration_ms=STEP_MS)
        recs = simulate(model, silent, duration_ms=total, dt_ms=0.025, stages=stages,
                        clamps=[clamp], threads=1, compile=True, record_dt_ms=1.0,
                        params=params, batch=len(labels))
        for label, rec in zip(labels, recs, strict=True):
            sp = np.asarray(rec.spikes_ms["output"])
            sp = sp[sp >= SETTLE_MS] - SETTLE_MS
            runs.append({"step_nA": amp, "knockout": label,
                         "removed": list(KNOCKOUTS[label][0]),
                         "regions": list(KNOCKOUTS[label][1]), "spikes": int(sp.size),
                         "rate_hz": sp.size / (STEP_MS / 1e3),
                         "adaptation_index": adaptation_index(sp),
                         "first_isis_ms": np.diff(sp)[:5].tolist()})
            print(json.dumps({k: runs[-1][k] for k in ("step_nA", "knockout", "rate_hz",
                                                       "adaptation_index")}), flush=True)
    out = {"benchmark": "l5_fi_knockouts", "command": "python benchmarks/l5_fi_knockouts.py",
           "protocol": f"{SETTLE_MS:g} ms settle, {STEP_MS:g} ms somatic step; engine float64, "
                       f"dt 25 us, spikes at the axon terminal",
           "runs": runs, "provenance": clock.record()}
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
