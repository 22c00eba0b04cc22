r"""Closed-form FLOPs of the ``neurocomp.layers`` stages, from their shapes alone.

The counter (:func:`~neurocomp.accounting.count`) counts these layers op by op; the
formulas here give the same numbers on paper, stage by stage, so they can be checked against
the counter (the tests do) and evaluated for shapes too large to run (the full Purkinje
cell). Conventions as in :mod:`neurocomp.accounting.counting.pointwise_formulas`: a multiply-add is
2 FLOPs, convolutions are counted densely (zero padding included), a k-window max or sum
counts k, comparisons and divisions cost what :class:`ScalarOpCosts` says.

Shapes follow the layers: time is the last axis with :math:`T` steps, :math:`B` is the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts
from neurocomp.checks import check_choice, check_int

__all__ = [
    "amplifying_pool_flop",
    "dendritic_conv_flop",
    "dettmers_neuron_flop",
    "poisson_firing_flop",
    "somatic_filter_flop",
    "temporal_filter_flop",
    "transmitter_dense_flop",
]


def _toeplitz_max_steps() -> int:
    """The layer's switch from the Toeplitz GEMM to the FFT (read from the layers package)."""
    try:
        from neurocomp.layers import TOEPLITZ_MAX_STEPS
    except ImportError:  # an older layers package filtered with conv1d only
        return 0
    return int(TOEPLITZ_MAX_STEPS)


def temporal_filter_flop(*, rows: int, steps: int, taps: int, kernel_rows: int = 1,
                         algorithm: str = "auto") -> float:
    r"""Causal filtering of ``rows`` signals of ``steps`` samples with a ``taps``-long kernel
    (:func:`~neurocomp.layers.functional.temporal_filter`).

    ``"direct"``: the sum itself, :math:`2\,R\,T\,K`. ``"toeplitz"``: one product with the
    :math:`T \times T` lower-triangular Toeplitz matrix of the kernel, its zeros included,
    :math:`2\,R\,T^2`. ``"fft"``: real FFTs of the :math:`R` rows and the ``kernel_rows``
    kernels and inverse FFTs of the rows, :math:`2.5\,L\log_2 L` each at the fast length
    :math:`L \ge T + K - 1`, and a complex multiply (6 FLOPs) per row and frequency.
    ``"auto"``: what the layer does — Toeplitz up to its step limit (512), FFT beyond.
    """
    r, t = check_int("rows", rows, low=1), check_int("steps", steps, low=1)
    k = min(check_int("taps", taps, low=1), t)  # later taps only ever meet zeros
    check_choice("algorithm", algorithm, ("auto", "direct", "toeplitz", "fft"))
    if algorithm == "auto":
        algorithm = "toeplitz" if t <= _toeplitz_max_steps() else "fft"
    if algorithm == "direct":
        return 2.0 * r * t * k
    if algorithm == "toeplitz":
        return 2.0 * r * t * t
    import scipy.fft

    size = scipy.fft.next_fast_len(t + k - 1, real=True)
    transform = 2.5 * size * math.log2(size)
    return (2 * r + kernel_rows) * transform + 6.0 * r * (size // 2 + 1)


def somatic_filter_flop(*, batch: int, steps: int, taps: int, bias: bool = True) -> float:
    r""":class:`~neurocomp.layers.SomaticFilter` on ``(batch, 1, steps)``: the filter plus one
    add per output for the bias."""
    return temporal_filter_flop(rows=batch, steps=steps, taps=taps) + (
        batch * steps if bias else 0)


def dendritic_conv_flop(*, batch: int, in_channels: int, out_channels: int,
                        grid: Sequence[int], kernel: Sequence[int],
                        spatial_padding: str = "same", algorithm: str = "direct",
                        bias: bool = True) -> int:
    r"""Forward FLOPs of :func:`~neurocomp.layers.functional.dendritic_conv`.

    ``grid`` is (branch slots :math:`P`, dendrites :math:`D`, steps :math:`T`), ``kernel``
    :math:`(k_b, k_d, k_t)`. Direct (``conv3d``, causal in time so :math:`T` outputs):

    .. math:: F = 2\,B\,C_\text{out}\,P'\,D'\,T\;C_\text{in}\,k_b\,k_d\,k_t

    with :math:`P', D'` the output sizes (:math:`P, D` for ``"same"``). Toeplitz (GEMMs with
    the banded dendrite matrix): every (channel, branch tap, time tap) is one
    :math:`(B P' T) \times D \times (C_\text{out} D')` product,

    .. math:: F = 2\,B\,P'\,T\,D\,C_\text{out}\,D'\;C_\text{in}\,k_b\,k_t,

    i.e. :math:`D/k_d` times the direct count, plus one add per output for the bias (in the
    direct form the bias sits inside the rounding of the dot products). FFT (the
    convolution theorem on the padded grid, each axis rounded up to a fast length
    :math:`L`): real FFTs of the :math:`B C_\text{in}` input grids and of the
    :math:`C_\text{out} C_\text{in}` kernels, inverse FFTs of the :math:`B C_\text{out}`
    outputs, :math:`2.5\,N\log_2 N` each for :math:`N = L_P L_D L_T` points (FFTW's
    convention), the spectra multiplied (a complex multiply, 6 FLOPs, per frequency; a
    complex multiply-add, 8, when channels are summed) and the bias added.
    """
    check_choice("spatial_padding", spatial_padding, ("same", "valid"))
    check_choice("algorithm", algorithm, ("direct", "toeplitz", "fft"))
    b, c_in, c_out = (check_int(n, v, low=1) for n, v in (
        ("batch", batch), ("in_channels", in_channels), ("out_channels", out_channels)))
    p, d, t = (check_int(f"grid[{i}]", v, low=1) for i, v in enumerate(grid))
    kb, kd, kt = (check_int(f"kernel[{i}]", v, low=1) for i, v in enumerate(kernel))
    p_out, d_out = (p, d) if spatial_padding == "same" else (p - kb + 1, d - kd + 1)
    if p_out < 1 or d_out < 1:
        raise ValueError(f"kernel {tuple(kernel)} does not fit the grid {tuple(grid)} with "
                         f"spatial_padding='valid'")
    bias_adds = b * c_out * p_out * d_out * t if bias else 0
    if algorithm == "direct":
        return 2 * b * c_out * p_out * d_out * t * c_in * kb * kd * kt
    if algorithm == "fft":
        return _fft_conv_flop(b, c_in, c_out, (p_out + kb - 1, d_out + kd - 1, t + kt - 1)) + (
            bias_adds)
    gemms = 2 * b * p_out * t * d * c_out * d_out * c_in * kb * kt
    return gemms + bias_adds


def _fft_conv_flop(batch: int, c_in: int, c_out: int, padded: Sequence[int]) -> float:
    """FFT convolution of padded grids (``neurocomp.layers`` ``fft_conv``), as documented in
    :func:`dendritic_conv_flop`."""
    import scipy.fft

    sizes = [scipy.fft.next_fast_len(int(n), real=(axis == len(padded) - 1))
             for axis, n in enumerate(padded)]
    n = math.prod(sizes)
    transform = 2.5 * n * math.log2(n) if n > 1 else 0.0
    frequencies = math.prod(sizes[:-1]) * (sizes[-1] // 2 + 1)
    if c_in == 1 and c_out == 1:
        product = 6.0 * batch * frequencies
    else:
        product = 8.0 * batch * c_out * c_in * frequencies
    return (batch * c_in + c_out * c_in + batch * c_out) * transform + product


def amplifying_pool_flop(*, output_elements: int, window: int,
                         costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS,
                         learnable: bool = False, threshold: bool = False) -> float:
    r""":func:`~neurocomp.layers.functional.amplifying_pool` with ``output_elements`` outputs.

    Per output: the window's maximum (:math:`K` comparisons) and mean (:math:`K` adds and a
    division), then the pull :math:`\bar x + \alpha(m - \bar x)` — 3 FLOPs (a subtraction,
    a multiply and an add, computed from the nearer end) for a fixed :math:`\alpha`. A
    tensor :math:`\alpha` (learnable, or gated per window by a threshold) evaluates both
    ends and selects: 5 per output, plus :math:`1 - \alpha` and the test
    :math:`\alpha \le 1/2` (once, or per output when gated). A threshold adds the
    comparison :math:`m \ge \theta` and the multiply :math:`\alpha\,[m \ge \theta]` per
    output.
    """
    n = check_int("output_elements", output_elements, low=0)
    k = check_int("window", window, low=1)
    flop = n * (k * costs.comparison_flop + k + costs.division_flop)
    if threshold:
        flop += n * (costs.comparison_flop + 1.0)
    if learnable or threshold:
        flop += n * 5.0 + (n if threshold else 1) * (1.0 + costs.comparison_flop)
    else:
        flop += n * 3.0
    return flop


def poisson_firing_flop(*, rows: int, steps: int, training: bool,
                        costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> float:
    r""":func:`~neurocomp.layers.functional.poisson_firing` on ``rows`` signals of ``steps``.

    Training: a Poisson draw, a mask multiply and a scatter-add per entry (the delay
    arithmetic is on integers). Evaluation: the Poisson probabilities
    :math:`e^{d\ln\lambda - \lambda - \ln \Gamma(d+1)}` for :math:`d < T` (``xlogy``,
    :math:`d+1`, two subtractions, ``lgamma``, ``exp``) and a causal filter with all
    :math:`T` of them.
    """
    r, t = check_int("rows", rows, low=1), check_int("steps", steps, low=1)
    if training:
        return r * t * (2.0 + costs.random_draw_flop)
    pmf = t * (costs.transcendental_flop + 1.0 + costs.comparison_flop  # xlogy
               + 3.0 + costs.transcendental_flop + costs.transcendental_flop)  # d+1, −λ, −lgamma;
    #                                                                            lgamma, exp
    return pmf + temporal_filter_flop(rows=r, steps=t, taps=t)


def transmitter_dense_flop(*, rows: int, in_features: int, out_features: int) -> int:
    r""":func:`~neurocomp.layers.functional.transmitter_dense`: the weight
    :math:`r_i R_{oi}` (one multiply per entry) and a dense product over ``rows`` positions,
    :math:`2\,R\,I\,O` (a bias add sits inside its rounding)."""
    r = check_int("rows", rows, low=1)
    i, o = check_int("in_features", in_features, low=1), check_int("out_features", out_features,
                                                                      low=1)
    return i * o + 2 * r * i * o


def _nonlinearity_flop(kind: str, n: int, costs: ScalarOpCosts) -> float:
    if kind == "linear":
        return 0.0
    if kind == "relu":
        return n * costs.comparison_flop
    raise ValueError(f"dettmers_neuron_flop covers the 'relu' and 'linear' nonlinearities; "
                     f"got {kind!r} (count the module with count() instead)")


def dettmers_neuron_flop(config: Any, *, batch: int, steps: int, training: bool = False,
                         costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> dict[str, float]:
    r"""Forward FLOPs of a :class:`~neurocomp.layers.DettmersNeuron`, stage by stage.

    Parameters
    ----------
    config : DettmersNeuronConfig
        The neuron's shapes (read by attribute; fixed synaptic kernel, ReLU or linear
        nonlinearities, fixed amplification).
    batch, steps : int
        Input ``(batch, n_synapses, steps)``.
    training : bool
        Poisson firing sampled (training) or in expectation (evaluation).
    costs : ScalarOpCosts

    Returns
    -------
    dict of str to float
        FLOPs by module path (``""``: the neuron's own ops — the sum over dendrites).
    """
    b, t = check_int("batch", batch, low=1), check_int("steps", steps, low=1)
    if getattr(config, "learnable_synapse", False) or getattr(
            config, "learnable_amplification", False):
        raise ValueError("dettmers_neuron_flop covers fixed synaptic kernels and "
                         "amplification; count learnable ones with count()")
    slots, dendrites = config.branch_slots, config.n_dendrites
    kb, kd, kt = config.dendritic_kernel
    c = config.dendritic_channels
    p_out = slots if config.spatial_padding == "same" else slots - kb + 1
    d_out = dendrites if config.spatial_padding == "same" else dendrites - kd + 1
    algorithm = config.dendritic_algorithm
    if algorithm == "auto":  # the layer's own rule (a long kernel goes to the FFT)
        from neurocomp.layers import FFT_MIN_TAPS

        algorithm = "fft" if kb * kd * kt >= FFT_MIN_TAPS else "direct"
    flop: dict[str, float] = {}
    if config.synapse is not None:
        flop["synapse"] = temporal_filter_flop(rows=b * config.n_synapses, steps=t,
                                               taps=config.synaptic_kernel_taps)
    flop["dendrites"] = dendritic_conv_flop(
        batch=b, in_channels=1, out_channels=c, grid=(slots, dendrites, t),
        kernel=(kb, kd, kt), spatial_padding=config.spatial_padding, algorithm=algorithm)
    pooled = b * c * d_out * t
    flop["spikes"] = amplifying_pool_flop(output_elements=pooled, window=p_out, costs=costs,
                                          threshold=config.spike_threshold is not None)
    flop["dendritic_rate"] = _nonlinearity_flop(config.dendritic_nonlinearity, pooled, costs)
    flop[""] = float(pooled)  # the soma sums the dendrites' rates
    flop["soma"] = somatic_filter_flop(batch=b, steps=t, taps=config.somatic_kernel_taps)
    flop["somatic_rate"] = _nonlinearity_flop(config.somatic_nonlinearity, b * t, costs)
    flop["firing"] = (0.0 if config.firing_lambda == 0 and training else
                      poisson_firing_flop(rows=b, steps=t, training=training, costs=costs))
    flop["axon"] = transmitter_dense_flop(rows=b * t, in_features=1,
                                          out_features=config.n_outputs)
    return {k: float(v) for k, v in flop.items() if not math.isnan(v)}
