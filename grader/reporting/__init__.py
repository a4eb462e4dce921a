"""Reporting: renders a SubmissionResult as HTML, Markdown, Gradescope JSON and plain text.

It never runs student code and never grades: it only presents results it is given.

The renderers are imported on first use: exports and the batch summary reach for
reporting.text and reporting.atomic alone and should not pay for jinja2 (~35 ms).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from grader.reporting.text import ReportError

if TYPE_CHECKING:
    from grader.reporting.gradescope import render_results_json, results_json_data
    from grader.reporting.html import render_html
    from grader.reporting.markdown import render_markdown
    from grader.reporting.terminal import render_terminal
    from grader.reporting.write import ReportPaths, write_reports

_LAZY = {
    "render_results_json": "grader.reporting.gradescope",
    "results_json_data": "grader.reporting.gradescope",
    "render_html": "grader.reporting.html",
    "render_markdown": "grader.reporting.markdown",
    "render_terminal": "grader.reporting.terminal",
    "ReportPaths": "grader.reporting.write",
    "write_reports": "grader.reporting.write",
}

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


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value
