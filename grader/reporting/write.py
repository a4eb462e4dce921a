"""Writing one student's reports to <out_dir>/<student>/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.models import SubmissionResult
from grader.reporting.atomic import write_atomic
from grader.reporting.gradescope import render_results_json
from grader.reporting.html import render_html
from grader.reporting.markdown import render_markdown
from grader.reporting.text import ReportError, validate


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    markdown: Path
    results_json: Path


def _student_folder(out_dir: Path, student: str) -> Path:
    # The student name becomes a folder: refuse anything that could leave out_dir.
    bad = (
        not student.strip()
        or student in (".", "..")
        or any(ch in student for ch in "/\\\x00")
        or student != student.strip()
    )
    if bad:
        raise ReportError(
            f"student name {student!r} cannot be used as a folder name under {out_dir} "
            "(it is empty, has leading or trailing spaces, or contains '/', '\\' or NUL)"
        )
    return out_dir / student


def write_reports(
    result: SubmissionResult,
    out_dir: Path,
    reference_title: str,
    reference_hash: str | None = None,
) -> ReportPaths:
    """Render all three reports first, then write each atomically: a failure in rendering
    leaves the previous reports untouched."""
    validate(result)
    folder = _student_folder(out_dir, result.student)
    contents = (
        render_html(result, reference_title, reference_hash=reference_hash),
        render_markdown(result, reference_title),
        render_results_json(result, reference_hash=reference_hash, reference_title=reference_title),
    )
    paths = ReportPaths(
        html=folder / "report.html",
        markdown=folder / "report.md",
        results_json=folder / "results.json",
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, content in zip(
            (paths.html, paths.markdown, paths.results_json), contents, strict=True
        ):
            write_atomic(path, content)
    except OSError as e:
        raise ReportError(f"cannot write the reports of {result.student!r} to {folder}: {e}") from e
    return paths
