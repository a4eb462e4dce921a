"""check-reference for P5 trains the reference losses and catches a broken edit."""

from __future__ import annotations

from dataclasses import replace

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
