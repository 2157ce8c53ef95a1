"""The screening rules hold under concurrent callers (issue 8, "Races in the screening rules").

Processes (``spawn``) are released at the same instant by a ``multiprocessing.Barrier``, round after round,
on the SQLite file store and on PostgreSQL. Afterwards the invariants are read back from the store, and
every loser must have got a clear :class:`InputError` (never a driver error, never a silent success).
These tests failed on the unserialised code (three votes on a two-reviewer record, two resolutions,
votes stored after a resolution).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import race_worker
from racefixtures import run_race

from metareview.records.model import Record
from metareview.review import Review
from metareview.store import records_repo, screening_repo

ROUNDS = 30


def _review(directory: Path, url: str) -> Review:
    review = Review.init(directory, db_url=url)
    with review.session() as s:
        search = records_repo.add_search(
            s, database="MEDLINE", file_name="r.ris", file_hash="r", file_format="ris"
        )
        records_repo.insert_records(
            s, search.id, 0, [Record(title=f"Record {i}", abstract=f"abstract {i}") for i in range(ROUNDS)]
        )
        records_repo.finish_search(s, search, ROUNDS)
    return review


Plan = list[tuple[str, dict[str, Any]]]


def _race(directory: Path, url: str, plans: list[Plan]) -> dict[int, list[tuple[str, str]]]:
    return run_race(race_worker.act, directory, url, plans)


def _events(review: Review) -> list[Any]:
    with review.session() as s:
        return screening_repo.events(s)


def _conflicts(review: Review) -> None:
    from metareview.screening import decisions as sd

    for rid in range(1, ROUNDS + 1):
        sd.decide(review, rid, "ana", "include")
        sd.decide(review, rid, "ben", "exclude")


def test_third_voter_on_two_reviewer_record(tmp_path: Path, store_url: str) -> None:
    review = _review(tmp_path / "rv", store_url)
    plans = [
        [("decide", {"record_id": r + 1, "reviewer": who, "decision": "include"}) for r in range(ROUNDS)]
        for who in ("ana", "ben", "cleo")
    ]
    out = _race(tmp_path / "rv", store_url, plans)
    votes = Counter(e.record_id for e in _events(review) if e.kind == "vote")
    assert votes == {r: 2 for r in range(1, ROUNDS + 1)}
    for rnd, res in out.items():
        kinds = sorted(k for k, _ in res)
        assert kinds == ["input", "ok", "ok"], (rnd, res)
        assert "already has its 2 of 2 vote(s)" in next(m for k, m in res if k == "input")
    review.close()


def test_two_opposite_resolutions(tmp_path: Path, store_url: str) -> None:
    review = _review(tmp_path / "rv", store_url)
    _conflicts(review)
    plans = [
        [("resolve", {"record_id": r + 1, "reviewer": who, "decision": dec}) for r in range(ROUNDS)]
        for who, dec in (("cleo", "include"), ("dan", "exclude"))
    ]
    out = _race(tmp_path / "rv", store_url, plans)
    resolutions = defaultdict(list)
    for e in _events(review):
        if e.kind == "resolution":
            resolutions[e.record_id].append(e.reviewer)
    assert {r: len(v) for r, v in resolutions.items()} == {r: 1 for r in range(1, ROUNDS + 1)}
    for rnd, res in out.items():
        assert sorted(k for k, _ in res) == ["input", "ok"], (rnd, res)
        winner = resolutions[rnd + 1][0]
        assert f"already resolved at title_abstract by {winner}" in next(m for k, m in res if k == "input")
    review.close()


def test_vote_change_racing_a_resolution(tmp_path: Path, store_url: str) -> None:
    review = _review(tmp_path / "rv", store_url)
    _conflicts(review)
    plans = [
        [("decide", {"record_id": r + 1, "reviewer": "ana", "decision": "exclude"}) for r in range(ROUNDS)],
        [("resolve", {"record_id": r + 1, "reviewer": "cleo", "decision": "include"}) for r in range(ROUNDS)],
    ]
    out = _race(tmp_path / "rv", store_url, plans)
    by_record = defaultdict(list)
    for e in _events(review):
        by_record[e.record_id].append(e.kind)
    for rid, kinds in by_record.items():
        if "resolution" in kinds:  # nothing after the resolution, and the change was refused
            assert kinds == ["vote", "vote", "resolution"], (rid, kinds)
        else:  # the change won: both exclude, decided, nothing to resolve
            assert kinds == ["vote", "vote", "vote"], (rid, kinds)
    for rnd, res in out.items():
        assert sorted(k for k, _ in res) == ["input", "ok"], (rnd, res)
        loser = next(m for k, m in res if k == "input")
        if by_record[rnd + 1][-1] == "resolution":
            assert "already resolved at title_abstract by cleo" in loser
            assert "votes can no longer change" in loser
        else:
            assert "is decided at title_abstract, not in conflict" in loser
    review.close()
