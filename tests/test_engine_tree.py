"""The engine's tree (Brian2's discretisation) and its level-scheduled Hines solver (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurocomp.biophysics import (
    MorphologyError,
    import_brian2,
    symmetric_tree,
    with_axon,
)
from neurocomp.engine import TreePlan, cable_tree, tree_solve
from neurocomp.engine.tree import check_parents


def _tree():
    morph = symmetric_tree(levels=4, root_length_um=120.0, root_diameter_um=2.0,
                           n_per_section=3, soma_diameter_um=15.0)
    return with_axon(morph, ais_length_um=20, ais_diameter_um=1, ais_compartments=2,
                     axon_length_um=100, axon_diameter_um=1, axon_compartments=4)


def test_areas_and_order_match_brian2() -> None:
    """Areas equal Brian2's to round-off (1e-12 relative: same formula, other rounding)."""
    import_brian2()
    morph = _tree()
    tree = cable_tree(morph)
    brian = []

    def walk(sec):
        brian.extend(np.atleast_1d(np.asarray(sec.area / import_brian2().meter**2)))
        for child in sec.children:
            walk(child)

    walk(morph.to_brian2())
    np.testing.assert_allclose(tree.area_cm2[tree.node_of_compartment] * 1e-4, brian,
                               rtol=1e-12)
    assert tree.n_compartments == morph.n_compartments
    # branch points with ≥ 3 arms are nodes without membrane
    assert tree.n_nodes - tree.n_compartments == 7
    assert (tree.area_cm2[tree.area_cm2 == 0]).size == 7


@pytest.mark.parametrize("batch", [1, 5])
def test_level_scheduled_solve_equals_dense_solve(batch: int) -> None:
    """Tolerance 1e-12 relative: an exact O(n) elimination vs LAPACK on a well-conditioned
    (diagonally dominant) system."""
    tree = cable_tree(_tree())
    plan = TreePlan(tree, "cpu")
    rng = np.random.default_rng(0)
    g = torch.tensor(rng.uniform(0.1, 2.0, tree.n_nodes))
    d = plan.neighbour_sum(g) + torch.tensor(rng.uniform(0.01, 1.0, (batch, tree.n_nodes)))
    b = torch.tensor(rng.normal(size=(batch, tree.n_nodes)))
    x = tree_solve(d, b, g, plan)
    a = torch.diag_embed(d)
    for i in range(1, tree.n_nodes):
        a[:, i, tree.parent[i]] -= g[i]
        a[:, tree.parent[i], i] -= g[i]
    np.testing.assert_allclose(x.numpy(), torch.linalg.solve(a, b).numpy(), rtol=1e-12,
                               atol=1e-12)


def test_solver_gradcheck_small_tree() -> None:
    tree = cable_tree(symmetric_tree(levels=2, root_length_um=50, root_diameter_um=1,
                                     n_per_section=2, soma_diameter_um=10))
    plan = TreePlan(tree, "cpu")
    g = torch.rand(tree.n_nodes, dtype=torch.float64, requires_grad=True)
    d = (torch.rand(2, tree.n_nodes, dtype=torch.float64) + 3).requires_grad_()
    b = torch.randn(2, tree.n_nodes, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda d, b, g: tree_solve(d, b, g, plan), (d, b, g))


@pytest.mark.parametrize(("parent", "match"), [
    ([-1, 0, 5], "not a node index"),
    ([-1, 0, -1], "disconnected"),
    ([1, 2, 0], "found none"),
    ([-1, 2, 1], "never reach the root"),
])
def test_bad_trees_are_refused(parent, match) -> None:
    with pytest.raises(MorphologyError, match=match):
        check_parents(parent)
