"""Damaged records: refuse the file (the default) or skip them and list them (``skip_damaged=True``).

A reader that finds a damaged *record* (the file's structure is otherwise sound) calls
:func:`damaged` with the :class:`~metareview.errors.InputError` describing it. Outside
:func:`collecting` that error is raised, so the whole file is refused and nothing is imported;
inside it the record is skipped and the error kept, so the importer can list every skipped record
(file, line, reason). Damage to the file as a whole (binary data, no header, an unreadable
workbook) is always raised. Example::

    with collecting() as skipped:
        records = list(read_records(path))
    for err in skipped:
        print(err)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from metareview.errors import InputError
from metareview.records.encoding import ends_with_newline

_SKIPPED: ContextVar[list[InputError] | None] = ContextVar("metareview_skipped_records", default=None)


def damaged(error: InputError) -> None:
    """Raise ``error``, or record it (and return, so the caller skips the record) in skip mode."""
    skipped = _SKIPPED.get()
    if skipped is None:
        raise error
    skipped.append(error)


def cut_at_end(path: Path, start: int, field: str | None) -> InputError | None:
    """The error for a last record (starting at line ``start``) that the file ends inside, when the file
    has no final line end (it was cut); None when it has one."""
    if ends_with_newline(path):
        return None
    return InputError(
        f"the file ends inside the record starting at line {start} (no line end: truncated?)",
        file=path,
        line=start,
        field=field,
    )


@contextmanager
def collecting() -> Iterator[list[InputError]]:
    """Skip damaged records inside the block; yields the list the skipped records' errors go to."""
    skipped: list[InputError] = []
    token = _SKIPPED.set(skipped)
    try:
        yield skipped
    finally:
        _SKIPPED.reset(token)
