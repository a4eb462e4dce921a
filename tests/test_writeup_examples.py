"""The three example submissions: the answers an instructor reads there, with their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.extraction.writeup import WriteupReading, read_writeup
from grader.models import (
    AccuracyAnswer,
    CountAnswer,
    CountName,
    Derivative,
    FilterAnswer,
    FormulaAnswer,
    LossKind,
    PoolingAnswer,
    PoolingForm,
    ProblemId,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"  # beside the repo
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="example submissions not present")

P1_REF = (0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, -1, 1, 0, 0, 0)
P1_FLIPPED = (0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 1, -1, 0, 0, 0, 0)


@pytest.fixture(scope="module")
def carol() -> WriteupReading:
    return read_writeup(EXAMPLES / "carol_tex")


@pytest.fixture(scope="module")
def dave() -> WriteupReading:
    return read_writeup(EXAMPLES / "dave_md_mistakes")


@pytest.fixture(scope="module")
def erin() -> WriteupReading:
    return read_writeup(EXAMPLES / "erin_md_sparse")


def _value(r: WriteupReading, p: ProblemId, key: str) -> object:
    a = r.answers.find(p, key)
    assert a is not None, f"{p.value} {key} not found"
    return a.value


def _line(r: WriteupReading, p: ProblemId, key: str) -> int | None:
    a = r.answers.find(p, key)
    assert a is not None
    return a.source.line


def _formula(r: WriteupReading, d: Derivative) -> str:
    v = _value(r, ProblemId.P6, d.value)
    assert isinstance(v, FormulaAnswer)
    return v.latex


def _count(r: WriteupReading, c: CountName) -> CountAnswer:
    v = _value(r, ProblemId.P7, c.value)
    assert isinstance(v, CountAnswer)
    return v


def test_files_and_no_notes(carol: WriteupReading, erin: WriteupReading) -> None:
    assert carol.files == ("writeup.tex",)
    assert carol.notes == ()
    assert erin.files == ("writeup.md",)


def test_p1_filters(carol: WriteupReading, dave: WriteupReading, erin: WriteupReading) -> None:
    for r, want, line in ((carol, P1_REF, 12), (dave, P1_FLIPPED, 8), (erin, P1_REF, 3)):
        v = _value(r, ProblemId.P1, "filter")
        assert isinstance(v, FilterAnswer)
        assert v.weight.shape == (2, 3, 3)
        assert v.weight.values == tuple(float(x) for x in want)
        assert _line(r, ProblemId.P1, "filter") == line


def test_p2_forms(carol: WriteupReading, dave: WriteupReading) -> None:
    assert _value(carol, ProblemId.P2, "filter") == PoolingAnswer(
        PoolingForm.DEPTHWISE, "\\frac{1}{k^2}", "0", "k", "0"
    )
    assert _value(dave, ProblemId.P2, "filter") == PoolingAnswer(
        PoolingForm.FULL, "1", "0", "k", "0"
    )
    assert _line(dave, ProblemId.P2, "filter") == 13


def test_p3_weights(carol: WriteupReading, dave: WriteupReading, erin: WriteupReading) -> None:
    for r, want in (
        (carol, (0.299, 0.587, 0.114)),
        (dave, (0.114, 0.587, 0.299)),
        (erin, (0.299, 0.587, 0.114)),
    ):
        v = _value(r, ProblemId.P3, "filter")
        assert isinstance(v, FilterAnswer)
        assert v.weight.shape == (3,)
        assert v.weight.values == want
    assert _line(dave, ProblemId.P3, "filter") == 17
    assert _line(erin, ProblemId.P3, "filter") == 5


def test_p5_claims(carol: WriteupReading, dave: WriteupReading) -> None:
    v = _value(carol, ProblemId.P5, "accuracy")
    assert isinstance(v, AccuracyAnswer)
    got = [(k, c.correct, c.total, c.percent) for k, c in v.claims]
    assert got == [
        (LossKind.LOGISTIC, 1893, 1991, 95.08),
        (LossKind.SQUARE, 1901, 1991, 95.48),
    ]
    v = _value(dave, ProblemId.P5, "accuracy")
    assert isinstance(v, AccuracyAnswer)
    assert [(k, c.correct) for k, c in v.claims] == [
        (LossKind.SQUARE, 1820),
        (LossKind.LOGISTIC, 1890),
    ]
    assert _line(carol, ProblemId.P5, "accuracy") == 35


def test_p6_by_left_hand_side(carol: WriteupReading, dave: WriteupReading) -> None:
    assert _formula(dave, Derivative.DYl_DYlm1) == (
        "A_\\ell \\, \\text{diag}(\\sigma'(A_\\ell y_{\\ell-1} + b_\\ell))"
    )
    assert _formula(dave, Derivative.DYL_DAL) == "y_{L-1}"
    assert _formula(dave, Derivative.DYL_DBL) == "1"
    assert _formula(carol, Derivative.DYL_DYLM1) == "A_L"
    assert _formula(carol, Derivative.DYL_DAL) == "y_{L-1}^{T}"
    assert _formula(carol, Derivative.DYl_DYlm1).endswith("\\right) A_\\ell")
    assert _formula(carol, Derivative.DYL_DAl).startswith("\\operatorname{diag}")
    assert _line(carol, ProblemId.P6, Derivative.DYl_DYlm1.value) == 46
    assert _line(dave, ProblemId.P6, Derivative.DYL_DAl.value) == 39
    assert len(carol.answers.for_problem(ProblemId.P6)) == 6


def test_p7_counts(carol: WriteupReading, dave: WriteupReading, erin: WriteupReading) -> None:
    c3 = _count(dave, CountName.C3_ORIGINAL)
    assert c3.value == 1500
    assert c3.stated_work == "25 \\times 3 \\times 6 + 25 \\times 4 \\times 9 + 25 \\times 6"
    assert _count(dave, CountName.C3_FULL).value == 2400
    assert _count(dave, CountName.LENET_ORIGINAL).value == 60806
    assert _count(dave, CountName.LENET_FULL).value == 61706
    assert dave.answers.find(ProblemId.P7, CountName.REDUCTION.value) is None
    assert _line(dave, ProblemId.P7, CountName.LENET_FULL.value) == 47
    want = {"c3_original": 1516, "c3_full": 2416, "lenet_original": 60806}
    want |= {"lenet_full": 61706, "reduction": 900}
    for r in (carol, erin):
        assert {a.key: a.value.value for a in r.answers.for_problem(ProblemId.P7)} == want  # type: ignore[union-attr]
    assert _count(carol, CountName.C3_ORIGINAL).stated_work == (
        "6(3\\cdot 25+1) + 9(4\\cdot 25+1) + (6\\cdot 25+1) = 456 + 909 + 151"
    )
    assert _count(erin, CountName.C3_ORIGINAL).stated_work is None


def test_erin_absent_problems(erin: WriteupReading) -> None:
    for p in (ProblemId.P2, ProblemId.P4, ProblemId.P5, ProblemId.P6):
        assert erin.answers.for_problem(p) == ()
    assert erin.proof_text is None


def test_proof_text_kept(carol: WriteupReading, dave: WriteupReading) -> None:
    assert carol.proof_text is not None and carol.proof_text.line == 28
    assert "Fix one pooling window" in carol.proof_text.text
    assert dave.proof_text is not None and "argmax" in dave.proof_text.text
