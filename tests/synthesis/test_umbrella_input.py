"""metaumbrella's well-formatted layout read as is (metaumbrella 1.1.0 data in ../shared/data/umbrella)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metareview.errors import InputError
from metareview.synthesis.umbrella_input import read_umbrella


@pytest.fixture(scope="module")
def folder(shared_data: Path) -> Path:
    return shared_data / "umbrella" / "metaumbrella"


def test_df_or_factors_k_and_cases(folder: Path) -> None:
    data = read_umbrella(folder / "df.OR.csv")
    # metaumbrella vignette (values in ../shared/data/README.md): k and number of cases per factor
    got = {f.name: (f.k, int(f.n_cases.sum())) for f in data.factors}
    assert got == {"ADHD": (10, 987), "ASD": (18, 1967), "dyslexia": (7, 626), "ID": (25, 2586)}
    assert data.dropped.empty


def test_or_from_counts_equals_the_published_value(folder: Path) -> None:
    raw = pd.read_csv(folder / "df.OR.csv")
    adhd = read_umbrella(folder / "df.OR.csv").factor("ADHD")
    # each row's `value` column is the odds ratio of its 2x2 counts
    expected = np.log(raw.loc[raw.factor == "ADHD", "value"].to_numpy())
    assert adhd.yi == pytest.approx(expected, abs=1e-12)
    # Woolf variance: 1/a + 1/b + 1/c + 1/d (Burris 1995: 39, 17, 78, 90)
    assert adhd.vi[0] == pytest.approx(1 / 39 + 1 / 17 + 1 / 78 + 1 / 90, abs=1e-12)


def test_value_and_ci_rows_and_smd_means(folder: Path) -> None:
    rr = read_umbrella(folder / "df.RR.csv").factor("SSRI")
    assert rr.k == 51 and rr.measure == "RR"
    smd = read_umbrella(folder / "df.SMD.csv")
    assert [f.k for f in smd.factors] == [21, 12]


def test_radua2019_structure(folder: Path) -> None:
    data = read_umbrella(folder / "df.radua2019.csv")
    raw = pd.read_csv(folder / "df.radua2019.csv")
    assert len(raw) == 278 and raw.factor.nunique() == 7  # metaumbrella: 278 effects, 7 factors
    assert {f.name for f in data.factors} == set(raw.factor)
    # every row is either used (possibly merged with its study's other effects) or listed with a reason
    assert len(data.dropped) == 13
    assert set(data.dropped.reason.str.split().str[0]) <= {"measure", "no"}
    merged = raw.multiple_es.notna()
    assert sum(f.k for f in data.factors) < len(raw) - len(data.dropped)  # several effects of a study merged
    assert merged.any()
    assert all(np.isfinite(f.vi).all() and (f.vi > 0).all() for f in data.factors)


def test_smd_converted_to_log_or_in_a_mixed_factor(tmp_path: Path) -> None:
    f = tmp_path / "mixed.csv"
    pd.DataFrame({
        "meta_review": "m", "factor": "x", "author": ["a", "b", "c"], "year": [2001, 2002, 2003],
        "measure": ["OR", "OR", "SMD"], "value": [2.0, 1.5, 0.5], "ci_lo": [1.0, 1.0, 0.1],
        "ci_up": [4.0, 2.25, 0.9], "n_cases": [50, 60, 70], "n_controls": [50, 60, 70],
    }).to_csv(f, index=False)
    x = read_umbrella(f).factor("x")
    assert x.measure == "OR"
    assert x.yi[2] == pytest.approx(0.5 * math.pi / math.sqrt(3))  # Chinn 2000


def test_errors_name_row_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    pd.DataFrame({"meta_review": "m", "factor": "x", "author": ["a", "b"], "year": [1, 2],
                  "measure": ["OR", "XX"], "value": [1.0, 2.0]}).to_csv(f, index=False)
    with pytest.raises(InputError) as info:
        read_umbrella(f)
    assert (info.value.line, info.value.field) == (3, "measure")
    pd.DataFrame({"factor": ["x"]}).to_csv(f, index=False)
    with pytest.raises(InputError, match="meta_review"):
        read_umbrella(f)


def test_numeric_errors_name_the_offending_row(tmp_path: Path) -> None:
    """A bad count or CI in the 3rd data row is reported at file line 4, not at the factor's first row."""
    f = tmp_path / "bad_counts.csv"
    pd.DataFrame({
        "meta_review": "m", "factor": "x", "author": ["a", "b", "c"], "year": [2001, 2002, 2003],
        "measure": "OR", "n_cases_exp": [10, 12, -3], "n_controls_exp": [20, 20, 20],
        "n_cases_nexp": [5, 6, 7], "n_controls_nexp": [25, 25, 25],
    }).to_csv(f, index=False)
    with pytest.raises(InputError) as info:
        read_umbrella(f)
    assert info.value.line == 4
    g = tmp_path / "bad_ci.csv"
    pd.DataFrame({
        "meta_review": "m", "factor": "y", "author": ["a", "b"], "year": [2001, 2002], "measure": "OR",
        "value": [1.5, 2.0], "ci_lo": [1.0, 3.0], "ci_up": [2.25, 2.5],
    }).to_csv(g, index=False)
    with pytest.raises(InputError) as info:
        read_umbrella(g)
    assert info.value.line == 3
