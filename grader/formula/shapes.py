"""Words for matrix shapes, so shape problems read as sentences, never as tracebacks."""

from __future__ import annotations

Shape = tuple[int, int]


def describe(shape: Shape) -> str:
    """(3, 1) -> "a 3x1 column", (1, 3) -> "a 1x3 row", (1, 1) -> "a 1x1 scalar"."""
    r, c = shape
    if (r, c) == (1, 1):
        return "a 1x1 scalar"
    if c == 1:
        return f"a {r}x1 column"
    if r == 1:
        return f"a 1x{c} row"
    return f"a {r}x{c} matrix"


def is_transposed(got: Shape, want: Shape) -> bool:
    return got != want and got == (want[1], want[0])


def shape_mismatch(got: Shape, want: Shape, what: str = "the Jacobian") -> str:
    """ "gives a 3x1 column where the Jacobian is 1x3: a transpose is missing"."""
    text = f"gives {describe(got)} where {what} is {want[0]}x{want[1]}"
    if is_transposed(got, want):
        text += ": a transpose is missing"
    return text
