"""team server: accounts, hosted reviews, memberships, invitations, sessions, API tokens, sign-in
attempts, idempotent requests

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003_extraction"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "team_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_users")),
        sa.UniqueConstraint("name", name=op.f("uq_team_users_name")),
    )
    op.create_table(
        "team_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_reviews")),
        sa.UniqueConstraint("slug", name=op.f("uq_team_reviews_slug")),
    )
    op.create_table(
        "team_members",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["team_reviews.id"], ondelete="CASCADE",
                                name=op.f("fk_team_members_review_id_team_reviews")),
        sa.ForeignKeyConstraint(["user_id"], ["team_users.id"], ondelete="CASCADE",
                                name=op.f("fk_team_members_user_id_team_users")),
        sa.PrimaryKeyConstraint("review_id", "user_id", name=op.f("pk_team_members")),
    )
    op.create_table(
        "team_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["review_id"], ["team_reviews.id"], ondelete="CASCADE",
                                name=op.f("fk_team_invitations_review_id_team_reviews")),
        sa.ForeignKeyConstraint(["created_by"], ["team_users.id"],
                                name=op.f("fk_team_invitations_created_by_team_users")),
        sa.ForeignKeyConstraint(["used_by"], ["team_users.id"],
                                name=op.f("fk_team_invitations_used_by_team_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_team_invitations_token_hash")),
    )
    op.create_index(op.f("ix_team_invitations_review_id"), "team_invitations", ["review_id"])
    op.create_table(
        "team_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["team_users.id"], ondelete="CASCADE",
                                name=op.f("fk_team_sessions_user_id_team_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_sessions")),
    )
    op.create_index(op.f("ix_team_sessions_user_id"), "team_sessions", ["user_id"])
    op.create_table(
        "team_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_used_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["team_users.id"], ondelete="CASCADE",
                                name=op.f("fk_team_tokens_user_id_team_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_team_tokens_token_hash")),
    )
    op.create_index(op.f("ix_team_tokens_user_id"), "team_tokens", ["user_id"])
    op.create_table(
        "team_signin_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_signin_attempts")),
    )
    op.create_index(op.f("ix_team_signin_attempts_key"), "team_signin_attempts", ["key"])
    op.create_index(op.f("ix_team_signin_attempts_at"), "team_signin_attempts", ["at"])
    op.create_table(
        "team_idempotency",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_team_idempotency")),
    )


def downgrade() -> None:
    for name in ("team_idempotency", "team_signin_attempts", "team_tokens", "team_sessions",
                 "team_invitations", "team_members", "team_reviews", "team_users"):
        op.drop_table(name)
