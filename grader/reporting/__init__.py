"""Reporting: renders a SubmissionResult as HTML, Markdown, Gradescope JSON and plain text.

It never runs student code and never grades: it only presents results it is given.
"""

from grader.reporting.gradescope import render_results_json, results_json_data
from grader.reporting.html import render_html
from grader.reporting.markdown import render_markdown
from grader.reporting.terminal import render_terminal
from grader.reporting.text import ReportError
from grader.reporting.write import ReportPaths, write_reports

__all__ = [
    "ReportError",
    "ReportPaths",
    "render_html",
    "render_markdown",
    "render_results_json",
    "render_terminal",
    "results_json_data",
    "write_reports",
]
