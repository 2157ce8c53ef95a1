"""Cochrane Library CENTRAL text export (``.txt`` from *Export selected citation(s)* > "Plain text").

Each record opens with ``Record #1 of 120`` and carries ``TAG: value`` lines. Tags as written by the
Cochrane Library export: ID (``CN-…`` accession), AU (one author per line), TI, SO (source), YR, VL,
NO (issue), PG, XR (cross-reference, e.g. ``EMBASE 123``), PT, KY (keywords, ``;``-separated), DOI, AB,
US (URL), PM (``PUBMED 12345678``), EM (``EMBASE …``), CC (Cochrane group codes). Streamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.encoding import FileInfo
from metareview.records.model import Record, normalise_doi, normalise_pmid, parse_year
from metareview.records.tagged_text import Fields, many, one, scan

_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}):(?: (.*))?$")
_RECORD = re.compile(r"^\s*Record #\d+ of \d+\s*$")


def looks_like(text: str) -> bool:
    """Head of a CENTRAL export: ``Record #1 of N`` followed by ``ID: CN-…``, or an ``ID: CN-`` line."""
    return bool(_RECORD.search(text.split("\n", 3)[0] if text else "")) or bool(
        re.match(r"^\s*(?:\ufeff)?ID: CN-\d", text)
    )


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the records of a CENTRAL plain-text export."""
    assert info.encoding is not None
    state = {"new": True}

    def ends(line: str) -> bool:
        if _RECORD.match(line):
            state["new"] = True
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
        format_name="Cochrane CENTRAL",
    ):
        yield _to_record(fields, path, start)


def _to_record(fields: Fields, path: Path, start: int) -> Record:
    pm = one(fields, "PM")
    pmid = normalise_pmid(re.sub(r"^PUBMED\s*", "", pm, flags=re.IGNORECASE)) if pm else ""
    year_text = one(fields, "YR")
    if year_text and parse_year(year_text) is None:
        raise InputError(f"year {year_text!r} is not a year", file=path, line=start, field="YR")
    if not (one(fields, "TI") or one(fields, "ID")):
        raise InputError("record has no title and no ID", file=path, line=start, field="TI")
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
