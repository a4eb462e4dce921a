"""Locate math and printed program output in a piece of write-up text.

A single left-to-right scan (no backtracking regexes): $...$, $$...$$, \\[...\\], \\(...\\),
equation/align/gather environments, and fenced ``` blocks (program output, never math).
An opener without its closer is left as text and reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

MAX_SPAN = 20_000  # no answer is this long; a longer "span" is an unclosed delimiter
_ENVS = (
    "equation",
    "equation*",
    "align",
    "align*",
    "aligned",
    "gather",
    "gather*",
    "multline",
    "multline*",
    "eqnarray",
    "eqnarray*",
    "displaymath",
    "math",
)


class SpanKind(Enum):
    INLINE = "inline"
    DISPLAY = "display"
    CODE = "code"  # a fenced block: printed output or code


@dataclass(frozen=True)
class Span:
    kind: SpanKind
    start: int  # offset of the body in the scanned text
    end: int
    body: str


@dataclass(frozen=True)
class Scan:
    spans: tuple[Span, ...]
    unclosed: tuple[str, ...]  # delimiters opened and never closed


def _escaped(text: str, i: int) -> bool:
    n = 0
    j = i - 1
    while j >= 0 and text[j] == "\\":
        n += 1
        j -= 1
    return n % 2 == 1


def _find_unescaped(text: str, needle: str, start: int, limit: int) -> int:
    i = start
    while True:
        i = text.find(needle, i, limit)
        if i < 0 or not _escaped(text, i):
            return i
        i += 1


def _line_start(text: str, i: int) -> bool:
    j = text.rfind("\n", 0, i) + 1
    return text[j:i].strip() == ""


def scan(text: str) -> Scan:
    spans: list[Span] = []
    unclosed: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "`~" and text.startswith(ch * 3, i) and _line_start(text, i):
            body_start = text.find("\n", i)
            body_start = n if body_start < 0 else body_start + 1
            close = text.find("\n" + ch * 3, body_start - 1)
            end = n if close < 0 else close + 1
            spans.append(Span(SpanKind.CODE, body_start, end, text[body_start:end]))
            after = text.find("\n", end)
            i = n if close < 0 or after < 0 else after + 1
            continue
        if ch == "`":
            close = text.find("`", i + 1, min(n, i + 2000))
            i = i + 1 if close < 0 else close + 1  # inline code is text, never math
            continue
        if ch == "$" and not _escaped(text, i):
            if text.startswith("$$", i):
                close = _find_unescaped(text, "$$", i + 2, min(n, i + 2 + MAX_SPAN))
                if close < 0:
                    unclosed.append("$$")
                    i += 2
                    continue
                spans.append(Span(SpanKind.DISPLAY, i + 2, close, text[i + 2 : close]))
                i = close + 2
                continue
            limit = min(n, i + 1 + MAX_SPAN)
            para = text.find("\n\n", i + 1, limit)
            close = _find_unescaped(text, "$", i + 1, limit if para < 0 else para)
            if close < 0:
                unclosed.append("$")
                i += 1
                continue
            spans.append(Span(SpanKind.INLINE, i + 1, close, text[i + 1 : close]))
            i = close + 1
            continue
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "[(":
                closer = "\\]" if nxt == "[" else "\\)"
                close = text.find(closer, i + 2, min(n, i + 2 + MAX_SPAN))
                if close < 0:
                    unclosed.append("\\" + nxt)
                    i += 2
                    continue
                kind = SpanKind.DISPLAY if nxt == "[" else SpanKind.INLINE
                spans.append(Span(kind, i + 2, close, text[i + 2 : close]))
                i = close + 2
                continue
            if text.startswith("\\begin{", i):
                brace = text.find("}", i + 7, i + 40)
                env = text[i + 7 : brace] if brace > 0 else ""
                if env in _ENVS:
                    closer = "\\end{" + env + "}"
                    close = text.find(closer, brace + 1, min(n, brace + 1 + MAX_SPAN))
                    if close < 0:
                        unclosed.append("\\begin{" + env + "}")
                        i = brace + 1
                        continue
                    spans.append(Span(SpanKind.DISPLAY, brace + 1, close, text[brace + 1 : close]))
                    i = close + len(closer)
                    continue
            i += 2  # skip the escaped character (\$, \\, ...)
            continue
        i += 1
    return Scan(tuple(spans), tuple(unclosed))
