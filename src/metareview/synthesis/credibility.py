"""Credibility of meta-analytic findings: the Ioannidis / Fusar-Poli & Radua classes I–IV and ns.

Fusar-Poli P, Radua J. Ten simple rules for conducting umbrella reviews. Evid Based Ment Health
2018;21:95-100 (after Ioannidis 2009 and Dragioti et al.). The classes, as metaumbrella applies them:

- **I** (convincing): cases > 1000, p < 1e-6, I² < 50%, 95% prediction interval excluding the null,
  no small-study effects (Egger p > 0.05), no excess significance (p > 0.05);
- **II** (highly suggestive): cases > 1000, p < 1e-6, largest study significant (p < 0.05);
- **III** (suggestive): cases > 1000, p < 1e-3;
- **IV** (weak): p < 0.05;
- **ns**: p ≥ 0.05.

Every threshold is a field of :class:`CredibilityCriteria` (``None`` switches a criterion off), and the
conventions are explicit: the random-effects model (``method``, z test), the I² used (Q-based by default,
as metaumbrella reports), the prediction interval (``pi="t"``: t with k − 1 df, metaumbrella's; metafor's
default is ``"z"``), Egger's test (weighted regression of yi on its SE, ``model="lm"``) and the excess-
significance test (Ioannidis & Trikalinos 2007 via metafor-like ``tes``; true effect = the largest study's)::

    >>> res = assess(yi, vi, n_cases=987, name="ADHD")        # doctest: +SKIP
    >>> res.klass                                             # doctest: +SKIP
    'IV'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from metareview.errors import InputError
from metareview.stats import meta
from metareview.stats.errors import StatsInputError
from metareview.synthesis.umbrella_input import UmbrellaData, UmbrellaFactor

CLASSES = ("I", "II", "III", "IV", "ns")


@dataclass(frozen=True)
class CredibilityCriteria:
    """Thresholds and conventions of the classification; ``None`` switches a criterion off."""

    min_cases: float | None = 1000  # classes I-III need more cases than this
    p_class_i_ii: float = 1e-6
    p_class_iii: float = 1e-3
    p_class_iv: float = 0.05
    i2_max: float | None = 50.0  # class I: I² below this (%)
    i2: Literal["q", "tau2"] = "q"  # Q-based I² (metaumbrella) or metafor's tau²-based one
    pi: Literal["z", "t", "riley"] = "t"  # class I: this 95% PI excludes the null
    require_pi: bool = True
    egger_alpha: float | None = 0.05  # class I: Egger p above this
    esb_alpha: float | None = 0.05  # class I: excess-significance p above this
    largest_significant: Literal["II", "I and II", "off"] = "II"  # where "largest study significant" applies
    largest_by: Literal["precision", "n"] = "precision"  # largest = smallest variance, or most participants
    method: str = "REML"
    esb_test: Literal["chi2", "binom", "exact"] | None = None  # None: metafor's tes default (exact if small)
    esb_theta: Literal["largest", "fixed"] = "largest"  # true effect: largest study's, or equal-effects mean
    alpha_study: float = 0.05  # significance of a single study

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CredibilityAssessment:
    """One finding: the numbers behind each criterion, which criteria hold, and the class."""

    name: str
    k: int
    n_cases: float
    n_controls: float
    estimate: float
    ci_lower: float
    ci_upper: float
    pvalue: float
    i2: float
    tau2: float
    pi_lower: float
    pi_upper: float
    egger_p: float
    esb_p: float
    largest_estimate: float
    largest_pvalue: float
    klass: str
    criteria: CredibilityCriteria = field(repr=False)
    measure: str = ""

    @property
    def pi_excludes_null(self) -> bool:
        return bool(self.pi_lower > 0 or self.pi_upper < 0)

    @property
    def largest_significant(self) -> bool:
        return bool(self.largest_pvalue < self.criteria.alpha_study)

    def checks(self) -> dict[str, bool | None]:
        """Each criterion: True (met), False (not met) or None (switched off)."""
        c = self.criteria
        return {
            "cases": None if c.min_cases is None else self.n_cases > c.min_cases,
            "p<1e-6": self.pvalue < c.p_class_i_ii,
            "p<1e-3": self.pvalue < c.p_class_iii,
            "p<0.05": self.pvalue < c.p_class_iv,
            "i2": None if c.i2_max is None else self.i2 < c.i2_max,
            "pi_excludes_null": self.pi_excludes_null if c.require_pi else None,
            "egger": None if c.egger_alpha is None else self.egger_p > c.egger_alpha,
            "esb": None if c.esb_alpha is None else self.esb_p > c.esb_alpha,
            "largest_significant": None if c.largest_significant == "off" else self.largest_significant,
        }

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "criteria"}
        return d | {"class": self.klass, "checks": self.checks()}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: v for k, v in self.to_dict().items() if k not in {"checks", "klass"}}])

    def __str__(self) -> str:
        scale = "exp" if self.measure in {"OR", "RR", "HR", "IRR"} else ""
        f = math.exp if scale else (lambda v: v)
        lab = f"{self.measure} " if self.measure else ""
        return (f"{self.name}: class {self.klass}  k={self.k} cases={self.n_cases:g}  "
                f"{lab}{f(self.estimate):.3f} [{f(self.ci_lower):.3f}, {f(self.ci_upper):.3f}] "
                f"p={self.pvalue:.3g}  I2={self.i2:.1f}%  PI({self.criteria.pi}) "
                f"[{f(self.pi_lower):.3f}, {f(self.pi_upper):.3f}]  Egger p={self.egger_p:.3f}  "
                f"ESB p={self.esb_p:.3f}  largest p={self.largest_pvalue:.3g}")


@dataclass(frozen=True)
class CredibilityTable:
    """Assessments of several findings (e.g. every factor of an umbrella review)."""

    assessments: tuple[CredibilityAssessment, ...]
    criteria: CredibilityCriteria

    def __getitem__(self, name: str) -> CredibilityAssessment:
        for a in self.assessments:
            if a.name == name:
                return a
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([a.to_frame() for a in self.assessments], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        return {"criteria": self.criteria.to_dict(), "findings": [a.to_dict() for a in self.assessments]}

    def counts(self) -> dict[str, int]:
        """Number of findings per class, I to ns."""
        return {c: sum(a.klass == c for a in self.assessments) for c in CLASSES}

    def __str__(self) -> str:
        c = self.criteria
        head = (f"Credibility classes (Fusar-Poli & Radua 2018); {c.method} random effects, I2 {c.i2}-based, "
                f"95% PI {c.pi}, Egger (lm), excess significance ({c.esb_test or 'exact/chi2'}, "
                f"theta = {c.esb_theta})")
        return "\n".join([head, *(str(a) for a in self.assessments)])


def classify(checks: dict[str, bool | None], criteria: CredibilityCriteria) -> str:
    """The class (I, II, III, IV or ns) from the criteria checks of :meth:`CredibilityAssessment.checks`.

    A switched-off criterion (None) never blocks a class.
    """
    if not checks["p<0.05"]:
        return "ns"
    if checks["cases"] is False:
        return "IV"
    if checks["p<1e-6"]:
        class_i = ["i2", "pi_excludes_null", "egger", "esb"]
        if criteria.largest_significant == "I and II":
            class_i.append("largest_significant")
        if all(checks[k] is not False for k in class_i):
            return "I"
        return "III" if checks["largest_significant"] is False else "II"
    return "III" if checks["p<1e-3"] else "IV"


def reclassify(a: CredibilityAssessment, criteria: CredibilityCriteria) -> CredibilityAssessment:
    """The same finding under other thresholds (the pooled numbers are reused).

    The model conventions (method, PI, I² kind, ESB test, largest-study rule) must be those ``a`` was
    computed with; only thresholds change.
    """
    old = a.criteria
    same = ("method", "pi", "i2", "esb_test", "esb_theta", "largest_by")
    if any(getattr(old, f) != getattr(criteria, f) for f in same):
        raise InputError(f"reclassify changes thresholds only; recompute to change {same}")
    b = replace(a, criteria=criteria)
    return replace(b, klass=classify(b.checks(), criteria))


def assess(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    n_cases: ArrayLike | float,
    n_controls: ArrayLike | float | None = None,
    name: str = "finding",
    measure: str = "",
    criteria: CredibilityCriteria | None = None,
) -> CredibilityAssessment:
    """Pool one finding (``yi``/``vi`` on the analysis scale: log for ratios) and classify it.

    ``n_cases`` may be per study (summed) or a total.
    """
    from metareview.stats.bias import egger_test, excess_significance

    c = criteria or CredibilityCriteria()
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    cases = np.asarray(n_cases, dtype=float)
    controls = np.asarray(n_controls if n_controls is not None else np.nan, dtype=float)
    try:
        fit = meta(y, v, method=c.method, test="z", pi=c.pi)
    except StatsInputError as exc:
        raise InputError(f"{name}: {exc}", field=name) from exc
    i2 = fit.i2_q if c.i2 == "q" else fit.i2
    big = _largest(v, cases, controls, c.largest_by)
    z = abs(y[big]) / math.sqrt(v[big])
    largest_p = float(2 * sps.norm.sf(z))
    egger_p = math.nan
    if len(y) >= 3:
        egger_p = float(egger_test(y, v, model="lm", predictor="sei").pvalue)
    theta = float(y[big]) if c.esb_theta == "largest" else None
    esb_p = float(excess_significance(y, v, theta=theta, test=c.esb_test).pvalue)
    res = CredibilityAssessment(
        name=name, k=len(y), n_cases=float(np.nansum(cases)), n_controls=float(np.nansum(controls)),
        estimate=fit.estimate, ci_lower=fit.ci_lower, ci_upper=fit.ci_upper, pvalue=fit.pvalue, i2=i2,
        tau2=fit.tau2, pi_lower=fit.pi_lower, pi_upper=fit.pi_upper, egger_p=egger_p, esb_p=esb_p,
        largest_estimate=float(y[big]), largest_pvalue=largest_p, measure=measure, klass="", criteria=c,
    )
    return replace(res, klass=classify(res.checks(), c))


def assess_factor(
    factor: UmbrellaFactor, criteria: CredibilityCriteria | None = None
) -> CredibilityAssessment:
    """Assess one factor of a metaumbrella-layout table."""
    return assess(factor.yi, factor.vi, n_cases=factor.n_cases, n_controls=factor.n_controls,
                  name=factor.name, measure=factor.measure, criteria=criteria)


def assess_umbrella(
    data: UmbrellaData | Iterable[UmbrellaFactor], criteria: CredibilityCriteria | None = None
) -> CredibilityTable:
    """Assess every factor of an umbrella review (read by :func:`.umbrella_input.read_umbrella`)."""
    c = criteria or CredibilityCriteria()
    factors = data.factors if isinstance(data, UmbrellaData) else tuple(data)
    return CredibilityTable(tuple(assess_factor(f, c) for f in factors), c)


# --- internals -----------------------------------------------------------------------------------


def _largest(v: np.ndarray, cases: np.ndarray, controls: np.ndarray, by: str) -> int:
    if by == "n" and cases.ndim == 1 and cases.shape == v.shape:
        total = cases + (controls if controls.shape == v.shape else 0)
        if np.isfinite(total).any():
            return int(np.nanargmax(total))
    return int(np.argmin(v))
