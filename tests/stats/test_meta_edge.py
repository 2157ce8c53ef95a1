"""Edge cases of ``meta()`` with their documented behaviour (see the docstring of ``meta``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from metareview.stats import StatsInputError, meta
from metareview.stats.tau2 import METHODS

BCG_YI = [
    -0.8893,
    -1.5854,
    -1.3481,
    -1.4416,
    -0.2175,
    -0.7861,
    -1.6209,
    0.0120,
    -0.4694,
    -1.3713,
    -0.3394,
    0.4459,
    -0.0173,
]  # dat.bcg log risk ratios, rounded (Colditz et al. 1994)
BCG_VI = [
    0.3256,
    0.1946,
    0.4154,
    0.0200,
    0.0512,
    0.0069,
    0.2230,
    0.0040,
    0.0564,
    0.0730,
    0.0124,
    0.5325,
    0.0714,
]


def test_single_study() -> None:
    # metafor 3.8.1, rma(yi[1], vi[1]) on dat.bcg (the first trial's log risk ratio): estimate -0.8893,
    # se 0.5706, ci [-2.0077, 0.2290], tau^2 0, Q(df = 0) = 0, p-val 1, I^2 0%, H^2 1
    yi, vi = math.log((4 / 123) / (11 / 139)), 1 / 4 - 1 / 123 + 1 / 11 - 1 / 139
    res = meta([yi], [vi])
    assert res.estimate == yi
    assert res.se == pytest.approx(0.5706, abs=5e-5)
    assert (res.ci_lower, res.ci_upper) == pytest.approx((-2.0077, 0.2290), abs=5e-5)
    assert (res.tau2, res.q, res.q_df, res.q_pvalue, res.i2, res.h2) == (0.0, 0.0, 0, 1.0, 0.0, 1.0)
    for name in ("se_tau2", "i2_q", "h2_q", "tau2_ci_lower", "tau2_ci_upper", "i2_ci_lower", "h2_ci_upper"):
        assert math.isnan(getattr(res, name)), name
    assert (res.pi_lower, res.pi_upper) == (res.ci_lower, res.ci_upper)  # tau^2 = 0: the PI is the CI
    assert math.isnan(meta([0.2], [0.1], pi="t").pi_lower)
    assert math.isnan(meta([0.2], [0.1], pi="riley").pi_upper)


def test_single_study_knha_falls_back_to_z() -> None:
    with pytest.warns(RuntimeWarning, match="knha"):
        res = meta([0.2], [0.04], test="knha")
    assert math.isnan(res.ddf)
    assert res.ci_upper == pytest.approx(0.2 + stats.norm.ppf(0.975) * 0.2)


@pytest.mark.parametrize("method", METHODS)
def test_two_studies_every_estimator_is_defined(method: str) -> None:
    weights = [1.0, 2.0] if method == "GENQ" else None  # GENQ needs user weights, as metafor
    res = meta([0.1, 0.9], [0.02, 0.05], method=method, pi="riley", weights=weights)
    assert res.k == 2 and res.q_df == 1
    assert all(math.isfinite(v) for v in (res.estimate, res.se, res.tau2, res.q, res.i2))
    if method != "EE":  # riley's k - 2 = 0 df is raised to 1, as metafor's predict()
        half = stats.t.ppf(0.975, 1) * math.sqrt(res.se**2 + res.tau2)
        assert (res.pi_lower, res.pi_upper) == pytest.approx((res.estimate - half, res.estimate + half))


def test_equal_sampling_variances_give_the_closed_forms() -> None:
    # with vi = v for all studies, DL = HE = REML = EB = PM = s^2 - v and ML = (k-1)/k s^2 - v
    yi = np.array([0.1, 0.8, -0.3, 0.5, 1.2, 0.4])
    v = 0.05
    s2 = float(np.var(yi, ddof=1))
    for method in ("DL", "HE", "REML", "EB", "PM"):
        assert meta(yi, [v] * 6, method=method, control={"threshold": 1e-12}).tau2 == pytest.approx(s2 - v)
    ml = meta(yi, [v] * 6, method="ML", control={"threshold": 1e-12})
    assert ml.tau2 == pytest.approx(5 / 6 * s2 - v)
    assert meta(yi, [v] * 6).estimate == pytest.approx(yi.mean())


def test_boundary_tau2_zero_and_degenerate_q_profile() -> None:
    res = meta([0.3, 0.3, 0.3, 0.3], [0.1, 0.2, 0.05, 0.3])
    assert (res.tau2, res.q, res.i2, res.i2_q) == (0.0, 0.0, 0.0, 0.0)
    # Q(0) = 0 is below the lower chi-square quantile: the Q-profile CI is {0}, as metafor's confint
    assert (res.tau2_ci_lower, res.tau2_ci_upper) == (0.0, 0.0)
    homogeneous = meta([0.10, 0.12, 0.09, 0.11], [0.04, 0.05, 0.03, 0.06], method="DL")
    assert homogeneous.tau2 == 0.0 and homogeneous.h2 == 1.0


def test_non_convergence_warns_and_returns_the_last_iterate() -> None:
    with pytest.warns(RuntimeWarning, match="did not converge"):
        res = meta(BCG_YI, BCG_VI, method="REML", control={"maxiter": 1})
    assert not res.converged
    assert res.iterations == 2  # metafor stops once the iteration count exceeds maxiter
    assert math.isfinite(res.tau2)
    assert meta(BCG_YI, BCG_VI, method="REML").converged


@pytest.mark.parametrize(
    ("kwargs", "index", "field"),
    [
        ({"yi": [0.1, 0.2, 0.3], "vi": [0.1, 0.0, 0.1]}, 1, "vi"),
        ({"yi": [0.1, 0.2, 0.3], "vi": [0.1, 0.2, -1.0]}, 2, "vi"),
        ({"yi": [0.1, 0.2, 0.3], "vi": [float("nan"), 0.2, 0.1]}, 0, "vi"),
        ({"yi": [0.1, float("nan"), 0.3], "vi": [0.1, 0.2, 0.1]}, 1, "yi"),
        ({"yi": [0.1, 0.2], "sei": [0.1, 0.0]}, 1, "sei"),
    ],
)
def test_bad_variances_name_the_index(kwargs: dict[str, list[float]], index: int, field: str) -> None:
    with pytest.raises(StatsInputError) as err:
        meta(**kwargs)  # type: ignore[arg-type]
    assert (err.value.index, err.value.field) == (index, field)
    assert f"index {index}" in str(err.value)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([0.1, 0.2], [0.1]), {}, "has 1"),
        (([0.1, 0.2],), {}, "exactly one"),
        (([0.1, 0.2], [0.1, 0.1]), {"sei": [0.1, 0.1]}, "exactly one"),
        (([], []), {}, "k = 0"),
        (([0.1, 0.2], [0.1, 0.1]), {"method": "XX"}, "unknown method"),
        (([0.1, 0.2], [0.1, 0.1]), {"test": "wald"}, "test must be"),
        (([0.1, 0.2], [0.1, 0.1]), {"pi": "normal"}, "pi must be"),
        (([0.1, 0.2], [0.1, 0.1]), {"level": 0.95}, "percentage such as 95"),
        (([0.1, 0.2], [0.1, 0.1]), {"control": {"thresh": 1}}, "unknown control"),
    ],
)
def test_bad_arguments(args: tuple[list[float], ...], kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(StatsInputError, match=match):
        meta(*args, **kwargs)  # type: ignore[arg-type]


def test_standard_errors_and_method_alias() -> None:
    by_sei = meta(BCG_YI, sei=np.sqrt(BCG_VI), method="FE")
    by_vi = meta(BCG_YI, BCG_VI, method="EE")
    assert by_sei.method == "EE"
    assert by_sei.estimate == pytest.approx(by_vi.estimate, abs=1e-12)
    assert math.isnan(by_vi.pi_lower)  # no prediction interval for an equal-effects model (as metafor)


def test_level_changes_every_interval() -> None:
    r95, r90 = meta(BCG_YI, BCG_VI), meta(BCG_YI, BCG_VI, level=90)
    assert r90.ci_upper - r90.ci_lower < r95.ci_upper - r95.ci_lower
    assert r90.tau2_ci_upper < r95.tau2_ci_upper
    assert r90.pi_upper < r95.pi_upper
    assert r90.estimate == r95.estimate


def test_result_conversions() -> None:
    res = meta(BCG_YI, BCG_VI, test="knha", pi="t")
    d = res.to_dict()
    assert {"k", "estimate", "tau2", "i2", "i2_q", "pi_lower", "converged", "ddf"} <= d.keys()
    assert "yi" not in d and "weights" not in d
    json.dumps(d)  # plain Python scalars only
    frame = res.to_frame()
    assert frame.shape[0] == 1 and frame.loc[0, "k"] == 13
    assert res.weights.sum() == pytest.approx(100.0)
    text = str(res)
    assert "tval  df" in text and "t with k-1 df" in text


def test_q_profile_bound_at_the_search_limit_is_marked() -> None:
    # two very discordant studies: Q(100) is still above the chi-square quantile, so the upper bound is
    # the end of the search range, max(100, 10 tau^2), printed with ">" (metafor's confint does the same)
    res = meta([-3.0, 3.0], [0.001, 0.001], method="DL")
    assert res.tau2_ci_upper == max(100.0, 10 * res.tau2)
    assert f"[{res.tau2_ci_lower:.4f}, >{res.tau2_ci_upper:.4f}]" in str(res)
    assert ">" not in str(meta([0.1, 0.5, 0.3], [0.01, 0.02, 0.01])).split("Q-profile")[1].split("\n")[0]
