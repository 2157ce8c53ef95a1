"""Queries of the screening queue: what :mod:`metareview.screening.live` needs to keep a review's
screening state current in a process without loading the event log on every request. Every vote and
resolution stays an appended :class:`ScreeningEvent`; these only read them.

* :func:`corpus_token` — a cheap fingerprint of the screenable records (changes with an import or a
  change of the duplicate flags; reads no record);
* :func:`screenable_ids` — the ids of the screenable records;
* :func:`events_since` / :func:`retrievals_since` — the decision (retrieval) events appended after an
  id, plus those with the given ids (ids skipped by an earlier read), as plain rows in id order;
* :func:`count_events_upto` / :func:`count_retrievals_upto` — how many events have an id up to a bound
  (the check that no event was missed).

Example::

    with review.session() as s:
        rows = events_since(s, after=120)        # the events appended since event 120
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, bindparam, cast, func, select, true
from sqlalchemy.orm import Session

from metareview.store.records_models import ClusterMember, DuplicateCluster, Search, StoredRecord
from metareview.store.screening_models import RetrievalEvent, ScreeningEvent
from metareview.store.screening_repo import _flagged_duplicates

_IN_CHUNK = 900  # ids per IN (...) list: below SQLite's parameter limit


def _corpus_token_query() -> Any:
    rid = ClusterMember.record_id
    flagged = (
        select(
            func.count().label("n"),
            func.coalesce(func.sum(cast(rid, BigInteger)), 0).label("s"),
            func.coalesce(func.sum(cast(rid, BigInteger) * cast(rid, BigInteger)), 0).label("q"),
        )
        .join(DuplicateCluster, DuplicateCluster.id == ClusterMember.cluster_id)
        .where(rid != DuplicateCluster.kept_record_id)
        .subquery()
    )
    searches = select(func.count(), func.max(Search.id)).subquery()
    last_event = select(func.max(ScreeningEvent.id)).scalar_subquery()
    last_retrieval = select(func.max(RetrievalEvent.id)).scalar_subquery()
    both = searches.join(flagged, true())  # two one-row aggregates side by side
    return select(*searches.c, flagged.c.n, flagged.c.s, flagged.c.q, last_event, last_retrieval).select_from(
        both
    )


# statements built once: building them costs more Python time than running them on a small change
_CORPUS_TOKEN = _corpus_token_query()


def corpus_token(session: Session) -> tuple[int, int, int, int, int]:
    """A fingerprint of the set of screenable records: (number of searches, largest search id;
    number, sum and sum of squares of the ids of the records flagged as duplicates). Records come
    only with a new search (one per imported file, in the import's transaction) and are never deleted,
    so it changes with every import and every change of the duplicate flags. It reads the searches
    table (one row per file) and the duplicate clusters, never the records."""
    return corpus_token_and_last_ids(session)[0]


def corpus_token_and_last_ids(session: Session) -> tuple[tuple[int, int, int, int, int], int, int]:
    """(:func:`corpus_token`, largest decision event id, largest retrieval event id) in one query."""
    row = [int(v or 0) for v in session.connection().execute(_CORPUS_TOKEN).one()]
    return (row[0], row[1], row[2], row[3], row[4]), row[5], row[6]


def screenable_ids(session: Session) -> list[int]:
    """Ids of the records that are not flagged duplicates, ascending."""
    rows = session.connection().execute(
        select(StoredRecord.id).where(StoredRecord.id.not_in(_flagged_duplicates())).order_by(StoredRecord.id)
    ).scalars()
    return [int(r) for r in rows]


_EVENT_COLUMNS = (
    ScreeningEvent.id,
    ScreeningEvent.record_id,
    ScreeningEvent.stage,
    ScreeningEvent.reviewer,
    ScreeningEvent.kind,
    ScreeningEvent.decision,
    ScreeningEvent.reason,
    ScreeningEvent.note,
    ScreeningEvent.method,
    ScreeningEvent.created_at,
)
_RETRIEVAL_COLUMNS = (RetrievalEvent.id, RetrievalEvent.record_id, RetrievalEvent.status)


_EVENTS_AFTER = (
    select(*_EVENT_COLUMNS).where(ScreeningEvent.id > bindparam("after")).order_by(ScreeningEvent.id)
)
_RETRIEVALS_AFTER = (
    select(*_RETRIEVAL_COLUMNS).where(RetrievalEvent.id > bindparam("after")).order_by(RetrievalEvent.id)
)


def _since(session: Session, after_q: Any, columns: Sequence[Any], pk: Any, after: int,
           also: Sequence[int]) -> list[Any]:
    conn = session.connection()  # Core rows: no ORM objects for thousands of events
    rows = list(conn.execute(after_q, {"after": after}))
    wanted = sorted(i for i in set(also) if i <= after)
    for start in range(0, len(wanted), _IN_CHUNK):
        rows.extend(conn.execute(select(*columns).where(pk.in_(wanted[start : start + _IN_CHUNK]))))
        rows.sort(key=lambda r: r[0])
    return rows


def events_since(session: Session, after: int = 0, also: Sequence[int] = ()) -> list[Any]:
    """Decision events with an id above ``after`` or in ``also``, in id order, as rows with the
    attributes ``id, record_id, stage, reviewer, kind, decision, reason, note, method, created_at``."""
    return _since(session, _EVENTS_AFTER, _EVENT_COLUMNS, ScreeningEvent.id, after, also)


def retrievals_since(session: Session, after: int = 0, also: Sequence[int] = ()) -> list[Any]:
    """Retrieval events (``id, record_id, status``) with an id above ``after`` or in ``also``, by id."""
    return _since(session, _RETRIEVALS_AFTER, _RETRIEVAL_COLUMNS, RetrievalEvent.id, after, also)


def _count_upto(session: Session, pk: Any, upto: int, excluding: Sequence[int]) -> int:
    q = select(func.count()).select_from(pk.table).where(pk <= upto)
    skip = sorted(set(excluding))
    for start in range(0, len(skip), _IN_CHUNK):
        q = q.where(pk.not_in(skip[start : start + _IN_CHUNK]))
    return int(session.scalar(q) or 0)


def count_events_upto(session: Session, upto: int, excluding: Sequence[int] = ()) -> int:
    """How many decision events have an id up to ``upto`` and not in ``excluding``."""
    return _count_upto(session, ScreeningEvent.id, upto, excluding)


def count_retrievals_upto(session: Session, upto: int, excluding: Sequence[int] = ()) -> int:
    """How many retrieval events have an id up to ``upto`` and not in ``excluding``."""
    return _count_upto(session, RetrievalEvent.id, upto, excluding)
