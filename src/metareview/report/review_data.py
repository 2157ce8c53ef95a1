"""Everything a review's report draws on, read once from its store through the areas' own functions: the
searches (databases, dates, strategies), the deduplication and PRISMA counts, who screened each stage and how
well they agreed, where screening stopped, the full texts excluded with their reasons, the reports included at
full text and the studies they report (reports linked to one study), the extraction forms (their final values:
with two extractors per report, the consensus values) with the reports still being extracted or reconciled
and the extractors' agreement per field, and the appraisals (AMSTAR 2 in the forms; ROBIS, RoB 2, RoB 1
stored)::

    data = gather_review("my-review")
    data.prisma.new_studies, len(data.bundle.reports), [s.database for s in data.searches]

Nothing here computes statistics; it only reads. Blind mode is respected: per-reviewer information is only
aggregated (number of reviewers, κ), as the screening area's functions return it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from metareview.errors import MetareviewError
from metareview.protocol import Protocol

__all__ = ["ReviewData", "SearchInfo", "StageInfo", "citation", "gather_review"]


@dataclass(frozen=True)
class SearchInfo:
    """One imported search export."""

    database: str
    searched_on: date | None
    query: str
    file_name: str
    records: int


@dataclass(frozen=True)
class StageInfo:
    """One screening stage: counts, reviewers and agreement (aggregates only)."""

    stage: str
    total: int
    pending: int
    conflict: int
    included: int
    excluded: int
    reviewers: int
    reviewers_per_record: int
    agreement: tuple[Any, ...] = ()  # screening.agreement.Agreement objects


@dataclass
class ReviewData:
    """What the report of one review draws on (each part empty when the review has none)."""

    protocol: Protocol
    searches: list[SearchInfo] = field(default_factory=list)
    database_counts: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    prisma: Any = None  # PrismaCounts
    prisma_problem: str = ""
    stages: list[StageInfo] = field(default_factory=list)
    stopping: Any = None  # screening.batches.BatchStopping
    excluded_full_text: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["record", "citation", "reason"]))
    included_records: list[tuple[str, str]] = field(default_factory=list)  # (rec<id>, citation), as the
    # extraction templates are pre-filled (metareview.extraction.templates.included_reports)
    included_studies: list[Any] = field(default_factory=list)  # screening.studies.Study of those records
    bundle: Any = None  # ExtractionBundle: the final values (consensus values with two extractors)
    appraisals: dict[str, list[Any]] = field(default_factory=dict)  # tool -> forms
    extractors_per_report: int = 1
    pending_extractions: list[Any] = field(default_factory=list)  # extraction.dual ReportStatus, not agreed
    extraction_agreement: Any = None  # extraction.field_agreement.ExtractionAgreement (two extractors)

    @property
    def linked_studies(self) -> list[Any]:
        """The included studies with several reports (empty when no report is linked to another)."""
        return [s for s in self.included_studies if len(s.record_ids) > 1]

    @property
    def screened(self) -> bool:
        return any(s.total for s in self.stages)


def citation(rec: Any) -> str:
    """``Author et al. (year) Title. Journal. doi:...`` of a stored record."""
    authors = list(rec.authors or [])
    who = (authors[0].split(",")[0] + (" et al." if len(authors) > 1 else "")) if authors else ""
    head = " ".join(p for p in (who, f"({rec.year})" if rec.year else "") if p)
    parts = [p for p in (head, rec.title, rec.journal) if p]
    return ". ".join(parts) + (f". doi:{rec.doi}" if rec.doi else "")


def gather_review(review_dir: str | Path, db: str | None = None) -> ReviewData:
    """Read the review in ``review_dir`` (its store: ``db`` or the folder's SQLite file)."""
    from metareview.extraction import dual
    from metareview.extraction.appraisal_forms import TOOLS, parse_row
    from metareview.review import Review
    from metareview.store import records_repo
    from metareview.store.appraisal_repo import load_appraisals

    review = Review.open(review_dir, db)
    try:
        data = ReviewData(protocol=review.protocol)
        with review.session() as s:
            data.searches = [SearchInfo(x.database, x.searched_on, x.query or "", x.file_name, x.record_count)
                             for x in records_repo.searches(s)]
            data.database_counts = records_repo.database_counts(s)
            for tool in TOOLS:
                rows = load_appraisals(s, tool)
                if rows:
                    from metareview.extraction.appraisal_forms import columns

                    cols = columns(tool)
                    data.appraisals[tool] = [parse_row(tool, {c: str(d["row"].get(c, "")) for c in cols})
                                             for _, _, _, d in rows]
        data.bundle = dual.final_bundle(review)  # with two extractors: the consensus values
        data.extractors_per_report = int(review.protocol.extraction.extractors_per_report)
        if data.extractors_per_report > 1:
            from metareview.extraction.field_agreement import extraction_agreement

            # blind mode holds: no reviewer is named, so only counts come back for reports not agreed
            data.pending_extractions = [st for st in dual.status(review) if st.phase != "agreed"]
            data.extraction_agreement = extraction_agreement(review)
        if data.searches:
            _screening(review, data)
        return data
    finally:
        review.close()


def _screening(review: Any, data: ReviewData) -> None:
    from metareview.screening import decisions as sd
    from metareview.screening.prisma import PrismaError, prisma_counts
    from metareview.screening.queue import review_agreement
    from metareview.screening.stages import EXCLUDE, FULL_TEXT, INCLUDE
    from metareview.store.screening_repo import record_by_id

    log = sd.decision_log(review)
    for stage in review.protocol.screening.stages:
        p = sd.progress(review, stage)
        votes = log[(log["stage"] == stage) & (log["kind"] == "vote")] if len(log) else log
        try:
            agreement = tuple(review_agreement(review, stage)) if p.total else ()
        except MetareviewError:
            agreement = ()
        data.stages.append(StageInfo(stage, p.total, p.pending, p.conflict, p.included, p.excluded,
                                     int(votes["reviewer"].nunique()) if len(votes) else 0,
                                     review.protocol.screening.reviewers_per_record, agreement))
    if not data.screened:
        return
    try:
        data.prisma = prisma_counts(review)
    except PrismaError as exc:
        data.prisma_problem = str(exc)
    try:
        from metareview.screening.batches import batch_stopping_status

        data.stopping = batch_stopping_status(review)
    except MetareviewError:
        data.stopping = None
    if FULL_TEXT in review.protocol.screening.stages:
        excluded = [(rid, reason) for rid, (dec, reason) in sd.final_decisions(review, FULL_TEXT).items()
                    if dec == EXCLUDE]
        rows = []
        with review.session() as s:
            for rid, reason in sorted(excluded):
                rec = record_by_id(s, rid)
                rows.append({"record": f"rec{rid}", "citation": citation(rec) if rec is not None else "",
                             "reason": reason or "no reason given"})
        data.excluded_full_text = pd.DataFrame(rows, columns=["record", "citation", "reason"])
    last = review.protocol.screening.stages[-1]
    included = sorted(rid for rid, (dec, _) in sd.final_decisions(review, last).items() if dec == INCLUDE)
    from metareview.screening.studies import studies

    data.included_studies = studies(review, included)
    with review.session() as s:
        data.included_records = [(f"rec{rid}", citation(rec)) for rid in included
                                 if (rec := record_by_id(s, rid)) is not None]


def kappa_text(a: Any) -> str:
    """``Cohen's kappa 0.71 (95% CI 0.60 to 0.82; 2 raters, 300 records)``."""
    lvl = a.level * 100 if a.level <= 1 else a.level
    est = f"{a.estimate:.2f}" if math.isfinite(a.estimate) else "not estimable"
    return (f"{a.statistic} {est} ({lvl:.0f}% CI {a.ci_lower:.2f} to {a.ci_upper:.2f}; {a.raters} raters, "
            f"{a.n} records)").replace("-", "\u2212")
