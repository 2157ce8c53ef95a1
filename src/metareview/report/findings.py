"""Findings of an umbrella review, built from its extracted effect sizes: one pooled estimate per finding,
used by every table and figure of the report (forest plot, credibility table and forest, Summary of findings).

When ``report.toml`` names the effect field that holds the primary study (``[findings] study``), each stored
effect size is one primary study's effect as a meta-analysis reported it. The effect sizes are grouped into
findings by ``[findings] name`` (default: outcome domain and comparison), laid out as metaumbrella's
well-formatted table (``meta_review`` = the report, ``factor`` = the finding, ``author``/``year`` = the study;
declared effect fields named like metaumbrella's columns, e.g. ``n_cases``, ``n_controls``,
``n_cases_exp``, ``mean_cases``, ``se``, ``multiple_es``, ``rob``, ``indirectness``, are passed through) and
handed to :func:`~metareview.synthesis.umbrella_input.read_umbrella` and
:func:`~metareview.synthesis.credibility.assess_umbrella`, so each finding is pooled exactly as
``metareview credibility`` pools the same table.

**Measures.** An extracted measure code means what it means in metafor: ``SMD`` is Hedges' g (bias-corrected)
and every CI is a Wald (z) 95% CI. metaumbrella's ``SMD`` is Cohen's d (it applies J itself) and its CIs of
differences are t-based, so an extracted SMD goes to the layout as metaumbrella's ``G`` and an SMD or MD with
its SE from the z CI (an effect field ``se`` wins over it); ratios (OR, RR, HR, IRR) are on the log scale
either way. Effects of a measure metaumbrella does not pool are listed as left out, with why.

**GRADE.** Each finding is rated with metaumbrella's GRADE rules
(:func:`~metareview.synthesis.grade.grade_assessment`) on the review's own appraisals: risk of bias from the
stored RoB 2 / RoB 1 forms of the finding's studies (the % of the random-effects weight in studies at low
risk), indirectness from the effect field ``indirectness`` (``no``, ``serious``, ``very serious``; one
judgement per finding). Where a domain has no input at all it is *not assessed*: not downgraded for, named
in the Summary of findings, and the rating marked provisional (metaumbrella itself would assume the worst:
``metareview credibility --grade`` keeps that rule)::

    fs = build_findings(bundle, ReportConfig.for_review("my-review"))
    for f in fs.findings:
        print(f.name, f.assessment.klass, f.grade.level)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from metareview.errors import InputError
from metareview.report.config import ReportConfig

_Z975 = 1.959963984540054  # qnorm(0.975)

__all__ = ["Finding", "FindingSet", "METAUMBRELLA_COLUMNS", "build_findings", "findings_frame"]

#: effect fields passed through to metaumbrella's layout under their own name
METAUMBRELLA_COLUMNS = ("n_cases", "n_controls", "n_exp", "n_nexp", "n_cases_exp", "n_cases_nexp",
                        "n_controls_exp", "n_controls_nexp", "mean_cases", "sd_cases", "mean_controls",
                        "sd_controls", "se", "multiple_es", "rob", "amstar", "indirectness")
CONTINUOUS = frozenset({"SMD", "MD", "SMDH", "ROM"})
#: measures handed to metaumbrella's layout with their SE from the Wald (z) CI (metaumbrella reads a CI of a
#: difference as t-based)
_Z_CI_DIFFERENCES = frozenset({"SMD", "MD"})


@dataclass(frozen=True)
class Finding:
    """One pooled finding: the studies as pooled, the model, its credibility class and GRADE rating."""

    name: str
    measure: str
    labels: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    n_cases: np.ndarray
    n_controls: np.ndarray
    assessment: Any  # CredibilityAssessment: THE pooled estimate of the finding
    grade: Any  # GradeRating
    fit: Any  # MetaResult of the same model (weights, heterogeneity)
    groups: tuple[str, ...] | None = None
    heading: str = ""
    reports: tuple[str, ...] = ()
    rob_source: str = ""
    rob_low_pct: float | None = None  # GRADE's risk-of-bias input (% of the weight at low risk); None: none
    input_measures: tuple[str, ...] = ()  # the measures of its effect sizes as extracted (several: converted)
    n_effects: int = 0  # effect sizes pooled into it (more than k: several effects of a study combined)

    @property
    def k(self) -> int:
        return len(self.yi)

    @property
    def participants(self) -> float:
        return float(np.nansum(self.n_cases) + np.nansum(self.n_controls))


@dataclass(frozen=True)
class FindingSet:
    """Every finding, the criteria they were classed by, and what could not be pooled (with why)."""

    findings: tuple[Finding, ...]
    criteria: Any
    config: ReportConfig
    dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["report", "study", "finding",
                                                                                 "reason"]))
    too_few: tuple[tuple[str, int], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.findings)

    def __getitem__(self, name: str) -> Finding:
        for f in self.findings:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def assessments(self) -> list[Any]:
        return [f.assessment for f in self.findings]


def _finding_name(e: Any, fields: Sequence[str]) -> str:
    parts = [str(e.value(f)) for f in fields if e.value(f) not in (None, "")]
    return ", ".join(parts) if parts else "finding"


def _study_label(author: str, year: str) -> str:
    return f"{author} {year}".strip()


def umbrella_frame(effects: Sequence[Any], config: ReportConfig) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The effect sizes as metaumbrella's well-formatted table (one row per study effect), and the records
    left out before pooling (no study label), with why."""
    st = config.findings
    from metareview.synthesis.umbrella_input import SUPPORTED

    rows, lost = [], []
    for e in effects:
        study = e.value(st.study)
        name = _finding_name(e, st.name)
        year = e.value(st.study_year) if st.study_year else None
        if study in (None, ""):
            lost.append({"report": e.report_id, "study": "", "finding": name,
                         "reason": f"no {st.study} (the primary study) given"})
            continue
        if e.measure.upper() not in SUPPORTED - {"G"}:
            lost.append({"report": e.report_id, "study": _study_label(str(study), _year(year)),
                         "finding": name, "reason": f"measure {e.measure} is not pooled by metaumbrella's "
                                                    f"rules (OR, RR, HR, IRR, SMD, MD)"})
            continue
        row: dict[str, Any] = {
            "meta_review": e.report_id, "factor": name, "author": str(study), "year": _year(year),
            "measure": e.measure.upper(), "value": e.estimate, "ci_lo": e.ci_lower, "ci_up": e.ci_upper,
        }
        if row["measure"] == "SMD":
            # an extracted SMD is metafor's: Hedges' g with a 95% Wald (z) CI. metaumbrella's "SMD" is
            # Cohen's d (it would apply J again) with a t-based CI, so hand it over as "G" with its SE
            row["measure"] = "G"
        if e.measure.upper() in _Z_CI_DIFFERENCES and e.ci_lower is not None and e.ci_upper is not None:
            row["se"] = (e.ci_upper - e.ci_lower) / (2 * _Z975)
        for col in METAUMBRELLA_COLUMNS:
            v = e.value(col)
            if v is not None:
                row[col] = str(v).replace("_", " ") if col == "indirectness" else v
        if "n_cases" not in row and e.n is not None:
            row["n_cases"] = e.n
        row["mr_subgroup"] = _field_text(e, st.subgroups) if st.subgroups else ""
        row["mr_heading"] = _field_text(e, st.heading) if st.heading else ""
        rows.append(row)
    return pd.DataFrame(rows), lost


def _year(year: Any) -> str:
    return "" if year in (None, "") else str(int(year) if isinstance(year, float) else year)


def _field_text(e: Any, name: str) -> str:
    v = e.report_id if name in ("report_id", "report") else e.value(name)
    if v is None or v == "":
        return "not reported"
    return str(v).replace("_", " ")


def build_findings(effects: Sequence[Any], config: ReportConfig | None = None, *,
                   rob: Mapping[str, Any] | None = None, report_names: Mapping[str, str] | None = None,
                   ) -> FindingSet:
    """Pool and grade every finding of ``effects`` (stored
    :class:`~metareview.extraction.forms.EffectSizeRecord` objects); ``rob`` maps a study label to its RoB 2 /
    RoB 1 assessment (GRADE's risk-of-bias input); ``report_names`` maps report ids to the names shown
    (subgroups by report)."""
    from metareview.stats import meta
    from metareview.synthesis.credibility import CredibilityCriteria, assess_umbrella
    from metareview.synthesis.grade import grade_assessment
    from metareview.synthesis.umbrella_input import read_umbrella

    config = config or ReportConfig()
    cs = config.credibility
    criteria = CredibilityCriteria(method=cs.method.upper(), pi=cs.pi, i2=cs.i2, min_cases=cs.min_cases)
    if not config.findings.study:
        raise InputError("report.toml names no [findings] study field: the effect sizes are not "
                         "primary-study "
                         "effects, so no finding is pooled", field="findings.study")
    frame, lost = umbrella_frame(effects, config)
    if frame.empty:
        empty = pd.DataFrame(lost, columns=["report", "study", "finding", "reason"])
        return FindingSet((), criteria, config, empty)
    data = read_umbrella(frame.drop(columns=["mr_subgroup", "mr_heading"]))
    for r in data.dropped.itertuples():
        src = frame.iloc[int(str(r.row)) - 2]
        lost.append({"report": src["meta_review"], "study": _study_label(src["author"], src["year"]),
                     "finding": r.factor, "reason": r.reason})
    factors = [f for f in data.factors if f.k >= config.findings.min_studies]
    too_few = tuple((f.name, f.k) for f in data.factors if f.k < config.findings.min_studies)
    table = assess_umbrella(factors, criteria)
    subgroup_of: dict[tuple[str, str], str] = {}
    heading_of: dict[str, str] = {}
    reports_of: dict[str, list[str]] = {}
    for r in frame.itertuples():
        label = _study_label(str(r.author), str(r.year))
        group = str(r.mr_subgroup)
        if config.findings.subgroups in ("report_id", "report") and report_names:
            group = report_names.get(str(r.meta_review), group)
        subgroup_of.setdefault((str(r.factor), label), group)
        heading_of.setdefault(str(r.factor), str(r.mr_heading))
        reports_of.setdefault(str(r.factor), [])
        if r.meta_review not in reports_of[str(r.factor)]:
            reports_of[str(r.factor)].append(str(r.meta_review))
    gone = {int(str(r.row)) - 2 for r in data.dropped.itertuples()}
    used = frame.drop(index=[i for i in gone if i in frame.index])
    out = []
    for fac, a in zip(factors, table.assessments, strict=True):
        mine = used[used["factor"] == fac.name]
        labels = tuple(s.strip() for s in fac.studies)
        fit = meta(fac.yi, fac.vi, method=criteria.method, pi=criteria.pi)
        rob_pct, rob_source = _rob_low_pct(labels, fit.weights, rob, a)
        grade = grade_assessment(a, rob_pct, rob_missing="not assessed", indirectness_missing="not assessed")
        shown = a
        if cs.continuous_cases == "participants" and a.measure.upper() in CONTINUOUS:
            shown = _count_participants(a)
        groups = tuple(subgroup_of.get((fac.name, lab), "not reported") for lab in labels) \
            if config.findings.subgroups else None
        out.append(Finding(
            name=fac.name, measure=fac.measure, labels=labels, yi=np.asarray(fac.yi, dtype=float),
            vi=np.asarray(fac.vi, dtype=float), n_cases=np.asarray(fac.n_cases, dtype=float),
            n_controls=np.asarray(fac.n_controls, dtype=float), assessment=shown, grade=grade, fit=fit,
            groups=groups, heading=heading_of.get(fac.name, ""), reports=tuple(reports_of.get(fac.name, [])),
            rob_source=rob_source, rob_low_pct=rob_pct,
            input_measures=tuple(sorted({"SMD" if m == "G" else str(m) for m in mine["measure"]})),
            n_effects=len(mine)))
    return FindingSet(tuple(out), criteria, config,
                      pd.DataFrame(lost, columns=["report", "study", "finding", "reason"]), too_few)


def _count_participants(a: Any) -> Any:
    """The assessment with every participant counted as a 'case' (the stated convention for continuous
    outcomes), its class recomputed from the same pooled numbers."""
    from metareview.synthesis.credibility import classify

    total = (a.n_cases if math.isfinite(a.n_cases) else 0.0) + (a.n_controls if math.isfinite(a.n_controls)
                                                                else 0.0)
    b = replace(a, n_cases=total)
    return replace(b, klass=classify(b.checks(), b.criteria))


def _rob_low_pct(labels: Sequence[str], weights: Any, rob: Mapping[str, Any] | None, assessment: Any,
                 ) -> tuple[float | None, str]:
    """GRADE's risk-of-bias input of a finding: the % of its random-effects weight in studies at low risk of
    bias (metaumbrella's rule), from the stored RoB 2 / RoB 1 forms of its studies (matched by label,
    case-insensitively; over the studies that have one); else from the effect sizes' ``rob`` field (the
    assessment's own, computed the same way); else ``None`` (not assessed). Returns it with its source."""
    if rob:
        from metareview.synthesis.risk_of_bias import rob_low_pct

        keyed = {k.strip().lower(): v for k, v in rob.items()}
        w = np.asarray(weights, dtype=float)
        found = [(keyed[lab.lower()], float(w[i])) for i, lab in enumerate(labels) if lab.lower() in keyed]
        if found:
            cover = "" if len(found) == len(labels) else f", {len(found)} of {len(labels)} studies assessed"
            return (rob_low_pct([a for a, _ in found], [x for _, x in found]),
                    f"RoB 2 / RoB 1 forms{cover}")
    pct = getattr(assessment, "rob_low_pct", math.nan)
    if pct is not None and math.isfinite(pct):
        return float(pct), "the effect sizes' rob field"
    return None, ""


def findings_frame(fs: FindingSet) -> pd.DataFrame:
    """One row per finding with the pooled numbers (analysis scale), class and GRADE (the CSV behind the
    report's tables)."""
    recs = []
    for f in fs.findings:
        a, g = f.assessment, f.grade
        extra = {k: getattr(a, k, math.nan) for k in ("tau2", "egger_p", "esb_p", "largest_pvalue")}
        recs.append({"finding": f.name, "measure": f.measure, "k": f.k, "n_cases": a.n_cases,
                     "n_controls": a.n_controls, "participants": f.participants, "estimate": a.estimate,
                     "ci_lower": a.ci_lower, "ci_upper": a.ci_upper, "pvalue": a.pvalue, "i2": a.i2,
                     "pi_lower": a.pi_lower, "pi_upper": a.pi_upper, **extra, "class": a.klass,
                     "grade": g.level, "heading": f.heading})
    return pd.DataFrame(recs)
