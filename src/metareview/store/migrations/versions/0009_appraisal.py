"""appraisals: RoB 2, RoB 1 and ROBIS forms

Revision ID: 0009_appraisal
Revises: 0008_living
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_appraisal"
down_revision = "0008_living"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appraisals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("overall", sa.String(length=20), nullable=False),
        sa.Column("weight", sa.Float(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraisals")),
        sa.UniqueConstraint("tool", "subject", name="uq_appraisals_tool_subject"),
    )


def downgrade() -> None:
    op.drop_table("appraisals")
