"""Screening decisions out and in.

**Out** (:func:`export_decisions`): every record carried forward, with per stage its status, final
decision, the votes the requesting ``reviewer`` may see (blind mode applied exactly as
:func:`metareview.screening.decisions.states` applies it), reasons and notes, as CSV, XLSX or RIS. In RIS
the labels go to ``N1`` lines, first ASReview's label (``ASReview_relevant`` / ``ASReview_irrelevant`` /
``ASReview_not_seen``, from the title/abstract decision, the convention ASReview LAB writes and reads),
then one ``metareview <stage>: <decision>`` line and one line per visible vote, so a reference manager
shows them in the record's notes.

**In** (:func:`import_decisions`): a CSV/XLSX with a ``decision`` column (include/exclude/maybe, or
``1``/``0``, ``included``/``excluded``), a Rayyan CSV export (votes per Rayyan reviewer parsed from its
``notes`` column, stored as ``<reviewer>:<Rayyan name>``; labels and exclusion reasons kept as the
vote's note), a Covidence reference export (see below) or a RIS file with ASReview labels in ``N1``;
each row is matched
to a record by DOI, else PMID, else normalised title + year (``record_id`` when the file has it). What
matched, what did not and why is reported; the votes are written in one transaction by
:func:`metareview.screening.decisions.import_decisions` (any bad vote leaves the store unchanged).

**Covidence** exports references one list at a time (*Export > References*, CSV), in files named
``review_<review>_<list>_csv_<timestamp>.csv`` with a ``Covidence #`` column and no decision column:
the list *is* the team's decision (:data:`COVIDENCE_LISTS`). ``irrelevant``: excluded at
title/abstract; ``select`` (the "Full text review" list): included at title/abstract; ``included``
and ``excluded``: included at title/abstract, then included or excluded at full text (two votes per
study). The list is read from the file name, or given (``covidence_list=``; ``--covidence-list``).
A full-text exclusion takes its reason from an ``Exclusion Reason`` column or an ``Exclusion reason:
…`` line of ``Notes`` when the file has one, else from ``reason=`` (it must be one of the protocol's
full-text reasons). Covidence's ``Tags`` and ``Notes`` become the vote's note, with its
``Covidence #``. The votes are ``reviewer``'s: Covidence exports the team's final decisions, not
each screener's votes, so a screening finished in Covidence comes in completely under
``reviewers_per_record = 1``; with 2, each study still needs a second vote.

Example::

    from metareview.interop.decisions import export_decisions, import_decisions
    export_decisions(review, "decisions.ris", reviewer="ana")
    report = import_decisions(review, "asreview_export.ris", reviewer="asreview")
    print(report)
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metareview.cells import neutralise_frame
from metareview.errors import InputError
from metareview.filemodes import restrict
from metareview.records.model import fold, normalise_doi, normalise_pmid, parse_year

if TYPE_CHECKING:
    from metareview.review import Review

EXPORT_FORMATS = ("csv", "xlsx", "ris")
ASREVIEW_RELEVANT = "ASReview_relevant"
ASREVIEW_IRRELEVANT = "ASReview_irrelevant"
ASREVIEW_NOT_SEEN = "ASReview_not_seen"
_DECISION_WORDS = {
    "include": "include",
    "included": "include",
    "1": "include",
    "yes": "include",
    "relevant": "include",
    "exclude": "exclude",
    "excluded": "exclude",
    "0": "exclude",
    "no": "exclude",
    "irrelevant": "exclude",
    "maybe": "maybe",
}


# Covidence list (as in its export file names) -> the votes it stands for, (stage, decision) in order
COVIDENCE_LISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "screen": (),
    "irrelevant": (("title_abstract", "exclude"),),
    "select": (("title_abstract", "include"),),
    "included": (("title_abstract", "include"), ("full_text", "include")),
    "excluded": (("title_abstract", "include"), ("full_text", "exclude")),
}
_COVIDENCE_FILE = re.compile(r"_(" + "|".join(COVIDENCE_LISTS) + r")_csv_\d*", re.IGNORECASE)
_COVIDENCE_REASON = re.compile(r"exclusion reason:\s*([^\n;|]+)", re.IGNORECASE)


def covidence_list_of(path: str | Path) -> str | None:
    """The Covidence list a reference export holds, from its file name (``review_1_excluded_csv_…``)."""
    match = _COVIDENCE_FILE.search(Path(path).name)
    return match.group(1).lower() if match else None


def decisions_frame(review: Review, reviewer: str | None = None) -> Any:
    """One row per record carried forward (duplicates left out): the record's fields, then per stage
    ``<stage>_status``, ``<stage>_decision``, ``<stage>_votes``, ``<stage>_reasons``, ``<stage>_notes``
    and ``<stage>_hidden_votes``, as ``reviewer`` may see them; and ``asreview_label``."""
    from metareview.records.export import records_frame
    from metareview.screening import decisions as sd
    from metareview.screening.stages import STAGES, TITLE_ABSTRACT

    frame = records_frame(review, duplicates=False)
    for stage in STAGES:
        by_id = {st.record_id: st for st in sd.states(review, stage, reviewer)}
        cols: dict[str, list[Any]] = defaultdict(list)
        for rid in frame["id"]:
            st = by_id.get(int(rid))
            votes = list(st.votes) if st is not None else []
            if st is not None and st.resolution is not None:
                votes.append(st.resolution)
            cols["status"].append(st.status if st is not None else "")
            cols["decision"].append((st.decision or "") if st is not None else "")
            cols["votes"].append("; ".join(f"{v.reviewer}: {v.decision}" for v in votes))
            cols["reasons"].append("; ".join(f"{v.reviewer}: {v.reason}" for v in votes if v.reason))
            cols["notes"].append("; ".join(f"{v.reviewer}: {v.note}" for v in votes if v.note))
            cols["hidden_votes"].append(st.hidden_votes if st is not None else 0)
        for name, values in cols.items():
            frame[f"{stage}_{name}"] = values
    frame["asreview_label"] = [asreview_label(d) for d in frame[f"{TITLE_ABSTRACT}_decision"]]
    return frame


def asreview_label(decision: str | None) -> str:
    """ASReview's label for a title/abstract decision."""
    if decision == "include":
        return ASREVIEW_RELEVANT
    if decision == "exclude":
        return ASREVIEW_IRRELEVANT
    return ASREVIEW_NOT_SEEN


def export_decisions(
    review: Review, path: str | Path, fmt: str | None = None, *, reviewer: str | None = None
) -> int:
    """Write records with their screening state to ``path`` (CSV, XLSX or RIS, from the suffix when
    ``fmt`` is None), as ``reviewer`` may see them. Returns the number of records written."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}", field="format")
    frame = decisions_frame(review, reviewer)
    if fmt == "csv":
        neutralise_frame(frame).to_csv(path, index=False)
    elif fmt == "xlsx":
        neutralise_frame(frame).to_excel(path, index=False, sheet_name="decisions")
    else:
        path.write_text(_ris_text(frame), encoding="utf-8")
    restrict(path)
    return len(frame)


def _ris_text(frame: Any) -> str:
    import rispy

    from metareview.records.export import _ris_entries
    from metareview.screening.stages import STAGES

    entries = _ris_entries(frame)
    for entry, row in zip(entries, frame.to_dict("records"), strict=True):
        notes = [row["asreview_label"]]
        for stage in STAGES:
            if row[f"{stage}_decision"]:
                notes.append(f"metareview {stage}: {row[f'{stage}_decision']}")
            for part in filter(None, str(row[f"{stage}_votes"]).split("; ")):
                notes.append(f"metareview {stage} vote {part}")
            for part in filter(None, str(row[f"{stage}_reasons"]).split("; ")):
                notes.append(f"metareview {stage} reason {part}")
            for part in filter(None, str(row[f"{stage}_notes"]).split("; ")):
                notes.append(f"metareview {stage} note {part}")
        entry["notes"] = notes
    return str(rispy.dumps(entries, skip_unknown_tags=False, enforce_list_tags=False))


# --- import ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One row of the file: the record it matched (``record_id``) and how, or why it did not."""

    line: int
    title: str
    decision: str
    record_id: int | None
    matched_by: str | None
    why_not: str | None = None


@dataclass
class ImportReport:
    """What :func:`import_decisions` did: ``matched`` rows (votes written), ``unmatched`` with reasons,
    ``skipped`` rows carrying no decision (e.g. ``ASReview_not_seen``)."""

    file: str
    matched: list[Match] = field(default_factory=list)
    unmatched: list[Match] = field(default_factory=list)
    skipped: int = 0
    written: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> Any:
        """One row per matched or unmatched row."""
        import pandas as pd

        return pd.DataFrame([asdict(m) for m in [*self.matched, *self.unmatched]])

    def __str__(self) -> str:
        by: dict[str, int] = defaultdict(int)
        for m in self.matched:
            by[m.matched_by or ""] += 1
        how = ", ".join(f"{n} by {k}" for k, n in sorted(by.items()))
        lines = [
            f"{self.file}: {self.written} decisions written; {len(self.matched)} matched ({how or 'none'}), "
            f"{len(self.unmatched)} unmatched, {self.skipped} without a decision"
        ]
        lines += [f"  line {m.line}: not matched ({m.why_not}): {m.title[:70]}" for m in self.unmatched]
        return "\n".join(lines)


def _rows(
    path: Path,
    default_decision: str | None = None,
    covidence_list: str | None = None,
    reason: str | None = None,
) -> list[tuple[int, dict[str, str]]]:
    """(line, row) with lower-case keys ``record_id, doi, pmid, title, year, decision, reason, note``."""
    suffix = path.suffix.lower()
    from metareview.records.encoding import decode_head, inspect_file

    info = inspect_file(path)
    head = decode_head(info).lstrip("\ufeff").lstrip() if info.encoding else ""
    if suffix == ".ris" or head.startswith("TY  -"):
        return _ris_rows(path, info)
    import pandas as pd

    try:
        df = pd.read_excel(path, dtype=str) if info.encoding is None else pd.read_csv(path, dtype=str)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read decisions: {exc}", file=path) from None
    df = df.fillna("")
    df.columns = [str(c).strip().lower() for c in df.columns]
    aliases = {
        "id": "record_id",
        "label": "decision",
        "included": "decision",
        "label_included": "decision",
        "reason_for_exclusion": "reason",
        "notes": "note",
        "publication_year": "year",
        "published year": "year",
    }
    df = df.rename(columns={k: v for k, v in aliases.items() if k in df.columns and v not in df.columns})
    if "covidence #" in df.columns and "decision" not in df.columns and default_decision is None:
        return _covidence_rows(df, path, covidence_list, reason)
    if "decision" not in df.columns and "note" in df.columns:
        if df["note"].str.contains("RAYYAN-INCLUSION", regex=False).any():
            return _rayyan_rows(df)
    if "decision" not in df.columns and default_decision is not None:
        df["decision"] = default_decision  # a list export of one stage (e.g. Covidence's "included")
    if "decision" not in df.columns:
        raise InputError(
            f"no 'decision' column (have: {', '.join(df.columns)})", file=path, line=1, field="decision"
        )
    return [(i + 2, {str(k): str(v) for k, v in row.items()}) for i, row in enumerate(df.to_dict("records"))]


_RAYYAN_INCLUSION = re.compile(r"RAYYAN-INCLUSION:\s*\{([^}]*)\}")
_RAYYAN_PAIR = re.compile(r'"([^"]+)"\s*=>\s*"([^"]+)"')
_RAYYAN_PART = re.compile(r"RAYYAN-(LABELS|EXCLUSION-REASONS):\s*([^|]*)")


def rayyan_votes(notes: str) -> tuple[dict[str, str], str]:
    """Rayyan's ``notes`` cell -> ({reviewer: include/exclude/maybe}, note text with labels and
    exclusion reasons). Rayyan writes ``RAYYAN-INCLUSION: {"Ana"=>"Included", "Ben"=>"Excluded"}``,
    then ``| RAYYAN-LABELS: a,b`` and ``| RAYYAN-EXCLUSION-REASONS: x,y``."""
    votes: dict[str, str] = {}
    match = _RAYYAN_INCLUSION.search(notes)
    if match is not None:
        for name, word in _RAYYAN_PAIR.findall(match.group(1)):
            decision = _DECISION_WORDS.get(word.strip().lower())
            if decision is not None:
                votes[name.strip()] = decision
    extra = [
        f"Rayyan {kind.lower().replace('-', ' ')}: {text.strip()}"
        for kind, text in _RAYYAN_PART.findall(notes)
        if text.strip()
    ]
    return votes, "; ".join(extra)


def _rayyan_rows(df: Any) -> list[tuple[int, dict[str, str]]]:
    """One row per (record, Rayyan reviewer); the reviewer's name is kept in ``rayyan_reviewer``."""
    out: list[tuple[int, dict[str, str]]] = []
    for i, row in enumerate(df.to_dict("records")):
        votes, note = rayyan_votes(str(row.get("note", "")))
        base = {k: str(v) for k, v in row.items() if k != "note"}
        if not votes:
            out.append((i + 2, {**base, "decision": ""}))
        for name, decision in votes.items():
            out.append((i + 2, {**base, "decision": decision, "note": note, "rayyan_reviewer": name}))
    return out


def _covidence_rows(
    df: Any, path: Path, covidence_list: str | None, reason: str | None
) -> list[tuple[int, dict[str, str]]]:
    """One row per vote a Covidence list stands for (module doc), with its stage."""
    chosen = (covidence_list or covidence_list_of(path) or "").strip().lower()
    if chosen not in COVIDENCE_LISTS:
        raise InputError(
            f"a Covidence export: which list is it ({', '.join(COVIDENCE_LISTS)})? The file name does "
            "not say (Covidence names it review_<n>_<list>_csv_<time>.csv): give the list "
            "(--covidence-list)",
            file=path,
            field="covidence_list",
        )
    out: list[tuple[int, dict[str, str]]] = []
    for i, row in enumerate(df.to_dict("records")):
        cells = {str(k): str(v).strip() for k, v in row.items()}
        accession = cells.get("accession number", "")
        notes = cells.get("note", "")
        found = _COVIDENCE_REASON.search(notes)
        own_reason = cells.get("exclusion reason", "") or (found.group(1).strip() if found else "")
        note = "; ".join(
            part
            for part in (
                f"Covidence {cells.get('covidence #', '')}".strip(),
                f"tags: {cells['tags']}" if cells.get("tags") else "",
                f"notes: {notes}" if notes else "",
            )
            if part and part != "Covidence"
        )
        base = {
            "doi": cells.get("doi", ""),
            "pmid": accession if accession.isdigit() and len(accession) <= 8 else "",
            "title": cells.get("title", ""),
            "year": cells.get("year", ""),
            "note": note,
            "covidence_list": chosen,
        }
        votes = COVIDENCE_LISTS[chosen]
        if not votes:
            out.append((i + 2, {**base, "decision": ""}))
        for stage, decision in votes:
            why = (own_reason or reason or "") if decision == "exclude" and stage == "full_text" else ""
            out.append((i + 2, {**base, "stage": stage, "decision": decision, "reason": why}))
    return out


def _ris_rows(path: Path, info: Any) -> list[tuple[int, dict[str, str]]]:
    from metareview.records import ris

    out: list[tuple[int, dict[str, str]]] = []
    for n, rec in enumerate(ris.read(path, info), start=1):
        notes = rec.raw.get("notes") or []
        notes = notes if isinstance(notes, list) else [notes]
        text = " ".join(str(x) for x in notes)
        decision = ""
        if ASREVIEW_RELEVANT in text:
            decision = "include"
        elif ASREVIEW_IRRELEVANT in text:
            decision = "exclude"
        out.append(
            (
                n,
                {
                    "doi": rec.doi,
                    "pmid": rec.pmid,
                    "title": rec.title,
                    "year": str(rec.year or ""),
                    "decision": decision,
                },
            )
        )
    return out


_Index = dict[str, list[int]]


def _index(review: Review) -> tuple[_Index, _Index, _Index, set[int]]:
    from metareview.records.export import records_frame

    frame = records_frame(review, duplicates=False)
    by_doi: dict[str, list[int]] = defaultdict(list)
    by_pmid: dict[str, list[int]] = defaultdict(list)
    by_title: dict[str, list[int]] = defaultdict(list)
    for row in frame[["id", "doi", "pmid", "title", "year"]].itertuples(index=False):
        rid = int(str(row.id))
        if row.doi:
            by_doi[str(row.doi)].append(rid)
        if row.pmid:
            by_pmid[str(row.pmid)].append(rid)
        if row.title:
            year = "" if row.year is None or str(row.year) == "<NA>" else str(int(str(row.year)))
            by_title[f"{fold(str(row.title))}|{year}"].append(rid)
    return by_doi, by_pmid, by_title, {int(i) for i in frame["id"]}


def match_row(
    row: dict[str, str],
    by_doi: dict[str, list[int]],
    by_pmid: dict[str, list[int]],
    by_title: dict[str, list[int]],
    ids: set[int],
) -> tuple[int | None, str | None, str | None]:
    """(record_id, matched_by, why_not) for one row: record_id, then DOI, PMID, normalised title+year."""
    raw_id = row.get("record_id", "").strip()
    if raw_id:
        if raw_id.isdigit() and int(raw_id) in ids:
            return int(raw_id), "record_id", None
        return None, None, f"record_id {raw_id!r} is not a record of this review"
    tried = []
    doi = normalise_doi(row.get("doi", ""))
    if doi:
        tried.append("DOI")
        if len(by_doi.get(doi, [])) == 1:
            return by_doi[doi][0], "doi", None
    pmid = normalise_pmid(row.get("pmid", ""))
    if pmid:
        tried.append("PMID")
        if len(by_pmid.get(pmid, [])) == 1:
            return by_pmid[pmid][0], "pmid", None
    title = fold(row.get("title", ""))
    if title:
        tried.append("title+year")
        year = parse_year(row.get("year", ""))
        hits = by_title.get(f"{title}|{year or ''}", [])
        if len(hits) == 1:
            return hits[0], "title+year", None
        if len(hits) > 1:
            return None, None, f"title+year matches {len(hits)} records"
    if not tried:
        return None, None, "no DOI, PMID or title to match on"
    return None, None, f"no record with this {' / '.join(tried)}"


def import_decisions(
    review: Review,
    path: str | Path,
    *,
    reviewer: str,
    stage: str | None = None,
    decision: str | None = None,
    covidence_list: str | None = None,
    reason: str | None = None,
) -> ImportReport:
    """Import the decisions in ``path`` as ``reviewer``'s votes (at ``stage``, default title/abstract,
    or the file's ``stage`` column), matching rows to records (see module doc). ``decision`` is the
    decision of every row of a file without a decision column (a per-stage list such as Covidence's
    export of the studies included or excluded at a stage). A Covidence export's list (module doc)
    comes from its file name or ``covidence_list``, and sets the stages; ``reason`` is the full-text
    exclusion reason of its rows that carry none. One transaction:
    a bad vote raises InputError naming the file's line and nothing is written."""
    from metareview.screening import decisions as sd
    from metareview.screening.stages import TITLE_ABSTRACT

    path = Path(path)
    if not reviewer.strip():
        raise InputError("a reviewer name is required", field="reviewer")
    rows = _rows(path, decision, covidence_list, reason)
    if stage and any(row.get("covidence_list") for _, row in rows):
        raise InputError(
            "a Covidence list sets the stages of its votes: leave out the stage", file=path, field="stage"
        )
    by_doi, by_pmid, by_title, ids = _index(review)
    report = ImportReport(str(path))
    votes: list[tuple[int, dict[str, str]]] = []
    for line, row in rows:
        word = row.get("decision", "").strip().lower()
        if not word:
            report.skipped += 1
            continue
        chosen = _DECISION_WORDS.get(word)
        if chosen is None:
            raise InputError(
                f"decision {word!r} is not include/exclude/maybe", file=path, line=line, field="decision"
            )
        rid, how, why = match_row(row, by_doi, by_pmid, by_title, ids)
        m = Match(line, row.get("title", ""), chosen, rid, how, why)
        if rid is None:
            report.unmatched.append(m)
            continue
        report.matched.append(m)
        who = f"{reviewer}:{row['rayyan_reviewer']}" if row.get("rayyan_reviewer") else reviewer
        votes.append(
            (
                line,
                {
                    "record_id": str(rid),
                    "reviewer": who,
                    "decision": chosen,
                    "stage": stage or row.get("stage") or TITLE_ABSTRACT,
                    "reason": row.get("reason", ""),
                    "note": row.get("note", ""),
                },
            )
        )
    if votes:
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / "votes.csv"
            with staged.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, ["record_id", "reviewer", "decision", "stage", "reason", "note"])
                writer.writeheader()
                writer.writerows(v for _, v in votes)
            try:
                report.written = sd.import_decisions(review, staged)
            except InputError as exc:
                at = votes[exc.line - 2][0] if exc.line and 2 <= exc.line <= len(votes) + 1 else None
                raise InputError(exc.message, file=path, line=at, field=exc.field) from None
    return report
