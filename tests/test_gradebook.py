"""The gradebook database and the content hashes that key its cache."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from test_batch import make_result, start_test_run

from grader.gradebook import (
    CacheKey,
    Gradebook,
    GradebookError,
    manual_scores_hash,
    submission_hash,
)
from grader.gradebook.schema import SCHEMA_VERSION
from grader.models import CheckResult, ProblemId, ProblemResult, Status, SubmissionResult


def _run(gb: Gradebook) -> int:
    return start_test_run(gb, "HW4", reference_hash="ref")


def test_new_gradebook_is_migrated_and_reopens(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "gb.sqlite"
    with Gradebook(db) as gb:
        assert gb.schema_version() == SCHEMA_VERSION
    with Gradebook(db) as gb:  # opening again applies nothing twice
        assert gb.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM migrations").fetchone()[0] == SCHEMA_VERSION


def test_foreign_or_newer_files_are_refused_with_a_message(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE notes (x)")
    with pytest.raises(GradebookError, match="not a gradebook"):
        Gradebook(other)
    newer = tmp_path / "newer.sqlite"
    Gradebook(newer).close()
    with sqlite3.connect(newer) as con:
        con.execute("INSERT INTO migrations VALUES (?, 'future', 'now')", (SCHEMA_VERSION + 1,))
    with pytest.raises(GradebookError, match="newer grader"):
        Gradebook(newer)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(GradebookError, match="garbage.sqlite"):
        Gradebook(garbage)


def test_a_grading_reads_back_check_by_check(tmp_path: Path) -> None:
    result = make_result(
        "ann",
        {"scores": [10, 5, 0, 0, 20, 25, 20], "p4_pending": True, "mistakes": {"P2": "stride 1"}},
    )
    key = CacheKey("content", "ref", "manual", "settings")
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        stored = gb.record(_run(gb), "ann", key, result, None, tmp_path / "ann")
        assert gb.current() == (stored,)
    assert stored.score == result.score and stored.max_score == result.max_score
    assert [c.test_id for c in stored.checks] == [c.test_id for c in result.checks()]
    p2 = stored.checks[1]
    assert (p2.status, p2.score, p2.mistake) == (Status.PARTIAL, 5.0, "stride 1")
    assert stored.problem_score(ProblemId.P4) is None  # pending
    assert stored.problem_score(ProblemId.P1) == 10.0
    assert stored.content_hash == "content" and stored.cache_key == key.digest


def test_a_stored_check_has_full_marks_exactly_when_the_result_did(tmp_path: Path) -> None:
    cases = [
        (Status.PASSED, 10.0, 10.0, True),
        (Status.MANUAL_GRADED, 10.0, 10.0, True),  # a person's full score counts
        (Status.MANUAL_GRADED, 9.99, 10.0, False),
        (Status.MANUAL_PENDING, None, 10.0, False),
        (Status.PARTIAL, 0.1 + 0.2, 0.3, True),  # float sums reach the maximum
        (Status.PASSED, 0.3, 0.1 + 0.2, True),
        (Status.FAILED, 0.0, 10.0, False),
    ]
    checks = tuple(
        CheckResult(f"P4 {i}", ProblemId.P4, "proof", status, score, max_score, "f")
        for i, (status, score, max_score, _) in enumerate(cases)
    )
    result = SubmissionResult("ann", (ProblemResult(ProblemId.P4, "proof", checks),))
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        stored = gb.record(_run(gb), "ann", CacheKey("c", "r", "m", "s"), result, None, None)
    expected = [full for *_, full in cases]
    assert [c.full_marks for c in checks] == expected
    assert [c.full_marks for c in stored.checks] == expected


def test_import_copies_gradings_field_by_field(tmp_path: Path) -> None:
    result = make_result("ann", {"scores": [10, 5, 0, 0, 20, 25, 20], "p4_pending": True})
    result = replace(result, notes=("writeup.md was read",), input_errors=("bad key 'p8'",))
    with Gradebook(tmp_path / "a.sqlite") as source, Gradebook(tmp_path / "b.sqlite") as target:
        run = _run(source)
        first = source.record(run, "ann", CacheKey("c", "r", "m", "s"), result, None, tmp_path)
        failed = source.record(run, "bob", CacheKey("c", "r", "m", "s"), None, "killed", None)
        assert target.import_from(source) == 2
        copied = {g.student: g for g in target.current()}
    # Row ids are the target's own; everything else is carried over as it was.
    assert replace(copied["ann"], id=first.id, run_id=first.run_id) == first
    assert replace(copied["bob"], id=failed.id, run_id=failed.run_id) == failed
    assert copied["ann"].notes == ("writeup.md was read",)
    assert copied["ann"].input_errors == ("bad key 'p8'",)


def test_cache_hit_needs_the_same_key_and_a_success(tmp_path: Path) -> None:
    key = CacheKey("content", "ref", "manual", "settings")
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = _run(gb)
        gb.record(run, "ann", key, make_result("ann", {"scores": [1]}), None, None)
        assert gb.cached("ann", key) is not None
        assert gb.cached("ann", CacheKey("content", "ref2", "manual", "settings")) is None
        assert gb.cached("ann", CacheKey("content", "ref", "manual2", "settings")) is None
        assert gb.cached("bob", key) is None
        gb.record(run, "ann", key, None, "crashed", None)  # the newest grading failed
        assert gb.cached("ann", key) is None
        assert gb.grading_count("ann") == 2  # history is kept
        assert gb.problems() == ()


def _submission(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_submission_hash_covers_names_and_bytes_only(tmp_path: Path) -> None:
    a = _submission(tmp_path / "a", {"answers.toml": b"x = 1\n", "code/m.py": b"print(1)\n"})
    b = _submission(tmp_path / "b", {"code/m.py": b"print(1)\n", "answers.toml": b"x = 1\n"})
    assert submission_hash(a) == submission_hash(b)  # folder name and write order do not count
    _submission(b, {"code/__pycache__/m.cpython-311.pyc": b"\x00", "code/x.pyc": b"\x01"})
    assert submission_hash(a) == submission_hash(b)  # byte-compiled files do not count
    c = _submission(tmp_path / "c", {"answers.toml": b"x = 2\n", "code/m.py": b"print(1)\n"})
    assert submission_hash(a) != submission_hash(c)
    d = _submission(tmp_path / "d", {"answers.toml": b"x = 1\n", "code/n.py": b"print(1)\n"})
    assert submission_hash(a) != submission_hash(d)  # a renamed file is a change
    # Boundaries between name and content cannot be shifted to collide.
    e = _submission(tmp_path / "e", {"ab": b"c"})
    f = _submission(tmp_path / "f", {"a": b"bc"})
    assert submission_hash(e) != submission_hash(f)


def test_symlinks_are_hashed_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("one")
    folder = _submission(tmp_path / "s", {"answers.toml": b"x = 1\n"})
    (folder / "link").symlink_to(secret)
    before = submission_hash(folder)
    secret.write_text("two")
    assert submission_hash(folder) == before


def test_manual_hash_follows_scores_not_comments(tmp_path: Path) -> None:
    path = tmp_path / "manual_scores.toml"
    missing = manual_scores_hash(path)
    path.write_text("# [P4]\n# score = 0\n")
    assert manual_scores_hash(path) == missing  # the blank template
    path.write_text("[P4]\nscore = 7\n")
    seven = manual_scores_hash(path)
    assert seven != missing
    path.write_text("# graded on Monday\n[P4]\nscore = 7.0\n")
    assert manual_scores_hash(path) == seven
    path.write_text("[P4]\nscore = 8\n")
    assert manual_scores_hash(path) != seven
    path.write_text("[P4\nscore = ")
    assert manual_scores_hash(path).startswith("unreadable:")
