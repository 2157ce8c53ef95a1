"""Damaged and hostile files (issue 8): each refused with file, line and field, or skipped and listed
behind ``skip_damaged``; hostile inputs fail fast. Every case here was imported silently (or hung,
or crashed) before issue 8."""

from __future__ import annotations

import signal
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from samples import BIBTEX, MEDLINE, RIS

from metareview.errors import InputError
from metareview.records import importer
from metareview.records.importer import import_file, read_records
from metareview.review import Review
from metareview.store.records_models import Search, StoredRecord

SO_RECORD = "PMID- {pmid}\nTI  - Title {pmid}.\nAB  - Abstract.\nSO  - J Test. 2020;1:1-2.\n"


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging CI) when the block runs past ``seconds``: a hang guard, not a timing."""

    def _fail(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, _fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _error(path: Path, text: str | bytes) -> InputError:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        list(read_records(path))
    return info.value


def _counts(review: Review) -> tuple[int, int]:
    with review.session() as s:
        return (
            int(s.scalar(sa.select(sa.func.count()).select_from(Search)) or 0),
            int(s.scalar(sa.select(sa.func.count()).select_from(StoredRecord)) or 0),
        )


# --- MEDLINE -----------------------------------------------------------------------------------


def test_medline_missing_blank_line_merges_records_refused(tmp_path: Path) -> None:
    merged = MEDLINE.replace("\n\nPMID- 31000002", "\nPMID- 31000002")
    err = _error(tmp_path / "merged.nbib", merged)
    assert err.field == "PMID" and "second PMID" in err.message
    assert err.line == merged[: merged.index("PMID- 31000002")].count("\n") + 1


def test_medline_cut_pmid_refused(tmp_path: Path) -> None:
    err = _error(tmp_path / "cut.nbib", MEDLINE + "\nPMID- 22")
    assert err.line == (MEDLINE + "\n").count("\n") + 1 and "truncated" in err.message


def test_medline_record_without_title_refused(tmp_path: Path) -> None:
    err = _error(tmp_path / "notitle.nbib", "PMID- 123\nDP  - 2020\n")
    assert (err.field, err.line) == ("TI", 1)


def test_medline_pmid_over_eight_digits_refused(tmp_path: Path) -> None:
    err = _error(tmp_path / "long.nbib", "PMID- 123456789\nTI  - A title.\n")
    assert err.field == "PMID"


def test_medline_last_record_cut_at_a_line_end_refused(tmp_path: Path) -> None:
    text = SO_RECORD.format(pmid=1) + "\n" + SO_RECORD.format(pmid=2) + "\n"
    cut = text[: text.rindex("AB  -")]  # the last record lost its AB and SO lines
    err = _error(tmp_path / "cut2.nbib", cut)
    assert err.field == "SO" and err.line == cut.count("\n") - 1


def test_medline_complete_file_without_trailing_blank_line_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.nbib"
    path.write_text(SO_RECORD.format(pmid=1) + "\n" + SO_RECORD.format(pmid=2), encoding="utf-8")
    assert [r.pmid for r in read_records(path)] == ["1", "2"]


# A journal citation laid out as PubMed writes every one (PMID, OWN, STAT first; SO last): the layout
# of the PubMed-format files in biopython's Tests/Medline/pubmed_result1-3.txt (real PubMed output).
# The record itself is invented.
PUBMED_CITATION = """\
PMID- 39000001
OWN - NLM
STAT- MEDLINE
DCOM- 20240110
IS  - 1234-5678 (Electronic)
VI  - 7
IP  - 2
DP  - 2024 Jan
TI  - Guided versus unguided internet therapy for panic disorder: a randomised
      trial.
PG  - 101-9
LID - 10.1000/jpd.2024.101 [doi]
AB  - BACKGROUND: Support may matter. METHODS: 300 adults were randomised.
      RESULTS: Guidance helped.
FAU - Rossi, Maria
AU  - Rossi M
LA  - eng
PT  - Journal Article
TA  - J Panic Dis
JT  - Journal of panic disorder
MH  - Panic Disorder/*therapy
EDAT- 2024/01/05 06:00
CRDT- 2024/01/05 05:00
AID - 10.1000/jpd.2024.101 [doi]
PST - ppublish
SO  - J Panic Dis. 2024 Jan;7(2):101-9. doi: 10.1000/jpd.2024.101.
"""

# PubMed's layout of a book chapter (PMID, STAT, DRDT, …, AID [bookaccession]; no OWN, no SO), as in
# the real GeneReviews export tests/files/marcelis-20301770.nbib of rbturnbull/pybtexnbib. Invented.
PUBMED_BOOK_CHAPTER = """\
PMID- 20300001
STAT- Publisher
DRDT- 20240101
CTDT- 20100101
PB  - University Press, Somewhere
DP  - 2010
TI  - A syndrome described.
BTI - Reviews of Syndromes
FAU - Ito, Ken
AU  - Ito K
LA  - eng
PT  - Review
PT  - Book Chapter
EDAT- 2024/01/01 00:00
CRDT- 2024/01/01 00:00
AID - NBK0001 [bookaccession]
"""


def _line_ends(text: str) -> list[int]:
    return [i + 1 for i, c in enumerate(text) if c == "\n"]


@pytest.mark.parametrize("keep", range(1, PUBMED_CITATION.count("\n")))
def test_medline_single_pubmed_citation_cut_between_two_lines_refused(tmp_path: Path, keep: int) -> None:
    # The file's only record loses its last lines: cut exactly at a line end (the file still ends
    # with a newline). PubMed ends every journal citation with SO, so the cut shows.
    cut = PUBMED_CITATION[: _line_ends(PUBMED_CITATION)[keep - 1]]
    err = _error(tmp_path / "one.nbib", cut)
    assert err.line == 1 and err.field in ("SO", "TI"), (keep, err)
    assert Path(err.file or "") == tmp_path / "one.nbib"


def test_medline_single_pubmed_citation_cut_skipped_and_listed(tmp_path: Path) -> None:
    path = tmp_path / "one.nbib"
    cut = PUBMED_CITATION[: PUBMED_CITATION.index("MH  -")]
    path.write_text(PUBMED_BOOK_CHAPTER + "\n" + cut, encoding="utf-8")
    review = Review.init(tmp_path / "rev")
    result = import_file(review, path, "PubMed", skip_damaged=True)
    assert (result.records_in_file, result.added) == (1, 1)
    assert len(result.skipped) == 1 and "SO" in result.skipped[0] and "one.nbib" in result.skipped[0]


def test_medline_complete_single_pubmed_citation_reads(tmp_path: Path) -> None:
    path = tmp_path / "one.nbib"
    path.write_text(PUBMED_CITATION, encoding="utf-8")
    (record,) = read_records(path)
    assert (record.pmid, record.doi, record.year) == ("39000001", "10.1000/jpd.2024.101", 2024)


def test_medline_book_chapter_without_own_and_so_reads(tmp_path: Path) -> None:
    # PubMed writes book records without OWN and SO: the SO rule must not refuse them.
    path = tmp_path / "book.nbib"
    path.write_text(PUBMED_BOOK_CHAPTER + "\n" + PUBMED_CITATION, encoding="utf-8")
    assert [r.pmid for r in read_records(path)] == ["20300001", "39000001"]
    path.write_text(PUBMED_BOOK_CHAPTER, encoding="utf-8")
    assert [r.title for r in read_records(path)] == ["A syndrome described."]


# --- BibTeX, RIS, CSV --------------------------------------------------------------------------


def test_bibtex_damaged_entry_header_refused(tmp_path: Path) -> None:
    text = "@article{a1,\n  title = {One},\n  year = {2020}\n}\n\n@arti cle{a2,\n  title = {Two}\n}\n"
    err = _error(tmp_path / "bad.bib", text)
    assert (err.line, err.field) == (6, "ENTRYTYPE")


def test_bibtex_entry_without_title_refused(tmp_path: Path) -> None:
    err = _error(tmp_path / "empty.bib", BIBTEX + "\n@misc{x9,\n  year = {2020}\n}\n")
    assert err.field == "title"


def test_ris_record_without_title_doi_pmid_refused(tmp_path: Path) -> None:
    err = _error(tmp_path / "empty.ris", RIS + "\nTY  - JOUR\nPY  - 2020\nER  - \n")
    assert err.field == "TI"


def test_csv_short_row_refused(tmp_path: Path) -> None:
    err = _error(tmp_path / "short.csv", "Title,Year,DOI\nA,2001,10.1/a\nB,2002\n")
    assert (err.line, err.field) == (3, "DOI") and "short row" in err.message


def test_csv_row_without_title_doi_pmid_refused(tmp_path: Path) -> None:
    err = _error(tmp_path / "empty.csv", "Title,Year,DOI\nA,2001,10.1/a\n,2002,\n")
    assert (err.line, err.field) == (3, "title")


def test_skip_damaged_imports_the_rest_and_lists_each(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    path = tmp_path / "mixed.csv"
    path.write_text("Title,Year,DOI\nA,2001,10.1/a\nB,2002\nC,2003,10.1/c\n,2004,\n", encoding="utf-8")
    with pytest.raises(InputError):
        import_file(review, path, "Scopus")
    assert _counts(review) == (0, 0)
    result = import_file(review, path, "Scopus", skip_damaged=True)
    assert (result.records_in_file, result.added) == (2, 2)
    assert len(result.skipped) == 2
    assert "line 3" in result.skipped[0] and "mixed.csv" in result.skipped[0]
    assert "line 5" in result.skipped[1]
    assert "2 damaged records skipped" in str(result)


# --- hostile files -----------------------------------------------------------------------------


def test_continuation_line_floods_read_in_linear_time(tmp_path: Path) -> None:
    lines = "      abcdefghijklmnopqrstuvwxyz0123456789\n" * 250_000  # ~9 MB field
    ris, nbib = tmp_path / "flood.ris", tmp_path / "flood.nbib"
    ris.write_text("TY  - JOUR\nTI  - start\n" + lines + "ER  - \n", encoding="utf-8")
    nbib.write_text("PMID- 1\nTI  - start\n" + lines + "\n", encoding="utf-8")
    with _deadline(30):  # the quadratic readers took 15 s per 3.7 MB field here, ~95 s at 9 MB
        for path in (ris, nbib):
            (rec,) = read_records(path)
            assert len(rec.title) == len("start") + 250_000 * 37


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_fail_fast(device: str) -> None:
    with _deadline(20), pytest.raises(InputError, match="not a regular file"):
        list(read_records(device))


def test_random_bytes_file_refused_as_binary(tmp_path: Path) -> None:
    import random

    data = random.Random(8).randbytes(1 << 16)
    err = _error(tmp_path / "random.txt", data.replace(b"\x00", b"\x01"))
    assert "binary" in err.message


def _workbook(path: Path, sheet_xml: str | None, shared: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
        if sheet_xml is not None:
            book.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared is not None:
            book.writestr("xl/sharedStrings.xml", shared)
    return path


def test_xlsx_without_worksheet_is_input_error(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "nosheet.xlsx", None)
    with pytest.raises(InputError, match="no worksheet"):
        list(read_records(path))


def test_xlsx_huge_dimension_refused_before_reading(tmp_path: Path) -> None:
    sheet = '<worksheet><dimension ref="A1:XFD1048576"/><sheetData/></worksheet>'
    path = _workbook(tmp_path / "dim.xlsx", sheet)
    with _deadline(20), pytest.raises(InputError) as info:
        list(read_records(path))
    assert info.value.field == "dimension"


def test_xlsx_zip_bomb_refused_before_reading(tmp_path: Path) -> None:
    shared = "<sst><si><t>" + "A" * (40 << 20) + "</t></si></sst>"  # 40 MB that deflates ~1000x
    path = _workbook(tmp_path / "bomb.xlsx", "<worksheet><sheetData/></worksheet>", shared)
    with pytest.raises(InputError) as info:
        list(read_records(path))
    assert info.value.field == "xl/sharedStrings.xml"


def test_database_name_over_200_characters_is_input_error(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    path = tmp_path / "a.ris"
    path.write_text(RIS, encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_file(review, path, "D" * 201)
    assert info.value.field == "database"
    assert _counts(review) == (0, 0)


def test_nul_character_in_a_field_is_input_error(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    path = tmp_path / "nul.csv"
    path.write_text("Title,Year\nA\x00title,2001\n", encoding="utf-16")
    with pytest.raises(InputError) as info:
        import_file(review, path, "Scopus")
    assert info.value.field == "title"
    assert _counts(review) == (0, 0)
    with pytest.raises(InputError):
        import_file(review, tmp_path / "nul.csv", "Scopus\x00")


def test_same_file_imported_concurrently_gives_already_imported(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: another process commits the same file between our hash check and our insert."""
    review = Review.init(tmp_path / "rev", store_url)
    path = tmp_path / "a.ris"
    path.write_text(RIS, encoding="utf-8")
    first = import_file(review, path, "PsycINFO")
    real = importer.repo.find_search_by_hash
    calls: list[int] = []

    def racing(session: object, digest: str) -> object:
        calls.append(1)
        return None if len(calls) == 1 else real(session, digest)  # type: ignore[arg-type]

    monkeypatch.setattr(importer.repo, "find_search_by_hash", racing)
    second = import_file(review, path, "PsycINFO")
    assert second.already_imported and second.search_id == first.search_id
    assert _counts(review) == (1, first.added)


# --- Web of Science, Ovid, Cochrane CENTRAL (issue 11 readers, same promises) -------------------


def _wos_record(n: int) -> str:
    return f"PT J\nAU Smith, J\nTI Trial {n}\nSO J TEST\nPY 2020\nDI 10.1000/w{n}\nER\n\n"


def test_wos_record_without_er_refused(tmp_path: Path) -> None:
    text = "FN Clarivate Analytics Web of Science\nVR 1.0\n" + _wos_record(1) + _wos_record(2)
    cut = text[: text.rindex("ER\n")]  # the last record lost its ER (and the file its EF)
    err = _error(tmp_path / "cut.txt", cut)
    assert (err.field, err.line) == ("ER", text[: text.rindex("PT J")].count("\n") + 1)
    merged = text.replace("ER\n\nPT J", "PT J", 1) + "EF\n"  # a missing ER runs two records together
    assert _error(tmp_path / "merged.txt", merged).field == "ER"


def test_wos_file_without_ef_refused(tmp_path: Path) -> None:
    # Clarivate ends every plain-text export with EF: without it, records after the last ER may be lost
    text = "FN Clarivate Analytics Web of Science\nVR 1.0\n" + _wos_record(1)
    err = _error(tmp_path / "noef.txt", text)
    assert err.field == "EF" and err.line is not None
    (tmp_path / "ok.txt").write_text(text + "EF\n", encoding="utf-8")
    assert [r.doi for r in read_records(tmp_path / "ok.txt")] == ["10.1000/w1"]


def test_wos_record_without_title_doi_pmid_refused(tmp_path: Path) -> None:
    text = "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith, J\nPY 2020\nER\n\nEF\n"
    assert _error(tmp_path / "empty.txt", text).field == "TI"


def test_wos_tabbed_short_or_cut_row_refused(tmp_path: Path) -> None:
    header = "PT\tAU\tTI\tSO\tPY\tDI\n"
    full = "J\tSmith, J\tTrial 1\tJ TEST\t2020\t10.1000/w1\n"
    err = _error(tmp_path / "short.txt", header + full + "J\tLee, K\tTrial 2\n")
    assert (err.line, err.field) == (3, "SO")
    cut = header + full + "J\tLee, K\tTrial 2\tJ TEST\t2019\t10.1000/w"  # cut inside its last cell
    assert _error(tmp_path / "cut.txt", cut).line == 3


def test_ovid_records_run_together_refused(tmp_path: Path) -> None:
    text = "<1>\nUI  - 31000001\nTI  - Trial 1\nYR  - 2020\n\n<2>\nUI  - 31000002\nTI  - Trial 2\n"
    err = _error(tmp_path / "merged.txt", text.replace("\n<2>\n", "\n"))
    assert (err.field, err.line) == ("UI", 6)
    assert _error(tmp_path / "cut.txt", text[:-4]).field == "TI"  # cut inside the last line


def test_ovid_record_with_only_an_accession_number_refused(tmp_path: Path) -> None:
    # a PsycInfo accession number (not a PMID) alone does not identify a record: it was stored empty
    text = "<1>\nDB  - APA PsycInfo\nUI  - 2019-12345-001\nYR  - 2019\n"
    assert _error(tmp_path / "empty.txt", text).field == "TI"


def test_ovid_display_records_run_together_refused(tmp_path: Path) -> None:
    text = "<1>\nUnique Identifier\n  31000001\nTitle\n  Trial 1\n\n<2>\nUnique Identifier\n  31000002\n"
    err = _error(tmp_path / "merged.txt", text.replace("<2>\n", ""))
    assert err.field == "UI"


def test_cochrane_truncated_or_run_together_refused(tmp_path: Path) -> None:
    one = "Record #1 of 2\nID: CN-00000001\nTI: Trial 1\nYR: 2020\n\n"
    two = "Record #2 of 2\nID: CN-00000002\nTI: Trial 2\nYR: 2019\n"
    err = _error(tmp_path / "cut.txt", one)  # record 2 of 2 is missing: the download stopped
    assert err.field == "Record" and "2-2 are missing" in err.message
    err = _error(tmp_path / "merged.txt", one + two.replace("Record #2 of 2\n", ""))
    assert (err.field, err.line) == ("ID", 6)
    assert _error(tmp_path / "inline.txt", one + two[:-3]).field == "YR"  # cut inside the last line
    (tmp_path / "ok.txt").write_text(one + two, encoding="utf-8")
    assert [r.title for r in read_records(tmp_path / "ok.txt")] == ["Trial 1", "Trial 2"]


def test_interop_damaged_records_skipped_and_listed(tmp_path: Path) -> None:
    review = Review.init(tmp_path / "rev")
    path = tmp_path / "cochrane.txt"
    one = "Record #1 of 3\nID: CN-00000001\nTI: Trial 1\nYR: 2020\n\n"
    two = "Record #2 of 3\nID: CN-00000002\nYR: 2019\n\n"  # no title, DOI or PMID
    path.write_text(one + two, encoding="utf-8")  # and record 3 of 3 is missing
    result = import_file(review, path, "CENTRAL", skip_damaged=True)
    assert (result.records_in_file, result.added) == (1, 1)
    assert len(result.skipped) == 2
    assert "no title, DOI or PMID" in result.skipped[0] and "3-3 are missing" in result.skipped[1]
