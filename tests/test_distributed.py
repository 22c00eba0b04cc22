"""Resumable Dask sweeps: atomic chunks, a killed sweep recomputes only what is missing."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from neurocomp.distributed import Chunk, chunk_path, example_task, load_chunk, run_sweep

pytestmark = pytest.mark.distributed

CHUNKS = [Chunk(f"c{k:02d}", {"seed": k, "n": 1000, "sleep_s": 0.6}) for k in range(8)]

_SCRIPT = """
import sys
from neurocomp.distributed import Chunk, example_task, run_sweep
chunks = [Chunk(f"c{k:02d}", {"seed": k, "n": 1000, "sleep_s": 0.6}) for k in range(8)]
run_sweep(example_task, chunks, store=sys.argv[1], n_workers=2, progress=False)
"""


def test_killed_sweep_resumes_without_redoing_finished_chunks(tmp_path):
    store = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT, str(store)])
    deadline = time.time() + 120
    while time.time() < deadline and len(list(store.glob("c*.npz"))) < 2:
        time.sleep(0.05)
    proc.kill()  # SIGKILL part-way: workers die with it
    proc.wait()
    done_before = {p.name: p.stat().st_mtime_ns for p in store.glob("c*.npz")}
    assert 2 <= len(done_before) < len(CHUNKS), "the kill should land mid-sweep"
    report = run_sweep(example_task, CHUNKS, store=store, n_workers=2, progress=False)
    assert report.complete
    assert set(report.reused) == {n[:-4] for n in done_before}  # finished chunks kept...
    assert set(report.computed) == {c.key for c in CHUNKS} - set(report.reused)  # ...only
    for name, mtime in done_before.items():  # and not rewritten
        assert (store / name).stat().st_mtime_ns == mtime
    for c in CHUNKS:  # exactly the data a single uninterrupted run produces
        np.testing.assert_array_equal(load_chunk(store, c.key)["x"],
                                      example_task(**{**c.params, "sleep_s": 0.0})["x"])
    assert not list(store.glob(".*"))  # no temporary files left behind


def test_changed_parameters_are_recomputed_and_bad_input_rejected(tmp_path):
    first = run_sweep(example_task, [Chunk("a", {"seed": 1, "n": 5})], store=tmp_path,
                      n_workers=1, progress=False)
    assert first.computed == ("a",)
    again = run_sweep(example_task, [Chunk("a", {"seed": 1, "n": 5})], store=tmp_path,
                      n_workers=1, progress=False)
    assert again.reused == ("a",) and again.computed == ()  # nothing to do: no cluster
    changed = run_sweep(example_task, [Chunk("a", {"seed": 2, "n": 5})], store=tmp_path,
                        n_workers=1, progress=False)
    assert changed.computed == ("a",)
    np.testing.assert_array_equal(load_chunk(tmp_path, "a")["x"],
                                  np.random.default_rng(2).standard_normal(5))
    chunk_path(tmp_path, "bad").write_bytes(b"not a zip")  # a corrupt file is recomputed
    assert run_sweep(example_task, [Chunk("bad", {"seed": 0, "n": 2})], store=tmp_path,
                     n_workers=1, progress=False).computed == ("bad",)
    with pytest.raises(ValueError, match="chunk keys must be unique"):
        run_sweep(example_task, [Chunk("x"), Chunk("x")], store=tmp_path)
    with pytest.raises(ValueError, match="chunk key must be letters"):
        Chunk("a/b")
    with pytest.raises(ValueError, match="n_workers must be an integer >= 1"):
        run_sweep(example_task, [Chunk("y")], store=tmp_path, n_workers=0)
