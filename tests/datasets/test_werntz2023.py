"""Loaders of the Werntz et al. 2023 transcriptions (../shared/data; see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metareview.datasets import werntz2023
from metareview.errors import InputError


def test_table4_has_19_categories(shared_data: Path) -> None:
    t4 = werntz2023.load_table4()
    assert len(t4) == 19
    assert list(t4.group.unique()) == ["Outcome domain", "Sample characteristics", "Quality of RCT",
                                       "Type of human support"]


def test_table2_partial_holds_the_first_rows_of_31(shared_data: Path) -> None:
    t2 = werntz2023.load_table2_partial()
    assert len(t2) == 12 and t2.meta_analysis.iloc[0] == "Carolan et al"
    assert (t2.status == "complete").sum() == 11
    assert (t2.status == "truncated").sum() == 1  # Kuester 2016's row is cut in the source


def test_meta_analyses_found(shared_data: Path) -> None:
    found = werntz2023.load_meta_analyses_found()
    assert len(found) == 12
    heber = found[found.meta_analysis == "Heber 2017"].iloc[0]
    assert "0.64" in heber.guided_or_supported_result and "P=.002" in heber.difference_test


def test_without_a_local_copy_the_error_says_what_to_do(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METAREVIEW_SHARED_DATA", str(tmp_path))
    monkeypatch.setenv("METAREVIEW_CACHE", str(tmp_path / "cache"))
    with pytest.raises(InputError, match="METAREVIEW_SHARED_DATA"):
        werntz2023.load_table4()


def test_a_cached_copy_is_used(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / werntz2023.TABLE4).write_bytes((shared_data / werntz2023.TABLE4).read_bytes())
    monkeypatch.setenv("METAREVIEW_SHARED_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("METAREVIEW_CACHE", str(cache))
    assert werntz2023.table4_vote_tables()["Outcome domain"].total == 45
