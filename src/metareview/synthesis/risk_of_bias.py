"""Risk of bias of primary studies into a finding's synthesis: GRADE's risk-of-bias input and a sensitivity
analysis excluding studies at high risk of bias.

**GRADE input.** GRADE rates down for risk of bias when the evidence of a finding comes largely from studies
at risk of bias, judged across studies with their contribution to the estimate in mind (GRADE Handbook,
Schünemann et al. 2013, section 5.2.1 "Study limitations (risk of bias)"; Guyatt et al. 2011, J Clin
Epidemiol 64:407). Here the contribution is the study's weight (its meta-analytic weight, or its sample
size; equal weights when none is given), and :func:`rob_low_pct` is the percentage of that weight in
studies whose overall judgement is *low* (RoB 2 "low", RoB 1 summary "low"). It is the ``rob_low_pct``
argument of :func:`metareview.synthesis.grade.grade_rating`, whose documented rule applies: less than 75%
of the weight at low risk → serious (−1), less than 50% → very serious (−2).

    >>> rob_low_pct(["low", "low", "some concerns", "high"])
    50.0
    >>> rob_low_pct(["low", "high"], weights=[3, 1])
    75.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from metareview.errors import InputError
from metareview.stats import meta
from metareview.stats.results import MetaResult

_ALLOWED = ("low", "some concerns", "unclear", "high")


def _overall(a: Any) -> str:
    j = a if isinstance(a, str) else getattr(a, "overall", None)
    text = str(j).strip().lower()
    if text not in _ALLOWED:
        raise InputError(f"risk-of-bias judgement {j!r} not allowed; allowed: {', '.join(_ALLOWED)}",
                         field="risk_of_bias")
    return text


def _weights(n: int, weights: Sequence[float] | None, assessments: Sequence[Any]) -> np.ndarray:
    if weights is None:
        ws = [getattr(a, "weight", None) for a in assessments]
        weights = [1.0] * n if any(w is None for w in ws) else [float(w) for w in ws]  # type: ignore[arg-type]
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError("weights must be one finite number ≥ 0 per study, not all 0", field="weight")
    return w


def rob_shares(assessments: Sequence[Any], weights: Sequence[float] | None = None) -> dict[str, float]:
    """Percentage of weight per overall judgement. ``assessments``: RoB 2 / RoB 1 results (their
    ``overall`` and ``weight``) or judgement strings; ``weights`` overrides the assessments' weights."""
    if not assessments:
        raise InputError("no risk-of-bias assessments", field="risk_of_bias")
    js = [_overall(a) for a in assessments]
    w = _weights(len(js), weights, assessments)
    total = w.sum()
    return {j: float(100 * w[[x == j for x in js]].sum() / total) for j in _ALLOWED if j in js}


def rob_low_pct(assessments: Sequence[Any], weights: Sequence[float] | None = None) -> float:
    """Percentage of weight in studies at low risk of bias: GRADE's ``rob_low_pct`` input."""
    return rob_shares(assessments, weights).get("low", 0.0)


@dataclass(frozen=True)
class RobSensitivity:
    """The fit on all studies and on the studies not at high risk of bias."""

    all_studies: MetaResult
    excluding_high: MetaResult | None
    excluded: tuple[int, ...]


def sensitivity_excluding_high(yi: Sequence[float], vi: Sequence[float], assessments: Sequence[Any],
                               **meta_kwargs: Any) -> RobSensitivity:
    """Re-fit :func:`metareview.stats.meta` without the studies whose overall judgement is *high*
    (``excluding_high`` is ``None`` when no study remains). ``assessments`` align with ``yi``/``vi``."""
    if not (len(yi) == len(vi) == len(assessments)):
        raise InputError(f"{len(yi)} effects, {len(vi)} variances and {len(assessments)} assessments",
                         field="risk_of_bias")
    js = [_overall(a) for a in assessments]
    keep = [i for i, j in enumerate(js) if j != "high"]
    full = meta(yi, vi, **meta_kwargs)
    sub = meta([yi[i] for i in keep], [vi[i] for i in keep], **meta_kwargs) if keep else None
    return RobSensitivity(full, sub, tuple(i for i, j in enumerate(js) if j == "high"))
