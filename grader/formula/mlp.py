"""Random MLP instances for judging P6 formulas by behaviour.

y_L = A_L y_{L-1} + b_L, y_l = sigma(A_l y_{l-1} + b_l). Each instance binds every symbol a
P6 answer may use (numpy float64) and holds the true Jacobians from torch autograd.
Widths n_0..n_{L-1} are all different, so no A_l is square and a factor in the wrong order
or a missing transpose shows as a shape. Square instances (all widths equal) exist only to
compare wrong formulas that cannot be evaluated on the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import numpy as np

from grader.formula.evaluator import Bindings, Elementwise
from grader.formula.numeric import Mat
from grader.models import Derivative


@dataclass(frozen=True)
class Activation:
    name: str
    value: Elementwise[Mat]
    derivative: Elementwise[Mat]
    second: Elementwise[Mat]


def _sigmoid(x: Mat) -> Mat:
    out: Mat = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def _tanh_d2(x: Mat) -> Mat:
    t = np.tanh(x)
    out: Mat = -2.0 * t * (1.0 - t**2)
    return out


def _softplus_d2(x: Mat) -> Mat:
    s = _sigmoid(x)
    out: Mat = s * (1.0 - s)
    return out


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, lambda x: 1.0 - np.tanh(x) ** 2, _tanh_d2),
    "softplus": Activation("softplus", lambda x: np.logaddexp(0.0, x), _sigmoid, _softplus_d2),
    "sin": Activation("sin", np.sin, np.cos, lambda x: -np.sin(x)),
    "sigmoid": Activation(
        "sigmoid",
        _sigmoid,
        lambda x: _sigmoid(x) * (1.0 - _sigmoid(x)),
        lambda x: _sigmoid(x) * (1.0 - _sigmoid(x)) * (1.0 - 2.0 * _sigmoid(x)),
    ),
}


@dataclass(frozen=True, eq=False)
class MlpInstance:
    """One random network and the layer l asked about; arrays are not compared or hashed."""

    depth: int  # L
    widths: tuple[int, ...]  # n_0 .. n_L, with n_L = 1
    layer: int  # l, in 1 .. L-1
    activation: str
    bindings: Bindings[Mat]
    jacobians: Mapping[Derivative, Mat]

    def describe(self) -> str:
        widths = "-".join(str(n) for n in self.widths)
        return f"L={self.depth}, widths {widths}, l={self.layer}, sigma={self.activation}"


@dataclass(frozen=True)
class InstancePlan:
    """What to draw: hashable, so the (torch) work is done once per plan."""

    draws: int
    depths: tuple[int, ...]
    width_range: tuple[int, int]
    activations: tuple[str, ...]
    seed: int
    square: bool = False


def check_plan(plan: InstancePlan) -> str | None:
    """Why a plan cannot be drawn, or None."""
    unknown = [a for a in plan.activations if a not in ACTIVATIONS]
    if unknown:
        known = ", ".join(sorted(ACTIVATIONS))
        return f"unknown activation {', '.join(unknown)} (known: {known})"
    lo, hi = plan.width_range
    if not plan.square and hi - lo + 1 < max(plan.depths):
        return f"width range {lo}..{hi} has too few widths for depth {max(plan.depths)}"
    if plan.draws < 1 or not plan.depths or not plan.activations:
        return "at least one draw, depth and activation are needed"
    return None


@lru_cache(maxsize=16)
def draw_instances(plan: InstancePlan) -> tuple[MlpInstance, ...]:
    """Instances for a plan; depths and activations cycle so every one is used.
    Raises ValueError (worded by check_plan) for a plan that cannot be drawn."""
    problem = check_plan(plan)
    if problem:
        raise ValueError(problem)
    rng = np.random.default_rng(plan.seed)
    out = []
    lo, hi = plan.width_range
    for i in range(plan.draws):
        depth = plan.depths[i % len(plan.depths)]
        activation = ACTIVATIONS[plan.activations[i % len(plan.activations)]]
        if plan.square:
            inner = [int(rng.integers(max(lo, 2), hi + 1))] * depth
        else:
            inner = [int(w) for w in rng.choice(np.arange(lo, hi + 1), depth, replace=False)]
        layer = int(rng.integers(1, depth))
        out.append(_instance(depth, (*inner, 1), layer, activation, rng))
    return tuple(out)


def _instance(
    depth: int,
    widths: tuple[int, ...],
    layer: int,
    act: Activation,
    rng: np.random.Generator,
) -> MlpInstance:
    import torch  # only the grading path that needs Jacobians pays for the import

    torch_activations: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "tanh": torch.tanh,
        "softplus": torch.nn.functional.softplus,
        "sin": torch.sin,
        "sigmoid": torch.sigmoid,
    }
    t_act = torch_activations[act.name]
    A = [np.zeros((0, 0))] + [
        rng.normal(size=(widths[k], widths[k - 1])) for k in range(1, depth + 1)
    ]
    b = [np.zeros((0, 0))] + [rng.normal(size=(widths[k], 1)) for k in range(1, depth + 1)]
    x = rng.normal(size=(widths[0], 1))
    tA = [torch.tensor(a, dtype=torch.float64) for a in A]
    tb = [torch.tensor(v, dtype=torch.float64) for v in b]

    def layer_out(k: int, a: torch.Tensor, bias: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        z = a @ y + bias
        return z if k == depth else t_act(z)

    def run_from(k: int, y: torch.Tensor) -> torch.Tensor:
        """y_L from y_k (layers k+1 .. L)."""
        for j in range(k + 1, depth + 1):
            y = layer_out(j, tA[j], tb[j], y)
        return y

    ys = [torch.tensor(x, dtype=torch.float64)]
    for k in range(1, depth + 1):
        ys.append(layer_out(k, tA[k], tb[k], ys[-1]))

    jac = cast(
        Callable[[Callable[[torch.Tensor], torch.Tensor], torch.Tensor], torch.Tensor],
        torch.autograd.functional.jacobian,
    )
    L, ell = depth, layer

    def flat(t: torch.Tensor, rows: int, cols: int) -> Mat:
        return np.asarray(t.detach().reshape(rows, cols).numpy(), dtype=np.float64)

    n_l, n_lm1, n_Lm1 = widths[ell], widths[ell - 1], widths[L - 1]
    truth = {
        Derivative.DYL_DBL: flat(jac(lambda v: layer_out(L, tA[L], v, ys[L - 1]), tb[L]), 1, 1),
        Derivative.DYL_DYLM1: flat(jac(lambda v: run_from(L - 1, v), ys[L - 1]), 1, n_Lm1),
        Derivative.DYl_DBl: flat(
            jac(lambda v: layer_out(ell, tA[ell], v, ys[ell - 1]), tb[ell]), n_l, n_l
        ),
        Derivative.DYl_DYlm1: flat(
            jac(lambda v: layer_out(ell, tA[ell], tb[ell], v), ys[ell - 1]), n_l, n_lm1
        ),
        Derivative.DYL_DAL: flat(jac(lambda a: layer_out(L, a, tb[L], ys[L - 1]), tA[L]), 1, n_Lm1),
        Derivative.DYL_DAl: flat(
            jac(lambda a: run_from(ell, layer_out(ell, a, tb[ell], ys[ell - 1])), tA[ell]),
            n_l,
            n_lm1,
        ),
    }
    dyL_dyl = flat(jac(lambda v: run_from(ell, v), ys[ell]), 1, n_l)
    y = [np.asarray(t.detach().numpy(), dtype=np.float64) for t in ys]
    values: dict[str, Mat] = {
        "A_l": A[ell],
        "b_l": b[ell],
        "y_{l-1}": y[ell - 1],
        "y_l": y[ell],
        "z_l": A[ell] @ y[ell - 1] + b[ell],
        "A_L": A[L],
        "b_L": b[L],
        "y_{L-1}": y[L - 1],
        "y_L": y[L],
        "x": y[0],
        "y_0": y[0],
        "dy_L/dy_l": dyL_dyl,
    }
    functions = {("sigma", 0): act.value, ("sigma", 1): act.derivative, ("sigma", 2): act.second}
    return MlpInstance(depth, widths, layer, act.name, Bindings(values, functions), truth)
