"""metaumbrella 1.1.0's vignette, Example 3 ("Personalized" classification), dataset ``df.SMD``.

Source: metaumbrella 1.1.0 (CRAN), "Vignette 2: conduct an umbrella review with metaumbrella", section
"Example 3", the tables printed by ``summary(umbrella(df.SMD))`` and ``summary(strat.pers1)`` with
``add.evidence(umb.SMD, criteria = "Personalized", class_I = c(n_cases = 800, esb_p = .10, rob = 80),
class_II = c(n_cases = 500, esb_p = .05, rob = 65), class_III = c(n_cases = 200, esb_p = .01, rob = 50),
class_IV = c(n_cases = 100, rob = 35))``. Every number is copied from those tables as printed. The
Ioannidis classes and GRADE levels are not printed for df.SMD: derived by hand (comments).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metareview.synthesis.credibility import assess_umbrella
from metareview.synthesis.evidence import PersonalisedCriteria, add_evidence, umbrella_summary
from metareview.synthesis.umbrella_input import read_umbrella
from tests.synthesis.vignette import check_row

PRINTED = {
    "Pharmacological": {
        "n_studies": 21, "total_n": 9010, "n_cases": 4299, "n_controls": 4711, "measure": "G", "value": 0.745,
        "value_CI": "[0.393, 1.097]", "eG": 0.745, "eOR": 3.861, "eOR_CI": "[2.039, 7.31]",
        "p_value": "3.35e-05", "I2": 98.108, "PI_eG": "[-0.992, 2.481]", "PI_eOR": "[0.166, 90.063]",
        "egger_p": "3.28e-01", "ESB_p": "5.04e-01", "power_med": 100, "JK_p": "1.30e-04",
        "largest_CI_eG": "[1.23, 1.553]", "largest_CI_eOR": "[9.305, 16.731]", "amstar": 14},
    "Surgical": {
        "n_studies": 12, "total_n": 4129, "n_cases": 1959, "n_controls": 2170, "measure": "G",
        "value": -0.056,
        "value_CI": "[-0.291, 0.18]", "eG": -0.056, "eOR": 0.904, "eOR_CI": "[0.59, 1.387]",
        "p_value": "6.44e-01", "I2": 89.659, "PI_eG": "[-0.961, 0.85]", "PI_eOR": "[0.175, 4.677]",
        "egger_p": "6.19e-01", "ESB_p": "9.43e-06", "power_med": 100, "JK_p": "9.37e-01",
        "largest_CI_eG": "[-0.345, -0.052]", "largest_CI_eOR": "[0.535, 0.91]", "amstar": 8},
}
ROB = {"Pharmacological": 42.76, "Surgical": 41.87}  # printed with 2 decimals
PERSONALISED = PersonalisedCriteria(class_I={"n_cases": 800, "esb_p": .10, "rob": 80},
                                    class_II={"n_cases": 500, "esb_p": .05, "rob": 65},
                                    class_III={"n_cases": 200, "esb_p": .01, "rob": 50},
                                    class_IV={"n_cases": 100, "rob": 35})


@pytest.fixture(scope="module")
def table(shared_data: Path):  # type: ignore[no-untyped-def]
    return assess_umbrella(read_umbrella(shared_data / "umbrella" / "metaumbrella" / "df.SMD.csv"))


def test_summary_as_printed(table) -> None:  # type: ignore[no-untyped-def]
    summary = umbrella_summary(table).set_index("factor", drop=False)
    bad = [msg for f, printed in PRINTED.items() for msg in check_row(summary.loc[f], printed)]
    assert not bad, bad
    assert {f: round(summary.loc[f, "rob"], 2) for f in ROB} == ROB


def test_personalised_classes_as_printed(table) -> None:  # type: ignore[no-untyped-def]
    # summary(strat.pers1): Class IV and IV (rob 42.76% / 41.87% <= 50% rules out classes I-III)
    ev = add_evidence(table, "Personalized", personalised=PERSONALISED)
    assert ev.classes() == {"Pharmacological": "IV", "Surgical": "IV"}
    # the vignette's first step, n_cases thresholds only (800/500/200/100): both factors > 800 cases
    only_n = add_evidence(table, "Personalised", class_I={"n_cases": 800}, class_II={"n_cases": 500},
                          class_III={"n_cases": 200}, class_IV={"n_cases": 100})
    assert set(only_n.classes().values()) == {"I"}
    assert ev.counts() == {"I": 0, "II": 0, "III": 0, "IV": 2, "V": 0}
    assert list(ev.to_frame()["class"]) == ["IV", "IV"]


def test_classes_and_grade_derived_from_the_printed_numbers(table) -> None:  # type: ignore[no-untyped-def]
    # Ioannidis: Pharmacological 4299 cases, p = 3.35e-05 (>= 1e-6, < 1e-3): III; Surgical p = 0.644: ns
    assert add_evidence(table, "Ioannidis").classes() == {"Pharmacological": "III", "Surgical": "ns"}
    # GRADE: rob < 50% (-2) and no indirectness column (-2): Very weak for both
    grade = add_evidence(table, "GRADE")
    assert grade.classes() == {"Pharmacological": "Very weak", "Surgical": "Very weak"}
    assert [g.risk_of_bias for g in grade.grades] == [2, 2]
    # Surgical: ESB p = 9.43e-06 <= .10 (-1 publication bias); Pharmacological: Egger .328 and ESB .504 (0)
    assert [g.publication_bias for g in grade.grades] == [0, 1]
