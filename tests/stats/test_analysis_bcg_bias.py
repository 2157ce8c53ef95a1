"""Small-study, trim-and-fill, leave-one-out and influence analyses of the BCG vaccine trials.

Data: ``dat.bcg`` (R package metadat; Colditz et al. 1994, JAMA 271:698-702): 13 trials of the BCG
vaccine against tuberculosis, typed in below; log risk ratios and their variances as metafor's
``escalc(measure = "RR")`` computes them (no zero cells).

Expected values: metafor 3.8.1 applied to ``res <- rma(yi, vi)`` (REML): ``regtest(res)``,
``regtest(res, model = "lm")``, ``ranktest(res)``, ``trimfill(res)``, ``trimfill`` of the EE model
(the example of ``help(trimfill)``), ``leave1out(res)`` and ``influence(res)``, printed to 6 decimals
and rounded to 4 (the call is named beside each value).
"""

from __future__ import annotations

import numpy as np
import pytest

from metareview.stats import (
    StatsInputError,
    begg_test,
    egger_test,
    excess_significance,
    influence,
    leave_one_out,
    trimfill,
)
from metareview.stats.bias import kendall_test

TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]

TOL = 5e-5  # 4 decimals


def _log_rr() -> tuple[np.ndarray, np.ndarray]:
    a, b, c, d = (np.asarray(x, dtype=float) for x in (TPOS, TNEG, CPOS, CNEG))
    yi = np.log(a / (a + b)) - np.log(c / (c + d))
    vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    return yi, vi


YI, VI = _log_rr()


def test_egger_mixed_effects_default():
    res = egger_test(YI, VI)
    assert res.model == "rma" and res.predictor == "sei" and res.method == "REML"
    assert res.statistic == pytest.approx(-0.8033, abs=TOL)  # metafor 3.8.1 regtest(res)
    assert res.pvalue == pytest.approx(0.4218, abs=TOL)  # metafor 3.8.1 regtest(res)
    assert res.limit_estimate == pytest.approx(-0.5104, abs=TOL)  # metafor 3.8.1 regtest(res)
    assert res.limit_ci_lower == pytest.approx(-1.1182, abs=TOL)  # metafor 3.8.1 regtest(res)
    assert res.limit_ci_upper == pytest.approx(0.0974, abs=TOL)  # metafor 3.8.1 regtest(res)
    assert "Test for Funnel Plot Asymmetry: z = -0.8033, p = 0.4218" in str(res)


def test_egger_classical_lm():
    res = egger_test(YI, VI, model="lm")
    assert res.df == 11
    assert res.statistic == pytest.approx(-1.4013, abs=TOL)  # metafor 3.8.1 regtest(res, model="lm")
    assert res.pvalue == pytest.approx(0.1887, abs=TOL)  # metafor 3.8.1 regtest(res, model="lm")
    assert res.limit_estimate == pytest.approx(-0.1909, abs=TOL)  # metafor 3.8.1 regtest(res, model="lm")
    assert res.limit_ci_lower == pytest.approx(-0.6753, abs=TOL)  # metafor 3.8.1 regtest(res, model="lm")
    assert res.limit_ci_upper == pytest.approx(0.2935, abs=TOL)  # metafor 3.8.1 regtest(res, model="lm")


@pytest.mark.parametrize(
    ("predictor", "z", "p", "limit"),
    [  # metafor 3.8.1 regtest(res, predictor=..., ni = tpos + tneg + cpos + cneg)
        ("vi", -0.4268, 0.6695, -0.6554),
        ("ni", 2.0488, 0.0405, None),
        ("ninv", -1.2566, 0.2089, -0.5972),
        ("sqrtni", 2.3572, 0.0184, None),
        ("sqrtninv", -1.8361, 0.0663, -0.4098),
    ],
)
def test_egger_other_predictors(predictor, z, p, limit):
    ni = np.add.reduce([TPOS, TNEG, CPOS, CNEG])
    res = egger_test(YI, VI, predictor=predictor, ni=ni)
    assert res.statistic == pytest.approx(z, abs=TOL)
    assert res.pvalue == pytest.approx(p, abs=TOL)
    if limit is None:
        assert np.isnan(res.limit_estimate)
    else:
        assert res.limit_estimate == pytest.approx(limit, abs=TOL)


def test_egger_lm_with_sample_size_predictor():
    ni = np.add.reduce([TPOS, TNEG, CPOS, CNEG])
    lm = egger_test(YI, VI, predictor="sqrtninv", ni=ni, model="lm")
    assert lm.statistic == pytest.approx(-2.6260, abs=TOL)  # metafor 3.8.1 regtest(model="lm", "sqrtninv")
    assert lm.limit_estimate == pytest.approx(-0.1271, abs=TOL)  # metafor 3.8.1 (same call)


def test_begg_rank_test():
    res = begg_test(YI, VI)
    assert res.exact
    assert res.tau == pytest.approx(0.0256, abs=TOL)  # metafor 3.8.1 ranktest(res)
    assert res.pvalue == pytest.approx(0.9524, abs=TOL)  # metafor 3.8.1 ranktest(res)


def test_trimfill_random_effects():
    res = trimfill(YI, VI)
    assert (res.k0, res.side) == (1, "right")  # metafor 3.8.1 trimfill(res)
    assert res.se_k0 == pytest.approx(2.4528, abs=TOL)  # metafor 3.8.1 trimfill(res)
    assert res.model.k == 14
    assert res.model.estimate == pytest.approx(-0.6571, abs=TOL)  # metafor 3.8.1 trimfill(res)
    assert res.model.se == pytest.approx(0.1785, abs=TOL)  # metafor 3.8.1 trimfill(res)
    assert res.model.ci_lower == pytest.approx(-1.0070, abs=TOL)  # metafor 3.8.1 trimfill(res)
    assert res.model.tau2 == pytest.approx(0.3313, abs=TOL)  # metafor 3.8.1 trimfill(res)
    assert res.model.q == pytest.approx(154.6750, abs=TOL)  # metafor 3.8.1 trimfill(res)


def test_trimfill_equal_effects_l0_and_r0():
    res = trimfill(YI, VI, method="EE")
    assert (res.k0, res.side) == (4, "right")  # metafor 3.8.1 help(trimfill) example
    assert res.se_k0 == pytest.approx(2.3853, abs=TOL)  # metafor 3.8.1 help(trimfill) example
    assert res.model.estimate == pytest.approx(-0.2910, abs=TOL)  # metafor 3.8.1 help(trimfill) example
    assert res.model.se == pytest.approx(0.0383, abs=TOL)  # metafor 3.8.1 help(trimfill) example
    filled_yi = [0.7893, 0.8595, 1.0033, 1.0388]  # metafor 3.8.1 res.tf$yi (filled)
    filled_vi = [0.0730, 0.0200, 0.1946, 0.2230]  # metafor 3.8.1 res.tf$vi (filled)
    np.testing.assert_allclose(res.yi[res.filled], filled_yi, atol=TOL)
    np.testing.assert_allclose(res.vi[res.filled], filled_vi, atol=TOL)
    r0 = trimfill(YI, VI, method="EE", estimator="R0")
    assert r0.k0 == 4  # metafor 3.8.1 trimfill(res, estimator="R0")
    assert r0.se_k0 == pytest.approx(3.1623, abs=TOL)  # metafor 3.8.1 trimfill(res, estimator="R0")
    assert r0.p_k0 == pytest.approx(0.03125, abs=1e-6)  # metafor 3.8.1: 0.031250


def test_leave_one_out():
    res = leave_one_out(YI, VI)
    # metafor 3.8.1 leave1out(res)
    estimate = [
        -0.7071,
        -0.6540,
        -0.6856,
        -0.6284,
        -0.7642,
        -0.7109,
        -0.6552,
        -0.7948,
        -0.7412,
        -0.6530,
        -0.7579,
        -0.7598,
        -0.7775,
    ]
    se = [
        0.1900,
        0.1807,
        0.1857,
        0.1766,
        0.1918,
        0.2003,
        0.1805,
        0.1799,
        0.1967,
        0.1843,
        0.1958,
        0.1821,
        0.1855,
    ]
    tau2 = [
        0.3362,
        0.2926,
        0.3207,
        0.2628,
        0.3278,
        0.3596,
        0.2930,
        0.2732,
        0.3495,
        0.2987,
        0.3405,
        0.3082,
        0.3037,
    ]
    i2 = [
        93.2259,
        92.2540,
        92.9354,
        90.4125,
        92.7634,
        90.9118,
        92.2777,
        87.0314,
        93.2133,
        92.2322,
        91.8110,
        92.6782,
        92.3444,
    ]
    q = [
        151.5826,
        145.3176,
        150.1970,
        96.5626,
        151.3200,
        128.1867,
        145.8296,
        67.9858,
        152.2051,
        139.8271,
        151.4655,
        150.7868,
        149.7884,
    ]
    for got, want in ((res.estimate, estimate), (res.se, se), (res.tau2, tau2), (res.i2, i2), (res.q, q)):
        np.testing.assert_allclose(got, want, atol=TOL)
    assert res.pvalue[7] == pytest.approx(0.0000, abs=TOL)  # metafor 3.8.1 leave1out(res): 1e-05
    assert res.to_frame().shape == (13, 11)


def test_influence():
    res = influence(YI, VI)
    # metafor 3.8.1 influence(res)
    rstudent = [
        -0.2181,
        -1.2918,
        -0.7547,
        -1.4512,
        0.8477,
        -0.1180,
        -1.3037,
        1.4501,
        0.4076,
        -1.1277,
        0.6691,
        1.2898,
        1.1879,
    ]
    dffits = [
        -0.0407,
        -0.3436,
        -0.1604,
        -0.5201,
        0.2707,
        -0.0190,
        -0.3362,
        0.4775,
        0.1415,
        -0.3487,
        0.2315,
        0.2526,
        0.3549,
    ]
    cook_d = [
        0.0017,
        0.1132,
        0.0260,
        0.2295,
        0.0762,
        0.0004,
        0.1087,
        0.1992,
        0.0220,
        0.1170,
        0.0581,
        0.0634,
        0.1228,
    ]
    cov_r = [
        1.1164,
        1.0102,
        1.0670,
        0.9651,
        1.1380,
        1.2407,
        1.0077,
        1.0011,
        1.1968,
        1.0505,
        1.1860,
        1.0259,
        1.0650,
    ]
    hat = [
        0.0506,
        0.0636,
        0.0444,
        0.0970,
        0.0887,
        0.1010,
        0.0603,
        0.1019,
        0.0874,
        0.0837,
        0.0993,
        0.0382,
        0.0840,
    ]
    dfbetas = [
        -0.0403,
        -0.3459,
        -0.1597,
        -0.5138,
        0.2711,
        -0.0192,
        -0.3387,
        0.4714,
        0.1419,
        -0.3487,
        0.2330,
        0.2535,
        0.3548,
    ]
    pairs = (
        (res.rstudent, rstudent),
        (res.dffits, dffits),
        (res.cook_d, cook_d),
        (res.cov_r, cov_r),
        (res.hat, hat),
        (res.dfbetas, dfbetas),
    )
    for got, want in pairs:
        np.testing.assert_allclose(got, want, atol=TOL)
    assert not res.influential.any()  # metafor 3.8.1: no study flagged
    np.testing.assert_allclose(res.weight, 100 * res.hat)


def test_outlier_is_flagged():
    yi = np.append(YI, 3.0)
    vi = np.append(VI, 0.01)
    assert influence(yi, vi).influential[-1]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: egger_test(YI[:2], VI[:2]), "yi"),
        (lambda: egger_test(YI, VI, model="glm"), "model"),
        (lambda: egger_test(YI, VI, predictor="ni"), "ni"),
        (lambda: trimfill(YI, VI, side="up"), "side"),
        (lambda: trimfill(YI, VI, estimator="X0"), "estimator"),
        (lambda: begg_test(YI, -VI), "vi"),
        (lambda: leave_one_out(YI[:1], VI[:1]), "yi"),
        (lambda: influence(YI, VI, method="XX"), "method"),
    ],
)
def test_bad_input(call, field):
    with pytest.raises(StatsInputError) as err:
        call()
    assert err.value.field == field


def test_kendall_exact_p_from_mahonian_numbers():
    # n = 4: the numbers of permutations with 0..6 concordant pairs are 1, 3, 5, 6, 5, 3, 1 (of 24), so
    # 5 concordant pairs (tau = 4/6) have two-sided p = 2 * (3 + 1) / 24 = 1/3 (also R's cor.test)
    tau, p, exact, stat = kendall_test(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 4, 3]))
    assert (exact, stat) == (True, 5.0)
    assert tau == pytest.approx(2 / 3) and p == pytest.approx(1 / 3)


def test_kendall_with_ties_uses_the_normal_approximation():
    tau, p, exact, z = kendall_test(np.array([1.0, 2, 3, 4, 5, 6]), np.array([1.0, 1, 2, 3, 3, 2]))
    assert not exact
    assert tau == pytest.approx(0.5963, abs=TOL)  # R 4 cor.test(method="kendall"): tau-b 0.596285
    assert z == pytest.approx(1.5894, abs=TOL)  # R 4 cor.test: z = 1.589439
    assert p == pytest.approx(0.1120, abs=TOL)  # R 4 cor.test: 0.111961


def test_begg_with_equal_variances_is_undefined():
    # all vi equal: nothing to correlate with. metafor 3.8.1 ranktest(rma(yi, vi, method = "HE")) on these
    # data gives tau NA and pval NA (cor.test: "the standard deviation is zero")
    res = begg_test([0.45842119, 0.55329785, 1.35011445, 0.69338706, 0.32203286], [0.04] * 5)
    assert np.isnan(res.tau) and np.isnan(res.pvalue)


def test_tes_limit_is_not_estimable_where_the_chi2_test_breaks_down():
    # searching for the limit passes thetas where every study has power 0 (E = 0): R's prop.test stops
    # there, so metafor 3.8.1 tes(yi, vi, test = "chi2", alternative = "less") reports theta.lim NA
    # (O = 2, E = 0.0009, X2 = 4222.2779 from the same call)
    yi = [0.34538642, 0.14144263, -1.60053717, 0.33911863, 0.38173748, 0.519693, 0.28021294]
    yi += [-0.21315803, 0.94275202, 1.97052639, -0.13406901, 0.80294568, 0.46634962]
    vi = [0.01231333, 0.00848176, 0.03402757, 0.02640231, 0.02739234, 0.03616601, 0.02631768]
    vi += [0.01068359, 0.02042358, 0.03799591, 0.04447203, 0.01724542, 0.00160385]
    res = excess_significance(yi, vi, test="chi2", alternative="less")
    assert (res.observed, round(res.expected, 4)) == (2, 0.0009)
    assert res.statistic == pytest.approx(4222.2779, abs=TOL)
    assert np.isnan(res.theta_lim).all()


def test_tes_at_the_null_expects_alpha_k_and_has_no_limit():
    # at theta = h0 every two-sided test has power alpha, so E = 0.05 * 13; with 8 significant trials
    # the excess is significant already at h0, so metafor's limit estimate is "not estimable" (NA)
    res = excess_significance(YI, VI, theta=0.0, test="chi2")
    assert res.expected == pytest.approx(0.05 * 13)
    assert res.observed == 8
    assert len(res.theta_lim) == 1 and np.isnan(res.theta_lim[0])
    assert "not estimable" in str(res)
