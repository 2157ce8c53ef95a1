"""Repository functions of the team server (the only SQL of ``metareview.team``).

Example::

    from metareview.store import team_repo
    user = team_repo.user_by_name(session, "ana")
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from metareview.store.team_models import (
    ApiToken,
    HostedReview,
    IdempotentRequest,
    Invitation,
    Membership,
    SigninAttempt,
    User,
    WebSession,
)


def now() -> datetime:
    """The current time (UTC, aware)."""
    return datetime.now(UTC)


def aware(t: datetime) -> datetime:
    """SQLite gives naive datetimes back: read them as UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


# --- users -------------------------------------------------------------------------------------------


def add_user(session: Session, name: str, password_hash: str, is_admin: bool = False) -> User | None:
    """A new account, or None when the name is taken."""
    user = User(name=name, password_hash=password_hash, is_admin=is_admin, created_at=now())
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        return None
    return user


def user_by_name(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def set_password(session: Session, user: User, password_hash: str) -> None:
    user.password_hash = password_hash


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


# --- reviews and members -----------------------------------------------------------------------------


def add_review(session: Session, slug: str, title: str) -> HostedReview | None:
    """A new hosted review, or None when the slug is taken."""
    rv = HostedReview(slug=slug, title=title, created_at=now())
    try:
        with session.begin_nested():
            session.add(rv)
            session.flush()
    except IntegrityError:
        return None
    return rv


def review_by_slug(session: Session, slug: str) -> HostedReview | None:
    return session.scalar(select(HostedReview).where(HostedReview.slug == slug))


def review_by_id(session: Session, review_id: int) -> HostedReview | None:
    return session.get(HostedReview, review_id)


def reviews_of(session: Session, user_id: int) -> list[tuple[HostedReview, str]]:
    """(review, role) for every review ``user_id`` is a member of."""
    rows = session.execute(
        select(HostedReview, Membership.role)
        .join(Membership, Membership.review_id == HostedReview.id)
        .where(Membership.user_id == user_id)
        .order_by(HostedReview.created_at)
    )
    return [(r, role) for r, role in rows]


def membership(session: Session, review_id: int, user_id: int) -> Membership | None:
    return session.get(Membership, (review_id, user_id))


def set_member(session: Session, review_id: int, user_id: int, role: str) -> None:
    """Add the member or change their role."""
    m = session.get(Membership, (review_id, user_id))
    if m is None:
        session.add(Membership(review_id=review_id, user_id=user_id, role=role, created_at=now()))
    else:
        m.role = role
    session.flush()


def remove_member(session: Session, review_id: int, user_id: int) -> bool:
    res = session.execute(
        delete(Membership).where(Membership.review_id == review_id, Membership.user_id == user_id)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def members(session: Session, review_id: int) -> list[tuple[User, str]]:
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.review_id == review_id)
        .order_by(User.name)
    )
    return [(u, role) for u, role in rows]


def count_role(session: Session, review_id: int, role: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.review_id == review_id, Membership.role == role)
        )
        or 0
    )


# --- invitations -------------------------------------------------------------------------------------


def add_invitation(
    session: Session, review_id: int, role: str, token_hash: str, created_by: int, expires_at: datetime
) -> Invitation:
    inv = Invitation(
        review_id=review_id,
        role=role,
        token_hash=token_hash,
        created_by=created_by,
        created_at=now(),
        expires_at=expires_at,
    )
    session.add(inv)
    session.flush()
    return inv


def invitation_by_hash(session: Session, token_hash: str, lock: bool = False) -> Invitation | None:
    stmt = select(Invitation).where(Invitation.token_hash == token_hash)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def claim_invitation(session: Session, inv_id: int, user_id: int) -> bool:
    """Mark an unused invitation used (atomically: False if another request used it first)."""
    from sqlalchemy import update

    res = session.execute(
        update(Invitation)
        .where(Invitation.id == inv_id, Invitation.used_at.is_(None))
        .values(used_at=now(), used_by=user_id)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def open_invitations(session: Session, review_id: int) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.review_id == review_id, Invitation.used_at.is_(None))
            .order_by(Invitation.id)
        )
    )


def delete_invitation(session: Session, review_id: int, inv_id: int) -> None:
    session.execute(delete(Invitation).where(Invitation.id == inv_id, Invitation.review_id == review_id))


# --- sessions and tokens -----------------------------------------------------------------------------


def add_session(session: Session, sid_hash: str, user_id: int, csrf: str, expires_at: datetime) -> None:
    session.add(WebSession(id=sid_hash, user_id=user_id, csrf=csrf, created_at=now(), expires_at=expires_at))


def get_session(session: Session, sid_hash: str) -> WebSession | None:
    return session.get(WebSession, sid_hash)


def delete_session(session: Session, sid_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == sid_hash))


def add_token(session: Session, user_id: int, label: str, token_hash: str) -> ApiToken:
    tok = ApiToken(user_id=user_id, label=label, token_hash=token_hash, created_at=now())
    session.add(tok)
    session.flush()
    return tok


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


_TOKEN_USER = (
    select(ApiToken.id, ApiToken.last_used_at, User.id, User.name, User.is_admin)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def token_user(session: Session, token_hash: str) -> tuple[int, datetime | None, int, str, bool] | None:
    """(token id, token last used, user id, user name, user is admin) of a token, in one query."""
    row = session.connection().execute(_TOKEN_USER, {"token_hash": token_hash}).first()
    return None if row is None else (int(row[0]), row[1], int(row[2]), str(row[3]), bool(row[4]))


def touch_token(session: Session, token_id: int, at: datetime) -> None:
    """Note when a token was last used."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


_ROLE = (
    select(Membership.role)
    .join(HostedReview, HostedReview.id == Membership.review_id)
    .where(HostedReview.slug == bindparam("slug"), Membership.user_id == bindparam("user_id"))
)


def role_in(session: Session, slug: str, user_id: int) -> str | None:
    """A user's role in the review ``slug`` (None when not a member), in one query."""
    role = session.connection().execute(_ROLE, {"slug": slug, "user_id": user_id}).scalar()
    return None if role is None else str(role)


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def delete_token(session: Session, user_id: int, token_id: int) -> None:
    session.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))


# --- sign-in attempts --------------------------------------------------------------------------------


def add_failed_signin(session: Session, keys: list[str]) -> None:
    stamp = now()
    session.add_all([SigninAttempt(key=k, at=stamp) for k in keys])


def failed_signins_since(session: Session, key: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SigninAttempt)
            .where(SigninAttempt.key == key, SigninAttempt.at >= since)
        )
        or 0
    )


def clear_signins(session: Session, key: str) -> None:
    session.execute(delete(SigninAttempt).where(SigninAttempt.key == key))


# --- idempotency and vote serialisation (in a review's store) ----------------------------------------


_IDEMPOTENT = select(IdempotentRequest.response).where(IdempotentRequest.key == bindparam("key"))


def idempotent_response(session: Session, key: str) -> dict[str, Any] | None:
    """The stored answer to the request with this idempotency key (None: not seen)."""
    row = session.connection().execute(_IDEMPOTENT, {"key": key}).first()
    return None if row is None else dict(row[0])


def save_idempotent_response(session: Session, key: str, response: dict[str, Any]) -> None:
    """Store the answer to the request with this idempotency key (in the transaction of its vote)."""
    session.connection().execute(
        insert(IdempotentRequest), {"key": key, "response": response, "created_at": now()}
    )
