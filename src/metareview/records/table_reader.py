"""CSV / TSV / Excel (XLSX) reader with automatic column mapping.

Common column names of database and reference-manager exports are recognised (``Title``,
``Article Title``, ``Authors``, ``Source title``, ``PublicationName``, ``DOI``, ``PMID``, ``Pages``...);
pass ``mapping={"title": "My title column"}`` to override. Example::

    from metareview.records import table_reader
    records = list(table_reader.read(path, inspect_file(path)))

A **damaged row** (RFC 4180: every record has as many fields as the header) is a CSV/TSV row with
fewer fields than the header (a short row, or a file cut inside its last row), one with extra
non-empty fields, or a row with no title, DOI or PMID. It refuses the file unless damaged records
are skipped (:mod:`metareview.records.damage`). An unterminated quote (a file cut inside a quoted
field) damages the file and always raises. A cut that leaves the last row with all its fields is
indistinguishable from a valid file (RFC 4180 makes the final line break optional).

XLSX workbooks are checked before they are parsed: see :data:`XLSX_MAX_MEMBER_BYTES`,
:data:`XLSX_MAX_TOTAL_BYTES`, :data:`XLSX_MAX_RATIO`, :data:`XLSX_MAX_SHARED_STRINGS_BYTES`,
:data:`XLSX_MAX_ROWS` and :data:`XLSX_MAX_COLUMNS`; the sheet is then streamed (openpyxl read-only)
without trusting its stated dimension.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from metareview.errors import InputError
from metareview.records.damage import damaged
from metareview.records.encoding import FileInfo, lines_probe
from metareview.records.model import (
    Record,
    clean_text,
    has_identity,
    join_pages,
    normalise_doi,
    normalise_pmid,
    parse_year,
    split_list,
)

csv.field_size_limit(1 << 26)

XLSX_MAX_MEMBER_BYTES = 1 << 30
"""Largest uncompressed part of an XLSX workbook (1 GiB)."""
XLSX_MAX_TOTAL_BYTES = 2 << 30
"""Largest uncompressed workbook, all parts together (2 GiB)."""
XLSX_MAX_RATIO = 200
"""Largest compression ratio of a part over 1 MiB (sheet XML compresses ~5-30 times; a zip bomb more)."""
XLSX_MAX_SHARED_STRINGS_BYTES = 256 << 20
"""Largest uncompressed shared-strings table (256 MiB): openpyxl holds it in memory."""
XLSX_MAX_ROWS = 2_000_000
"""Most rows a sheet may state (its ``<dimension>``) or hold."""
XLSX_MAX_COLUMNS = 1000
"""Most columns a sheet may state or use (database exports have well under 100)."""

# field -> accepted column names, compared lower-case with everything but letters and digits removed
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "articletitle", "ti", "t1", "primarytitle", "documenttitle"),
    "abstract": ("abstract", "ab", "abstractnote", "n2"),
    "authors": ("authors", "author", "au", "authorfullnames", "authorsfullnames", "a1", "fau"),
    "year": ("year", "publicationyear", "publishedyear", "py", "pubyear", "yearpublished", "dp", "date"),
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
            damaged(
                InputError(
                    f"row has {len(row)} fields but the header has {len(header)}", file=path, line=number
                )
            )
            continue
        if info.encoding is not None and len(row) < len(header):
            damaged(
                InputError(
                    f"row has {len(row)} fields but the header has {len(header)} (short row; truncated?)",
                    file=path,
                    line=number,
                    field=header[len(row)],
                )
            )
            continue
        rec = _to_record(row, header, columns)
        if not has_identity(rec):
            damaged(InputError("row has no title, DOI or PMID", file=path, line=number, field="title"))
            continue
        yield rec
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
            probe = lines_probe()
            for row in reader:
                if probe is not None:
                    probe.count = reader.line_num
                yield reader.line_num, row
        except csv.Error as exc:
            raise InputError(f"CSV error: {exc}", file=path, line=reader.line_num if reader else 1) from None
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot decode as {encoding}: {exc.reason}", file=path) from None


def check_xlsx(path: Path) -> None:
    """Refuse a workbook whose parts unpack too large, compress too well, or state too many cells."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as book:
            members = book.infolist()
            total = 0
            for member in members:
                total += member.file_size
                if member.file_size > XLSX_MAX_MEMBER_BYTES or total > XLSX_MAX_TOTAL_BYTES:
                    raise InputError(
                        f"XLSX part {member.filename} unpacks to {member.file_size} bytes (limit "
                        f"{XLSX_MAX_MEMBER_BYTES} per part, {XLSX_MAX_TOTAL_BYTES} in all)",
                        file=path,
                        field=member.filename,
                    )
                if member.file_size > 1 << 20 and member.file_size > XLSX_MAX_RATIO * max(
                    member.compress_size, 1
                ):
                    raise InputError(
                        f"XLSX part {member.filename} compresses more than {XLSX_MAX_RATIO}x (zip bomb?)",
                        file=path,
                        field=member.filename,
                    )
                if member.filename.lower().endswith("sharedstrings.xml") and (
                    member.file_size > XLSX_MAX_SHARED_STRINGS_BYTES
                ):
                    raise InputError(
                        f"XLSX shared strings unpack to {member.file_size} bytes "
                        f"(limit {XLSX_MAX_SHARED_STRINGS_BYTES})",
                        file=path,
                        field=member.filename,
                    )
            sheets = [m for m in members if re.match(r"xl/worksheets/[^/]+\.xml$", m.filename)]
            if not sheets:
                raise InputError("the workbook has no worksheet", file=path)
            for sheet in sheets:
                with book.open(sheet) as fh:
                    _check_dimension(path, fh.read(1 << 16).decode("utf-8", "ignore"))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(f"not a readable XLSX workbook: {exc}", file=path) from None


def _column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _check_dimension(path: Path, head: str) -> None:
    match = re.search(r"<(?:\w+:)?dimension\s+ref=\"([A-Za-z]+)(\d+)(?::([A-Za-z]+)(\d+))?\"", head)
    if match is None:
        return
    columns = _column_number(match[3] or match[1]) - _column_number(match[1]) + 1
    rows = int(match[4] or match[2]) - int(match[2]) + 1
    if columns > XLSX_MAX_COLUMNS or rows > XLSX_MAX_ROWS:
        raise InputError(
            f"the sheet states {rows} rows x {columns} columns (limits {XLSX_MAX_ROWS} x {XLSX_MAX_COLUMNS})",
            file=path,
            field="dimension",
        )


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    check_xlsx(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged zip/XML raises anything from zlib to KeyError
        raise InputError(f"not a readable XLSX workbook: {exc}", file=path) from None
    try:
        if not book.worksheets:
            raise InputError("the workbook has no worksheet", file=path)
        sheet = book.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # never pad rows to a stated (possibly hostile) dimension
        number = 0
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > XLSX_MAX_ROWS or len(values) > XLSX_MAX_COLUMNS:
                    raise InputError(
                        f"the sheet has over {XLSX_MAX_ROWS} rows or {XLSX_MAX_COLUMNS} columns",
                        file=path,
                        line=number,
                    )
                yield number, ["" if v is None else str(v) for v in values]
        except InputError:
            raise
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
