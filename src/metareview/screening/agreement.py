"""Inter-rater agreement: percent agreement, Cohen's kappa (2 raters), Fleiss' kappa (2 or more raters).

Standard errors and confidence intervals (Wald, ``estimate ± z·SE``):

* **Cohen's kappa** — the large-sample (non-null) variance of Fleiss, Cohen & Everitt (1969), "Large sample
  standard errors of kappa and weighted kappa", Psychological Bulletin 72:323–327, eq. (13)::

      var = [ Σ_i p_ii ((1 - pe) - (p_i. + p_.i)(1 - po))²
              + (1 - po)² Σ_{i≠j} p_ij (p_.i + p_j.)²
              - (po·pe - 2·pe + po)² ] / (n (1 - pe)⁴)

* **Fleiss' kappa** — the linearisation variance of Gwet (2014), *Handbook of Inter-Rater Reliability*,
  4th ed., §5.3 (no finite-population correction)::

      kappa_i* = kappa_i - 2 (1 - kappa) (pe_i - pe) / (1 - pe)
      var = Σ_i (kappa_i* - kappa)² / (n (n - 1))

  with ``kappa_i = (pa_i - pe)/(1 - pe)``, ``pa_i = Σ_k r_ik (r_ik - 1) / (r (r - 1))`` and
  ``pe_i = Σ_k π_k r_ik / r``. The z-test of "no agreement beyond chance" uses the null standard error
  of Fleiss, Nee & Landis (1979), Psychological Bulletin 86:974–977.

Example::

    from metareview.screening.agreement import cohen_kappa
    res = cohen_kappa(["in", "in", "out", "out"], ["in", "out", "out", "out"])
    print(res)        # kappa, SE, 95% CI, percent agreement, n
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from metareview.errors import InputError


@dataclass(frozen=True)
class Agreement:
    """Agreement among raters on ``n`` items: the statistic, its SE and Wald CI, and percent agreement."""

    statistic: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    level: float
    percent_agreement: float
    n: int
    raters: int
    z: float | None = None
    p_value: float | None = None
    rater_names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row."""
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        who = f": {' vs '.join(self.rater_names)}" if self.rater_names else ""
        lines = [
            f"{self.statistic} ({self.raters} raters, {self.n} items){who}",
            f"  estimate {self.estimate:.4f}  se {self.se:.4f}  "
            f"{self.level:.0%} CI [{self.ci_lower:.4f}, {self.ci_upper:.4f}]",
            f"  percent agreement {100 * self.percent_agreement:.1f}%",
        ]
        if self.z is not None and self.p_value is not None:
            lines.append(f"  test of no agreement beyond chance: z = {self.z:.3f}, p = {self.p_value:.4g}")
        return "\n".join(lines)


def _wald(est: float, se: float, level: float) -> tuple[float, float]:
    """The Wald interval est ± z·se, kept within kappa's range [-1, 1] (the normal approximation can
    reach past 1 with few items and high agreement; a kappa above 1 is impossible)."""
    if not 0 < level < 1:
        raise InputError("level must lie strictly between 0 and 1", field="level")
    half = float(norm.ppf(0.5 + level / 2)) * se
    return max(est - half, -1.0), min(est + half, 1.0)


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Share of items on which two raters gave the same rating."""
    if len(a) != len(b) or not a:
        raise InputError("two raters need the same, non-zero number of ratings")
    return float(np.mean([x == y for x, y in zip(a, b, strict=True)]))


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable], level: float = 0.95) -> Agreement:
    """Cohen's kappa for two raters who rated the same items (ratings as any hashable labels)."""
    po = percent_agreement(a, b)
    cats = sorted({*a, *b}, key=str)
    pos = {c: i for i, c in enumerate(cats)}
    n = len(a)
    table = np.zeros((len(cats), len(cats)))
    for x, y in zip(a, b, strict=True):
        table[pos[x], pos[y]] += 1
    p = table / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    pe = float(row @ col)
    if pe >= 1:
        raise InputError("kappa is undefined when both raters used one and the same category for every item")
    kappa = (po - pe) / (1 - pe)
    diag = np.diag(p)
    term1 = float(np.sum(diag * ((1 - pe) - (row + col) * (1 - po)) ** 2))
    off = p * (col[:, None] + row[None, :]) ** 2
    term2 = (1 - po) ** 2 * float(off.sum() - np.trace(off))
    term3 = (po * pe - 2 * pe + po) ** 2
    se = float(np.sqrt(max(term1 + term2 - term3, 0.0) / (n * (1 - pe) ** 4)))
    lo, hi = _wald(kappa, se, level)
    return Agreement("Cohen's kappa", kappa, se, lo, hi, level, po, n, 2)


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[int]], level: float = 0.95) -> Agreement:
    """Fleiss' kappa from an items x categories matrix of rating counts (same number of raters per item).

    Use :func:`counts_from_ratings` to build the matrix from one column of ratings per rater.
    """
    r_ik = np.asarray(counts, dtype=float)
    if r_ik.ndim != 2 or r_ik.shape[0] < 2 or np.any(r_ik < 0):
        raise InputError("counts must be an items x categories matrix of non-negative counts (2+ items)")
    r_i = r_ik.sum(axis=1)
    if np.any(r_i != r_i[0]) or r_i[0] < 2:
        raise InputError("every item needs the same number (2 or more) of ratings")
    n, r = r_ik.shape[0], float(r_i[0])
    pi = r_ik.sum(axis=0) / (n * r)
    pe = float(np.sum(pi**2))
    if pe >= 1:
        raise InputError("kappa is undefined when every rating falls in one category")
    pa_i = np.sum(r_ik * (r_ik - 1), axis=1) / (r * (r - 1))
    pa = float(pa_i.mean())
    kappa = (pa - pe) / (1 - pe)
    kappa_i = (pa_i - pe) / (1 - pe)
    pe_i = (r_ik @ pi) / r
    kappa_star = kappa_i - 2 * (1 - kappa) * (pe_i - pe) / (1 - pe)
    se = float(np.sqrt(np.sum((kappa_star - kappa) ** 2) / (n * (n - 1))))
    lo, hi = _wald(kappa, se, level)
    # Fleiss, Nee & Landis (1979): SE of kappa under H0 (no agreement beyond chance)
    q = 1 - pi
    se0 = float(
        np.sqrt(2 / (n * r * (r - 1)))
        * np.sqrt(np.sum(pi * q) ** 2 - np.sum(pi * q * (q - pi)))
        / np.sum(pi * q)
    )
    z = kappa / se0
    return Agreement(
        "Fleiss' kappa", kappa, se, lo, hi, level, pa, n, int(r), z=z, p_value=float(2 * norm.sf(abs(z)))
    )


def counts_from_ratings(ratings: Sequence[Sequence[Hashable]]) -> np.ndarray:
    """Items x categories count matrix from ``ratings[item] = [rating of rater 1, rating of rater 2, …]``."""
    cats = sorted({x for item in ratings for x in item}, key=str)
    pos = {c: i for i, c in enumerate(cats)}
    out = np.zeros((len(ratings), len(cats)), dtype=int)
    for i, item in enumerate(ratings):
        for x in item:
            out[i, pos[x]] += 1
    return out
