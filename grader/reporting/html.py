"""The HTML report: one self-contained page (inline CSS, no scripts, no external assets)."""

from __future__ import annotations

from grader.models import SubmissionResult
from grader.reporting.templating import html_environment
from grader.reporting.text import pending_points, validate
from grader.reporting.version import grader_version


def render_html(
    result: SubmissionResult,
    reference_title: str,
    *,
    reference_hash: str | None = None,
) -> str:
    validate(result)
    return (
        html_environment()
        .get_template("report.html.j2")
        .render(
            result=result,
            reference_title=reference_title,
            reference_hash=reference_hash,
            pending=pending_points(result.checks()),
            grader_version=grader_version(),
        )
    )
