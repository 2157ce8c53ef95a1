"""Parity of ``profile`` (the profile likelihood of τ²) with metafor 3.8.1's ``profile.rma.uni`` (live).

Hypothesis draws datasets (k 3-30; heterogeneous or homogeneous; with or without a moderator); metafor
fits ``rma`` with the drawn estimator and test (``control = list(threshold = 1e-10, tol = 1e-12)``) and
profiles it twice in ONE ``Rscript`` run: over a given ``xlim`` (every grid value, log-likelihood,
coefficient and CI bound within 1e-6) and over its default range (ours within 2e-4 at the ends: metafor's
``profile`` finds the Q-profile bounds with ``uniroot``'s default tolerance ε^¼ ≈ 1.2e-4, ours to 1e-12;
the grid in between follows linearly).

``METAREVIEW_PARITY_SEED=<int>`` draws from another Hypothesis seed.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, meta, meta_reg
from metareview.stats.profile_lik import profile

pytestmark = pytest.mark.metafor

SEED = parity_seed(20260715)
N_CASES = 16
CONTROL = {"threshold": 1e-10, "maxiter": 1000}


@st.composite
def case(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(st.integers(3, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vi = rng.uniform(0.005, draw(st.sampled_from([0.05, 0.5, 2.0])), k)
    tau = draw(st.sampled_from([0.0, 0.2, 0.6]))
    x = rng.normal(size=k)
    yi = 0.3 + 0.2 * x + rng.normal(0, tau, k) + rng.normal(0, np.sqrt(vi))
    mods = draw(st.booleans()) and k >= 5
    return {
        "yi": yi.round(8).tolist(),
        "vi": vi.round(8).tolist(),
        "x": x.round(8).tolist() if mods else None,
        "method": draw(st.sampled_from(["REML", "ML", "DL", "PM", "SJ"])),
        "test": draw(st.sampled_from(["z", "knha", "t"])),
        "xlim": sorted(round(v, 6) for v in (draw(st.floats(0, 0.5)), draw(st.floats(0.05, 2.0)))),
        "steps": draw(st.integers(2, 25)),
    }


R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
ctrl <- list(threshold = 1e-10, maxiter = 1000, tol = 1e-12)
out <- lapply(cases, function(cs) {
  args <- list(yi = cs$yi, vi = cs$vi, method = cs$method, test = cs$test, control = ctrl)
  if (!is.null(cs$x)) { x <- cs$x; args$mods <- ~ x }
  fit <- suppressWarnings(do.call(rma, args))
  pr <- profile(fit, xlim = cs$xlim, steps = cs$steps, plot = FALSE, progbar = FALSE)
  dflt <- suppressWarnings(profile(fit, plot = FALSE, progbar = FALSE))
  list(tau2 = pr$tau2, ll = pr$ll, beta = as.matrix(pr$beta), ci_lb = as.matrix(pr$ci.lb),
       ci_ub = as.matrix(pr$ci.ub), maxll = c(pr$maxll), vc = pr$vc, xlim_default = dflt$xlim,
       ll_default = dflt$ll)
})
"""


@pytest.fixture(scope="module")
def parity(rscript: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    cases = draw_distinct(case(), N_CASES, seed=SEED)
    return list(zip(cases, run_r(rscript, R_CODE, data={"cases": json.dumps(cases)}), strict=True))


def _fit(cs: dict[str, Any]) -> Any:
    if cs["x"] is None:
        return meta(cs["yi"], cs["vi"], method=cs["method"], test=cs["test"], control=CONTROL)
    return meta_reg(cs["yi"], cs["vi"], {"x": cs["x"]}, method=cs["method"], test=cs["test"], control=CONTROL)


def test_profile_matches_metafor_on_a_given_grid(parity: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    for cs, want in parity:
        fit = _fit(cs)
        assert fit.tau2 == pytest.approx(want["vc"], abs=1e-6)
        got = profile(fit, xlim=tuple(cs["xlim"]), steps=cs["steps"])
        np.testing.assert_allclose(got.tau2, want["tau2"], atol=1e-12, err_msg=str(cs))
        np.testing.assert_allclose(got.loglik, want["ll"], atol=1e-6, err_msg=str(cs))
        for ours, name in ((got.estimates, "beta"), (got.ci_lower, "ci_lb"), (got.ci_upper, "ci_ub")):
            theirs = np.asarray(want[name], dtype=float).reshape(ours.shape)
            np.testing.assert_allclose(ours, theirs, atol=1e-6, err_msg=f"{name} {cs}")
        assert got.max_loglik == pytest.approx(want["maxll"], abs=1e-6)
        assert got.reml == (cs["method"] == "REML")


def test_profile_default_range_follows_metafor(parity: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    for cs, want in parity:
        got = profile(_fit(cs))
        np.testing.assert_allclose(got.xlim, want["xlim_default"], atol=2e-4, err_msg=str(cs))
        assert len(got.loglik) == len(want["ll_default"]) == 20


def test_profile_refuses_equal_effects_and_bad_grids() -> None:
    with pytest.raises(StatsInputError, match="equal-effects"):
        profile(meta([0.1, 0.2, 0.4], [0.01, 0.02, 0.01], method="EE"))
    fit = meta([0.1, 0.2, 0.4], [0.01, 0.02, 0.01])
    with pytest.raises(StatsInputError, match="steps"):
        profile(fit, steps=1)
    with pytest.raises(StatsInputError, match="xlim"):
        profile(fit, xlim=(-1.0, 1.0))
    res = profile(fit, xlim=(0.5, 0.0), steps=3)
    assert res.tau2.tolist() == [0.0, 0.25, 0.5]
    assert "Profile restricted log-likelihood" in str(res) and res.to_frame().shape == (3, 3)
