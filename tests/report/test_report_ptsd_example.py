"""The second worked example end to end (examples/ptsd-risk-factors/run.py): metaumbrella's df.radua2019 (real
umbrella-review data, 278 primary-study effects of risk factors for PTSD) through the example's protocol, the
package's extraction import, the store and ``metareview report`` (HTML and DOCX).

The chain must not change a number: each finding's pooled estimate, class and GRADE level in the report equal
those of ``metareview credibility`` run on the shared table directly (``read_umbrella`` on the CSV, the path
that metaumbrella users take), and the HTML, CSV and DOCX show the same ones."""

from __future__ import annotations

import html as htmllib
import io
import math
import re
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("ptsd")
    ns = runpy.run_path(str(REPO / "examples" / "ptsd-risk-factors" / "run.py"))
    page = ns["main"](out)
    text = page.read_text(encoding="utf-8")
    return {"out": out, "html": text, "text": htmllib.unescape(text),
            "csv": shared_data / "umbrella" / "metaumbrella" / "df.radua2019.csv"}


def _table(html: str, caption: str) -> pd.DataFrame:
    start = html.index(caption)
    return pd.read_html(io.StringIO(html[start:html.index("</table>", start) + 8]))[0]


def test_the_report_has_what_the_data_supports(example: dict) -> None:  # type: ignore[type-arg]
    heads = re.findall(r"<h2>(.*?)</h2>", example["html"])
    assert heads == ["The review question and eligibility criteria", "Included reviews",
                     "Vote count of the effect sizes", "Evidence map of the effect sizes",
                     "Pooled findings: forest and funnel plots", "Credibility of the findings",
                     "Summary of findings (GRADE)", "Overlap between reviews",
                     "Appendix: primary studies of the included reviews", "Methods", "Data sources and "
                                                                                     "references"]
    # no screening records: no PRISMA, no search, no screening sentence (nothing for what did not run)
    assert "PRISMA 2020 flow diagram" not in example["html"] and "Screening by" not in example["html"]
    chars = _table(example["html"], "Characteristics of the included reviews")
    assert len(chars) == 17 and chars["AMSTAR score"].notna().all()


def test_every_effect_is_accounted_for(example: dict) -> None:  # type: ignore[type-arg]
    """Which rows metaumbrella cannot use, from its documented rules: none of df.radua2019's 278.

    - Its manual's "Required information" tables (?metaumbrella, section B) accept an OR or an SMD with only
      its value and n_cases + n_controls: that covers the six rows with neither a CI nor 2x2 counts nor
      means and SDs (spreadsheet rows 19, an SMD; 82, 239, 262, 271, 272, ORs).
    - Its vignette "Details on calculations" (2.4) combines measures within a factor: with no SMD, OR is the
      measure and "RR, HR ... are converted into an OR" (situation 4: an RR from its 2x2 counts, or from its
      value, CI and numbers of cases and controls; situation 5: an HR taken as an OR); with an SMD, ORs are
      converted to it. Only IRR with SMD, and R/Z with other measures, cannot be combined: df.radua2019 has
      no IRR, R or Z. So the six RR rows (Cumulative trauma, Psychotic disorder) and the HR row (Female) are
      pooled with the ORs.
    - Several effects of one study (same author and year in a factor, multiple_es given) are merged into one.

    So every row becomes an effect size in the forms, nothing is left out of the pooling, and each finding's
    k is the number of distinct author-year studies of its factor."""
    raw = pd.read_csv(example["csv"])
    left = pd.read_csv(example["out"] / "extraction" / "left_out.csv")
    stored = pd.read_csv(example["out"] / "extraction" / "effect_sizes.csv")
    assert len(raw) == 278 and len(stored) == 278 and left.empty
    assert set(raw["measure"]) == {"OR", "SMD", "RR", "HR"}
    assert "Effect sizes left out of the pooling" not in example["html"]
    studies = raw.assign(study=raw["author"].str.lower() + raw["year"].astype(str))
    k = studies.groupby("factor")["study"].nunique()
    cred = _table(example["html"], "Credibility of each finding").set_index("Finding")
    assert cred["k"].to_dict() == k.to_dict()
    # the Methods say which findings had their measures converted and their studies' effects combined
    mixed = int((raw.groupby("factor")["measure"].nunique() > 1).sum())
    merged = int((raw.groupby("factor").size() > k).sum())
    assert f"in {mixed} findings mixing measures the effects were converted" in example["text"]
    assert f"in {merged} findings several effects of one study were combined" in example["text"]
    # the forms hold metafor's measures: an SMD reported as a value (metaumbrella's SMD is Cohen's d) is
    # stored as Hedges' g = J d, J(df) = Gamma(df/2) / (sqrt(df/2) Gamma((df - 1)/2)), df = n1 + n2 - 2
    from scipy.special import gammaln

    smd = raw.index[(raw["measure"] == "SMD") & raw["value"].notna()]
    assert len(smd) > 0 and (stored.loc[smd, "measure"] == "SMD").all()
    df = (raw.loc[smd, "n_cases"] + raw.loc[smd, "n_controls"] - 2).to_numpy(dtype=float)
    j = np.exp(gammaln(df / 2) - 0.5 * np.log(df / 2) - gammaln((df - 1) / 2))
    np.testing.assert_allclose(stored.loc[smd, "estimate"], j * raw.loc[smd, "value"], rtol=1e-12)
    assert stored["se"].notna().all()


def test_findings_equal_the_direct_metaumbrella_layout_path(example: dict) -> None:  # type: ignore[type-arg]
    from metareview.synthesis.credibility import assess_umbrella
    from metareview.synthesis.grade import grade_assessment
    from metareview.synthesis.umbrella_input import read_umbrella

    direct = {a.name: a for a in assess_umbrella(read_umbrella(example["csv"])).assessments}
    assert len(direct) == 7
    tables = example["out"] / "report" / "tables"
    csv = pd.read_csv(next(tables.glob("*credibility*.csv"))).set_index("finding")
    cred = _table(example["html"], "Credibility of each finding").set_index("Finding")
    sof = _table(example["html"], "Summary of findings: relative").set_index("Finding")
    for name, a in direct.items():
        assert csv.loc[name, "k"] == a.k and csv.loc[name, "class"] == a.klass
        for col in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "i2", "egger_p"):
            assert csv.loc[name, col] == pytest.approx(getattr(a, col), rel=1e-9, abs=1e-12), (name, col)
        # the report grades with the review's own appraisals: this review has no RoB forms and no
        # indirectness judgement, so those domains are not assessed (not downgraded, rating provisional);
        # metaumbrella's GRADE (metareview credibility --grade) assumes the worst for both instead
        own = grade_assessment(a, rob_missing="not assessed", indirectness_missing="not assessed")
        assert csv.loc[name, "grade"] == own.level and own.provisional
        assert grade_assessment(a).downgrades == own.downgrades + 2 + 2  # risk of bias -2, indirectness -2
        assert sof.loc[name, "Certainty (GRADE)"].split(" (provisional)")[0].endswith(own.level.upper())
        assert "(provisional)" in sof.loc[name, "Certainty (GRADE)"]
        tf = math.exp if a.measure == "OR" else (lambda x: x)
        shown = f"{tf(a.estimate):.2f} [{tf(a.ci_lower):.2f}, {tf(a.ci_upper):.2f}]".replace("-", "\u2212")
        assert cred.loc[name, "Estimate [95% CI]"] == shown and cred.loc[name, "Class"] == a.klass
        if a.measure == "OR":
            assert sof.loc[name, "Relative effect (95% CI)"].startswith(f"OR {math.exp(a.estimate):.2f} (")


def test_docx_matches_the_html(example: dict) -> None:  # type: ignore[type-arg]
    from docx import Document

    doc = Document(str(example["out"] / "report" / "report.docx"))
    html = example["html"]
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads == re.findall(r"<h2>(.*?)</h2>", html)
    assert len(doc.tables) == html.count("<table") and len(doc.inline_shapes) == html.count("<figure>")
    cred = next(t for t in doc.tables
                if [c.text for c in t.rows[0].cells][:2] == ["Finding", "Type of factor"])
    html_cred = _table(html, "Credibility of each finding").set_index("Finding")
    for row in cred.rows[1:]:
        cells = [c.text for c in row.cells]
        assert cells[5] == html_cred.loc[cells[0], "Estimate [95% CI]"]
        assert cells[-1] == html_cred.loc[cells[0], "Class"]


def test_figures_are_files(example: dict) -> None:  # type: ignore[type-arg]
    figs = sorted((example["out"] / "report" / "figures").iterdir())
    stems = {p.stem for p in figs}
    assert len(figs) == 3 * len(stems) == 3 * example["html"].count("<figure>")
    assert any("forest-female-part-3" in s for s in stems)  # 104 studies: the forest plot spans pages
    assert any("credibility-forest" in s for s in stems)
