"""Living-review updates (issue 12): only the new unique records form the new batch, and the stopping
rule speaks per batch and never claims recall over records nobody has screened."""

from __future__ import annotations

from pathlib import Path

import pytest
from living_helpers import titles, write_ris

from metareview.errors import InputError
from metareview.records.importer import import_file
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.batches import (
    UpdateSource,
    batch_records,
    batch_stopping_status,
    record_batch,
    update_review,
)

# 400 distinct papers: 60 on topic, 340 off topic
_ALL = titles(400 + 20 + 6 + 1, seed=1)
RELEVANT, IRRELEVANT = _ALL[:60], _ALL[60:400]
NEW20 = _ALL[400:420]


def _initial(review: Review, tmp: Path) -> None:
    import_file(review, write_ris(tmp / "first.ris", RELEVANT + IRRELEVANT), "MEDLINE", searched="2024-01-10")


def _screen_first_320(review: Review) -> None:
    """Prioritised screening as it goes well: the 60 relevant records first, then 260 irrelevant ones,
    leaving 80 unscreened."""
    ids = batch_records(review)[1]
    for i, rid in enumerate(ids[:320]):
        sd.decide(
            review,
            rid,
            "ana",
            "include" if i < 60 else "exclude",
            reason=None if i < 60 else "not a meta-analysis",
        )


def test_update_after_stop_does_not_claim_recall_over_new_records(review: Review, tmp_path: Path) -> None:
    # The case: STOP with 80 of 400 unscreened; an update brings 20 new records nobody has seen.
    _initial(review, tmp_path)
    _screen_first_320(review)
    before = batch_stopping_status(review)
    assert before.speaks_for == 1 and before.stop  # 60 relevant then 260 irrelevant: the rule fires
    new = NEW20
    res = update_review(
        review, [UpdateSource(write_ris(tmp_path / "upd.ris", new, 2025), "MEDLINE", searched="2025-01-10")]
    )
    assert res.batch == 2 and res.new_unique_records == 20
    after = batch_stopping_status(review)
    assert after.speaks_for == 2
    assert not after.stop  # the review does not stop over 20 unscreened records
    cur = after.current
    assert cur.records == 20 and cur.screened == 0
    assert all(not r.stop for r in cur.results)
    assert cur.results[0].recall_lower_bound is None
    assert "batch 2 of 2" in str(after) and "batch 1: STOP" in str(after)
    # every interface that asks the queue (web dashboard, API) gets the same truthful verdict
    from metareview.screening.queue import stopping_status

    hyper, heuristic = stopping_status(review)
    assert not hyper.stop and not heuristic.stop and hyper.n_total == 20 and "batch 2" in hyper.basis
    # batch 1's own verdict is unchanged: it rests on batch 1's records only
    b1 = next(b for b in after.batches if b.batch == 1)
    assert b1.stop and b1.records == 400 and b1.results[0].n_total == 400


def test_new_batch_needs_its_own_evidence(review: Review, tmp_path: Path) -> None:
    _initial(review, tmp_path)
    _screen_first_320(review)
    new = NEW20
    res = update_review(
        review, [UpdateSource(write_ris(tmp_path / "upd.ris", new, 2025), "MEDLINE", searched="2025-01-10")]
    )
    for rid in res.new_record_ids[:5]:
        sd.decide(review, rid, "ana", "exclude", reason="not a meta-analysis")
    st = batch_stopping_status(review)
    assert st.current.screened == 5 and not st.stop
    assert st.current.results[0].n_total == 20


def test_update_queues_only_new_unique_records(review: Review, tmp_path: Path) -> None:
    _initial(review, tmp_path)
    # PubMed's update holds 3 papers the review already has (from MEDLINE), 2 new ones twice over
    # (in PubMed and PsycINFO), and 4 new ones in PubMed only
    known = RELEVANT[:3]
    both, only = _ALL[420:422], _ALL[422:426]
    res = update_review(
        review,
        [
            UpdateSource(
                write_ris(tmp_path / "pm.ris", known + both + only), "PubMed", searched="2025-02-01"
            ),
            UpdateSource(write_ris(tmp_path / "psy.ris", both), "PsycINFO", searched="2025-02-03"),
        ],
        actor="ana",
    )
    assert res.records_added == 11
    assert res.new_unique_records == 6
    titles = {r.title for r in _records(review, res.new_record_ids)}
    assert titles == set(both + only)
    assert all(record_batch(review, rid) == 2 for rid in res.new_record_ids)
    assert len(batch_records(review)[1]) == 400
    assert "6 new unique records" in str(res)


def test_second_update_is_batch_3_and_same_file_adds_nothing(review: Review, tmp_path: Path) -> None:
    _initial(review, tmp_path)
    f = write_ris(tmp_path / "u.ris", _ALL[426:427], 2025)
    assert update_review(review, [UpdateSource(f, "MEDLINE", searched="2025-01-01")]).batch == 2
    again = update_review(review, [UpdateSource(f, "MEDLINE", searched="2025-06-01")])
    assert again.batch == 3 and again.new_unique_records == 0 and again.imports[0].already_imported
    assert batch_stopping_status(review).speaks_for == 2  # the latest batch that holds records


def test_bad_update_writes_nothing(review: Review, tmp_path: Path) -> None:
    _initial(review, tmp_path)
    good = write_ris(tmp_path / "g.ris", _ALL[426:427], 2025)
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,here\n", encoding="utf-8")
    with pytest.raises(InputError):
        update_review(
            review,
            [
                UpdateSource(good, "MEDLINE", searched="2025-01-01"),
                UpdateSource(bad, "PsycINFO", searched="2025-01-01"),
            ],
        )
    with pytest.raises(InputError, match="search date"):
        update_review(review, [UpdateSource(good, "MEDLINE")])
    assert set(batch_records(review)) == {1} and len(batch_records(review)[1]) == 400


def _records(review: Review, ids: list[int]) -> list:
    from metareview.store import screening_repo

    with review.session() as s:
        return [screening_repo.record_by_id(s, i) for i in ids]


def test_review_verdict_waits_for_every_batch(review: Review, tmp_path: Path) -> None:
    # batch 1 barely screened; batch 2's heuristic (5 irrelevant in a row) fires on its own records
    import_file(review, write_ris(tmp_path / "a.ris", _ALL[:30]), "MEDLINE", searched="2024-01-10")
    first = batch_records(review)[1]
    sd.decide(review, first[0], "ana", "include")
    sd.decide(review, first[1], "ana", "exclude", reason="not a meta-analysis")
    res = update_review(
        review, [UpdateSource(write_ris(tmp_path / "u.ris", NEW20), "MEDLINE", searched="2025-01-10")]
    )
    for rid in res.new_record_ids[:8]:
        sd.decide(review, rid, "ana", "exclude", reason="not a meta-analysis")
    st = batch_stopping_status(review, consecutive=5)
    assert st.speaks_for == 2 and st.current.results[1].stop  # batch 2 alone would stop
    heuristic = st.review_results()[1]
    assert not heuristic.stop and "batch 1 not finished" in heuristic.basis
    assert not st.stop and "batch 1: continue" in str(st)
