"""Parity of ``meta``, ``meta_reg`` and ``meta_many`` with metafor's ``rma.uni`` (live, through Rscript).

Hypothesis draws the datasets (k from 2 to 60; small and large sampling variances; heterogeneous,
homogeneous and exactly equal effects, which put τ² at the 0 boundary). They are *collected* first
(``rharness.draw_distinct``: distinct examples of a Hypothesis run; derandomised so CI sees the same data)
and then ALL of them go to metafor in ONE ``Rscript`` call, because R starts slowly. metafor runs with
``control = list(threshold = 1e-10, maxiter = 1000, tol = 1e-12)`` (and ``tol = 1e-12`` in
``confint``), ours with the same ``threshold``/``maxiter``, so both are converged well past the
comparison tolerance: every number must agree within 1e-6 absolute (relative for |values| > 10, which
only degenerate near-perfect fits produce under Knapp–Hartung), for every estimator, z and knha.

``METAREVIEW_PARITY_SEED=<int>`` draws the datasets from another Hypothesis seed (``rharness.parity_seed``);
the pinned ``SEED`` is the default.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import meta, meta_many, meta_reg

pytestmark = pytest.mark.metafor

TOL = 1e-6
CONTROL = {"threshold": 1e-10, "maxiter": 1000}
# the estimators R_META / R_REG fit (HSk, PMM and GENQ are in test_parity_tau2_tests.py)
METHODS = ("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
N_META = 30
N_REG = 12
# Hypothesis seed of the datasets the tolerances below were validated on (what derandomize drew for the
# former inline collector of test_parity_meta.py); seeds 1-10 pass too (METAREVIEW_PARITY_SEED).
SEED = parity_seed(
    0xA198FA21B1AD41A979EF78EE01D7D3774791FD1A035E1E8738E5485605887591D4DDF0C6206968C036F7C9B4148179FE
)


@st.composite
def dataset(draw: st.DrawFn, min_k: int = 2) -> dict[str, Any]:
    """One meta-analysis: k, vi on a small or large scale, and yi heterogeneous / homogeneous / equal."""
    k = draw(st.integers(min_k, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lo, hi = draw(st.sampled_from([(0.001, 0.05), (0.01, 0.5), (0.5, 5.0), (0.001, 5.0)]))
    vi = rng.uniform(lo, hi, k)
    kind = draw(st.sampled_from(["heterogeneous", "homogeneous", "equal"]))
    mu = draw(st.floats(-2, 2))
    if kind == "equal":
        yi = np.full(k, mu)
    elif kind == "homogeneous":  # shrunken sampling errors: Q < k - 1, so tau^2 = 0 for most estimators
        yi = mu + 0.3 * rng.normal(0, np.sqrt(vi))
    else:
        tau = draw(st.sampled_from([0.1, 0.4, 1.5]))
        yi = mu + rng.normal(0, tau, k) + rng.normal(0, np.sqrt(vi))
    return {"yi": yi.round(8).tolist(), "vi": vi.round(8).tolist(), "kind": kind}


@st.composite
def regression_dataset(draw: st.DrawFn) -> dict[str, Any]:
    """A dataset (k >= 8) with a numeric moderator and a three-level categorical one."""
    data = draw(dataset(min_k=8))
    k = len(data["yi"])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=k)
    g = np.array(["a", "b", "c"])[np.arange(k) % 3]
    rng.shuffle(g)
    slope = draw(st.sampled_from([0.0, 0.3]))
    data["yi"] = (np.asarray(data["yi"]) + slope * x).round(8).tolist()
    data["x"] = x.round(8).tolist()
    data["g"] = g.tolist()
    return data


R_META = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
ctrl <- list(threshold = 1e-10, maxiter = 1000, tol = 1e-12)
methods <- c("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
nz <- function(x) if (is.null(x)) NA else x
pis <- function(p) if (is.null(p$pi.lb)) c(NA, NA) else c(p$pi.lb, p$pi.ub)  # none for EE models
out <- lapply(cases, function(cs) {
  fits <- list()
  for (m in methods) for (tst in c("z", "knha")) {
    fit <- suppressWarnings(rma(cs$yi, cs$vi, method = m, test = tst, control = ctrl))
    r <- list(b = c(fit$b), se = fit$se, zval = fit$zval, pval = fit$pval, ci_lb = fit$ci.lb,
              ci_ub = fit$ci.ub, tau2 = fit$tau2, se_tau2 = nz(fit$se.tau2), QE = fit$QE, QEp = fit$QEp,
              I2 = fit$I2, H2 = fit$H2)
    r$pi_t <- pis(predict(fit, pi.type = "t")); r$pi_riley <- pis(predict(fit, pi.type = "riley"))
    if (tst == "z") r$pi_z <- pis(predict(fit))
    if (m != "EE" && tst == "z") {
      ci <- suppressWarnings(confint(fit, control = list(tol = 1e-12)))$random
      r$tau2_ci <- ci["tau^2", 2:3]; r$I2_ci <- ci["I^2(%)", 2:3]; r$H2_ci <- ci["H^2", 2:3]
    }
    fits[[paste(m, tst)]] <- r
  }
  fits
})
"""

R_REG = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
ctrl <- list(threshold = 1e-10, maxiter = 1000, tol = 1e-12)
methods <- c("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
out <- lapply(cases, function(cs) {
  fits <- list()
  x <- cs$x; g <- factor(cs$g)
  for (m in methods) for (tst in c("z", "knha")) {
    fit <- suppressWarnings(rma(cs$yi, cs$vi, mods = ~ x + g, method = m, test = tst, control = ctrl))
    fits[[paste(m, tst)]] <- list(b = c(fit$b), se = fit$se, pval = fit$pval, ci_lb = fit$ci.lb,
      ci_ub = fit$ci.ub, tau2 = fit$tau2, QM = fit$QM, QMp = fit$QMp, QE = fit$QE, QEp = fit$QEp,
      I2 = fit$I2, R2 = if (is.null(fit$R2)) NA else fit$R2)
    if (m != "EE") fits[[paste(m, tst)]]$tau2_0 <- tryCatch(  # the tau^2 without moderators behind R^2
      rma(cs$yi, cs$vi, method = m, control = ctrl)$tau2, error = function(e) NA)
  }
  fits
})
"""


def _close(got: Any, want: Any, noise: float = 0.0) -> bool:
    """Within TOL absolute (relative above 10: a near-perfect fit's QM can be 1e17), plus ``noise`` (see
    ``_rounding_noise``); metafor's NA/NaN/±Inf arrive as JSON null and match any non-finite value of ours."""
    got_a = np.atleast_1d(np.asarray(got, dtype=float))
    want_l = list(np.atleast_1d(np.asarray(want, dtype=object)))
    if len(want_l) != got_a.size:
        return False
    for g, w in zip(got_a, want_l, strict=True):
        if w is None:
            if math.isfinite(g):
                return False
        elif not abs(g - float(w)) <= TOL * max(1.0, abs(float(w)) / 10) + noise:
            return False
    return True


def _compare(
    label: str, pairs: dict[str, tuple[Any, Any]], failures: list[str], noisy: dict[str, float] | None = None
) -> None:
    """Record the pairs that differ; ``noisy`` adds a rounding-noise allowance to the names it lists."""
    noisy = noisy or {}
    for name, (got, want) in pairs.items():
        if not _close(got, want, noisy.get(name, 0.0)):
            failures.append(f"{label} {name}: ours {got} metafor {want}")


def _rounding_noise(case: dict[str, Any], qe: float) -> float:
    """How far rounding alone can move a Knapp-Hartung p-value (or QM, relatively) of this fit.

    rho = sqrt(QE / sum(yi^2 / vi)) is the share of the data the moderators leave unexplained. Under
    Knapp-Hartung a t statistic is b / se with se proportional to the root of the residual sum of
    squares; in a near-perfect fit (all effects on the regression line up to the 1e-8 to which yi are
    rounded) both come from differences of nearly equal numbers and carry a relative rounding error of
    about eps / rho, times the condition of the design and sums over k terms, for which the factor
    1e3 stands (seed 1: p-values 1e-6 apart at rho = 2e-9, i.e. 10 eps / rho). The allowance stays
    below 1e-9 for rho > 2e-4, so it never loosens the comparison of non-degenerate data.
    """
    scale = float(np.sum(np.square(case["yi"]) / np.asarray(case["vi"])))
    rho = math.sqrt(max(qe, 0.0) / scale) if scale > 0 else 0.0
    return 1e3 * np.finfo(float).eps / rho if rho > 0 else math.inf


def _r2_noise(tau2: float, tau2_0: float | None) -> float:
    """How far R^2 = 100 (1 - tau2 / tau2_0) can move when both tau^2 are known to the convergence
    threshold t of their iterations (1e-10 here): 100 t (1 + tau2 / tau2_0) / tau2_0. Below 1e-7 for
    tau2_0 > 0.2, so the comparison tightens to TOL for clearly heterogeneous data; for tau2_0 near the
    threshold itself (seed 3: tau2_0 = 3.6e-11, tau2 = 1.5e-11, R^2 8e-4 apart) R^2 is noise."""
    if tau2_0 is None or tau2_0 <= 0:
        return 0.0  # no R^2 (NA) or R^2 = 0 by metafor's rule: compared exactly as any other number
    return 100 * CONTROL["threshold"] * (1 + tau2 / tau2_0) / tau2_0


def _undefined_p(got: Any, want: dict[str, Any], yi: list[float]) -> Any:
    """Coefficients that are 0 up to rounding with a zero Knapp-Hartung SE (metafor sets the KH factor to
    0 when RSS <= eps): their t = 0/0 is undefined, 0 from metafor's noise coefficient or NaN from an
    exact 0, so neither side's p-value is compared there."""
    floor = 64 * np.finfo(float).eps * max(1.0, float(np.max(np.abs(yi))))
    return (
        (np.asarray(got.se) == 0)
        & (np.asarray(want["se"], dtype=float) == 0)
        & (np.abs(got.estimates) <= floor)
        & (np.abs(np.asarray(want["b"], dtype=float)) <= floor)
    )


@pytest.fixture(scope="module")
def meta_cases() -> list[dict[str, Any]]:
    return draw_distinct(dataset(), N_META, seed=SEED)


def test_generated_cases_cover_the_space(meta_cases: list[dict[str, Any]]) -> None:
    ks = [len(c["yi"]) for c in meta_cases]
    kinds = {c["kind"] for c in meta_cases}
    assert min(ks) <= 5 and max(ks) >= 30
    assert kinds == {"heterogeneous", "homogeneous", "equal"}


def test_meta_matches_rma_for_every_estimator(rscript: str, meta_cases: list[dict[str, Any]]) -> None:
    results = run_r(rscript, R_META, data={"cases": json.dumps(meta_cases)})
    # the t / riley prediction intervals come from meta_many (meta() on each group, see the last test)
    yi = np.concatenate([c["yi"] for c in meta_cases])
    vi = np.concatenate([c["vi"] for c in meta_cases])
    groups = np.repeat(np.arange(len(meta_cases)), [len(c["yi"]) for c in meta_cases])
    failures: list[str] = []
    boundary = 0
    for method in METHODS:
        for test in ("z", "knha"):
            many = {
                pi: meta_many(yi, vi, groups, method=method, test=test, pi=pi, control=CONTROL)
                for pi in ("t", "riley")
            }
            for i, (case, fits) in enumerate(zip(meta_cases, results, strict=True)):
                want = fits[f"{method} {test}"]
                got = meta(case["yi"], case["vi"], method=method, test=test, control=CONTROL)
                pi_t, pi_r = many["t"][i], many["riley"][i]
                boundary += method != "EE" and got.tau2 == 0
                pairs = {
                    "estimate": (got.estimate, want["b"]),
                    "se": (got.se, want["se"]),
                    "statistic": (got.statistic, want["zval"]),
                    "pvalue": (got.pvalue, want["pval"]),
                    "ci": ((got.ci_lower, got.ci_upper), (want["ci_lb"], want["ci_ub"])),
                    "tau2": (got.tau2, want["tau2"]),
                    "q": (got.q, want["QE"]),
                    "q_p": (got.q_pvalue, want["QEp"]),
                    "i2": (got.i2, want["I2"]),
                    "h2": (got.h2, want["H2"]),
                    "pi_t": ((pi_t.pi_lower, pi_t.pi_upper), want["pi_t"]),
                    "pi_riley": ((pi_r.pi_lower, pi_r.pi_upper), want["pi_riley"]),
                }
                if method != "EE":
                    pairs["se_tau2"] = (got.se_tau2, want["se_tau2"])
                if test == "z":
                    pairs["pi_z"] = ((got.pi_lower, got.pi_upper), want["pi_z"])
                if "tau2_ci" in want:
                    pairs["tau2_ci"] = ((got.tau2_ci_lower, got.tau2_ci_upper), want["tau2_ci"])
                    pairs["i2_ci"] = ((got.i2_ci_lower, got.i2_ci_upper), want["I2_ci"])
                    pairs["h2_ci"] = ((got.h2_ci_lower, got.h2_ci_upper), want["H2_ci"])
                _compare(f"case {i} (k={got.k}, {case['kind']}) {method}/{test}", pairs, failures)
    assert not failures, "\n".join(failures[:20])
    assert boundary > 0  # the generated data did reach the tau^2 = 0 boundary


def test_meta_reg_matches_rma_with_moderators(rscript: str) -> None:
    cases = draw_distinct(regression_dataset(), N_REG, seed=SEED)
    results = run_r(rscript, R_REG, data={"cases": json.dumps(cases)})
    failures: list[str] = []
    for i, (case, fits) in enumerate(zip(cases, results, strict=True)):
        for method in METHODS:
            for test in ("z", "knha"):
                want = fits[f"{method} {test}"]
                got = meta_reg(
                    case["yi"],
                    case["vi"],
                    {"x": case["x"], "g": case["g"]},
                    method=method,
                    test=test,
                    control=CONTROL,
                )
                undefined = _undefined_p(got, want, case["yi"])
                pval_want = [None if u else w for u, w in zip(undefined, want["pval"], strict=True)]
                pairs = {
                    "b": (got.estimates, want["b"]),
                    "se": (got.se, want["se"]),
                    "pval": (np.where(undefined, np.nan, got.pvalue), pval_want),
                    "ci_lb": (got.ci_lower, want["ci_lb"]),
                    "ci_ub": (got.ci_upper, want["ci_ub"]),
                    "tau2": (got.tau2, want["tau2"]),
                    "qm": (got.qm, want["QM"]),
                    "qm_p": (got.qm_pvalue, want["QMp"]),
                    "qe": (got.qe, want["QE"]),
                    "qe_p": (got.qe_pvalue, want["QEp"]),
                    "i2": (got.i2, want["I2"]),
                }
                if method != "EE":
                    pairs["r2"] = (got.r2, want["R2"])
                noise = _rounding_noise(case, want["QE"]) if test == "knha" else 0.0
                noisy = dict.fromkeys(("pval", "qm", "qm_p"), noise)
                if method != "EE":
                    noisy["r2"] = _r2_noise(want["tau2"], want["tau2_0"])
                _compare(f"case {i} (k={got.k}) {method}/{test}", pairs, failures, noisy)
    assert not failures, "\n".join(failures[:20])


FIELDS = (
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "tau2",
    "se_tau2",
    "q",
    "i2",
    "h2",
    "i2_q",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "pi_lower",
    "pi_upper",
    "pvalue",
    "iterations",
)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_meta_many_equals_meta_on_each_group(
    meta_cases: list[dict[str, Any]], method: str, test: str
) -> None:
    cases = meta_cases[:12] + [{"yi": [0.4], "vi": [0.1]}]  # a single-study group too
    yi = np.concatenate([c["yi"] for c in cases])
    vi = np.concatenate([c["vi"] for c in cases])
    groups = np.repeat([f"g{i:02d}" for i in range(len(cases))], [len(c["yi"]) for c in cases])
    many = meta_many(yi, vi, groups, method=method, test=test, pi="t")
    assert len(many) == len(cases)
    for i, case in enumerate(cases):
        with (
            pytest.warns(RuntimeWarning)
            if test == "knha" and len(case["yi"]) == 1
            else contextlib.nullcontext()
        ):
            one = meta(case["yi"], case["vi"], method=method, test=test, pi="t")
        got = many[f"g{i:02d}"]
        for name in FIELDS:
            a, b = getattr(got, name), getattr(one, name)
            assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-10, (i, name, a, b)
    frame = many.to_frame()
    assert frame["group"].tolist() == sorted(set(groups.tolist()))
