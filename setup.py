"""Packaging shim: the repository's ``models/`` and ``analyses/`` folders install as
``neurocomp_models`` and ``neurocomp_analyses``, so they never clash with a user's own
``models`` or ``analyses`` package (everything else is in ``pyproject.toml``)."""

from setuptools import find_packages, setup

RENAMED = {"neurocomp_models": "models", "neurocomp_analyses": "analyses"}

setup(
    packages=find_packages(include=["neurocomp", "neurocomp.*"])
    + [f"{name}{sub}" for name, folder in RENAMED.items()
       for sub in ["", *(f".{p}" for p in find_packages(where=folder))]],
    package_dir=RENAMED,
)
