"""Leave-one-out analysis and case-deletion influence diagnostics (metafor's ``leave1out`` and ``influence``).

The k models that each omit one study are fitted together as one stack (vectorised over models, see
:mod:`metareview.stats.batch`), so leave-one-out costs about as much as a few single fits.

Example::

    >>> from metareview.stats import leave_one_out
    >>> res = leave_one_out([0.1, 0.3, 0.2, 0.6], [0.01, 0.02, 0.015, 0.05], method="DL")
    >>> len(res.estimate)
    4
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from metareview.stats.batch import StackFit, fit_stack
from metareview.stats.errors import StatsInputError, check_effects
from metareview.stats.meta import meta
from metareview.stats.results import format_table
from metareview.stats.tau2 import Control, Segments

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _omit_each(
    y: FloatArray, v: FloatArray, *, method: str, test: str, level: float, control: Mapping[str, float] | None
) -> StackFit:
    """Fit the k intercept-only models that each leave one study out, as one stack.

    metafor refits each of them inside ``try()``, so a refit whose τ² iteration does not converge (an
    error there) leaves its row NA; here the float results of such a model become NaN.
    """
    k = y.size
    keep = ~np.eye(k, dtype=bool)
    rows = np.nonzero(keep)  # (model, study) pairs, model-major
    seg = Segments.from_codes(rows[0].astype(np.int64), k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the non-convergence warning: re-issued below
        fit = fit_stack(
            y[rows[1]],
            v[rows[1]],
            np.ones((rows[1].size, 1)),
            seg,
            method=method,
            test=test,
            pi="z",
            level=level,
            control=Control.from_mapping(control),
        )
    failed = ~fit.converged
    if not failed.any():
        return fit
    warnings.warn(
        f"the fit without study {', '.join(str(i + 1) for i in np.flatnonzero(failed))} did not converge: "
        "its results are NaN (metafor: NA)",
        RuntimeWarning,
        stacklevel=3,
    )
    masked: dict[str, Any] = {}
    for name in (f.name for f in fields(fit)):
        value = getattr(fit, name)
        if isinstance(value, np.ndarray) and value.dtype == np.float64 and value.shape[:1] == (k,):
            value = value.copy()
            value[failed] = np.nan
            masked[name] = value
    return replace(fit, **masked)


def _check(yi: ArrayLike, vi: ArrayLike | None, sei: ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    y, v = check_effects(yi, vi, sei)
    if y.size < 2:
        raise StatsInputError("leave-one-out needs k >= 2 effect sizes", field="yi")
    return y, v


def _frame(columns: dict[str, Any]) -> Any:
    import pandas as pd

    return pd.DataFrame(columns)


@dataclass(frozen=True)
class LeaveOneOutResult:
    """One row per omitted study (metafor's ``leave1out``): the model fitted without it.

    ``statistic`` is a z value (a t value under ``test="knha"``); ``q``/``q_pvalue`` the heterogeneity
    test; ``tau2``, ``i2`` (%) and ``h2`` of the remaining studies.

    Example::

        >>> res = leave_one_out([0.1, 0.3, 0.2, 0.6], [0.01, 0.02, 0.015, 0.05])
        >>> res.to_frame().shape
        (4, 11)
    """

    method: str
    test: str
    level: float
    estimate: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    q: FloatArray
    q_pvalue: FloatArray
    tau2: FloatArray
    i2: FloatArray
    h2: FloatArray

    def _columns(self) -> dict[str, FloatArray]:
        return {
            "estimate": self.estimate,
            "se": self.se,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "q": self.q,
            "q_pvalue": self.q_pvalue,
            "tau2": self.tau2,
            "i2": self.i2,
            "h2": self.h2,
        }

    def to_dict(self) -> dict[str, Any]:
        """Settings plus one list per column."""
        return {"method": self.method, "test": self.test, "level": self.level} | {
            name: col.tolist() for name, col in self._columns().items()
        }

    def to_frame(self) -> Any:
        """A :class:`pandas.DataFrame` with one row per omitted study."""
        return _frame(self._columns())

    def __str__(self) -> str:
        stat = "tval" if self.test in ("t", "knha", "adhoc") else "zval"
        header = ["", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2", "H2"]
        rows = [
            [str(i + 1)] + [float(col[i]) for col in self._columns().values()]
            for i in range(self.estimate.size)
        ]
        return "\n" + format_table(header, rows)


def leave_one_out(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
) -> LeaveOneOutResult:
    """Refit the model k times, each time without one study (metafor's ``leave1out(rma(yi, vi, ...))``).

    A refit whose τ² iteration does not converge gives a row of NaN (metafor: NA) and a RuntimeWarning.

    Example::

        >>> res = leave_one_out([0.1, 0.3, 0.2, 0.6], [0.01, 0.02, 0.015, 0.05], method="DL")
        >>> res.method
        'DL'
    """
    y, v = _check(yi, vi, sei)
    fit = _omit_each(y, v, method=method, test=test, level=level, control=control)
    return LeaveOneOutResult(
        method=fit.method,
        test=test,
        level=level,
        estimate=fit.beta[:, 0],
        se=fit.se[:, 0],
        statistic=fit.statistic[:, 0],
        pvalue=fit.pvalue[:, 0],
        ci_lower=fit.ci_lower[:, 0],
        ci_upper=fit.ci_upper[:, 0],
        q=fit.q,
        q_pvalue=fit.q_pvalue,
        tau2=fit.tau2,
        i2=fit.i2,
        h2=fit.h2,
    )


@dataclass(frozen=True)
class InfluenceResult:
    """Case-deletion diagnostics of an intercept-only model (metafor's ``influence``).

    Per study: externally studentised residual ``rstudent``, ``dffits``, Cook's distance ``cook_d``,
    covariance ratio ``cov_r``, τ² and QE without the study (``tau2_del``, ``qe_del``), ``hat`` value,
    ``weight`` (%), ``dfbetas`` (of the intercept) and ``influential``: metafor's flag (|DFFITS| >
    3·sqrt(p/(k-p)), P(chi2_1 <= Cook's d) > 0.5, hat > 3p/k or |DFBETAS| > 1). ``tau2`` and ``qe`` are
    the full model's.

    Example::

        >>> res = influence([0.1, 0.3, 0.2, 0.6, 1.5], [0.01, 0.02, 0.015, 0.05, 0.02], method="DL")
        >>> bool(res.influential[4])
        True
    """

    method: str
    test: str
    tau2: float
    qe: float
    rstudent: FloatArray
    dffits: FloatArray
    cook_d: FloatArray
    cov_r: FloatArray
    tau2_del: FloatArray
    qe_del: FloatArray
    hat: FloatArray
    weight: FloatArray
    dfbetas: FloatArray
    influential: BoolArray

    def _columns(self) -> dict[str, Any]:
        return {
            "rstudent": self.rstudent,
            "dffits": self.dffits,
            "cook_d": self.cook_d,
            "cov_r": self.cov_r,
            "tau2_del": self.tau2_del,
            "qe_del": self.qe_del,
            "hat": self.hat,
            "weight": self.weight,
            "dfbetas": self.dfbetas,
            "influential": self.influential,
        }

    def to_dict(self) -> dict[str, Any]:
        """The full model's τ² and QE plus one list per column."""
        return {"method": self.method, "test": self.test, "tau2": self.tau2, "qe": self.qe} | {
            name: np.asarray(col).tolist() for name, col in self._columns().items()
        }

    def to_frame(self) -> Any:
        """A :class:`pandas.DataFrame` with one row per study."""
        return _frame(self._columns())

    def __str__(self) -> str:
        header = [
            "",
            "rstudent",
            "dffits",
            "cook.d",
            "cov.r",
            "tau2.del",
            "QE.del",
            "hat",
            "weight",
            "dfbs",
            "inf",
        ]
        rows = []
        for i in range(self.rstudent.size):
            values = [float(col[i]) for col in list(self._columns().values())[:-1]]
            rows.append([str(i + 1), *values, "*" if self.influential[i] else ""])
        return "\n" + format_table(header, rows)


def influence(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
) -> InfluenceResult:
    """Influence diagnostics of ``rma(yi, vi, method, test)``, as metafor's ``influence()``.

    Where the fit without a study does not converge, that study's diagnostics are NaN (metafor: NA) and
    it is not flagged influential.

    Example::

        >>> res = influence([0.1, 0.3, 0.2, 0.6, 1.5], [0.01, 0.02, 0.015, 0.05, 0.02])
        >>> res.rstudent.shape
        (5,)
    """
    y, v = _check(yi, vi, sei)
    k = y.size
    full = meta(y, v, method=method, test=test, level=level, control=control)
    dele = _omit_each(y, v, method=method, test=test, level=level, control=control)
    tau2_del = dele.tau2
    beta_del = dele.beta[:, 0]
    vb_del = dele.se[:, 0] ** 2
    w_del = 1.0 / (v[None, :] + tau2_del[:, None])  # row i: weights of all k studies at tau2 without i
    sum_w_del_others = w_del.sum(axis=1) - np.diag(w_del)
    s2w_del = vb_del * sum_w_del_others  # 1 under test="z"; the Knapp-Hartung factor otherwise
    vb_del_all = 1.0 / w_del.sum(axis=1)  # (X' W_del X)^-1 over all k studies

    w = 1.0 / (v + full.tau2)
    hat = w / w.sum()
    weight = 100.0 * hat
    vb_full = full.se**2
    diff = full.estimate - beta_del
    dffits = diff / np.sqrt(s2w_del * hat * (tau2_del + v))
    dfbetas = diff / np.sqrt(s2w_del * vb_del_all)
    cook_d = diff**2 / vb_full
    cov_r = vb_del / vb_full
    resid = y - beta_del
    resid[np.abs(resid) < 100 * np.finfo(float).eps] = 0.0
    rstudent = resid / np.sqrt(v * s2w_del + vb_del + tau2_del * s2w_del)
    p = 1
    with np.errstate(invalid="ignore"):
        influential = (
            (np.abs(dffits) > 3 * math.sqrt(p / (k - p)))
            | (sps.chi2.cdf(cook_d, p) > 0.5)
            | (hat > 3 * p / k)
            | (np.abs(dfbetas) > 1)
        )
    return InfluenceResult(
        method=full.method,
        test=test,
        tau2=full.tau2,
        qe=full.q,
        rstudent=rstudent,
        dffits=dffits,
        cook_d=cook_d,
        cov_r=cov_r,
        tau2_del=tau2_del,
        qe_del=dele.q,
        hat=hat,
        weight=weight,
        dfbetas=dfbetas,
        influential=np.asarray(influential, dtype=bool),
    )
