"""Parity of ``permutest`` with metafor's ``permutest.rma.uni`` in exact mode (sign flips for intercept-only
fits, distinct row permutations of the model matrix for meta-regression), on Hypothesis-generated data in
one Rscript run: the p-values must be identical (they are shares of a finite set of permutations).
Random mode is checked against the exact distribution within Monte Carlo error."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, meta, meta_reg, permutest

SEED = parity_seed(20261316)


@st.composite
def dataset(draw: st.DrawFn) -> dict[str, Any]:
    reg = draw(st.booleans())
    k = draw(st.integers(4, 6)) if reg else draw(st.integers(2, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vi = rng.uniform(0.005, draw(st.sampled_from([0.05, 0.5])), k)
    x1 = rng.integers(0, 3, k).astype(float) if draw(st.booleans()) else rng.normal(0, 1, k).round(6)
    g = rng.integers(0, 2, k).astype(float)
    if reg and (np.ptp(x1) == 0 or np.ptp(g) == 0):  # a constant column would make X rank deficient
        x1[0], x1[1], g[0], g[1] = 0.0, 1.0, 0.0, 1.0
    two = reg and k >= 5 and draw(st.booleans())
    if two and np.linalg.matrix_rank(np.column_stack([np.ones(k), x1, g])) < 3:
        two = False
    yi = (
        draw(st.floats(-0.5, 0.5))
        + 0.3 * x1 * reg
        + rng.normal(0, np.sqrt(vi + draw(st.sampled_from([0, 0.1]))))
    )
    return {
        "yi": yi.round(8).tolist(),
        "vi": vi.round(8).tolist(),
        "mods": (["x1", "g"] if two else ["x1"]) if reg else [],
        "x1": x1.tolist(),
        "g": g.tolist(),
        "method": draw(st.sampled_from(["DL", "REML", "EE", "PM", "HE"])),
        "test": draw(st.sampled_from(["z", "knha"])),
    }


R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
out <- lapply(cases, function(cs) {
  if (length(cs$mods) == 0) {
    res <- rma(cs$yi, cs$vi, method = cs$method, test = cs$test)
  } else {
    X <- sapply(cs$mods, function(m) cs[[m]])
    res <- rma(cs$yi, cs$vi, mods = X, method = cs$method, test = cs$test)
  }
  pt <- permutest(res, iter = 1000, progbar = FALSE)
  list(pval = as.numeric(pt$pval), QMp = pt$QMp, n = pt$exact.iter, zval = as.numeric(res$zval))
})
"""


def _fit(cs: dict[str, Any]) -> Any:
    if not cs["mods"]:
        return meta(cs["yi"], cs["vi"], method=cs["method"], test=cs["test"])
    return meta_reg(
        cs["yi"], cs["vi"], mods={m: cs[m] for m in cs["mods"]}, method=cs["method"], test=cs["test"]
    )


@pytest.mark.metafor
def test_exact_permutest_matches_metafor(rscript: str) -> None:
    cases = draw_distinct(dataset(), 30, seed=SEED)
    results = run_r(rscript, R_CODE, data={"cases": json.dumps(cases)})
    failures = []
    for i, (cs, want) in enumerate(zip(cases, results, strict=True)):
        fit = _fit(cs)
        got = permutest(fit, iter=1000)
        assert got.exact
        ref_p = np.atleast_1d(np.array(want["pval"], dtype=float))
        n = want["n"]
        # R's JSON carries 15 significant digits: compare the permutation counts behind the shares
        ours = np.rint(np.append(got.pvalue, got.qm_pvalue) * n)
        ref = np.append(ref_p, want["QMp"]) * n
        ok = (
            got.exact_iterations == n
            and got.iterations == n
            and bool(np.all(np.abs(ref - np.rint(ref)) < 1e-6))
            and np.array_equal(ours, np.rint(ref))
            and np.allclose(got.pvalue, ref_p, rtol=1e-13, atol=0)
        )
        if not ok:
            failures.append(
                f"case {i} ({cs['method']}, {cs['test']}, mods {cs['mods']}): ours n={got.iterations} "
                f"p={got.pvalue} QMp={got.qm_pvalue}; metafor n={want['n']} p={ref_p} QMp={want['QMp']}"
            )
    assert not failures, "\n".join(failures[:20])


def _within_mc(p_random: float, p_exact: float, iters: int) -> bool:
    sd = math.sqrt(max(p_exact * (1 - p_exact), 1 / iters) / iters)
    return abs(p_random - p_exact) <= 4.5 * sd + 1 / iters


def test_random_permutest_agrees_with_exact_within_monte_carlo_error() -> None:
    rng = np.random.default_rng(7)
    k = 9
    v = rng.uniform(0.01, 0.1, k)
    y = 0.15 + rng.normal(0, np.sqrt(v + 0.02))
    fit = meta(y, v, method="REML")
    exact = permutest(fit, exact=True)
    assert exact.iterations == 2**9
    rand = permutest(fit, iter=4000, exact=False, seed=11)
    assert not rand.exact and rand.iterations == 4000 and rand.seed == 11
    assert _within_mc(float(rand.pvalue[0]), float(exact.pvalue[0]), 4000)
    assert _within_mc(rand.qm_pvalue, exact.qm_pvalue, 4000)

    x = rng.normal(0, 1, 7)
    yr = 0.2 * x + rng.normal(0, 0.2, 7)
    reg = meta_reg(yr, v[:7], mods={"x": x}, method="DL")
    ex = permutest(reg, exact=True)
    assert ex.iterations == math.factorial(7)
    rr = permutest(reg, iter=3000, seed=3)  # 5040 > 3000: random
    assert not rr.exact
    for j in range(2):
        assert _within_mc(float(rr.pvalue[j]), float(ex.pvalue[j]), 3000)
    assert _within_mc(rr.qm_pvalue, ex.qm_pvalue, 3000)


def test_random_permutest_is_reproducible_and_counts_the_observed() -> None:
    fit = meta_reg([0.1, 0.5, 0.2, 0.8, 0.3, 0.9, 0.4, 0.6], [0.02] * 8, mods={"x": [1, 5, 2, 8, 3, 9, 4, 6]})
    a = permutest(fit, iter=200, seed=5)
    b = permutest(fit, iter=200, seed=5)
    assert np.array_equal(a.pvalue, b.pvalue) and a.qm_pvalue == b.qm_pvalue
    assert np.array_equal(a.statistic_perm[0], fit.statistic)
    assert a.qm_pvalue >= 1 / 200


def test_permutest_bad_input() -> None:
    fit = meta([0.1, 0.2, 0.3], [0.01, 0.01, 0.01])
    with pytest.raises(StatsInputError, match="iter"):
        permutest(fit, iter=1)
    with pytest.raises(StatsInputError, match="meta"):
        permutest("res")  # type: ignore[arg-type]
    big = meta(np.linspace(0, 1, 30), np.full(30, 0.01))
    with pytest.raises(StatsInputError, match="exact"):
        permutest(big, exact=True)
