"""An algorithmic GRADE-like rating of a meta-analytic finding, as metaumbrella 1.1.0's
``add.evidence(criteria = "GRADE")`` computes it (its manual, ``?add.evidence``, and R/functions_evidence.R).

Not a substitute for a GRADE judgement. Every finding starts at *high*; the downgrades add up (0 high,
1 moderate, 2 low, 3 or more very low; metaumbrella names them High, Moderate, Weak, Very weak):

- **risk of bias**: the % of low-risk studies weighted by their random-effects weight: ≥ 75% none,
  ≥ 50% −1, else −2; not reported: assumed high risk, −2 (``rob_missing="not assessed"`` does not
  downgrade and says so);
- **inconsistency** (heterogeneity), from the 95% CI against the 95% PI with the equivalence range
  (OR/RR 0.80-1.25, g −0.10-0.10; CINeMA's rules): −2 when the CI excludes the null (or the range) but the
  PI reaches outside the range on the other side, or the CI and PI bounds lie on both sides outside it;
  −1 for a smaller discrepancy; when no PI is available: I² ≥ 50% (−2) or ≥ 30% (−1) with ≥ 10% of the
  studies significant in the opposite direction;
- **indirectness**: given per factor (``"no"``, ``"serious"`` −1, ``"very serious"`` −2); not reported:
  −2 (metaumbrella's assumption; ``indirectness_missing="not assessed"`` does not downgrade and says so);
- **imprecision**: −2 when the CI spans both the null and a large effect (g 0.8 / OR 5) and fewer than 394
  cases or controls (80% power for g = 0.2), or fewer than 64 (80% power for g = 0.5); −1 for one of the
  first two;
- **publication bias**: −1 when Egger p ≤ 0.10, the excess-significance p ≤ 0.10, or fewer than 50% of
  the participants in studies at low risk of selective reporting (−1 when none of the three is known);
- **small k**: fewer than 5 studies, −1 (such a finding is moderate at best).

Missing inputs: metaumbrella assumes the worst (``rob_missing`` / ``indirectness_missing`` default to
``"downgrade"`` under its rules), which is what ``metareview credibility --grade`` and
:func:`~metareview.synthesis.evidence.add_evidence` reproduce. A review grading its own findings (the report)
passes ``"not assessed"`` for both: a domain with no input is then not downgraded, the rating names it in
:attr:`GradeRating.not_assessed` and is :attr:`GradeRating.provisional`.

``rules="four-domain"`` is this package's earlier simplification (risk of bias by the participants' share,
I² ≥ 50%, power for SMD 0.2/0.5, Egger p < 0.10)::

    >>> grade_rating(i2=30, n_cases=2000, n_controls=2000, egger_p=0.4, rob_low_pct=90,
    ...              rules="four-domain").level
    'high'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pandas as pd
from scipy import stats

from metareview.synthesis.credibility import RATIO_MEASURES, SMD_FAMILY, CredibilityAssessment

LEVELS = ("very low", "low", "moderate", "high")
#: the domains of metaumbrella's GRADE, in its order (each a field of :class:`GradeRating`: levels down)
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "small_k")
METAUMBRELLA_LEVELS = {"high": "High", "moderate": "Moderate", "low": "Weak", "very low": "Very weak"}
EQ_RANGE_OR = (0.80, 1.25)
EQ_RANGE_G = (-0.10, 0.10)


@dataclass(frozen=True)
class GradeRating:
    """The level and the downgrades that led to it (``inconsistency`` is metaumbrella's heterogeneity)."""

    level: str
    risk_of_bias: int
    inconsistency: int
    imprecision: int
    publication_bias: int
    power_smd_02: float
    power_smd_05: float
    name: str = ""
    risk_of_bias_assessed: bool = True
    indirectness: int = 0
    small_k: int = 0
    rules: str = "metaumbrella"
    indirectness_assessed: bool = True
    inconsistency_basis: str = ""  # "CI vs PI" or "I2 and contradicting studies"

    @property
    def label(self) -> str:
        """metaumbrella's name of the level (High, Moderate, Weak, Very weak)."""
        return METAUMBRELLA_LEVELS[self.level]

    @property
    def not_assessed(self) -> tuple[str, ...]:
        """The domains that had no input and were not downgraded for (``"risk_of_bias"``,
        ``"indirectness"``): the rating is provisional on them."""
        out = []
        if not self.risk_of_bias_assessed and not self.risk_of_bias:
            out.append("risk_of_bias")
        if self.rules == "metaumbrella" and not self.indirectness_assessed and not self.indirectness:
            out.append("indirectness")
        return tuple(out)

    @property
    def provisional(self) -> bool:
        """True when some domain was not assessed (and so not downgraded for)."""
        return bool(self.not_assessed)

    @property
    def downgrades(self) -> int:
        return (self.risk_of_bias + self.inconsistency + self.imprecision + self.publication_bias
                + self.indirectness + self.small_k)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"label": self.label}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        down = {k: getattr(self, k) for k in DOMAINS}
        parts = [f"{k.replace('_', ' ')} -{v}" for k, v in down.items() if v]
        if not self.risk_of_bias_assessed:
            parts.append("risk of bias not assessed" if self.rules == "four-domain" or not self.risk_of_bias
                         else "risk of bias not reported (assumed high)")
        if self.rules == "metaumbrella" and not self.indirectness_assessed:
            parts.append("indirectness not reported (assumed very serious)" if self.indirectness
                         else "indirectness not assessed")
        why = ", ".join(parts) or "no downgrade"
        who = f"{self.name}: " if self.name else ""
        label = f" [{self.label}]" if self.rules == "metaumbrella" else ""
        return f"{who}GRADE (algorithmic, {self.rules}) {self.level}{label} ({why})"


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
    rob_missing: Literal["not assessed", "downgrade"] | None = None,
    rules: Literal["metaumbrella", "four-domain"] = "metaumbrella",
    measure: str = "SMD",
    ci: tuple[float, float] | None = None,
    pi: tuple[float, float] | None = None,
    k: int | None = None,
    esb_p: float | None = None,
    report_rob_pct: float | None = None,
    indirectness: str | None = None,
    perc_contradict: float | None = None,
    eq_range_or: tuple[float, float] = EQ_RANGE_OR,
    eq_range_g: tuple[float, float] = EQ_RANGE_G,
    indirectness_missing: Literal["not assessed", "downgrade"] | None = None,
) -> GradeRating:
    """Rate one finding.

    ``i2`` in %, group sizes, Egger p, ``rob_low_pct`` (% low risk; ``None``: not reported). With
    ``rules="metaumbrella"`` also: ``measure`` (a ratio or an SMD-type measure), ``ci``/``pi`` on the
    natural scale (OR, not log OR; g), ``k``, ``esb_p``, ``report_rob_pct``, ``indirectness``
    (``"no"``/``"serious"``/``"very serious"``; None: not reported), ``perc_contradict`` (share 0-1),
    the equivalence ranges. ``rob_missing`` defaults to the rules' own choice (metaumbrella: downgrade;
    four-domain: not assessed); ``indirectness_missing`` (metaumbrella's rules only) defaults to
    ``"downgrade"`` (metaumbrella: not reported is very serious, −2), ``"not assessed"`` does not downgrade.
    """
    if rules not in ("metaumbrella", "four-domain"):
        raise ValueError("rules must be 'metaumbrella' or 'four-domain'")
    if rob_missing not in (None, "not assessed", "downgrade"):
        raise ValueError("rob_missing must be 'not assessed' or 'downgrade'")
    if indirectness_missing not in (None, "not assessed", "downgrade"):
        raise ValueError("indirectness_missing must be 'not assessed' or 'downgrade'")
    missing_rule = rob_missing or ("downgrade" if rules == "metaumbrella" else "not assessed")
    assessed = not _missing(rob_low_pct)
    p02 = power_smd(n_cases, n_controls, 0.2)
    p05 = power_smd(n_cases, n_controls, 0.5)
    if rules == "four-domain":
        rob = (2 if missing_rule == "downgrade" else 0) if not assessed else \
            (2 if rob_low_pct < 50 else (1 if rob_low_pct < 75 else 0))  # type: ignore[operator]
        inconsistency = 1 if _missing(i2) or i2 >= 50 else 0  # type: ignore[operator]
        imprecision = 0 if p02 >= 0.8 else (1 if p05 >= 0.8 else 2)
        pub = 1 if _missing(egger_p) or egger_p < 0.1 else 0  # type: ignore[operator]
        score = max(0, 3 - rob - inconsistency - imprecision - pub)
        return GradeRating(LEVELS[score], rob, inconsistency, imprecision, pub, p02, p05, name, assessed,
                           rules=rules, inconsistency_basis="I2")
    # --- metaumbrella 1.1.0 ------------------------------------------------------------------------
    ratio = measure.upper() in RATIO_MEASURES
    if not ratio and measure.upper() not in SMD_FAMILY | {""}:
        raise ValueError(f"GRADE needs a ratio or an SMD-type measure, not {measure!r}")
    if not assessed:
        rob = 2 if missing_rule == "downgrade" else 0
    else:
        rob = 0 if rob_low_pct >= 75 else (1 if rob_low_pct >= 50 else 2)  # type: ignore[operator]
    lo_eq, hi_eq = eq_range_or if ratio else eq_range_g
    null = 1.0 if ratio else 0.0
    het, basis = _heterogeneity(ci, pi, null, lo_eq, hi_eq)
    if het is None:
        basis = "I2 and contradicting studies"
        contra = 0.0 if perc_contradict is None or math.isnan(perc_contradict) else float(perc_contradict)
        if i2 is None or math.isnan(i2):
            het = 2 if contra >= 0.10 else 0
        else:
            het = 2 if i2 >= 50 and contra >= 0.10 else (1 if i2 >= 30 and contra >= 0.10 else 0)
    inconsistency = het
    ind_assessed = indirectness is not None
    if ind_assessed:
        ind = {"no": 0, "no indirectness": 0, "serious": 1, "very serious": 2}.get(
            str(indirectness).lower(), 2)
    else:  # metaumbrella: not reported is very serious (-2); "not assessed": no downgrade, said
        ind = 0 if indirectness_missing == "not assessed" else 2
    if ci is None or any(_missing(x) for x in ci):
        cross = False
    else:
        lo, hi = ci
        cross = bool((lo <= 1 and hi >= 5) or (lo <= 0.2 and hi >= 1)) if ratio else \
            bool((lo <= 0 and hi >= 0.8) or (lo <= -0.8 and hi >= 0))
    small_fail = not (n_cases >= 394 and n_controls >= 394)
    large_fail = not (n_cases >= 64 and n_controls >= 64)
    imprecision = 2 if (cross and small_fail) or large_fail else (1 if cross or small_fail else 0)
    known = [x for x in (egger_p, esb_p, report_rob_pct) if not _missing(x)]
    if not known:
        pub = 1
    else:
        pub = int((not _missing(egger_p) and egger_p <= 0.10)  # type: ignore[operator]
                  or (not _missing(esb_p) and esb_p <= 0.10)  # type: ignore[operator]
                  or (not _missing(report_rob_pct) and report_rob_pct < 50))  # type: ignore[operator]
    small_k = 1 if k is not None and k < 5 else 0
    total = rob + inconsistency + ind + imprecision + pub + small_k
    level = LEVELS[max(0, 3 - total)]
    return GradeRating(level, rob, inconsistency, imprecision, pub, p02, p05, name, assessed, ind, small_k,
                       "metaumbrella", ind_assessed, basis)


def _heterogeneity(ci: tuple[float, float] | None, pi: tuple[float, float] | None, null: float,
                   lo_eq: float, hi_eq: float) -> tuple[int | None, str]:
    """metaumbrella's CI-versus-PI rules (after CINeMA); None when the CI or PI is not available."""
    if ci is None or pi is None or any(_missing(x) for x in (*ci, *pi)):
        return None, ""
    ci_lo, ci_up = ci
    pi_lo, pi_up = pi
    low_ci_neg_range = null > ci_lo >= lo_eq
    low_pi_neg_range = null > pi_lo >= lo_eq
    up_ci_pos_range = null <= ci_up <= hi_eq
    up_pi_pos_range = null <= pi_up <= hi_eq
    low_ci_pos, low_pi_pos = ci_lo >= null, pi_lo >= null
    up_ci_neg, up_pi_neg = ci_up < null, pi_up < null
    low_ci_out, low_pi_out = ci_lo < lo_eq, pi_lo < lo_eq
    up_ci_out, up_pi_out = ci_up > hi_eq, pi_up > hi_eq
    rules = [
        (2, (low_ci_neg_range and low_pi_out) and (up_ci_pos_range and up_pi_out)),
        (2, (low_ci_pos and low_pi_out) or (up_ci_neg and up_pi_out)),
        (1, (low_ci_neg_range and low_pi_out) or (up_ci_pos_range and up_pi_out)),
        (1, (low_ci_pos and low_pi_neg_range) or (up_ci_neg and up_pi_pos_range)),
        (0, (low_ci_pos and low_pi_pos) or (up_ci_neg and up_pi_neg)),
        (0, (low_ci_neg_range and low_pi_neg_range) or (up_ci_pos_range and up_pi_pos_range)),
        (0, (low_ci_out and low_pi_out) or (up_ci_out and up_pi_out)),
    ]
    for down, hit in rules:
        if hit:
            return down, "CI vs PI"
    return None, ""


def grade_assessment(a: CredibilityAssessment, rob_low_pct: float | None = None, *,
                     rob_missing: Literal["not assessed", "downgrade"] | None = None,
                     rules: Literal["metaumbrella", "four-domain"] = "metaumbrella",
                     indirectness: str | None = None,
                     eq_range_or: tuple[float, float] = EQ_RANGE_OR,
                     eq_range_g: tuple[float, float] = EQ_RANGE_G,
                     indirectness_missing: Literal["not assessed", "downgrade"] | None = None,
                     ) -> GradeRating:
    """GRADE-like rating of an assessed finding (its CI, PI, I², sizes, Egger and excess-significance p,
    risk of bias weighted by the random-effects weights, indirectness). ``rob_low_pct`` /
    ``indirectness`` override the finding's own; ``rob_missing`` / ``indirectness_missing`` as in
    :func:`grade_rating` (default: metaumbrella's, a missing input is downgraded)."""
    rob = rob_low_pct if rob_low_pct is not None else (None if math.isnan(a.rob_low_pct) else a.rob_low_pct)
    ratio = a.measure.upper() in RATIO_MEASURES
    f = math.exp if ratio else (lambda x: x)
    n_cases, n_controls = a.n_cases, a.n_controls
    if a.measure.upper() == "IRR":
        n_cases = n_controls = a.n_cases / 2
    return grade_rating(
        i2=a.i2, n_cases=n_cases, n_controls=n_controls, egger_p=a.egger_p, rob_low_pct=rob, name=a.name,
        rob_missing=rob_missing, rules=rules, measure=a.measure or "SMD",
        ci=(f(a.ci_lower), f(a.ci_upper)),
        pi=(f(a.pi_lower), f(a.pi_upper)) if a.k > 1 else None, k=a.k, esb_p=a.esb_p,
        report_rob_pct=None if math.isnan(a.report_rob_pct) else a.report_rob_pct,
        indirectness=indirectness if indirectness is not None else a.indirectness,
        perc_contradict=a.perc_contradict, eq_range_or=eq_range_or, eq_range_g=eq_range_g,
        indirectness_missing=indirectness_missing)


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))
