"""The P6 network written once for every backend (torch, numpy, sympy).

y_k = sigma(A_k y_{k-1} + b_k) for k < L and y_L = A_L y_{L-1} + b_L. The numeric instances
and the symbolic ones share the layer code and the names a formula may use, so the two
cannot drift apart; each computes its true Jacobians in its own way on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Network(Generic[T]):
    weights: tuple[T, ...]  # A_1 .. A_L
    biases: tuple[T, ...]  # b_1 .. b_L
    affine: Callable[[T, T, T], T]  # (A, y, b) -> A y + b in the backend's algebra
    activate: Callable[[T], T]  # sigma, entrywise

    @property
    def depth(self) -> int:
        return len(self.weights)

    def weight(self, k: int) -> T:
        """A_k, 1-based like the sheet."""
        return self.weights[k - 1]

    def bias(self, k: int) -> T:
        return self.biases[k - 1]

    def layer_out(self, k: int, a: T, bias: T, y: T) -> T:
        """Layer k on y with the given weight and bias (a variable when differentiating)."""
        z = self.affine(a, y, bias)
        return z if k == self.depth else self.activate(z)

    def run_from(self, k: int, y: T) -> T:
        """y_L from y_k (layers k+1 .. L)."""
        for j in range(k + 1, self.depth + 1):
            y = self.layer_out(j, self.weight(j), self.bias(j), y)
        return y

    def outputs(self, x: T) -> list[T]:
        """y_0 = x, y_1, ..., y_L."""
        ys = [x]
        for k in range(1, self.depth + 1):
            ys.append(self.layer_out(k, self.weight(k), self.bias(k), ys[-1]))
        return ys


def bound_values(net: Network[T], ys: Sequence[T], layer: int, dyL_dyl: T) -> dict[str, T]:
    """Every name a P6 answer may use, for layer l of `net` with outputs ys = y_0 .. y_L."""
    ell, L = layer, net.depth
    return {
        "A_l": net.weight(ell),
        "b_l": net.bias(ell),
        "y_{l-1}": ys[ell - 1],
        "y_l": ys[ell],
        "z_l": net.affine(net.weight(ell), ys[ell - 1], net.bias(ell)),
        "A_L": net.weight(L),
        "b_L": net.bias(L),
        "y_{L-1}": ys[L - 1],
        "y_L": ys[L],
        "x": ys[0],
        "y_0": ys[0],
        "dy_L/dy_l": dyL_dyl,
    }
