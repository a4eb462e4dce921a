"""A plain-text summary for the terminal: one small table per problem, then the total."""

from __future__ import annotations

import re

from grader.models import CheckResult, Outcome, SubmissionResult
from grader.reporting.text import check_score_of_max, outcome_label, problem_total, submission_total

_ANSI: dict[Outcome, str] = {
    Outcome.FULL: "32",
    Outcome.PARTIAL: "33",
    Outcome.ZERO: "31",
    Outcome.MANUAL: "35",
    Outcome.MISSING: "90",
    Outcome.ERROR: "1;31",
    Outcome.TIMEOUT: "1;33",
}
# Student text reaches feedback (e.g. an unreadable answer's raw text): control characters
# such as ESC would let it drive the instructor's terminal, so they are made visible.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(s: str) -> str:
    s = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", s)
    return " ".join(s.split())


def _trim(s: str, width: int) -> str:
    return s if len(s) <= width else s[: max(width - 3, 0)].rstrip() + "..."


def _paint(text: str, outcome: Outcome, color: bool) -> str:
    return f"\x1b[{_ANSI[outcome]}m{text}\x1b[0m" if color else text


def _row(check: CheckResult, widths: tuple[int, int, int], feedback_width: int, color: bool) -> str:
    name_w, score_w, outcome_w = widths
    outcome = _paint(outcome_label(check).ljust(outcome_w), check.outcome, color)
    feedback = _clean(check.feedback)
    if check.mistake:
        feedback = f"[{_clean(check.mistake)}] {feedback}"
    return (
        f"  {_clean(check.test_id).ljust(name_w)}  {check_score_of_max(check).rjust(score_w)}  "
        f"{outcome}  {_trim(feedback, feedback_width)}"
    ).rstrip()


def render_terminal(result: SubmissionResult, color: bool = False, width: int = 120) -> str:
    """`color` adds ANSI colours to outcomes: pass `sys.stdout.isatty()`."""
    lines = [f"Grading report: {_clean(result.student)}", f"Total: {submission_total(result)}"]
    for heading, items in (("Input errors", result.input_errors), ("Notes", result.notes)):
        if items:
            lines += ["", f"{heading}:"] + [f"  - {_clean(i)}" for i in items]
    if result.sandbox_layers:
        lines += ["", "Isolation layers: " + ", ".join(_clean(s) for s in result.sandbox_layers)]
    checks = result.checks()
    widths = (
        max([5] + [len(_clean(c.test_id)) for c in checks]),
        max([5] + [len(check_score_of_max(c)) for c in checks]),
        max([7] + [len(outcome_label(c)) for c in checks]),
    )
    feedback_width = max(width - sum(widths) - 8, 20)
    header = (
        f"  {'Check'.ljust(widths[0])}  {'Score'.rjust(widths[1])}  "
        f"{'Outcome'.ljust(widths[2])}  Feedback"
    )
    for p in result.problems:
        lines += ["", f"{p.problem.value}  {_clean(p.title)}  ({problem_total(p)})", header]
        if not p.checks:
            lines.append("  (no checks were recorded for this problem)")
        lines += [_row(c, widths, feedback_width, color) for c in p.checks]
    lines += ["", f"Total: {submission_total(result)}"]
    return "\n".join(lines) + "\n"
