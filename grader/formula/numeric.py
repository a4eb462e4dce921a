"""The numpy float64 backend: the grading path, milliseconds per formula."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from grader.formula.errors import FormulaError
from grader.formula.evaluator import Backend, Bindings, Elementwise, evaluate
from grader.formula.shapes import Shape, describe
from grader.latex.ast import Expr, Num

Mat = npt.NDArray[np.float64]


def sigmoid(x: Mat) -> Mat:
    out: Mat = 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic
    return out


BUILTINS: dict[tuple[str, int], Elementwise[Mat]] = {
    ("exp", 0): np.exp,
    ("exp", 1): np.exp,
    ("log", 0): np.log,
    ("tanh", 0): np.tanh,
    ("tanh", 1): lambda x: 1.0 - np.tanh(x) ** 2,
    ("sin", 0): np.sin,
    ("sin", 1): np.cos,
    ("cos", 0): np.cos,
    ("cos", 1): lambda x: -np.sin(x),
    ("softplus", 0): lambda x: np.logaddexp(0.0, x),
    ("softplus", 1): sigmoid,
}


class NumpyBackend(Backend[Mat]):
    def shape(self, v: Mat) -> Shape:
        return (int(v.shape[0]), int(v.shape[1]))

    def number(self, n: Num) -> Mat:
        return np.full((1, 1), n.value, dtype=np.float64)

    def add(self, a: Mat, b: Mat) -> Mat:
        return a + b

    def neg(self, a: Mat) -> Mat:
        return -a

    def matmul(self, a: Mat, b: Mat) -> Mat:
        return a @ b

    def scale(self, s: Mat, m: Mat) -> Mat:
        out: Mat = float(s[0, 0]) * m
        return out

    def hadamard(self, a: Mat, b: Mat) -> Mat:
        return a * b

    def divide(self, a: Mat, s: Mat) -> Mat:
        out: Mat = a / float(s[0, 0])
        return out

    def power(self, base: Mat, exp: Mat, at: int) -> Mat:
        return np.power(base, exp)  # float64 overflows to inf, it never hangs

    def transpose(self, a: Mat) -> Mat:
        return a.T

    def diag(self, v: Mat) -> Mat:
        return np.diag(v.reshape(-1))

    def ones(self, rows: int, cols: int) -> Mat:
        return np.ones((rows, cols), dtype=np.float64)

    def from_cells(self, rows: list[list[Mat]]) -> Mat:
        return np.array([[c[0, 0] for c in r] for r in rows], dtype=np.float64)

    def absolute(self, a: Mat) -> Mat:
        return np.abs(a)

    def as_int(self, v: Mat) -> int | None:
        x = float(v[0, 0])
        return int(x) if math.isfinite(x) and x == int(x) else None

    def builtin(self, name: str, order: int) -> Elementwise[Mat] | None:
        return BUILTINS.get((name, order))


NUMPY = NumpyBackend()


def evaluate_numeric(expr: Expr, bindings: Bindings[Mat]) -> Mat:
    """The float64 value of `expr` as a 2-D array; raises FormulaError with a sentence."""
    with np.errstate(all="ignore"):  # inf and nan are values to compare, not crashes
        return evaluate(expr, bindings, NUMPY)


def evaluate_scalar(expr: Expr, env: Mapping[str, float]) -> float:
    """A formula in scalar symbols (e.g. k) as a float; raises FormulaError when it is not
    one finite number (a matrix, an unknown symbol, an overflow)."""
    values = {name: np.full((1, 1), float(x), dtype=np.float64) for name, x in env.items()}
    result = evaluate_numeric(expr, Bindings(values))
    shape = NUMPY.shape(result)
    if shape != (1, 1):
        raise FormulaError(f"{describe(shape)} where one number is expected")
    x = float(result[0, 0])
    if not math.isfinite(x):
        raise FormulaError("does not evaluate to a finite number")
    return x
