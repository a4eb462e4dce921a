"""The sympy backend of the evaluator: exact values for verifying the reference answers.

Not on the grading path (sympy is slow to import and to simplify). sigma is an undefined
sympy Function; sigma' at u is d sigma(t)/dt with t replaced by u, the form sympy's own
Jacobians produce, so differences simplify to zero.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import sympy as sp

from grader.formula.errors import FormulaError
from grader.formula.evaluator import Backend, Bindings, Elementwise, evaluate
from grader.formula.shapes import Shape
from grader.latex.ast import Expr, Num

SMat: TypeAlias = sp.ImmutableMatrix
MAX_DIGITS = 10_000  # exact powers beyond this many digits are refused, not computed


def elementwise(f: Any, order: int) -> Elementwise[SMat]:
    """The `order`-th derivative of the one-argument function `f`, applied entrywise."""
    t = sp.Dummy("t")
    derivative = f(t)
    for _ in range(order):
        derivative = sp.diff(derivative, t)

    def apply(m: SMat) -> SMat:
        return SMat(m.applyfunc(lambda u: derivative.subs(t, u)))

    return apply


def _softplus(u: Any) -> Any:
    return sp.log(1 + sp.exp(u))


_BUILTINS: dict[str, Any] = {
    "exp": sp.exp,
    "log": sp.log,
    "tanh": sp.tanh,
    "sin": sp.sin,
    "cos": sp.cos,
    "softplus": _softplus,
}


class SympyBackend(Backend[SMat]):
    def shape(self, v: SMat) -> Shape:
        return (int(v.shape[0]), int(v.shape[1]))

    def number(self, n: Num) -> SMat:
        value = sp.Rational(n.text) if n.text else sp.Float(n.value)
        return SMat([[value]])

    def add(self, a: SMat, b: SMat) -> SMat:
        return SMat(a + b)

    def neg(self, a: SMat) -> SMat:
        return SMat(-a)

    def matmul(self, a: SMat, b: SMat) -> SMat:
        return SMat(a * b)

    def scale(self, s: SMat, m: SMat) -> SMat:
        return SMat(s[0, 0] * m)

    def hadamard(self, a: SMat, b: SMat) -> SMat:
        return SMat(a.multiply_elementwise(b))

    def divide(self, a: SMat, s: SMat) -> SMat:
        if s[0, 0] == 0:
            raise FormulaError("division by zero")
        return SMat(a / s[0, 0])

    def power(self, base: SMat, exp: SMat, at: int) -> SMat:
        b, e = base[0, 0], exp[0, 0]
        if b.is_number and e.is_number:
            size = abs(float(e)) * math.log10(max(abs(float(b)), 2.0))
            if not math.isfinite(size) or size > MAX_DIGITS:
                raise FormulaError("a power too large to compute exactly", at)
        return SMat([[b**e]])

    def transpose(self, a: SMat) -> SMat:
        return SMat(a.T)

    def diag(self, v: SMat) -> SMat:
        return SMat(sp.diag(*list(v)))

    def ones(self, rows: int, cols: int) -> SMat:
        return SMat(sp.ones(rows, cols))

    def from_cells(self, rows: list[list[SMat]]) -> SMat:
        return SMat([[c[0, 0] for c in r] for r in rows])

    def absolute(self, a: SMat) -> SMat:
        return SMat(a.applyfunc(sp.Abs))

    def as_int(self, v: SMat) -> int | None:
        x = v[0, 0]
        return int(x) if x.is_Integer else None

    def builtin(self, name: str, order: int) -> Elementwise[SMat] | None:
        f = _BUILTINS.get(name)
        return None if f is None else elementwise(f, order)


SYMPY = SympyBackend()


def evaluate_symbolic(expr: Expr, bindings: Bindings[SMat]) -> SMat:
    """The exact value of `expr` as a sympy ImmutableMatrix; raises FormulaError."""
    return evaluate(expr, bindings, SYMPY)


def is_zero(m: SMat) -> bool:
    """Whether every entry simplifies to 0 (expand first: it settles most cases fast)."""
    return all(sp.expand(x) == 0 or sp.simplify(x) == 0 for x in m)
