"""extraction: meta-analysis reports (with AMSTAR 2), effect sizes, primary-study lists

Revision ID: 0003_extraction
Revises: 0002_screening
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_extraction"
down_revision = "0002_screening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ma_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("doi", sa.String(length=300), nullable=True),
        sa.Column("search_date", sa.Date(), nullable=True),
        sa.Column("databases", sa.JSON(), nullable=False),
        sa.Column("n_studies", sa.Integer(), nullable=True),
        sa.Column("n_participants", sa.Integer(), nullable=True),
        sa.Column("amstar2", sa.JSON(), nullable=True),
        sa.Column("amstar2_confidence", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ma_reports")),
        sa.UniqueConstraint("key", name=op.f("uq_ma_reports_key")),
    )
    op.create_table(
        "effect_sizes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("outcome_domain", sa.String(length=200), nullable=False),
        sa.Column("comparison", sa.Text(), nullable=False),
        sa.Column("sample", sa.String(length=40), nullable=False),
        sa.Column("support_provider", sa.String(length=40), nullable=False),
        sa.Column("rct_quality", sa.String(length=20), nullable=True),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=False),
        sa.Column("ci_lower", sa.Float(), nullable=True),
        sa.Column("ci_upper", sa.Float(), nullable=True),
        sa.Column("p", sa.Float(), nullable=True),
        sa.Column("k", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("higher_favours", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["ma_reports.id"], ondelete="CASCADE",
                                name=op.f("fk_effect_sizes_report_id_ma_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_effect_sizes")),
    )
    op.create_index(op.f("ix_effect_sizes_report_id"), "effect_sizes", ["report_id"])
    op.create_table(
        "primary_studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("doi", sa.String(length=300), nullable=True),
        sa.Column("publication_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["ma_reports.id"], ondelete="CASCADE",
                                name=op.f("fk_primary_studies_report_id_ma_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_primary_studies")),
        sa.UniqueConstraint("report_id", "label", name="uq_primary_studies_report_id_label"),
    )
    op.create_index(op.f("ix_primary_studies_report_id"), "primary_studies", ["report_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_primary_studies_report_id"), table_name="primary_studies")
    op.drop_table("primary_studies")
    op.drop_index(op.f("ix_effect_sizes_report_id"), table_name="effect_sizes")
    op.drop_table("effect_sizes")
    op.drop_table("ma_reports")
