"""Extraction templates to fill in as CSV or XLSX, and their import back with validation.

Three sheets (or three CSV files in a folder): ``reports`` (one row per meta-analysis, AMSTAR 2 answers in
``amstar2_item1`` … ``amstar2_item16``), ``effect_sizes`` and ``primary_studies``. The columns beyond the
built-in ones are the fields the protocol declares (report fields on ``reports``; moderators and effect
fields on ``effect_sizes``); without a protocol only the built-in columns exist. Errors name the file,
the spreadsheet row (the header is row 1), the column and, for a categorical field, its allowed levels::

    >>> proto = Protocol.load("my-review/protocol.toml")          # doctest: +SKIP
    >>> write_templates("extraction.xlsx", protocol=proto)        # doctest: +SKIP
    >>> bundle = import_forms("extraction.xlsx", protocol=proto)  # doctest: +SKIP
    >>> bundle.reports[0].confidence                              # doctest: +SKIP
    'low'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from metareview.cells import neutralise_frame
from metareview.errors import InputError
from metareview.extraction.amstar2 import ITEMS, allowed_answers, normalise_answer
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
from metareview.extraction.schema import EFFECT_BUILTINS, REPORT_BUILTINS, check_effect_size, check_report
from metareview.filemodes import make_dir, restrict

if TYPE_CHECKING:
    from metareview.protocol import Protocol

AMSTAR_COLUMNS = tuple(f"amstar2_item{i}" for i in ITEMS)
#: the built-in columns of each sheet (a protocol adds its declared fields: :func:`columns`)
COLUMNS: dict[str, tuple[str, ...]] = {
    "reports": (*REPORT_BUILTINS, *AMSTAR_COLUMNS),
    "effect_sizes": tuple(EFFECT_BUILTINS),
    "primary_studies": ("report_id", "label", "year", "doi", "publication_date"),
}
HELP: dict[str, str] = {
    **REPORT_BUILTINS, **EFFECT_BUILTINS,
    "publication_date": "YYYY-MM-DD",
    **{c: " | ".join(allowed_answers(i)) for i, c in zip(ITEMS, AMSTAR_COLUMNS, strict=True)},
}


def columns(protocol: Protocol | None = None) -> dict[str, tuple[str, ...]]:
    """The columns of each sheet: the built-in ones, then the fields ``protocol`` declares."""
    if protocol is None:
        return dict(COLUMNS)
    return {"reports": (*REPORT_BUILTINS, *(f.name for f in protocol.report_fields), *AMSTAR_COLUMNS),
            "effect_sizes": (*EFFECT_BUILTINS, *(f.name for f in protocol.effect_fields)),
            "primary_studies": COLUMNS["primary_studies"]}


def help_rows(protocol: Protocol | None = None) -> list[dict[str, str]]:
    """The template's help sheet: one row per column (sheet, column, allowed values, required)."""
    rows = []
    declared = {} if protocol is None else {
        **{("reports", f.name): f for f in protocol.report_fields},
        **{("effect_sizes", f.name): f for f in protocol.effect_fields}}
    for sheet, cols in columns(protocol).items():
        for col in cols:
            spec = declared.get((sheet, col))
            if spec is not None:
                values = spec.allowed() + (f" ({spec.help})" if spec.help else "")
                rows.append({"sheet": sheet, "column": col, "values": values,
                             "required": "yes" if spec.required else "no"})
                continue
            text = HELP.get(col, "")
            if sheet == "primary_studies" and col == "report_id":
                text = "id of the report (required)"
            elif sheet == "primary_studies" and col == "label":
                text = "e.g. 'Andersson 2005' (required)"
            if col == "outcome_domain" and protocol is not None and protocol.outcome_domains:
                text = " | ".join(protocol.outcome_domains) + " (required)"
            rows.append({"sheet": sheet, "column": col, "values": text.replace(" (required)", ""),
                         "required": "yes" if "(required)" in text else "no"})
    return rows


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


def write_templates(path: str | Path, *, protocol: Protocol | None = None,
                    prefill: Iterable[tuple[str, str]] = ()) -> list[Path]:
    """Write templates: one ``.xlsx`` workbook (a sheet per form plus ``help``), or CSVs in a folder.

    The columns follow ``protocol`` (:func:`columns`); in the workbook, categorical and yes/no columns get
    a drop-down list of their levels. ``prefill`` gives ``(id, citation)`` pairs written as the first rows of
    ``reports`` (the reports included at full text: :func:`included_reports`).
    """
    target = Path(path)
    cols = columns(protocol)
    frames = {sheet: pd.DataFrame(columns=list(c)) for sheet, c in cols.items()}
    pre = list(prefill)
    if pre:
        frames["reports"] = pd.DataFrame([{"id": i, "citation": c} for i, c in pre],
                                         columns=list(cols["reports"]))
    if target.suffix.lower() == ".xlsx":
        make_dir(target.parent)
        with pd.ExcelWriter(target, engine="openpyxl") as xl:
            for sheet, frame in frames.items():
                neutralise_frame(frame).to_excel(xl, sheet_name=sheet, index=False)
            neutralise_frame(pd.DataFrame(help_rows(protocol))).to_excel(xl, sheet_name="help", index=False)
            if protocol is not None:
                _dropdowns(xl.book, protocol, cols)
        restrict(target)
        return [target]
    if target.suffix:
        raise InputError("give a .xlsx file or a folder for CSV templates", file=target)
    make_dir(target)
    out = []
    for sheet, frame in frames.items():
        f = target / f"{sheet}.csv"
        neutralise_frame(frame).to_csv(f, index=False)
        restrict(f)
        out.append(f)
    return out


def _dropdowns(book: Any, protocol: Protocol, cols: dict[str, tuple[str, ...]]) -> None:
    """Excel data validation (a list) on each categorical or yes/no column, rows 2..1000."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    specs = {"reports": protocol.report_fields, "effect_sizes": protocol.effect_fields}
    for sheet, fields in specs.items():
        ws = book[sheet]
        for spec in fields:
            if spec.type == "categorical":
                levels = spec.levels
            elif spec.type == "yes/no":
                levels = ["yes", "no"]
            else:
                continue
            formula = '"' + ",".join(levels) + '"'
            if len(formula) > 255:  # Excel's limit for an inline list
                continue
            letter = get_column_letter(cols[sheet].index(spec.name) + 1)
            dv = DataValidation(type="list", formula1=formula, allow_blank=not spec.required,
                                showErrorMessage=True, error=f"allowed: {spec.allowed()}")
            dv.add(f"{letter}2:{letter}1000")
            ws.add_data_validation(dv)


def included_reports(review_dir: str | Path, *, db: str | None = None) -> list[tuple[str, str]]:
    """``(id, citation)`` of each record included at the protocol's last screening stage (full text when
    it has one): what :func:`write_templates` pre-fills, so screening and extraction are one chain. The id
    is ``rec<record id>``, the store's record id."""
    from metareview.review import Review

    review = Review.open(review_dir, db)
    try:
        return included_reports_of(review)
    finally:
        review.close()


def included_reports_of(review: Any) -> list[tuple[str, str]]:
    """:func:`included_reports` of an open :class:`~metareview.review.Review`."""
    from metareview.screening.decisions import final_decisions
    from metareview.screening.stages import INCLUDE
    from metareview.store.screening_repo import record_by_id

    stage = review.protocol.screening.stages[-1]
    decided = final_decisions(review, stage)
    ids = sorted(rid for rid, (decision, _) in decided.items() if decision == INCLUDE)
    out = []
    with review.session() as session:
        for rid in ids:
            rec = record_by_id(session, rid)
            if rec is not None:
                out.append((f"rec{rid}", _citation(rec)))
    return out


def _citation(rec: Any) -> str:
    authors = list(rec.authors or [])
    who = (authors[0].split(",")[0] + (" et al." if len(authors) > 1 else "")) if authors else ""
    parts = [p for p in (who, f"({rec.year})" if rec.year else "", rec.title, rec.journal) if p]
    text = " ".join(parts[:2]) + (". " if len(parts) > 2 else "") + ". ".join(parts[2:])
    return text + (f". doi:{rec.doi}" if rec.doi else "")


def import_forms(path: str | Path, *, protocol: Protocol | None = None) -> ExtractionBundle:
    """Read and validate filled-in templates (a ``.xlsx`` workbook or a folder of CSVs); all or nothing.

    With ``protocol``, the declared fields are checked (types, required, allowed levels, outcome domains);
    without, only the built-in columns are allowed.
    """
    source = Path(path)
    sheets = _read_sheets(source, columns(protocol))
    reports = []
    for file, line, row in sheets["reports"]:
        rep = _validate(MetaAnalysisReport, _report_row(row, file, line), file, line)
        reports.append(_checked(check_report, rep, protocol, file, line))
    _unique((r.id for r in reports), sheets["reports"], "id")
    known = {r.id for r in reports}
    effects = []
    for file, line, row in sheets["effect_sizes"]:
        _known_report(row, known, file, line)
        es = _validate(EffectSizeRecord, _clean(row), file, line)
        effects.append(_checked(check_effect_size, es, protocol, file, line))
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


def stored_forms(review_dir: str | Path, *, db: str | None = None) -> ExtractionBundle:
    """The forms stored in the review at ``review_dir``; refused (:class:`InputError`) when its protocol
    would orphan some of them (see ``metareview protocol migrate``)."""
    from metareview.extraction.schema import ensure_no_orphans
    from metareview.review import Review
    from metareview.store.extraction_repo import load_bundle

    review = Review.open(review_dir, db)
    try:
        with review.session() as session:
            bundle = load_bundle(session)
        ensure_no_orphans(bundle, review.protocol, source=str(Path(review_dir) / "protocol.toml"))
        return bundle
    finally:
        review.close()


def _checked(check: Any, form: M, protocol: Protocol | None, file: str, line: int) -> M:
    if protocol is None:
        return form
    try:
        out: M = check(form, protocol)
        return out
    except InputError as exc:
        raise InputError(exc.message, file=file, line=line, field=exc.field) from None


def store_forms(bundle: ExtractionBundle, review_dir: str | Path, *, db: str | None = None,
                replace: bool = False, extractor: str | None = None, submit: bool = True) -> dict[str, int]:
    """Store a validated bundle in the review at ``review_dir`` in one transaction; counts of what was written
    (``metareview extract import --review``). The bundle is checked against the review's protocol first.
    With two extractors per report (``[extraction] extractors_per_report = 2``) each report becomes
    ``extractor``'s own extraction of it, submitted unless ``submit=False``
    (:func:`metareview.extraction.dual.store_bundle`)."""
    from metareview.extraction.dual import store_bundle
    from metareview.review import Review

    review = Review.open(review_dir, db)
    try:
        return store_bundle(review, bundle, extractor, replace=replace, submit=submit)
    finally:
        review.close()


def _read_sheets(source: Path, cols_of: dict[str, tuple[str, ...]] = COLUMNS) -> dict[str, list[Row]]:
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
    for sheet, cols in cols_of.items():
        if sheet not in frames:
            out[sheet] = []
            continue
        name, frame = frames[sheet]
        unknown = [str(c) for c in frame.columns if str(c) not in cols]
        if unknown:
            raise InputError(f"unknown column {unknown[0]!r} (allowed: {', '.join(cols)}; declare other "
                             "fields in protocol.toml)", file=name, line=1, field=unknown[0])
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
