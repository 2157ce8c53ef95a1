"""dual extraction and studies: the extraction history (drafts, submissions, consensus values,
corrections, migrations), a lock row per report, a stable effect-size key, and reports linked to studies

Revision ID: 0011_extract
Revises: 0010_dedup_runs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_extract"
down_revision = "0010_dedup_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("effect_sizes", sa.Column("effect_id", sa.String(length=200), nullable=True))
    op.create_table(
        "extraction_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=500), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction_events")),
    )
    op.create_index(op.f("ix_extraction_events_report_key"), "extraction_events", ["report_key"])
    op.create_table(
        "extraction_locks",
        sa.Column("report_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("report_key", name=op.f("pk_extraction_locks")),
    )
    op.create_table(
        "study_link_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("study", sa.String(length=200), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"],
                                name=op.f("fk_study_link_events_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_link_events")),
    )
    op.create_index(op.f("ix_study_link_events_record_id"), "study_link_events", ["record_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_study_link_events_record_id"), table_name="study_link_events")
    op.drop_table("study_link_events")
    op.drop_table("extraction_locks")
    op.drop_index(op.f("ix_extraction_events_report_key"), table_name="extraction_events")
    op.drop_table("extraction_events")
    if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place (no table rebuild)
        op.execute("ALTER TABLE effect_sizes DROP COLUMN effect_id")
    else:
        op.drop_column("effect_sizes", "effect_id")
