"""Splitting "a = b = c" into its sides: the answer is the last side, the first names it."""

from __future__ import annotations

from grader.latex.tokens import Kind, Token, tokenize

_OPEN = frozenset(("(", "[", "{", "\\{", "\\left", "\\begin"))
_CLOSE = frozenset((")", "]", "}", "\\}", "\\right", "\\end"))


def side_spans(text: str) -> list[tuple[int, str]]:
    """Each side of a chain of '=' at the top level with the column it starts at, unstripped,
    so errors can name columns. Brackets are respected: in
    "\\frac{\\partial(A_L y + b)}{\\partial y} = A_L" only the last '=' splits.
    Raises LatexError when the text cannot be tokenized."""
    tokens = tokenize(text)
    cuts: list[Token] = []
    level = 0
    for t in tokens:
        if t.kind in (Kind.CHAR, Kind.COMMAND) and t.text in _OPEN:
            level += 1
        elif t.kind in (Kind.CHAR, Kind.COMMAND) and t.text in _CLOSE:
            level -= 1
        elif level <= 0 and t.is_char("="):
            cuts.append(t)
    sides, start = [], 0
    for cut in cuts:
        sides.append((start, text[start : cut.col]))
        start = cut.col + len(cut.text)
    sides.append((start, text[start:]))
    return sides
