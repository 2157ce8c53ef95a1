"""Repository functions of the extraction area: every query on meta-analysis reports, effect sizes and
primary-study lists, on the extraction history (drafts, submissions, consensus values) and on the links of
reports to studies lives here. Callers pass an open session (one transaction: all or nothing)::

    with review.session() as s:
        save_bundle(s, import_forms("extraction.xlsx"))
        bundle = load_bundle(s)            # the final values (with two extractors: the consensus)
        lock_reports(s, ["heber2017"])     # serialise the rules on a report until the transaction ends
        add_event(s, "heber2017", "submission", "ana", payload={...})

Events are only ever inserted, never updated or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from metareview.errors import InputError
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
from metareview.extraction.templates import ExtractionBundle
from metareview.store.extraction_models import (
    ExtractionEvent,
    ExtractionLock,
    StoredEffectSize,
    StoredFieldValue,
    StoredPrimaryStudy,
    StoredReport,
    StudyLinkEvent,
)
from metareview.store.records_models import StoredRecord
from metareview.store.screening_repo import sqlite_write_lock

_EFFECT_FIELDS = ("outcome_domain", "comparison", "measure", "estimate", "ci_lower", "ci_upper", "p", "k",
                  "n", "higher_favours", "effect_id")
_CHUNK = 900  # keys per IN (...) list: below SQLite's parameter limit
ALL_REPORTS = "*"  # report_key of events that concern every report (protocol migrations)


def save_bundle(session: Session, bundle: ExtractionBundle, *, replace: bool = False) -> dict[str, int]:
    """Store a validated bundle; counts of what was written.

    A report whose key is already stored is an :class:`InputError` unless ``replace`` (then its fields,
    effect sizes and primary studies are replaced). Effect sizes and studies of reports not in the bundle
    must refer to stored reports.
    """
    stored = {r.key: r for r in session.scalars(select(StoredReport)).all()}
    for rep in bundle.reports:
        row = stored.get(rep.id)
        if row is not None and not replace:
            raise InputError(f"report {rep.id!r} is already stored (use replace)", field="id")
        if row is None:
            row = StoredReport(key=rep.id, created_at=datetime.now(UTC))
            session.add(row)
            stored[rep.id] = row
        else:
            row.values.clear()
            session.flush()
            row.effect_sizes.clear()
            row.primary_studies.clear()
            session.flush()  # delete the old children before the new ones are inserted
        row.citation, row.year, row.doi = rep.citation, rep.year, rep.doi
        row.search_date, row.databases = rep.search_date, list(rep.databases)
        row.n_studies, row.n_participants = rep.n_studies, rep.n_participants
        row.amstar2 = {str(k): v for k, v in rep.amstar2.items()} if rep.amstar2 is not None else None
        row.amstar2_confidence = rep.confidence
        for name, value in rep.fields.items():
            row.values.append(StoredFieldValue(field=name, value=value))
    for es in bundle.effect_sizes:
        parent = _report(stored, es.report_id)
        child = StoredEffectSize(**{f: getattr(es, f) for f in _EFFECT_FIELDS})
        parent.effect_sizes.append(child)
        for name, value in es.fields.items():
            parent.values.append(StoredFieldValue(field=name, value=value, effect_size=child))
    n_studies = 0
    for lst in bundle.primary_studies:
        parent = _report(stored, lst.report_id)
        have = {p.label for p in parent.primary_studies}
        for st in lst.studies:
            if st.label in have:
                raise InputError(f"primary study {st.label!r} already stored for {lst.report_id!r}",
                                 field="label")
            parent.primary_studies.append(StoredPrimaryStudy(
                label=st.label, year=st.year, doi=st.doi, publication_date=st.publication_date))
            n_studies += 1
    session.flush()
    return {"reports": len(bundle.reports), "effect_sizes": len(bundle.effect_sizes),
            "primary_studies": n_studies}


def load_bundle(session: Session, keys: Iterable[str] | None = None) -> ExtractionBundle:
    """Everything stored (or the reports with these ``keys``), as validated forms (direction derived again
    on read). These are the final values: with two extractors per report, the consensus values of the
    reports whose consensus is complete."""
    stmt = (select(StoredReport).order_by(StoredReport.id)
            .options(selectinload(StoredReport.effect_sizes).selectinload(StoredEffectSize.values),
                     selectinload(StoredReport.primary_studies), selectinload(StoredReport.values)))
    if keys is not None:
        stmt = stmt.where(StoredReport.key.in_(sorted(set(keys))))
    rows = session.scalars(stmt).all()
    reports = tuple(
        MetaAnalysisReport(
            id=r.key, citation=r.citation, year=r.year, doi=r.doi, search_date=r.search_date,
            databases=list(r.databases), n_studies=r.n_studies, n_participants=r.n_participants,
            amstar2={int(k): v for k, v in r.amstar2.items()} if r.amstar2 is not None else None,
            fields={v.field: v.value for v in r.values if v.effect_size_id is None},
        ) for r in rows)
    effects = tuple(
        EffectSizeRecord(report_id=r.key, fields={v.field: v.value for v in e.values},
                         **{f: getattr(e, f) for f in _EFFECT_FIELDS})
        for r in rows for e in r.effect_sizes)
    lists = tuple(
        PrimaryStudyList(report_id=r.key, studies=[
            PrimaryStudy(label=p.label, year=p.year, doi=p.doi, publication_date=p.publication_date)
            for p in r.primary_studies])
        for r in rows if r.primary_studies)
    return ExtractionBundle(reports, effects, lists)


def delete_report(session: Session, key: str) -> None:
    """Remove a report with its effect sizes and primary studies."""
    row = session.scalar(select(StoredReport).where(StoredReport.key == key))
    if row is None:
        raise InputError(f"no stored report {key!r}", field="id")
    session.delete(row)
    session.flush()


def migrate_fields(session: Session, *, rename_fields: dict[str, str] | None = None,
                   rename_levels: dict[tuple[str, str], str] | None = None,
                   drop_fields: list[str] | None = None, rename_domains: dict[str, str] | None = None,
                   ) -> dict[str, int]:
    """Rewrite stored field values explicitly: rename fields (``{old: new}``), rename levels
    (``{(field, old): new}``, field named after any rename), drop fields, rename outcome domains. Counts of
    the values changed per kind. The caller's transaction makes it all or nothing."""
    rename_fields, rename_levels = rename_fields or {}, rename_levels or {}
    drop, rename_domains = set(drop_fields or []), rename_domains or {}
    counts = {"renamed_fields": 0, "renamed_levels": 0, "dropped": 0, "renamed_domains": 0}
    if rename_fields or rename_levels or drop or rename_domains:  # replayed over the extraction history
        add_event(session, ALL_REPORTS, "migration", "protocol migrate", payload={
            "rename_fields": rename_fields, "drop_fields": sorted(drop), "rename_domains": rename_domains,
            "rename_levels": [[f, old, new] for (f, old), new in rename_levels.items()]})
    for v in session.scalars(select(StoredFieldValue)).all():
        if v.field in drop:
            session.delete(v)
            counts["dropped"] += 1
            continue
        if v.field in rename_fields:
            v.field = rename_fields[v.field]
            counts["renamed_fields"] += 1
        new = rename_levels.get((v.field, str(v.value)))
        if new is not None:
            v.value = new
            counts["renamed_levels"] += 1
    if rename_domains:
        for e in session.scalars(select(StoredEffectSize)).all():
            if e.outcome_domain in rename_domains:
                e.outcome_domain = rename_domains[e.outcome_domain]
                counts["renamed_domains"] += 1
    session.flush()
    return counts


def _report(stored: dict[str, StoredReport], key: str) -> StoredReport:
    try:
        return stored[key]
    except KeyError:
        raise InputError(f"report_id {key!r} is neither stored nor in this bundle",
                         field="report_id") from None


# --- the extraction history ----------------------------------------------------------------------


def lock_reports(session: Session, keys: Iterable[str]) -> None:
    """Serialise the extraction rules on these report keys until the session's transaction ends.

    Call it first in the transaction, before reading the reports' events: a concurrent caller that locks
    the same reports waits, then reads what the first wrote.

    * PostgreSQL: a row per key in ``extraction_locks`` (inserted if missing; a concurrent insert of the
      same key waits for the first), then ``SELECT … FOR UPDATE`` on those rows in key order (two bulk
      callers cannot deadlock).
    * SQLite: one writer at a time for the whole file (``BEGIN IMMEDIATE``, waiting up to
      ``BUSY_TIMEOUT_MS``, via ``screening_repo.sqlite_write_lock``); a transaction that has already
      written holds the write lock.
    """
    wanted = sorted(set(keys))
    noop = (update(ExtractionLock).where(ExtractionLock.report_key == "")
            .values(report_key=ExtractionLock.report_key))
    if sqlite_write_lock(session, noop):
        return
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        session.execute(pg_insert(ExtractionLock).values([{"report_key": k} for k in chunk])
                        .on_conflict_do_nothing())
        session.execute(select(ExtractionLock.report_key).where(ExtractionLock.report_key.in_(chunk))
                        .order_by(ExtractionLock.report_key).with_for_update()).all()


def add_event(session: Session, report_key: str, kind: str, actor: str, *, payload: Any,
              field: str | None = None, previous: Any = None, note: str | None = None) -> None:
    """Append one extraction event (see :class:`~metareview.store.extraction_models.ExtractionEvent`)."""
    session.execute(insert(ExtractionEvent), [{
        "report_key": report_key, "kind": kind, "actor": actor, "field": field, "payload": payload,
        "previous": previous, "note": note, "created_at": datetime.now(UTC)}])


def extraction_events(session: Session, report_key: str | None = None) -> list[ExtractionEvent]:
    """Extraction events in the order they were made: all, or those of one report plus the migrations
    (which concern every report)."""
    stmt = select(ExtractionEvent).order_by(ExtractionEvent.id)
    if report_key is not None:
        stmt = stmt.where(ExtractionEvent.report_key.in_([report_key, ALL_REPORTS]))
    return list(session.scalars(stmt))


def has_history(session: Session, report_key: str) -> bool:
    """Whether any event (other than a migration) concerns this report."""
    return session.scalar(select(ExtractionEvent.id).where(ExtractionEvent.report_key == report_key)
                          .limit(1)) is not None


def final_keys(session: Session) -> list[str]:
    """Keys of the reports whose final values are stored, in the order they were first stored."""
    return list(session.scalars(select(StoredReport.key).order_by(StoredReport.id)))


# --- studies and their reports ---------------------------------------------------------------------


def add_study_links(session: Session, rows: Iterable[tuple[int, str | None]], actor: str,
                    note: str | None = None) -> None:
    """Append link events ``(record_id, study)``; ``study`` None unlinks (the record is its own study)."""
    stamp = datetime.now(UTC)
    full = [{"record_id": r, "study": st, "actor": actor, "note": note, "created_at": stamp}
            for r, st in rows]
    if full:
        session.execute(insert(StudyLinkEvent), full)


def study_link_events(session: Session) -> list[StudyLinkEvent]:
    """Every link event, in the order they were made."""
    return list(session.scalars(select(StudyLinkEvent).order_by(StudyLinkEvent.id)))


def existing_records(session: Session, ids: Iterable[int]) -> set[int]:
    """Those of ``ids`` that are stored records."""
    wanted = sorted(set(ids))
    out: set[int] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        out.update(int(i) for i in session.scalars(select(StoredRecord.id).where(StoredRecord.id.in_(chunk))))
    return out
