"""Web of Science (Clarivate) exports: *plain text* (``FN``/``VR`` header, ``PT J`` … ``ER`` records,
``EF`` at the end) and *tab-delimited* (a header row of the same two-letter field tags).

Field tags from Clarivate's "Web of Science Core Collection field tags" list: PT publication type,
AU/AF authors (one per line), TI title, SO source, LA language, DT document type, DE author keywords,
ID Keywords Plus, AB abstract, PY year, VL volume, IS issue, BP/EP pages (AR article number), DI DOI,
PM PubMed ID, UT accession number. Streamed, one record at a time.

A **damaged record** (Clarivate's field tags: ``ER`` ends each record, ``EF`` ends the file) is a
plain-text record without its ``ER`` (the next ``PT`` comes first, or the file ends), a tab-delimited
row with fewer cells than the header or a last row without its line end, or a record with no title,
DOI or PMID; a plain-text file that starts with ``FN`` but has no ``EF`` was cut after its last whole
record (records may be missing). Each refuses the file unless damaged records are skipped
(:mod:`metareview.records.damage`). Example::

    from metareview.records import wos
    records = list(wos.read(path, inspect_file(path)))
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.damage import damaged
from metareview.records.encoding import FileInfo, ends_with_newline, numbered_lines
from metareview.records.model import (
    Record,
    has_identity,
    join_pages,
    normalise_doi,
    normalise_pmid,
    parse_year,
)
from metareview.records.tagged_text import Fields, many, one, scan

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")
_HEADER_TAGS = {"FN", "VR", "EF"}
_LIST_TAGS = frozenset({"AU", "AF", "CR", "BA", "BF", "ED"})


def looks_like_plain(text: str) -> bool:
    """Head of a plain-text export: ``FN Clarivate…`` / ``VR 1.0`` header, or a first ``PT J`` line."""
    first = text.lstrip("\ufeff").lstrip().split("\n", 1)[0]
    return first.startswith(("FN ", "VR ")) or bool(re.match(r"^PT [A-Z]\s*$", first))


def looks_like_tabbed(text: str) -> bool:
    """Head of a tab-delimited export: a header row ``PT<TAB>AU<TAB>…``."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    cols = first.rstrip("\r").split("\t")
    return len(cols) > 5 and cols[0] == "PT" and "TI" in cols


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the records of a plain-text or tab-delimited Web of Science export."""
    assert info.encoding is not None
    head = info.head.decode(info.encoding, errors="ignore")
    if looks_like_tabbed(head):
        yield from _read_tabbed(path, info.encoding, info.lines)
        return
    seen: set[str] = set()

    def header(line: str) -> bool:
        if line[:2] in _HEADER_TAGS and line[2:3] in (" ", ""):
            seen.add(line[:2])
            return True
        return False

    last_line = 0
    for start, fields in scan(
        path,
        info.encoding,
        _TAG,
        starts=lambda tag, _value: tag == "PT",
        ends=lambda line: line.rstrip() == "ER",
        continuation=lambda line: line.startswith("   "),
        skip=header,
        list_tags=_LIST_TAGS,
        end_name="ER",
        format_name="Web of Science",
    ):
        last_line = start
        yield from _checked(_to_record(fields, path, start), path, start)
    if "FN" in seen and "EF" not in seen:
        damaged(
            InputError(
                "the file ends without EF, which ends every Web of Science export (truncated? records after "
                f"line {last_line} may be missing)",
                file=path,
                line=max(info.lines, last_line, 1),  # the end of the file
                field="EF",
            )
        )


def _checked(rec: Record, path: Path, start: int) -> Iterator[Record]:
    """The record, or nothing when it has no title, DOI or PMID (reported as damaged)."""
    if has_identity(rec):
        yield rec
    else:
        damaged(InputError("record has no title, DOI or PMID", file=path, line=start, field="TI"))


def _read_tabbed(path: Path, encoding: str, lines_in_file: int) -> Iterator[Record]:
    """Rows of a tab-delimited export. Clarivate writes every column in every row, so a row with fewer
    cells than the header, or a last row without its line end, was cut (a damaged record)."""
    csv.field_size_limit(sys.maxsize)
    last = lines_in_file + (0 if ends_with_newline(path) else 1)
    lines = ((n, line) for n, line in numbered_lines(path, encoding))
    header: list[str] | None = None
    for number, line in lines:
        if not line.strip():
            continue
        cells = next(csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE))
        if header is None:
            header = [c.strip().lstrip("\ufeff") for c in cells]
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            raise InputError(
                f"{len(cells)} cells but the header has {len(header)}", file=path, line=number
            )
        if len(cells) < len(header):
            damaged(
                InputError(
                    f"row has {len(cells)} cells but the header has {len(header)} (short row; truncated?)",
                    file=path,
                    line=number,
                    field=header[len(cells)],
                )
            )
            continue
        if number == last and not ends_with_newline(path):
            damaged(
                InputError("the file ends inside this row (no line end: truncated?)", file=path, line=number)
            )
            continue
        fields: Fields = {}
        for tag, cell in zip(header, cells, strict=False):
            if cell.strip():
                values = cell.split("; ") if tag in _LIST_TAGS else [cell]
                fields[tag] = values
        yield from _checked(_to_record(fields, path, number), path, number)


def _to_record(fields: Fields, path: Path, start: int) -> Record:
    year_text = one(fields, "PY", "EA", "PD")
    if year_text and parse_year(year_text) is None and one(fields, "PY"):
        raise InputError(f"year {year_text!r} is not a year", file=path, line=start, field="PY")
    pages = join_pages(one(fields, "BP"), one(fields, "EP")) or one(fields, "AR")
    return Record(
        title=one(fields, "TI"),
        abstract=one(fields, "AB"),
        authors=many(fields, "AF") or many(fields, "AU"),
        year=parse_year(year_text),
        journal=one(fields, "SO", "SE"),
        volume=one(fields, "VL"),
        issue=one(fields, "IS"),
        pages=pages,
        doi=normalise_doi(one(fields, "DI", "D2")),
        pmid=normalise_pmid(one(fields, "PM")),
        keywords=many(fields, "DE", "ID", split=";"),
        publication_types=many(fields, "DT", split=";"),
        language=one(fields, "LA"),
        source_database="Web of Science",
        raw=fields,
    )
