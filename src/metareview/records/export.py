"""The review's records as a table, and export to CSV, RIS or XLSX.

Kept records of duplicate clusters show the fields filled in from their duplicates. Example::

    from metareview.records.export import records_frame, export_records
    frame = records_frame(review)                         # every record, with its status
    export_records(review, "unique.ris", fmt="ris")       # unique records only (duplicates left out)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import rispy

from metareview.cells import neutralise_frame
from metareview.errors import InputError
from metareview.filemodes import restrict
from metareview.records.model import RECORD_FIELDS
from metareview.review import Review
from metareview.store import records_repo as repo

EXPORT_FORMATS = ("csv", "ris", "xlsx")
_TEXT_FIELDS = ("abstract", "keywords", "publication_types", "language")  # the wide columns go last
COLUMNS = (
    "id",
    "database",
    "status",
    "cluster_id",
    "kept_record_id",
    *(f for f in RECORD_FIELDS if f not in (*_TEXT_FIELDS, "source_database")),
    *_TEXT_FIELDS,
)


def records_frame(review: Review, duplicates: bool = True) -> pd.DataFrame:
    """One row per record: ``status`` is 'unique', 'kept' (kept member of a cluster) or 'duplicate'.

    With ``duplicates=False`` only the records carried forward (unique and kept) are listed.
    """
    rows: list[dict[str, Any]] = []
    with review.session() as session:
        merged = repo.cluster_merged(session)
        for rec, database, cluster_id, kept in repo.iter_records(session):
            status = "unique" if cluster_id is None else ("kept" if kept == rec.id else "duplicate")
            if status == "duplicate" and not duplicates:
                continue
            row = {name: getattr(rec, name) for name in RECORD_FIELDS if name != "source_database"}
            if status == "kept" and cluster_id is not None:
                row.update(merged.get(cluster_id) or {})
            row.update(
                id=rec.id, database=database, status=status, cluster_id=cluster_id, kept_record_id=kept
            )
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for name in ("authors", "keywords", "publication_types"):
        frame[name] = frame[name].map(lambda v: "; ".join(v or []))
    frame["year"] = frame["year"].astype("Int64")
    return frame


class _RisWriter(rispy.RisWriter):  # type: ignore[misc]
    """rispy's writer without the "N." line it puts before each reference."""

    def set_header(self, count: int) -> str:
        return ""


def _ris_entries(frame: pd.DataFrame) -> list[dict[str, Any]]:
    entries = []
    for row in frame.to_dict("records"):
        first, _, last = str(row["pages"]).partition("-")
        values: dict[str, Any] = {
            "title": row["title"],
            "authors": _items(row["authors"]),
            "year": "" if pd.isna(row["year"]) else str(row["year"]),
            "secondary_title": row["journal"],
            "volume": row["volume"],
            "number": row["issue"],
            "start_page": first,
            "end_page": last,
            "doi": row["doi"],
            "accession_number": row["pmid"],
            "abstract": row["abstract"],
            "keywords": _items(row["keywords"]),
            "language": row["language"],
            "name_of_database": row["database"],
            "id": str(row["id"]),
        }
        entry = {"type_of_reference": "JOUR"}
        entry.update({k: v for k, v in values.items() if v not in ("", [], None)})
        entries.append(entry)
    return entries


def _items(joined: object) -> list[str]:
    return [item for item in str(joined or "").split("; ") if item]


def export_records(
    review: Review,
    path: str | Path,
    fmt: str | None = None,
    duplicates: bool = False,
    *,
    included: str | None = None,
) -> int:
    """Write the records to ``path`` as CSV, RIS or XLSX (from the suffix when ``fmt`` is None).

    Returns the number of records written. Duplicates are left out unless ``duplicates=True``.
    ``included`` ('title_abstract' or 'full_text'): only the records whose final decision at that
    stage is include.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"export format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}", field="export")
    frame = records_frame(review, duplicates=duplicates)
    if included is not None:
        from metareview.records.browse import included_ids

        frame = frame[frame["id"].isin(included_ids(review, included))]
    if fmt == "csv":
        neutralise_frame(frame).to_csv(path, index=False)
    elif fmt == "xlsx":
        neutralise_frame(frame).to_excel(path, index=False, sheet_name="records")
    else:
        path.write_text(rispy.dumps(_ris_entries(frame), implementation=_RisWriter), encoding="utf-8")
    restrict(path)
    return len(frame)
