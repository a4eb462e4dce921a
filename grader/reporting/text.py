"""Wording shared by every report: numbers, scores and outcomes are written the same way."""

from __future__ import annotations

import math

from grader.models import CheckResult, Outcome, ProblemResult, SubmissionResult


class ReportError(Exception):
    """Input that cannot be reported as given; the message names the offending item."""


def number(x: float) -> str:
    """A score as people write it: 10, 83.5, 3.33 (two decimals at most, no trailing zeros)."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def points(x: float | None, missing: str) -> str:
    """A score that may be absent (not graded, waiting for a person): `missing` stands in
    for it, and each format says that its own way ("", "-", "pending")."""
    return missing if x is None else number(x)


def check_score(check: CheckResult) -> str:
    """The awarded points only: "pending" while a person has not scored it."""
    if check.score is not None:
        return number(check.score)
    return "pending" if check.outcome is Outcome.MANUAL else "not scored"


def check_score_of_max(check: CheckResult) -> str:
    return f"{check_score(check)} / {number(check.max_score)}"


def pending_points(checks: tuple[CheckResult, ...]) -> float:
    return sum(c.max_score for c in checks if c.score is None)


def total_text(score: float, max_score: float, pending: float) -> str:
    """e.g. "83.5 / 100 (+10 pending)": points not yet scored are shown, not hidden."""
    text = f"{number(score)} / {number(max_score)}"
    if pending > 0:
        text += f" (+{number(pending)} pending)"
    return text


def submission_total(result: SubmissionResult) -> str:
    return total_text(result.score, result.max_score, pending_points(result.checks()))


def problem_total(problem: ProblemResult) -> str:
    return total_text(problem.score, problem.max_score, pending_points(problem.checks))


def outcome_label(check: CheckResult) -> str:
    """The coarse outcome, with the precise status when it says more (e.g. "error: timeout")."""
    outcome = check.outcome.value
    status = check.status.value
    return outcome if status in (outcome, "passed", "failed") else f"{outcome} ({status})"


def validate(result: SubmissionResult) -> None:
    """Refuse numbers no report format can hold (NaN, infinity, negative maxima)."""
    for check in result.checks():
        where = f"student {result.student!r}, check {check.test_id!r}"
        if not math.isfinite(check.max_score) or check.max_score < 0:
            raise ReportError(f"{where}: max_score {check.max_score!r} is not a finite number >= 0")
        if check.score is not None and not math.isfinite(check.score):
            raise ReportError(f"{where}: score {check.score!r} is not a finite number")
