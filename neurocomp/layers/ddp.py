"""Process groups for data-parallel training: from ``torchrun``'s environment, or local.

:func:`setup_distributed` reads the variables ``torchrun`` sets (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) and joins the process group — NCCL when
CUDA is present, gloo otherwise — so one script runs unchanged as a single process, on a GPU,
or as ``torchrun --nproc_per_node N script.py``. :func:`launch_local` starts N processes on
this machine with the same variables set, for tests and notebooks.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from neurocomp.checks import check_int

__all__ = ["DistContext", "choose_device", "free_port", "launch_local", "setup_distributed",
           "teardown_distributed"]


@dataclass(frozen=True, kw_only=True)
class DistContext:
    """Where this process stands: its rank, the world size and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None
    created_here: bool

    @property
    def is_distributed(self) -> bool:
        """More than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 (writes checkpoints, shows progress)."""
        return self.rank == 0


def parse_device(name: str, device: torch.device | str | int) -> torch.device:
    """``device`` as a ``torch.device``, or ``ValueError``/``TypeError`` naming ``name``."""
    if isinstance(device, torch.device):
        return device
    if isinstance(device, bool) or not isinstance(device, str | int):
        raise TypeError(f"{name} must be a torch.device or a device string such as 'cpu' or "
                        f"'cuda:0'; got {device!r} of type {type(device).__name__}")
    try:
        return torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"{name} must name a torch device such as 'cpu', 'cuda' or "
                         f"'cuda:0'; got {device!r} ({exc})") from None


def choose_device(model: torch.nn.Module | None = None, *,
                  device: torch.device | str | None = None, local_rank: int = 0) -> torch.device:
    """The device to train on.

    An explicit ``device`` wins; then a model that already sits on an accelerator keeps it;
    then CUDA when present (``cuda:<local_rank>``); otherwise the CPU.
    """
    if device is not None:
        return parse_device("device", device)
    if model is not None:
        first = next(iter(model.parameters()), None)
        if first is not None and first.device.type != "cpu":
            return first.device
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def setup_distributed(model: torch.nn.Module | None = None, *,
                      device: torch.device | str | None = None) -> DistContext:
    """Join (or reuse) the process group that the environment describes.

    An initialised default group is reused; else a ``WORLD_SIZE`` above 1 in the environment
    starts one (``created_here=True``; call :func:`teardown_distributed` when done); else this
    is a single process.
    """
    created = False
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    elif int(os.environ.get("WORLD_SIZE", "1")) > 1:
        if not dist.is_available():
            raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        created = True
    else:
        rank, world = 0, 1
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank if world > 1 else 0)))
    where = choose_device(model, device=device, local_rank=local_rank)
    backend_name = dist.get_backend() if world > 1 else None
    return DistContext(rank=rank, world_size=world, local_rank=local_rank, device=where,
                       backend=backend_name, created_here=created)


def teardown_distributed(ctx: DistContext) -> None:
    """Leave the process group if :func:`setup_distributed` created it."""
    if ctx.created_here and dist.is_initialized():
        dist.destroy_process_group()


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1 (for ``MASTER_PORT``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _entry(rank: int, fn: Callable[..., Any], world_size: int, port: int,
           args: tuple[Any, ...]) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank),
                       "LOCAL_WORLD_SIZE": str(world_size)})
    fn(*args)


def launch_local(fn: Callable[..., Any], *, world_size: int, args: tuple[Any, ...] = (),
                 port: int | None = None) -> None:
    """Run ``fn(*args)`` in ``world_size`` new processes, as ``torchrun`` would on one node.

    Each process gets ``RANK``/``LOCAL_RANK`` 0…N-1, ``WORLD_SIZE`` N and a shared
    ``MASTER_ADDR``/``MASTER_PORT``; ``fn`` (a module-level function, so it can be pickled)
    then calls :func:`setup_distributed` or :func:`~neurocomp.layers.training.fit`. Raises
    if any process fails.
    """
    world_size = check_int("world_size", world_size, low=1)
    port = free_port() if port is None else check_int("port", port, low=1, high=65535)
    mp.start_processes(_entry, args=(fn, world_size, port, tuple(args)), nprocs=world_size,
                       join=True, start_method="spawn")
