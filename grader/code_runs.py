"""The student's code, run in the sandbox for P5 (loss and training) and P7 (the C3 layer).

Kept apart from the pure checks: this is the only step of grading that starts processes.
"""

from __future__ import annotations

from pathlib import Path

from grader.checks.c3_layer import check_c3, run_p7
from grader.checks.loss import check_p5_code, default_cache_dir
from grader.extraction.code import CodeSubmission
from grader.models import CheckResult, ProblemId, Status, Visibility
from grader.reference import Item, P5Spec, P7Spec

NOT_RUN = "Student code was not run (--no-code): this item was not graded."


def _skipped(test_id: str, problem: ProblemId, item: Item, visibility: Visibility) -> CheckResult:
    return CheckResult(
        test_id, problem, item.title, Status.SKIPPED, 0.0, item.points, NOT_RUN,
        visibility=visibility,
    )  # fmt: skip


def p5_code_results(
    spec: P5Spec, code: CodeSubmission, folder: Path, run_code: bool
) -> tuple[CheckResult, ...]:
    if not run_code:
        return (
            _skipped("P5 loss", ProblemId.P5, spec.loss, spec.visibility),
            _skipped("P5 training", ProblemId.P5, spec.training, spec.visibility),
        )
    return check_p5_code(spec, code, folder, cache_dir=default_cache_dir())


def p7_code_results(
    spec: P7Spec, code: CodeSubmission, folder: Path, run_code: bool
) -> tuple[CheckResult, ...]:
    if not run_code:
        items = (spec.parameters, spec.shape, spec.connection_item)
        return tuple(_skipped(f"P7 {i.key}", ProblemId.P7, i, spec.visibility) for i in items)
    return check_c3(spec, run_p7(code, folder, spec))
