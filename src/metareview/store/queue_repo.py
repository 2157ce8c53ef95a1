"""Queries of the screening queue: the aggregates a "next record" request needs, without loading the
event log. Every vote and resolution stays an appended :class:`ScreeningEvent`; these only count them.

* :func:`corpus_token` / :func:`events_token` — cheap fingerprints of the screenable records and of the
  decision events at a stage, to tell whether a cached ranking is still current;
* :func:`open_records` — records that still need votes at a stage and that a reviewer has not voted on;
* :func:`own_votes` — a reviewer's latest vote per record at a stage (the ranker's labels).

Example::

    with review.session() as s:
        open_records(s, "title_abstract", "ana", required=2)     # [3, 4, 5, ...]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from metareview.store.records_models import StoredRecord
from metareview.store.screening_models import ScreeningEvent
from metareview.store.screening_repo import _flagged_duplicates


def _screenable() -> Any:
    return StoredRecord.id.not_in(_flagged_duplicates())


def corpus_token(session: Session) -> tuple[int, int, int]:
    """(count, largest id, sum of ids) of the screenable records: changes when records are imported or
    flagged as duplicates (records are never edited in place)."""
    n, top, total = session.execute(
        select(func.count(StoredRecord.id), func.max(StoredRecord.id), func.sum(StoredRecord.id)).where(
            _screenable()
        )
    ).one()
    return int(n or 0), int(top or 0), int(total or 0)


def events_token(session: Session, stage: str, reviewer: str | None = None) -> tuple[int, int]:
    """(count, largest id) of the decision events at ``stage`` (only ``reviewer``'s when given)."""
    ev = ScreeningEvent
    q = select(func.count(ev.id), func.max(ev.id)).where(ev.stage == stage)
    if reviewer is not None:
        q = q.where(ev.reviewer == reviewer)
    n, top = session.execute(q).one()
    return int(n or 0), int(top or 0)


def _open(stage: str, reviewer: str, required: int) -> list[Any]:
    ev = ScreeningEvent
    full = (
        select(ev.record_id)
        .where(ev.stage == stage, ev.kind == "vote")
        .group_by(ev.record_id)
        .having(func.count(distinct(ev.reviewer)) >= required)
    )
    resolved = select(ev.record_id).where(ev.stage == stage, ev.kind == "resolution")
    mine = select(ev.record_id).where(ev.stage == stage, ev.kind == "vote", ev.reviewer == reviewer)
    return [_screenable(), StoredRecord.id.not_in(full), StoredRecord.id.not_in(resolved),
            StoredRecord.id.not_in(mine)]


def open_records(session: Session, stage: str, reviewer: str, required: int) -> list[int]:
    """Ids (ascending) of screenable records at ``stage`` with no resolution, fewer than ``required``
    reviewers' votes, and no vote by ``reviewer``: what is left for ``reviewer`` to screen. (At title/
    abstract every screenable record is a candidate; later stages restrict the candidates further.)"""
    rows = session.connection().execute(  # Core rows: no ORM loading of thousands of ids
        select(StoredRecord.id).where(*_open(stage, reviewer, required)).order_by(StoredRecord.id)
    ).scalars()
    return [int(r) for r in rows]


def count_open(session: Session, stage: str, reviewer: str, required: int) -> int:
    """How many records :func:`open_records` would return."""
    return int(session.scalar(select(func.count(StoredRecord.id)).where(*_open(stage, reviewer, required)))
               or 0)


def open_among(session: Session, stage: str, reviewer: str, required: int, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that :func:`open_records` would return (``ids`` short: one IN list)."""
    if not ids:
        return set()
    rows = session.connection().execute(
        select(StoredRecord.id).where(StoredRecord.id.in_(list(ids)), *_open(stage, reviewer, required))
    ).scalars()
    return {int(r) for r in rows}


def own_votes(session: Session, stage: str, reviewer: str) -> dict[int, str]:
    """record id -> ``reviewer``'s latest vote at ``stage``."""
    ev = ScreeningEvent
    rows = session.execute(
        select(ev.record_id, ev.decision)
        .where(ev.stage == stage, ev.kind == "vote", ev.reviewer == reviewer)
        .order_by(ev.id)
    )
    return {int(r): str(d) for r, d in rows}


def voted_counts(session: Session) -> list[tuple[str, str, int]]:
    """(stage, reviewer, number of records they have voted on), by stage and reviewer."""
    ev = ScreeningEvent
    rows = session.execute(
        select(ev.stage, ev.reviewer, func.count(distinct(ev.record_id)))
        .where(ev.kind == "vote")
        .group_by(ev.stage, ev.reviewer)
        .order_by(ev.stage, ev.reviewer)
    )
    return [(str(st), str(r), int(n)) for st, r, n in rows]
