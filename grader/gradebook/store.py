"""The gradebook database (SQLite, standard library): runs, gradings and their checks.

Each student's grading is written in one transaction, after its reports are on disk, so a
killed grader leaves every student either fully recorded or not at all. Gradings are never
overwritten: `current` points at each student's latest one, older ones stay as history.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol

from grader.gradebook.hashing import CacheKey
from grader.gradebook.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    RunInfo,
    StoredCheck,
    StoredGrading,
)
from grader.models import Outcome, ProblemId, Status, SubmissionResult, Visibility

DEFAULT_GRADEBOOK = Path("reports") / "gradebook.sqlite"


class _CheckLike(Protocol):
    # CheckResult (fresh) and StoredCheck (copied between gradebooks) both fit.
    @property
    def test_id(self) -> str: ...
    @property
    def problem(self) -> ProblemId: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def score(self) -> float | None: ...
    @property
    def max_score(self) -> float: ...
    @property
    def outcome(self) -> Outcome: ...
    @property
    def mistake(self) -> str | None: ...
    @property
    def feedback(self) -> str: ...
    @property
    def visibility(self) -> Visibility: ...


def _insert_checks(db: sqlite3.Connection, grading_id: int, checks: Iterable[_CheckLike]) -> None:
    db.executemany(
        "INSERT INTO checks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                grading_id,
                position,
                c.test_id,
                c.problem.value,
                c.title,
                c.status.value,
                c.score,
                c.max_score,
                c.outcome.value,
                c.mistake,
                c.feedback,
                c.visibility.value,
            )
            for position, c in enumerate(checks)
        ],
    )


def _insert_grading(
    db: sqlite3.Connection,
    *,
    uid: str,
    run_id: int,
    student: str,
    graded_at: str,
    content_hash: str,
    reference_hash: str,
    manual_hash: str,
    cache_key: str,
    score: float | None,
    max_score: float | None,
    error: str | None,
    report_dir: str | None,
    input_errors: Sequence[str],
    notes: Sequence[str],
) -> int:
    """One row of `gradings` (its checks go in apart, with _insert_checks); returns its id."""
    cursor = db.execute(
        "INSERT INTO gradings (uid, run_id, student, graded_at, content_hash, "
        "reference_hash, manual_hash, cache_key, score, max_score, error, report_dir, "
        "input_errors, notes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            uid,
            run_id,
            student,
            graded_at,
            content_hash,
            reference_hash,
            manual_hash,
            cache_key,
            score,
            max_score,
            error,
            report_dir,
            json.dumps(list(input_errors)),
            json.dumps(list(notes)),
        ),
    )
    return int(cursor.lastrowid or 0)


class GradebookError(Exception):
    """The gradebook file cannot be used; the message names the file and why."""


def _now() -> str:
    # Microseconds and UTC: gradings sort by time across machines (CI shards).
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Gradebook:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE.
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{path} is not a usable gradebook: {exc}") from None
        except OSError as exc:
            raise GradebookError(f"cannot open the gradebook {path}: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- schema -----------------------------------------------------------------------

    def _migrate(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if tables and "migrations" not in tables:
            raise GradebookError(
                f"{self.path} is an SQLite file but not a gradebook (no migrations table)"
            )
        if not tables:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS migrations ("
                "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        done = {r[0] for r in self._db.execute("SELECT version FROM migrations")}
        newest = max(done, default=0)
        if newest > SCHEMA_VERSION:
            raise GradebookError(
                f"{self.path} has schema version {newest}, made by a newer grader "
                f"(this one knows up to {SCHEMA_VERSION}): upgrade the grader"
            )
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            with self._transaction() as db:
                for statement in migration.statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO migrations VALUES (?, ?, ?)",
                    (migration.version, migration.description, _now()),
                )

    def schema_version(self) -> int:
        row = self._db.execute("SELECT MAX(version) FROM migrations").fetchone()
        return int(row[0] or 0)

    # --- runs -------------------------------------------------------------------------

    def start_run(
        self,
        *,
        reference_hash: str,
        reference_version: str,
        reference_title: str,
        grader_version: str,
        settings: str,
        shard: str | None = None,
    ) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (uid, started_at, reference_hash, reference_version, "
                "reference_title, grader_version, settings, shard) VALUES (?,?,?,?,?,?,?,?)",
                (
                    uuid.uuid4().hex,
                    _now(),
                    reference_hash,
                    reference_version,
                    reference_title,
                    grader_version,
                    settings,
                    shard,
                ),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (_now(), run_id))

    def runs(self) -> tuple[RunInfo, ...]:
        rows = self._db.execute(
            "SELECT id, uid, started_at, finished_at, reference_hash, reference_version, "
            "reference_title, grader_version, settings, shard FROM runs ORDER BY id"
        ).fetchall()
        return tuple(RunInfo(*row) for row in rows)

    # --- gradings ---------------------------------------------------------------------

    def record(
        self,
        run_id: int,
        student: str,
        key: CacheKey,
        result: SubmissionResult | None,
        error: str | None,
        report_dir: Path | None,
    ) -> StoredGrading:
        """Store one student's grading and make it current, in one transaction."""
        with self._transaction() as db:
            grading_id = _insert_grading(
                db,
                uid=uuid.uuid4().hex,
                run_id=run_id,
                student=student,
                graded_at=_now(),
                content_hash=key.content_hash,
                reference_hash=key.reference_hash,
                manual_hash=key.manual_hash,
                cache_key=key.digest,
                score=None if result is None else result.score,
                max_score=None if result is None else result.max_score,
                error=error,
                report_dir=None if report_dir is None else str(report_dir),
                input_errors=result.input_errors if result else (),
                notes=result.notes if result else (),
            )
            if result is not None:
                _insert_checks(db, grading_id, result.checks())
            db.execute("INSERT OR REPLACE INTO current VALUES (?, ?)", (student, grading_id))
        return self._grading(grading_id)

    def cached(self, student: str, key: CacheKey) -> StoredGrading | None:
        """The current grading if it was made from exactly these inputs and succeeded."""
        row = self._db.execute(
            "SELECT g.id FROM current c JOIN gradings g ON g.id = c.grading_id "
            "WHERE c.student = ? AND g.cache_key = ? AND g.error IS NULL",
            (student, key.digest),
        ).fetchone()
        return None if row is None else self._grading(int(row[0]))

    def current(self) -> tuple[StoredGrading, ...]:
        """Every student's latest grading, by student name."""
        rows = self._db.execute(
            "SELECT grading_id FROM current ORDER BY student COLLATE BINARY"
        ).fetchall()
        return tuple(self._grading(int(r[0])) for r in rows)

    def current_of(self, student: str) -> StoredGrading | None:
        row = self._db.execute(
            "SELECT grading_id FROM current WHERE student = ?", (student,)
        ).fetchone()
        return None if row is None else self._grading(int(row[0]))

    def grading_count(self, student: str | None = None) -> int:
        if student is None:
            row = self._db.execute("SELECT COUNT(*) FROM gradings").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM gradings WHERE student = ?", (student,)
            ).fetchone()
        return int(row[0])

    def _grading(self, grading_id: int) -> StoredGrading:
        row = self._db.execute(
            "SELECT id, uid, run_id, student, graded_at, content_hash, reference_hash, "
            "manual_hash, cache_key, score, max_score, error, report_dir, input_errors, notes "
            "FROM gradings WHERE id = ?",
            (grading_id,),
        ).fetchone()
        checks = tuple(
            StoredCheck(
                test_id=c[0],
                problem=ProblemId(c[1]),
                title=c[2],
                status=Status(c[3]),
                score=c[4],
                max_score=c[5],
                mistake=c[6],
                feedback=c[7],
                visibility=Visibility(c[8]),
            )
            for c in self._db.execute(
                "SELECT test_id, problem, title, status, score, max_score, mistake, feedback, "
                "visibility FROM checks WHERE grading_id = ? ORDER BY position",
                (grading_id,),
            )
        )
        return StoredGrading(
            id=row[0],
            uid=row[1],
            run_id=row[2],
            student=row[3],
            graded_at=row[4],
            content_hash=row[5],
            reference_hash=row[6],
            manual_hash=row[7],
            cache_key=row[8],
            score=row[9],
            max_score=row[10],
            error=row[11],
            report_dir=row[12],
            input_errors=tuple(json.loads(row[13])),
            notes=tuple(json.loads(row[14])),
            checks=checks,
        )

    # --- combining gradebooks (CI shards, regrade apply) --------------------------------

    def import_from(
        self,
        source: Gradebook,
        students: frozenset[str] | None = None,
        report_root: Path | None = None,
    ) -> int:
        """Copy runs and gradings not already here (matched by uid, so importing twice
        changes nothing); a student's current grading becomes the newest one either side
        has. `report_root`: the reports were moved to report_root/<student>. Returns how
        many gradings were copied."""
        copied = 0
        run_ids: dict[int, int] = {}
        for run in source.runs():
            with self._transaction() as db:
                db.execute(
                    "INSERT OR IGNORE INTO runs (uid, started_at, finished_at, reference_hash, "
                    "reference_version, reference_title, grader_version, settings, shard) "
                    "VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        run.uid,
                        run.started_at,
                        run.finished_at,
                        run.reference_hash,
                        run.reference_version,
                        run.reference_title,
                        run.grader_version,
                        run.settings,
                        run.shard,
                    ),
                )
                here = db.execute("SELECT id FROM runs WHERE uid = ?", (run.uid,)).fetchone()
            run_ids[run.id] = int(here[0])
        ids = source._db.execute("SELECT id FROM gradings ORDER BY id").fetchall()
        for (source_id,) in ids:
            grading = source._grading(int(source_id))
            if students is not None and grading.student not in students:
                continue
            if report_root is not None and grading.report_dir is not None:
                grading = replace(grading, report_dir=str(report_root / grading.student))
            if self._copy_grading(grading, run_ids[grading.run_id]):
                copied += 1
        return copied

    def _copy_grading(self, g: StoredGrading, run_id: int) -> bool:
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM gradings WHERE uid = ?", (g.uid,)).fetchone():
                return False
            new_id = _insert_grading(
                db,
                uid=g.uid,
                run_id=run_id,
                student=g.student,
                graded_at=g.graded_at,
                content_hash=g.content_hash,
                reference_hash=g.reference_hash,
                manual_hash=g.manual_hash,
                cache_key=g.cache_key,
                score=g.score,
                max_score=g.max_score,
                error=g.error,
                report_dir=g.report_dir,
                input_errors=g.input_errors,
                notes=g.notes,
            )
            _insert_checks(db, new_id, g.checks)
            mine = db.execute(
                "SELECT g.graded_at, g.uid FROM current c JOIN gradings g ON g.id = c.grading_id "
                "WHERE c.student = ?",
                (g.student,),
            ).fetchone()
            if mine is None or (g.graded_at, g.uid) > (mine[0], mine[1]):
                db.execute("INSERT OR REPLACE INTO current VALUES (?, ?)", (g.student, new_id))
        return True

    def problems(self) -> tuple[str, ...]:
        """Consistency faults (empty when sound): SQLite's own check, dangling references,
        a current grading that is not the student's, checks of a failed grading."""
        found = [r[0] for r in self._db.execute("PRAGMA integrity_check") if r[0] != "ok"]
        found += [f"foreign key: {tuple(r)}" for r in self._db.execute("PRAGMA foreign_key_check")]
        for (student,) in self._db.execute(
            "SELECT c.student FROM current c JOIN gradings g ON g.id = c.grading_id "
            "WHERE g.student != c.student"
        ):
            found.append(f"current grading of {student} belongs to another student")
        for (student,) in self._db.execute(
            "SELECT DISTINCT student FROM gradings "
            "WHERE student NOT IN (SELECT student FROM current)"
        ):
            found.append(f"{student} has gradings but no current one")
        for (grading_id,) in self._db.execute(
            "SELECT id FROM gradings g WHERE error IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM checks WHERE grading_id = g.id)"
        ):
            found.append(f"grading {grading_id} succeeded but has no checks")
        return tuple(found)
