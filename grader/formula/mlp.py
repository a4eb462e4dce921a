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
from typing import TYPE_CHECKING, cast

import numpy as np

from grader.formula.evaluator import Bindings, Elementwise
from grader.formula.network import Network, bound_values
from grader.formula.numeric import BUILTINS, Mat, sigmoid
from grader.models import Derivative


@dataclass(frozen=True)
class Activation:
    name: str
    value: Elementwise[Mat]
    derivative: Elementwise[Mat]
    second: Elementwise[Mat]


def _tanh_d2(x: Mat) -> Mat:
    t = np.tanh(x)
    out: Mat = -2.0 * t * (1.0 - t**2)
    return out


def _sigmoid_d1(x: Mat) -> Mat:
    s = sigmoid(x)
    out: Mat = s * (1.0 - s)
    return out


def _sigmoid_d2(x: Mat) -> Mat:
    s = sigmoid(x)
    out: Mat = s * (1.0 - s) * (1.0 - 2.0 * s)
    return out


# The functions and first derivatives are the evaluator's own, so sigma and tanh agree.
ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", BUILTINS[("tanh", 0)], BUILTINS[("tanh", 1)], _tanh_d2),
    "softplus": Activation(
        "softplus", BUILTINS[("softplus", 0)], BUILTINS[("softplus", 1)], _sigmoid_d1
    ),
    "sin": Activation("sin", BUILTINS[("sin", 0)], BUILTINS[("sin", 1)], BUILTINS[("cos", 1)]),
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_d1, _sigmoid_d2),
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


if TYPE_CHECKING:
    import torch


def _torch_affine(a: torch.Tensor, y: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return a @ y + bias


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
    A = [rng.normal(size=(widths[k], widths[k - 1])) for k in range(1, depth + 1)]
    b = [rng.normal(size=(widths[k], 1)) for k in range(1, depth + 1)]
    x = rng.normal(size=(widths[0], 1))

    def tensor(a: Mat) -> torch.Tensor:
        return torch.tensor(a, dtype=torch.float64)

    net = Network(
        tuple(map(tensor, A)), tuple(map(tensor, b)), _torch_affine, torch_activations[act.name]
    )
    ys = net.outputs(tensor(x))
    jac = cast(
        Callable[[Callable[[torch.Tensor], torch.Tensor], torch.Tensor], torch.Tensor],
        torch.autograd.functional.jacobian,
    )
    L, ell = depth, layer
    A_L, b_L, A_l, b_l = net.weight(L), net.bias(L), net.weight(ell), net.bias(ell)

    def flat(t: torch.Tensor, rows: int, cols: int) -> Mat:
        return np.asarray(t.detach().reshape(rows, cols).numpy(), dtype=np.float64)

    n_l, n_lm1, n_Lm1 = widths[ell], widths[ell - 1], widths[L - 1]
    truth = {
        Derivative.DYL_DBL: flat(jac(lambda v: net.layer_out(L, A_L, v, ys[L - 1]), b_L), 1, 1),
        Derivative.DYL_DYLM1: flat(jac(lambda v: net.run_from(L - 1, v), ys[L - 1]), 1, n_Lm1),
        Derivative.DYl_DBl: flat(
            jac(lambda v: net.layer_out(ell, A_l, v, ys[ell - 1]), b_l), n_l, n_l
        ),
        Derivative.DYl_DYlm1: flat(
            jac(lambda v: net.layer_out(ell, A_l, b_l, v), ys[ell - 1]), n_l, n_lm1
        ),
        Derivative.DYL_DAL: flat(jac(lambda a: net.layer_out(L, a, b_L, ys[L - 1]), A_L), 1, n_Lm1),
        Derivative.DYL_DAl: flat(
            jac(lambda a: net.run_from(ell, net.layer_out(ell, a, b_l, ys[ell - 1])), A_l),
            n_l,
            n_lm1,
        ),
    }
    dyL_dyl = flat(jac(lambda v: net.run_from(ell, v), ys[ell]), 1, n_l)
    y = [np.asarray(t.detach().numpy(), dtype=np.float64) for t in ys]
    numeric = Network(tuple(A), tuple(b), _numpy_affine, act.value)
    values = bound_values(numeric, y, ell, dyL_dyl)
    functions = {("sigma", 0): act.value, ("sigma", 1): act.derivative, ("sigma", 2): act.second}
    return MlpInstance(depth, widths, layer, act.name, Bindings(values, functions), truth)


def _numpy_affine(a: Mat, y: Mat, bias: Mat) -> Mat:
    out: Mat = a @ y + bias
    return out
