"""Typed errors of formula evaluation: each one words itself for a student."""

from __future__ import annotations

from grader.formula.shapes import Shape


class FormulaError(ValueError):
    """A formula that was read but cannot be evaluated; `column` is where, when known."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


class UnknownSymbol(FormulaError):
    """A symbol or function the problem does not define (bound names are listed)."""

    def __init__(self, name: str, known: tuple[str, ...], column: int | None, what: str) -> None:
        listed = ", ".join(known) if known else "none"
        super().__init__(
            f"uses the {what} {name}, which the problem does not define (defined: {listed})",
            column,
        )
        self.name = name


class ShapeError(FormulaError):
    """Sizes that do not fit, e.g. a product of a 3x1 column and a 4x2 matrix."""

    def __init__(self, message: str, shapes: tuple[Shape, ...], column: int | None) -> None:
        super().__init__(message, column)
        self.shapes = shapes
