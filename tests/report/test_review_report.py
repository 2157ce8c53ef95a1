"""`metareview report` and the review report builder: protocol + re-pooled effects -> HTML + tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from metareview.cli import app
from metareview.errors import InputError
from metareview.report.review_report import read_effects

PROTOCOL = """
title = "Guided vs unguided"
question = "Does guidance help?"
databases = ["MEDLINE"]
[[eligibility_criteria]]
id = "C1"
text = "A randomised trial."
"""


def _effects_csv(path: Path) -> Path:
    rng = np.random.default_rng(11)
    rows = [{"outcome": "depression", "trial": f"t{t}", "study": f"Trial {t}, 2019",
             "guidance": "guided" if t < 5 else "unguided", "yi": rng.normal(0.5, 0.2),
             "vi": rng.uniform(0.02, 0.06), "n_arm1": 50, "n_arm2": 50}
            for t in range(9) for _ in range(1 + t % 2)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_cli_writes_a_self_contained_report(tmp_path: Path) -> None:
    (tmp_path / "protocol.toml").write_text(PROTOCOL, encoding="utf-8")
    effects = _effects_csv(tmp_path / "effects.csv")
    res = CliRunner().invoke(app, ["report", "--review", str(tmp_path), "--effects", str(effects)])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "Does guidance help?" in html and "A randomised trial." in html
    assert html.count("data:image/svg+xml;base64,") >= 3  # forest, funnel, evidence map
    assert "Credibility" in html and "Methods" in html
    assert (tmp_path / "report" / "tables" / "tables.xlsx").is_file()
    assert "report.html" in res.output


def test_cli_protocol_only(tmp_path: Path) -> None:
    (tmp_path / "protocol.toml").write_text(PROTOCOL, encoding="utf-8")
    res = CliRunner().invoke(app, ["report", "--review", str(tmp_path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "Forest plot" not in (tmp_path / "o" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("change,field,line", [
    (lambda d: d.drop(columns=["vi"]), "vi", None),
    (lambda d: d.assign(vi=[0.04, -1.0, *d.vi[2:]]), "vi", 3),
    (lambda d: d.assign(guidance=["guided", "self", *d.guidance[2:]]), "guidance", 3),
])
def test_bad_effects_name_line_and_column(tmp_path: Path, change, field: str, line: int | None) -> None:  # type: ignore[no-untyped-def]
    path = _effects_csv(tmp_path / "e.csv")
    change(pd.read_csv(path)).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_effects(path)
    assert info.value.field == field and info.value.line == line


def _screened_review(directory: Path) -> None:
    """A review (SQLite) with three MEDLINE records screened by one reviewer: one included."""
    from metareview.records.model import Record
    from metareview.review import Review
    from metareview.screening import decisions as sd
    from metareview.store import records_repo

    Review.init(directory).close()
    proto = directory / "protocol.toml"
    proto.write_text(proto.read_text().replace("reviewers_per_record = 2", "reviewers_per_record = 1"))
    rv = Review.open(directory)
    try:
        with rv.session() as s:
            search = records_repo.add_search(s, database="MEDLINE", file_name="m.ris", file_hash="h",
                                             file_format="ris")
            records_repo.insert_records(s, search.id, 0, [Record(title=t) for t in ("A", "B", "C")])
            records_repo.finish_search(s, search, 3)
        sd.decide(rv, 1, "ana", "include")
        sd.decide(rv, 2, "ana", "include")
        sd.decide(rv, 3, "ana", "exclude")
        sd.decide(rv, 1, "ana", "include", stage="full_text")
        sd.decide(rv, 2, "ana", "exclude", stage="full_text", reason="not a quantitative meta-analysis")
    finally:
        rv.close()


def test_prisma_diagram_only_when_the_review_has_screening_data(tmp_path: Path) -> None:
    from metareview.review import Review

    empty = tmp_path / "empty"
    Review.init(empty).close()
    res = CliRunner().invoke(app, ["report", "--review", str(empty)])
    assert res.exit_code == 0, res.output
    assert "PRISMA" not in (empty / "report" / "report.html").read_text(encoding="utf-8")

    screened = tmp_path / "screened"
    _screened_review(screened)
    res = CliRunner().invoke(app, ["report", "--review", str(screened)])
    assert res.exit_code == 0, res.output
    html = (screened / "report" / "report.html").read_text(encoding="utf-8")
    assert "Selection of studies (PRISMA 2020)" in html and "PRISMA 2020 flow diagram" in html
    counts = pd.read_csv(next((screened / "report" / "tables").glob("*prisma*.csv"))).set_index("data")
    assert counts.loc["records_screened", "n"] == "3" and counts.loc["new_studies", "n"] == "1"


def _bundle():  # type: ignore[no-untyped-def]
    from metareview.extraction.forms import (
        EffectSizeRecord,
        MetaAnalysisReport,
        PrimaryStudy,
        PrimaryStudyList,
    )
    from metareview.extraction.templates import ExtractionBundle

    reports = (MetaAnalysisReport(id="a", citation="Alpha et al 2017", year=2017, n_studies=10),
               MetaAnalysisReport(id="b", citation="Beta et al 2019", year=2019, n_studies=8))
    effects = (
        EffectSizeRecord(report_id="a", outcome_domain="depression", comparison="guided vs unguided",
                         sample="clinical_subclinical", support_provider="clinically_trained", measure="SMD",
                         estimate=0.4, ci_lower=0.1, ci_upper=0.7),
        EffectSizeRecord(report_id="a", outcome_domain="anxiety", comparison="guided vs unguided",
                         sample="unrestricted", support_provider="clinically_trained", measure="SMD",
                         estimate=0.1, ci_lower=-0.2, ci_upper=0.4),
        EffectSizeRecord(report_id="b", outcome_domain="depression", comparison="coach vs none",
                         sample="unrestricted", support_provider="lay", measure="SMD", estimate=-0.3,
                         ci_lower=-0.5, ci_upper=-0.1),
    )
    lists = (PrimaryStudyList(report_id="a", studies=[PrimaryStudy(label=x) for x in ("s1", "s2", "s3")]),
             PrimaryStudyList(report_id="b", studies=[PrimaryStudy(label=x) for x in ("s2", "s3", "s4")]))
    return ExtractionBundle(reports, effects, lists)


def test_extraction_sections_from_stored_forms(tmp_path: Path) -> None:
    from metareview.report.review_report import extraction_sections
    from metareview.review import Review
    from metareview.store.extraction_repo import save_bundle

    secs = extraction_sections(_bundle())
    assert [s.title for s in secs] == ["Vote count of the effect sizes", "Evidence map of the effect sizes",
                                       "Overlap between reviews"]
    votes = secs[0].tables[0].frame
    sample = votes[votes["Level"] == "unrestricted"].iloc[0]
    assert sample["n"] == 2  # one 'no difference' (CI spans 0) and one 'significantly worse'
    # CCA of two reviews with 6 inclusions of 4 studies: (6 - 4) / (4 * 2 - 4) = 50% (Pieper 2014 formula)
    assert "50.00%" in secs[2].paragraphs[-1]
    worded = extraction_sections(_bundle(), labels=("Higher", "Same", "Lower"))
    assert list(worded[0].tables[0].frame.columns[3:]) == ["Higher", "Same", "Lower"]

    rv = Review.init(tmp_path / "rv")
    with rv.session() as s:
        save_bundle(s, _bundle())
    rv.close()
    res = CliRunner().invoke(app, ["report", "--review", str(tmp_path / "rv")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "rv" / "report" / "report.html").read_text(encoding="utf-8")
    assert "Alpha et al 2017" in html and "Vote count of the effect sizes" in html
    included = html[html.index("Characteristics of the included reviews"):]
    assert "guided vs unguided" in included[:3000]  # the comparisons each review made
    assert "report.docx" in res.output


def test_extraction_template_prefilled_with_the_reports_included_at_full_text(tmp_path: Path) -> None:
    folder = tmp_path / "screened"
    _screened_review(folder)  # record 1 included at full text, record 2 excluded there, 3 at title/abstract
    res = CliRunner().invoke(app, ["extract", "template", str(tmp_path / "forms"), "--review", str(folder)])
    assert res.exit_code == 0, res.output
    assert "pre-filled 1 included reports" in res.output
    reports = pd.read_csv(tmp_path / "forms" / "reports.csv")
    assert reports["id"].tolist() == ["rec1"] and reports["citation"].tolist() == ["A"]
    effects = pd.read_csv(tmp_path / "forms" / "effect_sizes.csv")
    assert {"sample", "support_provider", "rct_quality"} <= set(effects.columns)  # the template protocol's
