"""One analysis run, in this process or a spawned worker: it never raises.

:func:`_run_one` runs an analysis, writes its files into a staging directory and returns an
:class:`_Outcome` (``ok``, ``failed`` or ``interrupted``). Ctrl-C is recorded while it is
raised (:func:`_watch_sigint`), so that an error caused by it — a compiler child killed by
the same signal — counts as the interruption, not as a failure. In a worker process
(``neurocomp run --jobs N``) every output line is prefixed with ``[name]``.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from neurocomp.analysis import Analysis
from neurocomp.results import Result


class _Sigint:
    """Set when SIGINT arrived during a run (see :func:`_watch_sigint`)."""

    seen = False


def _on_sigint(signum: int, frame: Any) -> None:
    """The SIGINT handler of a run: note the signal, then raise KeyboardInterrupt."""
    _Sigint.seen = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def _watch_sigint() -> Iterator[None]:
    """Record SIGINT while still raising KeyboardInterrupt, so that an error raised because
    of Ctrl-C (a compiler child killed by the same signal) counts as the interruption."""
    _Sigint.seen = False
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield  # someone else handles SIGINT: leave it alone
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_init(threads: int = 0) -> None:
    """Initializer of a worker process; ``threads`` (> 0) caps its math libraries' threads
    (torch's intra-op pool, OpenMP, BLAS), so ``jobs`` workers share the cores instead of
    each taking all of them."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    if threads > 0:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)
        torch = sys.modules.get("torch")  # read at import; set it if already imported
        if torch is not None:
            torch.set_num_threads(threads)
    _Sigint.seen = False
    signal.signal(signal.SIGINT, _on_sigint)


class _Prefixed(io.TextIOBase):
    """A text stream that starts every line with ``prefix``."""

    def __init__(self, stream: Any, prefix: str) -> None:
        self._stream, self._prefix, self._at_start = stream, prefix, True

    def write(self, text: str) -> int:
        out = []
        for piece in text.splitlines(keepends=True):
            if self._at_start:
                out.append(self._prefix)
            out.append(piece)
            self._at_start = piece.endswith(("\n", "\r"))
        self._stream.write("".join(out))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


@dataclass(frozen=True, kw_only=True)
class _Outcome:
    """How one analysis ended, and the files it wrote (names inside its stage)."""

    name: str
    status: str  # "ok", "failed" or "interrupted"
    wall_time_s: float
    files: tuple[str, ...] = ()
    error: str | None = None
    traceback: str | None = None


def _run_one(analysis: Analysis, *, quick: bool, seed: int, stage: str,
             prefix_output: bool = False) -> _Outcome:
    """Run one analysis and write its files into ``stage``; never raises."""
    name = analysis.name
    saved = sys.stdout, sys.stderr
    if prefix_output:
        sys.stdout, sys.stderr = _Prefixed(sys.stdout, f"[{name}] "), _Prefixed(
            sys.stderr, f"[{name}] ")
    start = time.perf_counter()
    try:
        result = analysis.run(quick=quick, seed=seed)
        if not isinstance(result, Result) or result.name != name:
            raise TypeError(f"analysis {name!r} must return a neurocomp Result named "
                            f"{name!r}; got {type(result).__name__} "
                            f"named {getattr(result, 'name', None)!r}")
        wall = time.perf_counter() - start
        result.wall_time_s = wall
        result.params = {**dict(result.params), "quick": quick}
        files = result.write_files(stage)
        return _Outcome(name=name, status="ok", wall_time_s=wall, files=tuple(files))
    except KeyboardInterrupt:
        return _Outcome(name=name, status="interrupted",
                        wall_time_s=time.perf_counter() - start)
    except Exception as exc:  # one failure must not stop the others
        wall = time.perf_counter() - start
        if _Sigint.seen:
            return _Outcome(name=name, status="interrupted", wall_time_s=wall)
        return _Outcome(name=name, status="failed", wall_time_s=wall,
                        error=f"{type(exc).__name__}: {exc}",
                        traceback="".join(traceback.format_exception(exc)))
    finally:
        if prefix_output:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = saved


def _failure(name: str, exc: BaseException) -> _Outcome:
    """The outcome of an analysis that could not run (not loadable, worker lost)."""
    return _Outcome(name=name, status="failed", wall_time_s=0.0,
                    error=f"{type(exc).__name__}: {exc}",
                    traceback="".join(traceback.format_exception(exc)))
