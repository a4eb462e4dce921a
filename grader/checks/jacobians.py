"""P6: backprop Jacobians, judged by behaviour on random MLPs (never by comparing strings).

A formula is evaluated (numpy) on random networks with all-different widths and compared
with torch autograd. A known mistake is recognised when the formula computes what the
mistake's example computes on the same networks; formulas that cannot be evaluated there
(a product in the wrong order has no fitting sizes) are compared on square networks.
`verify_p6_reference` re-derives every reference formula with sympy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache

import numpy as np

from grader.checks.common import ReferenceCheck, Slot, judge_answer
from grader.formula import FormulaError, Mat, ShapeError, evaluate_numeric, shape_mismatch
from grader.formula.mlp import InstancePlan, MlpInstance, check_plan, draw_instances
from grader.latex import Expr, LatexError, parse_latex, render, side_spans
from grader.models import (
    Answer,
    CheckResult,
    Derivative,
    FormulaAnswer,
    ProblemId,
)
from grader.reference import FormulaMistake, FormulaSpec, P6Spec

TRANSPOSE_MISTAKE = "missing transpose"  # the name used when the reference lists none


class Kind(Enum):
    CORRECT = "correct"
    MISTAKE = "mistake"
    WRONG = "wrong"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    credit: float
    feedback: str
    mistake: str | None = None
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Run:
    """A formula evaluated on a set of instances: its values, or the first error."""

    values: tuple[Mat, ...] | None
    error: FormulaError | None


def plans(spec: P6Spec) -> tuple[InstancePlan, InstancePlan]:
    """The networks a formula is judged on, and the square ones for wrong-order products."""
    plan = InstancePlan(spec.draws, spec.depths, spec.width_range, spec.activations, spec.seed)
    return plan, replace(plan, square=True, seed=spec.seed + 1)


# --- the check ---------------------------------------------------------------------------


def check_p6(spec: P6Spec, answers: Mapping[Derivative, Answer | None]) -> tuple[CheckResult, ...]:
    """One result per derivative in the reference, in the sheet's order."""
    return tuple(_check_item(spec, item, answers.get(item.derivative)) for item in spec.items)


def _check_item(spec: P6Spec, item: FormulaSpec, answer: Answer | None) -> CheckResult:
    d = item.derivative
    slot = Slot(
        f"P6{item.part} {d.value}",
        ProblemId.P6,
        f"{spec.title}: {d.title}",
        item.points,
        spec.visibility,
    )

    def judge_formula(a: Answer, value: FormulaAnswer) -> CheckResult:
        verdict = judge(spec, d, value.latex)
        if verdict.kind is Kind.UNREADABLE:
            return slot.unreadable(a, verdict.feedback)
        return slot.scored(
            verdict.credit,
            verdict.feedback,
            answer=a,
            mistake=verdict.mistake,
            details=verdict.details,
        )

    return judge_answer(slot, answer, FormulaAnswer, "a formula", judge_formula)


def judge(spec: P6Spec, d: Derivative, latex: str) -> Verdict:
    """The verdict on one formula for derivative `d` (the last side of an equation is the
    answer). Raises ValueError only for a reference that cannot be used."""
    plan, square_plan = plans(spec)
    problem = check_plan(plan)
    if problem:
        raise ValueError(f"p6 reference: {problem}")
    try:
        expr = parse_answer(latex)
    except LatexError as exc:
        return Verdict(Kind.UNREADABLE, 0.0, f"LaTeX error: {exc}")
    instances = draw_instances(plan)
    run = _run(expr, instances)
    read_as = (f"read as: {render(expr)}",)
    if run.error is not None and not isinstance(run.error, ShapeError):
        return Verdict(Kind.UNREADABLE, 0.0, _where(run.error, latex))
    if run.values is not None:
        verdict = _judge_values(spec, d, run.values, instances)
        if verdict is not None:
            return replace(verdict, details=read_as + verdict.details)
    mistake = _matching_mistake(spec, d, expr, run, instances, square_plan)
    if mistake is not None:
        return Verdict(Kind.MISTAKE, mistake.credit, mistake.feedback, mistake.name, read_as)
    if run.error is not None:
        return Verdict(
            Kind.WRONG,
            0.0,
            f"The formula cannot be evaluated: {run.error.message}.",
            details=read_as + (f"on the network {instances[0].describe()}",),
        )
    assert run.values is not None
    return _wrong(d, run.values, instances, read_as, spec.tolerance)


def parse_answer(latex: str) -> Expr:
    """The last side of "lhs = ... = answer", parsed; columns refer to the whole text."""
    start, side = side_spans(latex)[-1]
    try:
        return parse_latex(side)
    except LatexError as exc:
        raise LatexError(exc.message, start + exc.column) from None


def _where(error: FormulaError, latex: str) -> str:
    if error.column is None:
        return error.message
    start, _ = side_spans(latex)[-1]
    return f"{error.message} (at column {start + error.column})"


def _run(expr: Expr, instances: Sequence[MlpInstance]) -> _Run:
    values = []
    for inst in instances:
        try:
            values.append(evaluate_numeric(expr, inst.bindings))
        except FormulaError as exc:
            return _Run(None, exc)
    return _Run(tuple(values), None)


def _close(a: Mat, b: Mat, tol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=tol))


def _judge_values(
    spec: P6Spec, d: Derivative, values: tuple[Mat, ...], instances: Sequence[MlpInstance]
) -> Verdict | None:
    tol = spec.tolerance
    truths = [inst.jacobians[d] for inst in instances]
    if all(_close(v, t, tol) for v, t in zip(values, truths, strict=True)):
        nets = "; ".join(inst.describe() for inst in instances)
        return Verdict(
            Kind.CORRECT,
            1.0,
            f"Correct: equals the Jacobian on {len(instances)} random networks.",
            details=(f"networks: {nets}",),
        )
    if all(_close(v, t.T, tol) for v, t in zip(values, truths, strict=True)):
        # The transpose of the truth is always the missing-transpose mistake.
        shapes = [
            f" The formula {shape_mismatch(v.shape, t.shape)}."
            for v, t in zip(values, truths, strict=True)
            if v.shape != t.shape
        ]
        m = _transpose_mistake(spec)
        credit = 0.0 if m is None else m.credit
        text = "A transpose is missing." if m is None else m.feedback
        name = TRANSPOSE_MISTAKE if m is None else m.name
        return Verdict(Kind.MISTAKE, credit, text + (shapes[0] if shapes else ""), name)
    return None


def _matching_mistake(
    spec: P6Spec,
    d: Derivative,
    expr: Expr,
    run: _Run,
    instances: Sequence[MlpInstance],
    square_plan: InstancePlan,
) -> FormulaMistake | None:
    tol = spec.tolerance
    for m in spec.mistakes:
        example = m.example_for(d)
        if example is None:
            continue
        ex_run = _run(_parsed(example), instances)
        if run.values is not None and ex_run.values is not None:
            pairs = zip(run.values, ex_run.values, strict=True)
            if all(_close(a, b, tol) for a, b in pairs):
                return m
        elif isinstance(run.error, ShapeError) and isinstance(ex_run.error, ShapeError):
            square = draw_instances(square_plan)
            mine, theirs = _run(expr, square), _run(_parsed(example), square)
            if mine.values is not None and theirs.values is not None:
                pairs = zip(mine.values, theirs.values, strict=True)
                if all(_close(a, b, tol) for a, b in pairs):
                    return m
    return None


@lru_cache(maxsize=8)
def _transpose_mistake(spec: P6Spec) -> FormulaMistake | None:
    """The reference mistake whose examples compute a transposed Jacobian, found by behaviour."""
    instances = draw_instances(plans(spec)[0])
    for m in spec.mistakes:
        for d, example in m.answers:
            run = _run(_parsed(example), instances)
            if run.values is None:
                continue
            pairs = zip(run.values, instances, strict=True)
            if all(
                v.shape != i.jacobians[d].shape and _close(v, i.jacobians[d].T, spec.tolerance)
                for v, i in pairs
            ):
                return m
    return None


@lru_cache(maxsize=64)
def _parsed(latex: str) -> Expr:
    return parse_answer(latex)


def _wrong(
    d: Derivative,
    values: tuple[Mat, ...],
    instances: Sequence[MlpInstance],
    read_as: tuple[str],
    tolerance: float,
) -> Verdict:
    for v, inst in zip(values, instances, strict=True):
        truth = inst.jacobians[d]
        if v.shape != truth.shape:
            return Verdict(
                Kind.WRONG,
                0.0,
                f"The formula {shape_mismatch(v.shape, truth.shape)}.",
                details=read_as + (f"on the network {inst.describe()}",),
            )
    for v, inst in zip(values, instances, strict=True):
        truth = inst.jacobians[d]
        if not _close(v, truth, tolerance):
            gap = float(np.nanmax(np.abs(v - truth))) if np.isfinite(v).any() else float("inf")
            return Verdict(
                Kind.WRONG,
                0.0,
                "The formula has the right shape but gives other values than the Jacobian.",
                details=read_as + (f"on the network {inst.describe()}: off by up to {gap:.3g}",),
            )
    return Verdict(Kind.WRONG, 0.0, "The formula differs from the Jacobian.", details=read_as)


# --- reference verification ------------------------------------------------------------


def verify_p6_reference(
    spec: P6Spec, *, networks: Sequence[tuple[int, ...]] | None = None
) -> list[ReferenceCheck]:
    """Each reference formula against sympy Jacobians of symbolic MLPs (widths n_0..n_{L-1},
    default SYMBOLIC_NETWORKS); each mistake example judged wrong and recognised as its
    mistake."""
    out = _symbolic_checks(spec, SYMBOLIC_NETWORKS if networks is None else networks)
    for m in spec.mistakes:
        for d, example in m.answers:
            name = f"P6 mistake '{m.name}' ({d.value})"
            try:
                v = judge(spec, d, example)
            except ValueError as exc:  # LatexError is one
                out.append(ReferenceCheck(ProblemId.P6, name, False, str(exc)))
                continue
            ok = v.kind is Kind.MISTAKE and v.mistake == m.name
            detail = (
                f"judged as '{m.name}', credit {v.credit:g}"
                if ok
                else f"judged {v.kind.value} ({v.mistake or v.feedback}), not as '{m.name}'"
            )
            out.append(ReferenceCheck(ProblemId.P6, name, ok, detail))
    return out


# Small all-different widths: L=3 and L=4, every layer l checked; a few seconds in all.
SYMBOLIC_NETWORKS = ((3, 2, 4), (2, 4, 3, 5))


def _symbolic_checks(spec: P6Spec, networks: Sequence[tuple[int, ...]]) -> list[ReferenceCheck]:
    from grader.formula.symbolic import evaluate_symbolic, is_zero
    from grader.formula.symbolic_mlp import symbolic_instances

    instances = [i for widths in networks for i in symbolic_instances(widths)]
    out = []
    for item in spec.items:
        name = f"P6 reference {item.derivative.value}: {item.answer}"
        try:
            expr = parse_answer(item.answer)
            problem = None
            for inst in instances:
                value = evaluate_symbolic(expr, inst.bindings)
                truth = inst.jacobians[item.derivative]
                if value.shape != truth.shape:
                    problem = f"{shape_mismatch(value.shape, truth.shape)} ({inst.describe()})"
                elif not is_zero(value - truth):
                    problem = f"differs from the sympy Jacobian ({inst.describe()})"
                if problem:
                    break
        except (LatexError, FormulaError) as exc:
            problem = f"cannot be evaluated: {exc}"
        nets = "; ".join(i.describe() for i in instances)
        detail = problem or f"equals the sympy Jacobian on {nets}"
        out.append(ReferenceCheck(ProblemId.P6, name, problem is None, detail))
    return out
