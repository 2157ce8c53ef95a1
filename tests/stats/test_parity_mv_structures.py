"""Parity of ``meta_mv`` beyond the three-level model with metafor's ``rma.mv`` (live, one Rscript run).

Hypothesis draws 36 datasets of six structures (k up to about 60):

* ``nested4`` -- ``random = ~ 1 | district/school/effect`` (three nested components);
* ``crossed`` -- ``random = list(~ 1 | study, ~ 1 | outcome)``;
* ``crossed3`` -- ``random = list(~ 1 | study/es, ~ 1 | outcome)`` (nested and crossed together);
* ``mvV`` -- ``random = ~ 1 | study/es`` with a block-diagonal ``V`` (correlation rho within studies);
* ``mvV1`` -- ``random = ~ 1 | study`` with a full ``V`` whose blocks straddle studies;
* ``fixed`` -- ``~ 1 | district/school/effect`` with the first ``sigma2`` fixed (metafor ``c(x, NA, NA)``),

each with or without a moderator, REML or ML, ``test = "z"`` or ``"t"`` with ``dfs = "residual"`` or
``"contain"``. All go to R in ONE ``Rscript`` run and are fitted there at a tight ``nlminb`` tolerance;
where metafor leaves small components off the zero bound, it is refitted with them fixed at 0 and the
higher likelihood kept (as in test_parity_multilevel.py). Every fit must agree within 1e-6 on the
coefficients, SEs, CIs, variance components, QE, logLik, AIC, the df, the prediction interval (QM
relatively), and our log-likelihood must never be below metafor's.

The multilevel I^2 (metafor FAQ / Viechtbauer's matrix method, ``W = solve(V)``) is checked twice: at
metafor's estimates (end to end; the I^2 are percentages, so they carry 100 times the error of the
sigma2), and computed in R at OUR sigma2 (the formula alone, within 1e-9).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import meta_mv

pytestmark = pytest.mark.metafor

N_CASES = 36
TOL = 1e-6
SEED = parity_seed(20261314)
STRUCTURES = ("nested4", "crossed", "crossed3", "mvV", "mvV1", "fixed")


def _nested(rng: np.random.Generator) -> dict[str, Any]:
    while True:
        n_d = int(rng.integers(3, 7))
        district, school = [], []
        for d in range(n_d):
            for s in range(int(rng.integers(1, 4))):
                n_e = int(rng.integers(1, 4))
                district += [d] * n_e
                school += [s] * n_e
        k = len(district)
        n_s = len(set(zip(district, school, strict=True)))
        if n_d < n_s < k:  # three distinct partitions
            return {"district": district, "school": school, "effect": list(range(k))}


def _crossed(rng: np.random.Generator) -> dict[str, Any]:
    while True:
        n = int(rng.integers(5, 13))
        n_o = int(rng.integers(2, 5))
        study, outcome = [], []
        for j in range(n):
            outs = rng.choice(n_o, size=int(rng.integers(1, n_o + 1)), replace=False)
            study += [j] * outs.size
            outcome += sorted(outs.tolist())
        if len(set(outcome)) == n_o and len(study) > n:
            return {"study": study, "outcome": outcome, "es": list(range(len(study)))}


@st.composite
def mv_case(draw: st.DrawFn) -> dict[str, Any]:
    structure = draw(st.sampled_from(STRUCTURES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([0.02, 0.1, 0.4]))
    vmax = draw(st.sampled_from([0.05, 0.3]))
    case: dict[str, Any] = {"structure": structure, "V": None, "sigma2": None}
    if structure in ("nested4", "fixed"):
        cols = _nested(rng)
        d, s = np.array(cols["district"]), np.array(cols["school"])
        k = d.size
        school_code = np.unique(d * 10 + s, return_inverse=True)[1]
        effects = (
            rng.normal(0, math.sqrt(scale), d.max() + 1)[d]
            + rng.normal(0, math.sqrt(scale / 2), school_code.max() + 1)[school_code]
            + rng.normal(0, math.sqrt(scale / 4), k)
        )
        case["random"] = ["~ 1 | district/school/effect"]
        if structure == "fixed":
            case["sigma2"] = [round(float(rng.uniform(0.0, 0.2)), 4), None, None]
    else:
        cols = _crossed(rng)
        st_, out = np.array(cols["study"]), np.array(cols["outcome"])
        k = st_.size
        effects = (
            rng.normal(0, math.sqrt(scale), st_.max() + 1)[st_]
            + rng.normal(0, math.sqrt(scale / 2), out.max() + 1)[out]
        )
        if structure == "crossed":
            case["random"] = ["~ 1 | study", "~ 1 | outcome"]
        elif structure == "crossed3":
            effects = effects + rng.normal(0, math.sqrt(scale / 4), k)
            case["random"] = ["~ 1 | study/es", "~ 1 | outcome"]
        else:
            effects = effects + rng.normal(0, math.sqrt(scale / 4), k)
            case["random"] = ["~ 1 | study/es"] if structure == "mvV" else ["~ 1 | study"]
    vi = rng.uniform(0.002, vmax, k)
    if structure in ("mvV", "mvV1"):
        rho = float(rng.choice([0.3, 0.6, 0.8]))
        groups = np.array(cols["study"]) if structure == "mvV" else np.arange(k) // 3  # straddles studies
        same = groups[:, None] == groups[None, :]
        vmat = np.where(same, rho, 0.0) * np.sqrt(np.outer(vi, vi))
        np.fill_diagonal(vmat, vi)
        case["V"] = np.round(vmat, 10).tolist()
        vi = np.diag(np.array(case["V"]))
    x = rng.normal(size=k)
    yi = (
        0.2
        + 0.3 * x
        + effects
        + rng.multivariate_normal(np.zeros(k), np.diag(vi) if case["V"] is None else np.array(case["V"]))
    )
    case.update(
        data={name: list(map(int, vals)) for name, vals in cols.items()},
        yi=np.round(yi, 6).tolist(),
        vi=np.round(vi, 10).tolist(),
        x=np.round(x, 6).tolist() if draw(st.booleans()) else None,
        method=draw(st.sampled_from(["REML", "ML"])),
        test=draw(st.sampled_from(["z", "t"])),
        dfs=draw(st.sampled_from(["residual", "residual", "contain"])),
    )
    return case


R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
tight <- list(optCtrl = list(rel.tol = 1e-14, iter.max = 5000, eval.max = 10000))
i2_at <- function(V, X, sigma2) {  # Viechtbauer's matrix method (metafor FAQ), W = V^-1
  W <- solve(V)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  typ <- (nrow(X) - ncol(X)) / sum(diag(P))
  c(100 * sum(sigma2) / (sum(sigma2) + typ), 100 * sigma2 / (sum(sigma2) + typ))
}
i2 <- function(fit) i2_at(fit$V, model.matrix(fit), fit$sigma2)
out <- lapply(cases, function(cs) {
  d <- as.data.frame(cs$data)
  d$yi <- cs$yi
  V <- if (is.null(cs$V)) cs$vi else as.matrix(cs$V)
  if (!is.null(cs$x)) d$x <- cs$x
  form <- if (is.null(cs$x)) ~ 1 else ~ x
  random <- lapply(cs$random, as.formula)
  m <- length(cs$ours)
  s2 <- if (is.null(cs$sigma2)) rep(NA, m) else cs$sigma2
  fitter <- function(ctrl, sigma2) suppressWarnings(rma.mv(yi, V, mods = form, random = random, data = d,
    method = cs$method, test = cs$test, dfs = cs$dfs, sigma2 = sigma2, control = ctrl))
  summ <- function(fit) {
    ll <- c(logLik(fit))
    list(b = c(fit$b), se = fit$se, ci_lb = fit$ci.lb, ci_ub = fit$ci.ub, sigma2 = fit$sigma2,
         QE = fit$QE, ll = ll, aic = -2 * ll + 2 * (fit$p + sum(is.na(s2))),
         ddf = if (cs$test == "t" || cs$dfs == "contain") c(fit$ddf) else NA,
         QM = if (is.null(cs$x)) NA else fit$QM,
         pi = if (is.null(cs$x)) with(predict(fit), c(pi.lb, pi.ub)) else NA, i2 = i2(fit))
  }
  fit <- tryCatch(fitter(tight, s2),
                  error = function(e) tryCatch(fitter(list(), s2), error = function(e) NULL))
  if (is.null(fit)) return(list(failed = TRUE))
  # nlminb works on log(sigma2) and cannot reach 0: refit with each set of small free components fixed
  # at 0 and keep the highest likelihood
  free <- which(is.na(s2))
  small <- free[fit$sigma2[free] < 1e-4]
  if (length(small)) for (n in seq_along(small)) for (pick in combn(seq_along(small), n, simplify = FALSE)) {
    s2b <- s2
    s2b[small[pick]] <- 0  # (combn(small, n) would read a single small = 3 as 1:3)
    alt <- tryCatch(fitter(tight, s2b), error = function(e) NULL)
    if (!is.null(alt) && c(logLik(alt)) > c(logLik(fit))) fit <- alt
  }
  # metafor's optimiser started from our estimates (our zeros fixed at 0, as it cannot reach them)
  s2c <- s2
  s2c[is.na(s2) & cs$ours == 0] <- 0
  seeded <- tryCatch(fitter(c(tight, list(sigma2.init = pmax(cs$ours, 1e-8))), s2c), error = function(e) NULL)
  list(default = summ(fit), seeded = if (is.null(seeded)) NULL else summ(seeded),
       i2_at_ours = i2_at(if (is.matrix(V)) V else diag(V), model.matrix(form, d), cs$ours))
})
"""


def _fit(case: dict[str, Any]) -> Any:
    mods = None if case["x"] is None else {"x": case["x"]}
    kwargs: dict[str, Any] = {"V": np.array(case["V"])} if case["V"] is not None else {"vi": case["vi"]}
    return meta_mv(
        case["yi"],
        random=case["random"],
        data=case["data"],
        mods=mods,
        method=case["method"],
        test=case["test"],
        dfs=case["dfs"],
        sigma2=case["sigma2"],
        **kwargs,
    )


def _differences(case: dict[str, Any], got: Any, want: dict[str, Any]) -> dict[str, float]:
    """Largest absolute difference per statistic between our fit and one metafor fit."""
    pairs: dict[str, tuple[Any, Any]] = {
        "b": (got.coef, want["b"]),
        "se": (got.se_coef, want["se"]),
        "ci": (np.r_[got.ci_lower_coef, got.ci_upper_coef], np.r_[want["ci_lb"], want["ci_ub"]]),
        "sigma2": (got.sigma2, want["sigma2"]),
        "QE": (got.qe, want["QE"]),
        "logLik": (got.loglik, want["ll"]),
        "AIC": (got.aic, want["aic"]),
    }
    if case["test"] == "t" or case["dfs"] == "contain":
        pairs["ddf"] = (got.df_coef, want["ddf"])
    if case["x"] is not None:
        scale = max(1.0, abs(want["QM"]))  # QM = (b / se)^2 inherits the relative error of b / se
        pairs["QM"] = (got.qm / scale, want["QM"] / scale)
    else:
        pairs["PI"] = ((got.pi_lower, got.pi_upper), want["pi"])
    out = {
        name: float(np.max(np.abs(np.asarray(ours, dtype=float) - np.asarray(theirs, dtype=float))))
        for name, (ours, theirs) in pairs.items()
    }
    # I^2 (as a fraction) moves with the sigma2: d(sigma2_j / T) / d sigma2_i is at most 1 / T in size
    # (T = sum(sigma2) + typical vi), so it may differ by 2 sum|d sigma2| / T and no more
    d_i2 = np.abs(np.r_[got.i2_total, got.i2] - np.asarray(want["i2"])) / 100
    allowed = 2 * np.sum(np.abs(np.subtract(got.sigma2, want["sigma2"]))) / (sum(got.sigma2) + got.typical_vi)
    out["I2 (fraction)"] = float(np.max(d_i2))
    out["I2 beyond the propagated sigma2 error"] = float(np.max(d_i2)) - allowed
    out["logLik deficit"] = want["ll"] - got.loglik  # > 0: metafor found a higher likelihood
    return out


def _worst(into: dict[str, float], diffs: dict[str, float]) -> None:
    for name, diff in diffs.items():
        into[name] = diff if np.isnan(diff) else max(into.get(name, -np.inf), diff)


def test_meta_mv_structures_match_rma_mv(rscript: str) -> None:
    cases = draw_distinct(mv_case(), N_CASES, seed=SEED)
    assert {c["structure"] for c in cases} == set(STRUCTURES)
    fits = [_fit(case) for case in cases]
    for case, got in zip(cases, fits, strict=True):
        assert got.converged, case
        case["ours"] = list(got.sigma2)
    results = run_r(rscript, R_CODE, data={"cases": json.dumps(cases)})
    assert len(results) == N_CASES
    assert sum(bool(r.get("failed")) for r in results) <= N_CASES // 10, "metafor failed too often"
    default: dict[str, float] = {}
    seeded: dict[str, float] = {}
    formula = 0.0
    for case, got, want in zip(cases, fits, results, strict=True):
        if want.get("failed"):
            continue
        _worst(default, _differences(case, got, want["default"]))
        assert want["seeded"] is not None, case
        _worst(seeded, _differences(case, got, want["seeded"]))
        formula = max(formula, float(np.max(np.abs(np.r_[got.i2_total, got.i2] - want["i2_at_ours"]))))
    # the multilevel I^2 formula itself, at the same sigma2
    assert formula <= 1e-9, formula
    # metafor from its own start: our likelihood is never lower; where the likelihood is flat its
    # nlminb stops up to ~1e-6 from the optimum, moving the CIs (small df) by up to ~1e-5
    print("default", default, "seeded", seeded, "formula", formula)
    assert default["logLik deficit"] <= 1e-9, default
    assert default["I2 beyond the propagated sigma2 error"] <= 1e-9, default
    assert max(default["sigma2"], default["b"], default["se"]) <= 1e-5, default
    # metafor's optimiser started at our estimates stays there, and everything derived agrees
    assert seeded["logLik deficit"] <= 1e-9, seeded
    assert all(diff <= TOL for diff in seeded.values()), seeded  # NaN fails too
