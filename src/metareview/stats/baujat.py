"""Baujat statistics (``baujat``), the x and y values of metafor's ``baujat()`` plot for ``rma.uni`` fits.

* x: the squared Pearson residual (yᵢ − xᵢ'b)² / (τ² + vᵢ) — for an equal-effects fit, study i's
  contribution to Q.
* y: the influence on the fitted value, (xᵢ'b₍₋ᵢ₎ − xᵢ'b)² / (xᵢ' V₍₋ᵢ₎ xᵢ), with b₍₋ᵢ₎ and its covariance
  V₍₋ᵢ₎ from the model refitted without study i (same estimator and test; τ² re-estimated). NaN where that
  refit is impossible (too few studies, or a moderator that study alone makes estimable).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from metareview.stats.errors import StatsInputError
from metareview.stats.meta import meta
from metareview.stats.metareg import meta_reg
from metareview.stats.results import FloatArray, MetaRegResult, MetaResult


@dataclass(frozen=True)
class BaujatResult:
    """``x`` (squared Pearson residual / contribution to Q) and ``y`` (influence), one value per study."""

    x: FloatArray
    y: FloatArray

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x.tolist(), "y": self.y.tolist()}


def baujat(fit: MetaResult | MetaRegResult, *, control: Mapping[str, float] | None = None) -> BaujatResult:
    """Baujat statistics of a :func:`meta` or :func:`meta_reg` fit, as ``baujat(res)`` plots them.

    ``control`` is passed to every leave-one-out refit (give the one the fit used).

    Example::

        >>> from metareview.stats import baujat, meta
        >>> b = baujat(meta([0.2, 0.3, 0.1, 0.6], [0.01, 0.02, 0.01, 0.02], method="EE"))
        >>> int(b.x.argmax()), int(b.y.argmax())
        (3, 3)
    """
    if isinstance(fit, MetaResult):
        x = np.ones((fit.k, 1))
        beta = np.array([fit.estimate])
    elif isinstance(fit, MetaRegResult):
        x, beta = fit.X, fit.estimates
    else:
        raise StatsInputError(
            f"baujat needs a meta() or meta_reg() result, not {type(fit).__name__}", field="fit"
        )
    k = fit.k
    if k == 1:
        raise StatsInputError("baujat needs k >= 2", field="fit")
    pred = x @ beta
    xs = (fit.yi - pred) ** 2 / (fit.tau2 + fit.vi)
    ys = np.full(k, math.nan)
    keep = np.ones(k, dtype=bool)
    for i in range(k):
        keep[:] = True
        keep[i] = False
        xi = x[keep]
        if np.linalg.matrix_rank(xi) < x.shape[1]:
            continue  # metafor skips refits with inestimable coefficients
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                if isinstance(fit, MetaResult):
                    r = meta(fit.yi[keep], fit.vi[keep], method=fit.method, test=fit.test, level=fit.level,
                        control=control,
                    )  # fmt: skip
                    b, vb = np.array([r.estimate]), np.array([[r.se**2]])
                else:
                    rr = meta_reg(
                        fit.yi[keep], fit.vi[keep], xi, intercept=False, method=fit.method, test=fit.test,
                        level=fit.level, control=control,
                    )  # fmt: skip
                    b, vb = rr.estimates, rr.vcov
        except StatsInputError:
            continue
        ys[i] = float((x[i] @ b - pred[i]) ** 2 / (x[i] @ vb @ x[i]))
    return BaujatResult(x=xs, y=ys)
