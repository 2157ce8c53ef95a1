"""Teacher expectancy and pupil IQ (Raudenbush 1984; Raudenbush & Bryk 1985): 19 standardised mean
differences, the example of Raudenbush (2009), "Analyzing effect sizes: random-effects models", in
Cooper, Hedges & Valentine (eds), The Handbook of Research Synthesis and Meta-Analysis, 2nd ed.,
Russell Sage, pp. 295-315.

Data: metafor's ``dat.raudenbush1985`` (package metadat), typed in below.
Expected values: the chapter's Table 16.3 (p. 309, three decimals) and metafor 3.8.1 output
(``tests/stats/regenerate_pinned.R``, four decimals).
"""

from __future__ import annotations

import pytest

from metareview.stats import meta, meta_reg

PIN = 5e-5  # metafor values pinned to 4 decimals
TABLE = 5e-4  # the chapter's values are printed to 3 decimals

YI = [
    0.03,
    0.12,
    -0.14,
    1.18,
    0.26,
    -0.06,
    -0.02,
    -0.32,
    0.27,
    0.80,
    0.54,
    0.18,
    -0.02,
    0.23,
    -0.18,
    -0.06,
    0.30,
    0.07,
    -0.07,
]
VI = [
    0.0156,
    0.0216,
    0.0279,
    0.1391,
    0.1362,
    0.0106,
    0.0106,
    0.0484,
    0.0269,
    0.0630,
    0.0912,
    0.0497,
    0.0835,
    0.0841,
    0.0253,
    0.0279,
    0.0193,
    0.0088,
    0.0303,
]
WEEKS = [2, 21, 19, 0, 0, 3, 17, 24, 0, 1, 0, 0, 1, 2, 17, 5, 1, 2, 7]


# Table 16.3 (p. 309), conventional approach: tau2, mu, se, z, ci.lb, ci.ub
TABLE_16_3 = [
    ("EE", 0.000, 0.060, 0.036, 1.655, -0.011, 0.132),
    ("ML", 0.013, 0.078, 0.047, 1.637, -0.015, 0.171),
    ("REML", 0.019, 0.084, 0.052, 1.621, -0.018, 0.185),
    ("DL", 0.026, 0.089, 0.056, 1.601, -0.020, 0.199),
    ("HE", 0.080, 0.114, 0.079, 1.443, -0.041, 0.270),
]

# Table 16.3 (p. 309), Knapp-Hartung: se, t, ci.lb, ci.ub
TABLE_16_3_KNHA = [
    ("EE", 0.051, 1.173, -0.048, 0.168),
    ("ML", 0.059, 1.311, -0.047, 0.202),
    ("REML", 0.062, 1.359, -0.046, 0.213),
    ("DL", 0.064, 1.405, -0.044, 0.223),
    ("HE", 0.071, 1.608, -0.035, 0.264),
]


@pytest.mark.parametrize(("method", "tau2", "mu", "se", "z", "lb", "ub"), TABLE_16_3)
def test_table_16_3_conventional(
    method: str, tau2: float, mu: float, se: float, z: float, lb: float, ub: float
) -> None:
    res = meta(YI, VI, method=method)
    got = (res.tau2, res.estimate, res.se, res.statistic, res.ci_lower, res.ci_upper)
    assert got == pytest.approx((tau2, mu, se, z, lb, ub), abs=TABLE)


@pytest.mark.parametrize(("method", "se", "t", "lb", "ub"), TABLE_16_3_KNHA)
def test_table_16_3_knapp_hartung(method: str, se: float, t: float, lb: float, ub: float) -> None:
    res = meta(YI, VI, method=method, test="knha")
    assert (res.se, res.statistic, res.ci_lower, res.ci_upper) == pytest.approx((se, t, lb, ub), abs=TABLE)
    assert res.ddf == 18


# metafor 3.8.1: rma(yi, vi, method=m) -> tau2, b, se, ci.lb, ci.ub, se.tau2
@pytest.mark.parametrize(
    ("method", "tau2", "est", "se", "lb", "ub", "se_tau2"),
    [
        ("DL", 0.0259, 0.0893, 0.0558, -0.0200, 0.1987, 0.0185),
        ("HE", 0.0804, 0.1143, 0.0792, -0.0409, 0.2696, 0.0448),
        ("HS", 0.0224, 0.0867, 0.0538, -0.0188, 0.1921, 0.0157),
        ("SJ", 0.0771, 0.1133, 0.0781, -0.0397, 0.2663, 0.0296),
        ("ML", 0.0126, 0.0777, 0.0475, -0.0153, 0.1708, 0.0123),
        ("REML", 0.0188, 0.0837, 0.0516, -0.0175, 0.1849, 0.0155),
        ("EB", 0.0518, 0.1040, 0.0682, -0.0297, 0.2376, 0.0295),
        ("PM", 0.0518, 0.1040, 0.0682, -0.0297, 0.2376, 0.0295),
    ],
)
def test_metafor_four_decimals(
    method: str, tau2: float, est: float, se: float, lb: float, ub: float, se_tau2: float
) -> None:
    res = meta(YI, VI, method=method)
    got = (res.tau2, res.estimate, res.se, res.ci_lower, res.ci_upper, res.se_tau2)
    assert got == pytest.approx((tau2, est, se, lb, ub, se_tau2), abs=PIN)


def test_reml_heterogeneity_ci_and_prediction_intervals() -> None:
    res = meta(YI, VI)
    # metafor 3.8.1: QE, I2, H2; confint(res); predict(res) with pi.type default / "t" / "riley"
    assert (res.q, res.i2, res.h2) == pytest.approx((35.8295, 41.8571, 1.7199), abs=PIN)
    assert (res.tau2_ci_lower, res.tau2_ci_upper) == pytest.approx((0.0059, 0.1977), abs=PIN)
    assert (res.i2_ci_lower, res.i2_ci_upper) == pytest.approx((18.3099, 88.3176), abs=PIN)
    assert (res.h2_ci_lower, res.h2_ci_upper) == pytest.approx((1.2241, 8.5599), abs=PIN)
    # the chapter's credibility interval is [-0.19, 0.35], computed differently (see metafor's test
    # of this example); metafor's is [-0.204, 0.371]
    assert (res.pi_lower, res.pi_upper) == pytest.approx((-0.2036, 0.3711), abs=PIN)
    t = meta(YI, VI, pi="t")
    assert (t.pi_lower, t.pi_upper) == pytest.approx((-0.2243, 0.3917), abs=PIN)
    riley = meta(YI, VI, pi="riley")
    assert (riley.pi_lower, riley.pi_upper) == pytest.approx((-0.2256, 0.3930), abs=PIN)


def test_mixed_effects_model_with_weeks_of_contact() -> None:
    weeks_c = [min(w, 3) for w in WEEKS]  # weeks of prior contact, truncated at 3 as in the chapter
    res = meta_reg(YI, VI, {"weeks.c": weeks_c})
    # Table 16.2 (p. 301): tau2 = 0, coefficients 0.407 and -0.157, QE = 16.57, z = 4.68 and -4.39;
    # metafor 3.8.1 to 4 decimals: 0.4072, -0.1572, z 4.6782, -4.3884, QE 16.5708
    assert res.tau2 == pytest.approx(0.0, abs=PIN)  # metafor 3.8.1: 6.593347e-07 (Fisher scoring stops)
    assert res.tau2 == pytest.approx(6.593347e-07, rel=1e-6)
    assert res.estimates.tolist() == pytest.approx([0.4072, -0.1572], abs=PIN)
    assert res.statistic.tolist() == pytest.approx([4.6782, -4.3884], abs=PIN)
    assert res.qe == pytest.approx(16.5708, abs=PIN)
    assert res.r2 == pytest.approx(99.9965, abs=PIN)  # metafor 3.8.1: R2 99.99649781
