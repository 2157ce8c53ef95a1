"""``metareview export-decisions`` / ``import-decisions`` end to end through the CLI (typer runner)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from metareview.cli import app

RIS = "".join(
    f"TY  - JOUR\nTI  - Trial number {i}\nPY  - 2020\nDO  - 10.1000/t{i}\nER  - \n\n" for i in range(3)
)


def test_export_then_import_decisions(tmp_path: Path) -> None:
    runner = CliRunner()
    review = str(tmp_path / "r")
    assert runner.invoke(app, ["init", review]).exit_code == 0
    (tmp_path / "s.ris").write_text(RIS)
    assert (
        runner.invoke(
            app, ["import", str(tmp_path / "s.ris"), "--database", "X", "--review", review]
        ).exit_code
        == 0
    )
    (tmp_path / "in.csv").write_text("doi,decision\n10.1000/t1,include\n10.1000/zz,exclude\n")
    res = runner.invoke(
        app, ["import-decisions", str(tmp_path / "in.csv"), "--reviewer", "ana", "--review", review]
    )
    assert res.exit_code == 0, res.output
    assert "1 decisions written" in res.output and "1 unmatched" in res.output
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["export-decisions", str(out), "--reviewer", "ana", "--review", review])
    assert res.exit_code == 0, res.output
    assert "ana: include" in out.read_text()
