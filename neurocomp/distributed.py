"""Sweeps on Dask: many independent simulations, resumable, each chunk written atomically.

A sweep is a function ``task(**params) -> dict[str, numpy.ndarray]`` and a list of
:class:`Chunk` s (a key and its parameters). :func:`run_sweep` runs the chunks that are not
yet in the store on a Dask cluster — a ``LocalCluster`` of single-threaded worker
processes by default, or the scheduler at ``scheduler`` (``"tcp://host:8786"``) for a real
cluster — and each worker writes its chunk to ``<store>/<key>.npz`` through a temporary
file and an atomic rename, with its parameters, their hash, its key and the task's name
inside. A sweep that is killed part-way and rerun therefore recomputes only the missing
chunks (or those whose parameters changed), and never sees a half-written file. A chunk
file that is nevertheless unusable — empty or truncated (a full disk, a copy cut short),
or holding another run's data — is reported once, deleted and recomputed.

Functions must be importable by the workers (defined at module level in an installed
package, e.g. ``neurocomp_analyses`` or ``neurocomp``), and each Brian2 simulation builds in its own
per-process directory (see :mod:`neurocomp.biophysics.build_cache`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Chunk", "SweepReport", "check_chunk_arrays", "chunk_path", "example_task",
           "load_chunk", "read_chunk_file", "run_batched_sweep", "run_sweep", "store_chunk"]

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
        if not isinstance(self.params, Mapping):
            raise TypeError(f"chunk {self.key!r}: params must be a mapping of JSON values; got "
                            f"{type(self.params).__name__}")
        try:
            json.dumps(dict(self.params))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"chunk {self.key!r}: params must hold JSON values (numbers, "
                            f"strings, lists, dicts); {exc}") from None

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
    discarded: Mapping[str, str] = field(default_factory=dict)
    """Chunk files found unusable (empty, truncated, another run's data), with the reason;
    they were deleted and recomputed."""

    @property
    def complete(self) -> bool:
        """True when every chunk is in the store."""
        return not self.failed


def chunk_path(store: str | Path, key: str) -> Path:
    """Where a chunk lives in a store."""
    return Path(store) / f"{key}.npz"


def _task_name(task: Callable[..., Any]) -> str:
    """``module.qualname`` of a task (of the wrapped function for a ``functools.partial``)."""
    while isinstance(task, functools.partial):
        task = task.func
    module = getattr(task, "__module__", None) or "?"
    name = getattr(task, "__qualname__", None) or type(task).__qualname__
    return f"{module}.{name}"


def read_chunk_file(path: str | Path, *, what: str = "chunk file") -> dict[str, np.ndarray]:
    """Every array of a chunk file, each read in full (zip CRCs checked).

    ``what`` names the file in error messages.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If the file is empty, truncated or otherwise unreadable (naming the file).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {path} is missing")
    try:  # our own handle: np.load leaks its file when the zip directory is unreadable
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except Exception as exc:  # zipfile, zlib, EOF, numpy format errors: the file is corrupt
        size = path.stat().st_size if path.exists() else 0
        problem = "empty" if size == 0 else f"unreadable ({type(exc).__name__}: {exc})"
        raise ValueError(f"{what} {path} is {problem}") from exc


def check_chunk_arrays(arrays: Mapping[str, np.ndarray], chunk: Chunk, *,
                       task: str | None = None) -> None:
    """Raise ValueError unless ``arrays`` (a chunk file's contents) are ``chunk``'s result.

    Checked: the stored parameters hash to the stored hash and equal the chunk's, the
    stored chunk key (``__key__``) is the chunk's, and the stored task (``__task__``) is
    ``task``. Files written before ``__key__``/``__task__`` existed lack them; their
    parameters still identify the chunk, so they are accepted on the parameters alone.
    """
    try:
        stored_hash = str(arrays["__params_hash__"])
        stored_params = str(arrays["__params__"])
    except KeyError as exc:
        raise ValueError(f"the file lacks {exc.args[0]} (not a chunk of run_sweep)") from None
    recomputed = hashlib.sha1(json.dumps(json.loads(stored_params), sort_keys=True)
                              .encode()).hexdigest()
    if recomputed != stored_hash:
        raise ValueError("its parameters do not match its own parameter hash (edited)")
    if stored_hash != chunk.params_hash:
        raise ValueError(f"it holds parameters {stored_params} (another run's or another "
                         f"chunk's data), not {json.dumps(dict(chunk.params), sort_keys=True)}")
    if "__key__" in arrays and str(arrays["__key__"]) != chunk.key:
        raise ValueError(f"it is chunk {str(arrays['__key__'])!r}, not {chunk.key!r}")
    if task is not None and "__task__" in arrays and str(arrays["__task__"]) != task:
        raise ValueError(f"it was computed by {arrays['__task__']!s}, not {task}")


def _is_done(store: Path, chunk: Chunk, *, task: str | None = None,
             validate: Callable[[Path, Chunk], None] | None = None) -> str | None:
    """Whether ``chunk`` is already in ``store``: ``"done"``, None (no file) or, for a file
    that cannot be used, the reason (the file is deleted)."""
    path = chunk_path(store, chunk.key)
    if not path.exists():
        return None
    try:
        if validate is not None:
            validate(path, chunk)
        else:
            check_chunk_arrays(read_chunk_file(path), chunk, task=task)
    except (OSError, ValueError) as exc:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return str(exc)
    return "done"


def load_chunk(store: str | Path, key: str) -> dict[str, np.ndarray]:
    """The arrays of one stored chunk (without the bookkeeping entries).

    Raises FileNotFoundError for a missing chunk and ValueError for an unreadable one.
    """
    arrays = read_chunk_file(chunk_path(store, key))
    return {k: v for k, v in arrays.items() if not k.startswith("__")}


def _run_and_store(task: Callable[..., Mapping[str, np.ndarray]], chunk: Chunk,
                   store: str) -> str:
    """Worker side: compute a chunk and write it atomically."""
    store_chunk(task(**dict(chunk.params)), chunk, store, task=_task_name(task))
    return chunk.key


def store_chunk(arrays: Mapping[str, np.ndarray], chunk: Chunk, store: str | Path, *,
                task: str) -> Path:
    """Write ``chunk``'s result atomically (temporary file, then rename) with its
    bookkeeping: parameters, their hash, the chunk's key and ``task`` (the computing
    function's ``module.qualname``). Returns the file's path."""
    out = dict(arrays)
    bad = [k for k in out if k.startswith("__")]
    if bad:
        raise ValueError(f"task outputs may not start with '__' (reserved): {bad}")
    out["__params_hash__"] = np.array(chunk.params_hash)
    out["__params__"] = np.array(json.dumps(dict(chunk.params), sort_keys=True))
    out["__key__"] = np.array(chunk.key)
    out["__task__"] = np.array(task)
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
    return target


def _import_modules(modules: Sequence[str]) -> list[str]:
    import importlib

    return [importlib.import_module(m).__name__ for m in modules]


def run_sweep(task: Callable[..., Mapping[str, np.ndarray]], chunks: Sequence[Chunk], *,
              store: str | Path, scheduler: str | None = None, n_workers: int = 2,
              progress: bool = True, client: Any = None,
              preload: Sequence[str] = (),
              validate: Callable[[Path, Chunk], None] | None = None) -> SweepReport:
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
    validate : callable, optional
        ``validate(path, chunk)`` raises ``ValueError`` (or ``OSError``) when an existing
        chunk file cannot be reused; default: every array must read back in full, and the
        file's parameters, key and task must be this chunk's (:func:`check_chunk_arrays`).

    An existing chunk file that fails the check (empty, truncated, another run's data) is
    reported once on stderr, deleted and recomputed, and listed in
    :attr:`SweepReport.discarded`.
    """
    store_path = _check_sweep(chunks, store, n_workers)
    return _sweep(task, chunks, store_path, validate, lambda todo: _compute(
        task, todo, store_path, scheduler=scheduler, n_workers=n_workers, progress=progress,
        client=client, preload=preload))


def run_batched_sweep(task: Callable[[list[Mapping[str, Any]]], list[Mapping[str, np.ndarray]]],
                      chunks: Sequence[Chunk], *, store: str | Path, batch_size: int,
                      progress: bool = True,
                      validate: Callable[[Path, Chunk], None] | None = None) -> SweepReport:
    """Run the missing chunks of a sweep in this process, ``batch_size`` at a time.

    For simulators that are fast per chunk only when many chunks run together (the PyTorch
    engine simulates a batch of cells in one pass), not on Dask workers. ``task(params)``
    takes the parameters of up to ``batch_size`` chunks and returns one result per chunk, in
    order; each is written as :func:`run_sweep`'s workers write theirs, so the two kinds of
    sweep read and resume each other's stores. Existing files are checked as by
    :func:`run_sweep`; a batch that raises marks its chunks failed and the sweep goes on.
    """
    store_path = _check_sweep(chunks, store, 1)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
    return _sweep(task, chunks, store_path, validate, lambda todo: _compute_batched(
        task, todo, store_path, batch_size=batch_size, progress=progress))


def _sweep(task: Callable[..., Any], chunks: Sequence[Chunk], store_path: Path,
           validate: Callable[[Path, Chunk], None] | None,
           compute: Callable[[list[Chunk]], tuple[list[str], dict[str, str]]]) -> SweepReport:
    """The part both sweeps share: find the chunks not yet stored, ``compute`` them, report."""
    start = time.perf_counter()
    todo, discarded = _pending(chunks, store_path, task=_task_name(task), validate=validate)
    computed, failed = compute(todo) if todo else ([], {})
    reused = tuple(c.key for c in chunks if c not in todo)
    return SweepReport(computed=tuple(computed), reused=reused, failed=failed,
                       wall_time_s=time.perf_counter() - start, store=store_path,
                       discarded=discarded)


def _compute_batched(task: Callable[[list[Mapping[str, Any]]], list[Mapping[str, np.ndarray]]],
                     todo: Sequence[Chunk], store_path: Path, *, batch_size: int,
                     progress: bool) -> tuple[list[str], dict[str, str]]:
    """Compute ``todo`` in this process, ``batch_size`` chunks per call of ``task``;
    returns the keys written and the failures, as :func:`_compute`."""
    from tqdm.auto import tqdm

    name = _task_name(task)
    computed: list[str] = []
    failed: dict[str, str] = {}
    bar = tqdm(total=len(todo), desc="sweep (batched)", disable=not progress, leave=False)
    for first in range(0, len(todo), batch_size):
        part = todo[first:first + batch_size]
        written: list[str] = []
        try:
            results = list(task([dict(c.params) for c in part]))
            if len(results) != len(part):
                raise ValueError(f"the task returned {len(results)} results for "
                                 f"{len(part)} chunks")
            for c, arrays in zip(part, results, strict=True):
                store_chunk(arrays, c, store_path, task=name)
                written.append(c.key)
        except Exception as exc:  # one failed batch must not lose the others
            failed |= {c.key: f"{type(exc).__name__}: {exc}" for c in part
                       if c.key not in written}
        computed += written
        bar.update(len(part))
    bar.close()
    return computed, failed


def _check_sweep(chunks: Sequence[Chunk], store: str | Path, n_workers: Any) -> Path:
    """Check a sweep's arguments before any work and create its store.

    Returns
    -------
    pathlib.Path
        The store directory (created with its parents if missing).

    Raises
    ------
    ValueError
        If chunk keys repeat, ``n_workers`` is not an integer ≥ 1, or the store is an
        existing file or cannot be created.
    """
    keys = [c.key for c in chunks]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"chunk keys must be unique; repeated: {dup}")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1; got {n_workers!r}")
    store_path = Path(store)
    if store_path.exists() and not store_path.is_dir():
        raise ValueError(f"store must be a directory; {str(store_path)!r} is an existing file")
    try:
        store_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"store {str(store_path)!r} cannot be created: {exc.strerror}") from None
    return store_path


def _pending(chunks: Sequence[Chunk], store_path: Path, *, task: str,
             validate: Callable[[Path, Chunk], None] | None
             ) -> tuple[list[Chunk], dict[str, str]]:
    """The chunks not yet in the store, and the unusable chunk files found (deleted).

    Parameters
    ----------
    chunks : sequence of Chunk
        The sweep.
    store_path : pathlib.Path
        The store directory.
    task : str
        The task's ``module.qualname`` (a stored chunk must name it).
    validate : callable or None
        The check of an existing chunk file (see :func:`run_sweep`).

    Returns
    -------
    todo : list of Chunk
        The chunks to compute, in sweep order.
    discarded : dict of str to str
        Chunk key to why its file could not be used (each reported once on stderr).
    """
    todo: list[Chunk] = []
    discarded: dict[str, str] = {}
    for c in chunks:
        state = _is_done(store_path, c, task=task, validate=validate)
        if state == "done":
            continue
        todo.append(c)
        if state is not None:
            discarded[c.key] = state
            print(f"neurocomp: discarding chunk {c.key!r} of {store_path} and recomputing "
                  f"it: {state}", file=sys.stderr, flush=True)
    return todo, discarded


def _compute(task: Callable[..., Mapping[str, np.ndarray]], todo: Sequence[Chunk],
             store_path: Path, *, scheduler: str | None, n_workers: int, progress: bool,
             client: Any, preload: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Compute ``todo`` on Dask, each chunk written to the store by its worker.

    Parameters are those of :func:`run_sweep`.

    Returns
    -------
    computed : list of str
        Keys of the chunks written, in the order they finished.
    failed : dict of str to str
        Key to error of the chunks that failed (one failure does not lose the others).
    """
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    computed: list[str] = []
    failed: dict[str, str] = {}
    with _dask_client(client, scheduler=scheduler, n_workers=n_workers) as client:
        if preload:
            client.run(_import_modules, list(preload))  # on each worker's event loop
        # a fresh Dask key per submission: a client kept across sweeps may still hold
        # the finished task of an earlier sweep under the same name, and would hand
        # back its result without writing this store's file
        token = os.urandom(4).hex()
        futures = {client.submit(_run_and_store, task, c, str(store_path),
                                 key=f"chunk-{c.key}-{c.params_hash[:8]}-{token}",
                                 pure=False): c.key
                   for c in todo}
        bar = tqdm(total=len(futures), desc="sweep", disable=not progress, leave=False)
        for fut in as_completed(futures):
            key = futures[fut]
            try:
                fut.result()
                if not chunk_path(store_path, key).exists():
                    raise FileNotFoundError(f"the worker reported chunk {key!r} done but "
                                            f"{chunk_path(store_path, key)} does not exist "
                                            f"(is the store shared with the workers?)")
                computed.append(key)
            except Exception as exc:  # one failed chunk must not lose the others
                failed[key] = f"{type(exc).__name__}: {exc}"
            bar.update()
        bar.close()
    return computed, failed


@contextlib.contextmanager
def _dask_client(client: Any, *, scheduler: str | None, n_workers: int) -> Iterator[Any]:
    """The caller's Dask client, or one made (and closed at the end) for this sweep.

    Parameters
    ----------
    client : dask.distributed.Client or None
        The caller's client (left open), or None to make one.
    scheduler : str or None
        Address of a running scheduler; None starts a ``LocalCluster`` of ``n_workers``
        single-threaded processes (stopped at the end).
    n_workers : int
        Workers of that local cluster.
    """
    if client is not None:
        yield client
        return
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                               processes=True,
                               dashboard_address=":0")  # a free port: 8787 may be taken
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def example_task(*, seed: int, n: int, sleep_s: float = 0.0) -> dict[str, np.ndarray]:
    """A seeded stand-in for a simulation (for tests and examples): n normal samples."""
    if sleep_s:
        time.sleep(sleep_s)
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(n), "seed": np.array(seed)}
