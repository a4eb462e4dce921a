"""P2 check: a filter family in k judged against avg_pool2d, in both right forms."""

from __future__ import annotations

from dataclasses import replace

import pytest

from grader.checks.pooling import check_p2, verify_p2_reference
from grader.models import (
    Answer,
    CountAnswer,
    PoolingAnswer,
    PoolingForm,
    ProblemId,
    Source,
    Status,
    Unreadable,
)
from grader.reference import PoolingMistake, Reference, load_reference

DEPTHWISE = PoolingForm.DEPTHWISE
FULL = PoolingForm.FULL


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def pooling(
    form: PoolingForm, value: str, stride: str = "k", padding: str = "0", off: str = "0"
) -> Answer:
    return Answer(
        ProblemId.P2,
        "filter",
        PoolingAnswer(form, value, off, stride, padding),
        Source("answers.toml", None, value),
    )


@pytest.mark.parametrize(
    "answer",
    [
        pooling(DEPTHWISE, "1/k^2"),
        pooling(FULL, "1/k^2"),
        pooling(DEPTHWISE, r"\frac{1}{k^{2}}"),
        pooling(DEPTHWISE, r"\tfrac{1}{k^2}"),
        pooling(DEPTHWISE, "k^{-2}"),
        pooling(FULL, r"\frac1{k^2}", stride="k", padding="0", off="0"),
        pooling(DEPTHWISE, "1/(k k)", stride="k"),
    ],
    ids=["depthwise", "full", "frac", "tfrac", "negative power", "frac1", "k k"],
)
def test_right_answers_pass_in_both_forms_and_spellings(ref: Reference, answer: Answer) -> None:
    (r,) = check_p2(ref.p2, answer)
    assert r.status is Status.PASSED, r.feedback
    assert r.score == ref.p2.points and r.test_id == "P2"


def test_every_known_mistake_is_recognised(ref: Reference) -> None:
    assert len(ref.p2.mistakes) == 5
    for mistake in ref.p2.mistakes:
        a = Answer(ProblemId.P2, "filter", mistake.answer, Source("answers.toml", None, ""))
        (r,) = check_p2(ref.p2, a)
        assert r.mistake == mistake.name, (mistake.name, r.feedback)
        assert r.score == pytest.approx(ref.p2.points * mistake.credit)
        assert r.feedback == mistake.feedback


def test_mistake_written_in_the_other_form_is_still_recognised(ref: Reference) -> None:
    # Dave's answer: full C x C x k x k form with ones on the diagonal and no 1/k^2.
    (r,) = check_p2(ref.p2, pooling(FULL, "1", off="0"))
    assert r.mistake == "missing 1/k^2"
    assert r.status is Status.PARTIAL


def test_one_over_k_in_latex_is_recognised(ref: Reference) -> None:
    (r,) = check_p2(ref.p2, pooling(FULL, r"\frac{1}{k}"))
    assert r.mistake == "1/k instead of 1/k^2"


def test_unexpected_factor_is_described(ref: Reference) -> None:
    (r,) = check_p2(ref.p2, pooling(DEPTHWISE, "2/k^2"))
    assert r.status is Status.FAILED and r.mistake is None
    assert "2 times the average" in r.feedback


def test_wrong_stride_reports_the_sizes(ref: Reference) -> None:
    (r,) = check_p2(ref.p2, pooling(DEPTHWISE, "1/k^2", stride="2"))
    assert r.status is Status.FAILED
    assert "C=2, k=3 on a 9x6 image" in r.feedback
    assert "2 channels of 4x2 where avg_pool2d gives 2 channels of 3x2" in r.feedback


def test_stride_that_is_not_whole_is_explained(ref: Reference) -> None:
    (r,) = check_p2(ref.p2, pooling(DEPTHWISE, "1/k^2", stride="k/2"))
    assert r.status is Status.FAILED
    assert "'k/2' is 1.5 at k=3" in r.feedback


def test_value_undefined_at_some_k_is_explained(ref: Reference) -> None:
    (r,) = check_p2(ref.p2, pooling(DEPTHWISE, "1/(k-2)"))
    assert r.status is Status.FAILED
    assert "cannot be evaluated at k=2" in r.feedback


def test_formula_that_does_not_parse_needs_review_with_its_column(ref: Reference) -> None:
    (r,) = check_p2(ref.p2, pooling(DEPTHWISE, "1/k^"))
    assert r.status is Status.NEEDS_REVIEW and r.score is None
    assert "value formula '1/k^'" in r.feedback and "column 4" in r.feedback


def test_unknown_symbol_needs_review(ref: Reference) -> None:
    (r,) = check_p2(ref.p2, pooling(DEPTHWISE, "1/n^2"))
    assert r.status is Status.NEEDS_REVIEW
    assert "n" in r.feedback


def test_missing_unreadable_and_wrong_kind(ref: Reference) -> None:
    (r,) = check_p2(ref.p2, None)
    assert r.status is Status.MISSING
    src = Source("writeup.md", 13, "w = ...")
    (u,) = check_p2(ref.p2, Answer(ProblemId.P2, "filter", Unreadable("no stride found"), src))
    assert u.status is Status.NEEDS_REVIEW and "no stride found" in u.feedback
    (v,) = check_p2(ref.p2, Answer(ProblemId.P2, "filter", CountAnswer(4), src))
    assert v.status is Status.NEEDS_REVIEW


def test_verify_passes_on_the_reference(ref: Reference) -> None:
    checks = verify_p2_reference(ref.p2)
    assert checks and all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_verify_catches_a_broken_expected_form(ref: Reference) -> None:
    broken = tuple(replace(e, value="1/k") for e in ref.p2.expected)
    checks = verify_p2_reference(replace(ref.p2, expected=broken))
    failed = [c.name for c in checks if not c.passed]
    assert "depthwise form equals avg_pool2d on spec and extra cases" in failed
    assert "full form gets full credit" in failed


def test_verify_catches_cases_that_cannot_tell_channels_apart(ref: Reference) -> None:
    one_channel = replace(ref.p2, cases=((1, 2, 4, 6), (1, 3, 6, 9)))
    failed = [c.name for c in verify_p2_reference(one_channel) if not c.passed]
    assert failed == ["mistake 'channels mixed' recognised"]


def test_verify_catches_a_mistake_example_that_is_right(ref: Reference) -> None:
    right = PoolingMistake("not a mistake", 0.5, "x", ref.p2.expected[0])
    failed = [
        c.name
        for c in verify_p2_reference(replace(ref.p2, mistakes=(*ref.p2.mistakes, right)))
        if not c.passed
    ]
    assert failed == ["mistake 'not a mistake' recognised"]
