"""The random-effects model ``meta()`` (metafor's ``rma.uni`` without moderators). SKELETON."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats as sps

from metareview.stats.errors import StatsInputError
from metareview.stats.results import MetaResult


def meta(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray | None = None,
    *,
    sei: Sequence[float] | np.ndarray | None = None,
    method: str = "REML",
    test: str = "z",
    pi: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
) -> MetaResult:
    """Fit an equal/random-effects model (skeleton: DL and EE only; being completed)."""
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi if vi is not None else np.asarray(sei, dtype=float) ** 2, dtype=float)
    if np.any(~(v > 0)):
        raise StatsInputError("vi must be > 0", index=int(np.argmax(~(v > 0))), field="vi")
    k = y.size
    w = 1 / v
    mu = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - mu) ** 2))
    tau2 = 0.0 if method in ("EE", "FE") else max(0.0, (q - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    ws = 1 / (v + tau2)
    est = float(np.sum(ws * y) / ws.sum())
    se = float(1 / math.sqrt(ws.sum()))
    crit = float(sps.norm.ppf(1 - (1 - level / 100) / 2))
    nan = math.nan
    return MetaResult(
        k=k, method=method, test=test, pi_method=pi, level=level, estimate=est, se=se, statistic=est / se,
        pvalue=float(2 * sps.norm.sf(abs(est / se))), ci_lower=est - crit * se, ci_upper=est + crit * se,
        tau2=tau2, se_tau2=nan, tau=math.sqrt(tau2), i2=nan, h2=nan, i2_q=nan, h2_q=nan, q=q, q_df=k - 1,
        q_pvalue=float(sps.chi2.sf(q, k - 1)), tau2_ci_lower=nan, tau2_ci_upper=nan, i2_ci_lower=nan,
        i2_ci_upper=nan, h2_ci_lower=nan, h2_ci_upper=nan, pi_lower=nan, pi_upper=nan, yi=y, vi=v,
        weights=ws / ws.sum() * 100, converged=True, iterations=0,
    )
