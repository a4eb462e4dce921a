"""One evaluator for the formula tree, over a backend (numpy for grading, sympy for proofs).

Every value is a 2-D matrix: vectors are columns (n x 1), scalars are 1 x 1. A 1 x 1 value
times a matrix scales it. Shapes are checked here, once, so both backends word size
problems the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from grader.formula.errors import FormulaError, ShapeError, UnknownSymbol
from grader.formula.shapes import Shape, describe
from grader.latex.ast import (
    Abs,
    Add,
    Call,
    Div,
    Dots,
    Expr,
    Hadamard,
    Jacobian,
    Matrix,
    Mul,
    Neg,
    Num,
    Ones,
    Partial,
    Percent,
    Placeholder,
    Pow,
    Seq,
    Sub,
    Sym,
    Transpose,
    render,
)

V = TypeVar("V")
Elementwise = Callable[[V], V]

MAX_SIZE = 10_000  # largest side of a ones matrix a formula may ask for


class Backend(ABC, Generic[V]):
    """The arithmetic of one kind of matrix value."""

    @abstractmethod
    def shape(self, v: V) -> Shape: ...

    @abstractmethod
    def number(self, n: Num) -> V: ...

    @abstractmethod
    def add(self, a: V, b: V) -> V: ...

    @abstractmethod
    def neg(self, a: V) -> V: ...

    @abstractmethod
    def matmul(self, a: V, b: V) -> V: ...

    @abstractmethod
    def scale(self, s: V, m: V) -> V:
        """`s` is 1 x 1."""

    @abstractmethod
    def hadamard(self, a: V, b: V) -> V: ...

    @abstractmethod
    def divide(self, a: V, s: V) -> V:
        """`s` is 1 x 1; raises FormulaError on division by zero where that is known."""

    @abstractmethod
    def power(self, base: V, exp: V, at: int) -> V:
        """Both 1 x 1; must refuse exponents too large to compute."""

    @abstractmethod
    def transpose(self, a: V) -> V: ...

    @abstractmethod
    def diag(self, v: V) -> V:
        """`v` is n x 1 or 1 x n; gives n x n."""

    @abstractmethod
    def ones(self, rows: int, cols: int) -> V: ...

    @abstractmethod
    def from_cells(self, rows: list[list[V]]) -> V:
        """Cells are 1 x 1."""

    @abstractmethod
    def absolute(self, a: V) -> V: ...

    @abstractmethod
    def as_int(self, v: V) -> int | None:
        """The whole number a 1 x 1 value holds, or None."""

    @abstractmethod
    def builtin(self, name: str, order: int) -> Elementwise[V] | None:
        """exp, log, tanh, ... applied elementwise; None when unknown."""


@dataclass(frozen=True)
class Bindings(Generic[V]):
    """What a formula's names mean: values by symbol name ("A_l", "y_{l-1}", "dy_L/dy_l")
    and elementwise functions by (name, derivative order), e.g. ("sigma", 1)."""

    values: Mapping[str, V]
    functions: Mapping[tuple[str, int], Elementwise[V]] = field(default_factory=dict)


def evaluate(expr: Expr, bindings: Bindings[V], backend: Backend[V]) -> V:
    """The value of `expr`; raises FormulaError (ShapeError, UnknownSymbol) with a sentence."""
    return _Evaluator(bindings, backend).eval(expr)


class _Evaluator(Generic[V]):
    def __init__(self, bindings: Bindings[V], backend: Backend[V]) -> None:
        self.b = bindings
        self.k = backend

    def eval(self, e: Expr) -> V:
        k = self.k
        match e:
            case Num():
                return k.number(e)
            case Sym(name=name):
                if name not in self.b.values:
                    raise UnknownSymbol(name, self._known(), e.at, "symbol")
                return self.b.values[name]
            case Jacobian():
                if e.name not in self.b.values:
                    raise UnknownSymbol(render(e), self._known(), e.at, "derivative")
                return self.b.values[e.name]
            case Add(left=a, right=b):
                return self._sum(self.eval(a), self.eval(b), e, negate=False)
            case Sub(left=a, right=b):
                return self._sum(self.eval(a), self.eval(b), e, negate=True)
            case Neg(operand=a):
                return k.neg(self.eval(a))
            case Mul(left=a, right=b):
                return self._product(self.eval(a), self.eval(b), e.at)
            case Hadamard(left=a, right=b):
                return self._hadamard(self.eval(a), self.eval(b), e.at)
            case Div(num=a, den=b):
                return self._divide(self.eval(a), self.eval(b), e.at)
            case Pow(base=a, exp=b):
                return self._power(self.eval(a), self.eval(b), e.at)
            case Transpose(operand=a):
                return k.transpose(self.eval(a))
            case Call():
                return self._call(e)
            case Matrix(rows=rows):
                return self._matrix(rows, e.at)
            case Ones(dims=dims):
                return self._ones(dims, e.at)
            case Abs(operand=a):
                return k.absolute(self.eval(a))
            case Percent(operand=a):
                return self._divide(self.eval(a), k.number(Num(100.0, "100")), e.at)
            case Seq(items=items):
                raise FormulaError(
                    f"a list of {len(items)} values where one value is expected", e.at
                )
            case Dots():
                raise FormulaError("an ellipsis (\\cdots): the formula must be written out", e.at)
            case Partial():
                raise FormulaError("a lone \\partial outside a fraction", e.at)
            case Placeholder():
                raise FormulaError("an unnamed argument (\\cdot) where a value is needed", e.at)

    def _known(self) -> tuple[str, ...]:
        return tuple(sorted(self.b.values))

    def _sum(self, a: V, b: V, e: Add | Sub, *, negate: bool) -> V:
        sa, sb = self.k.shape(a), self.k.shape(b)
        if sa != sb:
            verb = "subtract" if negate else "add"
            raise ShapeError(f"cannot {verb} {describe(sa)} and {describe(sb)}", (sa, sb), e.at)
        return self.k.add(a, self.k.neg(b) if negate else b)

    def _product(self, a: V, b: V, at: int) -> V:
        sa, sb = self.k.shape(a), self.k.shape(b)
        if sa == (1, 1):
            return self.k.scale(a, b)
        if sb == (1, 1):
            return self.k.scale(b, a)
        if sa[1] != sb[0]:
            raise ShapeError(
                f"cannot multiply {describe(sa)} by {describe(sb)} "
                f"(inner sizes {sa[1]} and {sb[0]} differ)",
                (sa, sb),
                at,
            )
        return self.k.matmul(a, b)

    def _hadamard(self, a: V, b: V, at: int) -> V:
        sa, sb = self.k.shape(a), self.k.shape(b)
        if sa == (1, 1):
            return self.k.scale(a, b)
        if sb == (1, 1):
            return self.k.scale(b, a)
        if sa != sb:
            raise ShapeError(
                f"cannot multiply {describe(sa)} and {describe(sb)} elementwise", (sa, sb), at
            )
        return self.k.hadamard(a, b)

    def _divide(self, a: V, b: V, at: int) -> V:
        sb = self.k.shape(b)
        if sb != (1, 1):
            raise ShapeError(f"cannot divide by {describe(sb)}", (self.k.shape(a), sb), at)
        return self.k.divide(a, b)

    def _power(self, a: V, b: V, at: int) -> V:
        sa, sb = self.k.shape(a), self.k.shape(b)
        if sa != (1, 1):
            raise ShapeError(f"a power of {describe(sa)} is not defined here", (sa,), at)
        if sb != (1, 1):
            raise ShapeError(f"an exponent that is {describe(sb)}", (sb,), at)
        return self.k.power(a, b, at)

    def _call(self, e: Call) -> V:
        arg = self.eval(e.arg)
        if e.func == "diag":
            s = self.k.shape(arg)
            if s[0] != 1 and s[1] != 1:
                raise ShapeError(f"diag of {describe(s)}: diag takes a vector", (s,), e.at)
            return self.k.diag(arg)
        fn = self.b.functions.get((e.func, e.order)) or self.k.builtin(e.func, e.order)
        if fn is None:
            known = tuple(f"{n}{chr(39) * o}" for n, o in sorted(self.b.functions))
            raise UnknownSymbol(e.func + "'" * e.order, known, e.at, "function")
        return fn(arg)

    def _matrix(self, rows: tuple[tuple[Expr, ...], ...], at: int) -> V:
        cells: list[list[V]] = []
        for row in rows:
            values = [self.eval(c) for c in row]
            for v in values:
                s = self.k.shape(v)
                if s != (1, 1):
                    raise ShapeError(f"a matrix entry that is {describe(s)}", (s,), at)
            cells.append(values)
        return self.k.from_cells(cells)

    def _ones(self, dims: tuple[Expr, ...], at: int) -> V:
        if not dims or len(dims) > 2:
            raise FormulaError("a matrix of ones needs its size, as in 1_{k x k}", at)
        sizes = []
        for d in dims:
            v = self.eval(d)
            n = self.k.as_int(v) if self.k.shape(v) == (1, 1) else None
            if n is None or not 1 <= n <= MAX_SIZE:
                raise FormulaError(f"the size {render(d)} of a ones matrix is not usable", at)
            sizes.append(n)
        return self.k.ones(sizes[0], sizes[1] if len(sizes) == 2 else 1)
