"""answers.toml: every auto-graded answer read with its line; bad entries named, not crashed."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.extraction.answers_file import TEMPLATE, AnswersFileError, read_answers_file
from grader.models import (
    AccuracyAnswer,
    AccuracyClaim,
    CountAnswer,
    CountName,
    FilterAnswer,
    FormulaAnswer,
    LossKind,
    PoolingAnswer,
    PoolingForm,
    ProblemId,
    Unreadable,
)


def claim(text: str) -> AccuracyClaim | None:
    # A minimal stand-in for the real claim parser: "c/t (p%)".
    head, _, tail = text.partition(" ")
    c, _, t = head.partition("/")
    if not (c.isdigit() and t.isdigit()):
        return None
    return AccuracyClaim(int(c), int(t), float(tail.strip("()%")), tail.strip("()%"))


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "answers.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_reads_every_kind_of_answer_with_its_line(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """
[p1]
filter = [[[0, 0, 0], [0, -1, 0], [0, 1, 0]], [[0, 0, 0], [0, -1, 1], [0, 0, 0]]]
[p2]
form = "full"
value = '\\frac{1}{k^2}'
stride = "k"
[p5]
square = "1901/1991 (95.48%)"
[p6]
"dyL/dAL" = 'y_{L-1}^\\top'
[p7]
c3_original = "6*(3*25+1) + 9*(4*25+1) + (6*25+1) = 1516"
reduction = 900
""",
    )
    answers = read_answers_file(folder, claim)
    assert answers is not None
    p1 = answers.find(ProblemId.P1, "filter")
    assert p1 is not None and isinstance(p1.value, FilterAnswer)
    assert p1.value.weight.shape == (2, 3, 3)
    assert p1.source.line == 3 and p1.source.file == "answers.toml"
    p2 = answers.find(ProblemId.P2, "filter")
    assert p2 is not None
    assert p2.value == PoolingAnswer(PoolingForm.FULL, "\\frac{1}{k^2}", "0", "k", "0")
    p5 = answers.find(ProblemId.P5, "accuracy")
    assert p5 is not None and isinstance(p5.value, AccuracyAnswer)
    assert p5.value.claims[0][0] is LossKind.SQUARE
    p6 = answers.find(ProblemId.P6, "dyL/dAL")
    assert p6 is not None and p6.value == FormulaAnswer("y_{L-1}^\\top")
    assert p6.source.line == 11
    c3 = answers.find(ProblemId.P7, CountName.C3_ORIGINAL.value)
    assert c3 is not None and isinstance(c3.value, CountAnswer)
    assert c3.value.value == 1516 and c3.value.stated_work is not None
    assert answers.find(ProblemId.P3, "filter") is None


def test_bad_entries_become_unreadable_answers_not_crashes(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """
[p1]
filter = [[1, 2], [3]]
[p2]
form = "sideways"
value = "1"
stride = "k"
[p5]
square = "about ninety percent"
[p6]
"dyL/dAL" = ''
[p7]
c3_original = "lots"
""",
    )
    answers = read_answers_file(folder, claim)
    assert answers is not None
    for problem, key in [
        (ProblemId.P1, "filter"),
        (ProblemId.P2, "filter"),
        (ProblemId.P5, "accuracy"),
        (ProblemId.P6, "dyL/dAL"),
        (ProblemId.P7, "c3_original"),
    ]:
        found = answers.find(problem, key)
        assert found is not None and isinstance(found.value, Unreadable), (problem, key)
    p1 = answers.find(ProblemId.P1, "filter")
    assert p1 is not None and isinstance(p1.value, Unreadable)
    assert "ragged" in p1.value.reason


def test_unknown_keys_are_noted(tmp_path: Path) -> None:
    answers = read_answers_file(write(tmp_path, '[p6]\n"dy/dx" = "1"\n[p9]\nx = 1\n'), claim)
    assert answers is not None
    assert any("dy/dx" in n for n in answers.notes)
    assert any("p9" in n for n in answers.notes)


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(AnswersFileError, match="line 2"):
        read_answers_file(write(tmp_path, "[p1]\nfilter = 1 2\n[p2]\n"), claim)


def test_non_utf8_file_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "answers.toml").write_bytes(b"[p1]\nfilter = '\xff\xfe'\n")
    with pytest.raises(AnswersFileError, match="not UTF-8"):
        read_answers_file(tmp_path, claim)


def test_no_file_means_no_answers(tmp_path: Path) -> None:
    assert read_answers_file(tmp_path, claim) is None


def test_template_is_valid_toml_with_no_answers(tmp_path: Path) -> None:
    answers = read_answers_file(write(tmp_path, TEMPLATE), claim)
    assert answers is not None
    assert answers.answers == ()
    assert answers.notes == ()


def test_a_multi_line_entry_is_shown_whole(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        "[p1]\nfilter = [  # two kernels\n  [[0, 0, 0], [0, -1, 0], [0, 1, 0]],\n"
        "  [[0, 0, 0], [0, -1, 1], [0, 0, 0]],\n]\n[p3]\nfilter = [0.299, 0.587, 0.114]\n",
    )
    answers = read_answers_file(folder, claim)
    assert answers is not None
    p1 = answers.find(ProblemId.P1, "filter")
    assert p1 is not None and p1.source.text.count("\n") == 3
    assert p1.source.text.endswith("]")
    p3 = answers.find(ProblemId.P3, "filter")
    assert p3 is not None and p3.source.text == "filter = [0.299, 0.587, 0.114]"
