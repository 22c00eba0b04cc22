"""Data stores that never trust a damaged or foreign file (issue 13, item 2).

The resumable sweep's chunk store (:mod:`neurocomp.distributed`) and the NeuronIO-mini
sequence files: an empty, truncated or corrupt file, or a valid file with another run's
data, is reported once, deleted and recomputed; files written before the chunk key and
task were stored (the shipped NeuronIO-mini data) still load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurocomp.distributed import (
    Chunk,
    check_chunk_arrays,
    chunk_path,
    example_task,
    load_chunk,
    read_chunk_file,
    run_sweep,
)

pytestmark = pytest.mark.distributed

SHIPPED = Path(__file__).resolve().parents[1] / "analyses" / "data" / "neuronio-mini"


def other_task(*, seed: int, n: int) -> dict[str, np.ndarray]:
    """Same parameters as example_task, different data (another sweep in the same store)."""
    return {"x": np.full(n, float(seed)), "seed": np.array(seed)}


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client

    # in-process workers: no cluster start-up per sweep
    c = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0")
    yield c
    c.close()


def _sweep(store, chunks, client, task=example_task):
    return run_sweep(task, chunks, store=store, client=client, progress=False)


def _expected(chunk):
    return example_task(**chunk.params)["x"]


@pytest.mark.parametrize("damage", ["empty", "truncated", "corrupt member", "garbage"])
def test_unreadable_chunks_are_reported_once_and_recomputed(tmp_path, client, capsys, damage):
    chunk = Chunk("a", {"seed": 3, "n": 2000})
    _sweep(tmp_path, [chunk], client)
    path = chunk_path(tmp_path, "a")
    blob = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "corrupt member":  # zip directory intact, data bytes flipped: CRC fails
        start = blob.index(b"\x93NUMPY") + 200
        path.write_bytes(blob[:start] + bytes(b ^ 0xFF for b in blob[start:start + 64])
                         + blob[start + 64:])
    else:
        path.write_bytes(b"not a zip at all")
    report = _sweep(tmp_path, [chunk], client)
    # the rerun does not abort: the bad file is recomputed
    assert report.complete and report.computed == ("a",)
    assert "a" in report.discarded  # and listed with its reason
    np.testing.assert_array_equal(load_chunk(tmp_path, "a")["x"], _expected(chunk))
    assert capsys.readouterr().err.count("discarding chunk 'a'") == 1  # reported once
    again = _sweep(tmp_path, [chunk], client)
    # repaired for good: reused, and nothing more to report
    assert again.reused == ("a",) and not again.discarded
    assert "discarding" not in capsys.readouterr().err


def test_valid_files_of_another_run_are_not_trusted(tmp_path, client, capsys):
    a, b = Chunk("a", {"seed": 1, "n": 5}), Chunk("b", {"seed": 2, "n": 5})
    twin = Chunk("twin", {"seed": 1, "n": 5})  # a's parameters under another key
    _sweep(tmp_path, [a, b], client)
    chunk_path(tmp_path, "b").write_bytes(chunk_path(tmp_path, "a").read_bytes())
    chunk_path(tmp_path, "twin").write_bytes(chunk_path(tmp_path, "a").read_bytes())
    report = _sweep(tmp_path, [a, b, twin], client)
    # another chunk's parameters, or the same ones stored under another key: recomputed
    assert sorted(report.discarded) == ["b", "twin"] and report.reused == ("a",)
    assert "another run's or another chunk's data" in report.discarded["b"]
    assert "it is chunk 'a', not 'twin'" in report.discarded["twin"]
    np.testing.assert_array_equal(load_chunk(tmp_path, "b")["x"], _expected(b))
    # the same parameters computed by another task: recomputed too
    report = _sweep(tmp_path, [a], client, task=other_task)
    assert "computed by neurocomp.distributed.example_task" in report.discarded["a"]
    np.testing.assert_array_equal(load_chunk(tmp_path, "a")["x"], np.ones(5))
    capsys.readouterr()


def test_files_without_key_or_task_still_load_but_edited_ones_do_not(tmp_path, client):
    a = Chunk("a", {"seed": 1, "n": 5})
    _sweep(tmp_path, [a], client)
    path = chunk_path(tmp_path, "a")
    arrays = read_chunk_file(path)
    legacy = {k: v for k, v in arrays.items() if k not in ("__key__", "__task__")}
    np.savez(path, **legacy)
    # files of the earlier format: their parameters identify them, so they are reused
    assert _sweep(tmp_path, [a], client).reused == ("a",)
    legacy["__params__"] = np.array(json.dumps({"seed": 9, "n": 5}))
    np.savez(path, **legacy)
    with pytest.raises(ValueError, match="do not match its own parameter hash"):
        check_chunk_arrays(read_chunk_file(path), a)  # edited parameters are caught
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"chunk file .*a\.npz is empty"):
        load_chunk(tmp_path, "a")  # a clear error, not an EOFError from numpy


def test_shipped_neuronio_files_pass_the_new_checks():
    files = sorted(SHIPPED.glob("*/*.npz"))
    assert len(files) == 12  # both conditions' quick subsets are checked
    for path in files:
        arrays = read_chunk_file(path)
        params = json.loads(str(arrays["__params__"]))
        split, index = path.stem.split("_")
        # each file names its data set, split, index and seed as the loader now requires
        assert params == {"dataset_key": path.parent.name, "split": split,
                          "index": int(index), "seed": int(arrays["seed"])}
        check_chunk_arrays(arrays, Chunk(path.stem, params))  # no key/task: still valid
