"""Throughput of the PyTorch engine on the L5 cell against Brian2 cpp_standalone (issue 17).

Measures, in one run, biological seconds simulated per wall second for the reduced L5 cell
(``models.neurons.l5_pyramidal``, deterministic release, Poisson input) with the engine at
batch 1, 16, 64, 256 in float32 and float64 (medians of ``--repeats``), compartment-steps per
second, Brian2 cpp_standalone's binary-only and end-to-end (code generation + compile + run)
throughput of the same model and input, and the peak resident memory of a checkpointed
backward pass at batch 16. ``os.getloadavg()`` is recorded before and after: the machine is
shared. Writes ``benchmarks/results/torch_engine.json``.

    .venv/bin/python benchmarks/torch_engine.py --duration-ms 10 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _inputs(model, duration_ms: float, seed: int):
    import numpy as np

    from neurocomp.biophysics import inputs as spikes

    rng = np.random.default_rng(seed)
    n = model.synapse_groups[0].n_sources
    return {"exc": spikes.poisson(n_sources=n, rate_hz=5.0, duration_ms=duration_ms, rng=rng),
            "inh": spikes.poisson(n_sources=n, rate_hz=2.0, duration_ms=duration_ms, rng=rng)}


def engine_rate(batch: int, dtype_name: str, duration_ms: float, repeats: int) -> dict:
    """Median wall time of ``batch`` cells for ``duration_ms`` (after one warm-up)."""
    import torch

    from models.neurons import l5_pyramidal
    from neurocomp.biophysics import Stages
    from neurocomp.engine import simulate

    model = l5_pyramidal()
    ins = _inputs(model, duration_ms, seed=1)
    batched = {k: [v] * batch for k, v in ins.items()}
    dtype = getattr(torch, dtype_name)
    kw = {"duration_ms": duration_ms, "dt_ms": 0.025, "stages": Stages(release="deterministic"),
          "dtype": dtype}
    warm = _inputs(model, 1.0, seed=2)
    simulate(model, {k: [v] * batch for k, v in warm.items()}, **(kw | {"duration_ms": 1.0}))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        simulate(model, batched, **kw)
        times.append(time.perf_counter() - t0)
    wall = statistics.median(times)
    n_comp = model.morphology.n_compartments
    steps = round(duration_ms / 0.025)
    return {"batch": batch, "dtype": dtype_name, "wall_s_median": wall, "wall_s": times,
            "bio_s_per_wall_s": batch * duration_ms / 1e3 / wall,
            "compartment_steps_per_s": batch * n_comp * steps / wall}


def brian2_rate(duration_ms: float) -> dict:
    """Brian2 cpp_standalone on the same cell and input: binary-only and end-to-end."""
    from brian2 import ms, us

    from models.neurons import l5_pyramidal
    from neurocomp.biophysics import NeuronPipeline, Stages

    model = l5_pyramidal()
    pipe = NeuronPipeline(model, stages=Stages(release="deterministic"))
    t0 = time.perf_counter()
    rec = pipe.run(_inputs(model, duration_ms, seed=1), duration=duration_ms * ms,
                   dt=25 * us, backend="cpp_standalone")
    wall = time.perf_counter() - t0
    run_s = rec.timing["run_s"]
    return {"duration_ms": duration_ms, "binary_s": run_s, "end_to_end_s": wall,
            "timing": rec.timing, "bio_s_per_wall_s_binary": duration_ms / 1e3 / run_s,
            "bio_s_per_wall_s_end_to_end": duration_ms / 1e3 / wall}


def backward_memory(duration_ms: float, batch: int) -> dict:
    """Peak RSS of forward + backward (checkpointed windows) in a fresh process."""
    code = f"""
import resource, sys, time, torch
sys.path.insert(0, {str(ROOT)!r})
from models.neurons import l5_pyramidal
from neurocomp.engine import CompartmentalNeuron
cell = CompartmentalNeuron(l5_pyramidal(), trainable=("gbar_NaTa_t", "Ri_ohm_cm",
                           "w_exc_ampa"), checkpoint=True, window=400, dtype=torch.float32)
steps = round({duration_ms} / 0.025)
drive = torch.zeros({batch}, steps, cell.spec.synapse_nodes["exc"].size)
drive[:, ::400, ::7] = 1.0
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
cell({{"exc": drive, "inh": torch.zeros_like(drive)}}).v_mV.mean().backward()
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t0)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    before, after, wall = int(out[0]), int(out[1]), float(out[2])
    return {"duration_ms": duration_ms, "batch": batch, "dtype": "float32",
            "checkpoint_window_steps": 400, "peak_rss_MiB": after / 1024,
            "rss_before_MiB": before / 1024, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-ms", type=float, default=10.0)
    ap.add_argument("--brian2-duration-ms", type=float, default=200.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64, 256])
    ap.add_argument("--backward-ms", type=float, default=10.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/torch_engine.json"))
    args = ap.parse_args()
    import torch

    result = {"command": " ".join([Path(sys.executable).name, *sys.argv]),
              "loadavg_before": os.getloadavg(), "torch_threads": torch.get_num_threads(),
              "cpu_count": os.cpu_count(), "engine": []}
    result["brian2_cpp_standalone"] = brian2_rate(args.brian2_duration_ms)
    for dtype in ("float32", "float64"):
        for b in args.batches:
            row = engine_rate(b, dtype, args.duration_ms, args.repeats)
            print(json.dumps(row), flush=True)
            result["engine"].append(row)
    result["backward_memory"] = backward_memory(args.backward_ms, 16)
    best = max(result["engine"], key=lambda r: r["bio_s_per_wall_s"])
    b2 = result["brian2_cpp_standalone"]
    result["best"] = {"batch": best["batch"], "dtype": best["dtype"],
                      "vs_brian2_end_to_end": best["bio_s_per_wall_s"]
                      / b2["bio_s_per_wall_s_end_to_end"],
                      "vs_brian2_binary": best["bio_s_per_wall_s"]
                      / b2["bio_s_per_wall_s_binary"]}
    result["loadavg_after"] = os.getloadavg()
    result["peak_rss_MiB_benchmark"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result["best"]))


if __name__ == "__main__":
    main()
