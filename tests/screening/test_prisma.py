"""PRISMA 2020 counts derived from the store, consistency errors, CSV fields and the drawn diagram."""

from __future__ import annotations

import pandas as pd
import pytest
from screenfixtures import make_review

from metareview.errors import InputError
from metareview.records.model import Record
from metareview.screening import decisions as sd
from metareview.screening.prisma import PrismaCounts, PrismaError, draw_prisma, prisma_counts
from metareview.store import records_repo

FT = "full_text"


@pytest.fixture
def finished(tmp_path, store_url):
    """Six MEDLINE records + two from a trials register; record 7 duplicates record 1; single review."""
    rv = make_review(tmp_path / "p", store_url, reviewers=1)
    with rv.session() as s:
        search = records_repo.add_search(
            s, database="ClinicalTrials.gov register", file_name="r.csv", file_hash="h2", file_format="csv"
        )
        records_repo.insert_records(
            s,
            search.id,
            0,
            [
                Record(title="Guided internet CBT for depression"),
                Record(title="An unrelated registered trial"),
            ],
        )
        records_repo.finish_search(s, search, 2)
        records_repo.write_clusters(s, [records_repo.ClusterSpec(None, 1, [1, 7], "doi", {})])
    for rid in (1, 2, 5, 8):
        sd.decide(rv, rid, "ana", "include")
    for rid in (3, 4, 6):
        sd.decide(rv, rid, "ana", "exclude")
    sd.mark_retrieval(rv, 8, "ana", retrieved=False)
    sd.decide(rv, 1, "ana", "include", stage=FT)
    sd.decide(
        rv, 2, "ana", "exclude", stage=FT, reason="no comparison of human support with no or minimal support"
    )
    sd.decide(rv, 5, "ana", "exclude", stage=FT, reason="not a quantitative meta-analysis")
    yield rv
    rv.close()


def test_counts_from_history(finished, tmp_path):
    c = prisma_counts(finished)
    # 6 + 2 identified, 1 duplicate removed, 7 screened, 3 excluded, 4 sought, 1 not retrieved, 3 assessed,
    # 2 excluded (one per reason), 1 included
    assert c.database_results == {"MEDLINE": 6} and c.register_results == {"ClinicalTrials.gov register": 2}
    assert (c.duplicates, c.records_screened, c.records_excluded) == (1, 7, 3)
    assert (c.dbr_sought_reports, c.dbr_notretrieved_reports, c.dbr_assessed) == (4, 1, 3)
    assert c.dbr_excluded == {
        "no comparison of human support with no or minimal support": 1,
        "not a quantitative meta-analysis": 1,
    }
    assert (c.new_studies, c.new_reports) == (1, 1)
    csv = pd.read_csv(c.to_csv(tmp_path / "prisma.csv")).set_index("data")
    assert csv.loc["records_screened", "n"] == "7" and csv.loc["duplicates", "n"] == "1"
    assert csv.loc["dbr_excluded", "n"].startswith("no comparison of human support")
    for ext in ("svg", "png", "pdf"):
        out = draw_prisma(c, tmp_path / f"prisma.{ext}")
        assert out.stat().st_size > 5_000
    svg = (tmp_path / "prisma.svg").read_text()
    assert "Records screened" in svg and "Reports excluded" in svg and "Identification" in svg


def test_unfinished_screening_is_an_error(tmp_path, store_url):
    rv = make_review(tmp_path / "u", store_url)
    try:
        sd.decide(rv, 1, "ana", "include")
        with pytest.raises(PrismaError, match="6 record\\(s\\) pending"):
            prisma_counts(rv)
    finally:
        rv.close()


def test_counts_that_do_not_add_up_are_not_drawn(tmp_path):
    bad = PrismaCounts(
        database_results={"A": 10},
        duplicates=2,
        records_screened=9,
        records_excluded=5,
        dbr_sought_reports=4,
        dbr_assessed=4,
        new_reports=4,
        new_studies=5,
    )
    problems = bad.problems()
    assert any("records_screened = 9" in p for p in problems)
    assert any("new_studies (5) exceeds" in p for p in problems)
    with pytest.raises(PrismaError):
        draw_prisma(bad, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(InputError):
        draw_prisma(bad, tmp_path / "x.gif")
