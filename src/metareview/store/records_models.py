"""Store models of the records area: searches (one per imported file), records, duplicate clusters
and the uncertain duplicate pairs a user confirms or rejects. Created by migration ``0001_records``.

Nothing here is ever deleted by deduplication: a duplicate is a record that belongs to a cluster and is
not the cluster's kept record. Example::

    from metareview.store.records_models import StoredRecord
    StoredRecord.__tablename__    # 'records'
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from metareview.store.base import Base


class Search(Base):
    """One imported search export: database, date searched, query, file name and hash, record count."""

    __tablename__ = "searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    database: Mapped[str] = mapped_column(String(200), index=True)
    searched_on: Mapped[date | None] = mapped_column(Date)
    query: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(1000))
    file_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_format: Mapped[str] = mapped_column(String(20))
    record_count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    records: Mapped[list[StoredRecord]] = relationship(back_populates="search")


class StoredRecord(Base):
    """A bibliographic record as imported (normalised fields plus the raw fields of the export)."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    search_id: Mapped[int] = mapped_column(ForeignKey("searches.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    year: Mapped[int | None] = mapped_column(Integer)
    journal: Mapped[str] = mapped_column(Text, default="")
    volume: Mapped[str] = mapped_column(String(100), default="")
    issue: Mapped[str] = mapped_column(String(100), default="")
    pages: Mapped[str] = mapped_column(String(100), default="")
    doi: Mapped[str] = mapped_column(String(300), default="", index=True)
    pmid: Mapped[str] = mapped_column(String(20), default="", index=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    publication_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(100), default="")
    source_database: Mapped[str] = mapped_column(String(200), default="")
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    search: Mapped[Search] = relationship(back_populates="records")


class DuplicateCluster(Base):
    """Records found to be the same paper; ``kept_record_id`` is the one carried forward.

    ``merged`` holds the fields of the kept record that were empty and are filled from the others
    (the kept record's own row is not changed, so undoing a cluster is exact).
    """

    __tablename__ = "duplicate_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kept_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    merged: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    members: Mapped[list[ClusterMember]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan"
    )


class ClusterMember(Base):
    """Membership of a record in a duplicate cluster (a record is in at most one cluster)."""

    __tablename__ = "cluster_members"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("duplicate_clusters.id", ondelete="CASCADE"), index=True
    )

    cluster: Mapped[DuplicateCluster] = relationship(back_populates="members")


class DuplicatePair(Base):
    """A pair the matcher was unsure of: ``status`` is 'uncertain' until a user confirms or rejects it."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (UniqueConstraint("record_a_id", "record_b_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_a_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    record_b_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="uncertain", index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DedupEvent(Base):
    """An appended deduplication event: a run (``kind`` 'run'), or a user's decision on a pair
    ('confirmed' / 'rejected', with ``pair_id``). Created by migration ``0010_dedup_runs``; never updated."""

    __tablename__ = "dedup_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), index=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("duplicate_pairs.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
