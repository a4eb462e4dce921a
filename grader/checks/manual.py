"""P4: never scored by the grader. The rubric is shown; a person's score is taken as given."""

from __future__ import annotations

from grader.models import CheckResult, ManualScore, ProblemId, Source, Status
from grader.reference import P4Spec

TEST_ID = "P4"


def check_p4(
    spec: P4Spec, proof: Source | None, manual: ManualScore | None, writeup_read: bool
) -> CheckResult:
    """`writeup_read`: a write-up was found and read, so a missing proof is really missing."""
    rubric = tuple(f"Rubric: {r}" for r in spec.rubric)
    sources = () if proof is None else (proof,)
    if manual is not None:
        score = min(manual.score, spec.points)
        over = (
            f" (entered {manual.score:g}, capped at {spec.points:g})"
            if manual.score > spec.points
            else ""
        )
        who = f" by {manual.grader}" if manual.grader else ""
        comment = f" Comment: {manual.comment}" if manual.comment else ""
        return CheckResult(
            TEST_ID,
            ProblemId.P4,
            spec.title,
            Status.MANUAL_GRADED,
            score,
            spec.points,
            f"Scored{who}: {score:g}/{spec.points:g}{over}.{comment}",
            sources=sources,
            visibility=spec.visibility,
            details=rubric,
        )
    if proof is None and writeup_read:
        return CheckResult(
            TEST_ID,
            ProblemId.P4,
            spec.title,
            Status.MISSING,
            0.0,
            spec.points,
            "No proof was found in the write-up. A person may still enter a score.",
            visibility=spec.visibility,
            details=rubric,
        )
    where = "the proof shown below" if proof else "the submission (no write-up text was read)"
    return CheckResult(
        TEST_ID,
        ProblemId.P4,
        spec.title,
        Status.MANUAL_PENDING,
        None,
        spec.points,
        f"A proof is graded by a person: score pending. Read {where} against the rubric "
        "and enter the score in manual_scores.toml beside this report.",
        sources=sources,
        visibility=spec.visibility,
        details=rubric,
    )
