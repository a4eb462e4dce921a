"""P2: average pooling written as a convolution, judged by behaviour.

The answer is a filter family in k (value, off-diagonal value, stride, padding as formulas).
For each (C, k, m, n) of the reference the formulas are evaluated at k, the weight is built
(depthwise (C,1,k,k) with groups=C, or full (C,C,k,k)), and conv2d on a seeded random image
is compared with torch's avg_pool2d. Known mistakes are recognised by computing the same as
the reference's example of the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F

from grader.checks.common import (
    ReferenceCheck,
    Slot,
    full_credit_check,
    judge_answer,
    mistake_checks,
    reference_answer,
)
from grader.checks.conv_maps import (
    DTYPE,
    Outputs,
    constant_ratio,
    conv_output_size,
    max_difference,
    random_images,
    single_thread,
    size_text,
)
from grader.formula import FormulaError, UnknownSymbol, evaluate_scalar
from grader.latex import Expr, LatexError, parse_latex
from grader.models import (
    Answer,
    CheckResult,
    PoolingAnswer,
    PoolingForm,
    ProblemId,
)
from grader.reference import P2Spec

P2_TEST_ID = "P2"
_SEED = 2
# More cases than the reference lists, so verification is not tuned to the grading cases.
_EXTRA_CASES = ((2, 2, 2, 2), (5, 3, 3, 12), (1, 5, 10, 5))


@dataclass(frozen=True)
class _Formula:
    """One formula of an answer: which field, as written, and as parsed."""

    field: str
    text: str
    parsed: Expr


@dataclass(frozen=True)
class _Family:
    """A parsed answer: the form and its formulas in k."""

    form: PoolingForm
    value: _Formula
    off_diagonal: _Formula | None  # full form only
    stride: _Formula
    padding: _Formula


@dataclass(frozen=True)
class _Unparsed:
    """A formula that does not parse: a person reads it (never a silent zero)."""

    reason: str


def _parse_one(field: str, text: str) -> _Formula | _Unparsed:
    try:
        return _Formula(field, text, parse_latex(text))
    except LatexError as exc:
        # LatexError's own text names the column, worded as everywhere else in the grader.
        return _Unparsed(f"the {field} formula '{text}' does not parse: {exc}")


def _parse(answer: PoolingAnswer) -> _Family | _Unparsed:
    fields = [("value", answer.value), ("stride", answer.stride), ("padding", answer.padding)]
    if answer.form is PoolingForm.FULL:
        fields.append(("off-diagonal", answer.off_diagonal))
    parsed = []
    for field, text in fields:
        one = _parse_one(field, text)
        if isinstance(one, _Unparsed):
            return one
        parsed.append(one)
    return _Family(
        answer.form,
        parsed[0],
        parsed[3] if answer.form is PoolingForm.FULL else None,
        parsed[1],
        parsed[2],
    )


def _formulas(family: _Family) -> tuple[_Formula, ...]:
    off = () if family.off_diagonal is None else (family.off_diagonal,)
    return (family.value, *off, family.stride, family.padding)


def _unknown_symbol(family: _Family, k: int) -> str | None:
    """A symbol other than k means the grader did not understand the answer: a person reads
    it rather than the student losing the points to a reading problem."""
    for formula in _formulas(family):
        try:
            evaluate_scalar(formula.parsed, {"k": float(k)})
        except UnknownSymbol as exc:
            return f"the {formula.field} formula '{formula.text}' {exc}"
        except (FormulaError, ValueError, ArithmeticError):
            continue  # a wrong but readable formula: judged by what it computes
    return None


def _at(formula: _Formula, k: int) -> float | str:
    """The formula's value at k, or in words why it has none."""
    try:  # FormulaError also covers a value that is not one finite number
        return evaluate_scalar(formula.parsed, {"k": float(k)})
    except (FormulaError, ArithmeticError) as exc:
        return f"the {formula.field} '{formula.text}' cannot be evaluated at k={k} ({exc})"


def _whole(formula: _Formula, k: int, lowest: int, highest: int) -> int | str:
    v = _at(formula, k)
    if isinstance(v, str):
        return v
    if abs(v - round(v)) > 1e-9 or not lowest <= round(v) <= highest:
        return (
            f"the {formula.field} '{formula.text}' is {v:g} at k={k}, "
            f"not a whole number from {lowest} to {highest}"
        )
    return int(round(v))


def _run_case(
    family: _Family, case: tuple[int, int, int, int], x: torch.Tensor
) -> torch.Tensor | str:
    c, k, m, n = case
    value = _at(family.value, k)
    off = 0.0 if family.off_diagonal is None else _at(family.off_diagonal, k)
    # Bounds keep a silly formula from building huge tensors; both are far past any answer.
    stride = _whole(family.stride, k, 1, max(m, n) + k)
    padding = _whole(family.padding, k, 0, max(m, n) + k)
    for v in (value, off, stride, padding):
        if isinstance(v, str):
            return v
    assert not isinstance(value, str) and not isinstance(off, str)
    assert isinstance(stride, int) and isinstance(padding, int)
    if min(conv_output_size(m, k, stride, padding), conv_output_size(n, k, stride, padding)) <= 0:
        return f"with padding {padding} a {k}x{k} kernel does not fit a {m}x{n} image"
    if family.form is PoolingForm.DEPTHWISE:
        weight = torch.full((c, 1, k, k), value, dtype=DTYPE)
        return F.conv2d(x, weight, stride=stride, padding=padding, groups=c)
    weight = torch.full((c, c, k, k), off, dtype=DTYPE)
    for i in range(c):
        weight[i, i] = value
    return F.conv2d(x, weight, stride=stride, padding=padding)


def _images(cases: tuple[tuple[int, int, int, int], ...], seed: int) -> tuple[torch.Tensor, ...]:
    return tuple(random_images(((m, n),), c, seed + i)[0] for i, (c, _k, m, n) in enumerate(cases))


def _outputs(
    family: _Family, cases: tuple[tuple[int, int, int, int], ...], images: tuple[torch.Tensor, ...]
) -> Outputs:
    maps = []
    for case, x in zip(cases, images, strict=True):
        got = _run_case(family, case, x)
        if isinstance(got, str):
            return Outputs((), got)
        maps.append(got)
    return Outputs(tuple(maps))


def _targets(
    cases: tuple[tuple[int, int, int, int], ...], images: tuple[torch.Tensor, ...]
) -> Outputs:
    return Outputs(
        tuple(F.avg_pool2d(x, k) for (_c, k, _m, _n), x in zip(cases, images, strict=True))
    )


def _case_text(case: tuple[int, int, int, int]) -> str:
    c, k, m, n = case
    return f"C={c}, k={k} on a {m}x{n} image"


def _difference_words(spec: P2Spec, got: Outputs, want: Outputs) -> str:
    """What the first case that differs shows, in words."""
    for case, g, w in zip(spec.cases, got.maps, want.maps, strict=True):
        if g.shape != w.shape:
            return (
                f"For {_case_text(case)} the convolution gives {g.shape[1]} channels of "
                f"{size_text(g.shape[2:])} where avg_pool2d gives {w.shape[1]} channels of "
                f"{size_text(w.shape[2:])}."
            )
        r = constant_ratio(g, w, spec.tolerance)
        if r is not None:
            return f"For {_case_text(case)} the convolution gives {r:.4g} times the average."
        d = max_difference(g, w)
        if d > spec.tolerance:
            return (
                f"For {_case_text(case)} the convolution differs from avg_pool2d by up to {d:.3g}."
            )
    return "The convolution differs from avg_pool2d."


def _slot(spec: P2Spec) -> Slot:
    return Slot(P2_TEST_ID, ProblemId.P2, spec.title, spec.points, spec.visibility)


def _judge(spec: P2Spec, answer: Answer, pooling: PoolingAnswer) -> CheckResult:
    details = (
        "Compared conv2d with torch avg_pool2d(X, k) on seeded random images for "
        + "; ".join(_case_text(c) for c in spec.cases)
        + f" (tolerance {spec.tolerance:g}).",
    )
    slot = _slot(spec)
    result = partial(slot.scored, answer=answer, details=details)
    family = _parse(pooling)
    if isinstance(family, _Unparsed):
        return slot.unreadable(answer, family.reason)
    unknown = _unknown_symbol(family, spec.cases[0][1]) if spec.cases else None
    if unknown is not None:
        return slot.unreadable(answer, unknown)
    images = _images(spec.cases, _SEED)
    want = _targets(spec.cases, images)
    got = _outputs(family, spec.cases, images)
    if got.same_as(want, spec.tolerance):
        return result(
            1.0, f"The {pooling.form.value} convolution computes avg_pool2d in every case: right."
        )
    for mistake in spec.mistakes:
        example = _parse(mistake.answer)
        if isinstance(example, _Family) and got.same_as(
            _outputs(example, spec.cases, images), spec.tolerance
        ):
            return result(mistake.credit, mistake.feedback, mistake=mistake.name)
    if got.problem is not None:
        return result(0.0, f"The convolution cannot be run: {got.problem}.")
    return result(0.0, _difference_words(spec, got, want))


def check_p2(spec: P2Spec, answer: Answer | None) -> tuple[CheckResult, ...]:
    def judge(a: Answer, pooling: PoolingAnswer) -> CheckResult:
        with single_thread():
            return _judge(spec, a, pooling)

    return (judge_answer(_slot(spec), answer, PoolingAnswer, "a pooling filter", judge),)


# --- verification for `grade check-reference` --------------------------------------------


def _reference_answer(pooling: PoolingAnswer, what: str) -> Answer:
    return reference_answer(ProblemId.P2, "filter", pooling, what)


def _verify_p2(spec: P2Spec) -> list[ReferenceCheck]:
    p = ProblemId.P2
    checks = []
    bad_cases = [c for c in spec.cases if c[1] < 2 or c[2] % c[1] or c[3] % c[1] or c[0] < 1]
    checks.append(
        ReferenceCheck(
            p,
            "every case has k >= 2 dividing m and n",
            not bad_cases,
            "all valid" if not bad_cases else f"invalid: {bad_cases}",
        )
    )
    if not spec.expected:
        checks.append(ReferenceCheck(p, "at least one expected form", False, "none given"))
    all_cases = spec.cases + _EXTRA_CASES
    images = _images(all_cases, 200)
    want = _targets(all_cases, images)
    for expected in spec.expected:
        family = _parse(expected)
        if isinstance(family, _Unparsed):
            checks.append(
                ReferenceCheck(p, f"{expected.form.value} form parses", False, family.reason)
            )
            continue
        got = _outputs(family, all_cases, images)
        ok = got.same_as(want, spec.tolerance)
        checks.append(
            ReferenceCheck(
                p,
                f"{expected.form.value} form equals avg_pool2d on spec and extra cases",
                ok,
                got.problem or ("matches" if ok else "differs from avg_pool2d"),
            )
        )
        r = check_p2(spec, _reference_answer(expected, "expected"))[0]
        checks.append(full_credit_check(p, f"{expected.form.value} form", r))
    results = [
        (m.name, m.credit, check_p2(spec, _reference_answer(m.answer, m.name))[0])
        for m in spec.mistakes
    ]
    return checks + mistake_checks(p, spec.points, results)


def verify_p2_reference(spec: P2Spec) -> list[ReferenceCheck]:
    with single_thread():
        return _verify_p2(spec)
