"""deduplication events: runs and pair decisions, appended (status says when dedup has not run)

Revision ID: 0010_dedup_runs
Revises: 0008_living
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_dedup_runs"
down_revision = "0009_appraisal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedup_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["duplicate_pairs.id"], name=op.f("fk_dedup_events_pair_id_duplicate_pairs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_events")),
    )
    op.create_index(op.f("ix_dedup_events_kind"), "dedup_events", ["kind"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dedup_events_kind"), table_name="dedup_events")
    op.drop_table("dedup_events")
