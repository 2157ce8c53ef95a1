"""Report sections built from the synthesis results: vote counts, re-pooled forest and funnel plots,
evidence map, overlap, credibility and the software paragraph of the methods.

Each builder takes result objects (or plain tables) and returns a :class:`~metareview.report.html.Section`
ready for :class:`~metareview.report.html.Report`::

    from metareview.report import sections
    sec = sections.repool_section(result, egger={("depression", "guided"): 0.21}, labels={"guided": "With
    support"})
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metareview import __version__
from metareview.report import figures, plots
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
        figures=[Figure("Vote count of effect sizes by moderator (top-level categories).", plot=chart,
                        name="vote-count")],
    )


# ------------------------------------------------------------------------------------------- re-pooling


def _group_label(group: str, labels: Mapping[str, str]) -> str:
    return labels.get(group, group[:1].upper() + group[1:])


def repool_section(result: RepoolResult, *, egger: Mapping[tuple[str, str], float] | None = None,
                   title: str = "Re-pooled primary studies", intro: Sequence[str] = (),
                   labels: Mapping[str, str] | None = None, effect: str = "g",
                   effect_note: str = "g: Hedges' g.", favours: tuple[str, str] | None = None,
                   contrast: str = "difference between the groups") -> Section:
    """Summary table of all pools and tests, then per outcome a forest plot and a funnel plot.

    ``egger`` maps ``(outcome, group)`` to Egger's test p-value (shown in the funnel panels); ``labels``
    names the groups (e.g. ``{"guided": "With support"}``; default: the group's own name), ``effect``
    the effect size in column heads, ``effect_note`` explains it under the table, ``favours`` labels the
    two sides of the forest plots and ``contrast`` names the test of difference.
    """
    egger = egger or {}
    labels = labels or {}
    recs = []
    last = ""
    for p in [*result.pooled, *result.head_to_head]:
        d = result.difference_for(p.outcome) if p.group != "head-to-head" else None
        first = p.outcome != last
        last = p.outcome
        recs.append({
            "Outcome": p.outcome if first else "", "Group": _group_label(p.group, labels),
            "Trials (effects)": f"{p.k_trials} ({p.k_effects})", "N": p.n_participants,
            f"{effect} [95% CI]": fmt_ci(p.estimate, p.ci_lower, p.ci_upper)
            + ("\u2020" if p.model == "two-level" else ""),
            "p": fmt_p(p.pvalue),
            "95% PI": fmt_ci(p.estimate, p.pi_lower, p.pi_upper).split(" ", 1)[1]
            if math.isfinite(p.pi_lower) else "\u2013",
            "Egger p": fmt_p(egger.get((p.outcome, p.group), math.nan)),
            "Difference [95% CI], p": f"{fmt_ci(d.estimate, d.ci_lower, d.ci_upper)}, "
                                       f"{p_phrase(d.pvalue)}" if d is not None and first else "",
        })
    summary = Table(
        f"Pooled effects by outcome and group, with the test of the {contrast} (meta-regression) and "
        "head-to-head pools.", pd.DataFrame(recs), digits=3,
        note=f"{effect_note} N: participants. Three-level model (effects nested in trials, REML); \u2020 "
             "two-level model (every trial contributes one effect). PI: 95% prediction interval (z; both "
             "variance components). Egger's test on trial-level effects. Variance components are in the "
             "CSV/XLSX tables.",
        name="repooled-effects", data=result.to_frame(),
    )
    subsections = []
    for outcome in dict.fromkeys(p.outcome for p in [*result.pooled, *result.head_to_head]):
        pools = [p for p in result.pooled if p.outcome == outcome]
        h2h = [p for p in result.head_to_head if p.outcome == outcome]
        sub = Section(outcome[0].upper() + outcome[1:])
        if pools:
            d = result.difference_for(outcome)
            footer = (f"Test of the {contrast}: not estimable (a group has fewer than two trials)"
                      if d is None
                      else f"Test of the {contrast}: {fmt_ci(d.estimate, d.ci_lower, d.ci_upper)}, "
                           f"{p_phrase(d.pvalue)}")
            pages = _pools_forest(pools, labels, f"{sub.title}", effect, favours, [footer])
            for i, page in enumerate(pages, start=1):
                part = f" (part {i} of {len(pages)})" if len(pages) > 1 else ""
                sub.figures.append(Figure(
                    f"Forest plot, {outcome}{part}: trial-level effects (mean of a trial's effects; squares "
                    "sized "
                    f"by precision) by group, with three-level pooled diamonds. {footer}.", plot=page,
                    name=f"forest-{outcome}" + (f"-part-{i}" if len(pages) > 1 else "")))
            sub.figures.append(Figure(
                f"Funnel plots, {outcome}: trial-level effects against their standard error, centred on the "
                f"pooled effect (pseudo 95% confidence region), with Egger's regression test.",
                plot=_pools_funnel(pools, labels, egger, effect), name=f"funnel-{outcome}"))
        if h2h:
            p = h2h[0]
            h2h_pages = _pools_forest([p], labels, f"{sub.title}: head-to-head", effect, None, [])
            for i, page in enumerate(h2h_pages, start=1):
                sub.figures.append(Figure(
                    f"Head-to-head contrasts, {outcome}: the difference between the two arms of the same "
                    "trial "
                    f"(shared control; covariance by Gleser & Olkin 2009).", plot=page,
                    name=f"forest-{outcome}-head-to-head" + (f"-part-{i}" if i > 1 else "")))
        subsections.append(sub)
    return Section(title, paragraphs=list(intro), tables=[summary], subsections=subsections)


def _pools_forest(pools: Sequence[Pooled], labels: Mapping[str, str], title: str, effect: str,
                  favours: tuple[str, str] | None, footer: Sequence[str]) -> list[Any]:
    """Forest plot of trial-level effects grouped by pool, each pool's three-level estimate as its diamond
    (on several pages when long)."""
    frames = []
    for p in pools:
        t = trial_level(p.effects).sort_values("yi", ascending=False)
        frames.append(t.assign(group=_group_label(p.group, labels),
                               weight=100 * (1 / t["vi"]) / (1 / t["vi"]).sum()))
    rows = pd.concat(frames, ignore_index=True)
    summaries = {_group_label(p.group, labels): plots.Summary(p.estimate, p.ci_lower, p.ci_upper, p.pi_lower,
                                                              p.pi_upper, k=p.k_trials) for p in pools}
    return plots.forest_pages(yi=rows["yi"].to_numpy(dtype=float), vi=rows["vi"].to_numpy(dtype=float),
                        labels=rows["study"].astype(str).tolist(), groups=rows["group"].tolist(),
                        subgroups=summaries, weights=rows["weight"].to_numpy(dtype=float), show_weights=False,
                        title=title, xlab=effect, annotation_header=f"{effect} [95% CI]", favours=favours,
                        footer=footer)


def _pools_funnel(pools: Sequence[Pooled], labels: Mapping[str, str], egger: Mapping[tuple[str, str], float],
                  effect: str) -> object:
    """One funnel panel per pool, side by side, each centred on its pooled estimate."""
    from metareview.report.plots._base import new_figure, style

    fig = new_figure(3.6 * len(pools), 3.3)
    with style():
        axes = fig.subplots(1, len(pools), squeeze=False)[0]
        for ax, p in zip(axes, pools, strict=True):
            t = trial_level(p.effects)
            ep = egger.get((p.outcome, p.group), math.nan)
            note = f"Egger {p_phrase(ep)}" if math.isfinite(ep) else "Egger: k < 3"
            plots.funnel(plots.Summary(p.estimate, p.ci_lower, p.ci_upper), yi=t["yi"].to_numpy(dtype=float),
                         vi=t["vi"].to_numpy(dtype=float),
                         title=_group_label(p.group, labels), xlab=effect, note=note, ax=ax)
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------- evidence map


def evidence_cells(result: RepoolResult, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Evidence-map cells from re-pooled results: one per outcome x group, ``k`` = trials,
    direction = significance of the pooled effect (head-to-head: of the difference between the arms)."""
    recs = []
    for p in [*result.pooled, *result.head_to_head]:
        sig = p.ci_lower > 0 or p.ci_upper < 0
        direction = "no_difference" if not sig else ("better" if p.estimate > 0 else "worse")
        recs.append({"column": p.outcome, "row": _group_label(p.group, labels or {}), "k": p.k_trials,
                     "direction": direction})
    return pd.DataFrame(recs)


def evidence_map_section(cells: pd.DataFrame, *, title: str = "Evidence map", intro: Sequence[str] = (),
                         caption: str = "", row_title: str = "Group",
                         size_label: str = "number of trials (k)",
                         labels: Sequence[str] = ("Significant benefit", "No significant difference",
                                                  "Significant harm / reverse")) -> Section:
    """An evidence map (outcome x ``row_title``; bubble size = k; colour = direction) with its data table."""
    words = dict(zip(("better", "no_difference", "worse"), labels, strict=True))
    fig = figures.evidence_map(cells, size_label=size_label, labels=words)
    table = cells.rename(columns={"column": "Outcome", "row": row_title, "k": "k", "direction": "Direction"})
    table["Direction"] = table["Direction"].map(lambda d: words.get(d, d))  # the words of the figure's legend
    return Section(title, paragraphs=list(intro), figures_first=True,
                   figures=[Figure(caption or "Evidence map: outcome by group; bubble area is proportional "
                                   "to the number of trials; colour gives the direction and significance.",
                                   plot=fig, name="evidence-map")],
                   tables=[Table("Evidence map data.", table, name="evidence-map", data=cells)])


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
    note = ""
    if len(shown) > 31:  # many reviews: list the pairs that share a study; every pair is in the CSV
        shares = shown["Shared studies"].fillna(1) > 0
        note = (f"The other {int((~shares).sum())} pairs of reviews share no primary study; every pair is "
                "in the "
                "CSV/XLSX tables.")
        shown = shown[shares]
    fig = plots.overlap_heatmap(result)
    return Section(title, paragraphs=[*intro, text], figures_first=True,
                   tables=[Table("Corrected covered area, pairwise and overall (N inclusions, r unique "
                                 "studies, c reviews).", shown, name="overlap-cca", data=frame, note=note)],
                   figures=[Figure("Pairwise overlap (corrected covered area, %) between reviews.", plot=fig,
                                   name="overlap")])


# ------------------------------------------------------------------------------------------- credibility


def credibility_section(frame: pd.DataFrame, *, title: str = "Credibility of the pooled findings",
                        intro: Sequence[str] = (), note: str = "", effect: str = "Estimate",
                        cases: str = "Cases") -> Section:
    """The credibility table (class I-IV/ns with the criteria behind it) from assessments' ``to_dict()``
    rows (estimates on the analysis scale)."""
    shown = pd.DataFrame({
        "Finding": frame["name"], "k": frame["k"], cases: frame["n_cases"].round().astype("Int64"),
        f"{effect} [95% CI]": [fmt_ci(e, lo, hi) for e, lo, hi in zip(frame["estimate"], frame["ci_lower"],
                                                                         frame["ci_upper"], strict=True)],
        "p": frame["pvalue"].map(fmt_p), "I\u00b2 (%)": frame["i2"],
        "95% PI": [fmt_ci(0, lo, hi).split(" ", 1)[1] for lo, hi in zip(frame["pi_lower"], frame["pi_upper"],
                                                                        strict=True)],
        "Egger p": frame["egger_p"].map(fmt_p), "Excess sig. p": frame["esb_p"].map(fmt_p),
        "Largest study p": frame["largest_pvalue"].map(fmt_p), "Class": frame["klass"],
    }) if len(frame) else frame
    counts = frame["klass"].value_counts() if "klass" in frame else pd.Series(dtype=int)
    summary = ", ".join(f"class {k}: {int(counts[k])}" for k in ("I", "II", "III", "IV", "ns") if k in counts)
    return Section(title, paragraphs=[*intro, f"Of {len(frame)} findings: {summary}."],
                   tables=[Table("Credibility of each pooled finding (Ioannidis / Fusar-Poli & Radua "
                                 "classes).", shown, note=note, name="credibility", digits=1, data=frame)])


# ------------------------------------------------------------------------------------------- methods


def software_sentence() -> str:
    """Which software ran the analyses, with versions."""
    import matplotlib
    import scipy

    return (f"Analyses were run with metareview {__version__} (Python; numpy {np.__version__}, scipy "
            f"{scipy.__version__}, pandas {pd.__version__}, matplotlib {matplotlib.__version__}), whose "
            "statistics are validated against R's metafor.")


def methods_paragraphs(*, method: str = "REML", level: float = 95.0, pi: str = "z",
                       extra: Sequence[str] = (), repooling: bool = True,
                       effect: str = "Effect sizes are standardised mean differences (Hedges' g).",
                       contrast: str = "") -> list[str]:
    """The methods paragraph(s) of a three-level re-pooling: software, estimators and conventions. With
    ``repooling=False`` (no primary-study effects were re-pooled) only the software sentence and ``extra``.
    ``effect`` describes the effect size; ``contrast`` (e.g. "the two kinds of programme") names the groups
    whose difference was tested."""
    if not repooling:
        return [software_sentence(), *extra]
    pi_text = {"z": "the standard normal quantile (metafor's default)",
               "t": "a t distribution with k \u2212 1 df",
               "riley": "a t distribution with k \u2212 2 df (Riley et al. 2011)"}[pi]
    groups = contrast or "the groups"
    return [
        f"{software_sentence()} {effect} Several effects from one trial were pooled with a "
        "three-level random-effects model (effects nested in trials; metafor's rma.mv with random = ~ 1 | "
        f"trial/effect), variance components estimated by {method}; where every trial contributed a single "
        f"effect the usual random-effects model (rma.uni, {method} \u03c4\u00b2) was used. Confidence "
        f"intervals ({level:g}%) use Wald-type z tests. Prediction intervals use {pi_text} and the sum of "
        "the variance components plus the squared standard error.",
        f"The difference between {groups} was tested by meta-regression on a group indicator in the same "
        "model; head-to-head contrasts (the two arms of one trial) use the covariance induced by the shared "
        "control group (Gleser & Olkin 2009). Tests that assume independent effects (Egger's regression "
        "test, excess significance, credibility criteria) use one effect per trial (the mean of its effects, "
        "with the mean standard error, i.e. assuming fully correlated effects).",
        *extra,
    ]
