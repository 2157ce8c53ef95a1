"""Extraction forms: validation, derived direction, AMSTAR 2 confidence on the report."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from metareview.extraction.direction import Direction
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList

BASE = dict(report_id="heber2017", outcome_domain="stress", comparison="guided vs unguided",
            sample="unrestricted", support_provider="clinically_trained", measure="smd")


def test_report_with_amstar() -> None:
    r = MetaAnalysisReport(id="heber2017", citation="Heber E et al. JMIR 2017;19:e32", year=2017,
                           search_date=date(2016, 1, 1), databases=["PsycINFO", "MEDLINE"], n_studies=23,
                           amstar2={**dict.fromkeys(range(1, 17), "yes"), 7: "no", 9: "no"})
    assert r.confidence == "critically low"
    assert r.appraisal is not None and r.appraisal.critical_flaws == (7, 9)


def test_report_without_amstar_has_no_confidence() -> None:
    assert MetaAnalysisReport(id="x", citation="c").confidence is None


def test_direction_is_derived_not_typed() -> None:
    es = EffectSizeRecord(**BASE, estimate=0.31, p=0.002)
    assert es.measure == "SMD" and es.direction is Direction.BETTER and es.significant
    with pytest.raises(ValidationError, match="direction"):
        EffectSizeRecord(**BASE, estimate=0.31, p=0.002, direction="worse")


@pytest.mark.parametrize(
    "extra",
    [
        {"estimate": 0.3},  # nothing to derive the direction from
        {"estimate": 0.3, "ci_lower": 0.1},  # half a CI
        {"estimate": 0.3, "p": 0.01, "significant": True},  # derived, never typed
        {"estimate": 0.3, "p": 0.01, "k": 0},
    ],
)
def test_invalid_effect_sizes(extra: dict) -> None:
    with pytest.raises(ValidationError):
        EffectSizeRecord(**(BASE | extra))


def test_primary_study_list_rejects_duplicates() -> None:
    with pytest.raises(ValidationError, match="twice"):
        PrimaryStudyList(report_id="a", studies=[PrimaryStudy(label="X 2001"), PrimaryStudy(label="X 2001")])


def test_undeclared_keywords_are_protocol_fields() -> None:
    es = EffectSizeRecord(**BASE, estimate=0.31, p=0.002)
    assert es.fields == {"sample": "unrestricted", "support_provider": "clinically_trained"}
    assert es.value("sample") == "unrestricted" and es.value("outcome_domain") == "stress"
    assert es.value("rct_quality") is None
