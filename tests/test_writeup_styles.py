"""Write-ups typed by different students: headings, delimiters, word order, wrong answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.extraction.writeup import WriteupReading, read_writeup
from grader.models import (
    AccuracyAnswer,
    CountAnswer,
    Derivative,
    FilterAnswer,
    FormulaAnswer,
    LossKind,
    PoolingAnswer,
    PoolingForm,
    ProblemId,
    Unreadable,
)

INPUTS = Path(__file__).parent / "writeup_inputs"
REF_P1 = tuple(float(x) for x in (0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, -1, 1, 0, 0, 0))


def _read(tmp_path: Path, text: str, name: str = "writeup.md") -> WriteupReading:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return read_writeup(tmp_path)


def _get(r: WriteupReading, p: ProblemId, key: str = "filter") -> object:
    a = r.answers.find(p, key)
    return None if a is None else a.value


# --- headings ---------------------------------------------------------------------------

P3_BODY = "$w = (0.299, 0.587, 0.114)$\n"


@pytest.mark.parametrize(
    ("heading", "name"),
    [
        ("## Problem 3", "writeup.md"),
        ("# Problem 3: RGB to greyscale", "writeup.md"),
        ("**Problem 3 :**", "writeup.md"),
        ("**Problem 3.**", "writeup.md"),
        ("Problem 3.", "writeup.md"),
        ("P3", "writeup.md"),
        ("Exercise 3", "writeup.md"),
        ("### HW1 Problem 3", "writeup.md"),
        ("\\section*{Problem 3}", "writeup.tex"),
        ("\\subsection{Problem 3}", "writeup.tex"),
        ("# RGB to greyscale with a 1x1 convolution", "writeup.md"),
    ],
)
def test_heading_styles(tmp_path: Path, heading: str, name: str) -> None:
    follow = "# Max pooling commutes with sigma" if "Problem" not in heading else "Problem 4."
    if heading in ("P3", "Exercise 3"):
        follow = "P4"
    r = _read(tmp_path, f"Intro text.\n\n{heading}\n{P3_BODY}\n{follow}\nA proof.\n", name)
    v = _get(r, ProblemId.P3)
    assert isinstance(v, FilterAnswer) and v.weight.values == (0.299, 0.587, 0.114)
    assert r.answers.find(ProblemId.P3, "filter").source.line == 4  # type: ignore[union-attr]
    assert r.proof_text is not None and r.proof_text.text == "A proof."


def test_prose_mentions_do_not_split(tmp_path: Path) -> None:
    text = "## Problem 3\nProblem 1 asks something else. P2_layer pools.\n" + P3_BODY
    r = _read(tmp_path, text)
    assert r.answers.for_problem(ProblemId.P1) == ()
    assert isinstance(_get(r, ProblemId.P3), FilterAnswer)


def test_numbered_list_inside_problem_is_not_a_heading(tmp_path: Path) -> None:
    text = "## Problem 5\n1. I trained.\n2. Square loss: 95.10%, logistic loss: 95.30%.\n"
    text += "## Problem 6\n$\\frac{\\partial y_L}{\\partial b_L} = 1$\n"
    r = _read(tmp_path, text)
    assert isinstance(_get(r, ProblemId.P5, "accuracy"), AccuracyAnswer)
    assert r.answers.for_problem(ProblemId.P2) == ()


def test_latex_comments_and_preamble_ignored(tmp_path: Path) -> None:
    r = read_writeup(INPUTS / "grace_tex_sub")
    assert all("9" not in n for n in r.notes)
    v = _get(r, ProblemId.P3)
    assert isinstance(v, FilterAnswer) and v.weight.values == (0.114, 0.587, 0.299)


def test_no_headings_is_noted(tmp_path: Path) -> None:
    r = _read(tmp_path, "Just some words, $x = 1$.\n")
    assert r.answers.answers == ()
    assert any("no problem headings" in n for n in r.notes)


def test_file_per_problem_by_name(tmp_path: Path) -> None:
    (tmp_path / "p3.md").write_text(P3_BODY)
    (tmp_path / "problem1.tex").write_text(
        "\\[ \\begin{bmatrix}0&0&0\\\\0&-1&0\\\\0&1&0\\end{bmatrix}, "
        "\\begin{bmatrix}0&0&0\\\\0&-1&1\\\\0&0&0\\end{bmatrix} \\]"
    )
    r = read_writeup(tmp_path)
    assert isinstance(_get(r, ProblemId.P3), FilterAnswer)
    v = _get(r, ProblemId.P1)
    assert isinstance(v, FilterAnswer) and v.weight.values == REF_P1


# --- whole documents in other styles ----------------------------------------------------


def test_frank_mixed_markdown() -> None:
    r = read_writeup(INPUTS / "frank_md_mixed")
    p1 = _get(r, ProblemId.P1)
    assert isinstance(p1, FilterAnswer) and p1.weight.values == REF_P1
    assert _get(r, ProblemId.P2) == PoolingAnswer(
        PoolingForm.DEPTHWISE, "\\frac{1}{k^2}", "0", "k", "0"
    )
    p3 = _get(r, ProblemId.P3)  # assignments win over the restated luma formula
    assert isinstance(p3, FilterAnswer) and p3.weight.values == (0.299, 0.587, 0.114)
    p5 = _get(r, ProblemId.P5, "accuracy")
    assert isinstance(p5, AccuracyAnswer)
    assert [(k, c.correct) for k, c in p5.claims] == [
        (LossKind.SQUARE, 1880),
        (LossKind.LOGISTIC, 1897),
    ]
    six = {a.key: a.value for a in r.answers.for_problem(ProblemId.P6)}
    assert set(six) == {d.value for d in Derivative}
    assert six["dyL/dyL-1"] == FormulaAnswer("A_L")  # written as \partial y_L / \partial y_{L-1}
    # the chain "= \frac{\partial \sigma(...)}{...} \\ &= diag(...) A_l": the last side
    assert six["dyl/dyl-1"] == FormulaAnswer(
        "\\operatorname{diag}(\\sigma'(A_l y_{l-1} + b_l)) A_l"
    )
    counts = {a.key: a.value for a in r.answers.for_problem(ProblemId.P7)}
    assert {k: v.value for k, v in counts.items()} == {  # type: ignore[union-attr]
        "c3_original": 1516,
        "c3_full": 2416,
        "lenet_original": 60806,
        "lenet_full": 61706,
        "reduction": 900,
    }
    assert r.proof_text is not None and r.proof_text.line == 25


def test_grace_latex_full_form_and_separators() -> None:
    r = read_writeup(INPUTS / "grace_tex_sub")
    p1 = _get(r, ProblemId.P1)
    assert isinstance(p1, FilterAnswer) and p1.weight.values == REF_P1
    assert _get(r, ProblemId.P2) == PoolingAnswer(PoolingForm.FULL, "\\frac{1}{k^2}", "0", "k", "0")
    p5 = _get(r, ProblemId.P5, "accuracy")
    assert isinstance(p5, AccuracyAnswer)
    assert [(k, c.correct, c.percent) for k, c in p5.claims] == [
        (LossKind.SQUARE, 1894, 95.13),
        (LossKind.LOGISTIC, 1897, 95.28),
    ]
    assert {a.key for a in r.answers.for_problem(ProblemId.P6)} == {"dyL/dAL", "dyL/dbL"}
    counts = {a.key: a.value for a in r.answers.for_problem(ProblemId.P7)}
    assert counts["c3_full"] == CountAnswer(2416, "16 \\times (6 \\times 25 + 1)")
    assert counts["c3_original"] == CountAnswer(1516)
    assert counts["lenet_original"] == CountAnswer(60806)
    assert counts["lenet_full"] == CountAnswer(61706)


def test_henry_titles_plain_lists_and_wrong_p2() -> None:
    r = read_writeup(INPUTS / "henry_md_titles")
    p1 = _get(r, ProblemId.P1)
    assert isinstance(p1, FilterAnswer) and p1.weight.shape == (2, 3, 3)
    assert p1.weight.values == REF_P1
    p2 = _get(r, ProblemId.P2)
    assert p2 == PoolingAnswer(PoolingForm.FULL, "\\frac{1}{k}", "0", "1", "0")
    assert any("padding" in n for n in r.notes)
    p3 = _get(r, ProblemId.P3)
    assert isinstance(p3, FilterAnswer) and p3.weight.shape == (3, 1, 1, 1)
    assert r.answers.find(ProblemId.P6, "dyL/dbL") is not None
    assert r.answers.for_problem(ProblemId.P5) == ()


def test_ivy_bare_numbers_and_percent_only_claims() -> None:
    r = read_writeup(INPUTS / "ivy_md_numbered")
    p1 = _get(r, ProblemId.P1)
    assert isinstance(p1, FilterAnswer) and p1.weight.values == REF_P1
    assert _get(r, ProblemId.P2) == PoolingAnswer(
        PoolingForm.DEPTHWISE, "\\frac{1}{k^2}", "0", "k", "0"
    )
    p5 = _get(r, ProblemId.P5, "accuracy")
    assert isinstance(p5, AccuracyAnswer)
    assert [(k, c.percent, c.correct) for k, c in p5.claims] == [
        (LossKind.SQUARE, 93.97, None),
        (LossKind.LOGISTIC, 95.18, None),
    ]
    assert _get(r, ProblemId.P7, "c3_original") == CountAnswer(1516)


# --- constructs in isolation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("$$w = \\begin{bmatrix} 0.299 & 0.587 & 0.114 \\end{bmatrix}$$", (0.299, 0.587, 0.114)),
        ("The filter: $0.114 B + 0.587 G + 0.299 R$.", (0.299, 0.587, 0.114)),
        ("$w_R = 0.299$, $w_G = 0.587$, $w_B = 0.114$", (0.299, 0.587, 0.114)),
        ("\\(w_{3,1,1}=0.299, w_{2,1,1}=0.587, w_{1,1,1}=0.114\\)", (0.114, 0.587, 0.299)),
        ("w = (1/3, 1/3, 1/3) is wrong, so $w = (0.3, 0.6, 0.1)$", (0.3, 0.6, 0.1)),
    ],
)
def test_p3_arrangements(tmp_path: Path, body: str, want: tuple[float, ...]) -> None:
    v = _get(_read(tmp_path, f"## Problem 3\n{body}\n"), ProblemId.P3)
    assert isinstance(v, FilterAnswer)
    assert v.weight.shape == (3,)
    assert v.weight.values == pytest.approx(want)


@pytest.mark.parametrize(
    ("body", "want"),
    [
        (
            "$w = \\frac{1}{k^{2}} \\mathbf{1}_{k \\times k}$ per channel (groups=C), "
            "stride $k$, padding 0.",
            PoolingAnswer(PoolingForm.DEPTHWISE, "\\frac{1}{k^2}", "0", "k", "0"),
        ),
        (
            "Every entry of $w \\in \\mathbb{R}^{C\\times C\\times k\\times k}$ equals $1/k^2$, "
            "with a stride of k and no padding.",
            PoolingAnswer(PoolingForm.FULL, "\\frac{1}{k^2}", "\\frac{1}{k^2}", "k", "0"),
        ),
        (
            "Depthwise, all ones, stride 1, padding = 1.",
            PoolingAnswer(PoolingForm.DEPTHWISE, "1", "0", "1", "1"),
        ),
    ],
)
def test_p2_families(tmp_path: Path, body: str, want: PoolingAnswer) -> None:
    assert _get(_read(tmp_path, f"## Problem 2\n{body}\n"), ProblemId.P2) == want


def test_p2_without_value_is_unreadable(tmp_path: Path) -> None:
    v = _get(_read(tmp_path, "## Problem 2\nUse a convolution that averages.\n"), ProblemId.P2)
    assert isinstance(v, Unreadable)


@pytest.mark.parametrize(
    "lhs",
    [
        "\\frac{\\partial y_L}{\\partial A_\\ell}",
        "\\dfrac{\\partial y_{L}}{\\partial A_{l}}",
        "\\partial y_L / \\partial A_\\ell",
        "\\frac{d y_L}{d A_l}",
        "dy_L/dA_\\ell",
        "(a) d y^{(L)} / d A^{(\\ell)}",
        "\\left( \\frac{\\partial \\mathbf{y}^{(L)}}{\\partial \\mathbf{A}_{\\ell}} \\right)",
    ],
)
def test_p6_left_hand_side_forms(tmp_path: Path, lhs: str) -> None:
    answer = "\\text{diag}(\\sigma'(z_\\ell)) G^\\top y_{\\ell-1}^\\top"
    text = f"## Problem 6\n$$ {lhs} = {answer}. $$\n"
    r = _read(tmp_path, text)
    a = r.answers.find(ProblemId.P6, Derivative.DYL_DAl.value)
    assert a is not None and a.value == FormulaAnswer(
        "\\text{diag}(\\sigma'(z_\\ell)) G^\\top y_{\\ell-1}^\\top"
    )
    assert a.source.line == 2


def test_p6_order_does_not_matter_and_intermediates_skipped(tmp_path: Path) -> None:
    text = (
        "## Problem 6\n"
        "\\[ \\frac{\\partial y_L}{\\partial y_\\ell} = G, \\qquad "
        "\\frac{\\partial y_L}{\\partial A_L} = y_{L-1}^T, \\quad "
        "\\frac{\\partial y_L}{\\partial b_L} = 1 \\]\n"
    )
    r = _read(tmp_path, text)
    keys = {a.key: a.value for a in r.answers.for_problem(ProblemId.P6)}
    assert keys == {"dyL/dAL": FormulaAnswer("y_{L-1}^T"), "dyL/dbL": FormulaAnswer("1")}


def test_p6_answer_in_next_span(tmp_path: Path) -> None:
    r = _read(tmp_path, "## Problem 6\n$\\frac{\\partial y_L}{\\partial b_L}$ = $1$\n")
    assert _get(r, ProblemId.P6, "dyL/dbL") == FormulaAnswer("1")


@pytest.mark.parametrize(
    ("body", "want"),
    [
        (
            "Accuracy (square): 1897/1991(95.28)%. Accuracy (CE): 1890/1991 (94.93%)",
            [(LossKind.SQUARE, 1897), (LossKind.LOGISTIC, 1890)],
        ),
        (
            "$\\frac{1897}{1991} \\approx 95.28\\%$ with cross-entropy and 95.13% (1894 of 1991) "
            "with the sum of squares.",
            [(LossKind.LOGISTIC, 1897), (LossKind.SQUARE, 1894)],
        ),
        (
            "```\nlogistic loss: 1895/1991 (95.18%)\nmy loss: 1890/1991 (94.93%)\n```",
            [(LossKind.LOGISTIC, 1895), (LossKind.SQUARE, 1890)],
        ),
    ],
)
def test_p5_claim_styles(tmp_path: Path, body: str, want: list[tuple[LossKind, int]]) -> None:
    v = _get(_read(tmp_path, f"## Problem 5\n{body}\n"), ProblemId.P5, "accuracy")
    assert isinstance(v, AccuracyAnswer)
    assert [(k, c.correct) for k, c in v.claims] == want


def test_p5_loss_unknown_is_unreadable(tmp_path: Path) -> None:
    v = _get(_read(tmp_path, "## Problem 5\nI got 95.1% and 95.3%.\n"), ProblemId.P5, "accuracy")
    assert isinstance(v, Unreadable)


@pytest.mark.parametrize(
    ("body", "want"),
    [
        (
            "Table I C3: 25*3*6 + 6 + 25*4*9 + 9 + 25*6 + 1 = 1516; dense C3 has 2416.",
            {"c3_original": (1516, "25*3*6 + 6 + 25*4*9 + 9 + 25*6 + 1"), "c3_full": (2416, None)},
        ),
        (
            "Full: 61,706 parameters in the whole network, and the original LeNet: 60,806. "
            "That is a difference of 900.",
            {
                "lenet_full": (61706, None),
                "lenet_original": (60806, None),
                "reduction": (900, None),
            },
        ),
    ],
)
def test_p7_word_order(tmp_path: Path, body: str, want: dict[str, tuple[int, str | None]]) -> None:
    r = _read(tmp_path, f"## Problem 7\n{body}\n")
    got = {a.key: a.value for a in r.answers.for_problem(ProblemId.P7)}
    assert got == {k: CountAnswer(v, w) for k, (v, w) in want.items()}


def test_p1_wrong_size_kept_as_written(tmp_path: Path) -> None:
    text = (
        "## Problem 1\n$w_1 = \\begin{bmatrix}-1 & 0\\\\ 1 & 0\\end{bmatrix}$, "
        "$w_2 = \\begin{bmatrix}-1 & 1\\\\ 0 & 0\\end{bmatrix}$\n"
    )
    v = _get(_read(tmp_path, text), ProblemId.P1)
    assert isinstance(v, FilterAnswer) and v.weight.shape == (2, 2, 2)


def test_p1_labels_order_the_kernels(tmp_path: Path) -> None:
    text = (
        "## Problem 1\n$w_2 = \\begin{pmatrix}0&0&0\\\\0&-1&1\\\\0&0&0\\end{pmatrix}$ and "
        "$w_1 = \\begin{pmatrix}0&0&0\\\\0&-1&0\\\\0&1&0\\end{pmatrix}$\n"
    )
    v = _get(_read(tmp_path, text), ProblemId.P1)
    assert isinstance(v, FilterAnswer) and v.weight.values == REF_P1


def test_p1_unparsable_matrix_is_unreadable(tmp_path: Path) -> None:
    text = (
        "## Problem 1\n$$\\begin{bmatrix} a & & \\\\ \\end{bmatrix}, "
        "\\begin{bmatrix} 1 \\end{bmatrix}$$\n"
    )
    r = _read(tmp_path, text)
    a = r.answers.find(ProblemId.P1, "filter")
    assert a is not None and isinstance(a.value, Unreadable)
    assert "bmatrix" in a.source.text and a.source.line == 2
