"""BCG vaccine trials: every τ² estimator, Knapp–Hartung, prediction intervals, Q-profile CI,
meta-regression on absolute latitude and the subgroup analysis by allocation.

Data: 13 trials of the BCG vaccine against tuberculosis (Colditz et al. 1994, JAMA 271:698-702;
metafor's ``dat.bcg``, package metadat), typed in below. Effect size: log risk ratio.

Expected values: metafor 3.8.1 output at its default settings except ``control=list(tol=1e-12)``
for the root searches (PM, Q-profile), printed by ``tests/stats/regenerate_pinned.R`` and pinned to
4 decimals. The REML fit and the latitude meta-regression are the running example of Viechtbauer
(2010), J Stat Softw 36(3), doi:10.18637/jss.v036.i03.
"""

from __future__ import annotations

import pytest

from metareview.stats import meta, meta_reg, subgroup
from metareview.stats.escalc import escalc

PIN = 5e-5  # values pinned to 4 decimals

# dat.bcg: tpos/tneg = TB cases/non-cases among vaccinated, cpos/cneg among controls
TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
ABLAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
ALLOC = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4

ES = escalc("RR", ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG)
YI, VI = ES.yi, ES.vi

# metafor 3.8.1: rma(yi, vi, method=m) -> tau2, b, se, ci.lb, ci.ub, se.tau2 (NaN: none for EE)
ESTIMATORS = [
    ("EE", 0.0000, -0.4303, 0.0405, -0.5097, -0.3509, float("nan")),
    ("DL", 0.3088, -0.7141, 0.1787, -1.0644, -0.3638, 0.2299),
    ("HE", 0.3286, -0.7159, 0.1833, -1.0751, -0.3567, 0.2071),
    ("HS", 0.2284, -0.7045, 0.1587, -1.0155, -0.3936, 0.1279),
    ("SJ", 0.3455, -0.7172, 0.1871, -1.0839, -0.3506, 0.1497),
    ("ML", 0.2800, -0.7112, 0.1719, -1.0481, -0.3743, 0.1443),
    ("REML", 0.3132, -0.7145, 0.1798, -1.0669, -0.3622, 0.1664),
    ("EB", 0.3181, -0.7150, 0.1809, -1.0695, -0.3604, 0.1737),
    ("PM", 0.3181, -0.7150, 0.1809, -1.0695, -0.3604, 0.1737),
]


@pytest.mark.parametrize(("method", "tau2", "est", "se", "lb", "ub", "se_tau2"), ESTIMATORS)
def test_every_estimator(
    method: str, tau2: float, est: float, se: float, lb: float, ub: float, se_tau2: float
) -> None:
    res = meta(YI, VI, method=method)
    assert res.tau2 == pytest.approx(tau2, abs=PIN)
    assert res.estimate == pytest.approx(est, abs=PIN)
    assert res.se == pytest.approx(se, abs=PIN)
    assert (res.ci_lower, res.ci_upper) == pytest.approx((lb, ub), abs=PIN)
    assert res.se_tau2 == pytest.approx(se_tau2, abs=PIN, nan_ok=True)
    assert res.converged


def test_reml_heterogeneity_and_q_profile_ci() -> None:
    res = meta(YI, VI)
    # metafor 3.8.1: QE, I2, H2; confint(res): tau^2, I^2(%), H^2 bounds
    assert (res.q, res.q_df) == (pytest.approx(152.2330, abs=PIN), 12)
    assert res.q_pvalue < 1e-4
    assert (res.i2, res.h2) == pytest.approx((92.2214, 12.8558), abs=PIN)
    assert (res.tau2_ci_lower, res.tau2_ci_upper) == pytest.approx((0.1197, 1.1115), abs=PIN)
    assert (res.i2_ci_lower, res.i2_ci_upper) == pytest.approx((81.9206, 97.6781), abs=PIN)
    assert (res.h2_ci_lower, res.h2_ci_upper) == pytest.approx((5.5311, 43.0677), abs=PIN)
    # the Q-profile CI does not depend on the estimator (metafor 3.8.1, DL and PM fits)
    for method in ("DL", "PM"):
        other = meta(YI, VI, method=method)
        assert (other.tau2_ci_lower, other.tau2_ci_upper) == pytest.approx((0.1197, 1.1115), abs=PIN)


@pytest.mark.parametrize(
    ("pi", "lower", "upper"),
    [
        ("z", -1.8667, 0.4376),  # metafor 3.8.1: predict(res)
        ("t", -1.9953, 0.5663),  # predict(res, pi.type="t")
        ("riley", -2.0084, 0.5793),  # predict(res, pi.type="riley")
    ],
)
def test_prediction_interval_conventions(pi: str, lower: float, upper: float) -> None:
    res = meta(YI, VI, pi=pi)
    assert res.pi_method == pi
    assert (res.pi_lower, res.pi_upper) == pytest.approx((lower, upper), abs=PIN)


def test_knapp_hartung() -> None:
    res = meta(YI, VI, test="knha")
    # metafor 3.8.1: rma(yi, vi, test="knha") -> se, tval, pval, ci.lb, ci.ub (df = 12)
    assert res.se == pytest.approx(0.1808, abs=PIN)
    assert res.statistic == pytest.approx(-3.9522, abs=PIN)
    assert res.pvalue == pytest.approx(0.0019, abs=PIN)
    assert (res.ci_lower, res.ci_upper) == pytest.approx((-1.1084, -0.3206), abs=PIN)
    assert res.ddf == 12


def test_meta_regression_on_absolute_latitude() -> None:
    res = meta_reg(YI, VI, {"ablat": ABLAT})
    # metafor 3.8.1: rma(yi, vi, mods = ~ ablat) -> b, se, tau2, QE, QM, R2, I2
    assert res.names == ["intrcpt", "ablat"]
    assert res.estimates.tolist() == pytest.approx([0.2515, -0.0291], abs=PIN)
    assert res.se.tolist() == pytest.approx([0.2491, 0.0072], abs=PIN)
    assert res.tau2 == pytest.approx(0.0764, abs=PIN)
    assert (res.qe, res.qe_df) == (pytest.approx(30.7331, abs=PIN), 11)
    assert (res.qm, res.qm_df) == (pytest.approx(16.3571, abs=PIN), 1)
    assert res.r2 == pytest.approx(75.6245, abs=PIN)
    assert res.i2 == pytest.approx(68.3931, abs=PIN)


def test_meta_regression_knapp_hartung() -> None:
    res = meta_reg(YI, VI, {"ablat": ABLAT}, test="knha")
    # metafor 3.8.1: rma(yi, vi, mods = ~ ablat, test="knha") -> se, F(1, 11), p
    assert res.se.tolist() == pytest.approx([0.2839, 0.0082], abs=PIN)
    assert (res.qm, res.qm_df, res.qm_df2) == (pytest.approx(12.5905, abs=PIN), 1, 11)
    assert res.qm_pvalue == pytest.approx(0.0046, abs=PIN)


def test_subgroups_by_allocation() -> None:
    res = subgroup(YI, VI, ALLOC)
    frame = res.to_frame()
    assert frame["group"].tolist() == ["alternate", "random", "systematic"]
    # metafor 3.8.1: rma() within each allocation group
    assert frame["estimate"].tolist() == pytest.approx([-0.5408, -0.9710, -0.4242], abs=PIN)
    assert frame["tau2"].tolist() == pytest.approx([0.1326, 0.3925, 0.4003], abs=PIN)
    # rma(b, sei=se, method="EE") on the subgroup estimates: QE, QEp
    assert (res.q_between, res.q_between_df) == (pytest.approx(1.8614, abs=PIN), 2)
    assert res.q_between_pvalue == pytest.approx(0.3943, abs=PIN)
    # rma(yi, vi, mods = ~ factor(alloc)): QM, QMp, tau2 (common)
    assert (res.qm, res.qm_pvalue) == pytest.approx((1.7675, 0.4132), abs=PIN)
    assert res.regression.tau2 == pytest.approx(0.3615, abs=PIN)
    assert res.regression.estimates.tolist() == pytest.approx([-0.5180, -0.4478, 0.0890], abs=PIN)


def test_prints_like_metafor() -> None:
    text = str(meta(YI, VI))
    # the lines of metafor 3.8.1's print(rma(yi, vi)), verbatim
    for line in [
        "Random-Effects Model (k = 13; tau^2 estimator: REML)",
        "tau^2 (estimated amount of total heterogeneity): 0.3132 (SE = 0.1664)",
        "tau (square root of estimated tau^2 value):      0.5597",
        "I^2 (total heterogeneity / total variability):   92.22%",
        "H^2 (total variability / sampling variability):  12.86",
        "Q(df = 12) = 152.2330, p-val < .0001",
        "estimate      se     zval    pval    ci.lb    ci.ub",
        " -0.7145  0.1798  -3.9744  <.0001  -1.0669  -0.3622  ***",
    ]:
        assert line in text.splitlines(), line
    assert "prediction interval (z" in text
    reg = str(meta_reg(YI, VI, {"ablat": ABLAT}))
    for line in [
        "Mixed-Effects Model (k = 13; tau^2 estimator: REML)",
        "R^2 (amount of heterogeneity accounted for):            75.62%",
        "QE(df = 11) = 30.7331, p-val = 0.0012",
        "Test of Moderators (coefficient 2):",
        "QM(df = 1) = 16.3571, p-val < .0001",
        "ablat     -0.0291  0.0072  -4.0444  <.0001  -0.0432  -0.0150  ***",
    ]:
        assert line in reg.splitlines(), line


def test_other_confidence_levels() -> None:
    res = meta(YI, VI, method="PM", test="knha", pi="riley", level=80)
    # metafor 3.8.1: rma(yi, vi, level=80, test="knha", method="PM"); predict(pi.type="riley"); confint()
    assert (res.ci_lower, res.ci_upper) == pytest.approx((-0.9603, -0.4696), abs=PIN)
    assert (res.pi_lower, res.pi_upper) == pytest.approx((-1.5225, 0.0926), abs=PIN)
    assert (res.tau2_ci_lower, res.tau2_ci_upper) == pytest.approx((0.1707, 0.7267), abs=PIN)
    assert (res.i2_ci_lower, res.i2_ci_upper) == pytest.approx((86.5962, 96.4918), abs=PIN)
    reg = meta_reg(YI, VI, {"ablat": ABLAT}, level=90)
    # metafor 3.8.1: rma(yi, vi, mods = ~ ablat, level=90) -> ci.lb, ci.ub
    assert reg.ci_lower.tolist() == pytest.approx([-0.1583, -0.0409], abs=PIN)
    assert reg.ci_upper.tolist() == pytest.approx([0.6612, -0.0173], abs=PIN)
