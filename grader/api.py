"""The small Python API the CLI is a thin shell over (and that tests call directly)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.cache import cache_root
from grader.checks.common import ReferenceCheck
from grader.manual_scores import (
    ManualScoresError,
    manual_scores_path,
    manual_template,
    read_manual_scores,
)
from grader.models import CheckResult, ProblemId, Status, SubmissionResult
from grader.pipeline import DEFAULT_OPTIONS, GradeOptions, SubmissionNotFound, grade_submission
from grader.reference import Reference

# Files that mark a folder as one student's submission rather than a folder of them.
SUBMISSION_SUFFIXES = {".toml", ".md", ".tex", ".py", ".ipynb", ".txt", ".markdown"}


@dataclass(frozen=True)
class StudentReport:
    student: str
    folder: Path
    result: SubmissionResult | None  # None only if even the fallback report failed
    report_dir: Path | None
    error: str | None  # a message when this student could not be graded at all


@dataclass(frozen=True)
class BatchResult:
    reports: tuple[StudentReport, ...]

    @property
    def input_errors(self) -> tuple[str, ...]:
        return tuple(
            f"{r.student}: {e}"
            for r in self.reports
            if r.result is not None
            for e in r.result.input_errors
        )

    @property
    def failures(self) -> tuple[str, ...]:
        return tuple(f"{r.student}: {r.error}" for r in self.reports if r.error)


def is_submission(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in SUBMISSION_SUFFIXES for p in folder.iterdir())


def find_submissions(path: Path) -> tuple[Path, ...]:
    """One submission folder, or the submission folders inside a class folder (sorted)."""
    if not path.exists():
        raise SubmissionNotFound(f"no such folder: {path}")
    if not path.is_dir():
        raise SubmissionNotFound(f"{path} is a file; give a submission folder or a class folder")
    if is_submission(path):
        return (path,)
    found = tuple(
        sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    )
    if not found:
        raise SubmissionNotFound(
            f"{path} holds no submission: expected answers.toml, a write-up (.md/.tex) or "
            "code (.py/.ipynb), or folders of them"
        )
    return found


def with_answers_file_problems(result: SubmissionResult) -> SubmissionResult:
    """answers.toml is meant to be machine-readable: an entry it cannot read is an input
    error the instructor hears about (non-zero exit), not only a 'needs review' row."""
    unreadable = [
        _describe_unreadable(c)
        for c in result.checks()
        if c.status is Status.NEEDS_REVIEW and any(s.file == "answers.toml" for s in c.sources)
    ]
    if not unreadable:
        return result
    from dataclasses import replace

    return replace(result, input_errors=result.input_errors + tuple(unreadable))


def _describe_unreadable(check: CheckResult) -> str:
    source = next(s for s in check.sources if s.file == "answers.toml")
    return f"{source.describe()} ({check.test_id}): {check.feedback}"


def grade_one(
    folder: Path, reference: Reference, out_dir: Path, options: GradeOptions
) -> StudentReport:
    """Grade and write the reports of one student; never raises for that student's faults."""
    from grader.reporting import write_reports

    student = folder.name
    try:
        manual_path = manual_scores_path(out_dir, student)
        manual = read_manual_scores(manual_path)
        result = with_answers_file_problems(grade_submission(folder, reference, manual, options))
        paths = write_reports(result, out_dir, reference.title, reference.content_hash)
        _ensure_manual_template(result, manual_path, reference)
        return StudentReport(student, folder, result, paths.html.parent, None)
    except ManualScoresError as exc:
        return StudentReport(student, folder, None, None, str(exc))
    except Exception as exc:  # noqa: BLE001 - one student's failure never stops the others
        return StudentReport(student, folder, None, None, f"{type(exc).__name__}: {exc}")


def _ensure_manual_template(result: SubmissionResult, path: Path, reference: Reference) -> None:
    """Leave the instructor a file to fill in for every item a person grades."""
    if path.exists():
        return
    pending = [c for c in result.checks() if c.problem is ProblemId.P4]
    if not pending:
        return
    items = tuple((c.test_id, c.max_score, reference.p4.rubric) for c in pending)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(manual_template(result.student, items), encoding="utf-8")


def grade_path(
    path: Path,
    reference: Reference,
    out_dir: Path,
    options: GradeOptions = DEFAULT_OPTIONS,
    on_done: Callable[[StudentReport], None] | None = None,
) -> BatchResult:
    """Grade one submission folder or every submission in a class folder, one by one."""
    reports = []
    for folder in find_submissions(path):
        report = grade_one(folder, reference, out_dir, options)
        reports.append(report)
        if on_done is not None:
            on_done(report)
    return BatchResult(tuple(reports))


class ReferenceBroken(Exception):
    """The reference fails its own verification: grading against it would mislead."""

    def __init__(self, failures: tuple[ReferenceCheck, ...]) -> None:
        self.failures = failures
        lines = "; ".join(f"{c.problem.value} {c.name}: {c.detail}" for c in failures[:5])
        super().__init__(
            f"the reference fails {len(failures)} of its own checks ({lines}); "
            "run `grade check-reference` for the table"
        )


def verified_marker(reference: Reference) -> Path:
    from grader.reporting.version import grader_version

    key = f"{reference.content_hash}-{grader_version()}".replace(" ", "_").replace("/", "_")
    return cache_root() / "verified-references" / key


def ensure_reference_verified(reference: Reference) -> None:
    """Before grading, verify a reference not seen before (an instructor's edit is caught
    at once, not after a class was graded against it). Remembered per content hash."""
    marker = verified_marker(reference)
    if marker.exists():
        return
    failures = tuple(c for c in check_reference(reference) if not c.passed)
    if failures:
        raise ReferenceBroken(failures)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(reference.path), encoding="utf-8")
    except OSError:
        pass  # only a cache: verified again next time


def check_reference(reference: Reference) -> tuple[ReferenceCheck, ...]:
    """Re-derive every reference answer independently (torch, sympy)."""
    from grader.checks import counts, filters, jacobians, pooling
    from grader.checks.loss_reference import verify_p5_reference

    checks: list[ReferenceCheck] = []
    steps: Iterable[Callable[[], list[ReferenceCheck]]] = (
        lambda: filters.verify_p1_reference(reference.p1),
        lambda: pooling.verify_p2_reference(reference.p2),
        lambda: filters.verify_p3_reference(reference.p3),
        lambda: verify_p5_reference(reference.p5),
        lambda: jacobians.verify_p6_reference(reference.p6),
        lambda: counts.verify_p7_reference(reference.p7),
    )
    for problem, step in zip(
        (ProblemId.P1, ProblemId.P2, ProblemId.P3, ProblemId.P5, ProblemId.P6, ProblemId.P7),
        steps,
        strict=True,
    ):
        try:
            checks.extend(step())
        except Exception as exc:  # noqa: BLE001 - a broken edit must be reported, not crash
            checks.append(
                ReferenceCheck(problem, "verification ran", False, f"{type(exc).__name__}: {exc}")
            )
    return tuple(checks)
