"""Parity of ``fitstats``, ``anova`` and ``predict`` with metafor (live, one Rscript run).

Hypothesis draws meta-regression datasets (k 8 to 40, a numeric moderator and a three-level factor);
each is fitted with every τ² estimator (``fitstats``, ``predict``), ML and REML (``anova`` LRT of
``~ x + g`` against ``~ x``) and z / Knapp–Hartung (``predict``, ``anova(btt=)``). metafor refits each model
with τ² FIXED at our estimate (``rma(..., tau2 = )``; the estimators' own parity is
test_parity_meta.py), so the comparison is of these functions alone. Every number agrees within 1e-6
(relative above 10).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, anova, fitstats, meta, meta_reg, predict

pytestmark = pytest.mark.metafor

TOL = 1e-6
N_CASES = 12
SEED = parity_seed(20261314)
CONTROL = {"threshold": 1e-10, "maxiter": 1000}
METHODS = ("EE", "DL", "ML", "REML", "PM")


@st.composite
def dataset(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(st.integers(8, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lo, hi = draw(st.sampled_from([(0.001, 0.05), (0.01, 0.5), (0.5, 5.0)]))
    vi = rng.uniform(lo, hi, k)
    x = rng.normal(size=k)
    g = np.array(["a", "b", "c"])[np.arange(k) % 3]
    rng.shuffle(g)
    tau = draw(st.sampled_from([0.0, 0.3, 1.0]))
    yi = 0.1 + draw(st.sampled_from([0.0, 0.4])) * x + rng.normal(0, tau, k) + rng.normal(0, np.sqrt(vi))
    newx = rng.normal(size=3)
    return {
        "yi": yi.round(8).tolist(),
        "vi": vi.round(8).tolist(),
        "x": x.round(8).tolist(),
        "g": g.tolist(),
        "newmods": [[float(a), float(i == 1), float(i == 2)] for i, a in enumerate(newx.round(6))],
    }


R_CODE = """
jobs <- fromJSON(jobs, simplifyVector = TRUE, simplifyDataFrame = FALSE)
out <- lapply(jobs, function(j) {
  x <- j$x; g <- factor(j$g)
  ctrl <- list(threshold = 1e-10, maxiter = 1000, tol = 1e-12)
  fs <- function(f) unname(fitstats(f)[, 1])
  t2 <- function(m, v) if (m == "EE") NULL else v
  res <- list()
  for (m in names(j$fits)) {
    a <- j$fits[[m]]
    for (tst in c("z", "knha")) {
      f <- rma(j$yi, j$vi, mods = ~ x + g, method = m, tau2 = t2(m, a$tau2_xg), test = tst)
      p <- predict(f, newmods = as.matrix(j$newmods))  # one row per prediction
      p0 <- predict(rma(j$yi, j$vi, method = m, tau2 = t2(m, a$tau2_0), test = tst))
      w <- anova(f, btt = 2:4)
      est <- rma(j$yi, j$vi, mods = ~ x + g, method = m, test = tst, control = ctrl)  # tau^2 estimated
      res[[paste(m, tst)]] <- list(fs = fs(est), pred = p$pred, se = p$se, ci = c(p$ci.lb, p$ci.ub),
        pi = c(p$pi.lb, p$pi.ub), pred0 = c(p0$pred, p0$se, p0$ci.lb, p0$ci.ub, p0$pi.lb, p0$pi.ub),
        wald = c(w$QM, w$QMp), fit_pred = predict(f)$pred)
    }
    if (m %in% c("ML", "REML")) {
      full <- rma(j$yi, j$vi, mods = ~ x + g, method = m, control = ctrl)
      red <- rma(j$yi, j$vi, mods = ~ x, method = m, control = ctrl)
      av <- suppressWarnings(anova(full, red))
      res[[paste(m, "lrt")]] <- c(av$LRT, av$pval, av$parms.f, av$parms.r)
    }
  }
  res
})
"""


def _close(got: Any, want: Any) -> bool:
    """Within TOL (relative above 10); metafor's missing value (null: no PI for an EE model) matches NaN."""
    g = np.atleast_1d(np.asarray(got, dtype=float)).ravel()
    if want is None:
        return bool(np.all(np.isnan(g)))
    w = np.atleast_1d(np.asarray(want, dtype=float)).ravel()
    if g.shape != w.shape:
        return False
    return bool(np.all(np.abs(g - w) <= TOL * np.maximum(1.0, np.abs(w) / 10)))


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return draw_distinct(dataset(), N_CASES, seed=SEED)


def test_fitstats_predict_anova_match_metafor(rscript: str, cases: list[dict[str, Any]]) -> None:
    jobs = []
    fits: list[dict[str, Any]] = []
    for case in cases:
        per: dict[str, Any] = {}
        spec: dict[str, Any] = {}
        for m in METHODS:
            kw = {"method": m, "control": CONTROL}
            fx = {
                t: meta_reg(case["yi"], case["vi"], {"x": case["x"], "g": case["g"]}, test=t, **kw)
                for t in ("z", "knha")
            }
            f0 = {t: meta(case["yi"], case["vi"], test=t, **kw) for t in ("z", "knha")}
            rx = meta_reg(case["yi"], case["vi"], {"x": case["x"]}, **kw)
            per[m] = (fx, f0, rx)
            spec[m] = {"tau2_xg": fx["z"].tau2, "tau2_0": f0["z"].tau2, "tau2_x": rx.tau2}
        jobs.append({**case, "fits": spec})
        fits.append(per)
    results = run_r(rscript, R_CODE, data={"jobs": json.dumps(jobs)})
    failures: list[str] = []
    for i, (case, per, want) in enumerate(zip(cases, fits, results, strict=True)):
        for m, (fx, f0, rx) in per.items():
            for t in ("z", "knha"):
                w = want[f"{m} {t}"]
                f = fx[t]
                fs = fitstats(f)
                p = predict(f, [row[:1] + row[1:] for row in case["newmods"]])
                p0 = predict(f0[t])
                wald = anova(f, btt=[1, 2, 3])
                pairs = {
                    "fitstats": ((fs.loglik, fs.deviance, fs.aic, fs.bic, fs.aicc), w["fs"]),
                    "pred": (p.pred, w["pred"]),
                    "se": (p.se, w["se"]),
                    "ci": (np.r_[p.ci_lower, p.ci_upper], w["ci"]),
                    "pi": (np.r_[p.pi_lower, p.pi_upper], w["pi"]),
                    "pred0": ((p0.pred, p0.se, p0.ci_lower, p0.ci_upper), w["pred0"][:4]),
                    "pi0": ((p0.pi_lower, p0.pi_upper), w["pred0"][4:] or None),  # none for EE
                    "wald": ((wald.statistic, wald.pvalue), w["wald"]),
                    "fitted": (predict(f).pred, w["fit_pred"]),
                }
                for name, (a, b) in pairs.items():
                    if not _close(a, b):
                        failures.append(f"case {i} {m}/{t} {name}: ours {a} metafor {b}")
            if m in ("ML", "REML"):
                lrt = anova(fx["z"], rx)
                got = (lrt.statistic, lrt.pvalue, lrt.full.parms, lrt.reduced.parms)  # type: ignore[union-attr]
                if not _close(got, want[f"{m} lrt"]):
                    failures.append(f"case {i} {m} LRT: ours {got} metafor {want[f'{m} lrt']}")
    assert not failures, "\n".join(failures[:20])


def test_bad_input() -> None:
    yi, vi = [0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03]
    reg = meta_reg(yi, vi, {"x": [1, 2, 3, 4, 5, 6]}, method="ML")
    with pytest.raises(StatsInputError, match="two ML or two REML"):
        anova(reg, meta(yi, vi, method="DL"))
    with pytest.raises(StatsInputError, match="same data"):
        anova(reg, meta(yi[::-1], vi, method="ML"))
    with pytest.raises(StatsInputError, match="btt"):
        anova(reg, btt=[5])
    with pytest.raises(StatsInputError, match="newmods"):
        predict(reg, [[1.0, 2.0]])
