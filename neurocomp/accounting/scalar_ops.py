"""What one scalar operation counts for, beyond the multiply-add (the convention's choices).

The library's convention fixes one thing: a multiply-add is 2 FLOPs (an add, a subtract or a
multiply is 1). Everything else a layer or a simulation computes — a division, a square root,
an ``exp`` or ``tanh``, a comparison, a random draw — has no agreed FLOP count: hardware does
a division in one instruction or several, a vectorised math library evaluates ``exp`` as a
range reduction plus a polynomial of a dozen terms, and the published counters disagree
(ptflops and thop count an activation as one operation per element, fvcore and
``FlopCounterMode`` count it as none; ``docs/references.md#anchors-accounting-1-3``). Izhikevich's
(2004) FLOP-per-ms ranking of neuron models (``docs/references.md#anchors-neuro-1-6``) does not
state how it counted ``exp`` either. So these counts are **choices**, made explicit here and
carried by every report: :class:`ScalarOpCosts` holds them, and every FLOP count that depends on
them takes one.

Defaults: every scalar operation counts 1 FLOP, transcendental functions included (the
lowest defensible count, as the counters that count activations at all do); random draws
count 0 FLOPs and are reported separately, because generating a random number is integer
work. A reader who prefers to weigh ``exp`` as ~20 FLOPs passes
``ScalarOpCosts(transcendental_flop=20)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from neurocomp.checks import check_real

__all__ = ["DEFAULT_SCALAR_OP_COSTS", "ScalarOpCosts"]


@dataclass(frozen=True, kw_only=True)
class ScalarOpCosts:
    """FLOPs counted for the scalar operations the multiply-add convention leaves open.

    An addition, subtraction or multiplication always counts 1 FLOP (a multiply-add 2).

    Parameters
    ----------
    division_flop : float
        One division or reciprocal, FLOP (≥ 0; default 1).
    sqrt_flop : float
        One square root or reciprocal square root, FLOP (≥ 0; default 1).
    transcendental_flop : float
        One call of ``exp``, ``log``, ``expm1``, ``exprel``, ``tanh``, ``erf``, ``lgamma``,
        a trigonometric function or a power with a non-integer exponent, FLOP (≥ 0;
        default 1 — a choice, see the module notes).
    comparison_flop : float
        One comparison, maximum or minimum (``relu``, max-pooling, ``v > θ``), FLOP
        (≥ 0; default 1).
    random_draw_flop : float
        One random number drawn, FLOP (≥ 0; default 0: integer work, reported separately).
    """

    division_flop: float = 1.0
    sqrt_flop: float = 1.0
    transcendental_flop: float = 1.0
    comparison_flop: float = 1.0
    random_draw_flop: float = 0.0

    def __post_init__(self) -> None:
        for name in ("division_flop", "sqrt_flop", "transcendental_flop", "comparison_flop",
                     "random_draw_flop"):
            check_real(name, getattr(self, name), low=0.0, high=1e6, unit="FLOP")

    def describe(self) -> str:
        """One line for reports: ``"division 1, sqrt 1, exp/log/tanh 1, ... FLOP"``."""
        return (f"add, subtract, multiply 1 FLOP (multiply-add 2); division "
                f"{self.division_flop:g}, sqrt {self.sqrt_flop:g}, exp/log/tanh/pow "
                f"{self.transcendental_flop:g}, comparison {self.comparison_flop:g}, random "
                f"draw {self.random_draw_flop:g} FLOP")


#: The library's default choices (every scalar operation 1 FLOP, random draws 0).
DEFAULT_SCALAR_OP_COSTS = ScalarOpCosts()
