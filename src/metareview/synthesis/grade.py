"""An algorithmic GRADE-like rating of a meta-analytic finding, as metaumbrella's ``criteria = "GRADE"``.

Not a substitute for a GRADE judgement (it cannot weigh indirectness or context). Every finding starts
at *high* and is downgraded, never below *very low*:

- **risk of bias**: less than 75% of participants in studies at low risk of bias, −1; less than 50%, −2;
  when no study's risk of bias was assessed the domain is reported as *not assessed* and not downgraded
  (``rob_missing="downgrade"`` counts it as < 50%, −2, the earlier convention);
- **inconsistency**: I² ≥ 50% (or unknown), −1;
- **imprecision**: fewer participants than give 80% power to detect SMD = 0.2 (two-sided t test at 0.05
  with the finding's cases and controls), −1; not even for SMD = 0.5, −2;
- **publication bias**: Egger p < 0.10 (or unknown), −1.

metaumbrella names the levels "High", "Moderate", "Weak", "Very weak"; GRADE's names are used here::

    >>> grade_rating(i2=30, n_cases=2000, n_controls=2000, egger_p=0.4, rob_low_pct=90).level
    'high'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pandas as pd
from scipy import stats

from metareview.synthesis.credibility import CredibilityAssessment

LEVELS = ("very low", "low", "moderate", "high")


@dataclass(frozen=True)
class GradeRating:
    """The level and the downgrades that led to it."""

    level: str
    risk_of_bias: int
    inconsistency: int
    imprecision: int
    publication_bias: int
    power_smd_02: float
    power_smd_05: float
    name: str = ""
    risk_of_bias_assessed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        names = ("risk_of_bias", "inconsistency", "imprecision", "publication_bias")
        down = {k: getattr(self, k) for k in names}
        parts = [f"{k.replace('_', ' ')} -{v}" for k, v in down.items() if v]
        if not self.risk_of_bias_assessed:
            parts.append("risk of bias not assessed")
        why = ", ".join(parts) or "no downgrade"
        return f"{self.name + ': ' if self.name else ''}GRADE (algorithmic) {self.level} ({why})"


def power_smd(n_cases: float, n_controls: float, smd: float, alpha: float = 0.05) -> float:
    """Power of a two-sided two-sample t test to detect ``smd`` with these group sizes (noncentral t).

    >>> round(power_smd(394, 394, 0.2), 3)
    0.801
    """
    if not (n_cases > 0 and n_controls > 0) or n_cases + n_controls <= 2:
        return math.nan
    df = n_cases + n_controls - 2
    ncp = smd / math.sqrt(1 / n_cases + 1 / n_controls)
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(min(1.0, stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp)))


def grade_rating(
    *,
    i2: float | None,
    n_cases: float,
    n_controls: float,
    egger_p: float | None,
    rob_low_pct: float | None = None,
    name: str = "",
    rob_missing: Literal["not assessed", "downgrade"] = "not assessed",
) -> GradeRating:
    """Rate one finding from its I² (%), group sizes, Egger p and % of participants at low risk of bias
    (``None``: not assessed; see ``rob_missing``)."""
    if rob_missing not in ("not assessed", "downgrade"):
        raise ValueError("rob_missing must be 'not assessed' or 'downgrade'")
    assessed = not _missing(rob_low_pct)
    if not assessed:
        rob = 2 if rob_missing == "downgrade" else 0
    else:
        rob = 2 if rob_low_pct < 50 else (1 if rob_low_pct < 75 else 0)  # type: ignore[operator]
    inconsistency = 1 if _missing(i2) or i2 >= 50 else 0  # type: ignore[operator]
    p02 = power_smd(n_cases, n_controls, 0.2)
    p05 = power_smd(n_cases, n_controls, 0.5)
    imprecision = 0 if p02 >= 0.8 else (1 if p05 >= 0.8 else 2)
    pub = 1 if _missing(egger_p) or egger_p < 0.1 else 0  # type: ignore[operator]
    score = max(0, 3 - rob - inconsistency - imprecision - pub)
    return GradeRating(LEVELS[score], rob, inconsistency, imprecision, pub, p02, p05, name, assessed)


def grade_assessment(a: CredibilityAssessment, rob_low_pct: float | None = None, *,
                     rob_missing: Literal["not assessed", "downgrade"] = "not assessed") -> GradeRating:
    """GRADE-like rating of an assessed finding (uses its I², cases, controls and Egger p)."""
    return grade_rating(i2=a.i2, n_cases=a.n_cases, n_controls=a.n_controls, egger_p=a.egger_p,
                        rob_low_pct=rob_low_pct, name=a.name, rob_missing=rob_missing)


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))
