r"""Hines elimination on a tree, vectorised by levels, batched and differentiable.

One implicit step of the cable equation is a linear system :math:`A x = b` whose matrix is
symmetric when every row is multiplied by its compartment's area: diagonal :math:`d_i`
(capacitance/dt + membrane conductance + the axial conductances of node *i*, µS) and
:math:`-g_i` between node *i* and its parent. Hines (1984) solves it in O(n) by eliminating
leaves into their parents and substituting back from the root; with nodes numbered by depth
(:class:`~neurocomp.engine.tree.CableTree`) every level is one contiguous slice, so a whole
level is eliminated with a handful of tensor operations — the level scheduling of Zhang et
al. (2023, DHS) — and the number of sequential steps is the tree's depth, not its size.

:class:`TreeSolve` is a ``torch.autograd.Function``: the matrix is symmetric, so the gradient
of the right-hand side is one more solve with the same (already eliminated) diagonal,
:math:`\bar b = A^{-1}\bar x`, and :math:`\bar d_i = -\bar b_i x_i`,
:math:`\bar g_i = \bar b_i x_{p(i)} + \bar b_{p(i)} x_i`. Nothing of the elimination is kept
for the backward pass but the eliminated diagonal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from neurocomp.engine.tree import CableTree

__all__ = ["TreePlan", "TreeSolve", "solve_levels", "tree_solve"]


class TreePlan:
    """A :class:`CableTree`'s index tensors on one device (built once per simulation).

    The system is handled one level at a time as separate tensors (no in-place slice
    updates), so the sweep is a short chain of functional ops that ``torch.compile`` fuses
    into one kernel per level and direction. A level's contributions reach its parents by a
    scatter-add over ``up[L]`` (each node's parent's position in level L − 1; children in
    node order).

    Parameters
    ----------
    tree : CableTree
        The network.
    device : torch.device
        Where the tensors live.
    """

    def __init__(self, tree: CableTree, device: torch.device | str) -> None:
        self.tree = tree
        self.n = tree.n_nodes
        parent = np.maximum(tree.parent, 0)
        self.parent = torch.as_tensor(parent, dtype=torch.long, device=device)
        self.device = device
        self.sizes = [stop - start for start, stop in tree.levels]
        #: per level ≥ 1: parent position inside level L − 1
        self.up: list[torch.Tensor | None] = [None]
        #: per level ≥ 1: node i of the level is the only child of node i of level L − 1
        self.chain: list[bool] = [False]
        for (start, stop), (pstart, pstop) in zip(tree.levels[1:], tree.levels[:-1],
                                                  strict=True):
            local = parent[start:stop] - pstart
            self.up.append(torch.as_tensor(local, dtype=torch.long, device=device))
            self.chain.append(bool(np.array_equal(local, np.arange(pstop - pstart))))

    def neighbour_sum(self, g: torch.Tensor) -> torch.Tensor:
        """Σ of the axial conductances at every node (edges to parent and children), µS."""
        root = torch.zeros_like(g[..., :1])
        g0 = torch.cat([root, g[..., 1:]], dim=-1)
        return g0.index_add(-1, self.parent[1:], g[..., 1:]) if self.n > 1 else g0

    def split(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``x`` (..., n_nodes) as per-level views."""
        return list(torch.split(x, self.sizes, dim=-1))

    def to_parents(self, level: int, c: torch.Tensor) -> torch.Tensor:
        """Σ over each node of level − 1 of ``c`` (…, n_level) at its children (a
        scatter-add over the children's parents, children in node order; a padded
        gather-and-sum compiled several times slower)."""
        if self.chain[level]:  # one child per parent, in order: nothing to gather
            return c
        out = torch.zeros(*c.shape[:-1], self.sizes[level - 1], dtype=c.dtype,
                          device=c.device)
        return out.index_add(-1, self.up[level], c)


def _eliminate(d: list[torch.Tensor], b: list[torch.Tensor] | None, g: list[torch.Tensor],
               plan: TreePlan) -> None:
    """Leaves to root (replacing the list entries): d_p −= Σ g²/d_i, b_p += Σ g·b_i/d_i."""
    for lv in range(len(d) - 1, 0, -1):
        f = g[lv] / d[lv]
        d[lv - 1] = d[lv - 1] - plan.to_parents(lv, f * g[lv])
        if b is not None:
            b[lv - 1] = b[lv - 1] + plan.to_parents(lv, f * b[lv])


def _substitute(d: list[torch.Tensor], b: list[torch.Tensor], g: list[torch.Tensor],
                plan: TreePlan) -> torch.Tensor:
    """Root to leaves on an eliminated system: x_i = (b_i + g_i x_p)/d_i."""
    x = [b[0] / d[0]]
    for lv in range(1, len(d)):
        xp = x[lv - 1] if plan.chain[lv] else x[lv - 1].index_select(-1, plan.up[lv])
        x.append((b[lv] + g[lv] * xp) / d[lv])
    return torch.cat(x, dim=-1)


def _solve_rhs(d_elim: torch.Tensor, b: torch.Tensor, g: torch.Tensor, plan: TreePlan
               ) -> torch.Tensor:
    """Solve with an already eliminated diagonal (forward sweep on b only, then back)."""
    dl, bl, gl = plan.split(d_elim), plan.split(b), plan.split(g)
    for lv in range(len(dl) - 1, 0, -1):
        bl[lv - 1] = bl[lv - 1] + plan.to_parents(lv, gl[lv] / dl[lv] * bl[lv])
    return _substitute(dl, bl, gl, plan)


def solve_levels(d: torch.Tensor, b: torch.Tensor, g: torch.Tensor, plan: TreePlan
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """The elimination and substitution without autograd bookkeeping: (x, eliminated d).

    ``d`` and ``b`` have the same shape (..., n_nodes); ``g`` broadcasts against them.
    """
    dl, bl, gl = plan.split(d), plan.split(b), plan.split(g)
    _eliminate(dl, bl, gl, plan)
    return _substitute(dl, bl, gl, plan), torch.cat(dl, dim=-1)


class TreeSolve(torch.autograd.Function):
    """x = A⁻¹ b for the symmetric tree matrix (diag ``d``, off-diagonal −``g``)."""

    @staticmethod
    def forward(ctx: Any, d: torch.Tensor, b: torch.Tensor, g: torch.Tensor,
                plan: TreePlan) -> torch.Tensor:
        shape = torch.broadcast_shapes(d.shape, b.shape)
        x, d_e = solve_levels(d.expand(shape), b.expand(shape), g, plan)
        ctx.plan = plan
        ctx.save_for_backward(d_e, x, g)
        return x

    @staticmethod
    def backward(ctx: Any, grad_x: torch.Tensor) -> tuple[Any, ...]:
        d_e, x, g = ctx.saved_tensors
        plan = ctx.plan
        grad_b = _solve_rhs(d_e, grad_x, g, plan)
        grad_d = grad_g = None
        if ctx.needs_input_grad[0]:
            grad_d = -grad_b * x
        if ctx.needs_input_grad[2]:
            xp = x.index_select(-1, plan.parent)
            bp = grad_b.index_select(-1, plan.parent)
            grad_g = grad_b * xp + bp * x
            grad_g[..., 0] = 0.0
            grad_g = grad_g.sum_to_size(g.shape)
        return grad_d, grad_b, grad_g, None


def tree_solve(d: torch.Tensor, b: torch.Tensor, g: torch.Tensor, plan: TreePlan
               ) -> torch.Tensor:
    """Solve the tree system for every batch row.

    Parameters
    ----------
    d : torch.Tensor, (..., n_nodes)
        Diagonal, µS (must be > the sum of the node's axial conductances for stability;
        with a positive capacitance/dt term it is).
    b : torch.Tensor, (..., n_nodes)
        Right-hand side, nA.
    g : torch.Tensor, (n_nodes,) or (..., n_nodes)
        Axial conductance to the parent, µS (entry 0, the root's, is ignored).
    plan : TreePlan
        The tree's index tensors.

    Returns
    -------
    torch.Tensor
        x, mV, with the broadcast batch shape of ``d`` and ``b``.
    """
    return TreeSolve.apply(d, b, g, plan)
