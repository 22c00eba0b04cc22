r"""Count the arithmetic of a model equation or code line, per element, constants folded.

The simulation-cost model (:mod:`neurocomp.accounting.simcost.equations`) reads the equations
and ``on_pre`` code the biophysics pillar hands to Brian2 — the expressions of the channel
units (:class:`~neurocomp.biophysics.mechanisms.Gate`) and the strings of
:func:`~neurocomp.biophysics.mechanisms.brian2_equations`,
:func:`~neurocomp.biophysics.receptors.receptor_equations` and
:func:`~neurocomp.biophysics.release.release_code` — and counts their operations here, so
the op costs follow the equations the simulation runs, not a table typed in by hand.

Rules (per element, i.e. per compartment or per synapse, as a code generator with
loop-invariant hoisting and constant folding would compute it):

* names listed as *scalars* (units such as ``mV``, namespace constants, ``dt``) and
  literals are per-step constants: any sub-expression of constants only is hoisted, 0 FLOPs;
* a chain of ``+``/``−`` with :math:`n_v` per-element operands and any constants costs
  :math:`n_v - 1 + [\text{constants}]` additions; a chain of ``×``/``÷`` likewise, all
  constant factors folded into one, and each per-element divisor costing a division;
* ``x**k`` for an integer literal k: multiplies by repeated squaring (``m**3``: 2,
  ``n**4``: 2); other powers count as transcendental;
* ``exp``, ``log``, ``exprel``, ``expm1``, ``tanh``, ``sin``, … count
  ``costs.transcendental_flop``; ``sqrt`` ``costs.sqrt_flop``; a comparison
  ``costs.comparison_flop``; ``rand()`` one random draw (``costs.random_draw_flop``);
  ``int()`` and unary minus 0 (a conversion, a folded sign);
* ``x += e`` adds one addition to the cost of ``e``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from neurocomp.accounting.scalar_ops import DEFAULT_SCALAR_OP_COSTS, ScalarOpCosts

__all__ = ["BRIAN2_UNITS", "OpTally", "code_ops", "expression_ops"]

#: Unit names that appear in Brian2 equations (constants).
BRIAN2_UNITS = frozenset({
    "second", "ms", "us", "ns", "volt", "mV", "uV", "amp", "nA", "pA", "mA", "uA", "siemens",
    "mS", "uS", "nS", "pS", "farad", "uF", "nF", "pF", "ohm", "kohm", "Mohm", "meter", "cm",
    "mm", "um", "umetre", "metre", "Hz", "kHz", "mM", "mmolar", "molar", "pi", "e"})
_TRANSCENDENTAL = frozenset({"exp", "log", "log10", "log2", "exprel", "expm1", "log1p", "tanh",
                             "sinh", "cosh", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
                             "erf", "sigmoid"})
_FREE = frozenset({"int", "float", "bool"})


@dataclass(frozen=True)
class OpTally:
    """FLOPs and random draws of some code, per element."""

    flop: float = 0.0
    random_draws: int = 0

    def __add__(self, other: OpTally) -> OpTally:
        return OpTally(self.flop + other.flop, self.random_draws + other.random_draws)


class _Counter:
    def __init__(self, scalars: frozenset[str], costs: ScalarOpCosts) -> None:
        self.scalars = scalars
        self.costs = costs
        self.draws = 0

    # each visit returns (is_per_element, flop)
    def visit(self, node: ast.AST) -> tuple[bool, float]:
        if isinstance(node, ast.Constant):
            return False, 0.0
        if isinstance(node, ast.Name):
            return node.id not in self.scalars, 0.0
        if isinstance(node, ast.UnaryOp):
            return self.visit(node.operand)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self._pow(node)
            if isinstance(node.op, ast.Add | ast.Sub):
                return self._chain(node, (ast.Add, ast.Sub), divide=False)
            if isinstance(node.op, ast.Mult | ast.Div):
                return self._chain(node, (ast.Mult, ast.Div), divide=True)
            raise ValueError(f"unsupported operator {type(node.op).__name__} in "
                             f"{ast.unparse(node)!r}")
        if isinstance(node, ast.Compare):
            parts = [self.visit(n) for n in (node.left, *node.comparators)]
            vector = any(v for v, _ in parts)
            flop = sum(f for _, f in parts)
            return vector, flop + (len(node.ops) * self.costs.comparison_flop if vector else 0.0)
        if isinstance(node, ast.BoolOp):
            parts = [self.visit(n) for n in node.values]
            vector = any(v for v, _ in parts)
            flop = sum(f for _, f in parts)
            return vector, flop + ((len(parts) - 1) * self.costs.comparison_flop if vector
                                   else 0.0)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ValueError(f"cannot count {type(node).__name__} in {ast.unparse(node)!r}")

    def _operands(self, node: ast.AST, ops: tuple[type, ...], denominator: bool,
                  out: list[tuple[ast.AST, bool]]) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ops):
            self._operands(node.left, ops, denominator, out)
            flips = isinstance(node.op, ast.Div | ast.Sub)
            self._operands(node.right, ops, denominator != flips if flips else denominator, out)
        else:
            out.append((node, denominator))

    def _chain(self, node: ast.BinOp, ops: tuple[type, ...], *, divide: bool
               ) -> tuple[bool, float]:
        operands: list[tuple[ast.AST, bool]] = []
        self._operands(node, ops, False, operands)
        visited = [(self.visit(n), inverted) for n, inverted in operands]
        n_vector = sum(1 for (vec, _), _ in visited if vec)
        n_scalar = len(visited) - n_vector
        flop = sum(f for (_, f), _ in visited)
        if n_vector == 0:
            return False, 0.0
        combines = n_vector - 1 + (1 if n_scalar else 0)
        if not divide:
            return True, flop + combines
        divisions = sum(1 for (vec, _), inverted in visited if vec and inverted)
        divisions = min(divisions, combines)
        return True, flop + (combines - divisions) + divisions * self.costs.division_flop

    def _pow(self, node: ast.BinOp) -> tuple[bool, float]:
        base_vec, base_flop = self.visit(node.left)
        exp_vec, exp_flop = self.visit(node.right)
        if not (base_vec or exp_vec):
            return False, 0.0
        exponent = node.right
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub) and isinstance(
                exponent.operand, ast.Constant):
            k = -exponent.operand.value
        else:
            k = exponent.value if isinstance(exponent, ast.Constant) else None
        if not exp_vec and isinstance(k, int | float) and float(k).is_integer():
            m = abs(int(k))
            mults = 0 if m <= 1 else m.bit_length() - 1 + bin(m).count("1") - 1
            cost = mults + (self.costs.division_flop if k < 0 else 0.0)
        elif not exp_vec and k == 0.5:
            cost = self.costs.sqrt_flop
        else:
            cost = self.costs.transcendental_flop
        return True, base_flop + exp_flop + cost

    def _call(self, node: ast.Call) -> tuple[bool, float]:
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        if name == "rand" and not node.args:
            self.draws += 1
            return True, self.costs.random_draw_flop
        parts = [self.visit(a) for a in node.args]
        vector = any(v for v, _ in parts)
        flop = sum(f for _, f in parts)
        if not vector:
            return False, 0.0
        if name in _FREE:
            return True, flop
        if name in _TRANSCENDENTAL:
            return True, flop + self.costs.transcendental_flop
        if name == "sqrt":
            return True, flop + self.costs.sqrt_flop
        if name == "abs":
            return True, flop + 1.0
        if name == "clip":
            return True, flop + 2.0 * self.costs.comparison_flop
        raise ValueError(f"no FLOP count for function {name!r} in {ast.unparse(node)!r}")


def expression_ops(expression: str, *, scalars: Iterable[str] = (),
                   costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS) -> OpTally:
    """FLOPs (and random draws) of one expression per element.

    Parameters
    ----------
    expression : str
        A Python/Brian2 expression, e.g. ``"gL*(E_L - v)"``.
    scalars : iterable of str
        Names that are per-step constants (added to :data:`BRIAN2_UNITS`).
    costs : ScalarOpCosts

    Raises
    ------
    ValueError
        For syntax or functions it cannot count (the message quotes the part).
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse expression {expression!r}: {exc.msg}") from None
    counter = _Counter(BRIAN2_UNITS | frozenset(scalars), costs)
    _, flop = counter.visit(tree.body)
    return OpTally(float(flop), counter.draws)


def code_ops(code: str, *, scalars: Iterable[str] = (),
             costs: ScalarOpCosts = DEFAULT_SCALAR_OP_COSTS,
             skip: Iterable[str] = ()) -> OpTally:
    """FLOPs of a block of statements (``x = e``, ``x += e``), one element, run once each.

    Parameters
    ----------
    code : str
        Statements, one per line (Brian2 ``on_pre`` code).
    scalars : iterable of str
        Per-step constants.
    costs : ScalarOpCosts
    skip : iterable of str
        Targets whose assignments are bookkeeping, not model (e.g. ``"events_total"``).
    """
    skipped = set(skip)
    total = OpTally()
    for line in code.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            statement = ast.parse(line).body[0]
        except SyntaxError as exc:
            raise ValueError(f"cannot parse code line {line!r}: {exc.msg}") from None
        if isinstance(statement, ast.Assign | ast.AugAssign):
            target = statement.targets[0] if isinstance(statement, ast.Assign) else (
                statement.target)
            if isinstance(target, ast.Name) and target.id in skipped:
                continue
            tally = expression_ops(ast.unparse(statement.value), scalars=scalars, costs=costs)
            if isinstance(statement, ast.AugAssign):
                tally = tally + OpTally(1.0 if not isinstance(statement.op, ast.Div)
                                        else costs.division_flop, 0)
            total = total + tally
        else:
            raise ValueError(f"code line {line!r} is not an assignment")
    return total
