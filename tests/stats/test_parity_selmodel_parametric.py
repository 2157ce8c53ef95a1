"""Live parity of the parametric selection models (beta, halfnorm, negexp, logistic, power) with metafor
3.8.1's ``selmodel`` at its defaults, on one generated dataset per type (ONE ``Rscript`` run).

metafor (``optim``'s ``maxit`` raised to 1000: at 100 it stops unconverged on some small datasets; where it
still does not converge, the next of three datasets drawn for the type is used) integrates each study's
density with ``integrate()`` at ``rel.tol`` ε^¼ ≈ 1.2e-4 and stops BFGS at ``reltol = 1e-8``: its
log-likelihood is then ~1e-4 off the exact one, and its SEs, from a numerical Hessian of that noisy
likelihood, can be far off (seed 2, negexp: SE of the estimate 0.4155 at metafor's defaults, 0.2950 with
``intCtrl = list(rel.tol = 1e-8)``, 0.2951 here). This test therefore checks, on data nobody tuned, that both
fit the same model: log-likelihood within 2e-3 below and 1e-2 above metafor's, LRTs within 1e-2, estimates
within 2e-3 (τ² 1e-3). Standard errors are held to 1e-5 against metafor run with tight integration in
``test_analysis_selmodel_hackshaw1998.py`` (values pinned: such runs take minutes).

``METAREVIEW_PARITY_SEED=<int>`` draws from another Hypothesis seed.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r
from scipy import stats

from metareview.stats import meta
from metareview.stats.selmodel import selmodel

pytestmark = pytest.mark.metafor

SEED = parity_seed(20260717)
TYPES = ("beta", "halfnorm", "negexp", "logistic", "power")


@st.composite
def published(draw: st.DrawFn) -> dict[str, Any]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k_target = draw(st.integers(12, 18))
    yi: list[float] = []
    vi: list[float] = []
    while len(yi) < k_target:
        v = rng.uniform(0.01, 0.1)
        y = 0.15 + rng.normal(0, 0.2) + rng.normal(0, math.sqrt(v))
        if stats.norm.sf(y / math.sqrt(v)) <= 0.05 or rng.random() < 0.4:
            yi.append(round(y, 8))
            vi.append(round(v, 8))
    return {"yi": yi, "vi": vi}


TRIES = 3  # datasets per type: metafor's BFGS may not converge on one; the first that converges is compared

R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
out <- lapply(cases, function(tries) {
  for (i in seq_along(tries)) {
    cs <- tries[[i]]
    fit <- rma(cs$yi, cs$vi, method = "ML")
    sel <- tryCatch(suppressWarnings(selmodel(fit, type = cs$type, control = list(maxit = 1000))),
                    error = function(e) NULL)
    if (!is.null(sel)) break
  }
  list(used = i - 1, b = c(sel$beta), se = sel$se, tau2 = sel$tau2, se_tau2 = sel$se.tau2,
       delta = sel$delta, se_delta = sel$se.delta, ll = sel$ll, LRT = sel$LRT, LRT_tau2 = sel$LRT.tau2)
})
"""


@pytest.fixture(scope="module")
def parity(rscript: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    data = draw_distinct(published(), TRIES * len(TYPES), seed=SEED)
    tries = [[d | {"type": t} for d in data[j * TRIES : (j + 1) * TRIES]] for j, t in enumerate(TYPES)]
    results = run_r(rscript, R_CODE, data={"cases": json.dumps(tries)})
    return [(tried[want["used"]], want) for tried, want in zip(tries, results, strict=True)]


@pytest.mark.parametrize("index", range(len(TYPES)), ids=list(TYPES))
def test_parametric_model_matches_metafor_defaults(
    parity: list[tuple[dict[str, Any], dict[str, Any]]], index: int
) -> None:
    cs, want = parity[index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = selmodel(meta(cs["yi"], cs["vi"], method="ML"), cs["type"])
    # metafor's likelihood is off by its integration error (~1e-4 per study at most); beyond that ours may
    # only be higher (metafor's BFGS stops short at reltol 1e-8), not lower
    assert -2e-3 <= got.loglik - want["ll"] <= 1e-2
    assert got.lrt == pytest.approx(want["LRT"], abs=1e-2)
    # the test for heterogeneity refits with tau^2 = 0 from metafor's start values at its default reltol,
    # which can stop ~1e-3 short in likelihood (seed 1, power: LRT 11.0056 here, 11.0079 in metafor)
    assert got.lrt_tau2 == pytest.approx(want["LRT_tau2"], abs=1e-2)
    delta = np.asarray(want["delta"], dtype=float)
    if np.any(delta < 0.01) or np.any(delta > 99):
        # delta at a bound (no selection, or all of it): the optimum is at infinity on the search scale and
        # each optimiser stops elsewhere (here 6e-11 against metafor's 0.0023 on seed 20260717's halfnorm
        # data); the likelihood and the LRTs above are what both agree on
        np.testing.assert_allclose(got.estimates, want["b"], atol=2e-2)
        return
    np.testing.assert_allclose(got.estimates, want["b"], atol=2e-3)
    assert got.tau2 == pytest.approx(want["tau2"], abs=1e-3)
    np.testing.assert_allclose(got.delta, delta, atol=2e-3, rtol=2e-3)
    assert np.all(np.isfinite(got.se)) and np.all(np.isfinite(got.se_delta))
