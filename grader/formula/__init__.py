"""Evaluating formulas read by grader.latex: numpy for grading, sympy (grader.formula.symbolic,
imported on demand) for verifying the reference."""

from grader.formula.errors import FormulaError, ShapeError, UnknownSymbol
from grader.formula.evaluator import Bindings
from grader.formula.numeric import Mat, evaluate_numeric, evaluate_scalar
from grader.formula.shapes import describe, is_transposed, shape_mismatch

__all__ = [
    "Bindings",
    "FormulaError",
    "Mat",
    "ShapeError",
    "UnknownSymbol",
    "describe",
    "evaluate_numeric",
    "evaluate_scalar",
    "is_transposed",
    "shape_mismatch",
]
