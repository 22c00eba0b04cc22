"""What Brian2 is doing while nothing else shows it: a status line with elapsed seconds.

Code generation and compilation print nothing for up to a minute (a cold cpp_standalone
build of the L5 cell, a cold Cython cache); a progress bar would sit at 0 %. With
``progress=True`` the pipeline shows instead::

    [brian2] compiling cpp_standalone (cold build) … 23 s

On a terminal the line is rewritten in place about once a second, from a second on; in a
log (stderr not a TTY) one line is written every ~5 s, so logs are not flooded. When the step
ends the line says how long it took (only if it was shown). Brian2 silences file
descriptors 1 and 2 while ``make`` runs, so the line is written to a duplicate of stderr's
descriptor taken before; a stderr without a descriptor (a notebook, pytest's capsys) is
written to directly.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from typing import Any, TextIO

__all__ = ["StatusLine"]


class StatusLine:
    """A status line about a long step, updated from a background thread.

    Parameters
    ----------
    label : str
        What is happening, e.g. ``"[brian2] compiling cpp_standalone (cold build)"``.
    stream : text stream, optional
        Where to write (default ``sys.stderr`` at :meth:`start`).
    grace_s : float
        On a terminal, seconds before the line first appears (short steps show nothing), s.
    log_every_s : float
        Off a terminal, seconds between lines, s.

    Use as a context manager, or :meth:`start` and :meth:`stop` (idempotent; a report
    callback may stop it when the run's own progress takes over).
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, grace_s: float = 1.0,
                 log_every_s: float = 5.0) -> None:
        self.label = label
        self._stream = stream
        self._grace_s = grace_s
        self._log_every_s = log_every_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        self._tty = False
        self._shown = False
        self._t0 = 0.0
        self.lines: list[str] = []  # what was written, for tests and logs

    def start(self) -> StatusLine:
        """Start timing and showing the line."""
        stream = self._stream if self._stream is not None else sys.stderr
        self._stream = stream
        try:
            stream.flush()
            self._fd = os.dup(stream.fileno())
            self._tty = os.isatty(self._fd)
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            self._fd = None
            self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, name="neurocomp-status",
                                        daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        step = 1.0 if self._tty else self._log_every_s
        first = self._grace_s if self._tty else self._log_every_s
        if self._stop.wait(first):
            return
        while True:
            elapsed = time.perf_counter() - self._t0
            if self._tty:
                self._write(f"\r{self.label} … {elapsed:.0f} s\x1b[K", keep=False)
            else:
                self._write(f"{self.label} … {elapsed:.0f} s\n")
            if self._stop.wait(step):
                return

    def _write(self, text: str, *, keep: bool = True) -> None:
        with self._lock:
            if self._stop.is_set() and not keep:
                return
            self._shown = True
            self.lines.append(text.strip("\r\n").replace("\x1b[K", ""))
            with contextlib.suppress(OSError, ValueError):
                if self._fd is not None:
                    os.write(self._fd, text.encode("utf-8", "replace"))
                else:
                    assert self._stream is not None
                    self._stream.write(text)
                    self._stream.flush()

    def stop(self, *, failed: bool = False) -> float:
        """Stop the line; if it was shown, end it with the step's duration. Returns the
        elapsed time, s."""
        elapsed = time.perf_counter() - self._t0
        if self._thread is None:
            return elapsed
        with self._lock:
            self._stop.set()
        self._thread.join()
        self._thread = None
        if self._shown:
            end = "stopped after" if failed else "done in"
            self._write(f"{chr(13) if self._tty else ''}{self.label}: {end} {elapsed:.0f} s"
                        f"{chr(27) + '[K' if self._tty else ''}\n")
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        return elapsed

    def __enter__(self) -> StatusLine:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(failed=exc_type is not None)


@contextlib.contextmanager
def maybe_status(label: str, enabled: bool):
    """A :class:`StatusLine` for ``label`` if ``enabled``, else nothing (yields None)."""
    if not enabled:
        yield None
        return
    with StatusLine(label) as line:
        yield line
