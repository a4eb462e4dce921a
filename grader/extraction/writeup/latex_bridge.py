"""The team's LaTeX reader for numbers: an Array, or the reason it cannot be read.

The reader bounds its own work (length, nesting, exponent size), so hostile text comes back
as a LatexError like any other unreadable formula.
"""

from __future__ import annotations

from grader.latex import LatexError, parse_latex, to_array
from grader.models import Array


def read_array(text: str) -> Array | str:
    """A matrix, list of matrices or tuple as an Array, or the reason it cannot be read."""
    try:
        return to_array(parse_latex(text))
    except LatexError as exc:
        return f"{exc.message} (column {exc.column})"
