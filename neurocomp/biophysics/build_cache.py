"""The caches of compiled Brian2 code: private directories, build manifests, Cython records.

Used by :mod:`neurocomp.biophysics.backend` (see its docstring for how each backend uses
them): a cache directory others could write to is refused, a cached ``cpp_standalone``
build is checked file by file against its manifest, and a cached Cython module against its
SHA-256 record, before anything from them is linked or imported.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from neurocomp._files import write_json_atomic

__all__ = ["MANIFEST_NAME", "UnsafeCacheError", "build_manifest", "check_cython_module",
           "cython_cache_dir", "private_directory", "standalone_build",
           "standalone_directory", "standalone_root", "store_standalone_build",
           "user_cache_dir", "verify_build"]

#: Name of the manifest of a cached cpp_standalone build (relative path -> size, SHA-256).
MANIFEST_NAME = "neurocomp-build-manifest.json"
_MANIFEST_FORMAT = "neurocomp.standalone-build"
_MANIFEST_VERSION = 1
_CYTHON_RECORD_SUFFIX = ".sha256"  # <module>.so.sha256 next to each compiled module
_UNCACHED = ("results",)  # run outputs: never part of a cached build
_WORK_DIRS: dict[Path, str] = {}  # work directories of this process -> their build digest


class UnsafeCacheError(PermissionError):
    """A cache directory others could write to: code from it is never linked or imported."""


def _say(message: str) -> None:
    """One line on stderr (a warning would be an error under the test suite's filters)."""
    print(f"neurocomp: {message}", file=sys.stderr, flush=True)


# -- private cache directories ---------------------------------------------------------------

def user_cache_dir() -> Path:
    """neurocomp's per-user cache: ``$NEUROCOMP_CACHE``, else ``$XDG_CACHE_HOME/neurocomp``,
    else ``~/.cache/neurocomp`` (the convention of
    ``neurocomp_analyses.surrogate_depth.cache_dir``)."""
    if os.environ.get("NEUROCOMP_CACHE"):
        return Path(os.environ["NEUROCOMP_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "neurocomp"
    return Path.home() / ".cache" / "neurocomp"


def _mode(st: os.stat_result) -> str:
    return f"{stat.S_IMODE(st.st_mode):04o}"


def unsafe_reason(path: Path) -> str | None:
    """Why others could change what is inside directory ``path``, or None if they cannot.

    ``path`` (resolved) must be a directory owned by this user and not writable by group
    or others; each directory above it must not be writable by group or others unless it
    has the sticky bit (like ``/tmp``) and the directory below it is ours or root's.
    """
    path = Path(path).resolve()
    st = path.stat()
    uid = os.geteuid()
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory"
    if st.st_uid != uid:
        return f"{path} is owned by uid {st.st_uid}, not by this user (uid {uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path} is writable by group or others (mode {_mode(st)})"
    child_uid = st.st_uid
    for parent in path.parents:
        pst = parent.stat()
        if pst.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            if not (pst.st_mode & stat.S_ISVTX and child_uid in (uid, 0)):
                return (f"{parent}, above {path}, is writable by group or others without "
                        f"the sticky bit (mode {_mode(pst)})")
        child_uid = pst.st_uid
    return None


def private_directory(path: str | Path) -> Path:
    """Create ``path`` (mode 0700) if missing and return it, refusing an unsafe one.

    Raises
    ------
    UnsafeCacheError
        If the directory is owned by another user or others can write to it (see
        :func:`unsafe_reason`); the message says how to fix it.
    """
    path = Path(path).expanduser()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    reason = unsafe_reason(path)
    if reason is not None:
        raise UnsafeCacheError(
            f"refusing the cache directory {path}: {reason}. Compiled code kept there could "
            f"be replaced by someone else and would then be run. Fix its permissions "
            f"(chmod 700, owned by you) or point $NEUROCOMP_CACHE (or $NEUROCOMP_BUILD_DIR / "
            f"$NEUROCOMP_CYTHON_CACHE) to a private directory")
    return path


def standalone_root(base: str | Path | None = None) -> Path:
    """Private base directory of cpp_standalone builds and their cache.

    ``base``, else ``$NEUROCOMP_BUILD_DIR``, else ``<user cache>/brian2-standalone``;
    checked by :func:`private_directory`.
    """
    return private_directory(base or os.environ.get("NEUROCOMP_BUILD_DIR")
                             or user_cache_dir() / "brian2-standalone")


def cython_cache_dir() -> Path:
    """Private Cython cache: ``$NEUROCOMP_CYTHON_CACHE`` or ``<user cache>/brian2-cython``,
    checked by :func:`private_directory`."""
    return private_directory(_cython_cache_path())


def _cython_cache_path() -> Path:
    return Path(os.environ.get("NEUROCOMP_CYTHON_CACHE")
                or user_cache_dir() / "brian2-cython").expanduser()


# -- content manifests of cached builds ------------------------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _relative_files(directory: Path) -> dict[str, Path]:
    """Every entry under ``directory`` but the manifest and run outputs, by relative path.

    Raises ValueError for anything that is not a regular file or a directory (a symbolic
    link could point anywhere).
    """
    out: dict[str, Path] = {}
    for root, dirs, files in os.walk(directory):
        rel_root = Path(root).relative_to(directory)
        if rel_root == Path("."):
            dirs[:] = [d for d in dirs if d not in _UNCACHED]
        for name in [*dirs, *files]:
            path = Path(root) / name
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode):
                continue
            rel = (rel_root / name).as_posix()
            if not stat.S_ISREG(mode):
                raise ValueError(f"{rel} is not a regular file")
            if rel != MANIFEST_NAME:
                out[rel] = path
    return out


def build_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a build directory: size (bytes) and SHA-256 of every file.

    The ``results`` folder (run outputs) is left out; a symbolic link or other special
    file is a ``ValueError``.
    """
    directory = Path(directory)
    files = {rel: {"size": path.stat().st_size, "sha256": _sha256(path)}
             for rel, path in sorted(_relative_files(directory).items())}
    return {"format": _MANIFEST_FORMAT, "version": _MANIFEST_VERSION, "files": files}


def write_build_manifest(directory: str | Path) -> None:
    """Hash every file of ``directory`` and write the manifest last, atomically."""
    directory = Path(directory)
    write_json_atomic(directory / MANIFEST_NAME, build_manifest(directory), indent=0)


def verify_build(directory: str | Path) -> str | None:
    """Check a build directory against its manifest: None if intact, else the reason.

    Intact means: the manifest reads back, and the files present are exactly those it
    lists, each with the recorded size and SHA-256. Nothing is trusted otherwise.
    """
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text())
        recorded = manifest["files"]
        if (manifest.get("format") != _MANIFEST_FORMAT
                or manifest.get("version") != _MANIFEST_VERSION
                or not isinstance(recorded, dict)):
            return "the manifest has an unknown format"
    except FileNotFoundError:
        return "it has no manifest (an unfinished or foreign build)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"its manifest is unreadable ({type(exc).__name__})"
    try:
        present = _relative_files(directory)
    except (OSError, ValueError) as exc:
        return str(exc)
    missing = sorted(set(recorded) - set(present))
    extra = sorted(set(present) - set(recorded))
    if missing:
        return f"{missing[0]} is missing"
    if extra:
        return f"{extra[0]} is not in the manifest"
    for rel, path in sorted(present.items()):
        entry = recorded[rel]
        try:
            size = path.stat().st_size
            if not isinstance(entry, dict) or size != entry.get("size"):
                return f"{rel} has {size} bytes, not {entry.get('size')} (truncated or changed)"
            if _sha256(path) != entry.get("sha256"):
                return f"{rel} does not match its SHA-256 (modified)"
        except OSError as exc:
            return f"{rel} is unreadable ({type(exc).__name__})"
    return None


def _remove_tree(path: Path) -> None:
    """Delete ``path``: renamed aside first, so no reader sees it half-deleted."""
    aside = path.with_name(f".trash-{path.name}-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        os.rename(path, aside)
    except OSError:
        aside = path
    shutil.rmtree(aside, ignore_errors=True)


# -- cpp_standalone build directories --------------------------------------------------------

def _build_digest(key: str) -> str:
    import importlib.metadata

    versioned = f"{key}\nbrian2 {importlib.metadata.version('brian2')}"
    return hashlib.sha1(versioned.encode()).hexdigest()[:12]


_WORK_PREFIX = "work-"
_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:40] or "host"


def _owner_tag() -> str:
    """``<host>-pid<pid>``: names this process's temporary directories."""
    return f"{_HOST}-pid{os.getpid()}"


def _reap_stale_work_dirs(root: Path) -> None:
    """Delete temporary build and staging directories of killed processes of this host
    (their pid no longer exists), and directories left half-deleted."""
    pattern = re.compile(rf"^(?:{_WORK_PREFIX}|\.store-)[0-9a-f]+-{re.escape(_HOST)}-pid(\d+)-")
    for entry in root.iterdir():
        m = pattern.match(entry.name)
        if m is None or int(m.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:  # alive (another user's pid: EPERM) or unknown: leave it
            continue
    for entry in root.glob(".trash-*"):
        shutil.rmtree(entry, ignore_errors=True)


def _populate_from_cache(cache: Path, work: Path) -> bool:
    """Copy a cached build into the empty ``work`` and verify the copy; True if usable.

    The copy, not the cache, is checked (nothing can change between check and use). A
    damaged cache is deleted, and said so on stderr.
    """
    try:
        shutil.copytree(cache, work, symlinks=True, dirs_exist_ok=True)  # copy2: mtimes kept
    except (OSError, shutil.Error):  # deleted or replaced meanwhile: build from scratch
        reason: str | None = "it could not be copied"
    else:
        reason = verify_build(work)
    if reason is None:
        (work / MANIFEST_NAME).unlink()
        return True
    for entry in list(work.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    _say(f"the cached cpp_standalone build {cache} is damaged ({reason}); deleting it and "
         f"building from scratch")
    _remove_tree(cache)
    return False


def _new_work_dir(key: str, base: str | Path | None) -> Path:
    root = standalone_root(base)
    _reap_stale_work_dirs(root)
    digest = _build_digest(key)
    work = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{digest}-{_owner_tag()}-",
                                 dir=root))
    cache = root / digest
    if cache.is_dir():
        _populate_from_cache(cache, work)
    _WORK_DIRS[work] = digest
    return work


def _discard_work_dir(work: Path) -> None:
    _WORK_DIRS.pop(Path(work), None)
    shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def standalone_build(key: str, *, base: str | Path | None = None) -> Iterator[Path]:
    """A fresh, private cpp_standalone build directory for a model, deleted on exit.

    Parameters
    ----------
    key : str
        Identifies the generated code (e.g. ``NeuronPipeline.structure_key``); with the
        Brian2 version it names the cached build.
    base : path, optional
        Base directory (default :func:`standalone_root`).

    The directory starts as a verified copy of the cached build for ``key`` (if any);
    call :func:`store_standalone_build` after a successful build to keep it. The directory
    is removed when the block ends, normally or by an exception (Ctrl-C included).
    """
    work = _new_work_dir(key, base)
    try:
        yield work
    finally:
        _discard_work_dir(work)


def standalone_directory(key: str, *, base: str | Path | None = None) -> Path:
    """A fresh private build directory (see :func:`standalone_build`) for callers without
    a ``with`` block: :func:`brian_backend` deletes it when its block ends, and any left
    over are deleted at exit."""
    return _new_work_dir(key, base)


def store_standalone_build(directory: str | Path) -> None:
    """Keep a finished build as the cache for its key (first intact writer wins).

    The files are copied into a private temporary directory, their manifest is written
    last, and the directory is renamed into place atomically. An existing intact cache is
    kept; a damaged one is replaced. Errors (disk full …) only mean no cache.
    """
    directory = Path(directory)
    digest = _WORK_DIRS.get(directory)
    if digest is None:
        m = re.match(rf"^{_WORK_PREFIX}([0-9a-f]+)-", directory.name)
        if m is None:
            raise ValueError(f"{directory} is not a build directory made by "
                             f"standalone_build or standalone_directory")
        digest = m.group(1)
    root = directory.parent
    cache = root / digest
    if cache.is_dir():
        reason = verify_build(cache)
        if reason is None:
            return
        _say(f"the cached cpp_standalone build {cache} is damaged ({reason}); replacing it")
        _remove_tree(cache)
    staging = Path(tempfile.mkdtemp(prefix=f".store-{digest}-{_owner_tag()}-", dir=root))
    try:
        target = staging / "build"
        shutil.copytree(directory, target, symlinks=True,
                        ignore=shutil.ignore_patterns(MANIFEST_NAME, *_UNCACHED))
        write_build_manifest(target)
        os.rename(target, cache)
    except (OSError, ValueError, shutil.Error):
        pass  # another process stored it first, or no space: no cache then
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cleanup_work_dirs() -> None:
    for work in list(_WORK_DIRS):
        _discard_work_dir(work)


atexit.register(_cleanup_work_dirs)


# -- the Cython cache ------------------------------------------------------------------------

def _record_path(module: Path) -> Path:
    return module.with_name(module.name + _CYTHON_RECORD_SUFFIX)


def check_cython_module(module: str | Path) -> bool:
    """Before import: keep a cached Cython module only if it matches its SHA-256 record.

    Returns True if ``module`` exists and is intact. A module without a record (built by
    someone else, or interrupted before it was recorded) or that does not match it
    (truncated, modified) is deleted with its record, so that Brian2 rebuilds it, and this
    is said once on stderr.
    """
    module = Path(module)
    record = _record_path(module)
    if not module.exists():
        with contextlib.suppress(FileNotFoundError):
            record.unlink()
        return False
    try:
        expected = record.read_text().split()
        size = module.stat().st_size
        intact = (len(expected) == 2 and expected[1] == str(size)
                  and expected[0] == _sha256(module))
        reason = "it does not match its SHA-256 record (truncated or modified)"
    except FileNotFoundError:
        intact, reason = False, "it has no SHA-256 record (not built here, or interrupted)"
    except OSError as exc:
        intact, reason = False, f"it is unreadable ({type(exc).__name__})"
    if not intact:
        _say(f"the cached Cython module {module} is not trusted: {reason}; deleting it "
             f"so that Brian2 rebuilds it")
        for path in (module, record):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return intact


def record_cython_module(module: str | Path) -> None:
    """Write the SHA-256 record (``<module>.sha256``: hash and size) of a module just built."""
    module = Path(module)
    record = _record_path(module)
    fd, tmp = tempfile.mkstemp(prefix=f".{record.name}.", dir=module.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{_sha256(module)} {module.stat().st_size}\n")
        os.replace(tmp, record)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def verified_loader(load: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap Brian2's ``CythonExtensionManager._load_module(module_path, ...)``: check a
    cached module before it is imported, record a module after it was built and imported.
    (Brian2 calls it under its per-module file lock, so processes do not race here.)"""
    if getattr(load, "_neurocomp_verified", False):
        return load

    def checked(module_path: str, *args: Any, **kwargs: Any) -> Any:
        private_directory(Path(module_path).parent)  # UnsafeCacheError if others can write
        cached = check_cython_module(module_path)
        module = load(module_path, *args, **kwargs)
        if module is not None and not cached and os.path.exists(module_path):
            record_cython_module(module_path)
        return module

    checked._neurocomp_verified = True  # type: ignore[attr-defined]
    return checked


def _install_cython_checks(brian2: Any) -> None:
    """Point Brian2 at the private Cython cache (made with mode 0700 here; checked, with an
    error if others can write to it, only when a module is loaded, so that the numpy and
    cpp_standalone targets work whatever its state) and check each module before import."""
    path = _cython_cache_path()
    with contextlib.suppress(OSError):  # unusable: the loader's check says why
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    brian2.prefs.codegen.runtime.cython.cache_dir = str(path)
    try:
        from brian2.codegen.runtime.cython_rt.extension_manager import cython_extension_manager
    except ImportError:  # no Cython: the cython target is unavailable anyway
        return
    cython_extension_manager._load_module = verified_loader(
        cython_extension_manager._load_module)
