"""Three-level meta-analysis, effects nested in clusters: metafor's ``rma.mv(random = ~ 1 | cluster/effect)``.

The marginal covariance of the effect sizes is block-diagonal by cluster::

    V = diag(vi) + sigma2_cluster * Z_c Z_c' + sigma2_effect * Z_e Z_e'

where ``Z_c`` indicates the cluster of each row and ``Z_e`` its (cluster, effect) level. Every quantity the
(restricted) likelihood needs -- ``log|V|``, ``X'V^-1 X``, ``X'V^-1 y``, ``y'V^-1 y`` and the score -- is
obtained from per-level sums with two nested rank-one (Sherman-Morrison) updates, so one evaluation costs
O(number of levels) after an O(k) set-up and 10^5 effects fit in well under a second. The two variance
components are found by L-BFGS-B on [0, inf)^2 with the analytic score, then polished by Newton steps.

Example::

    >>> from metareview.stats import meta_mv
    >>> res = meta_mv([0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03],
    ...               cluster=[1, 1, 2, 2, 3, 3])
    >>> res.k, res.n_clusters
    (6, 3)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy import stats as sps

from metareview.stats.design import INTERCEPT, Mods, model_matrix
from metareview.stats.errors import StatsInputError, check_effects
from metareview.stats.results import coefficient_table, format_table, p_clause

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MultilevelResult:
    """A fitted three-level model (metafor's ``rma.mv`` with ``random = ~ 1 | cluster/effect``).

    ``coef`` and the companion arrays hold one entry per fixed effect (``coef_names``; ``"intrcpt"``
    first); ``estimate``/``se``/... properties give the first (the intercept). ``df`` is the residual
    df ``k - p`` used with ``test="t"`` (``nan`` for ``"z"``). ``qm*`` are ``nan`` for an
    intercept-only model; ``pi_*`` are ``nan`` for a model with moderators. ``i2_*`` are the
    multilevel I^2 values (percent) with the "typical" sampling variance of the metafor FAQ.

    Example::

        >>> res = meta_mv([0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03],
        ...               cluster=[1, 1, 2, 2, 3, 3], method="ML")
        >>> print(res)  # doctest: +ELLIPSIS
        <BLANKLINE>
        Multivariate Meta-Analysis Model (k = 6; method: ML)
        ...
    """

    k: int
    n_clusters: int
    n_effects: int
    method: str
    test: str
    level: float
    coef_names: tuple[str, ...]
    coef: FloatArray
    se_coef: FloatArray
    statistic_coef: FloatArray
    pvalue_coef: FloatArray
    ci_lower_coef: FloatArray
    ci_upper_coef: FloatArray
    vcov: FloatArray
    df: float
    sigma2_cluster: float
    sigma2_effect: float
    qe: float
    qe_df: int
    qe_pvalue: float
    qm: float
    qm_df1: int
    qm_df2: float
    qm_pvalue: float
    loglik: float
    deviance: float
    aic: float
    bic: float
    aicc: float
    i2_total: float
    i2_cluster: float
    i2_effect: float
    pi_lower: float
    pi_upper: float
    yi: FloatArray
    vi: FloatArray
    converged: bool
    iterations: int
    # the design, for robust(): X, and integer codes of the outer (cluster) and inner (effect) levels
    X: FloatArray | None = None
    cluster_codes: NDArray[np.int64] | None = None
    effect_codes: NDArray[np.int64] | None = None

    @property
    def sigma2(self) -> tuple[float, float]:
        """``(sigma2_cluster, sigma2_effect)``, metafor's ``res$sigma2``."""
        return (self.sigma2_cluster, self.sigma2_effect)

    @property
    def estimate(self) -> float:
        """The first coefficient (the pooled effect of an intercept-only model)."""
        return float(self.coef[0])

    @property
    def se(self) -> float:
        """Standard error of the first coefficient."""
        return float(self.se_coef[0])

    @property
    def ci_lower(self) -> float:
        """Lower confidence bound of the first coefficient."""
        return float(self.ci_lower_coef[0])

    @property
    def ci_upper(self) -> float:
        """Upper confidence bound of the first coefficient."""
        return float(self.ci_upper_coef[0])

    @property
    def pvalue(self) -> float:
        """p-value of the first coefficient."""
        return float(self.pvalue_coef[0])

    def to_dict(self) -> dict[str, Any]:
        """Scalar fields as plain Python values, plus the intercept's estimate/se/CI/p."""
        out: dict[str, Any] = {}
        for f in fields(self):
            val = getattr(self, f.name)
            if not isinstance(val, (np.ndarray, tuple)):
                out[f.name] = val
        out.update(
            estimate=self.estimate,
            se=self.se,
            pvalue=self.pvalue,
            ci_lower=self.ci_lower,
            ci_upper=self.ci_upper,
        )
        return out

    def to_frame(self) -> Any:
        """The coefficient table as a :class:`pandas.DataFrame` (one row per fixed effect)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "estimate": self.coef,
                "se": self.se_coef,
                "statistic": self.statistic_coef,
                "pvalue": self.pvalue_coef,
                "ci_lower": self.ci_lower_coef,
                "ci_upper": self.ci_upper_coef,
            },
            index=list(self.coef_names),
        )

    def __str__(self) -> str:
        return _format_result(self)


def meta_mv(
    yi: ArrayLike,
    vi: ArrayLike,
    cluster: Sequence[Hashable] | ArrayLike,
    effect: Sequence[Hashable] | ArrayLike | None = None,
    *,
    mods: Mods | None = None,
    intercept: bool = True,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
) -> MultilevelResult:
    """Fit the three-level model ``rma.mv(yi, vi, mods, random = ~ 1 | cluster/effect)``.

    ``cluster`` labels the outer level (e.g. study or district), ``effect`` the inner one within a
    cluster (default: each row its own level). ``mods`` is a 1-D/2-D numeric array or a mapping of
    column name to numeric values (an intercept is added unless ``intercept=False``). ``method`` is
    ``"REML"`` or ``"ML"``; ``test="t"`` uses t and F tests with ``k - p`` df as metafor does.

    Raises :class:`StatsInputError` for non-finite ``yi``, ``vi <= 0``, mismatched lengths, fewer than
    two clusters, designs whose clusters each hold a single inner level (the two variance components
    are then not identifiable) or too few effects for the fixed effects.

    Example::

        >>> res = meta_mv([0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03],
        ...               cluster=["a", "a", "b", "b", "c", "c"])
        >>> res.n_effects
        6
    """
    y, v = _check_yi_vi(yi, vi)
    k = y.size
    method = method.upper()
    if method not in ("REML", "ML"):
        raise StatsInputError(f"method must be 'REML' or 'ML', not {method!r}", field="method")
    if test not in ("z", "t"):
        raise StatsInputError(f"test must be 'z' or 't', not {test!r}", field="test")
    if not 0 < level < 100:
        raise StatsInputError(f"level must be a percentage in (0, 100), not {level}", field="level")
    cl = _codes(cluster, k, "cluster")
    eff = np.arange(k) if effect is None else _codes(effect, k, "effect")
    grp = _codes(cl * (int(eff.max()) + 1) + eff, k, "effect")
    n_cl, n_grp = int(cl.max()) + 1, int(grp.max()) + 1
    if n_cl < 2:
        raise StatsInputError(
            "need at least two clusters to estimate the cluster-level variance", field="cluster"
        )
    if n_grp == n_cl:
        raise StatsInputError(
            "every cluster holds a single effect level: the two variance components "
            "are not identifiable (use meta() instead)",
            field="effect",
        )
    x, names = model_matrix(mods, k, intercept)
    p = x.shape[1]
    if k - p < 1:
        raise StatsInputError(f"the model has {p} fixed effects but only {k} effect sizes", field="mods")
    model = _Nested(y, v, x, cl, grp, reml=(method == "REML"))
    (s1, s2), converged, iterations = model.fit()
    if not converged:
        warnings.warn(
            "meta_mv: the (restricted) likelihood maximisation did not converge; "
            "the last iterate is returned",
            RuntimeWarning,
            stacklevel=2,
        )
    return _assemble(model, s1, s2, method, test, level, names, converged, iterations, n_cl, n_grp)


# ----------------------------------------------------------------------------------------------------------
# input handling


def _check_yi_vi(yi: ArrayLike, vi: ArrayLike) -> tuple[FloatArray, FloatArray]:
    y, v = check_effects(yi, vi)
    if y.size < 3:
        raise StatsInputError(
            f"the three-level model needs k >= 3 effect sizes, got k = {y.size}", field="yi"
        )
    return y, v


def _codes(labels: Sequence[Hashable] | ArrayLike, k: int, field: str) -> IntArray:
    """0-based codes of ``labels`` in order of first appearance."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size != k:
        raise StatsInputError(f"{field} must be a sequence of {k} labels (one per effect size)", field=field)
    if arr.dtype.kind in "biuU":
        _, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
        rank = np.empty(first.size, dtype=np.intp)
        rank[np.argsort(first, kind="stable")] = np.arange(first.size)
        return rank[inverse.ravel()]
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise StatsInputError(f"missing {field} label", index=int(np.argmax(~np.isfinite(arr))), field=field)
    seen: dict[Hashable, int] = {}
    out = np.empty(k, dtype=np.intp)
    for i, lab in enumerate(arr.tolist()):
        if lab is None or (isinstance(lab, float) and math.isnan(lab)):
            raise StatsInputError(f"missing {field} label", index=i, field=field)
        out[i] = seen.setdefault(lab, len(seen))
    return out


# ----------------------------------------------------------------------------------------------------------
# the likelihood


class _Nested:
    """Sufficient statistics of the nested model and its (restricted) log-likelihood and score."""

    def __init__(
        self, y: FloatArray, v: FloatArray, x: FloatArray, cl: IntArray, grp: IntArray, reml: bool
    ) -> None:
        self.y, self.v, self.x, self.reml = y, v, x, reml
        self.cl, self.grp = cl, grp
        self.k, self.p = x.shape
        d = 1.0 / v
        w = np.column_stack([np.ones_like(y), x, y])  # [1, X, y]
        self.wdw = (w * d[:, None]).T @ w
        n_grp = int(grp.max()) + 1
        self.s_g = np.bincount(grp, weights=d, minlength=n_grp)
        self.t_g = np.stack(
            [np.bincount(grp, weights=d * w[:, j], minlength=n_grp) for j in range(w.shape[1])], axis=1
        )
        first = np.zeros(n_grp, dtype=np.intp)
        first[grp[::-1]] = cl[::-1]
        self.cl_of_g = first
        self.n_cl = int(cl.max()) + 1
        self.logdet_v0 = float(np.sum(np.log(v)))
        self.logdet_xtx = float(np.linalg.slogdet(x.T @ x)[1])

    def _pieces(self, s1: float, s2: float) -> dict[str, Any]:
        f_g = 1.0 / (1.0 + s2 * self.s_g)
        b_g = self.t_g * f_g[:, None]  # 1_g' B^-1 W
        a_c = np.stack(
            [np.bincount(self.cl_of_g, weights=b_g[:, j], minlength=self.n_cl) for j in range(b_g.shape[1])],
            axis=1,
        )  # 1_c' B^-1 W
        g_c = 1.0 / (1.0 + s1 * a_c[:, 0])
        q = self.wdw - s2 * (self.t_g.T * f_g) @ self.t_g - s1 * (a_c.T * g_c) @ a_c
        logdet = self.logdet_v0 - float(np.sum(np.log(f_g))) - float(np.sum(np.log(g_c)))
        p = self.p
        xvx = q[1 : p + 1, 1 : p + 1]
        xvy = q[1 : p + 1, p + 1]
        beta = np.linalg.solve(xvx, xvy)
        rss = float(q[p + 1, p + 1] - xvy @ beta)
        return dict(f_g=f_g, b_g=b_g, a_c=a_c, g_c=g_c, xvx=xvx, beta=beta, rss=rss, logdet=logdet)

    def loglik(self, s1: float, s2: float, reml: bool | None = None) -> float:
        """The ML or REML log-likelihood (as metafor's, with the ``log|X'X|`` REML term)."""
        return self._loglik(self._pieces(s1, s2), self.reml if reml is None else reml)

    def _loglik(self, pc: dict[str, Any], reml: bool) -> float:
        if not reml:
            return float(-0.5 * self.k * _LOG_2PI - 0.5 * pc["logdet"] - 0.5 * pc["rss"])
        logdet_xvx = float(np.linalg.slogdet(pc["xvx"])[1])
        return float(
            -0.5 * (self.k - self.p) * _LOG_2PI
            + 0.5 * self.logdet_xtx
            - 0.5 * pc["logdet"]
            - 0.5 * logdet_xvx
            - 0.5 * pc["rss"]
        )

    def score(self, s1: float, s2: float) -> FloatArray:
        """Gradient of the (restricted) log-likelihood in (sigma2_cluster, sigma2_effect)."""
        return self._score(self._pieces(s1, s2), s1)

    def _score(self, pc: dict[str, Any], s1: float) -> FloatArray:
        p, beta = self.p, pc["beta"]
        e_c = pc["a_c"] * pc["g_c"][:, None]  # 1_c' V^-1 W
        a_of_g = pc["a_c"][self.cl_of_g]
        e_g = pc["b_g"] - (s1 * pc["b_g"][:, 0] * pc["g_c"][self.cl_of_g])[:, None] * a_of_g  # 1_g' V^-1 W
        xvx_inv = np.linalg.inv(pc["xvx"])
        # tr(V^-1 Z Z') sums 1_l' V^-1 1_l over the levels l; for an inner level this is not e_g[:, 0]
        # (which is 1_g' V^-1 1 over its whole cluster)
        diag_g = pc["b_g"][:, 0] - s1 * pc["b_g"][:, 0] ** 2 * pc["g_c"][self.cl_of_g]
        out = np.empty(2)
        for j, (e, diag) in enumerate(((e_c, e_c[:, 0]), (e_g, diag_g))):
            u = e[:, 1 : p + 1]
            resid = e[:, p + 1] - u @ beta  # 1' V^-1 (y - X beta)
            trace = float(np.sum(diag))
            if self.reml:
                trace -= float(np.sum((u @ xvx_inv) * u))
            out[j] = -0.5 * trace + 0.5 * float(resid @ resid)
        return out

    def start(self) -> tuple[float, float]:
        """metafor's starting values: half the residual variance beyond the typical vi each."""
        d = 1.0 / self.v
        xw = self.x * d[:, None]
        beta = np.linalg.solve(self.x.T @ xw, xw.T @ self.y)
        total = max(0.002, float(np.var(self.y - self.x @ beta, ddof=1)) - 1.0 / float(np.mean(d)))
        return total / 2.0, total / 2.0

    def fit(self) -> tuple[tuple[float, float], bool, int]:
        scale = max(self.start())

        def fun(z: FloatArray) -> tuple[float, FloatArray]:
            pc = self._pieces(float(z[0] * scale), float(z[1] * scale))
            return -self._loglik(pc, self.reml), -self._score(pc, float(z[0] * scale)) * scale

        res = optimize.minimize(
            fun,
            np.array(self.start()) / scale,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None), (0.0, None)],
            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 1000},
        )
        s = np.maximum(np.asarray(res.x, dtype=float) * scale, 0.0)
        s, newton_ok = self._polish(s)
        g = self.score(float(s[0]), float(s[1])) * scale
        projected = np.where(s > 0, g, np.maximum(g, 0.0))  # at the 0 bound only an ascent direction counts
        stationary = bool(
            np.max(np.abs(projected)) <= 1e-6 * max(1.0, abs(self.loglik(float(s[0]), float(s[1]))))
        )
        return (float(s[0]), float(s[1])), bool(newton_ok or stationary), int(res.nit)

    def _polish(self, s: FloatArray) -> tuple[FloatArray, bool]:
        """Newton steps on the components off the boundary (Hessian from differences of the score)."""
        for _ in range(20):
            g = self.score(float(s[0]), float(s[1]))
            free = (s > 0) | (g > 0)
            if not free.any():
                return s, True
            h = np.empty((2, 2))
            for j in range(2):
                step = 1e-6 * max(s[j], 1e-4)
                up, dn = s.copy(), s.copy()
                up[j] += step
                dn[j] = max(dn[j] - step, 0.0)
                h[:, j] = self.score(float(up[0]), float(up[1])) - self.score(float(dn[0]), float(dn[1]))
                h[:, j] /= up[j] - dn[j]
            idx = np.flatnonzero(free)
            hf = h[np.ix_(idx, idx)]
            if np.any(np.linalg.eigvalsh(0.5 * (hf + hf.T)) >= 0):
                return s, False
            delta = np.zeros(2)
            delta[idx] = -np.linalg.solve(hf, g[idx])
            new = np.maximum(s + delta, 0.0)
            ll_old = self.loglik(float(s[0]), float(s[1]))
            if self.loglik(float(new[0]), float(new[1])) < ll_old - 1e-12 * max(1.0, abs(ll_old)):
                return s, False
            done = bool(np.all(np.abs(new - s) <= 1e-10 * np.maximum(1.0, np.abs(s))))
            s = new
            if done:
                return s, True
        return s, False


# ----------------------------------------------------------------------------------------------------------
# assembling the result


def _assemble(
    model: _Nested,
    s1: float,
    s2: float,
    method: str,
    test: str,
    level: float,
    names: list[str],
    converged: bool,
    iterations: int,
    n_cl: int,
    n_grp: int,
) -> MultilevelResult:
    k, p, x, y, v = model.k, model.p, model.x, model.y, model.v
    pc = model._pieces(s1, s2)
    beta = pc["beta"]
    vb = np.linalg.inv(pc["xvx"])
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    alpha = 1.0 - level / 100.0
    nan = math.nan
    if test == "t":
        df = float(k - p)
        pval = 2.0 * sps.t.sf(np.abs(stat), df)
        crit = float(sps.t.isf(alpha / 2.0, df))
    else:
        df = nan
        pval = 2.0 * sps.norm.sf(np.abs(stat))
        crit = float(sps.norm.isf(alpha / 2.0))

    btt = np.arange(1, p) if (names[0] == INTERCEPT and p > 1) else np.arange(p)
    if names[0] == INTERCEPT and p == 1:
        qm = qm_df2 = qm_p = nan
        qm_df1 = 0
    else:
        qm = float(beta[btt] @ np.linalg.solve(vb[np.ix_(btt, btt)], beta[btt]))
        qm_df1 = int(btt.size)
        if test == "t":
            qm /= qm_df1
            qm_df2 = df
            qm_p = float(sps.f.sf(qm, qm_df1, qm_df2))
        else:
            qm_df2 = nan
            qm_p = float(sps.chi2.sf(qm, qm_df1))

    d = 1.0 / v
    xw = x * d[:, None]
    xwx_inv = np.linalg.inv(x.T @ xw)
    resid_fe = y - x @ (xwx_inv @ (xw.T @ y))
    qe = float(np.sum(d * resid_fe**2))
    qe_df = k - p
    qe_p = float(sps.chi2.sf(qe, qe_df))

    trace_p = float(np.sum(d) - np.sum((xw @ xwx_inv) * xw))
    typical_v = (k - p) / trace_p
    total = s1 + s2 + typical_v
    i2_total, i2_cluster, i2_effect = (100.0 * (s1 + s2) / total, 100.0 * s1 / total, 100.0 * s2 / total)

    ll_ml = model.loglik(s1, s2, reml=False)
    parms = p + 2
    if method == "ML":
        ll = ll_ml
        ll_sat = -0.5 * k * _LOG_2PI - 0.5 * model.logdet_v0
        dev = -2.0 * (ll - ll_sat)
        n_eff = k
    else:
        ll = model.loglik(s1, s2, reml=True)
        dev = -2.0 * ll
        n_eff = k - p
    aic = -2.0 * ll + 2.0 * parms
    bic = -2.0 * ll + parms * math.log(n_eff)
    big = max(n_eff, parms + 2)
    aicc = -2.0 * ll + 2.0 * parms * big / (big - parms - 1)

    if p == 1 and names[0] == INTERCEPT:
        half = crit * math.sqrt(se[0] ** 2 + s1 + s2)
        pi_lower, pi_upper = float(beta[0] - half), float(beta[0] + half)
    else:
        pi_lower = pi_upper = nan

    return MultilevelResult(
        k=k,
        n_clusters=n_cl,
        n_effects=n_grp,
        method=method,
        test=test,
        level=float(level),
        coef_names=tuple(names),
        coef=beta,
        se_coef=se,
        statistic_coef=stat,
        pvalue_coef=np.asarray(pval),
        ci_lower_coef=beta - crit * se,
        ci_upper_coef=beta + crit * se,
        vcov=vb,
        df=df,
        sigma2_cluster=s1,
        sigma2_effect=s2,
        qe=qe,
        qe_df=qe_df,
        qe_pvalue=qe_p,
        qm=qm,
        qm_df1=qm_df1,
        qm_df2=qm_df2,
        qm_pvalue=qm_p,
        loglik=float(ll),
        deviance=float(dev),
        aic=float(aic),
        bic=float(bic),
        aicc=float(aicc),
        i2_total=i2_total,
        i2_cluster=i2_cluster,
        i2_effect=i2_effect,
        pi_lower=pi_lower,
        pi_upper=pi_upper,
        yi=y,
        vi=v,
        converged=converged,
        iterations=iterations,
        X=model.x,
        cluster_codes=model.cl.astype(np.int64),
        effect_codes=model.grp.astype(np.int64),
    )


# ----------------------------------------------------------------------------------------------------------
# printing (metafor's print.rma.mv layout, with the helpers of metareview.stats.results)


def _format_result(res: MultilevelResult) -> str:
    out = [
        "",
        f"Multivariate Meta-Analysis Model (k = {res.k}; method: {res.method})",
        "",
        "Variance Components:",
        "",
    ]
    rows = [
        ["sigma^2.1", res.sigma2_cluster, math.sqrt(res.sigma2_cluster), res.n_clusters, "no", "cluster"],
        ["sigma^2.2", res.sigma2_effect, math.sqrt(res.sigma2_effect), res.n_effects, "no", "cluster/effect"],
    ]
    out.append(format_table(["", "estim", "sqrt", "nlvls", "fixed", "factor"], rows))
    out.append(
        f"Multilevel I^2: total {res.i2_total:.2f}%, "
        f"cluster {res.i2_cluster:.2f}%, effect {res.i2_effect:.2f}%"
    )
    out.append("")
    int_only = res.coef_names == (INTERCEPT,)
    out.append("Test for Heterogeneity:" if int_only else "Test for Residual Heterogeneity:")
    out.append(f"{'Q' if int_only else 'QE'}(df = {res.qe_df}) = {res.qe:.4f}, {p_clause(res.qe_pvalue)}")
    out.append("")
    if not math.isnan(res.qm):
        tested = [str(j + 1) for j, name in enumerate(res.coef_names) if name != INTERCEPT]
        label = "coefficient" if len(tested) == 1 else "coefficients"
        out.append(f"Test of Moderators ({label} {', '.join(tested)}):")
        if res.test == "t":
            stat = f"F(df1 = {res.qm_df1}, df2 = {res.qm_df2:.0f})"
        else:
            stat = f"QM(df = {res.qm_df1})"
        out.append(f"{stat} = {res.qm:.4f}, {p_clause(res.qm_pvalue)}")
        out.append("")
    out += ["Model Results:", ""]
    out.append(
        coefficient_table(
            None if int_only else list(res.coef_names),
            res.coef.tolist(),
            res.se_coef.tolist(),
            res.statistic_coef.tolist(),
            res.pvalue_coef.tolist(),
            res.ci_lower_coef.tolist(),
            res.ci_upper_coef.tolist(),
            res.df,
        )
    )
    if int_only:
        out.append(f"{res.level:g}% prediction interval: [{res.pi_lower:.4f}, {res.pi_upper:.4f}]")
    out += ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1", ""]
    return "\n".join(out)
