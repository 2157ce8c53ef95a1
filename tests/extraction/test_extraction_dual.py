"""Dual extraction (issue 10, "Dual extraction and consensus"): blind until both submitted, comparison
side by side, consensus values as events with who and when, one consensus per field unless corrected,
the agreed values written as the final ones, nothing typed ever overwritten; one extractor per report
keeps the previous behaviour (and now keeps the history)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dualfixtures import ALL_YES, ESTIMATE, effect, extraction, make_review

from metareview.errors import InputError
from metareview.extraction import dual
from metareview.extraction.field_agreement import extraction_agreement, field_agreement
from metareview.store import extraction_repo as repo


def _kinds(review, key="brewin2000"):
    with review.session() as s:
        return [e.kind for e in repo.extraction_events(s, key)]


def test_blind_until_every_extractor_has_submitted(tmp_path: Path, store_url: str) -> None:
    rv = make_review(tmp_path / "rv", store_url)
    dual.save_extraction(rv, extraction(estimate=2.0, citation="ANA-SECRET citation"), "ana", submit=True)
    hidden = r"compared once its 2 extractors have submitted \(1 of 2 so far"
    for asker in ("ben", "olga", "ana"):
        with pytest.raises(InputError, match=r"compared once its 2 extractors have submitted \(1 of 2"):
            dual.compare(rv, "brewin2000", asker)
        assert dual.comparisons(rv, asker) == []
    st = dual.status(rv, "ben")[0]
    assert (st.started, st.submitted, st.mine, st.extractors, st.open_fields) == (1, 1, "none", (), None)
    assert "ANA-SECRET" not in str(st.to_dict())
    assert dual.my_extraction(rv, "brewin2000", "ben") == (None, "none")
    assert dual.my_extraction(rv, "brewin2000", "ana")[1] == "submitted"
    assert dual.submitted_extractions(rv) == {} and extraction_agreement(rv).reports == 0
    assert dual.final_bundle(rv).reports == ()
    # ben's draft does not open it either, not even to ana
    dual.save_extraction(rv, extraction(estimate=2.5), "ben")
    with pytest.raises(InputError, match=r"\(1 of 2 so far"):
        dual.compare(rv, "brewin2000", "ana")
    with pytest.raises(InputError, match=hidden):
        dual.record_consensus(rv, "brewin2000", ESTIMATE, "olga", 2.0)
    dual.submit(rv, "brewin2000", "ben")
    for asker in ("ben", "olga", "ana"):
        cmp = dual.compare(rv, "brewin2000", asker)
        assert [r.field for r in cmp.rows] == ["report.citation", ESTIMATE]
        assert cmp.rows[1].values == {"ana": 2.0, "ben": 2.5} and cmp.rows[1].open
    assert dual.status(rv, "olga")[0].extractors == ("ana", "ben")
    rv.close()


def test_at_most_two_extractors_and_the_roster(tmp_path: Path) -> None:
    rv = make_review(tmp_path / "rv", roster=["Ana Silva", "Ben Okafor", "Cleo Park"])
    dual.save_extraction(rv, extraction(), "  ana   SILVA ")
    dual.save_extraction(rv, extraction(), "ben okafor")
    with pytest.raises(InputError, match="already has its 2 of 2 extractor"):
        dual.save_extraction(rv, extraction(), "Cleo Park")
    with pytest.raises(InputError, match=r"not on the review's roster \(\[extraction\] extractors"):
        dual.save_extraction(rv, extraction("other2001"), "eve")
    with pytest.raises(InputError, match="give the extractor's name"):
        dual.save_extraction(rv, extraction("other2001"), None)
    assert dual.my_extraction(rv, "brewin2000", "ANA SILVA")[1] == "draft"
    assert _kinds(rv) == ["draft", "draft"]


def test_comparison_matches_effect_sizes_by_key_and_lists_side_by_side(tmp_path: Path) -> None:
    rv = make_review(tmp_path / "rv")
    a = extraction(estimate=2.0, amstar=ALL_YES, studies=("Smith 1995", "Jones 1999"), country="UK",
                   extra_effects=(effect("brewin2000", 1.5, domain="depression", effect_id="dep"),))
    b = extraction(estimate=2.0, design="cross_sectional", amstar=ALL_YES | {7: "no"},
                   studies=("Smith 1995", "Lee 2001"), country="UK",
                   extra_effects=(effect("brewin2000", 1.7, domain="depression", effect_id="DEP"),))
    dual.save_extraction(rv, a, "ana", submit=True)
    dual.save_extraction(rv, b, "ben", submit=True)
    cmp = dual.compare(rv, "brewin2000", "olga")
    got = {r.field: (r.values["ana"], r.values["ben"], r.open) for r in cmp.rows}
    assert got == {
        "report.amstar2.7": ("yes", "no", True),
        "effect[ptsd | exposed vs not | or].design": ("prospective", "cross_sectional", True),
        "effect[dep].estimate": (1.5, 1.7, True),        # matched by effect_id (case-insensitive)
        "effect[dep].effect_id": ("dep", "DEP", True),
        "study[Jones 1999]": ("present", None, True),
        "study[Lee 2001]": (None, "present", True),
    }
    assert cmp.open_fields == 6 and not cmp.agreed
    every = dual.compare(rv, "brewin2000", "olga", all_fields=True)
    assert {r.field for r in every.rows} > set(got)
    assert all(r.agreed for r in every.rows if r.field not in got)
    assert "ana: yes  |  ben: no  -> OPEN" in str(cmp)


def test_consensus_events_rules_and_the_final_values(tmp_path: Path, store_url: str) -> None:
    rv = make_review(tmp_path / "rv", store_url)
    depr = effect("brewin2000", 1.5, domain="depression")
    dual.save_extraction(rv, extraction(estimate=2.0, studies=("Smith 1995", "Jones 1999"),
                                        extra_effects=(depr,)), "ana", submit=True)
    dual.save_extraction(rv, extraction(estimate=2.4, design="cross_sectional"), "ben", submit=True)
    dep = "effect[depression | exposed vs not | or]"
    dual.record_consensus(rv, "brewin2000", ESTIMATE, "olga", take="ben")
    with pytest.raises(InputError, match="already has a consensus value, recorded by olga"):
        dual.record_consensus(rv, "brewin2000", ESTIMATE, "ana", 2.0)
    with pytest.raises(InputError, match="no consensus value to correct"):
        dual.record_consensus(rv, "brewin2000", dep, "olga", "keep", correct=True)
    with pytest.raises(InputError, match="must be one of prospective, cross_sectional"):
        dual.record_consensus(rv, "brewin2000", "effect[ptsd | exposed vs not | or].design", "olga", "cohort")
    with pytest.raises(InputError, match="no effect"):
        dual.record_consensus(rv, "brewin2000", "effect[nope].estimate", "olga", 1.0)
    with pytest.raises(InputError, match="consensus has begun"):
        dual.save_extraction(rv, extraction(estimate=9.0), "ana")
    dual.record_consensus(rv, "brewin2000", "effect[ptsd | exposed vs not | or].design", "ana",
                          "prospective", note="both agreed after reading table 2")
    dual.record_consensus(rv, "brewin2000", dep, "olga", take="ana")       # keep it
    assert dual.final_bundle(rv).reports == ()                              # one field still open
    cmp = dual.record_consensus(rv, "brewin2000", "study[Jones 1999]", "olga", "drop")
    assert cmp.agreed and cmp.open_fields == 0
    final = dual.final_bundle(rv)
    assert [(e.outcome_domain, e.estimate, e.fields["design"]) for e in final.effect_sizes] == [
        ("ptsd", 2.4, "prospective"), ("depression", 1.5, "prospective")]
    assert [s.label for s in final.primary_studies[0].studies] == ["Smith 1995"]
    # a correction keeps the previous value and rewrites the final values
    cmp = dual.record_consensus(rv, "brewin2000", ESTIMATE, "olga", 2.2, correct=True, note="re-read")
    row = next(r for r in cmp.rows if r.field == ESTIMATE)
    assert (row.consensus.value, row.consensus.previous, row.consensus.corrected) == (2.2, 2.4, True)
    assert dual.final_bundle(rv).effect_sizes[0].estimate == 2.2
    with pytest.raises(InputError, match="already has that consensus value"):
        dual.record_consensus(rv, "brewin2000", ESTIMATE, "olga", "2.2", correct=True)
    assert _kinds(rv) == ["submission", "submission", "consensus", "consensus", "consensus", "consensus",
                          "correction"]
    with rv.session() as s:
        ev = repo.extraction_events(s, "brewin2000")
    assert [(e.actor, e.field, e.payload, e.previous) for e in ev[2:4]] == [
        ("olga", ESTIMATE, {"value": 2.4}, None),
        ("ana", "effect[ptsd | exposed vs not | or].design", {"value": "prospective"}, None)]
    assert ev[3].note == "both agreed after reading table 2" and ev[3].created_at is not None
    assert ev[0].payload["effect_sizes"][0]["estimate"] == 2.0    # what ana typed is still there
    rv.close()


def test_a_consensus_that_makes_the_extraction_invalid_writes_nothing(tmp_path: Path) -> None:
    rv = make_review(tmp_path / "rv")
    dual.save_extraction(rv, extraction(amstar=ALL_YES), "ana", submit=True)
    dual.save_extraction(rv, extraction(amstar=None), "ben", submit=True)
    for item in range(1, 16):
        dual.record_consensus(rv, "brewin2000", f"report.amstar2.{item}", "olga", take="ana")
    before = _kinds(rv)
    with pytest.raises(InputError, match="AMSTAR 2 needs all 16 items"):
        dual.record_consensus(rv, "brewin2000", "report.amstar2.16", "olga", take="ben")
    assert _kinds(rv) == before and dual.final_bundle(rv).reports == ()
    dual.record_consensus(rv, "brewin2000", "report.amstar2.16", "olga", take="ana")
    assert dual.final_bundle(rv).reports[0].confidence == "high"


def test_identical_extractions_are_agreed_at_once(tmp_path: Path) -> None:
    rv = make_review(tmp_path / "rv")
    dual.save_extraction(rv, extraction(), "ana", submit=True)
    assert dual.final_bundle(rv).reports == ()
    st = dual.save_extraction(rv, extraction(), "ben", submit=True)
    assert st.phase == "agreed" and dual.final_bundle(rv).effect_sizes[0].estimate == 2.0
    with pytest.raises(InputError, match="is agreed: its values change through a consensus"):
        dual.save_extraction(rv, extraction(estimate=3.0), "ben", submit=True)
    dual.record_consensus(rv, "brewin2000", ESTIMATE, "olga", 2.1)   # an arbiter may still correct both
    assert dual.final_bundle(rv).effect_sizes[0].estimate == 2.1


def test_consensus_file_is_all_or_nothing(tmp_path: Path) -> None:
    rv = make_review(tmp_path / "rv")
    dual.save_extraction(rv, extraction(estimate=2.0, studies=("A", "B")), "ana", submit=True)
    dual.save_extraction(rv, extraction(estimate=2.4, studies=("A",)), "ben", submit=True)
    bad = tmp_path / "bad.csv"
    bad.write_text(f'report_id,field,value,take\nbrewin2000,"{ESTIMATE}",2.2,\n'
                   "brewin2000,study[B],maybe,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        dual.import_consensus(rv, bad, "olga")
    assert (err.value.file, err.value.line, err.value.field) == (str(bad), 3, "study[B]")
    assert "give keep or drop" in err.value.message
    assert _kinds(rv) == ["submission", "submission"]
    good = tmp_path / "good.csv"
    good.write_text(f'report_id,field,value,take,reviewer,note\nbrewin2000,"{ESTIMATE}",,ben,,\n'
                    "brewin2000,study[B],drop,,cleo,not a trial\n", encoding="utf-8")
    assert dual.import_consensus(rv, good, "olga") == 2
    assert dual.final_bundle(rv).effect_sizes[0].estimate == 2.4
    with rv.session() as s:
        assert [(e.actor, e.note) for e in repo.extraction_events(s, "brewin2000")[2:]] == [
            ("olga", None), ("cleo", "not a trial")]


def test_files_and_web_parts_through_the_same_rules(tmp_path: Path) -> None:
    from metareview.extraction.templates import ExtractionBundle, store_forms

    rv = make_review(tmp_path / "rv")
    one = extraction()
    bundle = ExtractionBundle((one.report,), one.effect_sizes, ())
    with pytest.raises(InputError, match="give the extractor's name"):
        store_forms(bundle, tmp_path / "rv")
    loose = ExtractionBundle((), one.effect_sizes, ())
    with pytest.raises(InputError, match="no row in the reports sheet"):
        store_forms(loose, tmp_path / "rv", extractor="ana")
    assert store_forms(bundle, tmp_path / "rv", extractor="ana", submit=False)["reports"] == 1
    assert dual.my_extraction(rv, "brewin2000", "ana")[1] == "draft"
    # a part (what a web form saves) changes ana's own extraction only
    dual.save_part(rv, "brewin2000", "ana", effect=effect("brewin2000", 1.1, domain="depression"))
    dual.save_part(rv, "brewin2000", "ana", remove_effect="ptsd | exposed vs not | or")
    mine, state = dual.my_extraction(rv, "brewin2000", "ana")
    assert state == "draft" and [e.outcome_domain for e in mine.effect_sizes] == ["depression"]
    with pytest.raises(InputError, match="save the report form first"):
        dual.save_part(rv, "brewin2000", "ben", effect=effect("brewin2000", 1.0))
    with pytest.raises(InputError, match="must be one of ptsd, depression"):
        dual.save_part(rv, "brewin2000", "ana", effect=effect("brewin2000", 1.0, domain="anxiety"))
    dual.submit(rv, "brewin2000", "ana")
    assert _kinds(rv) == ["draft", "draft", "draft", "submission"]


def test_one_extractor_per_report_keeps_its_behaviour_and_the_history(tmp_path: Path) -> None:
    from metareview.extraction.templates import ExtractionBundle, store_forms

    rv = make_review(tmp_path / "rv", n=1)
    old = extraction(estimate=1.0)
    with rv.session() as s:  # stored before the history began (as by a store of migration 0010)
        repo.save_bundle(s, old.bundle())
    new = extraction(estimate=3.0)
    with pytest.raises(InputError, match="already stored"):
        store_forms(ExtractionBundle((new.report,), new.effect_sizes, ()), tmp_path / "rv")
    store_forms(ExtractionBundle((new.report,), new.effect_sizes, ()), tmp_path / "rv", replace=True)
    assert dual.final_bundle(rv).effect_sizes[0].estimate == 3.0
    dual.save_part(rv, "brewin2000", None, effect=effect("brewin2000", 0.5, domain="depression"))
    assert [e.estimate for e in dual.final_bundle(rv).effect_sizes] == [3.0, 0.5]
    with rv.session() as s:
        ev = repo.extraction_events(s, "brewin2000")
    assert [(e.kind, e.actor) for e in ev] == [("baseline", "(unnamed)"), ("final", "(unnamed)"),
                                               ("final", "(unnamed)")]
    assert ev[0].payload["effect_sizes"][0]["estimate"] == 1.0      # nothing typed is lost
    assert len(ev[2].payload["effect_sizes"]) == 2
    with pytest.raises(InputError, match="nothing to compare"):
        dual.compare(rv, "brewin2000", "olga")


def test_protocol_migration_is_replayed_over_the_extractions(tmp_path: Path) -> None:
    from metareview.extraction.migrate import check_protocol, migrate_protocol

    rv = make_review(tmp_path / "rv")
    dual.save_extraction(rv, extraction(estimate=2.0), "ana", submit=True)
    dual.save_extraction(rv, extraction(estimate=2.4), "ben", submit=True)
    proto = tmp_path / "rv" / "protocol.toml"
    proto.write_text(proto.read_text().replace('"prospective"', '"cohort"'), encoding="utf-8")
    found = check_protocol(tmp_path / "rv")
    assert {(o.report_id, o.field, o.value) for o in found} == {("brewin2000", "design", "prospective")}
    migrate_protocol(tmp_path / "rv", rename_levels=["design:prospective=cohort"])
    assert check_protocol(tmp_path / "rv") == []
    from metareview.review import Review

    rv2 = Review.open(tmp_path / "rv")
    dual.record_consensus(rv2, "brewin2000", ESTIMATE, "olga", 2.2)
    assert dual.final_bundle(rv2).effect_sizes[0].fields == {"design": "cohort"}


def test_agreement_per_field_with_cohens_kappa(tmp_path: Path) -> None:
    """AMSTAR 2 item 5 over four reports: ana yes, yes, no, no; ben yes, no, no, no. By hand (Cohen 1960,
    kappa = (po - pe) / (1 - pe)): po = 3/4; pe = 1/2 * 1/4 + 1/2 * 3/4 = 1/2; kappa = 0.5."""
    rv = make_review(tmp_path / "rv")
    for i, (a5, b5) in enumerate([("yes", "yes"), ("yes", "no"), ("no", "no"), ("no", "no")]):
        key = f"r{i}"
        dual.save_extraction(rv, extraction(key, amstar=ALL_YES | {5: a5}, estimate=2.0), "ana", submit=True)
        dual.save_extraction(rv, extraction(key, amstar=ALL_YES | {5: b5}, estimate=2.0 + (i == 0)), "ben",
                             submit=True)
    res = extraction_agreement(rv)
    by = {f.field: f for f in res.fields}
    assert res.reports == 4
    item5 = by["report.amstar2.5"]
    assert (item5.n, item5.agreed, item5.percent) == (4, 3, 75.0)
    assert item5.kappa == pytest.approx(0.5, abs=1e-12)
    assert by["report.amstar2.1"].kappa is None and "undefined" in by["report.amstar2.1"].note
    assert (by["effect.estimate"].agreed, by["effect.estimate"].n) == (3, 4)
    assert by["effect.estimate"].kappa is None and by["effect.estimate"].note == "not categorical"
    assert by["effect.design"].percent == 100.0
    assert "report.amstar2.5" in str(res) and "0.500" in str(res)
    assert res.to_frame().shape[0] == len(res.fields)
    with pytest.raises(InputError, match="needs two extractions"):
        field_agreement({"x": {"ana": extraction()}})


BAD_VALUES = [
    ("effect[ptsd | exposed vs not | or].p", "1.5", "less than or equal to 1"),
    ("effect[ptsd | exposed vs not | or].measure", "XYZ", "unknown measure 'XYZ'"),
    ("report.year", "1800", "greater than or equal to 1900"),
    ("report.amstar2.3", "partial yes", "item 3 accepts"),
    ("report.nonsense", "x", "'nonsense' is not a field of a report"),
    ("effect[ptsd | exposed vs not | or].adjusted", "perhaps", "adjusted must be yes or no"),
    ("study[Smith 1995]", "maybe", "give keep or drop"),
    ("effect[x", "1", "not a field path"),
]


def test_consensus_values_are_checked_when_recorded(tmp_path: Path) -> None:
    rv = make_review(tmp_path / "rv")
    dual.save_extraction(rv, extraction(estimate=2.0), "ana", submit=True)
    dual.save_extraction(rv, extraction(estimate=2.4), "ben", submit=True)
    for field, value, message in BAD_VALUES:
        with pytest.raises(InputError, match=message):
            dual.record_consensus(rv, "brewin2000", field, "olga", value)
    assert _kinds(rv) == ["submission", "submission"]
