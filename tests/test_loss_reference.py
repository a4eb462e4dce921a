"""check-reference for P5 trains the reference losses and catches a broken edit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from grader.checks.loss_reference import verify_p5_reference
from grader.reference import load_reference

pytestmark = pytest.mark.slow
SPEC = load_reference().p5


def test_reference_p5_verifies() -> None:
    checks = verify_p5_reference(SPEC)
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    trained = [c for c in checks if "trained with the protocol" in c.name]
    assert len(trained) == 2 and all("/1991" in c.detail for c in trained)


def test_an_unreachable_threshold_fails() -> None:
    checks = verify_p5_reference(replace(SPEC, min_accuracy_percent=99.5))
    failed = {c.name for c in checks if not c.passed}
    assert "sum-of-squares loss trained with the protocol reaches 99.5%" in failed
    assert "plausible band and threshold are sensible" not in failed


def test_a_threshold_outside_the_band_fails() -> None:
    checks = verify_p5_reference(replace(SPEC, plausible_percent=(95.0, 100.0)))
    assert not next(c for c in checks if c.name.startswith("plausible band")).passed


def test_a_renamed_mistake_is_caught() -> None:
    first, *rest = SPEC.mistakes
    renamed = replace(SPEC, mistakes=(replace(first, name="labels as bits"), *rest))
    check = next(c for c in verify_p5_reference(renamed) if "credit and feedback" in c.name)
    assert not check.passed and "labels as bits" in check.detail


def test_mistake_credit_and_words_come_from_the_reference(tmp_path: Path) -> None:
    from grader.checks.loss import check_p5_code
    from grader.extraction.code import read_submission_code

    (tmp_path / "loss.py").write_text(
        "import torch\n\n\ndef sq(z, y):\n    return torch.mean(2 * torch.sigmoid(-y * z))\n"
    )
    lenient = replace(
        SPEC,
        mistakes=tuple(
            replace(m, credit=0.25, feedback="Square it, please.")
            if m.name == "missing square"
            else m
            for m in SPEC.mistakes
        ),
    )
    loss, _ = check_p5_code(lenient, read_submission_code(tmp_path), tmp_path)
    assert loss.mistake == "missing square"
    assert loss.score == 0.25 * SPEC.loss.points
    assert "Square it, please." in loss.feedback
