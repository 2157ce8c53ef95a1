"""Import a search export into a review: one transaction per file, re-import detection by file hash,
and "living review" updates (records already imported from the same database are not added again).

Example::

    from metareview.review import Review
    from metareview.records.importer import import_file
    review = Review.open("my-review")
    result = import_file(review, "pubmed.nbib", database="PubMed", searched="2024-03-01")
    print(result)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from metareview.errors import InputError
from metareview.progress import Hook, track
from metareview.records import table_reader
from metareview.records.damage import collecting
from metareview.records.detect import FORMATS, READERS, detect_format
from metareview.records.encoding import counting_lines, inspect_file
from metareview.records.model import Record, identity_key
from metareview.review import Review
from metareview.store import records_repo as repo

if TYPE_CHECKING:
    import pandas as pd

BATCH_SIZE = 5000
PROGRESS_EVERY = 200  # records between two progress updates (the tracker throttles further by time)


@dataclass(frozen=True)
class ImportResult:
    """What one import did. ``already_imported`` is True when the same file (hash) was imported before."""

    file: str
    database: str
    file_format: str
    search_id: int | None
    records_in_file: int
    added: int
    already_present: int
    already_imported: bool = False
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        if self.already_imported:
            return f"{self.file}: already imported (search {self.search_id}); nothing added"
        text = (
            f"{self.file} [{self.file_format}] -> {self.database}: {self.records_in_file} records in file, "
            f"{self.added} added"
        )
        if self.already_present:
            text += f", {self.already_present} already imported from {self.database} earlier"
        if self.skipped:
            text += f", {len(self.skipped)} damaged records skipped"
        return "\n".join(
            [text, *(f"warning: {w}" for w in self.warnings), *(f"skipped: {s}" for s in self.skipped)]
        )


def parse_date(value: str | date | None) -> date | None:
    """``YYYY-MM-DD`` (or a date) to a date; InputError naming the field otherwise."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"date searched {value!r} is not YYYY-MM-DD", field="searched") from None


def read_records(
    path: str | Path, fmt: str = "auto", mapping: Mapping[str, str] | None = None
) -> Iterator[Record]:
    """Stream the records of an export file without a review (format detected when ``fmt='auto'``)."""
    path = Path(path)
    info = inspect_file(path)
    yield from _reader(path, fmt, info, mapping)(path, info)


def _reader(path: Path, fmt: str, info: Any, mapping: Mapping[str, str] | None) -> Any:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})", field="format")
    name = detect_format(path, info) if fmt == "auto" else fmt
    if info.encoding is None and name != "csv":
        raise InputError(f"a zip container (XLSX?) cannot be read as {name}", file=path, field="format")
    if name == "csv":
        return partial(table_reader.read, mapping=mapping)
    return READERS[name]


def import_file(
    review: Review,
    path: str | Path,
    database: str,
    *,
    fmt: str = "auto",
    searched: str | date | None = None,
    query: str | None = None,
    mapping: Mapping[str, str] | None = None,
    progress: Hook | None = None,
    skip_damaged: bool = False,
) -> ImportResult:
    """Import one export file as a search of ``database`` in a single transaction.

    A file imported before (same SHA-256) adds nothing. Records already imported from the same
    database by an earlier search (same PMID, DOI or title/year/first author) are not added again, so
    an updated search adds only its new records. A malformed file raises :class:`InputError` and leaves
    the store unchanged. With ``skip_damaged=True`` damaged records (see each reader's docstring) are
    left out and listed in ``ImportResult.skipped`` (file, line, reason) instead. Several processes
    importing the same file at once: one imports it, the others get ``already_imported``.

    Progress (records read, and for text files an estimate of the total from the share of lines
    read) goes to ``progress``, else to the hook of an enclosing :func:`metareview.progress.reporting`.
    """
    path = Path(path)
    if not database.strip():
        raise InputError("database name must not be empty", field="database")
    check_text(database, "database", limit=MAX_DATABASE_NAME)
    if query is not None:
        check_text(query, "query")
    searched_on = parse_date(searched)
    info = inspect_file(path)
    name = detect_format(path, info) if fmt == "auto" else fmt
    read = _reader(path, name, info, mapping)
    try:
        return _import(review, path, database, info, name, read, searched_on, query, progress, skip_damaged)
    except IntegrityError:
        with review.session() as session:  # another process imported the same file at the same time
            previous = repo.find_search_by_hash(session, info.sha256)
        if previous is None:
            raise
        return ImportResult(
            str(path),
            previous.database,
            previous.file_format,
            previous.id,
            previous.record_count,
            0,
            0,
            already_imported=True,
            warnings=info.warnings,
        )


def _import(
    review: Review,
    path: Path,
    database: str,
    info: Any,
    name: str,
    read: Any,
    searched_on: date | None,
    query: str | None,
    progress: Hook | None,
    skip_damaged: bool,
) -> ImportResult:
    with review.session() as session, _damage_mode(skip_damaged) as skipped:
        previous = repo.find_search_by_hash(session, info.sha256)
        if previous is not None:
            return ImportResult(
                str(path),
                previous.database,
                previous.file_format,
                previous.id,
                previous.record_count,
                0,
                0,
                already_imported=True,
                warnings=info.warnings,
            )
        search = repo.add_search(
            session,
            database=database,
            file_name=path.name,
            file_hash=info.sha256,
            file_format=name,
            searched_on=searched_on,
            query=query,
        )
        known = repo.identity_keys(session, database)
        total = added = 0
        batch: list[Record] = []
        with track(f"importing {path.name}", None, "records", progress) as bar, counting_lines() as lines:
            for rec in read(path, info):
                _check_record(rec, path, total + 1)
                total += 1
                if total % PROGRESS_EVERY == 0:
                    bar.update(total, _estimate(total, lines.count, info.lines))
                if known and identity_key(rec) in known:
                    continue
                batch.append(rec)
                if len(batch) >= BATCH_SIZE:
                    repo.insert_records(session, search.id, added, batch)
                    added += len(batch)
                    batch = []
            repo.insert_records(session, search.id, added, batch)
            added += len(batch)
            bar.update(total, total)
        if total == 0:
            raise InputError(f"no records found (read as {name})", file=path)
        repo.finish_search(session, search, total)
        return ImportResult(
            str(path),
            database,
            name,
            search.id,
            total,
            added,
            total - added,
            warnings=info.warnings,
            skipped=[str(err) for err in skipped],
        )


MAX_DATABASE_NAME = 200
"""Longest database name (``--database``) a search may have: the store's column width."""


def check_text(
    value: str, name: str, *, limit: int | None = None, file: Path | None = None, line: int | None = None
) -> None:
    """InputError for text the store cannot hold: U+0000 (PostgreSQL refuses it) or over ``limit`` chars."""
    if "\x00" in value:
        raise InputError("contains the NUL character U+0000", file=file, line=line, field=name)
    if limit is not None and len(value) > limit:
        raise InputError(f"longer than {limit} characters ({len(value)})", file=file, line=line, field=name)


def _check_record(rec: Record, path: Path, number: int) -> None:
    for name in (
        "source_database",
        "title",
        "abstract",
        "journal",
        "volume",
        "issue",
        "pages",
        "doi",
        "pmid",
        "language",
    ):
        check_text(str(getattr(rec, name) or ""), name, file=path, line=None)
    for name in ("authors", "keywords", "publication_types"):
        for item in getattr(rec, name) or []:
            check_text(str(item), name, file=path)
    if "\\u0000" in json.dumps(rec.raw, default=str):
        raise InputError("contains the NUL character U+0000", file=path, field="raw")


@contextmanager
def _damage_mode(skip: bool) -> Iterator[list[InputError]]:
    if not skip:
        yield []
        return
    with collecting() as skipped:
        yield skipped


def _estimate(records: int, lines_read: int, lines: int) -> int | None:
    """The file's record count estimated from the share of its lines read so far (text files)."""
    if lines_read <= 0 or lines <= 0:
        return None
    return max(records, round(records * max(lines, lines_read) / lines_read))
