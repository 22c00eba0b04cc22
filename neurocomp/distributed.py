"""Sweeps on Dask: many independent simulations, resumable, each chunk written atomically.

A sweep is a function ``task(**params) -> dict[str, numpy.ndarray]`` and a list of
:class:`Chunk` s (a key and its parameters). :func:`run_sweep` runs the chunks that are not
yet in the store on a Dask cluster — a ``LocalCluster`` of single-threaded worker
processes by default, or the scheduler at ``scheduler`` (``"tcp://host:8786"``) for a real
cluster — and each worker writes its chunk to ``<store>/<key>.npz`` through a temporary
file and an atomic rename, with its parameters and their hash inside. A sweep that is
killed part-way and rerun therefore recomputes only the missing chunks (or those whose
parameters changed), and never sees a half-written file.

Functions must be importable by the workers (defined at module level in an installed
package, e.g. ``analyses`` or ``neurocomp``), and each Brian2 simulation builds in its own
per-process directory (see :mod:`neurocomp.biophysics.backend`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Chunk", "SweepReport", "chunk_path", "example_task", "load_chunk", "run_sweep"]

_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True)
class Chunk:
    """One unit of a sweep: a file-name-safe key and JSON-serialisable parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.key or not set(self.key) <= _KEY_CHARS:
            raise ValueError(f"chunk key must be letters, digits, '-', '_' or '.'; "
                             f"got {self.key!r}")
        json.dumps(dict(self.params))  # raises TypeError naming the bad value

    @property
    def params_hash(self) -> str:
        """SHA-1 of the parameters (sorted JSON): a changed parameter means a new chunk."""
        blob = json.dumps(dict(self.params), sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()


@dataclass(frozen=True, kw_only=True)
class SweepReport:
    """What a sweep did."""

    computed: tuple[str, ...]
    reused: tuple[str, ...]
    failed: Mapping[str, str]
    wall_time_s: float
    store: Path

    @property
    def complete(self) -> bool:
        """True when every chunk is in the store."""
        return not self.failed


def chunk_path(store: str | Path, key: str) -> Path:
    """Where a chunk lives in a store."""
    return Path(store) / f"{key}.npz"


def _is_done(store: Path, chunk: Chunk) -> bool:
    path = chunk_path(store, chunk.key)
    if not path.exists():
        return False
    try:  # our own handle: np.load leaks its file when the zip directory is unreadable
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            return str(data["__params_hash__"]) == chunk.params_hash
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False  # unreadable, truncated or foreign: recompute


def load_chunk(store: str | Path, key: str) -> dict[str, np.ndarray]:
    """The arrays of one stored chunk (without the bookkeeping entries)."""
    with np.load(chunk_path(store, key), allow_pickle=False) as data:
        return {k: data[k] for k in data.files if not k.startswith("__")}


def _run_and_store(task: Callable[..., Mapping[str, np.ndarray]], chunk: Chunk,
                   store: str) -> str:
    """Worker side: compute a chunk and write it atomically."""
    out = dict(task(**dict(chunk.params)))
    bad = [k for k in out if k.startswith("__")]
    if bad:
        raise ValueError(f"task outputs may not start with '__' (reserved): {bad}")
    out["__params_hash__"] = np.array(chunk.params_hash)
    out["__params__"] = np.array(json.dumps(dict(chunk.params), sort_keys=True))
    target = chunk_path(store, chunk.key)
    fd, tmp = tempfile.mkstemp(prefix=f".{chunk.key}.", suffix=".npz", dir=store)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **out)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return chunk.key


def _import_modules(modules: Sequence[str]) -> list[str]:
    import importlib

    return [importlib.import_module(m).__name__ for m in modules]


def run_sweep(task: Callable[..., Mapping[str, np.ndarray]], chunks: Sequence[Chunk], *,
              store: str | Path, scheduler: str | None = None, n_workers: int = 2,
              progress: bool = True, client: Any = None,
              preload: Sequence[str] = ()) -> SweepReport:
    """Run the missing chunks of a sweep on Dask and store them.

    Parameters
    ----------
    task : callable
        ``task(**chunk.params) -> dict of arrays``; importable by the workers.
    chunks : sequence of Chunk
        The sweep; keys must be unique.
    store : path
        Directory of ``<key>.npz`` files (created if missing).
    scheduler : str, optional
        Address of a running Dask scheduler; default: a ``LocalCluster`` of ``n_workers``
        single-threaded processes, started and stopped here.
    n_workers : int
        Workers of the local cluster (≥ 1).
    progress : bool
        Show a progress bar.
    client : dask.distributed.Client, optional
        Use this client instead of making one (the caller owns it).
    preload : sequence of str
        Modules to import on every worker's main thread before the tasks run. Brian2, for
        one, installs a signal handler on import, which fails in the worker threads that
        run Dask tasks: pass ``preload=("brian2",)``.
    """
    keys = [c.key for c in chunks]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"chunk keys must be unique; repeated: {dup}")
    if not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1; got {n_workers!r}")
    store_path = Path(store)
    store_path.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    todo = [c for c in chunks if not _is_done(store_path, c)]
    reused = tuple(c.key for c in chunks if c not in todo)
    computed: list[str] = []
    failed: dict[str, str] = {}
    if todo:
        from dask.distributed import Client, LocalCluster, as_completed
        from tqdm.auto import tqdm

        own = client is None
        cluster = None
        if own:
            if scheduler is not None:
                client = Client(scheduler)
            else:
                cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                       processes=True,
                                       dashboard_address=":0")  # a free port: 8787 may be taken
                client = Client(cluster)
        try:
            if preload:
                client.run(_import_modules, list(preload))  # on each worker's event loop
            futures = {client.submit(_run_and_store, task, c, str(store_path),
                                     key=f"chunk-{c.key}-{c.params_hash[:8]}", pure=False): c.key
                       for c in todo}
            bar = tqdm(total=len(futures), desc="sweep", disable=not progress, leave=False)
            for fut in as_completed(futures):
                key = futures[fut]
                try:
                    fut.result()
                    computed.append(key)
                except Exception as exc:  # one failed chunk must not lose the others
                    failed[key] = f"{type(exc).__name__}: {exc}"
                bar.update()
            bar.close()
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()
    return SweepReport(computed=tuple(computed), reused=reused, failed=failed,
                       wall_time_s=time.perf_counter() - start, store=store_path)


def example_task(*, seed: int, n: int, sleep_s: float = 0.0) -> dict[str, np.ndarray]:
    """A seeded stand-in for a simulation (for tests and examples): n normal samples."""
    if sleep_s:
        time.sleep(sleep_s)
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(n), "seed": np.array(seed)}
