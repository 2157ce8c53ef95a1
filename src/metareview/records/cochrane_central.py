"""Cochrane Library CENTRAL text export (``.txt`` from *Export selected citation(s)* > "Plain text").

Each record opens with ``Record #1 of 120`` and carries ``TAG: value`` lines. Tags as written by the
Cochrane Library export: ID (``CN-…`` accession), AU (one author per line), TI, SO (source), YR, VL,
NO (issue), PG, XR (cross-reference, e.g. ``EMBASE 123``), PT, KY (keywords, ``;``-separated), DOI, AB,
US (URL), PM (``PUBMED 12345678``), EM (``EMBASE …``), CC (Cochrane group codes). Streamed.

A **damaged record** is one with a second ``ID`` (two records run together: the ``Record #`` line
between them is missing), one with no title, DOI or PMID, or a last record cut inside a line (no line
end at the end of the file); a file whose last record is not ``Record #N of N`` was cut after a whole
record (the rest are missing). Each refuses the file unless damaged records are skipped
(:mod:`metareview.records.damage`). The export writes no end-of-record line, so the last record cut
exactly at a line end cannot be told from a complete one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.damage import damaged
from metareview.records.encoding import FileInfo
from metareview.records.model import Record, has_identity, normalise_doi, normalise_pmid, parse_year
from metareview.records.tagged_text import Fields, many, one, scan

_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}):(?: (.*))?$")
_RECORD = re.compile(r"^\s*Record #(?P<n>\d+) of (?P<of>\d+)\s*$")


def looks_like(text: str) -> bool:
    """Head of a CENTRAL export: ``Record #1 of N`` followed by ``ID: CN-…``, or an ``ID: CN-`` line."""
    return bool(_RECORD.search(text.split("\n", 3)[0] if text else "")) or bool(
        re.match(r"^\s*(?:\ufeff)?ID: CN-\d", text)
    )


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the records of a CENTRAL plain-text export."""
    assert info.encoding is not None
    state = {"new": True}
    numbers: list[tuple[int, int]] = []  # (n, N) of the latest "Record #n of N" line
    last_start: int | None = None

    def ends(line: str) -> bool:
        match = _RECORD.match(line)
        if match:
            state["new"] = True
            numbers[:] = [(int(match["n"]), int(match["of"]))]
            return True
        return False

    def starts(tag: str, _value: str) -> bool:
        if state["new"]:
            state["new"] = False
            return True
        return False

    for start, fields in scan(
        path,
        info.encoding,
        _TAG,
        starts=starts,
        ends=ends,
        continuation=lambda line: not _TAG.match(line),
        once=frozenset({"ID"}),
        format_name="Cochrane CENTRAL",
    ):
        last_start = start
        rec = _to_record(fields, path, start)
        if has_identity(rec):
            yield rec
        else:
            damaged(InputError("record has no title, DOI or PMID", file=path, line=start, field="TI"))
    if numbers and numbers[-1][0] != numbers[-1][1]:
        n, total = numbers[-1]
        damaged(
            InputError(
                f"the file ends after record {n} of {total}: records {n + 1}-{total} are missing "
                "(truncated?)",
                file=path,
                line=max(info.lines, last_start or 1),  # the end of the file
                field="Record",
            )
        )


def _to_record(fields: Fields, path: Path, start: int) -> Record:
    pm = one(fields, "PM")
    pmid = normalise_pmid(re.sub(r"^PUBMED\s*", "", pm, flags=re.IGNORECASE)) if pm else ""
    year_text = one(fields, "YR")
    if year_text and parse_year(year_text) is None:
        raise InputError(f"year {year_text!r} is not a year", file=path, line=start, field="YR")
    return Record(
        title=one(fields, "TI"),
        abstract=one(fields, "AB"),
        authors=many(fields, "AU"),
        year=parse_year(year_text),
        journal=one(fields, "SO"),
        volume=one(fields, "VL"),
        issue=one(fields, "NO"),
        pages=one(fields, "PG"),
        doi=normalise_doi(one(fields, "DOI")),
        pmid=pmid,
        keywords=many(fields, "KY", split=";"),
        publication_types=many(fields, "PT", split=";"),
        language=one(fields, "LA"),
        source_database="Cochrane CENTRAL",
        raw=fields,
    )
