"""Grading a class in parallel: results, reuse of unchanged work, failures kept to one
student, shards. The grading function is a fake (module level, so workers can import it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from pathlib import Path

import pytest

from grader.api import StudentReport
from grader.batch import BatchSettings, grade_class, parse_shard, plan_class
from grader.batch import runner as runner_module
from grader.batch.progress import ProgressState, render
from grader.batch.shard import ShardError
from grader.batch.summary import summary_table
from grader.gradebook import Gradebook
from grader.models import CheckResult, ProblemId, ProblemResult, Status, SubmissionResult
from grader.pipeline import GradeOptions
from grader.reference import Reference, load_reference
from grader.reporting import write_reports

MAX = {
    ProblemId.P1: 10.0,
    ProblemId.P2: 10.0,
    ProblemId.P3: 5.0,
    ProblemId.P4: 10.0,
    ProblemId.P5: 20.0,
    ProblemId.P6: 25.0,
    ProblemId.P7: 20.0,
}
FAST = BatchSettings(jobs=2, preload=(), timeout_s=30.0)


def start_test_run(gb: Gradebook, title: str = "Homework 4", reference_hash: str = "r") -> int:
    """A run record for tests that store results by hand."""
    return gb.start_run(
        reference_hash=reference_hash,
        reference_version="1",
        reference_title=title,
        grader_version="test",
        settings="s",
    )


def make_result(student: str, spec: dict[str, object]) -> SubmissionResult:
    """A result whose scores the submission itself dictates (answers.toml `scores`)."""
    raw = spec.get("scores", [])
    scores = [float(x) for x in raw] if isinstance(raw, list) else []
    mistakes = spec.get("mistakes", {})
    assert isinstance(mistakes, dict)
    problems = []
    for i, problem in enumerate(ProblemId):
        score: float | None = scores[i] if i < len(scores) else 0.0
        status = Status.PASSED if score == MAX[problem] else Status.PARTIAL
        if problem is ProblemId.P4 and spec.get("p4_pending", False):
            score, status = None, Status.MANUAL_PENDING
        mistake = mistakes.get(problem.value)
        check = CheckResult(
            test_id=problem.value,
            problem=problem,
            title=f"Problem {problem.value}",
            status=status if score else Status.FAILED,
            score=score,
            max_score=MAX[problem],
            feedback=str(spec.get("feedback", f"{problem.value} feedback")),
            mistake=None if mistake is None else str(mistake),
        )
        problems.append(ProblemResult(problem, check.title, (check,)))
    return SubmissionResult(student=student, problems=tuple(problems))


def fake_grade(
    folder: Path, reference: Reference, out_dir: Path, options: GradeOptions
) -> StudentReport:
    spec = tomllib.loads((folder / "answers.toml").read_text(encoding="utf-8"))
    calls = out_dir / "_calls"
    calls.mkdir(parents=True, exist_ok=True)
    (calls / f"{folder.name}.{uuid.uuid4().hex}").touch()
    behaviour = spec.get("behaviour", "ok")
    if behaviour == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if behaviour == "hang":
        time.sleep(120)
    if behaviour == "raise":
        raise RuntimeError("the fake grader broke")
    time.sleep(float(spec.get("delay", 0.0)))
    result = make_result(folder.name, spec)
    paths = write_reports(result, out_dir, reference.title, reference.content_hash)
    return StudentReport(folder.name, folder, result, paths.html.parent, None)


def calls_of(out_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    folder = out_dir / "_calls"
    for marker in folder.iterdir() if folder.is_dir() else ():
        student = marker.name.rsplit(".", 1)[0]
        counts[student] = counts.get(student, 0) + 1
    return counts


def write_student(class_dir: Path, name: str, body: str) -> Path:
    folder = class_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "answers.toml").write_text(body, encoding="utf-8")
    return folder


def scores_body(scores: list[float], **extra: object) -> str:
    lines = [f"scores = {scores!r}"]
    lines += [
        f"{k} = {v!r}" if not isinstance(v, bool) else f"{k} = {str(v).lower()}"
        for k, v in extra.items()
    ]
    return "\n".join(lines) + "\n"


def make_class(class_dir: Path, n: int) -> dict[str, float]:
    totals = {}
    for i in range(n):
        scores = [float((i + p) % 11) for p in range(7)]
        scores[2] = min(scores[2], 5.0)
        write_student(class_dir, f"student{i:02d}", scores_body(scores))
        totals[f"student{i:02d}"] = sum(scores)
    return totals


@pytest.fixture
def reference() -> Reference:
    return load_reference()


def test_every_student_is_graded_and_stored(tmp_path: Path, reference: Reference) -> None:
    totals = make_class(tmp_path / "class", 6)
    out = tmp_path / "reports"
    with Gradebook(out / "gradebook.sqlite") as gb:
        run = grade_class(
            tmp_path / "class", reference, out, gb, settings=FAST, grade_fn=fake_grade
        )
        stored = {g.student: g.score for g in gb.current()}
        assert gb.problems() == ()
        runs = gb.runs()
    assert stored == totals
    assert [o.student for o in run.outcomes] == sorted(totals)
    assert run.failures == () and run.reused == 0
    assert calls_of(out) == dict.fromkeys(totals, 1)
    assert len(runs) == 1 and runs[0].finished_at is not None
    assert runs[0].reference_hash == reference.content_hash
    assert all((out / s / "results.json").is_file() for s in totals)
    table = summary_table(run)
    assert "student03" in table and "6 students: 6 graded, 0 reused" in table


def test_unchanged_class_is_not_graded_again(
    tmp_path: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_class(tmp_path / "class", 4)
    out = tmp_path / "reports"
    with Gradebook(out / "gradebook.sqlite") as gb:
        grade_class(tmp_path / "class", reference, out, gb, settings=FAST, grade_fn=fake_grade)

        def no_pool(*args: object, **kwargs: object) -> None:
            raise AssertionError("a worker pool was started for an unchanged class")

        monkeypatch.setattr(runner_module, "WorkerPool", no_pool)
        again = grade_class(
            tmp_path / "class", reference, out, gb, settings=FAST, grade_fn=fake_grade
        )
        assert again.reused == 4 and gb.grading_count() == 4
        assert len(gb.runs()) == 2  # the cheap run is still recorded
    assert set(calls_of(out).values()) == {1}


def test_only_what_changed_is_graded_again(tmp_path: Path, reference: Reference) -> None:
    make_class(tmp_path / "class", 4)
    out = tmp_path / "reports"
    db = out / "gradebook.sqlite"
    with Gradebook(db) as gb:
        grade_class(tmp_path / "class", reference, out, gb, settings=FAST, grade_fn=fake_grade)
        write_student(tmp_path / "class", "student01", scores_body([10, 10, 5, 10, 20, 25, 20]))
        # A byte-compiled file appearing in a submission is not a change by the student.
        (tmp_path / "class" / "student02" / "__pycache__").mkdir()
        (tmp_path / "class" / "student02" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"x")
        run = grade_class(
            tmp_path / "class", reference, out, gb, settings=FAST, grade_fn=fake_grade
        )
        assert gb.current_of("student01") is not None
        assert gb.current_of("student01").score == 100.0  # type: ignore[union-attr]
        assert gb.grading_count("student01") == 2
    assert calls_of(out) == {"student00": 1, "student01": 2, "student02": 1, "student03": 1}
    assert run.reused == 3
    # --force grades everyone again.
    with Gradebook(db) as gb:
        forced = BatchSettings(jobs=2, preload=(), force=True)
        run = grade_class(
            tmp_path / "class", reference, out, gb, settings=forced, grade_fn=fake_grade
        )
    assert run.reused == 0
    assert calls_of(out) == {"student00": 2, "student01": 3, "student02": 2, "student03": 2}


def test_a_changed_reference_or_manual_score_invalidates(
    tmp_path: Path, reference: Reference
) -> None:
    make_class(tmp_path / "class", 3)
    out = tmp_path / "reports"
    with Gradebook(out / "gradebook.sqlite") as gb:
        grade_class(tmp_path / "class", reference, out, gb, settings=FAST, grade_fn=fake_grade)
        # A blank manual-scores template (no score entered) keeps the cache valid.
        manual = out / "student00" / "manual_scores.toml"
        manual.write_text("[P4]\n# score = 0\n", encoding="utf-8")
        assert plan_class(tmp_path / "class", reference, out, gb, settings=FAST).to_grade == ()
        manual.write_text('[P4]\nscore = 7\ncomment = "good"\n', encoding="utf-8")
        todo = plan_class(tmp_path / "class", reference, out, gb, settings=FAST).to_grade
        assert [s.student for s in todo] == ["student00"]
        edited = tmp_path / "hw4.toml"
        edited.write_bytes(reference.path.read_bytes() + b"\n# an edit\n")
        new_reference = load_reference(edited)
        todo = plan_class(tmp_path / "class", new_reference, out, gb, settings=FAST).to_grade
        assert len(todo) == 3


def test_deleted_reports_are_regenerated(tmp_path: Path, reference: Reference) -> None:
    make_class(tmp_path / "class", 2)
    out = tmp_path / "reports"
    with Gradebook(out / "gradebook.sqlite") as gb:
        grade_class(tmp_path / "class", reference, out, gb, settings=FAST, grade_fn=fake_grade)
        (out / "student01" / "results.json").unlink()
        todo = plan_class(tmp_path / "class", reference, out, gb, settings=FAST).to_grade
    assert [s.student for s in todo] == ["student01"]


def test_a_crash_a_hang_and_an_exception_stay_with_their_student(
    tmp_path: Path, reference: Reference
) -> None:
    totals = make_class(tmp_path / "class", 4)
    write_student(tmp_path / "class", "crasher", 'behaviour = "sigkill"\n')
    write_student(tmp_path / "class", "hanger", 'behaviour = "hang"\n')
    write_student(tmp_path / "class", "raiser", 'behaviour = "raise"\n')
    out = tmp_path / "reports"
    settings = BatchSettings(jobs=2, preload=(), timeout_s=2.0)
    start = time.monotonic()
    with Gradebook(out / "gradebook.sqlite") as gb:
        run = grade_class(
            tmp_path / "class", reference, out, gb, settings=settings, grade_fn=fake_grade
        )
        stored = {g.student: g for g in gb.current()}
        assert gb.problems() == ()
    assert time.monotonic() - start < 20
    assert {s: stored[s].score for s in totals} == totals
    assert "SIGKILL" in (stored["crasher"].error or "")
    assert "longer than 2 s" in (stored["hanger"].error or "")
    assert "RuntimeError: the fake grader broke" in (stored["raiser"].error or "")
    assert len(run.failures) == 3
    # Failures are not cached: the next run tries them again, and only them.
    with Gradebook(out / "gradebook.sqlite") as gb:
        todo = plan_class(tmp_path / "class", reference, out, gb, settings=settings).to_grade
    assert sorted(s.student for s in todo) == ["crasher", "hanger", "raiser"]


def test_shards_split_the_class_deterministically() -> None:
    names = [f"s{i}" for i in range(200)]
    shards = [parse_shard(f"{i}/3") for i in (1, 2, 3)]
    owners = [[s for s in shards if s.holds(n)] for n in names]
    assert all(len(o) == 1 for o in owners)
    assert all(sum(s.holds(n) for n in names) > 30 for s in shards)  # roughly even
    # Another process (another CI job) agrees on every name.
    code = "from grader.batch import parse_shard; import sys\n" + (
        "print(''.join('1' if parse_shard('2/3').holds(f's{i}') else '0' for i in range(200)))"
    )
    env = dict(os.environ, PYTHONHASHSEED="123")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert other.stdout.strip() == "".join("1" if shards[1].holds(n) else "0" for n in names)


@pytest.mark.parametrize("bad", ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", ""])
def test_bad_shards_are_refused_with_a_message(bad: str) -> None:
    with pytest.raises(ShardError, match="shard"):
        parse_shard(bad)


def test_shard_then_merge_equals_one_run(tmp_path: Path, reference: Reference) -> None:
    totals = make_class(tmp_path / "class", 8)
    books = []
    for i in (1, 2):
        out = tmp_path / f"shard{i}"
        settings = BatchSettings(jobs=1, preload=(), shard=parse_shard(f"{i}/2"))
        with Gradebook(out / "gradebook.sqlite") as gb:
            run = grade_class(
                tmp_path / "class", reference, out, gb, settings=settings, grade_fn=fake_grade
            )
            assert run.outside_shard == 8 - len(run.outcomes)
        books.append(out / "gradebook.sqlite")
    with Gradebook(tmp_path / "merged.sqlite") as merged:
        for path in books + books:  # merging the same shard twice changes nothing
            with Gradebook(path) as source:
                merged.import_from(source)
        assert {g.student: g.score for g in merged.current()} == totals
        assert merged.grading_count() == 8
        assert sorted(r.shard or "" for r in merged.runs()) == ["1/2", "2/2"]
        assert merged.problems() == ()


def test_progress_line_shows_done_failures_and_time_left() -> None:
    state = ProgressState(total=10, done=4, failed=1, cached=2, elapsed_s=20.0)
    assert state.seconds_left == pytest.approx(60.0)  # 10 s per graded student, 6 to go
    line = render(state)
    assert "4/10" in line and "1 failed" in line and "2 reused" in line and "1:00 left" in line
    assert ProgressState(total=3).seconds_left is None
    assert "--:-- left" in render(ProgressState(total=3))


def test_class_command_exit_codes_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import click

    from grader.batch.commands import grade_class_command

    make_class(tmp_path / "class", 3)
    out = tmp_path / "reports"

    def run(**changes: object) -> int:
        args: dict[str, object] = dict(
            path=tmp_path / "class",
            out_dir=out,
            reference_path=load_reference().path,
            no_code=True,
            jobs=2,
            force=False,
            shard=None,
            gradebook_path=None,
            timeout=30.0,
            grade_fn=fake_grade,
        )
        args.update(changes)
        return grade_class_command(**args)  # type: ignore[arg-type]

    assert run() == 0  # students' low scores are not an error
    printed = capsys.readouterr().out
    assert "3 students: 3 graded, 0 reused" in printed
    for name in ("gradebook.csv", "junit.xml", "class_summary.html", "class_summary.md"):
        assert (out / name).is_file()
    write_student(tmp_path / "class", "crasher", 'behaviour = "sigkill"\n')
    assert run() == 1  # a student who could not be graded
    assert "crasher" in capsys.readouterr().err
    with pytest.raises(click.BadParameter, match="I/N"):
        run(shard="7")
    with pytest.raises(click.UsageError, match="no such folder"):
        run(path=tmp_path / "nowhere")
