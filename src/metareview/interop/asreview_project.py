"""ASReview LAB project files (``.asreview``) in and out.

An ``.asreview`` file (project file version 3, ASReview LAB 2.x/3.x) is a zip holding ``project.json``
(the project's settings, with ``project_file_version`` 3 and the ``datasets`` list), ``data/<file>``
(the dataset as given to ASReview), ``feature_matrices/`` and ``results.db``: an SQLite database whose
``record`` table holds the parsed records (``record_id``, ``title``, ``abstract``, ``authors`` and
``keywords`` as JSON lists, ``year``, ``doi``, ``url``) and whose ``results`` table holds one row per
labelled record (``label`` 1 relevant / 0 irrelevant, ``time`` in Unix seconds, ``note``). The
labelling order is the order of ``time``. (Format read from ASReview's own ``asreview.project.api`` and
``asreview.database.database``; the tests check both directions with the real ``asreview`` package.)

**In** (:func:`import_asreview`): the records become a search of database ``"ASReview"`` through the
normal importer (:func:`metareview.records.importer.import_file`, so identity checks and re-import rules
are the same as for any export), then each label becomes a title/abstract vote of ``reviewer``
(relevant → include, irrelevant → exclude) in the labelling order, with ASReview's note as the vote's
note, matched back to the records by DOI, then title + year
(:func:`metareview.interop.decisions.import_decisions`). Records and votes are written in one
transaction: any error leaves the review unchanged.

**Out** (:func:`export_asreview`): the records carried forward (duplicates left out), and, for those
with a final title/abstract decision that the requesting ``reviewer`` may see (blind mode applied as in
:func:`metareview.screening.decisions.states`), a label in the order the decisions were made, with the
votes' notes. "maybe" and pending records are left unlabelled (ASReview has no third label).

Example::

    from metareview.interop.asreview_project import export_asreview, import_asreview
    report = import_asreview(review, "screening.asreview", reviewer="asreview")
    export_asreview(review, "handback.asreview", reviewer="ana")
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import sqlite3
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metareview.errors import InputError

if TYPE_CHECKING:
    from metareview.interop.decisions import ImportReport
    from metareview.records.importer import ImportResult
    from metareview.review import Review

DATABASE = "ASReview"
PROJECT_FILE_VERSION = 3
DATABASE_VERSION = 3  # results.db ``PRAGMA user_version`` of project file version 3
ASREVIEW_VERSION = "3.0.0"  # the ASReview release whose format this module writes


@dataclass(frozen=True)
class AsreviewLabel:
    """One row of ASReview's ``results`` table, in labelling order."""

    record_id: int
    label: int
    time: float
    note: str


@dataclass(frozen=True)
class AsreviewImport:
    """What :func:`import_asreview` did: the records' import and the labels' match report."""

    records: ImportResult
    labels: ImportReport
    labelled: int

    def __str__(self) -> str:
        r = self.records
        return (
            f"{r.file}: {r.records_in_file} records ({r.added} new) as a search of {DATABASE}; "
            f"{self.labelled} labels\n{self.labels}"
        )


# --- reading ---------------------------------------------------------------------------------------


@contextmanager
def _unpacked(path: Path) -> Iterator[tuple[dict[str, Any], sqlite3.Connection]]:
    """project.json and an open connection to results.db of the project file ``path``."""
    if not path.is_file():
        raise InputError("file not found", file=path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError("not an ASReview project file (not a zip)", file=path) from None
    with zf, tempfile.TemporaryDirectory() as tmp:
        names = set(zf.namelist())
        for needed in ("project.json", "results.db"):
            if needed not in names:
                raise InputError(f"not an ASReview project file (no {needed})", file=path, field=needed)
        try:
            config = json.loads(zf.read("project.json").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"project.json is not JSON: {exc}", file=path, field="project.json") from None
        version = config.get("project_file_version") if isinstance(config, dict) else None
        if version != PROJECT_FILE_VERSION:
            raise InputError(
                f"project file version {version!r} is not supported (only {PROJECT_FILE_VERSION}, "
                "ASReview LAB 2 and later; open and export older projects in a current ASReview first)",
                file=path,
                field="project_file_version",
            )
        db_path = Path(tmp) / "results.db"
        db_path.write_bytes(zf.read("results.db"))
        conn = sqlite3.connect(db_path)
        try:
            yield config, conn
        except sqlite3.DatabaseError as exc:
            raise InputError(f"results.db: {exc}", file=path, field="results.db") from None
        finally:
            conn.close()


def _json_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    try:
        parsed = json.loads(value)
    except (TypeError, json.JSONDecodeError):
        return [str(value)]
    return [str(x) for x in parsed] if isinstance(parsed, list) else [str(parsed)]


def read_project(path: str | Path) -> tuple[list[dict[str, Any]], list[AsreviewLabel]]:
    """(records, labels) of an ASReview project file: records with ``record_id, title, abstract,
    authors, keywords, year, doi, url`` (ASReview's duplicates left out), labels in labelling order."""
    path = Path(path)
    with _unpacked(path) as (_, conn):
        cols = {row[1] for row in conn.execute("PRAGMA table_info(record)")}
        if not {"record_id", "title"} <= cols:
            raise InputError("results.db has no record table", file=path, field="record")
        want = [c for c in ("title", "abstract", "authors", "keywords", "year", "doi", "url") if c in cols]
        where = " WHERE duplicate_of IS NULL" if "duplicate_of" in cols else ""
        records = []
        for row in conn.execute(f"SELECT record_id, {', '.join(want)} FROM record{where} ORDER BY record_id"):
            rec = dict(zip(["record_id", *want], row, strict=True))
            rec["authors"] = _json_list(rec.get("authors"))
            rec["keywords"] = _json_list(rec.get("keywords"))
            records.append(rec)
        labels = [
            AsreviewLabel(int(rid), int(label), float(at or 0.0), note or "")
            for rid, label, at, note in conn.execute(
                "SELECT record_id, label, time, note FROM results WHERE label IN (0, 1) ORDER BY time, rowid"
            )
        ]
    return records, labels


# --- import ----------------------------------------------------------------------------------------


@contextmanager
def _one_transaction(review: Review) -> Iterator[Review]:
    """A view of ``review`` whose every ``session()`` is one shared transaction (committed at the end,
    rolled back on any error), so the importer and the vote import write all or nothing."""
    with review.session() as session:
        shared = copy.copy(review)
        shared.session = lambda: nullcontext(session)  # type: ignore[method-assign,assignment,return-value]
        yield shared


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def _ris_entry(rec: dict[str, Any]) -> dict[str, Any]:
    """A rispy entry (one line per field: line breaks inside a field become spaces)."""
    rec = {
        k: ([_one_line(x) for x in v] if isinstance(v, list) else _one_line(v) if v is not None else None)
        for k, v in rec.items()
    }
    entry: dict[str, Any] = {"type_of_reference": "JOUR", "title": rec.get("title") or ""}
    if rec.get("abstract"):
        entry["abstract"] = rec["abstract"]
    if rec["authors"]:
        entry["authors"] = rec["authors"]
    if rec["keywords"]:
        entry["keywords"] = rec["keywords"]
    if rec.get("year"):
        entry["year"] = str(rec["year"])
    if rec.get("doi"):
        entry["doi"] = rec["doi"]
    if rec.get("url"):
        entry["urls"] = [rec["url"]]
    return entry


def import_asreview(review: Review, path: str | Path, *, reviewer: str) -> AsreviewImport:
    """Bring the ASReview screening in ``path`` into ``review`` (see the module doc): records as a
    search of ``"ASReview"``, labels as ``reviewer``'s title/abstract votes in labelling order, notes
    kept; one transaction."""
    import rispy

    from metareview.interop.decisions import import_decisions
    from metareview.records.importer import import_file

    path = Path(path)
    if not reviewer.strip():
        raise InputError("a reviewer name is required", field="reviewer")
    records, labels = read_project(path)
    if not records:
        raise InputError("the project holds no records", file=path, field="record")
    by_id = {rec["record_id"]: rec for rec in records}
    with tempfile.TemporaryDirectory() as tmp:
        ris_path = Path(tmp) / f"{path.stem}.ris"
        ris_path.write_text(rispy.dumps([_ris_entry(r) for r in records]), encoding="utf-8")
        votes_path = Path(tmp) / "labels.csv"
        try:
            with _one_transaction(review) as shared:
                result = import_file(shared, ris_path, DATABASE, fmt="ris")
                _write_votes(shared, votes_path, labels, by_id)
                report = import_decisions(shared, votes_path, reviewer=reviewer)
        except InputError as exc:
            # name the user's project file, not the temporary files it was turned into
            if exc.file == str(votes_path):
                where = f"label {exc.line - 1} in labelling order" if exc.line else "labels"
            else:
                where = "records" + (f" ({exc.field})" if exc.field else "")
            raise InputError(exc.message, file=path, field=where) from None
    return AsreviewImport(dataclasses.replace(result, file=str(path)), report, len(labels))


def _write_votes(
    review: Review, out: Path, labels: list[AsreviewLabel], by_id: dict[int, dict[str, Any]]
) -> None:
    """The labels as a decisions CSV in labelling order. Each label names the record of database
    ``ASReview`` it belongs to (matched by DOI, then title + year, among that database's records only,
    so copies of the same study from other databases do not make it ambiguous); a label matched to
    none keeps its DOI and title, and the decision import reports why it did not match."""
    from metareview.interop.decisions import match_row
    from metareview.records.export import records_frame
    from metareview.records.model import fold

    frame = records_frame(review)
    frame = frame[frame["database"] == DATABASE]
    by_doi: dict[str, list[int]] = {}
    by_title: dict[str, list[int]] = {}
    for row in frame[["id", "doi", "title", "year"]].itertuples(index=False):
        rid = int(str(row.id))
        if row.doi:
            by_doi.setdefault(str(row.doi), []).append(rid)
        if row.title:
            year = "" if row.year is None or str(row.year) == "<NA>" else str(int(str(row.year)))
            by_title.setdefault(f"{fold(str(row.title))}|{year}", []).append(rid)
    ids = {int(i) for i in frame["id"]}
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["record_id", "doi", "title", "year", "decision", "note"])
        for lab in labels:
            rec = by_id.get(lab.record_id)
            if rec is None:
                continue  # a label on one of ASReview's duplicates: its kept record carries one
            fields = {
                "doi": str(rec.get("doi") or ""),
                "title": str(rec.get("title") or ""),
                "year": str(rec.get("year") or ""),
            }
            matched, _, _ = match_row(fields, by_doi, {}, by_title, ids)
            decision = "include" if lab.label == 1 else "exclude"
            writer.writerow(
                [matched or "", fields["doi"], fields["title"], fields["year"], decision, lab.note]
            )


# --- export ----------------------------------------------------------------------------------------


def _labels(review: Review, reviewer: str | None) -> dict[int, tuple[int, float, str, int]]:
    """record id -> (label, time of the decision, note, place in decision order) for the final
    include/exclude decisions that ``reviewer`` may see. The order is that of the record's last
    title/abstract event (event ids, so votes written in one transaction keep their order)."""
    from metareview.screening import decisions as sd
    from metareview.screening.stages import TITLE_ABSTRACT
    from metareview.store import screening_repo

    with review.session() as session:
        last_event = {e.record_id: e.id for e in screening_repo.events(session, stage=TITLE_ABSTRACT)}
    out: dict[int, tuple[int, float, str, int]] = {}
    for st in sd.states(review, TITLE_ABSTRACT, reviewer):
        if st.decision not in ("include", "exclude"):
            continue
        votes = [*st.votes, *([st.resolution] if st.resolution is not None else [])]
        at = max((v.at.timestamp() for v in votes), default=time.time())
        noted = [v for v in votes if v.note]
        if len(noted) == 1:
            note = noted[0].note or ""
        else:
            note = "; ".join(f"{v.reviewer}: {v.note}" for v in noted)
        label = 1 if st.decision == "include" else 0
        out[st.record_id] = (label, at, note, last_event.get(st.record_id, 0))
    return out


def export_asreview(review: Review, path: str | Path, *, reviewer: str | None = None) -> int:
    """Write ``review``'s records and title/abstract labels as an ASReview project file at ``path``
    (``.asreview``), as ``reviewer`` may see them. Returns the number of records written."""
    from metareview.interop.decisions import decisions_frame

    path = Path(path)
    if path.suffix != ".asreview":
        raise InputError("an ASReview project file must end in .asreview", file=path)
    frame = decisions_frame(review, reviewer)
    labels = _labels(review, reviewer)
    dataset_id = uuid.uuid4().hex
    name = path.stem
    data_name = f"{name}.csv"
    rows: list[dict[str, Any]] = []
    for i, row in enumerate(frame.to_dict("records")):
        year = row.get("year")
        rows.append(
            {
                "record_id": i,
                "metareview_id": int(row["id"]),
                "title": str(row.get("title") or ""),
                "abstract": str(row.get("abstract") or ""),
                "authors": [a for a in str(row.get("authors") or "").split("; ") if a],
                "keywords": [k for k in str(row.get("keywords") or "").split("; ") if k],
                "year": None if year is None or str(year) == "<NA>" else int(year),
                "doi": str(row.get("doi") or "") or None,
                "url": str(row.get("url") or "") or None,
            }
        )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        (root / "feature_matrices").mkdir()
        with (root / "data" / data_name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                ["title", "abstract", "authors", "keywords", "year", "doi", "url", "metareview_id"]
            )
            for r in rows:
                writer.writerow(
                    [
                        r["title"],
                        r["abstract"],
                        "; ".join(r["authors"]),
                        "; ".join(r["keywords"]),
                        r["year"] if r["year"] is not None else "",
                        r["doi"] or "",
                        r["url"] or "",
                        r["metareview_id"],
                    ]
                )
        _write_results_db(root / "results.db", rows, labels, dataset_id)
        config = {
            "version": ASREVIEW_VERSION,
            "id": name,
            "mode": "oracle",
            "name": name,
            "created_at_unix": int(time.time()),
            "feature_matrices": [],
            "tags": None,
            "project_file_version": PROJECT_FILE_VERSION,
            "datasets": [{"id": dataset_id, "name": data_name}],
        }
        (root / "project.json").write_text(json.dumps(config), encoding="utf-8")
        partial = path.with_name(path.name + ".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for item in ("data/", "feature_matrices/"):
                zf.writestr(item, "")
            for file in ("project.json", "results.db", f"data/{data_name}"):
                zf.write(root / file, file)
        partial.replace(path)
    return len(rows)


def _write_results_db(
    db_path: Path, rows: list[dict[str, Any]], labels: dict[int, tuple[int, float, str, int]], dataset_id: str
) -> None:
    """results.db of project file version 3: the ``record``, ``results``, ``last_ranking`` and
    ``decision_changes`` tables with the columns ASReview checks, and the labels in decision order."""
    conn = sqlite3.connect(db_path)
    try:
        conn.executescript(
            f"""
            PRAGMA user_version = {DATABASE_VERSION};
            CREATE TABLE record (
                dataset_row INTEGER NOT NULL, dataset_id VARCHAR NOT NULL, title VARCHAR NOT NULL,
                abstract VARCHAR NOT NULL, authors JSON NOT NULL, keywords JSON NOT NULL, year INTEGER,
                doi VARCHAR, url VARCHAR, included INTEGER, record_id INTEGER NOT NULL,
                duplicate_of INTEGER,
                group_id INTEGER NOT NULL GENERATED ALWAYS AS (COALESCE(duplicate_of, record_id)) VIRTUAL,
                PRIMARY KEY (record_id), UNIQUE (dataset_row, dataset_id),
                CONSTRAINT no_self_duplicate CHECK (duplicate_of IS NULL OR duplicate_of != record_id),
                FOREIGN KEY(duplicate_of) REFERENCES record (record_id) ON DELETE SET NULL);
            CREATE INDEX idx_record_group_id ON record (group_id);
            CREATE TABLE results (record_id INTEGER UNIQUE, label INTEGER, classifier TEXT, querier TEXT,
                balancer TEXT, feature_extractor TEXT, training_set INTEGER, time FLOAT, note TEXT,
                tags JSON, user_id INTEGER);
            CREATE TABLE last_ranking (record_id INTEGER UNIQUE, ranking INT, classifier TEXT,
                querier TEXT, balancer TEXT, feature_extractor TEXT, training_set INTEGER, time FLOAT);
            CREATE TABLE decision_changes (record_id INTEGER, label INTEGER, time FLOAT, user_id INTEGER);
            """
        )
        conn.executemany(
            "INSERT INTO record (dataset_row, dataset_id, title, abstract, authors, keywords, year, doi, "
            "url, included, record_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            [
                (
                    r["record_id"],
                    dataset_id,
                    r["title"],
                    r["abstract"],
                    json.dumps(r["authors"]),
                    json.dumps(r["keywords"]),
                    r["year"],
                    r["doi"],
                    r["url"],
                    r["record_id"],
                )
                for r in rows
            ],
        )
        ordered = sorted(
            ((labels[r["metareview_id"]], r["record_id"]) for r in rows if r["metareview_id"] in labels),
            key=lambda item: item[0][3],
        )
        # strictly increasing times in decision order (ASReview orders its labels by time)
        times: list[float] = []
        for (_, at, _, _), _ in ordered:
            times.append(max(at, times[-1] + 1e-3) if times else at)
        conn.executemany(
            "INSERT INTO results (record_id, label, time, note) VALUES (?, ?, ?, ?)",
            [
                (rid, label, t, note or None)
                for ((label, _, note, _), rid), t in zip(ordered, times, strict=True)
            ],
        )
        conn.commit()
    finally:
        conn.close()
