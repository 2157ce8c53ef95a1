"""Parity of ``robust`` with metafor's ``robust()`` and clubSandwich (live, through one Rscript run).

Hypothesis draws clustered datasets (3 to 15 clusters of 1 to 5 effects; cluster- and effect-level
heterogeneity; a numeric moderator that varies within clusters or only between them, and a three-level
factor). Each dataset is fitted here with ``meta``, ``meta_reg`` (``~ x`` and ``~ x + g``) and
``meta_mv`` (``~ 1`` and ``~ x``), and metafor refits the same model with the variance components
FIXED at our estimates (``rma(..., tau2 = )`` / ``rma.mv(..., sigma2 = )``), so the comparison is of the
cluster-robust step alone (the fits' own parity is tested in test_parity_meta/test_parity_multilevel).
Then, for each model, with the clustering variable of the data or a coarser one (pairs of clusters):

* ``robust(fit, cl)`` vs ``robust(x, cl)`` (CR1, t(n − p)), ``adjust=False`` vs ``adjust=FALSE`` (CR0),
  also with a clustering that straddles the model's clusters (rows in threes);
* ``robust(fit, cl, clubsandwich=True, vcov=V)`` vs ``robust(x, cl, clubSandwich=TRUE, vcov=V)`` for
  V = CR2, CR1, CR0: clubSandwich's vcovCR, Satterthwaite df (``coef_test``), ``conf_int`` and the
  HTZ ``Wald_test`` of the moderators.

Every number agrees within 1e-6 (relative above 10).
"""

from __future__ import annotations

import json
import math
import subprocess
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from needs import skip_or_fail
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, meta, meta_mv, meta_reg, robust

pytestmark = pytest.mark.metafor

TOL = 1e-6
N_CASES = 20
SEED = parity_seed(20261313)
CONTROL = {"threshold": 1e-10, "maxiter": 1000}


@pytest.fixture(scope="module")
def club(rscript: str) -> str:
    """Rscript, with clubSandwich installed (Debian: r-cran-clubsandwich)."""
    proc = subprocess.run(
        [rscript, "-e", "library(clubSandwich)"], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        skip_or_fail("R package clubSandwich not installed (apt-get install r-cran-clubsandwich)")
    return rscript


@st.composite
def clustered(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(3, 15))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = rng.integers(1, 6, n)
    if sizes.max() == 1:
        sizes[0] = 2  # meta_mv needs a cluster with two effects
    cl = np.repeat(np.arange(n), sizes)
    k = cl.size
    lo, hi = draw(st.sampled_from([(0.001, 0.05), (0.01, 0.5), (0.5, 5.0)]))
    vi = rng.uniform(lo, hi, k)
    between = draw(st.booleans())
    x = rng.normal(size=n)[cl] if between else rng.normal(size=k)
    g = np.array(["a", "b", "c"])[rng.integers(0, 3, k)]
    g[:3] = ["a", "b", "c"]  # every level present
    tau = draw(st.sampled_from([0.0, 0.2, 0.6]))
    yi = 0.2 + 0.3 * x + rng.normal(0, tau, n)[cl] + rng.normal(0, tau / 2, k) + rng.normal(0, np.sqrt(vi))
    return {
        "yi": yi.round(8).tolist(),
        "vi": vi.round(8).tolist(),
        "x": x.round(8).tolist(),
        "g": g.tolist(),
        "cl": cl.tolist(),
        "coarse": (cl // 2).tolist(),
        "offset": (np.arange(k) // 3).tolist(),  # straddles the clusters of the data
        "between": between,
    }


def _fits(case: dict[str, Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    """(label, our fit, what R needs to refit it) for every model of the case."""
    y, v = case["yi"], case["vi"]
    mods_x = {"x": case["x"]}
    mods_xg = {"x": case["x"], "g": case["g"]}
    out: list[tuple[str, Any, dict[str, Any]]] = []
    for method in ("EE", "DL", "REML"):
        f = meta(y, v, method=method, control=CONTROL)
        out.append((f"meta {method}", f, {"kind": "uni", "mods": "none", "method": method, "tau2": f.tau2}))
        for label, mods in (("x", mods_x), ("xg", mods_xg)):
            if len(y) >= 6:
                r = meta_reg(y, v, mods, method=method, control=CONTROL)
                spec = {"kind": "uni", "mods": label, "method": method, "tau2": r.tau2}
                out.append((f"meta_reg ~{label} {method}", r, spec))
    for label, mv_mods in (("none", None), ("x", mods_x)):
        if len(y) >= 4:
            m = meta_mv(y, v, case["cl"], mods=mv_mods, method="REML")
            spec = {"kind": "mv", "mods": label, "sigma2": [m.sigma2_cluster, m.sigma2_effect]}
            out.append((f"meta_mv ~{label}", m, spec))
    return out


R_CODE = """
suppressMessages(library(clubSandwich))
jobs <- fromJSON(jobs, simplifyVector = TRUE, simplifyDataFrame = FALSE)
nz <- function(v) if (is.null(v)) NA else v
pack <- function(r) list(b = c(r$b), se = r$se, zval = c(r$zval), pval = r$pval, ci_lb = r$ci.lb,
                         ci_ub = r$ci.ub, dfs = r$dfs, QM = r$QM, QMdf = r$QMdf, QMp = r$QMp)
out <- lapply(jobs, function(j) {
  x <- j$x; g <- factor(j$g); id <- seq_along(j$yi); cl <- j$cl
  form <- switch(j$mods, none = ~ 1, x = ~ x, xg = ~ x + g)
  fit <- if (j$kind == "uni") {
    rma(j$yi, j$vi, mods = form, method = j$method, tau2 = if (j$method == "EE") NULL else j$tau2)
  } else {
    rma.mv(j$yi, j$vi, mods = form, random = ~ 1 | cl / id, sigma2 = j$sigma2)
  }
  res <- list(b = c(fit$b))
  for (cn in c("cl", "coarse", if (j$kind == "mv") "offset")) {  # offset: the non-nested meta_mv path
    cc <- j[[cn]]
    if (length(unique(cc)) <= fit$p) next
    res[[paste(cn, "CR1")]] <- pack(robust(fit, cc))
    res[[paste(cn, "CR0")]] <- pack(robust(fit, cc, adjust = FALSE))
    if (cn == "offset") next  # clubSandwich: random effects not nested within the clustering variable
    for (v in c("CR2", "CR1", "CR0"))
      res[[paste(cn, "cs", v)]] <- pack(robust(fit, cc, clubSandwich = TRUE, vcov = v))
  }
  res
})
"""


def _close(got: Any, want: Any) -> bool:
    g = np.atleast_1d(np.asarray(got, dtype=float))
    w = np.atleast_1d(np.asarray([math.nan if x is None else x for x in np.atleast_1d(want)], dtype=float))
    if g.shape != w.shape:
        return False
    both_nan = np.isnan(g) & np.isnan(w)
    ok = np.abs(g - w) <= TOL * np.maximum(1.0, np.abs(w) / 10)
    return bool(np.all(ok | both_nan))


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return draw_distinct(clustered(), N_CASES, seed=SEED)


def test_generated_cases_cover_the_space(cases: list[dict[str, Any]]) -> None:
    n_clusters = [max(c["cl"]) + 1 for c in cases]
    assert min(n_clusters) <= 4 and max(n_clusters) >= 12
    assert {c["between"] for c in cases} == {True, False}
    assert any(1 in np.bincount(c["cl"]) for c in cases)  # singleton clusters


def test_robust_matches_metafor_and_clubsandwich(club: str, cases: list[dict[str, Any]]) -> None:
    jobs: list[dict[str, Any]] = []
    ours: list[tuple[str, Any]] = []
    for i, case in enumerate(cases):
        for label, fit, spec in _fits(case):
            jobs.append({**case, **spec})
            ours.append((f"case {i} (k={len(case['yi'])}, n={max(case['cl']) + 1}) {label}", fit))
    results = run_r(club, R_CODE, data={"jobs": json.dumps(jobs)})
    failures: list[str] = []
    compared = 0
    for (label, fit), job, want in zip(ours, jobs, results, strict=True):
        coef = fit.coef if hasattr(fit, "coef") else getattr(fit, "estimates", None)
        if coef is None:
            coef = [fit.estimate]
        if not _close(coef, want["b"]):
            failures.append(f"{label}: refit b differs {coef} vs {want['b']}")
            continue
        for cn in ("cl", "coarse", "offset"):
            for variant in ("CR1", "CR0", "cs CR2", "cs CR1", "cs CR0"):
                key = f"{cn} {variant}"
                if key not in want:
                    continue
                cs = variant.startswith("cs")
                got = robust(
                    fit,
                    job[cn],
                    adjust=variant != "CR0",
                    clubsandwich=cs,
                    vcov=variant.split()[-1],
                )
                w = want[key]
                pairs = {
                    "se": (got.se, w["se"]),
                    "t": (got.statistic, w["zval"]),
                    # metafor keeps one n - p for all coefficients in its default path
                    "df": (got.df, np.broadcast_to(np.asarray(w["dfs"], dtype=float), got.df.shape)),
                    "pval": (got.pvalue, w["pval"]),
                    "ci": (np.r_[got.ci_lower, got.ci_upper], np.r_[w["ci_lb"], w["ci_ub"]]),
                    "QM": (got.qm, w["QM"]),
                    "QMdf": ((got.qm_df1, got.qm_df2), w["QMdf"]),
                    "QMp": (got.qm_pvalue, w["QMp"]),
                }
                compared += 1
                for name, (a, b) in pairs.items():
                    if not _close(a, b):
                        failures.append(f"{label} {key} {name}: ours {a} R {b}")
    assert not failures, "\n".join(failures[:20])
    assert compared >= 5 * N_CASES * 4


def test_bad_clusters_raise() -> None:
    fit = meta([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.02])
    with pytest.raises(StatsInputError, match="3 labels for 4"):
        robust(fit, [1, 1, 2])
    with pytest.raises(StatsInputError, match="number of clusters"):
        robust(fit, [1, 1, 1, 1])
    with pytest.raises(StatsInputError, match="missing"):
        robust(fit, [1, None, 2, 2])
    mv = meta_mv([0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03], [1, 1, 2, 2, 3, 3])
    with pytest.raises(StatsInputError, match="not nested"):
        robust(mv, [1, 2, 2, 3, 3, 4], clubsandwich=True)
    assert robust(mv, [1, 2, 2, 3, 3, 4]).n_clusters == 4  # metafor's default path needs no nesting
    with pytest.raises(StatsInputError, match="vcov"):
        robust(fit, [1, 1, 2, 2], clubsandwich=True, vcov="CR3")
