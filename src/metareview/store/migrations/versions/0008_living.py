"""living reviews: update batches, the searches of each update, report versions

Revision ID: 0008_living
Revises: 0003_extraction
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_living"
down_revision = "0007_forms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "update_batches",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_update_batches")),
    )
    op.create_table(
        "batch_searches",
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column("batch_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["search_id"], ["searches.id"], name=op.f("fk_batch_searches_search_id_searches")
        ),
        sa.ForeignKeyConstraint(
            ["batch_number"],
            ["update_batches.number"],
            name=op.f("fk_batch_searches_batch_number_update_batches"),
        ),
        sa.PrimaryKeyConstraint("search_id", name=op.f("pk_batch_searches")),
    )
    op.create_index(op.f("ix_batch_searches_batch_number"), "batch_searches", ["batch_number"])
    op.create_table(
        "report_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_report_versions")),
    )


def downgrade() -> None:
    op.drop_table("report_versions")
    op.drop_index(op.f("ix_batch_searches_batch_number"), table_name="batch_searches")
    op.drop_table("batch_searches")
    op.drop_table("update_batches")
