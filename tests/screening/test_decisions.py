"""The screening workflow through the public API, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from screenfixtures import make_review

from metareview.errors import InputError
from metareview.screening import decisions as sd
from metareview.screening.queue import next_record, review_agreement, stopping_status
from metareview.store import screening_repo

FT_REASON = "not a quantitative meta-analysis"


def test_dual_review_conflict_and_resolution(review):
    sd.decide(review, 1, "ana", "include")
    assert sd.state(review, 1, reviewer="ana").status == sd.PENDING
    done = sd.decide(review, 1, "ben", "include")
    assert (done.status, done.decision) == (sd.DECIDED, "include")
    sd.decide(review, 2, "ana", "include")
    sd.decide(review, 2, "ben", "exclude", reason="not a meta-analysis")
    assert [c.record_id for c in sd.conflicts(review, reviewer="ana")] == [2]
    with pytest.raises(InputError, match="resolve"):
        sd.decide(review, 2, "cleo", "include")  # a third plain vote is refused
    with pytest.raises(InputError, match="consensus"):
        sd.resolve(review, 2, "ana", "include")
    res = sd.resolve(review, 2, "cleo", "include", method="third_reviewer")
    assert (res.status, res.decision, res.resolution.reviewer) == (sd.DECIDED, "include", "cleo")
    assert sd.conflicts(review, reviewer="ana") == []
    p = sd.progress(review)
    assert (p.total, p.included, p.pending) == (6, 2, 4) and "2 included" in str(p)


def test_blind_mode_hides_other_votes_until_decided(review):
    sd.decide(review, 3, "ana", "exclude", note="cardiology")
    # ben has not decided record 3: no function shows him ana's vote or the decision it implies
    st = sd.state(review, 3, reviewer="ben")
    assert st.votes == () and st.hidden_votes == 1 and st.decision is None
    assert all(v.reviewer != "ana" for s in sd.states(review, reviewer="ben") for v in s.votes)
    assert sd.history(review, 3, reviewer="ben").empty
    assert sd.state(review, 3).votes == ()  # nobody named: nothing shown
    assert "hidden" in str(st)
    # after ben decides he sees both
    after = sd.decide(review, 3, "ben", "include")
    assert {v.reviewer for v in after.votes} == {"ana", "ben"} and after.status == sd.CONFLICT
    assert list(sd.history(review, 3, reviewer="ben").reviewer) == ["ana", "ben"]
    # the arbiter (cleo did not vote) sees the conflict with both votes and their notes, as in Covidence
    (c,) = sd.conflicts(review, reviewer="cleo")
    assert c.record_id == 3 and c.hidden_votes == 0
    assert {(v.reviewer, v.decision, v.note) for v in c.votes} == {
        ("ana", "exclude", "cardiology"),
        ("ben", "include", None),
    }
    assert list(sd.history(review, 3, reviewer="cleo").reviewer) == ["ana", "ben"]
    assert sd.vote_table(review, sd.TITLE_ABSTRACT, reviewer="cleo")[3] == ["exclude", "include"]
    # a record still pending stays hidden from her
    sd.decide(review, 4, "ana", "exclude", note="wrong population")
    pending = sd.state(review, 4, reviewer="cleo")
    assert pending.votes == () and pending.hidden_votes == 1
    assert sd.history(review, 4, reviewer="cleo").empty
    # a record the two voters agreed on is not a conflict: nothing shown to a non-voter
    sd.decide(review, 4, "ben", "exclude")
    agreed = sd.state(review, 4, reviewer="cleo")
    assert agreed.votes == () and agreed.decision is None


def test_unblinded_review_shows_votes(tmp_path, store_url):
    rv = make_review(tmp_path / "open", store_url, blind=False)
    try:
        sd.decide(rv, 1, "ana", "include")
        assert [v.reviewer for v in sd.state(rv, 1, reviewer="ben").votes] == ["ana"]
    finally:
        rv.close()


def test_changes_are_appended_not_overwritten(review):
    sd.decide(review, 4, "ana", "include")
    sd.decide(review, 4, "ana", "maybe", note="unsure")
    sd.decide(review, 4, "ana", "exclude", reason="not a meta-analysis")
    with review.session() as s:
        events = screening_repo.events(s, record_id=4)
    assert [(e.decision, e.previous_decision) for e in events] == [
        ("include", None),
        ("maybe", "include"),
        ("exclude", "maybe"),
    ]
    hist = sd.history(review, 4, reviewer="ana")
    assert list(hist.decision) == ["include", "maybe", "exclude"] and hist.note.iloc[1] == "unsure"


def test_full_text_rules(review):
    for r in (1, 5):
        sd.decide(review, r, "ana", "include")
        sd.decide(review, r, "ben", "include")
    with pytest.raises(InputError, match="not included at title/abstract"):
        sd.decide(review, 3, "ana", "include", stage="full_text")
    with pytest.raises(InputError, match="needs a reason"):
        sd.decide(review, 1, "ana", "exclude", stage="full_text")
    with pytest.raises(InputError, match="not in the protocol"):
        sd.decide(review, 1, "ana", "exclude", stage="full_text", reason="boring")
    sd.decide(review, 1, "ana", "exclude", stage="full_text", reason=FT_REASON)
    sd.mark_retrieval(review, 5, "ana", retrieved=False, note="no library access")
    assert [s.record_id for s in sd.states(review, "full_text", "ana")] == [1]
    with pytest.raises(InputError, match="no report is sought"):
        sd.mark_retrieval(review, 2, "ana", retrieved=True)


def test_bulk_import_is_one_transaction(review, tmp_path):
    good = tmp_path / "good.csv"
    pd.DataFrame(
        {
            "record_id": [1, 1, 2],
            "reviewer": ["ana", "ben", "ana"],
            "decision": ["include", "include", "exclude"],
            "reason": ["", "", "not a meta-analysis"],
        }
    ).to_csv(good, index=False)
    assert sd.import_decisions(review, good) == 3
    assert sd.state(review, 1, reviewer="ana").decision == "include"
    bad = tmp_path / "bad.xlsx"
    pd.DataFrame(
        {"record_id": [3, 4], "reviewer": ["ana", "ana"], "decision": ["include", "perhaps"]}
    ).to_excel(bad, index=False)
    with pytest.raises(InputError) as err:
        sd.import_decisions(review, bad)
    assert err.value.line == 3 and err.value.field == "decision" and "bad.xlsx" in str(err.value)
    with review.session() as s:
        assert len(screening_repo.events(s)) == 3  # the good row 2 of bad.xlsx was not kept


def test_agreement_from_votes(review):
    # (inc,inc) (exc,exc) (inc,exc) (exc,exc): po = 0.75, pe = 0.5*0.25 + 0.5*0.75 = 0.5, kappa = 0.5
    votes = {
        1: ("include", "include"),
        2: ("exclude", "exclude"),
        3: ("include", "exclude"),
        4: ("exclude", "exclude"),
    }
    for rid, (a, b) in votes.items():
        sd.decide(review, rid, "ana", a)
        sd.decide(review, rid, "ben", b)
    cohen, fleiss = review_agreement(review)
    assert cohen.percent_agreement == pytest.approx(0.75) and cohen.estimate == pytest.approx(0.5)
    assert fleiss.statistic == "Fleiss' kappa"


def test_agreement_needs_two_dually_screened_records(review):
    with pytest.raises(InputError, match="no record has two votes"):
        review_agreement(review)
    sd.decide(review, 1, "ana", "include")
    sd.decide(review, 1, "ben", "exclude")
    with pytest.raises(InputError, match="only 1 record has 2 votes"):
        review_agreement(review)


def test_next_record_and_stopping(review):
    first = next_record(review, "ana")
    assert first is not None and not first.trained and first.record_id == 1
    sd.decide(review, 1, "ana", "include")
    sd.decide(review, 3, "ana", "exclude")
    nxt = next_record(review, "ana")
    assert nxt is not None and nxt.trained and nxt.record_id in (2, 5)  # the other meta-analyses first
    assert next_record(review, "ben").record_id == 1  # ben's queue ignores ana's votes (blind)
    hyper, heuristic = stopping_status(review)
    assert not hyper.stop and hyper.screened == 0 and "consecutive" in heuristic.rule


def test_embeddings_are_cached_in_the_store(review, monkeypatch):
    # a stand-in encoder (the real one is the optional `embeddings` extra): counts the texts it embeds
    import numpy as np

    from metareview.screening import models

    seen: list[str] = []

    class FakeEncoder:
        def encode(self, texts, **_):
            seen.extend(texts)
            return np.array([[len(t) % 7 + 1.0, "meta" in t, 1.0] for t in texts], dtype=np.float32)

    monkeypatch.setattr(models.EmbeddingFeatures, "_load", lambda self: FakeEncoder())
    sd.decide(review, 1, "ana", "include")
    sd.decide(review, 3, "ana", "exclude")
    first = next_record(review, "ana", model="embed-logreg")
    assert first is not None and first.trained and len(seen) == 6
    next_record(review, "ana", model="embed-logreg")
    assert len(seen) == 6  # second ranking read every vector from the store
    with review.session() as s:
        assert len(screening_repo.load_embeddings(s, "embed-logreg", range(1, 7))) == 6
