"""P5 claims: the accuracies a student reports, checked for consistency and plausibility.

A claim like "1820/1991 (91.41%)" is consistent when the total is the size of the test split
and the printed percent is 100*c/total to the digits printed (rounded or truncated in the
last digit); it is plausible when the percent lies in the reference's band. The grader
measures accuracy itself elsewhere; this check only reads what the student wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from grader.checks.common import Slot, judge_answer
from grader.models import (
    AccuracyAnswer,
    AccuracyClaim,
    Answer,
    CheckResult,
    LossKind,
    ProblemId,
)
from grader.reference import P5Spec

P5_CLAIMS_TEST_ID = "P5 claims"

LOSS_NAMES = {LossKind.SQUARE: "square loss", LossKind.LOGISTIC: "logistic loss"}

# --- judging a claim ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimVerdict:
    """One claim judged: None where there was nothing to check."""

    kind: LossKind
    consistent: bool
    plausible: bool | None
    words: str

    @property
    def credit(self) -> float:
        """Half for consistent arithmetic, half for a plausible value."""
        return 0.5 * self.consistent + 0.5 * bool(self.plausible)


def _printed(claim: AccuracyClaim) -> Decimal | None:
    text = claim.percent_text
    if text is not None:
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            pass
    return None if claim.percent is None else Decimal(repr(claim.percent))


def _readings(correct: int, total: int, digits: int) -> tuple[Decimal, Decimal]:
    """100*c/total rounded and truncated to `digits` decimals."""
    exact = Decimal(100 * correct) / Decimal(total)
    step = Decimal(1).scaleb(-digits)
    return exact.quantize(step, ROUND_HALF_UP), exact.quantize(step, ROUND_DOWN)


def _digits(d: Decimal) -> int:
    exponent = d.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _band_words(spec: P5Spec, value: float) -> tuple[bool, str]:
    lo, hi = spec.plausible_percent
    band = f"the plausible band {lo:g}-{hi:g}%"
    if value < lo:
        return False, f"below {band} for a working loss and training"
    if value > hi:
        return False, f"above {band}"
    return True, f"inside {band}"


def _verdict(
    spec: P5Spec, kind: LossKind, consistent: bool, said: str, value: float | None
) -> ClaimVerdict:
    """Joins the arithmetic finding with the plausibility of `value` (a percent)."""
    name = LOSS_NAMES[kind]
    if value is None:
        return ClaimVerdict(kind, consistent, None, f"{name}: {said}")
    plausible, band = _band_words(spec, value)
    joiner = ", and " if plausible and consistent else "; but " if consistent else "; it is "
    return ClaimVerdict(kind, consistent, plausible, f"{name}: {said}{joiner}{band}")


def judge_claim(spec: P5Spec, kind: LossKind, claim: AccuracyClaim) -> ClaimVerdict:
    expected_total = spec.test_total
    printed = _printed(claim)
    total = claim.total if claim.total is not None else expected_total
    c = claim.correct
    if claim.total is not None and claim.total != expected_total:
        said = f"the total is {claim.total}, but the test split has {expected_total} images"
        value = float(printed) if printed is not None else None
        if value is None and c is not None and total > 0:
            value = 100.0 * c / total
        return _verdict(spec, kind, False, said, value)
    if c is not None:
        if c > total:
            return _verdict(spec, kind, False, f"{c} correct out of {total} is impossible", None)
        digits = 2 if printed is None else _digits(printed)
        rounded, truncated = _readings(c, total, digits)
        if printed is None:
            consistent, said = True, f"{c}/{total} is {rounded}%"
        elif printed == rounded:
            consistent, said = True, f"{c}/{total} is {rounded}%, as printed"
        elif printed == truncated:
            finer = _readings(c, total, digits + 2)[0]
            consistent, said = True, f"{c}/{total} is {finer}%, printed truncated as {printed}%"
        else:
            consistent, said = False, f"{c}/{total} is {rounded}%, not the printed {printed}%"
        return _verdict(spec, kind, consistent, said, 100.0 * c / total)
    if printed is None:
        return _verdict(spec, kind, False, "no count or percent could be read", None)
    digits = _digits(printed)
    possible = any(printed in _readings(n, total, digits) for n in range(total + 1))
    said = (
        f"{printed}% (no count given; it is n/{total} for some count n)"
        if possible
        else f"{printed}% is not n/{total} for any count n"
    )
    return _verdict(spec, kind, possible, said, float(printed))


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def _judge(spec: P5Spec, answer: Answer, value: AccuracyAnswer) -> CheckResult:
    verdicts = [judge_claim(spec, kind, claim) for kind, claim in value.claims]
    words = [_sentence(v.words) for v in verdicts]
    credit = 0.0
    for kind in LossKind:
        mine = [v for v in verdicts if v.kind is kind]
        if not mine:
            words.append(_sentence(f"no accuracy was reported for the {LOSS_NAMES[kind]}"))
            continue
        # Each loss is half of the item; several claims for one loss share its half.
        credit += 0.5 * sum(v.credit for v in mine) / len(mine)
    return _slot(spec).scored(credit, " ".join(words), answer=answer)


def _slot(spec: P5Spec) -> Slot:
    return Slot(
        P5_CLAIMS_TEST_ID, ProblemId.P5, spec.claims.title, spec.claims.points, spec.visibility
    )


def check_p5_claims(spec: P5Spec, answer: Answer | None) -> tuple[CheckResult, ...]:
    def judge(a: Answer, value: AccuracyAnswer) -> CheckResult:
        if not value.claims:
            return _slot(spec).missing("No reported test accuracy was found.")
        return _judge(spec, a, value)

    return (judge_answer(_slot(spec), answer, AccuracyAnswer, "reported accuracies", judge),)
