"""Risk-of-bias forms as CSV/XLSX templates: one row per study (RoB 2, RoB 1) or review (ROBIS), one column
per signalling question or domain; import with validation, storage in the review, a summary table.

Columns:

- **rob2**: ``study``, ``weight`` (optional, for the weighted summary plot), ``1.1`` … ``5.3`` (Y, PY, PN, N,
  NI, NA; blank = NA), and for a reviewer's override of the algorithm ``D1_override`` … ``D5_override``,
  ``overall_override`` (low, some concerns, high) with ``D1_reason`` … ``overall_reason``;
- **rob1**: ``study``, ``weight``, the seven domains of :data:`metareview.extraction.rob1.DOMAINS` (low,
  unclear, high) and ``<domain>_support`` for the support text;
- **robis**: ``review``, ``1.1`` … ``4.6`` and ``A``, ``B``, ``C`` (Y, PY, PN, N, NI), ``D1_concern`` …
  ``D4_concern``, ``overall_concern`` (low, high, unclear; blank = the suggestion) and ``<key>_rationale``.

Errors name the file, the spreadsheet row (header = row 1), the column and the allowed answers::

    >>> write_template("rob2", "rob2.xlsx")                    # doctest: +SKIP
    >>> forms = read_forms("rob2", "rob2.xlsx")               # doctest: +SKIP
    >>> summary_frame(forms)                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from metareview.errors import InputError
from metareview.extraction import rob1, rob2, robis

Tool = Literal["rob2", "rob1", "robis"]
TOOLS: tuple[str, ...] = ("rob2", "rob1", "robis")
Assessment = rob2.Rob2Assessment | rob1.Rob1Assessment | robis.RobisAssessment

_ROB2_KEYS = (*rob2.DOMAINS, "overall")
_ROBIS_KEYS = tuple(f"D{d}" for d in robis.DOMAINS) + ("overall",)


def columns(tool: str) -> tuple[str, ...]:
    """The template's columns for ``tool``."""
    if tool == "rob2":
        return ("study", "weight", *rob2.QUESTIONS,
                *(f"{k}_override" for k in _ROB2_KEYS), *(f"{k}_reason" for k in _ROB2_KEYS))
    if tool == "rob1":
        return ("study", "weight", *rob1.DOMAINS, *(f"{d}_support" for d in rob1.DOMAINS))
    if tool == "robis":
        return ("review", *robis.QUESTIONS,
                *(f"{k}_concern" for k in _ROBIS_KEYS), *(f"{k}_rationale" for k in _ROBIS_KEYS))
    raise InputError(f"unknown appraisal tool {tool!r}; tools: {', '.join(TOOLS)}", field="tool")


def _allowed(tool: str, column: str) -> str:
    if column in ("study", "review"):
        return "text (required, unique)"
    if column == "weight":
        return "number ≥ 0 (optional)"
    if column.endswith(("_reason", "_support", "_rationale")):
        return "text"
    if tool == "rob2":
        return " | ".join(rob2.JUDGEMENTS) if column.endswith("_override") else " | ".join(rob2.ANSWERS)
    if tool == "rob1":
        return " | ".join(rob1.JUDGEMENTS)
    return " | ".join(robis.CONCERNS) if column.endswith("_concern") else " | ".join(robis.ANSWERS)


def _question(tool: str, column: str) -> str:
    if tool == "rob2":
        return rob2.QUESTIONS.get(column, "")
    if tool == "rob1":
        return rob1.DOMAINS.get(column, "")
    return robis.QUESTIONS.get(column, "")


def write_template(tool: str, path: str | Path, *, subjects: Sequence[str] = ()) -> Path:
    """Write the empty form (``.csv`` or ``.xlsx``; the XLSX has a ``help`` sheet with the allowed answers and
    the question wording), one row per subject in ``subjects`` when given."""
    cols = columns(tool)
    out = Path(path)
    frame = pd.DataFrame({c: list(subjects) if c == cols[0] else [""] * len(subjects) for c in cols},
                         columns=list(cols))
    if out.suffix.lower() == ".xlsx":
        help_frame = pd.DataFrame([{"column": c, "allowed": _allowed(tool, c), "question": _question(tool, c)}
                                   for c in cols])
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name=tool, index=False)
            help_frame.to_excel(writer, sheet_name="help", index=False)
    elif out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False)
    else:
        raise InputError("the template must be a .csv or .xlsx file", file=out)
    return out


def review_subjects(tool: str, review_dir: str | Path, *, db: str | None = None) -> list[str]:
    """The labels to pre-fill a template with: the review's extracted primary studies (rob2, rob1; each label
    once, in order of first appearance) or its meta-analysis reports (robis)."""
    from metareview.extraction.templates import stored_forms

    columns(tool)
    bundle = stored_forms(review_dir, db=db)
    if tool == "robis":
        return [r.id for r in bundle.reports]
    return list(dict.fromkeys(s.label for group in bundle.primary_studies for s in group.studies))


def _read(tool: str, source: Path) -> pd.DataFrame:
    if not source.exists():
        raise InputError("file not found", file=source)
    try:
        if source.suffix.lower() == ".xlsx":
            book = pd.read_excel(source, sheet_name=None, dtype=object, engine="openpyxl")
            frame = book.get(tool, next(iter(book.values())))
        elif source.suffix.lower() == ".csv":
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        else:
            raise InputError("an appraisal form must be a .csv or .xlsx file", file=source)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read: {exc}", file=source) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def read_forms(tool: str, path: str | Path) -> list[Assessment]:
    """Read and check every row of a filled form; all rows or an error (nothing partial)."""
    cols = columns(tool)
    source = Path(path)
    frame = _read(tool, source)
    unknown = [c for c in frame.columns if c not in cols]
    if unknown:
        raise InputError(f"unknown column; expected columns: {', '.join(cols)}", file=source, line=1,
                         field=unknown[0])
    if cols[0] not in frame.columns:
        raise InputError(f"column {cols[0]!r} is required", file=source, line=1, field=cols[0])
    out: list[Assessment] = []
    seen: set[str] = set()
    for i, rec in enumerate(frame.to_dict("records")):
        row = {c: _text(rec.get(c)) for c in cols}
        if not any(row.values()):
            continue
        line = i + 2
        try:
            out.append(parse_row(tool, row))
        except InputError as exc:
            col = _column_of(tool, exc.field)
            raise InputError(f"{exc.message}; allowed: {_allowed(tool, col)}" if "allowed" not in exc.message
                             else exc.message, file=source, line=line, field=col) from exc
        if row[cols[0]] in seen:
            raise InputError(f"duplicate {cols[0]} {row[cols[0]]!r}", file=source, line=line, field=cols[0])
        seen.add(row[cols[0]])
    return out


def _column_of(tool: str, field: str | None) -> str:
    if field is None:
        return columns(tool)[0]
    if tool == "rob2" and field in _ROB2_KEYS:
        return f"{field}_override"
    if tool == "robis" and field.startswith("domain "):
        return f"D{field.split()[1]}_concern"
    if tool == "robis" and field == "overall":
        return "overall_concern"
    return field


def parse_row(tool: str, row: dict[str, str]) -> Assessment:
    """One form row (column → text) as the tool's assessment."""
    subject = row.get("review" if tool == "robis" else "study", "").strip()
    if not subject:
        raise InputError("a label is required", field="review" if tool == "robis" else "study")
    if tool == "rob2":
        overrides = {k: (row[f"{k}_override"], row.get(f"{k}_reason", ""))
                     for k in _ROB2_KEYS if row.get(f"{k}_override")}
        return rob2.assess({q: row.get(q, "") for q in rob2.QUESTIONS}, study=subject, overrides=overrides,
                           weight=_weight(row.get("weight", "")))
    if tool == "rob1":
        return rob1.assess({d: row.get(d, "") for d in rob1.DOMAINS}, study=subject,
                           support={d: row[f"{d}_support"] for d in rob1.DOMAINS if row.get(f"{d}_support")},
                           weight=_weight(row.get("weight", "")))
    if tool == "robis":
        concerns = {k.removeprefix("D"): row.get(f"{k}_concern", "") for k in _ROBIS_KEYS}
        rationale = {k.removeprefix("D"): row[f"{k}_rationale"]
                     for k in _ROBIS_KEYS if row.get(f"{k}_rationale")}
        return robis.assess({q: row.get(q, "") for q in robis.QUESTIONS}, review=subject,
                            concerns={k: v for k, v in concerns.items() if v}, rationale=rationale)
    columns(tool)
    raise AssertionError("unreachable")


def _weight(text: str) -> float | None:
    if not text:
        return None
    try:
        w = float(text)
    except ValueError:
        raise InputError(f"weight {text!r} is not a number", field="weight") from None
    if not w >= 0:
        raise InputError(f"weight {text!r} must be ≥ 0", field="weight")
    return w


def _row_of(tool: str, a: Assessment) -> dict[str, str]:
    """The form row that reproduces ``a`` (what is stored)."""
    if isinstance(a, rob2.Rob2Assessment):
        row = {"study": a.study, "weight": "" if a.weight is None else str(a.weight), **a.answers}
        for d in a.domains:
            if d.overridden:
                row |= {f"{d.domain}_override": d.judgement, f"{d.domain}_reason": d.override_reason}
        if a.overall != a.overall_suggested:
            row |= {"overall_override": a.overall, "overall_reason": a.overall_override_reason}
        return row
    if isinstance(a, rob1.Rob1Assessment):
        return {"study": a.study, "weight": "" if a.weight is None else str(a.weight), **a.judgements,
                **{f"{d}_support": t for d, t in a.support.items()}}
    row = {"review": a.review, **a.answers}
    for dom in a.domains:
        row |= {f"D{dom.domain}_concern": dom.concern, f"D{dom.domain}_rationale": dom.rationale}
    return row | {"overall_concern": a.overall, "overall_rationale": a.overall_rationale}


def _subject(a: Assessment) -> str:
    return a.review if isinstance(a, robis.RobisAssessment) else a.study


def store_appraisals(tool: str, forms: Sequence[Assessment], review_dir: str | Path, *,
                     db: str | None = None) -> dict[str, int]:
    """Store the forms in the review (one transaction; a subject already stored is replaced)."""
    from metareview.review import Review
    from metareview.store.appraisal_repo import save_appraisals

    columns(tool)
    review = Review.open(review_dir, db)
    try:
        with review.session() as session:
            rows = [(_subject(a), a.overall, getattr(a, "weight", None), {"row": _row_of(tool, a)})
                    for a in forms]
            return save_appraisals(session, tool, rows)
    finally:
        review.close()


def stored_appraisals(tool: str, review_dir: str | Path, *, db: str | None = None) -> list[Assessment]:
    """The forms of ``tool`` stored in the review, re-checked."""
    from metareview.review import Review
    from metareview.store.appraisal_repo import load_appraisals

    columns(tool)
    review = Review.open(review_dir, db)
    try:
        with review.session() as session:
            rows = load_appraisals(session, tool)
    finally:
        review.close()
    cols = columns(tool)
    return [parse_row(tool, {c: str(data["row"].get(c, "")) for c in cols}) for _, _, _, data in rows]


def summary_frame(forms: Sequence[Assessment]) -> pd.DataFrame:
    """One row per study or review: each domain's judgement and the overall judgement."""
    rows = []
    for a in forms:
        if isinstance(a, rob2.Rob2Assessment):
            rows.append({"study": a.study, **a.judgements()})
        elif isinstance(a, rob1.Rob1Assessment):
            rows.append({"study": a.study, **a.judgements, "overall": a.summary})
        else:
            rows.append({"review": a.review, **a.judgements()})
    return pd.DataFrame(rows)
