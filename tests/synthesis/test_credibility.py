"""Credibility classes: decision rules, switchable criteria, and the numbers' parity with metafor."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metareview.synthesis.credibility import CredibilityCriteria, assess, classify

BASE = {"cases": True, "p<1e-6": True, "p<1e-3": True, "p<0.05": True, "i2": True, "pi_excludes_null": True,
        "egger": True, "esb": True, "largest_significant": True}
C = CredibilityCriteria()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "I"),
        ({"i2": False}, "II"),
        ({"egger": False, "largest_significant": False}, "III"),
        ({"p<1e-6": False}, "III"),
        ({"p<1e-6": False, "p<1e-3": False}, "IV"),
        ({"cases": False}, "IV"),  # too few cases caps at IV however small p is
        ({"p<0.05": False, "p<1e-6": False, "p<1e-3": False}, "ns"),
        ({"esb": None, "egger": None}, "I"),  # switched-off criteria never block
    ],
)
def test_decision_rules(changes: dict, expected: str) -> None:
    assert classify(BASE | changes, C) == expected


def test_largest_study_can_be_required_for_class_i() -> None:
    strict = CredibilityCriteria(largest_significant="I and II")
    assert classify(BASE | {"largest_significant": False}, C) == "I"
    assert classify(BASE | {"largest_significant": False}, strict) == "III"


@pytest.fixture(scope="module")
def big() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    k = 30
    vi = rng.uniform(0.005, 0.05, k)
    yi = 0.4 + rng.normal(0, np.sqrt(vi))
    return yi, vi


@pytest.mark.metafor
def test_numbers_match_metafor(rscript: str, big: tuple[np.ndarray, np.ndarray]) -> None:
    from rharness import run_r

    yi, vi = big
    a = assess(yi, vi, n_cases=5000, name="sim")
    out = run_r(rscript, """
        m <- rma(yi, vi, method = "REML"); mt <- rma(yi, vi, method = "REML", test = "t")
        pr <- predict(mt)
        out <- list(b = c(m$b), lb = m$ci.lb, ub = m$ci.ub, p = m$pval,
                    i2q = 100 * (m$QE - (m$k - 1)) / m$QE,
                    pil = pr$pi.lb, piu = pr$pi.ub, egger = regtest(m, model = "lm")$pval)
    """, data={"yi": yi.tolist(), "vi": vi.tolist()})
    assert a.estimate == pytest.approx(out["b"], abs=1e-6)
    assert a.ci_lower == pytest.approx(out["lb"], abs=1e-6)
    assert a.ci_upper == pytest.approx(out["ub"], abs=1e-6)
    assert a.pvalue == pytest.approx(out["p"], rel=1e-5)
    assert a.i2 == pytest.approx(max(0.0, out["i2q"]), abs=1e-6)
    assert a.pi_lower == pytest.approx(out["pil"], abs=1e-6)
    assert a.pi_upper == pytest.approx(out["piu"], abs=1e-6)
    assert a.egger_p == pytest.approx(out["egger"], abs=1e-6)


def test_convincing_finding_and_switching_criteria(big: tuple[np.ndarray, np.ndarray]) -> None:
    yi, vi = big
    a = assess(yi, vi, n_cases=5000)
    checks = a.checks()
    assert checks["cases"] and checks["p<1e-6"] and checks["pi_excludes_null"] is not None
    class_i = ("i2", "pi_excludes_null", "egger", "esb")
    expected = "I" if all(checks[k] is not False for k in class_i) else "II"
    assert a.klass == expected
    assert assess(yi, vi, n_cases=900).klass == "IV"  # same data, too few cases
    assert assess(yi, vi, n_cases=900, criteria=CredibilityCriteria(min_cases=None)).klass == expected
    assert "class" in str(a) and a.to_dict()["class"] == a.klass


def test_excess_significance_not_estimable_gives_nan_not_an_error() -> None:
    # SMD without group sizes: metaumbrella imputes N from g and its SE; a study with SE 3 gives N = 0,
    # where d = g/J is undefined: the test is reported as not estimable (NaN), the class still computed
    a = assess([0.5, 0.2, 3.0], [0.04, 0.5, 9.0], n_cases=[30, 20, 2], name="x", measure="SMD")
    assert math.isnan(a.esb_p) and a.klass == "IV" and a.checks()["esb"] is False
