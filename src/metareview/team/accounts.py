"""Accounts, passwords (argon2id), browser sessions, personal API tokens and sign-in rate limiting.

Secrets (session cookies, API tokens, invitation links) are random; only their SHA-256 is stored.
Failed sign-ins are stored in the server database, so the limit holds across app processes.

Example::

    user = create_user(server, "ana", "correct horse battery staple", admin=True)
    sid, csrf = authenticate(server, "ana", "correct horse battery staple", client="127.0.0.1")
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from metareview.errors import InputError, MetareviewError
from metareview.store import team_repo as repo
from metareview.team.server import Server

MIN_PASSWORD = 10
SESSION_DAYS = 14
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown name (the same time as a known one); made on first use,
    not when the module is imported (argon2 is slow by design)."""
    return _HASHER.hash("not a password of anyone")


class SigninRefused(MetareviewError):
    """Wrong name or password (one message for both)."""


class RateLimited(MetareviewError):
    """Too many failed sign-ins for this name or client address."""


@dataclass(frozen=True)
class Account:
    """The signed-in user as the web layer sees it."""

    id: int
    name: str
    is_admin: bool
    csrf: str | None = None


def digest(secret: str) -> str:
    """SHA-256 hex of a secret (what the store keeps)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_name(name: str) -> str:
    """Sign-in names are matched case- and whitespace-insensitively."""
    return " ".join(name.split()).lower()


def check_name(name: str) -> str:
    name = normalise_name(name)
    if not name or len(name) > 100 or any(c in name for c in "<>&\"'/\\"):
        raise InputError("a name is 1-100 characters without < > & \" ' / \\", field="name")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    return password


def create_user(server: Server, name: str, password: str, admin: bool = False) -> Account:
    """A new account; refuses a taken name."""
    name = check_name(name)
    hashed = _HASHER.hash(check_password(password))
    with server.session() as s:
        user = repo.add_user(s, name, hashed, admin)
        if user is None:
            raise InputError(f"the name {name!r} is taken", field="name")
        return Account(user.id, user.name, user.is_admin)


def authenticate_id(server: Server, name: str) -> int:
    """The id of the account called ``name`` (:class:`InputError` if none)."""
    with server.session() as s:
        user = repo.user_by_name(s, normalise_name(name))
        if user is None:
            raise InputError(f"no account {name!r}", field="name")
        return user.id


def user_count(server: Server) -> int:
    with server.session() as s:
        return repo.count_users(s)


def authenticate(server: Server, name: str, password: str, client: str = "") -> tuple[str, str]:
    """Check a password and open a session: (cookie secret, CSRF token).

    More than :data:`MAX_FAILURES` failures for the name or the client address within
    :data:`FAILURE_WINDOW` refuse further attempts (:class:`RateLimited`) until the window passes.
    """
    key_name = "name:" + normalise_name(name)
    keys = [key_name] + (["addr:" + client] if client else [])
    since = repo.now() - FAILURE_WINDOW
    with server.session() as s:
        if any(repo.failed_signins_since(s, k, since) >= MAX_FAILURES for k in keys):
            raise RateLimited("too many failed sign-ins: wait 15 minutes")
        user = repo.user_by_name(s, normalise_name(name))
        ok = False
        try:
            ok = _HASHER.verify(user.password_hash if user else _dummy_hash(), password) and user is not None
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok or user is None:
        with server.session() as s:
            repo.add_failed_signin(s, keys)
        raise SigninRefused("wrong name or password")
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with server.session() as s:
        repo.clear_signins(s, key_name)
        if _HASHER.check_needs_rehash(user.password_hash):
            u = repo.user_by_id(s, user.id)
            if u is not None:
                repo.set_password(s, u, _HASHER.hash(password))
        repo.add_session(s, digest(sid), user.id, csrf, repo.now() + timedelta(days=SESSION_DAYS))
    return sid, csrf


def session_account(server: Server, sid: str) -> Account | None:
    """The account behind a session cookie (None when unknown or expired)."""
    with server.session() as s:
        ws = repo.get_session(s, digest(sid))
        if ws is None:
            return None
        if repo.aware(ws.expires_at) < repo.now():
            repo.delete_session(s, ws.id)
            return None
        user = repo.user_by_id(s, ws.user_id)
        return None if user is None else Account(user.id, user.name, user.is_admin, ws.csrf)


def sign_out(server: Server, sid: str) -> None:
    with server.session() as s:
        repo.delete_session(s, digest(sid))


def create_token(server: Server, user_id: int, label: str) -> str:
    """A new personal API token (shown once; only its hash is kept)."""
    label = label.strip()[:100] or "token"
    secret = "mrt_" + secrets.token_urlsafe(32)
    with server.session() as s:
        repo.add_token(s, user_id, label, digest(secret))
    return secret


TOKEN_USE_PRECISION = timedelta(minutes=1)
"""A token's "last used" time is written at most this often (a script's every request would otherwise
be a write to the server database)."""


def token_account(server: Server, secret: str) -> Account | None:
    """The account behind a personal API token (None when unknown or revoked)."""
    with server.reading() as s:
        found = repo.token_user(s, digest(secret))
    if found is None:
        return None
    token_id, last_used, user_id, name, is_admin = found
    now = repo.now()
    if last_used is None or now - repo.aware(last_used) >= TOKEN_USE_PRECISION:
        with server.session() as s:
            repo.touch_token(s, token_id, now)
    return Account(user_id, name, is_admin)


def list_tokens(server: Server, user_id: int) -> list[dict[str, object]]:
    with server.session() as s:
        return [
            {"id": t.id, "label": t.label, "created_at": t.created_at, "last_used_at": t.last_used_at}
            for t in repo.tokens_of(s, user_id)
        ]


def revoke_token(server: Server, user_id: int, token_id: int) -> None:
    with server.session() as s:
        repo.delete_token(s, user_id, token_id)
