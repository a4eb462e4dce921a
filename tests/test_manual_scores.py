"""P4 is never scored by the grader: pending until a person's score is entered."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks.manual import check_p4
from grader.manual_scores import ManualScoresError, manual_template, read_manual_scores
from grader.models import ManualScore, Outcome, Source, Status
from grader.reference import load_reference

SPEC = load_reference().p4
PROOF = Source("writeup.md", 12, "Let S be one pooling window ...")


def test_pending_without_a_score() -> None:
    result = check_p4(SPEC, PROOF, None, writeup_read=True)
    assert result.status is Status.MANUAL_PENDING
    assert result.score is None and result.outcome is Outcome.MANUAL
    assert result.sources == (PROOF,)
    assert any("monotonicity" in d for d in result.details)


def test_missing_when_a_writeup_has_no_proof() -> None:
    result = check_p4(SPEC, None, None, writeup_read=True)
    assert result.status is Status.MISSING and result.score == 0.0


def test_pending_when_nothing_could_be_read() -> None:
    assert check_p4(SPEC, None, None, writeup_read=False).status is Status.MANUAL_PENDING


def test_entered_score_is_used_and_capped() -> None:
    result = check_p4(SPEC, PROOF, ManualScore("P4", 8, "clear", "TA"), writeup_read=True)
    assert result.status is Status.MANUAL_GRADED and result.score == 8
    assert "clear" in result.feedback and "TA" in result.feedback
    capped = check_p4(SPEC, PROOF, ManualScore("P4", 99), writeup_read=True)
    assert capped.score == SPEC.points and "capped" in capped.feedback


def test_template_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "manual_scores.toml"
    path.write_text(manual_template("alice", (("P4", 10.0, SPEC.rubric),)))
    assert read_manual_scores(path) == ()  # blank template: still pending
    path.write_text('[P4]\nscore = 7.5\ncomment = "good"\n')
    assert read_manual_scores(path) == (ManualScore("P4", 7.5, "good", ""),)


def test_bad_manual_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "manual_scores.toml"
    path.write_text('[P4]\nscore = "eight"\n')
    with pytest.raises(ManualScoresError, match="P4"):
        read_manual_scores(path)
