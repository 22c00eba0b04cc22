"""``neurocomp count``: FLOPs, bytes and parameters of a model, per module, without running it.

::

    neurocomp count MODEL|package.module:callable --input-shape 8,3,224,224
                    [--input-shape ...] [--dtype float32] [--no-backward] [--eval]
                    [--depth N] [--per-sample] [--real] [--strict]

``MODEL`` is a short name tried as ``neurocomp_models.convnets:<name>`` (``resnet18``, ``resnet50``,
``alexnet_2012``, …), or ``package.module:callable``: a callable (an ``nn.Module`` class or
factory) called without arguments that returns an ``nn.Module``. Either is imported by
``importlib`` when the command runs — the library itself never imports ``neurocomp_models``. The
model is counted by :func:`neurocomp.accounting.count` (forward and backward, in training
mode, on the ``meta`` device: nothing is computed; ``--real`` runs real tensors) and its
per-module table printed (:meth:`~neurocomp.accounting.counting.CountReport.summary`).

Exit codes: 0 counted; 2 bad arguments (one ``error:`` line naming the argument, its value
and what is allowed), a model that cannot be imported or built, shapes that do not fit the
model (the module where it failed and the shapes), ops without a formula with ``--strict``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

__all__ = ["add_count_parser", "run_count"]

#: Where short model names are looked up, in order (imported at run time only).
MODEL_PACKAGES = ("neurocomp_models.convnets", "neurocomp_models.modern_nets")


def _short_name_home(name: str) -> tuple[str, str]:
    """The first of :data:`MODEL_PACKAGES` that has ``name`` (else the first, whose error
    then lists what it has)."""
    for package in MODEL_PACKAGES:
        try:
            if hasattr(importlib.import_module(package), name.split(".")[0]):
                return package, name
        except ImportError:
            continue
    return MODEL_PACKAGES[0], name


def _shape(text: str) -> tuple[int, ...]:
    """``"8,3,224,224"`` → ``(8, 3, 224, 224)``: integers >= 1 separated by commas."""
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be integers >= 1 separated by commas, batch first, like 8,3,224,224; "
            f"got {text!r}") from None
    for j, d in enumerate(dims):
        if d < 1:
            what = "the batch size (first number)" if j == 0 else f"dimension {j}"
            raise argparse.ArgumentTypeError(f"{what} must be an integer >= 1; got {d} "
                                             f"in {text!r}")
    return dims


def _depth(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}")
    return value


def add_count_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``count`` subcommand to ``sub`` (the ``add_subparsers`` object of the
    ``neurocomp`` parser) and return its parser."""
    p = sub.add_parser(
        "count", help="count a model's FLOPs, bytes and parameters per module, without "
                      "running it",
        description="Count FLOPs (forward and backward), bytes and parameters of a model, "
                    "per module, on the meta device (nothing is computed), and print the "
                    "per-module table.")
    p.add_argument("model", metavar="MODEL",
                   help=f"a name in {' or '.join(MODEL_PACKAGES)} (resnet18, resnet50, "
                        f"cifar_net, ...) or package.module:callable returning an nn.Module")
    p.add_argument("--input-shape", type=_shape, action="append", required=True,
                   metavar="N,C,...", help="shape of the input, batch first (repeat for a "
                                           "model with several inputs)")
    p.add_argument("--dtype", default=None, metavar="NAME",
                   help="dtype of the inputs, a torch dtype name (default: the model's)")
    p.add_argument("--no-backward", action="store_true", help="count the forward pass only")
    p.add_argument("--eval", action="store_true", help="count in eval mode (default: training)")
    p.add_argument("--depth", type=_depth, default=3, metavar="N",
                   help="deepest module level in the table (default: 3)")
    p.add_argument("--per-sample", action="store_true",
                   help="FLOPs and bytes per sample instead of per batch")
    p.add_argument("--real", action="store_true",
                   help="run real tensors instead of counting on the meta device")
    p.add_argument("--strict", action="store_true",
                   help="fail if an op has no FLOP formula (default: warn, lower bound)")
    p.set_defaults(func=run_count, parser=p)
    return p


def _load_model(spec: str) -> Any:
    """The ``nn.Module`` named by ``spec`` (imported and built now)."""
    import torch

    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        tried = spec
    else:
        module_name, attr = _short_name_home(spec)
        tried = f"{module_name}:{spec}"
    if not module_name or not attr:
        raise ValueError(f"MODEL must be a name or package.module:callable; got {spec!r}")
    try:
        source = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"MODEL {spec!r}: cannot import {module_name!r} ({exc})") from exc
    factory = source
    for part in attr.split("."):
        if not hasattr(factory, part):
            public = sorted(n for n in dir(source) if not n.startswith("_"))[:20]
            raise ValueError(f"MODEL {spec!r}: {module_name!r} has no {attr!r} (tried "
                             f"{tried}); it has {', '.join(public)}")
        factory = getattr(factory, part)
    if isinstance(factory, torch.nn.Module):
        return factory
    if not callable(factory):
        raise ValueError(f"MODEL {spec!r} must name a callable returning an nn.Module; "
                         f"{tried} is a {type(factory).__name__}")
    try:
        model = factory()
    except Exception as exc:
        raise ValueError(f"MODEL {spec!r}: calling {tried}() failed: "
                         f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"MODEL {spec!r} must give a torch.nn.Module; it gave "
                         f"{type(model).__name__}")
    return model


def run_count(args: argparse.Namespace) -> int:
    """Run ``neurocomp count`` with parsed ``args``; print the table; the exit code."""
    import warnings

    import torch

    from neurocomp.accounting.counting import UntraceableModuleError, count

    dtype = None
    if args.dtype is not None:
        dtype = getattr(torch, args.dtype, None)
        if not isinstance(dtype, torch.dtype):
            return _error(f"--dtype must be a torch dtype name (float32, bfloat16, float16, "
                          f"float64, ...); got {args.dtype!r}")
    try:
        model = _load_model(args.model)
    except ValueError as exc:
        return _error(str(exc))
    model.train(not args.eval)
    shapes = args.input_shape[0] if len(args.input_shape) == 1 else tuple(args.input_shape)
    try:
        with warnings.catch_warnings():  # the table says which ops went uncounted
            warnings.filterwarnings("ignore", message=r"count\(.*no FLOP formula")
            report = count(model, input_shape=shapes, dtype=dtype,
                           backward=not args.no_backward, strict=args.strict,
                           device="real" if args.real else "meta")
    except (UntraceableModuleError, ValueError, TypeError) as exc:  # UncountedOpError too
        return _error(f"cannot count {args.model}: {exc}")
    print(report.summary(depth=args.depth, per_sample=args.per_sample))
    return 0


def _error(message: str) -> int:
    print(f"neurocomp count: error: {message}", file=sys.stderr)
    return 2
