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
from grader.formula.network import Network, bound_values
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
    A = [
        sp.Matrix(widths[k], widths[k - 1], lambda i, j, k=k: sp.Symbol(f"a{k}_{i}{j}"))
        for k in range(1, depth + 1)
    ]
    b = [
        sp.Matrix(widths[k], 1, lambda i, j, k=k: sp.Symbol(f"b{k}_{i}"))
        for k in range(1, depth + 1)
    ]
    x = sp.Matrix(widths[0], 1, lambda i, j: sp.Symbol(f"x_{i}"))
    net: Network[Any] = Network(tuple(A), tuple(b), _affine, lambda z: z.applyfunc(sigma))
    ys = net.outputs(x)

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
        A_l, b_l = net.weight(ell), net.bias(ell)
        truth = {
            Derivative.DYL_DBL: SMat(ys[L].jacobian(net.bias(L))),
            Derivative.DYL_DYLM1: wrt_vector(lambda u: net.run_from(L - 1, u), ys[L - 1]),
            Derivative.DYl_DBl: SMat(ys[ell].jacobian(b_l)),
            Derivative.DYl_DYlm1: wrt_vector(
                lambda u, A_l=A_l, b_l=b_l, ell=ell: net.layer_out(ell, A_l, b_l, u), ys[ell - 1]
            ),
            Derivative.DYL_DAL: wrt_matrix(yL, net.weight(L)),
            Derivative.DYL_DAl: wrt_matrix(yL, A_l),
        }
        dyL_dyl = wrt_vector(lambda u, ell=ell: net.run_from(ell, u), ys[ell])
        values = {k: SMat(v) for k, v in bound_values(net, ys, ell, dyL_dyl).items()}
        functions = {("sigma", o): elementwise(sigma, o) for o in range(3)}
        out.append(SymbolicInstance(L, widths, ell, Bindings(values, functions), truth))
    return out


def _affine(a: Any, y: Any, bias: Any) -> Any:
    return a * y + bias
