"""Small builders shared by every check, so each status is worded the same way everywhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from grader.models import (
    Answer,
    AnswerValue,
    CheckResult,
    ProblemId,
    Source,
    Status,
    Unreadable,
    Visibility,
)


@dataclass(frozen=True)
class ReferenceCheck:
    """One line of `grade check-reference`: a reference answer re-derived independently."""

    problem: ProblemId
    name: str
    passed: bool
    detail: str


def sources_of(answer: Answer | None) -> tuple[Source, ...]:
    return () if answer is None else (answer.source,)


def missing(
    test_id: str,
    problem: ProblemId,
    title: str,
    points: float,
    visibility: Visibility,
    what: str = "No answer was found for this item.",
) -> CheckResult:
    return CheckResult(
        test_id, problem, title, Status.MISSING, 0.0, points, what, visibility=visibility
    )


RAW_TEXT_IN_FEEDBACK = 300  # the whole text is under "what was read"; feedback stays short


def _clipped(text: str) -> str:
    if len(text) <= RAW_TEXT_IN_FEEDBACK:
        return text
    return text[:RAW_TEXT_IN_FEEDBACK] + f"... ({len(text)} characters in all)"


def unreadable(
    test_id: str,
    problem: ProblemId,
    title: str,
    points: float,
    visibility: Visibility,
    answer: Answer,
    reason: str,
) -> CheckResult:
    """Found but not readable: never a silent zero; a person looks at the raw text."""
    return CheckResult(
        test_id,
        problem,
        title,
        Status.NEEDS_REVIEW,
        None,
        points,
        f"An answer was found but could not be read ({reason}); it needs review by a person. "
        f"Raw text: {_clipped(answer.source.text)}",
        sources=(answer.source,),
        visibility=visibility,
    )


def scored(
    test_id: str,
    problem: ProblemId,
    title: str,
    points: float,
    visibility: Visibility,
    credit: float,
    feedback: str,
    *,
    answer: Answer | None = None,
    mistake: str | None = None,
    details: tuple[str, ...] = (),
) -> CheckResult:
    """A judged answer: credit 1 passes, 0 fails, anything between is partial."""
    credit = min(max(credit, 0.0), 1.0)
    status = Status.PASSED if credit >= 1.0 else Status.FAILED if credit <= 0.0 else Status.PARTIAL
    return CheckResult(
        test_id,
        problem,
        title,
        status,
        round(points * credit, 4),
        points,
        feedback,
        mistake=mistake,
        sources=sources_of(answer),
        visibility=visibility,
        details=details,
    )


def grader_error(
    test_id: str,
    problem: ProblemId,
    title: str,
    points: float,
    visibility: Visibility,
    exc: BaseException,
) -> CheckResult:
    """A bug on our side is kept as a result, so a report always exists."""
    return CheckResult(
        test_id,
        problem,
        title,
        Status.GRADER_ERROR,
        None,
        points,
        f"The grader failed on this item ({type(exc).__name__}: {exc}); "
        "this is not the student's fault. Please report it.",
        visibility=visibility,
    )


@dataclass(frozen=True)
class Slot:
    """One graded item: the five values every result of it carries, and its builders."""

    test_id: str
    problem: ProblemId
    title: str
    points: float
    visibility: Visibility

    def missing(self, what: str = "No answer was found for this item.") -> CheckResult:
        return missing(self.test_id, self.problem, self.title, self.points, self.visibility, what)

    def unreadable(self, answer: Answer, reason: str) -> CheckResult:
        return unreadable(
            self.test_id, self.problem, self.title, self.points, self.visibility, answer, reason
        )

    def scored(
        self,
        credit: float,
        feedback: str,
        *,
        answer: Answer | None = None,
        mistake: str | None = None,
        details: tuple[str, ...] = (),
    ) -> CheckResult:
        return scored(
            self.test_id, self.problem, self.title, self.points, self.visibility, credit,
            feedback, answer=answer, mistake=mistake, details=details,
        )  # fmt: skip

    def unscored(self, status: Status, words: str, details: tuple[str, ...] = ()) -> CheckResult:
        """Not judged (skipped, timed out, crashed...): no credit, the status says why."""
        return CheckResult(
            self.test_id, self.problem, self.title, status, 0.0, self.points, words,
            visibility=self.visibility, details=details,
        )  # fmt: skip

    def error(self, exc: BaseException) -> CheckResult:
        return grader_error(
            self.test_id, self.problem, self.title, self.points, self.visibility, exc
        )


V = TypeVar("V")


def judge_answer(
    slot: Slot,
    answer: Answer | None,
    value_type: type[V],
    expected_words: str,
    judge: Callable[[Answer, V], CheckResult],
) -> CheckResult:
    """The handling every written answer gets: none is missing, an unreadable one or one of
    another kind needs review, else `judge` decides; an exception in it is a grader error."""
    if answer is None:
        return slot.missing()
    value: AnswerValue = answer.value
    if isinstance(value, Unreadable):
        return slot.unreadable(answer, value.reason)
    if not isinstance(value, value_type):
        return slot.unreadable(answer, f"expected {expected_words}, found {type(value).__name__}")
    try:
        return judge(answer, value)
    except Exception as exc:  # a bug on our side is kept as a result, so a report exists
        return slot.error(exc)


# --- `grade check-reference` helpers -----------------------------------------------------

REFERENCE_FILE = "reference/hw4.toml"


def reference_answer(problem: ProblemId, key: str, value: AnswerValue, what: str) -> Answer:
    """A reference value (the expected answer or a mistake's example) posed as an answer."""
    return Answer(problem, key, value, Source(REFERENCE_FILE, None, what))


def full_credit_check(problem: ProblemId, what: str, result: CheckResult) -> ReferenceCheck:
    """The expected answer, judged like a student's, must pass."""
    return ReferenceCheck(
        problem,
        f"{what} gets full credit",
        result.status is Status.PASSED,
        f"{result.status.value}: {result.feedback}",
    )


def mistake_checks(
    problem: ProblemId, points: float, results: list[tuple[str, float, CheckResult]]
) -> list[ReferenceCheck]:
    """Each mistake example (name, credit, its result) must be judged wrong, recognised by
    name, with its credit."""
    checks = []
    for name, credit, r in results:
        want_score = round(points * credit, 4)
        ok = r.status is not Status.PASSED and r.mistake == name and r.score == want_score
        detail = (
            f"judged {r.status.value}, recognised as '{r.mistake}', score {r.score} "
            f"(want not passed, '{name}', {want_score})"
        )
        checks.append(ReferenceCheck(problem, f"mistake '{name}' recognised", ok, detail))
    return checks
