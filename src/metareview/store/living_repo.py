"""Repository functions of living reviews: update batches and report versions (the only SQL of that area).

Example::

    with review.session() as s:
        n = add_batch(s, actor="ana")            # 2 for the first update
        assign_search(s, search_id=7, batch=n)
        record_batches(s)                        # record id -> batch number (1 before any update)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from metareview.store.living_models import BatchSearch, ReportVersion, UpdateBatch
from metareview.store.records_models import ClusterMember, DuplicateCluster, Search, StoredRecord


def _now() -> datetime:
    return datetime.now(UTC)


def add_batch(session: Session, actor: str = "", note: str | None = None) -> int:
    """Open the next update batch (2, 3, …: batch 1 is everything imported before the first update)."""
    last = session.scalar(select(func.max(UpdateBatch.number)))
    number = max(int(last or 1), 1) + 1
    session.add(UpdateBatch(number=number, created_at=_now(), actor=actor, note=note))
    session.flush()
    return number


def assign_search(session: Session, search_id: int, batch: int) -> None:
    """Put the records of search ``search_id`` in update batch ``batch``."""
    session.add(BatchSearch(search_id=search_id, batch_number=batch))
    session.flush()


def batches(session: Session) -> list[UpdateBatch]:
    """The update batches (2, 3, …) in order."""
    return list(session.scalars(select(UpdateBatch).order_by(UpdateBatch.number)))


def search_batches(session: Session) -> dict[int, int]:
    """search id -> batch number, for every search (1 for those imported before the first update)."""
    mapped = {
        int(s): int(b) for s, b in session.execute(select(BatchSearch.search_id, BatchSearch.batch_number))
    }
    ids = session.scalars(select(Search.id)).all()
    return {int(i): int(mapped.get(i, 1)) for i in ids}


def record_batches(session: Session) -> dict[int, int]:
    """record id -> batch number of the search that imported it."""
    by_search = search_batches(session)
    rows = session.execute(select(StoredRecord.id, StoredRecord.search_id))
    return {int(r): by_search[int(s)] for r, s in rows}


def add_report_version(session: Session, snapshot: Mapping[str, Any], note: str | None = None) -> int:
    """Store a report build's snapshot as the next version (1, 2, …) and return its number."""
    last = session.scalar(select(func.max(ReportVersion.number)))
    number = int(last or 0) + 1
    session.add(ReportVersion(number=number, created_at=_now(), note=note, snapshot=dict(snapshot)))
    session.flush()
    return number


def report_version(session: Session, number: int) -> ReportVersion | None:
    """One stored report version, or None."""
    return session.get(ReportVersion, number)


def report_versions(session: Session) -> list[ReportVersion]:
    """Every stored report version, oldest first."""
    return list(session.scalars(select(ReportVersion).order_by(ReportVersion.number)))


def record_rows(session: Session) -> list[tuple[int, str, int, bool]]:
    """(record id, database, batch, flagged duplicate) of every stored record, by id."""
    flagged = set(
        session.scalars(
            select(ClusterMember.record_id)
            .join(DuplicateCluster, DuplicateCluster.id == ClusterMember.cluster_id)
            .where(ClusterMember.record_id != DuplicateCluster.kept_record_id)
        )
    )
    by_search = search_batches(session)
    rows = session.execute(
        select(StoredRecord.id, Search.database, StoredRecord.search_id)
        .join(Search, Search.id == StoredRecord.search_id)
        .order_by(StoredRecord.id)
    )
    return [(int(r), str(db), by_search[int(s)], int(r) in flagged) for r, db, s in rows]
