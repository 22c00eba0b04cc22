"""The architecture as checks (issue 14): import contracts and no private name across packages.

* The import-linter contracts of ``pyproject.toml`` (``[tool.importlinter]``): analyses →
  models → neurocomp, never upwards; the library never imports ``neurocomp_models``,
  ``neurocomp_analyses`` or
  ``benchmarks``; benchmarks never import ``neurocomp_analyses``; no analysis imports another; the
  pillars mapping → accounting → (biophysics | layers).
* No private name (leading underscore) is imported from a module of another package: a
  helper one package needs from another is public in its module.
* Accounting's wings (the sub-packages of ``neurocomp.accounting``) are entered through their
  face: code outside ``neurocomp/accounting/<wing>/`` imports ``neurocomp.accounting.<wing>``,
  never one of its modules, and each face (and accounting's own) has at most 15 names.
  ``tests/`` is exempt: tests may look inside a wing on purpose.
* The other pillars (biophysics, layers, mapping) are entered through their face the same
  way: outside ``neurocomp/<pillar>/`` (``tools/`` included, ``tests/`` exempt) code imports
  ``from neurocomp.<pillar> import X`` with ``X`` in the face's ``__all__``; a submodule is
  importable as a module only where the face's ``__init__`` imports it by name.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Directories of importable code the checks read (tests may look inside on purpose).
CODE = ("neurocomp", "models", "analyses", "benchmarks")
#: Private modules imported across packages (none left: `neurocomp.checks` and
#: `neurocomp_models.neurons.common` became public). Keep it empty.
PRIVATE_MODULE_EXCEPTIONS: set[tuple[str, str]] = set()


def _lint_imports() -> list[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is not None:
        return [exe]
    return [sys.executable, "-c", "import sys; from importlinter.cli import "
            "lint_imports_command as c; sys.exit(c())"]


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None,
                    reason="import-linter is not installed (pip install -e '.[dev]')")
def test_import_contracts_hold() -> None:
    proc = subprocess.run([*_lint_imports(), "--no-cache", "--no-logo", "pyproject.toml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"lint-imports failed:\n{proc.stdout}\n{proc.stderr}"
    assert " 0 broken" in proc.stdout, proc.stdout


#: Folders whose installed import name differs (setup.py): folder -> import name.
IMPORT_NAMES = {"models": "neurocomp_models", "analyses": "neurocomp_analyses"}
FOLDERS = {v: k for k, v in IMPORT_NAMES.items()}


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    parts[0] = IMPORT_NAMES.get(parts[0], parts[0])
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(root: Path, module: str) -> str:
    """The package holding ``module``'s names: itself if it is a package, else its parent."""
    parts = module.split(".")
    path = root.joinpath(FOLDERS.get(parts[0], parts[0]), *parts[1:])
    return module if (path / "__init__.py").is_file() else module.rpartition(".")[0]


def _inside(importer_package: str, package: str) -> bool:
    return importer_package == package or importer_package.startswith(package + ".")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports_across_packages(root: Path = ROOT, tops: tuple[str, ...] = CODE
                                    ) -> tuple[list[str], list[tuple[str, str]]]:
    """Private names, and (importer's top package, private module) pairs, that a module
    under ``root/tops`` imports from a package other than its own (or one it lies in)."""
    names, modules = [], []
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            here = _module_name(root, path)
            importer = here if path.name == "__init__.py" else here.rpartition(".")[0]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                        and FOLDERS.get(node.module.split(".")[0],
                                        node.module.split(".")[0]) in tops):
                    continue
                parts = node.module.split(".")
                modules += [(top, node.module) for i, part in enumerate(parts)
                            if _private(part) and not _inside(importer, ".".join(parts[:i]))]
                owner = _package_of(root, node.module)
                names += [f"{path.relative_to(root)}:{node.lineno}: {node.module}.{a.name}"
                          for a in node.names
                          if _private(a.name) and not _inside(importer, owner)]
    return names, modules


def test_no_private_name_crosses_a_package() -> None:
    names, modules = private_imports_across_packages()
    assert names == [], ("private names imported from another package (make them public "
                         "in their module):\n" + "\n".join(names))
    unexpected = sorted(set(modules) - PRIVATE_MODULE_EXCEPTIONS)
    assert unexpected == [], f"private modules imported from another package: {unexpected}"


def test_the_private_name_check_sees_crossings_only(tmp_path: Path) -> None:
    files = {
        "a/__init__.py": "",
        "a/x.py": "_Y = 1\n",
        "a/w.py": "from a.x import _Y\n",               # same package: allowed
        "a/sub/__init__.py": "",
        "a/sub/v.py": "from a.x import _Y\n",           # a sub-package of a: allowed
        "a/_private.py": "Z = 1\n",
        "b/__init__.py": "",
        "b/z.py": "from a.x import _Y, __all__\nfrom a._private import Z\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    names, modules = private_imports_across_packages(tmp_path, ("a", "b"))
    assert names == [f"{Path('b/z.py')}:1: a.x._Y"]
    assert modules == [("b", "a._private")]


#: Most names a face (a wing's ``__init__``, or accounting's) exports.
MAX_FACE_NAMES = 15
ACCOUNTING = "neurocomp.accounting"


def wings(root: Path = ROOT) -> list[str]:
    """The wings: the sub-packages of ``neurocomp.accounting``."""
    base = root.joinpath(*ACCOUNTING.split("."))
    return sorted(p.parent.name for p in base.glob("*/__init__.py"))


def imports_past_a_face(root: Path = ROOT, tops: tuple[str, ...] = CODE) -> list[str]:
    """Imports, by a module under ``root/tops`` outside a wing, of a module inside that wing
    (``from neurocomp.accounting.<wing>.<module> import …``, ``import …`` of it, or
    ``from neurocomp.accounting.<wing> import <module>``)."""
    names = set(wings(root))
    out = []
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            here = _module_name(root, path)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    targets = [node.module]
                    if node.module.count(".") == 2:  # neurocomp.accounting.<wing>: a module?
                        targets += [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                else:
                    continue
                for target in targets:
                    parts = target.split(".")
                    if not (len(parts) >= 4 and ".".join(parts[:2]) == ACCOUNTING
                            and parts[2] in names):
                        continue
                    wing = ".".join(parts[:3])
                    module = root.joinpath(*parts)
                    if not (module.with_suffix(".py").is_file() or module.is_dir()):
                        continue  # a name of the face, not a module
                    if not _inside(here, wing):
                        out.append(f"{path.relative_to(root)}:{node.lineno}: {target}")
    return out


def test_wings_are_entered_through_their_face() -> None:
    found = imports_past_a_face()
    assert found == [], ("modules of an accounting wing imported from outside it (import the "
                         "wing's face, neurocomp.accounting.<wing>):\n" + "\n".join(found))


def test_faces_are_small() -> None:
    sizes = {}
    for name in [ACCOUNTING, *(f"{ACCOUNTING}.{w}" for w in wings())]:
        face = importlib.import_module(name)
        sizes[name] = len(face.__all__)
        assert sorted(face.__all__) == sorted(set(face.__all__)), name
        assert all(hasattr(face, n) for n in face.__all__), name
    assert len(sizes) >= 6
    too_big = {k: v for k, v in sizes.items() if v > MAX_FACE_NAMES}
    assert too_big == {}, f"faces with more than {MAX_FACE_NAMES} names: {too_big}"


def test_the_face_check_sees_modules_of_other_wings_only(tmp_path: Path) -> None:
    files = {
        "neurocomp/__init__.py": "",
        "neurocomp/accounting/__init__.py": "from neurocomp.accounting.w import f\n",
        "neurocomp/accounting/w/__init__.py": "from neurocomp.accounting.w.m import f\n",
        "neurocomp/accounting/w/m.py": "def f(): pass\n",
        "neurocomp/accounting/w/n.py": "from neurocomp.accounting.w.m import f\n",  # inside
        "neurocomp/accounting/v/__init__.py": "",
        "neurocomp/accounting/v/x.py": ("from neurocomp.accounting.w import f\n"  # the face
                                        "from neurocomp.accounting.w.m import f\n"
                                        "from neurocomp.accounting.w import m\n"
                                        "import neurocomp.accounting.w.m\n"),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert wings(tmp_path) == ["v", "w"]
    x = Path("neurocomp/accounting/v/x.py")
    assert imports_past_a_face(tmp_path, ("neurocomp",)) == [
        f"{x}:2: neurocomp.accounting.w.m", f"{x}:3: neurocomp.accounting.w.m",
        f"{x}:4: neurocomp.accounting.w.m"]


#: The pillars other than accounting (whose wings are checked above), entered by their face.
PILLARS = ("biophysics", "layers", "mapping")
#: Where the pillar-face check reads (``tools/`` too; ``tests/`` may look inside on purpose).
FACE_CODE = (*CODE, "tools")


def _face(root: Path, pillar: str) -> tuple[set[str], set[str]]:
    """The names in ``neurocomp.<pillar>``'s ``__all__``, and the submodules its
    ``__init__`` imports by name (``from neurocomp.<pillar> import <submodule>``)."""
    package = f"neurocomp.{pillar}"
    init = root / "neurocomp" / pillar / "__init__.py"
    exported, submodules = set(), set()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            exported = set(ast.literal_eval(node.value))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == package:
            submodules |= {a.asname or a.name for a in node.names
                           if _is_module(root, f"{package}.{a.name}")}
    return exported, submodules


def _is_module(root: Path, dotted: str) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_past_a_pillar_face(root: Path = ROOT, tops: tuple[str, ...] = FACE_CODE,
                               pillars: tuple[str, ...] = PILLARS) -> list[str]:
    """Imports, by a module under ``root/tops`` outside ``neurocomp/<pillar>/``, that skip
    the pillar's face: ``from neurocomp.<pillar>.<module> import …``, ``import
    neurocomp.<pillar>.<module>``, ``from neurocomp.<pillar> import <submodule>`` where the
    face's ``__init__`` does not itself import that submodule by name, and ``from
    neurocomp.<pillar> import <name>`` of a name missing from the face's ``__all__``."""
    faces = {p: _face(root, p) for p in pillars}
    out = []
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            here = _module_name(root, path)
            where = f"{path.relative_to(root)}"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found = [(node.module, [a.name for a in node.names])]
                elif isinstance(node, ast.Import):
                    found = [(a.name, None) for a in node.names]
                else:
                    continue
                for module, names in found:
                    parts = module.split(".")
                    if len(parts) < 2 or parts[0] != "neurocomp" or parts[1] not in faces:
                        continue
                    pillar = ".".join(parts[:2])
                    if _inside(here, pillar):
                        continue
                    if len(parts) > 2:
                        out.append(f"{where}:{node.lineno}: {module}")
                        continue
                    exported, submodules = faces[parts[1]]
                    for name in names or ():
                        if _is_module(root, f"{pillar}.{name}"):
                            if name not in submodules:
                                out.append(f"{where}:{node.lineno}: {pillar}.{name}")
                        elif name != "*" and name not in exported:
                            out.append(f"{where}:{node.lineno}: {pillar}.{name} "
                                       "(not in the face's __all__)")
    return out


def test_pillars_are_entered_through_their_face() -> None:
    """Outside ``neurocomp/<pillar>/`` (for biophysics, layers, mapping), code imports the
    pillar's face, ``from neurocomp.<pillar> import X`` with ``X`` in its ``__all__``, never
    one of its modules. A submodule may be imported as a namespace (``from
    neurocomp.biophysics import inputs``) only where the face's ``__init__`` imports it by
    name itself (and lists it in ``__all__``): the face decides which modules are public as
    modules. A name an outside user needs is public and belongs on the face; no private name
    does (see the private-name test). ``tests/`` is exempt: tests may look inside a pillar."""
    found = imports_past_a_pillar_face()
    assert found == [], ("modules of a pillar imported past its face (import from "
                         "neurocomp.<pillar> and add the name to the face):\n" + "\n".join(found))


def test_pillar_faces_are_consistent() -> None:
    for pillar in PILLARS:
        face = importlib.import_module(f"neurocomp.{pillar}")
        assert list(face.__all__) == sorted(set(face.__all__), key=_all_order), pillar
        assert all(hasattr(face, n) for n in face.__all__), pillar
        assert not [n for n in face.__all__ if _private(n)], pillar
        exported, submodules = _face(ROOT, pillar)
        assert submodules <= exported, (pillar, submodules - exported)


def _all_order(name: str) -> tuple[bool, str]:
    """isort's order for ``__all__``: CONSTANTS, then Classes, then functions and modules."""
    return (not name.isupper(), not name[:1].isupper(), name)


def test_the_pillar_face_check_sees_imports_past_the_face(tmp_path: Path) -> None:
    files = {
        "neurocomp/__init__.py": "",
        "neurocomp/p/__init__.py": ("from neurocomp.p import m\n"
                                    "from neurocomp.p.m import f\n"
                                    "__all__ = ['f', 'm']\n"),
        "neurocomp/p/m.py": "def f(): pass\ndef g(): pass\n",
        "neurocomp/p/n.py": "from neurocomp.p.m import g\nimport neurocomp.p.m\n",  # inside
        "neurocomp/p/o.py": "",
        "neurocomp/q/__init__.py": "",
        "neurocomp/q/x.py": ("from neurocomp.p import f, m\n"   # the face: allowed
                             "import neurocomp.p\n"
                             "from neurocomp.p.m import f\n"
                             "import neurocomp.p.m\n"
                             "from neurocomp.p import o\n"      # not imported by the face
                             "from neurocomp.p import g\n"),    # not in __all__
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    x = Path("neurocomp/q/x.py")
    assert imports_past_a_pillar_face(tmp_path, ("neurocomp",), ("p",)) == [
        f"{x}:3: neurocomp.p.m", f"{x}:4: neurocomp.p.m", f"{x}:5: neurocomp.p.o",
        f"{x}:6: neurocomp.p.g (not in the face's __all__)"]
