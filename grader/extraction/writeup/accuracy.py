"""P5: the accuracies a student claims and which loss each belongs to.

Counts (1897/1991, \\frac{1897}{1991}, "1897 of 1991") and percents are located here and
grouped when they sit together; each group is read by the checks' own claim parser, so the
reading and the judging agree. A claim belongs to the loss named closest before it in its
clause, else to the loss named right after it ("95.1% (square) vs 95.3% (logistic)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.extraction.accuracy_text import FRACTION, PERCENT, RATIO, parse_accuracy_claim
from grader.extraction.writeup.budget import Budget
from grader.extraction.writeup.sections import Section
from grader.extraction.writeup.shared import Found, has_content, whole_source
from grader.models import (
    SINGLE_ANSWER_KEY,
    AccuracyAnswer,
    AccuracyClaim,
    LossKind,
    ProblemId,
    Unreadable,
)

KEY = SINGLE_ANSWER_KEY[ProblemId.P5]
MAX_CLAIMS = 20
_COUNT = re.compile(f"{FRACTION.pattern}|{RATIO.pattern}")
_PERCENT = re.compile(r"(?<![\d.])" + PERCENT.pattern)  # not the tail of a longer number
_GAP = 45  # a count and a percent this close describe one claim
_SQUARE = re.compile(r"squares?\b|squared|\bmse\b|\bl2\b|quadratic", re.IGNORECASE)
_LOGISTIC = re.compile(
    r"logistic(?!\s+(?:regression|model|classifier))|cross[- ]?entropy|\bb?ce\b|\bkl\b|"
    r"log[- ]?loss|logsigmoid|baseline",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    is_count: bool


@dataclass(frozen=True)
class _Claim:
    start: int
    end: int
    claim: AccuracyClaim


def _pieces(text: str) -> list[_Piece]:
    out: list[_Piece] = []
    for m in _COUNT.finditer(text):
        c, t = int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4))
        if t >= 100 and c <= t:
            out.append(_Piece(m.start(), m.end(), True))
    for m in _PERCENT.finditer(text):
        if not any(p.start <= m.start() < p.end for p in out):
            out.append(_Piece(m.start(), m.end(), False))
    return sorted(out, key=lambda p: p.start)


def _keywords(text: str, start: int, end: int) -> list[tuple[int, int, LossKind]]:
    found = [(m.start(), m.end(), LossKind.SQUARE) for m in _SQUARE.finditer(text, start, end)]
    found += [(m.start(), m.end(), LossKind.LOGISTIC) for m in _LOGISTIC.finditer(text, start, end)]
    return sorted(found)


def _claims(text: str) -> list[_Claim]:
    pieces = _pieces(text)
    groups: list[list[_Piece]] = []
    for p in pieces:
        if groups:
            last = groups[-1]
            gap_ok = p.start - last[-1].end <= _GAP
            kinds = {q.is_count for q in last}
            if gap_ok and p.is_count not in kinds and not _keywords(text, last[-1].end, p.start):
                last.append(p)
                continue
        groups.append([p])
    out: list[_Claim] = []
    for g in groups[:MAX_CLAIMS]:
        start, end = g[0].start, g[-1].end
        claim = parse_accuracy_claim(text[start:end])
        if claim is None:
            continue
        if claim.correct is None and (claim.percent or 0.0) < 50.0:
            continue  # "0.4% better" is a difference, not an accuracy
        out.append(_Claim(start, end, claim))
    return out


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    return len(text) if j < 0 else j


def _assign(text: str, claims: list[_Claim]) -> list[LossKind | None]:
    kinds: list[LossKind | None] = []
    window_start = 0
    for k, c in enumerate(claims):
        before = _keywords(text, window_start, c.start)
        nxt = claims[k + 1].start if k + 1 < len(claims) else len(text)
        after = _keywords(text, c.end, min(nxt, _line_end(text, c.end)))
        if before:
            kinds.append(before[-1][2])
            window_start = c.end
        elif after:
            kinds.append(after[0][2])
            window_start = after[0][1]
        else:
            kinds.append(None)
            window_start = c.end
    known = {k for k in kinds if k is not None}
    if kinds.count(None) == 1 and len(known) == 1:
        other = LossKind.LOGISTIC if LossKind.SQUARE in known else LossKind.SQUARE
        kinds = [other if k is None else k for k in kinds]
    return kinds


def read_p5(sections: list[Section], budget: Budget) -> list[Found]:
    found: list[tuple[Section, _Claim, LossKind | None]] = []
    for s in sections:
        budget.check()
        claims = _claims(s.text)
        found.extend((s, c, k) for c, k in zip(claims, _assign(s.text, claims), strict=True))
    if not found:
        if not has_content(sections):
            return []
        return [Found(KEY, Unreadable("no accuracy found"), whole_source(sections[-1]))]
    first, last = found[0], found[-1]
    source = (
        first[0].source(first[1].start, last[1].end)
        if first[0] is last[0]
        else first[0].source(first[1].start, first[1].end)
    )
    if any(k is None for _, _, k in found):
        return [
            Found(KEY, Unreadable("accuracies found, but not which loss each belongs to"), source)
        ]
    pairs = tuple((k, c.claim) for _, c, k in found if k is not None)
    return [Found(KEY, AccuracyAnswer(pairs), source)]
