"""The pages. Each route checks the session (``page_user``), the CSRF token on POST and the membership
of the review in its path, then calls the engine (``metareview.screening``, ``records``, ``team``)."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from metareview.errors import InputError, MetareviewError
from metareview.records import dedup
from metareview.records.importer import import_file
from metareview.screening import decisions as sd
from metareview.screening.queue import HOLD_S, next_record, review_agreement, stopping_status
from metareview.screening.stages import FULL_TEXT, TITLE_ABSTRACT
from metareview.team import accounts, members, work
from metareview.team.accounts import Account
from metareview.team.members import Forbidden
from metareview.team.server import OWNER, REVIEWER, ROLES, VIEWER
from metareview.web import files
from metareview.web.render import render
from metareview.web.security import COOKIE, identify, member, page_user, server_of

router = APIRouter(include_in_schema=False)
User = Annotated[Account, Depends(page_user)]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _ctx(request: Request, account: Account, slug: str, role: str, **more: Any) -> dict[str, Any]:
    server = server_of(request)
    return {"slug": slug, "role": role, "review_title": members.hosted_title(server, slug),
            "csrf": account.csrf, **more}


def _stage(review: Any, stage: str) -> str:
    if stage not in review.protocol.screening.stages:
        raise InputError(f"stage must be one of {', '.join(review.protocol.screening.stages)}", field="stage")
    return stage


# --- sign-in -----------------------------------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request) -> Response:
    return render(request, "signin.html", {})


@router.post("/signin")
def signin(request: Request, name: Annotated[str, Form()], password: Annotated[str, Form()]) -> Response:
    server = server_of(request)
    try:
        sid, _csrf = accounts.authenticate(server, name, password, _client(request))
    except accounts.SigninRefused as exc:
        return render(request, "signin.html", {"error": str(exc), "name": name}, status=401)
    response = _see_other("/")
    _set_cookie(request, response, sid)
    return response


def _set_cookie(request: Request, response: Response, sid: str) -> None:
    response.set_cookie(
        COOKIE, sid, max_age=accounts.SESSION_DAYS * 86400, httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path="/",
    )


@router.post("/signout")
def signout(request: Request, account: User) -> Response:
    sid = request.cookies.get(COOKIE)
    if sid:
        accounts.sign_out(server_of(request), sid)
    response = _see_other("/signin")
    response.delete_cookie(COOKIE, path="/")
    return response


# --- reviews -----------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request, account: User) -> Response:
    mine = members.my_reviews(server_of(request), account)
    return render(request, "home.html", {"reviews": mine, "csrf": account.csrf})


@router.post("/reviews")
def create_review(request: Request, account: User, title: Annotated[str, Form()]) -> Response:
    if not account.is_admin:
        raise Forbidden("only a server owner creates reviews")
    hosted = server_of(request).create_review(title, account.id)
    return _see_other(f"/r/{hosted.slug}/import")


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, account: User) -> Response:
    tokens = accounts.list_tokens(server_of(request), account.id)
    return render(request, "account.html", {"tokens": tokens, "csrf": account.csrf, "new_token": None})


@router.post("/account/tokens", response_class=HTMLResponse)
def new_token(request: Request, account: User, label: Annotated[str, Form()] = "") -> Response:
    server = server_of(request)
    secret = accounts.create_token(server, account.id, label)
    tokens = accounts.list_tokens(server, account.id)
    return render(request, "account.html", {"tokens": tokens, "csrf": account.csrf, "new_token": secret})


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, account: User, token_id: int) -> Response:
    accounts.revoke_token(server_of(request), account.id, token_id)
    return _see_other("/account")


# --- invitations -------------------------------------------------------------------------------------


@router.get("/invite/{secret}", response_class=HTMLResponse)
def invitation_page(request: Request, secret: str) -> Response:
    server = server_of(request)
    info = members.invitation_info(server, secret)
    account, _ = identify(request)
    request.state.account = account
    if info is None:
        return render(request, "error.html", {"message": "This invitation link is not valid."}, status=404)
    return render(request, "invite.html", {"title": info[1], "role": info[2], "secret": secret,
                                           "signed_in": account})


@router.post("/invite/{secret}")
async def accept_invitation(
    request: Request, secret: str, name: Annotated[str, Form()] = "", password: Annotated[str, Form()] = ""
) -> Response:
    server = server_of(request)
    account, by_token = await run_in_threadpool(identify, request)
    if account is not None:
        from metareview.web.security import check_csrf

        await check_csrf(request, account, by_token)
    # password hashing and the database off the event loop
    joined, slug = await run_in_threadpool(members.accept, server, secret, account, name, password)
    response = _see_other(f"/r/{slug}/")
    if account is None:
        sid, _ = await run_in_threadpool(accounts.authenticate, server, name, password, _client(request))
        _set_cookie(request, response, sid)
    return response


# --- dashboard ---------------------------------------------------------------------------------------


@router.get("/r/{slug}/", response_class=HTMLResponse)
def dashboard(request: Request, account: User, slug: str, built: str = "") -> Response:
    role = member(request, account, slug, VIEWER)
    server = server_of(request)
    review = server.review(slug)
    from metareview.web import dashboard as dash

    return render(request, "dashboard.html", _ctx(
        request, account, slug, role, built=bool(built),
        has_report=files.report_path(server, slug) is not None, **dash.summary(review)))


@router.get("/r/{slug}/prisma.svg")
def prisma_svg(request: Request, account: User, slug: str) -> Response:
    member(request, account, slug, VIEWER)
    from metareview.web import dashboard as dash

    return Response(dash.prisma_svg(server_of(request).review(slug)), media_type="image/svg+xml")


@router.get("/r/{slug}/curve.svg")
def curve_svg(request: Request, account: User, slug: str) -> Response:
    member(request, account, slug, VIEWER)
    from metareview.web import dashboard as dash

    return Response(dash.curve_svg(server_of(request).review(slug)), media_type="image/svg+xml")


@router.get("/r/{slug}/export/{fmt}")
def export(request: Request, account: User, slug: str, fmt: str, included: str = "") -> Response:
    member(request, account, slug, VIEWER)
    path = files.export(server_of(request).review(slug), fmt, included or None)
    name = f"{slug}-included-{included.replace('_', '-')}.{fmt}" if included else f"{slug}-records.{fmt}"
    return FileResponse(path, filename=name, background=BackgroundTask(files.remove_folder, path))


@router.get("/r/{slug}/decision-log.{fmt}")
def decision_log(request: Request, account: User, slug: str, fmt: str) -> Response:
    member(request, account, slug, VIEWER)
    path = files.decision_log(server_of(request).review(slug), fmt, account.name)
    return FileResponse(path, filename=f"{slug}-decision-log.{fmt}",
                        background=BackgroundTask(files.remove_folder, path))


@router.post("/r/{slug}/report")
def build_report(request: Request, account: User, slug: str) -> Response:
    member(request, account, slug, REVIEWER)
    files.build_report(server_of(request), slug)
    return _see_other(f"/r/{slug}/?built=1#report")


@router.get("/r/{slug}/report.zip")
def download_report(request: Request, account: User, slug: str) -> Response:
    member(request, account, slug, VIEWER)
    path = files.report_zip(server_of(request), slug)
    if path is None:
        raise InputError("no report has been built yet: use Build the report on the dashboard",
                         field="report")
    return FileResponse(path, filename=f"{slug}-report.zip", media_type="application/zip",
                        background=BackgroundTask(files.remove_folder, path))


@router.get("/r/{slug}/report")
def show_report(request: Request, account: User, slug: str) -> Response:
    member(request, account, slug, VIEWER)
    path = files.report_path(server_of(request), slug)
    if path is None:
        return _see_other(f"/r/{slug}/")
    # the report is self-contained (inline styles, data: images); it runs no script
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
    return FileResponse(path, media_type="text/html", headers={"Content-Security-Policy": csp})


# --- import and deduplication ------------------------------------------------------------------------


@router.get("/r/{slug}/import", response_class=HTMLResponse)
def import_page(request: Request, account: User, slug: str, msg: str = "") -> Response:
    role = member(request, account, slug, VIEWER)
    review = server_of(request).review(slug)
    from metareview.store import living_repo, records_repo

    with review.session() as s:
        batch_of = living_repo.search_batches(s)
        searches = [
            {"database": x.database, "searched_on": x.searched_on, "file_name": x.file_name,
             "format": x.file_format, "records": x.record_count, "batch": batch_of.get(x.id, 1)}
            for x in records_repo.searches(s)
        ]
    pairs = dedup.uncertain_pairs(review)
    return render(request, "import.html", _ctx(request, account, slug, role, searches=searches, pairs=pairs,
                                               databases=review.protocol.databases, msg=msg,
                                               update_rows=range(1, UPDATE_ROWS + 1)))


@router.post("/r/{slug}/import", response_class=HTMLResponse)
async def import_upload(
    request: Request,
    account: User,
    slug: str,
    file: Annotated[UploadFile, File()],
    database: Annotated[str, Form()],
    searched: Annotated[str, Form()] = "",
    query: Annotated[str, Form()] = "",
) -> Response:
    member(request, account, slug, OWNER)
    review = server_of(request).review(slug)
    with tempfile.TemporaryDirectory() as tmp:
        path = await files.save_upload(file, Path(tmp), files.IMPORT_SUFFIXES, files.MAX_IMPORT)
        result = await run_in_threadpool(  # parsing and deduplication off the event loop
            import_file, review, path, database, searched=searched or None, query=query or None
        )
    dd = await run_in_threadpool(dedup.deduplicate, review)
    msg = f"{result.added} records added; {dd.duplicates} duplicates; {dd.uncertain_open} pairs to check"
    from urllib.parse import quote

    return _see_other(f"/r/{slug}/import?msg={quote(msg)}")


UPDATE_ROWS = 4
"""Search exports one update form takes (one per database)."""


@router.post("/r/{slug}/update", response_class=HTMLResponse)
async def update_upload(request: Request, account: User, slug: str) -> Response:
    """A living review's update: each database's new export with its search date, imported as the next
    batch by :func:`metareview.screening.batches.update_review` (as ``metareview update`` does)."""
    from urllib.parse import quote

    from starlette.datastructures import UploadFile as Upload

    from metareview.screening.batches import UpdateSource, update_review

    member(request, account, slug, OWNER)
    review = server_of(request).review(slug)
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for i in range(1, UPDATE_ROWS + 1):
            upload = form.get(f"file{i}")
            if not isinstance(upload, Upload) or not upload.filename:
                continue
            if not text(f"database{i}"):
                raise InputError(f"file {i} ({upload.filename}): name its database", field=f"database{i}")
            folder = Path(tmp) / str(i)  # one folder per file: two uploads may share a name
            folder.mkdir()
            path = await files.save_upload(upload, folder, files.IMPORT_SUFFIXES, files.MAX_IMPORT)
            sources.append(UpdateSource(path, text(f"database{i}"), searched=text(f"searched{i}") or None,
                                        query=text(f"query{i}") or None))
        result = await run_in_threadpool(update_review, review, sources, actor=account.name,
                                         note=text("note") or None)
    msg = (f"Update imported as batch {result.batch}: {result.records_added} records added, "
           f"{result.new_unique_records} new unique records queued for screening")
    if result.dedup is not None and result.dedup.uncertain_open:
        msg += f"; {result.dedup.uncertain_open} pairs to check"
    return _see_other(f"/r/{slug}/import?msg={quote(msg)}")


@router.get("/r/{slug}/prisma-update.svg")
def prisma_update_svg(request: Request, account: User, slug: str) -> Response:
    member(request, account, slug, VIEWER)
    from metareview.web import dashboard as dash

    return Response(dash.update_prisma_svg(server_of(request).review(slug)), media_type="image/svg+xml")


@router.post("/r/{slug}/dedup")
def run_dedup(request: Request, account: User, slug: str) -> Response:
    member(request, account, slug, OWNER)
    dedup.deduplicate(server_of(request).review(slug))
    return _see_other(f"/r/{slug}/import")


@router.post("/r/{slug}/pairs/{pair_id}")
def decide_pair(request: Request, account: User, slug: str, pair_id: int,
                verdict: Annotated[str, Form()]) -> Response:
    member(request, account, slug, OWNER)
    if verdict not in ("confirm", "reject"):
        raise InputError("verdict is confirm or reject", field="verdict")
    dedup.decide(server_of(request).review(slug), pair_id, verdict == "confirm")
    return _see_other(f"/r/{slug}/import")


# --- screening ---------------------------------------------------------------------------------------


@router.get("/r/{slug}/screen", response_class=HTMLResponse)
def screen(request: Request, account: User, slug: str, stage: str = TITLE_ABSTRACT,
           record: int | None = None) -> Response:
    role = member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    stage = _stage(review, stage)
    me = account.name
    rid, remaining, mine_now = record, None, None
    if rid is None:
        nxt = next_record(review, me, stage, background=True, hold=HOLD_S)
        rid = nxt.record_id if nxt else None
        remaining = nxt.remaining if nxt else 0
    view = work.record_view(review, rid) if rid is not None else None
    if rid is not None and view is None:
        raise InputError(f"no record {rid}", field="record")
    if rid is not None:
        st = sd.state(review, rid, stage, me)
        mine_now = next((v for v in st.votes if v.reviewer == me), None)
    prog = sd.progress(review, stage)
    voted, left = work.own_progress(review, me, stage)
    stopping = _stopping(review) if stage == TITLE_ABSTRACT else []
    kw = review.protocol.screening.keywords
    reasons = list(getattr(review.protocol.exclusion_reasons, stage))
    retrieval = sd.retrieval_status(review).get(rid) if (rid and stage == FULL_TEXT) else None
    has_pdf = rid is not None and stage == FULL_TEXT and files.fulltext_path(server_of(request), slug, rid)
    return render(request, "screen.html", _ctx(
        request, account, slug, role, stage=stage, stages=review.protocol.screening.stages, record=view,
        remaining=remaining, mine=mine_now, progress=prog, voted=voted, left=left, stopping=stopping,
        include=kw.include,
        exclude=kw.exclude, reasons=reasons, retrieval=retrieval, has_pdf=bool(has_pdf),
        blind=review.protocol.screening.blind, idem_key=secrets.token_urlsafe(12),
    ))


def _stopping(review: Any) -> list[Any]:
    try:
        return stopping_status(review)
    except MetareviewError:
        return []


@router.post("/r/{slug}/screen")
def screen_decide(
    request: Request,
    account: User,
    slug: str,
    record_id: Annotated[int, Form()],
    decision: Annotated[str, Form()],
    stage: Annotated[str, Form()] = TITLE_ABSTRACT,
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    work.decide_once(review, f"{account.id}:{key}" if key else None, record_id, account.name, decision,
                     stage, reason or None, note or None)
    if back == "mine":
        return _see_other(f"/r/{slug}/mine?stage={stage}")
    return _see_other(f"/r/{slug}/screen?stage={stage}")


@router.post("/r/{slug}/screen/undo")
def screen_undo(request: Request, account: User, slug: str,
                stage: Annotated[str, Form()] = TITLE_ABSTRACT) -> Response:
    member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    last = work.last_own_vote(review, account.name, _stage(review, stage))
    if last is None:
        return _see_other(f"/r/{slug}/screen?stage={stage}")
    try:  # undo = retract one's own last vote (an appended event); the record is then shown again
        sd.retract(review, last, account.name, _stage(review, stage), "undo in the browser")
    except InputError:
        pass  # e.g. already resolved: the record is shown with the vote it keeps
    return _see_other(f"/r/{slug}/screen?stage={stage}&record={last}")


@router.get("/r/{slug}/mine", response_class=HTMLResponse)
def my_decisions(request: Request, account: User, slug: str, stage: str = TITLE_ABSTRACT,
                 q: str = "") -> Response:
    role = member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    rows = work.own_decisions(review, account.name, _stage(review, stage), q)
    return render(request, "mine.html", _ctx(request, account, slug, role, stage=stage, q=q, rows=rows,
                                             stages=review.protocol.screening.stages))


@router.post("/r/{slug}/fulltext/{record_id}")
async def upload_fulltext(request: Request, account: User, slug: str, record_id: int,
                          file: Annotated[UploadFile, File()]) -> Response:
    member(request, account, slug, REVIEWER)
    server = server_of(request)
    review = server.review(slug)
    await files.save_fulltext(server, slug, record_id, file)
    await run_in_threadpool(sd.mark_retrieval, review, record_id, account.name, True, note="PDF uploaded")
    return _see_other(f"/r/{slug}/screen?stage={FULL_TEXT}&record={record_id}")


@router.post("/r/{slug}/fulltext/{record_id}/not-retrieved")
def not_retrieved(request: Request, account: User, slug: str, record_id: int,
                  note: Annotated[str, Form()] = "") -> Response:
    member(request, account, slug, REVIEWER)
    sd.mark_retrieval(server_of(request).review(slug), record_id, account.name, False, note=note or None)
    return _see_other(f"/r/{slug}/screen?stage={FULL_TEXT}")


@router.get("/r/{slug}/fulltext/{record_id}.pdf")
def fulltext_pdf(request: Request, account: User, slug: str, record_id: int) -> Response:
    member(request, account, slug, VIEWER)
    path = files.fulltext_path(server_of(request), slug, record_id)
    if path is None:
        raise InputError(f"no full text uploaded for record {record_id}", field="record")
    return FileResponse(path, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="record-{record_id}.pdf"'})


# --- conflicts ---------------------------------------------------------------------------------------


@router.get("/r/{slug}/conflicts", response_class=HTMLResponse)
def conflicts(request: Request, account: User, slug: str, stage: str = TITLE_ABSTRACT) -> Response:
    role = member(request, account, slug, VIEWER)
    review = server_of(request).review(slug)
    items = [
        {"state": st, "record": work.record_view(review, st.record_id)}
        for st in sd.conflicts(review, _stage(review, stage), account.name)
    ]
    reasons = list(getattr(review.protocol.exclusion_reasons, stage))
    return render(request, "conflicts.html", _ctx(request, account, slug, role, stage=stage, items=items,
                                                  reasons=reasons, me=account.name,
                                                  stages=review.protocol.screening.stages))


@router.post("/r/{slug}/conflicts/{record_id}")
def resolve(
    request: Request,
    account: User,
    slug: str,
    record_id: int,
    decision: Annotated[str, Form()],
    stage: Annotated[str, Form()] = TITLE_ABSTRACT,
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    voted = any(v.reviewer == account.name for v in sd.state(review, record_id, stage, account.name).votes)
    sd.resolve(review, record_id, account.name, decision, stage, reason or None, note or None,
               method="consensus" if voted else "third_reviewer")
    return _see_other(f"/r/{slug}/conflicts?stage={stage}")


# --- members -----------------------------------------------------------------------------------------


@router.get("/r/{slug}/members", response_class=HTMLResponse)
def members_page(request: Request, account: User, slug: str, link: str = "") -> Response:
    role = member(request, account, slug, VIEWER)
    server = server_of(request)
    return render(request, "members.html", _ctx(
        request, account, slug, role, members=members.member_list(server, slug), roles=ROLES,
        invitations=members.open_invitations(server, slug) if role == OWNER else [], link=None,
    ))


@router.post("/r/{slug}/members/invite", response_class=HTMLResponse)
def invite(request: Request, account: User, slug: str, role: Annotated[str, Form()] = REVIEWER) -> Response:
    my_role = member(request, account, slug, OWNER)
    server = server_of(request)
    secret = members.invite(server, slug, account, role)
    link = str(request.base_url).rstrip("/") + f"/invite/{secret}"
    return render(request, "members.html", _ctx(
        request, account, slug, my_role, members=members.member_list(server, slug), roles=ROLES,
        invitations=members.open_invitations(server, slug), link=link,
    ))


@router.post("/r/{slug}/members/{user_id}/role")
def set_role(request: Request, account: User, slug: str, user_id: int,
             role: Annotated[str, Form()]) -> Response:
    members.set_role(server_of(request), slug, account, user_id, role)
    return _see_other(f"/r/{slug}/members")


@router.post("/r/{slug}/members/{user_id}/remove")
def remove_member(request: Request, account: User, slug: str, user_id: int) -> Response:
    members.remove(server_of(request), slug, account, user_id)
    return _see_other(f"/r/{slug}/members")


@router.post("/r/{slug}/invitations/{inv_id}/cancel")
def cancel_invitation(request: Request, account: User, slug: str, inv_id: int) -> Response:
    members.cancel_invitation(server_of(request), slug, account, inv_id)
    return _see_other(f"/r/{slug}/members")


__all__ = ["router", "review_agreement"]


# --- extraction --------------------------------------------------------------------------------------
# Every route calls metareview.team.extraction / metareview.extraction.dual (the engine of the CLI and the
# Python API), which applies blind extraction: another extractor's values are never returned before every
# extractor of that report has submitted.


def _me(review: Any, account: Account) -> str | None:
    """The account as an extractor (None when the extraction roster does not list it)."""
    from metareview.extraction import dual

    try:
        return dual.canonical_extractor(review.protocol, account.name)
    except InputError:
        return None


def _extraction_page(request: Request, account: Account, slug: str, role: str, report_id: str = "",
                     **state: Any) -> Response:
    from metareview.extraction import dual
    from metareview.extraction.amstar2 import ITEMS, allowed_answers
    from metareview.extraction.schema import form_schema
    from metareview.extraction.templates import included_reports_of
    from metareview.team import extraction as ex

    review = server_of(request).review(slug)
    me = _me(review, account)
    required = review.protocol.extraction.extractors_per_report
    bundle = ex.stored(review)
    included = included_reports_of(review) if review.protocol.screening.stages else []
    statuses = {st.report_id: st for st in dual.status(review, me)}
    current, mine = None, "none"
    if report_id and me is not None:
        current, mine = dual.my_extraction(review, report_id, me)
    citations = dict(included) | {r.id: r.citation for r in bundle.reports}
    keys = list(dict.fromkeys([*citations, *statuses]))
    schema = form_schema(review.protocol)
    ctx = {
        "bundle": bundle, "included": included, "items": ITEMS, "required": required, "me": me,
        "answers": {i: allowed_answers(i) for i in ITEMS}, "domains": review.protocol.outcome_domains,
        "report_fields": [f for f in schema["reports"] if f["role"] != "builtin"],
        "effect_fields": [f for f in schema["effect_sizes"] if f["role"] != "builtin"],
        "statuses": statuses, "keys": keys, "citations": citations, "report_id": report_id,
        "current": current, "mine": mine,
        "my_effects": list(zip(current.keys, current.effect_sizes, strict=True)) if current else [],
        "form": {}, "amstar": {}, "errors": {}, "which": "", "saved": "",
    }
    if current is not None and not state.get("errors"):
        rep = current.report
        ctx["form"] = {**{k: ("" if v is None else str(v)) for k, v in rep.model_dump(mode="json").items()
                          if k not in ("fields", "amstar2", "databases")},
                       "databases": ", ".join(rep.databases), **{k: str(v) for k, v in rep.fields.items()}}
        ctx["amstar"] = dict(rep.amstar2 or {})
        ctx["which"] = "report"
    elif report_id and not state.get("errors"):
        ctx["form"] = {"id": report_id, "citation": citations.get(report_id, "")}
        ctx["which"] = "report"
    ctx.update(state)
    return render(request, "extraction.html", _ctx(request, account, slug, role, **ctx),
                  status=400 if state.get("errors") else 200)


@router.get("/r/{slug}/extraction", response_class=HTMLResponse)
def extraction(request: Request, account: User, slug: str, saved: str = "", report: str = "") -> Response:
    role = member(request, account, slug, VIEWER)
    return _extraction_page(request, account, slug, role, report_id=report.strip()[:200], saved=saved)


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf"}


def _back(slug: str, report_id: str, saved: str) -> Response:
    from urllib.parse import urlencode

    return _see_other(f"/r/{slug}/extraction?" + urlencode({"report": report_id, "saved": saved}))


@router.post("/r/{slug}/extraction/report", response_class=HTMLResponse)
async def extraction_report(request: Request, account: User, slug: str) -> Response:
    from metareview.team import extraction as ex

    role = member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    form = await _form(request)
    amstar = {int(k[7:]): v for k, v in form.items() if k.startswith("amstar_") and k[7:].isdigit()}
    data = {k: v for k, v in form.items() if not k.startswith("amstar_")}
    report, errors = ex.validate_report(data, amstar, review.protocol)
    if errors:
        return _extraction_page(request, account, slug, role, report_id=form.get("id", ""), form=data,
                                amstar=amstar, errors=errors, which="report")
    ex.save(review, account.name, report=report)
    return _back(slug, report.id, f"report {report.id}")


@router.post("/r/{slug}/extraction/effect", response_class=HTMLResponse)
async def extraction_effect(request: Request, account: User, slug: str) -> Response:
    from metareview.team import extraction as ex

    role = member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    form = await _form(request)
    effect, errors = ex.validate_effect(form, review.protocol)
    if not errors:
        try:
            ex.check_known_report(review, effect.report_id, account.name)
        except InputError as exc:
            errors = {"report_id": exc.message}
    if errors:
        return _extraction_page(request, account, slug, role, report_id=form.get("report_id", ""), form=form,
                                errors=errors, which="effect")
    ex.save(review, account.name, effect=effect)
    return _back(slug, effect.report_id, "effect size")


@router.post("/r/{slug}/extraction/effect/remove")
def extraction_effect_remove(request: Request, account: User, slug: str, report_id: Annotated[str, Form()],
                             key: Annotated[str, Form()]) -> Response:
    from metareview.team import extraction as ex

    member(request, account, slug, REVIEWER)
    ex.save(server_of(request).review(slug), account.name, report_id=report_id, remove_effect=key)
    return _back(slug, report_id, "effect size removed")


@router.post("/r/{slug}/extraction/studies", response_class=HTMLResponse)
def extraction_studies(request: Request, account: User, slug: str, report_id: Annotated[str, Form()],
                       studies: Annotated[str, Form()]) -> Response:
    from metareview.team import extraction as ex

    role = member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    lst, errors = ex.validate_studies(report_id, studies)
    if not errors:
        try:
            ex.check_known_report(review, report_id, account.name)
            ex.save(review, account.name, studies=lst)
        except InputError as exc:
            errors = {exc.field or "studies": exc.message}
    if errors:
        form = {"report_id": report_id, "studies": studies}
        return _extraction_page(request, account, slug, role, report_id=report_id, form=form, errors=errors,
                                which="studies")
    return _back(slug, report_id, "primary studies")


@router.post("/r/{slug}/extraction/submit")
def extraction_submit(request: Request, account: User, slug: str,
                      report_id: Annotated[str, Form()]) -> Response:
    from metareview.extraction import dual

    member(request, account, slug, REVIEWER)
    dual.submit(server_of(request).review(slug), report_id, account.name)
    return _back(slug, report_id, "submitted")


@router.get("/r/{slug}/extraction/compare", response_class=HTMLResponse)
def extraction_compare(request: Request, account: User, slug: str, report: str = "",
                       all: str = "") -> Response:  # noqa: A002 - the query parameter's name
    """The comparison of the two extractions of a report (the owner or arbiter records consensus values
    here), or the list of reports that can be compared, with agreement per field."""
    from metareview.extraction import dual
    from metareview.extraction.field_agreement import extraction_agreement

    role = member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    ctx: dict[str, Any] = {"required": review.protocol.extraction.extractors_per_report, "report_id": report,
                           "comparison": None, "comparisons": [], "agreement": None, "all": bool(all)}
    if ctx["required"] > 1:
        if report:
            ctx["comparison"] = dual.compare(review, report, account.name, all_fields=bool(all))
        else:
            ctx["comparisons"] = dual.comparisons(review, account.name)
            ctx["agreement"] = extraction_agreement(review)
    return render(request, "extraction_compare.html", _ctx(request, account, slug, role, **ctx))


@router.post("/r/{slug}/extraction/consensus")
def extraction_consensus(request: Request, account: User, slug: str, report_id: Annotated[str, Form()],
                         field: Annotated[str, Form()], take: Annotated[str, Form()] = "",
                         value: Annotated[str, Form()] = "", correct: Annotated[str, Form()] = "",
                         note: Annotated[str, Form()] = "") -> Response:
    from urllib.parse import urlencode

    from metareview.extraction import dual

    member(request, account, slug, REVIEWER)
    review = server_of(request).review(slug)
    kwargs: dict[str, Any] = {"take": take} if take else {"value": value}
    dual.record_consensus(review, report_id, field, account.name, correct=bool(correct), note=note or None,
                          **kwargs)
    return _see_other(f"/r/{slug}/extraction/compare?" + urlencode({"report": report_id}))
