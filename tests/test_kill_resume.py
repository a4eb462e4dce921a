"""SIGKILL the grader in the middle of a class, run it again: every student is graded
exactly once, none is lost, and the gradebook and reports are whole."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from test_batch import make_result, write_student

from grader.api import StudentReport
from grader.gradebook import Gradebook
from grader.pipeline import GradeOptions
from grader.reference import Reference
from grader.reporting import write_reports

STUDENTS = [f"s{i:02d}" for i in range(12)]
HELD = {"s05", "s06"}  # the two students in the workers' hands when the grader is killed


def slow_grade(
    folder: Path, reference: Reference, out_dir: Path, options: GradeOptions
) -> StudentReport:
    """Marks each call's start (with its pid) and completion; while `hold` exists beside the
    class, the held students never finish, so the kill lands at a known point."""
    markers = out_dir.parent / "markers"
    markers.mkdir(exist_ok=True)
    (markers / f"start.{folder.name}.{os.getpid()}.{time.monotonic_ns()}").write_text(
        str(os.getpid())
    )
    time.sleep(0.05)
    while folder.name in HELD and (folder.parent.parent / "hold").exists():
        time.sleep(0.05)
    result = make_result(folder.name, {"scores": [float(len(folder.name))] * 7})
    paths = write_reports(result, out_dir, reference.title, reference.content_hash)
    (markers / f"done.{folder.name}.{time.monotonic_ns()}").touch()
    return StudentReport(folder.name, folder, result, paths.html.parent, None)


def main(class_dir: str, out_dir: str) -> None:
    """The subprocess's entry: the same command both times."""
    from grader.batch import BatchSettings, grade_class
    from grader.reference import load_reference

    out = Path(out_dir)
    with Gradebook(out / "gradebook.sqlite") as gb:
        grade_class(
            Path(class_dir),
            load_reference(),
            out,
            gb,
            settings=BatchSettings(jobs=2, preload=()),
            grade_fn=slow_grade,
        )


def _start(tmp_path: Path) -> subprocess.Popen[bytes]:
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import test_kill_resume as t; t.main({str(tmp_path / 'class')!r}, "
        f"{str(tmp_path / 'reports')!r})"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def _committed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return int(con.execute("SELECT COUNT(*) FROM current").fetchone()[0])
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def _markers(tmp_path: Path, kind: str) -> list[str]:
    folder = tmp_path / "markers"
    return sorted(p.name.split(".")[1] for p in folder.glob(f"{kind}.*")) if folder.exists() else []


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def _wait_for(condition: object, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_killed_batch_resumes_without_loss_or_repeat(tmp_path: Path) -> None:
    for name in STUDENTS:
        write_student(tmp_path / "class", name, "scores = []\n")
    (tmp_path / "hold").touch()
    db = tmp_path / "reports" / "gradebook.sqlite"

    first = _start(tmp_path)
    held_started = lambda: HELD <= set(_markers(tmp_path, "start"))  # noqa: E731
    _wait_for(lambda: _committed(db) == 5 and held_started(), "five students and two held")
    worker_pids = [int(p.read_text()) for p in (tmp_path / "markers").glob("start.s0[56].*")]
    first.send_signal(signal.SIGKILL)  # the grader only: its workers must die with it
    first.wait()
    _wait_for(lambda: not any(_alive(p) for p in worker_pids), "the workers to die")

    assert _committed(db) == 5
    assert not (tmp_path / "reports" / "s05" / "results.json").exists()
    assert _markers(tmp_path, "done") == STUDENTS[:5]

    (tmp_path / "hold").unlink()
    second = _start(tmp_path)
    assert second.wait(timeout=60) == 0

    done = _markers(tmp_path, "done")
    assert done == STUDENTS  # each student's grading completed exactly once
    with Gradebook(db) as gb:
        assert gb.problems() == ()
        assert [g.student for g in gb.current()] == STUDENTS
        assert all(gb.grading_count(s) == 1 for s in STUDENTS)
        runs = gb.runs()
    assert [r.finished_at is None for r in runs] == [True, False]  # the killed run shows
    for name in STUDENTS:
        report = json.loads((tmp_path / "reports" / name / "results.json").read_text())
        assert report["score"] == 7 * len(name)
    leftovers = list((tmp_path / "reports").rglob("*.tmp"))
    assert leftovers == []
