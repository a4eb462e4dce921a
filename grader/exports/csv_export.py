"""The CSV gradebook in the layout Canvas imports: Student, ID, SIS User ID, SIS Login ID,
Section, then one column per problem and the total, with a "Points Possible" row first."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.gradebook import StoredGrading
from grader.models import ProblemId
from grader.reporting.atomic import write_atomic
from grader.reporting.text import points

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"


class RosterError(Exception):
    """The roster file cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class RosterEntry:
    """How the LMS knows one student; `folder` is the submission folder's name."""

    folder: str
    student: str
    id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""

    def cells(self) -> list[str]:
        return [self.student, self.id, self.sis_user_id, self.sis_login_id, self.section]


def read_roster(path: Path) -> dict[str, RosterEntry]:
    """A CSV with a `folder` column and any of Student, ID, SIS User ID, SIS Login ID,
    Section (the first columns of a Canvas gradebook export, plus the folder name)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "folder" not in reader.fieldnames:
        raise RosterError(f"{path}: the first line must name the columns, one of them 'folder'")
    roster: dict[str, RosterEntry] = {}
    for row in reader:
        line = reader.line_num
        folder = (row.get("folder") or "").strip()
        if not folder:
            raise RosterError(f"{path}:{line}: the 'folder' cell is empty")
        if folder in roster:
            raise RosterError(f"{path}:{line}: folder {folder!r} is listed twice")
        roster[folder] = RosterEntry(
            folder=folder,
            student=(row.get("Student") or folder).strip(),
            id=(row.get("ID") or "").strip(),
            sis_user_id=(row.get("SIS User ID") or "").strip(),
            sis_login_id=(row.get("SIS Login ID") or "").strip(),
            section=(row.get("Section") or "").strip(),
        )
    return roster


def _text(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet (CSV injection): quote it.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def problem_maxima(gradings: Sequence[StoredGrading]) -> dict[ProblemId, float]:
    maxima: dict[ProblemId, float] = {}
    for g in gradings:
        for problem in ProblemId:
            m = g.problem_max(problem)
            if m is not None:
                maxima[problem] = max(maxima.get(problem, 0.0), m)
    return maxima


def render_csv(
    gradings: Sequence[StoredGrading],
    assignment: str = "HW4",
    roster: Mapping[str, RosterEntry] | None = None,
) -> str:
    roster = roster or {}
    maxima = problem_maxima(gradings)
    columns = [f"{assignment} {p.value}" for p in ProblemId] + [f"{assignment} Total"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*IDENTITY_COLUMNS, *columns])
    possible = [points(maxima.get(p), missing="") for p in ProblemId]
    possible.append(points(sum(maxima.values()), missing=""))
    writer.writerow([POINTS_POSSIBLE, "", "", "", "", *possible])
    for g in sorted(gradings, key=lambda g: g.student):
        who = roster.get(g.student, RosterEntry(g.student, g.student))
        if g.error is not None:
            scores = [""] * (len(ProblemId) + 1)  # blank: not graded, not zero
        else:
            # A problem still waiting for a person stays blank; the total counts it as 0,
            # as results.json does.
            scores = [points(g.problem_score(p), missing="") for p in ProblemId]
            scores.append(points(g.score, missing=""))
        writer.writerow([*(_text(c) for c in who.cells()), *scores])
    return out.getvalue()


def write_csv(
    path: Path,
    gradings: Sequence[StoredGrading],
    assignment: str = "HW4",
    roster: Mapping[str, RosterEntry] | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render_csv(gradings, assignment, roster))
    return path
