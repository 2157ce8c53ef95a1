"""The screening state kept current in a process (``screening.live``) against a replay of the whole
event log: progress, final decisions, conflicts, what is open for whom, votes per reviewer; after
random votes, retractions, resolutions, corrections, retrievals and duplicate flags; and with events
that PostgreSQL commits out of id order."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from screenfixtures import make_review

from metareview.errors import InputError
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening import live
from metareview.screening.stages import FULL_TEXT, TITLE_ABSTRACT
from metareview.store import records_repo
from metareview.store import screening_repo as repo

PEOPLE = ["ana", "ben", "cat"]
FT_REASONS = ["not a quantitative meta-analysis", "full text not available"]


def _replayed(review: Review) -> dict[str, object]:
    """What the old implementation derived: every event replayed on every call."""
    protocol = review.protocol
    required = protocol.screening.reviewers_per_record
    out: dict[str, object] = {}
    with review.session() as s:
        events = repo.events(s)
        for stage in protocol.screening.stages:
            ids = sd._candidates(s, protocol, stage, events)
            derived = sd._derive(e for e in events if e.stage == stage)
            counts = {"pending": 0, "conflict": 0, "include": 0, "exclude": 0}
            opened: dict[str, set[int]] = {p: set() for p in PEOPLE}
            for rid in ids:
                d = derived.get((rid, stage), sd._Derived())
                status, decision = sd._status(d, required, stage)
                counts[decision if status == sd.DECIDED and decision else status] += 1
                for p in PEOPLE:
                    if status == sd.PENDING and p not in d.votes:
                        opened[p].add(rid)
            final = {}
            for (rid, _), d in derived.items():
                status, decision = sd._status(d, required, stage)
                if status == sd.DECIDED and decision is not None:
                    reasons = [d.resolution.reason] if d.resolution else [v.reason for v in d.votes.values()]
                    final[rid] = (decision, next((r for r in reasons if r), None))
            voted: dict[str, int] = {}
            for d in derived.values():
                for name in d.votes:
                    voted[name] = voted.get(name, 0) + 1
            out[stage] = {"total": len(ids), **counts, "open": opened, "final": final,
                          "final_order": list(final), "voted": dict(sorted(voted.items()))}
        latest: dict[int, str] = {}
        for r in repo.retrieval_events(s):
            latest[r.record_id] = r.status
        out["retrieval"] = latest
    return out


def _check(review: Review) -> None:
    want = _replayed(review)
    assert sd.retrieval_status(review) == want["retrieval"]
    progress_voted = {}
    for stage in review.protocol.screening.stages:
        w = want[stage]
        assert isinstance(w, dict)
        p = sd.progress(review, stage)
        assert (p.total, p.pending, p.conflict, p.included, p.excluded) == (
            w["total"], w["pending"], w["conflict"], w["include"], w["exclude"]), stage
        final = sd.final_decisions(review, stage)
        assert final == w["final"] and list(final) == w["final_order"], stage
        with live.view(review) as now:
            for person in PEOPLE:
                assert now.remaining(stage, person) == len(w["open"][person]), (stage, person)
                for rid in range(1, 20):
                    assert now.is_open(stage, person, rid) == (rid in w["open"][person]), (stage, person, rid)
        got = [st.record_id for st in sd.conflicts(review, stage, "ana")]
        assert got == [st.record_id for st in sd.states(review, stage, "ana") if st.status == sd.CONFLICT]
        if w["voted"]:
            progress_voted[stage] = w["voted"]
    from metareview.team.work import reviewer_progress

    assert reviewer_progress(review) == progress_voted


def _random_step(review: Review, rnd: random.Random) -> None:
    rid = rnd.randint(1, 6)
    who = rnd.choice(PEOPLE)
    stage = rnd.choice([TITLE_ABSTRACT, TITLE_ABSTRACT, FULL_TEXT])
    op = rnd.choice(["vote", "vote", "vote", "vote", "retract", "resolve", "correct", "retrieval"])
    try:
        if op == "vote":
            decision = rnd.choice(["include", "include", "exclude", "maybe"])
            reason = rnd.choice(FT_REASONS) if (decision == "exclude" and stage == FULL_TEXT) else None
            sd.decide(review, rid, who, decision, stage, reason=reason)
        elif op == "retract":
            sd.retract(review, rid, who, stage)
        elif op in ("resolve", "correct"):
            decision = rnd.choice(["include", "exclude"])
            reason = rnd.choice(FT_REASONS) if (decision == "exclude" and stage == FULL_TEXT) else None
            voted = who in {v.reviewer for v in sd.state(review, rid, stage, who).votes}
            fn = sd.resolve if op == "resolve" else sd.correct_resolution
            method = "consensus" if voted else "third_reviewer"
            fn(review, rid, who, decision, stage, reason=reason, method=method)
        else:
            sd.mark_retrieval(review, rid, who, rnd.random() < 0.6)
    except InputError:
        pass  # refused by a rule (already two votes, resolved, not included...): nothing written


@pytest.mark.parametrize("seed", [1, 2])
def test_live_state_equals_replay_of_the_log(tmp_path: Path, store_url: str, seed: int) -> None:
    live.clear()
    review = make_review(tmp_path / "rv", store_url, blind=True)
    rnd = random.Random(seed)
    _check(review)
    for step in range(70):
        _random_step(review, rnd)
        if step % 5 == 4:
            _check(review)
    # a duplicate flag changes the corpus: the state is rebuilt without the flagged record
    with review.session() as s:
        records_repo.write_clusters(s, [records_repo.ClusterSpec(None, 1, [1, 2], "manual", {})])
    _check(review)
    with live.view(review) as now:
        assert 2 not in now.screenable and now.counts(TITLE_ABSTRACT)["total"] == 5
    _random_step(review, rnd)
    _check(review)
    review.close()


def test_live_state_single_reviewer_and_title_abstract_only(tmp_path: Path, store_url: str) -> None:
    live.clear()
    review = make_review(tmp_path / "rv", store_url, blind=False, reviewers=1)
    rnd = random.Random(7)
    for _ in range(30):
        _random_step(review, rnd)
    _check(review)
    review.close()


def test_events_committed_out_of_id_order_are_found(tmp_path: Path, postgres_url: str) -> None:
    """PostgreSQL: a transaction that took the lower event id commits after one with a higher id."""
    import uuid

    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as con:
        con.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    try:
        live.clear()
        review = make_review(tmp_path / "rv", url, blind=True)
        sd.decide(review, 1, "ana", "include")
        assert sd.progress(review).total == 6
        slow = review.engine.connect()
        tx = slow.begin()
        from sqlalchemy.orm import Session

        early = Session(bind=slow)
        repo.add_events(early, [{"record_id": 2, "stage": TITLE_ABSTRACT, "reviewer": "ben", "kind": "vote",
                                 "decision": "include"}])
        early.flush()  # the lower id is taken, not committed
        sd.decide(review, 3, "cat", "exclude")  # a higher id, committed first
        with live.view(review) as now:
            assert now.is_open(TITLE_ABSTRACT, "ben", 2)  # not visible yet
            assert now.events.gaps  # the skipped id is looked for
        tx.commit()
        slow.close()
        with live.view(review) as now:
            assert not now.is_open(TITLE_ABSTRACT, "ben", 2)
            assert not now.events.gaps
        _check(review)
        # an id given up on (its transaction outlived GAP_TTL_S) is found by the periodic check
        slow = review.engine.connect()
        tx = slow.begin()
        early = Session(bind=slow)
        repo.add_events(early, [{"record_id": 4, "stage": TITLE_ABSTRACT, "reviewer": "ben", "kind": "vote",
                                 "decision": "exclude"}])
        early.flush()
        sd.decide(review, 5, "cat", "exclude")
        ttl, every = live.GAP_TTL_S, live.VERIFY_EVERY_S
        try:
            live.GAP_TTL_S = -1.0
            with live.view(review) as now:
                assert not now.events.gaps  # given up at once
            tx.commit()
            slow.close()
            live.VERIFY_EVERY_S = 0.0
            with live.view(review) as now:
                assert not now.is_open(TITLE_ABSTRACT, "ben", 4)  # rebuilt from the log
        finally:
            live.GAP_TTL_S, live.VERIFY_EVERY_S = ttl, every
        _check(review)
        review.close()
    finally:
        with admin.begin() as con:
            con.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_live_state_under_concurrent_readers_and_writers(tmp_path: Path, store_url: str) -> None:
    """Threads vote and read the state at once (each read goes to the store without the state's lock,
    then applies what it found): afterwards the state equals a replay of the log."""
    import threading

    live.clear()
    review = make_review(tmp_path / "rv", store_url, blind=True)
    _more = [f"Extra record {i} about internet support" for i in range(24)]
    with review.session() as s:
        from metareview.records.model import Record

        search = records_repo.add_search(s, database="Embase", file_name="y.ris", file_hash="h2",
                                         file_format="ris")
        records_repo.insert_records(s, search.id, 0, [Record(title=t, abstract=t) for t in _more])
        records_repo.finish_search(s, search, len(_more))
    errors: list[BaseException] = []

    def worker(who: str, seed: int) -> None:
        rnd = random.Random(seed)
        try:
            for _ in range(25):
                rid = rnd.randint(1, 30)
                try:
                    sd.decide(review, rid, who, rnd.choice(["include", "exclude"]))
                except InputError:
                    pass
                sd.progress(review)
                with live.view(review) as now:
                    now.remaining(TITLE_ABSTRACT, who)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(who, i)) for i, who in enumerate(PEOPLE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    _check(review)
    review.close()
