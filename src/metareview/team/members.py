"""Membership of hosted reviews: roles, the checks every route makes, one-time invitations.

Roles: ``owner`` (everything, including members and conflicts), ``reviewer`` (screens, resolves
conflicts it did not vote on, extracts), ``viewer`` (reads the dashboard). Example::

    role = require(server, "my-review", account, REVIEWER)     # raises Forbidden for non-members
    link = invite(server, "my-review", account, REVIEWER)     # secret of a one-time link
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from metareview.errors import InputError, MetareviewError
from metareview.store import team_repo as repo
from metareview.team.accounts import Account, check_name, check_password, create_user, digest
from metareview.team.server import OWNER, REVIEWER, ROLES, VIEWER, Server

_RANK = {VIEWER: 0, REVIEWER: 1, OWNER: 2}
INVITATION_DAYS = 14


class Forbidden(MetareviewError):
    """Not a member of that review, or a role too low for the action (also for unknown reviews)."""


@dataclass(frozen=True)
class HostedView:
    slug: str
    title: str
    role: str


def require(server: Server, slug: str, account: Account, at_least: str = VIEWER) -> str:
    """``account``'s role in review ``slug``; :class:`Forbidden` when not a member or the role is lower."""
    with server.reading() as s:
        role = repo.role_in(s, slug, account.id)
    if role is None or _RANK[role] < _RANK[at_least]:
        raise Forbidden("no such review, or you may not do that here")
    return role


def my_reviews(server: Server, account: Account) -> list[HostedView]:
    with server.session() as s:
        return [HostedView(r.slug, r.title, role) for r, role in repo.reviews_of(s, account.id)]


def hosted_title(server: Server, slug: str) -> str:
    with server.session() as s:
        hosted = repo.review_by_slug(s, slug)
        return hosted.title if hosted else slug


def member_list(server: Server, slug: str) -> list[dict[str, object]]:
    with server.session() as s:
        hosted = repo.review_by_slug(s, slug)
        if hosted is None:
            return []
        return [{"id": u.id, "name": u.name, "role": role} for u, role in repo.members(s, hosted.id)]


def reviewer_names(server: Server, slug: str) -> list[str]:
    """Names of the members who may vote."""
    return [str(m["name"]) for m in member_list(server, slug) if m["role"] in (OWNER, REVIEWER)]


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", field="role")
    return role


def set_role(server: Server, slug: str, by: Account, user_id: int, role: str) -> None:
    """The owner changes a member's role; the last owner cannot step down."""
    require(server, slug, by, OWNER)
    _check_role(role)
    with server.session() as s:
        hosted = repo.review_by_slug(s, slug)
        assert hosted is not None
        m = repo.membership(s, hosted.id, user_id)
        if m is None:
            raise InputError("not a member of this review", field="user")
        if m.role == OWNER and role != OWNER and repo.count_role(s, hosted.id, OWNER) <= 1:
            raise InputError("a review keeps at least one owner", field="role")
        repo.set_member(s, hosted.id, user_id, role)


def remove(server: Server, slug: str, by: Account, user_id: int) -> None:
    """The owner removes a member (their votes stay in the event log); the last owner stays."""
    require(server, slug, by, OWNER)
    with server.session() as s:
        hosted = repo.review_by_slug(s, slug)
        assert hosted is not None
        m = repo.membership(s, hosted.id, user_id)
        if m is None:
            return
        if m.role == OWNER and repo.count_role(s, hosted.id, OWNER) <= 1:
            raise InputError("a review keeps at least one owner", field="user")
        repo.remove_member(s, hosted.id, user_id)


def invite(server: Server, slug: str, by: Account, role: str = REVIEWER) -> str:
    """A one-time invitation secret for ``role`` (valid :data:`INVITATION_DAYS` days)."""
    require(server, slug, by, OWNER)
    _check_role(role)
    secret = secrets.token_urlsafe(24)
    with server.session() as s:
        hosted = repo.review_by_slug(s, slug)
        assert hosted is not None
        repo.add_invitation(
            s, hosted.id, role, digest(secret), by.id, repo.now() + timedelta(days=INVITATION_DAYS)
        )
    return secret


def open_invitations(server: Server, slug: str) -> list[dict[str, object]]:
    with server.session() as s:
        hosted = repo.review_by_slug(s, slug)
        if hosted is None:
            return []
        return [
            {"id": i.id, "role": i.role, "expires_at": i.expires_at}
            for i in repo.open_invitations(s, hosted.id)
        ]


def cancel_invitation(server: Server, slug: str, by: Account, inv_id: int) -> None:
    require(server, slug, by, OWNER)
    with server.session() as s:
        hosted = repo.review_by_slug(s, slug)
        assert hosted is not None
        repo.delete_invitation(s, hosted.id, inv_id)


def invitation_info(server: Server, secret: str) -> tuple[str, str, str] | None:
    """(review slug, review title, role) of a usable invitation, else None."""
    with server.session() as s:
        inv = repo.invitation_by_hash(s, digest(secret))
        if inv is None or inv.used_at is not None or repo.aware(inv.expires_at) < repo.now():
            return None
        hosted = repo.review_by_id(s, inv.review_id)
        return (hosted.slug, hosted.title, inv.role) if hosted else None


def accept(
    server: Server, secret: str, account: Account | None, name: str = "", password: str = ""
) -> tuple[Account, str]:
    """Use an invitation: the signed-in ``account`` joins, or a new account ``name`` is created.
    Returns (account, review slug). Each link works once."""
    info = invitation_info(server, secret)
    if info is None:
        raise InputError("this invitation link is not valid (used, expired or unknown)", field="invitation")
    if account is None:
        check_name(name)
        check_password(password)
        account = create_user(server, name, password)
    with server.session() as s:
        inv = repo.invitation_by_hash(s, digest(secret), lock=True)
        if inv is None or not repo.claim_invitation(s, inv.id, account.id):
            raise InputError("this invitation link was used already", field="invitation")
        existing = repo.membership(s, inv.review_id, account.id)
        if existing is None or _RANK[existing.role] < _RANK[inv.role]:
            repo.set_member(s, inv.review_id, account.id, inv.role)
    return account, info[0]
