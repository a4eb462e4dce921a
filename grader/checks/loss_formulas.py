"""P5's losses as formulas, and recognising a student's function from the values it returned
on probe inputs: which formula, times which factor, reduced how, called in which order."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import torch

from grader.extraction.code import CodeUnit, FunctionSig

Formula = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (z, y) -> per-sample loss


@dataclass(frozen=True)
class LossFormula:
    name: str
    formula: Formula
    text: str
    feedback: str = ""  # for the right loss and the baseline; mistakes' words are the reference's


SQUARE = LossFormula(
    "sum-of-squares loss",
    lambda z, y: 2 * torch.sigmoid(-y * z) ** 2,
    "2*sigmoid(-y z)^2",
    "The loss equals the sum of squares between the one-hot label and "
    "[sigmoid(-z), sigmoid(z)], i.e. 2*sigmoid(-y z)^2.",
)
LOGISTIC = LossFormula(
    "logistic loss",
    lambda z, y: -torch.nn.functional.logsigmoid(y * z),
    "-log sigmoid(y z)",
    "This is the logistic (cross-entropy) baseline, not the sum-of-squares loss.",
)
# ASSIGNMENT.md, P5 mistakes, each as the formula a student who made it computes. Their
# credit and feedback are the instructor's, in reference/hw4.toml under the same names.
MISTAKES = (
    LossFormula(
        "labels treated as 0/1",
        lambda z, y: y * (1 - torch.sigmoid(z)) ** 2 + (1 - y) * torch.sigmoid(z) ** 2,
        "y*(1-sigmoid(z))^2 + (1-y)*sigmoid(z)^2",
    ),
    LossFormula(
        "sigmoid(z) compared with y",
        lambda z, y: (torch.sigmoid(z) - y) ** 2,
        "(sigmoid(z) - y)^2",
    ),
    LossFormula("missing square", lambda z, y: 2 * torch.sigmoid(-y * z), "2*sigmoid(-y z)"),
    LossFormula("MSE against the raw label", lambda z, y: (z - y) ** 2, "(z - y)^2"),
)
KNOWN = (SQUARE, LOGISTIC, *MISTAKES)
# Trusted source of the reference losses, trained through the same child path as students'.
REFERENCE_SOURCE = """import torch


def square_reference(z, y):
    return torch.mean(2 * torch.sigmoid(-y * z) ** 2)


def logistic_reference(z, y):
    return torch.mean(-torch.nn.functional.logsigmoid(y * z))
"""
REFERENCE_FUNCTIONS = {SQUARE.name: "square_reference", LOGISTIC.name: "logistic_reference"}


class Reduction(Enum):
    MEAN = "mean over the batch"
    SUM = "sum over the batch"
    NONE = "one value per sample"


@dataclass(frozen=True)
class Probe:
    z: tuple[float, ...]
    y: tuple[float, ...]
    column: bool  # shapes (N, 1) instead of (N,)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return (
            torch.tensor(self.z, dtype=torch.float64),
            torch.tensor(self.y, dtype=torch.float64),
        )

    def request(self) -> dict[str, Any]:
        return {"z": list(self.z), "y": list(self.y), "column": self.column}


def make_probes(seed: int = 0) -> tuple[Probe, ...]:
    """Different batch sizes (so a sum and a mean differ) in both shapes; scores up to +-8
    so saturated and unsaturated sigmoids are both seen."""
    gen = torch.Generator().manual_seed(seed)
    probes = []
    for n in (7, 12, 5):
        z = torch.randn(n, generator=gen, dtype=torch.float64) * 3
        y = torch.randint(0, 2, (n,), generator=gen).to(torch.float64) * 2 - 1
        y[0], y[1] = -1.0, 1.0  # both classes in every probe
        for column in (False, True):
            probes.append(Probe(tuple(z.tolist()), tuple(y.tolist()), column))
    return tuple(probes)


@dataclass(frozen=True)
class FormulaMatch:
    loss: LossFormula
    factor: float
    reduction: Reduction
    swapped: bool  # called as f(label, score)
    column: bool  # the shape to train with
    gradient_ok: bool | None  # None when the function returned no gradient

    @property
    def same_as_reference(self) -> bool:
        """Trains exactly like the reference (the child means a per-sample vector)."""
        return (
            self.loss is SQUARE
            and self.reduction is not Reduction.SUM
            and abs(self.factor - 1.0) < 1e-9
            and self.gradient_ok is True
        )

    def describe(self) -> str:
        words = [f"computes {self.loss.text}"]
        if abs(self.factor - 1.0) > 1e-6:
            words.append(f"times {self.factor:.6g}")
        words.append(f"({self.reduction.value})")
        if self.swapped:
            words.append("with the arguments in the order (label, score)")
        return " ".join(words)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-5, atol=1e-8))


def match_formula(
    formula: LossFormula, probes: tuple[Probe, ...], calls: list[dict[str, Any]], swapped: bool
) -> FormulaMatch | None:
    """Whether the returned values are factor * reduce(formula) with one factor > 0 for all
    probes that ran; at least two batch sizes are needed to tell a sum from a mean."""
    done = [
        (p, c)
        for p, c in zip(probes, calls, strict=False)
        if c.get("status") == "ok" and None not in c.get("value", [None])
    ]
    if len({len(p.z) for p, _ in done}) < 2:
        return None
    for reduction in Reduction:
        factor: float | None = None
        grads_ok: list[bool] = []
        for probe, call in done:
            z, y = probe.tensors()
            z.requires_grad_(True)
            per = formula.formula(z, y)
            want = per.mean() if reduction is Reduction.MEAN else per.sum()
            if reduction is Reduction.NONE:
                want = per
            got = torch.tensor(call["value"], dtype=torch.float64)
            if got.numel() != want.numel():
                factor = None
                break
            got = got.reshape(want.shape)
            w = want.detach()
            if factor is None:
                denom = float((w * w).sum())
                factor = float((got * w).sum()) / denom if denom > 0 else math.nan
            if not (factor > 0 and _close(got, factor * w)):
                factor = None
                break
            if call.get("grad") is not None and None not in call["grad"]:
                (g,) = torch.autograd.grad(want.sum(), z)
                grads_ok.append(_close(torch.tensor(call["grad"], dtype=torch.float64), factor * g))
        if factor is not None:
            column = not any(not p.column for p, _ in done)
            return FormulaMatch(
                formula, factor, reduction, swapped, column, all(grads_ok) if grads_ok else None
            )
    return None


@dataclass(frozen=True)
class ProbedFunction:
    unit: int
    file: str
    sig: FunctionSig
    match: FormulaMatch | None
    failure: str | None  # why no values came back (first error or timeout)
    timed_out: bool

    @property
    def label(self) -> str:
        return f"`{self.sig.name}` ({self.file} line {self.sig.line})"


def judge_calls(
    index: int, unit: CodeUnit, sig: FunctionSig, entry: dict[str, Any], probes: tuple[Probe, ...]
) -> ProbedFunction:
    if entry.get("missing"):
        return ProbedFunction(
            index, unit.file, sig, None, "was not defined once the definitions were loaded", False
        )
    calls: dict[str, list[dict[str, Any]]] = entry.get("calls", {})
    everything = [c for order in calls.values() for c in order]
    timed_out = any(c.get("status") == "timeout" for c in everything)
    failure = next((str(c.get("message")) for c in everything if c.get("status") != "ok"), None)
    for swapped, key in ((False, "plain"), (True, "swapped")):
        for formula in KNOWN:
            m = match_formula(formula, probes, calls.get(key, []), swapped)
            if m is not None:
                return ProbedFunction(index, unit.file, sig, m, None, False)
    return ProbedFunction(index, unit.file, sig, None, failure, timed_out)
