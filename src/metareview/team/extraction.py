"""Extraction through the team server: validate one form (a meta-analysis report with its AMSTAR 2
answers, an effect size, a primary-study list) against the pydantic forms and the fields ``protocol.toml``
declares, and save it through :mod:`metareview.extraction.dual` (the same engine as the CLI and the Python
API: with two extractors per report, the form changes the signed-in extractor's own extraction; with one,
the report's final values). Validation messages come back per field so a page shows them beside the field.

Example::

    report, errors = validate_report({"id": "heber2017", "citation": "Heber E et al. 2017"},
                                     protocol=review.protocol)
    if not errors:
        save(review, "ana", report=report)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from metareview.errors import InputError
from metareview.extraction import dual
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
from metareview.extraction.schema import EFFECT_BUILTINS, REPORT_BUILTINS, field_errors
from metareview.extraction.templates import ExtractionBundle
from metareview.protocol import Protocol
from metareview.review import Review

REPORT_FORM_FIELDS = tuple(REPORT_BUILTINS)
EFFECT_FORM_FIELDS = tuple(EFFECT_BUILTINS)


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


def _declared(data: dict[str, Any], builtins: tuple[str, ...],
              specs: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(built-in values, coerced declared values, messages of the declared fields)."""
    names = {s.name for s in specs}
    own = {k: v for k, v in data.items() if k in builtins}
    values, errors = field_errors({k: v for k, v in data.items() if k in names}, specs)
    return own, values, errors


def validate_report(data: dict[str, Any], amstar: dict[int, str] | None = None,
                    protocol: Protocol | None = None) -> tuple[Any, dict[str, str]]:
    """A :class:`MetaAnalysisReport` from form values (``databases`` comma-separated; AMSTAR 2 answers
    by item, all 16 or none; the protocol's report fields by name), or the messages per field."""
    specs = protocol.report_fields if protocol is not None else []
    own, values, errors = _declared(dict(data), REPORT_FORM_FIELDS, specs)
    clean = _blank_to_none(own)
    dbs = clean.get("databases")
    clean["databases"] = [d.strip() for d in (dbs or "").split(",") if d.strip()]
    given = {k: v for k, v in (amstar or {}).items() if v}
    clean["amstar2"] = given or None
    clean["fields"] = values
    report, more = _validate(MetaAnalysisReport, clean)
    errors = {**more, **errors}
    return (None if errors else report), errors


def validate_effect(data: dict[str, Any], protocol: Protocol | None = None) -> tuple[Any, dict[str, str]]:
    """An :class:`EffectSizeRecord` from form values (the protocol's moderators and effect fields by name;
    the outcome domain one of the protocol's), or the messages per field."""
    specs = protocol.effect_fields if protocol is not None else []
    own, values, errors = _declared(dict(data), EFFECT_FORM_FIELDS, specs)
    clean = _blank_to_none(own)
    clean["higher_favours"] = str(clean.get("higher_favours") or "true").lower() in ("true", "1", "on", "yes")
    clean["fields"] = values
    domains = protocol.outcome_domains if protocol is not None else []
    domain = clean.get("outcome_domain")
    if domains and domain and domain not in domains:
        errors["outcome_domain"] = f"outcome_domain must be one of {', '.join(domains)}; got {domain!r}"
    effect, more = _validate(EffectSizeRecord, clean)
    errors = {**more, **errors}
    return (None if errors else effect), errors


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


def save(review: Review, extractor: str | None, report: MetaAnalysisReport | None = None,
         effect: EffectSizeRecord | None = None, studies: PrimaryStudyList | None = None,
         remove_effect: str | None = None, report_id: str | None = None,
         submit: bool = False) -> dual.ReportStatus:
    """Save one validated form in one transaction (:func:`metareview.extraction.dual.save_part`): a report
    form replaces the report's own fields (its effect sizes and studies are kept)."""
    key = report.id if report else effect.report_id if effect else studies.report_id if studies else report_id
    if key is None:
        raise InputError("nothing to save", field="form")
    return dual.save_part(review, key, extractor, report=report, effect=effect, remove_effect=remove_effect,
                          studies=studies.studies if studies else (), submit=submit)


def stored(review: Review) -> ExtractionBundle:
    """The final values extracted so far (with two extractors per report: the agreed ones)."""
    bundle: ExtractionBundle = dual.final_bundle(review)
    return bundle


def my_reports(review: Review, extractor: str) -> list[tuple[str, Any, str]]:
    """``(report id, extraction, state)`` of each report ``extractor`` has started (two extractors per
    report), in the order of :func:`metareview.extraction.dual.status`."""
    out = []
    for st in dual.status(review, extractor):
        if st.mine != "none":
            ex, state = dual.my_extraction(review, st.report_id, extractor)
            out.append((st.report_id, ex, state))
    return out


def check_known_report(review: Review, report_id: str, extractor: str | None = None) -> None:
    """:class:`InputError` unless the report's form was saved (by ``extractor``, with two extractors)."""
    if review.protocol.extraction.extractors_per_report > 1 and extractor is not None:
        ex, _ = dual.my_extraction(review, report_id, extractor)
        if ex is None:
            raise InputError(f"no report {report_id!r} in your extraction: save the report first",
                             field="report_id")
        return
    if report_id not in {r.id for r in stored(review).reports}:
        raise InputError(f"no stored report {report_id!r}: save the report first", field="report_id")
