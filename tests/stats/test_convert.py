"""Conversions from reported statistics (CI, p, t, F) to effect sizes.

metafor 3.8.1 (installed here) has no ``conv.wald`` (added in metafor 4.0), so :func:`from_ci` is checked
as the exact inverse of metafor's own Wald intervals (``summary.escalc``, which :func:`to_ci` must
reproduce), and by hand with the published normal quantile z(0.975) = 1.959964.
"""

from __future__ import annotations

import doctest
import importlib
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rharness import run_r
from scipy import stats

from metareview.stats.convert import (
    from_ci,
    from_p,
    sei_to_vi,
    smd_from_f,
    smd_from_p,
    smd_from_t,
    t_from_smd,
    to_ci,
    vi_to_sei,
)
from metareview.stats.errors import StatsInputError
from metareview.stats.escalc import escalc

Z975 = 1.959964  # standard normal 97.5% quantile, any statistical table (e.g. Borenstein et al. 2009, ch. 5)


def test_docstring_examples_run() -> None:
    # by import path: metareview.stats re-exports the function escalc under the module's name
    for name in ("metareview.stats.escalc", "metareview.stats.convert"):
        module = importlib.import_module(name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_standard_errors_and_variances() -> None:
    np.testing.assert_allclose(sei_to_vi([0.1, 0.5]), [0.01, 0.25])
    np.testing.assert_allclose(vi_to_sei([0.01, 0.25]), [0.1, 0.5])


def test_from_ci_odds_ratio_by_hand() -> None:
    es = from_ci([0.75], [0.60], [0.94], transf="log", measure="or")
    assert es.measure == "OR"
    assert es.yi[0] == pytest.approx(math.log(0.75))
    se = (math.log(0.94) - math.log(0.60)) / (2 * Z975)
    assert es.vi[0] == pytest.approx(se**2, rel=1e-6)


def test_from_ci_other_levels_and_callable_transform() -> None:
    es = from_ci([0.2], [0.0], [0.4], level=90)
    assert es.vi[0] == pytest.approx((0.2 / 1.644854) ** 2, rel=1e-6)  # z(0.95) = 1.644854
    same = from_ci([0.75], [0.60], [0.94], transf=np.log)
    assert same.vi[0] == from_ci([0.75], [0.60], [0.94], transf="log").vi[0]


def test_from_ci_warns_when_estimate_is_not_central() -> None:
    with pytest.warns(UserWarning, match=r"row\(s\) 1"):
        from_ci([0.3, 2.0], [0.1, 1.1], [0.5, 5.0])  # row 1 is a ratio on its natural scale
    with pytest.warns(UserWarning):
        from_ci([0.7], [0.1], [1.6], transf="exp")


def test_from_p_by_hand() -> None:
    es = from_p([0.3, -0.1, 0.0], [0.05, 0.5, 1.0])
    assert es.vi[0] == pytest.approx((0.3 / Z975) ** 2, rel=1e-6)
    assert es.vi[1] == pytest.approx((0.1 / 0.6744898) ** 2, rel=1e-6)  # z(0.75) = 0.674490
    assert np.isnan(es.vi[2])  # p = 1: estimate 0, variance unknown
    log_or = from_p([2.0], [0.01], transf="log")
    assert log_or.yi[0] == pytest.approx(math.log(2))


groups = st.tuples(
    st.floats(-3, 3),  # mean difference in SD units
    st.floats(0.5, 3),  # sd1
    st.floats(0.5, 3),  # sd2
    st.integers(2, 200),  # n1
    st.integers(2, 200),  # n2
)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(groups)
def test_t_f_p_give_the_smd_of_the_underlying_means(case: tuple[float, float, float, int, int]) -> None:
    diff, sd1, sd2, n1, n2 = case
    # the reported statistics, computed by scipy from the group summaries (pooled-variance t-test)
    t, p = stats.ttest_ind_from_stats(diff, sd1, n1, 0.0, sd2, n2, equal_var=True)
    expected = escalc("SMD", m1i=[diff], m2i=[0.0], sd1i=[sd1], sd2i=[sd2], n1i=[n1], n2i=[n2])
    direction = 1.0 if t >= 0 else -1.0
    from_t = smd_from_t([t], [n1], [n2])
    from_f = smd_from_f([t**2], [n1], [n2], sign=direction)
    np.testing.assert_allclose(from_t.yi, expected.yi, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(from_t.vi, expected.vi, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(from_f.yi, expected.yi, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(t_from_smd(expected.yi, [n1], [n2]), [t], rtol=1e-9, atol=1e-12)
    if p > 1e-12:  # below that p itself carries too few digits to invert
        from_p_ = smd_from_p([p], [n1], [n2], sign=direction)
        np.testing.assert_allclose(from_p_.yi, expected.yi, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(from_p_.vi, expected.vi, rtol=1e-6, atol=1e-9)


R_CODE = """
res <- list()
for (lev in c(90, 95, 99)) {
  d <- escalc("RR", ai = ai, bi = bi, ci = ci, di = di)
  s <- summary(d, level = lev, transf = exp)
  res[[as.character(lev)]] <- list(yi = as.numeric(d$yi), vi = as.numeric(d$vi),
                                   lb = as.numeric(s$ci.lb), ub = as.numeric(s$ci.ub))
}
smd <- list()
for (vt in c("LS", "UB", "LS2", "AV")) {
  e <- escalc("SMD", ti = ti, n1i = n1i, n2i = n2i, vtype = vt)
  smd[[vt]] <- list(yi = as.numeric(e$yi), vi = as.numeric(e$vi))
}
out <- list(ci = res, smd = smd)
"""


@pytest.fixture(scope="module")
def metafor(rscript: str) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(20231124)
    k = 40
    data = {
        "ai": rng.integers(1, 80, k).tolist(),
        "bi": rng.integers(1, 300, k).tolist(),
        "ci": rng.integers(1, 80, k).tolist(),
        "di": rng.integers(1, 300, k).tolist(),
        "ti": rng.normal(0, 3, k).tolist(),
        "n1i": rng.integers(2, 150, k).tolist(),
        "n2i": rng.integers(2, 150, k).tolist(),
    }
    return data, run_r(rscript, R_CODE, data=data)


@pytest.mark.metafor
@pytest.mark.parametrize("level", [90, 95, 99])
def test_ci_round_trip_matches_metafor(metafor: tuple[dict[str, Any], dict[str, Any]], level: int) -> None:
    _, out = metafor
    r = out["ci"][str(level)]
    lower, upper = to_ci(r["yi"], r["vi"], level=level, transf="exp")
    np.testing.assert_allclose(lower, r["lb"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(upper, r["ub"], rtol=1e-10, atol=1e-12)
    es = from_ci(np.exp(r["yi"]), r["lb"], r["ub"], level=level, transf="log")
    np.testing.assert_allclose(es.yi, r["yi"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(es.vi, r["vi"], rtol=1e-10, atol=1e-12)


@pytest.mark.metafor
@pytest.mark.parametrize("vtype", ["LS", "UB", "LS2", "AV"])
def test_smd_from_t_matches_metafor_ti(metafor: tuple[dict[str, Any], dict[str, Any]], vtype: str) -> None:
    data, out = metafor
    es = smd_from_t(data["ti"], data["n1i"], data["n2i"], vtype=vtype)
    np.testing.assert_allclose(es.yi, out["smd"][vtype]["yi"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(es.vi, out["smd"][vtype]["vi"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("call", "field", "index", "fragment"),
    [
        (lambda: from_ci([1, 2], [0, 1], [2]), "ci_upper", None, "has 1 values"),
        (lambda: from_ci([1, 2], [0, 3], [2, 2.5]), "ci_lower", 1, "above the upper"),
        (lambda: from_ci([1.5], [0.0], [2.0], transf="log"), "ci_lower", 0, "> 0"),
        (lambda: from_ci([1.5], [0.5], [-2.0], transf=np.log), "ci_upper", 0, "> 0"),
        (lambda: from_ci([1], [0], [2], level=0.95), "level", None, "percentage"),
        (lambda: from_ci([1], [0], [2], transf="sqrt"), "transf", None, "transf must be"),
        (lambda: from_p([0.2], [0.0]), "pvalue", 0, "(0, 1]"),
        (lambda: sei_to_vi([0.1, -0.1]), "sei", 1, ">= 0"),
        (lambda: vi_to_sei([-0.1]), "vi", 0, ">= 0"),
        (lambda: smd_from_t([1.0], [1], [10]), "n1i", 0, ">= 2"),
        (lambda: smd_from_t([1.0], [10], [10], vtype="HO"), "vtype", None, "not available"),
        (lambda: smd_from_f([-4.0], [10], [10], sign=1), "fi", 0, ">= 0"),
        (lambda: smd_from_f([4.0, 1.0], [10, 10], [10, 10], sign=[1, 0]), "sign", 1, "+1 or -1"),
        (lambda: smd_from_f([4.0, 1.0], [10, 10], [10, 10], sign=[1, 1, 1]), "sign", None, "has 3 values"),
        (lambda: smd_from_p([1.5], [10], [10], sign=1), "pi", 0, "(0, 1]"),
    ],
)
def test_bad_input_names_argument_and_index(call: Any, field: str, index: int | None, fragment: str) -> None:
    with pytest.raises(StatsInputError) as err:
        call()
    assert err.value.field == field
    assert err.value.index == index
    assert fragment in str(err.value)
