"""Store models of the team server, created by migration ``0005_team``.

They live in the *server* database (``server.sqlite`` in the server's data folder, or the database given
with ``--db``), beside the review workspaces the server hosts:

* :class:`User` — an account (argon2 password hash only);
* :class:`HostedReview` — a review the server hosts (its slug names its workspace folder);
* :class:`Membership` — a user's role in a review: owner, reviewer or viewer;
* :class:`Invitation` — a one-time invitation link (only the SHA-256 of its secret is kept);
* :class:`WebSession` — a signed-in browser (hash of the cookie's secret, CSRF token, expiry);
* :class:`ApiToken` — a personal API token for scripts (hash only);
* :class:`SigninAttempt` — failed sign-ins, for rate limiting shared by every app process;
* :class:`IdempotentRequest` — the answer already given to a request with an ``Idempotency-Key``; it is
  written in the *review's* store, in the same transaction as the vote it guards.

Example::

    from metareview.store.team_models import User
    User.__tablename__    # 'team_users'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from metareview.store.base import Base


class User(Base):
    """An account. ``name`` is stored lower-cased and stripped (the sign-in name)."""

    __tablename__ = "team_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HostedReview(Base):
    """A review hosted by the server."""

    __tablename__ = "team_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Membership(Base):
    """``user`` has ``role`` (owner / reviewer / viewer) in ``review``."""

    __tablename__ = "team_members"

    review_id: Mapped[int] = mapped_column(
        ForeignKey("team_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("team_users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Invitation(Base):
    """A one-time invitation to join ``review`` with ``role``."""

    __tablename__ = "team_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("team_reviews.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("team_users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[int | None] = mapped_column(ForeignKey("team_users.id"))


class WebSession(Base):
    """A signed-in browser: the cookie carries a secret whose SHA-256 is ``id``."""

    __tablename__ = "team_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("team_users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A personal API token (Bearer); only its SHA-256 is stored."""

    __tablename__ = "team_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("team_users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SigninAttempt(Base):
    """A failed sign-in, keyed by lower-cased name and by client address."""

    __tablename__ = "team_signin_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class IdempotentRequest(Base):
    """The stored answer to a request carrying ``Idempotency-Key`` (kept in the review's store)."""

    __tablename__ = "team_idempotency"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
