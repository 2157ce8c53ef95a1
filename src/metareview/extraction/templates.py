"""Extraction templates to fill in as CSV or XLSX, and their import back with validation.

Three sheets (or three CSV files in a folder): ``reports`` (one row per meta-analysis, AMSTAR 2 answers in
``amstar2_item1`` … ``amstar2_item16``), ``effect_sizes`` and ``primary_studies``. Errors name the file,
the spreadsheet row (the header is row 1) and the column::

    >>> write_templates("extraction.xlsx")            # doctest: +SKIP
    >>> bundle = import_forms("extraction.xlsx")      # doctest: +SKIP
    >>> bundle.reports[0].confidence                  # doctest: +SKIP
    'low'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from metareview.errors import InputError
from metareview.extraction.amstar2 import ITEMS, allowed_answers, normalise_answer
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList

AMSTAR_COLUMNS = tuple(f"amstar2_item{i}" for i in ITEMS)
COLUMNS: dict[str, tuple[str, ...]] = {
    "reports": ("id", "citation", "year", "doi", "search_date", "databases", "n_studies", "n_participants",
                *AMSTAR_COLUMNS),
    "effect_sizes": ("report_id", "outcome_domain", "comparison", "sample", "support_provider", "rct_quality",
                     "measure", "estimate", "ci_lower", "ci_upper", "p", "k", "n", "higher_favours"),
    "primary_studies": ("report_id", "label", "year", "doi", "publication_date"),
}
HELP: dict[str, str] = {
    "databases": "separated by ';'",
    "search_date": "YYYY-MM-DD",
    "publication_date": "YYYY-MM-DD",
    "sample": "clinical_subclinical | unrestricted",
    "support_provider": "clinically_trained | mixed | lay | unclear",
    "rct_quality": "high | medium | low",
    "measure": "SMD, MD, OR, RR, HR, ... (ratios on their natural scale)",
    "higher_favours": "true if values above the null favour the experimental (supported) condition",
    **{c: " | ".join(allowed_answers(i)) for i, c in zip(ITEMS, AMSTAR_COLUMNS, strict=True)},
}


@dataclass(frozen=True)
class ExtractionBundle:
    """What an extraction file holds, validated."""

    reports: tuple[MetaAnalysisReport, ...]
    effect_sizes: tuple[EffectSizeRecord, ...]
    primary_studies: tuple[PrimaryStudyList, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"reports": [r.model_dump(mode="json") for r in self.reports],
                "effect_sizes": [e.model_dump(mode="json") | {"direction": e.direction.value}
                                 for e in self.effect_sizes],
                "primary_studies": [p.model_dump(mode="json") for p in self.primary_studies]}

    def __str__(self) -> str:
        n_studies = sum(len(p.studies) for p in self.primary_studies)
        return (f"{len(self.reports)} meta-analysis reports, {len(self.effect_sizes)} effect sizes, "
                f"{n_studies} primary-study entries")


def write_templates(path: str | Path) -> list[Path]:
    """Write empty templates: one ``.xlsx`` workbook (a sheet per form plus ``help``), or CSVs in a folder."""
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        target.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(target, engine="openpyxl") as xl:
            for sheet, cols in COLUMNS.items():
                pd.DataFrame(columns=list(cols)).to_excel(xl, sheet_name=sheet, index=False)
            pd.DataFrame({"column": list(HELP), "values": list(HELP.values())}).to_excel(
                xl, sheet_name="help", index=False)
        return [target]
    if target.suffix:
        raise InputError("give a .xlsx file or a folder for CSV templates", file=target)
    target.mkdir(parents=True, exist_ok=True)
    out = []
    for sheet, cols in COLUMNS.items():
        f = target / f"{sheet}.csv"
        pd.DataFrame(columns=list(cols)).to_csv(f, index=False)
        out.append(f)
    return out


def import_forms(path: str | Path) -> ExtractionBundle:
    """Read and validate filled-in templates (a ``.xlsx`` workbook or a folder of CSVs); all or nothing."""
    source = Path(path)
    sheets = _read_sheets(source)
    reports = [
        _validate(MetaAnalysisReport, _report_row(row, file, line), file, line)
        for file, line, row in sheets["reports"]
    ]
    _unique((r.id for r in reports), sheets["reports"], "id")
    known = {r.id for r in reports}
    effects = []
    for file, line, row in sheets["effect_sizes"]:
        _known_report(row, known, file, line)
        effects.append(_validate(EffectSizeRecord, _clean(row), file, line))
    lists: dict[str, list[PrimaryStudy]] = {}
    for file, line, row in sheets["primary_studies"]:
        _known_report(row, known, file, line)
        clean = _clean(row)
        rid = str(clean.pop("report_id", "") or "")
        if not rid:
            raise InputError("report_id is required", file=file, line=line, field="report_id")
        study = _validate(PrimaryStudy, clean, file, line)
        if any(s.label == study.label for s in lists.get(rid, [])):
            raise InputError(f"primary study {study.label!r} listed twice for {rid!r}", file=file, line=line,
                             field="label")
        lists.setdefault(rid, []).append(study)
    studies = tuple(PrimaryStudyList(report_id=k, studies=v) for k, v in lists.items())
    return ExtractionBundle(tuple(reports), tuple(effects), studies)


# --- internals -----------------------------------------------------------------------------------

Row = tuple[str, int, dict[str, Any]]
M = TypeVar("M", bound=BaseModel)


def store_forms(bundle: ExtractionBundle, review_dir: str | Path, *, db: str | None = None,
                replace: bool = False) -> dict[str, int]:
    """Store a validated bundle in the review at ``review_dir`` in one transaction; counts of what was written
    (``metareview extract import --review``)."""
    from metareview.review import Review
    from metareview.store.extraction_repo import save_bundle

    review = Review.open(review_dir, db)
    try:
        with review.session() as session:
            return save_bundle(session, bundle, replace=replace)
    finally:
        review.close()


def _read_sheets(source: Path) -> dict[str, list[Row]]:
    frames: dict[str, tuple[str, pd.DataFrame]] = {}
    try:
        if source.suffix.lower() == ".xlsx":
            book = pd.read_excel(source, sheet_name=None, dtype=object, engine="openpyxl")
            for sheet in COLUMNS:
                if sheet in book:
                    frames[sheet] = (f"{source}[{sheet}]", book[sheet])
        elif source.is_dir():
            for sheet in COLUMNS:
                f = source / f"{sheet}.csv"
                if f.is_file():
                    frames[sheet] = (str(f), pd.read_csv(f, dtype=object, keep_default_na=False))
        else:
            raise InputError("expected a .xlsx workbook or a folder of CSV templates", file=source)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read: {exc}", file=source) from exc
    if "reports" not in frames and "effect_sizes" not in frames:
        raise InputError("no 'reports' or 'effect_sizes' sheet found", file=source)
    out: dict[str, list[Row]] = {}
    for sheet, cols in COLUMNS.items():
        if sheet not in frames:
            out[sheet] = []
            continue
        name, frame = frames[sheet]
        unknown = [str(c) for c in frame.columns if str(c) not in cols]
        if unknown:
            raise InputError(f"unknown column (allowed: {', '.join(cols)})", file=name, line=1,
                             field=unknown[0])
        out[sheet] = [(name, i + 2, {str(k): v for k, v in rec.items()})
                      for i, rec in enumerate(frame.to_dict(orient="records"))
                      if any(not _blank(v) for v in rec.values())]
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v).strip() if not isinstance(v, int | float) else v) for k, v in row.items()
            if not _blank(v)}


def _report_row(row: dict[str, Any], file: str, line: int) -> dict[str, Any]:
    clean = _clean(row)
    if "databases" in clean:
        clean["databases"] = [d.strip() for d in str(clean["databases"]).split(";") if d.strip()]
    answers = {}
    for item, column in zip(ITEMS, AMSTAR_COLUMNS, strict=True):
        if column in clean:
            try:
                answers[item] = normalise_answer(item, clean.pop(column))
            except InputError as exc:
                raise InputError(exc.message, file=file, line=line, field=column) from None
    if answers:
        clean["amstar2"] = answers
    if "search_date" in clean:
        clean["search_date"] = str(clean["search_date"])[:10]
    return clean


def _validate(model: type[M], data: dict[str, Any], file: str, line: int) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(x) for x in err["loc"]]
        field = loc[0] if loc else None
        if field == "amstar2":
            field = f"amstar2_item{loc[1]}" if len(loc) > 1 else "amstar2"
        raise InputError(str(err["msg"]).removeprefix("Value error, "), file=file, line=line,
                         field=field) from None


def _unique(values: Iterable[str], rows: list[Row], column: str) -> None:
    seen: set[str] = set()
    for value, (file, line, _) in zip(values, rows, strict=True):
        if value in seen:
            raise InputError(f"{value!r} appears twice", file=file, line=line, field=column)
        seen.add(value)


def _known_report(row: dict[str, Any], known: set[str], file: str, line: int) -> None:
    rid = row.get("report_id")
    if known and not _blank(rid) and str(rid).strip() not in known:
        raise InputError(f"report_id {rid!r} is not in the reports sheet", file=file, line=line,
                         field="report_id")
