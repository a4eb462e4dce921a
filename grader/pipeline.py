"""Grading one submission: files -> answers -> checks -> results, as an ordered list of steps.

Every step is guarded: a failure of the grader on one problem becomes a GRADER_ERROR result
for that problem, so a report always exists and other problems are still graded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from grader.checks.common import grader_error
from grader.checks.manual import check_p4
from grader.inputs import SubmissionInputs, read_submission
from grader.models import (
    SINGLE_ANSWER_KEY,
    Answer,
    CheckResult,
    CountName,
    Derivative,
    ManualScore,
    ProblemId,
    ProblemResult,
    SubmissionResult,
)
from grader.reference import Reference


class SubmissionNotFound(Exception):
    """The path given is not a submission folder."""


@dataclass(frozen=True)
class GradeOptions:
    run_code: bool = True  # run the student's code in the sandbox (P5 training, P7 layer)
    required_layers: tuple[str, ...] = ()  # refuse to run code unless these layers work


DEFAULT_OPTIONS = GradeOptions()


def grade_submission(
    folder: Path,
    reference: Reference,
    manual: tuple[ManualScore, ...] = (),
    options: GradeOptions = DEFAULT_OPTIONS,
) -> SubmissionResult:
    if not folder.is_dir():
        raise SubmissionNotFound(f"{folder} is not a folder")
    inputs = read_submission(folder)
    manual_by_id = {m.test_id: m for m in manual}
    from grader.code_runs import code_refusal

    refusal = code_refusal(options.run_code, options.required_layers)
    problems = tuple(
        _guarded(
            reference, problem, partial(_check, problem, reference, inputs, manual_by_id, refusal)
        )
        for problem in ProblemId
    )
    return SubmissionResult(
        student=folder.name,
        problems=problems,
        notes=inputs.notes,
        input_errors=inputs.input_errors,
        sandbox_layers=_layers() if refusal is None and inputs.code.units else (),
    )


def _layers() -> tuple[str, ...]:
    """Isolation layers in force for this run, and in words those that are not."""
    from grader.sandbox.runner import available_layers

    return tuple(
        name if usable else f"{name} NOT applied: {why}" for name, usable, why in available_layers()
    )


def _guarded(
    reference: Reference, problem: ProblemId, run: Callable[[], tuple[CheckResult, ...]]
) -> ProblemResult:
    title = reference.title_of(problem)
    try:
        checks = run()
    except Exception as exc:  # noqa: BLE001 - a grader bug must not lose the other problems
        spec = getattr(reference, problem.value.lower())
        checks = (
            grader_error(problem.value, problem, title, float(spec.points), spec.visibility, exc),
        )
    return ProblemResult(problem, title, checks)


def _check(
    problem: ProblemId,
    reference: Reference,
    inputs: SubmissionInputs,
    manual: dict[str, ManualScore],
    refusal: str | None,  # why student code must not run, or None
) -> tuple[CheckResult, ...]:
    # Imported here so `grade --help` and report rendering never pay for torch.
    from grader.checks import accuracy_claims, counts, filters, jacobians, pooling
    from grader.code_runs import cross_check_claims, cross_check_counts, run_p5, run_p7_code

    answers = inputs.answers

    def one(key: str) -> Answer | None:
        return answers.find(problem, key)

    single = one(SINGLE_ANSWER_KEY[problem]) if problem in SINGLE_ANSWER_KEY else None
    if problem is ProblemId.P1:
        return filters.check_p1(reference.p1, single)
    if problem is ProblemId.P2:
        return pooling.check_p2(reference.p2, single)
    if problem is ProblemId.P3:
        return filters.check_p3(reference.p3, single)
    if problem is ProblemId.P4:
        return (
            check_p4(
                reference.p4,
                inputs.proof,
                manual.get("P4"),
                writeup_read=inputs.writeup_read,
            ),
        )
    if problem is ProblemId.P5:
        claims = accuracy_claims.check_p5_claims(reference.p5, single)
        p5 = run_p5(reference.p5, inputs.code, inputs.folder, refusal)
        return cross_check_claims(claims, single, p5.measured) + p5.results
    if problem is ProblemId.P6:
        return jacobians.check_p6(reference.p6, {d: one(d.value) for d in Derivative})
    stated = {c: one(c.value) for c in CountName}
    written = counts.check_p7_counts(reference.p7, stated)
    p7 = run_p7_code(reference.p7, inputs.code, inputs.folder, refusal)
    return cross_check_counts(written, stated, p7.measured) + p7.results
