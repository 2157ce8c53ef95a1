"""Robust variance estimation with robumeta's working models: ``robu()`` and ``sensitivity()``.

Hedges, Tipton & Johnson (2010) weight dependent effect sizes by a simple working model, estimate the
between-study variance by moments, and test the coefficients with a cluster-robust (sandwich) variance;
Tipton (2015) adds a small-sample correction. As robumeta 2.0's ``robu(formula, data, studynum,
var.eff.size, modelweights, rho, small)``:

* ``modelweights="CORR"`` (correlated effects): weights ``1 / (k_j (mean(v_j) + tau2))`` for the k_j
  effect sizes of study j, ``tau2`` by robumeta's moment estimator for an assumed within-study
  correlation ``rho`` (default 0.8), and its ``I.sq``;
* ``modelweights="HIER"`` (hierarchical effects): weights ``1 / (v + tau2 + omega2)`` with robumeta's
  moment estimators of ``tau2`` (between studies) and ``omega2`` (within);
* ``small=True``: the CR2 adjustment with the working covariance ``diag(1 / w)`` (eigenvalues below
  1e-10 dropped) and Satterthwaite df per coefficient -- clubSandwich's CR2 and df with robumeta's
  working model, computed by the same code as :func:`robust`'s ``clubsandwich=True``
  (:mod:`metareview.stats.sandwich`); ``small=False``: the sandwich times N / (N - p) with N - p df,
  metafor's CR1.

:func:`robu_sensitivity` refits over ``rho`` = 0, 0.2, ..., 1 as robumeta's ``sensitivity(fit)``. User
weights (robumeta's ``userweights``) are not supported.

Example::

    >>> from metareview.stats import robu
    >>> res = robu([0.1, 0.3, 0.2, 0.5, 0.4, 0.0, 0.6, 0.2],
    ...            [0.01, 0.02, 0.015, 0.02, 0.01, 0.03, 0.02, 0.01], studynum=[1, 1, 2, 2, 3, 3, 4, 4])
    >>> res.n_studies, res.modelweights
    (4, 'CORR')
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.design import INTERCEPT, Mods, model_matrix
from metareview.stats.errors import StatsInputError, check_effects
from metareview.stats.mvrandom import codes_of
from metareview.stats.results import format_p, format_table
from metareview.stats.robust import RobustTable, cluster_robust

FloatArray = NDArray[np.float64]

ROBUMETA_EIGEN_TOL = 1e-10  # robumeta drops eigenvalues below 10^-10 in its CR2 matrix power


@dataclass(frozen=True)
class RobuResult(RobustTable):
    """A robumeta fit: robust coefficients and the working model's variance estimates.

    ``names``/``estimates``/``se``/``statistic``/``df``/``pvalue``/``ci_lower``/``ci_upper`` are
    robumeta's ``reg_table`` (``b.r``, ``SE``, ``t``, ``dfs``, ``prob``, ``CI.L``, ``CI.U``); ``tau2``,
    ``omega2`` (HIER) and ``i2`` (CORR, percent) its ``mod_info``; ``n_studies`` its N, ``k`` the number of
    effect sizes, ``study_sizes`` the effect sizes per study.

    Example::

        >>> res = robu([0.1, 0.3, 0.2, 0.5, 0.4, 0.0, 0.6, 0.2],
        ...            [0.01, 0.02, 0.015, 0.02, 0.01, 0.03, 0.02, 0.01], [1, 1, 2, 2, 3, 3, 4, 4])
        >>> res.names
        ['intrcpt']
    """

    modelweights: str
    small: bool
    rho: float
    names: list[str]
    estimates: FloatArray
    se: FloatArray
    statistic: FloatArray
    df: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    vcov: FloatArray
    tau2: float
    omega2: float
    i2: float
    n_studies: int
    k: int
    study_sizes: NDArray[np.int64]
    weights: FloatArray
    level: float
    # CORR: tau2 = max(0, term1 + rho * term2)
    term1: float = math.nan
    term2: float = math.nan
    # the data, for robu_sensitivity()
    yi: FloatArray | None = None
    vi: FloatArray | None = None
    X: FloatArray | None = None
    study_codes: NDArray[np.intp] | None = None

    def __str__(self) -> str:
        return _format(self)


def robu(
    yi: ArrayLike,
    vi: ArrayLike,
    studynum: Sequence[Hashable] | ArrayLike,
    *,
    mods: Mods | None = None,
    intercept: bool = True,
    modelweights: str = "CORR",
    rho: float = 0.8,
    small: bool = True,
    level: float = 95.0,
) -> RobuResult:
    """Robust variance estimation as ``robumeta::robu`` (see the module).

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances (robumeta's formula response and ``var.eff.size``).
    studynum
        The study (cluster) of each effect size.
    mods, intercept
        Moderators (a mapping of named columns or a numeric array), with an intercept unless
        ``intercept=False`` -- robumeta's formula ``yi ~ x1 + x2`` (``~ 1`` without ``mods``).
    modelweights
        ``"CORR"`` (correlated effects, default) or ``"HIER"`` (hierarchical effects).
    rho
        The assumed within-study correlation of the CORR model (in [0, 1]; ignored by HIER).
    small
        robumeta's small-sample corrections (CR2 and Satterthwaite df; default) or not (CR1, N - p df).
    level
        Confidence level in percent (robumeta: 95).

    Raises :class:`StatsInputError` for bad effect sizes, mismatched lengths, ``rho`` outside [0, 1], an
    unknown ``modelweights`` or no more studies than coefficients.

    Example::

        >>> res = robu([0.1, 0.3, 0.2, 0.5, 0.4, 0.0, 0.6, 0.2],
        ...            [0.01, 0.02, 0.015, 0.02, 0.01, 0.03, 0.02, 0.01], [1, 1, 2, 2, 3, 3, 4, 4],
        ...            modelweights="HIER", small=False)
        >>> float(res.df[0])
        3.0
    """
    y, v = check_effects(yi, vi)
    k = y.size
    modelweights = modelweights.upper()
    if modelweights not in ("CORR", "HIER"):
        raise StatsInputError(
            f"modelweights must be 'CORR' or 'HIER', not {modelweights!r}", field="modelweights"
        )
    if modelweights == "CORR" and not 0 <= rho <= 1:
        raise StatsInputError(f"rho must be a value between 0 and 1, not {rho}", field="rho")
    if not 0 < level < 100:
        raise StatsInputError(f"level must be a percentage in (0, 100), not {level}", field="level")
    study = codes_of(studynum, k, "studynum")
    x, names = model_matrix(mods, k, intercept)
    n = int(study.max()) + 1
    p = x.shape[1]
    if n - p <= 0:
        raise StatsInputError(
            f"the number of studies ({n}) must be larger than the number of coefficients ({p})",
            field="studynum",
        )
    return _fit(y, v, x, study, names, modelweights, float(rho), small, float(level))


def _fit(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    study: NDArray[np.intp],
    names: list[str],
    modelweights: str,
    rho: float,
    small: bool,
    level: float,
) -> RobuResult:
    n = int(study.max()) + 1
    parts = _Moments(y, v, x, study)
    if modelweights == "CORR":
        term1, term2 = parts.corr_terms()
        tau2 = max(0.0, term1 + rho * term2)
        omega2 = math.nan
        dfi = n - parts.corr_term_a - rho * parts.corr_term_b
        qe = parts.qe(parts.w_corr)
        i2 = max(0.0, (qe - dfi) / qe * 100.0)
        w = parts.corr_weights(tau2)
    else:
        term1 = term2 = math.nan
        tau2, omega2 = parts.hier_components()
        i2 = math.nan
        w = 1.0 / (v + tau2 + omega2)
    table = _robust_table(y, x, w, study, names, small, level)
    return RobuResult(
        modelweights=modelweights,
        small=small,
        rho=rho,
        names=list(names),
        estimates=table.estimates,
        se=table.se,
        statistic=table.statistic,
        df=table.df,
        pvalue=table.pvalue,
        ci_lower=table.ci_lower,
        ci_upper=table.ci_upper,
        vcov=table.vcov,
        tau2=float(tau2),
        omega2=float(omega2),
        i2=float(i2),
        n_studies=n,
        k=y.size,
        study_sizes=np.bincount(study).astype(np.int64),
        weights=w,
        level=level,
        term1=float(term1),
        term2=float(term2),
        yi=y,
        vi=v,
        X=x,
        study_codes=study,
    )


@dataclass(frozen=True)
class SensitivityResult:
    """robumeta's ``sensitivity()``: the CORR fit at several ``rho``: ``estimates[r, j]``, ``se[r, j]``."""

    rho: FloatArray
    tau2: FloatArray
    names: list[str]
    estimates: FloatArray
    se: FloatArray

    def to_frame(self) -> Any:
        """One row per rho: tau2 and each coefficient's estimate and SE."""
        import pandas as pd

        cols: dict[str, Any] = {"rho": self.rho, "tau2": self.tau2}
        for j, name in enumerate(self.names):
            cols[f"{name}_estimate"] = self.estimates[:, j]
            cols[f"{name}_se"] = self.se[:, j]
        return pd.DataFrame(cols)

    def __str__(self) -> str:
        rows = []
        for j, name in enumerate(self.names):
            rows.append([name, "Coefficient", *self.estimates[:, j].tolist()])
            rows.append(["", "Std. Error", *self.se[:, j].tolist()])
        rows.append(["Tau.sq", "Estimate", *self.tau2.tolist()])
        header = ["", "", *[f"Rho = {r:g}" for r in self.rho]]
        return "Sensitivity Analysis\n\n" + format_table(header, rows)


def robu_sensitivity(
    fit: RobuResult, rho: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
) -> SensitivityResult:
    """robumeta's ``sensitivity(fit)``: the CORR model refitted for each ``rho`` (tau2, estimates, SEs).

    HIER fits have no ``rho``: as in robumeta, they raise. (robumeta's ``sensitivity()`` takes no
    eigenvalue threshold in its CR2 matrices; the two differ only for a study whose ``I - H`` block is
    singular, where robumeta's SEs are not finite.)

    Example::

        >>> fit = robu([0.1, 0.3, 0.2, 0.5, 0.4, 0.0, 0.6, 0.2],
        ...            [0.01, 0.02, 0.015, 0.02, 0.01, 0.03, 0.02, 0.01], [1, 1, 2, 2, 3, 3, 4, 4])
        >>> robu_sensitivity(fit).rho.tolist()
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if fit.modelweights != "CORR":
        raise StatsInputError("sensitivity analysis is not available for hierarchical effects", field="fit")
    if fit.yi is None or fit.vi is None or fit.X is None or fit.study_codes is None:
        raise StatsInputError("this robu result does not carry its data", field="fit")
    rows = [
        _fit(fit.yi, fit.vi, fit.X, fit.study_codes, fit.names, "CORR", float(r), fit.small, fit.level)
        for r in rho
    ]
    return SensitivityResult(
        rho=np.asarray(rho, dtype=float),
        tau2=np.array([r.tau2 for r in rows]),
        names=list(fit.names),
        estimates=np.array([r.estimates for r in rows]),
        se=np.array([r.se for r in rows]),
    )


# ----------------------------------------------------------------------------------------------------------
# the moment estimators


class _Moments:
    """Per-study sums of the design behind robumeta's CORR and HIER moment estimators."""

    def __init__(self, y: FloatArray, v: FloatArray, x: FloatArray, study: NDArray[np.intp]) -> None:
        self.y, self.v, self.x, self.study = y, v, x, study
        self.n = int(study.max()) + 1
        self.k, self.p = x.shape
        self.kj = np.bincount(study).astype(float)
        self.vbar = np.bincount(study, weights=v) / self.kj
        self.w_corr = 1.0 / (self.kj * self.vbar)[study]
        self.corr_term_a = self.corr_term_b = math.nan

    def _sum(self, values: FloatArray) -> FloatArray:
        """Per-study sums of the rows of ``values`` (n x ...)."""
        out = np.zeros((self.n, *values.shape[1:]))
        np.add.at(out, self.study, values)
        return out

    def _fit(self, w: FloatArray) -> tuple[FloatArray, FloatArray]:
        """((X'WX)^-1, residuals) of the weighted least-squares fit."""
        xw = self.x * w[:, None]
        inv = np.linalg.inv(self.x.T @ xw)
        beta = inv @ (xw.T @ self.y)
        return np.asarray(inv, dtype=np.float64), self.y - self.x @ beta

    def qe(self, w: FloatArray) -> float:
        _, e = self._fit(w)
        return float(np.sum(w * e**2))

    def corr_terms(self) -> tuple[float, float]:
        w = self.w_corr
        inv, e = self._fit(w)
        qe = float(np.sum(w * e**2))
        swx = self._sum(self.x * w[:, None])  # per study: X_j' W_j 1
        sx = self._sum(self.x)  # X_j' 1
        sum_xwjwx = swx.T @ swx
        denom = float(np.sum(w)) - float(np.trace(inv @ sum_xwjwx))
        wk = w / self.kj[self.study]
        wkxx = (self.x * wk[:, None]).T @ self.x
        # sum_j (w/k)_j (X_j' J X_j - X_j' X_j), (w/k) constant within a study
        wk_study = self._sum(wk[:, None])[:, 0] / self.kj
        xjx = (sx * wk_study[:, None]).T @ sx - (self.x * wk[:, None]).T @ self.x
        self.corr_term_a = float(np.trace(inv @ wkxx))
        self.corr_term_b = float(np.trace(inv @ xjx))
        term1 = (qe - self.n + self.corr_term_a) / denom
        term2 = self.corr_term_b / denom
        return term1, term2

    def corr_weights(self, tau2: float) -> FloatArray:
        return np.asarray(1.0 / (self.kj * (self.vbar + tau2))[self.study], dtype=np.float64)

    def hier_components(self) -> tuple[float, float]:
        """robumeta's (tau2, omega2) of the hierarchical effects model."""
        w = 1.0 / self.v
        vi_, e = self._fit(w)
        x = self.x
        qe = float(np.sum(w * e**2))
        qa = float(np.sum(self._sum(e[:, None])[:, 0] ** 2))
        sx = self._sum(x)  # X_j' 1
        swx = self._sum(x * w[:, None])  # X_j' W 1
        kj = self.kj
        tr_jj = float(np.sum(kj**2))
        sum_xjx = sx.T @ sx
        sum_xwjjx = (swx * kj[:, None]).T @ sx  # X'W J J X = k_j (X'W1)(1'X)
        sum_xjjwx = sum_xwjjx.T
        sum_xwwx = (x * (w**2)[:, None]).T @ x
        sum_xjwx = sx.T @ swx
        sum_xwjx = swx.T @ sx
        sum_xwjwx = swx.T @ swx

        def tr(a: FloatArray) -> float:
            return float(np.trace(a))

        a1 = tr_jj - tr(vi_ @ sum_xjjwx) - tr(vi_ @ sum_xwjjx) + tr(vi_ @ sum_xjx @ vi_ @ sum_xwjwx)
        b1 = self.k - tr(vi_ @ sum_xwjx) - tr(vi_ @ sum_xjwx) + tr(vi_ @ sum_xjx @ vi_ @ sum_xwwx)
        c1 = float(np.sum(self.v)) - tr(vi_ @ sum_xjx)
        sum_w = float(np.sum(w))
        a2 = sum_w - tr(vi_ @ sum_xwjwx)
        b2 = sum_w - tr(vi_ @ sum_xwwx)
        c2 = self.k - self.p
        omega2 = max(0.0, ((qa - c1) * a2 - (qe - c2) * a1) / (b1 * a2 - b2 * a1))
        tau2 = max(0.0, (qe - c2) / a2 - omega2 * (b2 / a2))
        return tau2, omega2


def _robust_table(
    y: FloatArray,
    x: FloatArray,
    w: FloatArray,
    study: NDArray[np.intp],
    names: list[str],
    small: bool,
    level: float,
) -> Any:
    """The robust coefficient table of the weighted fit (via :func:`cluster_robust`)."""
    xw = x * w[:, None]
    beta = np.asarray(np.linalg.solve(x.T @ xw, xw.T @ y), dtype=np.float64)
    return cluster_robust(
        y,
        x,
        np.diag(w),
        np.diag(1.0 / w),
        beta,
        names,
        [j for j, n in enumerate(names) if n != INTERCEPT],
        study.astype(np.int64),
        level=level,
        clubsandwich=small,
        vcov="CR2",
        adjust=True,
        eigen_tol=ROBUMETA_EIGEN_TOL,
    )


# ----------------------------------------------------------------------------------------------------------
# printing (robumeta's print.robu layout)


def _format(res: RobuResult) -> str:
    label = "Correlated Effects" if res.modelweights == "CORR" else "Hierarchical Effects"
    head = f"RVE: {label} Model" + (" with Small-Sample Corrections" if res.small else "")
    sizes = res.study_sizes
    lines = [
        head,
        "",
        f"Number of {'studies' if res.modelweights == 'CORR' else 'clusters'} = {res.n_studies}",
        f"Number of outcomes = {res.k} (min = {int(sizes.min())}, mean = {float(sizes.mean()):.3g}, "
        f"median = {float(np.median(sizes)):g}, max = {int(sizes.max())})",
    ]
    if res.modelweights == "CORR":
        lines += [f"Rho = {res.rho:g}", f"I.sq = {res.i2:.7g}", f"Tau.sq = {res.tau2:.7g}"]
    else:
        lines += [f"Omega.sq = {res.omega2:.7g}", f"Tau.sq = {res.tau2:.7g}"]
    rows = []
    for j, name in enumerate(res.names):
        p = float(res.pvalue[j])
        sig = "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""
        rows.append(
            [
                name,
                float(res.estimates[j]),
                float(res.se[j]),
                float(res.statistic[j]),
                float(res.df[j]),
                format_p(p),
                float(res.ci_lower[j]),
                float(res.ci_upper[j]),
                sig,
            ]
        )
    ci = f"{res.level:g}%"
    header = ["", "Estimate", "StdErr", "t-value", "dfs", "P(|t|>)", f"{ci} CI.L", f"{ci} CI.U", "Sig"]
    lines += ["", format_table(header, rows), "---", "Signif. codes: < .01 *** < .05 ** < .10 *", "---"]
    if res.small:
        lines.append("Note: If df < 4, do not trust the results")
    return "\n".join(lines) + "\n"
