"""Shared fixtures and marker handling for the neurocomp test suite."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu`` tests when CUDA is absent (they would run unchanged on a GPU machine)."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA; none on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator, so every test sees the same numbers on every run."""
    return np.random.default_rng(20150326)  # the date of Dettmers' convolution post


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread for the test (restored afterwards).

    Tiny tensors gain nothing from two threads, and under load the OpenMP spin-waits made
    the float64 gradchecks 3–20× slower (measured when the layers were written).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
