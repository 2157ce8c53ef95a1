"""Multilevel and multivariate meta-analysis: metafor's ``rma.mv`` with random intercepts and a known ``V``.

The marginal covariance of the effect sizes is ``M = V + sum_j sigma2_j Z_j Z_j'``: ``V`` the sampling
(co)variances -- ``vi`` on the diagonal, or a full or block-diagonal matrix such as :func:`vcalc` builds
-- and one variance component per random term (``Z_j`` indicates the level of each effect size):

* the three-level model, effects nested in clusters: ``meta_mv(yi, vi, cluster, effect)``, which is
  ``rma.mv(yi, vi, random = ~ 1 | cluster/effect)``;
* any structure of random intercepts in metafor's syntax, looked up in ``data``:
  ``random="~ 1 | district/school/effect"`` (several nested levels), ``random=["~ 1 | study",
  "~ 1 | outcome"]`` (crossed), and combinations, with ``V=`` a k x k matrix instead of ``vi``;
* components can be fixed (``sigma2=[None, 0.1]``, metafor's ``sigma2 = c(NA, 0.1)``).

The (restricted) likelihood is maximised exactly, without forming k x k matrices
(:mod:`metareview.stats.mvlik`): the three-level model with diagonal ``V`` by nested Sherman-Morrison
updates on per-level sums (10^5 effects fit in well under a second), everything else on the blocks of
``M`` (batched dense factorisations) with crossed factors of few levels as a Woodbury low-rank term.
Estimates are polished by Newton steps; where metafor's ``nlminb`` (on ``log sigma2``) stops short, our
log-likelihood is the higher one.

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
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.design import INTERCEPT, Mods, model_matrix
from metareview.stats.errors import StatsInputError, check_effects
from metareview.stats.mvlik import (
    LOG_2PI,
    BlockLikelihood,
    Likelihood,
    NestedLikelihood,
    maximise,
)
from metareview.stats.mvrandom import Factor, codes_of, combine, random_factors
from metareview.stats.results import coefficient_table, format_p, format_table, p_clause

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class MultilevelResult:
    """A fitted ``rma.mv`` model.

    ``coef`` and the companion arrays hold one entry per fixed effect (``coef_names``; ``"intrcpt"``
    first); ``estimate``/``se``/... properties give the first (the intercept). ``sigma2`` holds one
    variance component per random term (metafor's ``sigma2``), named ``s_names`` with ``s_nlevels``
    levels; ``sigma2_fixed`` marks those given rather than estimated. ``df`` is the residual df ``k - p``
    under ``test="t"`` (``nan`` for ``"z"``), ``df_coef`` the df of each coefficient (differs from ``df``
    under ``dfs="contain"``). ``qm*`` are ``nan`` for an intercept-only model; ``pi_*`` are ``nan`` for a
    model with moderators. ``i2_total`` and ``i2`` (one per component) are the multilevel I^2 in percent:
    ``100 sigma2_j / (sum(sigma2) + v~)`` with the typical sampling variance ``v~ = (k - p) / tr(P)``,
    ``P = W - W X (X'W X)^-1 X'W``, ``W = V^-1`` (``typical_vi``; the metafor FAQ's formula).

    For the three-level model (two components), ``sigma2_cluster``/``sigma2_effect``,
    ``n_clusters``/``n_effects`` and ``i2_cluster``/``i2_effect`` name the two components.

    Example::

        >>> res = meta_mv([0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03],
        ...               cluster=[1, 1, 2, 2, 3, 3], method="ML")
        >>> print(res)  # doctest: +ELLIPSIS
        <BLANKLINE>
        Multivariate Meta-Analysis Model (k = 6; method: ML)
        ...
    """

    k: int
    method: str
    test: str
    dfs: str
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
    df_coef: FloatArray
    sigma2: tuple[float, ...]
    s_names: tuple[str, ...]
    s_nlevels: tuple[int, ...]
    sigma2_fixed: tuple[bool, ...]
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
    typical_vi: float
    i2_total: float
    i2: tuple[float, ...]
    pi_lower: float
    pi_upper: float
    yi: FloatArray
    vi: FloatArray
    converged: bool
    iterations: int
    # the design, for robust(): X, the level codes of each component and V (None: diag(vi))
    X: FloatArray | None = None
    factor_codes: tuple[NDArray[np.intp], ...] = ()
    V: Any = None

    # -- the three-level model's names for its two components ----------------------------------------------

    def _two(self, what: str) -> None:
        if len(self.sigma2) != 2:
            raise AttributeError(
                f"{what} names a component of the three-level model; this model has "
                f"{len(self.sigma2)} components: use .sigma2 / .s_nlevels / .i2"
            )

    @property
    def sigma2_cluster(self) -> float:
        """The outer component of a two-component (three-level) model."""
        self._two("sigma2_cluster")
        return self.sigma2[0]

    @property
    def sigma2_effect(self) -> float:
        """The inner component of a two-component (three-level) model."""
        self._two("sigma2_effect")
        return self.sigma2[1]

    @property
    def n_clusters(self) -> int:
        """Number of levels of the first component (the clusters of the three-level model)."""
        return self.s_nlevels[0]

    @property
    def n_effects(self) -> int:
        """Number of levels of the second component (the inner levels of the three-level model)."""
        self._two("n_effects")
        return self.s_nlevels[1]

    @property
    def i2_cluster(self) -> float:
        """I^2 of the outer component of a three-level model (percent)."""
        self._two("i2_cluster")
        return self.i2[0]

    @property
    def i2_effect(self) -> float:
        """I^2 of the inner component of a three-level model (percent)."""
        self._two("i2_effect")
        return self.i2[1]

    @property
    def cluster_codes(self) -> NDArray[np.intp]:
        """Level codes of the first (outermost) component."""
        return self.factor_codes[0]

    # -- the first coefficient -------------------------------------------------------------------------------

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

    def marginal_vcov(self) -> FloatArray:
        """The k x k marginal covariance ``M = V + sum_j sigma2_j Z_j Z_j'`` (dense)."""
        if self.V is None:
            out = np.diag(self.vi).astype(np.float64)
        elif hasattr(self.V, "toarray"):
            out = np.asarray(self.V.toarray(), dtype=np.float64)
        else:
            out = np.array(self.V, dtype=np.float64)
        for s, codes in zip(self.sigma2, self.factor_codes, strict=True):
            if s:
                out += s * (codes[:, None] == codes[None, :])
        return out

    def to_dict(self) -> dict[str, Any]:
        """Scalar fields as plain Python values, the components as lists, the intercept's estimate/se/CI/p."""
        out: dict[str, Any] = {}
        for f in fields(self):
            val = getattr(self, f.name)
            if f.name in ("sigma2", "s_names", "s_nlevels", "sigma2_fixed", "i2"):
                out[f.name] = list(val)
            elif f.name != "V" and not isinstance(val, np.ndarray | tuple):
                out[f.name] = val
        if len(self.sigma2) == 2:
            out.update(
                sigma2_cluster=self.sigma2[0],
                sigma2_effect=self.sigma2[1],
                n_clusters=self.s_nlevels[0],
                n_effects=self.s_nlevels[1],
                i2_cluster=self.i2[0],
                i2_effect=self.i2[1],
            )
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
                "df": self.df_coef,
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
    vi: ArrayLike | None = None,
    cluster: Sequence[Hashable] | ArrayLike | None = None,
    effect: Sequence[Hashable] | ArrayLike | None = None,
    *,
    V: Any = None,
    random: str | Sequence[str] | None = None,
    data: Mapping[str, Any] | None = None,
    mods: Mods | None = None,
    intercept: bool = True,
    method: str = "REML",
    test: str = "z",
    dfs: str = "residual",
    sigma2: float | Sequence[float | None] | None = None,
    level: float = 95.0,
) -> MultilevelResult:
    """Fit ``rma.mv(yi, V, mods, random = ...)`` with random intercepts.

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances (or give ``V``).
    cluster, effect
        The three-level model ``random = ~ 1 | cluster/effect``: ``cluster`` labels the outer level (study,
        district), ``effect`` the inner one within a cluster (default: each row its own level).
    V
        The sampling covariance: a k x k matrix (numpy array or scipy sparse matrix; full or
        block-diagonal, e.g. from :func:`vcalc`) or a vector of variances, metafor's ``V``.
    random, data
        Random terms in metafor's syntax (instead of ``cluster``/``effect``): ``"~ 1 | a"``,
        ``"~ 1 | a/b/c"`` (nested: one component per level) or a list of such terms (crossed); the names
        are columns of ``data`` (a mapping or a DataFrame).
    mods, intercept
        Moderators: a 1-D/2-D numeric array or a mapping of column name to values; an intercept is
        added unless ``intercept=False``.
    method
        ``"REML"`` (default) or ``"ML"``.
    test, dfs
        ``"z"`` or ``"t"``; with ``"t"`` the df are ``k - p`` (``dfs="residual"``) or metafor's
        containment df (``dfs="contain"``, which implies ``test="t"`` as in metafor).
    sigma2
        Fixed values for some components: a number (all) or one entry per component, ``None`` for those
        to estimate (metafor's ``sigma2 = c(NA, 0.1)``).
    level
        Confidence level in percent.

    A component whose factor has a single level is fixed at 0 with a warning (as metafor does). Raises
    :class:`StatsInputError` for non-finite ``yi``, bad ``vi``/``V`` (not symmetric, not positive
    definite), mismatched lengths, two estimated components with the same levels (not identifiable) or
    too few effects for the fixed effects.

    Example::

        >>> res = meta_mv([0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03],
        ...               random="~ 1 | study/es", data={"study": [1, 1, 2, 2, 3, 3], "es": [1, 2] * 3})
        >>> res.s_names, res.s_nlevels
        (('study', 'study/es'), (3, 6))
    """
    y, v, vmat = _check_outcomes(yi, vi, V)
    k = y.size
    method = method.upper()
    if method not in ("REML", "ML"):
        raise StatsInputError(f"method must be 'REML' or 'ML', not {method!r}", field="method")
    if test not in ("z", "t"):
        raise StatsInputError(f"test must be 'z' or 't', not {test!r}", field="test")
    if dfs not in ("residual", "contain"):
        raise StatsInputError(f"dfs must be 'residual' or 'contain', not {dfs!r}", field="dfs")
    if dfs == "contain":
        test = "t"
    if not 0 < level < 100:
        raise StatsInputError(f"level must be a percentage in (0, 100), not {level}", field="level")
    factors = _factors(cluster, effect, random, data, k)
    fixed = _fixed_values(sigma2, factors)
    x, names = model_matrix(mods, k, intercept)
    p = x.shape[1]
    if k - p < 1:
        raise StatsInputError(f"the model has {p} fixed effects but only {k} effect sizes", field="mods")
    free = np.isnan(fixed)
    three_level = random is None  # cluster/effect: nested and identifiable by construction (_factors)
    if not three_level:
        _check_identifiable(factors, free)
    reml = method == "REML"
    lik: Likelihood
    nested = (
        vmat is None
        and len(factors) == 2
        and bool(free.all())
        and (three_level or combine(factors[0].codes, factors[1].codes).max() == factors[1].codes.max())
    )
    if nested:
        lik = NestedLikelihood(y, v, x, factors[0].codes, factors[1].codes, reml)
    else:
        lik = BlockLikelihood(y, x, _v_entries(v, vmat), [f.codes for f in factors], reml)
    start = np.where(free, lik.start(), fixed)
    s, converged, iterations = maximise(lik, start, free)
    if not converged:
        warnings.warn(
            "meta_mv: the (restricted) likelihood maximisation did not converge; "
            "the last iterate is returned",
            RuntimeWarning,
            stacklevel=2,
        )
    return _assemble(
        lik, s, free, factors, method, test, dfs, level, names, converged, iterations, y, v, vmat
    )


# ----------------------------------------------------------------------------------------------------------
# input handling


def _check_outcomes(yi: ArrayLike, vi: ArrayLike | None, V: Any) -> tuple[FloatArray, FloatArray, Any]:
    """(yi, diag(V), V as given or None when diagonal)."""
    if (vi is None) == (V is None):
        raise StatsInputError(
            "give exactly one of vi (sampling variances) and V (their covariance matrix)", field="vi"
        )
    if vi is not None or np.ndim(V) == 1:
        y, v = check_effects(yi, vi if vi is not None else V)
        vmat = None
    else:
        y = np.asarray(yi, dtype=float)
        if y.ndim != 1:
            raise StatsInputError("yi must be a 1-D sequence", field="yi")
        bad = ~np.isfinite(y)
        if bad.any():
            raise StatsInputError("yi must be finite", index=int(np.argmax(bad)), field="yi")
        vmat = _check_vmatrix(V, y.size)
        v = np.asarray(vmat.diagonal(), dtype=float)
        if np.any(v <= 0):
            raise StatsInputError("the diagonal of V must be > 0", index=int(np.argmax(v <= 0)), field="V")
    if y.size < 2:
        raise StatsInputError(f"meta_mv needs k >= 2 effect sizes, got k = {y.size}", field="yi")
    return y, v, vmat


def _check_vmatrix(V: Any, k: int) -> Any:
    if hasattr(V, "tocsr"):  # scipy sparse
        mat = V.tocsr().astype(np.float64)
        if mat.shape != (k, k):
            raise StatsInputError(f"V must be {k} x {k}, not {mat.shape[0]} x {mat.shape[1]}", field="V")
        if not np.all(np.isfinite(mat.data)):
            raise StatsInputError("V must be finite", field="V")
        if abs(mat - mat.T).max() > 1e-12 * max(1.0, abs(mat).max()):
            raise StatsInputError("V must be symmetric", field="V")
        return ((mat + mat.T) / 2.0).tocsr()
    arr = np.asarray(V, dtype=float)
    if arr.shape != (k, k):
        raise StatsInputError(f"V must be a {k} x {k} matrix, not of shape {arr.shape}", field="V")
    if not np.all(np.isfinite(arr)):
        raise StatsInputError("V must be finite", field="V")
    if np.max(np.abs(arr - arr.T)) > 1e-12 * max(1.0, float(np.max(np.abs(arr)))):
        raise StatsInputError("V must be symmetric", field="V")
    return (arr + arr.T) / 2.0


def _v_entries(v: FloatArray, vmat: Any) -> tuple[IntArray, IntArray, FloatArray]:
    """Non-zero entries (rows, cols, values) of V, both triangles and the diagonal."""
    if vmat is None:
        idx = np.arange(v.size, dtype=np.intp)
        return idx, idx, v
    if hasattr(vmat, "tocoo"):
        coo = vmat.tocoo()
        keep = coo.data != 0
        return (
            coo.row[keep].astype(np.intp),
            coo.col[keep].astype(np.intp),
            coo.data[keep].astype(np.float64),
        )
    rows, cols = np.nonzero(vmat)
    return rows.astype(np.intp), cols.astype(np.intp), np.asarray(vmat[rows, cols], dtype=np.float64)


def _factors(
    cluster: Sequence[Hashable] | ArrayLike | None,
    effect: Sequence[Hashable] | ArrayLike | None,
    random: str | Sequence[str] | None,
    data: Mapping[str, Any] | None,
    k: int,
) -> list[Factor]:
    if random is not None:
        if cluster is not None or effect is not None:
            raise StatsInputError("give either cluster/effect or random, not both", field="random")
        return random_factors(random, data, k)
    if cluster is None:
        raise StatsInputError(
            "give the random structure: cluster= (three-level model) or random='~ 1 | ...'", field="cluster"
        )
    cl = codes_of(cluster, k, "cluster")
    eff = np.arange(k, dtype=np.intp) if effect is None else codes_of(effect, k, "effect")
    grp = combine(cl, eff)
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
    return [Factor("cluster", cl, n_cl), Factor("cluster/effect", grp, n_grp)]


def _fixed_values(sigma2: float | Sequence[float | None] | None, factors: list[Factor]) -> FloatArray:
    """One entry per component: the fixed value, or nan where it is estimated."""
    m = len(factors)
    if sigma2 is None:
        out = np.full(m, np.nan)
    elif isinstance(sigma2, int | float):
        out = np.full(m, float(sigma2))
    else:
        vals = list(sigma2)
        if len(vals) != m:
            raise StatsInputError(
                f"sigma2 has {len(vals)} entries for {m} variance components", field="sigma2"
            )
        out = np.array([np.nan if val is None else float(val) for val in vals])
    if np.any(out[~np.isnan(out)] < 0) or np.any(np.isinf(out)):
        raise StatsInputError("fixed sigma2 values must be finite and >= 0", field="sigma2")
    single = np.array([f.nlevels == 1 for f in factors]) & np.isnan(out)
    if single.any():
        warnings.warn(
            "meta_mv: single-level factor(s) in random ("
            + ", ".join(f.name for f, one in zip(factors, single, strict=True) if one)
            + "): the corresponding sigma2 fixed to 0 (as metafor)",
            UserWarning,
            stacklevel=3,
        )
        out[single] = 0.0
    return out


def _check_identifiable(factors: list[Factor], free: NDArray[np.bool_]) -> None:
    """Two estimated components with the same partition of the effects cannot be told apart."""
    seen: dict[int, Factor] = {}
    for f, is_free in zip(factors, free, strict=True):
        if not is_free:
            continue
        for other in seen.values():
            if other.nlevels == f.nlevels and combine(other.codes, f.codes).max() + 1 == f.nlevels:
                raise StatsInputError(
                    f"the components {other.name!r} and {f.name!r} have the same levels: their variances "
                    "are not identifiable (drop one or fix its sigma2)",
                    field="random",
                )
        seen[len(seen)] = f


def _contain_df(x: FloatArray, factors: list[Factor], k: int) -> FloatArray:
    """metafor's ``dfs = "contain"``: the fewest levels of a component within whose levels column j is
    constant (k if none), minus p, at least 1."""
    p = x.shape[1]
    out = np.full(p, float(k))
    for j in range(p):
        col = codes_of(x[:, j], k, "mods")
        for f in factors:
            if combine(f.codes, col).max() == f.codes.max():  # one value of column j per level of f
                out[j] = min(out[j], float(f.nlevels))
    return np.asarray(np.maximum(out - p, 1.0), dtype=np.float64)


# ----------------------------------------------------------------------------------------------------------
# assembling the result


def _assemble(
    lik: Likelihood,
    s: FloatArray,
    free: NDArray[np.bool_],
    factors: list[Factor],
    method: str,
    test: str,
    dfs: str,
    level: float,
    names: list[str],
    converged: bool,
    iterations: int,
    y: FloatArray,
    v: FloatArray,
    vmat: Any,
) -> MultilevelResult:
    from scipy import stats as sps

    k, p, x = lik.k, lik.p, lik.x
    ev = lik.evaluate(s)
    beta = ev.beta
    vb = np.linalg.inv(ev.xvx)
    vb = (vb + vb.T) / 2.0
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    alpha = 1.0 - level / 100.0
    nan = math.nan
    if test == "t":
        ddf = _contain_df(x, factors, k) if dfs == "contain" else np.full(p, float(max(k - p, 1)))
        df = float(k - p) if dfs == "residual" else nan
        pval = 2.0 * sps.t.sf(np.abs(stat), ddf)
        crit = sps.t.isf(alpha / 2.0, ddf)
    else:
        ddf = np.full(p, nan)
        df = nan
        pval = 2.0 * sps.norm.sf(np.abs(stat))
        crit = np.full(p, float(sps.norm.isf(alpha / 2.0)))

    btt = np.arange(1, p) if (names[0] == INTERCEPT and p > 1) else np.arange(p)
    if names[0] == INTERCEPT and p == 1:
        qm = qm_df2 = qm_p = nan
        qm_df1 = 0
    else:
        qm = float(beta[btt] @ np.linalg.solve(vb[np.ix_(btt, btt)], beta[btt]))
        qm_df1 = int(btt.size)
        if test == "t":
            qm /= qm_df1
            qm_df2 = float(np.min(ddf[btt]))
            qm_p = float(sps.f.sf(qm, qm_df1, qm_df2))
        else:
            qm_df2 = nan
            qm_p = float(sps.chi2.sf(qm, qm_df1))

    at_zero = lik.evaluate(np.zeros(len(factors)))
    qe = at_zero.rss
    qe_df = k - p
    qe_p = float(sps.chi2.sf(qe, qe_df))

    typical = lik.typical_vi()
    total = float(np.sum(s)) + typical
    i2_total = 100.0 * float(np.sum(s)) / total
    i2 = tuple(100.0 * float(sj) / total for sj in s)

    parms = p + int(free.sum())
    if method == "ML":
        ll = ev.ll_ml
        ll_sat = -0.5 * k * LOG_2PI - 0.5 * at_zero.logdet
        dev = -2.0 * (ll - ll_sat)
        n_eff = k
    else:
        ll = ev.ll_reml
        dev = -2.0 * ll
        n_eff = k - p
    aic = -2.0 * ll + 2.0 * parms
    bic = -2.0 * ll + parms * math.log(n_eff)
    big = max(n_eff, parms + 2)
    aicc = -2.0 * ll + 2.0 * parms * big / (big - parms - 1)

    if p == 1 and names[0] == INTERCEPT:
        half = float(crit[0]) * math.sqrt(se[0] ** 2 + float(np.sum(s)))
        pi_lower, pi_upper = float(beta[0] - half), float(beta[0] + half)
    else:
        pi_lower = pi_upper = nan

    return MultilevelResult(
        k=k,
        method=method,
        test=test,
        dfs=dfs,
        level=float(level),
        coef_names=tuple(names),
        coef=beta,
        se_coef=se,
        statistic_coef=stat,
        pvalue_coef=np.asarray(pval, dtype=float),
        ci_lower_coef=beta - crit * se,
        ci_upper_coef=beta + crit * se,
        vcov=vb,
        df=df,
        df_coef=ddf,
        sigma2=tuple(float(sj) for sj in s),
        s_names=tuple(f.name for f in factors),
        s_nlevels=tuple(f.nlevels for f in factors),
        sigma2_fixed=tuple(not bool(fr) for fr in free),
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
        typical_vi=float(typical),
        i2_total=i2_total,
        i2=i2,
        pi_lower=pi_lower,
        pi_upper=pi_upper,
        yi=y,
        vi=v,
        converged=converged,
        iterations=iterations,
        X=x,
        factor_codes=tuple(f.codes for f in factors),
        V=vmat,
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
        [f"sigma^2.{j + 1}", s, math.sqrt(s), n, "yes" if fx else "no", name]
        for j, (s, n, fx, name) in enumerate(
            zip(res.sigma2, res.s_nlevels, res.sigma2_fixed, res.s_names, strict=True)
        )
    ]
    out.append(format_table(["", "estim", "sqrt", "nlvls", "fixed", "factor"], rows))
    parts = ", ".join(f"{name} {val:.2f}%" for name, val in zip(res.s_names, res.i2, strict=True))
    out.append(f"Multilevel I^2: total {res.i2_total:.2f}%, {parts}")
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
    ddf = res.df_coef[0] if res.test == "t" else math.nan
    if res.test == "t" and np.unique(res.df_coef).size > 1:  # dfs="contain": one df per coefficient
        rows = [
            [name, b, se, t, int(df), format_p(float(p)), lo, hi]
            for name, b, se, t, df, p, lo, hi in zip(
                res.coef_names,
                res.coef.tolist(),
                res.se_coef.tolist(),
                res.statistic_coef.tolist(),
                res.df_coef.tolist(),
                res.pvalue_coef.tolist(),
                res.ci_lower_coef.tolist(),
                res.ci_upper_coef.tolist(),
                strict=True,
            )
        ]
        out.append(format_table(["", "estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub"], rows))
    else:
        out.append(
            coefficient_table(
                None if int_only else list(res.coef_names),
                res.coef.tolist(),
                res.se_coef.tolist(),
                res.statistic_coef.tolist(),
                res.pvalue_coef.tolist(),
                res.ci_lower_coef.tolist(),
                res.ci_upper_coef.tolist(),
                float(ddf),
            )
        )
    if int_only:
        out.append(f"{res.level:g}% prediction interval: [{res.pi_lower:.4f}, {res.pi_upper:.4f}]")
    out += ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1", ""]
    return "\n".join(out)
