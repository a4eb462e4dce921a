"""Split a write-up into problem sections, whatever heading style the student used.

Three kinds of heading, tried in this order for a whole document: numbered ("## Problem 1",
"**Problem 2 :**", "\\section*{Problem 3}", "Exercise 4.", "P5", "HW1 Problem 6"), the
homework's problem titles on a heading line ("# Average pooling as convolution"), and bare
numbers at the start of a line ("1.", "2)") when nothing else is there. A later kind is used
only when the earlier kinds found nothing, so a list "1. 2. 3." inside a numbered problem
or a bold "**Square loss**" inside Problem 5 never splits a section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.extraction.writeup.documents import Document
from grader.extraction.writeup.math_spans import Span, scan
from grader.models import ProblemId, Source

MAX_LINE = 300  # a heading is short; long lines are never scanned for headings
MAX_SOURCE_TEXT = 600

_PROBLEMS = {str(i + 1): p for i, p in enumerate(ProblemId)}

# Markup that may precede a heading's words; each alternative is anchored and bounded.
_PREFIX = re.compile(
    r"(?:#{1,6}|>|\*{1,2}|_{1,2}|\\noindent|\\(?:sub){0,2}section\*?\s*\{|\\paragraph\*?\s*\{"
    r"|\\textbf\s*\{|\\item\s*\[|\\large|\\Large|\{)\s*"
)
_HW = re.compile(r"(?:HW|Homework)\s*#?\s*\d{0,2}\s*[-\u2013\u2014:,.]?\s*", re.IGNORECASE)
_NUMBERED = re.compile(
    r"(Problem|Prob\.|Exercise|Ex\.|Question|Q|P)\s*#?\s*(\d{1,2})(?!\d)", re.IGNORECASE
)
_BARE = re.compile(r"\*{0,2}\s*(\d)\s*[.)]\*{0,2}(?=\s|$)")
_AFTER_HEADING = re.compile(r"[\s.:)\]}*_\u2013\u2014-]*")
_TITLES: tuple[tuple[ProblemId, re.Pattern[str]], ...] = (
    (ProblemId.P1, re.compile(r"finite[- ]difference", re.IGNORECASE)),
    (ProblemId.P4, re.compile(r"max[- ]?pool.{0,40}commut|commut.{0,40}max", re.IGNORECASE)),
    (ProblemId.P2, re.compile(r"average[- ]pool|avg[- ]?pool", re.IGNORECASE)),
    (ProblemId.P3, re.compile(r"gr[ae]y[- ]?scale|rgb", re.IGNORECASE)),
    (
        ProblemId.P5,
        re.compile(r"non-?cross|sum[- ]of[- ]squares|square[ds]? loss|mnist", re.IGNORECASE),
    ),
    (ProblemId.P6, re.compile(r"back-?prop|mlp", re.IGNORECASE)),
    (ProblemId.P7, re.compile(r"lenet|\bc3\b", re.IGNORECASE)),
)


@dataclass(frozen=True)
class Section:
    """One problem's text in one file; `text` starts at the heading line (heading blanked)."""

    problem: ProblemId
    file: str
    first_line: int
    text: str
    spans: tuple[Span, ...]
    unclosed: tuple[str, ...]

    def line_at(self, offset: int) -> int:
        return self.first_line + self.text.count("\n", 0, max(0, offset))

    def source(self, start: int, end: int) -> Source:
        raw = self.text[start:end].strip()
        if len(raw) > MAX_SOURCE_TEXT:
            raw = raw[:MAX_SOURCE_TEXT] + " ..."
        first = start + (len(self.text[start:end]) - len(self.text[start:end].lstrip()))
        return Source(self.file, self.line_at(first), raw)


@dataclass(frozen=True)
class _Heading:
    line: int  # 0-based index in the document's lines
    problem: ProblemId
    blank_to: int  # characters of the line that are the heading marker itself


def _strip_prefix(line: str) -> tuple[str, bool, int]:
    """Remove heading markup; returns (rest, marked, characters removed)."""
    rest = line.lstrip()
    removed = len(line) - len(rest)
    marked = False
    for _ in range(6):
        m = _PREFIX.match(rest)
        if not m or not m.group(0):
            break
        marked = True
        removed += m.end()
        rest = rest[m.end() :]
    return rest, marked, removed


def _numbered(line: str) -> _Heading | None:
    if len(line) > MAX_LINE:
        return None
    rest, marked, removed = _strip_prefix(line)
    hw = _HW.match(rest)
    if hw and hw.end() < len(rest):
        removed += hw.end()
        rest = rest[hw.end() :]
    m = _NUMBERED.match(rest)
    if not m or m.group(2) not in _PROBLEMS:
        return None
    after = rest[m.end() :]
    if len(m.group(1)) == 1 and after[:1] and (after[0].isalnum() or after[0] in "_=^'{"):
        return None  # P2_layer, Q1=..., P4' are not headings
    if not marked and after.strip() and after.strip()[0] not in ".:)-(*}\u2013\u2014":
        return None  # "Problem 3 asks us ..." in prose is not a heading
    tail = _AFTER_HEADING.match(after)
    end = removed + m.end() + (tail.end() if tail else 0)
    return _Heading(0, _PROBLEMS[m.group(2)], end)


def _titled(line: str, alone_ok: bool) -> _Heading | None:
    if len(line) > MAX_LINE:
        return None
    rest, marked, _ = _strip_prefix(line)
    alone = len(rest) <= 70 and "$" not in rest and not rest.rstrip().endswith((".", ","))
    if not (marked or (alone_ok and alone)) or not rest.strip():
        return None
    for problem, pattern in _TITLES:
        if pattern.search(rest):
            return _Heading(0, problem, len(line))
    return None


def _bare(line: str, last: int) -> _Heading | None:
    m = _BARE.match(line.lstrip())
    if not m or m.group(1) not in _PROBLEMS or int(m.group(1)) <= last:
        return None
    return _Heading(0, _PROBLEMS[m.group(1)], len(line) - len(line.lstrip()) + m.end())


def _headings(lines: list[str]) -> list[_Heading]:
    found: list[_Heading] = []
    for i, line in enumerate(lines):
        h = _numbered(line)
        if h:
            found.append(_Heading(i, h.problem, h.blank_to))
    if found:
        return found
    for i, line in enumerate(lines):
        h = _titled(line, alone_ok=True)
        if h:
            found.append(_Heading(i, h.problem, h.blank_to))
    if found:
        return found
    last = 0
    for i, line in enumerate(lines):
        h = _bare(line, last)
        if h:
            last = int(h.problem.value[1:])
            found.append(_Heading(i, h.problem, h.blank_to))
    return found


_FILE_PROBLEM = re.compile(r"(?:^|[^a-z0-9])(?:problem|prob|p|q|ex)[_-]?(\d)(?:[^0-9]|$)")


def _from_file_name(name: str) -> ProblemId | None:
    m = _FILE_PROBLEM.search(name.lower().rsplit("/", 1)[-1])
    return _PROBLEMS.get(m.group(1)) if m else None


def _make(problem: ProblemId, doc: Document, first: int, lines: list[str]) -> Section:
    text = "\n".join(lines)
    found = scan(text)
    return Section(problem, doc.name, first + 1, text, found.spans, found.unclosed)


def split(doc: Document) -> tuple[list[Section], list[str]]:
    lines = doc.text.split("\n")
    heads = _headings(lines)
    if not heads:
        problem = _from_file_name(doc.name)
        if problem is None:
            return [], [f"{doc.name}: no problem headings found"]
        return [_make(problem, doc, 0, lines)], []
    sections: list[Section] = []
    for k, h in enumerate(heads):
        stop = heads[k + 1].line if k + 1 < len(heads) else len(lines)
        chunk = lines[h.line : stop]
        chunk[0] = " " * h.blank_to + chunk[0][h.blank_to :]
        sections.append(_make(h.problem, doc, h.line, chunk))
    return sections, []
