"""The screening workflow on top of the store: votes, dual review, conflicts, blind mode, full-text retrieval.

Every call appends events (``store.screening_repo``); the state of a record at a stage is derived:

* ``pending`` — fewer votes than ``reviewers_per_record`` (protocol);
* ``decided`` — the required reviewers agree on include or exclude, or a conflict was resolved;
* ``conflict`` — they disagree, or someone said maybe, or (at full text) they exclude for different
  reasons: a third reviewer or the reviewers in consensus resolve it with :func:`resolve` (an event too).

Votes come from the review's roster (:mod:`metareview.screening.roster`). A reviewer may change or
:func:`retract` their vote until the record is resolved; a resolution is final except through an explicit
:func:`correct_resolution` (an appended event). Each rule that spans several events (no more votes than
``reviewers_per_record``, one resolution, no vote change after a resolution) is checked and written in
one transaction that holds the record's lock (``store.screening_repo.lock_records``), so concurrent
callers are serialised and the loser gets an :class:`~metareview.errors.InputError` that says why.

A record enters full text when it is included at title/abstract (its report is then *sought*); a report
marked not retrieved (:func:`mark_retrieval`) is not assessed.

**Blind mode** (``[screening] blind = true``): no function here returns another reviewer's vote, or the
decision it implies, on a record before the asking ``reviewer`` has voted on (or resolved) that record at
that stage while the record is pending; without a ``reviewer`` nothing but the status is shown. Once a
record is in conflict (every required vote is in), the arbiter (a member who did not vote on it, such as
the owner) sees both votes with their reasons, as Covidence shows its resolver; the two voters see each
other's votes and can record a consensus. Aggregates (agreement, PRISMA counts) are computed from all events.

Example::

    from metareview.screening import decisions as sd
    sd.decide(review, record_id=1, reviewer="ana", decision="include")
    sd.decide(review, record_id=1, reviewer="ben", decision="exclude")
    sd.conflicts(review, reviewer="ana")      # [RecordState(record 1, conflict, votes ana/ben)]
    sd.resolve(review, 1, reviewer="cleo", decision="include")
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from metareview.errors import InputError
from metareview.protocol import Protocol
from metareview.review import Review
from metareview.screening.roster import canonical_reviewer, check_text
from metareview.screening.stages import (
    EXCLUDE,
    FULL_TEXT,
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

if TYPE_CHECKING:
    import pandas as pd

PENDING, DECIDED, CONFLICT = "pending", "decided", "conflict"
VOTE, RESOLUTION, RETRACTION, CORRECTION = "vote", "resolution", "retraction", "correction"
RETRACTED = "retracted"  # the decision column of a retraction event
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
    title: str | None = None
    abstract: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per visible vote (and the resolution)."""
        import pandas as pd

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
        if self.title is not None:
            lines.append(f"  {self.title}")
        if self.abstract:
            lines.append(f"  {self.abstract}")
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
    """Replay events: the latest vote per reviewer (a retraction removes it) and the latest resolution
    (or its correction), per (record, stage)."""
    out: dict[tuple[int, str], _Derived] = defaultdict(_Derived)
    for e in events:
        d = out[(e.record_id, e.stage)]
        if e.kind in (RESOLUTION, CORRECTION):
            d.resolution = _vote(e)
        elif e.kind == RETRACTION:
            d.votes.pop(e.reviewer, None)
        else:
            d.votes[e.reviewer] = _vote(e)
    return out


def _status(d: _Derived, required: int, stage: str = TITLE_ABSTRACT) -> tuple[str, str | None]:
    """(status, final decision). At full text two exclusions for different reasons are a conflict
    (as Covidence treats them): the reason is part of the decision PRISMA reports."""
    if d.resolution is not None:
        return DECIDED, d.resolution.decision
    if len(d.votes) < required:
        return PENDING, None
    decisions = {v.decision for v in d.votes.values()}
    if len(decisions) == 1 and MAYBE not in decisions:
        decision = decisions.pop()
        if stage == FULL_TEXT and decision == EXCLUDE and len({v.reason for v in d.votes.values()}) > 1:
            return CONFLICT, None
        return DECIDED, decision
    return CONFLICT, None


def _visible(protocol: Protocol, d: _Derived, reviewer: str | None, stage: str = TITLE_ABSTRACT) -> bool:
    """Whether ``reviewer`` may see the votes on this record at ``stage``.

    Blind mode hides them until the asker has voted on (or resolved) the record; a record in conflict
    (every required vote is in and they disagree) shows them to any named reviewer, so that the arbiter
    sees both votes with reasons, as Covidence shows its resolver. Nothing is shown without a reviewer."""
    if not protocol.screening.blind:
        return True
    if reviewer is None:
        return False
    if reviewer in d.votes or (d.resolution is not None and d.resolution.reviewer == reviewer):
        return True
    return _status(d, protocol.screening.reviewers_per_record, stage)[0] == CONFLICT


def _state(protocol: Protocol, record_id: int, stage: str, d: _Derived, reviewer: str | None) -> RecordState:
    status, decision = _status(d, protocol.screening.reviewers_per_record, stage)
    if _visible(protocol, d, reviewer, stage):
        return RecordState(record_id, stage, status, decision, tuple(d.votes.values()), 0, d.resolution)
    own = tuple(v for name, v in d.votes.items() if name == reviewer)
    return RecordState(record_id, stage, status, None, own, len(d.votes) - len(own), None)


# --- which records are at which stage ----------------------------------------------------------------


def _final_decisions(protocol: Protocol, events: Sequence[ScreeningEvent], stage: str) -> dict[int, str]:
    required = protocol.screening.reviewers_per_record
    out = {}
    for (rid, _), d in _derive(e for e in events if e.stage == stage).items():
        status, decision = _status(d, required, stage)
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
        protocol, repo.record_events(session, TITLE_ABSTRACT, record_id), TITLE_ABSTRACT
    )
    retrieval = repo.retrieval_events(session, record_id)
    return ta.get(record_id) == INCLUDE and not (retrieval and retrieval[-1].status == NOT_RETRIEVED)


# --- voting ------------------------------------------------------------------------------------------


def _resolved_error(record_id: int, stage: str, res: Vote, what: str) -> InputError:
    return InputError(
        f"record {record_id} was already resolved at {stage} by {res.reviewer} ({res.decision}, "
        f"{res.method}): {what}; a resolution changes only through an explicit correction "
        "(correct_resolution / `screen resolve --correct`)",
        field="record",
    )


def _decide(
    session: Session,
    protocol: Protocol,
    record_id: int,
    reviewer: str,
    decision: str,
    stage: str,
    reason: str | None,
    note: str | None,
    lock: bool = True,
) -> _Derived:
    """Check the rules and append the vote; returns the record's derived state with the vote (its
    time is this call's, not the stored one: for the status only)."""
    reviewer = canonical_reviewer(protocol, reviewer)
    check_stage(stage, protocol)
    decision = check_decision(decision)
    reason = check_reason(protocol, stage, decision, check_text(reason, "reason"))
    note = check_text(note, "note")
    if lock:
        repo.lock_records(session, [record_id])
    if not _is_candidate(session, protocol, record_id, stage):
        where = (
            "not a screenable record"
            if stage == TITLE_ABSTRACT
            else "not included at title/abstract or not retrieved"
        )
        raise InputError(f"record {record_id} is {where} (stage {stage})", field="record")
    d = _derive(repo.record_events(session, stage, record_id))[(record_id, stage)]
    if d.resolution is not None:
        raise _resolved_error(record_id, stage, d.resolution, "votes can no longer change")
    required = protocol.screening.reviewers_per_record
    if reviewer not in d.votes and len(d.votes) >= required:
        raise InputError(
            f"record {record_id} already has its {len(d.votes)} of {required} vote(s) at {stage}; "
            f"{reviewer} cannot vote on it (a further reviewer resolves conflicts with `resolve`)",
            field="reviewer",
        )
    previous = d.votes[reviewer].decision if reviewer in d.votes else None
    d.votes[reviewer] = Vote(reviewer, decision, reason, note, datetime.now(UTC))
    repo.add_events(
        session,
        [
            {
                "record_id": record_id,
                "stage": stage,
                "reviewer": reviewer,
                "kind": VOTE,
                "decision": decision,
                "reason": reason,
                "note": note,
                "previous_decision": previous,
            }
        ],
    )
    return d


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
    that keeps the previous value. Returns the record's state as ``reviewer`` may see it.

    :class:`InputError` when the record already has ``reviewers_per_record`` votes from others, when it
    was resolved, or for a name off the roster; concurrent calls on one record are serialised."""
    name = canonical_reviewer(review.protocol, reviewer)
    with review.session() as s:
        _decide(s, review.protocol, record_id, name, decision, stage, reason, note)
    return state(review, record_id, stage, name)


def retract(
    review: Review, record_id: int, reviewer: str, stage: str = TITLE_ABSTRACT, note: str | None = None
) -> RecordState:
    """Withdraw ``reviewer``'s own current vote on a record (an appended ``retraction`` event, shown in
    the history); the record is pending for that reviewer again. Refused once the record is resolved,
    and at title/abstract once it has full-text decisions."""
    protocol = review.protocol
    name = canonical_reviewer(protocol, reviewer)
    check_stage(stage, protocol)
    note = check_text(note, "note")
    with review.session() as s:
        repo.lock_records(s, [record_id])
        d = _derive(repo.record_events(s, stage, record_id))[(record_id, stage)]
        if d.resolution is not None:
            raise _resolved_error(record_id, stage, d.resolution, "votes can no longer be retracted")
        if name not in d.votes:
            raise InputError(
                f"{name} has no vote on record {record_id} at {stage} to retract", field="record"
            )
        if stage == TITLE_ABSTRACT and FULL_TEXT in protocol.screening.stages and repo.events(
            s, stage=FULL_TEXT, record_id=record_id
        ):
            raise InputError(
                f"record {record_id} has full-text decisions: its title/abstract vote can no longer be "
                "retracted",
                field="record",
            )
        repo.add_events(
            s,
            [
                {
                    "record_id": record_id,
                    "stage": stage,
                    "reviewer": name,
                    "kind": RETRACTION,
                    "decision": RETRACTED,
                    "note": note,
                    "previous_decision": d.votes[name].decision,
                }
            ],
        )
    return state(review, record_id, stage, name)


def _resolve(
    session: Session,
    protocol: Protocol,
    record_id: int,
    reviewer: str,
    decision: str,
    stage: str,
    reason: str | None,
    note: str | None,
    method: str,
    correct: bool = False,
    lock: bool = True,
) -> None:
    reviewer = canonical_reviewer(protocol, reviewer)
    check_stage(stage, protocol)
    decision = check_decision(decision, allow_maybe=False)
    reason = check_reason(protocol, stage, decision, check_text(reason, "reason"))
    note = check_text(note, "note")
    if method not in RESOLUTION_METHODS:
        raise InputError(f"method must be one of {', '.join(RESOLUTION_METHODS)}", field="method")
    if lock:
        repo.lock_records(session, [record_id])
    d = _derive(repo.record_events(session, stage, record_id))[(record_id, stage)]
    previous: str | None = None
    if correct:
        if d.resolution is None:
            raise InputError(
                f"record {record_id} has no resolution at {stage} to correct (resolve it first)",
                field="record",
            )
        if (d.resolution.decision, d.resolution.reason) == (decision, reason):
            raise InputError(
                f"record {record_id} is already resolved as {decision} at {stage}: nothing to correct",
                field="decision",
            )
        previous = d.resolution.decision
    else:
        if d.resolution is not None:
            raise _resolved_error(record_id, stage, d.resolution, "only one resolution stands")
        status, _ = _status(d, protocol.screening.reviewers_per_record, stage)
        if status != CONFLICT:
            raise InputError(f"record {record_id} is {status} at {stage}, not in conflict", field="record")
    if method == "third_reviewer" and reviewer in d.votes:
        raise InputError(f"{reviewer} voted on record {record_id}: use method='consensus'", field="reviewer")
    if method == "consensus" and reviewer not in d.votes:
        raise InputError(
            f"{reviewer} did not vote on record {record_id}: a consensus is recorded by one of its voters "
            "(a further reviewer uses method='third_reviewer')",
            field="reviewer",
        )
    repo.add_events(
        session,
        [
            {
                "record_id": record_id,
                "stage": stage,
                "reviewer": reviewer,
                "kind": CORRECTION if correct else RESOLUTION,
                "decision": decision,
                "reason": reason,
                "note": note,
                "method": method,
                "previous_decision": previous,
            }
        ],
    )


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
    """Resolve a conflict with a final include/exclude, by a third reviewer (who did not vote) or by
    consensus (recorded by one of the voters). Only one resolution stands: a second one gets an
    :class:`InputError` naming who resolved it (use :func:`correct_resolution` to change it)."""
    name = canonical_reviewer(review.protocol, reviewer)
    with review.session() as s:
        _resolve(s, review.protocol, record_id, name, decision, stage, reason, note, method)
    return state(review, record_id, stage, name)


def correct_resolution(
    review: Review,
    record_id: int,
    reviewer: str,
    decision: str,
    stage: str = TITLE_ABSTRACT,
    reason: str | None = None,
    note: str | None = None,
    method: str = "third_reviewer",
) -> RecordState:
    """Replace a record's resolution with another decision or reason: an appended ``correction`` event
    that keeps the previous decision (shown in the history). The same rules as :func:`resolve` apply to
    who may make it."""
    name = canonical_reviewer(review.protocol, reviewer)
    with review.session() as s:
        _resolve(s, review.protocol, record_id, name, decision, stage, reason, note, method, correct=True)
    return state(review, record_id, stage, name)


def mark_retrieval(
    review: Review, record_id: int, reviewer: str, retrieved: bool, note: str | None = None
) -> None:
    """Record whether the full-text report of a record included at title/abstract was retrieved."""
    name = canonical_reviewer(review.protocol, reviewer)
    note = check_text(note, "note")
    status = RETRIEVED if retrieved else NOT_RETRIEVED
    with review.session() as s:
        repo.lock_records(s, [record_id])
        included = _final_decisions(
            review.protocol, repo.record_events(s, TITLE_ABSTRACT, record_id), TITLE_ABSTRACT
        )
        if included.get(record_id) != INCLUDE:
            raise InputError(
                f"record {record_id} is not included at title/abstract: no report is sought", field="record"
            )
        before = repo.retrieval_events(s, record_id)
        repo.add_retrieval(s, record_id, status, name, note, before[-1].status if before else None)


# --- reading state (blind-aware) ---------------------------------------------------------------------


def _asker(protocol: Protocol, reviewer: str | None) -> str | None:
    return None if reviewer is None else canonical_reviewer(protocol, reviewer)


def state(
    review: Review, record_id: int, stage: str = TITLE_ABSTRACT, reviewer: str | None = None
) -> RecordState:
    """The state of one record at ``stage`` as ``reviewer`` may see it."""
    check_stage(stage, review.protocol)
    asker = _asker(review.protocol, reviewer)
    with review.session() as s:
        d = _derive(repo.record_events(s, stage, record_id))[(record_id, stage)]
    return _state(review.protocol, record_id, stage, d, asker)


def states(review: Review, stage: str = TITLE_ABSTRACT, reviewer: str | None = None) -> list[RecordState]:
    """The state of every record at ``stage`` (by record id), as ``reviewer`` may see it."""
    check_stage(stage, review.protocol)
    asker = _asker(review.protocol, reviewer)
    with review.session() as s:
        events = repo.events(s)
        ids = _candidates(s, review.protocol, stage, events)
    derived = _derive(e for e in events if e.stage == stage)
    return [_state(review.protocol, rid, stage, derived.get((rid, stage), _Derived()), asker) for rid in ids]


def conflicts(review: Review, stage: str = TITLE_ABSTRACT, reviewer: str | None = None) -> list[RecordState]:
    """Records in conflict at ``stage`` with their title and abstract; the votes (with reasons) are shown
    to any named reviewer (in blind mode too: the voters may record a consensus, and the arbiter sees both
    votes with reasons before resolving)."""
    from metareview.screening import live

    check_stage(stage, review.protocol)
    asker = _asker(review.protocol, reviewer)
    with live.view(review) as now:
        found = [
            _state(review.protocol, rid, stage, now.derived_of(stage, rid), asker)
            for rid, c in sorted(now.contrib.get(stage, {}).items())
            if c is not None and c[0] == CONFLICT
        ]
    with review.session() as s:
        texts = repo.record_texts(s, [st.record_id for st in found])
    return [
        replace(st, title=texts.get(st.record_id, ("", ""))[0], abstract=texts.get(st.record_id, ("", ""))[1])
        for st in found
    ]


LOG_COLUMNS = [
    "at",
    "record_id",
    "stage",
    "reviewer",
    "kind",
    "decision",
    "previous_decision",
    "reason",
    "note",
    "method",
]


def _finished_stages(protocol: Protocol, session: Session, events: Sequence[ScreeningEvent]) -> set[str]:
    """Stages at which every candidate record is decided (nothing left to keep blind)."""
    required = protocol.screening.reviewers_per_record
    done: set[str] = set()
    for stage in protocol.screening.stages:
        ids = _candidates(session, protocol, stage, events)
        derived = _derive(e for e in events if e.stage == stage)
        if ids and all(
            _status(derived.get((rid, stage), _Derived()), required, stage)[0] == DECIDED for rid in ids
        ):
            done.add(stage)
    return done


def _log_rows(
    protocol: Protocol, events: Sequence[ScreeningEvent], asker: str | None, open_stages: set[str]
) -> list[dict[str, Any]]:
    derived = _derive(events)
    return [
        {
            "at": e.created_at,
            "record_id": e.record_id,
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
        if e.stage not in open_stages
        or e.reviewer == asker
        or _visible(protocol, derived[(e.record_id, e.stage)], asker, e.stage)
    ]


def history(review: Review, record_id: int, reviewer: str | None = None) -> pd.DataFrame:
    """Every event on a record (both stages) in order — votes, retractions, resolutions and their
    corrections — with the previous values; in blind mode only the stages at which ``reviewer`` has
    decided show other reviewers' events."""
    import pandas as pd

    asker = _asker(review.protocol, reviewer)
    with review.session() as s:
        events = repo.events(s, record_id=record_id)
    rows = _log_rows(review.protocol, events, asker, {str(st) for st in review.protocol.screening.stages})
    return pd.DataFrame(rows, columns=[c for c in LOG_COLUMNS if c != "record_id"])


def decision_log(review: Review, reviewer: str | None = None) -> pd.DataFrame:
    """The full decision log (who, when, what, why): every screening event of the review in order.

    Blind mode: events of a stage still being screened are shown only where ``reviewer`` may see them
    (their own, and records they have decided); once every record of a stage is decided, that stage's
    events are shown to anyone."""
    import pandas as pd

    asker = _asker(review.protocol, reviewer)
    with review.session() as s:
        events = repo.events(s)
        done: set[str] = (
            _finished_stages(review.protocol, s, events)
            if review.protocol.screening.blind
            else set(review.protocol.screening.stages)
        )
    open_stages = {str(st) for st in review.protocol.screening.stages} - done
    return pd.DataFrame(_log_rows(review.protocol, events, asker, open_stages), columns=LOG_COLUMNS)


def my_decisions(
    review: Review, reviewer: str, stage: str = TITLE_ABSTRACT, search: str | None = None
) -> pd.DataFrame:
    """``reviewer``'s own current votes at ``stage`` (newest first) with the record's title, status as
    they may see it, and the vote's reason and note; ``search`` keeps the rows whose record id, title,
    abstract, reason or note contain it (case-insensitive). Only the asker's own votes are listed."""
    import pandas as pd

    from metareview.screening import live

    check_stage(stage, review.protocol)
    asker = canonical_reviewer(review.protocol, reviewer)
    with live.view(review) as now:
        mine = {rid: d for rid, d in now.records(stage) if asker in d.votes}
    with review.session() as s:
        texts = repo.record_texts(s, list(mine))
    needle = (search or "").strip().casefold()
    rows = []
    for rid, d in mine.items():
        v = d.votes[asker]
        title, abstract = texts.get(rid, ("", ""))
        hay = " ".join([str(rid), title, abstract, v.reason or "", v.note or ""]).casefold()
        if needle and needle not in hay:
            continue
        st = _state(review.protocol, rid, stage, d, asker)
        rows.append(
            {
                "record_id": rid,
                "title": title,
                "decision": v.decision,
                "reason": v.reason,
                "note": v.note,
                "at": v.at,
                "status": st.status,
                "final_decision": st.decision,
            }
        )
    rows.sort(key=lambda r: (r["at"], r["record_id"]), reverse=True)
    return pd.DataFrame(
        rows, columns=["record_id", "title", "decision", "reason", "note", "at", "status", "final_decision"]
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
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        return (
            f"{self.stage}: {self.total} records - {self.included} included, {self.excluded} excluded, "
            f"{self.conflict} in conflict, {self.pending} pending"
        )


def progress(review: Review, stage: str = TITLE_ABSTRACT) -> Progress:
    """Aggregate counts at ``stage`` (no individual decision is revealed), from the review's screening
    state kept current in this process (:mod:`metareview.screening.live`: only new events are read)."""
    from metareview.screening import live

    check_stage(stage, review.protocol)
    with live.view(review) as now:
        c = now.counts(stage)
    return Progress(stage, c["total"], c[PENDING], c[CONFLICT], c[INCLUDE], c[EXCLUDE])


def final_decisions(review: Review, stage: str) -> dict[int, tuple[str, str | None]]:
    """record id -> (final decision, reason) of every decided record at ``stage`` — an aggregate for
    PRISMA counts and exports once screening is unblinded; never shown per reviewer. In the order of the
    records' first events at the stage."""
    from metareview.screening import live

    required = review.protocol.screening.reviewers_per_record
    out: dict[int, tuple[str, str | None]] = {}
    with live.view(review) as now:
        for rid, d in now.records(stage):
            status, decision = _status(d, required, stage)
            if status == DECIDED and decision is not None:
                reasons = [d.resolution.reason] if d.resolution else [v.reason for v in d.votes.values()]
                out[rid] = (decision, next((r for r in reasons if r), None))
    return out


def retrieval_status(review: Review) -> dict[int, str]:
    """record id -> latest full-text retrieval status ('retrieved' / 'not_retrieved')."""
    from metareview.screening import live

    with live.view(review) as now:
        return dict(now.retrieval)


def _votes_by_rater(review: Review, stage: str) -> dict[int, dict[str, str]]:
    """record id -> {reviewer: current decision} (all votes: for aggregate statistics only)."""
    from metareview.screening import live

    with live.view(review) as now:
        return {
            rid: {name: v.decision for name, v in d.votes.items()} for rid, d in now.records(stage) if d.votes
        }


def vote_table(review: Review, stage: str, reviewer: str | None = None) -> dict[int, list[str]]:
    """record id -> current votes in the order first cast, of the records ``reviewer`` may see.

    Blind mode: only records the asking ``reviewer`` has voted on or resolved (none without a
    ``reviewer``); agreement statistics use all votes internally (:func:`metareview.screening.queue.
    review_agreement`), never this table."""
    from metareview.screening import live

    check_stage(stage, review.protocol)
    asker = _asker(review.protocol, reviewer)
    with live.view(review) as now:
        return {
            rid: [v.decision for v in d.votes.values()]
            for rid, d in now.records(stage)
            if d.votes and _visible(review.protocol, d, asker, stage)
        }


def _read_rows(path: str | Path, required: Sequence[str]) -> tuple[Path, list[dict[str, str]]]:
    """Rows of a CSV or XLSX file as lower-cased column -> text; the header must name ``required``."""
    import pandas as pd

    p = Path(path)
    try:
        df = (
            pd.read_excel(p, dtype=str)
            if p.suffix.lower() in (".xlsx", ".xlsm")
            else pd.read_csv(p, dtype=str, keep_default_na=False)
        )
    except (OSError, ValueError, IndexError, KeyError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the file: {exc}", file=p) from None
    df = df.fillna("")
    df.columns = [str(c).strip().lower() for c in df.columns]
    for col in required:
        if col not in df.columns:
            raise InputError(f"column {col!r} is missing (have: {', '.join(df.columns)})", file=p, field=col)
    return p, [{str(k): str(v) for k, v in row.items()} for row in df.to_dict("records")]


def _record_id(p: Path, line: int, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise InputError(
            f"record_id must be a number, not {value!r}", file=p, line=line, field="record_id"
        ) from None


_YES = {"1", "true", "yes", "y", "x"}


def _apply_rows(
    review: Review, path: str | Path, apply: Callable[[Session, int, dict[str, str]], None]
) -> int:
    """The locked row loop of the bulk imports: read the file (``record_id, reviewer, decision`` required),
    lock every named record, apply each row in one transaction; an error names file, row and column."""
    p, rows = _read_rows(path, ("record_id", "reviewer", "decision"))
    with review.session() as s:
        ids = [_record_id(p, i + 2, row["record_id"]) for i, row in enumerate(rows)]
        repo.lock_records(s, ids)
        for i, (rid, row) in enumerate(zip(ids, rows, strict=True)):
            try:
                apply(s, rid, row)
            except InputError as exc:
                raise InputError(exc.message, file=p, line=i + 2, field=exc.field) from None
    return len(rows)


def import_decisions(review: Review, path: str | Path) -> int:
    """Bulk votes from a CSV or XLSX file with columns ``record_id, reviewer, decision`` and optional
    ``stage, reason, note``: one transaction (any bad row leaves the store unchanged; the error names the
    file, row and column). Returns the number of votes recorded."""

    def vote(s: Session, rid: int, row: dict[str, str]) -> None:
        _decide(s, review.protocol, rid, row["reviewer"], row["decision"], row.get("stage") or TITLE_ABSTRACT,
                row.get("reason"), row.get("note"), lock=False)

    return _apply_rows(review, path, vote)


def import_resolutions(review: Review, path: str | Path) -> int:
    """Bulk resolutions from a CSV or XLSX file with columns ``record_id, reviewer, decision`` and
    optional ``stage, reason, note, method`` (third_reviewer / consensus) and ``correction`` (yes: the
    row corrects an existing resolution). One transaction: any bad row leaves the store unchanged, and
    the error names the file, row (the header is row 1) and column. Returns the number of rows applied."""

    def resolve(s: Session, rid: int, row: dict[str, str]) -> None:
        _resolve(s, review.protocol, rid, row["reviewer"], row["decision"],
                 row.get("stage") or TITLE_ABSTRACT, row.get("reason"), row.get("note"),
                 (row.get("method") or "third_reviewer").strip(),
                 correct=(row.get("correction") or "").strip().lower() in _YES, lock=False)

    return _apply_rows(review, path, resolve)


def _neutralise(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe (OWASP CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_decision_log(review: Review, path: str | Path, reviewer: str | None = None) -> int:
    """Write :func:`decision_log` (as ``reviewer`` may see it) to a ``.csv`` or ``.xlsx`` file; text that
    starts like a formula is neutralised. Returns the number of events written."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError("the decision log is written as .csv or .xlsx", file=p)
    frame = decision_log(review, reviewer)
    frame["at"] = frame["at"].astype(str)
    frame = frame.apply(lambda col: col.map(_neutralise))
    if suffix == ".xlsx":
        frame.to_excel(p, index=False)
    else:
        frame.to_csv(p, index=False)
    return len(frame)
