"""Store models of the screening area, created by migration ``0002_screening``.

Everything is an appended event; nothing is updated or deleted, and the current state of a record is
derived from its events (``metareview.screening.decisions``):

* :class:`ScreeningEvent` — a reviewer's vote (include / exclude / maybe, reason, note) on a record at a
  stage, or the resolution of a conflict (by a third reviewer or by consensus); ``previous_decision``
  keeps what the same reviewer (or the last resolution) said before;
* :class:`RetrievalEvent` — full-text retrieval of a report: ``not_retrieved`` or ``retrieved``
  (a report is *sought* when its record is included at title/abstract);
* :class:`RecordEmbedding` — cached sentence embeddings of a record's text, per model.

Example::

    from metareview.store.screening_models import ScreeningEvent
    ScreeningEvent.__tablename__    # 'screening_events'
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from metareview.store.base import Base


class ScreeningEvent(Base):
    """One decision event. ``kind`` is 'vote' or 'resolution'; ``method`` says how a resolution was made."""

    __tablename__ = "screening_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    reviewer: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(String(20))
    previous_decision: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RetrievalEvent(Base):
    """Full-text retrieval of the report behind a record: 'retrieved' or 'not_retrieved', appended."""

    __tablename__ = "retrieval_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    previous_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecordEmbedding(Base):
    """A record's text embedding under ``model`` (float32 bytes) and the text it was computed from."""

    __tablename__ = "record_embeddings"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
