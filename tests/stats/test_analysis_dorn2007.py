"""Test of excess significance for the placebo-controlled trials of complementary and alternative
medicine in irritable bowel syndrome.

Data: ``dat.dorn2007`` (R package metadat; Dorn et al. 2007, Neurogastroenterol Motil 19:630-637):
responders ``x.a``/``n.a`` (active) and ``x.p``/``n.p`` (placebo) in 19 trials, typed in below; log
risk ratios as metafor's ``escalc(measure = "RR")`` computes them.

Expected values: metafor 3.8.1 running the example of ``help(tes)`` (``tes(yi, vi, test = "chi2")``)
and the same call with the default (exact) and binomial tests and on ``rma(yi, vi)``; the call is
named beside each value.
"""

from __future__ import annotations

import numpy as np
import pytest

from metareview.stats import StatsInputError, excess_significance, meta

XA = [29, 20, 14, 17, 11, 24, 26, 17, 4, 21, 15, 37, 13, 19, 29, 13, 25, 37, 55]
NA = [38, 31, 23, 30, 27, 29, 32, 18, 12, 60, 17, 51, 33, 20, 50, 16, 33, 57, 90]
XP = [11, 21, 30, 5, 6, 5, 9, 13, 5, 26, 8, 20, 17, 3, 30, 5, 8, 17, 37]
NP = [32, 30, 46, 13, 23, 29, 22, 18, 13, 59, 17, 52, 33, 20, 46, 16, 26, 50, 90]

TOL = 5e-5


def _log_rr() -> tuple[np.ndarray, np.ndarray]:
    a, n1, c, n2 = (np.asarray(x, dtype=float) for x in (XA, NA, XP, NP))
    return np.log(a / n1) - np.log(c / n2), 1 / a - 1 / n1 + 1 / c - 1 / n2


YI, VI = _log_rr()


def test_chi2_test_help_example():
    res = excess_significance(YI, VI, test="chi2")
    assert res.k == 19 and res.observed == 10  # metafor 3.8.1 tes(yi, vi, test="chi2")
    assert res.expected == pytest.approx(4.9233, abs=TOL)  # metafor 3.8.1 tes(yi, vi, test="chi2")
    assert res.ratio == pytest.approx(2.0311, abs=TOL)  # metafor 3.8.1 tes(yi, vi, test="chi2")
    assert res.statistic == pytest.approx(7.0656, abs=TOL)  # metafor 3.8.1 tes(yi, vi, test="chi2")
    assert res.pvalue == pytest.approx(0.0039, abs=TOL)  # metafor 3.8.1 tes(yi, vi, test="chi2")
    assert res.theta == pytest.approx(0.3123, abs=TOL)  # metafor 3.8.1 tes(yi, vi, test="chi2")
    assert res.theta_lim[0] == pytest.approx(0.4062, abs=5e-4)  # metafor 3.8.1 (uniroot, tol 1e-4)
    assert "Test of Excess Significance: p = 0.0039 (X^2 = 7.0656, df = 1)" in str(res)


def test_default_exact_and_binomial_tests():
    exact = excess_significance(YI, VI)
    assert exact.test == "exact"  # metafor 3.8.1 tes(yi, vi): sum of choose(19, 10:19) <= 1e6
    assert exact.pvalue == pytest.approx(0.0078, abs=TOL)  # metafor 3.8.1 tes(yi, vi)
    assert exact.theta_lim[0] == pytest.approx(0.3971, abs=5e-4)  # metafor 3.8.1 tes(yi, vi)
    binom = excess_significance(YI, VI, test="binom")
    assert binom.pvalue == pytest.approx(0.0116, abs=TOL)  # metafor 3.8.1 tes(yi, vi, test="binom")


def test_random_effects_power_integrates_over_tau2():
    fit = meta(YI, VI)
    res = excess_significance(YI, VI, theta=fit.estimate, tau2=fit.tau2)
    assert res.theta == pytest.approx(0.4214, abs=TOL)  # metafor 3.8.1 tes(rma(yi, vi))
    assert res.expected == pytest.approx(8.3802, abs=TOL)  # metafor 3.8.1 tes(rma(yi, vi))
    assert res.pvalue == pytest.approx(0.2917, abs=TOL)  # metafor 3.8.1 tes(rma(yi, vi))
    assert res.theta_lim[0] == pytest.approx(0.2749, abs=5e-4)  # metafor 3.8.1 tes(rma(yi, vi))
    quartiles = np.quantile(res.power, [0, 0.25, 0.5, 0.75, 1])
    # metafor 3.8.1 quantile(tes(rma(yi, vi))$power)
    np.testing.assert_allclose(quartiles, [0.189616, 0.293250, 0.440247, 0.569010, 0.662240], atol=1e-5)


def test_bad_options():
    with pytest.raises(StatsInputError):
        excess_significance(YI, VI, test="fisher")
    with pytest.raises(StatsInputError):
        excess_significance(YI, VI, alpha=1.5)
