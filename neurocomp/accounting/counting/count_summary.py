"""The printable per-module table of a :class:`~neurocomp.accounting.counting.CountReport`.

:func:`summary_table` is behind ``CountReport.summary()`` and ``print(report)``: one row
per module (path indented by depth, type, output shape of its first call, parameters,
forward and backward FLOPs, bytes read and written), totals inclusive of submodules, per
batch or per sample, as ``torchinfo``, ``fvcore`` and ``ptflops`` print them; then the
totals, and — when some ops had no formula — the note that the FLOPs are lower bounds
(:func:`uncounted_text` names the ops and modules).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from neurocomp.accounting.counting.count_report import LOSS_MODULE, PHASES, ROOT_LABEL
from neurocomp.checks import check_int

if TYPE_CHECKING:
    from neurocomp.accounting.counting.count_report import CountReport

__all__ = ["format_count", "format_shape", "summary_table", "uncounted_text"]

_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_NAME_WIDTH, _SHAPE_WIDTH = 44, 22


def format_count(value: float, unit: str = "") -> str:
    """``1.234e9`` → ``"1.23 G"`` (3 significant digits, SI prefix), then ``unit``."""
    if not math.isfinite(value):
        return f"{value} {unit}".strip()
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".strip() if value != int(value) else f"{int(value)} {unit}".strip()


def format_shape(shape: Any, width: int = _SHAPE_WIDTH) -> str:
    """A recorded output shape as text (``"(8, 1000)"``; ``"-"`` for a module that did not
    run), cut to ``width`` characters."""
    if shape is None:
        return "-"

    def text(s: Any) -> str:
        if isinstance(s, tuple):
            return "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"
        if isinstance(s, list):
            return "[" + ", ".join(text(x) for x in s) + "]"
        if isinstance(s, dict):
            return "{" + ", ".join(f"{k}: {text(v)}" for k, v in s.items()) + "}"
        return "-" if s is None else str(s)

    out = text(shape)
    return out if len(out) <= width else out[:width - 1] + "…"


def uncounted_text(report: CountReport) -> str:
    """``"2 ops have no FLOP formula: aten.x (3 calls; modules 'a', 'b'), …"``."""
    parts = []
    for u in report.uncounted:
        modules = ", ".join(repr(m) for m in u.modules[:6])
        more = f" and {len(u.modules) - 6} more" if len(u.modules) > 6 else ""
        reason = "" if u.reason == "no formula" else f"; {u.reason}"
        parts.append(f"{u.op} ({u.calls} call{'s' if u.calls != 1 else ''}; "
                     f"module{'s' if len(u.modules) != 1 else ''} {modules}{more}{reason})")
    n = len(report.uncounted)
    return (f"{n} op{'s have' if n != 1 else ' has'} no FLOP formula: " + ", ".join(parts))


def _row(cells: list[str], widths: list[int]) -> str:
    first = cells[0].ljust(widths[0])
    rest = [c.ljust(w) if k < 2 else c.rjust(w)
            for k, (c, w) in enumerate(zip(cells[1:], widths[1:], strict=True))]
    return "  ".join([first, *rest]).rstrip()


def summary_table(report: CountReport, *, depth: int | None = 3,
                  per_sample: bool = False) -> str:
    """The table of :meth:`CountReport.summary` (see there for the parameters)."""
    if depth is not None:
        depth = check_int("depth", depth, low=0)
    if not isinstance(per_sample, bool):
        raise TypeError(f"per_sample must be True or False; got {per_sample!r}")
    scale = 1.0 / report.batch_size if per_sample else 1.0
    frame = report.to_frame().set_index("module")
    bound = "≥ " if report.is_lower_bound else ""
    header = ["Module", "Type", "Output shape", "Params", "Fwd FLOP", "Bwd FLOP", "Bytes"]
    rows = []
    for m in report.modules:
        if depth is not None and m.depth > depth:
            continue
        label = m.name or ROOT_LABEL
        t = frame.loc[label]
        name = "  " * m.depth + label + (f" ×{m.calls}" if m.calls > 1 else "")
        if len(name) > _NAME_WIDTH:
            name = name[:_NAME_WIDTH - 1] + "…"
        moved = sum(t[f"{p}_bytes_{d}"] for p in PHASES for d in ("read", "written"))
        rows.append([name, m.type, format_shape(m.output_shape), format_count(m.parameters),
                     format_count(t["forward_flop"] * scale),
                     format_count(t["backward_flop"] * scale) if report.backward else "-",
                     format_count(moved * scale, "B")])
    loss = [o for o in report.ops if o.module == LOSS_MODULE]
    if loss:
        rows.append([LOSS_MODULE, "loss", "", "",
                     format_count(sum(o.flop for o in loss if o.phase == "forward") * scale),
                     format_count(sum(o.flop for o in loss if o.phase == "backward") * scale),
                     format_count(sum(o.bytes_read + o.bytes_written for o in loss) * scale,
                                  "B")])
    moved_all = report.bytes_read() + report.bytes_written()
    total = ["Total", "", "", format_count(report.parameter_count),
             bound + format_count(report.forward_flop * scale),
             bound + format_count(report.backward_flop * scale) if report.backward else "-",
             format_count(moved_all * scale, "B")]
    widths = [max(len(r[k]) for r in (header, *rows, total)) for k in range(len(header))]
    rule = "-" * len(_row(["x" * w for w in widths], widths))
    per = "per sample" if per_sample else f"per batch of {report.batch_size}"
    phases = "forward + backward" if report.backward else "forward only"
    element = ("each tensor's own element size" if report.dtype_bytes is None
               else f"{report.dtype_bytes:g} B per floating element")
    lines = [f"{report.model}: {phases}, {'training' if report.training else 'eval'} mode, "
             f"batch {report.batch_size}, counted on {report.counted_on}"
             + (" (nothing computed)" if report.counted_on == "meta" else ""),
             rule, _row(header, widths), rule,
             *(_row(r, widths) for r in rows), rule, _row(total, widths), rule,
             f"FLOPs and bytes {per}, inclusive of submodules; bytes read + written at "
             f"{element}; {report.convention}"]
    if report.is_lower_bound:
        lines.append(f"lower bound: FLOP totals are ≥ the numbers shown — "
                     f"{uncounted_text(report)}")
    return "\n".join(lines)
