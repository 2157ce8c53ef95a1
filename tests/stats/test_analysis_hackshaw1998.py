"""Trim-and-fill for the studies of lung cancer and environmental tobacco smoke.

Data: ``dat.hackshaw1998`` (R package metadat; Hackshaw, Law & Wald 1997, BMJ 315:980-988, the
37 studies of lung cancer in lifelong non-smokers living with a smoker), typed in below as the odds
ratios with their 95% CIs; log odds ratios and variances are recovered from the CI as metadat does
(``vi = ((log(ub) - log(lb)) / (2 * qnorm(0.975)))^2``).

Expected values: metafor 3.8.1 ``trimfill`` of the EE and REML models (L0) and of the EE model with
R0, and ``regtest(model = "lm")``; the call is named beside each value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from metareview.stats import egger_test, trimfill

OR = [
    1.18,
    1.45,
    2.02,
    1.20,
    0.75,
    2.07,
    2.13,
    0.80,
    0.79,
    2.01,
    1.23,
    1.20,
    1.52,
    1.03,
    1.55,
    1.03,
    2.34,
    1.65,
    1.19,
    1.52,
    2.16,
    1.08,
    2.55,
    1.62,
    1.06,
    0.79,
    0.74,
    2.27,
    0.97,
    1.60,
    1.19,
    1.66,
    1.26,
    1.10,
    1.66,
    1.16,
    1.11,
]
OR_LB = [
    0.90,
    1.02,
    0.48,
    0.80,
    0.43,
    0.81,
    1.19,
    0.34,
    0.25,
    1.09,
    0.81,
    0.50,
    0.87,
    0.41,
    0.90,
    0.61,
    0.81,
    1.16,
    0.82,
    0.39,
    1.08,
    0.64,
    0.74,
    0.90,
    0.74,
    0.62,
    0.32,
    0.75,
    0.78,
    0.80,
    0.66,
    0.73,
    1.04,
    0.62,
    1.12,
    0.80,
    0.67,
]
OR_UB = [
    1.54,
    2.08,
    8.56,
    1.60,
    1.30,
    5.25,
    3.83,
    1.90,
    2.45,
    3.72,
    1.87,
    3.30,
    2.63,
    2.55,
    2.67,
    1.74,
    6.75,
    2.35,
    1.73,
    5.96,
    4.29,
    1.82,
    8.78,
    2.91,
    1.52,
    1.02,
    1.69,
    6.82,
    1.21,
    3.00,
    2.13,
    3.78,
    1.54,
    1.96,
    2.45,
    1.69,
    1.84,
]

TOL = 5e-5
YI = np.log(OR)
VI = ((np.log(OR_UB) - np.log(OR_LB)) / (2 * stats.norm.ppf(0.975))) ** 2


def test_data_as_metadat():
    assert YI.size == 37
    assert VI[0] == pytest.approx(0.0188, abs=TOL)  # metadat dat.hackshaw1998$vi[1] = 0.01877689


def test_trimfill_equal_effects():
    res = trimfill(YI, VI, method="EE")
    assert (res.k0, res.side) == (7, "left")  # metafor 3.8.1 trimfill(rma(yi, vi, method="EE"))
    assert res.se_k0 == pytest.approx(4.0405, abs=TOL)  # metafor 3.8.1
    assert res.model.k == 44
    assert res.model.estimate == pytest.approx(0.1556, abs=TOL)  # metafor 3.8.1
    assert res.model.se == pytest.approx(0.0364, abs=TOL)  # metafor 3.8.1
    assert res.model.ci_lower == pytest.approx(0.0842, abs=TOL)  # metafor 3.8.1
    assert res.model.ci_upper == pytest.approx(0.2270, abs=TOL)  # metafor 3.8.1
    assert math.exp(res.model.estimate) == pytest.approx(1.1684, abs=TOL)  # metafor 3.8.1, OR scale


def test_trimfill_random_effects():
    res = trimfill(YI, VI)
    assert (res.k0, res.side) == (7, "left")  # metafor 3.8.1 trimfill(rma(yi, vi))
    assert res.se_k0 == pytest.approx(4.0399, abs=TOL)  # metafor 3.8.1
    assert res.model.estimate == pytest.approx(0.1745, abs=TOL)  # metafor 3.8.1
    assert res.model.se == pytest.approx(0.0484, abs=TOL)  # metafor 3.8.1
    assert res.model.ci_upper == pytest.approx(0.2694, abs=TOL)  # metafor 3.8.1
    assert res.model.tau2 == pytest.approx(0.0245, abs=TOL)  # metafor 3.8.1


def test_trimfill_r0():
    res = trimfill(YI, VI, method="EE", estimator="R0")
    assert res.k0 == 7  # metafor 3.8.1 trimfill(res, estimator="R0")
    assert res.se_k0 == pytest.approx(4.0000, abs=TOL)  # metafor 3.8.1
    assert res.p_k0 == pytest.approx(0.0039, abs=TOL)  # metafor 3.8.1: 0.003906
    assert "Estimated number of missing studies on the left side: 7 (SE = 4.0000)" in str(res)


def test_classical_egger():
    res = egger_test(YI, VI, model="lm")
    assert res.statistic == pytest.approx(2.3824, abs=TOL)  # metafor 3.8.1 regtest(res, model="lm")
    assert res.pvalue == pytest.approx(0.0228, abs=TOL)  # metafor 3.8.1 regtest(res, model="lm")
