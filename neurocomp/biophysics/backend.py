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

Brian2 is imported by :func:`import_brian2` without process-wide side effects, and set up
for neurocomp's runs only inside :func:`brian2_session` (``brian_backend`` and
:class:`~neurocomp.biophysics.pipeline_build.BuiltPipeline` enter it).

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from neurocomp.biophysics.build_cache import (
    _WORK_DIRS,
    _cython_cache_path,
    _discard_work_dir,
    _install_cython_checks,
)
from neurocomp.biophysics.progress import StatusLine
from neurocomp.checks import check_choice

__all__ = ["BACKENDS", "brian2_session", "brian_backend", "import_brian2", "run_standalone_build",
           "runtime_target", "standalone_device"]

BACKENDS = ("numpy", "cython", "cpp_standalone")


# -- compiling and running a standalone project ---------------------------------------------

_STATUS = re.compile(r"Project compilation failed \(error code: (\d+)\)")


def interrupted_status(status: int) -> bool:
    """Whether an ``os.system`` status means the command was stopped by Ctrl-C: killed by
    SIGINT, or a shell that exited with 128 + SIGINT."""
    if os.WIFSIGNALED(status):
        return os.WTERMSIG(status) == signal.SIGINT
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGINT


def run_standalone_build(directory: str | Path, *, status: str | None = None) -> None:
    """``device.build`` (compile and run) in ``directory``; Ctrl-C stays a KeyboardInterrupt.

    Brian2 runs ``make`` with ``os.system``, which ignores SIGINT in Python while ``make``
    runs: Ctrl-C kills only ``make``, and Brian2 reports a compilation failure. Such a
    failure is raised again as :class:`KeyboardInterrupt`. With ``status`` (a label such as
    ``"[brian2] compiling cpp_standalone (cold build)"``), a
    :class:`~neurocomp.biophysics.progress.StatusLine` shows the elapsed seconds while the
    project is written and compiled, and the binary then runs on its own (printing the
    run's report, if any).
    """
    b2 = import_brian2()
    try:
        if status is None:
            b2.device.build(directory=str(directory), compile=True, run=True, clean=False)
        else:
            with StatusLine(status):
                b2.device.build(directory=str(directory), compile=True, run=False,
                                clean=False)
            b2.device.run(directory=str(directory), with_output=True, run_args=None)
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
    here. Warnings about any other code still pass. Attached during neurocomp's runs only.
    """

    def filter(self, record) -> bool:  # logging.Filter protocol
        msg = record.getMessage()
        return not (msg.startswith("Came across an abstract code block")
                    and "'dt_since := t - tlast" in msg)


#: Who imported Brian2 in this process: "user" (before neurocomp asked for it),
#: "neurocomp" (neurocomp's first :func:`import_brian2`), or None (not yet asked).
_IMPORTED_BY: str | None = None


def import_brian2():
    """Import Brian2 leaving the process as it was: no excepthook, no signal handler.

    If Brian2 is already imported (by the user, or by a library), nothing is changed: its
    preferences, log handlers and ``sys.excepthook`` stay the user's. If this call imports
    it, what Brian2's import installs process-wide is undone at once: ``sys.excepthook``
    (Brian2's hook, which keeps a ``brian_debug_*.log`` after an error, pitfall P9) goes
    back to the hook in place before the import, whatever it was; the SIGINT handler
    (Brian2's turns Ctrl-C into a quiet "stop", or a ``TypeError`` when the previous
    handler was ``SIG_IGN``/``SIG_DFL``) goes back to the previous one (from the main
    thread); and Python warnings are no longer routed to logging unless they were before.

    What stays, as after any ``import brian2``, and why: Brian2's preferences at their
    defaults and its console log handler (Brian2 itself needs them); its temporary debug
    log ``brian_debug_*.log`` (and, when the main script is a file, a ``brian_script_*.py``
    copy of it) in the temp dir, made by the import itself before any code can stop it,
    open for a user who calls Brian2 later, and deleted by Brian2 at exit (its excepthook,
    which would keep them, is gone). neurocomp's own runs are not written to that log, and
    the preferences neurocomp needs are set only for its runs (:func:`brian2_session`).
    """
    global _IMPORTED_BY
    if _IMPORTED_BY is None:
        if "brian2" in sys.modules:
            _IMPORTED_BY = "user"
        else:
            _import_quietly()
            _IMPORTED_BY = "neurocomp"
    import brian2

    return brian2


def _import_quietly() -> None:
    """``import brian2``, then put back the excepthook, SIGINT handler and warnings capture
    it replaces process-wide."""
    import logging
    import warnings

    hook = sys.excepthook
    sigint = signal.getsignal(signal.SIGINT)
    showwarning = warnings.showwarning
    capturing = getattr(logging, "_warnings_showwarning", None) is not None
    import brian2
    from brian2.utils.logger import BrianLogger

    if sys.excepthook is not hook:
        sys.excepthook = hook
    if signal.getsignal(signal.SIGINT) is not sigint and sigint is not None:
        with contextlib.suppress(ValueError, TypeError):  # not the main thread
            signal.signal(signal.SIGINT, sigint)
    if not capturing:
        logging.captureWarnings(False)
        warnings.showwarning = showwarning
        if BrianLogger.console_handler is not None:
            logging.getLogger("py.warnings").removeHandler(BrianLogger.console_handler)
    del brian2


_SESSION_DEPTH = 0


@contextlib.contextmanager
def brian2_session() -> Iterator[Any]:
    """Brian2 set up for one of neurocomp's runs, and put back as it was afterwards.

    Inside the block: the Cython cache is the private :func:`cython_cache_dir`, whose
    modules are checked before import; Ctrl-C raises ``KeyboardInterrupt`` rather than
    stopping the run quietly (``prefs.core.stop_on_keyboard_interrupt = False``); Brian2's
    "order of execution" warning about neurocomp's release code is dropped; and, when
    neurocomp imported Brian2, nothing is written to Brian2's temporary debug log. On exit
    every preference, handler, filter and loader is restored (nested blocks nest).

    Yields
    ------
    module
        ``brian2``.
    """
    global _SESSION_DEPTH
    b2 = import_brian2()
    if _SESSION_DEPTH:
        _SESSION_DEPTH += 1
        try:
            yield b2
        finally:
            _SESSION_DEPTH -= 1
        return
    with contextlib.ExitStack() as stack:
        _enter_session(b2, stack)
        _SESSION_DEPTH = 1
        try:
            yield b2
        finally:
            _SESSION_DEPTH = 0


def _enter_session(b2: Any, stack: contextlib.ExitStack) -> None:
    """Set neurocomp's preferences, log filter, file-log detachment and Cython checks,
    each undone by ``stack`` (in reverse order)."""
    import logging

    from brian2.utils.logger import BrianLogger

    prefs = b2.prefs
    for name, value in (("codegen.runtime.cython.cache_dir", str(_cython_cache_path())),
                        ("core.stop_on_keyboard_interrupt", False)):
        stack.callback(prefs.__setitem__, name, prefs[name])
        prefs[name] = value
    codegen_log = logging.getLogger("brian2.codegen.generators.base")
    order_filter = _OrderWarningFilter()
    codegen_log.addFilter(order_filter)
    stack.callback(codegen_log.removeFilter, order_filter)
    handler = BrianLogger.file_handler
    brian_log = logging.getLogger("brian2")
    if _IMPORTED_BY == "neurocomp" and handler is not None and handler in brian_log.handlers:
        brian_log.removeHandler(handler)
        stack.callback(brian_log.addHandler, handler)
    stack.enter_context(_cython_checks(b2))


@contextlib.contextmanager
def _cython_checks(b2: Any) -> Iterator[None]:
    """Check each cached Cython module before Brian2 imports it (the loader is put back
    afterwards); the cache directory is made with mode 0700 if missing."""
    try:
        from brian2.codegen.runtime.cython_rt.extension_manager import cython_extension_manager
    except ImportError:  # no Cython: the cython target is unavailable anyway
        yield
        return
    original = cython_extension_manager.__dict__.get("_load_module")
    _install_cython_checks(b2)  # sets the cache pref again: restored by the caller
    try:
        yield
    finally:
        if original is None:
            with contextlib.suppress(AttributeError):
                del cython_extension_manager._load_module
        else:
            cython_extension_manager._load_module = original


def _close_open_build() -> None:
    """Close a cpp_standalone build left open (its device would capture new objects)."""
    if _OPEN_STANDALONE:
        close = _OPEN_STANDALONE.pop()
        print("neurocomp: closing the open cpp_standalone build (BuiltPipeline) before a "
              "new run; its monitors can no longer be read", file=sys.stderr, flush=True)
        close()


#: The close() of the cpp_standalone build holding Brian2's device, if one is open.
_OPEN_STANDALONE: list[Callable[[], None]] = []


@contextlib.contextmanager
def runtime_target(backend: str) -> Iterator[None]:
    """``prefs.codegen.target = backend`` (numpy or cython) inside the block, restored after."""
    b2 = import_brian2()
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = backend
    try:
        yield
    finally:
        b2.prefs.codegen.target = previous


@contextlib.contextmanager
def standalone_device(directory: Path | None = None) -> Iterator[None]:
    """The cpp_standalone device (``build_on_run=False``) inside the block; afterwards the
    runtime device again, even after an error, and a directory made by
    :func:`standalone_directory` is deleted."""
    b2 = import_brian2()
    b2.set_device("cpp_standalone", build_on_run=False,
                  **({} if directory is None else {"directory": str(directory)}))
    try:
        yield
    finally:
        try:
            b2.device.reinit()
            b2.set_device("runtime")
        finally:
            if directory is not None and Path(directory) in _WORK_DIRS:
                _discard_work_dir(Path(directory))


@contextlib.contextmanager
def brian_backend(backend: str, *, directory: Path | None = None) -> Iterator[None]:
    """Select a Brian2 backend for the objects created and run inside the block, in a
    :func:`brian2_session`.

    Runtime targets set ``prefs.codegen.target`` and restore it afterwards; ``cpp_standalone``
    activates the standalone device on ``directory`` (``build_on_run=False``: the caller calls
    ``device.build`` or :func:`run_standalone_build`) and always returns to the runtime
    device, even after an error. A directory made by :func:`standalone_directory` is
    deleted when the block ends.
    """
    check_choice("backend", backend, BACKENDS)
    if backend == "cpp_standalone" and directory is None:
        raise ValueError("backend 'cpp_standalone' needs a build directory")
    _close_open_build()
    # Objects of an earlier run, kept alive by reference cycles, make Brian2 give the new
    # ones suffixed names ("neuron_stateupdater_1"): different code, so cython and the
    # standalone project would recompile (pitfall P7). Collect them first.
    gc.collect()
    with brian2_session():
        if backend == "cpp_standalone":
            with standalone_device(directory):
                yield
        else:
            with runtime_target(backend):
                yield
