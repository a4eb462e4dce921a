"""The student's code, run in the sandbox for P5 (loss and training) and P7 (the C3 layer),
and the cross-check of what the write-up claims against what the code was measured to do.

Kept apart from the pure checks: this is the only step of grading that starts processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from grader.checks.accuracy_claims import LOSS_NAMES
from grader.checks.c3_layer import code_slots, judge_c3, run_p7
from grader.checks.loss import (
    P5Session,
    compare_claims_with_measured,
    default_cache_dir,
    loss_slot,
    training_slot,
)
from grader.checks.sandboxed import Isolation
from grader.extraction.code import CodeSubmission
from grader.models import (
    AccuracyAnswer,
    Answer,
    CheckResult,
    CountAnswer,
    CountName,
    LossKind,
    Status,
)
from grader.reference import P5Spec, P7Spec

NOT_RUN = "Student code was not run (--no-code): this item was not graded."


def code_refusal(run_code: bool, required_layers: tuple[str, ...]) -> str | None:
    """Why student code must not run here, or None. An instructor may require isolation
    layers (DESIGN.md): on a machine that lacks one, no code runs and the report says why."""
    if not run_code:
        return NOT_RUN
    if not required_layers:
        return None
    from grader.sandbox import available_layers

    status = {name: (usable, why) for name, usable, why in available_layers()}
    lacking = [
        f"{name} ({status[name][1]})" if name in status else f"{name} (no such layer)"
        for name in required_layers
        if not status.get(name, (False, ""))[0]
    ]
    if not lacking:
        return None
    return (
        "Student code was not run: the instructor requires isolation this machine lacks: "
        + ", ".join(lacking)
        + ". This item was not graded."
    )


@dataclass(frozen=True)
class P5Run:
    results: tuple[CheckResult, ...]
    measured: Mapping[LossKind, float]  # test accuracy in percent, as the grader measured it


@dataclass(frozen=True)
class P7Run:
    results: tuple[CheckResult, ...]
    measured: Mapping[CountName, int]  # parameter counts of the student's own modules


def run_p5(spec: P5Spec, code: CodeSubmission, folder: Path, refusal: str | None) -> P5Run:
    if refusal is not None:
        skipped = (loss_slot(spec), training_slot(spec))
        return P5Run(tuple(s.unscored(Status.SKIPPED, refusal) for s in skipped), {})
    session = P5Session(spec, cache_dir=default_cache_dir())
    results = _with_isolation(session.check(code, folder), session.isolation)
    return P5Run(results, dict(session.measured))


def _with_isolation(
    results: tuple[CheckResult, ...], isolation: Isolation
) -> tuple[CheckResult, ...]:
    lines = isolation.details()
    return tuple(replace(r, details=r.details + lines) for r in results)


def run_p7_code(spec: P7Spec, code: CodeSubmission, folder: Path, refusal: str | None) -> P7Run:
    if refusal is not None:
        return P7Run(tuple(s.unscored(Status.SKIPPED, refusal) for s in code_slots(spec)), {})
    outcome = run_p7(code, folder, spec)
    isolation = Isolation()
    if outcome is not None:
        isolation.record(outcome)
    judged = judge_c3(spec, outcome)
    return P7Run(_with_isolation(judged.results, isolation), judged.counts)


def cross_check_claims(
    claims: tuple[CheckResult, ...], answer: Answer | None, measured: Mapping[LossKind, float]
) -> tuple[CheckResult, ...]:
    """Beside each claimed accuracy, what the grader measured (the square loss: the student's
    own loss; the logistic loss: the baseline trained with the reference protocol)."""
    if answer is None or not isinstance(answer.value, AccuracyAnswer) or not measured:
        return claims
    lines = tuple(
        f"Cross-check, {LOSS_NAMES[kind]}: " + compare_claims_with_measured(claim, measured[kind])
        for kind, claim in answer.value.claims
        if kind in measured
    )
    return tuple(replace(c, details=c.details + lines) for c in claims)


def cross_check_counts(
    counts: tuple[CheckResult, ...],
    answers: Mapping[CountName, Answer | None],
    measured: Mapping[CountName, int],
) -> tuple[CheckResult, ...]:
    """A count the write-up states beside the count of the module the student submitted."""
    checked = []
    for result in counts:
        name = CountName(result.test_id.removeprefix("P7 "))
        answer = answers.get(name)
        built = measured.get(name)
        if built is None or answer is None or not isinstance(answer.value, CountAnswer):
            checked.append(result)
            continue
        claimed = answer.value.value
        module = "C3_layer()" if name is CountName.C3_ORIGINAL else "LeNet()"
        line = (
            f"Cross-check: the submitted {module} has {built} parameters, as stated."
            if claimed == built
            else f"Cross-check: the write-up states {claimed}, but the submitted {module} "
            f"has {built} parameters."
        )
        checked.append(replace(result, details=result.details + (line,)))
    return tuple(checked)
