"""Small CSV/XLSX tables read row by row with their spreadsheet line numbers (the header is row 1): the
consensus files of dual extraction and the study links. A workbook is checked by
:func:`metareview.records.table_reader.check_xlsx` before it is parsed (its first sheet is read)::

    rows = read_table("consensus.csv", required=("report_id", "field"), allowed=("report_id", "field",
                      "value"))
    for line, row in rows: ...            # row: column -> text (blank cells left out)
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from metareview.errors import InputError


def read_table(path: str | Path, *, required: Sequence[str],
               allowed: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """``(line, {column: text})`` per non-blank row; :class:`InputError` naming the file (and line and
    column) for a missing or unknown column, or a file that is not a readable CSV/XLSX table."""
    source = Path(path)
    if not source.is_file():
        raise InputError("file not found (or not a regular file)", file=source)
    suffix = source.suffix.lower()
    try:
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            from metareview.records.table_reader import check_xlsx

            check_xlsx(source)
            book = load_workbook(source, read_only=True, data_only=True)
            try:
                raw = [["" if c is None else str(c) for c in row]
                       for row in book.worksheets[0].iter_rows(values_only=True)]
            finally:
                book.close()
        elif suffix in (".csv", ".txt"):
            with source.open(encoding="utf-8-sig", newline="") as fh:
                raw = list(csv.reader(fh))
        else:
            raise InputError("give a .csv or .xlsx file", file=source)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        raise InputError(f"cannot read the table: {exc}", file=source) from None
    if not raw:
        raise InputError("the table is empty (no header row)", file=source)
    header = [h.strip().lower() for h in raw[0]]
    for col in header:
        if col and col not in allowed:
            raise InputError(f"unknown column {col!r} (allowed: {', '.join(allowed)})", file=source, line=1,
                             field=col)
    for col in required:
        if col not in header:
            raise InputError(f"column {col!r} is missing", file=source, line=1, field=col)
    out = []
    for line, cells in enumerate(raw[1:], start=2):
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            raise InputError("more cells than columns", file=source, line=line)
        row = {h: c.strip() for h, c in zip(header, cells, strict=False) if h and c.strip()}
        if not row:
            continue
        for col in required:
            if col not in row:
                raise InputError(f"{col} is required", file=source, line=line, field=col)
        out.append((line, row))
    return out
