"""Reporting: HTML, Markdown, Gradescope JSON and terminal renderings of one SubmissionResult."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import grader.reporting
from grader.models import (
    CheckResult,
    Outcome,
    ProblemId,
    ProblemResult,
    Source,
    Status,
    SubmissionResult,
    Visibility,
)
from grader.reporting import (
    ReportError,
    ReportPaths,
    render_html,
    render_markdown,
    render_results_json,
    render_terminal,
    write_reports,
)
from grader.reporting.templating import md_code_block, md_code_span, md_inline
from grader.reporting.text import points

TITLE = "Homework 4: Mathematical Foundations of Deep Neural Networks"
HOSTILE = "<script>alert('pwned')</script>"
P = ProblemId


def check(
    test_id: str,
    status: Status,
    score: float | None,
    max_score: float,
    feedback: str = "Feedback.",
    **kw: object,
) -> CheckResult:
    problem = P(test_id.split()[0][:2])
    return CheckResult(
        test_id, problem, f"title of {test_id}", status, score, max_score, feedback, **kw
    )  # type: ignore[arg-type]


def build_result() -> SubmissionResult:
    """Every outcome: passed, partial with a mistake, failed, missing, needs review, pending
    manual, timeout, grader error; plus a hidden check and hostile source text."""
    return SubmissionResult(
        student="alice",
        problems=(
            ProblemResult(
                P.P1,
                "Finite difference with convolution",
                (
                    check(
                        "P1",
                        Status.PASSED,
                        10.0,
                        10.0,
                        "The filter computes Y1 and Y2 on every test image.",
                        sources=(Source("writeup.md", 12, "w1 = [[0,0,0],[0,-1,0],[0,1,0]]"),),
                    ),
                ),
            ),
            ProblemResult(
                P.P2,
                "Average pooling as convolution",
                (
                    check(
                        "P2",
                        Status.PARTIAL,
                        7.5,
                        10.0,
                        "Right weights, but stride 1 overlaps the windows.",
                        mistake="stride 1",
                        details=("checked (C, k, m, n) = (3, 2, 6, 4)",),
                        sources=(Source("answers.toml", 4, HOSTILE),),
                    ),
                ),
            ),
            ProblemResult(
                P.P3,
                "RGB to greyscale",
                (check("P3", Status.FAILED, 0.0, 5.0, "Uniform weights give the mean, not luma."),),
            ),
            ProblemResult(
                P.P4,
                "Max pooling commutes with a nondecreasing activation",
                (
                    check(
                        "P4",
                        Status.MANUAL_PENDING,
                        None,
                        10.0,
                        "A proof is graded by a person: score pending.",
                        details=("Rubric: (4 points) Reduces the claim to one pooling window.",),
                        sources=(Source("writeup.md", None, "Let S be a window."),),
                    ),
                ),
            ),
            ProblemResult(
                P.P5,
                "A non-cross-entropy loss",
                (
                    check("P5 square", Status.TIMEOUT, 0.0, 10.0, "Training did not finish."),
                    check("P5 logistic", Status.PASSED, 10.0, 10.0, "95.2% test accuracy."),
                ),
            ),
            ProblemResult(
                P.P6,
                "Backprop for an MLP",
                (
                    check("P6a dyL/dbL", Status.PASSED, 10.0, 10.0, "Matches on 5 draws."),
                    check("P6b dyL/dAL", Status.MISSING, 0.0, 7.5, "No answer was found."),
                    check(
                        "P6b dyL/dAl",
                        Status.NEEDS_REVIEW,
                        None,
                        7.5,
                        "Could not be read | needs a person\nsecond line",
                        visibility=Visibility.HIDDEN,
                    ),
                ),
            ),
            ProblemResult(
                P.P7,
                "The original LeNet-5 C3 layer",
                (
                    check("P7 c3_original", Status.PASSED, 10.0, 10.0, "1516 parameters."),
                    check(
                        "P7 lenet_full",
                        Status.GRADER_ERROR,
                        None,
                        10.0,
                        "The grader failed on this item (KeyError: 'x').",
                    ),
                ),
            ),
        ),
        notes=("writeup.md was read; writeup.pdf was skipped.",),
        input_errors=("answers.toml line 9: unknown key 'p8'",),
        sandbox_layers=("rlimits", "bubblewrap", "seccomp"),
    )


# 10 + 7.5 + 0 + pending + (0 + 10) + (10 + 0 + pending) + (10 + error) of 100 points.
EXPECTED_TOTAL = "47.5 / 100"
EXPECTED_PENDING = 27.5  # P4 10 + P6b dyL/dAl 7.5 + P7 lenet_full 10


# --- HTML -------------------------------------------------------------------------------


class _Checks(HTMLParser):
    """Collects, per <article class="check">, its id, score, badge classes and <pre> texts."""

    def __init__(self) -> None:
        super().__init__()
        self.checks: dict[str, dict[str, object]] = {}
        self._current: dict[str, object] | None = None
        self._field: str | None = None
        self._buf = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = (dict(attrs).get("class") or "").split()
        if tag == "article" and "check" in cls:
            self._current = {"pre": [], "badge": None}
        elif self._current is not None and tag == "span" and cls and cls[0] in ("id", "score"):
            self._field, self._buf = cls[0], ""
        elif self._current is not None and tag == "span" and "badge" in cls:
            self._current["badge"] = cls[1]
            self._field, self._buf = "badge_text", ""
        elif self._current is not None and tag == "pre":
            self._field, self._buf = "pre", ""

    def handle_data(self, data: str) -> None:
        if self._field:
            self._buf += data

    def handle_endtag(self, tag: str) -> None:
        if self._current is None:
            return
        if self._field and tag in ("span", "pre"):
            if self._field == "pre":
                pres = self._current["pre"]
                assert isinstance(pres, list)
                pres.append(self._buf)
            else:
                self._current[self._field] = self._buf.strip()
            self._field = None
        elif tag == "article":
            self.checks[str(self._current["id"])] = self._current
            self._current = None


def parse_checks(html: str) -> dict[str, dict[str, object]]:
    parser = _Checks()
    parser.feed(html)
    return parser.checks


def test_html_header_shows_student_and_total() -> None:
    html = render_html(build_result(), TITLE)
    header = html[html.index("<header") : html.index("</header>")]
    assert "alice" in header
    assert TITLE in header
    assert f'<span id="total">{EXPECTED_TOTAL}</span>' in header
    assert "27.5 points pending manual grading" in header


def test_html_every_check_has_its_score_and_outcome_badge() -> None:
    result = build_result()
    checks = parse_checks(render_html(result, TITLE))
    assert list(checks) == [c.test_id for c in result.checks()]
    expected = {
        "P1": ("10 / 10", "full"),
        "P2": ("7.5 / 10", "partial"),
        "P3": ("0 / 5", "zero"),
        "P4": ("pending / 10", "manual"),
        "P5 square": ("0 / 10", "timeout"),
        "P5 logistic": ("10 / 10", "full"),
        "P6a dyL/dbL": ("10 / 10", "full"),
        "P6b dyL/dAL": ("0 / 7.5", "missing"),
        "P6b dyL/dAl": ("pending / 7.5", "manual"),
        "P7 c3_original": ("10 / 10", "full"),
        "P7 lenet_full": ("not scored / 10", "error"),
    }
    assert {k: (v["score"], v["badge"]) for k, v in checks.items()} == expected
    assert checks["P7 lenet_full"]["badge_text"] == "error (grader error)"
    assert checks["P6b dyL/dAl"]["badge_text"] == "manual (needs review)"


def test_html_shows_feedback_mistake_details_and_what_was_read() -> None:
    html = render_html(build_result(), TITLE)
    checks = parse_checks(html)
    assert checks["P1"]["pre"] == ["w1 = [[0,0,0],[0,-1,0],[0,1,0]]"]
    assert checks["P2"]["pre"] == [HOSTILE]  # shown verbatim as text, after unescaping
    assert "writeup.md:12" in html and "answers.toml:4" in html
    assert '<span class="mistake">stride 1</span>' in html
    assert "checked (C, k, m, n) = (3, 2, 6, 4)" in html
    assert "Rubric: (4 points) Reduces the claim to one pooling window." in html
    assert "hidden from students" in html


def test_html_escapes_student_text() -> None:
    result = build_result()
    evil = SubmissionResult(
        student="<b>bob</b>",
        problems=result.problems,
        notes=("<img src=x onerror=alert(1)>",),
    )
    html = render_html(evil, TITLE)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert "<b>bob</b>" not in html and "&lt;b&gt;bob&lt;/b&gt;" in html
    assert "<img" not in html


def test_html_is_self_contained() -> None:
    html = render_html(build_result(), TITLE)
    assert "<style>" in html
    for external in ("<script", "<link", "src=", "http://", "https://", "@import"):
        assert external not in html, external


def test_html_notes_errors_and_layers_come_before_the_summary() -> None:
    html = render_html(build_result(), TITLE)
    summary = html.index("<h2>Summary</h2>")
    for text in ("unknown key &#39;p8&#39;", "writeup.pdf was skipped", "bubblewrap"):
        assert 0 < html.index(text) < summary
    bare = SubmissionResult(student="alice", problems=build_result().problems)
    bare_html = render_html(bare, TITLE)
    assert "Input errors" not in bare_html and "Isolation layers" not in bare_html


def test_html_summary_has_one_row_per_problem() -> None:
    html = render_html(build_result(), TITLE)
    body = html[html.index('<table class="summary">') : html.index("</table>")]
    rows = re.findall(r'<a href="#(P\d)">', body)
    assert rows == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    assert "0 / 10 (+10 pending)" in body  # P4
    assert '<span class="badge timeout">' not in body  # P5 scored 10 of 20: partial
    assert '<span class="badge partial">partial</span>' in body


# --- Markdown ---------------------------------------------------------------------------


def split_row(line: str) -> list[str]:
    """Cells of a GFM table row: split on pipes that are not backslash-escaped."""
    assert line.startswith("|") and line.endswith("|"), line
    return [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]


def table_of(md: str) -> tuple[list[str], list[str], list[list[str]]]:
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Problem"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(split_row(line))
    return split_row(lines[start]), split_row(lines[start + 1]), rows


def test_markdown_table_has_header_separator_and_one_row_per_check() -> None:
    result = build_result()
    header, separator, rows = table_of(render_markdown(result, TITLE))
    assert header == ["Problem", "Score", "Max", "Outcome", "Feedback"]
    assert all(re.fullmatch(r":?-{3,}:?", s) for s in separator) and len(separator) == 5
    assert len(rows) == len(result.checks())
    assert all(len(r) == 5 for r in rows)
    by_id = {r[0].split(":")[0].replace("\\", ""): r for r in rows}
    assert by_id["P2"][1:4] == ["7.5", "10", "partial"]
    assert "Recognised mistake: stride 1" in by_id["P2"][4]
    assert by_id["P4"][1] == "pending"
    assert by_id["P7 lenet_full"][1:4] == ["not scored", "10", "error (grader error)"]


def test_markdown_cell_with_pipe_and_newline_stays_one_row() -> None:
    _, _, rows = table_of(render_markdown(build_result(), TITLE))
    row = next(r for r in rows if r[0].startswith("P6b dyL/dAl"))
    assert row[4] == "Could not be read \\| needs a person<br>second line"


def test_markdown_title_total_and_sections() -> None:
    md = render_markdown(build_result(), TITLE)
    assert md.startswith("# Grading report: alice\n")
    assert f"**Total: {EXPECTED_TOTAL}**" in md
    for p in P:
        assert re.search(rf"^## {p.value}\. ", md, re.M), p
    assert "`writeup.md:12`" in md and "`writeup.md`" in md  # a source without a line


def test_markdown_escapes_student_text() -> None:
    md = render_markdown(build_result(), TITLE)
    outside_fences = re.sub(r"^(`{3,})text\n.*?^\1$", "", md, flags=re.M | re.S)
    assert "<script>" not in outside_fences
    # The source text itself is kept verbatim, but inside a fenced block.
    assert f"```text\n{HOSTILE}\n```" in md


def test_markdown_fence_outgrows_backticks_in_source() -> None:
    block = md_code_block("```\n# not a heading\n```")
    assert block == "````text\n```\n# not a heading\n```\n````"
    assert md_code_span("a`b") == "``a`b``"
    assert md_code_span("`x") == "`` `x ``"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("83.5 / 100", "83.5 / 100"),
        (
            "*bold* _it_ [link](x) `code` ~s~ $x$",
            r"\*bold\* \_it\_ \[link\](x) \`code\` \~s\~ \$x\$",
        ),
        ("- not a list", r"\- not a list"),
        ("1. not a list", r"1\. not a list"),
        ("# not a heading", r"\# not a heading"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("back\\slash", "back\\\\slash"),
    ],
)
def test_md_inline_escapes(raw: str, escaped: str) -> None:
    assert md_inline(raw) == escaped


# --- results.json -----------------------------------------------------------------------


def test_results_json_follows_the_contract() -> None:
    result = build_result()
    data = json.loads(render_results_json(result, reference_hash="abc123", version="9.9"))
    assert data["score"] == 47.5
    tests = data["tests"]
    assert [t["name"] for t in tests] == [c.test_id for c in result.checks()]
    for p in P:
        assert any(t["name"].startswith(p.value) for t in tests), p
    outcomes = {o.value for o in Outcome}
    for t, c in zip(tests, result.checks(), strict=True):
        assert t["extra_data"]["outcome"] in outcomes
        assert t["extra_data"]["outcome"] == c.outcome.value
        assert t["max_score"] == c.max_score
        assert t["status"] == ("passed" if c.outcome is Outcome.FULL else "failed")
        assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert t["output"].startswith(c.feedback)
    assert data["score"] == pytest.approx(sum(t["score"] for t in tests))
    extra = data["extra_data"]
    assert extra["grader_version"] == "9.9"
    assert extra["reference_hash"] == "abc123"
    assert extra["sandbox_layers"] == ["rlimits", "bubblewrap", "seccomp"]
    assert extra["pending_points"] == EXPECTED_PENDING


def test_results_json_pending_and_mistake_and_hidden() -> None:
    tests = {t["name"]: t for t in json.loads(render_results_json(build_result()))["tests"]}
    p4 = tests["P4"]
    assert (p4["score"], p4["status"], p4["extra_data"]["pending"]) == (0.0, "failed", True)
    assert "counted as 0 of 10" in p4["output"]
    assert "Recognised mistake: stride 1" in tests["P2"]["output"]
    assert tests["P2"]["extra_data"]["mistake"] == "stride 1"
    assert tests["P6b dyL/dAl"]["visibility"] == "hidden"
    assert tests["P1"]["visibility"] == "visible"
    assert "reference_hash" not in json.loads(render_results_json(build_result()))["extra_data"]


def test_results_json_keeps_one_test_per_problem_even_without_checks() -> None:
    # A problem with no checks, and a check whose id lacks the problem prefix.
    result = SubmissionResult(
        student="x",
        problems=(
            ProblemResult(P.P3, "RGB", ()),
            ProblemResult(
                P.P7,
                "C3",
                (CheckResult("c3 only", P.P7, "C3", Status.PASSED, 4.0, 4.0, "ok"),),
            ),
        ),
    )
    names = [t["name"] for t in json.loads(render_results_json(result))["tests"]]
    assert names == ["P3", "P7 c3 only"]


def test_bad_numbers_are_refused_with_the_check_named() -> None:
    bad = SubmissionResult(
        student="zed",
        problems=(ProblemResult(P.P1, "t", (check("P1", Status.PASSED, float("nan"), 10.0),)),),
    )
    with pytest.raises(ReportError, match=r"student 'zed', check 'P1': score nan"):
        render_results_json(bad)


def test_results_json_passes_full_marks_however_they_were_given() -> None:
    result = SubmissionResult(
        student="x",
        problems=(
            ProblemResult(P.P1, "t", (check("P1", Status.PASSED, 10.0, 10.0),)),
            ProblemResult(
                P.P4,
                "proof",
                (
                    check("P4 a", Status.MANUAL_GRADED, 10.0, 10.0),
                    check("P4 b", Status.MANUAL_GRADED, 9.5, 10.0),
                    check("P4 c", Status.MANUAL_PENDING, None, 10.0),
                ),
            ),
            # Points summed in floating point still reach the maximum.
            ProblemResult(P.P6, "t", (check("P6", Status.PARTIAL, 0.1 + 0.2, 0.3),)),
            ProblemResult(P.P7, "t", (check("P7", Status.PASSED, 0.3, 0.1 + 0.2),)),
        ),
    )
    tests = {t["name"]: t for t in json.loads(render_results_json(result))["tests"]}
    status = {name: t["status"] for name, t in tests.items()}
    assert status == {
        "P1": "passed",
        "P4 a": "passed",
        "P4 b": "failed",
        "P4 c": "failed",
        "P6": "passed",
        "P7": "passed",
    }
    assert tests["P4 a"]["extra_data"]["outcome"] == "manual"  # the outcome is not rewritten


@pytest.mark.parametrize(
    ("score", "missing", "written"),
    [
        (None, "", ""),
        (None, "pending", "pending"),
        (10.0, "-", "10"),
        (83.5, "-", "83.5"),
        (10 / 3, "-", "3.33"),
        (2 / 3, "-", "0.67"),
        (83.333333, "", "83.33"),
        (-0.001, "-", "0"),
        (0.0, "-", "0"),
        (1e6, "-", "1000000"),
    ],
)
def test_points_rounds_to_two_decimals_and_names_a_missing_score(
    score: float | None, missing: str, written: str
) -> None:
    assert points(score, missing=missing) == written


def test_reporting_text_loads_without_jinja2() -> None:
    # Exports and the batch summary import these two; jinja2 is for the page renderers only.
    code = (
        "import sys\n"
        "import grader.reporting.text, grader.reporting.atomic\n"
        "import grader.exports.csv_export, grader.exports.junit, grader.batch.summary\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 was imported'\n"
        "from grader.reporting import render_html, write_reports, ReportPaths\n"
        "assert 'jinja2' in sys.modules and callable(render_html)\n"
        "import grader.reporting as r\n"
        "assert all(hasattr(r, name) for name in r.__all__)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    with pytest.raises(AttributeError, match="no attribute 'render_pdf'"):
        grader.reporting.render_pdf  # noqa: B018


# --- terminal ---------------------------------------------------------------------------


def test_terminal_plain_has_tables_and_total_without_colour() -> None:
    result = build_result()
    out = render_terminal(result, color=False)
    assert "\x1b" not in out
    assert out.rstrip().endswith(f"Total: {EXPECTED_TOTAL} (+27.5 pending)")
    for c in result.checks():
        assert re.search(rf"^  {re.escape(c.test_id)} +\S", out, re.M), c.test_id
    assert re.search(r"^  P4 +pending / 10  manual \(needs manual grading\)", out, re.M)
    assert all(len(line) <= 120 for line in out.splitlines())


def test_terminal_colour_and_trimming() -> None:
    long = "word " * 100
    result = SubmissionResult(
        student="s",
        problems=(ProblemResult(P.P1, "t", (check("P1", Status.FAILED, 0.0, 10.0, long),)),),
    )
    coloured = render_terminal(result, color=True, width=80)
    assert "\x1b[31mzero" in coloured
    row = next(line for line in render_terminal(result, width=80).splitlines() if "  P1 " in line)
    assert len(row) <= 80 and row.endswith("...")


def test_terminal_neutralises_control_characters_from_student_text() -> None:
    result = SubmissionResult(
        student="s",
        problems=(
            ProblemResult(
                P.P1, "t", (check("P1", Status.NEEDS_REVIEW, None, 10.0, "Raw: \x1b[2J"),)
            ),
        ),
    )
    out = render_terminal(result, color=False)
    assert "\x1b" not in out and "Raw: \\x1b[2J" in out


# --- writing ----------------------------------------------------------------------------


def test_write_reports_writes_three_files(tmp_path: Path) -> None:
    result = build_result()
    paths = write_reports(result, tmp_path, TITLE, reference_hash="abc")
    assert paths == ReportPaths(
        html=tmp_path / "alice" / "report.html",
        markdown=tmp_path / "alice" / "report.md",
        results_json=tmp_path / "alice" / "results.json",
    )
    assert paths.html.read_text() == render_html(result, TITLE, reference_hash="abc")
    assert paths.markdown.read_text() == render_markdown(result, TITLE)
    assert json.loads(paths.results_json.read_text())["extra_data"]["reference_hash"] == "abc"
    assert sorted(p.name for p in (tmp_path / "alice").iterdir()) == [
        "report.html",
        "report.md",
        "results.json",
    ]
    assert paths.html.stat().st_mode & 0o777 == 0o644


def test_failed_write_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = build_result()
    paths = write_reports(result, tmp_path, TITLE)
    before = paths.html.read_text()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    other = SubmissionResult(student="alice", problems=result.problems[:1])
    with pytest.raises(ReportError, match=r"cannot write the reports of 'alice' to .*alice"):
        write_reports(other, tmp_path, TITLE)
    assert paths.html.read_text() == before
    assert sorted(p.name for p in (tmp_path / "alice").iterdir()) == [
        "report.html",
        "report.md",
        "results.json",
    ]  # no temporary file left behind


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "", " padded", "a\\b"])
def test_unsafe_student_names_are_refused(tmp_path: Path, name: str) -> None:
    result = SubmissionResult(student=name, problems=build_result().problems)
    out = tmp_path / "out"
    with pytest.raises(ReportError, match="cannot be used as a folder name"):
        write_reports(result, out, TITLE)
    assert not out.exists()


def test_out_dir_that_is_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder")
    with pytest.raises(ReportError, match=r"cannot write the reports of 'alice'"):
        write_reports(build_result(), blocker, TITLE)


def test_every_renderer_handles_a_problem_without_checks() -> None:
    result = SubmissionResult(student="y", problems=(ProblemResult(P.P5, "Square loss", ()),))
    assert "No checks were recorded for this problem." in render_html(result, TITLE)
    md = render_markdown(result, TITLE)
    assert "No checks were recorded for this problem." in md
    assert table_of(md)[2] == []
    assert "(no checks were recorded for this problem)" in render_terminal(result)
    assert "Total: 0 / 0" in render_terminal(result)
