"""Templates written as CSV/XLSX, filled in, imported back; errors name file, row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from metareview.errors import InputError
from metareview.extraction.direction import Direction
from metareview.extraction.templates import columns, import_forms, write_templates
from metareview.protocol import Protocol

PROTO = Protocol.from_toml("""
title = "t"
outcome_domains = ["stress", "depression"]
[[moderators]]
name = "sample"
type = "categorical"
levels = ["clinical_subclinical", "unrestricted"]
required = true
[[moderators]]
name = "support_provider"
type = "categorical"
levels = ["clinically_trained", "lay"]
[[extraction.effect_fields]]
name = "follow_up_weeks"
type = "numeric"
[[extraction.report_fields]]
name = "registered"
type = "yes/no"
""")
COLUMNS = columns(PROTO)

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
    files = write_templates(tmp_path / "forms", protocol=PROTO)
    assert sorted(f.name for f in files) == ["effect_sizes.csv", "primary_studies.csv", "reports.csv"]
    _fill_csv(tmp_path / "forms", {"reports": [REPORT], "effect_sizes": [EFFECT], "primary_studies": [STUDY]})
    b = import_forms(tmp_path / "forms", protocol=PROTO)
    assert b.reports[0].databases == ["PsycINFO", "MEDLINE"]
    assert b.reports[0].confidence == "low"  # one critical flaw (item 7)
    assert b.effect_sizes[0].direction is Direction.BETTER
    assert b.primary_studies[0].studies[0].label == "Ebert 2014"
    assert b.to_dict()["effect_sizes"][0]["direction"] == "better"


def test_xlsx_round_trip(tmp_path: Path) -> None:
    book = tmp_path / "x.xlsx"
    write_templates(book, protocol=PROTO)
    assert set(pd.read_excel(book, sheet_name=None)) == {*COLUMNS, "help"}
    with pd.ExcelWriter(book, engine="openpyxl") as xl:
        pd.DataFrame([REPORT]).to_excel(xl, sheet_name="reports", index=False)
        pd.DataFrame([EFFECT, EFFECT | {"estimate": -0.1, "p": 0.5}]).to_excel(
            xl, sheet_name="effect_sizes", index=False)
    b = import_forms(book, protocol=PROTO)
    assert [e.direction for e in b.effect_sizes] == [Direction.BETTER, Direction.NO_DIFFERENCE]
    assert b.reports[0].year == 2017


@pytest.mark.parametrize(
    ("sheet", "bad", "line", "field"),
    [
        ("effect_sizes", [EFFECT, EFFECT | {"sample": "kids"}], 3, "sample"),
        ("effect_sizes", [EFFECT | {"sample": ""}], 2, "sample"),  # required by the protocol
        ("effect_sizes", [EFFECT | {"follow_up_weeks": "six"}], 2, "follow_up_weeks"),
        ("effect_sizes", [EFFECT | {"outcome_domain": "sleep"}], 2, "outcome_domain"),
        ("reports", [REPORT | {"registered": "perhaps"}], 2, "registered"),
        ("effect_sizes", [EFFECT | {"p": ""}], 2, None),  # no CI and no p: direction cannot be derived
        ("effect_sizes", [EFFECT | {"report_id": "nobody"}], 2, "report_id"),
        ("reports", [REPORT | {"amstar2_item13": "partial yes"}], 2, "amstar2_item13"),
        ("reports", [REPORT, REPORT], 3, "id"),
        ("reports", [REPORT | {"search_date": "last year"}], 2, "search_date"),
    ],
)
def test_errors_name_file_row_and_column(tmp_path: Path, sheet: str, bad: list[dict], line: int,
                                         field: str | None) -> None:
    write_templates(tmp_path, protocol=PROTO)
    good = {"reports": [REPORT], "effect_sizes": [EFFECT]}
    _fill_csv(tmp_path, good | {sheet: bad})
    with pytest.raises(InputError) as info:
        import_forms(tmp_path, protocol=PROTO)
    assert info.value.file is not None and info.value.file.endswith(f"{sheet}.csv")
    assert info.value.line == line
    assert info.value.field == field


def test_unknown_column_is_rejected(tmp_path: Path) -> None:
    pd.DataFrame([EFFECT | {"direction": "better"}]).to_csv(tmp_path / "effect_sizes.csv", index=False)
    with pytest.raises(InputError) as info:
        import_forms(tmp_path, protocol=PROTO)
    assert (info.value.line, info.value.field) == (1, "direction")


def test_error_names_the_allowed_levels(tmp_path: Path) -> None:
    _fill_csv(tmp_path, {"reports": [REPORT], "effect_sizes": [EFFECT | {"sample": "kids"}]})
    with pytest.raises(InputError) as info:
        import_forms(tmp_path, protocol=PROTO)
    assert "clinical_subclinical, unrestricted" in info.value.message and "'kids'" in info.value.message
    assert str(info.value).startswith(str(tmp_path / "effect_sizes.csv"))


def test_declared_columns_follow_the_protocol_and_values_are_typed(tmp_path: Path) -> None:
    assert COLUMNS["effect_sizes"][-3:] == ("sample", "support_provider", "follow_up_weeks")
    assert "registered" in COLUMNS["reports"]
    _fill_csv(tmp_path, {"reports": [REPORT | {"registered": "Yes"}],
                         "effect_sizes": [EFFECT | {"follow_up_weeks": "12"}]})
    b = import_forms(tmp_path, protocol=PROTO)
    assert b.reports[0].fields == {"registered": True}
    assert b.effect_sizes[0].fields == {"sample": "unrestricted", "support_provider": "clinically_trained",
                                        "follow_up_weeks": 12.0}


def test_without_a_protocol_a_moderator_column_is_unknown(tmp_path: Path) -> None:
    # the reference review's columns are no longer built in: another review's forms have none of them
    assert "sample" not in columns()["effect_sizes"]
    pd.DataFrame([EFFECT]).to_csv(tmp_path / "effect_sizes.csv", index=False)
    with pytest.raises(InputError, match="declare other fields in protocol.toml") as info:
        import_forms(tmp_path)
    assert info.value.field == "sample"


def test_xlsx_template_has_drop_downs_help_and_prefill(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    book = tmp_path / "t.xlsx"
    write_templates(book, protocol=PROTO, prefill=[("rec1", "Alpha 2020"), ("rec7", "Beta 2021")])
    wb = load_workbook(book)
    lists = {dv.formula1 for dv in wb["effect_sizes"].data_validations.dataValidation}
    assert '"clinical_subclinical,unrestricted"' in lists and '"clinically_trained,lay"' in lists
    assert {dv.formula1 for dv in wb["reports"].data_validations.dataValidation} == {'"yes,no"'}
    reports = pd.read_excel(book, sheet_name="reports")
    assert reports[["id", "citation"]].values.tolist() == [["rec1", "Alpha 2020"], ["rec7", "Beta 2021"]]
    help_ = pd.read_excel(book, sheet_name="help").set_index(["sheet", "column"])
    assert help_.loc[("effect_sizes", "sample"), "values"] == "clinical_subclinical | unrestricted"
    assert help_.loc[("effect_sizes", "sample"), "required"] == "yes"
    assert help_.loc[("effect_sizes", "outcome_domain"), "values"] == "stress | depression"
