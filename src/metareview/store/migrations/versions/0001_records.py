"""records: searches, records, duplicate clusters and uncertain duplicate pairs

Revision ID: 0001_records
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_records"
down_revision = None
branch_labels = None
depends_on = None


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{columns[0]}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("database", sa.String(length=200), nullable=False),
        sa.Column("searched_on", sa.Date(), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=1000), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("file_format", sa.String(length=20), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_searches")),
        sa.UniqueConstraint("file_hash", name=op.f("uq_searches_file_hash")),
    )
    _index("searches", "database")

    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("journal", sa.Text(), nullable=False),
        sa.Column("volume", sa.String(length=100), nullable=False),
        sa.Column("issue", sa.String(length=100), nullable=False),
        sa.Column("pages", sa.String(length=100), nullable=False),
        sa.Column("doi", sa.String(length=300), nullable=False),
        sa.Column("pmid", sa.String(length=20), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("publication_types", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=100), nullable=False),
        sa.Column("source_database", sa.String(length=200), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["search_id"], ["searches.id"], name=op.f("fk_records_search_id_searches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
    )
    _index("records", "doi")
    _index("records", "pmid")
    _index("records", "search_id")

    op.create_table(
        "duplicate_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_record_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("merged", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kept_record_id"], ["records.id"], name=op.f("fk_duplicate_clusters_kept_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_clusters")),
    )
    _index("duplicate_clusters", "kept_record_id")

    op.create_table(
        "duplicate_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_a_id", sa.Integer(), nullable=False),
        sa.Column("record_b_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_a_id"], ["records.id"], name=op.f("fk_duplicate_pairs_record_a_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["record_b_id"], ["records.id"], name=op.f("fk_duplicate_pairs_record_b_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_pairs")),
        sa.UniqueConstraint("record_a_id", "record_b_id", name=op.f("uq_duplicate_pairs_record_a_id")),
    )
    _index("duplicate_pairs", "record_a_id")
    _index("duplicate_pairs", "record_b_id")
    _index("duplicate_pairs", "status")

    op.create_table(
        "cluster_members",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["duplicate_clusters.id"],
            name=op.f("fk_cluster_members_cluster_id_duplicate_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_cluster_members_record_id_records")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_cluster_members")),
    )
    _index("cluster_members", "cluster_id")


def downgrade() -> None:
    for table in ("cluster_members", "duplicate_pairs", "duplicate_clusters", "records", "searches"):
        op.drop_table(table)
