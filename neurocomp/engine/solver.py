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

__all__ = ["TreePlan", "TreeSolve", "tree_solve"]


class TreePlan:
    """A :class:`CableTree`'s index tensors on one device (built once per simulation).

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
        # per level: (start, stop, parent indices, first parent, last parent + 1, one-hot
        # child → parent matrix): the scatter to parents is a small matmul (a gather-only
        # step compiles well; index_add does not vectorise in torch.compile on CPU)
        self.levels = []
        self.device = device
        self._onehot: dict[torch.dtype, list[torch.Tensor | None]] = {}
        for start, stop in tree.levels:
            p = parent[start:stop]
            self.levels.append((start, stop, self.parent[start:stop],
                                int(p.min()), int(p.max()) + 1))

    def onehot(self, dtype: torch.dtype) -> list[torch.Tensor | None]:
        """Per level, the (children, parents) 0/1 matrix in ``dtype`` (cached)."""
        if dtype not in self._onehot:
            mats: list[torch.Tensor | None] = [None]
            for start, stop, par, lo, hi in self.levels[1:]:
                m = torch.zeros(stop - start, hi - lo, dtype=dtype, device=self.device)
                m[torch.arange(stop - start, device=self.device), par - lo] = 1.0
                mats.append(m)
            self._onehot[dtype] = mats
        return self._onehot[dtype]

    def neighbour_sum(self, g: torch.Tensor) -> torch.Tensor:
        """Σ of the axial conductances at every node (edges to parent and children), µS."""
        root = torch.zeros_like(g[..., :1])
        g0 = torch.cat([root, g[..., 1:]], dim=-1)
        return g0.index_add(-1, self.parent[1:], g[..., 1:]) if self.n > 1 else g0


def _eliminate(d: torch.Tensor, b: torch.Tensor | None, g: torch.Tensor,
               plan: TreePlan) -> None:
    """Leaves to root, in place on ``d`` (and ``b``): d_p −= g²/d_i, b_p += g·b_i/d_i."""
    mats = plan.onehot(d.dtype)
    for (start, stop, _par, lo, hi), m in zip(reversed(plan.levels[1:]),
                                              reversed(mats[1:]), strict=True):
        gi = g[..., start:stop]
        f = gi / d[..., start:stop]
        d[..., lo:hi] -= (f * gi) @ m
        if b is not None:
            b[..., lo:hi] += (f * b[..., start:stop]) @ m


def _substitute(d: torch.Tensor, b: torch.Tensor, g: torch.Tensor, plan: TreePlan
                ) -> torch.Tensor:
    """Root to leaves on an eliminated system: x_i = (b_i + g_i x_p)/d_i (in place on b)."""
    b[..., 0:1] /= d[..., 0:1]
    for start, stop, par, _lo, _hi in plan.levels[1:]:
        b[..., start:stop] += g[..., start:stop] * b.index_select(-1, par)
        b[..., start:stop] /= d[..., start:stop]
    return b


def _solve_rhs(d_elim: torch.Tensor, b: torch.Tensor, g: torch.Tensor, plan: TreePlan
               ) -> torch.Tensor:
    """Solve with an already eliminated diagonal (forward sweep on b only, then back)."""
    mats = plan.onehot(d_elim.dtype)
    for (start, stop, _par, lo, hi), m in zip(reversed(plan.levels[1:]),
                                              reversed(mats[1:]), strict=True):
        b[..., lo:hi] += (g[..., start:stop] / d_elim[..., start:stop] * b[..., start:stop]) @ m
    return _substitute(d_elim, b, g, plan)


class TreeSolve(torch.autograd.Function):
    """x = A⁻¹ b for the symmetric tree matrix (diag ``d``, off-diagonal −``g``)."""

    @staticmethod
    def forward(ctx: Any, d: torch.Tensor, b: torch.Tensor, g: torch.Tensor,
                plan: TreePlan) -> torch.Tensor:
        shape = torch.broadcast_shapes(d.shape, b.shape)
        d_e = d.expand(shape).clone()
        x = b.expand(shape).clone()
        g_full = g.expand(shape[:-1] + g.shape[-1:]) if g.dim() < len(shape) else g
        _eliminate(d_e, x, g_full, plan)
        _substitute(d_e, x, g_full, plan)
        ctx.plan = plan
        ctx.save_for_backward(d_e, x, g)
        return x

    @staticmethod
    def backward(ctx: Any, grad_x: torch.Tensor) -> tuple[Any, ...]:
        d_e, x, g = ctx.saved_tensors
        plan = ctx.plan
        g_full = g.expand(x.shape[:-1] + g.shape[-1:]) if g.dim() < x.dim() else g
        grad_b = _solve_rhs(d_e, grad_x.clone(), g_full, plan)
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
