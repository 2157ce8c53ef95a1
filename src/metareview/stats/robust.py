"""Cluster-robust variance estimation: ``robust()``, metafor's ``robust()`` and clubSandwich's CR2.

Two conventions, both for :func:`~metareview.stats.meta` and :func:`~metareview.stats.meta_reg` fits
(and :func:`~metareview.stats.meta_mv` fits whose clusters nest the model's clusters):

* ``robust(fit, cluster)`` — metafor's ``robust(x, cluster, adjust=TRUE)``: the sandwich
  ``M X'W (⊕ e_j e_j') W X M`` with the model's weights W = Φ⁻¹ (Φ the model's marginal covariance,
  ``diag(vi + τ²)`` for ``meta``/``meta_reg``), ``M = (X'WX)⁻¹``, times ``n/(n − p)`` (CR1; ``adjust=False``:
  CR0), coefficients tested with t on ``n − p`` df (n clusters, p coefficients) and the moderators with
  F(m, n − p).
* ``robust(fit, cluster, clubsandwich=True)`` — metafor's ``robust(x, cluster, clubSandwich=TRUE)``:
  clubSandwich's ``vcovCR(x, cluster, type = "CR2")`` (the bias-reduced linearisation of Bell & McCaffrey
  2002 / Pustejovsky & Tipton 2018, with the model as working model: ``inverse_var = TRUE``), the
  coefficients tested by ``coef_test(..., test = "Satterthwaite")`` (one df per coefficient), CIs from
  ``conf_int`` with those df and the moderators by ``Wald_test(..., test = "HTZ")`` (Hotelling's T²
  approximation, Tipton & Pustejovsky 2015). ``vcov="CR0"`` / ``"CR1"`` (clubSandwich's CR1 scales by
  ``J/(J − 1)``) are accepted there too.

The bread is always the model-based ``(X'WX)⁻¹`` (clubSandwich's); it equals metafor's for fits with
``test="z"``. (metafor's ``robust()`` reuses the fit's ``vb``, which under ``test="knha"`` carries the
Knapp–Hartung factor; we do not reproduce that.)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from metareview.stats.errors import StatsInputError
from metareview.stats.multilevel import MultilevelResult
from metareview.stats.results import MetaRegResult, MetaResult, format_p, format_table

FloatArray = NDArray[np.float64]
Fit = MetaResult | MetaRegResult | MultilevelResult

_VCOV_TYPES = ("CR0", "CR1", "CR2")


@dataclass(frozen=True)
class RobustResult:
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

    def to_dict(self) -> dict[str, Any]:
        """Scalars, and the coefficient table under ``coefficients`` (one dict per coefficient)."""
        out: dict[str, Any] = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if not isinstance(getattr(self, f.name), np.ndarray | list)
        }
        out["coefficients"] = [
            {
                "name": n,
                "estimate": float(self.estimates[j]),
                "se": float(self.se[j]),
                "tval": float(self.statistic[j]),
                "df": float(self.df[j]),
                "pval": float(self.pvalue[j]),
                "ci_lower": float(self.ci_lower[j]),
                "ci_upper": float(self.ci_upper[j]),
            }
            for j, n in enumerate(self.names)
        ]
        return out

    def to_frame(self) -> Any:
        """The coefficient table as a :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame(self.to_dict()["coefficients"]).set_index("name")

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
        labels. For ``meta_mv`` fits every cluster of the model must lie within one label.
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
    y, x, phi, beta, names, btt, fit_level, fit_cl = _model_parts(fit)
    k, p = x.shape
    codes = _cluster_codes(cluster, k)
    if fit_cl is not None:
        _check_nested(fit_cl, codes)
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
    blocks = [np.flatnonzero(codes == j) for j in range(n)]
    w = np.linalg.inv(phi)
    w = (w + w.T) / 2
    m = np.linalg.inv(x.T @ w @ x)
    m = (m + m.T) / 2
    e = y - x @ beta
    sizes = np.array([b.size for b in blocks], dtype=np.int64)
    if not clubsandwich:
        est = [x[b].T @ w[np.ix_(b, b)] for b in blocks]
        vb = _sandwich(m, est, e, blocks)
        vb = vb * n / (n - p) if adjust else vb
        df = np.full(p, float(n - p))
        se = np.sqrt(np.diag(vb))
        qm, qm_df1, qm_df2, qm_p = _wald_f(beta, vb, btt, float(n - p))
        vtype, meth = ("CR1" if adjust else "CR0"), "default"
    else:
        est = _estimating_matrices(vcov, x, w, phi, m, blocks)
        vb = _sandwich(m, est, e, blocks)
        se = np.sqrt(np.diag(vb))
        g_mats, h_mats = _gh(m, est, x, phi, blocks)
        df = np.array([_satterthwaite(g_mats, h_mats, np.eye(p)[[i]]) for i in range(p)])
        if btt:
            qm, qm_df1, qm_df2, qm_p = _htz(beta, vb, g_mats, h_mats, btt)
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
) -> tuple[
    FloatArray, FloatArray, FloatArray, FloatArray, list[str], list[int], float, NDArray[np.int64] | None
]:
    """(y, X, Φ, β, names, indices of the moderators, level, model clusters or None) of a fit."""
    if isinstance(fit, MetaResult):
        tau2 = 0.0 if fit.method == "EE" else fit.tau2
        x = np.ones((fit.k, 1))
        phi = np.diag(fit.vi + tau2)
        return fit.yi, x, phi, np.array([fit.estimate]), ["intrcpt"], [], fit.level, None
    if isinstance(fit, MetaRegResult):
        tau2 = 0.0 if fit.method == "EE" else fit.tau2
        btt = [j for j, n in enumerate(fit.names) if n != "intrcpt"]
        return fit.yi, fit.X, np.diag(fit.vi + tau2), fit.estimates, list(fit.names), btt, fit.level, None
    if isinstance(fit, MultilevelResult):
        if fit.X is None or fit.cluster_codes is None or fit.effect_codes is None:
            raise StatsInputError("this meta_mv result does not carry its design", field="fit")
        cl, grp = fit.cluster_codes, fit.effect_codes
        phi = (
            np.diag(fit.vi)
            + fit.sigma2_cluster * (cl[:, None] == cl[None, :])
            + fit.sigma2_effect * (grp[:, None] == grp[None, :])
        )
        names = list(fit.coef_names)
        btt = [j for j, n in enumerate(names) if n != "intrcpt"]
        return fit.yi, fit.X, phi, fit.coef, names, btt, fit.level, cl
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


def _check_nested(model_clusters: NDArray[np.int64], codes: NDArray[np.int64]) -> None:
    for c in np.unique(model_clusters):
        if np.unique(codes[model_clusters == c]).size > 1:
            raise StatsInputError(
                "the model's random effects are not nested within the clustering variable",
                field="cluster",
            )


def _sandwich(
    m: FloatArray, est: list[FloatArray], e: FloatArray, blocks: list[NDArray[np.intp]]
) -> FloatArray:
    """M (Σ_j E_j e_j e_j' E_j') M."""
    comps = np.column_stack([ej @ e[b] for ej, b in zip(est, blocks, strict=True)])
    vb = m @ (comps @ comps.T) @ m
    return np.asarray((vb + vb.T) / 2, dtype=np.float64)


def _sym_power(a: FloatArray, power: float) -> FloatArray:
    """a^power of a symmetric matrix by its eigenvalues, eigenvalues <= 1e-12 set to 0 (clubSandwich)."""
    val, vec = np.linalg.eigh((a + a.T) / 2)
    vp = np.where(val > 1e-12, np.abs(val) ** power, 0.0)
    return np.asarray((vec * vp) @ vec.T, dtype=np.float64)


def _estimating_matrices(
    vtype: str,
    x: FloatArray,
    w: FloatArray,
    phi: FloatArray,
    m: FloatArray,
    blocks: list[NDArray[np.intp]],
) -> list[FloatArray]:
    """E_j = X_j' W_j A_j: A_j = I (CR0), √(J/(J−1)) I (CR1) or clubSandwich's CR2 adjustment."""
    n = len(blocks)
    out = []
    for b in blocks:
        xw = x[b].T @ w[np.ix_(b, b)]
        if vtype == "CR0":
            out.append(xw)
        elif vtype == "CR1":
            out.append(xw * math.sqrt(n / (n - 1)))
        else:
            # inverse_var = TRUE: Θ_j = W_j⁻¹; G = R (I − X_j M X_j' W_j) Θ_j R', A_j = R' G^(-1/2) R
            theta = np.linalg.inv(w[np.ix_(b, b)])
            theta = (theta + theta.T) / 2
            r = np.linalg.cholesky(theta).T  # upper: R'R = Θ
            ih = np.eye(b.size) - x[b] @ m @ xw
            g = r @ ih @ theta @ r.T
            a = r.T @ _sym_power(g, -0.5) @ r
            out.append(xw @ a)
    return out


def _gh(
    m: FloatArray, est: list[FloatArray], x: FloatArray, phi: FloatArray, blocks: list[NDArray[np.intp]]
) -> tuple[list[FloatArray], FloatArray]:
    """clubSandwich's ``get_GH`` under ``inverse_var``.

    G_j = M E_j chol(Θ_j)' and H_j = M E_j X_j L with LL' = M.
    """
    low = np.linalg.cholesky(m)
    g_mats = []
    h = np.empty((len(blocks), m.shape[0], m.shape[0]))
    for j, (ej, b) in enumerate(zip(est, blocks, strict=True)):
        me = m @ ej
        theta = phi[np.ix_(b, b)]
        g_mats.append(me @ np.linalg.cholesky((theta + theta.T) / 2))
        h[j] = me @ x[b] @ low
    return g_mats, h


def _p_array(g_mats: list[FloatArray], h: FloatArray, c: FloatArray) -> FloatArray:
    """P[s, t] (J × J) of the contrasts ``c`` (q × p): −(C H_j)_s·(C H_k)_t + δ_jk (C G_j)_s·(C G_j)_t."""
    ch = np.einsum("qp,jpu->jqu", c, h)
    parr = -np.einsum("jsu,ktu->stjk", ch, ch)
    for j, gj in enumerate(g_mats):
        cg = c @ gj
        parr[:, :, j, j] += cg @ cg.T
    return np.asarray(parr, dtype=np.float64)


def _satterthwaite(g_mats: list[FloatArray], h: FloatArray, c: FloatArray) -> float:
    """Satterthwaite df of one contrast: (tr P)² / Σ P² (clubSandwich's ``Satterthwaite``)."""
    parr = _p_array(g_mats, h, c)[0, 0]
    return float(np.trace(parr) ** 2 / np.sum(parr**2))


def _htz(
    beta: FloatArray, vb: FloatArray, g_mats: list[FloatArray], h: FloatArray, btt: list[int]
) -> tuple[float, int, float, float]:
    """clubSandwich's ``Wald_test(test = "HTZ")`` of β[btt] = 0: (F, q, df2, p)."""
    p = beta.size
    q = len(btt)
    c = np.eye(p)[btt]
    parr = _p_array(g_mats, h, c)
    omega = np.einsum("stjj->st", parr)
    on = _sym_power(omega, -0.5)
    bjk = np.einsum("sa,abjk,bt->stjk", on, parr, on)
    var = np.empty((q, q))
    for s in range(q):
        for t in range(s + 1):
            val = float(np.sum(bjk[s, t] * bjk[t, s]) + np.sum(bjk[s, s] * bjk[t, t]))
            var[s, t] = var[t, s] = val
    nu = q * (q + 1) / float(np.sum(var))
    cb = beta[btt]
    qstat = float(cb @ np.linalg.solve(vb[np.ix_(btt, btt)], cb))
    delta = max((nu - q + 1) / nu, 0.0)
    df2 = nu - q + 1
    fstat = delta * qstat / q
    pval = float(sps.f.sf(fstat, q, df2)) if df2 > 0 else math.nan
    return fstat, q, df2, pval


def _wald_f(beta: FloatArray, vb: FloatArray, btt: list[int], ddf: float) -> tuple[float, int, float, float]:
    """metafor's robust QM: b'V⁻¹b / m on F(m, n − p); for an intercept-only model, t² on (1, n − p)."""
    idx = btt if btt else [0]
    b = beta[idx]
    try:
        qm = float(b @ np.linalg.solve(vb[np.ix_(idx, idx)], b)) / len(idx)
    except np.linalg.LinAlgError:
        return math.nan, len(idx), ddf, math.nan
    return qm, len(idx), ddf, float(sps.f.sf(qm, len(idx), ddf))
