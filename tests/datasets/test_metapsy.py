"""Metapsy loader: parsing quirks, sign harmonisation, trial ids (synthetic files and the real copies)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metareview.datasets import metapsy
from metareview.errors import InputError

# A miniature GAD-style file with every quirk: `;`, decimal comma AND point, NA, a quoted newline.
_MINI = (
    '"";"study";"format";"condition_arm2";"mean_age";".g";".g_se";"full_ref"\n'
    '"1";"Alpha, 2010";"gsh";"wl";"34.5";"-0,5";"0,2";"Alpha A. Internet\nself-help. 2010"\n'
    '"2";"Beta 2012";"ush";"cau";"NA";"0,25";"0,3";"Beta B. A book. 2012"\n'
    '"3";"Gamma, 2013";"ind";"wl";"40";"NA";"0,3";"Gamma"\n'
)


@pytest.fixture
def mini_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(_MINI, encoding="utf-8")
    return path


def test_parses_commas_points_na_and_embedded_newlines(mini_file: Path) -> None:
    raw = metapsy.read_database("data-gad-psyctr", mini_file)
    assert len(raw) == 3  # the newline inside full_ref does not start a new row
    assert raw["mean_age"].tolist()[:1] == [34.5]
    assert raw["mean_age"].isna().tolist() == [False, True, False]
    assert raw[".g"].tolist()[:2] == [-0.5, 0.25]
    assert "\n" in raw["full_ref"].iloc[0]


def test_gad_sign_is_flipped_and_rows_without_g_dropped(mini_file: Path) -> None:
    df = metapsy.load("data-gad-psyctr", mini_file)
    assert df["g"].tolist() == [0.5, -0.25]  # negative .g favours arm 1 in the GAD file
    assert df["guidance"].tolist() == ["guided", "unguided"]
    assert df["digital"].tolist() == [True, False]
    assert df["trial"].tolist() == ["alpha_2010", "beta_2012"]
    assert list(df.columns) == metapsy.HARMONISED_COLUMNS


def test_sign_kept_where_positive_favours_arm1(mini_file: Path) -> None:
    df = metapsy.load("data-sad-psyctr", mini_file)
    assert df["g"].tolist() == [-0.5, 0.25]


def test_trial_id_matches_labels_across_databases() -> None:
    assert metapsy.trial_id("Titov, 2010") == metapsy.trial_id("Titov 2010") == "titov_2010"
    assert metapsy.trial_id("Stiles-Shields, 2018a") == "stilesshields_2018a"
    assert metapsy.trial_id("Crişan, 2018") == "crisan_2018"


def test_bad_input_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown Metapsy database"):
        metapsy.read_database("data-nothing")
    bad = tmp_path / "data.csv"
    bad.write_text('"";"study";".g"\n"1";"A, 2000";"0,1"\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        metapsy.read_database("data-gad-psyctr", bad)
    assert info.value.field == ".g_se"


def test_download_path_uses_cache(tmp_path: Path, mini_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METAREVIEW_SHARED_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("METAREVIEW_CACHE", str(tmp_path / "cache"))
    db = metapsy.DATABASES["data-sad-psyctr"]
    monkeypatch.setitem(metapsy.DATABASES, db.name, metapsy.Database(db.name, db.commit, db.doi, db.outcome))
    monkeypatch.setattr(metapsy.Database, "url", property(lambda self: mini_file.as_uri()))
    df = metapsy.load("data-sad-psyctr")
    assert len(df) == 2
    assert (tmp_path / "cache" / "metapsy" / "data-sad-psyctr" / "data.csv").is_file()


# Row counts from ../shared/data/metapsy/README.md ("Size" table, parsed rows).
_ROWS = {
    "data-depression-psyctr": 900,
    "data-depression-selfguided-psyctr": 361,
    "data-gad-psyctr": 126,
    "data-sad-psyctr": 315,
    "data-panic-psyctr": 82,
    "data-ptsd-psyctr": 131,
    "data-depression-anxiety-transdiagnostic": 122,
}


@pytest.mark.parametrize("name", sorted(_ROWS))
def test_real_files_parse_to_the_documented_row_counts(shared_data: Path, name: str) -> None:
    raw = metapsy.read_database(name, shared_data / "metapsy" / name / "data.csv")
    assert len(raw) == _ROWS[name]


def test_real_gad_and_panic_signs_agree_with_the_means(shared_data: Path) -> None:
    df = metapsy.load_all(["data-gad-psyctr", "data-panic-psyctr"])
    # Alavi 2020 (GAD file): mean_arm1 25.38 vs mean_arm2 37.1 on an anxiety scale (lower = better),
    # raw .g = -1.6765 -> harmonised +1.6765 (favours the intervention).
    alavi = df[df.study == "Alavi, 2020"].g.iloc[0]
    assert alavi == pytest.approx(1.6765, abs=1e-4)
    # Allen 2016 (panic file): 6.36 vs 11.75 on a panic scale, raw .g = -0.9725.
    allen = df[df.study == "Allen, 2016"].g.iloc[0]
    assert allen == pytest.approx(0.9725, abs=1e-4)


def test_real_transdiagnostic_uses_supplied_g_not_broken_means(shared_data: Path) -> None:
    raw = metapsy.read_database("data-depression-anxiety-transdiagnostic")
    df = metapsy.harmonise("data-depression-anxiety-transdiagnostic", raw)
    compen = raw[(raw.study == "Compen, 2018")].iloc[0]
    assert compen["mean_arm1"] == 1369  # lost decimal point (README data-quality warning)
    assert df[df.study == "Compen, 2018"].g.iloc[0] == pytest.approx(0.40, abs=1e-9)  # the supplied .g
