"""A review's report from its protocol and its primary-study effects: what ``metareview report`` builds.

:func:`effect_sections` re-pools a table of effects (guided vs unguided per outcome, three-level model),
runs Egger's test and the credibility classification on trial-level effects, and returns the sections
(pooled effects with forest and funnel plots, evidence map, credibility). :func:`build_report` puts them
after the protocol (question and eligibility criteria) with the methods paragraph::

    from metareview.protocol import Protocol
    from metareview.report.review_report import build_report, read_effects
    from metareview.report.html import write_report
    rep = build_report(Protocol.load("my-review/protocol.toml"), effects=read_effects("effects.csv"))
    write_report(rep, "my-review/report")
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from metareview.errors import InputError
from metareview.extraction.templates import ExtractionBundle
from metareview.protocol import Protocol
from metareview.report import sections
from metareview.report.html import Figure, Report, ReportFiles, Section, Table, write_report
from metareview.review import SQLITE_FILE, Review
from metareview.stats.bias import egger_test
from metareview.store.extraction_repo import load_bundle
from metareview.synthesis.credibility import assess
from metareview.synthesis.overlap import CitationMatrix, cca
from metareview.synthesis.repool import EFFECT_COLUMNS, RepoolResult, repool, trial_level
from metareview.synthesis.votes import NOT_REPORTED, vote_table_from_records

__all__ = ["REQUIRED_EFFECT_COLUMNS", "build_report", "effect_sections", "extraction_sections",
           "prisma_section", "protocol_section", "read_effects"]

#: columns an effects CSV must have (the others of :data:`EFFECT_COLUMNS` are optional)
REQUIRED_EFFECT_COLUMNS = ("outcome", "trial", "guidance", "yi", "vi")


def read_effects(path: str | Path) -> pd.DataFrame:
    """Read an effects CSV (one row per effect: ``outcome, trial, guidance, yi, vi`` and optionally
    ``study, n_arm1, n_arm2, instrument, arm2``); ``guidance`` is ``guided`` or ``unguided``.

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


def protocol_section(protocol: Protocol) -> Section:
    """The review question, databases and eligibility criteria."""
    paragraphs = [f"Question: {protocol.question}"] if protocol.question else []
    if protocol.databases:
        paragraphs.append(f"Databases searched: {', '.join(protocol.databases)}.")
    criteria = pd.DataFrame([{"Criterion": c.id, "Included if": c.text}
                             for c in protocol.eligibility_criteria])
    tables = [Table("Eligibility criteria (protocol.toml).", criteria, name="eligibility-criteria")] \
        if len(criteria) else []
    return Section("The review question and eligibility criteria", paragraphs=paragraphs, tables=tables)


def effect_sections(effects: pd.DataFrame, *, intro: Sequence[str] = (), method: str = "REML",
                    ) -> tuple[list[Section], RepoolResult]:
    """Re-pooled effects (forest and funnel plots), evidence map and credibility, with the result."""
    result = repool(effects, method=method)
    egger: dict[tuple[str, str], float] = {}
    for p in result.pooled:
        t = trial_level(p.effects)
        if len(t) >= 3:
            egger[(p.outcome, p.group)] = float(egger_test(t["yi"], t["vi"], model="lm").pvalue)
    recs = []
    for p in [*result.pooled, *result.head_to_head]:
        t = trial_level(p.effects)
        if len(t) >= 2:
            recs.append(assess(t["yi"], t["vi"], n_cases=t["n"].fillna(0), name=f"{p.outcome}, {p.group}",
                               measure="SMD").to_dict())
    cred = pd.DataFrame(recs)
    out = [
        sections.repool_section(result, egger=egger, intro=intro),
        sections.evidence_map_section(sections.evidence_cells(result), intro=[
            "Where the evidence lies: each outcome by kind of support, sized by the number of trials."]),
    ]
    if len(cred):
        out.append(sections.credibility_section(cred, intro=[
            "Each pooled finding graded by the Ioannidis / Fusar-Poli & Radua criteria, on one effect per "
            "trial (participants counted as 'cases'). These classes were designed for observational "
            "associations; for trial evidence they summarise precision, consistency and small-study bias. "
            "Each finding is re-pooled on these trial-level effects with the two-level random-effects model, "
            "so its estimate can differ slightly from the three-level pool above."],
            note="Criteria: participants > 1000; p < 1e-6 (I, II), < 1e-3 (III), < .05 (IV); class I also "
                 "needs I\u00b2 < 50%, a 95% PI (t, k \u2212 1 df) excluding 0, Egger p > .05 and no excess "
                 "significance; class II the largest trial significant."))
    return out, result


def prisma_section(review: Review) -> Section | None:
    """The PRISMA 2020 flow diagram and counts, derived from the review's store; ``None`` without
    screening data (no record screened)."""
    from metareview.screening.prisma import PrismaError, draw_prisma, prisma_counts

    try:
        counts = prisma_counts(review)
    except PrismaError as exc:
        return Section("Selection of studies (PRISMA 2020)", paragraphs=[f"No flow diagram: {exc}"])
    if counts.records_screened == 0:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        svg = draw_prisma(counts, Path(tmp) / "prisma.svg").read_bytes()
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return Section("Selection of studies (PRISMA 2020)", figures_first=True,
                   figures=[Figure("PRISMA 2020 flow diagram, derived from the review's imports, duplicates "
                                   "and screening decisions.", uri)],
                   tables=[Table("PRISMA 2020 counts (PRISMA2020 field names).", counts.to_frame(),
                                 name="prisma")])


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
                        by: str | None = None) -> list[Section]:
    """Sections from the extracted meta-analyses: included reports (with the comparisons each made, its
    declared report fields and its AMSTAR 2 confidence), the vote count by the outcome domain and by each
    declared moderator, the evidence map (outcome domain by ``by``, default the first categorical
    moderator) and the overlap of their primary studies (when at least two primary-study lists were
    extracted)."""
    out: list[Section] = []
    comparisons: dict[str, list[str]] = {}
    for e in bundle.effect_sizes:
        comparisons.setdefault(e.report_id, [])
        if e.comparison not in comparisons[e.report_id]:
            comparisons[e.report_id].append(e.comparison)
    report_fields = protocol.report_fields if protocol is not None else []
    if bundle.reports:
        included = pd.DataFrame([{
            "Meta-analysis": r.citation, "Year": r.year, "Studies": r.n_studies,
            "Participants": r.n_participants, "Comparisons": "; ".join(comparisons.get(r.id, [])),
            **{f.title: r.fields.get(f.name) for f in report_fields},
            "AMSTAR 2 confidence": r.confidence} for r in bundle.reports])
        out.append(Section("Included meta-analyses", tables=[Table(
            "Included meta-analyses and the comparisons they reported.", included, name="included")]))
    effects = list(bundle.effect_sizes)
    if effects:
        fields = _grouping_fields(bundle, protocol)
        if by is not None and by not in {n for n, _ in fields}:
            if protocol is not None:
                spec = protocol.moderator(by)
                fields.append((spec.name, spec.title))
            else:
                fields.append((by, by.replace("_", " ").capitalize()))
        tables = {title: vote_table_from_records(effects, by=name, protocol=protocol)
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
            cells, title="Evidence map of the meta-analyses", row_title=row_title,
            size_label="number of effect sizes (k)",
            caption=f"Evidence map: outcome domain by {row_title.lower()}; bubble area is proportional to "
                    "the "
                    "number of effect sizes; colour is the most frequent direction (significantly better "
                    "in the experimental condition, no significant difference, significantly worse)."))
    if len(bundle.primary_studies) >= 2:
        pairs = [(lst.report_id, s.label) for lst in bundle.primary_studies for s in lst.studies]
        out.append(sections.overlap_section(cca(CitationMatrix.from_inclusions(pairs))))
    return out


def build_report(protocol: Protocol, *, effects: pd.DataFrame | None = None,
                 extra_sections: Sequence[Section] = (), sources: Sequence[str] = (),
                 title: str | None = None, subtitle: str = "", methods_extra: Sequence[str] = ()) -> Report:
    """The protocol section, any ``extra_sections``, then the effect sections when ``effects`` is given.
    The Methods describe the re-pooling only when it ran, then ``methods_extra``."""
    body = [protocol_section(protocol), *extra_sections]
    repooled = effects is not None and len(effects) > 0
    if repooled:
        body += effect_sections(effects)[0]  # type: ignore[arg-type]
    return Report(title=title or protocol.title, subtitle=subtitle, sections=body,
                  methods=sections.methods_paragraphs(repooling=repooled, extra=methods_extra),
                  sources=list(sources))


def extraction_methods(bundle: ExtractionBundle, protocol: Protocol | None = None) -> list[str]:
    """Methods sentences for what the extraction sections ran (nothing for what did not run)."""
    out = []
    if bundle.effect_sizes:
        mods = [m.title.lower() for m in (protocol.moderators if protocol is not None else [])
                if m.type in ("categorical", "yes/no")]
        by = ", ".join(["outcome domain", *mods])
        out.append(f"{len(bundle.effect_sizes)} effect sizes from {len(bundle.reports)} reports were "
                   "counted as significantly better, not significantly different or significantly worse "
                   "(derived from each estimate's confidence interval, or p value, against the null of its "
                   f"measure) by {by}; proportions carry Wilson 95% intervals and the association of each "
                   "moderator with the direction is tested with Fisher's exact test.")
    if any(r.confidence for r in bundle.reports):
        out.append("Confidence in the results of each review was rated with AMSTAR 2 (Shea et al. 2017).")
    if len(bundle.primary_studies) >= 2:
        out.append("Overlap of primary studies between reviews is the corrected covered area (Pieper et al. "
                   "2014).")
    return out


def write_review_report(review_dir: str | Path, *, out: str | Path | None = None,
                        effects: str | Path | None = None, db: str | None = None,
                        by: str | None = None) -> ReportFiles:
    """Build and write the report of the review in ``review_dir`` (``metareview report``).

    The PRISMA section comes in when the store holds screening data, the extraction sections (included
    meta-analyses, vote count by each declared moderator, evidence map by ``by``, overlap) when it holds
    extraction forms, and the re-pooling sections when an ``effects`` CSV is given. Written to ``out``
    (default ``<review_dir>/report``). A protocol that would orphan stored values is refused
    (``metareview protocol migrate``).
    """
    from metareview.extraction.schema import ensure_no_orphans
    from metareview.progress import track

    review_dir = Path(review_dir)
    protocol = Protocol.load(review_dir / "protocol.toml")
    extra: list[Section] = []
    methods: list[str] = []
    bar = track("building the report", 3, "steps")  # read the store, build the sections, write the files
    if db is not None or (review_dir / SQLITE_FILE).is_file():
        rv = Review.open(review_dir, db)
        try:
            prisma = prisma_section(rv)
            with rv.session() as session:
                bundle = load_bundle(session)
        finally:
            rv.close()
        ensure_no_orphans(bundle, protocol, source=str(review_dir / "protocol.toml"))
        extra = ([prisma] if prisma is not None else []) + extraction_sections(bundle, protocol, by=by)
        methods = extraction_methods(bundle, protocol)
    bar.update(1)
    frame = read_effects(effects) if effects is not None else None
    report = build_report(protocol, effects=frame, extra_sections=extra, methods_extra=methods)
    bar.update(2)
    files = write_report(report, out if out is not None else review_dir / "report")
    bar.finish()
    return files
