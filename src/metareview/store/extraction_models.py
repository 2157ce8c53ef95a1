"""Store models of the extraction area: meta-analysis reports (with AMSTAR 2 answers), their effect sizes,
the primary studies each pooled, and the values of the fields the protocol declares (one generic table,
:class:`StoredFieldValue`). Created by migrations ``0003_extraction`` and ``0007_forms``. These tables hold
the *final* values every later stage reads (with two extractors per report: the consensus values).

Migration ``0011_extract`` adds the history: :class:`ExtractionEvent` (every draft, submission, consensus
value, correction and migration, appended, never updated), :class:`ExtractionLock` (one row per report key,
locked while a rule on that report is checked) and :class:`StudyLinkEvent` (reports linked to a study).

Direction and significance are not stored: they are derived from estimate, CI and p on read
(:mod:`metareview.extraction.direction`). Example::

    from metareview.store.extraction_models import StoredReport
    StoredReport.__tablename__    # 'ma_reports'
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from metareview.store.base import Base


class StoredReport(Base):
    """One included meta-analysis report."""

    __tablename__ = "ma_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    citation: Mapped[str] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    doi: Mapped[str | None] = mapped_column(String(300))
    search_date: Mapped[date | None] = mapped_column(Date)
    databases: Mapped[list[str]] = mapped_column(JSON, default=list)
    n_studies: Mapped[int | None] = mapped_column(Integer)
    n_participants: Mapped[int | None] = mapped_column(Integer)
    amstar2: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    amstar2_confidence: Mapped[str | None] = mapped_column(String(20))  # derived from amstar2 on write
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    effect_sizes: Mapped[list[StoredEffectSize]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="StoredEffectSize.id")
    primary_studies: Mapped[list[StoredPrimaryStudy]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="StoredPrimaryStudy.id")
    values: Mapped[list[StoredFieldValue]] = relationship(  # of the report and of its effect sizes
        back_populates="report", cascade="all, delete-orphan", order_by="StoredFieldValue.id")


class StoredEffectSize(Base):
    """One effect size of a report (the built-in fields of
    :class:`metareview.extraction.forms.EffectSizeRecord`;
    its declared fields are :class:`StoredFieldValue` rows)."""

    __tablename__ = "effect_sizes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("ma_reports.id", ondelete="CASCADE"), index=True)
    outcome_domain: Mapped[str] = mapped_column(String(200))
    comparison: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(String(20))
    estimate: Mapped[float] = mapped_column(Float)
    ci_lower: Mapped[float | None] = mapped_column(Float)
    ci_upper: Mapped[float | None] = mapped_column(Float)
    p: Mapped[float | None] = mapped_column(Float)
    k: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int | None] = mapped_column(Integer)
    higher_favours: Mapped[bool] = mapped_column(Boolean)
    effect_id: Mapped[str | None] = mapped_column(String(200))  # migration 0011_extract

    report: Mapped[StoredReport] = relationship(back_populates="effect_sizes")
    values: Mapped[list[StoredFieldValue]] = relationship(
        back_populates="effect_size", cascade="all, delete-orphan", order_by="StoredFieldValue.id")


class StoredPrimaryStudy(Base):
    """A primary study a report pooled (a row of the overlap citation matrix)."""

    __tablename__ = "primary_studies"
    __table_args__ = (UniqueConstraint("report_id", "label", name="uq_primary_studies_report_id_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("ma_reports.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    doi: Mapped[str | None] = mapped_column(String(300))
    publication_date: Mapped[date | None] = mapped_column(Date)

    report: Mapped[StoredReport] = relationship(back_populates="primary_studies")


class StoredFieldValue(Base):
    """The value of one protocol-declared field (a moderator or a custom field) of a report, or of one of
    its effect sizes (``effect_size_id`` set). ``value`` is JSON: a string, a number or a boolean."""

    __tablename__ = "extraction_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("ma_reports.id", ondelete="CASCADE"), index=True)
    effect_size_id: Mapped[int | None] = mapped_column(
        ForeignKey("effect_sizes.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)

    report: Mapped[StoredReport] = relationship(back_populates="values")
    effect_size: Mapped[StoredEffectSize | None] = relationship(back_populates="values")


class ExtractionEvent(Base):
    """One appended extraction event.

    ``kind``: ``draft`` / ``submission`` (``payload`` is the actor's whole extraction of the report),
    ``consensus`` / ``correction`` (``field`` is the field path, ``payload`` ``{"value": …}``, ``previous``
    the value it replaces), ``final`` (one extractor per report: the stored extraction after a save),
    ``baseline`` (a report stored before this history began, kept before it is first replaced) or
    ``migration`` (``report_key`` ``*``; ``payload`` the renames and drops of ``protocol migrate``)."""

    __tablename__ = "extraction_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[Any] = mapped_column(JSON)
    previous: Mapped[Any | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExtractionLock(Base):
    """A row per report key, locked (``SELECT … FOR UPDATE``) while an extraction rule is checked."""

    __tablename__ = "extraction_locks"

    report_key: Mapped[str] = mapped_column(String(200), primary_key=True)


class StudyLinkEvent(Base):
    """A record (a report) linked to a study (``study`` set) or unlinked (``study`` None: its own study
    again). The latest event per record holds; see :mod:`metareview.screening.studies`."""

    __tablename__ = "study_link_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    study: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
