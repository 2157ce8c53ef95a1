"""Store model of risk-of-bias appraisals (RoB 2, RoB 1 of primary studies; ROBIS of reviews): one row per
tool and subject (study label or review id), the form as JSON. Created by migration ``0009_appraisal``.

Example::

    from metareview.store.appraisal_models import StoredAppraisal
    StoredAppraisal.__tablename__    # 'appraisals'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from metareview.store.base import Base


class StoredAppraisal(Base):
    """One appraisal: ``tool`` (rob2, rob1, robis), ``subject`` and the form's answers and judgements."""

    __tablename__ = "appraisals"
    __table_args__ = (UniqueConstraint("tool", "subject", name="uq_appraisals_tool_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tool: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(300))
    overall: Mapped[str] = mapped_column(String(20))
    weight: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
