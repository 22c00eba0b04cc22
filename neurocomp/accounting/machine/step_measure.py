"""Count and time real training steps (forward, backward, optimizer) on this machine.

:func:`count_optimizer_step` counts what ``optimizer.step()`` does with the same counter as
the model (:func:`~neurocomp.accounting.count`), so the step-time model prices
the optimizer from its real ops (SGD with momentum: a ``mul_`` and two ``add_`` per
parameter tensor) rather than from a formula. :func:`measure_training_step` times
``zero_grad → forward → loss → backward → step`` on a copy of the model, medians of
repeats after warm-up, and interleaves a :func:`~neurocomp.accounting.machine.microbench.probe`
with every repeat, so a prediction can be carried over to the machine's speed at the
moment of the measurement (:meth:`~neurocomp.accounting.machine.MachineBenchmark.scaled`).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neurocomp.accounting.counting import CountReport
from neurocomp.accounting.machine.machine_rates import Probe, median_probe
from neurocomp.accounting.machine.microbench import probe, torch_threads
from neurocomp.checks import check_bytes, check_choice, check_int
from neurocomp.timing import CLOCKS, Timing, clock_function

if TYPE_CHECKING:
    import torch

__all__ = ["StepMeasurement", "conv_dims", "count_optimizer_step", "measure_training_step",
           "sgd"]

OptimizerFactory = Callable[[Iterable[Any]], Any]


def sgd(*, lr: float = 0.01, momentum: float = 0.9) -> OptimizerFactory:
    """A factory ``params -> torch.optim.SGD(params, lr, momentum)`` (Krizhevsky et al.
    2012 trained AlexNet with momentum 0.9)."""
    def make(params: Iterable[Any]) -> Any:
        import torch

        return torch.optim.SGD(list(params), lr=lr, momentum=momentum)
    return make


def conv_dims(model: torch.nn.Module) -> dict[str, int]:
    """Spatial dimensions of each module that holds a convolution weight.

    A module whose own ``weight`` parameter has rank 3 (``out × in × k``) or 4 is a 1-D or
    2-D convolution (``nn.Conv1d``, ``nn.Conv2d``, ``neurocomp.layers.CausalConv1d`` …);
    the names are module paths as in a :class:`~neurocomp.accounting.counting.CountReport`.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    out = {}
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.dim() in (3, 4):
            out[name] = weight.dim() - 2
    return out


def count_optimizer_step(model: torch.nn.Module, optimizer: OptimizerFactory | None = None, *,
                         dtype_bytes: float = 4) -> CountReport:
    """The ops of one optimizer step on ``model``'s trainable parameters, counted.

    A copy of the model gets zero gradients and one untimed step (so that state such as
    momentum buffers exists, as in every step after the first); the second step is counted
    as the forward pass of a wrapper module (phase ``"forward"``, module ``""``). The model
    itself is not touched.

    Parameters
    ----------
    model : torch.nn.Module
    optimizer : callable, optional
        ``optimizer(params) -> torch.optim.Optimizer`` (default :func:`sgd`).
    dtype_bytes : float
        Bytes per element for the byte counts.
    """
    import torch

    from neurocomp.accounting.counting import count

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    factory = optimizer if optimizer is not None else sgd()
    clone = copy.deepcopy(model)
    params = [p for p in clone.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{type(model).__name__} has no trainable parameters to step")
    opt = factory(params)
    for p in params:
        p.grad = torch.zeros_like(p)
    opt.step()

    class OptimizerStep(torch.nn.Module):
        def forward(self, _: torch.Tensor) -> None:
            opt.step()

    return count(OptimizerStep(), torch.zeros(1), backward=False, dtype_bytes=dtype_bytes)


@dataclass(frozen=True, kw_only=True)
class StepMeasurement:
    """Timed training steps.

    Attributes
    ----------
    timing : Timing
        Step times on ``clock``, s (median: ``timing.median_s``).
    wall : Timing
        The same steps on the wall clock, s.
    probe : Probe or None
        Median of the probes taken before each timed step (``None`` without probes).
    clock : {"process", "wall"}
    threads : int
        torch threads during the steps.
    load_average : tuple of float
        1-, 5- and 15-minute load averages at the end (other jobs on the machine).
    """

    timing: Timing
    wall: Timing
    probe: Probe | None
    clock: str
    threads: int
    load_average: tuple[float, float, float]

    @property
    def median_s(self) -> float:
        """Median step time on ``clock``, s."""
        return self.timing.median_s


def measure_training_step(model: torch.nn.Module, example_input: Any,
                          loss: Callable[[Any], torch.Tensor], *,
                          optimizer: OptimizerFactory | None = None, repeats: int = 5,
                          warmup: int = 2, clock: str = "process", threads: int | None = None,
                          probes: bool = True, max_bytes: float | None = None
                          ) -> StepMeasurement:
    """Median time of ``zero_grad(set_to_none=True)``, forward, ``loss``, backward, step.

    Runs on a deep copy of ``model`` in training mode (the model passed is not trained).

    Parameters
    ----------
    model : torch.nn.Module
    example_input : tensor or tuple
        Positional arguments of one forward call.
    loss : callable
        ``loss(output) -> scalar tensor``.
    optimizer : callable, optional
        ``optimizer(params) -> torch.optim.Optimizer`` (default :func:`sgd`).
    repeats : int
        Timed steps (≥ 5 for a median worth reporting; ≥ 1 allowed).
    warmup : int
        Untimed steps first (allocator, oneDNN primitive caches).
    clock : {"process", "wall"}
        Clock of ``timing`` (the wall clock is recorded as well).
    threads : int or None
        torch threads during the steps (restored afterwards).
    probes : bool
        Take a :func:`~neurocomp.accounting.machine.microbench.probe` before each timed step.
    max_bytes : float or None
        Refuse, before the copy of the model is made, a step whose model copy and
        activations (forward and backward, estimated on the ``meta`` device:
        :func:`~neurocomp.accounting.counting.counter.forward_bytes_estimate`) exceed this, bytes
        (``None``: 8 GiB).
    """
    import torch

    repeats = check_int("repeats", repeats, low=1)
    warmup = check_int("warmup", warmup, low=0)
    check_choice("clock", clock, CLOCKS)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not callable(loss):
        raise TypeError("loss must be callable: loss(output) -> scalar tensor")
    from neurocomp.accounting.counting import as_args, forward_bytes_estimate

    args = as_args(example_input)
    written = forward_bytes_estimate(model, args)
    if written is not None:
        weights = sum(t.numel() * t.element_size()
                      for t in (*model.parameters(), *model.buffers()))
        shapes = ", ".join(str(tuple(a.shape)) for a in args if isinstance(a, torch.Tensor))
        check_bytes("measure_training_step", 3 * weights + 2 * written,
                         max_bytes=max_bytes, what="memory (model copy, gradients, optimiser "
                                                   "state and activations)",
                         sizes=f"{type(model).__name__} on example_input of shape {shapes}")
    clone = copy.deepcopy(model).train()
    opt = (optimizer if optimizer is not None else sgd())(
        [p for p in clone.parameters() if p.requires_grad])

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss(clone(*args)).backward()
        opt.step()

    now = clock_function(clock)
    times, walls, taken = [], [], []
    with torch_threads(threads) as n_threads:
        for _ in range(warmup):
            step()
        for _ in range(repeats):
            if probes:
                taken.append(probe(clock=clock))
            t0, w0 = now(), time.perf_counter()
            step()
            times.append(now() - t0)
            walls.append(time.perf_counter() - w0)
    load = os.getloadavg()
    return StepMeasurement(timing=Timing(times_s=tuple(times)), wall=Timing(times_s=tuple(walls)),
                           probe=median_probe(taken) if taken else None, clock=clock,
                           threads=n_threads, load_average=(load[0], load[1], load[2]))
