"""Small builders shared by every check, so each status is worded the same way everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from grader.models import (
    Answer,
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


@dataclass(frozen=True)
class Scorer:
    """`scored` with everything but the verdict fixed: one per judged answer."""

    test_id: str
    problem: ProblemId
    title: str
    points: float
    visibility: Visibility
    answer: Answer | None
    details: tuple[str, ...] = ()

    def __call__(self, credit: float, feedback: str, mistake: str | None = None) -> CheckResult:
        return scored(
            self.test_id, self.problem, self.title, self.points, self.visibility, credit,
            feedback, answer=self.answer, mistake=mistake, details=self.details,
        )  # fmt: skip


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


def unreadable_reason(answer: Answer) -> str | None:
    return answer.value.reason if isinstance(answer.value, Unreadable) else None
