"""``metareview update`` / ``screen status`` / ``prisma-update`` from the command line."""

from __future__ import annotations

from pathlib import Path

from living_helpers import titles, write_ris
from typer.testing import CliRunner

from metareview.cli import app
from metareview.records.importer import import_file
from metareview.review import Review

T = titles(12, seed=5)


def test_update_then_status_speaks_for_new_batch(review: Review, tmp_path: Path) -> None:
    import_file(review, write_ris(tmp_path / "a.ris", T[:8]), "MEDLINE", searched="2024-01-01")
    url = str(review.engine.url.render_as_string(hide_password=False))
    a, b = write_ris(tmp_path / "m.ris", T[8:11]), write_ris(tmp_path / "p.ris", T[10:12])
    args = ["--review", str(review.directory), "--db", url]
    run = CliRunner().invoke(
        app,
        [
            "update",
            str(a),
            str(b),
            "--database",
            "MEDLINE",
            "--database",
            "PsycINFO",
            "--searched",
            "2025-01-01",
            *args,
        ],
    )
    assert run.exit_code == 0, run.output
    assert "batch 2" in run.output and "4 new unique records" in run.output
    status = CliRunner().invoke(app, ["screen", "status", *args])
    assert status.exit_code == 0, status.output
    assert "batch 2 of 2 (4 records in the batch, 0 screened)" in status.output
    bad = CliRunner().invoke(
        app, ["update", str(a), "--database", "A", "--database", "B", "--searched", "2025-01-01", *args]
    )
    assert bad.exit_code != 0
