r"""Linear surrogates of a neuron: kernels from simulation, prediction as convolution, fitting.

Three routes to the same per-synapse kernels :math:`k_j(t)` (somatic voltage after one
vesicle at synapse :math:`j`): analytic (:mod:`neurocomp.mapping.kernels`), the impulse
response of the Brian2 model (:func:`impulse_response_kernels`, one synapse per trial), and
least squares on input/output data (:func:`fit_kernels`, on a raised-cosine basis). The
prediction :math:`\hat V(t) = E + \sum_j (k_j \ast x_j)(t)`, with :math:`x_j` the vesicles
released at synapse :math:`j` per time bin, is a causal ``Conv1d`` (:class:`KernelConv1d`)
or an FFT convolution (:func:`predict_voltage`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.fft
import torch
from torch import nn

from neurocomp.checks import check_finite_array, check_int, check_real
from neurocomp.mapping.convolution import convolve

if TYPE_CHECKING:
    from neurocomp.biophysics import NeuronModel, SpikeTrains

__all__ = [
    "KernelConv1d",
    "bin_synaptic_input",
    "exponential_basis",
    "fit_kernels",
    "impulse_response_kernels",
    "predict_voltage",
    "raised_cosine_basis",
    "variance_explained",
]


def variance_explained(y: np.ndarray, y_hat: np.ndarray) -> float:
    """1 − var(y − ŷ) / var(y)."""
    y = check_finite_array("y", np.asarray(y, dtype=np.float64))
    y_hat = check_finite_array("y_hat", np.asarray(y_hat, dtype=np.float64))
    if y.shape != y_hat.shape:
        raise ValueError(f"y and y_hat must have the same shape; got {y.shape} and "
                         f"{y_hat.shape}")
    var = float(np.var(y))
    if var == 0:
        raise ValueError("y is constant: variance explained is undefined")
    return 1.0 - float(np.var(y - y_hat)) / var


def bin_synaptic_input(trains: SpikeTrains, *, synapse_sources: Sequence[int], dt_ms: float,
                       duration_ms: float, delay_steps: int = 1) -> np.ndarray:
    """Events per synapse per time bin, shape (n_synapses, n_bins).

    Synapse ``k`` is driven by source ``synapse_sources[k]``. A spike at t takes effect at
    the next step in Brian2 (synapses act after the state update), hence ``delay_steps``.
    """
    dt = check_real("dt_ms", dt_ms, low=0, low_inclusive=False, unit="ms")
    n_bins = round(check_real("duration_ms", duration_ms, low=0, low_inclusive=False)
                       / dt)
    per_source = np.zeros((trains.n_sources, n_bins))
    bins = np.round(trains.times_ms / dt).astype(np.int64) + delay_steps
    keep = bins < n_bins
    np.add.at(per_source, (trains.indices[keep], bins[keep]), 1.0)
    src = np.asarray(synapse_sources, dtype=np.int64)
    if src.size and (src.min() < 0 or src.max() >= trains.n_sources):
        raise ValueError(f"synapse_sources must index the trains' {trains.n_sources} sources")
    return per_source[src]


def predict_voltage(counts: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Σ_j (k_j ∗ x_j): causal convolution of each input row with its kernel (FFT)."""
    x = check_finite_array("counts", np.asarray(counts, dtype=np.float64))
    k = check_finite_array("kernels", np.asarray(kernels, dtype=np.float64))
    if x.ndim != 2 or k.ndim != 2 or x.shape[0] != k.shape[0]:
        raise ValueError(f"counts (n_inputs, n_bins) and kernels (n_inputs, n_taps) must "
                         f"match in their first axis; got {x.shape} and {k.shape}")
    if k.shape[1] > x.shape[1]:
        raise ValueError(f"kernels are longer ({k.shape[1]} taps) than the recording "
                         f"({x.shape[1]} bins)")
    n = x.shape[1]
    total = np.zeros(n)
    for row, ker in zip(x, k, strict=True):
        if row.any():
            total += convolve(row, ker, "full", method="fft")[:n]
    return total


def raised_cosine_basis(n_taps: int, *, n_basis: int, dt_ms: float,
                        first_peak_ms: float = 0.5, stretch_ms: float = 2.0) -> np.ndarray:
    """Log-time raised cosines (Pillow et al. 2008, Nature 454:995), shape (n_basis, n_taps).

    Fine near t = 0, coarse later: a compact basis for smooth synaptic kernels.
    """
    n_taps = check_int("n_taps", n_taps, low=2)
    n_basis = check_int("n_basis", n_basis, low=1, high=n_taps)
    t = np.arange(n_taps) * check_real("dt_ms", dt_ms, low=0, low_inclusive=False)
    warp = np.log(t + stretch_ms)
    lo, hi = np.log(first_peak_ms + stretch_ms), np.log(t[-1] * 0.8 + stretch_ms)
    centres = np.linspace(lo, hi, n_basis)
    width = (centres[1] - centres[0]) * 2 if n_basis > 1 else hi - lo
    arg = np.clip((warp[None, :] - centres[:, None]) * np.pi / width, -np.pi, np.pi)
    basis = 0.5 * (1 + np.cos(arg))
    basis[:, 0] = 0.0  # causal: no response in the bin of the event itself
    return basis


def exponential_basis(n_taps: int, *, dt_ms: float, taus_ms: Sequence[float],
                      tau_rise_ms: float, tau_decay_ms: float) -> np.ndarray:
    """Receptor current convolved with exponentials e^{-t/τ_b}, shape (len(taus), n_taps).

    A passive tree's kernel is a sum of such terms (one per membrane mode, see
    :mod:`neurocomp.mapping.kernels`), so a log-spaced set of τ_b represents it compactly.
    Each basis function is scaled to peak 1.
    """
    n_taps = check_int("n_taps", n_taps, low=2)
    dt = check_real("dt_ms", dt_ms, low=0, low_inclusive=False, unit="ms")
    tau_rise_ms = check_real("tau_rise_ms", tau_rise_ms, low=0, low_inclusive=False, unit="ms")
    tau_decay_ms = check_real("tau_decay_ms", tau_decay_ms, low=tau_rise_ms,
                              low_inclusive=False, unit="ms")
    t = np.arange(n_taps) * dt
    current = np.exp(-t / tau_decay_ms) - np.exp(-t / tau_rise_ms)
    rows = []
    for tau in taus_ms:
        tau = check_real("taus_ms[...]", tau, low=0, low_inclusive=False, unit="ms")
        phi = convolve(current, np.exp(-t / tau), "full", method="fft")[:n_taps] * dt
        rows.append(phi / np.abs(phi).max())
    return np.array(rows)


def fit_kernels(counts: np.ndarray, v_mV: np.ndarray, *, basis: np.ndarray,
                ridge: float = 1e-6, offset_mV: float | None = None
                ) -> tuple[np.ndarray, float]:
    """Least-squares kernels on a basis: v ≈ offset + Σ_j (Σ_b w_jb φ_b) ∗ x_j.

    Returns the kernels (n_inputs, n_taps) and the offset (mV). ``ridge`` scales a Tikhonov
    penalty relative to the mean diagonal of the normal equations. Give ``offset_mV`` (the
    resting potential) when it is known: with stationary input the kernels' DC gain and a
    fitted offset are confounded, which biases both.
    """
    x = np.asarray(counts, dtype=np.float64)
    y = check_finite_array("v_mV", np.asarray(v_mV, dtype=np.float64))
    if x.shape[1] != y.size:
        raise ValueError(f"counts has {x.shape[1]} bins but v_mV has {y.size} samples")
    n_in, n_b = x.shape[0], basis.shape[0]
    if offset_mV is not None:
        y = y - check_real("offset_mV", offset_mV)
    design = np.empty((y.size, n_in * n_b + (offset_mV is None)))
    for j in range(n_in):
        for b in range(n_b):
            design[:, j * n_b + b] = (convolve(x[j], basis[b], "full", method="fft")[:y.size]
                                      if x[j].any() else 0.0)
    if offset_mV is None:
        design[:, -1] = 1.0
    gram = design.T @ design
    gram[np.diag_indices_from(gram)] += check_real("ridge", ridge, low=0) * np.mean(
        np.diag(gram))
    w = np.linalg.solve(gram, design.T @ y)
    weights = w[:n_in * n_b].reshape(n_in, n_b)
    return weights @ basis, float(w[-1]) if offset_mV is None else float(offset_mV)


def impulse_response_kernels(model: NeuronModel, *, group: str, t_ms: float, dt_ms: float,
                             backend: str = "cpp_standalone",
                             stages: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Somatic kernel of each distinct synapse compartment of ``group``, from Brian2.

    One trial per distinct compartment: that synapse alone releases one vesicle. Trials are
    ``2 t_ms`` apart, so choose ``t_ms`` ≥ 8 τ_m: the kernel is then cut where it is below
    e^-8 of its scale and the previous trial has decayed to e^-16. Release is made
    deterministic with U = 1, so one spike is one vesicle.

    Returns ``(compartments, kernels)`` with kernels of shape (n_compartments, n_taps), mV,
    sampled every ``dt_ms`` from the step at which the vesicle's current starts.
    """
    from dataclasses import replace

    from brian2 import ms

    from neurocomp.biophysics import NeuronPipeline, RecordSite, ReleaseParameters, Stages, inputs

    groups = {g.name: g for g in model.synapse_groups}
    if group not in groups:
        raise ValueError(f"no synapse group {group!r}; groups: {sorted(groups)}")
    comps = np.unique(model.synapse_compartments()[group])
    g = replace(groups[group], n_synapses=len(comps), n_sources=len(comps),
                compartments=tuple(int(c) for c in comps),
                release=ReleaseParameters(U=1.0, tau_rec_ms=0.01))
    probe = replace(model, synapse_groups=(g,))
    stages = stages if stages is not None else Stages(synapses="current",
                                                      release="deterministic")
    spacing = 2.0 * check_real("t_ms", t_ms, low=0, low_inclusive=False, unit="ms")
    times = [[k * spacing + 5.0] for k in range(len(comps))]
    duration = len(comps) * spacing
    rec = NeuronPipeline(probe, stages=stages).run(
        inputs.from_times(times, duration_ms=duration), duration=duration * ms, dt=dt_ms * ms,
        backend=backend, record=[RecordSite(label="soma", index=0)])
    v = rec.traces["v"][0] - model.E_rest_mV
    n_taps = round(t_ms / dt_ms)
    kernels = np.empty((len(comps), n_taps))
    for k in range(len(comps)):
        start = round((k * spacing + 5.0) / dt_ms) + 1
        kernels[k] = v[start:start + n_taps]
    return comps, kernels


class KernelConv1d(nn.Module):
    """A bank of per-input kernels as one causal ``Conv1d`` (out_channels = 1).

    Input (batch, n_inputs, time) of events per bin; output (batch, 1, time) of the summed
    response plus ``offset``. The kernels are stored flipped in ``conv.weight``, as Conv1d
    cross-correlates, and the input is left-padded so the output at t sees only t' ≤ t.

    ``method="direct"`` calls the Conv1d; ``"fft"`` computes the same sum with the same
    weights by the convolution theorem — for kernels of thousands of taps the direct CPU
    path unrolls into an (inputs × taps × time) buffer that does not fit in memory.
    ``"auto"`` picks the FFT above 256 taps.
    """

    def __init__(self, kernels: np.ndarray, *, offset: float = 0.0, learnable: bool = False,
                 method: str = "auto") -> None:
        super().__init__()
        if method not in ("auto", "direct", "fft"):
            raise ValueError(f"method must be 'auto', 'direct' or 'fft'; got {method!r}")
        k = torch.as_tensor(np.asarray(kernels, dtype=np.float64)[:, ::-1].copy())
        if k.ndim != 2:
            raise ValueError(f"kernels must be (n_inputs, n_taps); got shape {tuple(k.shape)}")
        self.n_taps = int(k.shape[1])
        self.conv = nn.Conv1d(k.shape[0], 1, self.n_taps, bias=True, dtype=k.dtype)
        with torch.no_grad():
            self.conv.weight.copy_(k[None])
            self.conv.bias.fill_(offset)
        self.conv.requires_grad_(learnable)
        self.method = ("fft" if self.n_taps > 256 else "direct") if method == "auto" else method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != self.conv.in_channels:
            raise ValueError(f"input must be (batch, {self.conv.in_channels}, time); "
                             f"got {tuple(x.shape)}")
        x = x.to(self.conv.weight.dtype)
        if self.method == "direct":
            return self.conv(nn.functional.pad(x, (self.n_taps - 1, 0)))
        n = x.shape[-1]
        # a length with only small prime factors: torch's FFT is slow on large primes
        size = scipy.fft.next_fast_len(n + self.n_taps - 1, real=True)
        kernel = torch.flip(self.conv.weight[0], dims=(-1,))  # (inputs, taps), causal order
        spec = torch.fft.rfft(x, n=size) * torch.fft.rfft(kernel, n=size)[None]
        y = torch.fft.irfft(spec.sum(dim=1, keepdim=True), n=size)[..., :n]
        return y + self.conv.bias.view(1, 1, 1)
