"""Who is asking: session cookies, Bearer tokens, CSRF checks and membership checks for every route.

* A browser session is a random secret in the ``mr_session`` cookie (HttpOnly, SameSite=Lax, Secure when
  served over HTTPS); the server database keeps its SHA-256 and the session's CSRF token.
* Every state-changing request authenticated by the cookie must carry that CSRF token (form field
  ``csrf`` or header ``X-CSRF-Token``); requests with ``Authorization: Bearer <token>`` need none
  (a browser never sends that header by itself).
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from metareview.team import accounts
from metareview.team.accounts import Account
from metareview.team.members import require
from metareview.team.server import VIEWER, Server

COOKIE = "mr_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class NeedSignin(Exception):
    """Raised for a page request without a valid session (answered with a redirect to /signin)."""


def server_of(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


def identify(request: Request) -> tuple[Account | None, bool]:
    """(account, by_token) for the request; account None when not signed in."""
    server = server_of(request)
    token = _bearer(request)
    if token:
        return accounts.token_account(server, token), True
    sid = request.cookies.get(COOKIE)
    if sid:
        return accounts.session_account(server, sid), False
    return None, False


async def check_csrf(request: Request, account: Account, by_token: bool) -> None:
    if request.method in SAFE_METHODS or by_token:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf")
            sent = value if isinstance(value, str) else None
    if not sent or not account.csrf or not hmac.compare_digest(sent, account.csrf):
        raise HTTPException(403, "missing or wrong CSRF token")


async def page_user(request: Request) -> Account:
    """Dependency of every page: a signed-in account (else a redirect to /signin); CSRF on POST.
    The database look-up runs on the thread pool, never on the event loop (which serves every
    request of the process)."""
    account, by_token = await run_in_threadpool(identify, request)
    if account is None:
        raise NeedSignin()
    await check_csrf(request, account, by_token)
    request.state.account = account
    return account


async def api_user(request: Request) -> Account:
    """Dependency of every API route: a token or session (else 401); CSRF for cookie sessions."""
    account, by_token = await run_in_threadpool(identify, request)
    if account is None:
        raise HTTPException(401, "sign in or send Authorization: Bearer <API token>",
                            headers={"WWW-Authenticate": "Bearer"})
    await check_csrf(request, account, by_token)
    return account


def member(request: Request, account: Account, slug: str, at_least: str = VIEWER) -> str:
    """The account's role in review ``slug`` (404 for non-members, as if the review did not exist)."""
    return require(server_of(request), slug, account, at_least)
