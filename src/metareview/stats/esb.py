"""Excess statistical significance as Stanley et al. (2021) define it (TESS, PSST and their combination),
and the unrestricted weighted least squares (UWLS) average used as the best guess of the true effect.

Stanley TD, Doucouliagos H, Ioannidis JPA, Carter EC. Detecting publication selection bias through excess
statistical significance. Res Synth Methods 2021;12:776-795. Stanley TD, Doucouliagos H. Neither fixed
nor random: weighted least squares meta-analysis. Stat Med 2015;34:2116-2127.

With ``SS`` studies significant (two-sided p < ``alpha``) out of ``k`` and ``Esig`` the sum of each
study's power to detect ``theta`` given the between-study variance ``tau2``,

- power_i = 1 - Phi((z_crit * se_i - |theta|) / sqrt(se_i^2 + tau2))   (z_crit = 1.96, the papers' value)
- TESS: ESS = (SS - Esig)/k, z = (ESS - alpha) / sqrt(alpha (1 - alpha) / k), one-sided p = 1 - Phi(z)
- PSST: Pe = Esig/k, z = (SS/k - Pe) / sqrt(Pe (1 - Pe) / k), one-sided p = 1 - Phi(z)
- TESSPSST: p = min(p_TESS, p_PSST) (excess if either test is significant).

These are the formulas metaumbrella 1.1.0 applies by default (``esb.test(method.esb = "TESSPSST",
true_effect = "UWLS")``); the Ioannidis & Trikalinos (2007) test is
:func:`metareview.stats.bias.excess_significance`.

Example::

    >>> res = tess_psst([0.5, 0.1, 0.4, 0.3], [0.1, 0.2, 0.15, 0.1], tau2=0.01, theta=0.3)
    >>> res.observed, round(res.expected, 4)
    (3, 2.0327)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from metareview.stats.errors import StatsInputError
from metareview.stats.results import scalar_fields

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
METHODS = ("TESSPSST", "TESS", "PSST")


def _as_float(x: ArrayLike, name: str) -> FloatArray:
    arr = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if arr.ndim != 1:
        raise StatsInputError(f"{name} must be one-dimensional", field=name)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise StatsInputError(f"{name} must be finite", index=int(bad[0]), field=name)
    return arr


@dataclass(frozen=True)
class UWLSResult:
    """The UWLS average: the slope of the regression of t_i = y_i/se_i on 1/se_i without intercept.

    Its estimate equals the equal-effects (inverse-variance) mean; ``se`` is the regression's standard
    error (the equal-effects SE times the residual standard deviation), as ``lm(t ~ 0 + prec)`` gives.
    """

    estimate: float
    se: float
    k: int

    def to_dict(self) -> dict[str, Any]:
        return scalar_fields(self)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        return f"UWLS estimate {self.estimate:.4f} (SE {self.se:.4f}, k = {self.k})"


def uwls(yi: ArrayLike, sei: ArrayLike) -> UWLSResult:
    """Unrestricted weighted least squares average of ``yi`` with standard errors ``sei``.

    >>> round(uwls([0.2, 0.4], [0.1, 0.2]).estimate, 4)
    0.24
    """
    y = _as_float(yi, "yi")
    se = _as_float(sei, "sei")
    if y.shape != se.shape:
        raise StatsInputError("yi and sei must have the same length", field="sei")
    bad = np.flatnonzero(se <= 0)
    if bad.size:
        raise StatsInputError("sei must be > 0", index=int(bad[0]), field="sei")
    prec = 1.0 / se
    t = y / se
    sxx = float(np.sum(prec**2))
    est = float(np.sum(t * prec) / sxx)
    k = int(y.size)
    if k > 1:
        resid = t - est * prec
        s2 = float(np.sum(resid**2)) / (k - 1)
        se_est = math.sqrt(s2 / sxx)
    else:
        se_est = math.nan
    return UWLSResult(est, se_est, k)


@dataclass(frozen=True)
class ExcessSignificanceResult:
    """TESS / PSST / TESSPSST: observed and expected numbers of significant studies and the p-values.

    ``pvalue`` is that of ``method``; ``p_tess`` and ``p_psst`` are both always given.
    """

    method: str
    pvalue: float
    p_tess: float
    p_psst: float
    z_tess: float
    z_psst: float
    observed: int
    expected: float
    ess: float
    k: int
    theta: float
    tau2: float
    alpha: float
    power: FloatArray
    significant: BoolArray

    @property
    def mean_power(self) -> float:
        return float(np.mean(self.power))

    def to_dict(self) -> dict[str, Any]:
        return scalar_fields(self) | {"mean_power": self.mean_power}

    def to_frame(self) -> Any:
        """One row per study: its power to detect ``theta`` and whether it is significant."""
        import pandas as pd

        return pd.DataFrame({"power": self.power, "significant": self.significant})

    def __str__(self) -> str:
        return (
            f"Excess statistical significance ({self.method}, Stanley et al. 2021): "
            f"{self.observed} of {self.k} studies significant, {self.expected:.3f} expected "
            f"(theta = {self.theta:.4f}, tau2 = {self.tau2:.4f}); proportion of excess "
            f"{100 * self.ess:.1f}%; p = {self.pvalue:.4g} (TESS p = {self.p_tess:.4g}, "
            f"PSST p = {self.p_psst:.4g})"
        )


def tess_psst(
    yi: ArrayLike,
    sei: ArrayLike,
    *,
    tau2: float,
    theta: float,
    pvalues: ArrayLike | None = None,
    method: str = "TESSPSST",
    alpha: float = 0.05,
    z_crit: float = 1.96,
) -> ExcessSignificanceResult:
    """Test for excess statistical significance (Stanley et al. 2021).

    ``yi``/``sei``: effects and standard errors; ``tau2``: between-study variance; ``theta``: the
    assumed true effect (e.g. :func:`uwls`); ``pvalues``: each study's two-sided p-value (default:
    from z = yi/sei; pass t-test p-values for standardised mean differences); a study with a NaN
    p-value counts as significant (as metaumbrella). ``z_crit`` is the critical value in the power.
    """
    if method not in METHODS:
        raise StatsInputError(f"method must be one of {METHODS}", field="method")
    y = _as_float(yi, "yi")
    se = _as_float(sei, "sei")
    if y.shape != se.shape or y.size == 0:
        raise StatsInputError("yi and sei must have the same, non-zero length", field="sei")
    bad = np.flatnonzero(se <= 0)
    if bad.size:
        raise StatsInputError("sei must be > 0", index=int(bad[0]), field="sei")
    if not (math.isfinite(tau2) and tau2 >= 0):
        raise StatsInputError("tau2 must be finite and >= 0", field="tau2")
    if not math.isfinite(theta):
        raise StatsInputError("theta must be finite", field="theta")
    if not 0 < alpha < 1:
        raise StatsInputError("alpha must be in (0, 1)", field="alpha")
    if pvalues is None:
        p = 2.0 * ndtr(-np.abs(y / se))
        p = np.where(y == 0, 1.0, p)
    else:
        p = np.atleast_1d(np.asarray(pvalues, dtype=np.float64))
        if p.shape != y.shape:
            raise StatsInputError("pvalues must have the length of yi", field="pvalues")
    sig = np.isnan(p) | (p < alpha)
    power = 1.0 - ndtr((z_crit * se - abs(theta)) / np.sqrt(se**2 + tau2))
    k = int(y.size)
    ss = int(np.sum(sig))
    esig = float(np.sum(power))
    ess = (ss - esig) / k
    z_tess = (ess - alpha) / math.sqrt(alpha * (1 - alpha) / k)
    p_tess = float(1.0 - ndtr(z_tess))
    pe = esig / k
    denom = math.sqrt(pe * (1 - pe) / k) if 0 < pe < 1 else 0.0
    diff = ss / k - pe
    if denom > 0:
        z_psst = diff / denom
    else:
        z_psst = math.copysign(math.inf, diff) if diff != 0 else math.nan
    p_psst = float(1.0 - ndtr(z_psst)) if not math.isnan(z_psst) else math.nan
    pvalue = {"TESS": p_tess, "PSST": p_psst, "TESSPSST": float(np.nanmin([p_tess, p_psst]))}[method]
    return ExcessSignificanceResult(
        method=method,
        pvalue=pvalue,
        p_tess=p_tess,
        p_psst=p_psst,
        z_tess=float(z_tess),
        z_psst=float(z_psst),
        observed=ss,
        expected=esig,
        ess=float(ess),
        k=k,
        theta=float(theta),
        tau2=float(tau2),
        alpha=alpha,
        power=power.astype(np.float64),
        significant=sig,
    )
