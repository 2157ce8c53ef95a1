"""Every reader on hand-written files and on the real exports in ../shared/data/records/asysd/."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from samples import BIBTEX, CSV, MEDLINE, PUBMED_XML, RIS

from metareview.errors import InputError
from metareview.records.detect import detect_format
from metareview.records.encoding import inspect_file
from metareview.records.importer import read_records
from metareview.records.model import Record, normalise_doi, parse_year


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", bom: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(bom + text.encode(encoding))
    return path


def test_medline_fields_and_continuation_lines(tmp_path: Path) -> None:
    first, second = read_records(_write(tmp_path, "x.nbib", MEDLINE))
    assert first.pmid == "31000001"
    assert first.title == (
        "Guided internet-delivered cognitive behavioural therapy for depression: a randomised controlled "
        "trial in primary care."
    )
    assert first.abstract.endswith("Symptoms fell more with guidance.")
    assert first.authors == ["Lindqvist, Anna M", "O'Brien, Kevin"]
    assert (first.year, first.journal, first.volume, first.issue, first.pages) == (
        2019,
        "Journal of depression research",
        "12",
        "3",
        "211-9",
    )
    assert first.doi == "10.1000/jdep.2019.0042"
    assert first.keywords == ["Depression/*therapy", "Internet-Based Intervention", "guided self-help"]
    assert first.publication_types == ["Journal Article", "Randomized Controlled Trial"]
    assert first.language == "eng"
    assert (second.pmid, second.year, second.doi, second.journal) == ("31000002", 2020, "", "Stress Health")


def test_pubmed_xml_fields(tmp_path: Path) -> None:
    first, second = read_records(_write(tmp_path, "x.xml", PUBMED_XML))
    assert first.pmid == "32000001"
    assert first.title == "Human support in digital interventions for anxiety: a meta-analysis."
    assert first.abstract == (
        "OBJECTIVE: To compare guided and unguided programmes. RESULTS: Guided programmes had larger effects "
        "(g = 0.6)."
    )
    assert first.authors == ["Okafor, Chidi", "Digital Health Study Group"]
    assert (first.year, first.journal, first.volume, first.issue, first.pages, first.doi) == (
        2021,
        "Internet interventions",
        "8",
        "2",
        "100-112",
        "10.1000/ii.2021.100",
    )
    assert first.keywords == ["Anxiety", "guided self-help"]
    assert first.publication_types == ["Journal Article", "Meta-Analysis"]
    assert (second.year, second.journal, second.authors, second.language) == (
        2018,
        "Journal of m&h research",
        ["Silva, R"],
        "por",
    )


def test_ris_bibtex_csv_agree(tmp_path: Path) -> None:
    ris = list(read_records(_write(tmp_path, "x.ris", RIS)))
    bib = list(read_records(_write(tmp_path, "x.bib", BIBTEX)))
    csv = list(read_records(_write(tmp_path, "x.csv", CSV)))
    for records in (ris, bib, csv):
        assert len(records) == 2
        assert records[0].doi == "10.1000/jdep.2019.0042"
        assert records[0].year == 2019 and records[1].year == 2020
        assert records[0].pages in ("211-219",)
    assert (
        ris[0].abstract
        == "Guided self-help may be as effective as face-to-face therapy. We randomised 240 adults."
    )
    assert ris[0].keywords == ["depression", "internet"] and ris[1].journal == "Stress and Health"
    assert bib[0].title == "Guided internet-delivered CBT for depression in Skövde"
    assert (
        bib[0].authors == ["Lindqvist, Anna M", "O'Brien, Kevin"]
        and bib[1].journal == "Proceedings of Digital Health"
    )
    assert csv[0].title == "Guided internet-delivered CBT, a trial" and csv[0].pmid == "31000001"
    assert csv[0].authors == ["Lindqvist A.", "O'Brien K."] and csv[0].keywords == ["depression", "internet"]


def test_tsv_and_user_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.tsv", "Headline\tWhen\tDigital id\nA trial\t2001\t10.5/x\n")
    with pytest.raises(InputError, match="no title, DOI or PMID column") as info:
        list(read_records(path))
    assert info.value.line == 1 and info.value.field == "title"
    from metareview.records import table_reader

    (rec,) = table_reader.read(path, inspect_file(path), mapping={"title": "Headline", "year": "When"})
    assert (rec.title, rec.year, rec.doi) == ("A trial", 2001, "")


def test_xlsx(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "x.xlsx"
    pd.DataFrame({"Title": ["Sheet paper"], "Year": [2015], "DOI": ["doi:10.1234/ABC"]}).to_excel(
        path, index=False
    )
    (rec,) = read_records(path)
    assert (rec.title, rec.year, rec.doi) == ("Sheet paper", 2015, "10.1234/abc")


@pytest.mark.parametrize(
    ("encoding", "bom", "newline"),
    [
        ("utf-8", b"", "\n"),
        ("utf-8", codecs.BOM_UTF8, "\r\n"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "\r\n"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "\n"),
    ],
)
def test_encodings_and_line_ends(tmp_path: Path, encoding: str, bom: bytes, newline: str) -> None:
    text = RIS.replace("Nakamura", "Nákamura").replace("\n", newline)
    path = _write(tmp_path, "x.ris", text, encoding, bom)
    info = inspect_file(path)
    assert info.warnings == []
    records = list(read_records(path))
    assert records[1].authors == ["Nákamura, Yui"]
    assert records[0].abstract.endswith("We randomised 240 adults.")


def test_latin1_fallback_warns(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.ris", RIS.replace("Nakamura", "Nákamura"), "latin-1")
    info = inspect_file(path)
    assert info.encoding == "latin-1" and "latin-1" in info.warnings[0]
    assert list(read_records(path))[1].authors == ["Nákamura, Yui"]


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        (RIS, "a.txt", "ris"),
        (MEDLINE, "a.txt", "medline"),
        (PUBMED_XML, "a.txt", "pubmed-xml"),
        (BIBTEX, "a.txt", "bibtex"),
        (CSV, "a.txt", "csv"),
        ("\n\nTY  - JOUR\nER  - \n", "a", "ris"),
    ],
)
def test_detect_format(tmp_path: Path, text: str, name: str, expected: str) -> None:
    path = _write(tmp_path, name, text)
    assert detect_format(path, inspect_file(path)) == expected


def test_undetectable_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot tell the file's format"):
        list(read_records(_write(tmp_path, "notes", "just some words\n")))


@pytest.mark.parametrize(
    ("raw", "doi"),
    [
        ("https://dx.doi.org/10.1097/MOL.0b013e3282ffaf82.", "10.1097/mol.0b013e3282ffaf82"),
        ("doi: 10.1016/S0735-1097%2813%2962048-3", "10.1016/s0735-1097(13)62048-3"),
        ("DOI 1", ""),
        (None, ""),
    ],
)
def test_normalise_doi(raw: str | None, doi: str) -> None:
    assert normalise_doi(raw) == doi


def test_short_fields_are_cut_to_the_store_sizes(tmp_path: Path) -> None:
    """A paragraph in the volume field (a damaged export) is cut to the column size, whatever the reader."""
    path = tmp_path / "long.ris"
    path.write_text(f"TY  - JOUR\nTI  - A trial\nVL  - {'9' * 150}\nDB  - {'x' * 250}\nER  - \n", "utf-8")
    (record,) = read_records(path, "ris")
    assert (len(record.volume), len(record.source_database)) == (100, 200)
    assert len(Record(pages="1-" + "2" * 200, language="en" * 80).pages) == 100


def test_parse_year() -> None:
    assert [parse_year(v) for v in ("2019 Mar 14", "Winter 1999-2000", "n.d.", "12345")] == [
        2019,
        1999,
        None,
        None,
    ]


# --- the real exports (ASySD's test files, camaradesuk/ASySD tests/testthat, commit df54be9) --------------

REAL = [
    ("scopus.ris", "ris", 10),
    ("wos_test.ris", "ris", 50),
    ("ris_export.txt", "ris", 69),
    ("test_export.ris", "ris", 3),
    ("zotero_export.ris", "ris", 1000),
    ("test_export.bib", "bibtex", 3),
    ("test_export.csv", "csv", 3),
    ("test_export.txt", "csv", 3),
    ("labelled_test_set.csv", "csv", 1845),
]


@pytest.mark.parametrize(("name", "fmt", "count"), REAL)
def test_real_exports_parse(shared_data: Path, name: str, fmt: str, count: int) -> None:
    path = shared_data / "records" / "asysd" / name
    assert detect_format(path, inspect_file(path)) == fmt
    records = list(read_records(path))
    assert len(records) == count
    assert all(r.title for r in records)
    assert sum(r.year is not None for r in records) >= 0.95 * count


def test_real_export_fields(shared_data: Path) -> None:
    folder = shared_data / "records" / "asysd"
    scopus = next(iter(read_records(folder / "scopus.ris")))
    assert scopus.doi == "10.3390/ani15010003" and scopus.journal == "Animals" and scopus.year == 2025
    assert scopus.authors[:2] == ["Furlanello, T.", "Masti, R."] and scopus.source_database == "Scopus"
    wos = next(iter(read_records(folder / "wos_test.ris")))
    assert (
        wos.title == "Microangiography of the humeral condyle in Cocker Spaniel and non-Cocker Spaniel dogs"
    )
    assert (wos.pages, wos.volume, wos.issue, wos.year) == ("134-137", "12", "3", 1999)
    assert "Microangiography was performed" in wos.abstract  # continuation line kept
    labelled = list(read_records(folder / "labelled_test_set.csv"))
    assert labelled[0].doi == "10.1097/mol.0b013e3282ffaf82" and labelled[0].pages == "221-8"


def test_real_bibtex_matches_ris(shared_data: Path, tmp_path: Path) -> None:
    """Zotero's BibTeX and RIS exports of the same library agree (first 150 entries: bibtexparser is slow)."""
    folder = shared_data / "records" / "asysd"
    text = (folder / "zotero_export.bib").read_text(encoding="utf-8")
    cut = 0
    for _ in range(150):
        cut = text.index("\n@", cut + 1)
    part = tmp_path / "part.bib"
    part.write_text(text[:cut], encoding="utf-8")
    bib = list(read_records(part))
    ris = list(read_records(folder / "zotero_export.ris"))[:150]
    assert len(bib) == 150
    same = sum(
        a.title.lower() == b.title.lower() and a.year == b.year and a.authors == b.authors
        for a, b in zip(ris, bib, strict=True)
    )
    assert same >= 145
