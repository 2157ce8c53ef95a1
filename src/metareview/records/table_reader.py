"""CSV / TSV / Excel (XLSX) reader with automatic column mapping.

Common column names of database and reference-manager exports are recognised (``Title``,
``Article Title``, ``Authors``, ``Source title``, ``PublicationName``, ``DOI``, ``PMID``, ``Pages``...);
pass ``mapping={"title": "My title column"}`` to override. Example::

    from metareview.records import table_reader
    records = list(table_reader.read(path, inspect_file(path)))
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from metareview.errors import InputError
from metareview.records.encoding import FileInfo
from metareview.records.model import (
    Record,
    clean_text,
    join_pages,
    normalise_doi,
    normalise_pmid,
    parse_year,
    split_list,
)

csv.field_size_limit(1 << 26)

# field -> accepted column names, compared lower-case with everything but letters and digits removed
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "articletitle", "ti", "t1", "primarytitle", "documenttitle"),
    "abstract": ("abstract", "ab", "abstractnote", "n2"),
    "authors": ("authors", "author", "au", "authorfullnames", "authorsfullnames", "a1", "fau"),
    "year": ("year", "publicationyear", "py", "pubyear", "yearpublished", "dp", "date"),
    "journal": (
        "journal",
        "journaltitle",
        "sourcetitle",
        "publicationname",
        "publicationtitle",
        "secondarytitle",
        "journalbook",
        "jt",
        "ta",
        "so",
        "t2",
        "jo",
    ),
    "volume": ("volume", "vl", "vi"),
    "issue": ("issue", "number", "is", "ip"),
    "pages": ("pages", "pg", "pagerange"),
    "start_page": ("startpage", "pagestart", "sp", "bp"),
    "end_page": ("endpage", "pageend", "ep"),
    "doi": ("doi", "di", "do"),
    "pmid": ("pmid", "pubmedid", "pm"),
    "keywords": ("keywords", "authorkeywords", "kw", "de", "mesh", "meshterms", "manualtags"),
    "publication_types": ("publicationtype", "documenttype", "referencetype", "itemtype", "pt", "type"),
    "language": ("language", "la", "languageoforiginaldocument"),
    "source_database": ("nameofdatabase", "database", "db", "librarycatalog"),
}
_KEY = re.compile(r"[^a-z0-9]")


def _key(name: object) -> str:
    return _KEY.sub("", str(name or "").lower())


def map_columns(header: list[str], mapping: Mapping[str, str] | None = None) -> dict[str, int]:
    """Field -> column index for ``header``; user ``mapping`` (field -> column name) wins."""
    found: dict[str, int] = {}
    keys = [_key(h) for h in header]
    for name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in keys:
                found[name] = keys.index(alias)
                break
    for name, column in (mapping or {}).items():
        if name not in ALIASES:
            raise InputError(f"unknown record field {name!r} in column mapping", field=name)
        if column not in header:
            raise InputError(f"column {column!r} not in the file (columns: {', '.join(header)})", field=name)
        found[name] = header.index(column)
    return found


def read(path: Path, info: FileInfo, mapping: Mapping[str, str] | None = None) -> Iterator[Record]:
    """Yield the rows of a CSV, TSV or XLSX file as records (header row first)."""
    rows = _xlsx_rows(path) if info.encoding is None else _csv_rows(path, info.encoding)
    header: list[str] | None = None
    columns: dict[str, int] = {}
    for number, row in rows:
        if header is None:
            header = [clean_text(c) for c in row]
            columns = map_columns(header, mapping)
            if not {"title", "doi", "pmid"} & columns.keys():
                raise InputError(
                    f"no title, DOI or PMID column found (columns: {', '.join(header) or 'none'})",
                    file=path,
                    line=number,
                    field="title",
                )
            continue
        if not any(clean_text(c) for c in row):
            continue
        if len(row) > len(header) and any(clean_text(c) for c in row[len(header) :]):
            raise InputError(
                f"row has {len(row)} fields but the header has {len(header)}", file=path, line=number
            )
        yield _to_record(row, header, columns)
    if header is None:
        raise InputError("empty table (no header row)", file=path, line=1)


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding=encoding, newline="") as fh:
        reader = None
        try:
            first = fh.readline()
            fh.seek(0)
            delimiter = max(("\t", ",", ";"), key=first.count)
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            for row in reader:
                yield reader.line_num, row
        except csv.Error as exc:
            raise InputError(f"CSV error: {exc}", file=path, line=reader.line_num if reader else 1) from None
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot decode as {encoding}: {exc.reason}", file=path) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged zip/XML raises anything from zlib to KeyError
        raise InputError(f"not a readable XLSX workbook: {exc}", file=path) from None
    try:
        sheet = book.worksheets[0]
        number = 0
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, ["" if v is None else str(v) for v in values]
        except Exception as exc:  # noqa: BLE001 - openpyxl raises assorted errors on damaged sheets
            raise InputError(f"damaged XLSX sheet: {exc}", file=path, line=number + 1) from None
    finally:
        book.close()


def _cell(row: list[Any], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return clean_text(row[index]) if index is not None and index < len(row) else ""


def _authors(text: str) -> list[str]:
    return split_list(text, ";") if ";" in text else [a for a in re.split(r"\s+and\s+", text) if a]


def _to_record(row: list[str], header: Iterable[str], columns: dict[str, int]) -> Record:
    def get(name: str) -> str:
        return _cell(row, columns, name)

    pages = get("pages") or join_pages(get("start_page"), get("end_page"))
    return Record(
        title=get("title"),
        abstract=get("abstract"),
        authors=_authors(get("authors")),
        year=parse_year(get("year")),
        journal=get("journal"),
        volume=get("volume"),
        issue=get("issue"),
        pages=pages,
        doi=normalise_doi(get("doi")),
        pmid=normalise_pmid(get("pmid")),
        keywords=split_list(get("keywords"), ";"),
        publication_types=split_list(get("publication_types"), ";"),
        language=get("language"),
        source_database=get("source_database"),
        raw={h: v for h, v in zip(header, row, strict=False) if v not in ("", None)},
    )
