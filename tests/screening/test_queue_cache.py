"""The cached screening queue (``next_record(cache=True)``) against the full recomputation."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from screenfixtures import make_review

from metareview.records.model import Record
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.queue import clear_cache, next_record
from metareview.store import records_repo

WORDS = ("depression anxiety internet therapy trial aspirin stroke cohort surgery hip smartphone "
         "support meta-analysis guided statins fracture adults stress").split()


def _more_records(review: Review, n: int = 30) -> None:
    rnd = random.Random(3)
    recs = [Record(title=" ".join(rnd.choices(WORDS, k=6)), abstract=" ".join(rnd.choices(WORDS, k=20)))
            for _ in range(n)]
    with review.session() as s:
        search = records_repo.add_search(s, database="Embase", file_name="y.ris", file_hash="h2",
                                         file_format="ris")
        records_repo.insert_records(s, search.id, 0, recs)
        records_repo.finish_search(s, search, n)


def _same(review: Review, reviewer: str) -> None:
    cached = next_record(review, reviewer, refit_every=1)
    full = next_record(review, reviewer, cache=False)
    assert (cached is None) == (full is None)
    if cached is not None and full is not None:
        assert cached.to_dict() == full.to_dict()


@pytest.mark.parametrize("blind", [True, False])
def test_cached_equals_full_recomputation_when_refit_due(tmp_path: Path, store_url: str, blind: bool) -> None:
    clear_cache()
    review = make_review(tmp_path / "rv", store_url, blind=blind)
    _more_records(review)
    rnd = random.Random(5)
    people = ["ana", "ben", "cat"]
    trained = False
    for step in range(40):
        who = people[step % 3]
        nxt = next_record(review, who, refit_every=1)
        full = next_record(review, who, cache=False)
        assert nxt is not None and full is not None
        assert nxt.to_dict() == full.to_dict()
        trained |= nxt.trained
        sd.decide(review, nxt.record_id, who, rnd.choice(["include", "exclude", "exclude", "maybe"]))
        for other in people:
            _same(review, other)
    assert trained  # the comparison covered trained rankings, not only the import order
    review.close()


def test_record_needing_no_more_votes_never_served(tmp_path: Path, store_url: str) -> None:
    clear_cache()
    review = make_review(tmp_path / "rv", store_url, blind=True)
    _more_records(review)
    for rid in (1, 2, 3, 4):
        sd.decide(review, rid, "ana", "include" if rid % 2 else "exclude")
    first = next_record(review, "ana", refit_every=1000, refit_after_s=1e9)  # caches ana's ranking
    assert first is not None
    sd.decide(review, first.record_id, "ben", "include")
    sd.decide(review, first.record_id, "cat", "exclude")  # two votes: needs no more
    again = next_record(review, "ana", refit_every=1000, refit_after_s=1e9)
    assert again is not None and again.record_id != first.record_id
    assert again.remaining == first.remaining - 1
    # a resolved record is not served either
    sd.decide(review, again.record_id, "ben", "include")
    states = {st.record_id: st for st in sd.states(review, reviewer="ben")}
    assert states[again.record_id].status == sd.PENDING
    third = next_record(review, "ana", refit_every=1000, refit_after_s=1e9)
    assert third is not None and third.record_id != first.record_id
    # every record served while the cached order is stale is still open for ana
    served = []
    while (nxt := next_record(review, "ana", refit_every=1000, refit_after_s=1e9)) is not None:
        st = sd.state(review, nxt.record_id, reviewer="ana")
        assert st.status == sd.PENDING and all(v.reviewer != "ana" for v in st.votes)
        served.append(nxt.record_id)
        sd.decide(review, nxt.record_id, "ana", "exclude")
        if len(served) % 3 == 0:
            sd.decide(review, nxt.record_id + 1, "ben", "exclude") if nxt.record_id < 36 else None
    assert len(served) == len(set(served))
    assert next_record(review, "ana", cache=False) is None
    review.close()


def test_stale_order_refits_after_refit_every(tmp_path: Path, store_url: str) -> None:
    clear_cache()
    review = make_review(tmp_path / "rv", store_url, blind=False)
    _more_records(review)
    for rid in (1, 2):
        sd.decide(review, rid, "ana", "include" if rid == 1 else "exclude")
    next_record(review, "ana", refit_every=3, refit_after_s=1e9)
    for rid in (3, 4, 5):  # three new decision events: the next request refits
        sd.decide(review, rid, "ben", "include" if rid == 5 else "exclude")
    assert next_record(review, "ana", refit_every=3, refit_after_s=1e9) == next_record(
        review, "ana", cache=False
    )
    review.close()


def test_reviewer_progress_counts_records_not_events(tmp_path: Path, store_url: str) -> None:
    from metareview.team.work import reviewer_progress

    review = make_review(tmp_path / "rv", store_url, blind=True)
    sd.decide(review, 1, "ben", "include")
    sd.decide(review, 1, "ben", "exclude")  # a changed vote: still one record
    sd.decide(review, 2, "ben", "exclude")
    sd.decide(review, 2, "ana", "exclude")
    assert reviewer_progress(review) == {"title_abstract": {"ana": 1, "ben": 2}}
    review.close()


def test_record_held_by_two_reviewers_goes_to_a_third_only_when_nothing_else_is_left(
    tmp_path: Path, store_url: str
) -> None:
    """The team server's holds: a record served to two reviewers who have not voted yet (two votes
    needed) is not served to a third while another record is open for them."""
    clear_cache()
    review = make_review(tmp_path / "rv", store_url, blind=True)
    a = next_record(review, "ana", hold=60)
    b = next_record(review, "ben", hold=60)
    assert a is not None and b is not None and a.record_id == b.record_id == 1  # corpus order: untrained
    c = next_record(review, "cat", hold=60)
    assert c is not None and c.record_id == 2
    assert next_record(review, "cat").record_id == 1  # without holds: the ranking's first
    assert next_record(review, "ana", hold=60).record_id == 1  # one's own hold does not count
    sd.decide(review, 1, "ana", "exclude")  # ana's vote and ben's hold still fill record 1
    d = next_record(review, "dan", hold=60)
    assert d is not None and d.record_id == 2
    for rid in range(2, 7):  # everything else decided: a held record is served rather than nothing
        sd.decide(review, rid, "eve", "exclude")
        sd.decide(review, rid, "fay", "exclude")
    e = next_record(review, "gus", hold=60)
    assert e is not None and e.record_id == 1 and e.remaining == 1
    review.close()


def test_background_refit_serves_the_cached_order_then_the_refitted_one(
    tmp_path: Path, store_url: str
) -> None:
    """The team server's mode: a due refit runs on the refitter thread; the request that found it due
    is answered from the cached order, and once the refit is done the order is the full recomputation's."""
    from metareview.screening import queue

    clear_cache()
    review = make_review(tmp_path / "rv", store_url, blind=True)
    _more_records(review)
    sd.decide(review, 1, "ana", "include")
    sd.decide(review, 3, "ana", "exclude")
    first = next_record(review, "ana", refit_every=1, background=True)  # no ranking yet: fitted now
    assert first is not None and first.trained
    assert first.to_dict() == next_record(review, "ana", cache=False).to_dict()
    sd.decide(review, first.record_id, "ana", "include")
    stale = next_record(review, "ana", refit_every=1, background=True)  # due: served from the old order
    assert stale is not None and stale.record_id != first.record_id
    assert queue._REFITTER is not None
    queue._REFITTER.submit(lambda: None).result(timeout=60)  # one worker: the refit has finished
    (fit,) = [f for key, f in queue._FITS.items() if key[2] == "ana"]
    assert fit.events == 3  # refitted on ana's three votes, by the refitter thread
    fresh = next_record(review, "ana", refit_every=1, background=True)
    assert fresh is not None
    assert fresh.to_dict() == next_record(review, "ana", cache=False).to_dict()
    review.close()
