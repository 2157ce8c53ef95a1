"""Credibility of meta-analytic findings: the Ioannidis / Fusar-Poli & Radua classes I–IV and ns, with
every number metaumbrella 1.1.0's ``umbrella()`` computes for a factor.

Fusar-Poli P, Radua J. Ten simple rules for conducting umbrella reviews. Evid Based Ment Health
2018;21:95-100 (after Ioannidis 2009 and Dragioti et al.). The classes, as metaumbrella's
``add.evidence(criteria = "Ioannidis")`` applies them:

- **I** (convincing): cases > 1000, p < 1e-6, I² < 50%, 95% prediction interval excluding the null,
  no small-study effects (Egger p > 0.05), no excess significance (p > 0.05);
- **II** (highly suggestive): cases > 1000, p < 1e-6, the largest study's 95% CI excluding the null on
  the side of the pooled effect;
- **III** (suggestive): cases > 1000, p < 1e-3;
- **IV** (weak): p < 0.05;
- **ns**: p ≥ 0.05.

metaumbrella's defaults are the defaults here, each an explicit field of :class:`CredibilityCriteria`
(``None`` switches a criterion off):

- random effects with REML, z test; I² from Q (Higgins & Thompson); the 95% PI with t on k − 1 df;
- Egger's test: weighted regression of yi on its SE (``lm(yi ~ sei, weights = 1/vi)``);
- excess significance: ``esb_method="TESSPSST"`` with the true effect ``esb_theta="UWLS"`` (Stanley et al.
  2021, :mod:`metareview.stats.esb`); for standardised mean differences the studies' d = g/J are tested
  with SE √(1/n1 + 1/n2) and t-test p-values, as metaumbrella does. ``esb_method="TESS"``/``"PSST"`` give
  one of the two tests; ``"IT"`` is the Ioannidis & Trikalinos (2007) test as metafor's ``tes`` (this
  package's earlier default, with ``esb_theta="largest"``); ``esb_theta`` may also be ``"largest"``,
  ``"pooled"`` (the random-effects estimate), ``"fixed"`` (the equal-effects mean, ``tes``'s default) or a
  number on the analysis scale (log for ratios);
- the largest study: the most participants (``largest_by="n"``; ties broken by the smallest |effect|,
  as metaumbrella), or the smallest variance (``"precision"``, the earlier default);
- also computed as metaumbrella does: the jackknife (largest leave-one-out p), the % of low risk of bias
  weighted by the random-effects weights, the share of studies contradicting the pooled effect, and for MD
  factors the pooled raw mean difference::

    >>> res = assess(yi, vi, n_cases=987, name="ADHD")        # doctest: +SKIP
    >>> res.klass                                             # doctest: +SKIP
    'IV'

Other classifications of the same numbers (metaumbrella's GRADE and "Personalised" criteria) are in
:mod:`metareview.synthesis.evidence`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from metareview.errors import InputError
from metareview.stats import meta
from metareview.stats.errors import StatsInputError
from metareview.synthesis.umbrella_input import UmbrellaData, UmbrellaFactor, hedges_j

CLASSES = ("I", "II", "III", "IV", "ns")
SMD_FAMILY = frozenset({"SMD", "MD", "G", "SMC", "MC"})
RATIO_MEASURES = frozenset({"OR", "RR", "HR", "IRR"})
EsbTheta = Literal["UWLS", "largest", "pooled", "fixed"] | float


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
    largest_by: Literal["n", "precision"] = "n"  # largest = most participants (metaumbrella) or smallest vi
    method: str = "REML"
    esb_test: Literal["chi2", "binom", "exact"] | None = None  # esb_method="IT" only: metafor's tes test
    esb_theta: EsbTheta = "UWLS"
    esb_method: Literal["TESSPSST", "TESS", "PSST", "IT"] = "TESSPSST"
    esb_tau2: float | None = None  # TESS/PSST: this tau² instead of the model's (metaumbrella's tau2=)
    alpha_study: float = 0.05  # significance of a single study

    def __post_init__(self) -> None:
        if self.esb_method not in ("TESSPSST", "TESS", "PSST", "IT"):
            raise InputError(f"esb_method must be TESSPSST, TESS, PSST or IT, not {self.esb_method!r}")
        if not isinstance(self.esb_theta, int | float) and self.esb_theta not in (
                "UWLS", "largest", "pooled", "fixed"):
            raise InputError(f"esb_theta must be UWLS, largest, pooled, fixed or a number, "
                             f"not {self.esb_theta!r}")
        if self.largest_by not in ("n", "precision"):
            raise InputError("largest_by must be 'n' or 'precision'")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CredibilityAssessment:
    """One finding: the numbers behind each criterion, which criteria hold, and the class.

    Estimates, CIs and PIs are on the analysis scale (log for ratios; Hedges' g for SMD/MD factors).
    """

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
    se: float = math.nan
    total_n: float = math.nan
    q: float = math.nan
    q_pvalue: float = math.nan
    egger_statistic: float = math.nan
    esb_method: str = ""
    esb_theta: float = math.nan
    esb_tau2: float = math.nan
    esb_observed: float = math.nan
    esb_expected: float = math.nan
    esb_p_tess: float = math.nan
    esb_p_psst: float = math.nan
    largest_study: str = ""
    largest_ci_lower: float = math.nan
    largest_ci_upper: float = math.nan
    jk_max_p: float = math.nan
    rob_low_pct: float = math.nan
    report_rob_pct: float = math.nan
    perc_contradict: float = math.nan
    indirectness: str | None = None
    amstar: float = math.nan
    input_measure: str = ""
    md_estimate: float = math.nan
    md_ci_lower: float = math.nan
    md_ci_upper: float = math.nan
    meta_review: str = ""

    @property
    def pi_excludes_null(self) -> bool:
        return bool(self.pi_lower > 0 or self.pi_upper < 0)

    @property
    def largest_direction(self) -> str:
        """``"notnull"`` (the largest study's CI excludes the null on the pooled effect's side),
        ``"opposite direction"`` (it excludes it on the other side) or ``"null"`` (metaumbrella's labels)."""
        lo, hi = self.largest_ci_lower, self.largest_ci_upper
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return "null" if not self.largest_pvalue < self.criteria.alpha_study else "notnull"
        if np.sign(lo) != np.sign(hi) or lo == 0 or hi == 0:
            return "null"
        if np.sign(lo) == -np.sign(self.ci_lower) and np.sign(hi) == -np.sign(self.ci_upper):
            return "opposite direction"
        return "notnull"

    @property
    def largest_significant(self) -> bool:
        """The largest study's CI excludes the null on the side of the pooled CI (metaumbrella's class II)."""
        lo, hi = self.largest_ci_lower, self.largest_ci_upper
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return bool(self.largest_pvalue < self.criteria.alpha_study)
        return bool(np.sign(lo) == np.sign(hi) != 0 and np.sign(lo) == np.sign(self.ci_lower)
                    and np.sign(hi) == np.sign(self.ci_upper))

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
        scale = "exp" if self.measure in RATIO_MEASURES else ""
        f = math.exp if scale else (lambda v: v)
        lab = f"{self.measure} " if self.measure else ""
        esb = f"ESB ({self.esb_method or 'IT'}) p={self.esb_p:.3f}"
        return (f"{self.name}: class {self.klass}  k={self.k} cases={self.n_cases:g}  "
                f"{lab}{f(self.estimate):.3f} [{f(self.ci_lower):.3f}, {f(self.ci_upper):.3f}] "
                f"p={self.pvalue:.3g}  I2={self.i2:.1f}%  PI({self.criteria.pi}) "
                f"[{f(self.pi_lower):.3f}, {f(self.pi_upper):.3f}]  Egger p={self.egger_p:.3f}  "
                f"{esb}  largest p={self.largest_pvalue:.3g}")


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

    def __len__(self) -> int:
        return len(self.assessments)

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.assessments]

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([a.to_frame() for a in self.assessments], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        return {"criteria": self.criteria.to_dict(), "findings": [a.to_dict() for a in self.assessments]}

    def counts(self) -> dict[str, int]:
        """Number of findings per class, I to ns."""
        return {c: sum(a.klass == c for a in self.assessments) for c in CLASSES}

    def summary(self) -> pd.DataFrame:
        """metaumbrella's ``summary(umbrella(...))`` table, unrounded (:func:`.evidence.umbrella_summary`)."""
        from metareview.synthesis.evidence import umbrella_summary

        return umbrella_summary(self)

    def union(self, other: CredibilityTable) -> CredibilityTable:
        """Both tables' findings (metaumbrella's ``union.umbrella``): a finding of ``other`` with a name
        already here replaces it, with a warning; the criteria must be the same."""
        if other.criteria != self.criteria:
            raise InputError("union: the two umbrella analyses were computed with different criteria")
        theirs = {a.name for a in other.assessments}
        for name in theirs & set(self.names):
            warnings.warn(f"union: overwriting factor {name!r} from the first umbrella", UserWarning,
                          stacklevel=2)
        kept = [a for a in self.assessments if a.name not in theirs]
        return CredibilityTable((*kept, *other.assessments), self.criteria)

    def subset(self, keep: Iterable[str] | Callable[[CredibilityAssessment], bool]) -> CredibilityTable:
        """The findings named in ``keep`` (in this table's order), or those for which ``keep(a)`` is true
        (metaumbrella's ``subset.umbrella``)."""
        if callable(keep):
            chosen = [a for a in self.assessments if keep(a)]
        else:
            names = set(keep)
            unknown = names - set(self.names)
            if unknown:
                raise InputError(f"subset: no factor named {sorted(unknown)}")
            chosen = [a for a in self.assessments if a.name in names]
        return CredibilityTable(tuple(chosen), self.criteria)

    def __str__(self) -> str:
        c = self.criteria
        esb = (f"excess significance {c.esb_method}, theta = {c.esb_theta}" if c.esb_method != "IT" else
               f"excess significance IT ({c.esb_test or 'exact/chi2'}, theta = {c.esb_theta})")
        head = (f"Credibility classes (Fusar-Poli & Radua 2018); {c.method} random effects, I2 {c.i2}-based, "
                f"95% PI {c.pi}, Egger (lm), {esb}, largest study by {c.largest_by}")
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
        if all(checks[k] is True or checks[k] is None for k in class_i):
            return "I"
        return "III" if checks["largest_significant"] is False else "II"
    return "III" if checks["p<1e-3"] else "IV"


_MODEL_FIELDS = ("method", "pi", "i2", "esb_test", "esb_theta", "largest_by", "esb_method", "esb_tau2")


def reclassify(a: CredibilityAssessment, criteria: CredibilityCriteria) -> CredibilityAssessment:
    """The same finding under other thresholds (the pooled numbers are reused).

    The model conventions (method, PI, I² kind, excess-significance test, largest-study rule) must be those
    ``a`` was computed with; only thresholds change.
    """
    old = a.criteria
    if any(getattr(old, f) != getattr(criteria, f) for f in _MODEL_FIELDS):
        raise InputError(f"reclassify changes thresholds only; recompute to change {_MODEL_FIELDS}")
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
    ci_lower: ArrayLike | None = None,
    ci_upper: ArrayLike | None = None,
    n_sample: ArrayLike | None = None,
    rob: ArrayLike | None = None,
    report_rob: ArrayLike | None = None,
    indirectness: str | None = None,
    amstar: float | None = None,
    md_yi: ArrayLike | None = None,
    md_vi: ArrayLike | None = None,
    input_measure: str = "",
    studies: Iterable[str] | None = None,
    meta_review: str = "",
) -> CredibilityAssessment:
    """Pool one finding (``yi``/``vi`` on the analysis scale: log for ratios, Hedges' g for SMD) and
    classify it.

    ``n_cases``/``n_controls`` may be per study (summed) or totals; per study they also give the t-based
    study CIs and the d conversion of the excess-significance test for SMD (where missing, metaumbrella's
    imputation from g and its SE is used). ``ci_lower``/``ci_upper``: each study's 95% CI (default yi ±
    t or z × √vi); ``n_sample``: each study's participants (default cases + controls); ``rob`` /
    ``report_rob``: per study 1 (low risk), 0 (not low) or NaN; ``md_yi``/``md_vi``: raw mean differences
    of an MD factor pooled on the g scale.
    """
    c = criteria or CredibilityCriteria()
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = int(y.size)
    n1, cases_total = _sizes(n_cases, k)
    n2, controls_total = _sizes(n_controls if n_controls is not None else np.nan, k)
    try:
        fit = meta(y, v, method=c.method, test="z", pi=c.pi)
    except StatsInputError as exc:
        raise InputError(f"{name}: {exc}", field=name) from exc
    smd = measure.upper() in SMD_FAMILY
    lo, hi = _study_cis(y, v, n1, n2, smd, ci_lower, ci_upper)
    sizes = np.asarray(n_sample, dtype=float) if n_sample is not None else n1 + n2
    big = _largest(y, v, sizes, c.largest_by)
    crit_df = n1[big] + n2[big] - 2 if smd else math.nan
    z_big = abs(y[big]) / math.sqrt(v[big])
    use_t = math.isfinite(crit_df) and crit_df > 0
    largest_p = float(2 * (sps.t.sf(z_big, crit_df) if use_t else sps.norm.sf(z_big)))
    egger_p = egger_stat = math.nan
    if k >= 3:
        from metareview.stats.bias import egger_test

        eg = egger_test(y, v, model="lm", predictor="sei")
        egger_p, egger_stat = float(eg.pvalue), float(eg.statistic)
    esb = _excess_significance(y, v, n1, n2, smd, fit, big, c, sizes)
    weights = 1 / (v + (0.0 if c.method.upper() in {"EE", "FE"} else fit.tau2))
    contra = (float(np.mean(hi < 0)) if fit.estimate >= 0 else float(np.mean(lo >= 0)))
    md = (math.nan, math.nan, math.nan)
    if md_yi is not None and md_vi is not None and k > 1:
        mfit = meta(np.asarray(md_yi, dtype=float), np.asarray(md_vi, dtype=float), method=c.method, test="z")
        md = (mfit.estimate, mfit.ci_lower, mfit.ci_upper)
    labels = list(studies) if studies is not None else []
    res = CredibilityAssessment(
        name=name, k=k, n_cases=0.0 if math.isnan(cases_total) else cases_total,
        n_controls=0.0 if math.isnan(controls_total) else controls_total,
        estimate=fit.estimate, ci_lower=fit.ci_lower, ci_upper=fit.ci_upper, pvalue=fit.pvalue,
        i2=fit.i2_q if c.i2 == "q" else fit.i2, tau2=fit.tau2, pi_lower=fit.pi_lower, pi_upper=fit.pi_upper,
        egger_p=egger_p, esb_p=esb["p"], largest_estimate=float(y[big]), largest_pvalue=largest_p,
        measure=measure, klass="", criteria=c, se=fit.se,
        total_n=float(np.nansum([cases_total, controls_total])),
        q=fit.q, q_pvalue=fit.q_pvalue, egger_statistic=egger_stat, esb_method=esb["method"],
        esb_theta=esb["theta"], esb_tau2=esb["tau2"], esb_observed=esb["observed"],
        esb_expected=esb["expected"],
        esb_p_tess=esb["p_tess"], esb_p_psst=esb["p_psst"],
        largest_study=labels[big] if len(labels) == k else str(big + 1),
        largest_ci_lower=float(lo[big]), largest_ci_upper=float(hi[big]),
        jk_max_p=_jackknife(y, v, c.method), rob_low_pct=_weighted_pct(rob, weights, k),
        report_rob_pct=_weighted_pct(report_rob, weights, k), perc_contradict=contra,
        indirectness=indirectness, amstar=math.nan if amstar is None else float(amstar),
        input_measure=input_measure, md_estimate=md[0], md_ci_lower=md[1], md_ci_upper=md[2],
        meta_review=meta_review,
    )
    return replace(res, klass=classify(res.checks(), c))


def assess_factor(
    factor: UmbrellaFactor, criteria: CredibilityCriteria | None = None
) -> CredibilityAssessment:
    """Assess one factor of a metaumbrella-layout table."""
    return assess(factor.yi, factor.vi, n_cases=factor.n_cases, n_controls=factor.n_controls,
                  name=factor.name, measure=factor.measure, criteria=criteria, ci_lower=factor.ci_lower,
                  ci_upper=factor.ci_upper, n_sample=factor.n_sample, rob=factor.rob,
                  report_rob=factor.report_rob, indirectness=factor.indirectness, amstar=factor.amstar,
                  md_yi=factor.md_yi, md_vi=factor.md_vi, input_measure=factor.input_measure,
                  studies=factor.studies, meta_review=factor.meta_review)


def assess_umbrella(
    data: UmbrellaData | Iterable[UmbrellaFactor], criteria: CredibilityCriteria | None = None
) -> CredibilityTable:
    """Assess every factor of an umbrella review (read by :func:`.umbrella_input.read_umbrella`):
    metaumbrella's ``umbrella()`` followed by ``add.evidence(criteria = "Ioannidis")``."""
    c = criteria or CredibilityCriteria()
    factors = data.factors if isinstance(data, UmbrellaData) else tuple(data)
    return CredibilityTable(tuple(assess_factor(f, c) for f in factors), c)


# --- internals -----------------------------------------------------------------------------------


def _sizes(x: ArrayLike | float, k: int) -> tuple[np.ndarray, float]:
    """Per-study sizes (NaN when only a total is given) and the total."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        return np.full(k, np.nan), float(arr)
    if arr.shape != (k,):
        raise InputError(f"expected {k} sample sizes, got {arr.size}")
    return arr, float(np.nansum(arr)) if np.isfinite(arr).any() else math.nan


def _study_cis(y: np.ndarray, v: np.ndarray, n1: np.ndarray, n2: np.ndarray, smd: bool,
               ci_lower: ArrayLike | None, ci_upper: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    crit = np.full(y.size, sps.norm.ppf(0.975))
    if smd:
        df = n1 + n2 - 2
        ok = np.isfinite(df) & (df > 0)
        crit[ok] = sps.t.ppf(0.975, df[ok])
    lo, hi = y - crit * np.sqrt(v), y + crit * np.sqrt(v)
    if ci_lower is not None and ci_upper is not None:
        given_lo, given_hi = np.asarray(ci_lower, dtype=float), np.asarray(ci_upper, dtype=float)
        have = np.isfinite(given_lo) & np.isfinite(given_hi)
        lo, hi = np.where(have, given_lo, lo), np.where(have, given_hi, hi)
    return lo, hi


def _largest(y: np.ndarray, v: np.ndarray, sizes: np.ndarray, by: str) -> int:
    """metaumbrella's largest study: the most participants, ties broken by the smallest |yi|; the smallest
    variance when any size is unknown (or with ``by="precision"``)."""
    if by == "n" and sizes.shape == y.shape and np.isfinite(sizes).all():
        top = np.flatnonzero(sizes == sizes.max())
        return int(top[np.argmin(np.abs(y[top]))])
    return int(np.argmin(v))


def _jackknife(y: np.ndarray, v: np.ndarray, method: str) -> float:
    """The largest p-value of the leave-one-out random-effects fits (metaumbrella's JK_p)."""
    if y.size < 2:
        return math.nan
    ps = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i in range(y.size):
            keep = np.arange(y.size) != i
            ps.append(meta(y[keep], v[keep], method=method, test="z").pvalue)
    return float(np.nanmax(ps))


def _weighted_pct(flags: ArrayLike | None, weights: np.ndarray, k: int) -> float:
    """100 × the weighted mean of 1/0 flags over the studies that have one (metaumbrella's rob %)."""
    if flags is None:
        return math.nan
    f = np.asarray(flags, dtype=float)
    if f.shape != (k,):
        raise InputError(f"expected {k} risk-of-bias values, got {f.size}")
    known = np.isfinite(f)
    if not known.any():
        return math.nan
    return float(100 * np.sum(weights[known] * f[known]) / np.sum(weights[known]))


def _excess_significance(y: np.ndarray, v: np.ndarray, n1: np.ndarray, n2: np.ndarray, smd: bool,
                         fit: Any, big: int, c: CredibilityCriteria, sizes: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {"method": c.esb_method, "p": math.nan, "theta": math.nan, "tau2": math.nan,
                           "observed": math.nan, "expected": math.nan, "p_tess": math.nan, "p_psst": math.nan}
    if y.size < 2:
        return out
    if c.esb_method == "IT":
        theta = _theta_it(y, v, fit, big, c.esb_theta)
        from metareview.stats.bias import excess_significance

        tes = excess_significance(y, v, theta=theta, test=c.esb_test)
        return out | {"p": float(tes.pvalue), "theta": float(tes.theta), "observed": float(tes.observed),
                      "expected": float(tes.expected)}
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            return out | _tess_psst(y, v, n1, n2, smd, fit, big, c)
        except StatsInputError:  # e.g. imputed group sizes too small for the d conversion: not estimable
            return out


def _tess_psst(y: np.ndarray, v: np.ndarray, n1: np.ndarray, n2: np.ndarray, smd: bool, fit: Any, big: int,
               c: CredibilityCriteria) -> dict[str, Any]:
    from metareview.stats.esb import tess_psst, uwls

    se = np.sqrt(v)
    pvals = None
    ye = y
    if smd:
        a, b = n1.copy(), n2.copy()
        miss = ~(np.isfinite(a) & np.isfinite(b))
        if miss.any():  # metaumbrella: N from g and its SE, split in two
            big_n = np.round((2 + y**2 / 4) / v) * 2
            a[miss] = b[miss] = np.round(big_n[miss] / 2)
        ye = y / hedges_j(a + b - 2)
        se = np.sqrt(1 / a + 1 / b)
        pvals = np.where(ye == 0, 1.0, 2 * sps.t.sf(np.abs(ye / se), a + b - 2))
    theta_opt = c.esb_theta
    if isinstance(theta_opt, int | float) and not isinstance(theta_opt, bool):
        theta = float(theta_opt)
    elif theta_opt == "UWLS":
        theta = uwls(ye, se).estimate
    elif theta_opt == "largest":
        theta = float(ye[big])
    elif theta_opt == "pooled":
        theta = float(fit.estimate)
    else:
        theta = float(np.sum(ye / se**2) / np.sum(1 / se**2))
    tau2 = float(c.esb_tau2) if c.esb_tau2 is not None else (
        0.0 if c.method.upper() in {"EE", "FE"} else float(fit.tau2))
    res = tess_psst(ye, se, tau2=tau2, theta=theta, pvalues=pvals, method=c.esb_method)
    return {"p": res.pvalue, "theta": theta, "tau2": tau2, "observed": float(res.observed),
            "expected": res.expected, "p_tess": res.p_tess, "p_psst": res.p_psst}


def _theta_it(y: np.ndarray, v: np.ndarray, fit: Any, big: int, opt: EsbTheta) -> float | None:
    if isinstance(opt, int | float) and not isinstance(opt, bool):
        return float(opt)
    if opt == "largest":
        return float(y[big])
    if opt == "pooled":
        return float(fit.estimate)
    return None  # "fixed" / "UWLS": tes's default, the equal-effects mean (which UWLS equals)



def union_umbrella(x: CredibilityTable, y: CredibilityTable) -> CredibilityTable:
    """metaumbrella's ``union.umbrella(x, y)``: :meth:`CredibilityTable.union`."""
    return x.union(y)


def subset_umbrella(x: CredibilityTable,
                    keep: Iterable[str] | Callable[[CredibilityAssessment], bool]) -> CredibilityTable:
    """metaumbrella's ``subset.umbrella(x, subset)``: :meth:`CredibilityTable.subset`."""
    return x.subset(keep)
