"""protocol-declared extraction fields: one generic table of field values; the reference review's
hard-coded effect-size columns (sample, support_provider, rct_quality) move into it

Revision ID: 0007_forms
Revises: 0003_extraction
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_forms"
down_revision = "0005"
branch_labels = None
depends_on = None

_OLD = ("sample", "support_provider", "rct_quality")


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, report_id, sample, support_provider, rct_quality FROM effect_sizes"))
    copied = [{"report_id": r.report_id, "effect_size_id": r.id, "field": name, "value": getattr(r, name)}
              for r in rows for name in _OLD if getattr(r, name) not in (None, "")]
    # columns dropped before the new table references effect_sizes: on SQLite the batch mode recreates the
    # table, and with foreign keys on, dropping a referenced table would cascade
    with op.batch_alter_table("effect_sizes") as batch:
        for name in _OLD:
            batch.drop_column(name)
    op.create_table(
        "extraction_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("effect_size_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["ma_reports.id"], ondelete="CASCADE",
                                name=op.f("fk_extraction_values_report_id_ma_reports")),
        sa.ForeignKeyConstraint(["effect_size_id"], ["effect_sizes.id"], ondelete="CASCADE",
                                name=op.f("fk_extraction_values_effect_size_id_effect_sizes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction_values")),
    )
    op.create_index(op.f("ix_extraction_values_report_id"), "extraction_values", ["report_id"])
    op.create_index(op.f("ix_extraction_values_effect_size_id"), "extraction_values", ["effect_size_id"])
    values = sa.table("extraction_values", sa.column("report_id", sa.Integer()),
                      sa.column("effect_size_id", sa.Integer()), sa.column("field", sa.String()),
                      sa.column("value", sa.JSON()))
    if copied:
        op.bulk_insert(values, copied)


def downgrade() -> None:
    bind = op.get_bind()
    values = sa.table("extraction_values", sa.column("effect_size_id", sa.Integer()),
                      sa.column("field", sa.String()), sa.column("value", sa.JSON()))
    rows = bind.execute(sa.select(values.c.effect_size_id, values.c.field, values.c.value)
                        .where(values.c.effect_size_id.is_not(None))).all()
    op.drop_index(op.f("ix_extraction_values_effect_size_id"), table_name="extraction_values")
    op.drop_index(op.f("ix_extraction_values_report_id"), table_name="extraction_values")
    op.drop_table("extraction_values")
    with op.batch_alter_table("effect_sizes") as batch:
        batch.add_column(sa.Column("sample", sa.String(length=40), nullable=False, server_default=""))
        batch.add_column(sa.Column("support_provider", sa.String(length=40), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("rct_quality", sa.String(length=20), nullable=True))
    table = sa.table("effect_sizes", sa.column("id", sa.Integer()),
                     *(sa.column(n, sa.String()) for n in _OLD))
    for r in rows:
        if r.field in _OLD:
            bind.execute(sa.update(table).where(table.c.id == r.effect_size_id)
                         .values({r.field: str(r.value)}))
