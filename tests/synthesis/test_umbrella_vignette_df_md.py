"""metaumbrella 1.1.0's dataset ``df.MD`` (mean differences).

metaumbrella's vignette does not print a table for ``df.MD``. It holds the same 33 studies as ``df.SMD``
(same factors, authors, years, group sizes, means, SDs, risk of bias and AMSTAR; checked below), and
metaumbrella pools an MD factor on the Hedges' g scale computed from the means and SDs (its vignette
"Details on calculations": "G and MD are systematically converted into a SMD"; ``summary(raw_md = FALSE)``
is the default), which for these studies gives the g and SE that ``df.SMD``'s reported d and SE give. So
``summary(umbrella(df.MD))`` is the table the vignette prints for ``df.SMD`` (Example 3,
``summary(umbrella(df.SMD))``): those printed values are the expected values here. The pooled raw mean
difference (metaumbrella's ``raw_md = TRUE``) is checked against metafor itself
(``rma(measure = "MD", method = "REML")``, run below).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rharness import run_r

from metareview.synthesis.credibility import assess_umbrella
from metareview.synthesis.evidence import add_evidence, umbrella_summary
from metareview.synthesis.umbrella_input import read_umbrella
from tests.synthesis.vignette import check_row

# the vignette's summary(umbrella(df.SMD)) (Example 3), see the module docstring
PRINTED = {
    "Pharmacological": {
        "n_studies": 21, "total_n": 9010, "n_cases": 4299, "n_controls": 4711, "measure": "G", "value": 0.745,
        "value_CI": "[0.393, 1.097]", "eOR": 3.861, "eOR_CI": "[2.039, 7.31]", "p_value": "3.35e-05",
        "I2": 98.108, "PI_eG": "[-0.992, 2.481]", "PI_eOR": "[0.166, 90.063]", "egger_p": "3.28e-01",
        "ESB_p": "5.04e-01", "power_med": 100, "JK_p": "1.30e-04", "largest_CI_eG": "[1.23, 1.553]",
        "amstar": 14},
    "Surgical": {
        "n_studies": 12, "total_n": 4129, "n_cases": 1959, "n_controls": 2170, "measure": "G",
        "value": -0.056,
        "value_CI": "[-0.291, 0.18]", "eOR": 0.904, "eOR_CI": "[0.59, 1.387]", "p_value": "6.44e-01",
        "I2": 89.659, "PI_eG": "[-0.961, 0.85]", "PI_eOR": "[0.175, 4.677]", "egger_p": "6.19e-01",
        "ESB_p": "9.43e-06", "power_med": 100, "JK_p": "9.37e-01", "largest_CI_eG": "[-0.345, -0.052]",
        "amstar": 8},
}
SAME = ["factor", "author", "year", "n_cases", "n_controls", "mean_cases", "sd_cases", "mean_controls",
        "sd_controls", "rob", "amstar"]


@pytest.fixture(scope="module")
def folder(shared_data: Path) -> Path:
    return shared_data / "umbrella" / "metaumbrella"


@pytest.fixture(scope="module")
def table(folder: Path):  # type: ignore[no-untyped-def]
    return assess_umbrella(read_umbrella(folder / "df.MD.csv"))


def test_df_md_holds_the_studies_of_df_smd(folder: Path) -> None:
    md, smd = pd.read_csv(folder / "df.MD.csv"), pd.read_csv(folder / "df.SMD.csv")
    pd.testing.assert_frame_equal(md[SAME], smd[SAME])
    assert set(md.measure) == {"MD"} and set(smd.measure) == {"SMD"}


def test_summary_equals_the_printed_df_smd_table(table) -> None:  # type: ignore[no-untyped-def]
    summary = umbrella_summary(table).set_index("factor", drop=False)
    bad = [msg for f, printed in PRINTED.items() for msg in check_row(summary.loc[f], printed)]
    assert not bad, bad
    assert {a.input_measure for a in table.assessments} == {"MD"}
    # the same classes as df.SMD (Ioannidis III / ns; Personalised of the vignette's Example 3: IV / IV)
    assert add_evidence(table, "Ioannidis").classes() == {"Pharmacological": "III", "Surgical": "ns"}
    ev = add_evidence(table, "Personalised", class_I={"n_cases": 800, "esb_p": .10, "rob": 80},
                      class_II={"n_cases": 500, "esb_p": .05, "rob": 65},
                      class_III={"n_cases": 200, "esb_p": .01, "rob": 50},
                      class_IV={"n_cases": 100, "rob": 35})
    assert ev.classes() == {"Pharmacological": "IV", "Surgical": "IV"}
    assert set(add_evidence(table, "GRADE").classes().values()) == {"Very weak"}  # rob < 50%, no indirectness


@pytest.mark.metafor
def test_pooled_raw_mean_difference_matches_metafor(table, folder: Path, rscript: str) -> None:  # type: ignore[no-untyped-def]
    raw = pd.read_csv(folder / "df.MD.csv")
    out = run_r(rscript, """
        es <- escalc(measure = "MD", m1i = mean_cases, sd1i = sd_cases, n1i = n_cases,
                     m2i = mean_controls, sd2i = sd_controls, n2i = n_controls)
        res <- lapply(split(seq_len(nrow(es)), factor), function(i) {
          f <- rma(es$yi[i], es$vi[i], method = "REML"); c(f$b, f$ci.lb, f$ci.ub) })
        out <- list(names = names(res), fits = unname(res))
    """, data={c: raw[c].tolist() for c in ["factor", "mean_cases", "sd_cases", "n_cases", "mean_controls",
                                              "sd_controls", "n_controls"]})
    for name, (b, lo, hi) in zip(out["names"], out["fits"], strict=True):
        a = table[name]
        assert np.allclose([a.md_estimate, a.md_ci_lower, a.md_ci_upper], [b, lo, hi], atol=1e-6)
