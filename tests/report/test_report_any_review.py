"""`metareview report` from any review's store: searches, dedup and screening (two reviewers, full-text
exclusions), extraction with primary-study effects, AMSTAR 2, ROBIS and RoB 2, then pooled findings with their
forest and funnel plots, credibility, GRADE Summary of findings, overlap, Methods written from what ran, the
HTML page, the DOCX read back, and every figure as SVG/PDF/PNG. Pooled numbers are checked against metafor
(one Rscript run)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from metareview.errors import InputError
from tests.rharness import run_r

ROB2_LOW = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y", "4.1": "N",
            "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}
# one finding of odds ratios from 2x2 counts (cases/controls among exposed and non-exposed) ...
OR_STUDIES = [("Adams", 2001, 30, 70, 20, 80), ("Baker", 2004, 45, 55, 30, 70),
              ("Chen", 2008, 12, 88, 10, 90),
              ("Diaz", 2012, 60, 140, 35, 165), ("Evans", 2015, 25, 75, 12, 88)]
# ... and one of standardised mean differences from means and SDs
SMD_STUDIES = [("Fox", 2003, 10.2, 3.1, 60, 9.1, 3.0, 62), ("Gill", 2007, 11.0, 2.8, 45, 10.5, 2.9, 40),
               ("Hale", 2010, 9.8, 3.3, 80, 8.7, 3.2, 85), ("Ito", 2016, 12.1, 3.0, 30, 11.9, 3.1, 33)]
EXTRA_FIELDS = """
[[extraction.effect_fields]]
name = "study"
type = "text"
[[extraction.effect_fields]]
name = "study_year"
type = "numeric"
"""
EXTRA_FIELDS += """[[extraction.effect_fields]]
name = "indirectness"
type = "categorical"
levels = ["no", "serious", "very_serious"]
"""
EXTRA_FIELDS += "".join(f'[[extraction.effect_fields]]\nname = "{n}"\ntype = "numeric"\n' for n in (
    "n_cases", "n_controls", "n_cases_exp", "n_controls_exp", "n_cases_nexp", "n_controls_nexp", "mean_cases",
    "sd_cases", "mean_controls", "sd_controls"))
REPORT_TOML = """
title = "A test umbrella review"
intro = ["Findings pooled from the primary studies."]
sources = ["A source of this review."]
[findings]
name = ["comparison"]
study = "study"
study_year = "study_year"
subgroups = "report_id"
[summary_of_findings]
control_risk = 0.2
control_risk_source = "assumed for the test"
"""


def _ris(records: list[tuple[str, str, int, str]]) -> str:
    return "".join(f"TY  - JOUR\nAU  - {a}\nTI  - {t}\nPY  - {y}\nJO  - J Test\nDO  - {doi}\nER  - \n\n"
                   for t, a, y, doi in records)


def _build(folder: Path) -> dict[str, object]:
    """A small review carried from two searches to stored appraisals; what the test needs to know of it."""
    from metareview.extraction import rob2, robis
    from metareview.extraction.appraisal_forms import store_appraisals
    from metareview.extraction.templates import import_forms, store_forms
    from metareview.records.dedup import deduplicate
    from metareview.records.importer import import_file
    from metareview.review import Review
    from metareview.screening import decisions as sd
    from metareview.stats import escalc

    Review.init(folder).close()
    proto = folder / "protocol.toml"
    proto.write_text(proto.read_text() + EXTRA_FIELDS)
    (folder / "report.toml").write_text(REPORT_TOML)
    recs = [(f"Meta-analysis {i} of support", f"Author{i}, A", 2015 + i, f"10.1/ma{i}") for i in range(1, 7)]
    (folder / "medline.ris").write_text(_ris(recs))
    (folder / "psycinfo.ris").write_text(_ris([recs[0], ("Another meta-analysis", "Other, B", 2020, "10.1/x"),
                                               ("A third one", "Third, C", 2021, "10.1/y")]))
    review = Review.open(folder)
    try:
        import_file(review, folder / "medline.ris", "MEDLINE", searched="2024-03-01",
                    query="(support OR coaching) AND meta-analysis[pt]")
        import_file(review, folder / "psycinfo.ris", "PsycINFO", searched="2024-03-02")
        deduplicate(review)
        states = sd.states(review)
        ids = sorted(s.record_id for s in states)
        assert len(ids) == 8  # 9 imported, 1 duplicate (same DOI)
        include = ids[:4]
        for rid in ids:
            sd.decide(review, rid, "ana", "include" if rid in include else "exclude")
            vote = "include" if rid in include or rid == ids[4] else "exclude"
            sd.decide(review, rid, "ben", vote)
        sd.resolve(review, ids[4], "cleo", "exclude")
        for rid in include[:3]:
            sd.decide(review, rid, "ana", "include", stage="full_text")
            sd.decide(review, rid, "ben", "include", stage="full_text")
        for who in ("ana", "ben"):
            sd.decide(review, include[3], who, "exclude", stage="full_text",
                      reason="not a quantitative meta-analysis")
    finally:
        review.close()
    kept = [f"rec{r}" for r in include[:2]]  # two of the three included reports extracted ...
    reports = [{"id": kept[0], "citation": "Author1 2016", "year": 2016, "n_studies": 5},
               {"id": kept[1], "citation": "Author2 2017", "year": 2017, "n_studies": 4},
               {"id": "hand2019", "citation": "Hand 2019", "year": 2019, "n_studies": 3}]  # ... one from
                                                                                           # elsewhere
    amstar = dict.fromkeys(range(1, 17), "yes") | {7: "no"}
    for r in reports[:2]:
        r.update({f"amstar2_item{i}": a for i, a in amstar.items()})
    effects, lists = [], []
    for j, (a, y, ce, xe, cn, xn) in enumerate(OR_STUDIES):
        es = escalc("OR", ai=[ce], bi=[xe], ci=[cn], di=[xn])
        se = math.sqrt(es.vi[0])
        rid = kept[0] if j < 3 else "hand2019"
        effects.append({"report_id": rid, "outcome_domain": "depression", "comparison": "Coaching vs none",
                        "measure": "OR", "estimate": math.exp(es.yi[0]),
                        "ci_lower": math.exp(es.yi[0] - 1.959964 * se),
                        "ci_upper": math.exp(es.yi[0] + 1.959964 * se),
                        "sample": "unrestricted", "support_provider": "lay", "study": a, "study_year": y,
                        "n_cases": ce + cn, "n_controls": xe + xn, "n_cases_exp": ce, "n_controls_exp": xe,
                        "n_cases_nexp": cn, "n_controls_nexp": xn, "indirectness": "serious"})
        lists.append({"report_id": rid, "label": f"{a} {y}", "year": y})
    for (a, y, m1, s1, n1, m2, s2, n2) in SMD_STUDIES:
        es = escalc("SMD", m1i=[m1], sd1i=[s1], n1i=[n1], m2i=[m2], sd2i=[s2], n2i=[n2])
        se = math.sqrt(es.vi[0])
        effects.append({"report_id": kept[1], "outcome_domain": "anxiety", "comparison": "Feedback vs none",
                        "measure": "SMD", "estimate": es.yi[0], "ci_lower": es.yi[0] - 1.959964 * se,
                        "ci_upper": es.yi[0] + 1.959964 * se, "sample": "clinical_subclinical",
                        "support_provider": "clinically_trained", "study": a, "study_year": y, "n_cases": n1,
                        "n_controls": n2, "mean_cases": m1, "sd_cases": s1, "mean_controls": m2,
                        "sd_controls": s2})
        lists.append({"report_id": kept[1], "label": f"{a} {y}", "year": y})
    lists.append({"report_id": kept[1], "label": "Adams 2001", "year": 2001})  # one study in two reviews
    forms = folder / "forms"
    forms.mkdir()
    pd.DataFrame(reports).to_csv(forms / "reports.csv", index=False)
    pd.DataFrame(effects).to_csv(forms / "effect_sizes.csv", index=False)
    pd.DataFrame(lists).to_csv(forms / "primary_studies.csv", index=False)
    from metareview.protocol import Protocol

    store_forms(import_forms(forms, protocol=Protocol.load(proto)), folder)
    store_appraisals("robis", [robis.assess(dict.fromkeys(robis.QUESTIONS, "Y"), review=kept[0]),
                               robis.assess(dict.fromkeys(robis.QUESTIONS, "Y") | {"2.2": "N"},
                                            review=kept[1])],
                     folder)
    store_appraisals("rob2", [rob2.assess(ROB2_LOW, study=f"{a} {y}") for a, y, *_ in OR_STUDIES], folder)
    return {"included": include[:3], "excluded": include[3], "kept": kept}


R_FINDINGS = """
ors <- escalc("OR", ai = ai, bi = bi, ci = ci, di = di, data = dat)
r1 <- rma(yi, vi, data = ors)
smd <- escalc("SMD", m1i = m1, sd1i = s1, n1i = n1, m2i = m2, sd2i = s2, n2i = n2,
              data = as.data.frame(fromJSON(smd_json[1])))
r2 <- rma(yi, vi, data = smd)
pit <- function(r) c(r$b) + c(-1, 1) * qt(.975, r$k - 1) * sqrt(r$tau2 + r$se^2)
out <- list(or = c(r1$b, r1$ci.lb, r1$ci.ub, pit(r1)), smd = c(r2$b, r2$ci.lb, r2$ci.ub, pit(r2)),
            or_weights = unname(weights(r1)))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from metareview.report.review_report import write_review_report

    folder = tmp_path_factory.mktemp("review")
    facts = _build(folder)
    files = write_review_report(folder)
    import html

    page = files.html.read_text(encoding="utf-8")
    return facts | {"folder": folder, "files": files, "html": page, "text": html.unescape(page)}


def _table(html: str, caption: str) -> pd.DataFrame:
    start = html.index(caption)
    chunk = html[start:html.index("</table>", start) + 8]
    return pd.read_html(__import__("io").StringIO(chunk))[0]


def test_sections_follow_the_data(built: dict) -> None:  # type: ignore[type-arg]
    html = built["html"]
    heads = re.findall(r"<h2>(.*?)</h2>", html)
    assert heads == ["The review question and eligibility criteria", "Searches", "Selection of studies "
                                                                                 "(PRISMA 2020)",
                     "Included reviews", "Risk of bias of the primary studies (RoB 2)",
                     "Vote count of the effect sizes", "Evidence map of the effect sizes",
                     "Pooled findings: forest and funnel plots", "Credibility of the findings",
                     "Summary of findings (GRADE)", "Overlap between reviews",
                     "Appendix: primary studies of the included reviews", "Methods",
                     "Data sources and references"]
    searches = _table(html, "Searches: sources")
    assert searches["Strategy"].tolist() == ["(support OR coaching) AND meta-analysis[pt]", "not recorded"]
    assert searches["Searched"].tolist() == ["2024-03-01", "2024-03-02"]
    excluded = _table(html, "Reports excluded at full text")
    assert excluded["Record"].tolist() == [f"rec{built['excluded']}"]
    assert excluded["Reason"].tolist() == ["not a quantitative meta-analysis"]


def test_included_counts_are_reconciled(built: dict) -> None:  # type: ignore[type-arg]
    html = built["html"]
    included = built["included"]
    assert "Screening included 3 reports at full text; 2 of them have extraction forms, and 1 has not been " \
           f"extracted yet: rec{included[2]} (" in html
    assert "1 extracted review does not come from this review's screening" in built["text"]
    assert "hand2019" in html
    prisma = pd.read_csv(next((built["folder"] / "report" / "tables").glob("*prisma*.csv"))).set_index("data")
    assert prisma.loc["new_studies", "n"] == "3" and prisma.loc["duplicates", "n"] == "1"


def test_appraisals_are_shown(built: dict) -> None:  # type: ignore[type-arg]
    html = built["html"]
    matrix = _table(html, "AMSTAR 2 item matrix")
    assert list(matrix.columns[:3]) == ["Review", "1", "2*"]
    assert matrix["7*"].tolist() == ["N", "N"] and matrix["Confidence"].tolist() == ["low", "low"]
    robis = _table(html, "ROBIS (Whiting")
    assert robis["Overall"].tolist() == ["low", "low"] and robis["D2"].tolist() == ["low", "high"]
    chars = _table(html, "Characteristics of the included reviews")
    assert chars["AMSTAR 2"].tolist()[:2] == ["low", "low"] and chars["ROBIS"].tolist()[:2] == ["low", "low"]
    assert "RoB 2 traffic-light plot" in html and "RoB 2 summary plot" in html


@pytest.mark.metafor
def test_one_pooled_estimate_per_finding_as_metafor_gives_it(built: dict,  # type: ignore[type-arg]
                                                             rscript: str) -> None:
    ai, bi, ci, di = zip(*[s[2:] for s in OR_STUDIES], strict=True)
    smd = dict(zip(("m1", "s1", "n1", "m2", "s2", "n2"), zip(*[s[2:] for s in SMD_STUDIES], strict=True),
                   strict=True))
    import json

    r = run_r(rscript, R_FINDINGS, data={"ai": ai, "bi": bi, "ci": ci, "di": di, "smd_json": json.dumps(smd)})
    html = built["html"]
    cred = _table(html, "Credibility of each finding")
    row = cred.set_index("Finding").loc["Coaching vs none"]
    b, lo, hi, plo, phi = (math.exp(x) for x in r["or"])
    assert row["Estimate [95% CI]"] == f"{b:.2f} [{lo:.2f}, {hi:.2f}]"
    assert row["95% PI"] == f"[{plo:.2f}, {phi:.2f}]"
    smd_row = cred.set_index("Finding").loc["Feedback vs none"]
    shown = "{:.2f} [{:.2f}, {:.2f}]".format(*r["smd"][:3]).replace("-", "\u2212")
    assert smd_row["Estimate [95% CI]"] == shown
    # the Summary of findings shows the same estimate, and absolute effects from the assumed risk 0.2:
    # risk with = OR p0 / (1 - p0 + OR p0)
    sof = _table(html, "Summary of findings: relative").set_index("Finding")
    assert sof.loc["Coaching vs none", "Relative effect (95% CI)"] == f"OR {b:.2f} ({lo:.2f} to {hi:.2f})"
    risk = [1000 * x * 0.2 / (0.8 + x * 0.2) for x in (b, lo, hi)]
    assert sof.loc["Coaching vs none", "Risk with (95% CI)"] == \
        f"{risk[0]:.0f} per 1,000 ({risk[1]:.0f} to {risk[2]:.0f})"
    # the numbers behind the tables (CSV) carry the same unrounded estimate
    csv = pd.read_csv(next((built["folder"] / "report" / "tables").glob("*credibility*.csv")))
    assert csv.set_index("finding").loc["Coaching vs none", "estimate"] == pytest.approx(r["or"][0], abs=1e-8)
    # and the forest plot's weights are metafor's
    from metareview.report.config import ReportConfig
    from metareview.report.findings import build_findings
    from metareview.review import Review
    from metareview.store.extraction_repo import load_bundle

    rv = Review.open(built["folder"])
    with rv.session() as s:
        bundle = load_bundle(s)
    rv.close()
    fs = build_findings(bundle.effect_sizes, ReportConfig.for_review(built["folder"]))
    assert fs["Coaching vs none"].fit.weights.tolist() == pytest.approx(r["or_weights"], abs=1e-8)


def test_grade_reasons_are_footnotes_and_rob_comes_from_the_forms(built: dict) -> None:  # type:
                                                                                         # ignore[type-arg]
    html = built["html"]
    start = html.index("Summary of findings: relative")
    notes = re.findall(r'<p class="table-note footnote">(.*?)</p>', html[start:start + 20000])
    assert notes and all(re.match(r"[a-z]\. ", n) for n in notes)
    sof = _table(html, "Summary of findings: relative").set_index("Finding")
    coaching = sof.loc["Coaching vs none", "Certainty (GRADE)"]
    feedback = sof.loc["Feedback vs none", "Certainty (GRADE)"]
    rob_note = "Risk of bias of the primary studies not assessed; not downgraded for it."
    ind_note = "Indirectness not assessed; not downgraded for it."
    letter = {n[0]: n[3:] for n in notes}
    feedback_notes = [letter[x] for x in feedback.split()[-1].split(",")]
    coaching_notes = [letter[x] for x in coaching.split()[-1].split(",")]
    assert rob_note in feedback_notes  # no RoB forms for its studies
    assert rob_note not in coaching_notes  # RoB 2: all low
    # indirectness: judged "serious" on each effect size of the coaching finding (-1), not given for feedback
    assert "Indirectness judged serious; downgraded one level." in coaching_notes
    assert ind_note in feedback_notes and ind_note not in coaching_notes
    # a rating with a domain not assessed is provisional; the coaching one has every input
    assert "(provisional)" in feedback and "(provisional)" not in coaching
    assert not any("downgraded two levels" in n and ("Risk of bias" in n or "Indirectness" in n)
                   for n in feedback_notes)  # nothing assumed: metaumbrella's -2 for a missing input is off


def test_methods_say_what_ran_and_only_that(built: dict) -> None:  # type: ignore[type-arg]
    html = built["html"]
    start = html.index('<section id="methods"')
    methods = html[start:html.index("</section>", start)]
    for phrase in ("MEDLINE (2024-03-01; 6 records)", "PsycINFO (2024-03-02; 3 records)",
                   "1 records were removed as duplicates", "by 2 reviewers (2 per record, blind to each "
                                                           "other",
                   "Fleiss", "ROBIS (Whiting et al. 2016) for 2 reviews", "RoB 2 (Sterne et al. 2019) for 5",
                   "REML", "t distribution with k \u2212 1 degrees of freedom", "trim and fill",
                   "Absolute effects of ratio measures", "metareview 0.", "numpy", "matplotlib"):
        assert phrase in methods, phrase
    for absent in ("stopping rule", "RoB 1", "three-level"):  # nothing for what did not run
        assert absent not in methods


def test_every_figure_is_a_file_in_three_formats(built: dict) -> None:  # type: ignore[type-arg]
    figs = built["files"].figures
    stems = {p.with_suffix("") for p in figs}
    assert len(figs) == 3 * len(stems) and len(stems) == built["html"].count("<figure>")
    assert any("prisma" in p.name for p in figs) and any("credibility-forest" in p.name for p in figs)


def test_docx_has_the_same_sections_tables_figures_and_numbers(built: dict) -> None:  # type: ignore[type-arg]
    from docx import Document

    doc = Document(str(built["files"].docx))
    html = built["html"]
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads == re.findall(r"<h2>(.*?)</h2>", html)
    assert len(doc.tables) == html.count("<table")
    assert len(doc.inline_shapes) == html.count("<figure>")
    sof = next(t for t in doc.tables if t.rows[0].cells[0].text == "Finding"
               and "Certainty (GRADE)" in [c.text for c in t.rows[0].cells])
    row = next(r for r in sof.rows if r.cells[0].text == "Coaching vs none")
    html_sof = _table(html, "Summary of findings: relative").set_index("Finding")
    assert row.cells[1].text == html_sof.loc["Coaching vs none", "Relative effect (95% CI)"]


def test_report_toml_errors_name_file_line_and_key(tmp_path: Path) -> None:
    from metareview.report.config import ReportConfig

    (tmp_path / "report.toml").write_text('title = "x"\n[findings]\nstudy = "study"\nsubgroup = '
                                          '"report_id"\n')
    with pytest.raises(InputError) as info:
        ReportConfig.for_review(tmp_path)
    assert info.value.line == 4 and info.value.field == "findings.subgroup"
    (tmp_path / "report.toml").write_text('[summary_of_findings]\ncontrol_risk = 1.5\n')
    with pytest.raises(InputError) as info:
        ReportConfig.for_review(tmp_path)
    assert info.value.line == 2 and "control_risk" in str(info.value.field)
    assert ReportConfig.for_review(tmp_path / "nowhere").findings.study == ""


def test_cases_convention_for_continuous_outcomes_is_stated_and_applied() -> None:
    """An SMD finding with 600 cases and 600 controls, p < 1e-6: with 'cases' (metaumbrella's count) it cannot
    pass the > 1000 cases criterion (class IV); counting all 1200 participants it can."""
    from types import SimpleNamespace as NS

    from metareview.report.config import ReportConfig
    from metareview.report.findings import build_findings

    def record(i: int) -> NS:
        return NS(report_id="r", measure="SMD", estimate=0.4 + 0.01 * i, ci_lower=0.4 + 0.01 * i - 0.196,
                  ci_upper=0.4 + 0.01 * i + 0.196, n=200,
                  value=lambda name, i=i: {"comparison": "x", "study": f"S{i}", "n_cases": 100,
                                           "n_controls": 100}.get(name))

    effects = [record(i) for i in range(6)]
    cases = ReportConfig.model_validate({"findings": {"name": ["comparison"], "study": "study"}})
    people = ReportConfig.model_validate({"findings": {"name": ["comparison"], "study": "study"},
                                          "credibility": {"continuous_cases": "participants"}})
    a = build_findings(effects, cases).findings[0].assessment
    b = build_findings(effects, people).findings[0].assessment
    assert a.pvalue < 1e-6 and (a.n_cases, a.klass) == (600, "IV")
    assert b.n_cases == 1200 and b.klass in ("I", "II", "III") and b.estimate == a.estimate


def test_no_wording_of_either_worked_example_in_the_report_code() -> None:
    root = Path(__file__).resolve().parents[2] / "src" / "metareview" / "report"
    text = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    for words in ("Werntz", "self-help", "human support", "Guided self", "digital", "PTSD", "Tortella",
                  "radua2019",
                  "Metapsy"):
        assert words.lower() not in text.lower(), words
