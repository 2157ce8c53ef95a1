"""Engine rules added for issues 8 and 9: input checks, roster, retraction, corrections, full-text
reason conflicts, person-paired agreement, blind-aware vote table and logs (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from metareview.errors import InputError
from metareview.screening import decisions as sd
from metareview.screening.queue import review_agreement
from metareview.screening.roster import canonical_reviewer
from metareview.store import screening_repo


def _events(review):
    with review.session() as s:
        return screening_repo.events(s)


def test_long_names_and_nul_are_input_errors(review):
    with pytest.raises(InputError, match="at most 200"):
        sd.decide(review, 1, "a" * 201, "include")
    with pytest.raises(InputError, match="NUL"):
        sd.decide(review, 1, "ana\x00", "include")
    with pytest.raises(InputError, match="NUL"):
        sd.decide(review, 1, "ana", "include", note="bad\x00note")
    with pytest.raises(InputError, match="NUL"):
        sd.mark_retrieval(review, 1, "ana", True, note="x\x00")
    assert _events(review) == []


def test_roster_matches_case_and_whitespace(review):
    proto = review.protocol.model_copy(
        update={"screening": review.protocol.screening.model_copy(update={"reviewers": ["Ana Silva"]})}
    )
    assert canonical_reviewer(proto, "  ana   SILVA ") == "Ana Silva"
    with pytest.raises(InputError, match="roster"):
        canonical_reviewer(proto, "ben")
    assert canonical_reviewer(review.protocol, " ben  o ") == "ben o"  # no roster: whitespace normalised


def test_retract_and_corrections(review):
    sd.decide(review, 1, "ana", "include")
    st = sd.retract(review, 1, "ana")
    assert st.status == sd.PENDING and st.votes == ()
    assert list(sd.history(review, 1, reviewer="ana").kind) == ["vote", "retraction"]
    with pytest.raises(InputError, match="no vote"):
        sd.retract(review, 1, "ana")
    sd.decide(review, 2, "ana", "include")
    sd.decide(review, 2, "ben", "exclude")
    sd.resolve(review, 2, "cleo", "include")
    with pytest.raises(InputError, match="already resolved at title_abstract by cleo"):
        sd.resolve(review, 2, "dan", "exclude")
    with pytest.raises(InputError, match="no longer"):
        sd.retract(review, 2, "ana")
    fixed = sd.correct_resolution(review, 2, "cleo", "exclude", note="misread")
    assert fixed.decision == "exclude"
    assert sd.final_decisions(review, "title_abstract")[2][0] == "exclude"
    assert list(sd.history(review, 2, reviewer="cleo").kind)[-1] == "correction"


def test_full_text_exclusions_with_different_reasons_conflict(review):
    reasons = list(review.protocol.exclusion_reasons.full_text)
    for rid in (1, 2):
        sd.decide(review, rid, "ana", "include")
        sd.decide(review, rid, "ben", "include")
    sd.decide(review, 1, "ana", "exclude", stage="full_text", reason=reasons[0])
    st = sd.decide(review, 1, "ben", "exclude", stage="full_text", reason=reasons[1])
    assert st.status == sd.CONFLICT
    sd.resolve(review, 1, "cleo", "exclude", stage="full_text", reason=reasons[1])
    assert sd.final_decisions(review, "full_text")[1] == ("exclude", reasons[1])


def test_agreement_pairs_votes_by_person(review):
    # ana and ben vote in opposite orders on different records: pairing by order would mix them up
    plan = {
        1: ("include", "include"),
        2: ("exclude", "exclude"),
        3: ("include", "exclude"),
        4: ("exclude", "exclude"),
    }
    for rid, (a, b) in plan.items():
        first, second = (("ben", b), ("ana", a)) if rid % 2 else (("ana", a), ("ben", b))
        sd.decide(review, rid, *first)
        sd.decide(review, rid, *second)
    cohen = review_agreement(review)[0]
    assert cohen.rater_names == ("ana", "ben") and "ana vs ben" in str(cohen)
    # ana: I E I E, ben: I E E E -> po = .75, pe = .5*.25 + .5*.75 = .5, kappa = .5 (Cohen 1960 formula)
    assert cohen.estimate == pytest.approx(0.5) and cohen.percent_agreement == pytest.approx(0.75)


def test_vote_table_and_logs_respect_blind_mode(review):
    sd.decide(review, 1, "ana", "include")
    assert sd.vote_table(review, "title_abstract") == {}
    assert sd.vote_table(review, "title_abstract", reviewer="ben") == {}
    assert sd.vote_table(review, "title_abstract", reviewer="ana") == {1: ["include"]}
    assert sd.decision_log(review, reviewer="ben").empty
    assert list(sd.decision_log(review, reviewer="ana").reviewer) == ["ana"]
    mine = sd.my_decisions(review, "ana", search="CBT")
    assert list(mine.record_id) == [1]
    assert sd.my_decisions(review, "ben").empty


def test_export_decision_log_neutralises_formulas(review, tmp_path):
    import pandas as pd

    sd.decide(review, 1, "ana", "include", note="=HYPERLINK(\"http://x\")")
    sd.decide(review, 1, "ben", "include")
    n = sd.export_decision_log(review, tmp_path / "log.csv", reviewer="ana")
    frame = pd.read_csv(tmp_path / "log.csv")
    assert n == 2 and list(frame.reviewer) == ["ana", "ben"]
    assert frame.note[0].startswith("'=")
    with pytest.raises(InputError, match="csv"):
        sd.export_decision_log(review, tmp_path / "log.txt")
