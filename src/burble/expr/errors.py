"""The one error of the expression language: where in the text, and what is wrong."""

from __future__ import annotations

from burble.errors import BurbleError


class ExprError(BurbleError):
    """An expression that cannot be parsed, type-checked or compiled.

    `column` is 1-based (0 when no position applies); `str()` shows the text with a caret
    under the column, as an editor would.
    """

    def __init__(self, message: str, column: int = 0, text: str = "") -> None:
        super().__init__(message)
        self.column = column
        self.text = text

    def __str__(self) -> str:
        if not self.text:
            return self.message
        if self.column <= 0:
            return f"{self.message}\n  {self.text}"
        caret = " " * (self.column - 1) + "^"
        return f"{self.message} (column {self.column})\n  {self.text}\n  {caret}"
