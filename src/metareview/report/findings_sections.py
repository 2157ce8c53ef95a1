"""Report sections of the pooled findings (:mod:`metareview.report.findings`): per finding a forest plot of
its primary studies (grouped by ``[findings] subgroups`` when set) and a contour-enhanced funnel plot with
trim-and-fill; the credibility forest and table; the GRADE Summary-of-findings table. Every number shown for a
finding is its one pooled estimate (:attr:`Finding.assessment`).

    secs = findings_sections(build_findings(bundle.effect_sizes, config))
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from metareview.report import plots
from metareview.report.findings import CONTINUOUS, Finding, FindingSet, findings_frame
from metareview.report.html import Figure, Section, Table
from metareview.report.plots._base import RATIO_MEASURES, fmt_interval
from metareview.report.sections import fmt_p
from metareview.report.sof import summary_of_findings

#: forest plots longer than this many rows are drawn on several figures (one printed page each)
FOREST_ROWS_PER_PAGE = 45

__all__ = ["FOREST_ROWS_PER_PAGE", "credibility_findings_section", "findings_methods", "findings_sections",
           "forest_section", "sof_section"]


def _ptext(p: float) -> str:
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _finding_figures(f: Finding, criteria: Any, subgroup_title: str) -> list[Figure]:
    """The finding's forest plot (subgroups when set) and funnel plot (contours, trim-and-fill)."""
    from metareview.stats import subgroup, trimfill
    from metareview.stats.errors import StatsInputError

    a = f.assessment
    summary = plots.Summary(a.estimate, a.ci_lower, a.ci_upper, a.pi_lower, a.pi_upper, k=f.k)
    sub = None
    groups = f.groups
    if groups is not None and len(set(groups)) >= 2:
        try:
            sub = subgroup(f.yi, f.vi, list(groups), method=criteria.method)
        except StatsInputError:
            sub = None
    elif groups is not None:
        groups = None
    head = [f"Random-effects model ({criteria.method}); prediction interval: t with k \u2212 1 df"
            if criteria.pi == "t" else f"Random-effects model ({criteria.method})"]
    forests = plots.forest_pages(summary, yi=f.yi, vi=f.vi, labels=list(f.labels),
                                 groups=list(groups) if groups else None, subgroups=sub,
                                 weights=f.fit.weights,
                                 measure=f.measure, overall_label=f"Random-effects model (k = {f.k})",
                                 title=f.name, footer=head, rows_per_page=FOREST_ROWS_PER_PAGE)
    tf = None
    if f.k >= 3:
        try:
            tf = trimfill(f.yi, f.vi, method=criteria.method)
        except StatsInputError:
            tf = None
    egger_p = getattr(a, "egger_p", math.nan)
    egger = f"Egger {_ptext(egger_p)}" if math.isfinite(egger_p) else "Egger: k < 3"
    funnel = plots.funnel(summary, yi=f.yi, vi=f.vi, trimfill=tf, contours=(90, 95, 99), measure=f.measure,
                          title=f.name, note=egger)
    tf_text = ""
    if tf is not None:
        m = tf.model
        ratio = f.measure.upper() in RATIO_MEASURES
        tf_text = (f" Trim and fill ({tf.estimator}) imputes {tf.k0} stud{'y' if tf.k0 == 1 else 'ies'} on "
                   "the "
                   f"{tf.side} side; adjusted estimate "
                   f"{fmt_interval(m.estimate, m.ci_lower, m.ci_upper, math.exp if ratio else None)}.")
    sub_text = ""
    if sub is not None:
        sub_text = (f" Studies are grouped by {subgroup_title or 'subgroup'}; test for subgroup differences "
                    f"Q({sub.q_between_df}) = {sub.q_between:.2f}, {_ptext(sub.q_between_pvalue)}.")
    parts = len(forests)
    return [
        *(Figure(f"Forest plot, {f.name}{f' (part {i} of {parts})' if parts > 1 else ''}: each primary "
                 "study's effect with its 95% CI and its weight in the random-effects model, the pooled "
                 "estimate "
                 f"(diamond) and its 95% prediction interval.{sub_text}", plot=fig,
                 name=f"forest-{f.name}" + (f"-part-{i}" if parts > 1 else ""))
          for i, fig in enumerate(forests, start=1)),
        Figure(f"Contour-enhanced funnel plot, {f.name}: effects against their standard error; shaded "
               "regions "
               f"of two-sided significance (p > .10, .05 to .10, .01 to .05, < .01) around the null; dashed: "
               f"the pooled estimate; open circles: studies imputed by trim and fill. {egger}.{tf_text}",
               plot=funnel, name=f"funnel-{f.name}"),
    ]


def forest_section(fs: FindingSet, *, subgroup_title: str = "") -> Section:
    """Per finding a subsection with its forest and funnel plots; the effect sizes left out of the pooling."""
    subs = [Section(f.name, figures=_finding_figures(f, fs.criteria, subgroup_title)) for f in fs.findings]
    paragraphs = [f"{len(fs.findings)} findings were pooled from the primary-study effects of the included "
                  "reviews. Each is shown with its forest plot and its funnel plot."]
    tables = []
    if fs.too_few:
        paragraphs.append("Not pooled (fewer than "
                          f"{fs.config.findings.min_studies} studies): "
                          + "; ".join(f"{n} (k = {k})" for n, k in fs.too_few) + ".")
    if len(fs.dropped):
        paragraphs.append(f"{len(fs.dropped)} extracted effect sizes could not be pooled; they are listed "
                          "with "
                          "the reason.")
        tables.append(Table("Effect sizes left out of the pooling, with the reason.",
                            fs.dropped.rename(columns=str.capitalize), name="effects-left-out"))
    return Section("Pooled findings: forest and funnel plots", paragraphs=paragraphs, tables=tables,
                   subsections=subs)


def credibility_findings_section(fs: FindingSet, *, heading_title: str = "") -> Section:
    """The credibility forest (one row per finding with its class) and the table of criteria."""
    from metareview.synthesis.credibility import CLASSES

    cfg = fs.config
    groups = {f.name: f.heading for f in fs.findings} if cfg.findings.heading else None
    fig = plots.credibility_forest(fs.assessments, groups=groups, equivalent=cfg.findings.equivalent or None)
    recs = []
    for f in fs.findings:
        a = f.assessment
        tf = math.exp if f.measure.upper() in RATIO_MEASURES else None
        pi = (fmt_interval(0.0, a.pi_lower, a.pi_upper, tf).split(" ", 1)[1]
              if math.isfinite(a.pi_lower) else "\u2013")
        recs.append({"Finding": f.name, **({heading_title or "Group": f.heading} if groups else {}),
                     "Measure": f.measure, "k": f.k,
                     "Cases": round(a.n_cases) if math.isfinite(a.n_cases) else None,
                     "Estimate [95% CI]": fmt_interval(a.estimate, a.ci_lower, a.ci_upper, tf),
                     "p": _sci(a.pvalue), "I\u00b2 (%)": a.i2, "95% PI": pi,
                     "Egger p": fmt_p(getattr(a, "egger_p", math.nan)),
                     "Excess sig. p": fmt_p(getattr(a, "esb_p", math.nan)),
                     "Largest study p": _sci(getattr(a, "largest_pvalue", math.nan)),
                     "Class": a.klass})
    counts = {c: sum(f.assessment.klass == c for f in fs.findings) for c in CLASSES}
    summary = ", ".join(f"class {c}: {n}" for c, n in counts.items() if n)
    cc = cfg.credibility
    cases = ("For continuous outcomes (SMD, MD) 'cases' are all participants (the stated convention of this "
             "review's report.toml)." if cc.continuous_cases == "participants" else
             "For continuous outcomes (SMD, MD) 'cases' are the participants of the case (exposed or "
             "experimental) group, as metaumbrella counts them (report.toml: continuous_cases = \"cases\").")
    note = ("Classes (Fusar-Poli & Radua 2018): I convincing, II highly suggestive, III suggestive, IV "
            "weak, "
            f"ns not significant. Criteria: more than {cc.min_cases:g} cases for I\u2013III; p < "
            "10\u207b\u2076 "
            "(I, II), < 10\u207b\u00b3 (III), < .05 (IV); class I also needs I\u00b2 < 50%, a 95% prediction "
            "interval excluding the null, Egger p > .05 and no excess significance (p > .05); class II the "
            f"largest study significant. {cases} Estimates are on the ratio scale for OR/RR/HR, else as "
            "measured; p-values below .001 in scientific notation.")
    any_continuous = any(f.measure.upper() in CONTINUOUS for f in fs.findings)
    if not any_continuous:
        note = note.replace(f" {cases}", "")
    paragraphs = [f"Of {len(fs.findings)} findings: {summary}."]
    return Section("Credibility of the findings", paragraphs=paragraphs, figures_first=True,
                   figures=[Figure("Credibility forest: each finding's pooled estimate with its 95% CI "
                                   "(thick) and "
                                   "95% prediction interval (thin), coloured by its class."
                                   + (" \u2020 SMD findings (Hedges' g) drawn as equivalent odds ratios "
                                      "(log OR = g\u00b7\u03c0/\u221a3, Chinn 2000)."
                                      if cfg.findings.equivalent else ""),
                                   plot=fig, name="credibility-forest")],
                   tables=[Table("Credibility of each finding (Ioannidis / Fusar-Poli & Radua classes).",
                                 pd.DataFrame(recs), note=note, digits=1, name="credibility",
                                 data=findings_frame(fs))])


def _sci(p: float) -> str:
    if not math.isfinite(p):
        return "\u2013"
    return f"{p:.1e}".replace("e-0", "e\u2212").replace("e-", "e\u2212") if p < 0.001 else fmt_p(p)


def sof_section(fs: FindingSet) -> Section:
    """The GRADE Summary-of-findings table with lettered footnotes for each downgrade."""
    sof = summary_of_findings(fs.findings, settings=fs.config.summary_of_findings)
    frame = sof.frame
    for col in ("Risk without", "Risk with (95% CI)"):
        if col in frame and (frame[col] == "\u2013").all():
            frame = frame.drop(columns=col)
    st = fs.config.summary_of_findings
    note = ("Certainty: an algorithmic GRADE rating with metaumbrella's rules (risk of bias, inconsistency, "
            "indirectness, imprecision, publication bias, fewer than 5 studies), from this review's own "
            "appraisals; not a substitute for the team's judgement. A domain with no input (no risk-of-bias "
            "forms for the finding's studies, no indirectness judgement in the effect field 'indirectness') "
            "was not assessed and not downgraded for: the rating is then marked provisional and the domain "
            "named in a footnote. Relative effects on the ratio scale; continuous findings as the difference "
            "in their measure.")
    if sof.assumed_risks:
        risks = sorted(set(sof.assumed_risks.values()))
        src = f" ({st.control_risk_source})" if st.control_risk_source else ""
        note += (f" Absolute effects assume a risk without the exposure of "
                 f"{', '.join(f'{st.per * r:g} per {st.per:,}' for r in risks)}{src}; risk with it from the "
                 "ratio (OR: OR\u00b7p0/(1 \u2212 p0 + OR\u00b7p0); RR: RR\u00b7p0; HR: 1 \u2212 (1 \u2212 "
                 "p0)^HR).")
    elif any(f.measure.upper() in {"OR", "RR", "HR", "IRR"} for f in fs.findings):
        note += (" No absolute effect is given for ratio measures: report.toml states no assumed control "
                 "risk "
                 "([summary_of_findings] control_risk).")
    return Section("Summary of findings (GRADE)", tables=[Table(
        "Summary of findings: relative and absolute effects, participants and certainty of the evidence.",
        frame, note=note, notes=sof.footnotes, name="summary-of-findings", data=sof.data)])


def findings_sections(fs: FindingSet, *, subgroup_title: str = "", heading_title: str = "") -> list[Section]:
    """Forest and funnel plots per finding, credibility, Summary of findings (nothing when no finding)."""
    if not fs.findings:
        return []
    return [forest_section(fs, subgroup_title=subgroup_title),
            credibility_findings_section(fs, heading_title=heading_title), sof_section(fs)]


def _conversions(fs: FindingSet) -> str:
    """The conversions and merges that happened, said only for the findings they happened to."""
    mixed = [f for f in fs.findings if len(f.input_measures) > 1]
    merged = [f for f in fs.findings if f.n_effects > f.k]
    text = ""
    if mixed:
        text += (f"; in {len(mixed)} finding{'s' if len(mixed) != 1 else ''} mixing measures the effects "
                 "were converted to one scale as metaumbrella converts them (odds ratios to g by Chinn's "
                 "formula; risk and hazard ratios beside odds ratios to odds ratios)")
    if merged:
        text += (f"; in {len(merged)} finding{'s' if len(merged) != 1 else ''} several effects of one study "
                 "were combined before pooling (outcomes averaged with a within-study correlation, "
                 "independent groups pooled)")
    return text


def _grade_inputs(fs: FindingSet) -> str:
    """What the GRADE ratings were given, said only for what there was."""
    n = len(fs.findings)
    forms = sum(1 for f in fs.findings if f.rob_source.startswith("RoB"))
    field = sum(1 for f in fs.findings if f.rob_source and not f.rob_source.startswith("RoB"))
    judged = sum(1 for f in fs.findings if getattr(f.grade, "indirectness_assessed", False))
    provisional = sum(1 for f in fs.findings if getattr(f.grade, "provisional", False))
    parts = []
    if forms:
        parts.append(f"risk of bias as the share of the random-effects weight in studies at low risk in the "
                     f"primary studies' risk-of-bias forms ({forms} of {n} findings)")
    if field:
        parts.append(f"risk of bias from the effect sizes' rob field ({field} of {n} findings)")
    if judged:
        parts.append(f"indirectness as judged per finding ({judged} of {n})")
    text = f"; {'; '.join(parts)}" if parts else ""
    if provisional:
        text += (f"; {provisional} of {n} ratings are provisional: a domain without any input was not "
                 "assessed and not downgraded for (metaumbrella would assume the worst)")
    return text


def findings_methods(fs: FindingSet) -> list[str]:
    """What the findings sections ran, in Methods sentences."""
    if not fs.findings:
        return []
    c = fs.criteria
    pi = {"t": "a t distribution with k \u2212 1 degrees of freedom", "z": "the standard normal distribution",
          "riley": "a t distribution with k \u2212 2 degrees of freedom (Riley et al. 2011)"}.get(c.pi, c.pi)
    measures = sorted({f.measure for f in fs.findings})
    c_esb = getattr(c, "esb_method", "TESSPSST")
    esb = ("excess significance was tested with TESS and PSST combined (Stanley et al. 2021; true effect "
           "the unrestricted weighted least squares mean), as metaumbrella does by default"
           if c_esb == "TESSPSST" else f"excess significance was tested with {c_esb}")
    out = [
        f"Each of {len(fs.findings)} findings was pooled from its primary-study effects "
        f"({', '.join(measures)}; "
        "ratio measures on the log scale, standardised mean differences as Hedges' g) with a random-effects "
        f"model, the between-study variance estimated by {c.method}, Wald-type 95% confidence intervals and "
        f"z tests, and 95% prediction intervals from {pi}; heterogeneity as I\u00b2 "
        f"({'from Cochran' + chr(39) + 's Q' if c.i2 == 'q' else 'from the estimated variance'}). As "
        "metaumbrella 1.1.0 does (metareview.synthesis.umbrella_input), each study's effect was taken from "
        "the estimate with its 95% CI or standard error where one was given, else computed from its 2\u00d72 "
        "counts or means and standard deviations" + _conversions(fs) + ".",
        "Small-study effects were tested with Egger's regression test and shown in contour-enhanced funnel "
        "plots (Peters et al. 2008) with the studies trim and fill (Duval & Tweedie 2000, L0 estimator) "
        f"would impute; {esb}. Each finding was classed by the Fusar-Poli & Radua (2018) criteria and "
        "rated by an algorithmic GRADE with metaumbrella's rules (risk of bias, inconsistency from the 95% "
        "CI against the prediction interval, indirectness, imprecision, publication bias, fewer than 5 "
        "studies)" + _grade_inputs(fs) + ".",
    ]
    if any(f.groups and len(set(f.groups)) > 1 for f in fs.findings):
        out.append("Within a finding, the difference between subgroups of studies was tested with Cochran's "
                   "Q "
                   "on the subgroup estimates (each subgroup with its own \u03c4\u00b2).")
    if fs.config.summary_of_findings.control_risk is not None or fs.config.summary_of_findings.control_risks:
        out.append("Absolute effects of ratio measures were derived from an assumed control risk as GRADEpro "
                   "derives them (Cochrane Handbook, chapter 14).")
    return out
