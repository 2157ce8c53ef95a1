"""Risk of bias into GRADE (share of weight at low risk) and the sensitivity analysis excluding high risk."""

from __future__ import annotations

import pytest
from rharness import run_r

from metareview.errors import InputError
from metareview.extraction import rob1, rob2
from metareview.synthesis.grade import grade_rating
from metareview.synthesis.risk_of_bias import rob_low_pct, rob_shares, sensitivity_excluding_high

LOW = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y",
       "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}


def test_low_share_by_weight_feeds_grade():
    forms = [rob2.assess(LOW, study="a", weight=40), rob2.assess(LOW | {"5.1": "N"}, study="b", weight=30),
             rob2.assess(LOW | {"1.2": "N"}, study="c", weight=30)]
    assert rob_shares(forms) == {"low": 40.0, "some concerns": 30.0, "high": 30.0}
    pct = rob_low_pct(forms)
    assert pct == 40.0
    # grade.py's rule: < 50% of the weight at low risk -> very serious (-2)
    assert grade_rating(i2=0, n_cases=5000, n_controls=5000, egger_p=0.5, rob_low_pct=pct).risk_of_bias == 2
    assert rob_low_pct(forms, weights=[80, 10, 10]) == 80.0
    r1 = rob1.assess(dict.fromkeys(rob1.DOMAINS, "low") | {"blinding_outcome": "unclear"})
    assert rob_low_pct([r1, "low"]) == 50.0


def test_bad_input():
    with pytest.raises(InputError, match="not allowed"):
        rob_low_pct(["moderate"])
    with pytest.raises(InputError, match="weights"):
        rob_low_pct(["low", "high"], weights=[1, -1])
    with pytest.raises(InputError, match="3 effects"):
        sensitivity_excluding_high([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], ["low"])


def test_sensitivity_matches_metafor_subset(rscript):
    yi = [0.10, 0.35, -0.05, 0.60, 0.25]
    vi = [0.020, 0.030, 0.015, 0.050, 0.025]
    js = ["low", "some concerns", "low", "high", "high"]
    res = sensitivity_excluding_high(yi, vi, js, method="REML")
    assert res.excluded == (3, 4)
    out = run_r(rscript, "f <- rma(yi, vi, method='REML'); s <- rma(yi, vi, method='REML', "
                "subset = rob != 'high'); out <- list(b = c(f$b), bs = c(s$b), ses = s$se)",
                data={"yi": yi, "vi": vi, "rob": js})
    assert res.all_studies.estimate == pytest.approx(out["b"], abs=1e-6)
    assert res.excluding_high is not None and res.excluding_high.k == 3
    assert res.excluding_high.estimate == pytest.approx(out["bs"], abs=1e-6)
    assert res.excluding_high.se == pytest.approx(out["ses"], abs=1e-6)
    assert sensitivity_excluding_high(yi[3:], vi[3:], js[3:]).excluding_high is None
