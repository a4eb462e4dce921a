"""The team's LaTeX reader behind a guard: refuses inputs that could hang it, never raises."""

from __future__ import annotations

import re

from grader.extraction.writeup.text_tools import max_depth
from grader.latex import LatexError, parse_latex, to_array
from grader.models import Array

MAX_ARRAY_TEXT = 4_000
MAX_NESTING = 12
# Exponents in a filter entry are small integers (2.99 \times 10^{-1}); anything else such as
# 10^{10^{10}} could make evaluation astronomically slow, so it is refused before parsing.
_POWER = re.compile(r"\^")
_SMALL_POWER = re.compile(r"\^\s*(?:\{\s*-?\s*\d{1,2}\s*\}|-?\d)(?![\d^{])")


def read_array(text: str) -> Array | str:
    """A matrix, list of matrices or tuple as an Array, or the reason it cannot be read."""
    if len(text) > MAX_ARRAY_TEXT:
        return f"the expression is too long ({len(text)} characters)"
    if max_depth(text) > MAX_NESTING:
        return "the expression is nested too deeply"
    if len(_POWER.findall(text)) != len(_SMALL_POWER.findall(text)):
        return "the expression has an exponent that is not a small whole number"
    try:
        return to_array(parse_latex(text))
    except LatexError as exc:
        return f"{exc.message} (column {exc.column})"
    except (RecursionError, MemoryError, OverflowError):
        return "the expression is too large to read"
    except (ValueError, TypeError, ArithmeticError) as exc:
        return f"not an array of numbers ({exc})"
