"""The gradebook's tables, as numbered migrations, and the rows read back from them."""

from __future__ import annotations

from dataclasses import dataclass

from grader.models import CheckResult, Outcome, ProblemId, Status, Visibility, outcome_of


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


# Append only: a released migration is never edited, a change is a new version.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "runs, gradings, checks and the current grading of each student",
        (
            """CREATE TABLE runs (
                id INTEGER PRIMARY KEY,
                uid TEXT NOT NULL UNIQUE,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                reference_hash TEXT NOT NULL,
                reference_version TEXT NOT NULL,
                reference_title TEXT NOT NULL,
                grader_version TEXT NOT NULL,
                settings TEXT NOT NULL,
                shard TEXT
            )""",
            """CREATE TABLE gradings (
                id INTEGER PRIMARY KEY,
                uid TEXT NOT NULL UNIQUE,
                run_id INTEGER NOT NULL REFERENCES runs(id),
                student TEXT NOT NULL,
                graded_at TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                reference_hash TEXT NOT NULL,
                manual_hash TEXT NOT NULL,
                cache_key TEXT NOT NULL,
                score REAL,
                max_score REAL,
                error TEXT,
                report_dir TEXT,
                input_errors TEXT NOT NULL,
                notes TEXT NOT NULL
            )""",
            "CREATE INDEX gradings_student ON gradings(student)",
            """CREATE TABLE checks (
                grading_id INTEGER NOT NULL REFERENCES gradings(id),
                position INTEGER NOT NULL,
                test_id TEXT NOT NULL,
                problem TEXT NOT NULL,
                title TEXT NOT NULL,
                status TEXT NOT NULL,
                score REAL,
                max_score REAL NOT NULL,
                outcome TEXT NOT NULL,
                mistake TEXT,
                feedback TEXT NOT NULL,
                visibility TEXT NOT NULL,
                PRIMARY KEY (grading_id, position)
            )""",
            """CREATE TABLE current (
                student TEXT PRIMARY KEY,
                grading_id INTEGER NOT NULL REFERENCES gradings(id)
            )""",
        ),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version


@dataclass(frozen=True)
class RunInfo:
    id: int
    uid: str
    started_at: str
    finished_at: str | None  # None: the run was interrupted
    reference_hash: str
    reference_version: str
    reference_title: str
    grader_version: str
    settings: str
    shard: str | None


@dataclass(frozen=True)
class StoredCheck:
    test_id: str
    problem: ProblemId
    title: str
    status: Status
    score: float | None  # None while a person has not scored it
    max_score: float
    mistake: str | None
    feedback: str
    visibility: Visibility

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.status)

    @property
    def full_marks(self) -> bool:
        # Asked of the CheckResult it was stored from, so the rule is written once.
        fields = (self.test_id, self.problem, self.title, self.status, self.score)
        return CheckResult(*fields, self.max_score, self.feedback).full_marks


@dataclass(frozen=True)
class StoredGrading:
    """One grading of one student, as stored: what was graded, against what, and the result."""

    id: int
    uid: str
    run_id: int
    student: str
    graded_at: str
    content_hash: str
    reference_hash: str
    manual_hash: str
    cache_key: str
    score: float | None  # None when the student could not be graded at all
    max_score: float | None
    error: str | None
    report_dir: str | None
    input_errors: tuple[str, ...]
    notes: tuple[str, ...]
    checks: tuple[StoredCheck, ...]

    def problem_score(self, problem: ProblemId) -> float | None:
        """None when the problem has no result or an item still waits for a person."""
        mine = [c for c in self.checks if c.problem is problem]
        if not mine or any(c.score is None for c in mine):
            return None
        return sum(c.score or 0.0 for c in mine)

    def problem_max(self, problem: ProblemId) -> float | None:
        mine = [c for c in self.checks if c.problem is problem]
        return sum(c.max_score for c in mine) if mine else None
