"""Report sections built from the synthesis results: vote counts, re-pooled forest and funnel plots,
evidence map, overlap, credibility and the methods paragraph.

Each builder takes result objects (or plain tables) and returns a :class:`~metareview.report.html.Section`
ready for :class:`~metareview.report.html.Report`::

    from metareview.report import sections
    sec = sections.repool_section(result, egger={("depression", "guided"): 0.21})
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from metareview import __version__
from metareview.report import figures
from metareview.report.html import Figure, Section, Table
from metareview.synthesis.overlap import OverlapResult
from metareview.synthesis.repool import Pooled, RepoolResult, trial_level
from metareview.synthesis.votes import AssociationTest, VoteTable

__all__ = [
    "credibility_section",
    "evidence_cells",
    "evidence_map_section",
    "fmt_ci",
    "fmt_p",
    "p_phrase",
    "methods_paragraphs",
    "overlap_section",
    "repool_section",
    "votes_section",
]


def fmt_p(p: float) -> str:
    """APA-style p: ``<.001`` or three decimals without the leading zero."""
    if not math.isfinite(p):
        return "\u2013"
    return "<.001" if p < 0.001 else f"{p:.3f}".lstrip("0")


def p_phrase(p: float) -> str:
    """``p = .004`` or ``p < .001``."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def fmt_ci(est: float, lo: float, hi: float, digits: int = 2) -> str:
    """``0.61 [0.51, 0.70]`` with true minus signs."""
    return f"{est:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]".replace("-", "\u2212")


# ------------------------------------------------------------------------------------------- vote counts


def votes_section(tables: Mapping[str, VoteTable], *, title: str, intro: Sequence[str] = (),
                  extra_tests: Sequence[tuple[str, AssociationTest]] = (), source_note: str = "") -> Section:
    """A Table-4-like vote count (n, % as published, Wilson CI per direction) with its tests and a chart."""
    recs = []
    bars = []
    labels = next(iter(tables.values())).labels if tables else ("Better", "No difference", "Worse")
    for moderator, t in tables.items():
        for i, r in enumerate(t.rows):
            cis = r.wilson(t.level)
            rec: dict[str, object] = {"Moderator": moderator if i == 0 else "",
                                      "Level": ("\u2003" if r.parent else "") + r.level, "n": r.total}
            for lab, c, pt, (lo, hi) in zip(labels, r.counts, r.pct_truncated, cis, strict=True):
                rec[lab] = f"{c} ({pt}%) [{lo:.0f}\u2013{hi:.0f}]"
            recs.append(rec)
            if r.parent is None:
                bars.append({"level": f"{moderator}: {r.level}", "better": r.counts[0],
                             "no_difference": r.counts[1], "worse": r.counts[2]})
    tests = [f"{m}: {t.test.method}, {p_phrase(t.test.pvalue)}" for m, t in tables.items() if t.test]
    tests += [f"{name}: {test.method}, {p_phrase(test.pvalue)}" for name, test in extra_tests]
    note = ("Cells: count (percentage truncated to an integer, as printed in the source) [Wilson 95% CI, %]. "
            "Tests of association between moderator and direction (top-level rows): "
            + "; ".join(tests) + ".")
    if source_note:
        note += " " + source_note
    chart = figures.vote_bars(pd.DataFrame(bars), labels=dict(zip(figures.DIRECTION_COLOURS, labels,
                                                                     strict=True)))
    return Section(
        title, paragraphs=list(intro),
        tables=[Table("Vote count of effect sizes by moderator.", pd.DataFrame(recs), note=note,
                      name="vote-count")],
        figures=[Figure("Vote count of effect sizes by moderator (top-level categories).",
                        figures.to_data_uri(chart))],
    )


# ------------------------------------------------------------------------------------------- re-pooling


def _forest_rows(p: Pooled, label: str) -> pd.DataFrame:
    t = trial_level(p.effects)
    t = t.sort_values("yi", ascending=False)
    return pd.DataFrame({
        "group": label, "label": t["study"].astype(str), "yi": t["yi"], "ci_lower": t["yi"] - 1.96 * t["se"],
        "ci_upper": t["yi"] + 1.96 * t["se"], "weight": 1 / t["vi"],
    })


def _group_label(p: Pooled) -> str:
    names = {"guided": "Guided self-help", "unguided": "Unguided self-help",
             "head-to-head": "Head-to-head (guided \u2212 unguided)"}
    return names.get(p.group, p.group)


def repool_section(result: RepoolResult, *, egger: Mapping[tuple[str, str], float] | None = None,
                   title: str = "Re-pooled randomised trials: guided vs unguided", intro: Sequence[str] = (),
                   ) -> Section:
    """Summary table of all pools and tests, then per outcome a forest plot and a funnel plot.

    ``egger`` maps ``(outcome, group)`` to Egger's test p-value (shown in the funnel panels).
    """
    egger = egger or {}
    recs = []
    last = ""
    for p in [*result.pooled, *result.head_to_head]:
        d = result.difference_for(p.outcome) if p.group != "head-to-head" else None
        first = p.outcome != last
        last = p.outcome
        recs.append({
            "Outcome": p.outcome if first else "", "Support": _group_label(p),
            "Trials (effects)": f"{p.k_trials} ({p.k_effects})", "N": p.n_participants,
            "g [95% CI]": fmt_ci(p.estimate, p.ci_lower, p.ci_upper)
            + ("\u2020" if p.model == "two-level" else ""),
            "p": fmt_p(p.pvalue),
            "95% PI": fmt_ci(p.estimate, p.pi_lower, p.pi_upper).split(" ", 1)[1]
            if math.isfinite(p.pi_lower) else "\u2013",
            "Egger p": fmt_p(egger.get((p.outcome, p.group), math.nan)),
            "Guided \u2212 unguided [95% CI], p": f"{fmt_ci(d.estimate, d.ci_lower, d.ci_upper)}, "
                                                  f"{p_phrase(d.pvalue)}" if d is not None and first else "",
        })
    summary = Table(
        "Pooled effects of digital self-help vs inactive control, by outcome and support, with the test of "
        "the difference (meta-regression on guided) and head-to-head pools.", pd.DataFrame(recs), digits=3,
        note="g: Hedges' g, positive favours self-help (head-to-head: favours guided). N: participants. "
             "Three-level model (effects nested in trials, REML); \u2020 two-level model (every trial "
             "contributes one effect). PI: 95% prediction interval (z; both variance components). Egger's "
             "test on trial-level effects. Variance components are in the CSV/XLSX tables.",
        name="repooled-effects", data=result.to_frame(),
    )
    subsections = []
    for outcome in dict.fromkeys(p.outcome for p in [*result.pooled, *result.head_to_head]):
        pools = [p for p in result.pooled if p.outcome == outcome]
        h2h = [p for p in result.head_to_head if p.outcome == outcome]
        sub = Section(outcome[0].upper() + outcome[1:])
        if pools:
            rows = pd.concat([_forest_rows(p, _group_label(p)) for p in pools], ignore_index=True)
            diamonds = {_group_label(p): figures.Diamond(
                f"Pooled ({p.k_trials} trials, {p.k_effects} effects)", p.estimate, p.ci_lower, p.ci_upper,
                (p.pi_lower, p.pi_upper)) for p in pools}
            d = result.difference_for(outcome)
            footer = ("Test of difference: not estimable (a subgroup has fewer than two trials)" if d is None
                      else f"Test of difference (guided \u2212 unguided): "
                           f"{fmt_ci(d.estimate, d.ci_lower, d.ci_upper)}, {p_phrase(d.pvalue)}")
            fig = figures.forest(rows, diamonds, title=f"{sub.title}: digital self-help vs control",
                                 footer=footer)
            sub.figures.append(Figure(
                f"Forest plot, {outcome}: trial-level effects (mean of a trial's effects; squares sized by "
                f"precision) by support, with three-level pooled diamonds (dashed: 95% prediction interval). "
                f"{footer}.", figures.to_data_uri(fig)))
            panels = []
            for p in pools:
                t = trial_level(p.effects)
                ep = egger.get((outcome, p.group), math.nan)
                panels.append((_group_label(p), t, p.estimate,
                               f"Egger {p_phrase(ep)}" if math.isfinite(ep) else "Egger: k < 3"))
            sub.figures.append(Figure(
                f"Funnel plots, {outcome}: trial-level effects against their standard error, centred on the "
                f"pooled effect, with Egger's regression test for small-study effects.",
                figures.to_data_uri(figures.funnel(panels))))
        if h2h:
            p = h2h[0]
            rows = _forest_rows(p, _group_label(p))
            fig = figures.forest(rows, {_group_label(p): figures.Diamond(
                f"Pooled ({p.k_trials} trials, {p.k_effects} contrasts)", p.estimate, p.ci_lower, p.ci_upper,
                (p.pi_lower, p.pi_upper))}, title=f"{sub.title}: head-to-head", favours=("Favours unguided",
                                                                                        "Favours guided"))
            sub.figures.append(Figure(
                f"Head-to-head contrasts, {outcome}: guided minus unguided arm of the same trial "
                f"(shared control; covariance by Gleser & Olkin 2009).", figures.to_data_uri(fig)))
        subsections.append(sub)
    return Section(title, paragraphs=list(intro), tables=[summary], subsections=subsections)


# ------------------------------------------------------------------------------------------- evidence map


def evidence_cells(result: RepoolResult) -> pd.DataFrame:
    """Evidence-map cells from re-pooled results: one per outcome x support, ``k`` = trials,
    direction = significance of the pooled effect vs control (head-to-head: guided vs unguided)."""
    recs = []
    for p in [*result.pooled, *result.head_to_head]:
        sig = p.ci_lower > 0 or p.ci_upper < 0
        direction = "no_difference" if not sig else ("better" if p.estimate > 0 else "worse")
        recs.append({"column": p.outcome, "row": _group_label(p), "k": p.k_trials, "direction": direction})
    return pd.DataFrame(recs)


def evidence_map_section(cells: pd.DataFrame, *, title: str = "Evidence map", intro: Sequence[str] = (),
                         caption: str = "", row_title: str = "Support",
                         size_label: str = "number of trials (k)") -> Section:
    """An evidence map (outcome x ``row_title``; bubble size = k; colour = direction) with its data table."""
    fig = figures.evidence_map(cells, size_label=size_label,
                               labels={"better": "Significant benefit",
                                       "no_difference": "No significant difference",
                                       "worse": "Significant harm / reverse"})
    table = cells.rename(columns={"column": "Outcome", "row": row_title, "k": "k", "direction": "Direction"})
    return Section(title, paragraphs=list(intro), figures_first=True,
                   figures=[Figure(caption or "Evidence map: outcome by support; bubble area is proportional "
                                   "to the number of trials; colour gives the direction and significance.",
                                   figures.to_data_uri(fig))],
                   tables=[Table("Evidence map data.", table, name="evidence-map")])


# ------------------------------------------------------------------------------------------- overlap


def overlap_section(result: OverlapResult, *, title: str = "Overlap between reviews",
                    intro: Sequence[str] = ()) -> Section:
    """Overall and pairwise corrected covered area (Pieper 2014), table and heatmap."""
    o = result.overall
    text = (f"Across {o.c} reviews with {o.n} inclusions of {o.r} unique primary studies, the corrected "
            f"covered area was {o.cca_pct:.2f}% ({o.band} overlap by Pieper's bands).")
    frame = result.to_frame()
    shown = pd.DataFrame({
        "Reviews": frame["reviews"], "Shared studies": frame["overlapping"].astype("Int64"), "N": frame["N"],
        "r": frame["r"], "c": frame["c"], "CCA (%)": frame["cca_pct"], "Pieper band": frame["band"]})
    fig = figures.overlap_heatmap(result.pairwise_matrix())
    return Section(title, paragraphs=[*intro, text], figures_first=True,
                   tables=[Table("Corrected covered area, pairwise and overall (N inclusions, r unique "
                                 "studies, c reviews).", shown, name="overlap-cca", data=frame)],
                   figures=[Figure("Pairwise overlap (corrected covered area, %) between reviews.",
                                   figures.to_data_uri(fig))])


# ------------------------------------------------------------------------------------------- credibility


def credibility_section(frame: pd.DataFrame, *, title: str = "Credibility of the pooled findings",
                        intro: Sequence[str] = (), note: str = "") -> Section:
    """The credibility table (class I-IV/ns with the criteria behind it)."""
    shown = pd.DataFrame({
        "Finding": frame["name"], "k": frame["k"], "N": frame["n_cases"].round().astype("Int64"),
        "g [95% CI]": [fmt_ci(e, lo, hi) for e, lo, hi in zip(frame["estimate"], frame["ci_lower"],
                                                                 frame["ci_upper"], strict=True)],
        "p": frame["pvalue"].map(fmt_p), "I\u00b2 (%)": frame["i2"],
        "95% PI": [fmt_ci(0, lo, hi).split(" ", 1)[1] for lo, hi in zip(frame["pi_lower"], frame["pi_upper"],
                                                                        strict=True)],
        "Egger p": frame["egger_p"].map(fmt_p), "Excess sig. p": frame["esb_p"].map(fmt_p),
        "Largest trial p": frame["largest_pvalue"].map(fmt_p), "Class": frame["klass"],
    }) if len(frame) else frame
    counts = frame["klass"].value_counts() if "klass" in frame else pd.Series(dtype=int)
    summary = ", ".join(f"class {k}: {int(counts[k])}" for k in ("I", "II", "III", "IV", "ns") if k in counts)
    return Section(title, paragraphs=[*intro, f"Of {len(frame)} findings: {summary}."],
                   tables=[Table("Credibility of each pooled finding (Ioannidis / Fusar-Poli & Radua "
                                 "classes).", shown, note=note, name="credibility", digits=1, data=frame)])


# ------------------------------------------------------------------------------------------- methods


def methods_paragraphs(*, method: str = "REML", level: float = 95.0, pi: str = "z",
                       extra: Sequence[str] = (), repooling: bool = True) -> list[str]:
    """The methods paragraph(s): software version, estimators and conventions. With ``repooling=False``
    (no primary-study effects were re-pooled) only the software sentence and ``extra``."""
    if not repooling:
        return [f"Analyses were run with metareview {__version__} (Python; numpy {np.__version__}, pandas "
                f"{pd.__version__}).", *extra]
    pi_text = {"z": "the standard normal quantile (metafor's default)",
               "t": "a t distribution with k \u2212 1 df",
               "riley": "a t distribution with k \u2212 2 df (Riley et al. 2011)"}[pi]
    return [
        f"Analyses were run with metareview {__version__} (Python; numpy {np.__version__}, pandas "
        f"{pd.__version__}), whose statistics are validated against R's metafor. Effect sizes are Hedges' g "
        "(positive values favour the intervention). Several effects from one trial were pooled with a "
        "three-level random-effects model (effects nested in trials; metafor's rma.mv with random = ~ 1 | "
        f"trial/effect), variance components estimated by {method}; where every trial contributed a single "
        f"effect the usual random-effects model (rma.uni, {method} \u03c4\u00b2) was used. Confidence "
        f"intervals ({level:g}%) use Wald-type z tests. Prediction intervals use {pi_text} and the sum of "
        "the variance components plus the squared standard error.",
        "The difference between guided and unguided self-help was tested by meta-regression on a guided "
        "indicator in the same model; head-to-head contrasts (guided minus unguided arm of one trial) use "
        "the covariance induced by the shared control group (Gleser & Olkin 2009). Tests that assume "
        "independent effects (Egger's regression test, excess significance, credibility criteria) use one "
        "effect per trial (the mean of its effects, with the mean standard error, i.e. assuming fully "
        "correlated effects).",
        *extra,
    ]
