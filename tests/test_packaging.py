"""The wheel beside a researcher's own code: import names that cannot clash.

The repository keeps its folders ``models/`` and ``analyses/``; the wheel installs them as
``neurocomp_models`` and ``neurocomp_analyses`` (``setup.py``). This test builds the wheel,
installs it (without dependencies, which the test environment has) into a fresh folder, and in
a project that has its own ``models`` and ``analyses`` packages imports both — the user's and
neurocomp's — and runs two analyses of the quick start from the installed copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "--quiet", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for leftover in (ROOT / "build").glob("[lb][id][bs]*"):  # pip's in-tree build/lib, bdist.*
        shutil.rmtree(leftover, ignore_errors=True)
    (path,) = out.glob("neurocomp-*.whl")
    return path


def test_wheel_installs_no_clashing_top_level_names(wheel):
    with zipfile.ZipFile(wheel) as z:
        tops = {n.split("/")[0] for n in z.namelist() if not n.split("/")[0].endswith(
            (".dist-info", ".data"))}
        names = z.namelist()
    assert tops == {"neurocomp", "neurocomp_models", "neurocomp_analyses"}, tops
    # the shipped data travel with their packages
    assert "neurocomp_models/data/surrogate_frontier.json" in names
    assert any(n.startswith("neurocomp_analyses/data/neuronio-mini/") and n.endswith(".npz")
               for n in names)


def test_installed_wheel_runs_beside_a_users_models_package(wheel, tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                           "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    project = tmp_path / "my_research"
    for pkg in ("models", "analyses"):
        (project / pkg).mkdir(parents=True)
        (project / pkg / "__init__.py").write_text(f"OWNER = 'me: {pkg}'\n")
    script = textwrap.dedent(f"""
        import sys
        import models, analyses
        assert models.OWNER == "me: models" and analyses.OWNER == "me: analyses"
        import neurocomp, neurocomp_models.convnets
        from neurocomp_models.neurons import l5_pyramidal
        assert neurocomp.__file__.startswith({str(target)!r}), neurocomp.__file__
        assert neurocomp_models.convnets.__file__.startswith({str(target)!r})
        from neurocomp.cli import main
        sys.exit(main(["run", "brain-estimates", "cable-validation", "--quick",
                       "--out", "results"]))
    """)
    # -S: no site hooks, so the development install of this checkout (an editable finder)
    # is not on the path; the dependencies' folder is added by hand, after the wheel's
    deps = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project), str(target), deps]),
           "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-S", "-c", script], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("brain-estimates", "cable-validation"):
        assert (project / "results" / name / "figure.png").stat().st_size > 10_000
    assert (project / "results" / "index.html").is_file()
