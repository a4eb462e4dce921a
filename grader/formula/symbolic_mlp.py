"""Symbolic MLPs (sympy) with their exact Jacobians, for verifying the P6 reference.

Every weight, bias and input entry is a symbol; sigma is an undefined Function, so a formula
that equals the Jacobian here equals it for every differentiable activation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from grader.formula.evaluator import Bindings
from grader.formula.symbolic import SMat, elementwise
from grader.models import Derivative


@dataclass(frozen=True, eq=False)
class SymbolicInstance:
    depth: int
    widths: tuple[int, ...]  # n_0 .. n_L
    layer: int
    bindings: Bindings[SMat]
    jacobians: Mapping[Derivative, SMat]

    def describe(self) -> str:
        return f"L={self.depth}, widths {'-'.join(map(str, self.widths))}, l={self.layer}"


def symbolic_instances(inner_widths: tuple[int, ...]) -> list[SymbolicInstance]:
    """One instance per layer l = 1..L-1 of the network with widths (*inner_widths, 1)."""
    depth = len(inner_widths)
    widths = (*inner_widths, 1)
    sigma = sp.Function("sigma")
    A: list[Any] = [None] + [
        sp.Matrix(widths[k], widths[k - 1], lambda i, j, k=k: sp.Symbol(f"a{k}_{i}{j}"))
        for k in range(1, depth + 1)
    ]
    b: list[Any] = [None] + [
        sp.Matrix(widths[k], 1, lambda i, j, k=k: sp.Symbol(f"b{k}_{i}"))
        for k in range(1, depth + 1)
    ]
    x = sp.Matrix(widths[0], 1, lambda i, j: sp.Symbol(f"x_{i}"))

    def layer_out(k: int, a: Any, bias: Any, y: Any) -> Any:
        z = a * y + bias
        return z if k == depth else z.applyfunc(sigma)

    def run_from(k: int, y: Any) -> Any:
        for j in range(k + 1, depth + 1):
            y = layer_out(j, A[j], b[j], y)
        return y

    ys = [x]
    for k in range(1, depth + 1):
        ys.append(layer_out(k, A[k], b[k], ys[-1]))

    def wrt_vector(f: Any, at: Any) -> SMat:
        """The Jacobian of f(u) in u at the point `at` (fresh symbols, then substituted)."""
        u = sp.Matrix(at.shape[0], 1, lambda i, j: sp.Dummy(f"u{i}"))
        jac = f(u).jacobian(u)
        return SMat(jac.xreplace(dict(zip(list(u), list(at), strict=True))))

    def wrt_matrix(y_scalar: Any, a: Any) -> SMat:
        return SMat(a.applyfunc(lambda entry: sp.diff(y_scalar, entry)))

    L = depth
    yL = ys[L][0, 0]
    out = []
    for ell in range(1, L):
        truth = {
            Derivative.DYL_DBL: SMat(ys[L].jacobian(b[L])),
            Derivative.DYL_DYLM1: wrt_vector(lambda u: run_from(L - 1, u), ys[L - 1]),
            Derivative.DYl_DBl: SMat(ys[ell].jacobian(b[ell])),
            Derivative.DYl_DYlm1: wrt_vector(
                lambda u, ell=ell: layer_out(ell, A[ell], b[ell], u), ys[ell - 1]
            ),
            Derivative.DYL_DAL: wrt_matrix(yL, A[L]),
            Derivative.DYL_DAl: wrt_matrix(yL, A[ell]),
        }
        values = {
            "A_l": SMat(A[ell]),
            "b_l": SMat(b[ell]),
            "y_{l-1}": SMat(ys[ell - 1]),
            "y_l": SMat(ys[ell]),
            "z_l": SMat(A[ell] * ys[ell - 1] + b[ell]),
            "A_L": SMat(A[L]),
            "b_L": SMat(b[L]),
            "y_{L-1}": SMat(ys[L - 1]),
            "y_L": SMat(ys[L]),
            "x": SMat(x),
            "y_0": SMat(x),
            "dy_L/dy_l": wrt_vector(lambda u, ell=ell: run_from(ell, u), ys[ell]),
        }
        functions = {("sigma", o): elementwise(sigma, o) for o in range(3)}
        out.append(SymbolicInstance(L, widths, ell, Bindings(values, functions), truth))
    return out
