"""The project's error types. Every bad input a user can cause ends in an :class:`InputError`
that names the file, the line (or row) and the field, so the message can be acted on."""

from __future__ import annotations

from pathlib import Path


class MetareviewError(Exception):
    """Base class of every error metareview raises on purpose."""


class InputError(MetareviewError):
    """Bad input: names the file, line/row and field where known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class StoreError(MetareviewError):
    """A problem with the review's store (missing review, schema too old, conflicting write)."""
