"""P6: formulas judged by behaviour on random MLPs, and the reference verified with sympy."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from grader.checks.jacobians import check_p6, verify_p6_reference
from grader.models import (
    Answer,
    CheckResult,
    Derivative,
    FormulaAnswer,
    ProblemId,
    Source,
    Status,
    Unreadable,
)
from grader.reference import FormulaMistake, P6Spec, load_reference

D = Derivative


@pytest.fixture(scope="module")
def spec() -> P6Spec:
    return load_reference().p6


def answer(d: Derivative, latex: str) -> Answer:
    return Answer(ProblemId.P6, d.value, FormulaAnswer(latex), Source("writeup.md", 3, latex))


def judge_one(spec: P6Spec, d: Derivative, latex: str) -> CheckResult:
    results = check_p6(spec, {d: answer(d, latex)})
    return next(r for r in results if r.test_id.endswith(" " + d.value))


def test_reference_answers_pass(spec: P6Spec) -> None:
    results = check_p6(spec, {i.derivative: answer(i.derivative, i.answer) for i in spec.items})
    assert [r.test_id for r in results] == [f"P6{i.part} {i.derivative.value}" for i in spec.items]
    assert results[0].test_id == "P6a dyL/dbL"
    for r, item in zip(results, spec.items, strict=True):
        assert r.status is Status.PASSED, (r.test_id, r.feedback)
        assert r.problem is ProblemId.P6
        assert r.score == r.max_score == item.points
        assert r.sources and r.sources[0].file == "writeup.md"


EQUIVALENT = {
    D.DYL_DBL: ["1", r"\frac{\partial y_L}{\partial b_L} = 1", "1."],
    D.DYL_DYLM1: [
        r"\mathbf{A}_L",
        r"\frac{\partial(A_L y_{L-1} + b_L)}{\partial y_{L-1}} = A_L",
        r"\left(A_L^\top\right)^\top",
    ],
    D.DYl_DBl: [
        r"\text{diag}(\sigma'(A_l y_{l-1} + b_l))",
        r"\operatorname{diag}\left(\sigma'\left(A_{\ell} y_{\ell - 1} + b_{\ell}\right)\right)",
        r"\mathrm{diag}(\dot\sigma(z_\ell))",
        r"\operatorname{diag}(\sigma^{\prime}(\boldsymbol{A}_\ell \boldsymbol{y}_{\ell-1}"
        r" + \boldsymbol{b}_\ell))",
    ],
    D.DYl_DYlm1: [
        r"\operatorname{diag}\left(\sigma'\left(A_{\ell} y_{\ell - 1} + b_{\ell}\right)\right)"
        r" A_{\ell}",
        r"\text{diag}(\sigma'(z_l)) \cdot A_l",
        r"\left[\operatorname{diag}(\sigma'(z_\ell))\right] \left(A_\ell\right)",
    ],
    D.DYL_DAL: [r"y_{L-1}^{T}", "y_{L-1}'", r"y_{L-1}^\intercal", r"\mathbf{y}_{L-1}^\top"],
    D.DYL_DAl: [
        r"\operatorname{diag}\left(\sigma'(A_\ell y_{\ell-1}+b_\ell)\right)"
        r"\left(\frac{\partial y_L}{\partial y_\ell}\right)^{T} y_{\ell-1}^{T}.",
        r"\text{diag}(\sigma'(A_\ell y_{\ell-1} + b_\ell)) \cdot \left(\frac{\partial y_L}"
        r"{\partial y_\ell}\right)^\top \cdot y_{\ell-1}^\top",
        r"\left(\sigma'(z_\ell) \odot \left[\frac{\partial y_L}{\partial y_\ell}\right]^\top"
        r"\right) y_{\ell-1}^\top",
        r"(\sigma'(z_\ell) \circ (\partial y_L/\partial y_\ell)^\top) y_{\ell-1}^\top",
        r"\left(\frac{\partial y_L}{\partial y_\ell} \operatorname{diag}(\sigma'(z_l))"
        r"\right)^\top y_{l-1}^\top",
        r"\left[ y_{\ell-1} \frac{\partial y_L}{\partial y_\ell}"
        r" \operatorname{diag}(\sigma'(A_\ell y_{\ell-1}+b_\ell)) \right]^\top",
    ],
}


@pytest.mark.parametrize(("d", "latex"), [(d, f) for d, forms in EQUIVALENT.items() for f in forms])
def test_equivalent_forms_pass(spec: P6Spec, d: Derivative, latex: str) -> None:
    r = judge_one(spec, d, latex)
    assert r.status is Status.PASSED, r.feedback
    assert r.mistake is None


def mistake_cases() -> list[tuple[str, Derivative, str]]:
    spec = load_reference().p6
    return [(m.name, d, latex) for m in spec.mistakes for d, latex in m.answers]


@pytest.mark.parametrize(("name", "d", "latex"), mistake_cases())
def test_every_reference_mistake_is_recognised(
    spec: P6Spec, name: str, d: Derivative, latex: str
) -> None:
    r = judge_one(spec, d, latex)
    m = next(m for m in spec.mistakes if m.name == name)
    assert r.mistake == name
    assert r.status is (Status.PARTIAL if m.credit > 0 else Status.FAILED)
    assert r.score == pytest.approx(spec.item(d).points * m.credit)
    assert m.feedback in r.feedback


def test_mistakes_written_differently_are_recognised(spec: P6Spec) -> None:
    # Dave's wrong order, with \text{diag} and a thin space.
    r = judge_one(spec, D.DYl_DYlm1, r"A_\ell \, \text{diag}(\sigma'(A_\ell y_{\ell-1} + b_\ell))")
    assert r.mistake == "factors in the wrong order" and r.status is Status.PARTIAL
    r = judge_one(spec, D.DYl_DBl, r"\text{diag}(\sigma(z_l))")
    assert r.mistake == "sigma instead of sigma'"
    r = judge_one(
        spec,
        D.DYL_DAl,
        r"(\sigma'(z_\ell) \odot (\partial y_L/\partial y_\ell)^\top) y_\ell^\top",
    )
    assert r.mistake == "y_l instead of y_{l-1}"


def test_any_transposed_jacobian_is_a_missing_transpose(spec: P6Spec) -> None:
    # Not listed for dyl/dyl-1 in the reference: recognised by behaviour all the same.
    r = judge_one(spec, D.DYl_DYlm1, r"A_\ell^\top \operatorname{diag}(\sigma'(z_\ell))")
    assert r.mistake == "missing transpose"
    assert r.status is Status.PARTIAL
    assert "matrix where the Jacobian is" in r.feedback and "transpose is missing" in r.feedback
    r = judge_one(spec, D.DYL_DAL, "y_{L-1}")
    assert "column where the Jacobian is 1x" in r.feedback


@pytest.mark.parametrize(
    ("d", "latex", "words"),
    [
        (D.DYL_DBL, "0", "other values"),
        (D.DYL_DBL, "b_L", "other values"),
        (D.DYL_DYLM1, r"y_{L-1}^\top", "other values"),
        (D.DYl_DBl, r"A_\ell", "where the Jacobian is"),
        (D.DYl_DYlm1, r"\sigma'(z_\ell)", "column where the Jacobian is"),
        (D.DYL_DAL, "y_L", "1x1 scalar where the Jacobian is 1x"),
        (
            D.DYL_DAl,
            r"2 \operatorname{diag}(\sigma'(z_l)) (\partial y_L/\partial y_l)^T y_{l-1}^\top",
            "other values",
        ),
        (
            D.DYL_DAl,
            r"\operatorname{diag}(\sigma'(z_\ell)) \frac{\partial y_L}{\partial y_\ell}"
            r" y_{\ell-1}^\top",
            "cannot be evaluated: cannot multiply",
        ),
    ],
)
def test_wrong_answers_fail(spec: P6Spec, d: Derivative, latex: str, words: str) -> None:
    r = judge_one(spec, d, latex)
    assert r.status is Status.FAILED
    assert r.score == 0.0 and r.mistake is None
    assert words in r.feedback
    assert any(line.startswith("read as:") for line in r.details)


def test_missing_and_unreadable_answers(spec: P6Spec) -> None:
    d = D.DYL_DAl
    src = Source("writeup.md", 9, "??")
    bad = r"\operatorname{diag}(\sigma'(A_\ell y_{\ell-1} + b_\ell) \frac{1}{2"
    results = check_p6(
        spec,
        {
            D.DYL_DBL: None,
            D.DYL_DYLM1: Answer(ProblemId.P6, D.DYL_DYLM1.value, Unreadable("blurred"), src),
            d: answer(d, bad),
            D.DYl_DBl: answer(D.DYl_DBl, r"\operatorname{diag}(\sigma'(h_\ell))"),
        },
    )
    by = {r.test_id.split(" ")[1]: r for r in results}
    assert by["dyL/dbL"].status is Status.MISSING and by["dyL/dbL"].score == 0.0
    assert by["dyl/dyl-1"].status is Status.MISSING  # not given at all
    assert by["dyL/dyL-1"].status is Status.NEEDS_REVIEW and "blurred" in by["dyL/dyL-1"].feedback
    parse = by["dyL/dAl"]
    assert parse.status is Status.NEEDS_REVIEW and parse.score is None
    assert f"missing '}}' for the '{{' at column {bad.rindex('{')}" in parse.feedback
    unknown = by["dyl/dbl"]
    assert unknown.status is Status.NEEDS_REVIEW
    assert "h_l" in unknown.feedback and "does not define" in unknown.feedback


def test_example_submissions(spec: P6Spec) -> None:
    dave = {
        D.DYL_DBL: r"1",
        D.DYL_DYLM1: "A_L",
        D.DYl_DBl: r"\text{diag}(\sigma'(A_\ell y_{\ell-1} + b_\ell))",
        D.DYl_DYlm1: r"A_\ell \, \text{diag}(\sigma'(A_\ell y_{\ell-1} + b_\ell))",
        D.DYL_DAL: "y_{L-1}",
        D.DYL_DAl: r"\text{diag}(\sigma(A_\ell y_{\ell-1} + b_\ell)) \left(\frac{\partial y_L}"
        r"{\partial y_\ell}\right)^\top y_{\ell-1}^\top",
    }
    results = check_p6(spec, {d: answer(d, latex) for d, latex in dave.items()})
    statuses = [r.status for r in results]
    assert statuses == [Status.PASSED] * 3 + [Status.PARTIAL] * 3
    assert [r.mistake for r in results[3:]] == [
        "factors in the wrong order",
        "missing transpose",
        "sigma instead of sigma'",
    ]


def test_judging_is_fast_and_reproducible(spec: P6Spec) -> None:
    item = spec.item(D.DYL_DAl)
    check_p6(spec, {D.DYL_DAl: answer(D.DYL_DAl, item.answer)})  # warm up (torch import)
    start = time.perf_counter()
    first = check_p6(spec, {i.derivative: answer(i.derivative, i.answer) for i in spec.items})
    elapsed = time.perf_counter() - start
    assert elapsed < 0.2, f"{elapsed:.3f} s for six formulas"
    again = check_p6(spec, {i.derivative: answer(i.derivative, i.answer) for i in spec.items})
    assert first == again


def test_an_unusable_reference_is_a_grader_error(spec: P6Spec) -> None:
    bad = replace(spec, activations=("relu",))
    r = check_p6(bad, {D.DYL_DBL: answer(D.DYL_DBL, "1")})[0]
    assert r.status is Status.GRADER_ERROR and "unknown activation relu" in r.feedback


# --- reference verification -------------------------------------------------------------


def test_verify_reference_passes(spec: P6Spec) -> None:
    start = time.perf_counter()
    checks = verify_p6_reference(spec)
    assert time.perf_counter() - start < 15
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    assert len(checks) == len(spec.items) + sum(len(m.answers) for m in spec.mistakes)
    assert all(c.problem is ProblemId.P6 for c in checks)


SMALL = ((3, 2, 4),)  # one L=3 network keeps the broken-reference tests quick


def test_verify_reference_catches_a_broken_formula(spec: P6Spec) -> None:
    broken_items = tuple(
        replace(i, answer=r"\operatorname{diag}(\sigma(A_\ell y_{\ell-1} + b_\ell)) A_\ell")
        if i.derivative is D.DYl_DYlm1
        else replace(i, answer=r"y_{L-1}")
        if i.derivative is D.DYL_DAL
        else i
        for i in spec.items
    )
    broken = replace(spec, items=broken_items, mistakes=())
    checks = verify_p6_reference(broken, networks=SMALL)
    failed = {c.name.split(":")[0] for c in checks if not c.passed}
    assert failed == {"P6 reference dyl/dyl-1", "P6 reference dyL/dAL"}
    detail = next(c.detail for c in checks if "dyL/dAL" in c.name)
    assert "transpose is missing" in detail
    detail = next(c.detail for c in checks if "dyl/dyl-1" in c.name)
    assert "differs from the sympy Jacobian" in detail


def test_verify_reference_catches_a_mistake_that_is_right(spec: P6Spec) -> None:
    wrong_mistake = FormulaMistake("not really a mistake", 0.5, "...", ((D.DYL_DYLM1, r"A_L"),))
    checks = verify_p6_reference(
        replace(spec, mistakes=(*spec.mistakes, wrong_mistake)), networks=SMALL
    )
    bad = [c for c in checks if not c.passed]
    assert [c.name for c in bad] == ["P6 mistake 'not really a mistake' (dyL/dyL-1)"]
    assert "judged correct" in bad[0].detail
