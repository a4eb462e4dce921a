"""P7: parameter counts, each matched to the count it names by the words around it.

Candidates: the number after the last "=" of a chain (with the arithmetic before it as the
stated work), a math span that is only a number, a number of 100 or more in prose, and the
numbers in printed "... parameters: N" lines. Each is classified by its own clause (words
before it back to a clause boundary, else words after it): C3 layer or whole network,
original (Table I, sparse) or full (regular, dense), or the reduction. A number without a
variant takes the first free slot of its group in order: original, then full, as a TA reads
"60806 vs. 61706" or two printed totals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from grader.extraction.writeup.budget import Budget
from grader.extraction.writeup.math_spans import SpanKind
from grader.extraction.writeup.sections import Section
from grader.extraction.writeup.shared import Found
from grader.extraction.writeup.text_tools import integers, split_top
from grader.models import CountAnswer, CountName, Source

MAX_CANDIDATES = 60
LENET_AT_LEAST = 10_000  # a whole LeNet-5 has tens of thousands of parameters, a C3 layer not


class _Group(Enum):
    C3 = "c3"
    LENET = "lenet"


class _Variant(Enum):
    ORIGINAL = "original"
    FULL = "full"


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    value: int
    stated_work: str | None
    printed: bool  # from a printed "parameters: N" line


_BOUNDARY = re.compile(
    r"\.(?=\s|\$|$)|;|,\s|\band\b|\bvs\b\.?|\bversus\b|\bwhile\b|\bwhereas\b|\bbut\b|\n[ \t]*\n"
    r"|\n[ \t]*[-*]\s|\n[ \t]*\||```"
)
_REDUCTION = re.compile(r"reduc|\bsav(?:e|es|ing|ed)\b|fewer|\bless\b|differ|decreas|smaller by")
_LENET = re.compile(r"lenet|network|\bmodel\b|whole|entire|overall|in total")
_TOTAL = re.compile(r"\btotal")
_C3 = re.compile(r"c3|layer")
_ORIGINAL = re.compile(r"original|table|sparse|lecun|paper|partial|connection")
_FULL = re.compile(r"\bfull|fully|regular|dense|standard|complete|ordinary|normal|conv2d\(6")
_OPERATOR_BEFORE = re.compile(r"(?:[-+*/^_\u00d7\u00b7]|(?<![A-Za-z])x|\\times|\\cdot)\s*$")
_OPERATOR_AFTER = re.compile(r"^(?:\s*(?:[-+*/^_\u00d7\u00b7]|x(?![A-Za-z])|\\times|\\cdot)|\()")
_ARITH_CHARS = set("0123456789 +-*/()\u00d7\u00b7x=.\t")
_PARAM_LINE = re.compile(r"param", re.IGNORECASE)
_YEAR_CONTEXT = re.compile(r"et al|lecun|\(\s*$", re.IGNORECASE)


def _stated(sides: list[str]) -> str | None:
    work = [s.strip() for s in sides[:-1]]
    while work and not re.search(r"\d", work[0]):
        work.pop(0)  # "C_3 = ..." : a name, not arithmetic
    return " = ".join(work) if work else None


def _math_candidates(section: Section) -> list[_Candidate]:
    out: list[_Candidate] = []
    for span in section.spans:
        if span.kind is SpanKind.CODE:
            if span.body.count("\n") > 2_000:
                continue
            for line_start, line in _lines(span.body):
                nums = integers(line)
                if _PARAM_LINE.search(line) and nums and nums[-1][0] >= 100:
                    v, s, e = nums[-1]
                    at = span.start + line_start
                    out.append(_Candidate(at + s, at + e, v, None, True))
            continue
        sides = split_top(span.body, ("=",))
        off, last = sides[-1]
        nums = integers(last)
        if not nums or last[: nums[0][1]].strip(" \\,~{}"):
            continue
        v, s, e = nums[0]
        work = _stated([t for _, t in sides]) if len(sides) > 1 else None
        if work is None and v < 100:
            continue
        out.append(_Candidate(span.start + off + s, span.start + off + e, v, work, False))
    return out


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _prose_candidates(section: Section) -> list[_Candidate]:
    text = section.text
    inside = [(s.start, s.end) for s in section.spans]
    out: list[_Candidate] = []
    for v, s, e in integers(text):
        if any(a - 1 <= s < b + 1 for a, b in inside):
            continue
        before, after = text[max(0, s - 40) : s], text[e : e + 20]
        if before[-1:].isalpha() or after[:1].isalpha() and after[:1] not in "x":
            continue  # part of a name: C3, Conv2d, 5x5
        if before.rstrip().endswith("="):
            run = before.rstrip()[:-1]
            k = len(run)
            while k > 0 and run[k - 1] in _ARITH_CHARS:
                k -= 1
            work = run[k:].strip() or None
            if work is not None and not re.search(r"[-+*/\u00d7\u00b7x]", work):
                work = None
            if work is not None or v >= 100:
                out.append(_Candidate(s, e, v, work, False))
            continue
        if _OPERATOR_BEFORE.search(before) or _OPERATOR_AFTER.match(after):
            continue  # an operand of arithmetic, not a result
        if v >= 100 and not (1950 <= v <= 2030 and _YEAR_CONTEXT.search(before)):
            out.append(_Candidate(s, e, v, None, False))
    return out


def _clause_before(text: str, lo: int, at: int) -> tuple[int, str]:
    start = lo
    for m in _BOUNDARY.finditer(text, lo, at):
        start = m.end()
    return start, text[start:at].lower()


def _clause_after(text: str, at: int, hi: int) -> str:
    m = _BOUNDARY.search(text, at, hi)
    return text[at : m.start() if m else hi].lower()


def _nearest(first: re.Pattern[str], second: re.Pattern[str], clause: str, last: bool) -> int:
    """0 when neither pattern occurs, 1 when `first` is nearest the number, 2 for `second`.
    `last`: the number follows the clause, so the latest keyword is the nearest."""
    a = [m.start() for m in first.finditer(clause)]
    b = [m.start() for m in second.finditer(clause)]
    if not a and not b:
        return 0
    if last:
        return 1 if (max(a) if a else -1) > (max(b) if b else -1) else 2
    return 1 if (min(a) if a else len(clause)) < (min(b) if b else len(clause)) else 2


def _group(clause: str) -> _Group | None:
    if _LENET.search(clause):
        return _Group.LENET
    if _C3.search(clause):
        return _Group.C3
    if _TOTAL.search(clause):
        return _Group.LENET
    return None


def _variant(clause: str, last: bool) -> _Variant | None:
    pick = _nearest(_ORIGINAL, _FULL, clause, last)
    if pick == 0:
        return None
    return _Variant.ORIGINAL if pick == 1 else _Variant.FULL


_SLOT = {
    (_Group.C3, _Variant.ORIGINAL): CountName.C3_ORIGINAL,
    (_Group.C3, _Variant.FULL): CountName.C3_FULL,
    (_Group.LENET, _Variant.ORIGINAL): CountName.LENET_ORIGINAL,
    (_Group.LENET, _Variant.FULL): CountName.LENET_FULL,
}


def read_p7(sections: list[Section], budget: Budget) -> list[Found]:
    slots: dict[CountName, Found] = {}
    pending: list[tuple[_Group, Found]] = []
    for section in sections:
        budget.check()
        text = section.text
        cands = sorted(
            _math_candidates(section) + _prose_candidates(section), key=lambda c: c.start
        )[:MAX_CANDIDATES]
        for k, c in enumerate(cands):
            lo = cands[k - 1].end if k else 0
            hi = cands[k + 1].start if k + 1 < len(cands) else len(text)
            clause_start, before = _clause_before(text, lo, c.start)
            after = _clause_after(text, c.end, hi)
            if c.printed:
                clause_start = text.rfind("\n", 0, c.start) + 1
                before, after = text[clause_start : c.start].lower(), ""
            source = section.source(clause_start, c.end)
            found = Found("", CountAnswer(c.value, c.stated_work), _at(section, source, c.start))
            if _REDUCTION.search(before) or (not before.strip() and _REDUCTION.search(after)):
                slots[CountName.REDUCTION] = _keyed(found, CountName.REDUCTION)
                continue
            group = _group(before) or _group(after)
            if group is None:
                group = _Group.LENET if c.value >= LENET_AT_LEAST else _Group.C3
            variant = _variant(before, last=True) or _variant(after, last=False)
            if variant is None:
                pending.append((group, found))
            else:
                slots[_SLOT[(group, variant)]] = _keyed(found, _SLOT[(group, variant)])
    for group, found in pending:
        for variant in _Variant:
            name = _SLOT[(group, variant)]
            if name not in slots:
                slots[name] = _keyed(found, name)
                break
    return [slots[n] for n in CountName if n in slots]


def _keyed(found: Found, name: CountName) -> Found:
    return Found(name.value, found.value, found.source)


def _at(section: Section, source: Source, offset: int) -> Source:
    return Source(source.file, section.line_at(offset), source.text)
