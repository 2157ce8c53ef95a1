"""Cluster-robust variance estimation: ``robust()``, metafor's ``robust()`` and clubSandwich's CR2.

Two conventions, both for :func:`~metareview.stats.meta`, :func:`~metareview.stats.meta_reg` and
:func:`~metareview.stats.meta_mv` fits (any random structure and ``V``):

* ``robust(fit, cluster)`` — metafor's ``robust(x, cluster, adjust=TRUE)``: the sandwich
  ``M X'W (⊕ e_j e_j') W X M`` with the model's weights W = Φ⁻¹ (Φ the model's marginal covariance,
  ``diag(vi + τ²)`` for ``meta``/``meta_reg``), ``M = (X'WX)⁻¹``, times ``n/(n − p)`` (CR1; ``adjust=False``:
  CR0), coefficients tested with t on ``n − p`` df (n clusters, p coefficients) and the moderators with
  F(m, n − p). As in metafor, ``W X`` enters by the columns of cluster j of the full W, so the clusters
  need not nest the model's random effects (or ``V``).
* ``robust(fit, cluster, clubsandwich=True)`` — metafor's ``robust(x, cluster, clubSandwich=TRUE)``:
  clubSandwich's ``vcovCR(x, cluster, type = "CR2")`` (the bias-reduced linearisation of Bell & McCaffrey
  2002 / Pustejovsky & Tipton 2018, with the model as working model: ``inverse_var = TRUE``), the
  coefficients tested by ``coef_test(..., test = "Satterthwaite")`` (one df per coefficient), CIs from
  ``conf_int`` with those df and the moderators by ``Wald_test(..., test = "HTZ")`` (Hotelling's T²
  approximation, Tipton & Pustejovsky 2015). ``vcov="CR0"`` / ``"CR1"`` (clubSandwich's CR1 scales by
  ``J/(J − 1)``) are accepted there too. Here (as clubSandwich requires) the model's random effects and
  ``V`` must lie within the clusters.

The bread is always the model-based ``(X'WX)⁻¹`` (clubSandwich's); it equals metafor's for fits with
``test="z"``. (metafor's ``robust()`` reuses the fit's ``vb``, which under ``test="knha"`` carries the
Knapp–Hartung factor; we do not reproduce that.)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.errors import StatsInputError
from metareview.stats.multilevel import MultilevelResult
from metareview.stats.mvrandom import combine
from metareview.stats.results import MetaRegResult, MetaResult, coefficient_rows, format_p, format_table
from metareview.stats.sandwich import estimating_matrices, gh_matrices, htz, sandwich, satterthwaite

FloatArray = NDArray[np.float64]
Fit = MetaResult | MetaRegResult | MultilevelResult

_VCOV_TYPES = ("CR0", "CR1", "CR2")


class RobustTable:
    """``to_dict``/``to_frame`` of the cluster-robust results (:class:`RobustResult`, robu's ``RobuResult``):
    the scalar fields, and the coefficient table with t, df and p as clubSandwich/robumeta print them."""

    names: list[str]
    estimates: NDArray[np.float64]
    se: NDArray[np.float64]
    statistic: NDArray[np.float64]
    df: NDArray[np.float64]
    pvalue: NDArray[np.float64]
    ci_lower: NDArray[np.float64]
    ci_upper: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        """Scalars, and the coefficient table under ``coefficients`` (one dict per coefficient)."""
        out: dict[str, Any] = {
            name: value for name, value in vars(self).items() if not isinstance(value, np.ndarray | list)
        }
        out["coefficients"] = coefficient_rows(
            self.names, estimate=self.estimates, se=self.se, tval=self.statistic, df=self.df,
            pval=self.pvalue, ci_lower=self.ci_lower, ci_upper=self.ci_upper)
        return out

    def to_frame(self) -> Any:
        """The coefficient table as a :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame(self.to_dict()["coefficients"]).set_index("name")


@dataclass(frozen=True)
class RobustResult(RobustTable):
    """Cluster-robust tests of a fitted model (metafor's ``robust.rma`` object).

    ``df`` holds one entry per coefficient (all ``n − p`` under metafor's default; Satterthwaite's under
    ``clubsandwich=True``). ``qm``/``qm_df1``/``qm_df2``/``qm_pvalue`` are metafor's ``QM``/``QMdf``/``QMp``:
    the F statistic of the moderators (the HTZ F under clubSandwich; for an intercept-only model, the
    squared t of the intercept). ``vcov_type`` is ``"CR0"``, ``"CR1"`` or ``"CR2"``; ``method`` is
    ``"default"`` or ``"clubSandwich"`` (metafor's ``robumethod``).

    Example::

        >>> from metareview.stats import meta, robust
        >>> fit = meta([0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03], method="DL")
        >>> rob = robust(fit, cluster=[1, 1, 2, 2, 3, 3])
        >>> rob.n_clusters, float(rob.df[0])
        (3, 2.0)
    """

    names: list[str]
    estimates: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    df: FloatArray
    vcov: FloatArray
    qm: float
    qm_df1: int
    qm_df2: float
    qm_pvalue: float
    n_clusters: int
    cluster_sizes: NDArray[np.int64]
    vcov_type: str
    method: str
    level: float
    k: int

    def __str__(self) -> str:
        sizes = self.cluster_sizes
        head = (
            f"\nCluster-robust inference ({self.method}; {self.vcov_type}): "
            f"k = {self.k}, clusters = {self.n_clusters}, "
            f"cluster sizes {int(sizes.min())}-{int(sizes.max())}\n"
        )
        body = ""
        if self.qm_df1 > 0 and len(self.names) > 1:
            body = (
                f"\nTest of Moderators: F(df1 = {self.qm_df1}, df2 = {self.qm_df2:.4g}) = {self.qm:.4f}, "
                f"p-val {('< .0001' if self.qm_pvalue < 1e-4 else '= ' + format_p(self.qm_pvalue))}\n"
            )
        rows = [
            [
                n,
                float(self.estimates[j]),
                float(self.se[j]),
                float(self.statistic[j]),
                float(self.df[j]),
                format_p(float(self.pvalue[j])),
                float(self.ci_lower[j]),
                float(self.ci_upper[j]),
            ]
            for j, n in enumerate(self.names)
        ]
        table = format_table(["", "estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub"], rows)
        return head + body + "\nModel Results:\n\n" + table


def robust(
    fit: Fit,
    cluster: Sequence[Hashable] | ArrayLike,
    *,
    adjust: bool = True,
    clubsandwich: bool = False,
    vcov: str = "CR2",
    level: float | None = None,
) -> RobustResult:
    """Cluster-robust standard errors and tests for a fitted model, as metafor's ``robust()``.

    Parameters
    ----------
    fit
        A :func:`~metareview.stats.meta`, :func:`~metareview.stats.meta_reg` or
        :func:`~metareview.stats.meta_mv` result.
    cluster
        One label per effect size (e.g. the study each effect comes from); at least p + 1 distinct
        labels. With ``clubsandwich=True`` every block of a ``meta_mv`` model (random effects, V) must lie
        within one label.
    adjust
        Default path only: multiply by n/(n − p) (CR1, metafor's default) or not (CR0).
    clubsandwich
        Use clubSandwich's small-sample methods: ``vcov`` (``"CR2"`` default, or ``"CR0"``/``"CR1"``),
        Satterthwaite df and the HTZ Wald test, as ``robust(x, cluster, clubSandwich=TRUE)``.
    level
        Confidence level in percent (default: the fit's).

    Example::

        >>> from metareview.stats import meta_reg, robust
        >>> fit = meta_reg([0.1, 0.3, 0.2, 0.5, 0.4, 0.0, 0.6, 0.2],
        ...                [0.01, 0.02, 0.015, 0.02, 0.01, 0.03, 0.02, 0.01],
        ...                mods={"x": [0, 1, 0, 1, 1, 0, 1, 0]}, method="DL")
        >>> rob = robust(fit, cluster=[1, 1, 2, 2, 3, 3, 4, 4], clubsandwich=True)
        >>> rob.vcov_type, len(rob.df)
        ('CR2', 2)
    """
    y, x, phi, beta, names, btt, fit_level = _model_parts(fit)
    k, p = x.shape
    codes = _cluster_codes(cluster, k)
    level = fit_level if level is None else float(level)
    if not 0 < level < 100:
        raise StatsInputError(f"level must be a percentage in (0, 100), not {level}", field="level")
    n = int(codes.max()) + 1
    if n - p <= 0:
        raise StatsInputError(
            f"the number of clusters ({n}) must be larger than the number of coefficients ({p})",
            field="cluster",
        )
    if clubsandwich and vcov not in _VCOV_TYPES:
        raise StatsInputError(f"vcov must be one of {', '.join(_VCOV_TYPES)}, not {vcov!r}", field="vcov")
    if clubsandwich and isinstance(fit, MultilevelResult):
        _check_nested(fit, codes)
    w = np.linalg.inv(phi)
    w = (w + w.T) / 2
    return cluster_robust(
        y,
        x,
        w,
        phi,
        beta,
        names,
        btt,
        codes,
        level=level,
        clubsandwich=clubsandwich,
        vcov=vcov,
        adjust=adjust,
    )


def cluster_robust(
    y: FloatArray,
    x: FloatArray,
    w: FloatArray,
    phi: FloatArray,
    beta: FloatArray,
    names: list[str],
    btt: list[int],
    codes: NDArray[np.int64],
    *,
    level: float = 95.0,
    clubsandwich: bool = False,
    vcov: str = "CR2",
    adjust: bool = True,
    eigen_tol: float = 1e-12,
) -> RobustResult:
    """The cluster-robust tests of a weighted least-squares fit (what :func:`robust` and :func:`robu` share).

    ``w`` the weight matrix (k × k), ``phi`` the working covariance (``w⁻¹`` in every use here), ``beta``
    the estimates ``(X'WX)⁻¹ X'W y``, ``codes`` the cluster of each row (0..n−1). Default: the sandwich
    with full-W columns ``X'W[:, b_j]`` (metafor's bread ``vb X'W``) times n/(n − p) if ``adjust``, t
    tests on n − p df; ``clubsandwich``: ``vcov`` (CR0/CR1/CR2, eigenvalues below ``eigen_tol`` dropped in
    the CR2 matrix power), Satterthwaite df and the HTZ test.
    """
    from scipy import stats as sps

    k, p = x.shape
    n = int(codes.max()) + 1
    blocks = [np.flatnonzero(codes == j) for j in range(n)]
    m = np.linalg.inv(x.T @ w @ x)
    m = (m + m.T) / 2
    e = y - x @ beta
    sizes = np.array([b.size for b in blocks], dtype=np.int64)
    if not clubsandwich:
        est = [x.T @ w[:, b] for b in blocks]
        vb = sandwich(m, est, e, blocks)
        vb = vb * n / (n - p) if adjust else vb
        df = np.full(p, float(n - p))
        se = np.sqrt(np.diag(vb))
        qm, qm_df1, qm_df2, qm_p = _wald_f(beta, vb, btt, float(n - p))
        vtype, meth = ("CR1" if adjust else "CR0"), "default"
    else:
        est = estimating_matrices(vcov, x, w, m, blocks, eigen_tol)
        vb = sandwich(m, est, e, blocks)
        se = np.sqrt(np.diag(vb))
        g_mats, h_mats = gh_matrices(m, est, x, phi, blocks)
        df = np.array([satterthwaite(g_mats, h_mats, np.eye(p)[[i]]) for i in range(p)])
        if btt:
            qm, qm_df1, qm_df2, qm_p = htz(beta, vb, g_mats, h_mats, btt)
        else:  # metafor: QM = t^2 of the intercept, on (1, df)
            t0 = float(beta[0] / se[0])
            qm, qm_df1, qm_df2 = t0**2, 1, float(df[0])
            qm_p = float(2 * sps.t.sf(abs(t0), df[0]))
        vtype, meth = vcov, "clubSandwich"
    stat = beta / se
    pval = 2 * sps.t.sf(np.abs(stat), df)
    crit = sps.t.ppf(1 - (1 - level / 100) / 2, df)
    return RobustResult(
        names=list(names),
        estimates=beta.copy(),
        se=se,
        statistic=stat,
        pvalue=pval,
        ci_lower=beta - crit * se,
        ci_upper=beta + crit * se,
        df=df,
        vcov=vb,
        qm=qm,
        qm_df1=qm_df1,
        qm_df2=qm_df2,
        qm_pvalue=qm_p,
        n_clusters=n,
        cluster_sizes=sizes,
        vcov_type=vtype,
        method=meth,
        level=level,
        k=k,
    )


def _model_parts(
    fit: Fit,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, list[str], list[int], float]:
    """(y, X, Φ, β, names, indices of the moderators, level) of a fit; Φ its marginal covariance."""
    if isinstance(fit, MetaResult):
        tau2 = 0.0 if fit.method == "EE" else fit.tau2
        x = np.ones((fit.k, 1))
        phi = np.diag(fit.vi + tau2)
        return fit.yi, x, phi, np.array([fit.estimate]), ["intrcpt"], [], fit.level
    if isinstance(fit, MetaRegResult):
        tau2 = 0.0 if fit.method == "EE" else fit.tau2
        btt = [j for j, n in enumerate(fit.names) if n != "intrcpt"]
        return fit.yi, fit.X, np.diag(fit.vi + tau2), fit.estimates, list(fit.names), btt, fit.level
    if isinstance(fit, MultilevelResult):
        if fit.X is None or not fit.factor_codes:
            raise StatsInputError("this meta_mv result does not carry its design", field="fit")
        names = list(fit.coef_names)
        btt = [j for j, n in enumerate(names) if n != "intrcpt"]
        return fit.yi, fit.X, fit.marginal_vcov(), fit.coef, names, btt, fit.level
    raise StatsInputError(f"robust() needs a meta, meta_reg or meta_mv result, not {type(fit).__name__}")


def _cluster_codes(cluster: Sequence[Hashable] | ArrayLike, k: int) -> NDArray[np.int64]:
    """Integer codes 0..n-1 of the cluster labels, in order of first appearance."""
    labels = np.asarray(cluster, dtype=object).ravel()
    if labels.size != k:
        raise StatsInputError(f"cluster has {labels.size} labels for {k} effect sizes", field="cluster")
    for i, lab in enumerate(labels.tolist()):
        if lab is None or (isinstance(lab, float) and math.isnan(lab)):
            raise StatsInputError(f"cluster label {i} is missing", field="cluster")
    keys = [repr(v) for v in labels.tolist()]
    index: dict[str, int] = {}
    for key in keys:
        index.setdefault(key, len(index))
    return np.array([index[key] for key in keys], dtype=np.int64)


def _check_nested(fit: MultilevelResult, codes: NDArray[np.int64]) -> None:
    """clubSandwich needs every level of the random effects (and every block of V) inside one cluster."""
    cl = codes.astype(np.intp)
    nested = all(combine(f, cl).max() == f.max() for f in fit.factor_codes)
    if fit.V is not None:
        vmat = fit.V.toarray() if hasattr(fit.V, "toarray") else np.asarray(fit.V)
        nested = nested and not bool(np.any((vmat != 0) & (codes[:, None] != codes[None, :])))
    if not nested:
        raise StatsInputError(
            "the model's random effects (or V) are not nested within the clustering variable",
            field="cluster",
        )


def _wald_f(beta: FloatArray, vb: FloatArray, btt: list[int], ddf: float) -> tuple[float, int, float, float]:
    """metafor's robust QM: b'V⁻¹b / m on F(m, n − p); for an intercept-only model, t² on (1, n − p)."""
    from scipy import stats as sps

    idx = btt if btt else [0]
    b = beta[idx]
    try:
        qm = float(b @ np.linalg.solve(vb[np.ix_(idx, idx)], b)) / len(idx)
    except np.linalg.LinAlgError:
        return math.nan, len(idx), ddf, math.nan
    return qm, len(idx), ddf, float(sps.f.sf(qm, len(idx), ddf))
