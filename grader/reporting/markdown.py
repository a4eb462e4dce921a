"""The Markdown report, for CI job summaries and pull-request comments (GitHub flavour)."""

from __future__ import annotations

from grader.models import SubmissionResult
from grader.reporting.templating import markdown_environment
from grader.reporting.text import pending_points, validate


def render_markdown(result: SubmissionResult, reference_title: str) -> str:
    validate(result)
    return (
        markdown_environment()
        .get_template("report.md.j2")
        .render(
            result=result,
            reference_title=reference_title,
            pending=pending_points(result.checks()),
        )
    )
