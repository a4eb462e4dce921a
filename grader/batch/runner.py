"""Grading a whole class: hash first, reuse what is unchanged, grade the rest in parallel.

Planning reads only files and the gradebook (no torch), so a run over an unchanged class
costs a hash of each submission and nothing more. Each graded student is committed to the
gradebook as soon as its reports are written, so a killed run loses nothing finished.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.api import find_submissions, grade_one
from grader.batch.shard import Shard
from grader.batch.workers import GradeFn, Task, WorkerJob, WorkerPool
from grader.gradebook import (
    CacheKey,
    Gradebook,
    StoredGrading,
    manual_scores_hash,
    submission_hash,
)
from grader.manual_scores import manual_scores_path
from grader.pipeline import DEFAULT_OPTIONS, GradeOptions
from grader.reference import Reference
from grader.reporting.version import grader_version

RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class BatchSettings:
    jobs: int | None = None  # None: one worker per core
    force: bool = False  # grade again even when a stored result could be reused
    timeout_s: float = 900.0  # per student, on top of the sandbox's own limits
    shard: Shard | None = None
    preload: tuple[str, ...] = ("torch",)  # imported once per worker

    @property
    def workers(self) -> int:
        return self.jobs if self.jobs is not None else (os.cpu_count() or 1)


DEFAULT_SETTINGS = BatchSettings()


@dataclass(frozen=True)
class PlannedStudent:
    folder: Path
    key: CacheKey
    stored: StoredGrading | None  # a result that can be reused as is

    @property
    def student(self) -> str:
        return self.folder.name


@dataclass(frozen=True)
class ClassPlan:
    students: tuple[PlannedStudent, ...]
    outside_shard: int  # students in the folder that another shard grades

    @property
    def to_grade(self) -> tuple[PlannedStudent, ...]:
        return tuple(s for s in self.students if s.stored is None)


@dataclass(frozen=True)
class StudentOutcome:
    student: str
    grading: StoredGrading
    reused: bool
    seconds: float

    @property
    def failed(self) -> bool:
        return self.grading.error is not None


@dataclass(frozen=True)
class ClassRun:
    run_id: int
    outcomes: tuple[StudentOutcome, ...]  # by student name
    seconds: float
    outside_shard: int

    @property
    def reused(self) -> int:
        return sum(o.reused for o in self.outcomes)

    @property
    def failures(self) -> tuple[str, ...]:
        return tuple(f"{o.student}: {o.grading.error}" for o in self.outcomes if o.failed)

    @property
    def input_errors(self) -> tuple[str, ...]:
        return tuple(f"{o.student}: {e}" for o in self.outcomes for e in o.grading.input_errors)


def settings_text(options: GradeOptions) -> str:
    """What else decides a result besides the inputs: the grader and its options."""
    return f"grader {grader_version()}; {options!r}"


def cache_key(folder: Path, reference: Reference, out_dir: Path, options: GradeOptions) -> CacheKey:
    return CacheKey(
        content_hash=submission_hash(folder),
        reference_hash=reference.content_hash,
        manual_hash=manual_scores_hash(manual_scores_path(out_dir, folder.name)),
        settings=settings_text(options),
    )


def _reusable(stored: StoredGrading | None) -> StoredGrading | None:
    # Reports deleted since: grade again rather than leave the student without one.
    if stored is None or stored.report_dir is None:
        return None
    return stored if (Path(stored.report_dir) / RESULTS_FILE).is_file() else None


def plan_class(
    class_dir: Path,
    reference: Reference,
    out_dir: Path,
    gradebook: Gradebook,
    options: GradeOptions = DEFAULT_OPTIONS,
    settings: BatchSettings = DEFAULT_SETTINGS,
) -> ClassPlan:
    """Which students need grading; raises SubmissionNotFound for a bad class folder."""
    folders = find_submissions(class_dir)
    mine = [f for f in folders if settings.shard is None or settings.shard.holds(f.name)]
    planned = []
    for folder in mine:
        key = cache_key(folder, reference, out_dir, options)
        stored = None if settings.force else _reusable(gradebook.cached(folder.name, key))
        planned.append(PlannedStudent(folder, key, stored))
    return ClassPlan(tuple(planned), len(folders) - len(mine))


def run_plan(
    plan: ClassPlan,
    reference: Reference,
    out_dir: Path,
    gradebook: Gradebook,
    options: GradeOptions = DEFAULT_OPTIONS,
    settings: BatchSettings = DEFAULT_SETTINGS,
    grade_fn: GradeFn = grade_one,
    on_done: Callable[[StudentOutcome], None] | None = None,
) -> ClassRun:
    start = time.monotonic()
    run_id = gradebook.start_run(
        reference_hash=reference.content_hash,
        reference_version=reference.version,
        reference_title=reference.title,
        grader_version=grader_version(),
        settings=settings_text(options),
        shard=None if settings.shard is None else str(settings.shard),
    )
    outcomes: list[StudentOutcome] = []

    def finished(outcome: StudentOutcome) -> None:
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)

    for s in plan.students:
        if s.stored is not None:
            finished(StudentOutcome(s.student, s.stored, reused=True, seconds=0.0))
    todo = plan.to_grade
    if todo:
        job = WorkerJob(grade_fn, reference, out_dir, options, settings.preload)
        pool = WorkerPool(job, min(settings.workers, len(todo)), settings.timeout_s)
        for done in pool.run([Task(i, s.folder) for i, s in enumerate(todo)]):
            planned = todo[done.index]
            report = done.report
            grading = gradebook.record(
                run_id, planned.student, planned.key, report.result, report.error, report.report_dir
            )
            finished(StudentOutcome(planned.student, grading, reused=False, seconds=done.seconds))
    gradebook.finish_run(run_id)
    return ClassRun(
        run_id,
        tuple(sorted(outcomes, key=lambda o: o.student)),
        time.monotonic() - start,
        plan.outside_shard,
    )


def grade_class(
    class_dir: Path,
    reference: Reference,
    out_dir: Path,
    gradebook: Gradebook,
    options: GradeOptions = DEFAULT_OPTIONS,
    settings: BatchSettings = DEFAULT_SETTINGS,
    grade_fn: GradeFn = grade_one,
    on_done: Callable[[StudentOutcome], None] | None = None,
) -> ClassRun:
    """Plan, then grade what is not reusable; every result ends up in the gradebook."""
    plan = plan_class(class_dir, reference, out_dir, gradebook, options, settings)
    return run_plan(plan, reference, out_dir, gradebook, options, settings, grade_fn, on_done)
