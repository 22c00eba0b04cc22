"""Brian2 code-generation backends, chosen per run.

``numpy``
    No compiler; ~100–200× slower on multicompartment neurons. For tiny tests.
``cython``
    Compiles each code object once (~5 s each, serially) and caches it under
    ``~/.cython/brian_extensions`` (Brian2 locks the cache, so processes can share it). Objects
    get fixed names, so a rebuilt identical network reuses the cache (pitfall P7).
``cpp_standalone``
    Writes and compiles a C++ project (~15 s), then runs the binary. The project lives in a
    per-process directory keyed by the model, so parallel processes never collide and a
    second run of the same model in the same process only rewrites data files (``make`` is
    then a no-op). The device is reset after every run, so several runs work in one process.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from neurocomp._validation import check_choice

__all__ = ["BACKENDS", "brian_backend", "import_brian2", "standalone_directory",
           "store_standalone_build"]

BACKENDS = ("numpy", "cython", "cpp_standalone")
_QUIET = False


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
    the interpreter's hook, once per process. ``$NEUROCOMP_CYTHON_CACHE``, if set, becomes
    the cython cache directory.
    """
    global _QUIET
    import brian2

    if not _QUIET:
        import logging
        import sys

        from brian2.utils.logger import BrianLogger

        brian2.prefs.logging.file_log = False
        brian2.prefs.logging.save_script = False
        cache = os.environ.get("NEUROCOMP_CYTHON_CACHE")
        if cache:  # e.g. a fresh directory to measure cold compilation
            brian2.prefs.codegen.runtime.cython.cache_dir = cache
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
        _QUIET = True
    return brian2


def standalone_directory(key: str, *, base: str | Path | None = None) -> Path:
    """Build directory for a cpp_standalone project: ``<base>/<key-hash>-pid<pid>``.

    ``base`` defaults to ``$NEUROCOMP_BUILD_DIR`` or ``<tmp>/neurocomp-brian2``.
    """
    root = _root(base)
    import importlib.metadata

    versioned = f"{key}\nbrian2 {importlib.metadata.version('brian2')}"
    digest = hashlib.sha1(versioned.encode()).hexdigest()[:12]
    path = root / f"{digest}-pid{os.getpid()}"
    cache = root / f"{digest}-cache"
    if not path.exists() and cache.is_dir():
        shutil.copytree(cache, path, symlinks=True)  # copy2 keeps mtimes: make stays a no-op
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_standalone_build(directory: Path) -> None:
    """Keep a finished build as the cache for its key (first writer wins, atomically)."""
    directory = Path(directory)
    digest = directory.name.split("-pid")[0]
    cache = directory.parent / f"{digest}-cache"
    if cache.exists():
        return
    tmp = directory.parent / f".{digest}-cache-{os.getpid()}"
    try:
        shutil.copytree(directory, tmp, symlinks=True,
                        ignore=shutil.ignore_patterns("results"))
        os.rename(tmp, cache)
    except OSError:  # another process stored it first, or the disk is full: no cache then
        shutil.rmtree(tmp, ignore_errors=True)


def _root(base: str | Path | None) -> Path:
    return Path(base or os.environ.get("NEUROCOMP_BUILD_DIR")
                or Path(tempfile.gettempdir()) / "neurocomp-brian2")


@contextlib.contextmanager
def brian_backend(backend: str, *, directory: Path | None = None) -> Iterator[None]:
    """Select a Brian2 backend for the objects created and run inside the block.

    Runtime targets set ``prefs.codegen.target`` and restore it afterwards; ``cpp_standalone``
    activates the standalone device on ``directory`` (``build_on_run=False``: the caller calls
    ``device.build``) and always returns to the runtime device, even after an error.
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
            device.reinit()
            set_device("runtime")
    else:
        prefs.codegen.target = backend
        try:
            yield
        finally:
            prefs.codegen.target = previous
