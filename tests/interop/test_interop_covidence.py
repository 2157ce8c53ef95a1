"""Covidence's reference exports (issue 11): read as records, and their list as screening decisions.

The exports below are written by hand (invented studies) with the columns of a real Covidence CSV
export (asreview/citation-file-formatting, Datasets/CSV/_baseline_covidence.csv, commit ecddcce:
``Title,Authors,Abstract,Published Year,Published Month,Journal,Volume,Issue,Pages,Accession Number,
DOI,Ref,Covidence #,Study,Notes,Tags``) and Covidence's file names ``review_<n>_<list>_csv_<time>.csv``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from metareview.errors import InputError
from metareview.interop.decisions import covidence_list_of, import_decisions
from metareview.records.detect import detect_format
from metareview.records.encoding import inspect_file
from metareview.records.importer import import_file, read_records
from metareview.review import Review
from metareview.screening import decisions as sd

HEADER = (
    "Title,Authors,Abstract,Published Year,Published Month,Journal,Volume,Issue,Pages,Accession Number,"
    "DOI,Ref,Covidence #,Study,Notes,Tags\n"
)
ROWS = [
    'Guided internet CBT for depression: a meta-analysis,"Smith, J.; Doe, A.",Guided programmes helped.,'
    "2020,,Journal of Affective Disorders,12,3,45-67,31234567,10.1000/a,,#1,Smith 2020,\"\",\"\"\n",
    'Unguided apps for anxiety,"Lee, K.",,2019,,Internet Interventions,8,,,,10.1000/b,,#2,Lee 2019,'
    '"Exclusion reason: not a quantitative meta-analysis","Awaiting classification"\n',
    "Human support in smartphone apps for stress,\"Ito, K.; Park, C.\",Coaches called weekly.,2021,,"
    'JMIR mHealth,9,4,e1,L2001234567,,,#3,Ito 2021,"checked twice",""\n',
]
SCRIPT = Path(__file__).resolve().parents[2] / "src"


def _review(tmp_path: Path, per_record: int = 1) -> Review:
    review = Review.init(tmp_path / "rv")
    proto = tmp_path / "rv" / "protocol.toml"
    proto.write_text(
        proto.read_text().replace("reviewers_per_record = 2", f"reviewers_per_record = {per_record}")
    )
    review.close()
    review = Review.open(tmp_path / "rv")
    all_studies = tmp_path / "review_4242_screen_csv_20240320131744.csv"
    all_studies.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    import_file(review, all_studies, "Covidence")
    return review


def _export(tmp_path: Path, covidence_list: str, rows: list[str]) -> Path:
    path = tmp_path / f"review_4242_{covidence_list}_csv_20240320131759.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_covidence_export_is_detected_and_read_as_records(tmp_path: Path) -> None:
    path = _export(tmp_path, "screen", ROWS)
    assert detect_format(path, inspect_file(path)) == "covidence"
    first, second, third = read_records(path)
    assert (first.title, first.year, first.doi) == (
        "Guided internet CBT for depression: a meta-analysis",
        2020,
        "10.1000/a",
    )
    assert first.authors == ["Smith, J.", "Doe, A."]
    assert first.pmid == "31234567"  # a numeric accession number is the PubMed ID
    assert third.pmid == ""  # an Embase PUI is not
    assert (first.raw["Covidence #"], first.raw["Study"]) == ("#1", "Smith 2020")
    assert first.source_database == "Covidence"
    assert second.raw["Tags"] == "Awaiting classification"


def test_covidence_list_from_file_name() -> None:
    assert covidence_list_of("review_283729_included_csv_20240320131744.csv") == "included"
    assert covidence_list_of("review_59500_irrelevant_csv_20190925102123.csv") == "irrelevant"
    assert covidence_list_of("my_export.csv") is None


def test_irrelevant_list_becomes_title_abstract_exclusions(tmp_path: Path) -> None:
    review = _review(tmp_path)
    report = import_decisions(review, _export(tmp_path, "irrelevant", ROWS[1:2]), reviewer="covidence")
    assert [(m.record_id, m.decision, m.matched_by) for m in report.matched] == [(2, "exclude", "doi")]
    vote = sd.state(review, 2, reviewer="covidence").votes[0]
    assert vote.decision == "exclude"
    assert vote.note == (
        "Covidence #2; tags: Awaiting classification; "
        "notes: Exclusion reason: not a quantitative meta-analysis"
    )
    assert sd.state(review, 2, reviewer="covidence").decision == "exclude"


def test_included_list_passes_both_stages(tmp_path: Path) -> None:
    review = _review(tmp_path)
    report = import_decisions(review, _export(tmp_path, "included", ROWS[0:1] + ROWS[2:3]), reviewer="cov")
    assert report.written == 4  # title/abstract include, then full-text include, for each study
    for rid in (1, 3):
        assert sd.state(review, rid, "title_abstract", reviewer="cov").decision == "include"
        assert sd.state(review, rid, "full_text", reviewer="cov").decision == "include"
    note = sd.state(review, 3, "full_text", reviewer="cov").votes[0].note
    assert note == "Covidence #3; notes: checked twice"


def test_excluded_list_reason_from_notes_or_given(tmp_path: Path) -> None:
    review = _review(tmp_path)
    # row 2 says its reason in Notes; row 3 has none and takes --reason
    path = _export(tmp_path, "excluded", ROWS[1:3])
    report = import_decisions(review, path, reviewer="cov", reason="full text not available")
    assert report.written == 4
    ft2 = sd.state(review, 2, "full_text", reviewer="cov")
    ft3 = sd.state(review, 3, "full_text", reviewer="cov")
    assert (ft2.decision, ft2.votes[0].reason) == ("exclude", "not a quantitative meta-analysis")
    assert (ft3.decision, ft3.votes[0].reason) == ("exclude", "full text not available")


def test_excluded_list_without_a_reason_writes_nothing(tmp_path: Path) -> None:
    review = _review(tmp_path)
    with pytest.raises(InputError) as info:
        import_decisions(review, _export(tmp_path, "excluded", ROWS[2:3]), reviewer="cov")
    assert info.value.line == 2 and info.value.field == "reason"
    assert sd.state(review, 3, reviewer="cov").votes == ()  # the title/abstract vote was rolled back


def test_unnamed_covidence_file_needs_its_list(tmp_path: Path) -> None:
    review = _review(tmp_path)
    path = tmp_path / "export.csv"
    path.write_text(HEADER + ROWS[0], encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_decisions(review, path, reviewer="cov")
    assert info.value.field == "covidence_list"
    report = import_decisions(review, path, reviewer="cov", covidence_list="select")
    assert [(m.record_id, m.decision) for m in report.matched] == [(1, "include")]
    with pytest.raises(InputError):
        import_decisions(review, path, reviewer="other", covidence_list="select", stage="full_text")


def test_screen_list_has_no_decisions(tmp_path: Path) -> None:
    review = _review(tmp_path)
    report = import_decisions(review, _export(tmp_path, "screen", ROWS), reviewer="cov")
    assert (report.written, report.skipped) == (0, 3)


def test_two_reviewer_protocol_keeps_covidence_vote_pending(tmp_path: Path) -> None:
    # Covidence exports the team's decision, not each screener's vote: with two reviewers per record
    # it is one vote, and the full-text vote of an 'included' study cannot come before title/abstract
    # is decided: the import is refused as a whole.
    review = _review(tmp_path, per_record=2)
    import_decisions(review, _export(tmp_path, "select", ROWS[0:1]), reviewer="cov")
    assert sd.state(review, 1, reviewer="cov").status == "pending"
    with pytest.raises(InputError) as info:
        import_decisions(review, _export(tmp_path, "included", ROWS[2:3]), reviewer="cov2")
    assert "not included at title/abstract" in info.value.message
    assert sd.state(review, 3, reviewer="cov2").votes == ()


def test_cli_import_decisions_covidence(tmp_path: Path) -> None:
    review = _review(tmp_path)
    review.close()
    path = _export(tmp_path, "irrelevant", ROWS[1:2])
    env = {**os.environ, "PYTHONPATH": str(SCRIPT)}
    env.pop("METAREVIEW_DB", None)
    out = subprocess.run(
        [sys.executable, "-c", "from metareview.cli import main; main()", "import-decisions", str(path),
         "--reviewer", "covidence", "--review", str(tmp_path / "rv"), "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["written"] == 1
