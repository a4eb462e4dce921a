"""Everything read from one submission folder, before any check runs.

Sources, in order of authority: answers.toml (the structured file wins), then the write-up.
Where both give an answer and they disagree, the file's is graded and the note shows both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.extraction.accuracy_text import parse_accuracy_claim
from grader.extraction.answers_file import AnswersFileError, read_answers_file
from grader.extraction.code import CodeSubmission, read_submission_code
from grader.extraction.writeup import read_writeup
from grader.models import Answer, AnswerSet, Source


@dataclass(frozen=True)
class SubmissionInputs:
    folder: Path
    answers: AnswerSet
    proof: Source | None  # P4's text, for the person who grades it
    writeup_read: bool  # a write-up document was found and read
    code: CodeSubmission  # definitions taken statically from .py/.ipynb (nothing run yet)
    notes: tuple[str, ...]
    input_errors: tuple[str, ...]


def read_submission(folder: Path) -> SubmissionInputs:
    notes: list[str] = []
    errors: list[str] = []
    file_answers: AnswerSet | None = None
    try:
        file_answers = read_answers_file(folder, parse_accuracy_claim)
    except AnswersFileError as exc:
        errors.append(str(exc))

    reading = read_writeup(folder)
    notes.extend(reading.notes)
    writeup = reading.answers if reading.files else None
    if file_answers is not None:
        notes.extend(file_answers.notes)
    answers = merge_answers(file_answers, writeup, notes)
    code = read_submission_code(folder)
    notes.extend(code.notes)
    notes.extend(_skipped_notes(code.skipped))
    notes.extend(f"Needs review (possible tampering): {f.describe()}" for f in code.findings)
    return SubmissionInputs(
        folder=folder,
        answers=answers,
        proof=reading.proof_text,
        writeup_read=bool(reading.files),
        code=code,
        notes=tuple(notes),
        input_errors=tuple(errors),
    )


MAX_SKIPPED_NOTES = 12


def _skipped_notes(skipped: tuple[str, ...]) -> list[str]:
    """What of the student's scripts was not run (downloads, training loops, plots)."""
    notes = [f"Not run (top-level work; only definitions are taken): {s}" for s in skipped]
    if len(notes) > MAX_SKIPPED_NOTES:
        rest = len(notes) - MAX_SKIPPED_NOTES
        notes = notes[:MAX_SKIPPED_NOTES] + [f"... and {rest} more top-level statements not run"]
    return notes


def merge_answers(
    file_answers: AnswerSet | None, writeup: AnswerSet | None, notes: list[str]
) -> AnswerSet:
    """The file wins item by item; the write-up fills what the file leaves out."""
    if file_answers is None:
        return writeup or AnswerSet(())
    if writeup is None:
        return file_answers
    merged: list[Answer] = list(file_answers.answers)
    used_file = False
    for answer in writeup.answers:
        mine = file_answers.find(answer.problem, answer.key)
        if mine is None:
            merged.append(answer)
            continue
        used_file = True
        if mine.value != answer.value:
            notes.append(
                f"{answer.problem.value} {answer.key}: answers.toml and the write-up disagree; "
                f"the file's answer was graded. File: {mine.source.text!r}. "
                f"Write-up ({answer.source.describe()}): {answer.source.text!r}"
            )
    if used_file:
        notes.insert(0, "Both answers.toml and a write-up were read: answers.toml wins.")
    return AnswerSet(tuple(merged))
