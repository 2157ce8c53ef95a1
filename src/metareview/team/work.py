"""Screening helpers the team server needs beyond ``metareview.screening``: a vote guarded by an
idempotency key, one's own decisions, per-reviewer progress counts and the inclusion curve.

Blind mode holds: nothing here returns another reviewer's vote on a record. Example::

    decide_once(review, "ana:7f3c...", record_id=3, reviewer="ana", decision="include")
    own_decisions(review, "ana", query="depression")
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.stages import INCLUDE, TITLE_ABSTRACT
from metareview.store import screening_repo as srepo
from metareview.store import team_repo as repo


def decide_once(
    review: Review,
    key: str | None,
    record_id: int,
    reviewer: str,
    decision: str,
    stage: str = TITLE_ABSTRACT,
    reason: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """:func:`metareview.screening.decisions.decide` that a retried request cannot double: with a
    ``key``, the vote and the key are written in one transaction, and a repeated key returns the first
    answer without voting again. Concurrent votes on one record are serialised by a row lock, so the
    protocol's reviewers-per-record limit holds across app processes. Returns ``{"record_id", "stage",
    "decision", "status", "repeated"}``."""
    with review.session() as s:
        srepo.lock_records(s, [record_id])  # before the key check, so a retry waits for the first try
        if key:
            seen = repo.idempotent_response(s, key)
            if seen is not None:
                return {**seen, "repeated": True}
        d = sd._decide(s, review.protocol, record_id, reviewer, decision, stage, reason, note, lock=False)
        answer = {"record_id": record_id, "stage": stage, "decision": decision, "repeated": False}
        if key:
            repo.save_idempotent_response(s, key, answer)
        status = sd._status(d, review.protocol.screening.reviewers_per_record, stage)[0]
    return {**answer, "status": status}


@dataclass(frozen=True)
class OwnDecision:
    record_id: int
    stage: str
    title: str
    year: int | None
    decision: str
    reason: str | None
    note: str | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def own_decisions(
    review: Review, reviewer: str, stage: str = TITLE_ABSTRACT, query: str = ""
) -> list[OwnDecision]:
    """``reviewer``'s current votes at ``stage``, newest first (retracted votes are gone), as
    :func:`metareview.screening.decisions.my_decisions` lists them; ``query`` filters on the record id,
    title, abstract, reason or note. Adds the year shown in the list."""
    frame = sd.my_decisions(review, reviewer, stage, search=query or None)
    ids = [int(i) for i in frame["record_id"]]
    with review.session() as s:
        years = {r.id: r.year for r in _records(s, ids)}
    out = []
    for row in frame.to_dict("records"):
        rid = int(row["record_id"])
        at: Any = row["at"]
        at = at.to_pydatetime() if hasattr(at, "to_pydatetime") else at
        out.append(OwnDecision(rid, stage, str(row["title"] or ""), years.get(rid), str(row["decision"]),
                               _text(row["reason"]), _text(row["note"]), at))
    return out


def _text(value: Any) -> str | None:
    """A reason or note from the frame: None for a missing value."""
    return None if value is None or value != value else str(value)


def _records(session: Any, ids: list[int]) -> list[Any]:
    from metareview.store import records_repo

    return records_repo.records_by_id(session, ids)


def last_own_vote(review: Review, reviewer: str, stage: str = TITLE_ABSTRACT) -> int | None:
    """The record ``reviewer`` voted on last at ``stage`` and has not retracted (undo retracts it)."""
    mine = own_decisions(review, reviewer, stage)
    return mine[0].record_id if mine else None


_VIEWS: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
_VIEWS_LOCK = threading.Lock()
VIEW_CACHE_SIZE = 20_000
"""Records whose shown fields each server process keeps (records are never edited in place)."""


def record_view(review: Review, record_id: int) -> dict[str, Any] | None:
    """The bibliographic fields shown while screening (kept per process: a record is never changed)."""
    from metareview.screening.live import where

    key = (where(review), int(record_id))
    with _VIEWS_LOCK:
        found = _VIEWS.get(key)
        if found is not None:
            _VIEWS.move_to_end(key)
            return dict(found)
    with srepo.reading(review.engine) as s:
        rec = srepo.record_fields(s, record_id)
    if rec is None:
        return None
    view = {
        "id": rec.id,
        "title": rec.title,
        "abstract": rec.abstract,
        "authors": list(rec.authors or []),
        "journal": rec.journal,
        "year": rec.year,
        "keywords": list(rec.keywords or []),
        "doi": rec.doi,
        "pmid": rec.pmid,
    }
    with _VIEWS_LOCK:
        _VIEWS[key] = view
        while len(_VIEWS) > VIEW_CACHE_SIZE:
            _VIEWS.popitem(last=False)
    return dict(view)


def reviewer_progress(review: Review) -> dict[str, dict[str, int]]:
    """stage -> reviewer -> number of records they have a current vote on (counts only; a retracted
    vote is not counted), from the review's screening state (:mod:`metareview.screening.live`)."""
    from metareview.screening import live

    with live.view(review) as now:
        return now.voted_counts()


def own_progress(review: Review, reviewer: str, stage: str = TITLE_ABSTRACT) -> tuple[int, int]:
    """(records ``reviewer`` has a current vote on, records still open for them) at ``stage``: their own
    share of the work (in blind dual screening a record stays pending until the second vote)."""
    from metareview.screening import live

    with live.view(review) as now:
        return now.voted_counts().get(stage, {}).get(reviewer, 0), now.remaining(stage, reviewer)


def inclusion_curve(review: Review) -> list[tuple[int, int]]:
    """(records decided, records included so far) at title/abstract, in the order records were first
    voted on: the review's recall curve so far (it flattens as the relevant records run out)."""
    from metareview.screening import live

    final = sd.final_decisions(review, TITLE_ABSTRACT)
    with live.view(review) as now:
        order = [rid for rid, _ in now.records(TITLE_ABSTRACT)]
    out: list[tuple[int, int]] = []
    found = 0
    for rid in order:
        if rid in final:
            found += final[rid][0] == INCLUDE
            out.append((len(out) + 1, found))
    return out


@dataclass(frozen=True)
class LivePrisma:
    """PRISMA 2020 counts so far, while screening goes on (``prisma_counts`` gives the final ones).

    ``records_screened`` counts the records decided at title/abstract so far; ``*_pending`` and
    ``*_conflict`` say what is still open at each stage."""

    database_results: dict[str, int]
    duplicates: int
    records_screened: int
    records_excluded: int
    ta_pending: int
    ta_conflict: int
    dbr_sought_reports: int
    dbr_notretrieved_reports: int
    dbr_assessed: int
    dbr_excluded: dict[str, int]
    ft_pending: int
    ft_conflict: int
    new_studies: int

    @property
    def identified(self) -> int:
        return sum(self.database_results.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def live_prisma(review: Review) -> LivePrisma:
    """The PRISMA counts derived from the store now (aggregates only: no vote is revealed)."""
    from collections import Counter

    from metareview.screening.stages import EXCLUDE, FULL_TEXT
    from metareview.screening.studies import count_studies
    from metareview.store import records_repo

    with review.session() as s:
        per_db = records_repo.database_counts(s)
    stages = review.protocol.screening.stages
    ta = sd.final_decisions(review, TITLE_ABSTRACT) if TITLE_ABSTRACT in stages else {}
    sought = [r for r, (dec, _) in ta.items() if dec == INCLUDE]
    retrieval = sd.retrieval_status(review)
    not_retrieved = sum(1 for r in sought if retrieval.get(r) == sd.NOT_RETRIEVED)
    ft = sd.final_decisions(review, FULL_TEXT) if FULL_TEXT in stages else {}
    reasons = Counter((reason or "no reason given") for dec, reason in ft.values() if dec == EXCLUDE)
    p_ta = sd.progress(review, TITLE_ABSTRACT) if TITLE_ABSTRACT in stages else None
    p_ft = sd.progress(review, FULL_TEXT) if FULL_TEXT in stages else None
    return LivePrisma(
        database_results={name: stored for name, _, _, stored, _ in per_db},
        duplicates=sum(d for *_, d in per_db),
        records_screened=len(ta),
        records_excluded=sum(1 for dec, _ in ta.values() if dec == EXCLUDE),
        ta_pending=p_ta.pending if p_ta else 0,
        ta_conflict=p_ta.conflict if p_ta else 0,
        dbr_sought_reports=len(sought),
        dbr_notretrieved_reports=not_retrieved,
        dbr_assessed=len(ft),
        dbr_excluded=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        ft_pending=p_ft.pending if p_ft else 0,
        ft_conflict=p_ft.conflict if p_ft else 0,
        new_studies=count_studies(
            review, [r for r, (dec, _) in ft.items() if dec == INCLUDE] if FULL_TEXT in stages else sought
        ),
    )
