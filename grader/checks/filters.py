"""P1 (finite differences) and P3 (RGB to greyscale): a filter written out as numbers, judged
by what conv2d computes with it on seeded random images, never by comparing entries.

Known mistakes are recognised the same way: the student's filter computes what the mistake's
example answer in the reference computes. Each check returns one CheckResult; the verify_*
functions re-derive the reference answers for `grade check-reference`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import torch
import torch.nn.functional as F

from grader.checks.common import (
    ReferenceCheck,
    Slot,
    full_credit_check,
    judge_answer,
    mistake_checks,
    reference_answer,
)
from grader.checks.conv_maps import (
    Outputs,
    channel_mix,
    close,
    conv_output_size,
    finite_differences,
    is_finite,
    max_difference,
    random_images,
    single_thread,
    size_text,
    tensor_of,
)
from grader.models import (
    Answer,
    Array,
    CheckResult,
    FilterAnswer,
    ProblemId,
)
from grader.reference import FilterMistake, P1Spec, P3Spec

P1_TEST_ID = "P1"
P3_TEST_ID = "P3"
_P1_SEED = 1
_P3_SEED = 3
# Shapes the spec does not list, so verification is not tuned to the grading images.
_EXTRA_P1_SHAPES = ((2, 2), (6, 3), (4, 9), (7, 1), (10, 11))
_EXTRA_P3_SHAPES = ((2, 7), (5, 5), (9, 1))
# The sheet's luma formula, used only to verify the reference (grading uses spec.expected).
_LUMA = (0.299, 0.587, 0.114)
_Y_NAMES = ("Y1 = X[i+1,j] - X[i,j]", "Y2 = X[i,j+1] - X[i,j]")
_CHANNEL_NAMES = ("R", "G", "B")


def _slot(test_id: str, problem: ProblemId, spec: P1Spec | P3Spec) -> Slot:
    return Slot(test_id, problem, spec.title, spec.points, spec.visibility)


_FILTER_WORDS = "a filter written as numbers"


# --- P1 --------------------------------------------------------------------------------


def _p1_weight(a: Array) -> torch.Tensor | str:
    """The answer as a conv2d weight (out, 1, kh, kw); a str says in words why it cannot be."""
    s = a.shape
    if any(d == 0 for d in s):
        return f"the weight has shape {a.shape_text}, which is empty"
    t = tensor_of(a)
    if len(s) == 2:
        return t.reshape(1, 1, s[0], s[1])
    if len(s) == 3:
        return t.reshape(s[0], 1, s[1], s[2])
    if len(s) == 4 and s[1] == 1:
        return t
    if len(s) == 4:
        return (
            f"the weight has shape {a.shape_text}: {s[1]} input channels, but X has one "
            "channel; the filter is 2 x 1 x 3 x 3 (two 3 x 3 kernels)"
        )
    return f"the weight has shape {a.shape_text}; the filter is 2 x 1 x 3 x 3 (two 3 x 3 kernels)"


def _p1_outputs(weight: torch.Tensor, images: tuple[torch.Tensor, ...], padding: int) -> Outputs:
    kh, kw = int(weight.shape[2]), int(weight.shape[3])
    maps = []
    for x in images:
        m, n = int(x.shape[2]), int(x.shape[3])
        if min(conv_output_size(m, kh, 1, padding), conv_output_size(n, kw, 1, padding)) <= 0:
            return Outputs(
                (),
                f"conv2d with padding={padding} cannot apply a {kh}x{kw} kernel to a {m}x{n} image",
            )
        maps.append(F.conv2d(x, weight, padding=padding))
    return Outputs(tuple(maps))


def _p1_channel_words(
    c: int, got: tuple[torch.Tensor, ...], targets: tuple[torch.Tensor, ...], tol: float
) -> tuple[bool, str]:
    """Whether output channel c computes Y_c, and a sentence saying what it computes."""
    mine = [g[:, c] for g in got]
    if all(close(a, t[:, c], tol) for a, t in zip(mine, targets, strict=True)):
        return True, f"channel {c + 1} computes {_Y_NAMES[c]}: right"
    known = (
        (_Y_NAMES[0], 0, 1.0),
        (_Y_NAMES[1], 1, 1.0),
        ("X[i,j] - X[i+1,j] (sign reversed)", 0, -1.0),
        ("X[i,j] - X[i,j+1] (sign reversed)", 1, -1.0),
    )
    for name, k, sign in known:
        if all(close(a, sign * t[:, k], tol) for a, t in zip(mine, targets, strict=True)):
            return False, f"channel {c + 1} computes {name} instead of {_Y_NAMES[c]}"
    worst = max(range(len(mine)), key=lambda i: max_difference(mine[i], targets[i][:, c]))
    shape = size_text(targets[worst].shape[2:])
    diff = max_difference(mine[worst], targets[worst][:, c])
    return False, (
        f"channel {c + 1} does not compute {_Y_NAMES[c]} "
        f"(on a {shape} image it is off by up to {diff:.3g})"
    )


def _judge_p1(spec: P1Spec, answer: Answer, value: FilterAnswer) -> CheckResult:
    weight = value.weight
    shapes = ", ".join(size_text(s) for s in spec.image_shapes)
    details = (
        f"Tested conv2d(X, w, padding={spec.padding}) on random {shapes} images "
        f"(seed {_P1_SEED}) against Y computed directly, tolerance {spec.tolerance:g}.",
    )
    result = partial(_slot(P1_TEST_ID, ProblemId.P1, spec).scored, answer=answer, details=details)
    if not is_finite(weight):
        return result(0.0, "The filter has entries that are not finite numbers.")
    w = _p1_weight(weight)
    if isinstance(w, str):
        return result(0.0, f"The filter cannot be applied to X: {w}.")
    images = random_images(spec.image_shapes, 1, _P1_SEED)
    targets = tuple(finite_differences(x) for x in images)
    got = _p1_outputs(w, images, spec.padding)
    if got.same_as(Outputs(targets), spec.tolerance):
        return result(1.0, f"The filter computes {_Y_NAMES[0]} and {_Y_NAMES[1]}: right.")
    for mistake in spec.mistakes:
        mw = _p1_weight(mistake.answer)
        if not isinstance(mw, str) and got.same_as(
            _p1_outputs(mw, images, spec.padding), spec.tolerance
        ):
            return result(mistake.credit, mistake.feedback, mistake=mistake.name)
    if got.problem is not None:
        return result(0.0, f"The filter cannot be applied to X: {got.problem}.")
    for g, t in zip(got.maps, targets, strict=True):
        if g.shape[2:] != t.shape[2:]:
            return result(
                0.0,
                f"conv2d with padding={spec.padding} gives a {size_text(g.shape[2:])} output "
                f"where Y is {size_text(t.shape[2:])}.",
            )
    out_channels = int(w.shape[0])
    words = []
    right = 0
    for c in range(min(out_channels, 2)):
        ok, sentence = _p1_channel_words(c, got.maps, targets, spec.tolerance)
        right += ok
        words.append(sentence)
    credit = spec.credit_per_channel * right
    if out_channels != 2:
        credit = min(credit, spec.credit_per_channel)
        words.append(
            f"the filter has {out_channels} output channel{'s' if out_channels != 1 else ''} "
            "where Y has 2"
        )
    feedback = "; ".join(words)
    return result(credit, feedback[0].upper() + feedback[1:] + ".")


def check_p1(spec: P1Spec, answer: Answer | None) -> tuple[CheckResult, ...]:
    def judge(a: Answer, value: FilterAnswer) -> CheckResult:
        with single_thread():
            return _judge_p1(spec, a, value)

    slot = _slot(P1_TEST_ID, ProblemId.P1, spec)
    return (judge_answer(slot, answer, FilterAnswer, _FILTER_WORDS, judge),)


# --- P3 --------------------------------------------------------------------------------


def _p3_conv(a: Array) -> tuple[torch.Tensor, int] | str:
    """The answer as (conv2d weight, groups); a str says in words why it cannot be applied.

    Three numbers in any layout but a 4-d one are one output channel reading R, G, B (a row
    or column vector, or the (3,1,1) weight without its output axis). A 4-d (3,1,1,1) weight
    is three output channels reading one input each, which conv2d runs only with groups=3:
    that is how such an answer behaves, so that is how it is compared.
    """
    s = a.shape
    if any(d == 0 for d in s):
        return f"the weight has shape {a.shape_text}, which is empty"
    t = tensor_of(a)
    if len(s) == 4:
        out_c, in_c, kh, kw = s
        if (kh, kw) != (1, 1):
            return f"the weight has shape {a.shape_text}: a {kh}x{kw} kernel, not 1x1"
        if in_c == 3:
            return t, 1
        if in_c == 1 and out_c == 3:
            return t, 3
        return (
            f"the weight has shape {a.shape_text}: {out_c} output channels reading {in_c} "
            "input channels, but an RGB image has 3"
        )
    if len(a.values) == 3:
        return t.reshape(1, 3, 1, 1), 1
    return f"{len(a.values)} weights, where an RGB image needs three (R, G, B)"


def _p3_outputs(a: Array, images: tuple[torch.Tensor, ...]) -> Outputs:
    conv = _p3_conv(a)
    if isinstance(conv, str):
        return Outputs((), conv)
    w, groups = conv
    return Outputs(tuple(F.conv2d(x, w, groups=groups) for x in images))


def _numbers_text(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"


def _weights_text(values: tuple[float, ...]) -> str:
    return " + ".join(f"{v:.4g} {c}" for v, c in zip(values, _CHANNEL_NAMES, strict=True))


def _judge_p3(spec: P3Spec, answer: Answer, value: FilterAnswer) -> CheckResult:
    weight = value.weight
    shapes = ", ".join(size_text(s) for s in spec.image_shapes)
    details = (
        f"Tested conv2d(X, w) on random RGB {shapes} images (seed {_P3_SEED}) against "
        f"{_weights_text(spec.expected.values)} computed directly, tolerance {spec.tolerance:g}.",
    )
    result = partial(_slot(P3_TEST_ID, ProblemId.P3, spec).scored, answer=answer, details=details)
    if not is_finite(weight):
        return result(0.0, "The filter has entries that are not finite numbers.")
    images = random_images(spec.image_shapes, 3, _P3_SEED)
    targets = Outputs(tuple(channel_mix(x, spec.expected.values) for x in images))
    got = _p3_outputs(weight, images)
    if got.same_as(targets, spec.tolerance):
        return result(1.0, f"The filter computes {_weights_text(spec.expected.values)}: right.")
    for mistake in spec.mistakes:
        if got.same_as(_p3_outputs(mistake.answer, images), spec.mistake_tolerance):
            return result(mistake.credit, mistake.feedback, mistake=mistake.name)
    if got.problem is not None:
        return result(0.0, f"The filter cannot be applied to an RGB image: {got.problem}.")
    out_shape = got.maps[0].shape
    if out_shape != targets.maps[0].shape:
        # The weight shape of a known shape mistake, with other numbers: name it, but the
        # numbers are wrong as well, so it keeps no credit.
        for mistake in spec.mistakes:
            if len(mistake.answer.shape) == 4 and mistake.answer.shape == weight.shape:
                return result(
                    0.0,
                    f"{mistake.feedback} The weights {_numbers_text(weight.values)} are not "
                    f"{_numbers_text(spec.expected.values)} either.",
                    mistake=mistake.name,
                )
        return result(
            0.0,
            f"conv2d gives {out_shape[1]} output channels where the greyscale image has 1.",
        )
    # One output channel from three inputs: its weights are the flattened numbers.
    return result(
        0.0,
        f"The filter computes {_weights_text(weight.values)}; the greyscale formula is "
        f"{_weights_text(spec.expected.values)}.",
    )


def check_p3(spec: P3Spec, answer: Answer | None) -> tuple[CheckResult, ...]:
    def judge(a: Answer, value: FilterAnswer) -> CheckResult:
        with single_thread():
            return _judge_p3(spec, a, value)

    slot = _slot(P3_TEST_ID, ProblemId.P3, spec)
    return (judge_answer(slot, answer, FilterAnswer, _FILTER_WORDS, judge),)


# --- verification for `grade check-reference` --------------------------------------------


def _reference_answer(problem: ProblemId, weight: Array, what: str) -> Answer:
    return reference_answer(problem, "filter", FilterAnswer(weight), what)


def _pins_down_3x3(shapes: tuple[tuple[int, int], ...], padding: int) -> tuple[bool, str]:
    """Whether the test images tell every 3x3 kernel apart: the map from the 9 kernel entries
    to the outputs must have rank 9, else a wrong filter could pass."""
    images = random_images(shapes, 1, _P1_SEED)
    columns = []
    for e in range(9):
        basis = torch.zeros(9, dtype=torch.float64)
        basis[e] = 1.0
        w = basis.reshape(1, 1, 3, 3)
        columns.append(torch.cat([F.conv2d(x, w, padding=padding).flatten() for x in images]))
    rank = int(torch.linalg.matrix_rank(torch.stack(columns, dim=1)))
    return rank == 9, f"rank {rank} of 9"


def _verify_p1(spec: P1Spec) -> list[ReferenceCheck]:
    p = ProblemId.P1
    checks = []
    w = _p1_weight(spec.expected)
    for label, shapes in (("spec", spec.image_shapes), ("extra", _EXTRA_P1_SHAPES)):
        images = random_images(shapes, 1, 101)
        if isinstance(w, str):
            ok, detail = False, w
        else:
            got = _p1_outputs(w, images, spec.padding)
            want = Outputs(tuple(finite_differences(x) for x in images))
            ok = got.same_as(want, spec.tolerance)
            detail = got.problem or (
                "matches Y computed directly" if ok else "differs from Y computed directly"
            )
        shape_list = ", ".join(size_text(s) for s in shapes)
        checks.append(
            ReferenceCheck(p, f"expected filter gives Y on {label} shapes {shape_list}", ok, detail)
        )
    if spec.expected.shape[2:] == (3, 3):
        ok, detail = _pins_down_3x3(spec.image_shapes, spec.padding)
        checks.append(ReferenceCheck(p, "test images tell every 3x3 kernel apart", ok, detail))
    forms = [("2x1x3x3", spec.expected)]
    if len(spec.expected.values) == 18:
        forms.append(("2x3x3", Array((2, 3, 3), spec.expected.values)))
    return checks + _judged_like_students(
        p, lambda a: check_p1(spec, a)[0], forms, spec.mistakes, spec.points
    )


def _judged_like_students(
    p: ProblemId,
    judge: Callable[[Answer], CheckResult],
    forms: list[tuple[str, Array]],
    mistakes: tuple[FilterMistake, ...],
    points: float,
) -> list[ReferenceCheck]:
    """The expected filter, in each shape a student may write it, gets full credit; every
    known mistake's example is judged wrong and recognised."""
    checks = []
    for label, weight in forms:
        r = judge(_reference_answer(p, weight, "expected"))
        checks.append(full_credit_check(p, f"expected filter as {label}", r))
    results = [(m.name, m.credit, judge(_reference_answer(p, m.answer, m.name))) for m in mistakes]
    return checks + mistake_checks(p, points, results)


def _verify_p3(spec: P3Spec) -> list[ReferenceCheck]:
    p = ProblemId.P3
    checks = []
    for label, shapes in (("spec", spec.image_shapes), ("extra", _EXTRA_P3_SHAPES)):
        images = random_images(shapes, 3, 103)
        got = _p3_outputs(spec.expected, images)
        want = Outputs(tuple(channel_mix(x, _LUMA) for x in images))
        ok = got.same_as(want, spec.tolerance)
        detail = got.problem or (
            f"matches {_weights_text(_LUMA)}" if ok else f"differs from {_weights_text(_LUMA)}"
        )
        shape_list = ", ".join(size_text(s) for s in shapes)
        checks.append(
            ReferenceCheck(
                p, f"expected filter gives the luma on {label} shapes {shape_list}", ok, detail
            )
        )
    forms = [("1x3x1x1", spec.expected), ("3", replace(spec.expected, shape=(3,)))]
    return checks + _judged_like_students(
        p, lambda a: check_p3(spec, a)[0], forms, spec.mistakes, spec.points
    )


def verify_p1_reference(spec: P1Spec) -> list[ReferenceCheck]:
    with single_thread():
        return _verify_p1(spec)


def verify_p3_reference(spec: P3Spec) -> list[ReferenceCheck]:
    with single_thread():
        return _verify_p3(spec)
