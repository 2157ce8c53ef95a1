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


def test_or_from_value_and_ci_as_metaumbrella(folder: Path) -> None:
    raw = pd.read_csv(folder / "df.OR.csv")
    adhd = read_umbrella(folder / "df.OR.csv").factor("ADHD")
    rows = raw[raw.factor == "ADHD"]
    # metaumbrella uses the reported value and its CI first: log OR, SE = (log up - log low) / (2 x 1.96)
    assert adhd.yi == pytest.approx(np.log(rows["value"].to_numpy()), abs=1e-12)
    se = (np.log(rows.ci_up) - np.log(rows.ci_lo)).to_numpy() / (2 * 1.959963984540054)
    assert adhd.vi == pytest.approx(se**2, rel=1e-12)
    # here the CI is Woolf's from the 2x2 counts (Burris 1995: 39, 17, 78, 90), so both agree
    assert adhd.vi[0] == pytest.approx(1 / 39 + 1 / 17 + 1 / 78 + 1 / 90, rel=1e-9)
    # without value and CI, the counts are used
    counts = rows.drop(columns=["value", "ci_lo", "ci_up"])
    from_counts = read_umbrella(counts).factor("ADHD")
    assert from_counts.yi == pytest.approx(adhd.yi, abs=1e-9)
    assert from_counts.vi[0] == pytest.approx(1 / 39 + 1 / 17 + 1 / 78 + 1 / 90, abs=1e-12)


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
    # every row is used (possibly merged with its study's other effects), as metaumbrella's documented rules
    # allow (manual, ?metaumbrella "Required information": an OR with its value + n_cases + n_controls, an
    # SMD with its value + n_cases + n_controls; vignette "Details on calculations" 2.4, situation 4: an RR
    # with its value, CI and n_cases/n_controls in an OR factor is converted to an OR; situation 5: an HR is
    # taken as an OR). The rows that need those rules: 19 (SMD value + n), 82, 239, 262, 271, 272 (OR value +
    # n), 49 (RR value + CI + n, no 2x2 counts, in the OR factor "Cumulative trauma")
    assert len(data.dropped) == 0
    value_and_sizes = raw.loc[[17, 80, 237, 260, 269, 270]]  # spreadsheet rows 19, 82, 239, 262, 271, 272
    assert value_and_sizes[["ci_lo", "ci_up", "n_cases_exp", "sd_cases"]].isna().all(axis=None)
    assert value_and_sizes[["value", "n_cases", "n_controls"]].notna().all(axis=None)
    rr_row = raw.loc[47]  # spreadsheet row 49
    assert rr_row.measure == "RR" and pd.isna(rr_row.n_cases_exp) and pd.notna(rr_row.ci_lo)
    merged = raw.multiple_es.notna()
    assert sum(f.k for f in data.factors) < len(raw) - len(data.dropped)  # several effects of a study merged
    assert merged.any()
    assert all(np.isfinite(f.vi).all() and (f.vi > 0).all() for f in data.factors)


def test_or_converted_to_g_in_a_mixed_factor(tmp_path: Path) -> None:
    from scipy.special import gamma

    f = tmp_path / "mixed.csv"
    pd.DataFrame({
        "meta_review": "m", "factor": "x", "author": ["a", "b", "c"], "year": [2001, 2002, 2003],
        "measure": ["OR", "OR", "SMD"], "value": [2.0, 1.5, 0.5], "ci_lo": [1.0, 1.0, 0.1],
        "ci_up": [4.0, 2.25, 0.9], "n_cases": [50, 60, 70], "n_controls": [50, 60, 70],
    }).to_csv(f, index=False)
    x = read_umbrella(f).factor("x")
    # metaumbrella: a factor mixing SMD and OR is pooled as Hedges' g; log OR -> d = log OR x sqrt(3)/pi
    # (Chinn 2000), then g = J d with J(df) = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)), df = n1 + n2 - 2
    assert x.measure == "SMD"
    j98 = gamma(49) / (math.sqrt(49) * gamma(48.5))
    assert x.yi[0] == pytest.approx(math.log(2.0) * math.sqrt(3) / math.pi * j98, rel=1e-12)
    j138 = gamma(69) / (math.sqrt(69) * gamma(68.5))
    assert x.yi[2] == pytest.approx(0.5 * j138, rel=1e-12)  # a reported SMD is Cohen's d


def test_rows_with_less_information_as_metaumbrella_documents(tmp_path: Path) -> None:
    """metaumbrella 1.1.0's rules for rows with only a value and group sizes (its manual's "Required
    information" tables; R/estimate_or.R .estimate_se_from_or, R/estimate_n_from_es.R .estimate_n_from_rr,
    R/estimate_smd.R .estimate_se_from_d), each expected value worked by hand below."""
    from scipy.special import gamma

    rows = pd.DataFrame({
        "meta_review": "m", "factor": ["or", "or", "rr", "rr", "rr2", "rr2", "smd", "smd"],
        "author": ["a", "b", "c", "d", "c", "d", "e", "f"], "year": 2000,
        "measure": ["OR", "OR", "OR", "RR", "OR", "RR", "SMD", "SMD"],
        "value": [2.0, 1.5, 1.5, 2.0, 1.5, 2.0, 0.5, 0.4],
        "ci_lo": [None, 1.0, 1.0, None, 1.0, None, None, 0.1],
        "ci_up": [None, 2.25, 2.25, None, 2.25, None, None, 0.7],
        "se": [None, None, None, 2.0**0.5, None, 2.1**0.5, None, None],
        "n_cases": [4, 50, 50, 3, 50, 3, 20, 40], "n_controls": [6, 50, 50, 6, 50, 6, 30, 40],
    })
    data = read_umbrella(rows)
    assert data.dropped.empty
    # OR 2 with 4 cases and 6 controls: exposed cases 1, 2, 3 (non-exposed 3, 2, 1) give exposed controls
    # round(6 / (1 + 3*2/1)) = 1, round(6/3) = 2, round(6 / (1 + 2/3)) = round(3.6) = 4 (non-exposed 5, 4, 2);
    # variances 1/1+1/3+1/1+1/5 = 2.5333, 1/2+1/2+1/2+1/4 = 1.75, 1/3+1/1+1/4+1/2 = 2.0833; mean 2.1222
    assert read_umbrella(rows).factor("or").vi[0] == pytest.approx((38 / 15 + 7 / 4 + 25 / 12) / 3, rel=1e-12)
    # RR 2 (variance 2.0), 3 cases, 6 controls: non-exposed cases 1 -> non-exposed controls
    # round(1 * (2*9 / (3 + 1) - 1)) = round(3.5) = 4, 2 -> round(2 * (18/5 - 1)) = 5; metaumbrella's
    # 1/(3-c) + 1/(9-(c+d)) + 1/c + 1/(c+d) is 1.95 and 2.1429; 1.95 is closer to 2.0: the table
    # 2 | 2 (exposed cases | controls), 1 | 4 (non-exposed): OR (2*4)/(2*1) = 4, variance 1/2+1/2+1/1+1/4
    rr = data.factor("rr")
    assert rr.measure == "OR" and rr.yi[1] == pytest.approx(math.log(4.0), rel=1e-12)
    assert rr.vi[1] == pytest.approx(2.25, rel=1e-12)
    # with variance 2.1, 2.1429 is the closer: the table 1 | 1, 2 | 5, OR (1*5)/(1*2) = 2.5
    rr2 = data.factor("rr2")
    assert rr2.yi[1] == pytest.approx(math.log(2.5), rel=1e-12) and rr2.vi[1] == pytest.approx(2.7, rel=1e-12)
    # SMD d = 0.5 with 20 and 30: SE of d sqrt(1/20 + 1/30); g = J d, its SE J times that, J = J(48)
    j48 = gamma(24) / (math.sqrt(24) * gamma(23.5))
    smd = data.factor("smd")
    assert smd.yi[0] == pytest.approx(0.5 * j48, rel=1e-12)
    assert smd.vi[0] == pytest.approx(j48**2 * (1 / 20 + 1 / 30), rel=1e-12)


def test_or_value_and_sizes_converted_to_g(tmp_path: Path) -> None:
    """An OR with its value and group sizes only, in a factor pooled as g: d = log OR x sqrt(3)/pi (Chinn
    2000) with d's SE sqrt(1/n1 + 1/n2), as metaumbrella's .convert_OR_to_SMD leaves it (no CI: the SMD
    'value + sizes' situation), then g = J d."""
    from scipy.special import gamma

    x = read_umbrella(pd.DataFrame({
        "meta_review": "m", "factor": "x", "author": ["a", "b"], "year": 2001, "measure": ["OR", "SMD"],
        "value": [3.0, 0.5], "ci_lo": [None, 0.1], "ci_up": [None, 0.9], "n_cases": [25, 70],
        "n_controls": [35, 70]})).factor("x")
    j58 = gamma(29) / (math.sqrt(29) * gamma(28.5))
    assert x.yi[0] == pytest.approx(math.log(3.0) * math.sqrt(3) / math.pi * j58, rel=1e-12)
    assert x.vi[0] == pytest.approx(j58**2 * (1 / 25 + 1 / 35), rel=1e-12)


def test_excel_input_and_several_effects(tmp_path: Path, folder: Path) -> None:
    raw = pd.read_csv(folder / "df.OR.multi.csv")
    book = tmp_path / "multi.xlsx"
    raw.to_excel(book, index=False, sheet_name="data")
    from_xlsx = read_umbrella(book, sheet="data", r=0.6)
    from_csv = read_umbrella(folder / "df.OR.multi.csv", r=0.6)
    assert [f.name for f in from_xlsx.factors] == [f.name for f in from_csv.factors]
    for a, b in zip(from_xlsx.factors, from_csv.factors, strict=True):
        assert a.studies == b.studies and np.allclose(a.yi, b.yi) and np.allclose(a.vi, b.vi)
    dup = raw.copy()
    dup.loc[dup.author == "al-Hamad", "multiple_es"] = np.nan
    with pytest.raises(InputError, match="multiple_es") as info:
        read_umbrella(dup)
    assert info.value.line == 4  # al-Hamad's first row (spreadsheet row 4)
    with pytest.raises(InputError, match="file not found"):
        read_umbrella(tmp_path / "none.xlsx")
    with pytest.raises(InputError, match="compat"):
        read_umbrella(book, compat="metaumbrella-0.9")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="r must be"):
        read_umbrella(book, r=1.5)


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
