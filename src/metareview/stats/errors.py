"""Errors raised by :mod:`metareview.stats`.

``stats`` is pure (numpy/scipy only) and cannot import :mod:`metareview.errors`, so it raises its
own :class:`StatsInputError`, a :class:`ValueError` subclass that callers (CLI, synthesis) translate
into :class:`metareview.errors.InputError` with file/row context.

Example::

    >>> from metareview.stats.errors import StatsInputError
    >>> raise StatsInputError("vi must be > 0", index=3, field="vi")
    Traceback (most recent call last):
    ...
    metareview.stats.errors.StatsInputError: vi must be > 0 (index 3, field 'vi')
"""

from __future__ import annotations


class StatsInputError(ValueError):
    """Bad numeric input to a statistics function.

    ``index`` is the 0-based position of the offending element (if one element is to blame) and
    ``field`` the argument name (``"yi"``, ``"vi"``, ...), so callers can map it back to a file row.
    """

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None) -> None:
        self.message = message
        self.index = index
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"index {self.index}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{self.message} ({', '.join(where)})" if where else self.message
