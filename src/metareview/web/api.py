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


# --- extraction (the engine: metareview.extraction.dual; blind extraction applies to every route) ------

ReportKey = Annotated[str, FPath(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f/]+$")]


class ExtractionIn(BaseModel):
    """Your whole extraction of one report: the report form (declared fields as keys), its effect sizes
    (``report_id`` may be left out) and its primary studies (``label``, ``year``, ``doi``)."""

    report: dict[str, Any]
    effect_sizes: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)
    primary_studies: list[dict[str, Any]] = Field(default_factory=list, max_length=20000)
    submit: bool = False
    note: str | None = Field(default=None, max_length=5000)


class ConsensusIn(BaseModel):
    """A consensus value of one field (a path such as ``effect[KEY].estimate``): ``value``, or ``take``
    an extractor's value; ``correct`` replaces the one recorded."""

    field: str = Field(min_length=1, max_length=500)
    value: str | float | bool | list[str] | None = None
    take: str | None = Field(default=None, max_length=200)
    correct: bool = False
    note: str | None = Field(default=None, max_length=5000)


class MineOut(BaseModel):
    report_id: str
    state: str
    extraction: dict[str, Any] | None


def _extraction_in(report_id: str, body: ExtractionIn, protocol: Any) -> Any:
    from metareview.errors import InputError
    from metareview.extraction.forms import PrimaryStudy
    from metareview.extraction.schema import effect_size_from_dict, report_from_dict
    from metareview.extraction.snapshot import ReportExtraction

    report = report_from_dict({**body.report, "id": report_id}, protocol)
    effects = tuple(effect_size_from_dict({**e, "report_id": report_id}, protocol) for e in body.effect_sizes)
    try:
        studies = tuple(PrimaryStudy.model_validate(s) for s in body.primary_studies)
    except ValueError as exc:
        raise InputError(f"primary_studies: {exc}", field="primary_studies") from None
    return ReportExtraction(report, effects, studies)


@router.get("/reviews/{slug}/extraction/schema")
def extraction_schema(request: Request, account: User, slug: Slug) -> dict[str, Any]:
    """The extraction forms as the protocol declares them, and who extracts (1 or 2 per report)."""
    from metareview.extraction.schema import form_schema

    member(request, account, slug, VIEWER)
    protocol = server_of(request).review(slug).protocol
    return {**form_schema(protocol), "extractors_per_report": protocol.extraction.extractors_per_report,
            "blind": protocol.extraction.blind}


@router.get("/reviews/{slug}/extraction/status")
def extraction_status(request: Request, account: User, slug: Slug) -> list[dict[str, Any]]:
    """Where each report stands, as you may see it (counts; names and open fields once all submitted)."""
    from metareview.errors import InputError
    from metareview.extraction import dual

    member(request, account, slug, VIEWER)
    review = server_of(request).review(slug)
    try:
        me: str | None = dual.canonical_extractor(review.protocol, account.name)
    except InputError:
        me = None
    return [st.to_dict() for st in dual.status(review, me)]


@router.get("/reviews/{slug}/extraction/final")
def extraction_final(request: Request, account: User, slug: Slug) -> dict[str, Any]:
    """The final values (with two extractors per report: the agreed ones) that every later stage reads."""
    from metareview.extraction import dual

    member(request, account, slug, VIEWER)
    out: dict[str, Any] = dual.final_bundle(server_of(request).review(slug)).to_dict()
    return out


@router.get("/reviews/{slug}/extraction/reports/{report_id}/mine")
def extraction_mine(request: Request, account: User, slug: Slug, report_id: ReportKey) -> MineOut:
    """Your own extraction of a report and its state (none, draft, submitted; one extractor: final)."""
    from metareview.extraction import dual

    member(request, account, slug, REVIEWER)
    ex, state = dual.my_extraction(server_of(request).review(slug), report_id, account.name)
    return MineOut(report_id=report_id, state=state, extraction=ex.to_json() if ex else None)


@router.post("/reviews/{slug}/extraction/reports/{report_id}/mine")
def extraction_save(request: Request, account: User, slug: Slug, report_id: ReportKey,
                    body: ExtractionIn) -> dict[str, Any]:
    """Save your whole extraction of a report (a draft until ``submit``; with one extractor per report,
    the final values)."""
    from metareview.extraction import dual

    member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    st = dual.save_extraction(review, _extraction_in(report_id, body, review.protocol), account.name,
                              submit=body.submit, note=body.note)
    return st.to_dict()


@router.post("/reviews/{slug}/extraction/reports/{report_id}/submit")
def extraction_submit(request: Request, account: User, slug: Slug, report_id: ReportKey) -> dict[str, Any]:
    """Submit your extraction of a report as it stands."""
    from metareview.extraction import dual

    member(request, account, slug, REVIEWER)
    return dual.submit(server_of(request).review(slug), report_id, account.name).to_dict()


@router.get("/reviews/{slug}/extraction/reports/{report_id}/comparison")
def extraction_comparison(request: Request, account: User, slug: Slug, report_id: ReportKey,
                          all_fields: bool = False) -> dict[str, Any]:
    """The extractions of a report side by side (400 until every extractor has submitted: blind)."""
    from metareview.extraction import dual

    member(request, account, slug, REVIEWER)
    return dual.compare(server_of(request).review(slug), report_id, account.name,
                        all_fields=all_fields).to_dict()


@router.post("/reviews/{slug}/extraction/reports/{report_id}/consensus")
def extraction_consensus(request: Request, account: User, slug: Slug, report_id: ReportKey,
                         body: ConsensusIn) -> dict[str, Any]:
    """Record the consensus value of one field (who and when are recorded with it)."""
    from metareview.extraction import dual

    member(request, account, slug, REVIEWER)
    kwargs: dict[str, Any] = {"take": body.take} if body.take else {"value": body.value}
    return dual.record_consensus(server_of(request).review(slug), report_id, body.field, account.name,
                                 correct=body.correct, note=body.note, **kwargs).to_dict()


@router.get("/reviews/{slug}/extraction/agreement")
def extraction_agreement_(request: Request, account: User, slug: Slug) -> dict[str, Any]:
    """Agreement per field between the two extractors (reports with both submissions only)."""
    from metareview.extraction.field_agreement import extraction_agreement

    member(request, account, slug, VIEWER)
    out: dict[str, Any] = extraction_agreement(server_of(request).review(slug)).to_dict()
    return out


# --- studies and their reports (metareview.screening.studies) -------------------------------------------


class StudyLinkIn(BaseModel):
    """Records (reports) of one study; ``study`` names it (leave it out to unlink)."""

    record_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(min_length=1, max_length=1000)
    study: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=5000)


@router.get("/reviews/{slug}/studies")
def studies_(request: Request, account: User, slug: Slug) -> list[dict[str, Any]]:
    """The studies that have reports linked to them (every other record is its own study)."""
    from metareview.screening.studies import studies, study_of

    member(request, account, slug, VIEWER)
    review = server_of(request).review(slug)
    return [s.to_dict() for s in studies(review, study_of(review))]


@router.post("/reviews/{slug}/studies/link")
def studies_link(request: Request, account: User, slug: Slug, body: StudyLinkIn) -> dict[str, int]:
    """Link records to the study ``study``, or (``study`` left out) make them their own study again."""
    from metareview.screening.studies import link_reports, unlink_reports

    member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    if body.study is None:
        return {"changed": unlink_reports(review, body.record_ids, account.name, body.note)}
    return {"changed": link_reports(review, body.record_ids, body.study, account.name, body.note)}
