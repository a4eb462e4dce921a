"""Hostile or broken write-ups: bounded time, no exception, a clear note."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader.checks.accuracy_claims import check_p5_claims
from grader.extraction.writeup import read_writeup, reader
from grader.models import (
    SINGLE_ANSWER_KEY,
    CountName,
    Derivative,
    FilterAnswer,
    ProblemId,
    Status,
    Unreadable,
)
from grader.reference import load_reference

INPUTS = Path(__file__).parent / "writeup_inputs"
LIMIT = 3.0  # seconds; a normal write-up takes milliseconds


def _timed(tmp_path: Path, data: bytes, name: str = "writeup.md") -> tuple[float, object]:
    (tmp_path / name).write_bytes(data)
    t = time.perf_counter()
    r = read_writeup(tmp_path)
    return time.perf_counter() - t, r


def _short_id(body: object) -> str:
    return str(body)[:24]


@pytest.mark.parametrize(
    "body",
    [
        "$" + "{" * 50_000 + "$",
        "$$w = " + "\\left(" * 5_000 + "1$$",
        "$$w = \\begin{bmatrix} 10^{10^{10^{10}}} & 0 & 0 \\end{bmatrix}$$",
        "$$w = \\begin{bmatrix} " + "\\frac{" * 3000 + "1" + "}{2}" * 3000 + " \\end{bmatrix}$$",
        "$ unclosed " + "a " * 20_000,
        "\\[ " + " " * 30_000 + "= 1516",
        "= " * 40_000 + "1516",
        "$$" + "\\frac{\\partial y_L}{\\partial b_L} = " * 2_000 + "1$$",
        "stride " * 30_000 + "padding " * 30_000,
        "1/" * 30_000 + "1991 " + "%" * 1000,
        "1" * 50_000 + "R G B " + "0" * 50_000,
        "\n \n" * 20_000 + "1516",
        "w_{" * 10_000 + "= 0.3",
    ],
    ids=_short_id,
)
def test_hostile_bodies_are_bounded(tmp_path: Path, body: str) -> None:
    doc = "\n".join(f"## Problem {i}\n{body}\n" for i in range(1, 8))
    elapsed, r = _timed(tmp_path, doc.encode())
    assert elapsed < LIMIT


def test_tower_exponent_is_refused_with_a_reason(tmp_path: Path) -> None:
    body = "$$w = \\begin{bmatrix} 10^{10^{10^{10}}} & 0 & 0 \\end{bmatrix}$$"
    (tmp_path / "w.md").write_text(f"## Problem 3\n{body}\n")
    a = read_writeup(tmp_path).answers.find(ProblemId.P3, "filter")
    assert a is not None and isinstance(a.value, Unreadable)
    assert "exponent" in a.value.reason


def test_ten_megabyte_file_is_cut_and_noted(tmp_path: Path) -> None:
    head = b"## Problem 3\n$w = (0.299, 0.587, 0.114)$\n"
    elapsed, r = _timed(tmp_path, head + b"x" * 10_000_000)
    assert elapsed < LIMIT
    assert any("only the start was read" in n for n in r.notes)  # type: ignore[attr-defined]
    v = r.answers.find(ProblemId.P3, "filter").value  # type: ignore[attr-defined]
    assert isinstance(v, FilterAnswer)


def test_binary_junk_is_skipped(tmp_path: Path) -> None:
    elapsed, r = _timed(tmp_path, bytes(range(256)) * 100)
    assert r.answers.answers == ()  # type: ignore[attr-defined]
    assert any("binary" in n for n in r.notes)  # type: ignore[attr-defined]


def test_non_utf8_is_decoded_with_a_note(tmp_path: Path) -> None:
    data = "## Problem 3\n$w = (0.299, 0.587, 0.114)$ caf\xe9\n".encode("latin-1")
    _, r = _timed(tmp_path, data)
    assert any("not valid UTF-8" in n for n in r.notes)  # type: ignore[attr-defined]
    assert isinstance(r.answers.find(ProblemId.P3, "filter").value, FilterAnswer)  # type: ignore[attr-defined]


def test_unbalanced_left_right_and_unclosed_dollar(tmp_path: Path) -> None:
    doc = (
        "## Problem 1\n$$w = \\left[ \\begin{bmatrix} 0 \\end{bmatrix} $$\n"
        "## Problem 6\n$\\frac{\\partial y_L}{\\partial b_L} = \\left( 1\n\n"
        "## Problem 7\nC3 has $1516 parameters.\n"
    )
    _, r = _timed(tmp_path, doc.encode())
    assert any("'$' opened and never closed" in n for n in r.notes)  # type: ignore[attr-defined]
    assert r.answers.find(ProblemId.P7, "c3_original") is not None  # type: ignore[attr-defined]


def test_budget_exhaustion_is_noted(tmp_path: Path) -> None:
    (tmp_path / "w.md").write_text("## Problem 1\n$$ \\begin{bmatrix}1\\end{bmatrix} $$\n")
    r = read_writeup(tmp_path, budget_seconds=0.0)
    assert any("could not be read completely" in n for n in r.notes)


def test_empty_folder_and_symlink_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("## Problem 3\n$w = (0.299, 0.587, 0.114)$\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "link.md").symlink_to(outside)
    r = read_writeup(sub)
    assert r.answers.answers == ()
    assert any("no write-up" in n for n in r.notes)


def test_two_files_first_wins_and_is_noted(tmp_path: Path) -> None:
    (tmp_path / "writeup.md").write_text("## Problem 3\n$w = (0.299, 0.587, 0.114)$\n")
    (tmp_path / "other.md").write_text("## Problem 3\n$w = (0.114, 0.587, 0.299)$\n")
    r = read_writeup(tmp_path)
    a = r.answers.find(ProblemId.P3, "filter")
    assert a is not None and a.source.file == "writeup.md"
    assert isinstance(a.value, FilterAnswer) and a.value.weight.values[0] == 0.299
    assert any("both writeup.md and other.md" in n for n in r.notes)


def _keys(problem: ProblemId) -> set[str]:
    if problem is ProblemId.P6:
        return {d.value for d in Derivative}
    if problem is ProblemId.P7:
        return {c.value for c in CountName}
    return {SINGLE_ANSWER_KEY[problem]}


def _failing(sections: object, budget: object) -> object:
    raise IndexError("reader bug")


@pytest.mark.parametrize("problem", [p for p in ProblemId if p is not ProblemId.P4])
def test_failing_reader_leaves_every_item_for_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: ProblemId
) -> None:
    monkeypatch.setitem(reader._READERS, problem, _failing)
    for name in ("hw4_solutions.md", "zz_other.md"):  # the second file answers everything again
        text = (INPUTS / "frank_md_mixed" / "hw4_solutions.md").read_text()
        (tmp_path / name).write_text(text)
    r = read_writeup(tmp_path)
    found = r.answers.for_problem(problem)
    assert {a.key for a in found} == _keys(problem)
    assert all(isinstance(a.value, Unreadable) for a in found)
    assert all(a.source.file == "hw4_solutions.md" for a in found)
    assert any(f"{problem.value}: the write-up reader failed" in n for n in r.notes)
    assert any(f"{problem.value} is answered in both" in n for n in r.notes)
    others = [p for p in ProblemId if p not in (problem, ProblemId.P4)]
    assert all(r.answers.for_problem(p) for p in others)  # the other problems are still read


def test_failing_p5_reader_gives_needs_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(reader._READERS, ProblemId.P5, _failing)
    text = (INPUTS / "frank_md_mixed" / "hw4_solutions.md").read_text()
    (tmp_path / "hw4_solutions.md").write_text(text)
    answer = read_writeup(tmp_path).answers.find(ProblemId.P5, SINGLE_ANSWER_KEY[ProblemId.P5])
    (result,) = check_p5_claims(load_reference().p5, answer)
    assert result.status is Status.NEEDS_REVIEW


def test_copies_and_caches_are_not_read(tmp_path: Path) -> None:
    for folder in ("node_modules", "site-packages", ".ipynb_checkpoints", "venv"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "writeup.md").write_text("## Problem 3\n$w = (1, 2, 3)$\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "hw.md").write_text("## Problem 3\n$w = (0.299, 0.587, 0.114)$\n")
    r = read_writeup(tmp_path)
    assert r.files == ("notes/hw.md",)
    a = r.answers.find(ProblemId.P3, "filter")
    assert a is not None and isinstance(a.value, FilterAnswer)
    assert a.value.weight.values == (0.299, 0.587, 0.114)
