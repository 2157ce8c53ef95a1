"""metaumbrella 1.1.0's vignette, Example 1 ("Ioannidis" classification), dataset ``df.OR``.

Source: metaumbrella 1.1.0 (CRAN), "Vignette 2: conduct an umbrella review with metaumbrella",
section "Example 1", the tables printed by ``summary(umbrella(df.OR))`` and
``summary(add.evidence(umb.OR, criteria = "Ioannidis"))``. Every number below is copied from those
tables as printed (3 decimals; p-values with 3 significant digits). The GRADE levels are not printed for
this dataset: they are derived by hand (in the comment) from the printed numbers and the rules of
metaumbrella's manual (``?add.evidence``, "GRADE" classification).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metareview.synthesis.credibility import CredibilityCriteria, assess_umbrella
from metareview.synthesis.evidence import add_evidence, umbrella_forest_data, umbrella_summary
from metareview.synthesis.umbrella_input import read_umbrella
from tests.synthesis.vignette import check_row

# summary(umb.OR) (vignette Example 1, first table) and summary(strat.io) (second table: Class)
PRINTED = {
    "ADHD": {"n_studies": 10, "total_n": 2107, "n_cases": 987, "n_controls": 1120, "measure": "OR",
             "value": 1.526, "value_CI": "[1.043, 2.231]", "eG": 0.233, "eG_CI": "[0.023, 0.443]",
             "eOR": 1.526, "p_value": "2.94e-02", "I2": 70.886, "PI_eG": "[-0.456, 0.922]",
             "PI_eOR": "[0.437, 5.327]", "egger_p": "4.84e-01", "ESB_p": "3.75e-01", "power_med": 100,
             "JK_p": "7.97e-02", "largest_CI_eG": "[-0.354, 0.376]", "largest_CI_eOR": "[0.527, 1.978]"},
    "ASD": {"n_studies": 18, "total_n": 3839, "n_cases": 1967, "n_controls": 1872, "measure": "OR",
            "value": 1.02, "value_CI": "[0.778, 1.339]", "eG": 0.011, "eG_CI": "[-0.139, 0.161]",
            "eOR": 1.02, "p_value": "8.84e-01", "I2": 67.742, "PI_eG": "[-0.572, 0.594]",
            "PI_eOR": "[0.354, 2.939]", "egger_p": "5.06e-01", "ESB_p": "1.68e-01", "power_med": 100,
            "JK_p": "9.63e-01", "largest_CI_eG": "[-0.569, 0.198]", "largest_CI_eOR": "[0.356, 1.433]"},
    "dyslexia": {"n_studies": 7, "total_n": 1282, "n_cases": 626, "n_controls": 656, "measure": "OR",
                 "value": 1.498, "value_CI": "[1.004, 2.236]", "eG": 0.223, "eG_CI": "[0.002, 0.444]",
                 "eOR": 1.498, "p_value": "4.80e-02", "I2": 60.556, "PI_eG": "[-0.409, 0.855]",
                 "PI_eOR": "[0.476, 4.714]", "egger_p": "2.29e-01", "ESB_p": "5.47e-01", "power_med": 100,
                 "JK_p": "1.30e-01", "largest_CI_eG": "[0.026, 0.72]", "largest_CI_eOR": "[1.048, 3.692]"},
    "ID": {"n_studies": 25, "total_n": 5239, "n_cases": 2586, "n_controls": 2653, "measure": "OR",
           "value": 1.355, "value_CI": "[1.078, 1.703]", "eG": 0.167, "eG_CI": "[0.041, 0.293]",
           "eOR": 1.355, "p_value": "9.21e-03", "I2": 67.231, "PI_eG": "[-0.393, 0.727]",
           "PI_eOR": "[0.491, 3.741]", "egger_p": "6.00e-01", "ESB_p": "4.61e-01", "power_med": 100,
           "JK_p": "2.10e-02", "largest_CI_eG": "[-0.06, 0.597]", "largest_CI_eOR": "[0.897, 2.952]"},
}
# summary(strat.io): Class column; also its largest_sign column (the largest study's CI excludes 1)
CLASSES = {"ADHD": "IV", "ASD": "ns", "dyslexia": "IV", "ID": "IV"}
LARGEST_SIGN = {"ADHD": "null", "ASD": "null", "dyslexia": "notnull", "ID": "null"}


@pytest.fixture(scope="module")
def table(shared_data: Path):  # type: ignore[no-untyped-def]
    return assess_umbrella(read_umbrella(shared_data / "umbrella" / "metaumbrella" / "df.OR.csv"))


def test_summary_table_as_printed(table) -> None:  # type: ignore[no-untyped-def]
    summary = umbrella_summary(table).set_index("factor", drop=False)
    bad = [msg for f, printed in PRINTED.items() for msg in check_row(summary.loc[f], printed)]
    assert not bad, bad


def test_ioannidis_classes_as_printed(table) -> None:  # type: ignore[no-untyped-def]
    assert add_evidence(table, "Ioannidis").classes() == CLASSES
    assert {a.name: a.largest_direction for a in table.assessments} == LARGEST_SIGN
    assert table.counts() == {"I": 0, "II": 0, "III": 0, "IV": 3, "ns": 1}


def test_esb_default_tesspsst_old_test_an_option(table, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    # issue 13: ADHD's excess-significance p was 0.001 with the earlier default (Ioannidis & Trikalinos,
    # theta = the largest study); metaumbrella's default (TESSPSST, UWLS) gives the printed 0.375
    assert table.criteria.esb_method == "TESSPSST" and table.criteria.esb_theta == "UWLS"
    assert round(table["ADHD"].esb_p, 3) == 0.375
    data = read_umbrella(shared_data / "umbrella" / "metaumbrella" / "df.OR.csv")
    it = CredibilityCriteria(esb_method="IT", esb_theta="largest", largest_by="precision")
    old = assess_umbrella(data, it)
    assert old["ADHD"].esb_method == "IT" and old["ADHD"].esb_p < 0.01


def test_grade_levels_derived_from_the_printed_numbers(table) -> None:  # type: ignore[no-untyped-def]
    # Not printed by the vignette for df.OR. By metaumbrella's rules: df.OR has no 'rob' column (risk of
    # bias not reported: -2) and no 'indirectness' column (assumed very serious: -2), so every factor has
    # at least 4 downgrades: "Very weak". ASD's CI [0.778, 1.339] and PI [0.354, 2.939] both straddle the
    # 0.8-1.25 range (CINeMA row 7: no downgrade), the other three have a CI excluding the null or within
    # the range with a PI reaching below 0.8 (-2 or -1).
    grade = add_evidence(table, "GRADE")
    assert grade.classes() == dict.fromkeys(CLASSES, "Very weak")
    downs = {g.name: (g.risk_of_bias, g.indirectness) for g in grade.grades}
    assert downs == dict.fromkeys(CLASSES, (2, 2))
    assert grade.grades[1].inconsistency == 0  # ASD


def test_forest_data_one_row_per_factor(table) -> None:  # type: ignore[no-untyped-def]
    data = umbrella_forest_data(table).set_index("factor")
    assert list(data.index) == list(PRINTED)
    assert data.loc["ADHD", "class"] == "IV" and data.loc["ADHD", "criteria"] == "Ioannidis"
    assert round(data.loc["ADHD", "estimate"], 3) == 1.526 and round(data.loc["ADHD", "pi_upper"], 3) == 5.327
    assert round(data.loc["ID", "eG_ci_lower"], 3) == 0.041
