"""Parity of ``cumul`` (metafor's ``cumul.rma.uni`` with an ``order``) and ``baujat`` (the x/y values of
metafor's ``baujat()``, taken from its invisible return value) on Hypothesis-generated data, one Rscript run;
within 1e-7 relative, both sides with tight iteration settings (metafor's default ``tol`` for the PM/EB
root search is only about 1e-4, which would dominate the comparison)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, baujat, cumul, meta, meta_reg

pytestmark = pytest.mark.metafor
SEED = parity_seed(20261317)
CTRL = {"threshold": 1e-10, "maxiter": 1000, "tol": 1e-12}


@st.composite
def dataset(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(st.integers(2, 25))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vi = rng.uniform(0.005, draw(st.sampled_from([0.05, 0.5])), k)
    x1 = rng.normal(0, 1, k).round(6)
    yi = draw(st.floats(-0.5, 0.5)) + 0.2 * x1 + rng.normal(0, np.sqrt(vi + draw(st.sampled_from([0, 0.1]))))
    return {
        "yi": yi.round(8).tolist(),
        "vi": vi.round(8).tolist(),
        "x1": x1.tolist(),
        "key": rng.integers(1990, 2000, k).tolist(),
        "reg": bool(k >= 5 and draw(st.booleans())),
        "method": draw(st.sampled_from(["DL", "REML", "EE", "PM", "SJ"])),
        "test": draw(st.sampled_from(["z", "knha"])),
    }


R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
ctrl <- list(threshold = 1e-10, maxiter = 1000, tol = 1e-12)
out <- lapply(cases, function(cs) {
  df <- data.frame(yi = cs$yi, vi = cs$vi, key = cs$key)
  res <- rma(yi, vi, data = df, method = cs$method, test = cs$test, control = ctrl)
  cu <- cumul(res, order = key)
  tau2 <- if (is.null(cu$tau2)) rep(0, length(cu$estimate)) else cu$tau2
  st <- if (is.null(cu$zval)) cu$tval else cu$zval
  fit <- res
  if (cs$reg) fit <- rma(cs$yi, cs$vi, mods = ~ cs$x1, method = cs$method, test = cs$test, control = ctrl)
  pdf(NULL); bj <- baujat(fit); dev.off()
  list(cumul = list(cu$estimate, cu$se, st, cu$pvals, cu$ci.lb, cu$ci.ub, cu$Q, cu$Qp, tau2, cu$I2, cu$H2),
       bx = bj$x, by = bj$y)
})
"""


def test_cumul_and_baujat_match_metafor(rscript: str) -> None:
    cases = draw_distinct(dataset(), 30, seed=SEED)
    results = run_r(rscript, R_CODE, data={"cases": json.dumps(cases)})
    failures = []

    def close(a: Any, b: Any) -> bool:
        x = np.array(a, dtype=float)
        y = np.array([np.nan if v is None else v for v in np.atleast_1d(b)], dtype=float)
        return bool(np.all(np.isclose(x, y, rtol=1e-7, atol=1e-9) | (np.isnan(x) & np.isnan(y))))

    for i, (cs, want) in enumerate(zip(cases, results, strict=True)):
        res = meta(cs["yi"], cs["vi"], method=cs["method"], test=cs["test"], control=CTRL)
        cu = cumul(res, order=cs["key"], control=CTRL)
        ours = [cu.estimate, cu.se, cu.statistic, cu.pvalue, cu.ci_lower, cu.ci_upper, cu.q, cu.q_pvalue]
        ours += [cu.tau2, cu.i2, cu.h2]
        for name, a, b in zip(
            ("b", "se", "z", "p", "lo", "hi", "Q", "Qp", "tau2", "I2", "H2"), ours, want["cumul"], strict=True
        ):
            if not close(a, b):
                failures.append(f"case {i} cumul {name} ({cs['method']}, {cs['test']}): ours {a} metafor {b}")
        fit: Any = res
        if cs["reg"]:
            mods = {"x1": cs["x1"]}
            fit = meta_reg(cs["yi"], cs["vi"], mods, method=cs["method"], test=cs["test"], control=CTRL)
        bj = baujat(fit, control=CTRL)
        if not (close(bj.x, want["bx"]) and close(bj.y, want["by"])):
            failures.append(
                f"case {i} baujat ({cs['method']}, reg {cs['reg']}): ours {bj.x} {bj.y} metafor {want}"
            )
    assert not failures, "\n".join(failures[:20])


def test_cumul_bad_input() -> None:
    res = meta([0.1, 0.2, 0.3], [0.01, 0.01, 0.01])
    with pytest.raises(StatsInputError, match="order"):
        cumul(res, order=[1, 2])
    with pytest.raises(StatsInputError, match="k >= 2"):
        baujat(meta([0.1], [0.01]))
