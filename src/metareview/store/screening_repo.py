"""Repository functions of the screening area: every query on decision events, retrieval events and
cached embeddings lives here. Events are only ever inserted (never updated or deleted).

Example::

    with review.session() as s:
        add_events(s, [{"record_id": 1, "stage": "title_abstract", "reviewer": "ana", "kind": "vote",
                        "decision": "include"}])
        [e.decision for e in events(s)]        # ['include']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Executable, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from metareview.store.records_models import ClusterMember, DuplicateCluster, StoredRecord
from metareview.store.screening_models import RecordEmbedding, RetrievalEvent, ScreeningEvent

_CHUNK = 900  # ids per IN (...) list: below SQLite's parameter limit
_EVENT_FIELDS = ("reason", "note", "method", "previous_decision")


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session for reads that need no common snapshot: each statement runs on its own (autocommit),
    which spares the BEGIN and COMMIT round trips of a transaction on PostgreSQL. Never write in it."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn, Session(bind=conn) as s:
        yield s


def _now() -> datetime:
    return datetime.now(UTC)


BUSY_TIMEOUT_MS = 60_000  # SQLite: how long a writer waits for another writer's transaction


def sqlite_write_lock(session: Session, noop_write: Executable) -> bool:
    """On SQLite, hold the file's write lock until the session's transaction ends and return True; on
    other databases return False (the caller locks rows). A transaction that has not written yet becomes
    an immediate write transaction (``BEGIN IMMEDIATE``, waiting up to ``BUSY_TIMEOUT_MS`` for another
    writer); one that has, runs ``noop_write`` (a write that changes nothing) to take or confirm the lock."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return False
    raw = conn.connection.dbapi_connection
    conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if raw is not None and not getattr(raw, "in_transaction", True):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        session.execute(noop_write)
    return True


def lock_records(session: Session, record_ids: Iterable[int]) -> None:
    """Serialise the screening rules on these records until the session's transaction ends.

    Call it first in the transaction, before reading the records' events: a concurrent caller that
    locks the same records waits, then reads the events written by the first.

    * PostgreSQL (and other servers): ``SELECT ... FOR UPDATE`` on the records' rows, in id order (so two
      bulk callers cannot deadlock); under READ COMMITTED each later statement sees what the previous
      holder committed.
    * SQLite: one writer at a time for the whole file. A transaction that has not written yet becomes an
      immediate write transaction (``BEGIN IMMEDIATE``, waiting up to ``BUSY_TIMEOUT_MS`` for another
      writer); a transaction that has already written holds the write lock.
    """
    ids = sorted(set(record_ids))
    noop = update(StoredRecord).where(StoredRecord.id == -1).values(id=StoredRecord.id)
    if sqlite_write_lock(session, noop):
        return
    for start in range(0, len(ids), _CHUNK):
        session.connection().execute(_LOCK_ROWS, {"ids": ids[start : start + _CHUNK]}).all()


# statements built once (building them costs more Python time than running them on one record)
_LOCK_ROWS = (
    select(StoredRecord.id)
    .where(StoredRecord.id.in_(bindparam("ids", expanding=True)))
    .order_by(StoredRecord.id)
    .with_for_update()
)
_RECORD_EVENTS = (
    select(
        ScreeningEvent.id,
        ScreeningEvent.record_id,
        ScreeningEvent.stage,
        ScreeningEvent.reviewer,
        ScreeningEvent.kind,
        ScreeningEvent.decision,
        ScreeningEvent.reason,
        ScreeningEvent.note,
        ScreeningEvent.method,
        ScreeningEvent.previous_decision,
        ScreeningEvent.created_at,
    )
    .where(ScreeningEvent.record_id == bindparam("record_id"), ScreeningEvent.stage == bindparam("stage"))
    .order_by(ScreeningEvent.id)
)


def add_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append decision events (record_id, stage, reviewer, kind, decision, optional reason, note,
    method, previous_decision); all get the same timestamp."""
    if not rows:
        return
    stamp = _now()
    full = [{**{k: None for k in _EVENT_FIELDS}, **row, "created_at": stamp} for row in rows]
    session.connection().execute(insert(ScreeningEvent), full)


def record_events(session: Session, stage: str, record_id: int) -> list[Any]:
    """The decision events of one record at one stage in order, as rows with the attributes of
    :class:`ScreeningEvent` (one indexed query, for the rules that look at one record)."""
    return list(session.connection().execute(_RECORD_EVENTS, {"record_id": record_id, "stage": stage}))


def events(session: Session, stage: str | None = None, record_id: int | None = None) -> list[ScreeningEvent]:
    """Decision events in the order they were made, optionally of one stage and/or one record."""
    stmt = select(ScreeningEvent).order_by(ScreeningEvent.id)
    if stage is not None:
        stmt = stmt.where(ScreeningEvent.stage == stage)
    if record_id is not None:
        stmt = stmt.where(ScreeningEvent.record_id == record_id)
    return list(session.scalars(stmt))


def add_retrieval(
    session: Session, record_id: int, status: str, reviewer: str, note: str | None, previous: str | None
) -> None:
    """Append a full-text retrieval event."""
    session.add(
        RetrievalEvent(
            record_id=record_id,
            status=status,
            reviewer=reviewer,
            note=note,
            previous_status=previous,
            created_at=_now(),
        )
    )
    session.flush()


def retrieval_events(session: Session, record_id: int | None = None) -> list[RetrievalEvent]:
    """Retrieval events (of one record, or all) in the order they were made."""
    stmt = select(RetrievalEvent).order_by(RetrievalEvent.id)
    if record_id is not None:
        stmt = stmt.where(RetrievalEvent.record_id == record_id)
    return list(session.scalars(stmt))


def _flagged_duplicates() -> Any:
    return (
        select(ClusterMember.record_id)
        .join(DuplicateCluster, DuplicateCluster.id == ClusterMember.cluster_id)
        .where(ClusterMember.record_id != DuplicateCluster.kept_record_id)
    )


_SCREENABLE = select(StoredRecord.id).where(
    StoredRecord.id == bindparam("record_id"),
    ~select(ClusterMember.record_id)
    .join(DuplicateCluster, DuplicateCluster.id == ClusterMember.cluster_id)
    .where(
        ClusterMember.record_id == bindparam("record_id"),
        DuplicateCluster.kept_record_id != bindparam("record_id"),
    )
    .exists(),
)


def is_screenable(session: Session, record_id: int) -> bool:
    """True when the record exists and is not a flagged duplicate (two primary-key lookups)."""
    return session.connection().execute(_SCREENABLE, {"record_id": record_id}).first() is not None


def screenable_records(session: Session) -> list[tuple[int, str, str, list[str]]]:
    """(id, title, abstract, keywords) of every record that is not a flagged duplicate, by id."""
    flagged = _flagged_duplicates()
    rows = session.execute(
        select(StoredRecord.id, StoredRecord.title, StoredRecord.abstract, StoredRecord.keywords)
        .where(StoredRecord.id.not_in(flagged))
        .order_by(StoredRecord.id)
    )
    return [(int(i), t or "", a or "", list(k or [])) for i, t, a, k in rows]


def record_texts(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """record id -> (title, abstract) of these records."""
    wanted = sorted(set(ids))
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(
            select(StoredRecord.id, StoredRecord.title, StoredRecord.abstract).where(
                StoredRecord.id.in_(chunk)
            )
        )
        out.update((int(i), (t or "", a or "")) for i, t, a in rows)
    return out


def record_by_id(session: Session, record_id: int) -> StoredRecord | None:
    """One record, or None."""
    return session.get(StoredRecord, record_id)


_SHOWN = select(
    StoredRecord.id,
    StoredRecord.title,
    StoredRecord.abstract,
    StoredRecord.authors,
    StoredRecord.journal,
    StoredRecord.year,
    StoredRecord.keywords,
    StoredRecord.doi,
    StoredRecord.pmid,
).where(StoredRecord.id == bindparam("record_id"))


def record_fields(session: Session, record_id: int) -> Any:
    """The fields shown while screening (id, title, abstract, authors, journal, year, keywords, doi,
    pmid) of one record as a row, or None."""
    return session.connection().execute(_SHOWN, {"record_id": record_id}).first()


def load_embeddings(session: Session, model: str, ids: Iterable[int]) -> dict[int, tuple[str, bytes]]:
    """record id -> (text hash, float32 vector bytes) of the cached embeddings under ``model``."""
    wanted = list(ids)
    out: dict[int, tuple[str, bytes]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(
            select(RecordEmbedding.record_id, RecordEmbedding.text_hash, RecordEmbedding.vector).where(
                and_(RecordEmbedding.model == model, RecordEmbedding.record_id.in_(chunk))
            )
        )
        out.update((int(r), (h, bytes(v))) for r, h, v in rows)
    return out


def save_embeddings(session: Session, model: str, rows: Sequence[tuple[int, str, bytes]]) -> None:
    """Cache (record id, text hash, vector bytes) under ``model``, replacing those records' old vectors."""
    if not rows:
        return
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.query(RecordEmbedding).filter(
            RecordEmbedding.model == model, RecordEmbedding.record_id.in_(chunk)
        ).delete(synchronize_session=False)
    session.execute(
        insert(RecordEmbedding),
        [{"record_id": r, "model": model, "text_hash": h, "vector": v} for r, h, v in rows],
    )
