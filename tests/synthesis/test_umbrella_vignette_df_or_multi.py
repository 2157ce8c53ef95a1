"""metaumbrella 1.1.0's vignette, Example 4 ("Personalized" classification with multilevel data),
dataset ``df.OR.multi`` (several effects per study: ``multiple_es`` = "outcomes" or "groups").

Source: metaumbrella 1.1.0 (CRAN), "Vignette 2: conduct an umbrella review with metaumbrella", section
"Example 4": ``umbrella(df.OR.multi, mult.level = TRUE, r = 0.6)`` (and the same with an ``r`` column:
0.30 for el-Hariri, 0.60 for the other studies with several outcomes), the table printed by
``summary(umb.OR.multi_2)`` and ``summary(strat.pers2)`` with ``add.evidence(umb.OR.multi_1, criteria =
"Personalized", class_I = c(I2 = 20, egger_p = .10, largest_CI = "notnull", imprecision = 0.2), class_II =
c(I2 = 40, egger_p = .10, largest_CI = "notnull", imprecision = 0.4), class_III = c(I2 = 60, egger_p = .05,
largest_CI = "notnull", imprecision = 0.6), class_IV = c(I2 = 80, egger_p = .05, imprecision = 0.8))``.
Every number is copied from those tables as printed.

The largest study's CI of three factors (n-3 fatty acids, Carbohydrates, Vitamin D) is reproduced only with
``compat="metaumbrella-1.1.0"``: metaumbrella 1.1.0 gives every aggregated study of a factor the CI of the
first one (see :mod:`metareview.synthesis.umbrella_input`); by default each aggregated study keeps its own
CI, and the tests say which one that is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metareview.synthesis.credibility import assess_umbrella
from metareview.synthesis.evidence import add_evidence, umbrella_summary
from metareview.synthesis.umbrella_input import read_umbrella
from tests.synthesis.vignette import check_row

# summary(umb.OR.multi_2): per factor
COLS = ("n_studies", "total_n", "n_cases", "n_controls", "value", "value_CI", "eG", "p_value", "I2", "PI_eOR",
        "egger_p", "ESB_p", "JK_p", "largest_CI_eOR")
ROWS = {
    "n-3 fatty acids": (11, 4065, 1406, 2659, 0.86, "[0.673, 1.099]", -0.083, "2.29e-01", 67.73,
                        "[0.385, 1.919]",
                        "3.55e-01", "1.17e-02", "4.09e-01", "[0.367, 0.957]"),
    "Protein": (5, 2424, 1107, 1317, 0.644, "[0.447, 0.929]", -0.242, "1.85e-02", 70.297, "[0.212, 1.954]",
                "8.82e-01", "3.74e-01", "1.13e-01", "[0.454, 0.722]"),
    "Carbohydrates": (17, 5904, 2731, 3173, 1.043, "[0.922, 1.179]", 0.023, "5.03e-01", 35.502,
                      "[0.736, 1.478]",
                      "4.65e-03", "5.80e-01", "8.07e-01", "[0.618, 1.36]"),
    "Lipid": (32, 10063, 5091, 4972, 0.948, "[0.876, 1.025]", -0.03, "1.78e-01", 0, "[0.873, 1.028]",
              "4.81e-01", "8.83e-01", "2.51e-01", "[0.632, 1.356]"),
    "Dietary fiber": (6, 17562, 9044, 8518, 1.123, "[1.059, 1.19]", 0.064, "9.21e-05", 0, "[1.04, 1.211]",
                      "2.21e-01", "5.32e-01", "6.57e-04", "[1, 1.218]"),
    "Sodium": (2, 1702, 991, 711, 0.574, "[0.369, 0.894]", -0.306, "1.39e-02", 84.064, "[0.005, 62.804]",
               "NaN", "1.56e-01", "2.56e-03", "[0.573, 0.889]"),
    "Zinc": (31, 10232, 4919, 5313, 0.887, "[0.821, 0.959]", -0.066, "2.51e-03", 0, "[0.818, 0.962]",
             "1.28e-01", "9.47e-01", "6.02e-03", "[0.655, 1.375]"),
    "Vitamin D": (8, 1677, 879, 798, 1.203, "[0.965, 1.5]", 0.102, "1.01e-01", 6.171, "[0.817, 1.771]",
                  "2.76e-01", "8.35e-01", "3.29e-01", "[0.591, 1.303]"),
}
# summary(strat.pers2): Class
PERSONALISED = {"Dietary fiber": "I", "Vitamin D": "IV", "Lipid": "IV", "Zinc": "IV", "n-3 fatty acids": "IV",
                "Protein": "IV", "Carbohydrates": "V", "Sodium": "V"}
STRAT = {"class_I": {"I2": 20, "egger_p": .10, "largest_CI": "notnull", "imprecision": 0.2},
         "class_II": {"I2": 40, "egger_p": .10, "largest_CI": "notnull", "imprecision": 0.4},
         "class_III": {"I2": 60, "egger_p": .05, "largest_CI": "notnull", "imprecision": 0.6},
         "class_IV": {"I2": 80, "egger_p": .05, "imprecision": 0.8}}


@pytest.fixture(scope="module")
def path(shared_data: Path) -> Path:
    return shared_data / "umbrella" / "metaumbrella" / "df.OR.multi.csv"


@pytest.fixture(scope="module")
def compat(path: Path):  # type: ignore[no-untyped-def]
    return assess_umbrella(read_umbrella(path, r=0.6, compat="metaumbrella-1.1.0"))


@pytest.fixture(scope="module")
def default(path: Path):  # type: ignore[no-untyped-def]
    return assess_umbrella(read_umbrella(path, r=0.6))


def test_summary_as_printed_with_metaumbrella_compat(compat) -> None:  # type: ignore[no-untyped-def]
    summary = umbrella_summary(compat).set_index("factor", drop=False)
    bad = [m for f, vals in ROWS.items()
           for m in check_row(summary.loc[f], dict(zip(COLS, vals, strict=True)))]
    assert not bad, bad


def test_default_differs_only_in_the_largest_study_ci(default, compat) -> None:  # type: ignore[no-untyped-def]
    a, b = umbrella_summary(default), umbrella_summary(compat)
    same = [c for c in a.columns if not c.startswith("largest_") and c != "perc_contradict"]
    pd.testing.assert_frame_equal(a[same], b[same])
    summary = a.set_index("factor", drop=False)
    # every printed value but the largest study's CI of three factors
    printed = {f: dict(zip(COLS[:-1], vals[:-1], strict=True)) for f, vals in ROWS.items()}
    assert not [m for f, p in printed.items() for m in check_row(summary.loc[f], p)]
    # by default the largest study is the one with most participants, with its own CI: Dauthard 2005
    # (two groups, 712 participants) for n-3 fatty acids, Wagner 1986 (four groups, 455) for Vitamin D
    assert default["n-3 fatty acids"].largest_study == "Dauthard 2005"
    assert default["Vitamin D"].largest_study == "Wagner 1986"
    assert round(np.exp(default["Vitamin D"].largest_ci_lower), 3) == 0.976


def test_r_argument_or_column_give_the_same(path: Path, default) -> None:  # type: ignore[no-untyped-def]
    frame = pd.read_csv(path)
    outcomes = np.where(frame.multiple_es == "outcomes", 0.60, np.nan)
    frame["r"] = np.where(frame.author == "el-Hariri", 0.30, outcomes)
    via_column = assess_umbrella(read_umbrella(frame))  # r = 0.5 default never used: every study has one
    pd.testing.assert_frame_equal(umbrella_summary(via_column), umbrella_summary(default))


def test_personalised_classes_as_printed(default, compat) -> None:  # type: ignore[no-untyped-def]
    assert add_evidence(compat, "Personalized", **STRAT).classes() == {f: PERSONALISED[f] for f in ROWS}
    assert add_evidence(default, "Personalized", **STRAT).classes() == {f: PERSONALISED[f] for f in ROWS}


def test_aggregation_follows_borenstein(path: Path) -> None:
    raw = pd.read_csv(path)
    data = read_umbrella(path, r=0.6)
    f = data.factor("n-3 fatty acids")
    rows = raw[(raw.factor == "n-3 fatty acids") & (raw.author == "al-Hamad")]
    y = np.log(rows.value.to_numpy())
    se = (np.log(rows.ci_up) - np.log(rows.ci_lo)).to_numpy() / (2 * 1.959963984540054)
    i = f.studies.index("al-Hamad 1993")
    # Borenstein et al. 2009 eq. 24.6: var(mean) = (1/m)^2 (sum v_i + sum_{i != j} r sqrt(v_i v_j))
    var = (np.sum(se**2) + 0.6 * (np.sum(np.outer(se, se)) - np.sum(se**2))) / 9
    assert f.yi[i] == pytest.approx(y.mean(), abs=1e-12) and f.vi[i] == pytest.approx(var, abs=1e-12)
    d = raw[(raw.factor == "n-3 fatty acids") & (raw.author == "Dauthard")]
    w = 1 / ((np.log(d.ci_up) - np.log(d.ci_lo)).to_numpy() / (2 * 1.959963984540054)) ** 2
    j = f.studies.index("Dauthard 2005")
    # ch. 23, independent subgroups: the inverse-variance mean
    assert f.yi[j] == pytest.approx(np.sum(w * np.log(d.value)) / w.sum(), abs=1e-12)
    assert f.vi[j] == pytest.approx(1 / w.sum(), abs=1e-12)
    assert f.n_cases[j] == (d.n_cases_exp + d.n_cases_nexp).sum()
