"""``metareview asreview export`` / ``asreview import`` end to end through the CLI (typer runner)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from metareview.cli import app
from metareview.review import Review
from metareview.screening import decisions as sd

RIS = "".join(
    f"TY  - JOUR\nTI  - Trial number {i}\nPY  - 2020\nDO  - 10.1000/t{i}\nER  - \n\n" for i in range(3)
)


def test_asreview_export_then_import(tmp_path: Path) -> None:
    runner = CliRunner()
    source, target = str(tmp_path / "a"), str(tmp_path / "b")
    for folder in (source, target):
        assert runner.invoke(app, ["init", folder]).exit_code == 0
    (tmp_path / "s.ris").write_text(RIS)
    res = runner.invoke(app, ["import", str(tmp_path / "s.ris"), "--database", "X", "--review", source])
    assert res.exit_code == 0, res.output
    review = Review.open(source)
    for who in ("ana", "ben"):
        sd.decide(review, 2, who, "include", note="fits" if who == "ana" else None)
    review.close()
    project = tmp_path / "hand.asreview"
    res = runner.invoke(app, ["asreview", "export", str(project), "--review", source, "--reviewer", "ana"])
    assert res.exit_code == 0, res.output
    assert "wrote 3 records" in res.output
    res = runner.invoke(
        app, ["asreview", "import", str(project), "--reviewer", "asreview", "--review", target, "--json"]
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["records"]["database"] == "ASReview" and report["records"]["added"] == 3
    assert report["labelled"] == 1 and report["labels"]["written"] == 1
    assert report["labels"]["matched"][0]["title"] == "Trial number 1"


def test_asreview_import_of_a_non_project_fails_cleanly(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = str(tmp_path / "a")
    assert runner.invoke(app, ["init", folder]).exit_code == 0
    bad = tmp_path / "x.asreview"
    bad.write_text("hello")
    res = runner.invoke(app, ["asreview", "import", str(bad), "--reviewer", "r", "--review", folder])
    assert res.exit_code != 0
    assert isinstance(res.exception, Exception) and "not a zip" in str(res.exception)
