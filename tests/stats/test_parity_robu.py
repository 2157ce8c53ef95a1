"""Parity of ``robu`` / ``robu_sensitivity`` with robumeta 2.0 (live, one Rscript run).

Hypothesis draws 30 datasets (4 to 15 studies of 1 to 6 effect sizes; no moderator, a within-study
numeric moderator, a study-level one, or a three-level factor) and fits each with
``robu(formula, data, studynum, var.eff.size, modelweights, rho, small)`` for CORR (rho 0, 0.5, 0.8 or 1)
or HIER, with and without the small-sample corrections. Every number of ``reg_table`` (b.r, SE, t, dfs,
prob, CI.L, CI.U) and of ``mod_info`` (tau.sq, omega.sq, I.2) must agree within 1e-9 (relative above 10).

``sensitivity()``: robumeta prints its table rounded to 3 significant digits, so each CORR fit is also
refitted in R at every rho of the table (tau2 = term1 + rho term2 with the same terms, hence the same
numbers at full precision) and compared within 1e-9; the printed table itself is compared to its digits.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from needs import skip_or_fail
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, robu, robu_sensitivity

pytestmark = pytest.mark.metafor

N_CASES = 30
TOL = 1e-9  # no optimiser: the same closed forms (observed: below 1e-12)
SEED = parity_seed(20261316)
RHOS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@pytest.fixture(scope="module")
def robumeta(rscript: str) -> str:
    """Rscript, with robumeta installed (Debian: r-cran-robumeta)."""
    proc = subprocess.run([rscript, "-e", "library(robumeta)"], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        skip_or_fail("R package robumeta not installed (apt-get install r-cran-robumeta)")
    return rscript


@st.composite
def dataset(draw: st.DrawFn) -> dict[str, Any]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(4, 15))
    sizes = rng.integers(1, 7, n)
    study = np.repeat(np.arange(n), sizes)
    k = study.size
    vi = rng.uniform(*draw(st.sampled_from([(0.005, 0.05), (0.02, 0.4)])), k)
    x = rng.normal(size=k)
    z = rng.normal(size=n)[study]
    g = np.array(["a", "b", "c"])[rng.integers(0, 3, k)]
    g[:3] = ["a", "b", "c"]
    tau = draw(st.sampled_from([0.0, 0.2, 0.5]))
    yi = 0.3 + 0.2 * x + rng.normal(0, tau, n)[study] + rng.normal(0, tau / 2, k) + rng.normal(0, np.sqrt(vi))
    mods = draw(st.sampled_from(["none", "x", "z", "xg"]))
    if mods == "xg" and n < 6:
        mods = "x"
    weights = draw(st.sampled_from(["CORR", "CORR", "HIER"]))
    return {
        "yi": np.round(yi, 8).tolist(),
        "vi": np.round(vi, 8).tolist(),
        "study": (study * 7 + 3).tolist(),  # labels, not 0..n-1
        "x": np.round(x, 8).tolist(),
        "z": np.round(z, 8).tolist(),
        "g": g.tolist(),
        "mods": mods,
        "weights": weights,
        "rho": float(draw(st.sampled_from([0.0, 0.5, 0.8, 1.0]))),
        "small": draw(st.booleans()),
    }


R_CODE = """
suppressMessages(library(robumeta))
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
rhos <- seq(0, 1, 0.2)
pack <- function(m) {
  t <- m$reg_table
  list(b = t$b.r, se = t$SE, t = t$t, df = t$dfs, p = t$prob, lo = t$CI.L, hi = t$CI.U,
       tau2 = m$mod_info$tau.sq, omega2 = if (is.null(m$mod_info$omega.sq)) NA else m$mod_info$omega.sq,
       i2 = if (is.null(m$mod_info$I.2)) NA else m$mod_info$I.2)
}
out <- lapply(cases, function(cs) {
  d <- data.frame(yi = cs$yi, vi = cs$vi, study = cs$study, x = cs$x, z = cs$z, g = cs$g)
  form <- switch(cs$mods, none = yi ~ 1, x = yi ~ x, z = yi ~ z, xg = yi ~ x + g)
  # the formula inline in the call: sensitivity() prints it from match.call()
  fit <- function(rho) eval(bquote(robu(.(form), data = d, studynum = study, var.eff.size = vi,
                                        modelweights = .(cs$weights), rho = .(rho), small = .(cs$small))))
  m <- fit(cs$rho)
  res <- list(fit = pack(m))
  if (cs$weights == "CORR") {
    res$sens <- lapply(rhos, function(r) pack(fit(r)))
    capture.output(printed <- sensitivity(m))
    res$printed <- unname(lapply(printed[, -(1:2)], function(col) as.numeric(trimws(col))))
  }
  res
})
"""


def _mods(case: dict[str, Any]) -> dict[str, Any] | None:
    cols = {"x": {"x": case["x"]}, "z": {"z": case["z"]}, "xg": {"x": case["x"], "g": case["g"]}}
    return cols.get(case["mods"])


def _close(got: Any, want: Any) -> float:
    """Largest difference, relative above 10 (``nan`` where only one side is NaN)."""
    g = np.atleast_1d(np.asarray(got, dtype=float))
    w = np.atleast_1d(np.asarray([np.nan if v is None else v for v in np.atleast_1d(want)], dtype=float))
    both = np.isnan(g) & np.isnan(w)
    diff = np.abs(g - w) / np.maximum(1.0, np.abs(w) / 10)
    return float(np.max(np.where(both, 0.0, diff)))


def test_robu_matches_robumeta(robumeta: str) -> None:
    cases = draw_distinct(dataset(), N_CASES, seed=SEED)
    assert {c["weights"] for c in cases} == {"CORR", "HIER"}
    assert {c["small"] for c in cases} == {True, False}
    results = run_r(robumeta, R_CODE, data={"cases": json.dumps(cases)})
    worst: dict[str, float] = {}
    for case, want in zip(cases, results, strict=True):
        fit = robu(
            case["yi"],
            case["vi"],
            case["study"],
            mods=_mods(case),
            modelweights=case["weights"],
            rho=case["rho"],
            small=case["small"],
        )
        w = want["fit"]
        pairs = {
            "b": (fit.estimates, w["b"]),
            "se": (fit.se, w["se"]),
            "t": (fit.statistic, w["t"]),
            "df": (fit.df, w["df"]),
            "p": (fit.pvalue, w["p"]),
            "ci": (np.r_[fit.ci_lower, fit.ci_upper], np.r_[w["lo"], w["hi"]]),
            "tau2": (fit.tau2, w["tau2"]),
            "omega2": (fit.omega2, w["omega2"]),
            "I2": (fit.i2, w["i2"]),
        }
        if case["weights"] == "CORR":
            sens = robu_sensitivity(fit)
            assert sens.rho.tolist() == list(RHOS)
            for r, ws in enumerate(want["sens"]):
                pairs[f"sensitivity b rho={RHOS[r]}"] = (sens.estimates[r], ws["b"])
                pairs[f"sensitivity se rho={RHOS[r]}"] = (sens.se[r], ws["se"])
                pairs[f"sensitivity tau2 rho={RHOS[r]}"] = (sens.tau2[r], ws["tau2"])
            # the printed table: coefficient, SE per moderator, then tau2; 3 significant digits
            printed = np.array(want["printed"], dtype=float)  # (rho, rows)
            inter = np.empty((len(RHOS), 2 * len(fit.names)))
            inter[:, 0::2], inter[:, 1::2] = sens.estimates, sens.se
            ours = np.column_stack([inter, sens.tau2])
            rel = np.abs(ours - printed) / np.maximum(np.abs(printed), 1e-3)
            assert float(np.max(rel)) <= 5e-3, (case, ours, printed)
        for name, (ours_, theirs) in pairs.items():
            key = name.split(" rho=")[0]
            diff = _close(ours_, theirs)
            worst[key] = diff if np.isnan(diff) else max(worst.get(key, 0.0), diff)
    assert all(diff <= TOL for diff in worst.values()), worst  # NaN fails too


def test_robu_bad_input() -> None:
    y, v, s = [0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.02], [1, 1, 2, 2]
    with pytest.raises(StatsInputError) as err:
        robu(y, v, s, rho=1.5)
    assert err.value.field == "rho"
    with pytest.raises(StatsInputError) as err:
        robu(y, v, s, modelweights="USER")
    assert err.value.field == "modelweights"
    with pytest.raises(StatsInputError) as err:
        robu(y, v, [1, 1, 1, 1])
    assert err.value.field == "studynum"
    with pytest.raises(StatsInputError, match="hierarchical"):
        robu_sensitivity(robu([*y, 0.0], [*v, 0.01], [*s, 3], modelweights="HIER"))
