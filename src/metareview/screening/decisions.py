"""The screening workflow on top of the store: votes, dual review, conflicts, blind mode, full-text retrieval.

Every call appends events (``store.screening_repo``); the state of a record at a stage is derived:

* ``pending`` — fewer votes than ``reviewers_per_record`` (protocol);
* ``decided`` — the required reviewers agree on include or exclude, or a conflict was resolved;
* ``conflict`` — they disagree, or someone said maybe: a third reviewer or the reviewers in consensus
  resolve it with :func:`resolve` (an event too).

A record enters full text when it is included at title/abstract (its report is then *sought*); a report
marked not retrieved (:func:`mark_retrieval`) is not assessed.

**Blind mode** (``[screening] blind = true``): no function here returns another reviewer's vote, or the
decision it implies, on a record before the asking ``reviewer`` has voted on (or resolved) that record at
that stage; without a ``reviewer`` nothing but the status is shown. A third reviewer therefore resolves
a conflict without seeing the votes (an independent tie-break); the two voters see each other's votes and
can record a consensus. Aggregates (agreement, PRISMA counts) are computed from all events.

Example::

    from metareview.screening import decisions as sd
    sd.decide(review, record_id=1, reviewer="ana", decision="include")
    sd.decide(review, record_id=1, reviewer="ben", decision="exclude")
    sd.conflicts(review, reviewer="ana")      # [RecordState(record 1, conflict, votes ana/ben)]
    sd.resolve(review, 1, reviewer="cleo", decision="include")
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from metareview.errors import InputError
from metareview.protocol import Protocol
from metareview.review import Review
from metareview.screening.stages import (
    EXCLUDE,
    INCLUDE,
    MAYBE,
    RESOLUTION_METHODS,
    TITLE_ABSTRACT,
    check_decision,
    check_reason,
    check_stage,
)
from metareview.store import screening_repo as repo
from metareview.store.screening_models import ScreeningEvent

PENDING, DECIDED, CONFLICT = "pending", "decided", "conflict"
NOT_RETRIEVED, RETRIEVED = "not_retrieved", "retrieved"


@dataclass(frozen=True)
class Vote:
    """A reviewer's current vote (or a resolution) on a record at a stage."""

    reviewer: str
    decision: str
    reason: str | None
    note: str | None
    at: datetime
    method: str | None = None


@dataclass(frozen=True)
class RecordState:
    """The derived state of one record at one stage, as visible to the asking reviewer.

    ``votes`` are the current votes the asker may see; ``hidden_votes`` counts those blind mode hides;
    ``decision`` is the final include/exclude (None while pending or in conflict, or when hidden).
    """

    record_id: int
    stage: str
    status: str
    decision: str | None
    votes: tuple[Vote, ...] = ()
    hidden_votes: int = 0
    resolution: Vote | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per visible vote (and the resolution)."""
        rows = [
            {"record_id": self.record_id, "stage": self.stage, "kind": "vote", **asdict(v)}
            for v in self.votes
        ]
        if self.resolution is not None:
            rows.append(
                {
                    "record_id": self.record_id,
                    "stage": self.stage,
                    "kind": "resolution",
                    **asdict(self.resolution),
                }
            )
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        head = f"record {self.record_id} at {self.stage}: {self.status}"
        if self.decision:
            head += f" ({self.decision})"
        lines = [head]
        for v in self.votes:
            why = f" - {v.reason}" if v.reason else ""
            lines.append(f"  {v.reviewer}: {v.decision}{why}")
        if self.hidden_votes:
            lines.append(f"  {self.hidden_votes} vote(s) hidden (blind mode: decide first)")
        if self.resolution is not None:
            lines.append(
                f"  resolved by {self.resolution.reviewer} ({self.resolution.method}): "
                f"{self.resolution.decision}"
            )
        return "\n".join(lines)


@dataclass
class _Derived:
    votes: dict[str, Vote] = field(default_factory=dict)
    resolution: Vote | None = None


def _vote(e: ScreeningEvent) -> Vote:
    return Vote(e.reviewer, e.decision, e.reason, e.note, e.created_at, e.method)


def _derive(events: Iterable[ScreeningEvent]) -> dict[tuple[int, str], _Derived]:
    """Replay events: the latest vote per reviewer and the latest resolution, per (record, stage)."""
    out: dict[tuple[int, str], _Derived] = defaultdict(_Derived)
    for e in events:
        d = out[(e.record_id, e.stage)]
        if e.kind == "resolution":
            d.resolution = _vote(e)
        else:
            d.votes[e.reviewer] = _vote(e)
    return out


def _status(d: _Derived, required: int) -> tuple[str, str | None]:
    if d.resolution is not None:
        return DECIDED, d.resolution.decision
    if len(d.votes) < required:
        return PENDING, None
    decisions = {v.decision for v in d.votes.values()}
    if len(decisions) == 1 and MAYBE not in decisions:
        return DECIDED, decisions.pop()
    return CONFLICT, None


def _visible(protocol: Protocol, d: _Derived, reviewer: str | None) -> bool:
    if not protocol.screening.blind:
        return True
    if reviewer is None:
        return False
    return reviewer in d.votes or (d.resolution is not None and d.resolution.reviewer == reviewer)


def _state(protocol: Protocol, record_id: int, stage: str, d: _Derived, reviewer: str | None) -> RecordState:
    status, decision = _status(d, protocol.screening.reviewers_per_record)
    if _visible(protocol, d, reviewer):
        return RecordState(record_id, stage, status, decision, tuple(d.votes.values()), 0, d.resolution)
    own = tuple(v for name, v in d.votes.items() if name == reviewer)
    return RecordState(record_id, stage, status, None, own, len(d.votes) - len(own), None)


# --- which records are at which stage ----------------------------------------------------------------


def _final_decisions(protocol: Protocol, events: Sequence[ScreeningEvent], stage: str) -> dict[int, str]:
    required = protocol.screening.reviewers_per_record
    out = {}
    for (rid, _), d in _derive(e for e in events if e.stage == stage).items():
        status, decision = _status(d, required)
        if status == DECIDED and decision is not None:
            out[rid] = decision
    return out


def _retrieval(session: Session) -> dict[int, str]:
    latest: dict[int, str] = {}
    for e in repo.retrieval_events(session):
        latest[e.record_id] = e.status
    return latest


def _candidates(
    session: Session, protocol: Protocol, stage: str, events: Sequence[ScreeningEvent]
) -> list[int]:
    """Record ids to screen at ``stage``: every non-duplicate at title/abstract; at full text the
    records included at title/abstract whose report was not marked not retrieved."""
    ids = [r[0] for r in repo.screenable_records(session)]
    if stage == TITLE_ABSTRACT or TITLE_ABSTRACT not in protocol.screening.stages:
        return ids
    included = {r for r, dec in _final_decisions(protocol, events, TITLE_ABSTRACT).items() if dec == INCLUDE}
    missing = {r for r, s in _retrieval(session).items() if s == NOT_RETRIEVED}
    return [r for r in ids if r in included and r not in missing]


def _is_candidate(session: Session, protocol: Protocol, record_id: int, stage: str) -> bool:
    """:func:`_candidates` for one record, with queries on that record only (fast in bulk imports)."""
    if not repo.is_screenable(session, record_id):
        return False
    if stage == TITLE_ABSTRACT or TITLE_ABSTRACT not in protocol.screening.stages:
        return True
    ta = _final_decisions(
        protocol, repo.events(session, stage=TITLE_ABSTRACT, record_id=record_id), TITLE_ABSTRACT
    )
    retrieval = repo.retrieval_events(session, record_id)
    return ta.get(record_id) == INCLUDE and not (retrieval and retrieval[-1].status == NOT_RETRIEVED)


# --- voting ------------------------------------------------------------------------------------------


def _decide(
    session: Session,
    protocol: Protocol,
    record_id: int,
    reviewer: str,
    decision: str,
    stage: str,
    reason: str | None,
    note: str | None,
) -> None:
    reviewer = reviewer.strip()
    if not reviewer:
        raise InputError("a reviewer name is required", field="reviewer")
    check_stage(stage, protocol)
    decision = check_decision(decision)
    reason = check_reason(protocol, stage, decision, reason)
    if not _is_candidate(session, protocol, record_id, stage):
        where = (
            "not a screenable record"
            if stage == TITLE_ABSTRACT
            else "not included at title/abstract or not retrieved"
        )
        raise InputError(f"record {record_id} is {where} (stage {stage})", field="record")
    d = _derive(repo.events(session, stage=stage, record_id=record_id))[(record_id, stage)]
    if d.resolution is not None:
        raise InputError(f"record {record_id} was already resolved at {stage}", field="record")
    if reviewer not in d.votes and len(d.votes) >= protocol.screening.reviewers_per_record:
        raise InputError(
            f"record {record_id} already has its {len(d.votes)} vote(s) at {stage}; "
            "a further reviewer resolves conflicts with `resolve`",
            field="reviewer",
        )
    previous = d.votes[reviewer].decision if reviewer in d.votes else None
    repo.add_events(
        session,
        [
            {
                "record_id": record_id,
                "stage": stage,
                "reviewer": reviewer,
                "kind": "vote",
                "decision": decision,
                "reason": reason,
                "note": (note or None),
                "previous_decision": previous,
            }
        ],
    )


def decide(
    review: Review,
    record_id: int,
    reviewer: str,
    decision: str,
    stage: str = TITLE_ABSTRACT,
    reason: str | None = None,
    note: str | None = None,
) -> RecordState:
    """Record ``reviewer``'s vote (include / exclude / maybe) on a record; a changed vote is a new event
    that keeps the previous value. Returns the record's state as ``reviewer`` may see it."""
    with review.session() as s:
        _decide(s, review.protocol, record_id, reviewer, decision, stage, reason, note)
    return state(review, record_id, stage, reviewer)


def resolve(
    review: Review,
    record_id: int,
    reviewer: str,
    decision: str,
    stage: str = TITLE_ABSTRACT,
    reason: str | None = None,
    note: str | None = None,
    method: str = "third_reviewer",
) -> RecordState:
    """Resolve a conflict with a final include/exclude, by a third reviewer or by consensus."""
    check_stage(stage, review.protocol)
    decision = check_decision(decision, allow_maybe=False)
    reason = check_reason(review.protocol, stage, decision, reason)
    if method not in RESOLUTION_METHODS:
        raise InputError(f"method must be one of {', '.join(RESOLUTION_METHODS)}", field="method")
    with review.session() as s:
        d = _derive(repo.events(s, stage=stage, record_id=record_id))[(record_id, stage)]
        status, _ = _status(d, review.protocol.screening.reviewers_per_record)
        if status != CONFLICT:
            raise InputError(f"record {record_id} is {status} at {stage}, not in conflict", field="record")
        if method == "third_reviewer" and reviewer in d.votes:
            raise InputError(
                f"{reviewer} voted on record {record_id}: use method='consensus'", field="reviewer"
            )
        repo.add_events(
            s,
            [
                {
                    "record_id": record_id,
                    "stage": stage,
                    "reviewer": reviewer,
                    "kind": "resolution",
                    "decision": decision,
                    "reason": reason,
                    "note": note or None,
                    "method": method,
                    "previous_decision": None,
                }
            ],
        )
    return state(review, record_id, stage, reviewer)


def mark_retrieval(
    review: Review, record_id: int, reviewer: str, retrieved: bool, note: str | None = None
) -> None:
    """Record whether the full-text report of a record included at title/abstract was retrieved."""
    status = RETRIEVED if retrieved else NOT_RETRIEVED
    with review.session() as s:
        included = _final_decisions(review.protocol, repo.events(s, stage=TITLE_ABSTRACT), TITLE_ABSTRACT)
        if included.get(record_id) != INCLUDE:
            raise InputError(
                f"record {record_id} is not included at title/abstract: no report is sought", field="record"
            )
        repo.add_retrieval(s, record_id, status, reviewer, note, _retrieval(s).get(record_id))


# --- reading state (blind-aware) ---------------------------------------------------------------------


def state(
    review: Review, record_id: int, stage: str = TITLE_ABSTRACT, reviewer: str | None = None
) -> RecordState:
    """The state of one record at ``stage`` as ``reviewer`` may see it."""
    check_stage(stage, review.protocol)
    with review.session() as s:
        d = _derive(repo.events(s, stage=stage, record_id=record_id))[(record_id, stage)]
    return _state(review.protocol, record_id, stage, d, reviewer)


def states(review: Review, stage: str = TITLE_ABSTRACT, reviewer: str | None = None) -> list[RecordState]:
    """The state of every record at ``stage`` (by record id), as ``reviewer`` may see it."""
    check_stage(stage, review.protocol)
    with review.session() as s:
        events = repo.events(s)
        ids = _candidates(s, review.protocol, stage, events)
    derived = _derive(e for e in events if e.stage == stage)
    return [
        _state(review.protocol, rid, stage, derived.get((rid, stage), _Derived()), reviewer) for rid in ids
    ]


def conflicts(review: Review, stage: str = TITLE_ABSTRACT, reviewer: str | None = None) -> list[RecordState]:
    """Records in conflict at ``stage`` (votes shown only as blind mode allows)."""
    return [st for st in states(review, stage, reviewer) if st.status == CONFLICT]


def history(review: Review, record_id: int, reviewer: str | None = None) -> pd.DataFrame:
    """Every event on a record (both stages) in order, with the previous values; in blind mode only
    the stages at which ``reviewer`` has decided show other reviewers' events."""
    with review.session() as s:
        events = repo.events(s, record_id=record_id)
    derived = _derive(events)
    rows = [
        {
            "at": e.created_at,
            "stage": e.stage,
            "reviewer": e.reviewer,
            "kind": e.kind,
            "decision": e.decision,
            "previous_decision": e.previous_decision,
            "reason": e.reason,
            "note": e.note,
            "method": e.method,
        }
        for e in events
        if e.reviewer == reviewer or _visible(review.protocol, derived[(e.record_id, e.stage)], reviewer)
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "at",
            "stage",
            "reviewer",
            "kind",
            "decision",
            "previous_decision",
            "reason",
            "note",
            "method",
        ],
    )


@dataclass(frozen=True)
class Progress:
    """Counts of records per status at a stage, and this reviewer's own share."""

    stage: str
    total: int
    pending: int
    conflict: int
    included: int
    excluded: int

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row."""
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        return (
            f"{self.stage}: {self.total} records - {self.included} included, {self.excluded} excluded, "
            f"{self.conflict} in conflict, {self.pending} pending"
        )


def progress(review: Review, stage: str = TITLE_ABSTRACT) -> Progress:
    """Aggregate counts at ``stage`` (no individual decision is revealed)."""
    check_stage(stage, review.protocol)
    with review.session() as s:
        events = repo.events(s)
        ids = _candidates(s, review.protocol, stage, events)
    derived = _derive(e for e in events if e.stage == stage)
    required = review.protocol.screening.reviewers_per_record
    counts = {PENDING: 0, CONFLICT: 0, INCLUDE: 0, EXCLUDE: 0}
    for rid in ids:
        status, decision = _status(derived.get((rid, stage), _Derived()), required)
        counts[decision if status == DECIDED and decision else status] += 1
    return Progress(stage, len(ids), counts[PENDING], counts[CONFLICT], counts[INCLUDE], counts[EXCLUDE])


def final_decisions(review: Review, stage: str) -> dict[int, tuple[str, str | None]]:
    """record id -> (final decision, reason) of every decided record at ``stage`` — an aggregate for
    PRISMA counts and exports once screening is unblinded; never shown per reviewer."""
    required = review.protocol.screening.reviewers_per_record
    with review.session() as s:
        events = repo.events(s, stage=stage)
    out: dict[int, tuple[str, str | None]] = {}
    for (rid, _), d in _derive(events).items():
        status, decision = _status(d, required)
        if status == DECIDED and decision is not None:
            reasons = [d.resolution.reason] if d.resolution else [v.reason for v in d.votes.values()]
            out[rid] = (decision, next((r for r in reasons if r), None))
    return out


def retrieval_status(review: Review) -> dict[int, str]:
    """record id -> latest full-text retrieval status ('retrieved' / 'not_retrieved')."""
    with review.session() as s:
        return _retrieval(s)


def vote_table(review: Review, stage: str) -> dict[int, list[str]]:
    """record id -> current votes in the order first cast (for agreement statistics only)."""
    with review.session() as s:
        events = repo.events(s, stage=stage)
    return {rid: [v.decision for v in d.votes.values()] for (rid, _), d in _derive(events).items() if d.votes}


def import_decisions(review: Review, path: str | Path) -> int:
    """Bulk votes from a CSV or XLSX file with columns ``record_id, reviewer, decision`` and optional
    ``stage, reason, note``: one transaction (any bad row leaves the store unchanged; the error names the
    row and column). Returns the number of votes recorded."""
    p = Path(path)
    try:
        df = (
            pd.read_excel(p, dtype=str)
            if p.suffix.lower() in (".xlsx", ".xlsm")
            else pd.read_csv(p, dtype=str)
        )
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read decisions: {exc}", file=p) from None
    df = df.fillna("")
    df.columns = [str(c).strip().lower() for c in df.columns]
    for col in ("record_id", "reviewer", "decision"):
        if col not in df.columns:
            raise InputError(f"column {col!r} is missing (have: {', '.join(df.columns)})", file=p, field=col)
    with review.session() as s:
        for i, row in enumerate(df.to_dict("records")):
            line = i + 2  # header is line 1
            try:
                rid = int(row["record_id"])
            except ValueError:
                raise InputError(
                    f"record_id must be a number, not {row['record_id']!r}",
                    file=p,
                    line=line,
                    field="record_id",
                ) from None
            try:
                _decide(
                    s,
                    review.protocol,
                    rid,
                    row["reviewer"],
                    row["decision"],
                    row.get("stage") or TITLE_ABSTRACT,
                    row.get("reason"),
                    row.get("note"),
                )
            except InputError as exc:
                raise InputError(exc.message, file=p, line=line, field=exc.field) from None
    return len(df)
