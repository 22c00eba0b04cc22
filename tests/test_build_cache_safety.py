"""Compiled code only from private, verified caches (issue 13, item 2).

The cpp_standalone build cache and the Cython cache live in per-user directories (mode
0700, refused when others can write to them); a cached build is used only if every file
matches its SHA-256 manifest; build directories are deleted after each run, also after an
error or Ctrl-C. Fake build directories stand in for Brian2's projects: no compiler runs.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from neurocomp.biophysics import backend, build_cache
from neurocomp.biophysics.backend import brian_backend, run_standalone_build
from neurocomp.biophysics.build_cache import (
    MANIFEST_NAME,
    UnsafeCacheError,
    check_cython_module,
    private_directory,
    standalone_build,
    standalone_directory,
    standalone_root,
    store_standalone_build,
    user_cache_dir,
    verified_loader,
    verify_build,
)

KEY = "model-structure-key"
FILES = {"main": b"\x7fELF binary", "main.o": b"object", "makefile": b"all: main\n",
         "code_objects/neuron.o": b"\x7fELF object " * 50,
         "static_arrays/_static_array_x": b"\x00" * 64}


def _fake_build(directory: Path) -> None:
    """What Brian2 leaves in a project directory after a build and a run."""
    for rel, data in FILES.items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_bytes(data)
    (directory / "results").mkdir()
    (directory / "results" / "v.bin").write_bytes(b"run output")


def _cache_of(root: Path) -> Path:
    caches = [p for p in root.iterdir() if not p.name.startswith(("work-", "."))]
    assert len(caches) == 1  # exactly one cached build for the one key used here
    return caches[0]


@pytest.fixture
def root(tmp_path) -> Path:
    base = tmp_path / "builds"
    base.mkdir(mode=0o700)
    return base


@pytest.fixture
def cached(root) -> Path:
    """A stored build of KEY; returns the cache directory."""
    with standalone_build(KEY, base=root) as work:
        _fake_build(work)
        store_standalone_build(work)
    return _cache_of(root)


# -- private directories -------------------------------------------------------------------

def test_cache_locations_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("NEUROCOMP_CACHE", raising=False)
    monkeypatch.delenv("NEUROCOMP_BUILD_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    # the XDG convention when $NEUROCOMP_CACHE is unset
    assert user_cache_dir() == tmp_path / "xdg" / "neurocomp"
    monkeypatch.setenv("NEUROCOMP_CACHE", str(tmp_path / "nc"))
    # $NEUROCOMP_CACHE wins, as in analyses.surrogate_depth.cache_dir
    assert user_cache_dir() == tmp_path / "nc"
    build_root = standalone_root()
    # the default build root is private, under the user cache, not in the shared temp dir
    assert build_root == tmp_path / "nc" / "brian2-standalone"
    assert stat.S_IMODE(build_root.stat().st_mode) == 0o700
    assert not str(build_root).startswith(str(Path(tempfile.gettempdir()) / "neurocomp"))


def test_directories_others_can_write_to_are_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    # a world-writable cache could be filled with someone else's object files
    with pytest.raises(UnsafeCacheError, match=r"shared is writable by group or others "
                                               r"\(mode 0777\)"):
        private_directory(shared)
    # a private directory inside a world-writable one without the sticky bit can be
    # renamed away and replaced by anyone
    with pytest.raises(UnsafeCacheError, match=r"without the sticky bit"):
        private_directory(shared / "inner")
    shared.chmod(0o1777)
    # with the sticky bit (like /tmp) only the owner can replace our directory: accepted
    assert private_directory(shared / "inner") == shared / "inner"
    if os.geteuid() == 0:
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 12345, 12345)
        # a directory owned by another user is theirs to fill
        with pytest.raises(UnsafeCacheError, match=r"owned by uid 12345"):
            private_directory(foreign)


# -- the cpp_standalone build cache ---------------------------------------------------------

def test_stored_build_is_reused_with_its_mtimes_and_work_dirs_are_deleted(root, cached):
    manifest = (cached / MANIFEST_NAME)
    # the manifest lists every file of the build, run outputs excluded
    assert manifest.exists() and not (cached / "results").exists()
    assert verify_build(cached) is None  # a freshly stored build verifies
    with standalone_build(KEY, base=root) as work:
        for rel, data in FILES.items():
            # the cached files are copied in, byte for byte...
            assert (work / rel).read_bytes() == data
            # ...with their mtimes, so that make finds nothing to rebuild
            assert (work / rel).stat().st_mtime_ns == (cached / rel).stat().st_mtime_ns
        assert not (work / MANIFEST_NAME).exists()  # the manifest stays in the cache
        assert stat.S_IMODE(work.stat().st_mode) == 0o700  # private while it exists
    assert not work.exists()  # the per-run directory is deleted after the run
    assert sorted(p.name for p in root.iterdir()) == [cached.name]  # nothing else left


@pytest.mark.parametrize("damage", ["truncate", "modify", "delete", "plant", "no-manifest",
                                    "symlink"])
def test_a_damaged_cache_is_never_used(root, cached, capsys, damage):
    target = cached / "code_objects" / "neuron.o"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:10])
    elif damage == "modify":  # same size, other bytes: only the hash can tell
        target.write_bytes(b"X" * target.stat().st_size)
    elif damage == "delete":
        target.unlink()
    elif damage == "plant":
        (cached / "code_objects" / "evil.o").write_bytes(b"planted")
    elif damage == "no-manifest":
        (cached / MANIFEST_NAME).unlink()
    else:
        target.unlink()
        target.symlink_to("/etc/passwd")
    assert verify_build(cached) is not None  # every kind of damage is detected
    with standalone_build(KEY, base=root) as work:
        # nothing of the damaged cache reaches the build: it starts from scratch
        assert list(work.iterdir()) == []
    assert not cached.exists()  # the damaged cache is deleted...
    err = capsys.readouterr().err
    assert err.count("is damaged") == 1 and "building from scratch" in err  # ...said once
    with standalone_build(KEY, base=root) as work:
        _fake_build(work)
        store_standalone_build(work)
    assert verify_build(_cache_of(root)) is None  # and the next good build is cached again


def test_build_dirs_are_deleted_after_errors_interrupts_and_killed_processes(root, cached):
    for exc in (RuntimeError("compile failed"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), standalone_build(KEY, base=root) as work:
            raise exc
        assert not work.exists()  # removed on an error and on Ctrl-C alike
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = root / f"work-{cached.name}-{build_cache._HOST}-pid{int(dead.stdout)}-abc"
    stale.mkdir()
    with standalone_build(KEY, base=root):
        pass
    assert not stale.exists()  # a killed process's directory is reaped by the next run
    legacy = standalone_directory(KEY, base=root)
    with brian_backend("cpp_standalone", directory=legacy):
        assert legacy.exists()
    assert not legacy.exists()  # the with-less API is cleaned up by brian_backend


def test_ctrl_c_while_compiling_stays_a_keyboard_interrupt(monkeypatch, tmp_path):
    # a shell killed by SIGINT, with SIGINT at its default even when this test runs where it
    # is ignored (a background job); the wait status os.system would return
    rc = subprocess.run(["sh", "-c", "kill -INT $$"], check=False, preexec_fn=lambda:
                        signal.signal(signal.SIGINT, signal.SIG_DFL)).returncode
    killed = -rc if rc < 0 else rc << 8
    status = {"sigint": killed, "shell": 130 << 8, "make error": 2 << 8}
    assert backend.interrupted_status(status["sigint"])  # a real shell killed by SIGINT
    assert backend.interrupted_status(status["shell"])  # a shell exiting with 128 + 2
    assert not backend.interrupted_status(status["make error"])  # make's own failure

    def fake(code):
        def build(**kwargs):
            raise RuntimeError(f"Project compilation failed (error code: {code}). Consider "
                               f"running with \"clean=True\" to force a complete rebuild.")
        return SimpleNamespace(device=SimpleNamespace(build=build))

    monkeypatch.setattr(backend, "import_brian2", lambda: fake(status["sigint"]))
    # Brian2 turns Ctrl-C during make into a RuntimeError; it must stop the caller
    with pytest.raises(KeyboardInterrupt, match="compiling"):
        run_standalone_build(tmp_path)
    monkeypatch.setattr(backend, "import_brian2", lambda: fake(status["make error"]))
    with pytest.raises(RuntimeError, match="compilation failed"):  # real failures stay
        run_standalone_build(tmp_path)


# -- the Cython cache -----------------------------------------------------------------------

def test_cython_modules_are_checked_before_import(tmp_path, capsys):
    so = tmp_path / "_cython_magic_abc.cpython-311-x86_64-linux-gnu.so"
    calls = []

    def load(module_path, *args, **kwargs):  # Brian2's _load_module: builds if missing
        calls.append(Path(module_path).exists())
        if not Path(module_path).exists():
            Path(module_path).write_bytes(b"\x7fELF" + b"\x01" * 4000)
        return SimpleNamespace(name="module")

    loader = verified_loader(load)
    assert verified_loader(loader) is loader  # wrapping twice changes nothing
    loader(str(so))
    assert check_cython_module(so)  # a module built here is recorded and then trusted
    loader(str(so))
    assert calls == [False, True]  # the intact module is imported, not rebuilt
    so.write_bytes(so.read_bytes()[:100])  # truncated: importing it could kill Python
    assert not check_cython_module(so) and not so.exists()  # deleted before import
    assert "does not match its SHA-256 record" in capsys.readouterr().err
    so.write_bytes(b"\x7fELF" + b"\x02" * 4000)  # someone else's module, no record
    loader(str(so))
    # unrecorded: deleted, so Brian2 rebuilt it; the rebuilt one is recorded
    assert calls[-1] is False and check_cython_module(so)
    assert "no SHA-256 record" in capsys.readouterr().err
    tmp_path.chmod(0o777)
    n_calls = len(calls)
    # a cache others can write to is refused before Brian2 loads or builds anything
    with pytest.raises(UnsafeCacheError, match="writable by group or others"):
        loader(str(so))
    assert len(calls) == n_calls
    tmp_path.chmod(0o700)


def test_brian2_uses_the_private_checked_cython_cache():
    b2 = backend.import_brian2()
    from brian2.codegen.runtime.cython_rt.extension_manager import cython_extension_manager

    before = b2.prefs.codegen.runtime.cython.cache_dir
    with backend.brian2_session():  # neurocomp's runs (brian_backend, BuiltPipeline)
        cache = Path(b2.prefs.codegen.runtime.cython.cache_dir)
        # not the shared default ~/.cython/brian_extensions, and private
        assert ".cython" not in cache.parts and build_cache.unsafe_reason(cache) is None
        # every module Brian2 loads passes the check first
        assert getattr(cython_extension_manager._load_module, "_neurocomp_verified", False)
    # outside neurocomp's runs, Brian2 is the user's: preference and loader put back
    assert b2.prefs.codegen.runtime.cython.cache_dir == before
    assert not getattr(cython_extension_manager._load_module, "_neurocomp_verified", False)


def test_import_brian2_gives_ctrl_c_back_to_the_caller() -> None:
    import subprocess
    import sys

    code = ("import signal\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "from neurocomp.biophysics.backend import import_brian2\n"
            "import_brian2()\n"
            "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    # Brian2's own handler would call SIG_IGN (an int) on Ctrl-C and raise TypeError; the
    # caller's handler is back in place after the import (exact)
    assert out.stdout.strip().splitlines()[-1] == "True", out.stderr[-2000:]
