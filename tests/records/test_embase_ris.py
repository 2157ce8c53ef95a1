"""Embase.com RIS exports (issue 11): Embase's own tags mapped to PMID, DOI, keywords and database.

The export (``newformat_samples.EMBASE_RIS``) is written by hand (invented records) following
Embase.com's RIS layout, as seen in a real Embase.com export (asreview/citation-file-formatting,
Datasets/RIS/_baseline_embase.ris, commit ecddcce), and as mapped by bibfix's maintainers
(nealhaddaway/bibfix issue 25: "PUI" -> ``U2``, "MEDLINE PMID" -> ``C5``, "SOURCE TITLE" ->
``JF``/``JO``, "FULL TEXT LINK" -> ``L2``): ``M3`` publication type, ``Y1`` year, ``UR`` the
embase.com record address, one ``DB`` line per database holding the record, ``U3``/``U4`` entry
dates, ``LK`` a link resolver address, ``A1`` authors, ``M1`` affiliations, ``KW`` Emtree terms,
``N2`` abstract.
"""

from __future__ import annotations

from pathlib import Path

from newformat_samples import EMBASE_RIS
from samples import MEDLINE

from metareview.records.dedup import deduplicate
from metareview.records.importer import import_file, read_records
from metareview.review import Review


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_embase_tags_give_pmid_doi_keywords_and_databases(tmp_path: Path) -> None:
    first, second = read_records(_write(tmp_path, "embase.ris", EMBASE_RIS))
    assert (first.pmid, first.doi, first.year) == ("31000001", "10.1000/jdep.2019.0042", 2019)
    assert first.source_database == "Embase; Medline"
    assert first.raw["embase_pui"] == "L2001234567"
    assert first.journal == "Journal of depression research"
    assert first.keywords == [
        "adult", "cognitive behavioral therapy", "depression", "randomized controlled trial"
    ]
    assert "Article" in first.publication_types
    assert first.authors == ["Lindqvist, A.M.", "O'Brien, K."]
    # an Embase-only conference abstract: no C5 (no PMID), no DO: the DOI comes from the L2 link
    assert (second.pmid, second.doi, second.source_database) == ("", "10.1000/eurpsy.2021.77", "Embase")
    assert "Conference Abstract" in second.publication_types
    assert second.keywords == ["human", "mobile application", "psychological well-being"]


def test_c5_of_other_writers_is_not_a_pmid(tmp_path: Path) -> None:
    # EndNote and others use C5 as a free custom field: only an Embase record's C5 is its PMID
    other = (
        "TY  - JOUR\nTI  - A trial\nPY  - 2020\nC5  - 12345\nDB  - MyLibrary\n"
        "UR  - https://example.org/x\nER  - \n"
    )
    (rec,) = read_records(_write(tmp_path, "other.ris", other))
    assert (rec.pmid, rec.source_database) == ("", "MyLibrary")
    assert "embase_pui" not in rec.raw


def test_embase_record_found_duplicate_of_pubmed_record_by_pmid(tmp_path: Path) -> None:
    # Only the PMID can link them: the Embase copy has another title (Embase's translation of a
    # foreign-language title, say) and no DOI.
    embase = "\n".join(
        line
        for line in EMBASE_RIS.split("\n\n")[0].splitlines()
        if not line.startswith(("DO  -", "L2  -", "LK  -"))
    ).replace("T1  - Guided internet-delivered", "T1  - [Internet-based treatment of low mood: a trial of]")
    review = Review.init(tmp_path / "rev")
    import_file(review, _write(tmp_path, "embase.ris", embase + "\n"), "Embase")
    import_file(review, _write(tmp_path, "pubmed.nbib", MEDLINE), "PubMed")
    result = deduplicate(review)
    assert result.duplicates == 1  # PMID 31000001 is in both files (Embase's C5, PubMed's PMID)
    review.close()
