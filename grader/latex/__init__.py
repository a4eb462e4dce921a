"""A reader for the LaTeX subset students use in this course's formulas.

No library reads these answers (see DESIGN.md, "Writeups"), so a small tokenizer and
recursive-descent parser build a typed tree (grader.latex.ast). Errors are LatexError with
the 0-based column.
"""

from grader.latex import ast
from grader.latex.arrays import to_array
from grader.latex.ast import Expr, render
from grader.latex.equations import side_spans
from grader.latex.errors import LatexError
from grader.latex.parser import parse_latex

__all__ = [
    "Expr",
    "LatexError",
    "ast",
    "parse_latex",
    "render",
    "side_spans",
    "to_array",
]
