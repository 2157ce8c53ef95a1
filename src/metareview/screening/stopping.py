"""When to stop screening: a statistical stopping rule and simple heuristics.

**Statistical rule** (Callaghan & Müller-Hansen 2020, "Statistical stopping criteria for automated screening
in systematic reviews", Systematic Reviews 9:273, doi 10.1186/s13643-020-01521-4). Null hypothesis H0: the
recall reached so far is below the target ``tau``. Suppose the records screened from position ``i`` on were a
simple random sample of size ``n`` from the ``N_i = N - i`` records that were still unscreened at ``i``, and
``k`` of them were relevant, while ``r_i`` relevant records had been found before ``i``. With ``r = r_i + k``
relevant found in all, H0 requires at least ``K = floor(r / tau) - r_i + 1`` relevant records among those
``N_i``; the probability of seeing ``k`` or fewer in the sample is then at most the hypergeometric
``P(X <= k)``, ``X ~ Hypergeometric(N_i, K, n)``, which is the p-value. We stop when ``p < 1 - confidence``.
As in the paper, every start ``i`` is tried and the smallest p is used. Treating prioritised records as a
random sample is conservative: the records screened from ``i`` on were ranked above every record still
unscreened, so they hold at least as many relevant records as a random draw from the ``N_i`` would, which
makes ``k`` larger and p larger. The guarantee is exact when the last ``n`` records really were drawn at
random (:func:`random_sample_size` says how many to draw).

**Heuristics**: stop after ``n`` consecutive irrelevant records (no guarantee; reported as such).

Other published methods are in :mod:`metareview.screening.stopping_methods`; the protocol chooses one by
name (:mod:`metareview.screening.stopping_rules`). :class:`StoppingResult` carries the rule, its target
recall and confidence (``claim``), what the verdict rests on (``basis``) and what the rule promises
(``guarantee``); ``headline`` puts them on one line.

Example::

    from metareview.screening.stopping import hypergeometric_test
    res = hypergeometric_test([1, 1, 0, 1] + [0] * 300, n_total=1000, target_recall=0.95)
    res.stop, round(res.p_value, 4), res.recall_lower_bound
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from metareview.errors import InputError


@dataclass(frozen=True)
class StoppingResult:
    """The verdict of a stopping rule and what it rests on."""

    rule: str
    stop: bool
    screened: int
    n_total: int
    relevant_found: int
    p_value: float | None
    target_recall: float | None
    confidence: float | None
    recall_lower_bound: float | None
    basis: str
    guarantee: str = ""  # what the rule promises, in words (empty: no statistical guarantee stated)
    sample_size: int = 0  # records screened in a random sample the rule needs (they count as screened)
    estimated_relevant: float | None = None  # the rule's estimate (or upper bound) of relevant records

    @property
    def claim(self) -> str:
        """What the verdict aims at: target recall and confidence, or that the rule is a heuristic."""
        if self.target_recall is None:
            return "heuristic: no recall target"
        aim = f"target recall {self.target_recall:.0%}"
        return aim + (f", confidence {self.confidence:.0%}" if self.confidence is not None else "")

    @property
    def headline(self) -> str:
        """One line: the rule, what it aims at, its verdict and what the verdict rests on."""
        return f"{self.rule} ({self.claim}): {'STOP' if self.stop else 'continue'}; {self.basis}"

    def to_dict(self) -> dict[str, object]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row."""
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        verdict = "STOP" if self.stop else "continue"
        lines = [
            f"Stopping rule: {self.rule} ({self.claim}) -> {verdict}",
            f"  screened {self.screened} of {self.n_total}; relevant found {self.relevant_found}",
        ]
        if self.p_value is not None:
            lines.append(
                f"  H0 recall < {self.target_recall:.0%}: p = {self.p_value:.4g} "
                f"(stop when p < {1 - (self.confidence or 0):.2g})"
            )
        if self.recall_lower_bound is not None:
            lines.append(f"  recall >= {self.recall_lower_bound:.0%} with {self.confidence:.0%} confidence")
        lines.append(f"  basis: {self.basis}")
        if self.guarantee:
            lines.append(f"  guarantee: {self.guarantee}")
        return "\n".join(lines)


def _check(labels: Sequence[int] | np.ndarray, n_total: int) -> np.ndarray:
    y = np.asarray(labels, dtype=int)
    if y.ndim != 1 or np.any((y != 0) & (y != 1)):
        raise InputError("screening labels must be a sequence of 0 (irrelevant) and 1 (relevant)")
    if n_total < y.size:
        raise InputError(f"n_total ({n_total}) is smaller than the number screened ({y.size})")
    return y


def _min_p_values(y: np.ndarray, n_total: int, tau: float) -> tuple[float, int]:
    """The smallest p-value over every start ``i`` of the 'random sample', and that start."""
    m = y.size
    before = np.concatenate([[0], np.cumsum(y)])[:-1]  # relevant found before position i
    r = int(y.sum())
    starts = np.arange(m)
    urn = n_total - starts  # records unscreened at i
    drawn = m - starts
    k = r - before
    needed = np.floor(r / tau).astype(int) - before + 1  # relevant left in the urn under H0
    p = np.where(needed > urn, 0.0, hypergeom.cdf(k, urn, np.minimum(needed, urn), drawn))
    best = int(np.argmin(p))
    return float(p[best]), best


def stop_p_value(labels: Sequence[int] | np.ndarray, n_total: int, target_recall: float = 0.95) -> float:
    """Only the p-value of :func:`hypergeometric_test` (cheaper: no recall bound is searched)."""
    y = _check(labels, n_total)
    return 1.0 if y.sum() == 0 else _min_p_values(y, n_total, target_recall)[0]


def hypergeometric_test(
    labels: Sequence[int] | np.ndarray,
    n_total: int,
    target_recall: float = 0.95,
    confidence: float = 0.95,
) -> StoppingResult:
    """Callaghan & Müller-Hansen (2020) test of H0 "recall < target" on labels in screening order.

    ``labels`` are the decisions so far (1 relevant, 0 irrelevant) in the order they were made; ``n_total``
    is the number of records in the corpus. Also reports the highest recall that can be claimed at
    ``confidence`` (searched on a 1% grid).
    """
    if not 0 < target_recall < 1 or not 0 < confidence < 1:
        raise InputError("target_recall and confidence must lie strictly between 0 and 1")
    y = _check(labels, n_total)
    alpha = 1 - confidence
    if y.size == 0 or y.sum() == 0:
        p, bound = 1.0, None
        basis = "no relevant record found yet: nothing to estimate recall from"
    else:
        p, start = _min_p_values(y, n_total, target_recall)
        claimable = [t for t in np.arange(0.50, 1.0, 0.01) if _min_p_values(y, n_total, t)[0] < alpha]
        bound = round(float(max(claimable)), 2) if claimable else None
        basis = (
            f"hypergeometric test: the last {y.size - start} screened records taken as a random sample of "
            f"the {n_total - start} then unscreened, {int(y[start:].sum())} relevant among them"
        )
    return StoppingResult(
        rule="hypergeometric test (Callaghan & Müller-Hansen 2020)",
        stop=bool(p < alpha),
        screened=int(y.size),
        n_total=int(n_total),
        relevant_found=int(y.sum()),
        p_value=p,
        target_recall=target_recall,
        confidence=confidence,
        recall_lower_bound=bound,
        basis=basis,
        guarantee=(
            f"P(stop while recall < {target_recall:.0%}) <= {alpha:.2g} when the records screened last are "
            "a random sample of those then unscreened; conservative for prioritised screening"
        ),
    )


def consecutive_irrelevant(labels: Sequence[int] | np.ndarray, n_total: int, n: int = 100) -> StoppingResult:
    """Heuristic: stop after ``n`` irrelevant records in a row (no statistical guarantee)."""
    y = _check(labels, n_total)
    last_hit = int(np.flatnonzero(y)[-1]) if y.any() else -1
    run = y.size - 1 - last_hit
    return StoppingResult(
        rule=f"{n} consecutive irrelevant",
        stop=run >= n or y.size == n_total,
        screened=int(y.size),
        n_total=int(n_total),
        relevant_found=int(y.sum()),
        p_value=None,
        target_recall=None,
        confidence=None,
        recall_lower_bound=None,
        basis=f"{run} irrelevant records since the last relevant one (heuristic; recall not estimated)",
    )


def random_sample_size(
    n_remaining: int, relevant_found: int, target_recall: float = 0.95, confidence: float = 0.95
) -> int:
    """How many of the ``n_remaining`` records to screen at random so that, if none is relevant,
    H0 "recall < target" is rejected at ``confidence`` (the smallest such n; ``n_remaining`` if none)."""
    needed = int(np.floor(relevant_found / target_recall)) - relevant_found + 1
    if needed > n_remaining:
        return 0
    n = np.arange(1, n_remaining + 1)
    ok = np.flatnonzero(hypergeom.cdf(0, n_remaining, needed, n) < 1 - confidence)
    return int(n[ok[0]]) if ok.size else n_remaining
