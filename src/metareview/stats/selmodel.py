"""Selection models (metafor's ``selmodel.rma.uni``, version 3.8-1): step-function and parametric.

A selection model assumes that a study with one-sided p-value pᵢ is published with relative probability
w(pᵢ; δ) and fits, by maximum likelihood, the weighted-normal density of each yᵢ,

    w(pᵢ) φ(yᵢ; xᵢ'β, vᵢ + τ²) / Aᵢ,     Aᵢ = ∫ w(p(y)) φ(y; xᵢ'β, vᵢ + τ²) dy,

jointly for β, τ² and δ (Vevea & Hedges 1995, Psychometrika 60:419; Citkowicz & Vevea 2017, Psychol
Methods 22:28; Preston, Ashby & Smyth 2004, Stat Med 23:3021; Viechtbauer's ``?selmodel``).

Types (``type``) and their weight functions, as metafor's:

* ``"stepfun"``: w(p) = δⱼ for p in the j-th interval of ``steps`` (cut-points, 1 appended); δ₁ = 1.
  ``steps=[0.025]`` is the three-parameter selection model (3PSM). Aᵢ is a sum of normal probabilities.
* ``"beta"``: w(p) = p^(δ₁−1) (1−p)^(δ₂−1) (p clamped to [1e-5, 1 − 1e-5]).
* ``"halfnorm"``, ``"negexp"``, ``"logistic"``, ``"power"``: w(p) = 1 up to ``steps[0]`` (default 0),
  then exp(−δp²), exp(−δp), 2exp(−δp)/(1+exp(−δp)), (1−p)^δ, each divided by its value at ``steps[0]``
  (``power`` clamps p to [1e-5, 1 − 1e-5]). With ``prec`` the exponent δ is multiplied by the study's
  precision measure, scaled to a maximum of 1, as metafor's.

The p-values are one-sided, ``alternative="greater"`` (default) testing yᵢ > 0, ``"less"``, or
``"two.sided"``. (metafor 3.8.1's ``selmodel`` has no ``decreasing`` argument, added in metafor 4.0;
neither has this one. Its further types ``negexppow`` and the ``*2`` variants are not offered.) As
metafor, a model fitted with another τ² estimator is first refitted by ML; δ is searched within
[``delta_min``, 100] through metafor's logistic mapping, τ² on the log scale; the standard
errors come from the Hessian of the log-likelihood on the original scale by numDeriv's Richardson
extrapolation (``d = 0.1``, ``r = 6``; :func:`hessian`), so that they follow metafor even where a parameter
sits at its bound. The likelihood-ratio test of the selection parameters compares with the ML fit without
selection (df = number of free δ); the test for heterogeneity refits with τ² = 0.

How this differs from metafor, and why the parity tolerances are not all 1e-6
-------------------------------------------------------------------------
* The optimum: metafor stops ``optim``'s BFGS (numerical gradients with ``ndeps = 1e-3``, ``reltol = 1e-8``)
  early; here BFGS runs to a gradient of ~1e-9 and Newton steps polish it, so the estimates are the maximum
  of the likelihood. They agree with metafor's defaults to ~1e-4, and with metafor run to convergence to
  1e-6 for step functions (``test_parity_selmodel.py``: ``reltol = 1e-15``, ``ndeps = 1e-6``).
* The integrals Aᵢ of the parametric types: metafor calls ``integrate()`` (QUADPACK, ``rel.tol`` ε^¼),
  which leaves its log-likelihood ~1e-4 off and its Hessian-based SEs often ~2% off, at times far more
  (one generated dataset: 0.4155 against 0.2950 with ``rel.tol = 1e-8``); here Aᵢ is a
  Gauss–Legendre sum (20 nodes per panel ≤ 0.5 wide) in zᵢ = y/√vᵢ between the points where w has kinks
  (clamping, ``steps[0]``), the constant tails in closed form: accurate to ~1e-13. Against metafor with
  ``integrate(rel.tol = 1e-10)`` (pinned in ``test_analysis_selmodel_hackshaw1998.py``: such runs take
  minutes) the log-likelihood and LRTs agree to 1e-7, estimates to 2e-5 and SEs to 1e-5 (metafor's BFGS
  still stops up to ~1.5e-5 from the maximum along a flat δ direction).
* Where an estimate sits at a bound (τ² → 0, or δ → 0 or 100) the optimum is at infinity on the search
  scale and every optimiser stops somewhere else; the log-likelihood and the LRTs still agree, the
  parameter at the bound only to its stopping noise (metafor warns about δ at a bound; so does this).

Example::

    >>> from metareview.stats import meta
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> vi = rng.uniform(0.01, 0.1, 40); yi = 0.2 + rng.normal(0, 0.2, 40) + rng.normal(0, np.sqrt(vi))
    >>> sel = selmodel(meta(yi, vi, method="ML"), type="stepfun", steps=[0.025])
    >>> sel.delta.shape, sel.lrt_df
    ((2,), 1)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from metareview.stats.batch import fit_stack
from metareview.stats.compare import loglik
from metareview.stats.design import INTERCEPT
from metareview.stats.errors import StatsInputError
from metareview.stats.results import (
    FloatArray,
    MetaRegResult,
    MetaResult,
    coefficient_rows,
    format_p,
    format_table,
    p_clause,
)
from metareview.stats.tau2 import Control, Segments

TYPES = ("stepfun", "beta", "halfnorm", "negexp", "logistic", "power")
ALTERNATIVES = ("greater", "less", "two.sided")
PRECS = ("sei", "vi", "ninv", "sqrtninv")
_EPS = float(np.finfo(float).eps)
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(20)
_PANEL = 0.5  # widest Gauss-Legendre panel in z = y / sqrt(vi) (0.05 to 1 give the same ll to 1e-13)
_Z_FAR = 10.0  # |z| beyond which an unclamped one-sided p-value is 0 or 1 in double precision (1e-23)


@dataclass(frozen=True)
class _Spec:
    """One selection model's constants (metafor's per-type settings)."""

    type: str
    n_delta: int
    delta_min: FloatArray
    delta_max: FloatArray
    delta_init: FloatArray
    h0: FloatArray  # the δ of no selection, the null of each δ's z test
    pval_min: float
    steps: FloatArray  # stepfun: the cut-points with 1; the one-parameter types: [steps[0]]; beta: []
    intervals: bool  # whether the studies are counted per p-value interval (metafor's ptable)


def _spec(type: str, steps: FloatArray | None, delta_min: ArrayLike | None) -> _Spec:
    if type == "stepfun":
        assert steps is not None
        n = steps.size
        spec = _Spec(type, n, np.zeros(n), np.full(n, 100.0), np.ones(n), np.ones(n), 0.0, steps, True)
    elif type == "beta":
        spec = _Spec(
            type, 2, np.full(2, 1e-5), np.full(2, 100.0), np.ones(2), np.ones(2), 1e-5, np.array([]), False
        )
    else:
        cut = np.array([0.0]) if steps is None else steps
        pmin = 1e-5 if type == "power" else 0.0
        spec = _Spec(
            type, 1, np.zeros(1), np.full(1, 100.0), np.ones(1), np.zeros(1), pmin, cut, steps is not None
        )
    if delta_min is not None:
        lo = np.broadcast_to(np.asarray(delta_min, dtype=float), (spec.n_delta,)).copy()
        if np.any(~np.isfinite(lo)) or np.any(lo < 0) or np.any(lo >= spec.delta_max):
            raise StatsInputError(f"delta_min must lie in [0, 100), not {delta_min!r}", field="delta_min")
        spec = _Spec(
            spec.type, spec.n_delta, lo, spec.delta_max, spec.delta_init, spec.h0, spec.pval_min, spec.steps,
            spec.intervals,
        )  # fmt: skip
    return spec


def one_sided_p(y: FloatArray, v: FloatArray, alternative: str) -> FloatArray:
    """The p-values of metafor's selection models: one-sided for ``"greater"``/``"less"``, or two-sided."""
    z = y / np.sqrt(v)
    if alternative == "two.sided":
        return np.asarray(2 * special.ndtr(-np.abs(z)), dtype=float)
    return np.asarray(special.ndtr(z if alternative == "less" else -z), dtype=float)


def _weight(spec: _Spec, p: FloatArray, delta: FloatArray, preci: FloatArray) -> FloatArray:
    """w(p; δ) of a parametric type (p already clamped); ``preci`` broadcasts against ``p``."""
    if spec.type == "beta":
        out: FloatArray = p ** (delta[0] - 1) * (1 - p) ** (delta[1] - 1)
        return out
    s1 = float(spec.steps[0])
    d = delta[0] * preci
    if spec.type == "halfnorm":
        raw = np.exp(-d * p**2) / np.exp(-d * s1**2)
    elif spec.type == "negexp":
        raw = np.exp(-d * p) / np.exp(-d * s1)
    elif spec.type == "logistic":
        raw = (2 * np.exp(-d * p) / (1 + np.exp(-d * p))) / (2 * np.exp(-d * s1) / (1 + np.exp(-d * s1)))
    else:  # power
        raw = (1 - p) ** d / (1 - s1) ** d
    return np.asarray(np.where(p <= s1, 1.0, raw), dtype=float)


class _Likelihood:
    """The selection model's log-likelihood for one data set; parameters (β, τ², δ) on the original scale."""

    def __init__(
        self,
        spec: _Spec,
        y: FloatArray,
        v: FloatArray,
        x: FloatArray,
        preci: FloatArray,
        alternative: str,
    ) -> None:
        self.spec, self.y, self.v, self.x, self.preci, self.alt = spec, y, v, x, preci, alternative
        p = one_sided_p(y, v, alternative)
        self.pvals = np.clip(p, spec.pval_min, 1 - spec.pval_min)
        if spec.steps.size:
            cuts = spec.steps if spec.type == "stepfun" else np.append(spec.steps, 1.0)
            self.pgrp = np.searchsorted(cuts, self.pvals, side="left")  # first cut >= p
        if spec.type == "stepfun":
            self._cuts = self._step_cuts()
        else:
            self._grid()

    # --- the step function: A_i in closed form ---------------------------------------------------------

    def _step_cuts(self) -> list[tuple[FloatArray, FloatArray]]:
        """Per cut-point the y thresholds (upper, lower) beyond which p <= cut (lower: two-sided only)."""
        sd = np.sqrt(self.v)
        out = []
        for s in self.spec.steps:
            if self.alt == "greater":
                out.append((-special.ndtri(s) * sd, np.full_like(sd, -np.inf)))
            elif self.alt == "less":
                out.append((np.full_like(sd, np.inf), special.ndtri(s) * sd))
            else:
                out.append((-special.ndtri(s / 2) * sd, special.ndtri(s / 2) * sd))
        return out

    def _selected(self, j: int, yhat: FloatArray, s: FloatArray) -> FloatArray:
        """P(p(y) <= steps[j]) for y ~ N(yhat, s²)."""
        upper, lower = self._cuts[j]
        prob: FloatArray = special.ndtr((yhat - upper) / s) + special.ndtr((lower - yhat) / s)
        return prob

    def _a_stepfun(self, yhat: FloatArray, s: FloatArray, delta: FloatArray) -> FloatArray:
        n = self.spec.steps.size
        below = [self._selected(j, yhat, s) for j in range(n - 1)] + [np.ones_like(yhat)]
        a = below[0].copy()
        for j in range(1, n):
            a = a + delta[j] / self.preci * (below[j] - below[j - 1])
        return a

    # --- parametric types: A_i by Gauss-Legendre panels in z = y / sqrt(vi) ------------------------------

    def _grid(self) -> None:
        spec, alt = self.spec, self.alt
        pmin = spec.pval_min
        # beyond the clamping points (pval_min > 0) or |z| = 10 (p within 1e-23 of 0 or 1) w is constant:
        # those tails are w times a normal probability, in closed form
        breaks = set() if pmin > 0 else {-_Z_FAR, _Z_FAR}
        cuts = [c for c in (pmin, 1 - pmin) if 0 < c < 1] + [c for c in spec.steps.tolist() if 0 < c < 1]
        for c in cuts:
            if alt == "two.sided":
                z = float(-special.ndtri(c / 2))
                breaks |= {z, -z}
            else:
                breaks.add(float(-special.ndtri(c) if alt == "greater" else special.ndtri(c)))
        if alt == "two.sided":
            breaks.add(0.0)
        edges = np.array(sorted(breaks))
        nodes, weights = [], []
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            panels = max(1, math.ceil((b - a) / _PANEL))
            cuts_ab = np.linspace(a, b, panels + 1)
            for lo, hi in zip(cuts_ab[:-1], cuts_ab[1:], strict=True):
                half = (hi - lo) / 2
                nodes.append(lo + half * (_GL_NODES + 1))
                weights.append(half * _GL_WEIGHTS)
        self.z_nodes = np.concatenate(nodes)
        self.z_weights = np.concatenate(weights)
        self.z_lo, self.z_hi = float(edges[0]), float(edges[-1])
        self.p_nodes = np.clip(one_sided_p(self.z_nodes, np.ones_like(self.z_nodes), alt), pmin, 1 - pmin)
        self.p_tails = np.clip(
            one_sided_p(np.array([self.z_lo - 1.0, self.z_hi + 1.0]), np.ones(2), alt), pmin, 1 - pmin
        )

    def _a_integral(self, yhat: FloatArray, s: FloatArray, delta: FloatArray) -> FloatArray:
        sd = np.sqrt(self.v)
        w_nodes = _weight(self.spec, self.p_nodes[None, :], delta, self.preci[:, None])
        u = (sd[:, None] * self.z_nodes[None, :] - yhat[:, None]) / s[:, None]
        phi = np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi) * (sd / s)[:, None]
        inner = (w_nodes * phi) @ self.z_weights
        w_tails = _weight(self.spec, self.p_tails[None, :], delta, self.preci[:, None])
        below = special.ndtr((sd * self.z_lo - yhat) / s)
        above = special.ndtr((yhat - sd * self.z_hi) / s)
        out: FloatArray = inner + w_tails[:, 0] * below + w_tails[:, 1] * above
        return out

    # --- the log-likelihood -----------------------------------------------------------------------------

    def loglik(self, beta: FloatArray, tau2: float, delta: FloatArray) -> float:
        """metafor's ``.selmodel.ll.*`` (positive log-likelihood; τ² below 10 ε counts as 0)."""
        tau2 = 0.0 if tau2 < 10 * _EPS else tau2
        yhat = self.x @ beta
        s = np.sqrt(self.v + tau2)
        if self.spec.type == "stepfun":
            a = self._a_stepfun(yhat, s, delta)
            w_obs = delta[self.pgrp] / self.preci
        else:
            a = self._a_integral(yhat, s, delta)
            w_obs = _weight(self.spec, self.pvals, delta, self.preci)
        dens = -0.5 * np.log(2 * math.pi) - np.log(s) - 0.5 * ((self.y - yhat) / s) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            total = float(np.sum(np.log(w_obs) + dens - np.log(a)))
        return total if math.isfinite(total) else -math.inf


def hessian(func: Callable[[FloatArray], float], x: FloatArray, *, d: float = 0.1, r: int = 6) -> FloatArray:
    """The Hessian of ``func`` at ``x`` by Richardson extrapolation, as R's ``numDeriv::hessian`` (method
    "Richardson", ``eps = 1e-4``, ``zero.tol = sqrt(ε/7e-7)``, ``v = 2``; metafor's ``selmodel`` uses
    ``d = 0.1``, ``r = 6``): the same steps and the same extrapolation, so the same numbers.

    Example::

        >>> h = hessian(lambda t: float(t[0] ** 2 * t[1]), np.array([1.0, 2.0]))
        >>> np.round(h, 8).tolist() == [[4.0, 2.0], [2.0, 0.0]]
        True
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    zero_tol = math.sqrt(_EPS / 7e-7)
    h0 = np.abs(d * x) + 1e-4 * (np.abs(x) < zero_tol)
    f0 = func(x)
    hdiag = np.zeros(n)
    out = np.zeros((n, n))
    for i in range(n):
        h = h0.copy()
        approx = np.zeros(r)
        for k in range(r):
            e = np.zeros(n)
            e[i] = h[i]
            approx[k] = (func(x + e) - 2 * f0 + func(x - e)) / h[i] ** 2
            h = h / 2
        hdiag[i] = _richardson(approx)
        out[i, i] = hdiag[i]
    for i in range(n):
        for j in range(i):
            h = h0.copy()
            approx = np.zeros(r)
            for k in range(r):
                e = np.zeros(n)
                e[i], e[j] = h[i], h[j]
                f1, f2 = func(x + e), func(x - e)
                approx[k] = (f1 - 2 * f0 + f2 - hdiag[i] * h[i] ** 2 - hdiag[j] * h[j] ** 2) / (
                    2 * h[i] * h[j]
                )
                h = h / 2
            out[i, j] = out[j, i] = _richardson(approx)
    return out


def _richardson(a: FloatArray) -> float:
    a = a.copy()
    r = a.size
    for m in range(1, r):
        for k in range(r - m):
            a[k] = (a[k + 1] * 4.0**m - a[k]) / (4.0**m - 1)
    return float(a[0])


@dataclass(frozen=True)
class SelmodelResult:
    """A fitted selection model (metafor's ``rma.uni.selmodel`` object).

    Coefficients as in a ``meta``/``meta_reg`` fit (``names``, ``estimates``, ``se``, ``statistic`` (z),
    ``pvalue``, ``ci_lower``/``ci_upper``, ``vcov``), ``tau2`` with ``se_tau2`` and a Wald CI (lower bound
    truncated at 0); ``delta`` with ``se_delta`` (NaN for a fixed δ), the z test of δ against no
    selection (δ = 1 for stepfun/beta, 0 otherwise) and a Wald CI (truncated at 0); ``loglik`` (ML) and
    ``loglik_no_selection`` of the model without selection; ``lrt``/``lrt_df``/``lrt_pvalue`` for the
    selection parameters, ``lrt_tau2``/``lrt_tau2_pvalue`` for heterogeneity (NaN for an EE model);
    ``qm``/``qm_df``/``qm_pvalue`` the Wald test of the moderators; ``steps`` and ``ptable`` (studies per
    p-value interval) where the model has intervals; ``pvals`` the studies' p-values.
    """

    type: str
    alternative: str
    method: str
    k: int
    level: float
    names: list[str]
    estimates: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    vcov: FloatArray
    tau2: float
    se_tau2: float
    tau2_ci_lower: float
    tau2_ci_upper: float
    delta: FloatArray
    delta_fixed: NDArray[np.bool_]
    se_delta: FloatArray
    delta_statistic: FloatArray
    delta_pvalue: FloatArray
    delta_ci_lower: FloatArray
    delta_ci_upper: FloatArray
    loglik: float
    loglik_no_selection: float
    lrt: float
    lrt_df: int
    lrt_pvalue: float
    lrt_tau2: float
    lrt_tau2_pvalue: float
    qm: float
    qm_df: int
    qm_pvalue: float
    steps: FloatArray
    ptable: NDArray[np.int64]
    pvals: FloatArray
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        """Scalars, and arrays as lists (``vcov`` and ``pvals`` left out)."""
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if name in ("vcov", "pvals"):
                continue
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out

    def to_frame(self) -> Any:
        """One row per coefficient, then one per δ (column ``parameter``), with estimate, se, z, p, CI."""
        import pandas as pd

        rows = coefficient_rows(self.names, "parameter", estimate=self.estimates, se=self.se,
                                statistic=self.statistic, pvalue=self.pvalue, ci_lower=self.ci_lower,
                                ci_upper=self.ci_upper)
        rows += coefficient_rows(self._delta_labels(), "parameter", estimate=self.delta, se=self.se_delta,
                                 statistic=self.delta_statistic, pvalue=self.delta_pvalue,
                                 ci_lower=self.delta_ci_lower, ci_upper=self.delta_ci_upper)
        return pd.DataFrame(rows)

    def _delta_labels(self) -> list[str]:
        if self.type == "stepfun":
            cuts = self.steps if self.type == "stepfun" else np.append(self.steps, 1.0)
            lows = ["0", *[f"{c:g}" for c in cuts[:-1]]]
            width = max(len(s) for s in lows)
            return [f"{lo.ljust(width)} < p <= {c:g}" for lo, c in zip(lows, cuts, strict=True)]
        return ["delta"] if self.delta.size == 1 else [f"delta.{j + 1}" for j in range(self.delta.size)]

    def __str__(self) -> str:
        title = (
            f"Random-Effects Model (k = {self.k}; tau^2 estimator: ML)"
            if self.method != "EE"
            else f"Equal-Effects Model (k = {self.k})"
        )
        if len(self.names) > 1:
            title = title.replace("Random-Effects Model", "Mixed-Effects Model")
        lines = ["", title, ""]
        if self.method != "EE":
            se = "" if math.isnan(self.se_tau2) else f" (SE = {self.se_tau2:.4f})"
            what = "residual" if len(self.names) > 1 else "total"
            lines += [
                f"tau^2 (estimated amount of {what} heterogeneity): {self.tau2:.4f}{se}",
                f"tau (square root of estimated tau^2 value): {math.sqrt(self.tau2):.4f}",
                "",
                "Test for Heterogeneity:",
                f"LRT(df = 1) = {self.lrt_tau2:.4f}, {p_clause(self.lrt_tau2_pvalue)}",
                "",
            ]
        if len(self.names) > 1 and self.qm_df > 0:
            lines += [
                "Test of Moderators:",
                f"QM(df = {self.qm_df}) = {self.qm:.4f}, {p_clause(self.qm_pvalue)}",
                "",
            ]
        head = ["", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub"]
        rows = [
            [
                n,
                self.estimates[j],
                self.se[j],
                self.statistic[j],
                format_p(float(self.pvalue[j])),
                self.ci_lower[j],
                self.ci_upper[j],
            ]
            for j, n in enumerate(self.names)
        ]
        lines += ["Model Results:", "", format_table(head, rows)]
        lines += [
            "Test for Selection Model Parameters:",
            f"LRT(df = {self.lrt_df}) = {self.lrt:.4f}, {p_clause(self.lrt_pvalue)}",
            "",
            "Selection Model Results:",
            "",
        ]
        labels = self._delta_labels()
        has_k = self.ptable.size == len(labels)
        drows = []
        for j, label in enumerate(labels):
            fixed = bool(self.delta_fixed[j])
            cells: list[Any] = [label] + ([int(self.ptable[j])] if has_k else []) + [self.delta[j]]
            if fixed:
                cells += ["---"] * 5
            else:
                cells += [
                    self.se_delta[j],
                    self.delta_statistic[j],
                    format_p(float(self.delta_pvalue[j])),
                    self.delta_ci_lower[j],
                    self.delta_ci_upper[j],
                ]
            drows.append(cells)
        lines.append(format_table(["", *(["k"] if has_k else []), *head[1:]], drows))
        return "\n".join(lines)


def selmodel(
    fit: MetaResult | MetaRegResult,
    type: str,
    *,
    steps: Sequence[float] | None = None,
    alternative: str = "greater",
    prec: str | None = None,
    ni: ArrayLike | None = None,
    delta: Sequence[float] | None = None,
    delta_min: ArrayLike | None = None,
    control: Mapping[str, float] | None = None,
) -> SelmodelResult:
    """Fit a selection model to a ``meta``/``meta_reg`` fit, as metafor's ``selmodel(x, type, ...)``.

    ``type`` is one of :data:`TYPES`; ``steps`` are the p-value cut-points of ``"stepfun"`` (required;
    1 is appended) or, for the one-parameter types, the single p-value up to which w = 1 (default 0);
    ``alternative`` is the direction of the p-values (``"greater"``, metafor's default); ``prec``
    (``"sei"``, ``"vi"``, ``"ninv"``, ``"sqrtninv"``, the last two with ``ni``) scales δ by a precision
    measure (not for ``"beta"``); ``delta`` fixes δ values (``nan`` = estimated; a single value fixes
    all); ``delta_min`` changes the lower bound of δ; ``control``: ``maxiter`` (BFGS iterations, 1000)
    and ``gtol`` (1e-9). A fit with user weights is refused, as metafor refuses it. See the module text.
    """
    if not isinstance(fit, MetaResult | MetaRegResult):
        raise StatsInputError(
            f"selmodel needs a meta or meta_reg result, not {type(fit).__name__}", field="fit"
        )
    if fit.user_weights is not None:
        raise StatsInputError("cannot fit a selection model to a model with user weights", field="weights")
    if type not in TYPES:
        raise StatsInputError(f"type must be one of {TYPES}, not {type!r}", field="type")
    if alternative not in ALTERNATIVES:
        raise StatsInputError(
            f"alternative must be one of {ALTERNATIVES}, not {alternative!r}", field="alternative"
        )
    ctrl = {"maxiter": 1000.0, "gtol": 1e-9} | dict(control or {})
    unknown = sorted(set(ctrl) - {"maxiter", "gtol"})
    if unknown:
        raise StatsInputError(f"unknown control setting(s) {unknown}", field="control")
    cuts = _steps(type, steps)
    spec = _spec(type, cuts, delta_min)
    y, v = fit.yi, fit.vi
    if isinstance(fit, MetaResult):
        x, names = np.ones((fit.k, 1)), ["intrcpt"]
    else:
        x, names = fit.X, list(fit.names)
    k, p = x.shape
    ee = fit.method == "EE"
    ml = _ml_fit(fit, x)
    preci = _precision(prec, type, v, ni, k)
    fixed = _fixed_delta(spec, delta)
    free_delta = np.isnan(fixed)
    need = p + (0 if ee else 1) + int(free_delta.sum())
    if k < need:
        raise StatsInputError(f"k = {k} studies are too few for this selection model ({need} parameters)")
    lik = _Likelihood(spec, y, v, x, preci, alternative)
    ptable = _ptable(spec, lik)
    if ptable.size and np.any(ptable == 0):
        empty = np.flatnonzero(ptable == 0)
        if type != "stepfun" or np.any(free_delta[empty]):
            raise StatsInputError(
                "one or more p-value intervals contain no study: "
                + ", ".join(f"interval {int(j) + 1}" for j in empty),
                field="steps",
            )
    beta0 = ml["beta"]
    tau2_0 = 0.0 if ee else float(ml["tau2"])
    best = _maximise(lik, spec, beta0, tau2_0, ee, fixed, ctrl)
    beta, tau2, dlt, ll = best["beta"], best["tau2"], best["delta"], best["ll"]
    at_bound = np.any(dlt[free_delta] <= spec.delta_min[free_delta] + _EPS**0.25) or np.any(
        dlt[free_delta] >= spec.delta_max[free_delta] - 100 * _EPS**0.25
    )
    if at_bound:
        warnings.warn(
            "one or more delta estimates are (almost) equal to their lower or upper bound; "
            "treat the results with caution",
            RuntimeWarning,
            stacklevel=2,
        )
    level = fit.level
    crit = float(-special.ndtri((1 - level / 100) / 2))
    hest = np.concatenate([np.ones(p, dtype=bool), [not ee], free_delta])
    cov = _inverse_hessian(lik, beta, tau2, dlt, fixed, ee, hest)
    vb = cov[:p, :p]
    se = np.sqrt(np.diag(vb))
    z = beta / se
    se_tau2 = math.sqrt(cov[p, p]) if not ee and math.isfinite(cov[p, p]) else math.nan
    vd = cov[p + 1 :, p + 1 :]
    se_delta = np.where(free_delta, np.sqrt(np.diag(vd)), np.nan)
    btt = [j for j, n in enumerate(names) if n != INTERCEPT]
    qm, qm_p = _wald(beta, vb, btt)
    ll0 = loglik(y, v, x, ml["beta"], tau2_0, reml=False)
    lrt = max(0.0, -2 * (ll0 - ll))
    lrt_df = int(free_delta.sum())
    lrt_tau2 = lrt_tau2_p = math.nan
    if not ee:
        null = _maximise(lik, spec, beta0, tau2_0, True, fixed, ctrl)
        lrt_tau2 = max(0.0, -2 * (null["ll"] - ll))
        lrt_tau2_p = float(special.chdtrc(1, lrt_tau2))
    dz = (dlt - spec.h0) / se_delta
    return SelmodelResult(
        type=type,
        alternative=alternative,
        method="EE" if ee else "ML",
        k=k,
        level=level,
        names=names,
        estimates=beta,
        se=se,
        statistic=z,
        pvalue=2 * special.ndtr(-np.abs(z)),
        ci_lower=beta - crit * se,
        ci_upper=beta + crit * se,
        vcov=vb,
        tau2=tau2,
        se_tau2=se_tau2,
        tau2_ci_lower=max(0.0, tau2 - crit * se_tau2) if not math.isnan(se_tau2) else math.nan,
        tau2_ci_upper=tau2 + crit * se_tau2,
        delta=dlt,
        delta_fixed=~free_delta,
        se_delta=se_delta,
        delta_statistic=dz,
        delta_pvalue=2 * special.ndtr(-np.abs(dz)),
        delta_ci_lower=np.maximum(dlt - crit * se_delta, 0.0),
        delta_ci_upper=dlt + crit * se_delta,
        loglik=ll,
        loglik_no_selection=ll0,
        lrt=lrt,
        lrt_df=lrt_df,
        lrt_pvalue=float(special.chdtrc(lrt_df, lrt)) if lrt_df > 0 else math.nan,
        lrt_tau2=lrt_tau2,
        lrt_tau2_pvalue=lrt_tau2_p,
        qm=qm,
        qm_df=len(btt),
        qm_pvalue=qm_p,
        steps=spec.steps,
        ptable=ptable,
        pvals=lik.pvals,
        converged=bool(best["converged"]),
    )


# --- pieces of selmodel ---------------------------------------------------------------------------------


def _steps(type: str, steps: Sequence[float] | None) -> FloatArray | None:
    if steps is None:
        if type == "stepfun":
            raise StatsInputError("type='stepfun' needs steps (the p-value cut-points)", field="steps")
        return None
    cuts = np.asarray(steps, dtype=float).ravel()
    if cuts.size == 0 or np.any(~np.isfinite(cuts)) or np.any((cuts < 0) | (cuts > 1)):
        raise StatsInputError(f"steps must be values in [0, 1], not {list(steps)!r}", field="steps")
    cuts = np.unique(cuts)
    if type == "beta":
        warnings.warn("steps is ignored for type='beta' (as metafor)", RuntimeWarning, stacklevel=3)
        return None
    if type == "stepfun":
        if cuts[-1] != 1:
            cuts = np.append(cuts, 1.0)
        if cuts.size < 2:
            raise StatsInputError("steps needs at least one cut-point below 1", field="steps")
        return cuts
    if cuts.size != 1 or cuts[0] == 1:
        raise StatsInputError(
            f"type={type!r} takes a single step below 1, not {list(steps)!r}", field="steps"
        )
    return cuts


def _precision(prec: str | None, type: str, v: FloatArray, ni: ArrayLike | None, k: int) -> FloatArray:
    if prec is None:
        return np.ones(k)
    if prec not in PRECS:
        raise StatsInputError(f"prec must be one of {PRECS}, not {prec!r}", field="prec")
    if type == "beta":
        warnings.warn("prec is ignored for type='beta' (as metafor)", RuntimeWarning, stacklevel=3)
        return np.ones(k)
    if prec in ("ninv", "sqrtninv"):
        if ni is None:
            raise StatsInputError(f"prec={prec!r} needs the sample sizes ni", field="ni")
        n = np.asarray(ni, dtype=float)
        if n.shape != (k,) or np.any(~np.isfinite(n)) or np.any(n <= 0):
            raise StatsInputError(f"ni must be {k} finite sample sizes > 0", field="ni")
        raw = 1 / n if prec == "ninv" else 1 / np.sqrt(n)
    else:
        raw = np.sqrt(v) if prec == "sei" else v.copy()
    out: FloatArray = raw / np.max(raw)
    return out


def _fixed_delta(spec: _Spec, delta: Sequence[float] | None) -> FloatArray:
    fixed = np.full(spec.n_delta, np.nan)
    if delta is not None:
        given = np.asarray(delta, dtype=float).ravel()
        if given.size == 1:
            given = np.full(spec.n_delta, given[0])
        if given.size != spec.n_delta:
            raise StatsInputError(f"delta needs {spec.n_delta} value(s) for this model", field="delta")
        bad = ~np.isnan(given) & ((given < 0) | (spec.type == "beta") & (given <= 0) | ~np.isfinite(given))
        if np.any(bad):
            raise StatsInputError(
                f"delta values must be >= 0 (> 0 for beta), not {list(delta)!r}", field="delta"
            )
        fixed = given
    if spec.type == "stepfun" and np.isnan(fixed[0]):
        fixed[0] = 1.0
    return fixed


def _ptable(spec: _Spec, lik: _Likelihood) -> NDArray[np.int64]:
    if not spec.intervals:
        return np.zeros(0, dtype=np.int64)
    n = spec.steps.size if spec.type == "stepfun" else 2
    return np.bincount(lik.pgrp, minlength=n).astype(np.int64)


def _ml_fit(fit: MetaResult | MetaRegResult, x: FloatArray) -> dict[str, Any]:
    """The ML fit (metafor refits a non-ML random-effects model by ML; EE stays EE)."""
    method = "EE" if fit.method == "EE" else "ML"
    if fit.method == method:
        beta = np.array([fit.estimate]) if isinstance(fit, MetaResult) else fit.estimates
        return {"beta": np.asarray(beta, dtype=float), "tau2": fit.tau2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ml = fit_stack(
            fit.yi, fit.vi, x, Segments.single(fit.k), method="ML", test="z", pi="z", level=fit.level,
            control=Control(), tau2_ci=False,
        )  # fmt: skip
    return {"beta": ml.beta[0], "tau2": float(ml.tau2[0])}


def _to_delta(theta: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """metafor's ``.mapfun``: lb + (ub − lb) / (1 + exp(−θ))."""
    with np.errstate(over="ignore"):
        out: FloatArray = lo + (hi - lo) / (1 + np.exp(-theta))
    return out


def _from_delta(delta: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """metafor's ``.mapinvfun``: log((δ − lb) / (ub − δ))."""
    out: FloatArray = np.log((delta - lo) / (hi - delta))
    return out


def _maximise(
    lik: _Likelihood,
    spec: _Spec,
    beta0: FloatArray,
    tau2_0: float,
    tau2_fixed_zero: bool,
    fixed: FloatArray,
    ctrl: Mapping[str, float],
) -> dict[str, Any]:
    """Maximise the log-likelihood over β, log τ² (unless τ² = 0 is fixed) and the free δ on metafor's
    search scale (logistic δ), from metafor's start (the ML β, log(τ² + 0.001), δ = 1): BFGS, then Newton
    steps on the same scale while they improve the likelihood."""
    from scipy import optimize

    p = beta0.size
    free = np.isnan(fixed)
    init_delta = np.where(free, spec.delta_init, fixed)
    lo, hi = spec.delta_min[free], spec.delta_max[free]
    theta0 = np.concatenate(
        [beta0, [] if tau2_fixed_zero else [math.log(tau2_0 + 0.001)], _from_delta(init_delta[free], lo, hi)]
    )

    def unpack(theta: FloatArray) -> tuple[FloatArray, float, FloatArray]:
        beta = theta[:p]
        tau2 = 0.0 if tau2_fixed_zero else float(math.exp(min(theta[p], 700.0)))
        dlt = fixed.copy()
        dlt[free] = _to_delta(theta[p + (0 if tau2_fixed_zero else 1) :], lo, hi)
        return beta, tau2, dlt

    def negll(theta: FloatArray) -> float:
        val = -lik.loglik(*unpack(theta))
        return val if math.isfinite(val) else 1e300

    def grad(theta: FloatArray) -> FloatArray:
        g = np.zeros_like(theta)
        for i in range(theta.size):
            h = 1e-6 * max(1.0, abs(theta[i]))
            e = np.zeros_like(theta)
            e[i] = h
            g[i] = (negll(theta + e) - negll(theta - e)) / (2 * h)
        return g

    res = optimize.minimize(
        negll,
        theta0,
        jac=grad,
        method="BFGS",
        options={"gtol": float(ctrl["gtol"]), "maxiter": int(ctrl["maxiter"])},
    )
    theta = np.asarray(res.x, dtype=float)
    fval = float(res.fun)
    for _ in range(20):  # Newton polish on the search scale (skipped where the Hessian is not definite)
        g = grad(theta)
        h = hessian(negll, theta, d=1e-3, r=4)
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.any(np.linalg.eigvalsh((h + h.T) / 2) <= 0):
            break
        cand = theta - step
        fc = negll(cand)
        if not fc <= fval:
            break
        done = np.max(np.abs(step)) < 1e-10
        theta, fval = cand, fc
        if done:
            break
    beta, tau2, dlt = unpack(theta)
    converged = bool(res.success) or np.max(np.abs(grad(theta))) < 1e-6
    return {
        "beta": beta,
        "tau2": 0.0 if tau2 < 10 * _EPS else tau2,
        "delta": dlt,
        "ll": -fval,
        "converged": converged,
    }


def _inverse_hessian(
    lik: _Likelihood,
    beta: FloatArray,
    tau2: float,
    dlt: FloatArray,
    fixed: FloatArray,
    ee: bool,
    hest: NDArray[np.bool_],
) -> FloatArray:
    """The inverse of the Hessian of −log L on the original scale (β, τ², δ), over the estimated parameters
    ``hest``, computed as metafor (numDeriv's Richardson, d = 0.1, r = 6; the fixed parameters held at
    their values); NaN with a warning when it is not positive definite."""
    p = beta.size
    n = p + 1 + dlt.size

    def f(par: FloatArray) -> float:
        t2 = 0.0 if ee else float(par[p])
        d = np.where(np.isnan(fixed), par[p + 1 :], fixed)
        return -lik.loglik(par[:p], t2, d)

    full = hessian(f, np.concatenate([beta, [tau2], dlt]))
    sub = full[np.ix_(hest, hest)]
    out = np.full((n, n), np.nan)
    try:
        chol = np.linalg.cholesky(sub)
        inv = np.linalg.inv(chol)
        cov = inv.T @ inv
    except np.linalg.LinAlgError:
        warnings.warn("the Hessian could not be inverted: no standard errors", RuntimeWarning, stacklevel=3)
        return out
    if not np.all(np.isfinite(cov)):
        warnings.warn("the Hessian could not be inverted: no standard errors", RuntimeWarning, stacklevel=3)
        return out
    out[np.ix_(hest, hest)] = cov
    return out


def _wald(beta: FloatArray, vb: FloatArray, btt: list[int]) -> tuple[float, float]:
    if not btt:
        return math.nan, math.nan
    b = beta[btt]
    try:
        qm = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
    except np.linalg.LinAlgError:
        return math.nan, math.nan
    return qm, float(special.chdtrc(len(btt), qm))


__all__ = ["ALTERNATIVES", "TYPES", "SelmodelResult", "hessian", "one_sided_p", "selmodel"]
