"""CCA with structural missingness (GROOVE / ccaR adjustment), Pieper's bands and input validation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from metareview.errors import InputError
from metareview.synthesis.overlap import CitationMatrix, cca, pieper_band


def test_structural_missingness_leaves_the_denominator() -> None:
    # R1 (searched 2015) includes s1, s2; R2 (searched 2020) includes s2, s3; s3 published 2018.
    m = CitationMatrix.from_inclusions(
        [("R1", "s1"), ("R1", "s2"), ("R2", "s2"), ("R2", "s3")],
        study_dates={"s1": date(2010, 1, 1), "s2": date(2012, 1, 1), "s3": date(2018, 1, 1)},
        search_dates={"R1": date(2015, 6, 1), "R2": date(2020, 6, 1)},
    )
    assert np.isnan(m.cells[2, 0])  # s3 could not be in R1
    res = cca(m)
    # by hand: N=4, r=3, c=2, X=1 -> (4-3)/(6-3-1) = 0.5; unadjusted would be 1/3
    assert (res.overall.n, res.overall.r, res.overall.x) == (4, 3, 1)
    assert res.overall.cca == pytest.approx(0.5)


def test_na_cells_read_from_ccar_layout(tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("Primary_study;A;B;C\ns1;1;1;0\ns2;1;NA;1\ns3;0;0;1\n")
    res = cca(CitationMatrix.read_csv(f))
    # N=5, r=3, c=3, X=1 -> (5-3)/(9-3-1) = 0.4
    assert res.overall.cca == pytest.approx(0.4)
    # pair A-B: rows s1 (1,1), s2 (1,NA) -> N=3, r=2, X=1 -> (3-2)/(4-2-1) = 1.0
    assert res.pair("A", "B").cca == pytest.approx(1.0)
    assert "structurally missing" in str(res)


def test_bad_cell_names_row_and_review(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("Primary_study;A;B\ns1;1;2\n")
    with pytest.raises(InputError, match=r"bad.csv.*line 1.*'B'"):
        CitationMatrix.read_csv(f)


@pytest.mark.parametrize(("pct", "band"), [(0, "slight"), (5, "slight"), (6, "moderate"), (10, "moderate"),
                                           (11, "high"), (15, "high"), (15.1, "very high")])
def test_pieper_bands(pct: float, band: str) -> None:
    assert pieper_band(pct) == band


def test_pairwise_matrix_is_symmetric() -> None:
    m = CitationMatrix.from_inclusions([("A", "1"), ("A", "2"), ("B", "2"), ("C", "1"), ("C", "3")])
    pm = cca(m).pairwise_matrix()
    assert pm.loc["A", "B"] == pm.loc["B", "A"] == pytest.approx(50.0)
    assert np.isnan(pm.loc["A", "A"])


def test_matrix_from_extraction_forms_marks_studies_after_the_search() -> None:
    from metareview.extraction.forms import MetaAnalysisReport, PrimaryStudy, PrimaryStudyList

    reports = [MetaAnalysisReport(id="early", citation="E", search_date=date(2015, 1, 1)),
               MetaAnalysisReport(id="late", citation="L", search_date=date(2021, 1, 1))]
    a_2010 = PrimaryStudy(label="a", publication_date=date(2010, 1, 1))
    b_2019 = PrimaryStudy(label="b", publication_date=date(2019, 1, 1))
    lists = [PrimaryStudyList(report_id="early", studies=[a_2010]),
             PrimaryStudyList(report_id="late", studies=[PrimaryStudy(label="a"), b_2019])]
    m = CitationMatrix.from_study_lists(lists, reports)
    frame = m.to_frame()
    assert frame.loc["a", "early"] == 1 and frame.loc["a", "late"] == 1
    assert np.isnan(frame.loc["b", "early"])  # published 2019, after the 2015 search
    # N=3, r=2, c=2, X=1 -> (3-2)/(4-2-1) = 1.0
    assert cca(m).overall.cca == pytest.approx(1.0)
