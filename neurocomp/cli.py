"""The ``neurocomp`` command.

::

    neurocomp list
    neurocomp run NAME [NAME ...] | all  [--quick | --full]  [--out DIR]  [--seed N]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


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
    os.environ.setdefault("MPLBACKEND", "Agg")
    from neurocomp.runner import run_analyses

    names = args.names
    if "all" in names and len(names) > 1:
        print("neurocomp run: give either 'all' or analysis names, not both", file=sys.stderr)
        return 2
    try:
        records = run_analyses(names, quick=not args.full, seed=args.seed, out_dir=args.out)
    except ValueError as exc:
        print(f"neurocomp run: {exc}", file=sys.stderr)
        return 2
    return 0 if all(r.ok for r in records) else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neurocomp`` command."""
    parser = argparse.ArgumentParser(
        prog="neurocomp",
        description="A biophysical neuron and a convolutional net side by side: "
                    "what each computes, and what each costs.")
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
    p_run.add_argument("--out", default="results", help="output directory (default: results)")
    p_run.add_argument("--seed", type=int, default=0, help="seed of all randomness (default: 0)")
    p_run.set_defaults(func=_cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neurocomp`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
