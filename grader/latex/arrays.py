"""Numbers written as LaTeX: matrices, lists of matrices and tuples into plain Arrays.

Only constants are folded here (no symbols), with guards so "10^{10^{10}}" is refused rather
than computed.
"""

from __future__ import annotations

import math

from grader.latex.ast import (
    Add,
    Div,
    Expr,
    Matrix,
    Mul,
    Neg,
    Num,
    Percent,
    Pow,
    Seq,
    Sub,
    render,
)
from grader.latex.errors import LatexError
from grader.models import Array

MAX_EXPONENT = 64.0  # enough for any number a student writes; keeps folding cheap


def constant(e: Expr) -> float:
    """The value of a formula made of numbers only; raises LatexError naming the column."""
    match e:
        case Num(value=v):
            return _finite(v, e)
        case Neg(operand=a):
            return -constant(a)
        case Add(left=a, right=b):
            return _finite(constant(a) + constant(b), e)
        case Sub(left=a, right=b):
            return _finite(constant(a) - constant(b), e)
        case Mul(left=a, right=b):
            return _finite(constant(a) * constant(b), e)
        case Div(num=a, den=b):
            den = constant(b)
            if den == 0.0:
                raise LatexError("division by zero", e.at)
            return _finite(constant(a) / den, e)
        case Pow(base=a, exp=b):
            exponent = constant(b)
            if abs(exponent) > MAX_EXPONENT:
                raise LatexError(f"exponent {exponent:g} is too large", e.at)
            base = constant(a)
            try:
                return _finite(math.pow(base, exponent), e)
            except (OverflowError, ValueError):
                raise LatexError(f"{render(e)} is not a real number", e.at) from None
        case Percent(operand=a):
            return constant(a) / 100.0
    raise LatexError(f"'{render(e)}' is not a number", e.at)


def _finite(x: float, e: Expr) -> float:
    if not math.isfinite(x):
        raise LatexError(f"{render(e)} is too large", e.at)
    return x


def to_array(e: Expr) -> Array:
    """A matrix (r x c), a list of matrices (n x r x c), a tuple of numbers (n,) or a number
    (shape ()) as an Array. A number times a matrix is folded. Raises LatexError."""
    match e:
        case Matrix(rows=rows):
            values = tuple(_cell(c) for row in rows for c in row)
            return Array((len(rows), len(rows[0])), values)
        case Seq(items=items):
            parts = [to_array(i) for i in items]
            shapes = {p.shape for p in parts}
            if len(shapes) > 1:
                listed = ", ".join(p.shape_text for p in parts)
                raise LatexError(f"the list holds arrays of different shapes ({listed})", e.at)
            return Array((len(parts), *parts[0].shape), tuple(x for p in parts for x in p.values))
        case Mul(left=a, right=b) if _is_array(b) and not _is_array(a):
            return _scale(to_array(b), constant(a), e)
        case Mul(left=a, right=b) if _is_array(a) and not _is_array(b):
            return _scale(to_array(a), constant(b), e)
        case Div(num=a, den=b) if _is_array(a):
            den = constant(b)
            if den == 0.0:
                raise LatexError("division by zero", e.at)
            return _scale(to_array(a), 1.0 / den, e)
        case Neg(operand=a) if _is_array(a):
            return _scale(to_array(a), -1.0, e)
    return Array((), (constant(e),))


def _cell(c: Expr) -> float:
    try:
        return constant(c)
    except LatexError as exc:
        raise LatexError(f"matrix entry {exc.message}", exc.column) from None


def _is_array(e: Expr) -> bool:
    return isinstance(e, Matrix | Seq) or (isinstance(e, Neg) and _is_array(e.operand))


def _scale(a: Array, s: float, e: Expr) -> Array:
    """A number times an array; a product too large for a float is refused like a number."""
    return Array(a.shape, tuple(_finite(s * x, e) for x in a.values))
