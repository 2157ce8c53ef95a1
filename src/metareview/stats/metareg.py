"""Meta-regression (``meta_reg``) and subgroup analysis (``subgroup``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from metareview.stats.batch import ManyResult, fit_stack, meta_many
from metareview.stats.design import INTERCEPT, Mods, model_matrix
from metareview.stats.errors import StatsInputError, check_effects, check_weights
from metareview.stats.missing import rows_to_keep, take
from metareview.stats.results import MetaRegResult, format_table, p_clause
from metareview.stats.tau2 import Control, Segments, estimate_tau2, normalize_method


def meta_reg(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    mods: Mods | None = None,
    *,
    sei: ArrayLike | None = None,
    intercept: bool = True,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
    weights: ArrayLike | None = None,
    na_action: str = "fail",
) -> MetaRegResult:
    """Mixed-effects meta-regression, as metafor's ``rma(yi, vi, mods = ~ ...)``.

    ``mods`` is a mapping of named columns (numeric or categorical, see
    :func:`~metareview.stats.design.design_matrix`) or a numeric array (columns named ``mods`` /
    ``mods1``, ``mods2``, ...). τ² is the residual heterogeneity (any :func:`meta` estimator);
    coefficients are tested with z or, under ``test="t"``, ``"knha"`` or ``"adhoc"`` (see
    :func:`meta`), with t (k − p df) and the omnibus QM becomes an F(m, k − p) test. R² is metafor's:
    max(0, 100·(τ²₀ − τ²)/τ²₀), τ²₀ from the same estimator without moderators (0 when τ²₀ = 0; NaN
    when that fit does not converge); for ``EE`` metafor's max(0, 100 × adjusted R²) of the weighted
    least-squares regression of yi on the moderators (weights 1/vi, or the user ``weights``), 0 when
    all yi are equal. The Q-profile CI of the residual τ² is included. ``weights`` and
    ``na_action`` as in :func:`meta` (a study with a missing moderator value is omitted too).
    Needs k ≥ p + 1 (k ≥ p for EE).

    Example::

        >>> res = meta_reg([0.1, 0.3, 0.5, 0.6, 0.2], [0.01, 0.02, 0.01, 0.02, 0.01],
        ...                mods={"dose": [1, 2, 3, 4, 1]}, method="DL")
        >>> res.names, res.qm_df
        (['intrcpt', 'dose'], 1)
    """
    keep, omitted = rows_to_keep(na_action, {"yi": yi, "vi": vi, "sei": sei, "weights": weights}, mods)
    yi, vi, sei, weights, mods = (take(a, keep) for a in (yi, vi, sei, weights, mods))
    y, v = check_effects(yi, vi, sei)
    w = check_weights(weights, y.size)
    method = normalize_method(method)
    x, names = model_matrix(mods, y.size, intercept)
    k, p = x.shape
    need = p if method == "EE" else p + 1
    if k < need:
        raise StatsInputError(
            f"{p} coefficients{'' if method == 'EE' else ' and tau^2'} need k >= {need}, got k = {k}",
            field="mods",
        )
    ctrl = Control.from_mapping(control)
    seg = Segments.single(k)
    fit = fit_stack(y, v, x, seg, method=method, test=test, pi="z", level=level, control=ctrl, weights=w)
    btt = [j for j, n in enumerate(names) if n != INTERCEPT]
    qm, qm_df, qm_df2, qm_p = _omnibus(fit.beta[0], fit.vcov[0], btt, float(fit.ddf[0]))
    tau2 = float(fit.tau2[0])
    r2 = math.nan
    if intercept and p > 1:
        r2 = _r2_ee(y, v, x, w) if method == "EE" else _r2(y, v, tau2, seg, method, ctrl, w)
    return MetaRegResult(
        k=k,
        method=method,
        test=test,
        level=level,
        names=names,
        estimates=fit.beta[0],
        se=fit.se[0],
        statistic=fit.statistic[0],
        pvalue=fit.pvalue[0],
        ci_lower=fit.ci_lower[0],
        ci_upper=fit.ci_upper[0],
        vcov=fit.vcov[0],
        ddf=float(fit.ddf[0]),
        tau2=tau2,
        se_tau2=float(fit.se_tau2[0]),
        tau=math.sqrt(tau2),
        i2=float(fit.i2[0]),
        h2=float(fit.h2[0]),
        r2=r2,
        qe=float(fit.q[0]),
        qe_df=int(fit.q_df[0]),
        qe_pvalue=float(fit.q_pvalue[0]),
        qm=qm,
        qm_df=qm_df,
        qm_df2=qm_df2,
        qm_pvalue=qm_p,
        tau2_ci_lower=float(fit.tau2_ci_lower[0]),
        tau2_ci_upper=float(fit.tau2_ci_upper[0]),
        X=x,
        yi=y,
        vi=v,
        converged=bool(fit.converged[0]),
        iterations=int(fit.iterations[0]),
        user_weights=w,
        omitted=omitted,
    )


def _r2_ee(
    y: NDArray[np.float64], v: NDArray[np.float64], x: NDArray[np.float64], w: NDArray[np.float64] | None
) -> float:
    """metafor's R² of an equal-effects meta-regression: max(0, 100 × adjusted R²) of R's
    ``lm(yi ~ X, weights = wi)`` (wi = 1/vi, or the user weights); 0 when var(yi) is exactly 0.

    Weighted R² = 1 − RSS/TSS with TSS about the weighted mean; adjusted with n − 1 and n − p degrees of
    freedom, n counting the non-zero weights (``summary.lm``).
    """
    if np.all(y == y[0]):  # metafor: identical(var(yi), 0)
        return 0.0
    wt = 1.0 / v if w is None else w
    used = wt > 0
    n = int(used.sum())
    p = x.shape[1]
    if n <= p:
        return math.nan
    sw = np.sqrt(wt[used])
    beta, *_ = np.linalg.lstsq(x[used] * sw[:, None], y[used] * sw, rcond=None)
    fitted = x[used] @ beta
    mean = float(np.sum(wt[used] * fitted) / np.sum(wt[used]))
    mss = float(np.sum(wt[used] * (fitted - mean) ** 2))
    rss = float(np.sum(wt[used] * (y[used] - fitted) ** 2))
    r2 = mss / (mss + rss)
    adj = 1 - (1 - r2) * (n - 1) / (n - p)
    return float(max(0.0, 100 * adj))


def _r2(
    y: NDArray[np.float64],
    v: NDArray[np.float64],
    tau2: float,
    seg: Segments,
    method: str,
    ctrl: Control,
    w: NDArray[np.float64] | None = None,
) -> float:
    """metafor's R² = max(0, 100·(τ²₀ − τ²)/τ²₀), τ²₀ from the model without moderators (0 when τ²₀ = 0).

    Like metafor (which reports R² as NA when that fit fails), NaN when the iterative estimate of τ²₀
    does not converge; its non-convergence warning is silenced, as metafor silences it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        null = estimate_tau2(y, v, np.ones((y.size, 1)), seg, method, ctrl, w)
    if not null.converged[0]:
        return math.nan
    tau2_0 = float(null.tau2[0])
    return 0.0 if tau2_0 == 0 else max(0.0, 100 * (tau2_0 - tau2) / tau2_0)


def _omnibus(
    beta: NDArray[np.float64], vcov: NDArray[np.float64], btt: list[int], ddf: float
) -> tuple[float, int, float, float]:
    """QM = b'V⁻¹b over the coefficients ``btt``: chi-square, or F(m, ddf) = QM/m under Knapp–Hartung.

    NaN when V is singular (Knapp–Hartung with a perfect fit scales V to 0).
    """
    m = len(btt)
    if m == 0:
        return math.nan, 0, math.nan, math.nan
    b = beta[btt]
    try:
        qm = float(b @ np.linalg.solve(vcov[np.ix_(btt, btt)], b))
    except np.linalg.LinAlgError:  # a zero Knapp-Hartung variance (perfect fit): QM undefined, as metafor
        return math.nan, m, ddf, math.nan
    if math.isnan(ddf):
        return qm, m, math.nan, float(sps.chi2.sf(qm, m))
    return qm / m, m, ddf, float(sps.f.sf(qm / m, m, ddf))


@dataclass(frozen=True)
class SubgroupResult:
    """A subgroup analysis: one model per subgroup plus two tests for subgroup differences.

    * ``q_between`` (df = number of subgroups − 1): Cochran's Q on the subgroup estimates with
      weights 1/se², each subgroup with its own τ² — the test RevMan and R's ``meta``
      (``subgroup=``, random effects) report.
    * ``qm``: the omnibus test of the meta-regression on the subgroup factor, one τ² common to all
      subgroups (metafor's ``rma(yi, vi, mods = ~ factor(group))``); an F test under Knapp–Hartung.

    Example::

        >>> from metareview.stats import subgroup
        >>> res = subgroup([0.1, 0.3, 0.2, 0.6, 0.8, 0.7], [0.01] * 6, ["a"] * 3 + ["b"] * 3, method="DL")
        >>> res.q_between_df
        1
    """

    subgroups: ManyResult
    q_between: float
    q_between_df: int
    q_between_pvalue: float
    regression: MetaRegResult

    @property
    def qm(self) -> float:
        """QM of the common-τ² meta-regression."""
        return self.regression.qm

    @property
    def qm_pvalue(self) -> float:
        """p-value of :attr:`qm`."""
        return self.regression.qm_pvalue

    def to_dict(self) -> dict[str, Any]:
        """The two tests and, under ``subgroups``, the per-group results."""
        return {
            "q_between": self.q_between,
            "q_between_df": self.q_between_df,
            "q_between_pvalue": self.q_between_pvalue,
            "qm": self.qm,
            "qm_df": self.regression.qm_df,
            "qm_df2": self.regression.qm_df2,
            "qm_pvalue": self.qm_pvalue,
            "tau2_common": self.regression.tau2,
            "subgroups": self.subgroups.to_dict(),
        }

    def to_frame(self) -> Any:
        """One row per subgroup (see :meth:`ManyResult.to_frame`)."""
        return self.subgroups.to_frame()

    def __str__(self) -> str:
        fit = self.subgroups
        rows = [
            [
                str(g),
                int(fit.column("k")[i]),
                fit.column("estimate")[i],
                fit.column("se")[i],
                fit.column("ci_lower")[i],
                fit.column("ci_upper")[i],
                fit.column("tau2")[i],
                fit.column("i2")[i],
            ]
            for i, g in enumerate(fit.groups)
        ]
        reg = self.regression
        qm_text = (
            f"QM(df = {reg.qm_df}) = {reg.qm:.4f}"
            if math.isnan(reg.qm_df2)
            else f"F(df1 = {reg.qm_df}, df2 = {int(reg.qm_df2)}) = {reg.qm:.4f}"
        )
        settings = f"tau^2 estimator: {fit.fit.method}; test: {fit.fit.test}"
        title = f"Subgroup analysis ({len(fit)} subgroups; {settings})"
        return (
            f"\n{title}\n\n"
            + format_table(["subgroup", "k", "estimate", "se", "ci.lb", "ci.ub", "tau^2", "I^2(%)"], rows)
            + "\nTest for subgroup differences (separate tau^2 per subgroup):\n"
            + f"Q(df = {self.q_between_df}) = {self.q_between:.4f}, {p_clause(self.q_between_pvalue)}\n"
            + f"Test of moderators (common tau^2 = {reg.tau2:.4f}):\n"
            + f"{qm_text}, {p_clause(reg.qm_pvalue)}\n"
        )


def subgroup(
    yi: ArrayLike,
    vi: ArrayLike | None,
    groups: Sequence[Any] | NDArray[Any],
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
) -> SubgroupResult:
    """Subgroup analysis: separate fits per subgroup and the tests for subgroup differences.

    See :class:`SubgroupResult` for the two conventions reported. Needs at least two subgroups.

    Example::

        >>> res = subgroup([0.1, 0.3, 0.2, 0.6, 0.8, 0.7], [0.01] * 6, ["a"] * 3 + ["b"] * 3)
        >>> len(res.subgroups)
        2
    """
    y, v = check_effects(yi, vi, sei)
    many = meta_many(y, v, groups, method=method, test=test, level=level, control=control)
    n = len(many)
    if n < 2:
        raise StatsInputError(f"a subgroup analysis needs at least 2 subgroups, got {n}", field="groups")
    est, se = many.column("estimate"), many.column("se")
    w = 1 / se**2
    q_b = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    labels = [str(g) for g in np.asarray(groups).tolist()]
    reg = meta_reg(y, v, {"group": labels}, method=method, test=test, level=level, control=control)
    return SubgroupResult(
        subgroups=many,
        q_between=q_b,
        q_between_df=n - 1,
        q_between_pvalue=float(sps.chi2.sf(q_b, n - 1)),
        regression=reg,
    )
