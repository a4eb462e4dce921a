"""Scores a person enters (P4's proof), kept on the instructor's side of the fence.

The file lives beside the reports, `<out>/<student>/manual_scores.toml`, never inside the
submission folder: a student could otherwise hand in their own scores.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from grader.models import ManualScore

MANUAL_FILE = "manual_scores.toml"


class ManualScoresError(Exception):
    """The manual scores file is malformed; the message names the entry."""


def manual_scores_path(out_dir: Path, student: str) -> Path:
    return out_dir / student / MANUAL_FILE


def read_manual_scores(path: Path) -> tuple[ManualScore, ...]:
    """Entries with a score; entries left blank (no `score`) mean still pending."""
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManualScoresError(f"{path} is not valid TOML: {exc}") from None
    scores: list[ManualScore] = []
    for test_id, entry in data.items():
        if not isinstance(entry, dict):
            raise ManualScoresError(f"{path}: '{test_id}' must be a [section] with a score")
        if "score" not in entry:
            continue
        score = entry["score"]
        if isinstance(score, bool) or not isinstance(score, int | float) or score < 0:
            raise ManualScoresError(f"{path}: [{test_id}] score must be a number >= 0")
        scores.append(
            ManualScore(
                test_id=test_id,
                score=float(score),
                comment=str(entry.get("comment", "")),
                grader=str(entry.get("grader", "")),
            )
        )
    return tuple(scores)


def manual_template(student: str, items: tuple[tuple[str, float, tuple[str, ...]], ...]) -> str:
    """A file for the instructor to fill in: one section per item graded by a person."""
    lines = [
        f"# Scores entered by a person for {student}. Fill in `score`, then run `grade` again:",
        "# the reports and results.json then include them. Leave `score` out while pending.",
        "",
    ]
    for test_id, points, rubric in items:
        lines.append(f"[{test_id}]")
        lines.extend(f"# {r}" for r in rubric)
        lines.append(f"# score = 0        # out of {points:g}")
        lines.append('# comment = ""')
        lines.append('# grader = ""')
        lines.append("")
    return "\n".join(lines)
