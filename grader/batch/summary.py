"""The table printed after a class run: one line per student, then the totals."""

from __future__ import annotations

from grader.batch.runner import ClassRun, StudentOutcome
from grader.models import ProblemId
from grader.reporting.text import number, points


def _row(o: StudentOutcome) -> list[str]:
    g = o.grading
    if g.error is not None:
        return [o.student, *(["-"] * len(ProblemId)), "-", f"not graded: {g.error}"]
    pending = any(c.score is None for c in g.checks)
    total = f"{number(g.score or 0.0)}/{number(g.max_score or 0.0)}"
    state = "reused" if o.reused else f"graded in {o.seconds:.1f} s"
    if pending:
        state += ", awaiting manual scores"
    return [o.student, *(points(g.problem_score(p), missing="-") for p in ProblemId), total, state]


def summary_table(run: ClassRun) -> str:
    header = ["student", *(p.value for p in ProblemId), "total", ""]
    rows = [header, *(_row(o) for o in run.outcomes)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = []
    for r in rows:
        cells = [
            r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(len(widths))
        ]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    graded = len(run.outcomes) - run.reused
    failed = len(run.failures)
    tail = (
        f"{len(run.outcomes)} students: {graded} graded, {run.reused} reused unchanged, "
        f"{failed} could not be graded; {run.seconds:.1f} s"
    )
    if run.outside_shard:
        tail += f" ({run.outside_shard} more belong to other shards)"
    return "\n".join([*lines, tail])
