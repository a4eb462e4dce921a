"""Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/).

Contract other tools rely on: every problem has at least one test whose `name` starts with
the problem id; `extra_data.outcome` is an Outcome value; unscored (pending) items score 0.
"""

from __future__ import annotations

import json

from grader.models import CheckResult, Outcome, ProblemResult, SubmissionResult, Visibility
from grader.reporting.text import (
    number,
    pending_points,
    submission_total,
    validate,
)
from grader.reporting.version import grader_version

Json = dict[str, object]

_VISIBILITY: dict[Visibility, str] = {
    Visibility.VISIBLE: "visible",
    Visibility.HIDDEN: "hidden",
}


def _points(x: float) -> float:
    # Four decimals: enough for any rubric, and no 83.50000000001 in the gradebook.
    return round(x, 4)


def _test_name(check: CheckResult) -> str:
    pid = check.problem.value
    return check.test_id if check.test_id.startswith(pid) else f"{pid} {check.test_id}"


def _output(check: CheckResult) -> str:
    lines = [check.feedback]
    if check.mistake:
        lines.append(f"Recognised mistake: {check.mistake}")
    if check.score is None:
        lines.append(
            f"Not scored yet ({check.status.value}): counted as 0 of "
            f"{number(check.max_score)} until a person scores it."
        )
    if check.details:
        lines.append("Details:")
        lines.extend(f"  - {d}" for d in check.details)
    for s in check.sources:
        lines.append(f"Read from {s.describe()}:")
        lines.extend(f"    {line}" for line in s.text.splitlines() or [""])
    return "\n".join(lines)


def _test(check: CheckResult) -> Json:
    return {
        "name": _test_name(check),
        "score": _points(check.score or 0.0),
        "max_score": _points(check.max_score),
        # Gradescope knows only passed/failed: anything short of full marks (including an
        # item still waiting for a person) is "failed"; extra_data.outcome says more.
        "status": "passed" if check.full_marks else "failed",
        "output": _output(check),
        "visibility": _VISIBILITY[check.visibility],
        "extra_data": {
            "test_id": check.test_id,
            "problem": check.problem.value,
            "title": check.title,
            "outcome": check.outcome.value,
            "status": check.status.value,
            "pending": check.score is None,
            "mistake": check.mistake,
        },
    }


def _empty_problem(problem: ProblemResult) -> Json:
    # Keeps the one-test-per-problem contract when a problem produced no checks at all.
    return {
        "name": problem.problem.value,
        "score": 0.0,
        "max_score": 0.0,
        "status": "failed",
        "output": "No checks were recorded for this problem.",
        "visibility": "visible",
        "extra_data": {
            "test_id": problem.problem.value,
            "problem": problem.problem.value,
            "title": problem.title,
            "outcome": Outcome.MISSING.value,
            "status": None,
            "pending": False,
            "mistake": None,
        },
    }


def _summary(result: SubmissionResult) -> str:
    lines = [f"Total: {submission_total(result)}"]
    if result.input_errors:
        lines.append("Input errors:")
        lines.extend(f"  - {e}" for e in result.input_errors)
    if result.notes:
        lines.append("Notes:")
        lines.extend(f"  - {n}" for n in result.notes)
    return "\n".join(lines)


def results_json_data(
    result: SubmissionResult,
    *,
    reference_hash: str | None = None,
    reference_title: str | None = None,
    version: str | None = None,
) -> Json:
    """The results.json document as plain JSON data (for callers that merge or inspect it)."""
    validate(result)
    tests: list[Json] = []
    for problem in result.problems:
        tests.extend(_test(c) for c in problem.checks)
        if not problem.checks:
            tests.append(_empty_problem(problem))
    extra: Json = {
        "student": result.student,
        "grader_version": version or grader_version(),
        "max_score": _points(result.max_score),
        "pending_points": _points(pending_points(result.checks())),
        "sandbox_layers": list(result.sandbox_layers),
        "input_errors": list(result.input_errors),
    }
    if reference_hash is not None:
        extra["reference_hash"] = reference_hash
    if reference_title is not None:
        extra["reference_title"] = reference_title
    return {
        "score": _points(result.score),
        "output": _summary(result),
        "tests": tests,
        "extra_data": extra,
    }


def render_results_json(
    result: SubmissionResult,
    *,
    reference_hash: str | None = None,
    reference_title: str | None = None,
    version: str | None = None,
) -> str:
    data = results_json_data(
        result, reference_hash=reference_hash, reference_title=reference_title, version=version
    )
    # allow_nan=False: Gradescope rejects NaN; validate() already refused it with a clear message.
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
