"""Small-study effects and publication bias: Egger's regression test, Begg's rank test, trim-and-fill and
the test of excess significance, each as metafor computes it (``regtest``, ``ranktest``, ``trimfill``,
``tes``).

Example::

    >>> from metareview.stats import egger_test, trimfill
    >>> yi, vi = [0.1, 0.3, 0.2, 0.6, 0.5, 0.8], [0.01, 0.02, 0.015, 0.05, 0.04, 0.08]
    >>> egger_test(yi, vi, model="lm").df
    4.0
    >>> trimfill(yi, vi).side
    'left'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy import stats as sps

from metareview.stats.errors import StatsInputError, check_effects
from metareview.stats.meta import meta
from metareview.stats.metareg import meta_reg
from metareview.stats.results import MetaRegResult, MetaResult, p_clause, scalar_fields
from metareview.stats.tau2 import normalize_method

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_PREDICTORS = {
    "sei": "standard error",
    "vi": "sampling variance",
    "ni": "sample size",
    "ninv": "inverse of the sample size",
    "sqrtni": "square root sample size",
    "sqrtninv": "inverse of the square root sample size",
}


# ----------------------------------------------------------------------------------------------------------
# Egger's regression test


@dataclass(frozen=True)
class EggerResult:
    """Regression test for funnel-plot asymmetry (metafor's ``regtest``).

    ``statistic`` is the z (or t, when ``df`` is finite) of the predictor's coefficient and ``pvalue``
    its two-sided p-value; ``limit_estimate`` with its CI is the intercept, the estimate as the
    predictor goes to 0 (NaN for predictors where that limit is meaningless). ``fit`` holds the
    meta-regression (``model="rma"``; ``None`` for ``"lm"``).

    Example::

        >>> res = egger_test([0.1, 0.3, 0.2, 0.6, 0.5], [0.01, 0.02, 0.015, 0.05, 0.04], model="lm")
        >>> res.model, res.predictor
        ('lm', 'sei')
    """

    model: str
    predictor: str
    method: str
    k: int
    statistic: float
    pvalue: float
    df: float
    slope: float
    slope_se: float
    limit_estimate: float
    limit_ci_lower: float
    limit_ci_upper: float
    level: float
    fit: MetaRegResult | None

    def to_dict(self) -> dict[str, Any]:
        """Scalar fields as plain Python values."""
        return scalar_fields(self)

    def to_frame(self) -> Any:
        """A one-row :class:`pandas.DataFrame` of :meth:`to_dict`."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        if self.model == "lm":
            model = "weighted regression with multiplicative dispersion"
        else:
            model = ("fixed-effects" if self.method == "EE" else "mixed-effects") + " meta-regression model"
        if math.isnan(self.df):
            test = f"z = {self.statistic:.4f}, {_p_eq(self.pvalue)}"
        else:
            test = f"t = {self.statistic:.4f}, df = {self.df:g}, {_p_eq(self.pvalue)}"
        lines = [
            "",
            "Regression Test for Funnel Plot Asymmetry",
            "",
            f"Model:     {model}",
            f"Predictor: {_PREDICTORS[self.predictor]}",
            "",
            f"Test for Funnel Plot Asymmetry: {test}",
        ]
        if not math.isnan(self.limit_estimate):
            label = {"sei": "(as sei -> 0):   ", "vi": "(as vi -> 0):    "}.get(
                self.predictor, "(as ni -> inf):  "
            )
            lines.append(
                f"Limit Estimate {label}b = {self.limit_estimate:.4f} "
                f"(CI: {self.limit_ci_lower:.4f}, {self.limit_ci_upper:.4f})"
            )
        return "\n".join(lines) + "\n"


def _p_eq(p: float) -> str:
    """``p = 0.1234`` or ``p < .0001`` (metafor's test lines)."""
    return p_clause(p).replace("p-val", "p")


def egger_test(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    model: str = "rma",
    method: str = "REML",
    predictor: str = "sei",
    ni: ArrayLike | None = None,
    test: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
) -> EggerResult:
    """Egger's regression test for funnel-plot asymmetry, as metafor's ``regtest``.

    ``model="rma"`` (metafor's default) fits the mixed-effects meta-regression ``rma(yi, vi, mods =
    ~ sei, method=method, test=test)`` and tests the slope of the predictor; ``model="lm"`` is the
    classical Egger test, a weighted least-squares regression (weights 1/vi, multiplicative dispersion)
    with a t test on k - 2 df. ``predictor`` is ``"sei"`` (default), ``"vi"``, or with ``ni`` (sample
    sizes) ``"ni"``, ``"ninv"``, ``"sqrtni"``, ``"sqrtninv"``. ``control`` goes to the τ² estimator
    (see :func:`~metareview.stats.meta`).

    Example::

        >>> res = egger_test([0.1, 0.3, 0.2, 0.6, 0.5], [0.01, 0.02, 0.015, 0.05, 0.04], method="DL")
        >>> res.k
        5
    """
    y, v = check_effects(yi, vi, sei)
    if model not in ("rma", "lm"):
        raise StatsInputError(f"model must be 'rma' or 'lm', not {model!r}", field="model")
    x_pred = _predictor(predictor, v, ni, y.size)
    k = y.size
    if k < 3:
        raise StatsInputError(f"Egger's test needs k >= 3 effect sizes, got k = {k}", field="yi")
    if np.ptp(x_pred) == 0:
        raise StatsInputError("the predictor is constant: the regression test is undefined", field="vi")
    has_limit = predictor in ("sei", "vi", "ninv", "sqrtninv")
    nan = math.nan
    if model == "rma":
        fit = meta_reg(y, v, mods={predictor: x_pred}, method=method, test=test, level=level, control=control)
        est, lo, hi = float(fit.estimates[0]), float(fit.ci_lower[0]), float(fit.ci_upper[0])
        return EggerResult(
            model="rma",
            predictor=predictor,
            method=fit.method,
            k=k,
            statistic=float(fit.statistic[1]),
            pvalue=float(fit.pvalue[1]),
            df=fit.ddf,
            slope=float(fit.estimates[1]),
            slope_se=float(fit.se[1]),
            limit_estimate=est if has_limit else nan,
            limit_ci_lower=lo if has_limit else nan,
            limit_ci_upper=hi if has_limit else nan,
            level=level,
            fit=fit,
        )
    coef, se, df = _weighted_lm(y, np.column_stack([np.ones(k), x_pred]), 1.0 / v)
    stat = float(coef[1] / se[1])
    crit = float(sps.t.isf((1 - level / 100) / 2, df))
    return EggerResult(
        model="lm",
        predictor=predictor,
        method="lm",
        k=k,
        statistic=stat,
        pvalue=float(2 * sps.t.sf(abs(stat), df)),
        df=float(df),
        slope=float(coef[1]),
        slope_se=float(se[1]),
        limit_estimate=float(coef[0]) if has_limit else nan,
        limit_ci_lower=float(coef[0] - crit * se[0]) if has_limit else nan,
        limit_ci_upper=float(coef[0] + crit * se[0]) if has_limit else nan,
        level=level,
        fit=None,
    )


def _predictor(predictor: str, v: FloatArray, ni: ArrayLike | None, k: int) -> FloatArray:
    if predictor not in _PREDICTORS:
        raise StatsInputError(
            f"predictor must be one of {sorted(_PREDICTORS)}, not {predictor!r}", field="predictor"
        )
    if predictor == "sei":
        return np.sqrt(v)
    if predictor == "vi":
        return v
    if ni is None:
        raise StatsInputError(f"predictor {predictor!r} needs the sample sizes ni", field="ni")
    n = np.asarray(ni, dtype=float).ravel()
    if n.size != k:
        raise StatsInputError(f"ni has {n.size} values but yi has {k}", field="ni")
    bad = np.flatnonzero(~(np.isfinite(n) & (n > 0)))
    if bad.size:
        raise StatsInputError("ni must be finite and > 0", index=int(bad[0]), field="ni")
    transforms: dict[str, Callable[[FloatArray], FloatArray]] = {
        "ni": lambda a: a,
        "ninv": lambda a: 1 / a,
        "sqrtni": np.sqrt,
        "sqrtninv": lambda a: 1 / np.sqrt(a),
    }
    return transforms[predictor](n)


def _weighted_lm(y: FloatArray, x: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, int]:
    """Weighted least squares as R's ``lm(weights = w)``: coefficients, their SEs and residual df."""
    sw = np.sqrt(w)
    coef = np.asarray(np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)[0], dtype=np.float64)
    df = x.shape[0] - x.shape[1]
    sigma2 = float(np.sum(w * (y - x @ coef) ** 2)) / df
    cov = sigma2 * np.linalg.inv((x * w[:, None]).T @ x)
    return coef, np.sqrt(np.diag(cov)).astype(np.float64), df


# ----------------------------------------------------------------------------------------------------------
# Begg's rank correlation test


@dataclass(frozen=True)
class BeggResult:
    """Rank correlation test for funnel-plot asymmetry (metafor's ``ranktest``).

    ``tau`` is Kendall's tau (tau-b) between the standardised deviates and the sampling variances;
    ``pvalue`` is exact (``exact=True``) when there are no ties, else the normal approximation with the
    tie-corrected variance (``statistic`` is then that z).

    Example::

        >>> res = begg_test([0.1, 0.3, 0.2, 0.6, 0.5], [0.01, 0.02, 0.015, 0.05, 0.04])
        >>> res.exact
        True
    """

    k: int
    tau: float
    pvalue: float
    exact: bool
    statistic: float

    def to_dict(self) -> dict[str, Any]:
        """Scalar fields as plain Python values."""
        return scalar_fields(self)

    def to_frame(self) -> Any:
        """A one-row :class:`pandas.DataFrame` of :meth:`to_dict`."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        return (
            f"\nRank Correlation Test for Funnel Plot Asymmetry\n\n"
            f"Kendall's tau = {self.tau:.4f}, {_p_eq(self.pvalue)}\n"
        )


def begg_test(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    exact: bool = True,
) -> BeggResult:
    """Begg and Mazumdar's rank correlation test, as metafor's ``ranktest``.

    The deviates ``(yi - theta) / sqrt(vi - vb)`` around the equal-effects estimate ``theta`` (with
    variance ``vb``) are correlated with ``vi`` by Kendall's tau; the p-value is R's
    ``cor.test(method = "kendall", exact = TRUE)``: exact without ties, normal approximation with ties.
    ``method`` (the model's τ² estimator, checked for validity) does not change the test: metafor's
    ``ranktest`` of any ``rma`` model standardises around the equal-effects estimate.

    Example::

        >>> res = begg_test([0.1, 0.3, 0.2, 0.6, 0.5], [0.01, 0.02, 0.015, 0.05, 0.04])
        >>> res.k, res.exact
        (5, True)
    """
    y, v = check_effects(yi, vi, sei)
    normalize_method(method)
    if y.size < 3:
        raise StatsInputError(f"the rank test needs k >= 3 effect sizes, got k = {y.size}", field="yi")
    w = 1.0 / v
    theta = float(np.sum(w * y) / np.sum(w))
    vb = 1.0 / float(np.sum(w))
    deviates = (y - theta) / np.sqrt(v - vb)
    tau, pvalue, used_exact, stat = kendall_test(deviates, v, exact=exact)
    return BeggResult(k=y.size, tau=tau, pvalue=pvalue, exact=used_exact, statistic=stat)


def kendall_test(x: FloatArray, y: FloatArray, *, exact: bool = True) -> tuple[float, float, bool, float]:
    """Kendall's tau-b with R's ``cor.test`` p-value: ``(tau, p, exact_used, statistic)``.

    Without ties and with ``exact`` the two-sided p-value comes from the exact null distribution of the
    number of concordant pairs (statistic ``T``); otherwise from the normal approximation of the
    tie-corrected S (statistic ``z``), without continuity correction. The exact distribution costs
    O(n^3) (5 s at n = 1000), so above n = 1000 the normal approximation is used (R would attempt the
    exact one, and run out of memory). All four are NaN when ``x`` or ``y`` is constant.

    Example::

        >>> tau, p, exact, _ = kendall_test(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))
        >>> round(tau, 4), p, exact
        (0.3333, 1.0, True)
    """
    n = x.size
    tau = float(sps.kendalltau(x, y).statistic)
    if math.isnan(tau):  # a constant x or y: R's cor.test gives NA for tau and p (and a warning)
        return math.nan, math.nan, False, math.nan
    ties = min(np.unique(x).size, np.unique(y).size) < n
    if exact and not ties and n <= _EXACT_MAX_N:
        q = round((tau + 1) * n * (n - 1) / 4)
        cdf = np.cumsum(_concordance_distribution(n))
        p = 1.0 - cdf[q - 1] if q > n * (n - 1) / 4 else cdf[q]
        return tau, float(min(2.0 * p, 1.0)), True, float(q)
    xt = _tie_sizes(x)
    yt = _tie_sizes(y)
    t0 = n * (n - 1) / 2
    s = tau * math.sqrt((t0 - np.sum(xt * (xt - 1)) / 2) * (t0 - np.sum(yt * (yt - 1)) / 2))
    var_s = (
        (
            n * (n - 1) * (2 * n + 5)
            - np.sum(xt * (xt - 1) * (2 * xt + 5))
            - np.sum(yt * (yt - 1) * (2 * yt + 5))
        )
        / 18
        + np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1)) / (2 * n * (n - 1))
        + np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2)) / (9 * n * (n - 1) * (n - 2))
    )
    z = float(s / math.sqrt(var_s))
    return tau, float(2 * min(sps.norm.cdf(z), sps.norm.sf(z))), False, z


_EXACT_MAX_N = 1000


def _tie_sizes(a: FloatArray) -> FloatArray:
    counts = np.unique(a, return_counts=True)[1]
    return counts[counts > 1].astype(float)


def _concordance_distribution(n: int) -> FloatArray:
    """Null probabilities of 0..n(n-1)/2 concordant pairs among n items (Mahonian numbers / n!)."""
    dist = np.ones(1)
    for i in range(2, n + 1):
        cum = np.concatenate([[0.0], np.cumsum(dist)])
        size = dist.size + i - 1
        idx = np.arange(size)
        hi = np.minimum(idx, dist.size - 1) + 1
        lo = np.maximum(idx - i + 1, 0)
        dist = (cum[hi] - cum[lo]) / i
    return dist


# ----------------------------------------------------------------------------------------------------------
# trim and fill


@dataclass(frozen=True)
class TrimFillResult:
    """Trim-and-fill (Duval & Tweedie 2000) as metafor's ``trimfill``.

    ``k0`` studies are estimated missing on ``side`` (SE ``se_k0``; for the R0 estimator ``p_k0`` is
    the p-value of k0 = 0); ``yi``/``vi`` are the observed then the filled effects, ``filled`` marks
    the latter; ``model`` is the model refitted to them (the original model when ``k0 = 0``).

    Example::

        >>> res = trimfill([0.1, 0.3, 0.2, 0.6, 0.5, 0.8], [0.01, 0.02, 0.015, 0.05, 0.04, 0.08])
        >>> res.side
        'left'
    """

    estimator: str
    side: str
    k0: int
    se_k0: float
    p_k0: float
    yi: FloatArray
    vi: FloatArray
    filled: BoolArray
    model: MetaResult

    def to_dict(self) -> dict[str, Any]:
        """The trim-and-fill scalars plus the adjusted model's (prefixed ``model_``)."""
        out = scalar_fields(self)
        out.update({f"model_{key}": val for key, val in self.model.to_dict().items()})
        return out

    def to_frame(self) -> Any:
        """The observed and filled effects as a :class:`pandas.DataFrame` (``yi``, ``vi``, ``filled``)."""
        import pandas as pd

        return pd.DataFrame({"yi": self.yi, "vi": self.vi, "filled": self.filled})

    def __str__(self) -> str:
        line = f"\nEstimated number of missing studies on the {self.side} side: {self.k0}"
        line += f" (SE = {self.se_k0:.4f})"
        if not math.isnan(self.p_k0):
            line += f"\nTest of H0: no missing studies on the {self.side} side:    {_p_eq(self.p_k0)}"
        return line + "\n" + str(self.model)


def trimfill(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    estimator: str = "L0",
    side: str | None = None,
    method: str = "REML",
    test: str = "z",
    maxiter: int = 100,
    control: Mapping[str, float] | None = None,
) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill method, as metafor's ``trimfill`` on ``rma(yi, vi, method)``.

    ``estimator`` is ``"L0"`` (default), ``"R0"`` or ``"Q0"``. Without ``side``, the side of the missing
    studies is chosen as metafor does: ``"right"`` when the slope of ``rma(yi, vi, mods = ~ sqrt(vi))``
    is negative, else ``"left"``. The trimmed models and the final one use ``method``. As in metafor,
    the model returned when no study is missing is the original ``rma(yi, vi, method, test)``, while a
    model refitted to the filled data uses ``test="z"``. (metafor fits the trimmed and filled models
    with its default ``control``; pass ``control`` to change that for all fits.)

    Example::

        >>> res = trimfill([0.1, 0.3, 0.2, 0.6, 0.5, 0.8], [0.01, 0.02, 0.015, 0.05, 0.04, 0.08], method="DL")
        >>> res.k0 >= 0
        True
    """
    y, v = check_effects(yi, vi, sei)
    k = y.size
    if estimator not in ("L0", "R0", "Q0"):
        raise StatsInputError(f"estimator must be 'L0', 'R0' or 'Q0', not {estimator!r}", field="estimator")
    if k < 3:
        raise StatsInputError(f"trim-and-fill needs k >= 3 effect sizes, got k = {k}", field="yi")
    if side is None:
        slope = meta_reg(y, v, mods={"sei": np.sqrt(v)}, method=method, control=control).estimates[1]
        side = "right" if slope < 0 else "left"
    elif side not in ("left", "right"):
        raise StatsInputError(f"side must be 'left' or 'right', not {side!r}", field="side")
    flip = -1.0 if side == "right" else 1.0
    order = np.argsort(flip * y, kind="stable")
    ys, vs = flip * y[order], v[order]

    k0, k0_prev, se_k0, beta = 0, -1, math.nan, math.nan
    for _ in range(maxiter):
        if k0 == k0_prev:
            break
        k0_prev = k0
        beta = meta(ys[: k - k0], vs[: k - k0], method=method, control=control).estimate
        centred = ys - beta
        signed = np.sign(centred) * sps.rankdata(np.abs(centred), method="ordinal")
        k0_raw, se_k0 = _k0(estimator, signed, k)
        k0 = max(0, round(k0_raw))
        if not math.isnan(se_k0):
            se_k0 = max(0.0, se_k0)
    else:
        if k0 != k0_prev:
            raise RuntimeError(f"trim and fill did not converge in {maxiter} iterations")

    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else math.nan
    if k0 == 0:
        return TrimFillResult(
            estimator=estimator,
            side=side,
            k0=0,
            se_k0=se_k0,
            p_k0=p_k0,
            yi=y,
            vi=v,
            filled=np.zeros(k, dtype=bool),
            model=meta(y, v, method=method, test=test, control=control),
        )
    fill_y = flip * (2 * beta - ys[k - k0 :])
    all_y = np.concatenate([y, fill_y])
    all_v = np.concatenate([v, vs[k - k0 :]])
    filled = np.concatenate([np.zeros(k, dtype=bool), np.ones(k0, dtype=bool)])
    return TrimFillResult(
        estimator=estimator,
        side=side,
        k0=k0,
        se_k0=se_k0,
        p_k0=p_k0,
        yi=all_y,
        vi=all_v,
        filled=filled,
        model=meta(all_y, all_v, method=method, control=control),
    )


def _k0(estimator: str, signed: FloatArray, k: int) -> tuple[float, float]:
    """Unrounded k0 and its SE from the signed ranks of the centred effects."""
    if estimator == "R0":
        negative = -signed[signed < 0]
        k0 = k - (float(negative.max()) if negative.size else 0.0) - 1
        return k0, math.sqrt(2 * max(0.0, k0) + 2)
    sr = float(np.sum(signed[signed > 0]))
    if estimator == "L0":
        k0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
    else:
        k0 = k - 0.5 - math.sqrt(2 * k**2 - 4 * sr + 0.25)
    var_sr = (
        k * (k + 1) * (2 * k + 1)
        + 10 * k0**3
        + 27 * k0**2
        + 17 * k0
        - 18 * k * k0**2
        - 18 * k * k0
        + 6 * k**2 * k0
    ) / 24
    root = math.sqrt(var_sr) if var_sr >= 0 else math.nan
    if estimator == "L0":
        return k0, 4 * root / (2 * k - 1)
    return k0, 2 * root / math.sqrt((k - 0.5) ** 2 - k0 * (2 * k - k0 - 1))


# ----------------------------------------------------------------------------------------------------------
# test of excess significance


@dataclass(frozen=True)
class TESResult:
    """Test of excess significance (Ioannidis & Trikalinos 2007) as metafor's ``tes``.

    ``observed`` significant results out of ``k`` against ``expected`` (the sum of each study's
    ``power`` to detect ``theta``); ``pvalue`` from the ``test`` (``"exact"``, ``"binom"`` or
    ``"chi2"`` with ``statistic`` X^2); ``theta_lim`` the value(s) of theta where the p-value equals
    ``tes_alpha`` (a pair for a two-sided test; NaN where not estimable).

    Example::

        >>> res = excess_significance([0.5, 0.6, 0.4, 0.7], [0.04, 0.05, 0.03, 0.06], test="chi2")
        >>> res.observed
        4
    """

    k: int
    observed: int
    expected: float
    ratio: float
    test: str
    statistic: float
    pvalue: float
    theta: float
    theta_lim: tuple[float, ...]
    tes_alternative: str
    tes_alpha: float
    power: FloatArray
    significant: BoolArray

    def to_dict(self) -> dict[str, Any]:
        """Scalar fields as plain Python values (``theta_lim`` as a list)."""
        return scalar_fields(self) | {"theta_lim": list(self.theta_lim)}

    def to_frame(self) -> Any:
        """One row per study: ``power`` and ``significant``."""
        import pandas as pd

        return pd.DataFrame({"power": self.power, "significant": self.significant})

    def __str__(self) -> str:
        if self.k > 5:
            labels, values = (
                ["min", "q1", "median", "q3", "max"],
                np.quantile(self.power, [0, 0.25, 0.5, 0.75, 1]),
            )
        else:
            labels, values = [str(i + 1) for i in range(self.k)], self.power
        cells = [f"{val:.4f}" for val in values]
        widths = [max(len(a), len(b)) for a, b in zip(labels, cells, strict=True)]
        test = {
            "chi2": f" (X^2 = {self.statistic:.4f}, df = 1)",
            "binom": " (binomial test)",
            "exact": " (exact test)",
        }[self.test]
        lims = ", ".join("not estimable" if math.isnan(t) else f"{t:.4f}" for t in self.theta_lim)
        if any(not math.isnan(t) for t in self.theta_lim):
            at = self.tes_alpha / 2 if self.tes_alternative == "two.sided" else self.tes_alpha
            lims += f" (where p = {at:g})"
        return "\n".join(
            [
                "",
                "Test of Excess Significance",
                "",
                f"Observed Number of Significant Findings: {self.observed} (out of {self.k})",
                f"Expected Number of Significant Findings: {self.expected:.4f}",
                f"Observed Number / Expected Number:       {self.ratio:.4f}",
                "",
                f"Estimated Power of Tests (based on theta = {self.theta:.4f})",
                "",
                "  ".join(a.rjust(w) for a, w in zip(labels, widths, strict=True)),
                "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)),
                "",
                f"Test of Excess Significance: {_p_eq(self.pvalue)}{test}",
                f"Limit Estimate (theta_lim):  {lims}",
                "",
            ]
        )


def excess_significance(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    theta: float | None = None,
    tau2: float | None = None,
    h0: float = 0.0,
    alternative: str = "two.sided",
    alpha: float = 0.05,
    test: str | None = None,
    tes_alternative: str = "greater",
    tes_alpha: float = 0.10,
) -> TESResult:
    """Ioannidis and Trikalinos's test of excess significance, as metafor's ``tes(yi, vi, ...)``.

    Each study is "significant" if its Wald test of ``h0`` (``alternative``, level ``alpha``) rejects;
    the expected number is the sum of the studies' power at ``theta`` (default: the equal-effects
    estimate, or the estimate with weights 1/(vi + tau2) when ``tau2 > 0``, in which case the power
    is averaged over N(theta, tau2) as metafor does). ``test`` defaults as metafor's: ``"exact"`` (the
    Poisson-binomial distribution) when it sums at most 10^6 binomial terms, else ``"chi2"``.

    Example::

        >>> res = excess_significance([0.5, 0.6, 0.4, 0.7], [0.04, 0.05, 0.03, 0.06])
        >>> res.test
        'exact'
    """
    y, v = check_effects(yi, vi, sei)
    for name, val in (("alternative", alternative), ("tes_alternative", tes_alternative)):
        if val not in ("two.sided", "greater", "less"):
            raise StatsInputError(f"{name} must be 'two.sided', 'greater' or 'less', not {val!r}", field=name)
    for name, a in (("alpha", alpha), ("tes_alpha", tes_alpha)):
        if not 0 < a < 1:
            raise StatsInputError(f"{name} must be in (0, 1), not {a}", field=name)
    if test is not None and test not in ("chi2", "binom", "exact"):
        raise StatsInputError(f"test must be 'chi2', 'binom' or 'exact', not {test!r}", field="test")
    if tau2 is not None and not (math.isfinite(tau2) and tau2 >= 0):
        raise StatsInputError(f"tau2 must be finite and >= 0, not {tau2}", field="tau2")
    k = y.size
    sei_ = np.sqrt(v)
    crit = float(sps.norm.isf(alpha / 2 if alternative == "two.sided" else alpha))
    if alternative == "less":
        crit = -crit
    z = (y - h0) / sei_
    sig = (
        np.abs(z) >= crit
        if alternative == "two.sided"
        else (z >= crit if alternative == "greater" else z <= crit)
    )
    observed = int(np.sum(sig))
    hetero = tau2 is not None and tau2 > 0
    if theta is None:
        w = 1.0 / (v + tau2) if hetero and tau2 is not None else 1.0 / v
        theta = float(np.sum(w * y) / np.sum(w))
    if test is None:
        js = {"two.sided": range(0, k + 1), "greater": range(observed, k + 1), "less": range(0, observed + 1)}
        test = "exact" if sum(math.comb(k, j) for j in js[tes_alternative]) <= 10**6 else "chi2"
    tau = math.sqrt(tau2) if hetero and tau2 is not None else 0.0

    def tes_at(th: float, tes_alt: str) -> tuple[FloatArray, float, float, float]:
        power = _power(th, sei_, h0, alternative, crit, tau)
        expected = float(np.sum(power))
        stat, pval = _tes_pvalue(observed, k, power, expected, test, tes_alt)
        return power, expected, stat, pval

    power, expected, stat, pval = tes_at(theta, tes_alternative)
    theta_lim = _theta_limits(lambda th, alt: tes_at(th, alt)[3], theta, h0, tes_alternative, tes_alpha)
    return TESResult(
        k=k,
        observed=observed,
        expected=expected,
        ratio=observed / expected,
        test=test,
        statistic=stat,
        pvalue=pval,
        theta=theta,
        theta_lim=theta_lim,
        tes_alternative=tes_alternative,
        tes_alpha=tes_alpha,
        power=power,
        significant=sig,
    )


def _power_at(mean: FloatArray, alternative: str, crit: float) -> FloatArray:
    if alternative == "two.sided":
        return np.asarray(sps.norm.sf(crit - mean) + sps.norm.cdf(-crit - mean))
    if alternative == "greater":
        return np.asarray(sps.norm.sf(crit - mean))
    return np.asarray(sps.norm.cdf(crit - mean))


def _power(theta: float, sei: FloatArray, h0: float, alternative: str, crit: float, tau: float) -> FloatArray:
    """Each study's power at ``theta``; with ``tau > 0`` averaged over N(theta, tau^2) on theta +- 5 tau
    (metafor's integration range, not renormalised), by composite 20-point Gauss-Legendre quadrature
    with panels no wider than half the smallest SE (the power curve's scale), vectorised over studies."""
    if tau == 0:
        return _power_at((theta - h0) / sei, alternative, crit)
    panels = int(min(1000, max(10, math.ceil(20 * tau / float(sei.min())))))
    edges = np.linspace(theta - 5 * tau, theta + 5 * tau, panels + 1)
    half = np.diff(edges) / 2
    x = ((edges[:-1] + half)[:, None] + half[:, None] * _GL_NODES[None, :]).ravel()
    w = (half[:, None] * _GL_WEIGHTS[None, :]).ravel() * sps.norm.pdf(x, theta, tau)
    power = _power_at((x[None, :] - h0) / sei[:, None], alternative, crit)
    return np.asarray(power @ w, dtype=np.float64)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(20)


def _poisson_binomial(power: FloatArray) -> FloatArray:
    """P(number of significant results = j), j = 0..k, for independent studies with these powers."""
    dist = np.ones(1)
    for p in power:
        dist = np.concatenate([dist * (1 - p), [0.0]]) + np.concatenate([[0.0], dist * p])
    return dist


def _tes_pvalue(
    observed: int, k: int, power: FloatArray, expected: float, test: str, alternative: str
) -> tuple[float, float]:
    """(X^2 or NaN, p-value) of observed against expected significant results."""
    if test == "chi2":
        if expected * (k - expected) == 0:  # R's prop.test stops: p = E/k must lie in (0, 1)
            raise StatsInputError(
                f"the chi2 test needs 0 < E < k expected significant results, got E = {expected}"
            )
        x2 = (observed - expected) ** 2 * k / (expected * (k - expected))
        if alternative == "two.sided":
            return x2, float(sps.chi2.sf(x2, 1))
        zval = math.copysign(math.sqrt(x2), observed / k - expected / k)
        return x2, float(sps.norm.sf(zval) if alternative == "greater" else sps.norm.cdf(zval))
    if test == "binom":
        return math.nan, float(
            sps.binomtest(observed, k, expected / k, alternative=_SCIPY_ALT[alternative]).pvalue
        )
    probs = _poisson_binomial(power)
    if alternative == "greater":
        p = float(np.sum(probs[observed:]))
    elif alternative == "less":
        p = float(np.sum(probs[: observed + 1]))
    else:
        p = float(np.sum(probs[probs <= probs[observed] + math.sqrt(np.finfo(float).eps)]))
    return math.nan, min(p, 1.0)


_SCIPY_ALT = {"two.sided": "two-sided", "greater": "greater", "less": "less"}


PValueAt = Callable[[float, str], float]


def _theta_limits(
    pvalue_at: PValueAt, theta: float, h0: float, alternative: str, tes_alpha: float
) -> tuple[float, ...]:
    """Where the p-value crosses ``tes_alpha`` between ``h0`` and beyond ``theta`` (metafor's theta.lim).

    A two-sided test has two limits: those of the one-sided ``greater`` and ``less`` tests at
    ``tes_alpha / 2``.
    """
    if alternative == "two.sided":
        half = tes_alpha / 2
        return (
            _theta_limit(pvalue_at, theta, h0, "greater", half),
            _theta_limit(pvalue_at, theta, h0, "less", half),
        )
    return (_theta_limit(pvalue_at, theta, h0, alternative, tes_alpha),)


def _theta_limit(pvalue_at: PValueAt, theta: float, h0: float, alternative: str, level: float) -> float:
    def diff(th: float) -> float:
        return pvalue_at(th, alternative) - level

    try:
        return _search_limit(diff, theta, h0, alternative)
    except StatsInputError:  # the p-value is undefined on the way (metafor: uniroot fails, NA)
        return math.nan


def _search_limit(diff: Callable[[float], float], theta: float, h0: float, alternative: str) -> float:
    d0 = diff(h0)
    if (alternative == "greater" and d0 >= 0) or (alternative == "less" and d0 <= 0) or theta == h0:
        return math.nan
    lo, hi = sorted((h0, theta))
    width = hi - lo
    for _ in range(60):
        if np.sign(diff(lo)) != np.sign(diff(hi)):
            return float(optimize.brentq(diff, lo, hi, xtol=1e-12, rtol=1e-12))
        if theta >= h0:
            hi += width
        else:
            lo -= width
        width *= 2
    return math.nan
