"""Parity of the bias and influence tools with metafor (``regtest``, ``ranktest``, ``trimfill``, ``tes``,
``leave1out``, ``influence``) on generated data.

Hypothesis draws 30 meta-analyses per test (k from 3 to 40, small and large vi, homogeneous sets that
put tau^2 at 0, some with a small-study effect so that trim-and-fill fills, some with tied vi so that
the rank test takes its normal approximation, every tau^2 estimator); each test sends all of its
datasets to R in ONE ``Rscript`` run. Both sides iterate to a tight threshold (metafor ``control =
list(threshold = 1e-12, tol = 1e-14, maxiter = 5000)``) and must agree within 1e-6 absolute (the TES
limit estimate within 1e-3: metafor finds it with ``uniroot``'s default tolerance of 1.2e-4).

``METAREVIEW_PARITY_SEED=<int>`` draws the datasets from another Hypothesis seed (``rharness.parity_seed``);
the pinned ``SEED`` is the default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import (
    begg_test,
    egger_test,
    excess_significance,
    influence,
    leave_one_out,
    meta,
    trimfill,
)
from metareview.stats.errors import StatsInputError

pytestmark = pytest.mark.metafor

N_CASES = 30
TOL = 1e-6
CONTROL = {"threshold": 1e-12, "tol": 1e-14, "maxiter": 5000}
METHODS = ["EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"]
# Hypothesis seed of the datasets the tolerances below were validated on (what derandomize drew for the
# former inline collector of test_parity_bias.py); seeds 1-10 pass too (METAREVIEW_PARITY_SEED).
SEED = parity_seed(
    0x20AA15A0C93B40589B0410138C0E1A728A08AFEA4FAB2DE502E138D42B392458000A047FF84901B964E6D9EC392CB332
)


@st.composite
def meta_case(draw: st.DrawFn, min_k: int = 3) -> dict[str, Any]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(min_k, 40))
    vi = rng.uniform(0.001, draw(st.sampled_from([0.05, 0.5, 2.0])), k)
    if draw(st.booleans()):
        vi = np.round(vi, 2) + 0.01  # ties among the vi
    tau2 = draw(st.sampled_from([0.0, 0.0, 0.05, 0.4]))
    bias = draw(st.sampled_from([0.0, 0.0, 1.5]))  # a small-study effect
    yi = 0.2 + bias * np.sqrt(vi) + rng.normal(0, np.sqrt(tau2 + vi))
    return {
        "yi": yi.round(8).tolist(),
        "vi": vi.round(8).tolist(),
        "method": draw(st.sampled_from(METHODS)),
        "test": draw(st.sampled_from(["z", "knha"])),
        "estimator": draw(st.sampled_from(["L0", "L0", "R0"])),
        "hetero": draw(st.booleans()),
        "test_tes": draw(st.sampled_from(["chi2", "binom", "exact"] if k <= 10 else ["chi2", "binom"])),
        "alternative": draw(st.sampled_from(["two.sided", "two.sided", "greater", "less"])),
    }


CASES = meta_case()


R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
ctrl <- list(threshold = 1e-12, tol = 1e-14, maxiter = 5000)
out <- lapply(cases, function(cs) {
  res <- rma(cs$yi, cs$vi, method = cs$method, test = cs$test, control = ctrl)
  tryCatch(switch(what,
    egger = {
      r1 <- regtest(res); r2 <- regtest(res, model = "lm")
      list(z = r1$zval, p = r1$pval, est = r1$est, lb = r1$ci.lb, ub = r1$ci.ub,
           t = r2$zval, p_lm = r2$pval, est_lm = r2$est, lb_lm = r2$ci.lb)
    },
    begg = { r <- suppressWarnings(ranktest(res)); list(tau = r$tau, p = r$pval) },
    trimfill = {
      tf <- trimfill(res, estimator = cs$estimator, control = ctrl)  # passed on to every refit
      list(k0 = tf$k0, side = tf$side, se_k0 = tf$se.k0, b = c(tf$b), se = tf$se, tau2 = tf$tau2,
           yi = as.numeric(tf$yi), vi = tf$vi)
    },
    tes = {
      r <- if (cs$hetero) tes(res, test = cs$test_tes, alternative = cs$alternative, rel.tol = 1e-12,
                                progbar = FALSE)
           else tes(cs$yi, cs$vi, test = cs$test_tes, alternative = cs$alternative, progbar = FALSE)
      list(O = r$O, E = r$E, p = r$pval, X2 = r$X2, theta = r$theta, lim = r$theta.lim, power = r$power,
           tau2 = res$tau2, b = c(res$b))
    },
    leave1out = {
      l <- leave1out(res)
      list(est = l$estimate, se = l$se, p = l$pval, lb = l$ci.lb, Q = l$Q, Qp = l$Qp,
           tau2 = if (is.null(l$tau2)) rep(0, res$k) else l$tau2, I2 = l$I2, H2 = l$H2)
    },
    influence = {
      inf <- influence(res)
      c(unclass(inf$inf)[c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")],
        list(dfbs = inf$dfbs$intrcpt, infl = inf$is.infl))
    }), error = function(e) list(error = conditionMessage(e)))
})
"""


def _metafor(rscript: str, what: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The generated datasets and metafor's results for them (one R run)."""
    cases = draw_distinct(CASES, N_CASES, seed=SEED)
    results = run_r(rscript, f'what <- "{what}"\n' + R_CODE, data={"cases": json.dumps(cases)})
    assert len(results) == len(cases)
    return cases, list(results)


def _fails_as_metafor(want: dict[str, Any], call: Callable[[], object]) -> bool:
    """Whether metafor stopped with an error on this dataset (all vi equal: the regression test and the
    side of trim-and-fill are undefined); ours must then raise ``StatsInputError``."""
    if "error" not in want:
        return False
    with pytest.raises(StatsInputError):
        call()
    return True


class Worst:
    """Largest absolute difference per quantity over all datasets (NaN on one side only fails)."""

    def __init__(self) -> None:
        self.diff: dict[str, float] = {}

    def add(self, name: str, ours: Any, theirs: Any) -> None:
        a = np.asarray(ours, dtype=float).ravel()
        b = np.asarray([np.nan if x is None else x for x in np.atleast_1d(theirs)], dtype=float)
        assert a.shape == b.shape, name
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{name}: NaN in different places"
        gap = float(np.max(np.abs(a - b), initial=0.0, where=~np.isnan(a)))
        self.diff[name] = max(self.diff.get(name, 0.0), gap)

    def check(self, tol: float = TOL, loose: dict[str, float] | None = None) -> None:
        loose = loose or {}
        bad = {n: d for n, d in self.diff.items() if d > loose.get(n, tol)}
        assert not bad, bad


def test_egger_matches_regtest(rscript: str) -> None:
    worst = Worst()
    for case, want in zip(*_metafor(rscript, "egger"), strict=True):
        if _fails_as_metafor(want, partial(egger_test, case["yi"], case["vi"], model="lm")):
            continue
        rma = egger_test(case["yi"], case["vi"], method=case["method"], test=case["test"], control=CONTROL)
        lm = egger_test(case["yi"], case["vi"], model="lm")
        worst.add("z", rma.statistic, want["z"])
        worst.add("p", rma.pvalue, want["p"])
        worst.add(
            "limit",
            [rma.limit_estimate, rma.limit_ci_lower, rma.limit_ci_upper],
            [want["est"], want["lb"], want["ub"]],
        )
        worst.add("t (lm)", lm.statistic, want["t"])
        worst.add("p (lm)", lm.pvalue, want["p_lm"])
        worst.add("limit (lm)", [lm.limit_estimate, lm.limit_ci_lower], [want["est_lm"], want["lb_lm"]])
    worst.check()


def test_begg_matches_ranktest(rscript: str) -> None:
    worst = Worst()
    for case, want in zip(*_metafor(rscript, "begg"), strict=True):
        res = begg_test(case["yi"], case["vi"])
        worst.add("tau", res.tau, want["tau"])
        worst.add("p", res.pvalue, want["p"])
    worst.check()


def test_trimfill_matches_metafor(rscript: str) -> None:
    worst = Worst()
    filled = 0
    for case, want in zip(*_metafor(rscript, "trimfill"), strict=True):
        if _fails_as_metafor(want, partial(trimfill, case["yi"], case["vi"], method=case["method"])):
            continue
        res = trimfill(
            case["yi"],
            case["vi"],
            method=case["method"],
            test=case["test"],
            estimator=case["estimator"],
            control=CONTROL,
        )
        assert (res.k0, res.side) == (want["k0"], want["side"]), case
        filled += res.k0 > 0
        # With k0 = k - 1 the last trimmed model was fitted to ONE study: its centred effect is exactly 0,
        # so its signed rank is 0 (ours) or +-1 from metafor's estimate, which is 1 ulp off yi (seen on
        # 3 of 6 seeds, se_k0 then 0.21 apart). se_k0 is rounding noise there; k0 and the fit are compared.
        if res.k0 < len(case["yi"]) - 1:
            worst.add("se_k0", res.se_k0, want["se_k0"])
        worst.add("estimate", res.model.estimate, want["b"])
        worst.add("se", res.model.se, want["se"])
        worst.add("tau2", res.model.tau2, want["tau2"])
        worst.add("yi", res.yi, want["yi"])
        worst.add("vi", res.vi, want["vi"])
    assert filled >= 5, "too few datasets with missing studies to test the filling"
    worst.check()


def test_tes_matches_metafor(rscript: str) -> None:
    worst = Worst()
    for case, want in zip(*_metafor(rscript, "tes"), strict=True):
        kw: dict[str, Any] = {"test": case["test_tes"], "alternative": case["alternative"]}
        if case["hetero"]:
            fit = meta(case["yi"], case["vi"], method=case["method"], control=CONTROL)
            worst.add("rma estimate", fit.estimate, want["b"])
            kw |= {"theta": fit.estimate, "tau2": fit.tau2}
        res = excess_significance(case["yi"], case["vi"], **kw)
        assert res.observed == want["O"]
        worst.add("expected", res.expected, want["E"])
        worst.add("power", res.power, want["power"])
        worst.add("p", res.pvalue, want["p"])
        worst.add("X2", res.statistic, want["X2"])
        worst.add("theta", res.theta, want["theta"])
        worst.add("theta_lim", res.theta_lim, want["lim"])
    worst.check(loose={"theta_lim": 1e-3})


def test_leave_one_out_matches_leave1out(rscript: str) -> None:
    worst = Worst()
    for case, want in zip(*_metafor(rscript, "leave1out"), strict=True):
        res = leave_one_out(case["yi"], case["vi"], method=case["method"], test=case["test"], control=CONTROL)
        for name, ours, theirs in (
            ("estimate", res.estimate, want["est"]),
            ("se", res.se, want["se"]),
            ("p", res.pvalue, want["p"]),
            ("ci.lb", res.ci_lower, want["lb"]),
            ("Q", res.q, want["Q"]),
            ("Qp", res.q_pvalue, want["Qp"]),
            ("tau2", res.tau2, want["tau2"]),
            ("I2", res.i2, want["I2"]),
            ("H2", res.h2, want["H2"]),
        ):
            worst.add(name, ours, theirs)
    worst.check()


def test_influence_matches_metafor(rscript: str) -> None:
    worst = Worst()
    for case, want in zip(*_metafor(rscript, "influence"), strict=True):
        res = influence(case["yi"], case["vi"], method=case["method"], test=case["test"], control=CONTROL)
        for name, ours, theirs in (
            ("rstudent", res.rstudent, want["rstudent"]),
            ("dffits", res.dffits, want["dffits"]),
            ("cook.d", res.cook_d, want["cook.d"]),
            ("cov.r", res.cov_r, want["cov.r"]),
            ("tau2.del", res.tau2_del, want["tau2.del"]),
            ("QE.del", res.qe_del, want["QE.del"]),
            ("hat", res.hat, want["hat"]),
            ("weight", res.weight, want["weight"]),
            ("dfbetas", res.dfbetas, want["dfbs"]),
        ):
            worst.add(name, ours, theirs)
        # NA where the fit without that study failed (its diagnostics are NaN, checked above): ours False
        assert res.influential.tolist() == [flag is True for flag in want["infl"]], case
    worst.check()
