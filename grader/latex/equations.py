"""Splitting "a = b = c" into its sides: the answer is the last side, the first names it."""

from __future__ import annotations

from grader.latex.tokens import Kind, Token, tokenize

_OPEN = frozenset(("(", "[", "{", "\\{", "\\left", "\\begin"))
_CLOSE = frozenset((")", "]", "}", "\\}", "\\right", "\\end"))
RELATIONS = ("=",)


def split_equation(text: str, relations: tuple[str, ...] = RELATIONS) -> list[str]:
    """The sides of a chain of relations at the top level, stripped; brackets are respected.

    "\\frac{\\partial(A_L y + b)}{\\partial y} = A_L" gives two sides. `relations` may add
    commands such as "\\approx". Raises LatexError when the text cannot be tokenized.
    """
    return [side.strip() for _, side in side_spans(text, relations)]


def side_spans(text: str, relations: tuple[str, ...] = RELATIONS) -> list[tuple[int, str]]:
    """Each side with the column it starts at, unstripped, so errors can name columns."""
    tokens = tokenize(text)
    cuts: list[Token] = []
    level = 0
    for t in tokens:
        if t.kind in (Kind.CHAR, Kind.COMMAND) and t.text in _OPEN:
            level += 1
        elif t.kind in (Kind.CHAR, Kind.COMMAND) and t.text in _CLOSE:
            level -= 1
        elif level <= 0 and t.kind in (Kind.CHAR, Kind.COMMAND) and t.text in relations:
            cuts.append(t)
    sides, start = [], 0
    for cut in cuts:
        sides.append((start, text[start : cut.col]))
        start = cut.col + len(cut.text)
    sides.append((start, text[start:]))
    return sides


def answer_side(text: str) -> str:
    """The last side of a chain of equalities: what the student states as the answer."""
    return split_equation(text)[-1]


def left_side(text: str) -> str | None:
    """The first side when there is an '=', else None."""
    sides = split_equation(text)
    return sides[0] if len(sides) > 1 else None
