"""The records commands end to end through the CLI (typer's test runner)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from samples import MEDLINE, RIS
from typer.testing import CliRunner

from metareview.cli import app
from metareview.errors import InputError, StoreError

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_records_workflow(tmp_path: Path) -> None:
    rev = tmp_path / "rev"
    assert "created Review" in _run("init", str(rev))
    assert (rev / "protocol.toml").is_file() and (rev / "review.sqlite").is_file()
    (tmp_path / "a.ris").write_text(RIS, encoding="utf-8")
    (tmp_path / "b.nbib").write_text(MEDLINE, encoding="utf-8")
    out = _run(
        "import",
        str(tmp_path / "a.ris"),
        "--database",
        "PsycINFO",
        "--review",
        str(rev),
        "--searched",
        "2024-03-01",
        "--query",
        "guided AND internet",
    )
    assert "[ris] -> PsycINFO: 2 records in file, 2 added" in out
    assert "already imported" in _run(
        "import", str(tmp_path / "a.ris"), "--database", "PsycINFO", "--review", str(rev)
    )
    _run(
        "import",
        str(tmp_path / "b.nbib"),
        "--database",
        "PubMed",
        "--format",
        "medline",
        "--review",
        str(rev),
    )
    out = _run("dedup", "--review", str(rev))
    assert "duplicates flagged: 2; unique records: 2" in out
    out = _run("status", "--review", str(rev))
    assert "PubMed" in out and "total: 4 records, 2 duplicates, 2 unique" in out
    out = _run("records", "--review", str(rev))
    assert "(2 records)" in out
    out = _run("records", "--review", str(rev), "--export", "csv", "--duplicates")
    frame = pd.read_csv(rev / "records.csv")
    assert sorted(frame.status) == ["duplicate", "duplicate", "kept", "kept"] and "wrote 4 records" in out
    cluster = int(frame.cluster_id.dropna().iloc[0])
    assert f"dissolved cluster {cluster}" in _run("dedup", "--review", str(rev), "--undo", str(cluster))
    assert "dissolved 1 clusters" in _run("dedup", "--review", str(rev), "--reset")
    _run("records", "--review", str(rev), "--export", "ris", "--out", str(tmp_path / "unique.ris"))
    out = _run("import", str(tmp_path / "unique.ris"), "--database", "Export", "--review", str(rev))
    assert "4 records in file, 4 added" in out  # what metareview writes, it reads back


def test_cli_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--review", str(tmp_path)])
    assert isinstance(result.exception, StoreError)
    _run("init", str(tmp_path))
    bad = tmp_path / "bad.ris"
    bad.write_text("TY  - JOUR\nTI  - x\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(bad), "--database", "X", "--review", str(tmp_path)])
    assert isinstance(result.exception, InputError) and result.exception.line == 1


def test_dedup_review_pairs_interactively(tmp_path: Path) -> None:
    from test_dedup import EXPORT

    _run("init", str(tmp_path))
    (tmp_path / "x.ris").write_text(EXPORT, encoding="utf-8")
    _run("import", str(tmp_path / "x.ris"), "--database", "PsycINFO", "--review", str(tmp_path))
    result = runner.invoke(app, ["dedup", "--review", str(tmp_path), "--review-pairs"], input="y\n")
    assert result.exit_code == 0, result.output
    # record 3 against the cluster {1, 2}: one question, not one per member
    assert result.output.count("title similarity") == 1
    assert "[1] " in result.output and "[3] " in result.output
    assert "0 uncertain pairs to review" in _run("status", "--review", str(tmp_path))
    assert "duplicates flagged: 2" in _run("dedup", "--review", str(tmp_path))
