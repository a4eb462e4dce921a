"""The one error the LaTeX reader raises: a message and the 0-based column it refers to."""

from __future__ import annotations


class LatexError(ValueError):
    """A formula that cannot be read. `column` is 0-based in the text given to the reader."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.message = message
        self.column = column
