"""screening: decision events (votes and resolutions), full-text retrieval events, cached embeddings

Revision ID: 0002_screening
Revises: 0001_records
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_screening"
down_revision = "0001_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("previous_decision", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_screening_events_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_events")),
    )
    for col in ("record_id", "stage", "reviewer"):
        op.create_index(op.f(f"ix_screening_events_{col}"), "screening_events", [col])

    op.create_table(
        "retrieval_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("previous_status", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_retrieval_events_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrieval_events")),
    )
    op.create_index(op.f("ix_retrieval_events_record_id"), "retrieval_events", ["record_id"])

    op.create_table(
        "record_embeddings",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_embeddings_record_id_records")
        ),
        sa.PrimaryKeyConstraint("record_id", "model", name=op.f("pk_record_embeddings")),
    )


def downgrade() -> None:
    op.drop_table("record_embeddings")
    op.drop_index(op.f("ix_retrieval_events_record_id"), table_name="retrieval_events")
    op.drop_table("retrieval_events")
    for col in ("record_id", "stage", "reviewer"):
        op.drop_index(op.f(f"ix_screening_events_{col}"), table_name="screening_events")
    op.drop_table("screening_events")
