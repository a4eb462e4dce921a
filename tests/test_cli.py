"""The `grade` command: help everywhere, clear errors with exit codes, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_every_command_has_help_text() -> None:
    code, text = invoke("--help")
    assert code == EXIT_OK
    for name, command in main.commands.items():
        assert command.help, f"command {name} has no help text"
        code, text = invoke(name, "--help")
        assert code == EXIT_OK and "Usage" in text


def test_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, text = invoke(str(tmp_path / "nobody"), "--out", str(tmp_path / "out"))
    assert code == EXIT_USAGE
    assert "no such folder" in text


def test_empty_class_folder_is_explained(tmp_path: Path) -> None:
    (tmp_path / "class").mkdir()
    code, text = invoke(str(tmp_path / "class"), "--out", str(tmp_path / "out"))
    assert code == EXIT_USAGE and "holds no submission" in text


def test_unusable_reference_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "ref.toml"
    bad.write_text("[homework]\ntitle = 'x'\n")
    code, text = invoke("check-reference", "--reference", str(bad))
    assert code == EXIT_USAGE and "missing key" in text


def test_template_prints_the_answer_file() -> None:
    code, text = invoke("template")
    assert code == EXIT_OK and "[p6]" in text and "c3_original" in text


def test_malformed_answers_file_is_named_and_exits_non_zero(tmp_path: Path) -> None:
    student = tmp_path / "class" / "mallory"
    student.mkdir(parents=True)
    (student / "answers.toml").write_text("[p1]\nfilter = [1, 2\n")
    code, text = invoke(str(student), "--out", str(tmp_path / "out"), "--no-code")
    assert code == EXIT_INPUT
    assert "mallory" in text and "not valid TOML" in text
    assert (tmp_path / "out" / "mallory" / "report.html").is_file()


def test_unparseable_formula_names_where(tmp_path: Path) -> None:
    student = tmp_path / "zed"
    student.mkdir()
    (student / "answers.toml").write_text("[p6]\n\"dyL/dbL\" = '\\frac{1}{'\n")
    code, text = invoke(str(student), "--out", str(tmp_path / "out"), "--no-code")
    assert code == EXIT_INPUT
    assert "answers.toml:2" in text and "column" in text


@pytest.mark.slow
def test_class_folder_grades_everyone_and_one_failure_stops_no_one(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    shutil.copytree(ROOT / "submissions" / "alice", klass / "alice")
    (klass / "broken").mkdir()
    (klass / "broken" / "answers.toml").write_bytes(b"\xff\xfe not toml")
    code, _ = invoke(str(klass), "--out", str(tmp_path / "out"), "--no-code")
    assert code == EXIT_INPUT
    for student in ("alice", "broken"):
        assert (tmp_path / "out" / student / "results.json").is_file()


@pytest.mark.slow
def test_check_reference_passes_and_fails_on_a_broken_edit(tmp_path: Path) -> None:
    code, text = invoke("check-reference")
    assert code == EXIT_OK and " 0 failed" in text
    original = (ROOT / "reference" / "hw4.toml").read_text()
    broken = tmp_path / "hw4.toml"
    # An instructor mistypes the P6 answer: dyL/dAL loses its transpose.
    broken.write_text(original.replace("answer = 'y_{L-1}^\\top'", "answer = 'y_{L-1}'"))
    assert broken.read_text() != original
    code, text = invoke("check-reference", "--reference", str(broken))
    assert code == EXIT_INPUT
    assert "FAIL" in text and "dyL/dAL" in text


@pytest.mark.slow
def test_grading_refuses_a_reference_an_edit_broke(tmp_path: Path) -> None:
    original = (ROOT / "reference" / "hw4.toml").read_text()
    broken = tmp_path / "hw4.toml"
    # The instructor types the Table I count wrong: every right student would lose points.
    broken.write_text(original.replace("value = 1516", "value = 1517"))
    code, text = invoke(
        str(ROOT / "submissions" / "alice"), "--reference", str(broken),
        "--out", str(tmp_path / "out"), "--no-code",
    )  # fmt: skip
    assert code == EXIT_USAGE
    assert "fails" in text and "c3_original" in text
    assert not (tmp_path / "out").exists()


def test_unknown_required_layer_is_a_usage_error(tmp_path: Path) -> None:
    code, text = invoke(
        str(ROOT / "submissions" / "alice"), "--require-layers", "bubblewrap,moat",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == EXIT_USAGE and "unknown isolation layer moat" in text
