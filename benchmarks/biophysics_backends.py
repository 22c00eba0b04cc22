#!/usr/bin/env python3
"""Benchmark: 1 s of biological time of the reduced L5 cell on each Brian2 backend.

Every measurement runs in a fresh process (so compile caches and peak memory are its own):

* ``numpy``: ``--numpy-repeats`` runs (no compilation);
* ``cython``: one run with an empty cache (compile + run), then ``--repeats`` warm runs;
* ``cpp_standalone``: one build in an empty build directory (C++ compile + run), then
  ``--repeats`` runs of the cached project (binary run time as reported by Brian2).

Reported per backend: compile time (cold minus warm), run time (median), real-time factor
(run time / biological time), peak resident memory of the process. Cell: ``--cell
mammalian`` (default; ``neurocomp_models.neurons.l5_pyramidal``, Hay et al. 2011's channels) or
``squid`` (``neurocomp_models.neurons.l5_pyramidal_squid``, the cell of the results before the
port). Input: homogeneous Poisson at the mean rates of the cell's ``neuron-pipeline`` drive
(``neurocomp_models.l5_drive``), dt = 25 µs. The mammalian cell costs about three times the squid
one per simulated second: its numpy runs take the better part of an hour each.

    python benchmarks/biophysics_backends.py --repeats 3 --numpy-repeats 3
    python benchmarks/biophysics_backends.py --cell squid --repeats 3 --numpy-repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cell(name: str) -> tuple:
    """The model and its input drive for ``--cell``."""
    from neurocomp_models.l5_drive import L5_DRIVE, L5_SQUID_DRIVE
    from neurocomp_models.neurons import l5_pyramidal, l5_pyramidal_squid

    if name == "mammalian":
        return l5_pyramidal(), L5_DRIVE
    return l5_pyramidal_squid(), L5_SQUID_DRIVE


def child(backend: str, duration_ms: float, seed: int, cell_name: str) -> dict:
    import numpy as np
    from brian2 import ms, us

    from neurocomp.biophysics import NeuronPipeline, RecordSite
    from neurocomp.biophysics import inputs as spikes

    model, drive = cell(cell_name)
    rng = np.random.default_rng(seed)
    trains = {g.name: spikes.poisson(n_sources=g.n_sources, rate_hz=drive.rate_hz(g.name),
                                     duration_ms=duration_ms, rng=rng)
              for g in model.synapse_groups}
    start = time.perf_counter()
    rec = NeuronPipeline(model).run(trains, duration=duration_ms * ms, dt=25 * us,
                                    backend=backend, seed=seed,
                                    record=[RecordSite(label="soma", index=0)],
                                    record_dt=0.1 * ms)
    wall = time.perf_counter() - start
    return {"backend": backend, "model": model.name, "wall_s": wall, "timing": rec.timing,
            "output_spikes": rec.counts["output_spikes"],
            "compartments": rec.counts["compartments"], "synapses": rec.counts["synapses"],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def spawn(backend: str, duration_ms: float, seed: int, env: dict, cell_name: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", backend,
                          "--duration-ms", str(duration_ms), "--seed", str(seed),
                          "--cell", cell_name],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--numpy-repeats", type=int, default=3)
    parser.add_argument("--duration-ms", type=float, default=1000.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cell", choices=("mammalian", "squid"), default="mammalian")
    parser.add_argument("--backends", nargs="+",
                        default=["cpp_standalone", "cython", "numpy"])
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path,
                        default=HERE / "results" / "biophysics_backends.json")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.duration_ms, args.seed, args.cell)))
        return
    if args.repeats < 3:
        parser.error(f"--repeats must be at least 3; got {args.repeats}")
    bio_s = args.duration_ms / 1e3
    report: dict = {"benchmark": "biophysics_backends", "biological_s": bio_s,
                    "cell": args.cell,
                    "command": " ".join(["python", "benchmarks/biophysics_backends.py",
                                         *sys.argv[1:]]),
                    "backends": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for backend in args.backends:
            env = dict(os.environ)
            env["NEUROCOMP_BUILD_DIR"] = str(Path(scratch) / "cpp")
            env["NEUROCOMP_CYTHON_CACHE"] = str(Path(scratch) / "cython")
            runs, cold = [], None
            if backend != "numpy":
                cold = spawn(backend, args.duration_ms, args.seed, env, args.cell)
                print(f"{backend} cold: {cold['wall_s']:.1f} s wall", flush=True)
            n = args.numpy_repeats if backend == "numpy" else args.repeats
            for k in range(n):
                runs.append(spawn(backend, args.duration_ms, args.seed, env, args.cell))
                print(f"{backend} run {k + 1}/{n}: {runs[-1]['timing']}", flush=True)
            run_s = [r["timing"]["run_s"] for r in runs]
            entry = {
                "run_s_median": statistics.median(run_s), "run_s_all": run_s,
                "real_time_factor": statistics.median(run_s) / bio_s,
                "wall_s_median_warm": statistics.median(r["wall_s"] for r in runs),
                "peak_rss_mb_median": statistics.median(r["peak_rss_mb"] for r in runs),
                "model": runs[0]["model"], "output_spikes": runs[0]["output_spikes"],
                "compartments": runs[0]["compartments"], "synapses": runs[0]["synapses"],
            }
            if backend == "cpp_standalone":
                entry["compile_s_cold"] = cold["timing"]["compile_s"]
                entry["compile_s_warm_median"] = statistics.median(
                    r["timing"]["compile_s"] for r in runs)
            elif backend == "cython":
                entry["compile_s_cold"] = cold["wall_s"] - entry["wall_s_median_warm"]
            if cold:
                entry["cold_wall_s"] = cold["wall_s"]
                entry["cold_peak_rss_mb"] = cold["peak_rss_mb"]
            report["backends"][backend] = entry
    sys.path.insert(0, str(HERE.parent))
    from neurocomp.provenance import environment_info, git_info, package_versions

    report.update(machine=environment_info(), versions=package_versions(), git=git_info(),
                  date_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({b: {k: v for k, v in e.items() if not k.endswith("_all")}
                      for b, e in report["backends"].items()}, indent=2))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
