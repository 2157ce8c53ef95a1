"""ccaR's example citation matrix (thdiakon/ccaR_v3, inst/extdata/test.csv; see ../shared/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metareview.synthesis.overlap import CitationMatrix, cca


@pytest.fixture(scope="module")
def result(shared_data: Path):  # type: ignore[no-untyped-def]
    # rows are primary studies, columns reviews, ';'-separated (ccaR's orientation)
    return cca(CitationMatrix.read_csv(shared_data / "overlap" / "ccar" / "test.csv"))


def test_overall(result) -> None:  # type: ignore[no-untyped-def]
    o = result.overall
    assert (o.n, o.r, o.c, o.x) == (43, 14, 6, 0)  # ccaR README: N=43, r=14, c=6
    assert o.cca_pct == pytest.approx(41.43, abs=0.005)  # ccaR: CCA = 41.43%
    assert result.band == "very high"


@pytest.mark.parametrize(
    ("a", "b", "pct"),
    [  # ccaR cca_table(test) (percentages to one decimal)
        ("Gilinsky2015", "Guo2016", 76.9),
        ("Chasan2014", "Gilinsky2015", 81.8),
        ("Chasan2014", "Guo2016", 75.0),
        ("Morton2014", "Peacock2014", 11.1),
    ],
)
def test_pairwise(result, a: str, b: str, pct: float) -> None:  # type: ignore[no-untyped-def]
    assert round(result.pair(a, b).cca_pct, 1) == pct


def test_middleton_overlaps_with_no_review(result) -> None:  # type: ignore[no-untyped-def]
    for other in ("Guo2016", "Gilinsky2015", "Morton2014", "Peacock2014", "Chasan2014"):
        assert result.pair("Middleton2014", other).cca_pct == 0.0


def test_reordered_columns_give_the_same_answer(shared_data: Path, result) -> None:  # type: ignore[no-untyped-def]
    other = cca(CitationMatrix.read_csv(shared_data / "overlap" / "ccar" / "miyazaki2017CCA.csv"))
    assert other.overall.cca == result.overall.cca
    assert other.pair("Guo2016", "Gilinsky2015").cca == result.pair("Gilinsky2015", "Guo2016").cca
