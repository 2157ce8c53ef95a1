"""Fail-safe N (``fsn``): Rosenthal (Stouffer), Orwin and Rosenberg, as metafor's ``fsn()``.

* Rosenthal (1979): the number of studies averaging z = 0 that would bring Stouffer's one-sided combined
  z = |Σ zᵢ| / √k (zᵢ = yᵢ/√vᵢ) down to the one-sided ``alpha`` critical value: max(0, k (z/z_α)² − k).
* Orwin (1983): the number of studies with effect 0 that would bring the (unweighted, or ``weighted=True``
  inverse-variance) mean effect down to ``target`` (default: half the mean): max(0, k (mean − target)/target).
* Rosenberg (2005): the number of studies with effect 0 and the average weight that would make the two-sided
  equal-effects z test non-significant at ``alpha``: max(0, k ((Σ wᵢyᵢ/z_{α/2})² − Σ wᵢ) / Σ wᵢ).

``fsnum`` is rounded up to a whole number of studies, as metafor stores it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from metareview.stats.errors import StatsInputError, check_effects

TYPES = ("Rosenthal", "Orwin", "Rosenberg")


@dataclass(frozen=True)
class FsnResult:
    """metafor's ``fsn`` object: ``fsnum``, ``pvalue`` (NaN for Orwin), ``meanes`` (Orwin/Rosenberg),
    ``target`` (Orwin)."""

    type: str
    fsnum: float  # a whole number (inf for Orwin with target 0)
    alpha: float
    pvalue: float
    meanes: float
    target: float
    k: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __str__(self) -> str:
        return f"\nFail-safe N Calculation Using the {self.type} Approach\n\nFail-safe N: {self.fsnum:g}\n"


def fsn(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    type: str = "Rosenthal",
    alpha: float = 0.05,
    target: float | None = None,
    weighted: bool = False,
) -> FsnResult:
    """Fail-safe N, as ``fsn(yi, vi, type=, alpha=, target=, weighted=)``.

    ``vi``/``sei`` are needed except for unweighted Orwin (then ``vi`` may be omitted).

    Example::

        >>> from metareview.stats import fsn
        >>> fsn([0.3, 0.5, 0.2, 0.4], [0.01, 0.02, 0.015, 0.02]).fsnum
        41
    """
    if type not in TYPES:
        raise StatsInputError(f"type must be one of {', '.join(TYPES)}, not {type!r}", field="type")
    if not 0 < alpha < 1:
        raise StatsInputError(f"alpha must be in (0, 1), not {alpha}", field="alpha")
    if type == "Orwin" and not weighted and vi is None and sei is None:
        y = np.asarray(yi, dtype=float).ravel()
        v = np.ones_like(y)
        if not np.all(np.isfinite(y)) or y.size == 0:
            raise StatsInputError("yi must be finite and non-empty", field="yi")
    else:
        y, v = check_effects(yi, vi, sei)
    k = y.size
    nan = math.nan
    if type == "Rosenthal":
        z = abs(float(np.sum(y / np.sqrt(v)))) / math.sqrt(k)
        num = math.ceil(max(0.0, k * (z / float(sps.norm.isf(alpha))) ** 2 - k))
        return FsnResult(type, num, alpha, float(sps.norm.sf(z)), nan, nan, k)
    if type == "Orwin":
        mean = float(np.sum(y / v) / np.sum(1 / v)) if weighted else float(np.mean(y))
        tgt = mean / 2 if target is None else float(target)
        if tgt == 0:
            return FsnResult(type, math.inf, alpha, nan, mean, tgt, k)
        if np.sign(tgt) != np.sign(mean):
            tgt = -tgt
        # k (mean - target) / target, written k (mean / target - 1): exactly k for the default target mean / 2
        # (metafor's form can land one ulp above k and round up to k + 1, as metafor's own does at times)
        return FsnResult(type, math.ceil(max(0.0, k * (mean / tgt - 1))), alpha, nan, mean, tgt, k)
    w = 1 / v
    mean = float(np.sum(w * y) / np.sum(w))
    zval = mean / math.sqrt(1 / float(np.sum(w)))
    wp = (float(np.sum(w * y)) / float(sps.norm.isf(alpha / 2))) ** 2 - float(np.sum(w))
    num = math.ceil(max(0.0, k * wp / float(np.sum(w))))
    return FsnResult(type, num, alpha, float(2 * sps.norm.sf(abs(zval))), mean, nan, k)
