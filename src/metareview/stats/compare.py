"""Model comparison and prediction: ``fitstats``, ``anova`` and ``predict``, as metafor's functions.

* :func:`fitstats` — metafor's ``fitstats(x)``/``logLik``/``AIC``/``BIC``: the (restricted) log-likelihood
  (REML when the fit is REML, else ML, with τ² fixed at the estimate; ``EE`` with τ² = 0), deviance,
  AIC, BIC and AICc. The REML log-likelihood includes metafor's ``+ ½ log|X'X|`` term (``REMLf = TRUE``).
* :func:`anova` — ``anova(full, reduced)``: the likelihood-ratio test of two nested ML/REML fits of the
  same data; ``anova(fit, btt=)``: the Wald test of the chosen coefficients (chi-square, or F under
  Knapp–Hartung), as metafor's ``anova(x, btt=)``.
* :func:`predict` — ``predict(x, newmods=)``: fitted values for new moderator values with their CI and
  the prediction interval ``pred ± crit · √(se² + τ²)`` (z, or t with k − p df under Knapp–Hartung).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from metareview.stats.errors import StatsInputError
from metareview.stats.metareg import _omnibus
from metareview.stats.results import MetaRegResult, MetaResult

FloatArray = NDArray[np.float64]
UniFit = MetaResult | MetaRegResult


@dataclass(frozen=True)
class FitStats:
    """metafor's ``fitstats``: ``loglik``, ``deviance``, ``aic``, ``bic``, ``aicc``; ``reml`` says which
    likelihood; ``parms`` is the number of parameters (coefficients + τ² unless ``EE``)."""

    loglik: float
    deviance: float
    aic: float
    bic: float
    aicc: float
    reml: bool
    parms: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _design(fit: UniFit) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float]:
    if isinstance(fit, MetaResult):
        return fit.yi, fit.vi, np.ones((fit.k, 1)), np.array([fit.estimate]), fit.tau2
    if isinstance(fit, MetaRegResult):
        return fit.yi, fit.vi, fit.X, fit.estimates, fit.tau2
    raise StatsInputError(f"needs a meta or meta_reg result, not {type(fit).__name__}", field="fit")


def loglik(
    y: FloatArray, v: FloatArray, x: FloatArray, beta: FloatArray, tau2: float, *, reml: bool
) -> float:
    """metafor's ``logLik`` of a ``rma.uni`` model at (β, τ²): the ML log-likelihood, or the REML one with
    metafor's ``+ ½ log|X'X|`` term (``REMLf = TRUE``). β is the fit's (the GLS estimate, or the user-weighted
    one: metafor evaluates the likelihood at the fitted β either way)."""
    k, p = x.shape
    vt = v + tau2
    w = 1.0 / vt
    rss = float(np.sum(w * (y - x @ beta) ** 2))
    if not reml:
        return float(-0.5 * (k * math.log(2 * math.pi) + float(np.sum(np.log(vt))) + rss))
    logdet_xwx = float(np.linalg.slogdet(x.T @ (x * w[:, None]))[1])
    logdet_xx = float(np.linalg.slogdet(x.T @ x)[1])
    return float(
        -0.5 * (k - p) * math.log(2 * math.pi)
        + 0.5 * logdet_xx
        - 0.5 * float(np.sum(np.log(vt)))
        - 0.5 * logdet_xwx
        - 0.5 * rss
    )


def fitstats(fit: UniFit) -> FitStats:
    """Log-likelihood, deviance, AIC, BIC and AICc of a ``meta``/``meta_reg`` fit, as metafor's ``fitstats``.

    Example::

        >>> from metareview.stats import meta, fitstats
        >>> fs = fitstats(meta([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.02], method="ML"))
        >>> fs.reml, fs.parms
        (False, 2)
    """
    y, v, x, beta, tau2 = _design(fit)
    k, p = x.shape
    tau2 = 0.0 if fit.method == "EE" else tau2
    reml = fit.method == "REML"
    parms = p + (0 if fit.method == "EE" else 1)
    ll = loglik(y, v, x, beta, tau2, reml=reml)
    if reml:
        dev = -2.0 * ll
        n = k - p
    else:
        saturated = -0.5 * (k * math.log(2 * math.pi) + float(np.sum(np.log(v))))
        dev = -2.0 * (ll - saturated)
        n = k
    aic = -2.0 * ll + 2.0 * parms
    bic = -2.0 * ll + parms * math.log(n)
    big = max(n, parms + 2)
    aicc = -2.0 * ll + 2.0 * parms * big / (big - parms - 1)
    return FitStats(loglik=ll, deviance=dev, aic=aic, bic=bic, aicc=aicc, reml=reml, parms=parms)


@dataclass(frozen=True)
class AnovaResult:
    """A likelihood-ratio test (``lrt``, ``df``, ``pvalue``, with both models' fit statistics) or a Wald
    test of coefficients (``qm``, ``qm_df``, ``qm_df2`` (NaN unless Knapp–Hartung), ``pvalue``)."""

    kind: str
    statistic: float
    df: int
    df2: float
    pvalue: float
    full: FitStats | None = None
    reduced: FitStats | None = None
    btt: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if not isinstance(v, FitStats)}
        if self.full is not None and self.reduced is not None:
            out["full"], out["reduced"] = self.full.to_dict(), self.reduced.to_dict()
        return out

    def __str__(self) -> str:
        if self.kind == "LRT" and self.full is not None and self.reduced is not None:
            f, r = self.full, self.reduced
            return (
                f"\n        df      AIC      BIC     AICc   logLik      LRT    pval\n"
                f"Full  {f.parms:4d} {f.aic:8.4f} {f.bic:8.4f} {f.aicc:8.4f} {f.loglik:8.4f}\n"
                f"Reduced {r.parms:2d} {r.aic:8.4f} {r.bic:8.4f} {r.aicc:8.4f} {r.loglik:8.4f} "
                f"{self.statistic:8.4f} {self.pvalue:7.4f}\n"
            )
        what = (
            f"F(df1 = {self.df}, df2 = {self.df2:g})" if not math.isnan(self.df2) else f"QM(df = {self.df})"
        )
        head = f"\nTest of Moderators (coefficients {list(self.btt)}):\n"
        return head + f"{what} = {self.statistic:.4f}, p = {self.pvalue:.4g}\n"


def anova(fit: UniFit, reduced: UniFit | None = None, *, btt: Sequence[int] | None = None) -> AnovaResult:
    """The likelihood-ratio test of ``fit`` against a nested ``reduced`` fit, or the Wald test of ``btt``.

    ``btt`` are 0-based coefficient indices (metafor's are 1-based). The LRT needs two ML or two REML fits
    of the same data with fewer parameters in ``reduced``; as metafor, REML fits with different fixed
    effects are compared (a REML LRT is only meaningful for the variance components) but not refused.

    Example::

        >>> from metareview.stats import meta, meta_reg, anova
        >>> yi, vi = [0.1, 0.3, 0.2, 0.5, 0.4, 0.0], [0.01, 0.02, 0.015, 0.02, 0.01, 0.03]
        >>> full = meta_reg(yi, vi, {"x": [1, 2, 3, 4, 5, 6]}, method="ML")
        >>> anova(full, meta(yi, vi, method="ML")).df
        1
    """
    if reduced is None:
        if not isinstance(fit, MetaRegResult):
            raise StatsInputError("the Wald test needs a meta_reg fit", field="fit")
        idx = sorted(set(int(j) for j in (btt if btt is not None else range(1, len(fit.names)))))
        if not idx or min(idx) < 0 or max(idx) >= len(fit.names):
            raise StatsInputError(f"btt must index the {len(fit.names)} coefficients, got {idx}", field="btt")
        qm, qdf, qdf2, qp = _omnibus(fit.estimates, fit.vcov, idx, fit.ddf)
        return AnovaResult("Wald", qm, qdf, qdf2, qp, btt=tuple(idx))
    if btt is not None:
        raise StatsInputError("give either a reduced model or btt, not both", field="btt")
    if fit.method not in ("ML", "REML") or reduced.method != fit.method:
        raise StatsInputError("a likelihood-ratio test needs two ML or two REML fits", field="method")
    if fit.yi.shape != reduced.yi.shape or not np.array_equal(fit.yi, reduced.yi):
        raise StatsInputError("the two models were not fitted to the same data", field="reduced")
    f_stats, r_stats = fitstats(fit), fitstats(reduced)
    if r_stats.parms >= f_stats.parms:
        f_stats, r_stats = r_stats, f_stats  # metafor orders the models by their number of parameters
    if r_stats.parms == f_stats.parms:
        raise StatsInputError("the two models have the same number of parameters", field="reduced")
    lrt = max(0.0, 2.0 * (f_stats.loglik - r_stats.loglik))
    df = f_stats.parms - r_stats.parms
    return AnovaResult("LRT", lrt, df, math.nan, float(sps.chi2.sf(lrt, df)), f_stats, r_stats)


@dataclass(frozen=True)
class Prediction:
    """metafor's ``predict.rma``: ``pred``, ``se``, ``ci_lower``/``ci_upper``, ``pi_lower``/``pi_upper``."""

    pred: FloatArray
    se: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    pi_lower: FloatArray
    pi_upper: FloatArray

    def to_dict(self) -> dict[str, list[float]]:
        return {k: np.asarray(v).tolist() for k, v in self.__dict__.items()}


def predict(
    fit: UniFit, newmods: ArrayLike | None = None, *, level: float | None = None, intercept: bool = True
) -> Prediction:
    """Predicted effects for new moderator values, as ``predict(x, newmods=)``.

    ``newmods`` has one row per prediction and one column per moderator coefficient (the model's columns
    after the intercept, dummy-coded as :func:`meta_reg` coded them); the intercept is added unless
    ``intercept=False`` (then give every column). Without ``newmods`` the fitted values of the data
    (``meta_reg``) or the pooled estimate (``meta``) are predicted. The CI uses z, or t with the fit's
    df under Knapp–Hartung; the PI adds τ² to se² with the same quantile (metafor's default); it is NaN
    for ``EE`` fits, for which metafor reports none.

    Example::

        >>> from metareview.stats import meta_reg, predict
        >>> fit = meta_reg([0.1, 0.3, 0.5, 0.6, 0.2], [0.01, 0.02, 0.01, 0.02, 0.01],
        ...                mods={"dose": [1, 2, 3, 4, 1]}, method="DL")
        >>> predict(fit, [[2.5]]).pred.shape
        (1,)
    """
    _, _, x, beta, tau2 = _design(fit)
    p = x.shape[1]
    if newmods is None:
        xn = x if isinstance(fit, MetaRegResult) else np.ones((1, 1))
    else:
        xn = np.asarray(newmods, dtype=float)
        if xn.ndim == 1:
            xn = xn.reshape(-1, 1) if (p - int(intercept)) == 1 else xn.reshape(1, -1)
        has_int = isinstance(fit, MetaResult) or fit.names[0] == "intrcpt"
        if intercept and has_int:
            xn = np.column_stack([np.ones(xn.shape[0]), xn])
        if xn.shape[1] != p or not np.all(np.isfinite(xn)):
            raise StatsInputError(
                f"newmods must be finite with {p - int(intercept and has_int)} columns, got shape "
                f"{np.asarray(newmods).shape}",
                field="newmods",
            )
    vcov = np.array([[fit.se**2]]) if isinstance(fit, MetaResult) else fit.vcov
    level = fit.level if level is None else float(level)
    if not 0 < level < 100:
        raise StatsInputError(f"level must be a percentage in (0, 100), not {level}", field="level")
    ddf = fit.ddf
    alpha = 1 - level / 100
    crit = float(sps.norm.ppf(1 - alpha / 2) if math.isnan(ddf) else sps.t.ppf(1 - alpha / 2, ddf))
    pred = xn @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", xn, vcov, xn))
    if fit.method == "EE":  # no prediction interval for an equal-effects model (metafor reports none)
        half = np.full_like(se, np.nan)
    else:
        half = crit * np.sqrt(se**2 + tau2)
    return Prediction(pred, se, pred - crit * se, pred + crit * se, pred - half, pred + half)
