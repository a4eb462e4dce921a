"""Hostile or broken write-ups: bounded time, no exception, a clear note."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader.extraction.writeup import read_writeup
from grader.models import FilterAnswer, ProblemId, Unreadable

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
