"""Werntz et al. 2023 (J Med Internet Res 25:e42864), Table 4, reproduced from ../shared/data.

Counts and the printed (truncated) percentages come from the published table
(https://pmc.ncbi.nlm.nih.gov/articles/PMC9941905/table/table4); p values from R 4's ``fisher.test``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from metareview.datasets import werntz2023
from metareview.synthesis.votes import compare_better


@pytest.fixture(scope="module")
def tables(shared_data: Path) -> dict:
    return werntz2023.table4_vote_tables()


@pytest.fixture(scope="module")
def raw(shared_data: Path) -> pd.DataFrame:
    return werntz2023.load_table4()


def test_totals_22_19_4_of_45(tables: dict) -> None:
    # Werntz 2023, Results: 22 better with support, 19 no difference, 4 better without, of 45 effect sizes
    for group, tab in tables.items():
        top = [r for r in tab.rows if r.parent is None]
        assert tab.total == 45, group
        assert tuple(sum(r.counts[i] for r in top) for i in range(3)) == (22, 19, 4), group


def test_every_row_reproduces_counts_and_printed_percentages(tables: dict, raw: pd.DataFrame) -> None:
    for rec in raw.itertuples():
        row = tables[rec.group].row(rec.category)
        assert row.total == rec.total_effect_sizes
        assert row.counts == tuple(getattr(rec, c) for c in werntz2023.TABLE4_COUNT_COLUMNS)
        assert row.pct_truncated == tuple(getattr(rec, c) for c in werntz2023.TABLE4_PCT_COLUMNS)


def test_truncation_differs_from_rounding_where_the_paper_truncated(tables: dict) -> None:
    stress = tables["Outcome domain"].row("Stress")  # 2/3 printed as 66%, 1/3 as 33%
    assert stress.pct_truncated == (66, 0, 33)
    assert stress.pct_rounded == (67, 0, 33)
    trained = tables["Type of human support"].row("Clinically trained")  # 1/17 = 5.88% printed as 5
    assert trained.pct_truncated[2] == 5 and trained.pct_rounded[2] == 6


def test_sample_subcategories_sum_to_their_parent(tables: dict) -> None:
    sample = tables["Sample characteristics"]
    subs = [r for r in sample.rows if r.parent == "Clinical or subclinical"]
    assert len(subs) == 6
    summed = tuple(sum(r.counts[i] for r in subs) for i in range(3))
    assert summed == sample.row("Clinical or subclinical").counts


def test_wilson_interval_of_a_table_row(tables: dict) -> None:
    # R: prop.test(12, 21, correct = FALSE)$conf.int -> 0.3654655 0.7553003 (Wilson)
    lo, hi = tables["Sample characteristics"].row("Clinical or subclinical").wilson()[0]
    assert lo == pytest.approx(36.5466, abs=1e-4)
    assert hi == pytest.approx(75.5300, abs=1e-4)


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        # R: fisher.test(matrix(c(4,7,1, 9,8,2, 1,1,0, 2,0,1, 6,3,0), ncol=3, byrow=TRUE))$p.value
        ("Outcome domain", 0.5671),
        # R: fisher.test(matrix(c(12,9,0, 10,10,4), ncol=3, byrow=TRUE))$p.value
        ("Sample characteristics", 0.1624),
        # R: fisher.test(matrix(c(1,1,0, 9,8,2, 12,10,2), ncol=3, byrow=TRUE))$p.value
        ("Quality of RCT", 1.0000),
        # R: fisher.test(matrix(c(8,8,1, 7,2,0, 7,9,3), ncol=3, byrow=TRUE))$p.value
        ("Type of human support", 0.3553),
    ],
)
def test_association_tests(tables: dict, group: str, expected: float) -> None:
    assert tables[group].test.pvalue == pytest.approx(expected, abs=5e-5)


def test_central_claim_support_helps_more_with_elevated_symptoms(tables: dict) -> None:
    # 12/21 clinical-or-subclinical vs 10/24 unrestricted significantly better with support.
    # R: fisher.test(matrix(c(12,9,10,14), 2, byrow=TRUE), alternative="greater")$p.value = 0.230728938
    res = compare_better(tables["Sample characteristics"], "Clinical or subclinical", "Unrestricted samples")
    assert res.table == ((12, 9), (10, 14))
    assert res.alternative == "greater"
    assert res.pvalue == pytest.approx(0.2307, abs=5e-5)  # not significant at 0.05
