r"""Two fast forms of the dendritic convolution for long kernels: Toeplitz GEMMs and FFT.

When the kernel spans (nearly) the whole dendrite axis — the Purkinje cell's 10×1000×5
filter on 1000 dendrites — a direct 3-D convolution with one input and one output channel is
a poor fit for CPU convolution kernels (oneDNN reached ~8 GFLOP/s forward on this 2-core
machine). Two exact rewrites:

**Toeplitz GEMMs** (:func:`toeplitz_conv`). Along the dendrite axis a cross-correlation with
zero padding is multiplication by a banded Toeplitz matrix

.. math:: T_{d_\text{out}, d_\text{in}} = w[d_\text{in} - d_\text{out} + p_\text{lo}]
          \quad (0 \le d_\text{in} - d_\text{out} + p_\text{lo} < K_d,\ \text{else } 0),

so for each (input channel, branch tap, time tap) the layer does one GEMM of the shifted
input rows with :math:`T`, and sums them. The multiply-adds are :math:`D_\text{out}
D_\text{in}` per row instead of :math:`D_\text{out} K_d` — the same when the kernel spans
the axis with ``"same"`` padding (the post's Purkinje case) — so this form does exactly the
direct sum's work, at GEMM speed, and ``FlopCounterMode`` counts it. The backward pass is
written out (it rebuilds each tap's matrix instead of saving it), so autograd keeps only the
padded input and the weight.

**FFT** (:func:`fft_conv`). By the convolution theorem the same outputs come from a product
of spectra: :math:`O(N \log N)` instead of :math:`O(N K)` work, far less for a
50,000-tap kernel; ``FlopCounterMode`` does not count FFTs.
"""

from __future__ import annotations

import scipy.fft
import torch
from torch.autograd.function import once_differentiable

__all__ = ["fft_conv", "toeplitz_conv"]


def _tap_index(d_in: int, d_out: int, k_d: int, pad_lo: int,
               device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat positions in the (d_out, d_in) matrix that a kernel entry reaches, and which entry."""
    j = (torch.arange(d_in, device=device)[None, :] - torch.arange(d_out, device=device)[:, None]
         + pad_lo)
    valid = ((j >= 0) & (j < k_d)).flatten()
    positions = valid.nonzero().squeeze(1)
    return positions, j.flatten()[positions]


def _tap_matrix(w_tap: torch.Tensor, positions: torch.Tensor, entries: torch.Tensor,
                d_out: int, d_in: int) -> torch.Tensor:
    """Toeplitz matrices of one tap, shape (C_out·D_out, D_in), from weights (C_out, K_d)."""
    c_out = w_tap.shape[0]
    mat = w_tap.new_zeros(c_out, d_out * d_in)
    mat[:, positions] = w_tap[:, entries]
    return mat.view(c_out * d_out, d_in)


class _ToeplitzConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, xp: torch.Tensor, weight: torch.Tensor, pad_lo: int,  # type: ignore[override]
                d_out: int) -> torch.Tensor:
        batch, c_in, pp, tp, d_in = xp.shape
        c_out, _, k_b, k_d, k_t = weight.shape
        p_out, t_out = pp - k_b + 1, tp - k_t + 1
        positions, entries = _tap_index(d_in, d_out, k_d, pad_lo, xp.device)
        out = xp.new_zeros(batch * p_out * t_out, c_out * d_out)
        for c in range(c_in):
            for i in range(k_b):
                for k in range(k_t):
                    rows = xp[:, c, i:i + p_out, k:k + t_out, :].reshape(-1, d_in)
                    mat = _tap_matrix(weight[:, c, i, :, k], positions, entries, d_out, d_in)
                    torch.addmm(out, rows, mat.t(), out=out)  # counted by FlopCounterMode
        ctx.save_for_backward(xp, weight)
        ctx.geometry = (pad_lo, d_out)
        return out.view(batch, p_out, t_out, c_out, d_out)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        xp, weight = ctx.saved_tensors
        pad_lo, d_out = ctx.geometry
        batch, c_in, pp, tp, d_in = xp.shape
        c_out, _, k_b, k_d, k_t = weight.shape
        p_out, t_out = pp - k_b + 1, tp - k_t + 1
        positions, entries = _tap_index(d_in, d_out, k_d, pad_lo, xp.device)
        g = grad.reshape(batch * p_out * t_out, c_out * d_out)
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_x = torch.zeros_like(xp) if need_x else None
        grad_w = torch.zeros_like(weight) if need_w else None
        for c in range(c_in):
            for i in range(k_b):
                for k in range(k_t):
                    mat = _tap_matrix(weight[:, c, i, :, k], positions, entries, d_out, d_in)
                    if grad_x is not None:
                        grad_x[:, c, i:i + p_out, k:k + t_out, :] += (g @ mat).view(
                            batch, p_out, t_out, d_in)
                    if grad_w is not None:
                        rows = xp[:, c, i:i + p_out, k:k + t_out, :].reshape(-1, d_in)
                        g_mat = (g.t() @ rows).view(c_out, d_out * d_in)[:, positions]
                        grad_w[:, c, i, :, k] = g_mat.new_zeros(c_out, k_d).index_add_(
                            1, entries, g_mat)
        return grad_x, grad_w, None, None


def toeplitz_conv(xp: torch.Tensor, weight: torch.Tensor, *, pad_lo: int,
                  d_out: int) -> torch.Tensor:
    """Cross-correlate along the last (dendrite) axis by Toeplitz GEMMs.

    Parameters
    ----------
    xp : torch.Tensor
        Input of shape ``(batch, C_in, P_padded, T_padded, D_in)``, already zero-padded along
        branch and time (the dendrite axis is padded implicitly through ``pad_lo``).
    weight : torch.Tensor
        Kernel ``(C_out, C_in, K_branch, K_dendrite, K_time)``, as for ``conv3d``.
    pad_lo : int
        Zeros implied before the first dendrite.
    d_out : int
        Number of output positions along the dendrite axis.

    Returns
    -------
    torch.Tensor
        ``(batch, P_out, T_out, C_out, D_out)``; equal to ``conv3d`` on the padded input.
    """
    return _ToeplitzConv.apply(xp.contiguous(), weight, pad_lo, d_out)


def fft_conv(xp: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Valid 3-D cross-correlation of a padded input with a kernel, by FFT.

    Parameters
    ----------
    xp : torch.Tensor
        ``(batch, C_in, P, D, T)``, already zero-padded on every axis.
    weight : torch.Tensor
        ``(C_out, C_in, K_branch, K_dendrite, K_time)``.

    Returns
    -------
    torch.Tensor
        ``(batch, C_out, P-K_b+1, D-K_d+1, T-K_t+1)``; equal to ``conv3d(xp, weight)`` up to
        FFT round-off (relative ~1e-6 in float32). Half precision is computed in float32.

    Notes
    -----
    Circular convolution of length :math:`L \\ge` the padded size wraps only into the first
    :math:`K-1` outputs of each axis, which the valid part drops, so no extra padding is
    needed; each length is rounded up to a fast FFT size.
    """
    k = weight.shape[2:]
    work = xp.dtype if xp.dtype in (torch.float32, torch.float64) else torch.float32
    sizes = [scipy.fft.next_fast_len(int(n), real=(axis == 2))
             for axis, n in enumerate(xp.shape[2:])]
    dims = (2, 3, 4)
    spec_x = torch.fft.rfftn(xp.to(work), s=sizes, dim=dims)
    spec_w = torch.fft.rfftn(weight.to(work).flip(dims), s=sizes, dim=dims)
    if spec_x.shape[1] == 1 and spec_w.shape[0] == 1:
        spec_y = spec_x * spec_w
    else:
        spec_y = torch.einsum("bcpdt,ocpdt->bopdt", spec_x, spec_w)
    y = torch.fft.irfftn(spec_y, s=sizes, dim=dims)
    out = [n - kk + 1 for n, kk in zip(xp.shape[2:], k, strict=True)]
    return y[:, :, k[0] - 1:k[0] - 1 + out[0], k[1] - 1:k[1] - 1 + out[1],
             k[2] - 1:k[2] - 1 + out[2]].to(xp.dtype)
