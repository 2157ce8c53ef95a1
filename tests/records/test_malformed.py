"""Malformed input: one InputError naming the file, line and field; the store is left unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from samples import BIBTEX, CSV, MEDLINE, PUBMED_XML, RIS

from metareview.errors import InputError
from metareview.records import importer
from metareview.records.importer import import_file, read_records
from metareview.review import Review
from metareview.store.records_models import Search, StoredRecord


def _line(text: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle`` in ``text`` (where the test broke the file)."""
    return text[: text.index(needle)].count("\n") + 1


_NO_ER = RIS.replace("ER  - \n\nTY", "\nTY", 1)
_BAD_MEDLINE = MEDLINE.replace("VI  - 12", "VI 12")

CASES = [
    # (file name, content, expected line, expected field, message fragment)
    (
        "broken_tag.ris",
        RIS.replace("PY  - 2019", "PY - 2019"),
        _line(RIS, "PY  - 2019"),
        "PY",
        "malformed RIS tag line",
    ),
    ("no_er.ris", _NO_ER, _line(_NO_ER, "TY  - JOUR\nTI  - Smartphone"), "ER", "no 'ER  - ' end tag"),
    (
        "truncated.ris",
        RIS[: RIS.index("T2  -")],
        _line(RIS, "TY  - JOUR\nTI  - Smartphone"),
        "ER",
        "truncated",
    ),
    ("outside.ris", "TY  - JOUR\nTI  - T\nER  - \nAU  - Smith\n", 4, "AU", "tag outside a record"),
    ("bad_medline.nbib", _BAD_MEDLINE, _line(_BAD_MEDLINE, "VI 12"), None, "malformed MEDLINE line"),
    ("no_pmid.nbib", "TI  - A title\n", 1, "TI", "must start with 'PMID- '"),
    ("truncated.xml", PUBMED_XML[:1500], None, None, "malformed XML"),
    (
        "wrong_root.xml",
        "<?xml version='1.0'?><records><r/></records>",
        1,
        None,
        "expected <PubmedArticleSet>",
    ),
    ("no_pmid.xml", PUBMED_XML.replace('<PMID Version="1">32000002</PMID>', ""), None, "PMID", "no numeric"),
    ("unclosed.bib", BIBTEX[:-30], 12, None, "not closed"),
    ("columns.csv", "Name,Colour\nA,red\n", 1, "title", "no title, DOI or PMID column"),
    ("ragged.csv", CSV.replace(",,,\n", ",,,,extra,more\n"), 3, None, "fields but the header has"),
    ("quote.csv", 'Title,Year\n"unterminated,2001\n', None, None, "CSV error"),
]


@pytest.mark.parametrize(("name", "text", "line", "field", "message"), CASES, ids=[c[0] for c in CASES])
def test_malformed_file_names_file_line_field(
    tmp_path: Path, name: str, text: str, line: int | None, field: str | None, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        list(read_records(path))
    err = info.value
    assert message in err.message
    assert err.file == str(path)
    if line is not None:
        assert err.line == line
    assert err.field == field


def test_truncated_xml_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "t.xml"
    path.write_text(PUBMED_XML[:1500], encoding="utf-8")
    with pytest.raises(InputError) as info:
        list(read_records(path))
    assert info.value.line == PUBMED_XML[:1500].count("\n") + 1


@pytest.mark.parametrize(
    "blob", [bytes(range(256)) * 4, b"TY  - JOUR\nTI  - a\x00b\nER  - \n", b"\x89PNG\r\n\x1a\n\x00\x00"]
)
def test_binary_garbage(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "garbage.ris"
    path.write_bytes(blob)
    with pytest.raises(InputError, match="binary|control character|cannot tell"):
        list(read_records(path, fmt="auto"))


def test_control_characters_in_latin1_text(tmp_path: Path) -> None:
    path = tmp_path / "x.ris"
    path.write_bytes(RIS.encode() + b"\xff\x01\n")
    with pytest.raises(InputError, match="control character U\\+0001") as info:
        list(read_records(path))
    assert info.value.line == RIS.count("\n") + 1


def test_damaged_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip" * 10)
    with pytest.raises(InputError, match="not a readable XLSX"):
        list(read_records(path))


def _count(review: Review, model: type) -> int:
    with review.session() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("name", ["truncated.ris", "bad_medline.nbib", "truncated.xml", "ragged.csv"])
def test_failed_import_leaves_store_unchanged(
    tmp_path: Path, store_url: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    good = tmp_path / "good.ris"
    good.write_text(RIS, encoding="utf-8")
    import_file(review, good, "PsycINFO")
    monkeypatch.setattr(importer, "BATCH_SIZE", 1)  # the good records before the error are written first
    bad = tmp_path / name
    bad.write_text(next(c[1] for c in CASES if c[0] == name), encoding="utf-8")
    with pytest.raises(InputError):
        import_file(review, bad, "PubMed")
    assert (_count(review, Search), _count(review, StoredRecord)) == (1, 2)
    review.close()


def test_bad_options(tmp_path: Path) -> None:
    review = Review.init(tmp_path / "rev")
    path = tmp_path / "x.ris"
    path.write_text(RIS, encoding="utf-8")
    with pytest.raises(InputError, match="YYYY-MM-DD") as info:
        import_file(review, path, "PubMed", searched="14/03/2019")
    assert info.value.field == "searched"
    with pytest.raises(InputError, match="unknown format"):
        import_file(review, path, "PubMed", fmt="endnote")
    with pytest.raises(InputError, match="database name"):
        import_file(review, path, " ")
    with pytest.raises(InputError, match="cannot read file"):
        import_file(review, tmp_path / "missing.ris", "PubMed")
    empty = tmp_path / "empty.ris"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="no records found"):
        import_file(review, empty, "PubMed", fmt="ris")
    assert _count(review, Search) == 0
