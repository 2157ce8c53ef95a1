"""Repository functions of the extraction area: every query on meta-analysis reports, effect sizes and
primary-study lists lives here. Callers pass an open session (one transaction: all or nothing)::

    with review.session() as s:
        save_bundle(s, import_forms("extraction.xlsx"))
        bundle = load_bundle(s)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from metareview.errors import InputError
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
from metareview.extraction.templates import ExtractionBundle
from metareview.store.extraction_models import (
    StoredEffectSize,
    StoredFieldValue,
    StoredPrimaryStudy,
    StoredReport,
)

_EFFECT_FIELDS = ("outcome_domain", "comparison", "measure", "estimate", "ci_lower", "ci_upper", "p", "k",
                  "n",
                  "higher_favours")


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


def load_bundle(session: Session) -> ExtractionBundle:
    """Everything stored, as validated forms (direction derived again on read)."""
    rows = session.scalars(
        select(StoredReport).order_by(StoredReport.id)
        .options(selectinload(StoredReport.effect_sizes).selectinload(StoredEffectSize.values),
                 selectinload(StoredReport.primary_studies), selectinload(StoredReport.values))
    ).all()
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
