"""Repository functions of the records area: every query on searches, records, duplicate clusters and
pairs lives here (the rest of the package calls these functions with an open session).

Example::

    with review.session() as s:
        search = find_search_by_hash(s, digest)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.orm import Session

from metareview.records.model import RECORD_FIELDS, Record, identity_key
from metareview.store.records_models import (
    ClusterMember,
    DedupEvent,
    DuplicateCluster,
    DuplicatePair,
    Search,
    StoredRecord,
)

_CHUNK = 900  # ids per IN (...) list: below SQLite's parameter limit


def now() -> datetime:
    """The current time (UTC, timezone-aware)."""
    return datetime.now(UTC)


# --- searches and import -------------------------------------------------------------------------


def find_search_by_hash(session: Session, file_hash: str) -> Search | None:
    """The search imported from a file with this SHA-256, if any."""
    return session.scalar(select(Search).where(Search.file_hash == file_hash))


def add_search(
    session: Session,
    *,
    database: str,
    file_name: str,
    file_hash: str,
    file_format: str,
    searched_on: date | None = None,
    query: str | None = None,
) -> Search:
    """Insert a search row (record count 0 until :func:`finish_search`) and return it with its id."""
    search = Search(
        database=database,
        file_name=file_name,
        file_hash=file_hash,
        file_format=file_format,
        searched_on=searched_on,
        query=query,
        record_count=0,
        imported_at=now(),
    )
    session.add(search)
    session.flush()
    return search


def finish_search(session: Session, search: Search, record_count: int) -> None:
    """Set the number of records the search's file held."""
    search.record_count = record_count
    session.flush()


def identity_keys(session: Session, database: str) -> set[str]:
    """Identity keys (:func:`identity_key`) of the records already imported from ``database``."""
    rows = session.execute(
        select(
            StoredRecord.title, StoredRecord.authors, StoredRecord.year, StoredRecord.doi, StoredRecord.pmid
        )
        .join(Search)
        .where(Search.database == database)
    )
    return {
        identity_key(Record(title=t, authors=list(a or []), year=y, doi=d, pmid=p)) for t, a, y, d, p in rows
    }


def insert_records(session: Session, search_id: int, first_position: int, records: Sequence[Record]) -> None:
    """Bulk-insert ``records`` of one search (positions numbered from ``first_position``)."""
    if not records:
        return
    rows = []
    for offset, rec in enumerate(records):
        row: dict[str, Any] = {name: getattr(rec, name) for name in RECORD_FIELDS}
        row.update(search_id=search_id, position=first_position + offset, raw=rec.raw)
        rows.append(row)
    session.execute(insert(StoredRecord), rows)


def searches(session: Session) -> list[Search]:
    """All searches in import order."""
    return list(session.scalars(select(Search).order_by(Search.id)))


# --- deduplication ---------------------------------------------------------------------------------


def dedup_rows(session: Session, ids: Iterable[int] | None = None) -> list[Row[Any]]:
    """(id, title, authors, year, journal, volume, pages, doi, pmid) of every record (or ``ids``), by id."""
    stmt = select(
        StoredRecord.id,
        StoredRecord.title,
        StoredRecord.authors,
        StoredRecord.year,
        StoredRecord.journal,
        StoredRecord.volume,
        StoredRecord.pages,
        StoredRecord.doi,
        StoredRecord.pmid,
    ).order_by(StoredRecord.id)
    if ids is None:
        return list(session.execute(stmt))
    wanted = list(ids)
    out: list[Row[Any]] = []
    for first in range(0, len(wanted), _CHUNK):
        out.extend(session.execute(stmt.where(StoredRecord.id.in_(wanted[first : first + _CHUNK]))))
    return sorted(out, key=lambda row: row[0])


def clusters(session: Session) -> dict[int, tuple[int, list[int]]]:
    """cluster id -> (kept record id, member record ids)."""
    out: dict[int, tuple[int, list[int]]] = {
        cid: (kept, [])
        for cid, kept in session.execute(select(DuplicateCluster.id, DuplicateCluster.kept_record_id))
    }
    for record_id, cluster_id in session.execute(
        select(ClusterMember.record_id, ClusterMember.cluster_id).order_by(ClusterMember.record_id)
    ):
        out[cluster_id][1].append(record_id)
    return out


def records_by_id(session: Session, ids: Iterable[int]) -> list[StoredRecord]:
    """The records with these ids, by id."""
    wanted = list(ids)
    out: list[StoredRecord] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        out.extend(session.scalars(select(StoredRecord).where(StoredRecord.id.in_(chunk))))
    return sorted(out, key=lambda r: r.id)


def field_rows(session: Session, ids: Sequence[int], names: Sequence[str]) -> dict[int, Row[Any]]:
    """record id -> row (id first, then the named columns) for these ids; light, no ORM objects."""
    cols = [getattr(StoredRecord, n) for n in names]
    out: dict[int, Row[Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows = session.execute(select(StoredRecord.id, *cols).where(StoredRecord.id.in_(chunk)))
        out.update((row[0], row) for row in rows)
    return out


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """A cluster to write: ``cluster_id`` None creates one."""

    cluster_id: int | None
    kept_id: int
    members: Sequence[int]
    method: str
    merged: dict[str, Any]


def write_clusters(session: Session, specs: Sequence[ClusterSpec], dissolve: Sequence[int] = ()) -> None:
    """Dissolve ``dissolve``; update or create each spec's cluster with exactly its members (in bulk)."""
    rewritten = [s.cluster_id for s in specs if s.cluster_id is not None]
    delete_clusters(session, [*dissolve, *rewritten], keep_rows=rewritten)
    updates = [
        {"id": s.cluster_id, "kept_record_id": s.kept_id, "method": s.method, "merged": s.merged}
        for s in specs
        if s.cluster_id is not None
    ]
    if updates:
        session.execute(update(DuplicateCluster), updates)
    created = [s for s in specs if s.cluster_id is None]
    new_ids: list[int] = []
    if created:
        stamp = now()
        new_ids = list(
            session.scalars(
                insert(DuplicateCluster).returning(DuplicateCluster.id, sort_by_parameter_order=True),
                [
                    {"kept_record_id": s.kept_id, "method": s.method, "merged": s.merged, "created_at": stamp}
                    for s in created
                ],
            )
        )
    ids = iter(new_ids)
    members: list[dict[str, int]] = []
    for spec in specs:
        cid = spec.cluster_id if spec.cluster_id is not None else next(ids)
        members.extend({"record_id": r, "cluster_id": cid} for r in spec.members)
    if members:
        session.execute(insert(ClusterMember), members)


def delete_clusters(
    session: Session, cluster_ids: Iterable[int] | None = None, keep_rows: Iterable[int] = ()
) -> int:
    """Dissolve clusters (all when ``cluster_ids`` is None): records stay, only the grouping goes.

    Clusters in ``keep_rows`` only lose their members (they are about to be rewritten).
    Returns the number of cluster rows removed.
    """
    sync = {"synchronize_session": False}
    if cluster_ids is None:
        session.execute(delete(ClusterMember), execution_options=sync)
        result = session.execute(delete(DuplicateCluster), execution_options=sync)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
    ids, keep = list(cluster_ids), set(keep_rows)
    removed = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(
            delete(ClusterMember).where(ClusterMember.cluster_id.in_(chunk)), execution_options=sync
        )
        gone = [c for c in chunk if c not in keep]
        if gone:
            result = session.execute(
                delete(DuplicateCluster).where(DuplicateCluster.id.in_(gone)), execution_options=sync
            )
            removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed


def pair_statuses(session: Session) -> dict[tuple[int, int], str]:
    """(record_a_id, record_b_id) -> status of every stored pair."""
    return {
        (a, b): s
        for a, b, s in session.execute(
            select(DuplicatePair.record_a_id, DuplicatePair.record_b_id, DuplicatePair.status)
        )
    }


def add_pairs(session: Session, pairs: Iterable[tuple[int, int, float]]) -> int:
    """Store new uncertain pairs (a < b); returns how many were added."""
    rows = [{"record_a_id": a, "record_b_id": b, "score": s, "status": "uncertain"} for a, b, s in pairs]
    if rows:
        session.execute(insert(DuplicatePair), rows)
    return len(rows)


def pairs(session: Session, status: str | None = "uncertain") -> list[DuplicatePair]:
    """Stored pairs with ``status`` (all when None), best score first."""
    stmt = select(DuplicatePair).order_by(DuplicatePair.score.desc(), DuplicatePair.id)
    if status is not None:
        stmt = stmt.where(DuplicatePair.status == status)
    return list(session.scalars(stmt))


def get_pair(session: Session, pair_id: int) -> DuplicatePair | None:
    """One stored pair."""
    return session.get(DuplicatePair, pair_id)


def decide_pair(session: Session, pair: DuplicatePair, status: str) -> None:
    """Record a user's decision ('confirmed' or 'rejected') on a pair."""
    pair.status = status
    pair.decided_at = now()
    session.flush()


def add_dedup_event(session: Session, kind: str, pair_id: int | None = None) -> None:
    """Append a deduplication event: 'run', or a pair decision ('confirmed' / 'rejected')."""
    session.add(DedupEvent(kind=kind, pair_id=pair_id, at=now()))
    session.flush()


def last_dedup_run(session: Session) -> datetime | None:
    """When deduplication last ran (None if never)."""
    return session.scalar(select(func.max(DedupEvent.at)).where(DedupEvent.kind == "run"))


def last_import(session: Session) -> datetime | None:
    """When the latest search was imported (None if none)."""
    return session.scalar(select(func.max(Search.imported_at)))


def record_with_search(session: Session, record_id: int) -> tuple[StoredRecord, Search] | None:
    """One record and the search (imported file) it came from."""
    row = session.execute(
        select(StoredRecord, Search).join(Search, Search.id == StoredRecord.search_id).where(
            StoredRecord.id == record_id
        )
    ).first()
    return None if row is None else (row[0], row[1])


def cluster_of(session: Session, record_id: int) -> tuple[int, int, str, dict[str, Any], list[int]] | None:
    """(cluster id, kept record id, method, merged fields, member ids) of the record's cluster, if any."""
    cid = session.scalar(select(ClusterMember.cluster_id).where(ClusterMember.record_id == record_id))
    if cid is None:
        return None
    cluster = session.get(DuplicateCluster, cid)
    assert cluster is not None
    members = list(
        session.scalars(
            select(ClusterMember.record_id)
            .where(ClusterMember.cluster_id == cid)
            .order_by(ClusterMember.record_id)
        )
    )
    return cid, cluster.kept_record_id, cluster.method, dict(cluster.merged or {}), members


# --- status and export -------------------------------------------------------------------------------


def database_counts(session: Session) -> list[tuple[str, int, int, int, int]]:
    """Per database: (name, searches, records in files, records stored, records flagged duplicate)."""
    flagged = (
        select(ClusterMember.record_id)
        .join(DuplicateCluster, DuplicateCluster.id == ClusterMember.cluster_id)
        .where(ClusterMember.record_id != DuplicateCluster.kept_record_id)
    )
    stored = select(func.count(StoredRecord.id)).where(StoredRecord.search_id == Search.id).scalar_subquery()
    dups = (
        select(func.count(StoredRecord.id))
        .where(StoredRecord.search_id == Search.id, StoredRecord.id.in_(flagged))
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Search.database,
            func.count(Search.id),
            func.sum(Search.record_count),
            func.sum(stored),
            func.sum(dups),
        )
        .group_by(Search.database)
        .order_by(Search.database)
    )
    return [(db, int(n), int(inf or 0), int(st or 0), int(dp or 0)) for db, n, inf, st, dp in rows]


def iter_records(
    session: Session, batch: int = 2000
) -> Iterator[tuple[StoredRecord, str, int | None, int | None]]:
    """Every record with its search's database, cluster id and the cluster's kept record id, by id."""
    stmt = (
        select(StoredRecord, Search.database, ClusterMember.cluster_id, DuplicateCluster.kept_record_id)
        .join(Search, Search.id == StoredRecord.search_id)
        .outerjoin(ClusterMember, ClusterMember.record_id == StoredRecord.id)
        .outerjoin(DuplicateCluster, DuplicateCluster.id == ClusterMember.cluster_id)
        .order_by(StoredRecord.id)
        .execution_options(yield_per=batch)
    )
    for row in session.execute(stmt):
        yield row[0], row[1], row[2], row[3]


def cluster_merged(session: Session) -> dict[int, dict[str, Any]]:
    """cluster id -> fields filled into its kept record from the other members."""
    rows = session.execute(select(DuplicateCluster.id, DuplicateCluster.merged))
    return {cid: merged for cid, merged in rows}
