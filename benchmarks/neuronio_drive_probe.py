#!/usr/bin/env python3
"""Probe (issue 12): which input drive puts the L5 cell's basal branches in their NMDA regime?

NeuronIO-mini under Beniaguev et al.'s drive (``neurocomp_models.neuronio.CONDITIONS``)
fires in the 1–5 Hz band but its thin basal branches almost never make a plateau (the paper run's
regime table: ``benchmarks/results/surrogate_depth_paper.json``); the ``l5-cell`` analysis
measures why — a basal terminal needs tens of synchronous 0.4 nS synapses on 60 µm (its
threshold scan), far more than Beniaguev's density delivers within an NMDA decay time. This
script simulates short sequences of every condition of every named drive (``DRIVES``) and,
for the dense-basal drive, its neighbours in excitatory rate scale (how the scales were
chosen), and reports for each: the output rate per sequence after a burn-in, plateaus (≥ 20
ms above −40 mV, :func:`neurocomp.biophysics.detect_plateaus`) per site and second in the
basal and the apical terminal sites, and the fraction of time those sites spend above −40
mV.

Short float32 engine runs (the same inputs as a data set would draw, its seeds): a
regime probe, not a data set — the data sets' own manifests and the analysis's regime
table are the measurements of record.

    python benchmarks/neuronio_drive_probe.py

Writes ``benchmarks/results/neuronio_drive_probe.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def probe(cond, stats, *, n: int, sequence_ms: float, burn_in_ms: float, seed: int
          ) -> dict:
    """Output rate and plateau statistics of ``n`` sequences of ``cond`` with ``stats``."""
    from neurocomp.biophysics import detect_plateaus, plateau_rate_hz
    from neurocomp.mapping import GenerationSpec, draw_sequence_inputs

    channels = cond.channels()
    sim = cond.simulator("torch", batch_size=n, dtype="float32")
    spec = GenerationSpec(condition=cond.name, n_train=n, n_val=0, n_test=0,
                          sequence_ms=sequence_ms, burn_in_ms=burn_in_ms, seed=seed)
    drawn = [draw_sequence_inputs(stats, channels, spec, spec.sequence_seed("train", i))
             for i in range(n)]
    t0 = time.perf_counter()
    outs = sim.simulate_batch([x for x, _ in drawn], [s for _, s in drawn])
    wall = time.perf_counter() - t0
    keep = slice(spec.burn_in_bins, spec.total_bins)
    rates = [float(o["spikes"][keep].sum() / (sequence_ms / 1e3)) for o in outs]
    dend = np.concatenate([o["dend_mV"][:, keep] for o in outs], axis=1).astype(np.float64)
    regions = np.asarray(cond.site_regions())
    row = {"output_rate_hz": rates, "output_rate_hz_median": float(np.median(rates)),
           "output_rate_hz_mean": float(np.mean(rates)), "wall_s": wall}
    for region in dict.fromkeys(regions.tolist()):
        sel = regions == region
        events = detect_plateaus(dend[sel], bin_ms=spec.bin_ms)
        row[f"plateaus_per_site_s_{region}"] = plateau_rate_hz(
            events, n_sites=int(sel.sum()), seconds=n * sequence_ms / 1e3)
        row[f"time_above_minus40_mV_{region}"] = float((dend[sel] > -40.0).mean())
    return row


def main() -> None:
    from neurocomp_models.neuronio import DRIVES

    from neurocomp.provenance import RunClock

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sequences", type=int, default=8)
    ap.add_argument("--sequence-ms", type=float, default=3000.0)
    ap.add_argument("--burn-in-ms", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "neuronio_drive_probe.json")
    args = ap.parse_args()
    clock = RunClock()
    cases = []
    for drive, conditions in DRIVES.items():
        for name, cond in conditions.items():
            scales = [cond.stats.rate_scale_exc]
            if drive == "dense-basal":  # the neighbours the scale was chosen between
                step = 0.05 if name == "nmda" else 0.1
                scales = [round(cond.stats.rate_scale_exc + k * step, 4) for k in (-1, 0, 1)]
            for scale in scales:
                cases.append((drive, name, cond, scale))
    rows = []
    for drive, name, cond, scale in cases:
        stats = dataclasses.replace(cond.stats, rate_scale_exc=scale)
        row = {"drive": drive, "condition": name, "rate_scale_exc": scale,
               "chosen": scale == cond.stats.rate_scale_exc,
               "subtree_exc_hz_per_um": stats.subtree_exc_hz_per_um,
               "exc_hz_per_um": stats.exc_hz_per_um,
               **probe(cond, stats, n=args.sequences, sequence_ms=args.sequence_ms,
                       burn_in_ms=args.burn_in_ms, seed=args.seed)}
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "output_rate_hz"}), flush=True)
    payload = {"benchmark": "neuronio_drive_probe",
               "command": "python benchmarks/neuronio_drive_probe.py",
               "sequences": args.sequences, "sequence_ms": args.sequence_ms,
               "burn_in_ms": args.burn_in_ms, "seed": args.seed, "dtype": "float32",
               "rows": rows, "provenance": clock.record()}
    args.out.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
