"""Readers for Ovid (tagged and display), EndNote XML, Cochrane CENTRAL and Web of Science (plain and
tab-delimited): detection from content, field mapping on hand-written exports (tests/records/
newformat_samples.py, each citing its vendor's field list), errors naming file/line/field, and the
import into a review. On the code before issue 11 every file here was refused or (EndNote XML)
misread as PubMed XML."""

from __future__ import annotations

from pathlib import Path

import pytest
from newformat_samples import COCHRANE, ENDNOTE_XML, OVID_DISPLAY, OVID_TAGGED, WOS_PLAIN, WOS_TABBED

from metareview.errors import InputError
from metareview.records.detect import detect_format
from metareview.records.encoding import inspect_file
from metareview.records.importer import read_records

CASES = {
    "wos_plain.txt": (WOS_PLAIN, "wos"),
    "wos_tabbed.txt": (WOS_TABBED, "wos"),
    "ovid_tagged.txt": (OVID_TAGGED, "ovid"),
    "ovid_display.txt": (OVID_DISPLAY, "ovid"),
    "central.txt": (COCHRANE, "cochrane"),
    "endnote.xml": (ENDNOTE_XML, "endnote-xml"),
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_detected_from_content(tmp_path: Path, name: str) -> None:
    text, fmt = CASES[name]
    path = _write(tmp_path, name.replace(".xml", ".dat").replace(".txt", ".dat"), text)
    assert detect_format(path, inspect_file(path)) == fmt


@pytest.mark.parametrize("name", list(CASES))
def test_first_record_fields(tmp_path: Path, name: str) -> None:
    text, _fmt = CASES[name]
    first, second = list(read_records(_write(tmp_path, name, text)))
    assert first.title.startswith("Guided internet therapy for")
    assert first.year == 2020
    assert first.doi == "10.1016/j.jad.2020.01.001"
    assert first.pmid == "31234567"
    assert first.authors[0].startswith("Smith")
    assert len(first.authors) == 2
    assert first.abstract.startswith("Human support improves")
    assert first.journal.lower() == "journal of affective disorders"
    assert first.volume == "12"
    assert first.issue == "3"
    assert first.pages in ("45-67",)
    assert second.title == "Stress apps"
    assert second.year == 2019
    assert second.pmid == ""


def test_wos_specifics(tmp_path: Path) -> None:
    first, second = read_records(_write(tmp_path, "w.txt", WOS_PLAIN))
    assert first.title == "Guided internet therapy for depression: a meta-analysis"
    assert first.authors == ["Smith, John", "Doe, Anna"]  # AF (full names) preferred over AU
    assert first.keywords == ["depression", "internet", "guidance"]
    assert first.publication_types == ["Article", "Review"]
    assert second.pages == "106001"  # article number when there are no pages
    assert first.source_database == "Web of Science"


def test_ovid_psycinfo_accession_is_not_a_pmid(tmp_path: Path) -> None:
    for text in (OVID_TAGGED, OVID_DISPLAY):
        _first, second = read_records(_write(tmp_path, "o.txt", text))
        assert second.pmid == ""
        assert second.source_database == "APA PsycInfo"
        assert second.raw["UI"] == ["2019-12345-001"]


def test_ovid_tagged_continuation_and_lists(tmp_path: Path) -> None:
    first, _ = read_records(_write(tmp_path, "o.txt", OVID_TAGGED))
    assert first.title == "Guided internet therapy for depression: a meta-analysis."
    assert first.publication_types == ["Journal Article", "Meta-Analysis"]
    assert first.authors == ["Smith, John", "Doe, Anna"]


def test_cochrane_specifics(tmp_path: Path) -> None:
    first, second = read_records(_write(tmp_path, "c.txt", COCHRANE))
    assert first.raw["ID"] == ["CN-01234567"]
    assert first.keywords == ["Depression", "Internet"]
    assert first.abstract == "Human support improves adherence."
    assert second.authors == []


def test_endnote_xml_is_not_pubmed_xml(tmp_path: Path) -> None:
    path = _write(tmp_path, "library.xml", ENDNOTE_XML)
    assert detect_format(path, inspect_file(path)) == "endnote-xml"
    first, second = read_records(path)
    assert first.title == "Guided internet therapy for depression"  # <style> runs joined
    assert first.publication_types == ["Journal Article"]
    assert second.doi == "10.1016/j.chb.2019.106001"  # from the related URL


@pytest.mark.parametrize(
    ("name", "text", "line", "field"),
    [
        ("w.txt", "FN Clarivate\nVR 1.0\nPT J\nTI A\nPY 20x0\nER\n", 3, "PY"),
        ("w.txt", "FN Clarivate\nVR 1.0\nPT J\nTI A\nthis is no tag\nER\n", 5, None),
        ("c.txt", "Record #1 of 1\nID: CN-1\nTI: A\nYR: soon\n", 2, "YR"),
        ("o.txt", "<1>\nUI  - 1\nTI  - A\n<2>\nfree text here\n", 5, None),
        ("e.xml", "<?xml version='1.0'?><xml><records><record><titles>", 1, None),
    ],
)
def test_errors_name_file_line_field(
    tmp_path: Path, name: str, text: str, line: int, field: str | None
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as info:
        list(read_records(path))
    assert info.value.file == str(path)
    assert info.value.line == line
    if field is not None:
        assert info.value.field == field


def test_import_into_review_is_one_transaction(tmp_path: Path) -> None:
    from metareview.records.export import records_frame
    from metareview.records.importer import import_file
    from metareview.review import Review

    review = Review.init(tmp_path / "r")
    result = import_file(review, _write(tmp_path, "c.txt", COCHRANE), "CENTRAL")
    assert (result.file_format, result.added) == ("cochrane", 2)
    broken = COCHRANE + "\nRecord #3 of 3\nID: CN-9\nYR: never\n"
    with pytest.raises(InputError):
        import_file(review, _write(tmp_path, "c2.txt", broken), "CENTRAL2")
    assert len(records_frame(review)) == 2


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("wos_test.ris", "ris"),
        ("scopus.ris", "ris"),
        ("zotero_export.ris", "ris"),
        ("ris_export.txt", "ris"),
        ("test_export.txt", "csv"),
        ("test_export.bib", "bibtex"),
    ],
)
def test_real_exports_keep_their_format(shared_data: Path, name: str, fmt: str) -> None:
    # the new detectors (Ovid, WoS, CENTRAL, EndNote XML) must not claim ASySD's real exports
    path = shared_data / "records" / "asysd" / name
    assert detect_format(path, inspect_file(path)) == fmt
    assert sum(1 for _ in read_records(path)) > 0
