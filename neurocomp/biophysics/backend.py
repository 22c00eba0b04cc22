"""Brian2 code-generation backends, chosen per run (the caches of compiled code: ``build_cache``).

``numpy``
    No compiler; ~100–200× slower on multicompartment neurons. For tiny tests.
``cython``
    Compiles each code object once (~5 s each, serially) into a per-user cache,
    ``<cache>/brian2-cython`` (or ``$NEUROCOMP_CYTHON_CACHE``), made with mode 0700. Each
    module neurocomp sees compiled gets a SHA-256 record next to it; before Brian2 imports
    a cached module it is checked against that record, and a damaged or unrecorded one is
    deleted and rebuilt (a truncated extension module kills Python with SIGBUS on import).
    Brian2 locks the cache, so processes can share it. Objects get fixed names, so a rebuilt
    identical network reuses the cache (pitfall P7).
``cpp_standalone``
    Writes and compiles a C++ project (~15 s), then runs the binary. Each run builds in a
    fresh private directory that is deleted afterwards (also after an error or Ctrl-C).
    A finished build is kept as the cache for its model, ``<cache>/brian2-standalone/<hash>``,
    with a manifest of every file's SHA-256 written last; a later run copies the cache (with
    its mtimes, so ``make`` is a no-op) and checks every file against the manifest before
    anything is compiled or linked. A missing, truncated or modified file means a build from
    scratch (said once on stderr). The device is reset after every run, so several runs work
    in one process.

``<cache>`` is ``$NEUROCOMP_CACHE``, else ``$XDG_CACHE_HOME/neurocomp``, else
``~/.cache/neurocomp``. A cache directory owned by another user, or writable by group or
others (or below such a directory without the sticky bit), is refused: code from it would
be linked and run.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from neurocomp.biophysics.build_cache import (
    _WORK_DIRS,
    _discard_work_dir,
    _install_cython_checks,
)
from neurocomp.checks import check_choice

__all__ = ["BACKENDS", "brian_backend", "import_brian2", "run_standalone_build"]

BACKENDS = ("numpy", "cython", "cpp_standalone")
_QUIET = False


# -- compiling and running a standalone project ---------------------------------------------

_STATUS = re.compile(r"Project compilation failed \(error code: (\d+)\)")


def interrupted_status(status: int) -> bool:
    """Whether an ``os.system`` status means the command was stopped by Ctrl-C: killed by
    SIGINT, or a shell that exited with 128 + SIGINT."""
    if os.WIFSIGNALED(status):
        return os.WTERMSIG(status) == signal.SIGINT
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGINT


def run_standalone_build(directory: str | Path) -> None:
    """``device.build`` (compile and run) in ``directory``; Ctrl-C stays a KeyboardInterrupt.

    Brian2 runs ``make`` with ``os.system``, which ignores SIGINT in Python while ``make``
    runs: Ctrl-C kills only ``make``, and Brian2 reports a compilation failure. Such a
    failure is raised again as :class:`KeyboardInterrupt`.
    """
    b2 = import_brian2()
    try:
        b2.device.build(directory=str(directory), compile=True, run=True, clean=False)
    except RuntimeError as exc:
        m = _STATUS.search(str(exc))
        if m is not None and interrupted_status(int(m.group(1))):
            raise KeyboardInterrupt("interrupted while compiling the cpp_standalone "
                                    "project") from exc
        raise


# -- Brian2 itself ---------------------------------------------------------------------------

class _OrderWarningFilter:
    """Drop Brian2's "order of execution" warning for neurocomp's release code only.

    The release code reads and writes per-synapse variables and then adds to postsynaptic
    ones (``A_ampa_post += w_ampa*released``); Brian2 sums such increments correctly on every
    target (``ufunc.at`` in numpy, a sequential loop in cython/C++), so the warning is moot
    here. Warnings about any other code still pass.
    """

    def filter(self, record) -> bool:  # logging.Filter protocol
        msg = record.getMessage()
        return not (msg.startswith("Came across an abstract code block")
                    and "'dt_since := t - tlast" in msg)


def import_brian2():
    """Import Brian2 the way a library should: no debug log, script copy or excepthook.

    Brian2 opens a ``brian_debug_*.log`` in the temp dir on import, keeps it (and a copy of
    the running script) whenever an exception passes through, and replaces
    ``sys.excepthook`` (pitfall P9). neurocomp closes the log, deletes the file and restores
    the interpreter's hook, once per process. The Cython cache becomes the private
    :func:`cython_cache_dir`, whose modules are checked before import.
    """
    global _QUIET
    import brian2

    if not _QUIET:
        import logging

        from brian2.utils.logger import BrianLogger

        brian2.prefs.logging.file_log = False
        brian2.prefs.logging.save_script = False
        handler = BrianLogger.file_handler
        if handler is not None:
            handler.close()
            logging.getLogger("brian2").removeHandler(handler)
            BrianLogger.file_handler = None
        for attr in ("tmp_log", "tmp_script"):
            path = getattr(BrianLogger, attr, None)
            if path:
                with contextlib.suppress(OSError):
                    os.remove(path)
                setattr(BrianLogger, attr, None)
        logging.getLogger("brian2.codegen.generators.base").addFilter(_OrderWarningFilter())
        if sys.excepthook is not sys.__excepthook__:
            sys.excepthook = sys.__excepthook__
        _install_cython_checks(brian2)
        _restore_sigint()
        _QUIET = True
    return brian2


def _restore_sigint() -> None:
    """Give Ctrl-C back to the caller's handler.

    Brian2 installs a SIGINT handler on import that turns Ctrl-C during a run into a quiet
    "stop" (a truncated result) and otherwise calls the handler it replaced — which raises a
    ``TypeError`` when that was ``SIG_IGN`` or ``SIG_DFL`` (integers, not callables). A
    library run should be interrupted like any Python code, so the previous handler is put
    back (possible from the main thread only; elsewhere Brian2's stays, with its stop
    switched off).
    """
    import signal

    import brian2

    brian2.prefs.core.stop_on_keyboard_interrupt = False
    current = signal.getsignal(signal.SIGINT)
    previous = getattr(current, "previous_handler", None)
    if type(current).__name__ == "_InterruptHandler" and previous is not None:
        with contextlib.suppress(ValueError):  # not the main thread
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def brian_backend(backend: str, *, directory: Path | None = None) -> Iterator[None]:
    """Select a Brian2 backend for the objects created and run inside the block.

    Runtime targets set ``prefs.codegen.target`` and restore it afterwards; ``cpp_standalone``
    activates the standalone device on ``directory`` (``build_on_run=False``: the caller calls
    ``device.build`` or :func:`run_standalone_build`) and always returns to the runtime
    device, even after an error. A directory made by :func:`standalone_directory` is
    deleted when the block ends.
    """
    check_choice("backend", backend, BACKENDS)
    # Objects of an earlier run, kept alive by reference cycles, make Brian2 give the new
    # ones suffixed names ("neuron_stateupdater_1"): different code, so cython and the
    # standalone project would recompile (pitfall P7). Collect them first.
    gc.collect()
    b2 = import_brian2()
    device, prefs, set_device = b2.device, b2.prefs, b2.set_device
    previous = prefs.codegen.target
    if backend == "cpp_standalone":
        if directory is None:
            raise ValueError("backend 'cpp_standalone' needs a build directory")
        set_device("cpp_standalone", directory=str(directory), build_on_run=False)
        try:
            yield
        finally:
            try:
                device.reinit()
                set_device("runtime")
            finally:
                if Path(directory) in _WORK_DIRS:
                    _discard_work_dir(Path(directory))
    else:
        prefs.codegen.target = backend
        try:
            yield
        finally:
            prefs.codegen.target = previous

