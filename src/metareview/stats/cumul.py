"""Cumulative meta-analysis (``cumul``), as metafor's ``cumul.rma.uni``: the model refitted on the first 1, 2,
..., k studies in a given order, with the fit's τ² estimator, test and level."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.errors import StatsInputError
from metareview.stats.meta import meta
from metareview.stats.results import FloatArray, MetaResult, format_table


@dataclass(frozen=True)
class CumulResult:
    """Row i is the fit to the first i + 1 studies of ``order`` (indices into the fit's studies).

    ``tau2`` is 0 for ``EE`` fits (metafor drops the column). ``statistic`` is z, or t under Knapp–Hartung
    (z for the first row, as metafor, since t needs k > 1).
    """

    order: NDArray[np.int64]
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

    def to_dict(self) -> dict[str, Any]:
        return {k: v.tolist() for k, v in self.__dict__.items()}

    def __str__(self) -> str:
        rows = [
            [int(o) + 1, b, s, lo, hi, t, i2]
            for o, b, s, lo, hi, t, i2 in zip(
                self.order,
                self.estimate,
                self.se,
                self.ci_lower,
                self.ci_upper,
                self.tau2,
                self.i2,
                strict=True,
            )
        ]
        return "\n" + format_table(["added", "estimate", "se", "ci.lb", "ci.ub", "tau2", "I2"], rows) + "\n"


def cumul(
    fit: MetaResult,
    order: ArrayLike | None = None,
    *,
    decreasing: bool = False,
    control: Mapping[str, float] | None = None,
) -> CumulResult:
    """Cumulative meta-analysis of a :func:`meta` fit, as ``cumul(res, order = ...)``.

    ``order`` holds one sort key per study, as metafor's ``order`` argument (e.g. the publication years;
    studies are added by increasing key, ties in their original order; ``decreasing=True`` reverses the
    sort); None adds the studies in their given order. ``control`` is passed to every refit.

    Example::

        >>> from metareview.stats import cumul, meta
        >>> res = meta([0.2, 0.3, 0.1], [0.01, 0.02, 0.01], method="DL")
        >>> [round(float(b), 4) for b in cumul(res, order=[2003, 2001, 2002]).estimate]
        [0.3, 0.175, 0.18]
    """
    if not isinstance(fit, MetaResult):
        raise StatsInputError(f"cumul needs a meta() result, not {type(fit).__name__}", field="fit")
    k = fit.k
    if order is None:
        idx = np.arange(k, dtype=np.int64)
    else:
        key = np.asarray(order)
        if key.shape != (k,):
            raise StatsInputError(
                f"order needs one value per study ({k}), got shape {key.shape}", field="order"
            )
        idx = np.argsort(-key if decreasing else key, kind="stable").astype(np.int64)
        if decreasing and not np.issubdtype(key.dtype, np.number):
            raise StatsInputError("decreasing=True needs a numeric order", field="order")
    cols: dict[str, list[float]] = {
        n: [] for n in ("b", "se", "z", "p", "lo", "hi", "q", "qp", "t2", "i2", "h2")
    }
    for i in range(1, k + 1):
        rows = idx[:i]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # k = 1 under knha falls back to z, as metafor
            r = meta(
                fit.yi[rows], fit.vi[rows], method=fit.method, test=fit.test, level=fit.level, control=control
            )
        for name, value in zip(
            cols,
            (
                r.estimate,
                r.se,
                r.statistic,
                r.pvalue,
                r.ci_lower,
                r.ci_upper,
                r.q,
                r.q_pvalue,
                r.tau2,
                r.i2,
                r.h2,
            ),
            strict=True,
        ):
            cols[name].append(float(value))
    a = {n: np.array(v) for n, v in cols.items()}
    return CumulResult(
        order=idx,
        estimate=a["b"],
        se=a["se"],
        statistic=a["z"],
        pvalue=a["p"],
        ci_lower=a["lo"],
        ci_upper=a["hi"],
        q=a["q"],
        q_pvalue=a["qp"],
        tau2=a["t2"],
        i2=a["i2"],
        h2=a["h2"],
    )
