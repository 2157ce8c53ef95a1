"""The CLI of the synthesis area: thin commands over the API (votes, overlap, extract)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from metareview.cli import app

runner = CliRunner()


def test_votes_werntz2023_with_the_central_claim(shared_data: Path) -> None:
    res = runner.invoke(app, ["votes", "--werntz2023", "--compare", "Clinical or subclinical",
                              "Unrestricted samples", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert len(out["tables"]) == 4
    # R: fisher.test(matrix(c(12,9,10,14), 2, byrow=TRUE), alternative="greater")$p.value = 0.2307
    assert round(out["compare"][0]["pvalue"], 4) == 0.2307


def test_overlap_ccar(shared_data: Path) -> None:
    res = runner.invoke(app, ["overlap", str(shared_data / "overlap" / "ccar" / "test.csv")])
    assert res.exit_code == 0, res.output
    assert "Overall CCA = 41.43%" in res.output  # ccaR: 41.43%


def test_extract_template_import_and_votes(tmp_path: Path) -> None:
    folder = tmp_path / "forms"
    proto = tmp_path / "protocol.toml"
    proto.write_text('title = "t"\n[[moderators]]\nname = "sample"\ntype = "categorical"\n'
                     'levels = ["clinical_subclinical", "unrestricted"]\n[[moderators]]\n'
                     'name = "support_provider"\n', encoding="utf-8")
    res = runner.invoke(app, ["extract", "template", str(folder), "--protocol", str(proto)])
    assert res.exit_code == 0, res.output
    rows = [dict(report_id="r1", outcome_domain="depression", comparison="guided vs unguided", sample=s,
                 support_provider="lay", measure="SMD", estimate=e, ci_lower=e - 0.2, ci_upper=e + 0.2)
            for s, e in [("clinical_subclinical", 0.5), ("clinical_subclinical", 0.1), ("unrestricted", 0.1)]]
    pd.DataFrame(rows).to_csv(folder / "effect_sizes.csv", index=False)
    pd.DataFrame([{"id": "r1", "citation": "A 2020"}]).to_csv(folder / "reports.csv", index=False)
    res = runner.invoke(app, ["extract", "import", str(folder), "--protocol", str(proto)])
    assert res.exit_code == 0 and "1 meta-analysis reports, 3 effect sizes" in res.output
    res = runner.invoke(app, ["votes", str(folder), "--by", "sample", "--protocol", str(proto), "--json"])
    row = json.loads(res.output)["tables"][0]["rows"][0]
    assert (row["level"], row["better_n"], row["no_difference_n"]) == ("clinical_subclinical", 1, 1)


def test_bad_form_exits_with_a_located_message(tmp_path: Path) -> None:
    pd.DataFrame([{"report_id": "r1", "outcome_domain": "x", "comparison": "c", "sample": "kids",
                   "support_provider": "lay", "measure": "SMD", "estimate": 0.1, "p": 0.5}]).to_csv(
        tmp_path / "effect_sizes.csv", index=False)
    proto = tmp_path / "protocol.toml"
    proto.write_text('title = "t"\n[[moderators]]\nname = "sample"\ntype = "categorical"\n'
                     'levels = ["clinical", "unrestricted"]\n[[moderators]]\nname = "support_provider"\n',
                     encoding="utf-8")
    res = runner.invoke(app, ["extract", "import", str(tmp_path), "--protocol", str(proto)])
    assert res.exit_code != 0
    assert isinstance(res.exception, Exception) and "line 2" in str(res.exception)
    assert "sample" in str(res.exception) and "clinical, unrestricted" in str(res.exception)


def test_credibility_df_or(shared_data: Path) -> None:
    res = runner.invoke(app, ["credibility", str(shared_data / "umbrella" / "metaumbrella" / "df.OR.csv"),
                              "--grade", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    # metaumbrella vignette: ADHD IV, ASD ns, dyslexia IV, ID IV
    assert [f["klass"] for f in out["findings"]] == ["IV", "ns", "IV", "IV"]
    assert out["criteria"]["pi"] == "t" and len(out["grade"]) == 4


def test_extract_import_into_a_review(tmp_path: Path) -> None:
    from metareview.review import Review
    from metareview.store.extraction_repo import load_bundle

    Review.init(tmp_path / "rev").close()
    folder = tmp_path / "forms"
    folder.mkdir()
    pd.DataFrame([{"id": "r1", "citation": "A 2020", "search_date": "2019-05-01"}]).to_csv(
        folder / "reports.csv", index=False)
    pd.DataFrame([{"report_id": "r1", "label": "B 2018"}]).to_csv(folder / "primary_studies.csv", index=False)
    res = runner.invoke(app, ["extract", "import", str(folder), "--review", str(tmp_path / "rev")])
    assert res.exit_code == 0, res.output
    assert "stored 1 reports, 0 effect sizes, 1 primary studies" in res.output
    rev = Review.open(tmp_path / "rev")
    try:
        with rev.session() as s:
            assert load_bundle(s).primary_studies[0].studies[0].label == "B 2018"
    finally:
        rev.close()


def test_credibility_classes_by_a_factor_level_column(shared_data: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(shared_data / "umbrella" / "metaumbrella" / "df.OR.csv")
    frame["group"] = frame["factor"].map({"ADHD": "a", "ASD": "a", "dyslexia": "b", "ID": "b"})
    frame.to_csv(tmp_path / "df.csv", index=False)
    res = runner.invoke(app, ["credibility", str(tmp_path / "df.csv"), "--by", "group", "--json"])
    assert res.exit_code == 0, res.output
    # metaumbrella vignette classes: ADHD IV, ASD ns (group a); dyslexia IV, ID IV (group b)
    by = {r["group"]: (r["IV"], r["ns"], r["total"]) for r in json.loads(res.output)["by"]}
    assert by == {"a": (1, 1, 2), "b": (2, 0, 2)}
    frame.loc[3, "group"] = "b"  # row 5 of the file: an ADHD row (rows 2-11) that disagrees with the others
    frame.to_csv(tmp_path / "bad.csv", index=False)
    res = runner.invoke(app, ["credibility", str(tmp_path / "bad.csv"), "--by", "group"])
    assert res.exit_code != 0 and "line 5" in str(res.exception) and "'ADHD'" in str(res.exception)


def test_credibility_personalised_and_options(shared_data: Path) -> None:
    smd = str(shared_data / "umbrella" / "metaumbrella" / "df.SMD.csv")
    # metaumbrella vignette, Example 3: summary(strat.pers1) gives class IV for both factors
    res = runner.invoke(app, ["credibility", smd, "--criteria", "Personalized", "--class-i",
                              "n_cases=800,esb_p=0.10,rob=80", "--class-ii", "n_cases=500,esb_p=0.05,rob=65",
                              "--class-iii", "n_cases=200,esb_p=0.01,rob=50", "--class-iv",
                              "n_cases=100,rob=35", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["evidence"]["classes"] == {"Pharmacological": "IV", "Surgical": "IV"}
    assert out["criteria"]["esb_method"] == "TESSPSST" and len(out["summary"]) == 2
    # vignette ESB_p 9.43e-06 for Surgical (TESSPSST); the IT option gives another test
    assert float(f"{out['findings'][1]['esb_p']:.2e}") == 9.43e-06
    it = runner.invoke(app, ["credibility", smd, "--esb", "IT", "--true-effect", "largest", "--json"])
    assert json.loads(it.output)["findings"][1]["esb_method"] == "IT"
    bad = runner.invoke(app, ["credibility", smd, "--criteria", "Personalised", "--class-i", "n_cases"])
    assert bad.exit_code != 0 and "NAME=VALUE" in str(bad.exception)
    text = runner.invoke(app, ["credibility", smd, "--criteria", "GRADE"])
    assert text.exit_code == 0 and "Very weak" in text.output
