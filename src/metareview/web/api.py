"""The JSON API (``/api/...``), described at ``/api/openapi.json``. Same engine functions as the pages;
authenticated by a personal API token (``Authorization: Bearer``) or a session cookie plus
``X-CSRF-Token`` for changes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as FPath
from pydantic import BaseModel, Field

from metareview.screening import decisions as sd
from metareview.screening.prisma import prisma_counts
from metareview.screening.queue import HOLD_S, next_record
from metareview.team import members, work
from metareview.team.accounts import Account
from metareview.team.server import REVIEWER, VIEWER
from metareview.web.security import api_user, member, server_of

router = APIRouter(prefix="/api", tags=["api"])
User = Annotated[Account, Depends(api_user)]
StageName = Literal["title_abstract", "full_text"]
Slug = Annotated[str, FPath(pattern=r"^[a-z0-9-]{1,40}$")]
RecordId = Annotated[int, FPath(ge=1, le=2**62)]


class Me(BaseModel):
    id: int
    name: str


class ReviewOut(BaseModel):
    slug: str
    title: str
    role: str


class RecordOut(BaseModel):
    id: int
    title: str
    abstract: str
    authors: list[str]
    journal: str
    year: int | None
    keywords: list[str]
    doi: str
    pmid: str


class NextOut(BaseModel):
    record: RecordOut | None
    remaining: int
    ranked_by: str | None = None


class DecisionIn(BaseModel):
    record_id: int = Field(ge=1, le=2**62)
    decision: Literal["include", "exclude", "maybe"]
    stage: StageName = "title_abstract"
    reason: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=5000)


class DecisionOut(BaseModel):
    record_id: int
    stage: str
    decision: str
    status: str
    repeated: bool
    next: NextOut | None = None


class VoteOut(BaseModel):
    reviewer: str
    decision: str
    reason: str | None
    note: str | None


class StateOut(BaseModel):
    record_id: int
    stage: str
    status: str
    decision: str | None
    votes: list[VoteOut]


class ResolveIn(BaseModel):
    decision: Literal["include", "exclude"]
    stage: StageName = "title_abstract"
    reason: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=5000)


class ProgressOut(BaseModel):
    stage: str
    total: int
    pending: int
    conflict: int
    included: int
    excluded: int
    per_reviewer: dict[str, int]


class OwnOut(BaseModel):
    record_id: int
    stage: str
    title: str
    decision: str
    reason: str | None
    note: str | None


class MemberOut(BaseModel):
    id: int
    name: str
    role: str


def _state(st: sd.RecordState) -> StateOut:
    return StateOut(
        record_id=st.record_id, stage=st.stage, status=st.status, decision=st.decision,
        votes=[VoteOut(reviewer=v.reviewer, decision=v.decision, reason=v.reason, note=v.note)
               for v in st.votes],
    )


def _next(request: Request, slug: str, account: Account, stage: str) -> NextOut:
    review = server_of(request).review(slug)
    nxt = next_record(review, account.name, stage, background=True, hold=HOLD_S)
    if nxt is None:
        return NextOut(record=None, remaining=0)
    view = work.record_view(review, nxt.record_id)
    return NextOut(record=RecordOut(**view) if view else None, remaining=nxt.remaining, ranked_by=nxt.model)


def _check_stage(request: Request, slug: str, stage: str) -> None:
    from metareview.screening.stages import check_stage

    check_stage(stage, server_of(request).review(slug).protocol)


@router.get("/me")
def me(account: User) -> Me:
    """The account behind the token or session."""
    return Me(id=account.id, name=account.name)


@router.get("/reviews")
def reviews(request: Request, account: User) -> list[ReviewOut]:
    """The reviews you are a member of, with your role."""
    return [ReviewOut(slug=r.slug, title=r.title, role=r.role)
            for r in members.my_reviews(server_of(request), account)]


@router.get("/reviews/{slug}/next")
def next_(request: Request, account: User, slug: Slug, stage: StageName = "title_abstract") -> NextOut:
    """The next record for you to screen (prioritised)."""
    member(request, account, slug, REVIEWER)
    _check_stage(request, slug, stage)
    return _next(request, slug, account, stage)


@router.get("/reviews/{slug}/records/{record_id}")
def record(request: Request, account: User, slug: Slug,
           record_id: RecordId) -> RecordOut:
    """A record's bibliographic fields."""
    member(request, account, slug, VIEWER)
    view = work.record_view(server_of(request).review(slug), record_id)
    if view is None:
        from fastapi import HTTPException

        raise HTTPException(404, f"no record {record_id}")
    return RecordOut(**view)


@router.get("/reviews/{slug}/records/{record_id}/state")
def record_state(request: Request, account: User, slug: Slug,
                 record_id: RecordId,
                 stage: StageName = "title_abstract") -> StateOut:
    """A record's state as you may see it (blind mode hides others' votes until you voted)."""
    member(request, account, slug, VIEWER)
    _check_stage(request, slug, stage)
    return _state(sd.state(server_of(request).review(slug), record_id, stage, account.name))


@router.post("/reviews/{slug}/decisions")
def decide(
    request: Request,
    account: User,
    slug: Slug,
    body: DecisionIn,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
    then_next: Annotated[bool, Query()] = False,
) -> DecisionOut:
    """Vote on a record. Send an ``Idempotency-Key`` header so that a retried request does not vote
    twice; ``then_next=true`` returns your next record too."""
    member(request, account, slug, REVIEWER)
    _check_stage(request, slug, body.stage)
    review = server_of(request).review(slug)
    key = f"{account.id}:{idempotency_key}" if idempotency_key else None
    out = work.decide_once(review, key, body.record_id, account.name, body.decision, body.stage,
                           body.reason, body.note)
    if "status" not in out:
        out["status"] = sd.state(review, body.record_id, body.stage, account.name).status
    nxt = _next(request, slug, account, body.stage) if then_next else None
    return DecisionOut(**{k: out[k] for k in ("record_id", "stage", "decision", "status", "repeated")},
                       next=nxt)


@router.get("/reviews/{slug}/decisions/mine")
def mine(request: Request, account: User, slug: Slug, stage: StageName = "title_abstract",
         q: Annotated[str, Query(max_length=200)] = "") -> list[OwnOut]:
    """Your own current votes, newest first, filtered by ``q``."""
    member(request, account, slug, REVIEWER)
    _check_stage(request, slug, stage)
    return [OwnOut(record_id=d.record_id, stage=d.stage, title=d.title, decision=d.decision,
                   reason=d.reason, note=d.note)
            for d in work.own_decisions(server_of(request).review(slug), account.name, stage, q)]


@router.get("/reviews/{slug}/progress")
def progress(request: Request, account: User, slug: Slug, stage: StageName = "title_abstract") -> ProgressOut:
    """Counts per status at a stage and the number of records each reviewer has voted on."""
    member(request, account, slug, VIEWER)
    _check_stage(request, slug, stage)
    review = server_of(request).review(slug)
    p = sd.progress(review, stage)
    return ProgressOut(**p.to_dict(), per_reviewer=work.reviewer_progress(review).get(stage, {}))


@router.get("/reviews/{slug}/conflicts")
def conflicts(
    request: Request, account: User, slug: Slug, stage: StageName = "title_abstract"
) -> list[StateOut]:
    """Records in conflict (votes shown only as blind mode allows)."""
    member(request, account, slug, VIEWER)
    _check_stage(request, slug, stage)
    return [_state(st) for st in sd.conflicts(server_of(request).review(slug), stage, account.name)]


@router.post("/reviews/{slug}/conflicts/{record_id}/resolve")
def resolve(request: Request, account: User, slug: Slug,
            record_id: RecordId, body: ResolveIn) -> StateOut:
    """Resolve a conflict: as a third reviewer, or by consensus when you voted on it."""
    member(request, account, slug, REVIEWER)
    _check_stage(request, slug, body.stage)
    review = server_of(request).review(slug)
    own = sd.state(review, record_id, body.stage, account.name).votes
    voted = any(v.reviewer == account.name for v in own)
    st = sd.resolve(review, record_id, account.name, body.decision, body.stage, body.reason, body.note,
                    method="consensus" if voted else "third_reviewer")
    return _state(st)


@router.get("/reviews/{slug}/prisma")
def prisma(request: Request, account: User, slug: Slug) -> dict[str, Any]:
    """The PRISMA 2020 flow-diagram counts, derived from the store."""
    member(request, account, slug, VIEWER)
    return prisma_counts(server_of(request).review(slug)).to_dict()


@router.get("/reviews/{slug}/members")
def members_(request: Request, account: User, slug: Slug) -> list[MemberOut]:
    """The review's members and their roles."""
    member(request, account, slug, VIEWER)
    return [MemberOut(id=int(str(m["id"])), name=str(m["name"]), role=str(m["role"]))
            for m in members.member_list(server_of(request), slug)]
