"""Extraction forms in the review store (SQLite and PostgreSQL): save, load, replace, all-or-nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from metareview.errors import InputError
from metareview.extraction.direction import Direction
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
from metareview.extraction.templates import ExtractionBundle
from metareview.review import Review
from metareview.store.extraction_repo import delete_report, load_bundle, save_bundle

REPORT = MetaAnalysisReport(id="heber2017", citation="Heber E et al. JMIR 2017;19:e32", year=2017,
                            search_date=date(2016, 1, 1), databases=["PsycINFO", "MEDLINE"], n_studies=23,
                            amstar2={**dict.fromkeys(range(1, 17), "yes"), 4: "partial_yes", 7: "no"})
EFFECT = EffectSizeRecord(report_id="heber2017", outcome_domain="stress", comparison="guided vs unguided",
                          sample="unrestricted", support_provider="clinically_trained", measure="SMD",
                          estimate=0.31, p=0.002)
STUDIES = PrimaryStudyList(report_id="heber2017", studies=[PrimaryStudy(label="Ebert 2014", year=2014),
                                                           PrimaryStudy(label="Heber 2013", year=2013)])
BUNDLE = ExtractionBundle((REPORT,), (EFFECT,), (STUDIES,))


@pytest.fixture()
def review(tmp_path: Path, store_url: str):  # type: ignore[no-untyped-def]
    rev = Review.init(tmp_path / "rev", store_url)
    yield rev
    rev.close()


def test_round_trip(review: Review) -> None:
    with review.session() as s:
        assert save_bundle(s, BUNDLE) == {"reports": 1, "effect_sizes": 1, "primary_studies": 2}
    with review.session() as s:
        got = load_bundle(s)
    assert got.reports == (REPORT,) and got.effect_sizes == (EFFECT,) and got.primary_studies == (STUDIES,)
    assert got.reports[0].confidence == "low"  # AMSTAR 2: one critical flaw (item 7)
    assert got.effect_sizes[0].direction is Direction.BETTER
    with review.engine.connect() as con:  # the derived confidence is stored for queries
        assert con.execute(sa.text("select amstar2_confidence from ma_reports")).scalar() == "low"


def test_duplicate_report_rolls_back_everything(review: Review) -> None:
    with review.session() as s:
        save_bundle(s, BUNDLE)
    other = MetaAnalysisReport(id="new2020", citation="New 2020")
    with pytest.raises(InputError, match="already stored"), review.session() as s:
        save_bundle(s, ExtractionBundle((other, REPORT), (), ()))
    with review.session() as s:
        assert [r.id for r in load_bundle(s).reports] == ["heber2017"]  # 'new2020' was not written either


def test_replace_and_delete(review: Review) -> None:
    with review.session() as s:
        save_bundle(s, BUNDLE)
    changed = ExtractionBundle((REPORT.model_copy(update={"n_studies": 26}),), (), (STUDIES,))
    with review.session() as s:
        save_bundle(s, changed, replace=True)
    with review.session() as s:
        got = load_bundle(s)
        assert got.reports[0].n_studies == 26 and got.effect_sizes == ()
        assert len(got.primary_studies[0].studies) == 2
        delete_report(s, "heber2017")
    with review.session() as s:
        assert load_bundle(s).reports == ()


def test_effect_size_of_unknown_report(review: Review) -> None:
    with pytest.raises(InputError, match="report_id"), review.session() as s:
        save_bundle(s, ExtractionBundle((), (EFFECT,), ()))
