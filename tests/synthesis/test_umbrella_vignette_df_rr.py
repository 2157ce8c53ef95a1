"""metaumbrella 1.1.0's vignette, Example 2 ("GRADE" classification), dataset ``df.RR``.

Source: metaumbrella 1.1.0 (CRAN), "Vignette 2: conduct an umbrella review with metaumbrella", section
"Example 2", the tables printed by ``summary(umbrella(df.RR))`` and
``summary(add.evidence(umb.RR, criteria = "GRADE"))``. Every number is copied from those tables as printed.
The Ioannidis class is not printed for df.RR: it is derived by hand from the printed numbers (comment).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metareview.synthesis.credibility import assess_umbrella
from metareview.synthesis.evidence import add_evidence, umbrella_summary
from metareview.synthesis.umbrella_input import read_umbrella
from tests.synthesis.vignette import check_row

# summary(umb.RR)
PRINTED = {"n_studies": 51, "total_n": 6138, "n_cases": 4107, "n_controls": 2031, "measure": "RR",
           "value": 0.777, "value_CI": "[0.728, 0.829]", "eG": -0.139, "eG_CI": "[-0.175, -0.104]",
           "eOR": 0.777, "eOR_CI": "[0.728, 0.829]", "p_value": "2.19e-14", "I2": 65.767,
           "PI_eG": "[-0.353, 0.074]", "PI_eOR": "[0.527, 1.144]", "egger_p": "1.21e-04", "ESB_p": "1.27e-02",
           "power_med": 100, "JK_p": "1.27e-13", "largest_CI_eG": "[-0.251, -0.047]",
           "largest_CI_eOR": "[0.635, 0.918]"}
# summary(strat.grade): Class "Very weak", perc_contradict 0, egger_sign "sig.", ESB_sign "sig.",
# report_rob None, rob 34.08, power "Low es = 100; Med. es = 100; Large es = 100"


@pytest.fixture(scope="module")
def table(shared_data: Path):  # type: ignore[no-untyped-def]
    return assess_umbrella(read_umbrella(shared_data / "umbrella" / "metaumbrella" / "df.RR.csv"))


def test_summary_as_printed(table) -> None:  # type: ignore[no-untyped-def]
    row = umbrella_summary(table).iloc[0]
    assert row["factor"] == "SSRI"
    bad = check_row(row, PRINTED)
    assert not bad, bad
    assert round(row["rob"], 2) == 34.08  # printed with 2 decimals (round(x, 2))


def test_grade_as_printed(table) -> None:  # type: ignore[no-untyped-def]
    grade = add_evidence(table, "GRADE")
    assert grade.classes() == {"SSRI": "Very weak"}
    g = grade.grades[0]
    a = table["SSRI"]
    assert a.perc_contradict == 0  # printed perc_contradict = 0
    assert a.egger_p < 0.05 and a.esb_p < 0.05  # printed egger_sign / ESB_sign "sig."
    assert round(100 * g.power_smd_02) == 100 and round(100 * g.power_smd_05) == 100  # printed power
    # the downgrades behind it, by metaumbrella's rules: rob 34.08% (< 50%: -2); no indirectness column
    # (-2); Egger and ESB p <= .10 (-1); CI [0.728, 0.829] below 1 with the PI [0.527, 1.144] reaching
    # above 1 but within the 0.80-1.25 range (CINeMA row 4b: -1); 4107 cases and 2031 controls (>= 394)
    downs = (g.risk_of_bias, g.indirectness, g.publication_bias, g.inconsistency, g.imprecision, g.small_k)
    assert downs == (2, 2, 1, 1, 0, 0)
    assert g.label == "Very weak" and g.level == "very low"


def test_ioannidis_class_derived_from_the_printed_numbers(table) -> None:  # type: ignore[no-untyped-def]
    # 4107 cases > 1000, p = 2.19e-14 < 1e-6; not class I (I2 65.8% >= 50%, PI includes 1, Egger p < .05);
    # the largest study's CI [0.635, 0.918] excludes 1 on the pooled side: class II
    assert add_evidence(table, "Ioannidis").classes() == {"SSRI": "II"}
