"""Extraction through the team server: validate one form (a meta-analysis report with its AMSTAR 2
answers, an effect size, a primary-study list) with the pydantic models of ``extraction.forms`` and store
it; validation messages come back per field so a page can show them beside the field.

Example::

    report, errors = validate_report({"id": "heber2017", "citation": "Heber E et al. 2017"})
    if not errors:
        save(review, report=report)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from metareview.errors import InputError
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
from metareview.extraction.templates import ExtractionBundle
from metareview.review import Review
from metareview.store import extraction_repo


def _blank_to_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}


def _validate(model: type[BaseModel], data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    try:
        return model(**data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors():
            key = ".".join(str(p) for p in e["loc"]) or "form"
            errors.setdefault(key, e["msg"].removeprefix("Value error, "))
        return None, errors


def validate_report(data: dict[str, Any], amstar: dict[int, str] | None = None) -> tuple[Any, dict[str, str]]:
    """A :class:`MetaAnalysisReport` from form values (``databases`` comma-separated; AMSTAR 2 answers
    by item, all 16 or none), or the messages per field."""
    clean = _blank_to_none(dict(data))
    dbs = clean.get("databases")
    clean["databases"] = [d.strip() for d in (dbs or "").split(",") if d.strip()]
    given = {k: v for k, v in (amstar or {}).items() if v}
    clean["amstar2"] = given or None
    return _validate(MetaAnalysisReport, clean)


def validate_effect(data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """An :class:`EffectSizeRecord` from form values, or the messages per field."""
    clean = _blank_to_none(dict(data))
    clean["higher_favours"] = str(clean.get("higher_favours") or "true").lower() in ("true", "1", "on", "yes")
    return _validate(EffectSizeRecord, clean)


def validate_studies(report_id: str, text: str) -> tuple[Any, dict[str, str]]:
    """A :class:`PrimaryStudyList` from lines ``label; year; doi`` (year and doi optional)."""
    studies: list[PrimaryStudy] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        row = {"label": parts[0], "year": parts[1] if len(parts) > 1 and parts[1] else None,
               "doi": parts[2] if len(parts) > 2 and parts[2] else None}
        one, errs = _validate(PrimaryStudy, row)
        if errs:
            return None, {"studies": f"line {n}: " + "; ".join(f"{k}: {v}" for k, v in errs.items())}
        studies.append(one)
    return _validate(PrimaryStudyList, {"report_id": report_id, "studies": studies})


def save(review: Review, report: MetaAnalysisReport | None = None,
         effect: EffectSizeRecord | None = None, studies: PrimaryStudyList | None = None) -> dict[str, int]:
    """Store one validated form in one transaction (a report replaces the stored one with its key)."""
    bundle = ExtractionBundle(
        (report,) if report else (), (effect,) if effect else (), (studies,) if studies else ()
    )
    with review.session() as s:
        if report is not None:
            old = {r.id: r for r in extraction_repo.load_bundle(s).reports}
            if report.id in old:
                return _replace_report(s, report)
        return extraction_repo.save_bundle(s, bundle)


def _replace_report(session: Any, report: MetaAnalysisReport) -> dict[str, int]:
    """Replace a report's own fields, keeping its effect sizes and primary studies."""
    current = extraction_repo.load_bundle(session)
    effects = tuple(e for e in current.effect_sizes if e.report_id == report.id)
    lists = tuple(p for p in current.primary_studies if p.report_id == report.id)
    return extraction_repo.save_bundle(session, ExtractionBundle((report,), effects, lists), replace=True)


def stored(review: Review) -> ExtractionBundle:
    """Everything extracted so far."""
    with review.session() as s:
        return extraction_repo.load_bundle(s)


def check_known_report(review: Review, report_id: str) -> None:
    if report_id not in {r.id for r in stored(review).reports}:
        raise InputError(f"no stored report {report_id!r}: save the report first", field="report_id")
