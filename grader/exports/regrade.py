"""Regrade preview: after the reference changed, whose scores would change, by how much and
why, before anything replaces the stored results.

The class is graded against the new reference in a workspace beside the reports
(<out>/.regrade/<reference hash>/, with its own gradebook, so a second preview or the
`--apply` run reuses that work), then diffed against the gradebook's current results.
Applying copies the new reports over the old ones and imports the new gradings.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.api import find_submissions, grade_one
from grader.batch.runner import (
    DEFAULT_SETTINGS,
    BatchSettings,
    ClassRun,
    StudentOutcome,
    grade_class,
)
from grader.batch.workers import GradeFn
from grader.gradebook import Gradebook, StoredCheck, StoredGrading
from grader.manual_scores import MANUAL_FILE
from grader.models import Status
from grader.pipeline import DEFAULT_OPTIONS, GradeOptions
from grader.reference import Reference
from grader.reporting.atomic import write_atomic
from grader.reporting.text import points

WORKSPACE = ".regrade"
_SAME = 1e-9


@dataclass(frozen=True)
class CheckChange:
    test_id: str
    old_status: Status | None  # None: the check did not exist before
    new_status: Status | None  # None: the check no longer exists
    old_score: float | None
    new_score: float | None
    old_max: float | None
    new_max: float | None
    old_feedback: str
    new_feedback: str


@dataclass(frozen=True)
class StudentChange:
    student: str
    old_score: float | None  # None: not graded before, or could not be graded
    new_score: float | None
    old_error: str | None
    new_error: str | None
    checks: tuple[CheckChange, ...]

    @property
    def delta(self) -> float | None:
        if self.old_score is None or self.new_score is None:
            return None
        return self.new_score - self.old_score


@dataclass(frozen=True)
class RegradePreview:
    workspace: Path
    reference_hash: str
    run: ClassRun
    changes: tuple[StudentChange, ...]  # biggest score change first
    unchanged: int


def workspace_of(out_dir: Path, reference: Reference) -> Path:
    return out_dir / WORKSPACE / reference.content_hash[:16]


def _score_differs(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is not b
    return abs(a - b) > _SAME


def _check_changes(old: tuple[StoredCheck, ...], new: tuple[StoredCheck, ...]) -> list[CheckChange]:
    before = {c.test_id: c for c in old}
    after = {c.test_id: c for c in new}
    changes = []
    for test_id in [*after, *(t for t in before if t not in after)]:
        o, n = before.get(test_id), after.get(test_id)
        if (
            o is not None
            and n is not None
            and o.status is n.status
            and not _score_differs(o.score, n.score)
            and not _score_differs(o.max_score, n.max_score)
            and o.feedback == n.feedback
            and o.mistake == n.mistake
        ):
            continue
        changes.append(
            CheckChange(
                test_id,
                None if o is None else o.status,
                None if n is None else n.status,
                None if o is None else o.score,
                None if n is None else n.score,
                None if o is None else o.max_score,
                None if n is None else n.max_score,
                "" if o is None else o.feedback,
                "" if n is None else n.feedback,
            )
        )
    return changes


def diff(old: StoredGrading | None, new: StoredGrading) -> StudentChange | None:
    """What changed for one student; None when nothing a person would notice did."""
    checks = _check_changes(() if old is None else old.checks, new.checks)
    old_error = None if old is None else old.error
    if old is not None and not checks and old_error == new.error:
        return None
    return StudentChange(
        new.student,
        None if old is None else old.score,
        new.score,
        old_error,
        new.error,
        tuple(checks),
    )


def _copy_manual_scores(out_dir: Path, workspace: Path, students: list[str]) -> None:
    # grade_one reads a student's manual scores from beside the reports: the workspace needs
    # them too, or every hand-graded P4 would show as a change.
    for student in students:
        source = out_dir / student / MANUAL_FILE
        if source.is_file():
            (workspace / student).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, workspace / student / MANUAL_FILE)


def preview_regrade(
    class_dir: Path,
    reference: Reference,
    out_dir: Path,
    gradebook: Gradebook,
    options: GradeOptions = DEFAULT_OPTIONS,
    settings: BatchSettings = DEFAULT_SETTINGS,
    grade_fn: GradeFn = grade_one,
    on_done: Callable[[StudentOutcome], None] | None = None,
) -> RegradePreview:
    workspace = workspace_of(out_dir, reference)
    students = [f.name for f in find_submissions(class_dir)]
    _copy_manual_scores(out_dir, workspace, students)
    with Gradebook(workspace / "gradebook.sqlite") as scratch:
        run = grade_class(
            class_dir, reference, workspace, scratch, options, settings, grade_fn, on_done
        )
    changes = []
    for outcome in run.outcomes:
        change = diff(gradebook.current_of(outcome.student), outcome.grading)
        if change is not None:
            changes.append(change)
    changes.sort(key=lambda c: (-abs(c.delta or 0.0), c.student))
    return RegradePreview(
        workspace, reference.content_hash, run, tuple(changes), len(run.outcomes) - len(changes)
    )


def apply_regrade(preview: RegradePreview, out_dir: Path, gradebook: Gradebook) -> int:
    """Copy the new reports over the old ones, then store the new gradings (each student's
    reports are in place before its grading becomes current). A student the new reference
    could not grade keeps the old results. Returns how many students were updated."""
    students = [o.student for o in preview.run.outcomes if not o.failed]
    for student in students:
        source = preview.workspace / student
        if not source.is_dir():
            continue
        target = out_dir / student
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(source.iterdir()):
            if path.is_file() and path.name != MANUAL_FILE and not path.name.startswith("."):
                write_atomic(target / path.name, path.read_text(encoding="utf-8"))
    with Gradebook(preview.workspace / "gradebook.sqlite") as scratch:
        gradebook.import_from(scratch, frozenset(students), report_root=out_dir)
    shutil.rmtree(preview.workspace)
    return len(students)


def _status(status: Status | None, score: float | None, max_score: float | None) -> str:
    if status is None:
        return "absent"
    return f"{status.value} {points(score, missing='-')}/{points(max_score, missing='-')}"


def render_preview(preview: RegradePreview, applying: bool = False) -> str:
    if not preview.changes:
        return f"No score or feedback would change ({preview.unchanged} students checked)."
    rows = [("student", "old", "new", "change", "checks changed")]
    for c in preview.changes:
        delta = (
            "n/a" if c.delta is None else ("+" if c.delta >= 0 else "-") + points(abs(c.delta), "")
        )
        rows.append(
            (
                c.student,
                points(c.old_score, missing="-"),
                points(c.new_score, missing="-"),
                delta,
                ", ".join(k.test_id for k in c.checks) or (c.new_error or c.old_error or ""),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join([r[0].ljust(widths[0]), *(r[i].rjust(widths[i]) for i in (1, 2, 3)), r[4]])
        for r in rows
    ]
    lines.append("")
    for c in preview.changes:
        lines.append(f"{c.student}:")
        if c.new_error:
            lines.append(f"  could not be graded: {c.new_error}")
        for k in c.checks:
            lines.append(
                f"  {k.test_id}: {_status(k.old_status, k.old_score, k.old_max)} -> "
                f"{_status(k.new_status, k.new_score, k.new_max)}"
            )
            if k.old_feedback != k.new_feedback:
                lines.append(f"    old feedback: {k.old_feedback}")
                lines.append(f"    new feedback: {k.new_feedback}")
    lines.append(f"{len(preview.changes)} students would change, {preview.unchanged} would not.")
    if not applying:
        lines.append("Nothing has been stored: run again with --apply to store the new results.")
    return "\n".join(lines)
