"""Diuretics in pregnancy and pre-eclampsia (Collins, Yusuf & Peto 1985, BMJ 290:17-23): 9 trials,
log odds ratios; the example of Viechtbauer (2007), "Confidence intervals for the amount of
heterogeneity in meta-analysis", Stat Med 26:37-52, doi:10.1002/sim.2514.

Data: metafor's ``dat.collins1985b`` (package metadat), columns pre.nti, pre.nci, pre.xti, pre.xci.
Expected values: Viechtbauer 2007, Table II (p. 44, three decimals) and metafor 3.8.1 output
(``tests/stats/regenerate_pinned.R``, four decimals).
"""

from __future__ import annotations

import math

import pytest

from metareview.stats import meta
from metareview.stats.escalc import escalc

PIN = 5e-5
TABLE = 5e-4

N_T = [131, 385, 57, 38, 1011, 1370, 506, 108, 153]  # women in the diuretic groups
N_C = [136, 134, 48, 40, 760, 1336, 524, 103, 102]  # women in the control groups
X_T = [14, 21, 14, 6, 12, 138, 15, 6, 65]  # with any form of pre-eclampsia, diuretic
X_C = [14, 17, 24, 18, 35, 175, 20, 2, 40]  # with any form of pre-eclampsia, control

ES = escalc("OR", ai=X_T, n1i=N_T, ci=X_C, n2i=N_C)
YI, VI = ES.yi, ES.vi


@pytest.mark.parametrize(("method", "tau2"), [("DL", 0.230), ("ML", 0.239), ("REML", 0.301), ("SJ", 0.456)])
def test_table_ii_tau2_estimates(method: str, tau2: float) -> None:
    assert meta(YI, VI, method=method).tau2 == pytest.approx(tau2, abs=TABLE)


def test_table_ii_intervals() -> None:
    dl = meta(YI, VI, method="DL")
    # Q-profile CI (Viechtbauer 2007, Table II): [0.072, 2.203]; metafor 3.8.1: [0.0723, 2.2027]
    assert (dl.tau2_ci_lower, dl.tau2_ci_upper) == pytest.approx((0.0723, 2.2027), abs=PIN)
    assert (dl.tau2_ci_lower, dl.tau2_ci_upper) == pytest.approx((0.072, 2.203), abs=TABLE)
    # Wald-type CIs from the ML and REML standard errors (Table II): [-0.101, 0.578], [-0.131, 0.732]
    for method, (lb, ub) in {"ML": (-0.101, 0.578), "REML": (-0.131, 0.732)}.items():
        res = meta(YI, VI, method=method)
        assert (res.tau2 - 1.96 * res.se_tau2, res.tau2 + 1.96 * res.se_tau2) == pytest.approx(
            (lb, ub), abs=TABLE
        )
    # Sidik-Jonkman's chi-square interval (Table II): [0.208, 1.675]
    sj = meta(YI, VI, method="SJ")
    from scipy import stats

    bounds = (8 * sj.tau2 / stats.chi2.ppf(0.975, 8), 8 * sj.tau2 / stats.chi2.ppf(0.025, 8))
    assert bounds == pytest.approx((0.208, 1.675), abs=TABLE)


# metafor 3.8.1: rma(yi, vi, method=m) -> tau2, b, se, ci.lb, ci.ub, se.tau2
@pytest.mark.parametrize(
    ("method", "tau2", "est", "se", "lb", "ub", "se_tau2"),
    [
        ("EE", 0.0000, -0.3980, 0.0893, -0.5731, -0.2229, math.nan),
        ("DL", 0.2297, -0.5168, 0.2037, -0.9160, -0.1175, 0.1976),
        ("HE", 0.5068, -0.5155, 0.2721, -1.0489, 0.0179, 0.3620),
        ("HS", 0.1458, -0.5101, 0.1764, -0.8560, -0.1643, 0.0938),
        ("SJ", 0.4563, -0.5165, 0.2612, -1.0285, -0.0046, 0.2461),
        ("ML", 0.2386, -0.5171, 0.2063, -0.9215, -0.1127, 0.1733),
        ("REML", 0.3008, -0.5181, 0.2236, -0.9564, -0.0798, 0.2201),
        ("EB", 0.3863, -0.5177, 0.2451, -0.9981, -0.0373, 0.2703),
        ("PM", 0.3863, -0.5177, 0.2451, -0.9981, -0.0373, 0.2703),
    ],
)
def test_metafor_four_decimals(
    method: str, tau2: float, est: float, se: float, lb: float, ub: float, se_tau2: float
) -> None:
    res = meta(YI, VI, method=method)
    got = (res.tau2, res.estimate, res.se, res.ci_lower, res.ci_upper, res.se_tau2)
    assert got == pytest.approx((tau2, est, se, lb, ub, se_tau2), abs=PIN, nan_ok=True)


def test_reml_heterogeneity_knha_and_prediction_intervals() -> None:
    res = meta(YI, VI)
    # metafor 3.8.1: QE, I2, H2; confint(res) I^2 and H^2; predict(res) default / "t" / "riley"
    assert (res.q, res.i2, res.h2) == pytest.approx((27.2649, 75.9238, 4.1535), abs=PIN)
    assert (res.i2_ci_lower, res.i2_ci_upper) == pytest.approx((43.1206, 95.8494), abs=PIN)
    assert (res.h2_ci_lower, res.h2_ci_upper) == pytest.approx((1.7581, 24.0928), abs=PIN)
    assert (res.pi_lower, res.pi_upper) == pytest.approx((-1.6790, 0.6428), abs=PIN)
    t = meta(YI, VI, pi="t")
    assert (t.pi_lower, t.pi_upper) == pytest.approx((-1.8839, 0.8477), abs=PIN)
    riley = meta(YI, VI, pi="riley")
    assert (riley.pi_lower, riley.pi_upper) == pytest.approx((-1.9186, 0.8824), abs=PIN)
    knha = meta(YI, VI, test="knha")
    # metafor 3.8.1: rma(yi, vi, test="knha") -> se, tval, pval, ci.lb, ci.ub
    got = (knha.se, knha.statistic, knha.pvalue, knha.ci_lower, knha.ci_upper)
    assert got == pytest.approx((0.2408, -2.1512, 0.0637, -1.0735, 0.0373), abs=PIN)
