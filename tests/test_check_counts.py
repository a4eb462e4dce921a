"""P7 counts: values, the known mistake, worked arithmetic, and the reference re-derived."""

from __future__ import annotations

from dataclasses import replace

import pytest

from grader.checks.counts import check_p7_counts, read_working, verify_p7_reference
from grader.models import (
    Answer,
    Array,
    CheckResult,
    CountAnswer,
    CountName,
    FilterAnswer,
    ProblemId,
    Source,
    Status,
    Unreadable,
    Visibility,
)
from grader.reference import CountMistake, Reference, load_reference

RIGHT = {
    CountName.C3_ORIGINAL: 1516,
    CountName.C3_FULL: 2416,
    CountName.LENET_ORIGINAL: 60806,
    CountName.LENET_FULL: 61706,
    CountName.REDUCTION: 900,
}


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def count(name: CountName, value: int, work: str | None = None) -> Answer:
    return Answer(
        ProblemId.P7,
        name.value,
        CountAnswer(value, work),
        Source("answers.toml", None, work or str(value)),
    )


def by_id(results: tuple[CheckResult, ...]) -> dict[str, CheckResult]:
    return {r.test_id: r for r in results}


# --- worked arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("25*3*6 + 6 + 25*4*9 + 9 + 25*6 + 1 = 1516", 1516),
        (r"(5\cdot 5)\cdot 3\cdot 6+6 = 456", 456),
        (r"25 \times 3 \times 6 + 6 = 456", 456),
        (
            r"Original C3: $6(3\cdot 25+1) + 9(4\cdot 25+1) + (6\cdot 25+1)"
            r" = 456 + 909 + 151 = 1516$.",
            1516,
        ),
        (r"16(6 \cdot 5^{2} + 1) = 2416", 2416),
        ("61,706 - 60,806 = 900", 900),
    ],
)
def test_working_that_holds(text: str, result: int) -> None:
    working = read_working(text)
    assert working is not None
    assert working.result == result
    assert working.slips() == ()


def test_a_step_that_does_not_hold_is_found() -> None:
    working = read_working(r"6(3\cdot 25+1) + 9(4\cdot 25+1) = 456 + 909 = 1356")
    assert working is not None
    (slip,) = working.slips()
    assert (slip[0].text, slip[0].value) == ("456 + 909", 1365)
    assert (slip[1].text, slip[1].value) == ("1356", 1356)


@pytest.mark.parametrize(
    "text",
    [
        "no arithmetic here",
        "1516",
        "3 4 = 12",  # two numbers side by side are not a product
        "9^9^9 = 1",  # too large to be a count: refused, not computed
        "__import__('os').system('true') = 0",
        "(1 + 2 = 3",
    ],
)
def test_text_that_is_not_checkable_arithmetic(text: str) -> None:
    assert read_working(text) is None


# --- the count check ---------------------------------------------------------------------


def test_all_right_counts_pass(ref: Reference) -> None:
    results = check_p7_counts(ref.p7, {n: count(n, v) for n, v in RIGHT.items()})
    assert [r.test_id for r in results] == [f"P7 {c.name.value}" for c in ref.p7.counts]
    for r, spec in zip(results, ref.p7.counts, strict=True):
        assert r.status is Status.PASSED and r.score == spec.points


def test_biases_not_counted_is_recognised_for_every_value(ref: Reference) -> None:
    (mistake,) = ref.p7.mistakes
    answers = {n: count(n, v) for n, v in mistake.values}
    results = by_id(check_p7_counts(ref.p7, answers))
    for name, _ in mistake.values:
        r = results[f"P7 {name.value}"]
        assert r.mistake == "biases not counted"
        assert r.score == pytest.approx(ref.p7.count(name).points * mistake.credit)
    assert results["P7 reduction"].status is Status.MISSING


def test_daves_working_is_consistent_but_leaves_out_biases(ref: Reference) -> None:
    work = r"$25 \times 3 \times 6 + 25 \times 4 \times 9 + 25 \times 6 = 1500$"
    results = check_p7_counts(
        ref.p7, {CountName.C3_ORIGINAL: count(CountName.C3_ORIGINAL, 1500, work)}
    )
    r = results[0]
    assert r.mistake == "biases not counted"
    assert "does not hold" not in r.feedback


def test_other_wrong_value_says_expected_when_visible(ref: Reference) -> None:
    (r, *_) = check_p7_counts(ref.p7, {CountName.C3_ORIGINAL: count(CountName.C3_ORIGINAL, 1400)})
    assert r.status is Status.FAILED and r.score == 0.0
    assert "You gave 1400; the count is 1516." in r.feedback


def test_other_wrong_value_keeps_expected_hidden_when_hidden(ref: Reference) -> None:
    hidden = replace(ref.p7, visibility=Visibility.HIDDEN)
    (r, *_) = check_p7_counts(hidden, {CountName.C3_ORIGINAL: count(CountName.C3_ORIGINAL, 1400)})
    assert r.status is Status.FAILED
    assert "1516" not in r.feedback and "1400" in r.feedback


def test_slip_in_working_is_named(ref: Reference) -> None:
    work = r"(5\cdot 5)\cdot 3\cdot 6+6 + 25 \cdot 4 \cdot 9 + 9 + 25 \cdot 6 + 1 = 1506"
    (r, *_) = check_p7_counts(
        ref.p7, {CountName.C3_ORIGINAL: count(CountName.C3_ORIGINAL, 1506, work)}
    )
    assert r.status is Status.FAILED
    assert "does not hold" in r.feedback and "is 1516" in r.feedback


def test_working_that_ends_elsewhere_than_the_answer(ref: Reference) -> None:
    work = "25*3*6 + 6 + 25*4*9 + 9 + 25*6 + 1 = 1516"
    (r, *_) = check_p7_counts(
        ref.p7, {CountName.C3_ORIGINAL: count(CountName.C3_ORIGINAL, 1561, work)}
    )
    assert "Your working ends in 1516, but the answer given is 1561." in r.feedback


def test_missing_and_unreadable(ref: Reference) -> None:
    src = Source("writeup.md", 43, "about 1.5k")
    answers = {
        CountName.C3_ORIGINAL: Answer(ProblemId.P7, "c3_original", Unreadable("not a number"), src),
        CountName.C3_FULL: Answer(ProblemId.P7, "c3_full", FilterAnswer(Array((1,), (1.0,))), src),
    }
    results = by_id(check_p7_counts(ref.p7, answers))
    assert results["P7 c3_original"].status is Status.NEEDS_REVIEW
    assert results["P7 c3_original"].score is None
    assert results["P7 c3_full"].status is Status.NEEDS_REVIEW
    assert results["P7 lenet_full"].status is Status.MISSING


# --- verification ------------------------------------------------------------------------


def test_verify_passes_on_the_reference(ref: Reference) -> None:
    checks = verify_p7_reference(ref.p7)
    assert checks and all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_verify_catches_a_wrong_count(ref: Reference) -> None:
    counts = tuple(
        replace(c, value=1517) if c.name is CountName.C3_ORIGINAL else c for c in ref.p7.counts
    )
    failed = [c.name for c in verify_p7_reference(replace(ref.p7, counts=counts)) if not c.passed]
    assert failed == ["c3_original = 1517"]


def test_verify_catches_a_changed_connection_table(ref: Reference) -> None:
    table = (*ref.p7.connections[:-1], (0, 1, 2, 3, 4))
    failed = [
        c.name for c in verify_p7_reference(replace(ref.p7, connections=table)) if not c.passed
    ]
    assert "c3_original = 1516" in failed and "lenet_original = 60806" in failed


def test_verify_catches_a_malformed_table(ref: Reference) -> None:
    table = (*ref.p7.connections[:-1], (0, 6))
    checks = verify_p7_reference(replace(ref.p7, connections=table))
    assert not checks[0].passed and "column 15" in checks[0].detail


def test_verify_catches_a_mistake_value_that_is_right(ref: Reference) -> None:
    wrong = CountMistake("not a mistake", 0.5, "x", ((CountName.REDUCTION, 900),))
    checks = verify_p7_reference(replace(ref.p7, mistakes=(*ref.p7.mistakes, wrong)))
    failed = [c.name for c in checks if not c.passed]
    assert failed == ["mistake 'not a mistake' reduction = 900 recognised"]


def test_an_answer_of_another_kind_needs_review_and_a_grader_bug_is_kept() -> None:
    from grader.checks.common import Slot, judge_answer
    from grader.models import (
        Answer,
        Array,
        CountAnswer,
        FilterAnswer,
        ProblemId,
        Source,
        Status,
        Visibility,
    )

    spec = load_reference().p7
    name = spec.counts[0].name
    source = Source("writeup.md", 4, "[[1, 2]]")
    odd = Answer(ProblemId.P7, name.value, FilterAnswer(Array((2,), (1.0, 2.0))), source)
    (first, *_) = check_p7_counts(spec, {name: odd})
    assert first.status is Status.NEEDS_REVIEW and first.score is None
    assert "expected a whole number, found FilterAnswer" in first.feedback

    def broken(answer: Answer, value: CountAnswer) -> CheckResult:
        raise ZeroDivisionError("oops")

    slot = Slot("X", ProblemId.P7, "t", 2.0, Visibility.VISIBLE)
    right = Answer(ProblemId.P7, name.value, CountAnswer(3), source)
    result = judge_answer(slot, right, CountAnswer, "a whole number", broken)
    assert result.status is Status.GRADER_ERROR and "ZeroDivisionError: oops" in result.feedback
    assert judge_answer(slot, None, CountAnswer, "a whole number", broken).status is (
        Status.MISSING
    )
