"""The screening state of a review, kept current in this process by reading only the new events.

Every vote, retraction, resolution and retrieval is an appended event, and a record's state is derived
from its events (:mod:`metareview.screening.decisions`). Replaying the whole log on every request costs
time in proportion to the review. This module keeps, per process and review, the derived state of every
record (with the same rules: ``decisions._derive`` and ``decisions._status``) and the counts that the
queue, the progress bars and the dashboard need, and brings them up to date by reading only the events
appended since it last looked. A call then costs time in proportion to what happened since, not to the
size of the review.

Freshness: every call first reads the events committed since the previous call, so what it returns is
as current as a read of the whole log at that moment. Two things can make that read miss an event, and
each is handled:

* PostgreSQL takes event ids from a sequence, and transactions may commit out of id order: an id
  skipped by a read (its transaction still open, or rolled back) is asked for again on every later read
  for ``GAP_TTL_S`` seconds; and every ``VERIFY_EVERY_S`` seconds the number of events up to the newest
  id seen is compared with the number applied, so that an event committed later still is found (the
  state is then rebuilt from the log). SQLite has one writer at a time: ids arrive in order.
* Imports and deduplication change the set of screenable records: a fingerprint of it
  (``store.queue_repo.corpus_token``) is read on every call, and a change rebuilds the state.

A record's events are always written under its lock (``store.screening_repo.lock_records``), so they
commit in id order per record, and applying the new events record by record in id order gives the state
that a replay of the whole log gives. Tests compare the two on random event sequences.

Example::

    from metareview.screening import live
    with live.view(review) as state:
        state.progress("title_abstract")              # Progress(total, pending, conflict, ...)
        state.remaining("title_abstract", "ana")      # records left for ana
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from metareview.review import Review
from metareview.screening.decisions import (
    CONFLICT,
    CORRECTION,
    DECIDED,
    NOT_RETRIEVED,
    PENDING,
    RESOLUTION,
    RETRACTION,
    _Derived,
    _status,
    _vote,
)
from metareview.screening.stages import FULL_TEXT, INCLUDE, TITLE_ABSTRACT
from metareview.store import queue_repo, screening_repo

GAP_TTL_S = 5.0
"""How long an event id skipped by a read (PostgreSQL: a transaction still open) is looked for again;
after that only the periodic check (``VERIFY_EVERY_S``) finds it, and the state is rebuilt."""
BUILD_GAP_WINDOW = 500
"""On a rebuild, skipped ids this close to the newest are looked for (older ones were rolled back)."""
MAX_GAPS = 2000
"""At most this many skipped ids are looked for; beyond that the periodic check finds what was missed."""
VERIFY_EVERY_S = 10.0
"""How often the number of events up to the newest id seen is compared with the number applied."""


_Contribution = tuple[str, frozenset[str]] | None
"""A record's part in a stage's counts: None when it is not a candidate at the stage, else its status
key (pending, conflict, include or exclude) and, while pending, the reviewers with a current vote."""
_EMPTY: frozenset[str] = frozenset()
_GENERATIONS = itertools.count(1)


class _Poll:
    """Which event ids of one table have been read: all up to ``mark`` but the ``gaps`` (ids skipped by
    a read, asked for again until they arrive or ``GAP_TTL_S`` passes) and ids given up on."""

    def __init__(self) -> None:
        self.mark = 0
        self.gaps: dict[int, float] = {}  # skipped id -> when first skipped
        self.applied = 0  # events applied (all have ids <= mark)

    def unseen(self, rows: Sequence[Any]) -> list[Any]:
        """Those of ``rows`` (read by one request) that are not applied yet (another request may have
        read and applied some of them meanwhile)."""
        return [r for r in rows if r[0] > self.mark or r[0] in self.gaps]

    def take(self, rows: Sequence[Any], window: int | None = None) -> None:
        """Note the ids of ``rows`` (one read); ids skipped below the newest become gaps (on a first
        read, only the ``window`` ids below the newest: older holes are rolled-back transactions)."""
        now = time.monotonic()
        top = self.mark
        seen = set()
        for r in rows:
            seen.add(r[0])
            self.gaps.pop(r[0], None)
            top = max(top, r[0])
        low = self.mark + 1 if window is None else max(self.mark + 1, top - window)
        for i in range(low, top):
            if i not in seen:
                self.gaps[i] = now
        self.mark = top
        self.applied += len(rows)
        if self.gaps:
            for i in [i for i, t in self.gaps.items() if now - t > GAP_TTL_S]:
                del self.gaps[i]
            if len(self.gaps) > MAX_GAPS:
                for i in sorted(self.gaps)[: len(self.gaps) - MAX_GAPS]:
                    del self.gaps[i]


class LiveState:
    """The derived screening state of one review (one protocol's rules) in this process."""

    def __init__(self, required: int, stages: Sequence[str]) -> None:
        self.lock = threading.RLock()
        self.required = required
        self.stages = tuple(stages)
        self.token: tuple[int, ...] | None = None
        self.stale = True
        # (stage, record) -> reviewer -> until when the record is held for them (served, not voted yet)
        self.holds: dict[tuple[str, int], dict[str, float]] = {}
        self._reset()

    def _reset(self) -> None:
        self.generation = next(_GENERATIONS)
        self.screenable: set[int] = set()
        self.screenable_sorted: list[int] = []
        self.derived: dict[str, dict[int, Any]] = {}  # stage -> record -> decisions._Derived
        self.first: dict[str, dict[int, int]] = {}  # stage -> record -> id of its first event
        self.in_order: dict[str, bool] = {}  # derived[stage] is in first-event order
        self.last_first: dict[str, int] = {}  # stage -> largest first-event id so far
        self.last_event: dict[int, int] = {}  # record -> id of its latest event (any stage)
        self.retrieval: dict[int, str] = {}
        self.last_retrieval: dict[int, int] = {}
        self.contrib: dict[str, dict[int, _Contribution]] = {st: {} for st in self.stages}
        self.n_cand: Counter[str] = Counter()
        self.by_status: dict[str, Counter[str]] = {st: Counter() for st in self.stages}
        self.pending_voted: dict[str, Counter[str]] = {st: Counter() for st in self.stages}
        self.voted: dict[str, Counter[str]] = {}  # stage -> reviewer -> records with a current vote
        self.events_at: Counter[str] = Counter()
        self.events_by: Counter[tuple[str, str]] = Counter()
        self.reopened = 0  # changes whenever a record may have become open for someone again
        self.changes = 0  # changes whenever anything changed
        self.events = _Poll()
        self.retrievals = _Poll()
        self.verified_at = time.monotonic()

    # --- reading the store -------------------------------------------------------------------------

    def refresh(self, review: Review) -> None:
        """Apply the events committed since the last call (rebuild when the corpus changed).

        The store is read without holding the state's lock (other requests of the process go on using
        the state meanwhile); what was read is then applied under the lock, skipping any event that
        another request applied in between."""
        with self.lock:
            stale, known = self.stale, self.token
            ev_mark, ev_gaps = self.events.mark, list(self.events.gaps)
            rt_mark, rt_gaps = self.retrievals.mark, list(self.retrievals.gaps)
        events: list[Any] = []
        retrievals: list[Any] = []
        with screening_repo.reading(review.engine) as s:  # independent reads: no transaction needed
            token, last_event, last_retrieval = queue_repo.corpus_token_and_last_ids(s)
            # new events are asked for only when there are some, or ids skipped earlier
            if not stale and token == known and (last_event > ev_mark or ev_gaps):
                events = queue_repo.events_since(s, ev_mark, ev_gaps)
            if not stale and token == known and (last_retrieval > rt_mark or rt_gaps):
                retrievals = queue_repo.retrievals_since(s, rt_mark, rt_gaps)
        with self.lock:
            if stale or token != known or self.token != known:
                self._rebuild(review)
                return
            self._apply(self.events.unseen(events), self.retrievals.unseen(retrievals))
            if time.monotonic() - self.verified_at >= VERIFY_EVERY_S:
                self.verified_at = time.monotonic()
                ev, rt = self.events, self.retrievals
                with screening_repo.reading(review.engine) as s:
                    n_ev = queue_repo.count_events_upto(s, ev.mark, list(ev.gaps))
                    n_rt = queue_repo.count_retrievals_upto(s, rt.mark, list(rt.gaps))
                if n_ev != ev.applied or n_rt != rt.applied:
                    self.stale = True
            if self.stale:  # an event committed after its id was given up on, or out of order: rebuild
                self._rebuild(review)

    def _rebuild(self, review: Review) -> None:
        """The state derived anew from the whole log (under the lock)."""
        with screening_repo.reading(review.engine) as s:
            token = queue_repo.corpus_token(s)
            ids = queue_repo.screenable_ids(s)
            events = queue_repo.events_since(s, 0)
            retrievals = queue_repo.retrievals_since(s, 0)
        self._reset()
        self.token, self.stale = token, False
        self._build(ids)
        self._apply(events, retrievals, BUILD_GAP_WINDOW)

    def _build(self, ids: list[int]) -> None:
        self.screenable = set(ids)
        self.screenable_sorted = ids
        for st in self.stages:
            if self._first_stage(st):
                self.n_cand[st] = len(ids)

    def _first_stage(self, stage: str) -> bool:
        """Whether every screenable record is a candidate at ``stage``."""
        return stage == TITLE_ABSTRACT or TITLE_ABSTRACT not in self.stages

    def _default(self, stage: str, rid: int) -> _Contribution:
        """The contribution of a record that has no event at any stage."""
        return (PENDING, _EMPTY) if rid in self.screenable and self._first_stage(stage) else None

    def _candidate(self, stage: str, rid: int) -> bool:
        if rid not in self.screenable:
            return False
        if self._first_stage(stage):
            return True
        d = self.derived.get(TITLE_ABSTRACT, {}).get(rid)
        if d is None:
            return False
        status, decision = _status(d, self.required, TITLE_ABSTRACT)
        return status == DECIDED and decision == INCLUDE and self.retrieval.get(rid) != NOT_RETRIEVED

    def _contribution(self, stage: str, rid: int) -> _Contribution:
        if not self._candidate(stage, rid):
            return None
        d = self.derived.get(stage, {}).get(rid)
        if d is None:
            return (PENDING, _EMPTY)
        status, decision = _status(d, self.required, stage)
        if status == PENDING:
            return (PENDING, frozenset(d.votes))
        return (str(decision) if status == DECIDED else CONFLICT, _EMPTY)

    def _count(self, stage: str, c: _Contribution, sign: int) -> None:
        if c is None:
            return
        self.n_cand[stage] += sign
        key, voters = c
        if key != PENDING:
            self.by_status[stage][key] += sign
        for v in voters:
            self.pending_voted[stage][v] += sign

    def _apply(self, events: Sequence[Any], retrievals: Sequence[Any], window: int | None = None) -> None:
        self.events.take(events, window)
        self.retrievals.take(retrievals, window)
        if not events and not retrievals:
            return
        self.changes += 1
        touched = {e.record_id for e in events} | {r.record_id for r in retrievals}
        for rid in touched:
            for st in self.stages:
                if rid not in self.contrib[st]:
                    self.contrib[st][rid] = self._default(st, rid)
        before: dict[tuple[str, int], frozenset[str]] = {}
        for e in events:
            rid, stage = int(e.record_id), str(e.stage)
            if e.id < self.last_event.get(rid, 0):
                self.stale = True  # not in id order for one record: cannot happen under the record lock
            self.last_event[rid] = max(e.id, self.last_event.get(rid, 0))
            records = self.derived.setdefault(stage, {})
            d = records.get(rid)
            if d is None:
                d = records[rid] = _Derived()
                self.first.setdefault(stage, {})[rid] = e.id
                if e.id < self.last_first.get(stage, 0):
                    self.in_order[stage] = False
                self.last_first[stage] = max(self.last_first.get(stage, 0), e.id)
            before.setdefault((stage, rid), frozenset(d.votes))
            if e.kind in (RESOLUTION, CORRECTION):
                d.resolution = _vote(e)
            elif e.kind == RETRACTION:
                d.votes.pop(e.reviewer, None)
            else:
                d.votes[e.reviewer] = _vote(e)
            self.events_at[stage] += 1
            self.events_by[(stage, e.reviewer)] += 1
            held = self.holds.get((stage, rid))
            if held:
                held.pop(e.reviewer, None)  # their vote (or resolution) ends their hold
        for (stage, rid), old in before.items():
            new = frozenset(self.derived[stage][rid].votes)
            counter = self.voted.setdefault(stage, Counter())
            for v in old - new:
                counter[v] -= 1
            for v in new - old:
                counter[v] += 1
        for r in retrievals:
            rid = int(r.record_id)
            if r.id < self.last_retrieval.get(rid, 0):
                self.stale = True
            self.last_retrieval[rid] = max(r.id, self.last_retrieval.get(rid, 0))
            self.retrieval[rid] = str(r.status)
        for rid in touched:
            for st in self.stages:
                old_c = self.contrib[st][rid]
                new_c = self._contribution(st, rid)
                if new_c == old_c:
                    continue
                self._count(st, old_c, -1)
                self._count(st, new_c, +1)
                self.contrib[st][rid] = new_c
                if new_c is not None and new_c[0] == PENDING and (
                    old_c is None or old_c[0] != PENDING or not old_c[1] <= new_c[1]
                ):
                    self.reopened += 1

    # --- answers -----------------------------------------------------------------------------------

    @property
    def reopen_mark(self) -> tuple[int, int]:
        """Changes whenever a record may have become open for a reviewer again (a retraction, a record
        that became a candidate) and on every rebuild: a walk that found records closed may skip them
        while the mark is unchanged."""
        return (self.generation, self.reopened)

    def contribution(self, stage: str, rid: int) -> _Contribution:
        """The record's status key and pending voters at ``stage`` (None: not a candidate)."""
        c = self.contrib.get(stage, {}).get(rid, self)
        return self._default(stage, rid) if c is self else c  # type: ignore[return-value]

    def is_open(self, stage: str, reviewer: str, rid: int) -> bool:
        """Whether ``rid`` still needs votes at ``stage`` and ``reviewer`` has not voted on it."""
        c = self.contribution(stage, rid)
        return c is not None and c[0] == PENDING and reviewer not in c[1]

    def hold(self, stage: str, rid: int, reviewer: str, seconds: float) -> None:
        """Note that ``rid`` was served to ``reviewer`` (held for them for ``seconds`` or until they vote)."""
        now = time.monotonic()
        held = self.holds.setdefault((stage, rid), {})
        for name in [n for n, until in held.items() if until <= now]:
            del held[name]
        held[reviewer] = now + seconds

    def held_by_others(self, stage: str, rid: int, reviewer: str) -> bool:
        """Whether the votes on ``rid`` plus the holds of other reviewers (not yet voted) fill it."""
        c = self.contribution(stage, rid)
        voters = c[1] if c is not None else _EMPTY
        now = time.monotonic()
        others = sum(1 for name, until in self.holds.get((stage, rid), {}).items()
                     if until > now and name != reviewer and name not in voters)
        return others > 0 and len(voters) + others >= self.required

    def remaining(self, stage: str, reviewer: str) -> int:
        """How many candidate records at ``stage`` are open for ``reviewer``."""
        pending = self.n_cand[stage] - sum(self.by_status[stage].values())
        return pending - self.pending_voted[stage][reviewer]

    def counts(self, stage: str) -> dict[str, int]:
        """total / pending / conflict / include / exclude over the candidates at ``stage``."""
        by = self.by_status[stage]
        total = self.n_cand[stage]
        return {"total": total, PENDING: total - sum(by.values()), CONFLICT: by[CONFLICT],
                INCLUDE: by[INCLUDE], "exclude": by["exclude"]}

    def candidates(self, stage: str) -> list[int]:
        """The candidate record ids at ``stage``, ascending."""
        if self._first_stage(stage):
            return list(self.screenable_sorted)
        return sorted(rid for rid, c in self.contrib.get(stage, {}).items() if c is not None)

    def records(self, stage: str) -> list[tuple[int, Any]]:
        """(record id, derived state) of every record with an event at ``stage``, in the order of their
        first event (as a replay of the log lists them)."""
        got = self.derived.get(stage, {})
        if self.in_order.get(stage, True):
            return list(got.items())
        firsts = self.first[stage]
        return sorted(got.items(), key=lambda kv: firsts[kv[0]])

    def derived_of(self, stage: str, rid: int) -> Any:
        """The derived state of one record at ``stage`` (None when it has no event there)."""
        return self.derived.get(stage, {}).get(rid)

    def events_count(self, stage: str, reviewer: str | None = None) -> int:
        """Events applied at ``stage`` (only ``reviewer``'s when given)."""
        return self.events_at[stage] if reviewer is None else self.events_by[(stage, reviewer)]

    def voted_counts(self) -> dict[str, dict[str, int]]:
        """stage -> reviewer -> records with their current vote (retracted votes not counted)."""
        return {st: {r: n for r, n in sorted(c.items()) if n > 0} for st, c in sorted(self.voted.items())
                if any(n > 0 for n in c.values())}


_STATES: dict[tuple[str, int, tuple[str, ...]], LiveState] = {}
_STATES_LOCK = threading.Lock()


def where(review: Review) -> str:
    """The key of a review's store in the caches of this process (its folder and database URL)."""
    return f"{review.directory}|{review.engine.url.render_as_string(hide_password=True)}"


def _state_of(review: Review) -> LiveState:
    sc = review.protocol.screening
    key = (where(review), int(sc.reviewers_per_record), tuple(str(s) for s in sc.stages))
    with _STATES_LOCK:
        st = _STATES.get(key)
        if st is None:
            st = _STATES[key] = LiveState(key[1], key[2])
        return st


@contextmanager
def view(review: Review) -> Iterator[LiveState]:
    """The review's state brought up to date with the store, held (locked) for the block."""
    st = _state_of(review)
    st.refresh(review)
    with st.lock:
        yield st


def clear() -> None:
    """Forget every review's state in this process (the next call rebuilds it from the log)."""
    with _STATES_LOCK:
        _STATES.clear()


__all__ = ["FULL_TEXT", "LiveState", "clear", "view", "where"]
