"""Appraisal templates (CSV/XLSX) round trip, validation messages, the store and the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from metareview.cli import app
from metareview.errors import InputError
from metareview.extraction import appraisal_forms as af
from metareview.review import Review

ROB2_LOW = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y",
            "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}


def _fill(path: Path, tool: str, rows: list[dict[str, str]]) -> Path:
    frame = pd.DataFrame(rows, columns=list(af.columns(tool)), dtype=object).fillna("")
    if path.suffix == ".xlsx":
        frame.to_excel(path, sheet_name=tool, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("tool", ["rob2", "rob1", "robis"])
def test_template_has_the_columns(tmp_path, tool, suffix):
    out = af.write_template(tool, tmp_path / f"t{suffix}", subjects=["A 2001", "B 2002"])
    frame = pd.read_excel(out, sheet_name=tool) if suffix == ".xlsx" else pd.read_csv(out)
    assert tuple(frame.columns) == af.columns(tool)
    assert list(frame.iloc[:, 0]) == ["A 2001", "B 2002"]


def test_blank_template_rows_are_errors(tmp_path):
    out = af.write_template("rob2", tmp_path / "t.csv", subjects=["A 2001"])
    with pytest.raises(InputError, match=r"t.csv, line 2, field '1.2'.*must be answered"):
        af.read_forms("rob2", out)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rob2_round_trip_with_override(tmp_path, suffix):
    rows = [ROB2_LOW | {"study": "Low 2001", "weight": "10"},
            ROB2_LOW | {"study": "Some 2002", "1.3": "Y", "5.1": "N", "overall_override": "high",
                        "overall_reason": "two domains", "weight": "30"},
            ROB2_LOW | {"study": "High 2003", "1.2": "N"}]
    forms = af.read_forms("rob2", _fill(tmp_path / f"f{suffix}", "rob2", rows))
    assert [(f.overall_suggested, f.overall) for f in forms] == \
        [("low", "low"), ("some concerns", "high"), ("high", "high")]
    assert forms[1].weight == 30.0 and forms[2].weight is None
    rows_back = [af._row_of("rob2", f) for f in forms]
    again = af.read_forms("rob2", _fill(tmp_path / f"g{suffix}", "rob2", rows_back))
    assert again == forms


def test_errors_name_row_column_and_allowed(tmp_path):
    bad = _fill(tmp_path / "bad.csv", "rob2",
                [ROB2_LOW | {"study": "A"}, ROB2_LOW | {"study": "B", "2.6": "yes"}])
    with pytest.raises(InputError, match=r"bad.csv, line 3, field '2.6'.*allowed: Y, PY, PN, N, NI, NA"):
        af.read_forms("rob2", bad)
    six = ("sequence_generation", "allocation_concealment", "blinding_participants", "blinding_outcome",
           "incomplete_outcome", "selective_reporting")
    bad1 = _fill(tmp_path / "bad1.csv", "rob1",
                 [{"study": "A", **dict.fromkeys(six, "low"), "other": "moderate"}])
    with pytest.raises(InputError, match=r"line 2, field 'other'.*allowed: low, unclear, high"):
        af.read_forms("rob1", bad1)
    dup = _fill(tmp_path / "dup.csv", "rob2", [ROB2_LOW | {"study": "A"}, ROB2_LOW | {"study": "A"}])
    with pytest.raises(InputError, match="line 3, field 'study': duplicate"):
        af.read_forms("rob2", dup)
    extra = tmp_path / "extra.csv"
    extra.write_text("study,1.1,q9\nA,Y,Y\n")
    with pytest.raises(InputError, match="line 1, field 'q9'"):
        af.read_forms("rob2", extra)
    with pytest.raises(InputError, match="unknown appraisal tool"):
        af.columns("amstar")


def test_store_and_cli(tmp_path, store_url):
    review_dir = tmp_path / "rev"
    Review.init(review_dir, store_url).close()
    runner = CliRunner()
    out = tmp_path / "robis.xlsx"
    res = runner.invoke(app, ["appraise", "template", "robis", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "help" in pd.read_excel(out, sheet_name=None)
    rows = [dict.fromkeys(("1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2",
                           "3.3", "3.4", "3.5", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "A", "B", "C"), "Y")
            | {"review": "R1", "2.2": "N"}]
    filled = _fill(tmp_path / "robis.csv", "robis", rows)
    args = ["--review", str(review_dir), "--db", store_url]
    res = runner.invoke(app, ["appraise", "import", "robis", str(filled), *args])
    assert res.exit_code == 0 and "1 added" in res.output, res.output
    res = runner.invoke(app, ["appraise", "import", "robis", str(filled), *args])
    assert "0 added, 1 replaced" in res.output
    stored = af.stored_appraisals("robis", review_dir, db=store_url)
    assert [d.concern for d in stored[0].domains] == ["low", "high", "low", "low"]
    res = runner.invoke(app, ["appraise", "summary", "robis", *args, "--csv", str(tmp_path / "s.csv")])
    assert res.exit_code == 0 and "R1" in res.output
    assert pd.read_csv(tmp_path / "s.csv").loc[0, "D2"] == "high"


def test_cli_plot_from_file(tmp_path):
    filled = _fill(tmp_path / "rob2.csv", "rob2", [ROB2_LOW | {"study": "A", "weight": "2"},
                                                    ROB2_LOW | {"study": "B", "1.2": "N", "weight": "1"}])
    res = CliRunner().invoke(app, ["appraise", "plot", "rob2", "--file", str(filled), "--weighted",
                                   "--out", str(tmp_path / "figs" / "rob2")])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    kinds, exts = ("traffic-light", "summary"), ("svg", "pdf", "png")
    assert names == sorted(f"rob2-{k}.{e}" for k in kinds for e in exts)
    res = CliRunner().invoke(app, ["appraise", "summary", "rob2", "--file", str(filled)])
    assert res.exit_code == 0 and "high" in res.output


def test_migration_0009_up_and_down(tmp_path):
    import sqlalchemy as sa
    from alembic import command

    from metareview.store.db import alembic_config, make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    upgrade(engine)
    with engine.connect() as con:
        assert "appraisals" in sa.inspect(con).get_table_names()
    cfg = alembic_config()
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.downgrade(cfg, "0008_living")
    with engine.connect() as con:
        assert "appraisals" not in sa.inspect(con).get_table_names()
    engine.dispose()


def test_template_prefilled_from_review(tmp_path):
    from metareview.extraction.forms import MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
    from metareview.extraction.templates import ExtractionBundle
    from metareview.store.extraction_repo import save_bundle

    review = Review.init(tmp_path / "rev")
    bundle = ExtractionBundle(
        (MetaAnalysisReport(id="ma1", citation="A"), MetaAnalysisReport(id="ma2", citation="B")), (),
        (PrimaryStudyList(report_id="ma1", studies=[PrimaryStudy(label="Smith 2001"),
                                                    PrimaryStudy(label="Jones 2005")]),
         PrimaryStudyList(report_id="ma2", studies=[PrimaryStudy(label="Jones 2005")])))
    with review.session() as s:
        save_bundle(s, bundle)
    review.close()
    out = tmp_path / "rob2.csv"
    res = CliRunner().invoke(app, ["appraise", "template", "rob2", "--out", str(out), "--review",
                                   str(tmp_path / "rev")])
    assert res.exit_code == 0, res.output
    assert list(pd.read_csv(out)["study"]) == ["Smith 2001", "Jones 2005"]
    assert af.review_subjects("robis", tmp_path / "rev") == ["ma1", "ma2"]
