"""``fit_scales``: fit biophysical parameters of a :class:`CompartmentalNeuron` to a trace.

Each fitted parameter is the module's own value times a positive scale ``exp(θ)`` (one scalar
per name, so a density keeps its spatial profile and stays positive); Adam or L-BFGS fits the
θ's to minimise the mean squared difference between the simulated and the target voltages. The
module itself is not changed: the scaled values reach it through
``torch.func.functional_call``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.func import functional_call

from neurocomp.engine.module import CompartmentalNeuron

__all__ = ["ScaleFit", "fit_scales", "scaled_voltage"]


@dataclass(frozen=True)
class ScaleFit:
    """The result of :func:`fit_scales`.

    Attributes
    ----------
    names : tuple of str
        The fitted parameters.
    start_scales, scales : np.ndarray
        Scales (fitted value / module's value) at the start and at the end (lowest loss).
    loss : np.ndarray
        Loss (mV², mean squared voltage error) at every evaluation (Adam: every iteration,
        before its update; L-BFGS: every evaluation, line-search trials included).
    scale_history : np.ndarray, (n_evaluations, n_names)
        Scales at every evaluation.
    """

    names: tuple[str, ...]
    start_scales: np.ndarray
    scales: np.ndarray
    loss: np.ndarray
    scale_history: np.ndarray

    def rel_errors(self, true_scales: Sequence[float] | None = None) -> dict[str, float]:
        """Relative error of each fitted value against the true one (default scale 1)."""
        true = np.ones(len(self.names)) if true_scales is None else np.asarray(true_scales)
        return {n: float(s / t - 1) for n, s, t in zip(self.names, self.scales, true,
                                                       strict=True)}


def scaled_voltage(cell: CompartmentalNeuron, names: Sequence[str], scales: torch.Tensor,
                   *args: Any, **kwargs: Any) -> torch.Tensor:
    """Recorded voltages (B, n_record, n_steps) with ``names`` scaled by ``scales``."""
    unknown = sorted(set(names) - set(cell.parameters_by_name()))
    if unknown:
        raise ValueError(f"names {unknown} are not parameters of the cell; known: "
                         f"{sorted(cell.parameters_by_name())}")
    values = {n: getattr(cell, n).detach() * s.to(getattr(cell, n).dtype)
              for n, s in zip(names, scales.unbind(0), strict=True)}
    return functional_call(cell, values, args, kwargs).v_mV


def fit_scales(cell: CompartmentalNeuron, target_mV: torch.Tensor, names: Sequence[str], *,
               start_scales: Sequence[float], inputs: Mapping[str, Any] | None = None,
               n_steps: int | None = None, i_ext: torch.Tensor | None = None,
               iterations: int = 100, lr: float = 0.05, lr_final: float | None = None,
               method: str = "adam", fixed_scales: Mapping[str, float] | None = None,
               callback: Callable[[int, float, np.ndarray], None] | None = None) -> ScaleFit:
    """Fit scales of ``names`` by Adam or L-BFGS on log scales (so they stay positive).

    Parameters
    ----------
    cell : CompartmentalNeuron
        The cell; its values are the reference (scale 1).
    target_mV : torch.Tensor, (B, n_record, n_steps)
        The target voltages (as ``cell(...).v_mV``).
    names : sequence of str
        Parameters to fit (``base_parameters`` names).
    start_scales : sequence of float
        Scales at the start, > 0.
    inputs, n_steps, i_ext
        Passed to ``cell.forward``.
    iterations : int
        Adam iterations, or L-BFGS's budget of loss-and-gradient evaluations.
    lr : float
        Adam's learning rate (on log scales); L-BFGS's first step length.
    lr_final : float, optional
        Adam only: the rate decays geometrically from ``lr`` to this at the last iteration
        (a constant rate keeps the scales jittering by about ``lr``).
    method : {"adam", "lbfgs"}
        Adam, or L-BFGS with a strong-Wolfe line search (``torch.optim.LBFGS``): on a few
        smooth parameters it converges in far fewer evaluations, each one forward and one
        backward pass.
    fixed_scales : mapping of str to float, optional
        Other parameters held at these scales (not fitted) — e.g. the spiking channels at
        their start values while a first stage fits the subthreshold ones.
    callback : callable (evaluation, loss, scales), optional
        Called after each loss evaluation.
    """
    names = tuple(names)
    start, fixed = _checked_fit_args(names, start_scales, iterations=iterations, lr=lr,
                                     lr_final=lr_final, method=method,
                                     fixed_scales=fixed_scales)
    all_names = names + tuple(fixed)
    fixed_t = torch.as_tensor([float(v) for v in fixed.values()], dtype=torch.float64)
    theta = torch.nn.Parameter(torch.as_tensor(np.log(start), dtype=torch.float64))
    target = target_mV.detach()
    losses: list[float] = []
    history: list[np.ndarray] = []

    def evaluate() -> torch.Tensor:  # loss and gradient, recorded
        opt.zero_grad()
        v = scaled_voltage(cell, all_names, torch.cat([theta.exp(), fixed_t]), inputs,
                           n_steps=n_steps, i_ext=i_ext)
        loss = (v - target).pow(2).mean()
        loss.backward()
        value, sc = float(loss.detach()), theta.detach().exp().numpy().copy()
        losses.append(value)
        history.append(sc)
        if callback is not None:
            callback(len(losses) - 1, value, sc)
        return loss

    if method == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [theta], lr=lr, max_iter=iterations, max_eval=iterations, history_size=20,
            tolerance_grad=1e-12, tolerance_change=1e-14, line_search_fn="strong_wolfe")
        opt.step(evaluate)
    else:
        opt = torch.optim.Adam([theta], lr=lr)
        gamma = (1.0 if lr_final is None or iterations < 2
                 else (lr_final / lr) ** (1.0 / (iterations - 1)))
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)
        for _ in range(iterations):
            evaluate()
            opt.step()
            sched.step()
    return ScaleFit(names=names, start_scales=start,
                    scales=history[int(np.argmin(losses))],  # at the lowest loss
                    loss=np.asarray(losses), scale_history=np.asarray(history))


def _checked_fit_args(names: tuple[str, ...], start_scales: Sequence[float], *,
                      iterations: Any, lr: Any, lr_final: Any, method: Any,
                      fixed_scales: Mapping[str, float] | None
                      ) -> tuple[np.ndarray, dict[str, float]]:
    """:func:`fit_scales`'s arguments checked: the start scales and the fixed ones."""
    start = np.asarray(start_scales, dtype=np.float64)
    if start.shape != (len(names),) or not np.all(np.isfinite(start)) or np.any(start <= 0):
        raise ValueError(f"start_scales must be {len(names)} finite numbers > 0; got "
                         f"{list(start_scales)}")
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an integer ≥ 1; got {iterations!r}")
    if not (isinstance(lr, float | int) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr!r}")
    if lr_final is not None and not (isinstance(lr_final, float | int)
                                     and math.isfinite(lr_final) and 0 < lr_final <= lr):
        raise ValueError(f"lr_final must be a finite number in (0, lr = {lr}]; got "
                         f"{lr_final!r}")
    if method not in ("adam", "lbfgs"):
        raise ValueError(f"method must be 'adam' or 'lbfgs'; got {method!r}")
    fixed = dict(fixed_scales or {})
    clash = sorted(set(fixed) & set(names))
    bad = [k for k, v in fixed.items() if not (math.isfinite(float(v)) and float(v) > 0)]
    if clash or bad:
        raise ValueError(f"fixed_scales must name parameters not fitted, each > 0; got "
                         f"{fixed} (fitted too: {clash}; not > 0: {bad})")
    return start, fixed
