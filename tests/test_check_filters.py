"""P1 and P3 filter checks: judged by what conv2d computes, mistakes recognised by behaviour."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from grader.checks.conv_maps import finite_differences
from grader.checks.filters import check_p1, check_p3, verify_p1_reference, verify_p3_reference
from grader.models import (
    Answer,
    Array,
    CountAnswer,
    FilterAnswer,
    ProblemId,
    Source,
    Status,
    Unreadable,
)
from grader.reference import FilterMistake, Reference, load_reference

W1 = [[0, 0, 0], [0, -1, 0], [0, 1, 0]]
W2 = [[0, 0, 0], [0, -1, 1], [0, 0, 0]]


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def flat(nested: object) -> tuple[float, ...]:
    if isinstance(nested, list | tuple):
        return tuple(x for item in nested for x in flat(item))
    assert isinstance(nested, int | float)
    return (float(nested),)


def answer(problem: ProblemId, shape: tuple[int, ...], nested: object) -> Answer:
    return Answer(
        problem,
        "filter",
        FilterAnswer(Array(shape, flat(nested))),
        Source("answers.toml", None, str(nested)),
    )


def p1(shape: tuple[int, ...], nested: object) -> Answer:
    return answer(ProblemId.P1, shape, nested)


def p3(shape: tuple[int, ...], nested: object) -> Answer:
    return answer(ProblemId.P3, shape, nested)


# --- the directly computed map ---------------------------------------------------------


def test_finite_differences_by_hand() -> None:
    x = torch.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]], dtype=torch.float64)
    y = finite_differences(x)
    assert y[0, 0].tolist() == [[3.0, 3.0, 3.0], [-4.0, -5.0, -6.0]]
    assert y[0, 1].tolist() == [[1.0, 1.0, -3.0], [1.0, 1.0, -6.0]]


# --- P1 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "nested"),
    [((2, 3, 3), [W1, W2]), ((2, 1, 3, 3), [[W1], [W2]])],
    ids=["2x3x3", "2x1x3x3"],
)
def test_p1_right_filter_passes_in_either_layout(
    ref: Reference, shape: tuple[int, ...], nested: object
) -> None:
    (r,) = check_p1(ref.p1, p1(shape, nested))
    assert r.status is Status.PASSED
    assert r.score == ref.p1.points
    assert r.test_id == "P1" and r.mistake is None
    assert r.sources[0].file == "answers.toml"


def test_p1_tiny_rounding_still_passes(ref: Reference) -> None:
    w2 = [[0, 0, 0], [0, -1.0000000001, 0.9999999999], [0, 0, 0]]
    (r,) = check_p1(ref.p1, p1((2, 3, 3), [W1, w2]))
    assert r.status is Status.PASSED


@pytest.mark.parametrize("index", range(4))
def test_p1_every_known_mistake_is_recognised(ref: Reference, index: int) -> None:
    mistake = ref.p1.mistakes[index]
    a = Answer(
        ProblemId.P1, "filter", FilterAnswer(mistake.answer), Source("answers.toml", None, "")
    )
    (r,) = check_p1(ref.p1, a)
    assert r.mistake == mistake.name
    assert r.score == pytest.approx(ref.p1.points * mistake.credit)
    assert r.status is Status.PARTIAL
    assert r.feedback == mistake.feedback


def test_p1_swapped_channels_recognised_in_the_other_layout(ref: Reference) -> None:
    (r,) = check_p1(ref.p1, p1((2, 1, 3, 3), [[W2], [W1]]))
    assert r.mistake == "channels swapped"


def test_p1_flipped_kernels_as_dave_wrote_them(ref: Reference) -> None:
    flipped1 = [[0, 1, 0], [0, -1, 0], [0, 0, 0]]
    flipped2 = [[0, 0, 0], [1, -1, 0], [0, 0, 0]]
    (r,) = check_p1(ref.p1, p1((2, 3, 3), [flipped1, flipped2]))
    assert r.mistake == "kernel flipped"


def test_p1_one_channel_right_gets_partial_credit(ref: Reference) -> None:
    wrong2 = [[0, 0, 0], [0, 2, 0], [0, 0, 0]]
    (r,) = check_p1(ref.p1, p1((2, 3, 3), [W1, wrong2]))
    assert r.status is Status.PARTIAL
    assert r.score == pytest.approx(ref.p1.points * ref.p1.credit_per_channel)
    assert r.feedback.startswith("Channel 1 computes Y1")
    assert "channel 2 does not compute Y2" in r.feedback
    assert r.mistake is None


def test_p1_channel_computing_the_other_map_is_named(ref: Reference) -> None:
    (r,) = check_p1(ref.p1, p1((2, 3, 3), [W1, W1]))
    assert r.score == pytest.approx(ref.p1.points * ref.p1.credit_per_channel)
    assert "channel 2 computes Y1" in r.feedback


def test_p1_single_kernel_is_one_channel(ref: Reference) -> None:
    (r,) = check_p1(ref.p1, p1((3, 3), W1))
    assert r.status is Status.PARTIAL
    assert "1 output channel where Y has 2" in r.feedback


def test_p1_unexpected_wrong_filter_fails(ref: Reference) -> None:
    odd = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    (r,) = check_p1(ref.p1, p1((2, 3, 3), [odd, odd]))
    assert r.status is Status.FAILED
    assert r.score == 0.0 and r.mistake is None
    assert "does not compute Y1" in r.feedback


def test_p1_other_2x2_kernel_gets_words_about_the_size(ref: Reference) -> None:
    (r,) = check_p1(ref.p1, p1((2, 2, 2), [[[0, -1], [0, 1]], [[0, 0], [-1, 1]]]))
    assert r.status is Status.FAILED
    assert "conv2d with padding=1 gives a 6x8 output where Y is 5x7" in r.feedback


@pytest.mark.parametrize(
    ("shape", "nested", "words"),
    [
        ((2, 2, 3, 3), [[W1, W1], [W2, W2]], "2 input channels"),
        ((2, 9), [flat(W1), flat(W2)], "cannot apply a 2x9 kernel"),
        ((18,), list(flat([W1, W2])), "shape 18"),
    ],
)
def test_p1_unusable_shapes_are_explained(
    ref: Reference, shape: tuple[int, ...], nested: object, words: str
) -> None:
    (r,) = check_p1(ref.p1, p1(shape, nested))
    assert r.status is Status.FAILED
    assert words in r.feedback


def test_p1_not_finite(ref: Reference) -> None:
    (r,) = check_p1(ref.p1, p1((2, 3, 3), [W1, [[0, 0, 0], [0, float("nan"), 1], [0, 0, 0]]]))
    assert r.status is Status.FAILED and "not finite" in r.feedback


def test_p1_missing_and_unreadable(ref: Reference) -> None:
    (r,) = check_p1(ref.p1, None)
    assert r.status is Status.MISSING and r.score == 0.0
    src = Source("answers.toml", None, "w = ???")
    (u,) = check_p1(ref.p1, Answer(ProblemId.P1, "filter", Unreadable("ragged rows"), src))
    assert u.status is Status.NEEDS_REVIEW and u.score is None
    assert "ragged rows" in u.feedback and "w = ???" in u.feedback
    (v,) = check_p1(ref.p1, Answer(ProblemId.P1, "filter", CountAnswer(3), src))
    assert v.status is Status.NEEDS_REVIEW and v.score is None


def test_verify_p1_passes_on_the_reference(ref: Reference) -> None:
    checks = verify_p1_reference(ref.p1)
    assert checks and all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_verify_p1_catches_a_broken_expected_filter(ref: Reference) -> None:
    swapped = Array((2, 1, 3, 3), flat([W2, W1]))
    checks = verify_p1_reference(replace(ref.p1, expected=swapped))
    failed = [c.name for c in checks if not c.passed]
    assert any("expected filter gives Y" in n for n in failed)


def test_verify_p1_catches_a_mistake_example_that_is_right(ref: Reference) -> None:
    right = FilterMistake("not a mistake", 0.5, "x", Array((2, 3, 3), flat([W1, W2])))
    checks = verify_p1_reference(replace(ref.p1, mistakes=(*ref.p1.mistakes, right)))
    assert [c.name for c in checks if not c.passed] == ["mistake 'not a mistake' recognised"]


def test_verify_p1_catches_images_too_small_to_pin_the_filter(ref: Reference) -> None:
    checks = verify_p1_reference(replace(ref.p1, image_shapes=((1, 6), (1, 4))))
    assert any(c.name == "test images tell every 3x3 kernel apart" and not c.passed for c in checks)


# --- P3 -------------------------------------------------------------------------------

LUMA = [0.299, 0.587, 0.114]


@pytest.mark.parametrize(
    ("shape", "nested"),
    [
        ((1, 3, 1, 1), [[[[0.299]], [[0.587]], [[0.114]]]]),
        ((3,), LUMA),
        ((1, 3), [LUMA]),
        ((3, 1), [[0.299], [0.587], [0.114]]),
        ((3, 1, 1), [[[0.299]], [[0.587]], [[0.114]]]),
    ],
    ids=["1x3x1x1", "3", "row", "column", "3x1x1"],
)
def test_p3_right_filter_passes_in_any_one_output_layout(
    ref: Reference, shape: tuple[int, ...], nested: object
) -> None:
    (r,) = check_p3(ref.p3, p3(shape, nested))
    assert r.status is Status.PASSED and r.score == ref.p3.points
    assert r.test_id == "P3"


@pytest.mark.parametrize("index", range(3))
def test_p3_every_known_mistake_is_recognised(ref: Reference, index: int) -> None:
    mistake = ref.p3.mistakes[index]
    a = Answer(
        ProblemId.P3, "filter", FilterAnswer(mistake.answer), Source("answers.toml", None, "")
    )
    (r,) = check_p3(ref.p3, a)
    assert r.mistake == mistake.name
    assert r.score == pytest.approx(ref.p3.points * mistake.credit)


def test_p3_reversed_channels_as_dave_wrote_them(ref: Reference) -> None:
    (r,) = check_p3(ref.p3, p3((3, 1, 1), [[[0.114]], [[0.587]], [[0.299]]]))
    assert r.mistake == "channels reversed" and r.status is Status.PARTIAL


def test_p3_uniform_weights_written_as_fractions(ref: Reference) -> None:
    (r,) = check_p3(ref.p3, p3((1, 3), [[1 / 3, 1 / 3, 1 / 3]]))
    assert r.mistake == "uniform weights"


def test_p3_three_outputs_with_other_numbers_is_named_without_credit(ref: Reference) -> None:
    (r,) = check_p3(ref.p3, p3((3, 1, 1, 1), [[[[0.114]]], [[[0.587]]], [[[0.299]]]]))
    assert r.mistake == "three output channels"
    assert r.status is Status.FAILED
    assert "(0.114, 0.587, 0.299)" in r.feedback


def test_p3_unexpected_weights_fail_with_what_they_compute(ref: Reference) -> None:
    (r,) = check_p3(ref.p3, p3((3,), [0.2, 0.5, 0.3]))
    assert r.status is Status.FAILED and r.mistake is None
    assert "0.2 R + 0.5 G + 0.3 B" in r.feedback


@pytest.mark.parametrize(
    ("shape", "nested", "words"),
    [
        ((2, 2), [[1, 2], [3, 4]], "4 weights"),
        ((1, 3, 2, 1), [[[[1], [1]], [[1], [1]], [[1], [1]]]], "not 1x1"),
        ((3, 3, 1, 1), [[[[1]], [[0]], [[0]]]] * 3, "3 output channels"),
    ],
)
def test_p3_unusable_shapes_are_explained(
    ref: Reference, shape: tuple[int, ...], nested: object, words: str
) -> None:
    (r,) = check_p3(ref.p3, p3(shape, nested))
    assert r.status is Status.FAILED
    assert words in r.feedback


def test_p3_missing_and_unreadable(ref: Reference) -> None:
    (r,) = check_p3(ref.p3, None)
    assert r.status is Status.MISSING
    src = Source("writeup.md", 12, "w = [0.299, 0.587")
    (u,) = check_p3(ref.p3, Answer(ProblemId.P3, "filter", Unreadable("unclosed bracket"), src))
    assert u.status is Status.NEEDS_REVIEW and u.score is None


def test_verify_p3_passes_on_the_reference(ref: Reference) -> None:
    checks = verify_p3_reference(ref.p3)
    assert checks and all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_verify_p3_catches_a_broken_expected_filter(ref: Reference) -> None:
    broken = Array((1, 3, 1, 1), (0.3, 0.587, 0.114))
    checks = verify_p3_reference(replace(ref.p3, expected=broken))
    failed = [c.name for c in checks if not c.passed]
    assert any("gives the luma" in n for n in failed)


def test_a_bug_in_the_check_becomes_a_grader_error_result(
    ref: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("grader.checks.filters.finite_differences", broken)
    (r,) = check_p1(ref.p1, p1((2, 3, 3), [W1, W2]))
    assert r.status is Status.GRADER_ERROR and r.score is None
    assert "simulated bug" in r.feedback


def test_checks_leave_torch_thread_setting_as_they_found_it(ref: Reference) -> None:
    before = torch.get_num_threads()
    check_p1(ref.p1, p1((2, 3, 3), [W1, W2]))
    check_p3(ref.p3, p3((3,), LUMA))
    assert torch.get_num_threads() == before
