"""Three-level meta-analysis of Konstantopoulos (2011): schools nested in districts.

Data: ``dat.konstantopoulos2011`` (R package metadat; Konstantopoulos S. 2011, Fixed effects and
variance components estimation in three-level meta-analysis, Res Synth Methods 2:61-76): standardised
mean differences of modified school calendars for 56 schools in 11 districts, typed in below.

Expected values: the paper reports its estimates to fewer decimals, so the values pinned here are metafor
3.8.1's output for the same models (``rma.mv(yi, vi, random = ~ 1 | district/school)``, the example of
``help(dat.konstantopoulos2011)``, with ``control = list(optCtrl = list(rel.tol = 1e-14))``), printed to
6 decimals and rounded to 4; each value says which call produced it.
"""

from __future__ import annotations

import numpy as np
import pytest

from metareview.stats import StatsInputError, meta_mv

DISTRICT = [
    11,
    11,
    11,
    11,
    12,
    12,
    12,
    12,
    18,
    18,
    18,
    27,
    27,
    27,
    27,
    56,
    56,
    56,
    56,
    58,
    58,
    58,
    58,
    58,
    58,
    58,
    58,
    58,
    58,
    58,
    71,
    71,
    71,
    86,
    86,
    86,
    86,
    86,
    86,
    86,
    86,
    91,
    91,
    91,
    91,
    91,
    91,
    108,
    108,
    108,
    108,
    108,
    644,
    644,
    644,
    644,
]
SCHOOL = [
    1,
    2,
    3,
    4,
    1,
    2,
    3,
    4,
    1,
    2,
    3,
    1,
    2,
    3,
    4,
    1,
    2,
    3,
    4,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    1,
    2,
    3,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    1,
    2,
    3,
    4,
    5,
    6,
    1,
    2,
    3,
    4,
    5,
    1,
    2,
    3,
    4,
]
YEAR = (
    [1976] * 4
    + [1989] * 4
    + [1994] * 3
    + [1976] * 4
    + [1997] * 4
    + [1976] * 11
    + [1997] * 11
    + [2000] * 11
    + [1995, 1995, 1994, 1994]
)
YI = [
    -0.18,
    -0.22,
    0.23,
    -0.30,
    0.13,
    -0.26,
    0.19,
    0.32,
    0.45,
    0.38,
    0.29,
    0.16,
    0.65,
    0.36,
    0.60,
    0.08,
    0.04,
    0.19,
    -0.06,
    -0.18,
    0.00,
    0.00,
    -0.28,
    -0.04,
    -0.30,
    0.07,
    0.00,
    0.05,
    -0.08,
    -0.09,
    0.30,
    0.98,
    1.19,
    -0.07,
    -0.05,
    -0.01,
    0.02,
    -0.03,
    0.00,
    0.01,
    -0.10,
    0.50,
    0.66,
    0.20,
    0.00,
    0.05,
    0.07,
    -0.52,
    0.70,
    -0.03,
    0.27,
    -0.34,
    0.12,
    0.61,
    0.04,
    -0.05,
]
VI = [
    0.118,
    0.118,
    0.144,
    0.144,
    0.014,
    0.014,
    0.015,
    0.024,
    0.023,
    0.043,
    0.012,
    0.020,
    0.004,
    0.004,
    0.007,
    0.019,
    0.007,
    0.005,
    0.004,
    0.020,
    0.018,
    0.019,
    0.022,
    0.020,
    0.021,
    0.006,
    0.007,
    0.007,
    0.007,
    0.007,
    0.015,
    0.011,
    0.010,
    0.001,
    0.001,
    0.001,
    0.001,
    0.001,
    0.001,
    0.001,
    0.001,
    0.010,
    0.011,
    0.010,
    0.009,
    0.013,
    0.013,
    0.031,
    0.031,
    0.030,
    0.030,
    0.030,
    0.087,
    0.082,
    0.067,
    0.067,
]

TOL = 5e-5  # values pinned to 4 decimals


@pytest.fixture(scope="module")
def reml():
    return meta_mv(YI, VI, cluster=DISTRICT, effect=SCHOOL, method="REML")


def test_data_as_published():
    assert len(YI) == len(VI) == len(DISTRICT) == len(SCHOOL) == len(YEAR) == 56
    assert len(set(DISTRICT)) == 11


def test_reml_matches_metafor_example(reml):
    assert reml.k == 56 and reml.n_clusters == 11 and reml.n_effects == 56
    assert reml.sigma2_cluster == pytest.approx(0.0651, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.sigma2_effect == pytest.approx(0.0327, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.estimate == pytest.approx(0.1847, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.se == pytest.approx(0.0846, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.statistic_coef[0] == pytest.approx(2.1845, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.pvalue == pytest.approx(0.0289, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.ci_lower == pytest.approx(0.0190, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.ci_upper == pytest.approx(0.3504, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.qe == pytest.approx(578.8640, abs=TOL)  # metafor 3.8.1 (help example)
    assert reml.qe_df == 55


def test_reml_fit_statistics_i2_and_pi(reml):
    assert reml.loglik == pytest.approx(-7.9587, abs=TOL)  # metafor 3.8.1 fitstats(res)
    assert reml.deviance == pytest.approx(15.9174, abs=TOL)  # metafor 3.8.1 fitstats(res)
    assert reml.aic == pytest.approx(21.9174, abs=TOL)  # metafor 3.8.1 fitstats(res)
    assert reml.bic == pytest.approx(27.9394, abs=TOL)  # metafor 3.8.1 fitstats(res)
    assert reml.aicc == pytest.approx(22.3880, abs=TOL)  # metafor 3.8.1 fitstats(res)
    assert reml.i2_total == pytest.approx(95.1873, abs=TOL)  # metafor FAQ formula in metafor 3.8.1
    assert reml.i2_cluster == pytest.approx(63.3248, abs=TOL)  # metafor FAQ formula in metafor 3.8.1
    assert reml.i2_effect == pytest.approx(31.8625, abs=TOL)  # metafor FAQ formula in metafor 3.8.1
    assert reml.pi_lower == pytest.approx(-0.4502, abs=TOL)  # metafor 3.8.1 predict(res)
    assert reml.pi_upper == pytest.approx(0.8197, abs=TOL)  # metafor 3.8.1 predict(res)


def test_ml_fit():
    res = meta_mv(YI, VI, cluster=DISTRICT, effect=SCHOOL, method="ML")
    assert res.sigma2_cluster == pytest.approx(0.0577, abs=TOL)  # metafor 3.8.1, method="ML"
    assert res.sigma2_effect == pytest.approx(0.0329, abs=TOL)  # metafor 3.8.1, method="ML"
    assert res.estimate == pytest.approx(0.1845, abs=TOL)  # metafor 3.8.1, method="ML"
    assert res.se == pytest.approx(0.0805, abs=TOL)  # metafor 3.8.1, method="ML"
    assert res.loglik == pytest.approx(-8.3949, abs=TOL)  # metafor 3.8.1 fitstats(res)
    assert res.deviance == pytest.approx(161.4464, abs=TOL)  # metafor 3.8.1 fitstats(res)
    assert res.bic == pytest.approx(28.8659, abs=TOL)  # metafor 3.8.1 fitstats(res)


def test_ml_t_test_with_year_moderator():
    year = np.asarray(YEAR, dtype=float)
    res = meta_mv(
        YI, VI, cluster=DISTRICT, effect=SCHOOL, mods={"year": year - year.mean()}, method="ML", test="t"
    )
    assert res.coef_names == ("intrcpt", "year")
    assert res.sigma2_cluster == pytest.approx(0.0565, abs=TOL)  # metafor 3.8.1, ~ I(year - mean(year))
    assert res.sigma2_effect == pytest.approx(0.0329, abs=TOL)  # metafor 3.8.1
    assert res.coef[0] == pytest.approx(0.1780, abs=TOL)  # metafor 3.8.1
    assert res.coef[1] == pytest.approx(0.0051, abs=TOL)  # metafor 3.8.1
    assert res.se_coef[1] == pytest.approx(0.0085, abs=TOL)  # metafor 3.8.1
    assert res.pvalue_coef[0] == pytest.approx(0.0312, abs=TOL)  # metafor 3.8.1 (t, df = 54)
    assert res.ci_lower_coef[0] == pytest.approx(0.0167, abs=TOL)  # metafor 3.8.1 (t, df = 54)
    assert res.df == 54
    assert res.qe == pytest.approx(550.2597, abs=TOL)  # metafor 3.8.1
    assert res.qm == pytest.approx(0.3553, abs=TOL)  # metafor 3.8.1 F(1, 54)
    assert res.qm_pvalue == pytest.approx(0.5536, abs=TOL)  # metafor 3.8.1
    assert np.isnan(res.pi_lower)


def test_print_like_metafor(reml):
    text = str(reml)
    assert "Multivariate Meta-Analysis Model (k = 56; method: REML)" in text
    assert "sigma^2.1  0.0651  0.2551     11" in text
    assert "Q(df = 55) = 578.8640, p-val < .0001" in text
    assert "0.1847  0.0846  2.1845  0.0289  0.0190  0.3504" in text


def test_to_dict_and_frame(reml):
    d = reml.to_dict()
    assert d["estimate"] == reml.estimate and d["sigma2_cluster"] == reml.sigma2_cluster
    frame = reml.to_frame()
    assert list(frame.index) == ["intrcpt"] and frame.loc["intrcpt", "se"] == reml.se


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"vi": [0.0] + VI[1:]}, "vi"),
        ({"yi": [float("nan")] + YI[1:]}, "yi"),
        ({"cluster": DISTRICT[:-1]}, "cluster"),
        ({"cluster": [1] * 56}, "cluster"),
        ({"effect": [1] * 56}, "effect"),
        ({"method": "DL"}, "method"),
        ({"test": "knha"}, "test"),
    ],
)
def test_bad_input_raises(kwargs, field):
    args = {"yi": YI, "vi": VI, "cluster": DISTRICT, "effect": SCHOOL} | kwargs
    with pytest.raises(StatsInputError) as err:
        meta_mv(args.pop("yi"), args.pop("vi"), args.pop("cluster"), args.pop("effect"), **args)
    assert err.value.field == field


def _dense_loglik(yi, vi, cluster, effect, x, s1, s2, reml):
    """The (restricted) log-likelihood from the full k x k covariance matrix (metafor's formula)."""
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    k, p = x.shape
    same_cluster = np.equal.outer(cluster, cluster)
    same_effect = same_cluster & np.equal.outer(effect, effect)
    cov = np.diag(v) + s1 * same_cluster + s2 * same_effect
    inv = np.linalg.inv(cov)
    xvx = x.T @ inv @ x
    beta = np.linalg.solve(xvx, x.T @ inv @ y)
    resid = y - x @ beta
    rss = resid @ inv @ resid
    logdet = np.linalg.slogdet(cov)[1]
    if not reml:
        return -0.5 * k * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * rss
    return (
        -0.5 * (k - p) * np.log(2 * np.pi)
        + 0.5 * np.linalg.slogdet(x.T @ x)[1]
        - 0.5 * logdet
        - 0.5 * np.linalg.slogdet(xvx)[1]
        - 0.5 * rss
    )


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_fit_maximises_the_dense_likelihood(method):
    """The nested Sherman-Morrison likelihood equals the dense one, and the fit is its maximum, also
    when several rows share an inner level (schools paired within districts)."""
    cluster = np.asarray(DISTRICT)
    effect = (np.asarray(SCHOOL) + 1) // 2  # pairs of schools share an inner level
    year = np.asarray(YEAR, dtype=float)
    x = np.column_stack([np.ones(56), year - year.mean()])
    res = meta_mv(YI, VI, cluster, effect, mods=year - year.mean(), method=method)
    assert res.n_effects == len(set(zip(DISTRICT, effect.tolist(), strict=True)))
    reml = method == "REML"
    best = _dense_loglik(YI, VI, cluster, effect, x, res.sigma2_cluster, res.sigma2_effect, reml)
    assert res.loglik == pytest.approx(best, abs=1e-9)
    for d1, d2 in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)]:
        s1, s2 = max(res.sigma2_cluster + d1, 0.0), max(res.sigma2_effect + d2, 0.0)
        assert _dense_loglik(YI, VI, cluster, effect, x, s1, s2, reml) < best


def test_many_effects_recover_the_simulated_components():
    rng = np.random.default_rng(7)
    cluster = np.repeat(np.arange(400), 5)
    vi = rng.uniform(0.01, 0.1, cluster.size)
    yi = 0.3 + rng.normal(0, 0.3, 400)[cluster] + rng.normal(0, np.sqrt(0.05 + vi))
    res = meta_mv(yi, vi, cluster)
    assert res.converged and res.k == 2000 and res.n_clusters == 400
    assert res.sigma2_cluster == pytest.approx(0.09, abs=0.03)  # the simulated 0.3^2
    assert res.sigma2_effect == pytest.approx(0.05, abs=0.02)  # the simulated 0.05
