"""P6: each formula matched to the Jacobian it answers by its left-hand side, not position.

An equation's first side names the derivative (\\frac{\\partial y_L}{\\partial b_L}, \\dfrac,
\\partial y_L / \\partial b_L, d instead of \\partial, \\ell or l); its last side is the answer.
Rows of align environments, \\qquad and commas before a new derivative separate equations;
a row starting with "&=" continues the previous one. The last answer for each wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.extraction.writeup.budget import Budget
from grader.extraction.writeup.math_spans import Span
from grader.extraction.writeup.sections import Section
from grader.extraction.writeup.shared import Found, math_spans
from grader.extraction.writeup.text_tools import split_top
from grader.latex import LatexError, parse_latex
from grader.latex.ast import Jacobian
from grader.models import Derivative, FormulaAnswer, Source

_STARTS_DERIVATIVE = re.compile(
    r"\s*(?:\\left\s*)?[(\[]?\s*(?:\\[dtc]?frac\s*\{\s*(?:\\partial|d\s*[yY])|\\partial|\u2202)"
)
_LABEL = re.compile(r"^\s*(?:\\text\{[^{}]{0,20}\}|\([a-z]\)|[a-z]\))\s*")
_TRAILING = re.compile(
    r"(?:\\text\{[^{}]*\}|\\tag\{[^{}]*\}|\\label\{[^{}]*\}|\\[,;:! ]|\\q?quad"
    r"|\\nonumber|\\notag)\Z"
)
_SEPARATORS = ("\\qquad", "\\quad", "\\text{and}", "\\text{ and }", "\\text{, }", ";", "\\hfill")
_BY_TITLE = {d.title: d for d in Derivative}


def derivative_of(lhs: str) -> Derivative | None:
    """Which Jacobian a left-hand side names, or None (an intermediate like dy_L/dy_l)."""
    try:
        e = parse_latex(_LABEL.sub("", lhs))
    except LatexError:
        return None
    return _BY_TITLE.get(e.name) if isinstance(e, Jacobian) else None


@dataclass
class _Equation:
    start: int  # offsets in the section text
    sides: list[tuple[int, str]]


def _pieces(body: str) -> list[tuple[int, str]]:
    """Equations of a math body: rows, then separators, then commas before a derivative."""
    out: list[tuple[int, str]] = []
    for row_off, row in split_top(body, ("\\\\",)):
        row = "".join(" " if ch == "&" else ch for ch in row)  # alignment marks only
        for sep_off, piece in split_top(row, _SEPARATORS):
            merged: list[tuple[int, str]] = []
            for c_off, chunk in split_top(piece, (",",)):
                if merged and not _STARTS_DERIVATIVE.match(chunk):
                    m_off, m_text = merged[-1]
                    merged[-1] = (m_off, m_text + "," + chunk)
                else:
                    merged.append((c_off, chunk))
            out.extend((row_off + sep_off + off, text) for off, text in merged)
    return out


def _equations(span: Span) -> list[_Equation]:
    eqs: list[_Equation] = []
    for off, piece in _pieces(span.body):
        sides = [(span.start + off + s_off, s) for s_off, s in split_top(piece, ("=",))]
        if len(sides) > 1 and not sides[0][1].strip() and eqs:
            eqs[-1].sides.extend(sides[1:])  # "&= ..." continues the row above
        elif piece.strip():
            eqs.append(_Equation(span.start + off, sides))
    return eqs


def _answer(side: str) -> str:
    """The answer side without trailing punctuation, spacing, tags or a \\text{} remark."""
    text = side.strip()
    while True:
        trimmed = text.rstrip().rstrip(".,;").rstrip()
        tail = _TRAILING.search(trimmed[-200:])
        if tail is not None:
            trimmed = trimmed[: len(trimmed) - (len(trimmed[-200:]) - tail.start())]
        if trimmed == text:
            return text
        text = trimmed


def _next_span_answer(section: Section, span: Span, spans: list[Span]) -> tuple[int, str] | None:
    """ "$\\frac{\\partial y_L}{\\partial b_L}$ = $1$": the answer sits in the next span."""
    after = section.text[span.end + 1 : span.end + 12].lstrip("$ ")
    if not after.startswith("="):
        return None
    later = [s for s in spans if s.start > span.end]
    if not later or later[0].start - span.end > 20:
        return None
    return later[0].start, later[0].body


def read_p6(sections: list[Section], budget: Budget) -> list[Found]:
    found: dict[Derivative, Found] = {}
    for section in sections:
        spans = math_spans(section)
        for span in spans:
            budget.check()
            for eq in _equations(span):
                which = derivative_of(eq.sides[0][1])
                if which is None:
                    continue
                if len(eq.sides) > 1:
                    ans_off, ans_text = eq.sides[-1]
                    end = ans_off + len(ans_text)
                else:
                    nxt = _next_span_answer(section, span, spans)
                    if nxt is None:
                        continue
                    ans_off, ans_text = nxt
                    end = ans_off + len(ans_text)
                latex = _answer(ans_text)
                if not latex:
                    continue
                text = section.source(eq.start, end).text
                line = section.line_at(ans_off + _lead(ans_text))
                found[which] = Found(
                    which.value, FormulaAnswer(latex), Source(section.file, line, text)
                )
    return [found[d] for d in Derivative if d in found]


def _lead(text: str) -> int:
    return len(text) - len(text.lstrip())
