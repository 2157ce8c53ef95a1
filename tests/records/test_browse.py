"""records show / records search / export of the included set: API and CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from metareview.cli import app
from metareview.errors import InputError
from metareview.records import dedup
from metareview.records.browse import included_ids, search_records, show_record
from metareview.records.export import export_records
from metareview.records.importer import import_file
from metareview.review import Review
from metareview.screening import decisions as sd

RIS = """\
TY  - JOUR
TI  - Guided internet CBT for depression in primary care
AU  - Lindqvist, Anna
PY  - 2019
JO  - Journal of Depression Research
SP  - 211
AN  - 31234567
ER  -

TY  - JOUR
TI  - Guided internet CBT for depression in primary care
AU  - Lindqvist, A
PY  - 2019
JO  - J Depress Res
SP  - 211
DO  - 10.1000/JDR.1
AN  - 31234567
AB  - Adults were randomised.
ER  -

TY  - JOUR
TI  - Exercise for anxiety in adolescents
AU  - Øberg, Jens
PY  - 2021
ER  -

TY  - JOUR
TI  - Sleep hygiene and insomnia
AU  - Costa, Maria
PY  - 2015
ER  -
"""


@pytest.fixture
def review(tmp_path: Path, store_url: str) -> Review:
    rv = Review.init(tmp_path / "rev", store_url)
    (tmp_path / "a.ris").write_text(RIS, encoding="utf-8")
    import_file(rv, tmp_path / "a.ris", "PsycINFO", searched="2024-03-01", query="cbt OR exercise")
    dedup.deduplicate(rv)
    yield rv
    rv.close()


def test_show_record_fields_source_cluster_and_blind_screening(review: Review) -> None:
    view = show_record(review, 1, reviewer="ana")
    assert view.status == "kept" and view.fields["pmid"] == "31234567" and view.fields["doi"] == ""
    assert view.source.database == "PsycINFO" and view.source.query == "cbt OR exercise"
    assert view.source.file_name == "a.ris"
    assert view.cluster is not None and view.cluster.members == [1, 2]
    assert view.cluster.merged["doi"] == "10.1000/jdr.1"  # filled from the duplicate
    dup = show_record(review, 2)
    assert dup.status == "duplicate" and dup.cluster is not None and dup.cluster.kept_record_id == 1
    assert show_record(review, 3).cluster is None and show_record(review, 3).status == "unique"
    sd.decide(review, 3, "ana", "exclude", note="wrong age group")
    hidden = show_record(review, 3, reviewer="ben").screening[0]
    assert hidden.stage == "title_abstract" and hidden.votes == () and hidden.hidden_votes == 1
    assert "ana:" not in str(show_record(review, 3, reviewer="ben"))
    own = show_record(review, 3, reviewer="ana")
    assert [v.reviewer for v in own.screening[0].votes] == ["ana"]
    text = str(own)
    assert "search 1: PsycINFO" in text and "Exercise for anxiety" in text and "ana: exclude" in text
    assert [st.stage for st in own.screening] == [str(s) for s in review.protocol.screening.stages]
    with pytest.raises(InputError, match="no record 99"):
        show_record(review, 99)


def test_search_records_fields_case_and_pages(review: Review) -> None:
    assert [r["id"] for r in search_records(review, "internet cbt").rows] == [1, 2]
    # the kept record 1 carries the DOI and abstract filled in from its duplicate 2
    assert [r["id"] for r in search_records(review, "10.1000/JDR.1").rows] == [1, 2]
    assert [r["id"] for r in search_records(review, "31234567").rows] == [1, 2]
    assert [r["id"] for r in search_records(review, "ØBERG").rows] == [3]  # authors, non-ASCII
    assert [r["id"] for r in search_records(review, "randomised").rows] == [1, 2]  # abstract
    assert search_records(review, "nothing like this").total == 0
    first = search_records(review, "in", per_page=2)
    second = search_records(review, "in", page=2, per_page=2)
    assert (first.total, first.pages) == (4, 2) and [r["id"] for r in second.rows] == [3, 4]
    assert "page 2 of 2" in str(second) and second.rows[0]["year"] == 2021
    with pytest.raises(InputError, match="empty"):
        search_records(review, "  ")


def test_export_included_set_per_stage(review: Review, tmp_path: Path) -> None:
    for rid, ana, ben in [(1, "include", "include"), (3, "include", "exclude"), (4, "exclude", "exclude")]:
        sd.decide(review, rid, "ana", ana)
        sd.decide(review, rid, "ben", ben)
    assert included_ids(review, "title_abstract") == [1]  # 3 is in conflict, 4 excluded
    sd.resolve(review, 3, "cleo", "include")
    assert included_ids(review, "title_abstract") == [1, 3]
    n = export_records(review, tmp_path / "ta.csv", included="title_abstract")
    assert n == 2 and pd.read_csv(tmp_path / "ta.csv").id.tolist() == [1, 3]
    why = review.protocol.exclusion_reasons.full_text[0]
    ft = "full_text"
    sd.decide(review, 3, "ana", "exclude", reason=why, stage=ft)
    sd.decide(review, 3, "ben", "exclude", reason=why, stage=ft)
    sd.decide(review, 1, "ana", "include", stage=ft)
    sd.decide(review, 1, "ben", "include", stage=ft)
    assert included_ids(review, ft) == [1]
    assert export_records(review, tmp_path / "ft.ris", included="full_text") == 1
    assert "Guided internet CBT" in (tmp_path / "ft.ris").read_text(encoding="utf-8")
    with pytest.raises(InputError):
        export_records(review, tmp_path / "x.csv", included="abstract_only")


def test_cli_records_show_search_and_included_export(review: Review, tmp_path: Path, store_url: str) -> None:
    runner = CliRunner()
    rev = str(tmp_path / "rev")
    extra = ["--db", store_url] if store_url else []

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--review", rev, *extra], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    out = run("records", "show", "1", "--reviewer", "ana")
    assert "record 1 (kept)" in out and "duplicate cluster" in out and "31234567" in out
    out = run("records", "search", "sleep")
    assert "Sleep hygiene" in out and "1 records match" in out
    sd.decide(review, 4, "ana", "include")
    sd.decide(review, 4, "ben", "include")
    inc = str(tmp_path / "inc.csv")
    out = run("records", "--export", "csv", "--included", "title_abstract", "--out", inc)
    assert "wrote 1 records" in out and pd.read_csv(tmp_path / "inc.csv").id.tolist() == [4]
    out = run("records")
    assert "(3 records)" in out  # the plain list still works
