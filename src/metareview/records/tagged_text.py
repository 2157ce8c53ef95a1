"""Shared line scanner for the field-tagged text exports (Web of Science, Ovid, Cochrane CENTRAL):
each format gives a regular expression for a tag line, a test for a record's start and end, and the
scanner streams ``(first_line, {tag: [values]})`` per record, joining continuation lines.

Used by :mod:`wos`, :mod:`ovid` and :mod:`cochrane_central`; it raises InputError naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.damage import cut_at_end, damaged
from metareview.records.encoding import numbered_lines

Fields = dict[str, list[str]]


def scan(
    path: Path,
    encoding: str,
    tag_line: re.Pattern[str],
    *,
    starts: Callable[[str, str], bool],
    ends: Callable[[str], bool] = lambda _line: False,
    continuation: Callable[[str], bool] = lambda line: line.startswith(" "),
    skip: Callable[[str], bool] = lambda _line: False,
    list_tags: frozenset[str] = frozenset(),
    once: frozenset[str] = frozenset(),
    end_name: str | None = None,
    format_name: str,
) -> Iterator[tuple[int, Fields]]:
    """Stream the records of ``path``. ``tag_line`` has groups (tag, value); ``starts(tag, value)``
    tells whether a tag line opens a new record; ``ends(line)`` closes one; blank lines are ignored; a
    continuation line of a tag in ``list_tags`` is a new value, of any other tag more of the same value.

    Damaged records (reported through :func:`~metareview.records.damage.damaged`, so they refuse the
    file unless damaged records are skipped): with ``end_name``, a record not closed by ``ends`` (the
    next record starts first, or the file ends: truncated); a record with a second value of a tag in
    ``once`` (two records run together: their separator is missing); a record still open when the
    file ends without a line end (a download cut inside a line)."""
    fields: Fields | None = None
    last: str | None = None
    start = 0
    problem: InputError | None = None
    for number, line in numbered_lines(path, encoding):
        stripped = line.strip()
        if not stripped or skip(line):
            continue
        if ends(line):
            if fields is not None:
                if problem is not None:
                    damaged(problem)
                else:
                    yield start, fields
            fields, last, problem = None, None, None
            continue
        match = tag_line.match(line)
        if match is None:
            if continuation(line) and fields is not None and last is not None:
                if last in list_tags:  # one value per line (Web of Science's AU, AF, CR)
                    fields[last].append(stripped)
                else:
                    fields[last][-1] = (fields[last][-1] + " " + stripped).strip()
                continue
            raise InputError(f"malformed {format_name} line (expected a field tag)", file=path, line=number)
        tag, value = match.group(1), (match.group(2) or "").strip()
        if starts(tag, value):
            if fields is not None:
                if end_name is not None and problem is None:
                    problem = InputError(
                        f"the record starting at line {start} has no {end_name} end line before the next "
                        "record",
                        file=path,
                        line=start,
                        field=end_name,
                    )
                if problem is not None:
                    damaged(problem)
                else:
                    yield start, fields
            fields, start, problem = {}, number, None
        elif fields is None:
            raise InputError(
                f"field outside a record in a {format_name} export", file=path, line=number, field=tag
            )
        elif tag in once and tag in fields and problem is None:
            problem = InputError(
                f"a second {tag} inside the record starting at line {start} (two records run together: "
                "missing record separator?)",
                file=path,
                line=number,
                field=tag,
            )
        fields.setdefault(tag, []).append(value)
        last = tag
    if fields is not None:
        if problem is None and end_name is not None:
            problem = InputError(
                f"the file ends inside the record starting at line {start} (no {end_name}: truncated?)",
                file=path,
                line=start,
                field=end_name,
            )
        if problem is None:
            problem = cut_at_end(path, start, last)
        if problem is not None:
            damaged(problem)
        else:
            yield start, fields


def one(fields: Fields, *tags: str) -> str:
    """The first non-empty value among ``tags``."""
    for tag in tags:
        for value in fields.get(tag, []):
            if value.strip():
                return " ".join(value.split())
    return ""


def many(fields: Fields, *tags: str, split: str | None = None) -> list[str]:
    """All values of ``tags`` (each optionally split on ``split``), cleaned, empties dropped."""
    out: list[str] = []
    for tag in tags:
        for value in fields.get(tag, []):
            parts = value.split(split) if split else [value]
            out.extend(p for p in (" ".join(x.split()) for x in parts) if p)
    return out
