"""P5 claims: reading accuracy claims, and judging them for consistency and plausibility."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest

from grader.checks.accuracy_claims import check_p5_claims
from grader.extraction.accuracy_text import parse_accuracy_claim
from grader.models import (
    AccuracyAnswer,
    AccuracyClaim,
    Answer,
    CountAnswer,
    LossKind,
    ProblemId,
    Source,
    Status,
    Unreadable,
)
from grader.reference import Reference, load_reference

SQUARE, LOGISTIC = LossKind.SQUARE, LossKind.LOGISTIC


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def claims(*pairs: tuple[LossKind, str]) -> Answer:
    parsed = []
    for kind, text in pairs:
        claim = parse_accuracy_claim(text)
        assert claim is not None, text
        parsed.append((kind, claim))
    text = "; ".join(t for _, t in pairs)
    return Answer(
        ProblemId.P5, "claims", AccuracyAnswer(tuple(parsed)), Source("answers.toml", None, text)
    )


# --- reading ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1897/1991 (95.28%)",
        "1897/1991(95.28)%",
        r"\frac{1897}{1991} \approx 95.28\%",
        r"95.28\% (1897 of 1991)",
        "1897 out of 1991 = 95.28 %",
        r"\dfrac{1897}{1991} = 95.28\,\%",
        "1897/1991 (95.28)",
    ],
)
def test_parse_count_and_percent_forms(text: str) -> None:
    assert parse_accuracy_claim(text) == AccuracyClaim(1897, 1991, 95.28, "95.28")


def test_parse_keeps_the_printed_digits() -> None:
    claim = parse_accuracy_claim(r"1893/1991 = 95.08\%")
    assert claim == AccuracyClaim(1893, 1991, 95.08, "95.08")
    assert parse_accuracy_claim("Test accuracy 95.3%") == AccuracyClaim(None, None, 95.3, "95.3")


def test_parse_bare_percent_and_bare_count() -> None:
    assert parse_accuracy_claim("95.28%") == AccuracyClaim(None, None, 95.28, "95.28")
    assert parse_accuracy_claim("1897/1991") == AccuracyClaim(1897, 1991, None, None)


@pytest.mark.parametrize("text", ["", "Cross-entropy is better.", "lr = 0.0255"])
def test_parse_gives_none_without_a_claim(text: str) -> None:
    assert parse_accuracy_claim(text) is None


# --- judging ----------------------------------------------------------------------------


def test_both_claims_consistent_and_plausible_pass(ref: Reference) -> None:
    # Carol's write-up.
    a = claims((LOGISTIC, "1893/1991 = 95.08%"), (SQUARE, "1901/1991 = 95.48%"))
    (r,) = check_p5_claims(ref.p5, a)
    assert r.status is Status.PASSED and r.score == ref.p5.claims.points
    assert r.test_id == "P5 claims" and r.max_score == ref.p5.claims.points
    assert "1901/1991 is 95.48%, as printed" in r.feedback


def test_consistent_but_implausible_square_claim_is_partial(ref: Reference) -> None:
    # Dave's write-up: the arithmetic holds, but 91.41% is too low for a working loss.
    a = claims((SQUARE, "1820/1991 (91.41%)"), (LOGISTIC, "1890/1991 (94.93%)"))
    (r,) = check_p5_claims(ref.p5, a)
    assert r.status is Status.PARTIAL
    assert 0 < (r.score or 0) < ref.p5.claims.points
    assert (
        "Square loss: 1820/1991 is 91.41%, as printed; but below the plausible band 93-100%"
        in r.feedback
    )
    assert "Logistic loss: 1890/1991 is 94.93%, as printed, and inside" in r.feedback


def test_percent_that_does_not_match_the_count(ref: Reference) -> None:
    a = claims((SQUARE, "1897/1991 (96.28%)"), (LOGISTIC, "1893/1991 (95.08%)"))
    (r,) = check_p5_claims(ref.p5, a)
    assert r.status is Status.PARTIAL
    assert "1897/1991 is 95.28%, not the printed 96.28%" in r.feedback


def test_truncated_last_digit_is_accepted(ref: Reference) -> None:
    exact = Decimal(189700) / Decimal(1991)
    truncated = exact.quantize(Decimal("0.01"), ROUND_DOWN)
    assert truncated != exact.quantize(Decimal("0.01"), ROUND_HALF_UP)  # the case is real
    a = claims((SQUARE, f"1897/1991 ({truncated}%)"), (LOGISTIC, "1893/1991 (95.08%)"))
    (r,) = check_p5_claims(ref.p5, a)
    assert r.status is Status.PASSED
    assert f"printed truncated as {truncated}%" in r.feedback


def test_wrong_total_is_named(ref: Reference) -> None:
    a = claims((SQUARE, "1901/2000 (95.05%)"), (LOGISTIC, "1893/1991 (95.08%)"))
    (r,) = check_p5_claims(ref.p5, a)
    assert r.status is Status.PARTIAL
    assert "the total is 2000, but the test split has 1991 images" in r.feedback


def test_bare_percent_is_checked_for_being_some_count(ref: Reference) -> None:
    def reachable(p: Decimal) -> bool:
        for c in range(1992):
            exact = Decimal(100 * c) / Decimal(1991)
            step = Decimal("0.01")
            if p in (exact.quantize(step, ROUND_HALF_UP), exact.quantize(step, ROUND_DOWN)):
                return True
        return False

    unreachable = next(
        p for p in (Decimal(9500 + i).scaleb(-2) for i in range(100)) if not reachable(p)
    )
    a = claims((SQUARE, f"{unreachable}%"), (LOGISTIC, "95.28%"))
    (r,) = check_p5_claims(ref.p5, a)
    assert r.status is Status.PARTIAL
    assert f"{unreachable}% is not n/1991 for any count n" in r.feedback
    assert "95.28% (no count given" in r.feedback


def test_one_loss_missing_is_partial(ref: Reference) -> None:
    (r,) = check_p5_claims(ref.p5, claims((SQUARE, "1897/1991 (95.28%)")))
    assert r.status is Status.PARTIAL
    assert "No accuracy was reported for the logistic loss." in r.feedback


def test_band_comes_from_the_reference(ref: Reference) -> None:
    strict = replace(ref.p5, plausible_percent=(96.0, 100.0))
    a = claims((SQUARE, "1893/1991 = 95.08%"), (LOGISTIC, "1901/1991 = 95.48%"))
    (r,) = check_p5_claims(strict, a)
    assert r.status is Status.PARTIAL
    assert "below the plausible band 96-100%" in r.feedback


def test_missing_unreadable_and_empty(ref: Reference) -> None:
    (r,) = check_p5_claims(ref.p5, None)
    assert r.status is Status.MISSING and r.test_id == "P5 claims"
    src = Source("writeup.md", 25, "accuracy: see plot")
    (u,) = check_p5_claims(ref.p5, Answer(ProblemId.P5, "claims", Unreadable("a plot"), src))
    assert u.status is Status.NEEDS_REVIEW and u.score is None
    (e,) = check_p5_claims(ref.p5, Answer(ProblemId.P5, "claims", AccuracyAnswer(()), src))
    assert e.status is Status.MISSING
    (w,) = check_p5_claims(ref.p5, Answer(ProblemId.P5, "claims", CountAnswer(95), src))
    assert w.status is Status.NEEDS_REVIEW
