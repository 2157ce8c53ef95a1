"""Templates written as CSV/XLSX, filled in, imported back; errors name file, row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from metareview.errors import InputError
from metareview.extraction.direction import Direction
from metareview.extraction.templates import COLUMNS, import_forms, write_templates

REPORT = {"id": "heber2017", "citation": "Heber E et al. JMIR 2017;19:e32", "year": 2017,
          "search_date": "2016-01-01", "databases": "PsycINFO; MEDLINE", "n_studies": 23,
          **{f"amstar2_item{i}": "Y" for i in range(1, 17)}, "amstar2_item7": "N"}
EFFECT = {"report_id": "heber2017", "outcome_domain": "stress", "comparison": "guided vs unguided",
          "sample": "unrestricted", "support_provider": "clinically_trained", "measure": "SMD",
          "estimate": 0.31, "p": 0.002, "higher_favours": "true"}
STUDY = {"report_id": "heber2017", "label": "Ebert 2014", "year": 2014}


def _fill_csv(folder: Path, sheets: dict[str, list[dict]]) -> None:
    for sheet, rows in sheets.items():
        pd.DataFrame(rows, columns=list(COLUMNS[sheet])).to_csv(folder / f"{sheet}.csv", index=False)


def test_csv_round_trip(tmp_path: Path) -> None:
    files = write_templates(tmp_path / "forms")
    assert sorted(f.name for f in files) == ["effect_sizes.csv", "primary_studies.csv", "reports.csv"]
    _fill_csv(tmp_path / "forms", {"reports": [REPORT], "effect_sizes": [EFFECT], "primary_studies": [STUDY]})
    b = import_forms(tmp_path / "forms")
    assert b.reports[0].databases == ["PsycINFO", "MEDLINE"]
    assert b.reports[0].confidence == "low"  # one critical flaw (item 7)
    assert b.effect_sizes[0].direction is Direction.BETTER
    assert b.primary_studies[0].studies[0].label == "Ebert 2014"
    assert b.to_dict()["effect_sizes"][0]["direction"] == "better"


def test_xlsx_round_trip(tmp_path: Path) -> None:
    book = tmp_path / "x.xlsx"
    write_templates(book)
    assert set(pd.read_excel(book, sheet_name=None)) == {*COLUMNS, "help"}
    with pd.ExcelWriter(book, engine="openpyxl") as xl:
        pd.DataFrame([REPORT]).to_excel(xl, sheet_name="reports", index=False)
        pd.DataFrame([EFFECT, EFFECT | {"estimate": -0.1, "p": 0.5}]).to_excel(
            xl, sheet_name="effect_sizes", index=False)
    b = import_forms(book)
    assert [e.direction for e in b.effect_sizes] == [Direction.BETTER, Direction.NO_DIFFERENCE]
    assert b.reports[0].year == 2017


@pytest.mark.parametrize(
    ("sheet", "bad", "line", "field"),
    [
        ("effect_sizes", [EFFECT, EFFECT | {"sample": "kids"}], 3, "sample"),
        ("effect_sizes", [EFFECT | {"p": ""}], 2, None),  # no CI and no p: direction cannot be derived
        ("effect_sizes", [EFFECT | {"report_id": "nobody"}], 2, "report_id"),
        ("reports", [REPORT | {"amstar2_item13": "partial yes"}], 2, "amstar2_item13"),
        ("reports", [REPORT, REPORT], 3, "id"),
        ("reports", [REPORT | {"search_date": "last year"}], 2, "search_date"),
    ],
)
def test_errors_name_file_row_and_column(tmp_path: Path, sheet: str, bad: list[dict], line: int,
                                         field: str | None) -> None:
    write_templates(tmp_path)
    good = {"reports": [REPORT], "effect_sizes": [EFFECT]}
    _fill_csv(tmp_path, good | {sheet: bad})
    with pytest.raises(InputError) as info:
        import_forms(tmp_path)
    assert info.value.file is not None and info.value.file.endswith(f"{sheet}.csv")
    assert info.value.line == line
    assert info.value.field == field


def test_unknown_column_is_rejected(tmp_path: Path) -> None:
    pd.DataFrame([EFFECT | {"direction": "better"}]).to_csv(tmp_path / "effect_sizes.csv", index=False)
    with pytest.raises(InputError) as info:
        import_forms(tmp_path)
    assert (info.value.line, info.value.field) == (1, "direction")
