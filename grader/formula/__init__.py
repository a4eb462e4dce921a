"""Evaluating formulas read by grader.latex: numpy for grading, sympy (grader.formula.symbolic,
imported on demand) for verifying the reference."""

from grader.formula.errors import FormulaError, ShapeError, UnknownSymbol
from grader.formula.evaluator import Bindings
from grader.formula.numeric import Mat, evaluate_numeric, evaluate_scalar
from grader.formula.shapes import shape_mismatch

__all__ = [
    "Bindings",
    "FormulaError",
    "Mat",
    "ShapeError",
    "UnknownSymbol",
    "evaluate_numeric",
    "evaluate_scalar",
    "shape_mismatch",
]
