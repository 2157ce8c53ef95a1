"""The dual-extraction rules hold under concurrent callers (issue 10): at most two extractors per report,
one consensus per field, no change to an extraction once its consensus has begun.

Processes (``spawn``) are released at the same instant by a ``multiprocessing.Barrier``, round after
round (a new report each round), on the SQLite file store and on PostgreSQL; afterwards the invariants are
read back from the store, and every loser must have got a clear :class:`InputError` (never a driver error,
never a silent success). Without the report lock (``extraction_repo.lock_reports``) these rules are
checked on stale reads and break (three extractors, two consensus values of one field).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import extraction_race_worker
from dualfixtures import ESTIMATE, extraction, make_review
from racefixtures import run_race

from metareview.extraction import dual
from metareview.store import extraction_repo

ROUNDS = 8


def _race(
    directory: Path, url: str, plans: list[list[tuple[str, dict[str, Any]]]]
) -> dict[int, list[tuple[str, str]]]:
    return run_race(extraction_race_worker.act, directory, url, plans)


def _events(review) -> list[Any]:
    with review.session() as s:
        return extraction_repo.extraction_events(s)


def _submitted_twice(review) -> None:
    for r in range(ROUNDS):
        dual.save_extraction(review, extraction(f"r{r}", estimate=2.0), "ana", submit=True)
        dual.save_extraction(review, extraction(f"r{r}", estimate=2.4), "ben", submit=True)


def test_third_extractor_racing_two(tmp_path: Path, store_url: str) -> None:
    review = make_review(tmp_path / "rv", store_url)
    plans = [[("save", {"key": f"r{r}", "estimate": 2.0, "extractor": who}) for r in range(ROUNDS)]
             for who in ("ana", "ben", "cleo")]
    out = _race(tmp_path / "rv", store_url, plans)
    per_report = defaultdict(set)
    for e in _events(review):
        per_report[e.report_key].add(e.actor)
    assert {k: len(v) for k, v in per_report.items()} == {f"r{r}": 2 for r in range(ROUNDS)}
    for rnd, res in out.items():
        assert sorted(k for k, _ in res) == ["input", "ok", "ok"], (rnd, res)
        assert "already has its 2 of 2 extractor(s)" in next(m for k, m in res if k == "input")
    # identical extractions: every report was agreed and written once
    assert len(dual.final_bundle(review).reports) == ROUNDS
    review.close()


def test_two_arbiters_racing_on_one_field(tmp_path: Path, store_url: str) -> None:
    review = make_review(tmp_path / "rv", store_url)
    _submitted_twice(review)
    plans = [[("consensus", {"report_id": f"r{r}", "field": ESTIMATE, "reviewer": who, "value": v})
              for r in range(ROUNDS)] for who, v in (("olga", 2.0), ("cleo", 2.4))]
    out = _race(tmp_path / "rv", store_url, plans)
    consensus = defaultdict(list)
    for e in _events(review):
        if e.kind == "consensus":
            consensus[e.report_key].append(e.actor)
    assert {k: len(v) for k, v in consensus.items()} == {f"r{r}": 1 for r in range(ROUNDS)}
    final = {r.id: e.estimate for r in dual.final_bundle(review).reports
             for e in dual.final_bundle(review).effect_sizes if e.report_id == r.id}
    for rnd, res in out.items():
        assert sorted(k for k, _ in res) == ["input", "ok"], (rnd, res)
        winner = consensus[f"r{rnd}"][0]
        loser = next(m for k, m in res if k == "input")
        assert f"already has a consensus value, recorded by {winner}" in loser
        assert final[f"r{rnd}"] == {"olga": 2.0, "cleo": 2.4}[winner]
    review.close()


def test_extraction_change_racing_a_consensus(tmp_path: Path, store_url: str) -> None:
    review = make_review(tmp_path / "rv", store_url)
    _submitted_twice(review)
    plans = [
        [("save", {"key": f"r{r}", "estimate": 2.4, "extractor": "ana"}) for r in range(ROUNDS)],
        [("consensus", {"report_id": f"r{r}", "field": ESTIMATE, "reviewer": "olga", "value": 2.2})
         for r in range(ROUNDS)],
    ]
    out = _race(tmp_path / "rv", store_url, plans)
    kinds = defaultdict(list)
    for e in _events(review):
        kinds[e.report_key].append(e.kind)
    outcomes = Counter()
    for rnd, res in out.items():
        seq = kinds[f"r{rnd}"]
        assert "submission" not in seq[seq.index("consensus"):] if "consensus" in seq else True, seq
        results = dict(res)
        if seq == ["submission", "submission", "consensus"]:  # the consensus won: the change was refused
            assert "consensus has begun" in results["input"], res
            outcomes["consensus first"] += 1
        else:  # the change won (both agree: the report is agreed), then the arbiter's value overrides it
            assert seq == ["submission", "submission", "submission", "consensus"], seq
            assert sorted(k for k, _ in res) == ["ok", "ok"], res
            outcomes["change first"] += 1
    assert sum(outcomes.values()) == ROUNDS
    # either way the arbiter's value is the final one
    final = {e.report_id: e.estimate for e in dual.final_bundle(review).effect_sizes}
    assert final == {f"r{r}": 2.2 for r in range(ROUNDS)}
    review.close()
