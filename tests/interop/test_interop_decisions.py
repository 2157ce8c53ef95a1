"""Decisions out (RIS with ASReview labels in N1, CSV, XLSX; blind mode applied for the requester) and
in (matched by DOI, PMID or normalised title + year; one transaction; unmatched rows reported with
the reason). None of this existed before issue 11."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import rispy

from metareview.errors import InputError
from metareview.interop.decisions import export_decisions, import_decisions
from metareview.records.model import Record
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.store import records_repo

RECORDS = [
    Record(
        title="Guided internet CBT for depression: a meta-analysis", year=2020, doi="10.1000/a", pmid="111"
    ),
    Record(title="Unguided apps for anxiety", year=2019, doi="10.1000/b"),
    Record(title="Aspirin after myocardial infarction", year=2018, pmid="333"),
    Record(title="Human support in smartphone apps for stress", year=2021),
]


def _review(tmp_path: Path, blind: bool) -> Review:
    review = Review.init(tmp_path / "rv")
    proto = tmp_path / "rv" / "protocol.toml"
    proto.write_text(proto.read_text().replace("blind = true", f"blind = {str(blind).lower()}"))
    review.close()
    review = Review.open(tmp_path / "rv")
    with review.session() as s:
        search = records_repo.add_search(
            s, database="MEDLINE", file_name="x", file_hash="h", file_format="ris"
        )
        records_repo.insert_records(s, search.id, 0, RECORDS)
        records_repo.finish_search(s, search, len(RECORDS))
    return review


def _screen(review: Review) -> None:
    for who in ("ana", "ben"):
        sd.decide(review, 1, who, "include", note=f"{who} likes it")
        sd.decide(review, 2, who, "exclude", reason="not a meta-analysis")
    sd.decide(review, 3, "ana", "exclude", reason="not a meta-analysis")


def test_ris_export_carries_asreview_labels_and_votes(tmp_path: Path) -> None:
    review = _review(tmp_path, blind=False)
    _screen(review)
    out = tmp_path / "d.ris"
    assert export_decisions(review, out) == 4
    entries = rispy.loads(out.read_text(encoding="utf-8"))
    notes = {e["title"]: e.get("notes", []) for e in entries}
    first = notes[RECORDS[0].title]
    assert first[0] == "ASReview_relevant"
    assert "metareview title_abstract: include" in first
    assert "metareview title_abstract vote ana: include" in first
    assert "metareview title_abstract note ben: ben likes it" in first
    assert notes[RECORDS[1].title][0] == "ASReview_irrelevant"
    assert "metareview title_abstract reason ana: not a meta-analysis" in notes[RECORDS[1].title]
    assert notes[RECORDS[2].title][0] == "ASReview_not_seen"  # one vote of two: not decided
    assert notes[RECORDS[3].title] == ["ASReview_not_seen"]


def test_blind_mode_hides_votes_from_a_reviewer_who_has_not_voted(tmp_path: Path) -> None:
    review = _review(tmp_path, blind=True)
    sd.decide(review, 3, "ana", "exclude", reason="not a meta-analysis", note="secret")
    out = tmp_path / "d.csv"
    export_decisions(review, out, reviewer="ben")
    row = pd.read_csv(out, dtype=str).fillna("").set_index("id").loc["3"]
    assert row["title_abstract_votes"] == ""
    assert row["title_abstract_notes"] == ""
    assert row["title_abstract_hidden_votes"] == "1"
    export_decisions(review, out, reviewer="ana")
    row = pd.read_csv(out, dtype=str).fillna("").set_index("id").loc["3"]
    assert row["title_abstract_votes"] == "ana: exclude"


def test_xlsx_export(tmp_path: Path) -> None:
    review = _review(tmp_path, blind=False)
    _screen(review)
    out = tmp_path / "d.xlsx"
    export_decisions(review, out)
    frame = pd.read_excel(out, dtype=str).fillna("")
    assert list(frame["asreview_label"]) == [
        "ASReview_relevant",
        "ASReview_irrelevant",
        "ASReview_not_seen",
        "ASReview_not_seen",
    ]


def test_import_matches_by_doi_pmid_and_title_year(tmp_path: Path) -> None:
    review = _review(tmp_path, blind=False)
    path = tmp_path / "in.csv"
    pd.DataFrame(
        [
            {"doi": "https://doi.org/10.1000/A", "pmid": "", "title": "", "year": "", "decision": "included"},
            {"doi": "", "pmid": "333", "title": "", "year": "", "decision": "0"},
            {
                "doi": "",
                "pmid": "",
                "title": "HUMAN support in smartphone apps for stress!",
                "year": "2021",
                "decision": "include",
            },
            {
                "doi": "",
                "pmid": "",
                "title": "Human support in smartphone apps for stress",
                "year": "2020",
                "decision": "include",
            },
            {"doi": "10.9999/none", "pmid": "", "title": "", "year": "", "decision": "exclude"},
            {"doi": "", "pmid": "", "title": "Unguided apps for anxiety", "year": "2019", "decision": ""},
        ]
    ).to_csv(path, index=False)
    report = import_decisions(review, path, reviewer="rayyan")
    assert [(m.line, m.record_id, m.matched_by) for m in report.matched] == [
        (2, 1, "doi"),
        (3, 3, "pmid"),
        (4, 4, "title+year"),
    ]
    assert [(m.line, m.why_not) for m in report.unmatched] == [
        (5, "no record with this title+year"),
        (6, "no record with this DOI"),
    ]
    assert report.skipped == 1 and report.written == 3
    assert sd.state(review, 1, reviewer="rayyan").votes[0].decision == "include"
    assert sd.state(review, 3, reviewer="rayyan").votes[0].decision == "exclude"


def test_asreview_ris_round_trip(tmp_path: Path) -> None:
    source = _review(tmp_path, blind=False)
    _screen(source)
    out = tmp_path / "d.ris"
    export_decisions(source, out)
    target = _review(tmp_path / "second", blind=False)
    report = import_decisions(target, out, reviewer="asreview")
    assert sorted((m.record_id, m.decision) for m in report.matched) == [(1, "include"), (2, "exclude")]
    assert report.skipped == 2


def test_import_is_one_transaction(tmp_path: Path) -> None:
    review = _review(tmp_path, blind=False)
    path = tmp_path / "in.csv"
    # the second row's exclusion reason is not in the protocol: the whole file is refused
    pd.DataFrame(
        [
            {"doi": "10.1000/a", "decision": "include", "reason": ""},
            {"doi": "10.1000/b", "decision": "exclude", "reason": "no such reason"},
        ]
    ).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        import_decisions(review, path, reviewer="x")
    assert info.value.file == str(path) and info.value.line == 3
    assert sd.state(review, 1, reviewer="x").votes == ()


def test_bad_decision_word_names_line_and_field(tmp_path: Path) -> None:
    review = _review(tmp_path, blind=False)
    path = tmp_path / "in.csv"
    pd.DataFrame([{"doi": "10.1000/a", "decision": "perhaps"}]).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        import_decisions(review, path, reviewer="x")
    assert (info.value.line, info.value.field) == (2, "decision")


def test_rayyan_csv_votes_per_reviewer(tmp_path: Path) -> None:
    # Rayyan's CSV export keeps each collaborator's decision in the ``notes`` column, written as
    # RAYYAN-INCLUSION: {"Name"=>"Included", ...} | RAYYAN-LABELS: ... | RAYYAN-EXCLUSION-REASONS: ...
    # (Rayyan help centre, "Exporting your review"); the other columns are key, title, year, doi, ...
    review = _review(tmp_path, blind=False)
    path = tmp_path / "articles.csv"
    pd.DataFrame(
        [
            {
                "key": "r1",
                "title": RECORDS[0].title,
                "year": "2020",
                "doi": "10.1000/a",
                "notes": 'RAYYAN-INCLUSION: {"Ana"=>"Included", "Ben"=>"Maybe"} | RAYYAN-LABELS: digital',
            },
            {
                "key": "r2",
                "title": RECORDS[1].title,
                "year": "2019",
                "doi": "10.1000/b",
                "notes": 'RAYYAN-INCLUSION: {"Ana"=>"Excluded"} | RAYYAN-EXCLUSION-REASONS: wrong design',
            },
            {"key": "r3", "title": "Not in this review", "year": "2000", "doi": "", "notes": ""},
        ]
    ).to_csv(path, index=False)
    report = import_decisions(review, path, reviewer="rayyan")
    assert report.written == 3 and report.skipped == 1
    first = {v.reviewer: v.decision for v in sd.state(review, 1, reviewer="rayyan:Ana").votes}
    assert first == {"rayyan:Ana": "include", "rayyan:Ben": "maybe"}
    second = sd.state(review, 2, reviewer="rayyan:Ana").votes[0]
    assert second.note == "Rayyan exclusion reasons: wrong design"


def test_list_export_of_one_stage_with_a_given_decision(tmp_path: Path) -> None:
    # Covidence exports the studies of each stage as a separate CSV (no decision column): the
    # decision is given for the whole file; "Published Year" is its year column.
    review = _review(tmp_path, blind=False)
    path = tmp_path / "included.csv"
    pd.DataFrame(
        [{"Title": RECORDS[3].title, "Published Year": "2021", "DOI": "", "Covidence #": "#12"}]
    ).to_csv(path, index=False)
    with pytest.raises(InputError):
        import_decisions(review, path, reviewer="cov")
    report = import_decisions(review, path, reviewer="cov", decision="include")
    assert [(m.record_id, m.matched_by) for m in report.matched] == [(4, "title+year")]
