"""BibTeX entries over the documented size limit are refused before bibtexparser holds ~12x their size
in memory (issue 8, bounded memory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metareview.errors import InputError
from metareview.records import bibtex
from metareview.records.importer import read_records


def test_entry_over_the_limit_is_refused_with_its_line(tmp_path: Path) -> None:
    assert bibtex.MAX_ENTRY_CHARS == 16 * 1024 * 1024
    line = "  " + "word " * 20 + "\n"
    lines = bibtex.MAX_ENTRY_CHARS // len(line) + 10
    path = tmp_path / "big.bib"
    path.write_text(
        "@article{ok, title = {Small}}\n\n@article{a1,\n  title = {big},\n  abstract = {"
        + line * lines
        + "}\n}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        list(read_records(path))
    assert info.value.line == 3 and info.value.field == "entry"
    assert str(path) in str(info.value) and "16 Mi characters" in str(info.value)


def test_entry_under_the_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ok.bib"
    path.write_text("@article{a1,\n  title = {A title},\n  abstract = {" + "x " * 500 + "}\n}\n")
    monkeypatch.setattr(bibtex, "MAX_ENTRY_CHARS", 2000)
    assert [r.title for r in read_records(path)] == ["A title"]
    monkeypatch.setattr(bibtex, "MAX_ENTRY_CHARS", 900)
    with pytest.raises(InputError):
        list(read_records(path))


def test_entries_are_parsed_one_at_a_time(tmp_path: Path) -> None:
    # streamed: the first entry comes out before bibtexparser has seen the rest of the file (the whole
    # file used to be parsed at once: memory grew with the file, 26 MB at 10k entries)
    path = tmp_path / "two.bib"
    path.write_text(
        "@article{a1,\n  title = {First},\n  year = {2020}\n}\n\n"
        "@article{a2,\n  title = {Second} this is not bibtex\n}\n",
        encoding="utf-8",
    )
    records = iter(read_records(path))
    assert next(records).title == "First"
    with pytest.raises(InputError) as info:
        next(records)
    assert info.value.line == 6


def test_string_macros_carry_over_to_later_entries(tmp_path: Path) -> None:
    path = tmp_path / "macros.bib"
    path.write_text(
        '@string{jad = "Journal of Affective Disorders"}\n\n'
        "@article{a1,\n title = {One},\n journal = jad,\n year = 2020\n}\n"
        '@article{a2,\n title = {Two},\n journal = jad # " Supplement",\n year = 2021}\n% trailing comment\n',
        encoding="utf-8",
    )
    assert [(r.title, r.journal) for r in read_records(path)] == [
        ("One", "Journal of Affective Disorders"),
        ("Two", "Journal of Affective Disorders Supplement"),
    ]
