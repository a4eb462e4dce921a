"""read_writeup: a submission folder's write-up files into an AnswerSet with sources.

Files are read in priority order (write-up-like names first); a problem answered in two
files is taken from the first and the other is noted. Each file has its own time budget;
a file that runs out stops there with a note and the problems already read are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.extraction.writeup.accuracy import read_p5
from grader.extraction.writeup.budget import Budget, BudgetExceeded
from grader.extraction.writeup.counts import read_p7
from grader.extraction.writeup.documents import Document, find_documents
from grader.extraction.writeup.filters import read_p1, read_p3
from grader.extraction.writeup.jacobians import read_p6
from grader.extraction.writeup.math_spans import scan
from grader.extraction.writeup.pooling import read_p2
from grader.extraction.writeup.proof import proof_text
from grader.extraction.writeup.sections import Section, split
from grader.extraction.writeup.shared import Found, whole_source
from grader.models import (
    SINGLE_ANSWER_KEY,
    Answer,
    AnswerSet,
    CountName,
    Derivative,
    ProblemId,
    Source,
    Unreadable,
)

BUDGET_SECONDS = 2.0  # a normal write-up takes milliseconds
MAX_UNCLOSED_NOTES = 3

Reader = Callable[[list[Section], Budget], tuple[list[Found], list[str]]]


def _no_notes(
    read: Callable[[list[Section], Budget], list[Found]],
) -> Reader:
    return lambda sections, budget: (read(sections, budget), [])


_READERS: dict[ProblemId, Reader] = {
    ProblemId.P1: _no_notes(read_p1),
    ProblemId.P2: read_p2,
    ProblemId.P3: _no_notes(read_p3),
    ProblemId.P5: _no_notes(read_p5),
    ProblemId.P6: _no_notes(read_p6),
    ProblemId.P7: _no_notes(read_p7),
}


@dataclass(frozen=True)
class WriteupReading:
    answers: AnswerSet
    files: tuple[str, ...]
    notes: tuple[str, ...]  # what could not be read, in words
    proof_text: Source | None  # P4, for the person who grades it


@dataclass
class _State:
    answers: list[Answer]
    notes: list[str]
    taken: dict[ProblemId, str]  # problem -> file it was read from
    proof: Source | None = None


def _grouped(sections: list[Section]) -> dict[ProblemId, list[Section]]:
    out: dict[ProblemId, list[Section]] = {}
    for s in sections:
        out.setdefault(s.problem, []).append(s)
    return out


def _unclosed_notes(sections: list[Section]) -> list[str]:
    notes = [
        f"{s.file} (problem {s.problem.value}, from line {s.first_line}): '{d}' opened and "
        "never closed; the text after it was read as plain text"
        for s in sections
        for d in s.unclosed
    ]
    return notes[:MAX_UNCLOSED_NOTES]


def _whole_document(doc: Document, problem: ProblemId) -> Section:
    found = scan(doc.text)
    return Section(problem, doc.name, 1, doc.text, found.spans, found.unclosed)


def _answer_keys(problem: ProblemId) -> tuple[str, ...]:
    """Every key a problem's answers are stored under, so a failed reader marks each item."""
    if problem is ProblemId.P6:
        return tuple(d.value for d in Derivative)
    if problem is ProblemId.P7:
        return tuple(c.value for c in CountName)
    return (SINGLE_ANSWER_KEY[problem],)


def _read_problem(problem: ProblemId, sections: list[Section], budget: Budget, st: _State) -> None:
    if problem is ProblemId.P4:
        st.proof = proof_text(sections)
        return
    try:
        found, notes = _READERS[problem](sections, budget)
    except BudgetExceeded:
        raise
    except Exception as exc:  # a reader bug must not lose the other problems
        where = f"{sections[0].file}:{sections[0].first_line}"
        st.notes.append(
            f"{problem.value}: the write-up reader failed at {where} "
            f"({type(exc).__name__}: {exc}); the answer needs review by a person"
        )
        unreadable = Unreadable("the grader could not read this answer")
        source = whole_source(sections[0])
        found, notes = [Found(k, unreadable, source) for k in _answer_keys(problem)], []
    st.notes.extend(notes)
    st.answers.extend(Answer(problem, f.key, f.value, f.source) for f in found)


def _read_document(doc: Document, seconds: float, st: _State) -> None:
    budget = Budget(seconds)
    pending: list[ProblemId] = []
    try:
        sections, notes = split(doc)
        budget.check()
        st.notes.extend(notes)
        st.notes.extend(_unclosed_notes(sections))
        if not sections and ProblemId.P6 not in st.taken:
            # No headings: only the P6 reader is safe on a whole file (it matches by LHS).
            sections = [_whole_document(doc, ProblemId.P6)]
        groups = _grouped(sections)
        pending = [p for p in ProblemId if p in groups]
        for problem in list(pending):
            if problem in st.taken:
                st.notes.append(
                    f"{problem.value} is answered in both {st.taken[problem]} and {doc.name}; "
                    f"{st.taken[problem]} was used"
                )
            else:
                _read_problem(problem, groups[problem], budget, st)
                if any(a.problem is problem for a in st.answers) or problem is ProblemId.P4:
                    st.taken[problem] = doc.name
            pending.remove(problem)
    except BudgetExceeded as exc:
        left = ", ".join(p.value for p in pending) or "none"
        st.notes.append(f"{doc.name}: could not be read completely ({exc}); not read: {left}")


def read_writeup(submission_dir: Path, budget_seconds: float = BUDGET_SECONDS) -> WriteupReading:
    """Read every write-up file of a submission folder. Never raises on bad files."""
    docs = find_documents(submission_dir)
    st = _State([], list(docs.notes), {})
    if not docs.documents:
        st.notes.append("no write-up file (.md or .tex) was found")
    for doc in docs.documents:
        _read_document(doc, budget_seconds, st)
    files = tuple(d.name for d in docs.documents)
    notes = tuple(st.notes)
    return WriteupReading(AnswerSet(tuple(st.answers), notes), files, notes, st.proof)
