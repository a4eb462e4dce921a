"""Class exports read back with their own parsers (csv, xml.etree), the class summary's
numbers, the regrade preview, and the merge/export commands."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
import uuid
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_batch import make_result, start_test_run, write_student

from grader.api import StudentReport
from grader.batch import BatchSettings, grade_class
from grader.batch.commands import export_command, merge_command
from grader.batch.runner import ClassRun, StudentOutcome
from grader.batch.summary import summary_table
from grader.exports.class_summary import render_html, render_markdown, summarize
from grader.exports.csv_export import RosterError, read_roster, render_csv
from grader.exports.junit import render_junit
from grader.exports.regrade import (
    RegradePreview,
    apply_regrade,
    diff,
    preview_regrade,
    render_preview,
)
from grader.gradebook import CacheKey, Gradebook, StoredGrading
from grader.manual_scores import read_manual_scores
from grader.models import CheckResult, ProblemId, Status, SubmissionResult
from grader.pipeline import GradeOptions
from grader.reference import Reference, load_reference
from grader.reporting import write_reports

KEY = CacheKey("c", "r", "m", "s")


def _store(gb: Gradebook, run: int, student: str, spec: dict[str, object]) -> None:
    gb.record(run, student, KEY, make_result(student, spec), None, None)


@pytest.fixture
def gradings(tmp_path: Path) -> tuple[StoredGrading, ...]:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = start_test_run(gb)
        _store(gb, run, "ann", {"scores": [10, 10, 5, 10, 20, 25, 20]})
        _store(
            gb,
            run,
            "ben",
            {
                "scores": [5, 0, 2.5, 0, 10, 12.5, 10],
                "mistakes": {"P1": "kernel flipped", "P2": "stride 1"},
            },
        )
        _store(
            gb,
            run,
            "=cal",
            {
                "scores": [5, 10, 5, 0, 20, 25, 0],
                "p4_pending": True,
                "mistakes": {"P1": "kernel flipped"},
            },
        )
        gb.record(run, "dan", KEY, None, "the grading process was killed by SIGKILL", None)
        return gb.current()


def test_csv_has_canvas_layout_and_reads_back(gradings: tuple[StoredGrading, ...]) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(gradings, "HW4"))))
    header = rows[0]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5:] == [f"HW4 P{i}" for i in range(1, 8)] + ["HW4 Total"]
    assert rows[1] == [
        "Points Possible",
        "",
        "",
        "",
        "",
        "10",
        "10",
        "5",
        "10",
        "20",
        "25",
        "20",
        "100",
    ]
    assert len(rows) == 2 + 4  # header, points possible, one row per student
    by_name = {r[0]: r for r in rows[2:]}
    assert by_name["ann"][5:] == ["10", "10", "5", "10", "20", "25", "20", "100"]
    assert by_name["ben"][5:] == ["5", "0", "2.5", "0", "10", "12.5", "10", "40"]
    # A pending hand-graded item stays blank; the total counts it as 0 (as results.json).
    assert by_name["'=cal"][8] == "" and by_name["'=cal"][12] == "65"
    assert by_name["dan"][5:] == [""] * 8  # not graded is not zero


def test_roster_fills_the_lms_columns(tmp_path: Path, gradings: tuple[StoredGrading, ...]) -> None:
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(
        'folder,Student,ID,SIS User ID,SIS Login ID,Section\nann,"Kim, Ann",101,S1,ann@u,Sec 1\n',
        encoding="utf-8",
    )
    rows = list(csv.reader(io.StringIO(render_csv(gradings, "HW4", read_roster(roster_file)))))
    assert ["Kim, Ann", "101", "S1", "ann@u", "Sec 1"] in [r[:5] for r in rows[2:]]
    assert ["ben", "", "", "", ""] in [r[:5] for r in rows[2:]]  # not in the roster
    roster_file.write_text("Student,ID\nann,1\n", encoding="utf-8")
    with pytest.raises(RosterError, match="folder"):
        read_roster(roster_file)
    roster_file.write_text("folder,ID\nann,1\nann,2\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"roster.csv:3: folder 'ann' is listed twice"):
        read_roster(roster_file)


def test_junit_has_a_suite_per_student_and_failures_for_non_full(
    gradings: tuple[StoredGrading, ...],
) -> None:
    root = ET.fromstring(render_junit(gradings, "Homework 4"))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"ann", "ben", "=cal", "dan"}
    assert [len(s.findall("testcase")) for s in (suites["ann"], suites["ben"])] == [7, 7]
    assert suites["ann"].get("failures") == "0" and not suites["ann"].findall(".//failure")
    ben_failures = suites["ben"].findall(".//failure")
    assert len(ben_failures) == 7 == int(suites["ben"].get("failures") or 0)
    flipped = [f for f in ben_failures if "kernel flipped" in (f.get("message") or "")]
    assert len(flipped) == 1 and flipped[0].get("type") == "partial"
    assert suites["dan"].find(".//error") is not None
    assert "SIGKILL" in (suites["dan"].find(".//error").text or "")  # type: ignore[union-attr]
    assert root.get("tests") == str(7 * 3 + 1) and root.get("errors") == "1"


def test_junit_survives_control_characters_in_feedback(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = start_test_run(gb, "t")
        _store(gb, run, "eve", {"scores": [1], "feedback": "bad \x00\x1b byte <tag> & more"})
        root = ET.fromstring(render_junit(gb.current()))
    text = root.find(".//failure").text or ""  # type: ignore[union-attr]
    assert "<tag> & more" in text and "\x00" not in text


def test_class_summary_numbers(gradings: tuple[StoredGrading, ...]) -> None:
    s = summarize(gradings, "Homework 4")
    assert (s.students, s.graded, s.pending_manual) == (4, 3, 1)
    assert s.mean == pytest.approx((100 + 40 + 65) / 3) and s.median == 65
    assert sum(b.count for b in s.bins) == 3 and s.bins[-1].count == 1  # 100 is in the top bin
    p1 = next(p for p in s.problems if p.problem is ProblemId.P1)
    assert p1.mean == pytest.approx((10 + 5 + 5) / 3) and p1.full == 1
    p4 = next(p for p in s.problems if p.problem is ProblemId.P4)
    assert p4.scored == 2  # the pending one is left out of the mean
    assert [(m.problem.value, m.mistake, m.count) for m in s.mistakes] == [
        ("P1", "kernel flipped", 2),
        ("P2", "stride 1", 1),
    ]
    assert [f.student for f in s.failures] == ["dan"]


def test_class_summary_html_escapes_and_draws_the_plot(gradings: tuple[StoredGrading, ...]) -> None:
    s = summarize(gradings, "<script>alert(1)</script>")
    html = render_html(s)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count('<rect class="bar"') == 10
    md = render_markdown(s)
    assert "| P1 | kernel flipped | 2 |" in md
    assert "<script>" not in md
    assert "█" in md  # the text plot


def _with_check(result: SubmissionResult, check: CheckResult) -> SubmissionResult:
    """`result` with the problem of `check` scored by that one check."""
    problems = tuple(
        replace(p, checks=(check,)) if p.problem is check.problem else p for p in result.problems
    )
    return replace(result, problems=problems)


def _p4(status: Status, score: float | None) -> CheckResult:
    return CheckResult("P4", ProblemId.P4, "Max pooling", status, score, 10.0, "by a person")


def test_a_hand_graded_full_score_is_full_marks_in_junit_and_the_summary(tmp_path: Path) -> None:
    full = {"scores": [10, 10, 5, 10, 20, 25, 20]}
    students = {
        "hana": _p4(Status.MANUAL_GRADED, 10.0),
        "hugo": _p4(Status.MANUAL_GRADED, 7.0),
        "pia": _p4(Status.MANUAL_PENDING, None),
        "tom": _p4(Status.PASSED, 10.0),
    }
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = start_test_run(gb)
        for name, p4 in students.items():
            gb.record(run, name, KEY, _with_check(make_result(name, full), p4), None, None)
        gradings = gb.current()
    root = ET.fromstring(render_junit(gradings))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["hana"].get("failures") == "0" and not suites["hana"].findall(".//failure")
    assert suites["tom"].get("failures") == "0"
    hugo = suites["hugo"].findall(".//failure")
    assert [(f.get("message"), f.get("type")) for f in hugo] == [
        ("graded by hand: 7 of 10", "manual")
    ]
    pia = suites["pia"].findall(".//failure")
    assert [f.get("message") for f in pia] == ["needs manual grading: pending of 10"]
    summary = summarize(gradings, "Homework 4")
    full_marks = {p.problem: p.full for p in summary.problems}
    assert full_marks[ProblemId.P4] == 2  # hana (by hand) and tom
    assert full_marks[ProblemId.P1] == 4


def test_every_export_writes_a_score_the_same_way(tmp_path: Path) -> None:
    p1 = CheckResult("P1", ProblemId.P1, "Filter", Status.PARTIAL, 10 / 3, 10.0, "a third")
    result = make_result("ann", {"scores": [0, 10, 5, 0, 20, 25, 20]})
    result = _with_check(_with_check(result, p1), _p4(Status.MANUAL_PENDING, None))
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = start_test_run(gb)
        grading = gb.record(run, "ann", KEY, result, None, None)
    # CSV: a missing score is an empty cell.
    row = list(csv.reader(io.StringIO(render_csv([grading]))))[2]
    assert row[5:] == ["3.33", "10", "5", "", "20", "25", "20", "83.33"]
    # JUnit: "pending".
    failures = {f.get("message") for f in ET.fromstring(render_junit([grading])).iter("failure")}
    assert failures == {"partial: 3.33 of 10", "needs manual grading: pending of 10"}
    # The table after a class run and the regrade preview: "-".
    outcome = StudentOutcome("ann", grading, reused=False, seconds=0.5)
    class_run = ClassRun(run, (outcome,), seconds=0.5, outside_shard=0)
    line = summary_table(class_run).splitlines()[1].split()
    assert line[:10] == ["ann", "3.33", "10", "5", "-", "20", "25", "20", "83.33/100", "graded"]
    change = diff(None, grading)
    assert change is not None
    preview = render_preview(RegradePreview(tmp_path, "h", class_run, (change,), 0))
    assert "P1: absent -> partial 3.33/10" in preview
    assert "P4: absent -> needs manual grading -/10" in preview
    assert re.search(r"^ann +- +83\.33 +n/a +P1, P2", preview, re.M)


def test_class_summary_puts_a_dash_where_no_one_was_graded(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        gb.record(start_test_run(gb), "dan", KEY, None, "killed", None)
        s = summarize(gb.current(), "Homework 4")
    assert (s.mean, s.median, s.lowest, s.highest) == (None, None, None, None)
    html = render_html(s)
    assert '<span class="v">–</span><span class="k">mean of 0</span>' in html
    assert '<span class="v">– – –</span><span class="k">lowest – highest</span>' in html
    assert "| 0 / 1 | – | – | – | – | 0 |" in render_markdown(s)


def test_export_and_merge_commands(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    with Gradebook(db) as gb:
        run = start_test_run(gb, "HW")
        _store(gb, run, "ann", {"scores": [10] * 7})
    runner = CliRunner()
    merged = tmp_path / "merged.sqlite"
    result = runner.invoke(
        merge_command, [str(merged), str(db), str(db), "--exports", str(tmp_path / "x")]
    )
    assert result.exit_code == 0, result.output
    assert "1 students" in result.output
    assert (tmp_path / "x" / "class_summary.md").is_file()
    result = runner.invoke(
        export_command, ["--gradebook", str(merged), "--out", str(tmp_path / "y")]
    )
    assert result.exit_code == 0, result.output
    assert len(list(csv.reader((tmp_path / "y" / "gradebook.csv").open()))) == 3
    not_a_gradebook = tmp_path / "other.sqlite"
    import sqlite3

    with sqlite3.connect(not_a_gradebook) as con:
        con.execute("CREATE TABLE t (x)")
    result = runner.invoke(export_command, ["--gradebook", str(not_a_gradebook)])
    assert result.exit_code == 2 and "not a gradebook" in result.output


# --- regrade preview -----------------------------------------------------------------


def points_grade(
    folder: Path, reference: Reference, out_dir: Path, options: GradeOptions
) -> StudentReport:
    """A fake whose P1 points come from the reference (so editing them changes scores) and
    whose P4 comes from the manual scores beside the reports (as grade_one's does)."""
    spec = tomllib.loads((folder / "answers.toml").read_text(encoding="utf-8"))
    calls = folder.parent.parent / "calls"
    calls.mkdir(exist_ok=True)
    (calls / f"{folder.name}-{uuid.uuid4().hex}").touch()
    fraction = float(spec["p1_fraction"])
    manual = {
        m.test_id: m.score for m in read_manual_scores(out_dir / folder.name / "manual_scores.toml")
    }
    result = make_result(folder.name, {"scores": [0, 1, 1, manual.get("P4", 0), 1, 1, 1]})
    p1 = result.problems[0]
    from dataclasses import replace

    status = Status.PASSED if fraction == 1 else Status.PARTIAL if fraction else Status.FAILED
    check = replace(
        p1.checks[0],
        status=status,
        score=fraction * reference.p1.points,
        max_score=reference.p1.points,
    )
    result = replace(result, problems=(replace(p1, checks=(check,)), *result.problems[1:]))
    paths = write_reports(result, out_dir, reference.title, reference.content_hash)
    return StudentReport(folder.name, folder, result, paths.html.parent, None)


def test_regrade_preview_then_apply(tmp_path: Path) -> None:
    class_dir, out = tmp_path / "class", tmp_path / "reports"
    for name, fraction in (("ann", 1.0), ("ben", 0.5), ("cal", 0.0)):
        write_student(class_dir, name, f"p1_fraction = {fraction}\n")
    (out / "ann").mkdir(parents=True)
    (out / "ann" / "manual_scores.toml").write_text("[P4]\nscore = 8\n", encoding="utf-8")
    old_ref = load_reference()
    text = old_ref.path.read_text(encoding="utf-8")
    edited = tmp_path / "hw4.toml"
    edited.write_text(
        text.replace("[p1]\ntitle", "[p1]\n# edited\ntitle", 1).replace(
            "points = 10\nvisibility", "points = 20\nvisibility", 1
        ),
        encoding="utf-8",
    )
    new_ref = load_reference(edited)
    assert new_ref.p1.points == 20 and old_ref.p1.points == 10
    settings = BatchSettings(jobs=2, preload=())
    with Gradebook(out / "gradebook.sqlite") as gb:
        grade_class(class_dir, old_ref, out, gb, settings=settings, grade_fn=points_grade)
        before = {g.student: g.score for g in gb.current()}
        preview = preview_regrade(
            class_dir, new_ref, out, gb, settings=settings, grade_fn=points_grade
        )
        # Nothing is stored by a preview.
        assert {g.student: g.score for g in gb.current()} == before and gb.grading_count() == 3
        assert json.loads((out / "ben" / "results.json").read_text())["score"] == before["ben"]
        changes = {c.student: c for c in preview.changes}
        assert set(changes) == {"ann", "ben", "cal"}  # cal: 0 of 10 became 0 of 20
        assert (
            changes["ann"].delta == 10 and changes["ben"].delta == 5 and changes["cal"].delta == 0
        )
        assert [k.test_id for k in changes["ann"].checks] == ["P1"]  # P4's manual 8 carried over
        assert [c.student for c in preview.changes][:2] == ["ann", "ben"]  # biggest change first
        table = render_preview(preview)
        assert "ann" in table and "+10" in table and "P1: passed 10/10 -> passed 20/20" in table
        assert "--apply" in table

        # --apply: the same preview again reuses the workspace's grading, then stores it.
        again = preview_regrade(
            class_dir, new_ref, out, gb, settings=settings, grade_fn=points_grade
        )
        assert again.run.reused == 3
        assert apply_regrade(again, out, gb) == 3
        after = {g.student: g.score for g in gb.current()}
        assert after == {s: before[s] + d for s, d in (("ann", 10), ("ben", 5), ("cal", 0))}
        assert gb.problems() == ()
        assert not preview.workspace.exists()
        assert gb.current_of("ben").report_dir == str(out / "ben")  # type: ignore[union-attr]
    assert json.loads((out / "ben" / "results.json").read_text())["score"] == after["ben"]
    assert len(list((tmp_path / "calls").iterdir())) == 6  # 3 old + 3 new, never more


def test_a_mistake_counts_students_not_checks(tmp_path: Path) -> None:
    from dataclasses import replace

    from grader.models import CheckResult, ProblemResult, Status

    def biases(test_id: str) -> CheckResult:
        return CheckResult(
            test_id, ProblemId.P7, "count", Status.PARTIAL, 0.9, 3.0, "no biases",
            mistake="biases not counted",
        )  # fmt: skip

    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = start_test_run(gb)
        result = make_result("bob", {"scores": [10, 10, 5, 10, 20, 25, 0]})
        p7 = ProblemResult(ProblemId.P7, "LeNet", (biases("P7 c3_original"), biases("P7 c3_full")))
        result = replace(result, problems=result.problems[:-1] + (p7,))
        gb.record(run, "bob", KEY, result, None, None)
        s = summarize(gb.current(), "Homework 4")
    assert [(m.mistake, m.count) for m in s.mistakes] == [("biases not counted", 1)]
