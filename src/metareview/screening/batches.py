"""Living reviews: an update imports the new search results as a new *batch*, and the stopping rule
speaks for one batch at a time.

* :func:`update_review` — import the new search export of each database with its new search date, as one
  update: the files are parsed first (a malformed file stops the update before anything is written),
  each is imported (records already imported from that database are not added again), the whole review
  is deduplicated (so a new record that is a duplicate of anything the review already holds is flagged
  and never screened), and the searches of the update are stored as batch ``n`` (2, 3, …; batch 1 is
  everything imported before the first update). The new unique records join the screening queue.
* :func:`batch_stopping_status` — the protocol's stopping rule (``[screening.stopping]``, applied by
  :func:`metareview.screening.stopping_rules.apply_rule`) and the consecutive-irrelevant heuristic beside
  it, on the records of one batch only (default: the latest batch that holds records). A new batch
  starts with no evidence: its rule cannot say STOP before its own records have been screened, and what
  an earlier batch's rule said is reported separately, for that batch's records only. The review as a
  whole may stop only when every batch's rule says so.

Why per batch: the hypergeometric rule treats the last records screened as a random sample of those
then unscreened. Records added after that sample was drawn were never in the urn; counting them among
"the then unscreened" (as a review-wide rule does after an update) claims a recall nobody measured.

Example::

    from metareview.screening.batches import UpdateSource, update_review, batch_stopping_status
    res = update_review(review, [UpdateSource("pubmed-2025.nbib", "PubMed", searched="2025-03-01")])
    print(res)                            # batch 2: N new unique records to screen
    print(batch_stopping_status(review))  # speaks for batch 2
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from metareview.errors import InputError
from metareview.records.dedup import DedupResult, deduplicate
from metareview.records.importer import ImportResult, import_file, parse_date, read_records
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.stages import INCLUDE, TITLE_ABSTRACT
from metareview.screening.stopping import StoppingResult, consecutive_irrelevant
from metareview.screening.stopping_rules import apply_rule
from metareview.store import living_repo, queue_repo


@dataclass(frozen=True)
class UpdateSource:
    """One database's new search export: file, database name, the new search date, query, format."""

    path: str | Path
    database: str
    searched: str | date | None = None
    query: str | None = None
    fmt: str = "auto"


@dataclass(frozen=True)
class UpdateResult:
    """What an update did: its batch number, each import, the deduplication, the new unique records."""

    batch: int
    imports: list[ImportResult]
    dedup: DedupResult | None
    new_unique_records: int
    new_record_ids: list[int] = field(default_factory=list)

    @property
    def records_added(self) -> int:
        """Records stored by the update (before deduplication)."""
        return sum(r.added for r in self.imports)

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return {
            "batch": self.batch,
            "records_added": self.records_added,
            "new_unique_records": self.new_unique_records,
            "new_record_ids": list(self.new_record_ids),
            "imports": [r.to_dict() for r in self.imports],
            "dedup": self.dedup.to_dict() if self.dedup else None,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per imported file."""
        return pd.DataFrame([{"batch": self.batch, **r.to_dict()} for r in self.imports])

    def __str__(self) -> str:
        lines = [f"Update: batch {self.batch}"]
        lines += [f"  {r}" for r in self.imports]
        dup = self.records_added - self.new_unique_records
        lines.append(
            f"  {self.records_added} records added, {dup} of them duplicates of records the review holds "
            f"(or of each other); {self.new_unique_records} new unique records queued for screening"
        )
        if self.dedup is not None and self.dedup.uncertain_open:
            lines.append(
                f"  {self.dedup.uncertain_open} uncertain duplicate pairs to review (`dedup --review-pairs`)"
            )
        return "\n".join(lines)


def update_review(
    review: Review,
    sources: Sequence[UpdateSource],
    *,
    actor: str = "",
    note: str | None = None,
    dedup: bool = True,
) -> UpdateResult:
    """Import each database's new search results as one update batch and deduplicate the review.

    Every source needs its new search date. All files are read before anything is written, so a
    malformed file raises :class:`InputError` (file, line, field) and the review is unchanged.
    """
    if not sources:
        raise InputError("an update needs at least one search export", field="file")
    for src in sources:
        if src.searched is None:
            raise InputError(
                f"the new search date of {src.database} is missing (YYYY-MM-DD)",
                file=src.path,
                field="searched",
            )
        parse_date(src.searched)
        for _ in read_records(src.path, src.fmt):  # parse fully: errors before any write
            pass
    with review.session() as s:
        batch = living_repo.add_batch(s, actor=actor, note=note)
    imports: list[ImportResult] = []
    for src in sources:
        res = import_file(review, src.path, src.database, fmt=src.fmt, searched=src.searched, query=src.query)
        imports.append(res)
        if not res.already_imported and res.search_id is not None:
            with review.session() as s:
                living_repo.assign_search(s, res.search_id, batch)
    result_dedup = deduplicate(review) if dedup else None
    new_ids = batch_records(review).get(batch, [])
    return UpdateResult(batch, imports, result_dedup, len(new_ids), new_ids)


def batch_records(review: Review) -> dict[int, list[int]]:
    """batch number -> the screenable (not duplicate) record ids of that batch, in id order."""
    with review.session() as s:
        of = living_repo.record_batches(s)
        ids = queue_repo.screenable_ids(s)
    out: dict[int, list[int]] = {}
    for rid in ids:
        out.setdefault(of[rid], []).append(rid)
    return out


def record_batch(review: Review, record_id: int) -> int:
    """The batch a record belongs to (1 for records imported before the first update)."""
    with review.session() as s:
        of = living_repo.record_batches(s)
    if record_id not in of:
        raise InputError(f"no record {record_id}", field="record")
    return of[record_id]


@dataclass(frozen=True)
class BatchVerdict:
    """The stopping rules of one batch, on that batch's records only."""

    batch: int
    records: int
    screened: int
    results: list[StoppingResult]

    @property
    def stop(self) -> bool:
        """True when the protocol's rule (the first result) says stop for this batch."""
        return bool(self.results and self.results[0].stop)


@dataclass(frozen=True)
class BatchStopping:
    """Per-batch stopping status: ``speaks_for`` is the batch the headline verdict is about."""

    speaks_for: int
    batches: list[BatchVerdict]

    @property
    def current(self) -> BatchVerdict:
        """The verdict of the batch the status speaks for."""
        return next(b for b in self.batches if b.batch == self.speaks_for)

    @property
    def results(self) -> list[StoppingResult]:
        """The stopping rules of the batch the status speaks for."""
        return self.current.results

    @property
    def stop(self) -> bool:
        """True only when every batch holding records says stop (no batch left unassessed)."""
        return all(b.stop for b in self.batches if b.records)

    def review_results(self) -> list[StoppingResult]:
        """The rules of the batch the status speaks for, as the review's verdict: a rule says stop only
        when every batch holding records says stop; the basis names any batch that does not."""
        waiting = [b.batch for b in self.batches if b.records and not b.stop and b.batch != self.speaks_for]
        if not waiting:
            return list(self.current.results)
        note = f"; batch {', '.join(map(str, waiting))} not finished by its own rule"
        return [
            dataclasses.replace(r, stop=False, basis=r.basis + note) if r.stop else r
            for r in self.current.results
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return {
            "speaks_for": self.speaks_for,
            "stop": self.stop,
            "batches": [
                {
                    "batch": b.batch,
                    "records": b.records,
                    "screened": b.screened,
                    "stop": b.stop,
                    "results": [r.to_dict() for r in b.results],
                }
                for b in self.batches
            ],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per batch and rule."""
        return pd.DataFrame(
            [{"batch": b.batch, "records": b.records, **r.to_dict()} for b in self.batches for r in b.results]
        )

    def __str__(self) -> str:
        cur = self.current
        n = len(self.batches)
        lines = [
            f"Stopping status for batch {cur.batch} of {n} ({cur.records} records in the batch, "
            f"{cur.screened} screened); the rules below use this batch's records only"
        ]
        lines += [str(r) for r in cur.results]
        others = [b for b in self.batches if b.batch != cur.batch and b.records]
        for b in others:
            lines.append(
                f"batch {b.batch}: {'STOP' if b.stop else 'continue'} ({b.screened} of {b.records} screened)"
            )
        if n > 1:
            lines.append(
                f"review: {'STOP' if self.stop else 'continue'} (stop only when every batch says stop)"
            )
        return "\n".join(lines)


def batch_stopping_status(
    review: Review,
    batch: int | None = None,
    target_recall: float | None = None,
    confidence: float | None = None,
    consecutive: int | None = None,
    rule: str | None = None,
) -> BatchStopping:
    """The stopping rules per batch on the title/abstract decisions, in the order their first vote was cast.

    ``batch`` chooses the batch the status speaks for (default: the latest batch that holds records). The
    rule, its target recall and confidence, its parameters and the heuristic's run length come from the
    protocol's ``[screening.stopping]`` unless given here (a rule given here uses its default parameters).
    Each batch gets the rule's verdict first, then (``consecutive`` > 0) the heuristic's.
    """
    cfg = review.protocol.screening.stopping
    name = rule or cfg.rule
    params = cfg.params if name == cfg.rule else {}
    tau = cfg.target_recall if target_recall is None else target_recall
    conf = cfg.confidence if confidence is None else confidence
    run = cfg.consecutive if consecutive is None else consecutive
    from metareview.screening import live

    by_batch = batch_records(review)
    with review.session() as s:
        numbers = sorted({1, *(b.number for b in living_repo.batches(s)), *by_batch})
    with live.view(review) as now:  # records in the order of their first title/abstract event
        order = [rid for rid, _ in now.records(TITLE_ABSTRACT)]
    final = sd.final_decisions(review, TITLE_ABSTRACT)
    if batch is not None and batch not in numbers:
        raise InputError(f"no batch {batch} (batches: {', '.join(map(str, numbers))})", field="batch")
    verdicts = []
    for b in numbers:
        ids = set(by_batch.get(b, []))
        labels = [int(final[r][0] == INCLUDE) for r in order if r in ids and r in final]
        results = [apply_rule(name, labels, len(ids), tau, conf, params)]
        if run and name != "consecutive":
            results.append(consecutive_irrelevant(labels, len(ids), run))
        results = [
            dataclasses.replace(r, stop=r.stop and bool(ids), basis=f"batch {b}: {r.basis}") for r in results
        ]
        verdicts.append(BatchVerdict(b, len(ids), len(labels), results))
    if batch is None:
        holding = [v.batch for v in verdicts if v.records]
        batch = holding[-1] if holding else numbers[-1]
    return BatchStopping(batch, verdicts)
