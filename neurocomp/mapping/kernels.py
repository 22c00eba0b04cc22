r"""Passive dendrites are convolutions: exact synaptic kernels of a linear compartmental tree.

A passive neuron with current-based synapses is a linear time-invariant system,

.. math:: C\,\dot V = -G\,V + \sum_j e_j\, I_j(t),

with :math:`C` the diagonal of compartment capacitances, :math:`G` the conductance matrix
(leak on the diagonal plus axial coupling) and :math:`I_j` the current injected into
compartment :math:`j`. The somatic voltage is therefore an exact sum of convolutions,
:math:`V_s(t) - E = \sum_j (h_{sj} \ast I_j)(t)`, with the impulse response

.. math::

    h_{sj}(t) = e_s^\top e^{-C^{-1} G t} C^{-1} e_j
              = \sum_k \frac{U_{sk} U_{jk}}{\sqrt{c_s c_j}}\, e^{-\lambda_k t},

where :math:`C^{-1/2} G C^{-1/2} = U \Lambda U^\top` (symmetric, so the eigenbasis is
orthogonal and the modes decay with rates :math:`\lambda_k` — Rall's equalising time
constants). Driving a synapse with the receptor current
:math:`f(e^{-t/\tau_d} - e^{-t/\tau_r})` per vesicle gives its kernel in closed form
(:func:`synaptic_kernels`).

:func:`passive_system` builds :math:`C` and :math:`G` with *Brian2's own discretisation*:
half-compartment axial resistances :math:`R_i / r_\ell` with Brian2's
:math:`r_\ell = \frac{\pi}{2} d_a d_b / L` for each half of a frustum, and sections joined at
massless branch-point nodes (eliminated here by a Schur complement); a soma's half-length
term is Brian2's fixed 1 m, i.e. almost no resistance. The kernels therefore agree with a
Brian2 impulse response up to its time-stepping error only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocomp.biophysics import Morphology, ReceptorKinetics
from neurocomp.checks import check_finite_array, check_instance, check_int, check_real

__all__ = ["PassiveSystem", "impulse_responses", "passive_system", "synaptic_kernels"]

_SOMA_R_LENGTH_M = 1.0  # Brian2's Soma.r_length_1/2: a "very low intracellular resistance"


@dataclass(frozen=True, kw_only=True)
class PassiveSystem:
    """The linear system C dV/dt = −G V + I of a passive neuron (SI units).

    Attributes
    ----------
    capacitance_F : ndarray, shape (n,)
        Compartment capacitances, farad.
    conductance_S : ndarray, shape (n, n)
        Symmetric conductance matrix (leak + axial), siemens.
    rates_per_ms : ndarray, shape (n,)
        Eigenvalues λ_k of C^{-1/2} G C^{-1/2}, per ms (ascending: slowest mode first).
    modes : ndarray, shape (n, n)
        Orthonormal eigenvectors U (columns).
    """

    capacitance_F: np.ndarray
    conductance_S: np.ndarray
    rates_per_ms: np.ndarray
    modes: np.ndarray

    @property
    def membrane_time_constant_ms(self) -> float:
        """τ of the slowest mode, ms (τ_m for a uniform passive membrane)."""
        return float(1.0 / self.rates_per_ms[0])


def _r_lengths_m(diameters_um: Sequence[float], lengths_um: Sequence[float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(diameters_um) * 1e-6
    L = np.asarray(lengths_um) * 1e-6
    d_start, d_end, d_mid = d[:-1], d[1:], (d[:-1] + d[1:]) / 2
    return np.pi / 2 * d_start * d_mid / L, np.pi / 2 * d_mid * d_end / L


def _per_compartment(name: str, values: Any, n: int) -> np.ndarray:
    """One value (or one per compartment), finite and > 0, broadcast to ``(n,)``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape not in ((), (1,), (n,)):
        raise ValueError(f"{name} must be one value or one per compartment ({n},); got shape "
                         f"{arr.shape}")
    arr = check_finite_array(name, np.broadcast_to(arr, (n,)))
    if (arr <= 0).any():
        i = int(np.flatnonzero(arr <= 0)[0])
        raise ValueError(f"{name} must be > 0 in every compartment; got {arr[i]:g} at "
                         f"compartment {i}")
    return arr


def _check_modal_args(system: Any, inputs: Sequence[int], output: int,
                      t_ms: Any) -> np.ndarray:
    check_instance("system", system, PassiveSystem, "PassiveSystem (from passive_system)")
    n = system.capacitance_F.size
    check_int("output", output, low=0, high=n - 1)
    if isinstance(inputs, str | bytes) or len(inputs) == 0:
        raise ValueError(f"inputs must be a non-empty sequence of compartment indices; got "
                         f"{inputs!r}")
    for k, j in enumerate(inputs):
        check_int(f"inputs[{k}]", j, low=0, high=n - 1)
    return check_finite_array("t_ms", np.asarray(t_ms, dtype=np.float64))


def passive_system(morphology: Morphology, *, Ri_ohm_cm: float, gL_S_per_cm2: np.ndarray,
                   Cm_uF_per_cm2: np.ndarray) -> PassiveSystem:
    """Build C and G for a morphology with per-compartment leak and capacitance.

    Parameters
    ----------
    morphology : Morphology
        The tree (compartments in Brian2's order).
    Ri_ohm_cm : float
        Axial resistivity, Ω·cm.
    gL_S_per_cm2, Cm_uF_per_cm2 : array, shape (n_compartments,)
        Leak conductance density (S/cm²) and specific capacitance (µF/cm²) per compartment.
    """
    ri = check_real("Ri_ohm_cm", Ri_ohm_cm, low=0, low_inclusive=False, unit="Ω·cm") * 1e-2
    table = morphology.compartment_table()
    n = int(table["index"].size)
    gl = _per_compartment("gL_S_per_cm2", gL_S_per_cm2, n)
    cm = _per_compartment("Cm_uF_per_cm2", Cm_uF_per_cm2, n)
    area_m2 = table["area_um2"] * 1e-12
    # nodes: compartments 0..n-1, then one massless node per section end (and root start)
    edges: list[tuple[int, int, float]] = []
    end_node: dict[str, int] = {}
    next_node = n
    for sec in morphology.sections:
        idx = morphology.indices(section=sec.name)
        if sec.is_soma:
            r1 = r2 = np.array([_SOMA_R_LENGTH_M])
        else:
            r1, r2 = _r_lengths_m(sec.diameters_um, sec.lengths_um)
        if sec.parent is None:
            start, next_node = next_node, next_node + 1
        else:
            start = end_node[sec.parent]
        end, next_node = next_node, next_node + 1
        end_node[sec.name] = end
        edges.append((start, int(idx[0]), r1[0] / ri))
        for k in range(1, len(idx)):
            edges.append((int(idx[k - 1]), int(idx[k]), 1.0 / (ri * (1 / r2[k - 1] + 1 / r1[k]))))
        edges.append((int(idx[-1]), end, r2[-1] / ri))
    full = np.zeros((next_node, next_node))
    for a, b, g in edges:
        full[a, a] += g
        full[b, b] += g
        full[a, b] -= g
        full[b, a] -= g
    cc, cn, nn = full[:n, :n], full[:n, n:], full[n:, n:]
    connected = np.diag(nn) > 0  # nodes of sealed ends touch one compartment only
    # Schur complement: eliminate the massless nodes (Kirchhoff at each branch point)
    g_axial = cc - cn[:, connected] @ np.linalg.solve(nn[np.ix_(connected, connected)],
                                                      cn[:, connected].T)
    G = g_axial + np.diag(gl * 1e4 * area_m2)
    C = cm * 1e-2 * area_m2
    scale = 1.0 / np.sqrt(C)
    sym = scale[:, None] * G * scale[None, :]
    rates, modes = np.linalg.eigh((sym + sym.T) / 2)
    return PassiveSystem(capacitance_F=C, conductance_S=G, rates_per_ms=rates * 1e-3,
                         modes=modes)


def impulse_responses(system: PassiveSystem, *, inputs: Sequence[int], output: int,
                      t_ms: np.ndarray) -> np.ndarray:
    """Voltage at ``output`` (mV) per unit charge (pC) injected at t = 0 into each input.

    Returns an array of shape (len(inputs), len(t_ms)); entries for t < 0 are 0.
    """
    t = _check_modal_args(system, inputs, output, t_ms)
    c = system.capacitance_F
    weights = (system.modes[output][None, :] * system.modes[list(inputs), :]
               / np.sqrt(c[output] * c[list(inputs)])[:, None])  # V per C, per mode
    decay = np.exp(-np.outer(system.rates_per_ms, np.maximum(t, 0.0)))
    return np.where(t >= 0, weights @ decay, 0.0) * 1e3 * 1e-12  # mV per pC


def synaptic_kernels(system: PassiveSystem, *, inputs: Sequence[int], output: int,
                     t_ms: np.ndarray, receptor: ReceptorKinetics,
                     weight_pA: float = 1.0) -> np.ndarray:
    r"""Somatic voltage (mV) after one vesicle at each input: impulse response ∗ receptor current.

    The current of one vesicle is ``weight_pA`` × f(e^{−t/τ_d} − e^{−t/τ_r}) (peak
    ``weight_pA``); each mode's exponential convolves with it in closed form.
    """
    t = _check_modal_args(system, inputs, output, t_ms)
    check_instance("receptor", receptor, ReceptorKinetics)
    weight_pA = check_real("weight_pA", weight_pA, unit="pA")
    c = system.capacitance_F
    weights = (system.modes[output][None, :] * system.modes[list(inputs), :]
               / np.sqrt(c[output] * c[list(inputs)])[:, None])  # V/C per mode
    lam = system.rates_per_ms[:, None]  # 1/ms
    tt = np.maximum(t, 0.0)[None, :]

    def conv(tau: float) -> np.ndarray:
        # ∫_0^t e^{-λ(t-u)} e^{-u/τ} du  (ms); λ = 1/τ handled by the limit t e^{-t/τ}
        diff = lam - 1.0 / tau
        small = np.abs(diff) < 1e-12
        safe = np.where(small, 1.0, diff)
        val = (np.exp(-tt / tau) - np.exp(-lam * tt)) / safe
        return np.where(small, tt * np.exp(-tt / tau), val)

    f = receptor.normalisation
    modal = f * (conv(receptor.tau_decay_ms) - conv(receptor.tau_rise_ms))  # ms
    # V/C × pA × ms = V/C × 1e-12 A × 1e-3 s = 1e-15 V·(A s)/C → mV: × 1e3
    out = weights @ modal * weight_pA * 1e-15 * 1e3
    return np.where(t[None, :] >= 0, out, 0.0)
