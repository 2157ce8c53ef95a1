"""Egger's test and trim-and-fill for the intravenous magnesium trials in acute myocardial infarction.

Data: ``dat.egger2001`` (R package metadat; Egger, Davey Smith & Altman (eds.) 2001, Systematic Reviews
in Health Care, 2nd ed., BMJ Books: the 16 trials of magnesium, whose small early trials promised a
benefit that the large ISIS-4 trial did not confirm), typed in below. Log odds ratios as metafor's
``escalc(measure = "OR")`` computes them: 0.5 added to every cell of the trial with a zero cell
(Bertschat 1989).

Expected values: metafor 3.8.1 output (the book reports the tests graphically and to 2-3 decimals):
``regtest`` of the EE model (``model = "lm"``, the classical Egger test, and the default ``"rma"``)
and of the REML model, ``trimfill`` and ``ranktest``, for all 16 trials and for the 15 trials without
ISIS-4; the call is named beside each value.
"""

from __future__ import annotations

import numpy as np
import pytest

from metareview.stats import begg_test, egger_test, trimfill

AI = [1, 9, 2, 1, 10, 1, 1, 0, 6, 1, 2, 5, 4, 90, 4, 2216]
N1I = [40, 135, 200, 48, 150, 59, 25, 22, 76, 27, 89, 23, 130, 1159, 107, 29011]
CI = [2, 23, 7, 1, 8, 9, 3, 1, 11, 7, 12, 13, 8, 118, 17, 2103]
N2I = [36, 135, 200, 46, 148, 56, 23, 21, 75, 27, 80, 33, 122, 1157, 108, 29039]

TOL = 5e-5


def _log_or() -> tuple[np.ndarray, np.ndarray]:
    a, n1, c, n2 = (np.asarray(x, dtype=float) for x in (AI, N1I, CI, N2I))
    b, d = n1 - a, n2 - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (x + 0.5 * zero for x in (a, b, c, d))
    return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


YI, VI = _log_or()


def test_log_odds_ratios_as_escalc():
    assert YI[7] == pytest.approx(-1.1917, abs=TOL)  # metafor 3.8.1 escalc("OR"), Bertschat 1989
    assert VI[7] == pytest.approx(2.7599, abs=TOL)  # metafor 3.8.1 escalc("OR"), Bertschat 1989


def test_classical_egger_all_trials():
    res = egger_test(YI, VI, model="lm")
    assert res.df == 14
    assert res.statistic == pytest.approx(-5.7846, abs=TOL)  # metafor 3.8.1 regtest(EE, model="lm")
    assert res.pvalue == pytest.approx(0.0000, abs=TOL)  # metafor 3.8.1: 0.000047
    assert res.limit_estimate == pytest.approx(0.0996, abs=TOL)  # metafor 3.8.1 regtest(EE, model="lm")
    assert res.limit_ci_lower == pytest.approx(0.0273, abs=TOL)  # metafor 3.8.1 regtest(EE, model="lm")
    assert res.limit_ci_upper == pytest.approx(0.1720, abs=TOL)  # metafor 3.8.1 regtest(EE, model="lm")


def test_egger_fixed_and_random_all_trials():
    fixed = egger_test(YI, VI, method="EE")
    assert fixed.statistic == pytest.approx(-5.7600, abs=TOL)  # metafor 3.8.1 regtest(EE)
    assert fixed.limit_estimate == pytest.approx(0.0996, abs=TOL)  # metafor 3.8.1 regtest(EE)
    mixed = egger_test(YI, VI)
    assert mixed.statistic == pytest.approx(-4.6686, abs=TOL)  # metafor 3.8.1 regtest(REML)
    assert mixed.pvalue == pytest.approx(0.0000, abs=TOL)  # metafor 3.8.1: 0.000003
    assert mixed.limit_estimate == pytest.approx(0.0419, abs=TOL)  # metafor 3.8.1 regtest(REML)
    assert mixed.limit_ci_lower == pytest.approx(-0.1604, abs=TOL)  # metafor 3.8.1 regtest(REML)
    assert mixed.limit_ci_upper == pytest.approx(0.2443, abs=TOL)  # metafor 3.8.1 regtest(REML)


def test_trimfill_all_trials():
    res = trimfill(YI, VI)
    assert (res.k0, res.side) == (7, "right")  # metafor 3.8.1 trimfill(REML)
    assert res.se_k0 == pytest.approx(2.4452, abs=TOL)  # metafor 3.8.1 trimfill(REML)
    assert res.model.estimate == pytest.approx(-0.3915, abs=TOL)  # metafor 3.8.1 trimfill(REML)
    assert res.model.se == pytest.approx(0.2154, abs=TOL)  # metafor 3.8.1 trimfill(REML)
    assert res.model.ci_upper == pytest.approx(0.0306, abs=TOL)  # metafor 3.8.1 trimfill(REML)
    assert res.model.tau2 == pytest.approx(0.4829, abs=TOL)  # metafor 3.8.1 trimfill(REML)
    fixed = trimfill(YI, VI, method="EE")
    assert (fixed.k0, fixed.side) == (8, "right")  # metafor 3.8.1 trimfill(EE)
    assert fixed.se_k0 == pytest.approx(2.2434, abs=TOL)  # metafor 3.8.1 trimfill(EE)
    assert fixed.model.estimate == pytest.approx(0.0352, abs=TOL)  # metafor 3.8.1 trimfill(EE)
    assert fixed.model.ci_lower == pytest.approx(-0.0242, abs=TOL)  # metafor 3.8.1 trimfill(EE)


def test_rank_test_all_trials():
    res = begg_test(YI, VI)
    assert res.tau == pytest.approx(0.1500, abs=TOL)  # metafor 3.8.1 ranktest
    assert res.pvalue == pytest.approx(0.4503, abs=TOL)  # metafor 3.8.1 ranktest


def test_without_isis4():
    y, v = YI[:15], VI[:15]
    lm = egger_test(y, v, model="lm")
    assert lm.statistic == pytest.approx(-3.1783, abs=TOL)  # metafor 3.8.1 regtest(EE, model="lm"), -16
    assert lm.pvalue == pytest.approx(0.0073, abs=TOL)  # metafor 3.8.1 regtest(EE, model="lm"), -16
    assert lm.limit_estimate == pytest.approx(-0.1512, abs=TOL)  # metafor 3.8.1, -16
    mixed = egger_test(y, v)
    assert mixed.statistic == pytest.approx(-2.8062, abs=TOL)  # metafor 3.8.1 regtest(REML), -16
    assert mixed.pvalue == pytest.approx(0.0050, abs=TOL)  # metafor 3.8.1 regtest(REML), -16
    tf = trimfill(y, v)
    assert (tf.k0, tf.side) == (6, "right")  # metafor 3.8.1 trimfill(REML), -16
    assert tf.model.estimate == pytest.approx(-0.5169, abs=TOL)  # metafor 3.8.1 trimfill(REML), -16
    assert tf.model.ci_upper == pytest.approx(-0.0995, abs=TOL)  # metafor 3.8.1 trimfill(REML), -16
    rank = begg_test(y, v)
    assert rank.tau == pytest.approx(-0.0286, abs=TOL)  # metafor 3.8.1 ranktest, -16
    assert rank.pvalue == pytest.approx(0.9226, abs=TOL)  # metafor 3.8.1 ranktest, -16
