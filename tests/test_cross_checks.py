"""The write-up's claims beside what the grader measured from the student's code."""

from __future__ import annotations

from grader.checks.common import scored
from grader.code_runs import cross_check_claims, cross_check_counts
from grader.models import (
    AccuracyAnswer,
    AccuracyClaim,
    Answer,
    CheckResult,
    CountAnswer,
    CountName,
    LossKind,
    ProblemId,
    Source,
    Visibility,
)

SOURCE = Source("writeup.md", 3, "...")


def result(test_id: str, problem: ProblemId) -> tuple[CheckResult, ...]:
    return (scored(test_id, problem, "t", 5, Visibility.VISIBLE, 1.0, "fine"),)


def test_claims_compared_with_measured_accuracy() -> None:
    answer = Answer(
        ProblemId.P5,
        "accuracy",
        AccuracyAnswer(
            (
                (LossKind.SQUARE, AccuracyClaim(1901, 1991, 95.48, "95.48")),
                (LossKind.LOGISTIC, AccuracyClaim(1990, 1991, 99.95, "99.95")),
            )
        ),
        SOURCE,
    )
    measured = {LossKind.SQUARE: 95.18, LossKind.LOGISTIC: 94.83}
    (checked,) = cross_check_claims(result("P5 claims", ProblemId.P5), answer, measured)
    square, logistic = checked.details
    assert "square loss" in square and "95.48%" in square and "plausible" in square
    assert "logistic loss" in logistic and "higher than measured" in logistic
    assert checked.score == 5  # words only: the claim's own check sets the score


def test_no_measurement_leaves_the_claims_alone() -> None:
    claims = result("P5 claims", ProblemId.P5)
    assert cross_check_claims(claims, None, {LossKind.SQUARE: 95.0}) == claims


def test_stated_count_against_the_submitted_module() -> None:
    counts = result("P7 c3_original", ProblemId.P7) + result("P7 c3_full", ProblemId.P7)
    answers = {
        CountName.C3_ORIGINAL: Answer(ProblemId.P7, "c3_original", CountAnswer(1500), SOURCE),
        CountName.C3_FULL: Answer(ProblemId.P7, "c3_full", CountAnswer(2416), SOURCE),
    }
    checked = cross_check_counts(counts, answers, {CountName.C3_ORIGINAL: 1516})
    assert "states 1500" in checked[0].details[0] and "1516" in checked[0].details[0]
    assert checked[1].details == ()  # no full layer was built to compare with
    same = cross_check_counts(counts, answers, {CountName.C3_ORIGINAL: 1500})
    assert "as stated" in same[0].details[0]


def test_required_layers_refuse_to_run_code_where_one_is_missing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import grader.sandbox
    from grader.code_runs import NOT_RUN, code_refusal

    layers = (("bubblewrap", True, ""), ("seccomp", False, "pyseccomp is not installed"))
    monkeypatch.setattr(grader.sandbox, "available_layers", lambda: layers)
    assert code_refusal(False, ()) == NOT_RUN
    assert code_refusal(True, ()) is None
    assert code_refusal(True, ("bubblewrap",)) is None
    refusal = code_refusal(True, ("bubblewrap", "seccomp"))
    assert refusal is not None and "seccomp (pyseccomp is not installed)" in refusal
