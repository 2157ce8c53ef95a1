"""Store models of living reviews: update batches (which searches each update imported) and report
versions (a JSON snapshot of the key results of each report build). Created by migration ``0008_living``.

The searches imported before the first update form batch 1 and have no row in ``batch_searches``.
Example::

    from metareview.store.living_models import UpdateBatch
    UpdateBatch.__tablename__    # 'update_batches'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from metareview.store.base import Base


class UpdateBatch(Base):
    """One review update (``number`` ≥ 2; batch 1 is the original search): who ran it and when."""

    __tablename__ = "update_batches"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str | None] = mapped_column(Text)


class BatchSearch(Base):
    """A search imported by an update: its records belong to that update's batch."""

    __tablename__ = "batch_searches"

    search_id: Mapped[int] = mapped_column(ForeignKey("searches.id"), primary_key=True)
    batch_number: Mapped[int] = mapped_column(ForeignKey("update_batches.number"), index=True)


class ReportVersion(Base):
    """One report build: ``snapshot`` holds its key results (studies, pooled estimates, grades)."""

    __tablename__ = "report_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
