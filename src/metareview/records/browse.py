"""Looking at records one by one: :func:`show_record` (every field, the search it came from, its
duplicate cluster and its screening state per stage, blind mode applied) and :func:`search_records`
(text search over title, abstract, authors, DOI and PMID, paged). The CLI (``metareview records show``,
``metareview records search``) and the web app call these.

Example::

    from metareview.records.browse import search_records, show_record
    print(show_record(review, 17, reviewer="ana"))
    page = search_records(review, "internet CBT", page=1, per_page=20)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from metareview.errors import InputError
from metareview.records.model import RECORD_FIELDS
from metareview.review import Review
from metareview.store import records_repo as repo

if TYPE_CHECKING:
    from metareview.screening.decisions import RecordState

SEARCH_COLUMNS = ("id", "database", "status", "year", "authors", "title", "doi", "pmid")


@dataclass(frozen=True)
class SearchSource:
    """The search (one imported file) a record came from."""

    search_id: int
    database: str
    file_name: str
    searched_on: date | None
    query: str | None
    imported_at: datetime


@dataclass(frozen=True)
class ClusterInfo:
    """The duplicate cluster a record belongs to."""

    cluster_id: int
    kept_record_id: int
    method: str
    members: list[int]
    merged: dict[str, Any]


@dataclass(frozen=True)
class RecordView:
    """Everything about one record: ``status`` is 'unique', 'kept' or 'duplicate'; ``fields`` are the
    record's own fields (a kept record's ``merged`` fields, filled from its duplicates, are in
    ``cluster.merged``); ``screening`` is one state per stage as the asking reviewer may see it."""

    record_id: int
    status: str
    fields: dict[str, Any]
    source: SearchSource
    cluster: ClusterInfo | None
    screening: list[RecordState] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"record {self.record_id} ({self.status})"]
        for name, value in self.fields.items():
            if value in ("", None, []):
                continue
            shown = "; ".join(value) if isinstance(value, list) else value
            lines.append(f"  {name}: {shown}")
        src = self.source
        when = f", searched {src.searched_on}" if src.searched_on else ""
        lines.append(f"  search {src.search_id}: {src.database}, file {src.file_name}{when}")
        if src.query:
            lines.append(f"    query: {src.query}")
        if self.cluster is not None:
            c = self.cluster
            others = ", ".join(str(m) for m in c.members if m != self.record_id)
            lines.append(
                f"  duplicate cluster {c.cluster_id} ({c.method}): kept record {c.kept_record_id}; "
                f"with {others}"
            )
            for name, value in c.merged.items():
                shown = "; ".join(value) if isinstance(value, list) else value
                lines.append(f"    filled from duplicates: {name}: {shown}")
        lines += [str(st) for st in self.screening]
        return "\n".join(lines)


@dataclass(frozen=True)
class SearchPage:
    """One page of search hits: ``rows`` are dicts with :data:`SEARCH_COLUMNS`."""

    text: str
    total: int
    page: int
    per_page: int
    rows: list[dict[str, Any]]

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    def __str__(self) -> str:
        lines = [
            f"{r['id']:>6}  {r['status']:<9} {r['year'] if r['year'] is not None else '':<5} "
            f"{(r['authors'][:30]):<31}{r['title'][:80]}"
            for r in self.rows
        ]
        lines.append(f"{self.total} records match {self.text!r}; page {self.page} of {self.pages}")
        return "\n".join(lines)


def show_record(review: Review, record_id: int, reviewer: str | None = None) -> RecordView:
    """The record ``record_id`` with its search, cluster and screening state at each of the protocol's
    stages, as ``reviewer`` may see it (blind mode: others' votes hidden until they have voted, or
    while the record is pending). Raises :class:`InputError` for an unknown id."""
    from metareview.screening import decisions as sd

    with review.session() as session:
        found = repo.record_with_search(session, record_id)
        if found is None:
            raise InputError(f"no record {record_id}", field="record")
        rec, search = found
        fields = {name: getattr(rec, name) for name in RECORD_FIELDS}
        source = SearchSource(
            search.id, search.database, search.file_name, search.searched_on, search.query, search.imported_at
        )
        got = repo.cluster_of(session, record_id)
    cluster = None if got is None else ClusterInfo(got[0], got[1], got[2], got[4], got[3])
    status = "unique" if cluster is None else ("kept" if cluster.kept_record_id == record_id else "duplicate")
    if cluster is not None and status == "duplicate":
        cluster = ClusterInfo(cluster.cluster_id, cluster.kept_record_id, cluster.method, cluster.members, {})
    stages = [str(st) for st in review.protocol.screening.stages]
    screening = [sd.state(review, record_id, stage, reviewer=reviewer) for stage in stages]
    return RecordView(record_id, status, fields, source, cluster, screening)


def search_records(
    review: Review, text: str, page: int = 1, per_page: int = 20, duplicates: bool = True
) -> SearchPage:
    """Records whose title, abstract, authors, DOI or PMID contain ``text`` (case-insensitive; every
    word must occur somewhere), by id, one page at a time (``page`` from 1)."""
    from metareview.records.export import records_frame

    words = text.casefold().split()
    if not words:
        raise InputError("search text is empty", field="text")
    if page < 1 or per_page < 1:
        raise InputError(f"page ({page}) and per_page ({per_page}) must be at least 1", field="page")
    frame = records_frame(review, duplicates=duplicates)
    haystack = (
        frame["title"].fillna("")
        + "\n"
        + frame["abstract"].fillna("")
        + "\n"
        + frame["authors"].fillna("")
        + "\n"
        + frame["doi"].fillna("")
        + "\n"
        + frame["pmid"].fillna("")
    ).str.casefold()
    mask = haystack.map(lambda h: all(w in h for w in words))
    hits = frame[mask]
    chunk = hits.iloc[(page - 1) * per_page : page * per_page]
    rows: list[dict[str, Any]] = []
    for record in chunk[list(SEARCH_COLUMNS)].to_dict("records"):
        year = record["year"]
        row = {str(k): v for k, v in record.items()}
        row.update(id=int(row["id"]), year=None if year is None or pd.isna(year) else int(year))
        rows.append(row)
    return SearchPage(text, len(hits), page, per_page, rows)


def included_ids(review: Review, stage: str) -> list[int]:
    """Records whose final decision at ``stage`` is include (an aggregate, as PRISMA counts)."""
    from metareview.screening import decisions as sd
    from metareview.screening.stages import check_stage

    check_stage(stage, review.protocol)
    final = sd.final_decisions(review, stage)
    return sorted(rid for rid, (decision, _) in final.items() if decision == "include")
