"""The report of any review, from its store: what ``metareview report`` builds.

:func:`build_review_report` reads the review (:func:`~metareview.report.review_data.gather_review`) and puts
together, in order, only the sections its data supports:

1. the question and eligibility criteria (``protocol.toml``) and the introduction of ``report.toml``;
2. the searches with their strategies and dates, the PRISMA 2020 flow with the full texts excluded and their
   reasons, and how the reports included at full text reconcile with the reviews extracted;
3. the included reviews: their characteristics, the AMSTAR 2 item matrix, ROBIS; the risk of bias of the
   primary studies (RoB 2 / RoB 1, robvis-like figures);
4. the vote count by the outcome domain and each declared moderator, the evidence map;
5. the pooled findings (when ``report.toml`` names the primary-study field of the effect sizes): forest and
   funnel plots per finding, the credibility forest and table, the GRADE Summary of findings;
6. the overlap of the reviews' primary studies (CCA heatmap) and, as an appendix, the primary studies;
7. the Methods, generated from what ran, and the sources.

:func:`effect_sections` is the other entry: primary-study effects given as a CSV (``--effects``), re-pooled by
group with the three-level model (:mod:`metareview.synthesis.repool`)::

    files = write_review_report("my-review")           # my-review/report/report.html, report.docx, ...
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from metareview.errors import InputError
from metareview.extraction.templates import ExtractionBundle
from metareview.protocol import Protocol
from metareview.report import sections
from metareview.report.config import ReportConfig
from metareview.report.html import Figure, Report, ReportFiles, Section, Table, write_report
from metareview.report.review_data import ReviewData, gather_review, kappa_text
from metareview.review import SQLITE_FILE
from metareview.synthesis.overlap import CitationMatrix, cca
from metareview.synthesis.repool import EFFECT_COLUMNS, RepoolResult, repool, trial_level
from metareview.synthesis.votes import NOT_REPORTED, vote_table_from_records

__all__ = ["REQUIRED_EFFECT_COLUMNS", "build_review_report", "effect_findings", "effect_sections",
           "extraction_methods", "extraction_process_methods", "extraction_section", "extraction_sections",
           "included_reviews_sections", "prisma_section",
           "protocol_section", "read_effects", "review_findings", "review_methods", "search_section",
           "write_review_report"]

#: columns an effects CSV must have (the others of :data:`EFFECT_COLUMNS` are optional)
REQUIRED_EFFECT_COLUMNS = ("outcome", "trial", "guidance", "yi", "vi")


def read_effects(path: str | Path) -> pd.DataFrame:
    """Read an effects CSV (one row per effect: ``outcome, trial, guidance, yi, vi`` and optionally
    ``study, n_arm1, n_arm2, instrument, arm2``); ``guidance`` names the two groups compared
    (:mod:`metareview.synthesis.repool` codes them ``guided`` and ``unguided``).

    Raises :class:`InputError` naming the file, line and column of the first bad value.
    """
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read effects: {exc}", file=path) from exc
    for col in REQUIRED_EFFECT_COLUMNS:
        if col not in df.columns:
            raise InputError("column missing", file=path, field=col)
    for col in ("yi", "vi"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | ((values <= 0) if col == "vi" else False)
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise InputError(f"not a {'positive ' if col == 'vi' else ''}number: {df[col].iloc[row]!r}",
                             file=path, line=row + 2, field=col)
        df[col] = values
    bad_g = ~df["guidance"].isin(["guided", "unguided"])
    if bad_g.any():
        row = int(bad_g.to_numpy().argmax())
        raise InputError(f"guidance must be 'guided' or 'unguided', not {df['guidance'].iloc[row]!r}",
                         file=path, line=row + 2, field="guidance")
    for col in EFFECT_COLUMNS:
        if col not in df.columns:
            df[col] = float("nan") if col in ("n_arm1", "n_arm2") else ""
    df["study"] = df["study"].where(df["study"].astype(str) != "", df["trial"])
    df["effect_id"] = df["effect_id"].where(df["effect_id"].astype(str) != "", df.index.astype(str))
    df["guided"] = (df["guidance"] == "guided").astype(int)
    df["trial"] = df["trial"].astype(str)
    return df[EFFECT_COLUMNS]


def protocol_section(protocol: Protocol, intro: Sequence[str] = ()) -> Section:
    """The review question, databases and eligibility criteria (and ``intro`` paragraphs before them)."""
    paragraphs = [*intro]
    if protocol.question:
        paragraphs.append(f"Question: {protocol.question}")
    if protocol.databases:
        paragraphs.append(f"Databases to search (protocol): {', '.join(protocol.databases)}.")
    criteria = pd.DataFrame([{"Criterion": c.id, "Included if": c.text}
                             for c in protocol.eligibility_criteria])
    tables = [Table("Eligibility criteria (protocol.toml).", criteria, name="eligibility-criteria")] \
        if len(criteria) else []
    return Section("The review question and eligibility criteria", paragraphs=paragraphs, tables=tables)


# ------------------------------------------------------------------------------------------ --effects


def effect_findings(effects: pd.DataFrame, *, method: str = "REML", continuous_cases: str = "cases",
                    ) -> tuple[RepoolResult, list[Any], dict[tuple[str, str], float]]:
    """Re-pool ``effects`` (:func:`~metareview.synthesis.repool.repool`) and assess each pool's credibility
    with the pool's own estimate, CI, p and prediction interval (one pooled estimate per finding); I²,
    Egger's test, excess significance and the largest study come from one effect per trial. 'Cases' are
    the first arm's participants (``continuous_cases="cases"``) or all participants."""
    from metareview.report.findings import _count_participants
    from metareview.stats.bias import egger_test
    from metareview.synthesis.credibility import CredibilityCriteria, assess, classify

    result = repool(effects, method=method)
    criteria = CredibilityCriteria(method=method)
    egger: dict[tuple[str, str], float] = {}
    assessed = []
    for p in [*result.pooled, *result.head_to_head]:
        t = trial_level(p.effects)
        if len(t) >= 3 and p.group != "head-to-head":
            egger[(p.outcome, p.group)] = float(egger_test(t["yi"], t["vi"], model="lm").pvalue)
        if len(t) < 2:
            continue
        arms = p.effects.groupby("trial", sort=False)[["n_arm1", "n_arm2"]].max().reindex(t["trial"])
        # unknown arm sizes stay unknown (NaN): the excess-significance test then imputes them from g and
        # its SE as metaumbrella does (a 0 would make the test fail); a trial of unknown size is never the
        # largest (n_sample 0)
        a = assess(t["yi"], t["vi"], n_cases=arms["n_arm1"].to_numpy(dtype=float),
                   n_controls=arms["n_arm2"].to_numpy(dtype=float), name=f"{p.outcome}, {p.group}",
                   measure="SMD", criteria=criteria,
                   n_sample=arms[["n_arm1", "n_arm2"]].fillna(0).sum(axis=1).to_numpy(dtype=float))
        a = replace(a, estimate=p.estimate, ci_lower=p.ci_lower, ci_upper=p.ci_upper, pvalue=p.pvalue,
                    pi_lower=p.pi_lower, pi_upper=p.pi_upper)
        a = replace(a, klass=classify(a.checks(), a.criteria))
        assessed.append(_count_participants(a) if continuous_cases == "participants" else a)
    return result, assessed, egger


def effect_sections(effects: pd.DataFrame, *, intro: Sequence[str] = (), method: str = "REML",
                    labels: Mapping[str, str] | None = None, continuous_cases: str = "cases",
                    effect: str = "g", effect_note: str = "g: Hedges' g.",
                    favours: tuple[str, str] | None = None, contrast: str = "difference between the groups",
                    title: str = "Re-pooled primary studies") -> tuple[list[Section], RepoolResult]:
    """Re-pooled effects (forest and funnel plots), evidence map and credibility, with the result. The
    credibility table shows each pool's own estimate (the same as the pooled table's)."""
    result, assessed, egger = effect_findings(effects, method=method, continuous_cases=continuous_cases)
    labels = dict(labels or {})
    cred = pd.DataFrame([a.to_dict() for a in assessed])
    cases = ("participants (both arms) counted as cases" if continuous_cases == "participants"
             else "the first arm's participants counted as cases")
    out = [
        sections.repool_section(result, egger=egger, intro=intro, labels=labels, effect=effect,
                                effect_note=effect_note, favours=favours, contrast=contrast, title=title),
        sections.evidence_map_section(sections.evidence_cells(result, labels), intro=[
            "Where the evidence lies: each outcome by group, sized by the number of trials."]),
    ]
    if len(cred):
        out.append(sections.credibility_section(cred, effect=effect, intro=[
            "Each pooled finding graded by the Ioannidis / Fusar-Poli & Radua criteria. The estimate, its "
            "CI, "
            "p and prediction interval are the pooled table's (three-level model); I\u00b2, Egger's test, "
            f"excess significance and the largest trial use one effect per trial ({cases}). These classes "
            "were designed for observational associations; for trial evidence they summarise precision, "
            "consistency and small-study bias."],
            note="Criteria: more than 1000 cases; p < 1e-6 (I, II), < 1e-3 (III), < .05 (IV); class I also "
                 "needs I\u00b2 < 50%, a 95% PI excluding 0, Egger p > .05 and no excess significance; class "
                 "II the largest trial significant."))
    return out, result


# ------------------------------------------------------------------------------------------ search, PRISMA


def search_section(data: ReviewData) -> Section | None:
    """The searches: database, date, records and the full strategy of each (PRISMA 2020 item 7)."""
    if not data.searches:
        return None
    rows = [{"Database": s.database,
             "Searched": s.searched_on.isoformat() if s.searched_on else "not recorded",
             "Records": s.records, "Strategy": s.query or "not recorded", "File": s.file_name}
            for s in data.searches]
    total = sum(s.records for s in data.searches)
    dbs = sorted({s.database for s in data.searches})
    paragraphs = [f"{len(data.searches)} search export{'s' if len(data.searches) != 1 else ''} from "
                  f"{len(dbs)} source{'s' if len(dbs) != 1 else ''} ({', '.join(dbs)}) gave {total:,} "
                  "records."]
    missing = sum(1 for s in data.searches if not s.query)
    if missing:
        paragraphs.append(f"The strategy of {missing} search{'es' if missing != 1 else ''} was not recorded "
                          "at "
                          "import (metareview import --query).")
    return Section("Searches", paragraphs=paragraphs, tables=[Table(
        "Searches: sources, dates, records and strategies (PRISMA 2020 item 7).", pd.DataFrame(rows),
        name="searches")])


def prisma_section(data: ReviewData) -> Section | None:
    """The PRISMA 2020 flow diagram and counts, the full texts excluded with their reasons and how the
    included reports reconcile with the extracted reviews; ``None`` without screening data."""
    from metareview.screening.prisma import draw_prisma

    if not data.screened:
        return None
    title = "Selection of studies (PRISMA 2020)"
    if data.prisma is None:
        return Section(title, paragraphs=[f"No flow diagram: {data.prisma_problem}"])
    c = data.prisma
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("svg", "pdf", "png"):
            files[fmt] = draw_prisma(c, Path(tmp) / f"prisma.{fmt}").read_bytes()
    excluded = sum(c.dbr_excluded.values())
    paragraphs = [f"{sum(c.database_results.values()) + sum(c.register_results.values()):,} records were "
                  f"identified; {c.duplicates:,} duplicates were removed; {c.records_screened:,} records "
                  "were "
                  f"screened by title and abstract and {c.records_excluded:,} excluded; "
                  f"{c.dbr_sought_reports:,} "
                  f"reports were sought, {c.dbr_notretrieved_reports:,} not retrieved, {c.dbr_assessed:,} "
                  f"assessed in full text and {excluded:,} excluded; {c.new_studies:,} studies "
                  f"({c.new_reports:,} reports) were included."]
    tables = [Table("PRISMA 2020 counts (PRISMA2020 field names).", c.to_frame(), name="prisma")]
    if data.linked_studies:
        cites = dict(data.included_records)
        paragraphs.append(f"Reports of one study are counted apart from studies: {c.new_reports:,} reports "
                          f"of {c.new_studies:,} studies; {len(data.linked_studies)} "
                          f"stud{'ies have' if len(data.linked_studies) != 1 else 'y has'} several reports.")
        tables.append(Table("Included studies with several reports (PRISMA 2020: studies and reports).",
                            pd.DataFrame([{"Study": st.name, "Reports": len(st.record_ids),
                                           "Records": ", ".join(f"rec{r}" for r in st.record_ids),
                                           "Citations": "; ".join(cites.get(f"rec{r}", "") for r in
                                                                  st.record_ids)}
                                          for st in data.linked_studies]), name="studies-and-reports"))
    if len(data.excluded_full_text):
        tables.append(Table("Reports excluded at full text, with the reason (PRISMA 2020 item 16b).",
                            data.excluded_full_text.rename(columns={"record": "Record", "citation": "Report",
                                                                    "reason": "Reason"}),
                            name="excluded-full-text"))
    return Section(title, paragraphs=paragraphs, figures_first=True, tables=tables, figures=[Figure(
        "PRISMA 2020 flow diagram, derived from the review's imports, duplicates and screening decisions.",
        files=files, name="prisma")])


def _pending_text(st: Any) -> str:
    """A report not agreed yet, as anyone may see it (counts only: blind extraction holds)."""
    if st.phase == "extracting":
        return f"{st.report_id} (being extracted: {st.submitted} of {st.required} extractors submitted)"
    return (f"{st.report_id} (both extractions submitted; consensus not finished"
            + (f", {st.open_fields} field{'s' if st.open_fields != 1 else ''} open" if st.open_fields else "")
            + ")")


def _pending_sentence(pending: Sequence[Any]) -> str:
    n = len(pending)
    return (f"{n} report{'s are' if n != 1 else ' is'} still being extracted or reconciled and "
            f"{'are' if n != 1 else 'is'} not in the analyses: "
            + "; ".join(_pending_text(st) for st in pending[:20])
            + (f"; and {n - 20} more" if n > 20 else "") + ".")


def _reconcile(data: ReviewData) -> list[str]:
    """Say how the reports included at full text (and the studies they report) and the extracted reviews
    correspond, and which reports are still being extracted or reconciled (never two unexplained counts side
    by side)."""
    reports = list(data.bundle.reports) if data.bundle is not None else []
    extracted = {r.id for r in reports}
    pending = {st.report_id: st for st in data.pending_extractions if st.report_id not in extracted}
    if not data.screened:
        out = [f"{len(reports)} review{'s' if len(reports) != 1 else ''} were extracted."] if reports else []
        return out + ([_pending_sentence(list(pending.values()))] if pending else [])
    included = dict(data.included_records)
    study_of = {f"rec{r}": st for st in data.included_studies for r in st.record_ids}
    done = [rid for rid in included if rid in extracted]
    extracted_studies = {study_of[rid].name for rid in done if rid in study_of}
    companions = [rid for rid in included if rid not in extracted and rid not in pending and rid in study_of
                  and study_of[rid].linked and study_of[rid].name in extracted_studies]
    waiting = [rid for rid in included if rid in pending]
    todo = [rid for rid in included if rid not in extracted and rid not in companions and rid not in pending]
    linked = bool(data.linked_studies)
    n_studies = len(data.included_studies)
    text = (f"Screening included {len(included)} report{'s' if len(included) != 1 else ''}"
            + (f" of {n_studies} stud{'ies' if n_studies != 1 else 'y'}" if linked else "")
            + f" at full text; {len(done)} of them {'have' if len(done) != 1 else 'has'} extraction forms")
    if companions:
        listed = "; ".join(f"{rid} (a report of {study_of[rid].name})" for rid in companions[:20])
        further = "are further reports" if len(companions) != 1 else "is a further report"
        text += f", {len(companions)} {further} of a study already extracted: {listed}"
    if waiting:
        text += (f", {len(waiting)} {'are' if len(waiting) != 1 else 'is'} still being extracted or "
                 "reconciled (not in the analyses): "
                 + "; ".join(_pending_text(pending[rid]) for rid in waiting[:20]))
    if todo:
        listed = "; ".join(f"{rid} ({included[rid][:80]})" for rid in todo[:20])
        text += (f", and {len(todo)} {'have' if len(todo) != 1 else 'has'} not been extracted yet: {listed}"
                 + (f"; and {len(todo) - 20} more" if len(todo) > 20 else ""))
    text += "."
    out = [text]
    outside = [r.id for r in reports if r.id not in included]
    if outside:
        out.append(f"{len(outside)} extracted review{'s' if len(outside) != 1 else ''} "
                   f"{'do' if len(outside) != 1 else 'does'} not come from this review's screening (not a "
                   f"rec<id> of an included record): {', '.join(outside[:20])}"
                   + (f" and {len(outside) - 20} more" if len(outside) > 20 else "") + ".")
    elsewhere = [st for rid, st in pending.items() if rid not in included]
    if elsewhere:
        out.append(_pending_sentence(elsewhere))
    if data.prisma is not None and data.prisma.new_studies != len(included):
        out.append(f"PRISMA counts {data.prisma.new_studies} new studies from these {len(included)} reports "
                   "(reports of one study are linked to it).")
    return out


def extraction_section(data: ReviewData) -> Section | None:
    """Dual extraction: how the final values came about, the reports not agreed yet and the agreement
    between the two extractors per field (:mod:`metareview.extraction.field_agreement`); ``None`` with one
    extractor per report."""
    if data.extractors_per_report < 2:
        return None
    reports = list(data.bundle.reports) if data.bundle is not None else []
    blind = bool(data.protocol.extraction.blind)
    paragraphs = [f"Each report was extracted by {data.extractors_per_report} extractors independently"
                  + (", blind to each other until all had submitted" if blind else "")
                  + "; the fields on which they differed were settled by a consensus value recorded with who "
                    "and when, and the analyses use the agreed values. "
                  + f"{len(reports)} report{'s are' if len(reports) != 1 else ' is'} agreed."]
    if data.pending_extractions:
        paragraphs.append(_pending_sentence(data.pending_extractions))
    tables = []
    ag = data.extraction_agreement
    if ag is not None and ag.reports:
        o = ag.overall
        paragraphs.append(f"Agreement between the extractors over {ag.reports} report"
                          f"{'s' if ag.reports != 1 else ''} extracted twice, before consensus: "
                          f"{o.agreed:,} of {o.n:,} field values ({o.percent:.1f}%); per field in the table "
                          "(Cohen's \u03ba for categorical fields, with a blank as a category).")
        rows = []
        for f in ag.fields:
            kappa = (f"{f.kappa:.2f} [{f.kappa_ci[0]:.2f}, {f.kappa_ci[1]:.2f}]".replace("-", "\u2212")
                     if f.kappa is not None and f.kappa_ci else (f.note or "\u2013"))
            rows.append({"Field": f.field, "Items": f.n, "Agreed": f.agreed,
                         "Agreement (%)": round(f.percent, 1), "Cohen's \u03ba [95% CI]": kappa})
        tables.append(Table("Agreement between the two extractors, per field (values as submitted, before "
                            "consensus).", pd.DataFrame(rows), name="extraction-agreement",
                            data=ag.to_frame()))
    elif ag is not None:
        paragraphs.append("No report has been submitted by both extractors yet, so no agreement is reported.")
    return Section("Data extraction", paragraphs=paragraphs, tables=tables)


def extraction_process_methods(data: ReviewData) -> list[str]:
    """Methods sentences on who extracted (extractors per report, blind, consensus, agreement)."""
    reports = list(data.bundle.reports) if data.bundle is not None else []
    if not reports and not data.pending_extractions:
        return []
    if data.extractors_per_report < 2:
        return ["Each report was extracted by one extractor."]
    text = (f"Each report was extracted by {data.extractors_per_report} extractors independently"
            + (" (blind to each other until all had submitted)" if data.protocol.extraction.blind else "")
            + "; differing fields were resolved by consensus, each consensus value recorded with who and "
              "when")
    ag = data.extraction_agreement
    if ag is not None and ag.reports:
        text += ("; agreement per field is reported as percent agreement and, for categorical fields, "
                 "Cohen's \u03ba with its 95% CI")
    return [text + "."]


# ------------------------------------------------------------------------------------------ included reviews


def _short(r: Any) -> str:
    return str(r.citation) if len(r.citation) <= 40 else str(r.id)


def included_reviews_sections(data: ReviewData, protocol: Protocol | None = None) -> list[Section]:
    """The included reviews (characteristics, AMSTAR 2 item matrix, ROBIS) and the risk of bias of the
    primary studies (RoB 2, RoB 1), as far as the review holds them."""
    from metareview.extraction.amstar2 import CRITICAL_ITEMS, ITEMS

    bundle = data.bundle
    out: list[Section] = []
    reports = list(bundle.reports) if bundle is not None else []
    robis = data.appraisals.get("robis", [])
    robis_by = {a.review.strip().lower(): a for a in robis}
    if reports or data.screened:
        findings: dict[str, list[str]] = {}
        for e in bundle.effect_sizes if bundle is not None else ():
            findings.setdefault(e.report_id, [])
            if e.comparison not in findings[e.report_id]:
                findings[e.report_id].append(e.comparison)
        report_fields = protocol.report_fields if protocol is not None else []
        rows = []
        for r in reports:
            rb = robis_by.get(r.id.lower()) or robis_by.get(r.citation.strip().lower())
            rows.append({
                "Review": r.citation, "Year": r.year,
                "Last search": r.search_date.isoformat() if r.search_date else None,
                "Databases": ", ".join(r.databases) or None, "Studies": r.n_studies,
                "Participants": r.n_participants, "Comparisons": "; ".join(findings.get(r.id, [])) or None,
                **{f.title: r.fields.get(f.name) for f in report_fields},
                "AMSTAR 2": r.confidence, "ROBIS": rb.overall if rb is not None else None})
        frame = pd.DataFrame(rows)
        if len(frame):
            frame = frame[[c for c in frame.columns if frame[c].notna().any()]]
            for c in ("Year", "Studies", "Participants"):
                if c in frame:
                    frame[c] = frame[c].astype("Int64")
        tables = [Table("Characteristics of the included reviews.", frame, name="included-reviews")] \
            if len(frame) else []
        amstar = [r for r in reports if r.amstar2]
        if amstar:
            abbrev = {"yes": "Y", "partial_yes": "PY", "no": "N", "not_applicable": "NA"}
            matrix = pd.DataFrame([{"Review": _short(r), **{f"{i}{'*' if i in CRITICAL_ITEMS else ''}":
                                                            abbrev.get(str(r.amstar2.get(i)), "\u2013")
                                                            for i in ITEMS},
                                    "Confidence": r.confidence} for r in amstar])
            tables.append(Table(
                "AMSTAR 2 item matrix (Shea et al. 2017): Y yes, PY partial yes, N no, NA not applicable; * "
                "critical domain.", matrix, stack=False, name="amstar2-items",
                note="Items: " + "; ".join(f"{i} {t}" for i, t in ITEMS.items()) + "."))
        figures = []
        if robis:
            from metareview.extraction.appraisal_forms import summary_frame
            from metareview.report import robvis

            answers = pd.DataFrame([{"Review": a.review, **a.answers} for a in robis])
            tables.append(Table("ROBIS signalling questions (Whiting et al. 2016): Y yes, PY probably yes, "
                                "PN "
                                "probably no, N no, NI no information; phase 2 domains 1.1\u20134.6, phase "
                                "3 A\u2013C.",
                                answers, stack=False, name="robis-items"))
            judg = summary_frame(robis).rename(columns={"review": "Review", "overall": "Overall"})
            tables.append(Table("ROBIS (Whiting et al. 2016): concerns per domain and the risk of bias in "
                                "the "
                                "review.", judg, name="robis",
                                note="D1 study eligibility criteria; D2 identification and selection of "
                                     "studies; D3 data collection and study appraisal; D4 synthesis and "
                                     "findings."))
            figures.append(Figure("ROBIS: concerns per domain and overall risk of bias of each review.",
                                  plot=robvis.traffic_light(robis), name="robis-traffic-light"))
        out.append(Section("Included reviews", paragraphs=_reconcile(data), tables=tables, figures=figures))
    for tool, name, cite in (("rob2", "RoB 2", "Sterne et al. 2019"),
                             ("rob1", "RoB 1", "Cochrane Handbook 5.1, Higgins 2011")):
        forms = data.appraisals.get(tool, [])
        if not forms:
            continue
        from metareview.extraction.appraisal_forms import summary_frame
        from metareview.report import robvis

        weighted = any(getattr(f, "weight", None) for f in forms)
        out.append(Section(f"Risk of bias of the primary studies ({name})", paragraphs=[
            f"{len(forms)} primary studies were assessed with {name} ({cite})."], figures=[
            Figure(f"{name} traffic-light plot: each study's judgement per domain and overall.",
                   plot=robvis.traffic_light(forms), name=f"{tool}-traffic-light"),
            Figure(f"{name} summary plot: the share of studies at each judgement per domain"
                   + (" (weighted by each study's weight)." if weighted else "."),
                   plot=robvis.summary_bars(forms, weighted=weighted), name=f"{tool}-summary")],
            tables=[Table(f"{name} judgements per study.", summary_frame(forms), name=f"{tool}-judgements")]))
    return out


# ------------------------------------------------------------------------------------------ extraction


def _grouping_fields(bundle: ExtractionBundle, protocol: Protocol | None) -> list[tuple[str, str]]:
    """(name, title) of each field the votes are tabulated by: the outcome domain, then each declared
    categorical or yes/no moderator (without a protocol: each field some effect size has)."""
    out = [("outcome_domain", "Outcome domain")]
    if protocol is not None:
        out += [(m.name, m.title) for m in protocol.moderators if m.type in ("categorical", "yes/no")]
    else:
        names = sorted({k for e in bundle.effect_sizes for k in e.fields})
        out += [(n, n.replace("_", " ").capitalize()) for n in names]
    return out


def extraction_sections(bundle: ExtractionBundle, protocol: Protocol | None = None, *,
                        by: str | None = None, labels: Sequence[str] = ()) -> list[Section]:
    """Sections from the extracted forms: the vote count by the outcome domain and by each declared
    moderator, the evidence map (outcome domain by ``by``, default the first categorical moderator) and the
    overlap of the reviews' primary studies (when at least two primary-study lists were extracted).
    ``labels`` names the three directions (``report.toml``: ``[votes] labels``)."""
    from metareview.synthesis.votes import DEFAULT_LABELS

    words = tuple(labels) if len(labels) == 3 else DEFAULT_LABELS
    out: list[Section] = []
    effects = list(bundle.effect_sizes)
    if effects:
        fields = _grouping_fields(bundle, protocol)
        if by is not None and by not in {n for n, _ in fields}:
            if protocol is not None:
                spec = protocol.moderator(by)
                fields.append((spec.name, spec.title))
            else:
                fields.append((by, by.replace("_", " ").capitalize()))
        tables = {title: vote_table_from_records(effects, by=name, protocol=protocol,
                                                 labels=words)  # type: ignore[arg-type]
                  for name, title in fields
                  if name == "outcome_domain" or any(e.value(name) is not None for e in effects)}
        out.append(sections.votes_section(tables, title="Vote count of the effect sizes"))
        row_field = by or next((n for n, _ in fields[1:]), None)
        row_title = dict(fields).get(row_field, "Comparison") if row_field else "Comparison"
        rows = [NOT_REPORTED if row_field and e.value(row_field) is None else
                str(e.value(row_field) if row_field else e.comparison).replace("_", " ") for e in effects]
        cells = pd.DataFrame([{"column": e.outcome_domain, "row": r, "direction": e.direction.value}
                              for e, r in zip(effects, rows, strict=True)])
        cells = cells.groupby(["column", "row"])["direction"].agg(
            k="size", direction=lambda d: d.value_counts().idxmax()).reset_index()
        out.append(sections.evidence_map_section(
            cells, title="Evidence map of the effect sizes", row_title=row_title,
            size_label="number of effect sizes (k)", labels=words,
            caption=f"Evidence map: outcome domain by {row_title.lower()}; bubble area is proportional to "
                    "the "
                    f"number of effect sizes; colour is the most frequent direction ({words[0].lower()}, "
                    f"{words[1].lower()}, {words[2].lower()})."))
    if len(bundle.primary_studies) >= 2:
        names = {r.id: _short(r) for r in bundle.reports}
        pairs = [(names.get(lst.report_id, lst.report_id), s.label) for lst in bundle.primary_studies
                 for s in lst.studies]
        out.append(sections.overlap_section(cca(CitationMatrix.from_inclusions(pairs))))
    return out


def included_studies_section(bundle: ExtractionBundle) -> Section | None:
    """Appendix: every primary study and the included reviews that pooled it (PRIOR: included studies)."""
    if not bundle.primary_studies:
        return None
    names = {r.id: _short(r) for r in bundle.reports}
    by_study: dict[str, list[str]] = {}
    years: dict[str, int | None] = {}
    for lst in bundle.primary_studies:
        for s in lst.studies:
            by_study.setdefault(s.label, []).append(names.get(lst.report_id, lst.report_id))
            years.setdefault(s.label, s.year)
    frame = pd.DataFrame([{"Primary study": k, "Year": years[k], "Reviews": len(v),
                           "Included in": "; ".join(v)}
                          for k, v in sorted(by_study.items(), key=lambda kv: kv[0].lower())])
    frame["Year"] = frame["Year"].astype("Int64")
    if frame["Year"].isna().all():
        frame = frame.drop(columns="Year")
    return Section("Appendix: primary studies of the included reviews", paragraphs=[
        f"{len(frame)} distinct primary studies, {sum(len(v) for v in by_study.values())} inclusions."],
        tables=[Table("Primary studies and the included reviews that pooled them.", frame,
                      name="primary-studies")])


# ------------------------------------------------------------------------------------------ methods


def extraction_methods(bundle: ExtractionBundle, protocol: Protocol | None = None) -> list[str]:
    """Methods sentences for what the extraction sections ran (nothing for what did not run)."""
    out = []
    if bundle.reports:
        fields = len(protocol.report_fields) + len(protocol.effect_fields) if protocol is not None else 0
        out.append(f"Data were extracted from {len(bundle.reports)} reviews ({len(bundle.effect_sizes)} "
                   "effect "
                   f"sizes) on forms declared in the protocol ({fields} review-specific fields); direction "
                   "and "
                   "significance were derived from each estimate and its confidence interval (or p), never "
                   "typed.")
    if bundle.effect_sizes:
        declared = protocol.moderators if protocol is not None else []
        mods = [m.title[:1].lower() + m.title[1:] for m in declared if m.type in ("categorical", "yes/no")]
        by = ", ".join(["outcome domain", *mods])
        out.append("Effect sizes were counted as significantly better, not significantly different or "
                   f"significantly worse by {by}; proportions carry Wilson 95% intervals and the association "
                   "of each moderator with the direction is tested with Fisher's exact test.")
    if any(r.confidence for r in bundle.reports):
        out.append("Confidence in the results of each review was rated with AMSTAR 2 (Shea et al. 2017).")
    if len(bundle.primary_studies) >= 2:
        out.append("Overlap of primary studies between reviews is the corrected covered area (Pieper et al. "
                   "2014).")
    return out


def review_methods(data: ReviewData) -> list[str]:
    """Methods sentences for the searches, deduplication, screening and appraisal that actually ran."""
    out = []
    if data.searches:
        parts = []
        for s in data.searches:
            when = s.searched_on.isoformat() if s.searched_on else "date not recorded"
            parts.append(f"{s.database} ({when}; {s.records:,} records)")
        out.append(f"Searches: {'; '.join(parts)}; the strategies are listed in the Searches table.")
        dups = sum(d for *_, d in data.database_counts)
        out.append(f"Duplicates were identified across all imported records (metareview dedup: exact "
                   f"identifiers, then fuzzy title, author and year matching, uncertain pairs reviewed); "
                   f"{dups:,} records were removed as duplicates.")
    sc = data.protocol.screening
    for st in data.stages:
        if not st.total:
            continue
        stage = st.stage.replace("_", "/").replace("title/abstract", "title and abstract").replace(
            "full/text", "full text")
        text = (f"Screening by {stage}: {st.total - st.pending:,} of {st.total:,} records decided by "
                f"{st.reviewers} reviewer{'s' if st.reviewers != 1 else ''} ({st.reviewers_per_record} per "
                f"record{', blind to each other' if sc.blind and st.reviewers_per_record > 1 else ''}")
        text += "; disagreements resolved by an arbiter)" if st.reviewers_per_record > 1 else ")"
        kappas = [kappa_text(a) for a in st.agreement if "Fleiss" in a.statistic or len(st.agreement) == 1]
        if kappas:
            text += f"; agreement: {kappas[0]}"
        out.append(text + ".")
    if data.stopping is not None:
        verdict = data.stopping.current
        if verdict.records and verdict.screened < verdict.records:
            r = verdict.results[0] if verdict.results else None
            if r is not None:
                out.append("Records were screened in prioritised order; screening by title and abstract "
                           "stopped "
                           f"after {verdict.screened:,} of {verdict.records:,} records of batch "
                           f"{verdict.batch}, where the stopping rule ({r.rule}; {r.claim}) said "
                           f"{'stop' if r.stop else 'continue'}: {r.basis}"
                           f"{f'; guarantee: {r.guarantee}' if r.guarantee else ''}.")
    tools = {"robis": "ROBIS (Whiting et al. 2016)", "rob2": "RoB 2 (Sterne et al. 2019)",
             "rob1": "the Cochrane risk-of-bias tool (RoB 1, Higgins et al. 2011)"}
    for tool, forms in data.appraisals.items():
        what = "reviews" if tool == "robis" else "primary studies"
        out.append(f"Risk of bias was assessed with {tools.get(tool, tool)} for {len(forms)} {what}.")
    return out


# ------------------------------------------------------------------------------------------ the report


def _field_title(name: str, protocol: Protocol) -> str:
    if name in ("report_id", "report"):
        return "review"
    for f in [*protocol.effect_fields, *protocol.report_fields]:
        if f.name == name:
            return f.title.lower()
    return name.replace("_", " ")


def review_findings(data: ReviewData, config: ReportConfig) -> Any:
    """The review's pooled findings (:class:`~metareview.report.findings.FindingSet`) as the report shows
    them, with GRADE's risk of bias from the stored RoB 2 / RoB 1 forms; ``None`` when ``report.toml``
    names no primary-study field or nothing was extracted. The report and its versions both use this."""
    from metareview.report.findings import build_findings

    if not (config.findings.study and data.bundle is not None and data.bundle.effect_sizes):
        return None
    rob = {f.study: f for tool in ("rob2", "rob1") for f in data.appraisals.get(tool, [])}
    return build_findings(data.bundle.effect_sizes, config, rob=rob,
                          report_names={r.id: _short(r) for r in data.bundle.reports})


def build_review_report(review_dir: str | Path, *, db: str | None = None, effects: str | Path | None = None,
                        by: str | None = None, config: ReportConfig | None = None) -> Report:
    """The report of the review in ``review_dir`` (see the module's description of its sections)."""
    from metareview.extraction.schema import ensure_no_orphans
    from metareview.report.findings_sections import findings_methods, findings_sections

    review_dir = Path(review_dir)
    protocol = Protocol.load(review_dir / "protocol.toml")
    config = config or ReportConfig.for_review(review_dir)
    if by is not None and config.findings.study:  # --by also groups the findings' forest plots
        config = config.model_copy(update={"findings": config.findings.model_copy(update={"subgroups": by})})
    body = [protocol_section(protocol, config.intro)]
    methods: list[str] = []
    if db is not None or (review_dir / SQLITE_FILE).is_file():
        data = gather_review(review_dir, db)
        ensure_no_orphans(data.bundle, protocol, source=str(review_dir / "protocol.toml"))
        for s in (search_section(data), prisma_section(data)):
            if s is not None:
                body.append(s)
        body += included_reviews_sections(data, protocol)
        dual_section = extraction_section(data)
        if dual_section is not None:
            body.append(dual_section)
        body += extraction_sections(data.bundle, protocol, by=by, labels=config.votes.labels)
        methods += (review_methods(data) + extraction_process_methods(data)
                    + extraction_methods(data.bundle, protocol))
        fs = review_findings(data, config)
        if fs is not None:
            heading = _field_title(config.findings.heading, protocol).capitalize()
            found = findings_sections(fs, subgroup_title=_field_title(config.findings.subgroups, protocol),
                                      heading_title=heading)
            overlap = [s for s in body if s.title == "Overlap between reviews"]
            body = [s for s in body if s.title != "Overlap between reviews"] + found + overlap
            methods += findings_methods(fs)
        appendix = included_studies_section(data.bundle)
        if appendix is not None:
            body.append(appendix)
    repooled = False
    if effects is not None:
        frame = read_effects(effects)
        if len(frame):
            found_e, _ = effect_sections(frame, continuous_cases=config.credibility.continuous_cases)
            body += found_e
            repooled = True
    methods = sections.methods_paragraphs(repooling=repooled) + methods
    return Report(title=config.title or protocol.title, subtitle=config.subtitle, sections=body,
                  methods=methods, sources=list(config.sources))


def write_review_report(review_dir: str | Path, *, out: str | Path | None = None,
                        effects: str | Path | None = None, db: str | None = None,
                        by: str | None = None, docx: bool = True) -> ReportFiles:
    """Build and write the report of the review in ``review_dir`` (``metareview report``): ``report.html``
    (self-contained), ``report.docx``, ``tables/`` (CSV, XLSX) and ``figures/`` (SVG, PDF, 300-dpi PNG),
    to ``out`` (default ``<review_dir>/report``). A protocol that would orphan stored values is refused
    (``metareview protocol migrate``); so is a ``report.toml`` with an unknown key."""
    from metareview.progress import track

    bar = track("building the report", 2, "steps")  # read the store and build the sections, write the files
    report = build_review_report(review_dir, db=db, effects=effects, by=by)
    bar.update(1)
    files = write_report(report, out if out is not None else Path(review_dir) / "report", docx=docx)
    bar.finish()
    return files
