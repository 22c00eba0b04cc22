"""The ``neurocomp`` command.

::

    neurocomp list
    neurocomp run NAME [NAME ...] | all  [--quick | --full]  [--out DIR]  [--seed N]
                  [--jobs N]  [--force]  [--skip NAME[,NAME]]
    neurocomp plan system --model NAME --gpus N  [--system NAME | --system-file FILE.json]
                          [--batch-per-gpu B]  [--rdma on|off]
    neurocomp plan system --list

``plan system`` finds named systems and models through the entry-point groups
``neurocomp.systems`` and ``neurocomp.workloads`` (see
:mod:`neurocomp.accounting.parallel.registry`), as ``run`` finds analyses, so the library never
imports ``neurocomp_models``; a system file follows
:mod:`neurocomp.accounting.systems.system_files`.

``run`` checks its arguments (``--seed``, ``--jobs``, ``--out``, the names) and every path it
would write before any analysis is loaded, and exits with 2 and one ``error:`` line when one
is wrong; it never replaces a file it did not write (see :mod:`neurocomp.runner`). Exit
codes: 0 all ran or were skipped as current, 1 some failed, 2 bad arguments or refused
paths, 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

#: Largest ``--seed`` (numpy's seeds are 32-bit unsigned integers); as neurocomp.runner.
_SEED_MAX = 2**32 - 1


def _int_in(low: int, high: int | None, why: str = ""):
    """An argparse ``type`` for an integer in ``[low, high]`` (the message names the range)."""
    allowed = f"an integer in [{low}, {'inf' if high is None else high}]{why}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}; got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {allowed}; got {value}")
        return value

    return parse


def _names_list(text: str) -> list[str]:
    """``--skip a,b``: comma-separated names, no empty ones."""
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"must be analysis names separated by commas; "
                                         f"got {text!r}")
    return names


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("neurocomp")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _cmd_list(_: argparse.Namespace) -> int:
    from neurocomp.analysis import AnalysisLoadError, discover, load

    rows = []
    for name, ep in discover().items():
        try:
            a = load(ep)
            rows.append((a.order, a.name, a.claim))
        except AnalysisLoadError as exc:
            rows.append((10**6, name, f"(cannot load: {exc})"))
    width = max((len(r[1]) for r in rows), default=0)
    for _, name, claim in sorted(rows):
        print(f"{name:<{width}}  {claim}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    parser = args.parser

    def fail(message: str) -> int:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2

    names = args.names
    if "all" in names and len(names) > 1:
        return fail("give either 'all' or analysis names, not both")
    os.environ.setdefault("MPLBACKEND", "Agg")
    from neurocomp.runner import (
        OutputLockedError,
        RunInterrupted,
        check_out_dir,
        resolve_names,
        run_analyses,
    )

    skip = [n for group in args.skip for n in group]
    try:
        resolve_names(names, skip=skip)  # unknown names: refused before --out is created
        out = check_out_dir(args.out, name="--out")
        records = run_analyses(names, quick=not args.full, seed=args.seed, out_dir=out,
                               force=args.force, jobs=args.jobs, skip=skip)
    except (ValueError, TypeError, OutputLockedError) as exc:
        return fail(str(exc))
    except RunInterrupted:
        return 130
    return 0 if all(r.ok for r in records) else 1


class _PlanRefused(Exception):
    """A ``plan system`` request that cannot be planned; the message says why."""


def _plan_fail(message: str) -> int:
    """Print ``plan system``'s one error line and return its exit code (2)."""
    print(f"neurocomp plan system: {message}", file=sys.stderr)
    return 2


def _cmd_plan_system(args: argparse.Namespace) -> int:
    from neurocomp.accounting.parallel import RegistryError, named_systems, named_workloads

    try:
        workloads, systems = named_workloads(), named_systems()
    except RegistryError as exc:
        return _plan_fail(str(exc))
    if args.list:
        _print_catalogue(systems, workloads)
        return 0
    try:
        workload, chosen, layers, batch = _plan_request(args, workloads, systems)
    except _PlanRefused as exc:
        return _plan_fail(str(exc))
    _print_plans(args, workload, chosen, layers, batch)
    return 0


def _print_catalogue(systems: Any, workloads: Any) -> None:
    """``plan system --list``: the named systems, then the named models, one a line."""
    for title, cat in (("systems", systems), ("models", workloads)):
        print(f"{title}:")
        for entry in cat:
            text = entry.node.describe() if title == "systems" else entry.description
            print(f"  {entry.name:<24}{text}")


def _plan_request(args: argparse.Namespace, workloads: Any, systems: Any
                  ) -> tuple[Any, list[Any], list[Any], int]:
    """The model, the systems, the model's layers and the batch per GPU a request names.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``plan system`` options.
    workloads, systems
        The named models and systems (entry-point catalogues, indexable by name).

    Raises
    ------
    _PlanRefused
        For a missing or invalid option, an unknown name, a bad system file, or more GPUs
        than the one system asked for has.
    """
    from neurocomp.accounting.hardware import UnknownNameError
    from neurocomp.accounting.parallel import SYSTEMS_GROUP
    from neurocomp.accounting.systems import SystemFileError

    _check_plan_options(args, workloads)
    try:
        workload = workloads[args.model]
        chosen = _chosen_systems(args, systems)
        layers = workload.layers()
        batch = workload.batch_per_device if args.batch_per_gpu is None else args.batch_per_gpu
        if batch < 1:
            raise _PlanRefused(f"--batch-per-gpu must be an integer ≥ 1; got {batch}")
    except (UnknownNameError, SystemFileError, ValueError) as exc:
        raise _PlanRefused(str(exc)) from None
    if not chosen:
        raise _PlanRefused("no systems are registered under the entry-point group "
                           f"{SYSTEMS_GROUP!r}; use --system-file")
    if len(chosen) == 1 and (args.system is not None or args.system_file is not None) \
            and args.gpus > chosen[0].gpus:
        option = "--system" if args.system is not None else "--system-file"
        raise _PlanRefused(f"--gpus must be at most {chosen[0].gpus}, the GPUs of {option} "
                           f"{chosen[0].name!r}; got {args.gpus}")
    return workload, chosen, layers, batch


def _check_plan_options(args: argparse.Namespace, workloads: Any) -> None:
    """Refuse (:class:`_PlanRefused`) a request without ``--model`` and ``--gpus``, with
    ``--gpus`` below 1, or when no model is registered."""
    from neurocomp.accounting.parallel import WORKLOADS_GROUP

    if args.model is None or args.gpus is None:
        missing = " and ".join(o for o, v in (("--model NAME", args.model),
                                               ("--gpus N", args.gpus)) if v is None)
        raise _PlanRefused(f"missing {missing}: give --model NAME and --gpus N (or --list)")
    if args.gpus < 1:
        raise _PlanRefused(f"--gpus must be an integer ≥ 1; got {args.gpus}")
    if not len(workloads):
        raise _PlanRefused("no models are registered under the entry-point group "
                           f"{WORKLOADS_GROUP!r} (is the package installed with its entry "
                           "points?)")


def _chosen_systems(args: argparse.Namespace, systems: Any) -> list[Any]:
    """The systems to plan on: the ``--system-file``, the ``--system``, or every named one.

    Raises
    ------
    _PlanRefused
        If ``--system`` is given and no system is registered.
    """
    from neurocomp.accounting import load_system
    from neurocomp.accounting.parallel import SYSTEMS_GROUP

    if args.system_file is not None:
        return [load_system(args.system_file)]
    if args.system is not None:
        if not len(systems):
            raise _PlanRefused("no systems are registered under the entry-point group "
                               f"{SYSTEMS_GROUP!r}; use --system-file")
        return [systems[args.system]]
    return list(systems)


def _print_plans(args: argparse.Namespace, workload: Any, chosen: Sequence[Any],
                 layers: Sequence[Any], batch: int) -> None:
    """Print the model and the request, then the best layout on each chosen system.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``plan system`` options (``--gpus``, ``--rdma``).
    workload
        The named model.
    chosen : sequence
        The systems to plan on; one with fewer GPUs than asked for is skipped.
    layers : sequence
        The model's layers.
    batch : int
        Samples per GPU per step.
    """
    from neurocomp.accounting import plan_on_system
    from neurocomp.accounting.parallel import DoesNotFitError, format_plan

    params = sum(layer.parameter_count for layer in layers)
    flop = sum(layer.training_flop_per_sample for layer in layers)
    print(f"model: {workload.name} — {workload.description}: {len(layers)} layers, "
          f"{params / 1e6:.3g} M parameters, {flop / 1e9:.3g} GFLOP per sample forward and "
          "backward (1 multiply-add = 2 FLOPs)")
    print(f"plan: {args.gpus} GPUs, {batch} samples per GPU; data or model parallelism per "
          "layer chosen on the step-time model"
          + ("" if args.rdma is None else f"; GPUDirect RDMA forced {args.rdma}"))
    for system in chosen:
        if args.rdma is not None:
            system = system.with_rdma(args.rdma == "on")
        print()
        if args.gpus > system.gpus:
            print(f"== {system.describe()}")
            print(f"skipped: {args.gpus} GPUs requested, the system has {system.gpus}")
            continue
        try:
            plan = plan_on_system(layers, system=system, n_gpus=args.gpus,
                                  batch_per_gpu=batch)
        except DoesNotFitError as exc:
            print(f"== {system.describe()}")
            print(f"does not fit: {exc}")
            continue
        print(format_plan(plan))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neurocomp`` command."""
    parser = argparse.ArgumentParser(
        prog="neurocomp",
        description="A biophysical neuron and a convolutional net side by side: "
                    "what each computes, and what each costs.")
    parser.add_argument("--version", action="version", version=f"neurocomp {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="list the analyses with their claims")
    p_list.set_defaults(func=_cmd_list)

    p_run = sub.add_parser("run", help="run analyses and write their results and index.html")
    p_run.add_argument("names", nargs="+", metavar="NAME",
                       help="analysis names (see `neurocomp list`), or 'all'")
    speed = p_run.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", default=True,
                       help="small sizes, finishes in minutes (default)")
    speed.add_argument("--full", action="store_true", help="the paper-quality run")
    p_run.add_argument("--out", default="results", metavar="DIR",
                       help="output directory (default: results); only directories that "
                            "neurocomp wrote are ever replaced")
    p_run.add_argument("--seed", type=_int_in(0, _SEED_MAX, " (numpy's seed range)"),
                       default=0, metavar="N",
                       help=f"seed of all randomness, 0 to {_SEED_MAX} (default: 0)")
    p_run.add_argument("--jobs", type=_int_in(1, None), default=1, metavar="N",
                       help="run N analyses at once, each in its own process (default: 1)")
    p_run.add_argument("--force", action="store_true",
                       help="rerun analyses whose saved result is current (same commit, "
                            "mode and seed); by default they are skipped")
    p_run.add_argument("--skip", type=_names_list, action="append", default=[],
                       metavar="NAME[,NAME]", help="analyses not to run (repeatable)")
    p_run.set_defaults(func=_cmd_run, parser=p_run)

    p_plan = sub.add_parser("plan", help="plan parallel training on multi-GPU systems")
    plan_sub = p_plan.add_subparsers(dest="plan_command", required=True)
    p_sys = plan_sub.add_parser(
        "system", help="best parallel layout of a model on each named system (or one file)",
        description="Print, for each named system (or the one given), the layout with the "
                    "shortest training step — data or model parallelism per layer, the "
                    "model-parallel group size — its step time and speedup, the all-reduce "
                    "the topology favours, and where the time goes (compute, intra-node, "
                    "inter-node communication).")
    p_sys.add_argument("--model", metavar="NAME", help="model name (see --list)")
    p_sys.add_argument("--gpus", type=int, metavar="N", help="number of GPUs")
    which = p_sys.add_mutually_exclusive_group()
    which.add_argument("--system", metavar="NAME", help="one named system (default: all)")
    which.add_argument("--system-file", metavar="FILE.json",
                       help="a system described in JSON (schema: "
                            "neurocomp.accounting.systems.system_files)")
    p_sys.add_argument("--batch-per-gpu", type=int, metavar="B",
                       help="samples per GPU per step (default: the model's own)")
    p_sys.add_argument("--rdma", choices=("on", "off"),
                       help="force GPUDirect RDMA on or off (default: as each system is built)")
    p_sys.add_argument("--list", action="store_true", help="list the systems and models")
    p_sys.set_defaults(func=_cmd_plan_system)

    from neurocomp.cli_count import add_count_parser  # `neurocomp count` (issue 15)
    add_count_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neurocomp`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("neurocomp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
