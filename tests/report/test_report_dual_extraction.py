"""The report of a review extracted in duplicate, with reports linked to studies (issue 10: "Dual extraction
and consensus", "Primary studies are studies, not reports", "the report never shows 16 included next to 3
included unexplained"): the analyses read the consensus values only; reports still being extracted or
reconciled are listed as such; the Methods say how many extractors per report; the agreement per field is
shown; the PRISMA section counts studies and reports apart."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

MODERATORS = {"sample": "unrestricted", "support_provider": "lay"}


def _ris(n: int) -> str:
    return "".join(f"TY  - JOUR\nAU  - Author{i}, A\nTI  - Meta-analysis number {i} of support\n"
                   f"PY  - {2010 + i}\nJO  - J Test\nDO  - 10.1/dual{i}\nER  - \n\n" for i in range(1, n + 1))


def _extraction(key: str, estimate: float, citation: str, sample: str = "unrestricted") -> object:
    from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy
    from metareview.extraction.snapshot import ReportExtraction

    report = MetaAnalysisReport(id=key, citation=citation, year=2016)
    effect = EffectSizeRecord(report_id=key, outcome_domain="depression", comparison="coaching vs none",
                              measure="SMD", estimate=estimate, ci_lower=estimate - 0.2,
                              ci_upper=estimate + 0.2, fields=MODERATORS | {"sample": sample})
    return ReportExtraction(report, (effect,), (PrimaryStudy(label="Adams 2001"),))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from metareview.extraction import dual
    from metareview.records.importer import import_file
    from metareview.report.review_report import write_review_report
    from metareview.review import Review
    from metareview.screening import decisions as sd
    from metareview.screening.studies import link_reports

    folder = tmp_path_factory.mktemp("dual")
    Review.init(folder).close()
    proto = folder / "protocol.toml"
    proto.write_text(proto.read_text().replace("extractors_per_report = 1", "extractors_per_report = 2"))
    (folder / "medline.ris").write_text(_ris(4))
    review = Review.open(folder)
    try:
        import_file(review, folder / "medline.ris", "MEDLINE", searched="2024-05-01")
        ids = sorted(s.record_id for s in sd.states(review))
        for stage in ("title_abstract", "full_text"):
            for rid in ids:
                for who in ("ana", "ben"):
                    sd.decide(review, rid, who, "include", stage=stage)
        # the first two records are two papers of one review (e.g. the main paper and its companion)
        link_reports(review, ids[:2], "smith2020", actor="ana")
        k1, k3, k4 = (f"rec{ids[i]}" for i in (0, 2, 3))
        # k1: both extract, they differ on the estimate (and so its CI), consensus takes ana's values:
        # agreed
        dual.save_extraction(review, _extraction(k1, 0.40, "Smith 2020"), "ana", submit=True)
        dual.save_extraction(review, _extraction(k1, 0.45, "Smith 2020"), "ben", submit=True)
        for field in [r.field for r in dual.compare(review, k1, "cleo").rows if r.open]:
            dual.record_consensus(review, k1, field, "cleo", take="ana")
        # k3: only ana has submitted -> still being extracted
        dual.save_extraction(review, _extraction(k3, 0.30, "Jones 2019"), "ana", submit=True)
        # k4: both submitted, they differ on the estimate and the sample, no consensus yet
        dual.save_extraction(review, _extraction(k4, 0.20, "Lee 2018"), "ana", submit=True)
        dual.save_extraction(review, _extraction(k4, 0.25, "Lee 2018", sample="clinical_subclinical"), "ben",
                             submit=True)
    finally:
        review.close()
    files = write_review_report(folder, docx=False)
    import html

    page = files.html.read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return {"ids": ids, "keys": (k1, k3, k4), "html": page, "text": text, "folder": folder}


def _table(html: str, caption: str) -> pd.DataFrame:
    start = html.index(caption)
    return pd.read_html(io.StringIO(html[start:html.index("</table>", start) + 8]))[0]


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_only_the_consensus_values_are_analysed(built: dict) -> None:  # type: ignore[type-arg]
    html = built["html"]
    k1 = built["keys"][0]
    chars = _table(html, "Characteristics of the included reviews")
    assert chars["Review"].tolist() == ["Smith 2020"]  # k3 and k4 have no agreed values yet
    votes = pd.read_csv(next((built["folder"] / "report" / "tables").glob("*vote*.csv")))
    assert votes.select_dtypes("number").to_numpy().max() == 1  # one effect size counted: k1's
    assert k1 in html


def test_reports_not_agreed_are_listed_as_such(built: dict) -> None:  # type: ignore[type-arg]
    text = _squash(built["text"])
    ids = built["ids"]
    _, k3, k4 = built["keys"]
    assert (f"Screening included 4 reports of 3 studies at full text; 1 of them has extraction forms, 1 is a "
            f"further report of a study already extracted: rec{ids[1]} (a report of smith2020), 2 are still "
            f"being extracted or reconciled (not in the analyses): {k3} (being extracted: 1 of 2 extractors "
            f"submitted); {k4} (both extractions submitted; consensus not finished)") in text
    assert "has not been extracted yet" not in text
    assert not re.search(r"\b(ana|ben|cleo)\b", text, re.IGNORECASE)  # no extractor is named (blind mode)


def test_methods_and_agreement_per_field(built: dict) -> None:  # type: ignore[type-arg]
    html, text = built["html"], _squash(built["text"])
    assert "Each report was extracted by 2 extractors independently (blind to each other until all had " \
           "submitted); differing fields were resolved by consensus" in text
    assert re.findall(r"<h2>(.*?)</h2>", html).index("Data extraction") == \
        re.findall(r"<h2>(.*?)</h2>", html).index("Included reviews") + 1
    agreement = _table(html, "Agreement between the two extractors, per field").set_index("Field")
    # k1 and k4 were extracted twice (k3 only once): one effect size each; both pairs differ on the estimate
    # (0.40 vs 0.45, 0.20 vs 0.25) and so on both CI bounds; they agree on the sample in k1, not in k4, and
    # on the citation and the outcome domain in both
    assert agreement.loc["effect.estimate", ["Items", "Agreed"]].tolist() == [2, 0]
    assert agreement.loc["effect.ci_lower", ["Items", "Agreed"]].tolist() == [2, 0]
    assert agreement.loc["effect.sample", ["Items", "Agreed"]].tolist() == [2, 1]
    assert agreement.loc["report.citation", ["Items", "Agreed", "Agreement (%)"]].tolist() == [2, 2, 100.0]
    assert "Agreement between the extractors over 2 reports extracted twice, before consensus" in text


def test_prisma_counts_studies_and_reports_apart(built: dict) -> None:  # type: ignore[type-arg]
    html, text = built["html"], _squash(built["text"])
    ids = built["ids"]
    assert "Reports of one study are counted apart from studies: 4 reports of 3 studies; 1 study has " \
           "several reports." in text
    linked = _table(html, "Included studies with several reports")
    assert linked["Study"].tolist() == ["smith2020"] and linked["Reports"].tolist() == [2]
    assert linked["Records"].tolist() == [f"rec{ids[0]}, rec{ids[1]}"]

